//! Matching as IAM does it: actions case-insensitively with `*` and `?`; ARNs segment by
//! segment (partition, service, region and account each matched on their own, the resource part
//! with `*` spanning `/` and `:`); policy variables (`${aws:username}`, `${aws:PrincipalTag/K}`,
//! the `${*}`, `${?}`, `${$}` escapes and `${key, 'default'}`) substituted as literals.

use super::context::Context;

/// One element of a glob pattern after variable substitution.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Tok {
    Lit(char),
    Star,
    Any1,
}

/// Parses a pattern into tokens, substituting policy variables from the context. Returns None
/// when a variable has no value and no default: the element then matches nothing, as on AWS.
pub fn tokenize(pattern: &str, ctx: Option<&Context>) -> Option<Vec<Tok>> {
    let mut out = Vec::with_capacity(pattern.len());
    let mut chars = pattern.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        match c {
            '*' => out.push(Tok::Star),
            '?' => out.push(Tok::Any1),
            '$' if pattern[i + 1..].starts_with('{') => {
                let rest = &pattern[i + 2..];
                let Some(end) = rest.find('}') else {
                    out.push(Tok::Lit('$'));
                    continue;
                };
                let inner = &rest[..end];
                // Skip the consumed characters: '{' + inner + '}'.
                for _ in 0..inner.chars().count() + 2 {
                    chars.next();
                }
                match inner {
                    "*" => out.push(Tok::Lit('*')),
                    "?" => out.push(Tok::Lit('?')),
                    "$" => out.push(Tok::Lit('$')),
                    _ => {
                        let (key, default) = match inner.split_once(',') {
                            Some((k, d)) => {
                                let d = d.trim();
                                let d = d.strip_prefix('\'').and_then(|x| x.strip_suffix('\'')).unwrap_or(d);
                                (k.trim(), Some(d.to_string()))
                            }
                            None => (inner.trim(), None),
                        };
                        let value = ctx.and_then(|c| c.single(key)).map(str::to_string).or(default)?;
                        out.extend(value.chars().map(Tok::Lit));
                    }
                }
            }
            c => out.push(Tok::Lit(c)),
        }
    }
    Some(out)
}

/// Glob match of tokens against text; `ignore_case` folds ASCII case.
pub fn glob(tokens: &[Tok], text: &str, ignore_case: bool) -> bool {
    let t: Vec<char> = text.chars().collect();
    let eq = |a: char, b: char| if ignore_case { a.eq_ignore_ascii_case(&b) } else { a == b };
    // Iterative wildcard match with backtracking on the last star.
    let (mut p, mut s) = (0usize, 0usize);
    let (mut star_p, mut star_s) = (usize::MAX, 0usize);
    while s < t.len() {
        if p < tokens.len() {
            match tokens[p] {
                Tok::Star => {
                    star_p = p;
                    star_s = s;
                    p += 1;
                    continue;
                }
                Tok::Any1 => {
                    p += 1;
                    s += 1;
                    continue;
                }
                Tok::Lit(c) if eq(c, t[s]) => {
                    p += 1;
                    s += 1;
                    continue;
                }
                _ => {}
            }
        }
        if star_p != usize::MAX {
            p = star_p + 1;
            star_s += 1;
            s = star_s;
        } else {
            return false;
        }
    }
    while p < tokens.len() && tokens[p] == Tok::Star {
        p += 1;
    }
    p == tokens.len()
}

/// Byte-level glob for ASCII pattern and text (no variables): the hot path, allocation-free.
pub fn glob_bytes(p: &[u8], t: &[u8], ignore_case: bool) -> bool {
    let eq = |a: u8, b: u8| if ignore_case { a.eq_ignore_ascii_case(&b) } else { a == b };
    let (mut pi, mut si) = (0usize, 0usize);
    let (mut star_p, mut star_s) = (usize::MAX, 0usize);
    while si < t.len() {
        if pi < p.len() {
            match p[pi] {
                b'*' => {
                    star_p = pi;
                    star_s = si;
                    pi += 1;
                    continue;
                }
                b'?' => {
                    pi += 1;
                    si += 1;
                    continue;
                }
                c if eq(c, t[si]) => {
                    pi += 1;
                    si += 1;
                    continue;
                }
                _ => {}
            }
        }
        if star_p != usize::MAX {
            pi = star_p + 1;
            star_s += 1;
            si = star_s;
        } else {
            return false;
        }
    }
    while pi < p.len() && p[pi] == b'*' {
        pi += 1;
    }
    pi == p.len()
}

/// True when a pattern can take the byte-level path: ASCII and free of policy variables.
fn plain(pattern: &str, text: &str) -> bool {
    pattern.is_ascii() && text.is_ascii() && !pattern.contains("${")
}

/// `s3:Get*` against `s3:GetObject`: case-insensitive. Variables are not allowed in actions.
pub fn action_matches(pattern: &str, action: &str) -> bool {
    if pattern.is_ascii() && action.is_ascii() {
        return glob_bytes(pattern.as_bytes(), action.as_bytes(), true);
    }
    match tokenize(pattern, None) {
        Some(t) => glob(&t, action, true),
        None => false,
    }
}

/// A pattern string with variables against a value, as StringLike does.
pub fn like(pattern: &str, value: &str, ctx: &Context, ignore_case: bool) -> bool {
    if plain(pattern, value) {
        return glob_bytes(pattern.as_bytes(), value.as_bytes(), ignore_case);
    }
    tokenize(pattern, Some(ctx)).is_some_and(|t| glob(&t, value, ignore_case))
}

/// Splits an ARN into its six segments (the last keeps any further ':'); the count when fewer.
pub fn arn_segments(arn: &str) -> ([&str; 6], usize) {
    let mut segs: [&str; 6] = [""; 6];
    let mut n = 0;
    for (i, seg) in arn.splitn(6, ':').enumerate() {
        segs[i] = seg;
        n = i + 1;
    }
    (segs, n)
}

/// A Resource pattern prepared at parse time: the six segments of a plain (ASCII, no policy
/// variable) six-segment ARN pattern, matched against a request ARN split once per request.
/// Anything else takes the general path.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CompiledArn {
    /// Byte ranges of the six segments in the pattern, for plain six-segment ARN patterns.
    segs: Option<[(u32, u32); 6]>,
    /// Which of the first five segments hold no wildcard (compared byte for byte).
    literal: [bool; 5],
    /// The pattern is `*`.
    star: bool,
}

impl CompiledArn {
    pub fn new(pattern: &str) -> CompiledArn {
        if pattern == "*" {
            return CompiledArn { segs: None, literal: [false; 5], star: true };
        }
        if !pattern.starts_with("arn:") || !pattern.is_ascii() || pattern.contains("${") {
            return CompiledArn::default();
        }
        let (segs, n) = arn_segments(pattern);
        if n != 6 {
            return CompiledArn::default();
        }
        let base = pattern.as_ptr() as usize;
        let mut ranges = [(0u32, 0u32); 6];
        let mut literal = [false; 5];
        for (i, seg) in segs.iter().enumerate() {
            let start = seg.as_ptr() as usize - base;
            ranges[i] = (start as u32, (start + seg.len()) as u32);
            if i < 5 {
                literal[i] = !seg.contains(['*', '?']);
            }
        }
        CompiledArn { segs: Some(ranges), literal, star: false }
    }

    /// Some(answer) when the fast path decides; None sends the caller to `resource_matches`.
    #[inline]
    pub fn matches(&self, pattern: &str, request: &([&str; 6], usize)) -> Option<bool> {
        if self.star {
            return Some(true);
        }
        let ranges = self.segs.as_ref()?;
        let (segs_a, na) = request;
        if *na != 6 || !segs_a[5].is_ascii() {
            return None;
        }
        let seg = |i: usize| &pattern[ranges[i].0 as usize..ranges[i].1 as usize];
        // The most selective segments first (service, account, region), literal ones by equality.
        for i in [2, 4, 3, 1, 0] {
            let ok = if self.literal[i] { seg(i) == segs_a[i] } else { glob_bytes(seg(i).as_bytes(), segs_a[i].as_bytes(), false) };
            if !ok {
                return Some(false);
            }
        }
        Some(match_resource(seg(5), segs_a[5], seg(2) == "s3" && seg(3).is_empty() && seg(4).is_empty()))
    }
}

/// Six pattern segments against six ARN segments (plain ASCII): the first five each on their
/// own, the resource part with its resource type literal.
fn match_segments(segs_p: &[&str; 6], segs_a: &[&str; 6]) -> bool {
    for i in 0..5 {
        if !glob_bytes(segs_p[i].as_bytes(), segs_a[i].as_bytes(), false) {
            return false;
        }
    }
    match_resource(segs_p[5], segs_a[5], segs_p[2] == "s3" && segs_p[3].is_empty() && segs_p[4].is_empty())
}

/// The resource part: its resource type (up to the first '/' or ':') literal, except for S3's
/// bucket and object ARNs, which have none.
fn match_resource(res_pat: &str, res: &str, is_s3_plain: bool) -> bool {
    let split = if is_s3_plain { None } else { res_pat.find(['/', ':']) };
    match split {
        None => glob_bytes(res_pat.as_bytes(), res.as_bytes(), false),
        Some(i) => match res.strip_prefix(&res_pat[..=i]) {
            Some(rest) => glob_bytes(&res_pat.as_bytes()[i + 1..], rest.as_bytes(), false),
            None => false,
        },
    }
}

/// The byte-level form of `resource_arn_matches` for plain patterns.
fn resource_arn_matches_plain(pattern: &str, arn: &str) -> bool {
    if pattern == "*" {
        return true;
    }
    let (segs_p, np) = arn_segments(pattern);
    let (segs_a, na) = arn_segments(arn);
    if np != 6 || na != 6 {
        if pattern.starts_with("arn:") || na == 6 {
            return false;
        }
        return glob_bytes(pattern.as_bytes(), arn.as_bytes(), false);
    }
    match_segments(&segs_p, &segs_a)
}

/// Splits tokens at the first five ':' literals into six ARN segments.
fn split_tokens(tokens: &[Tok]) -> Vec<&[Tok]> {
    let mut parts = Vec::with_capacity(6);
    let mut start = 0;
    for (i, t) in tokens.iter().enumerate() {
        if parts.len() == 5 {
            break;
        }
        if *t == Tok::Lit(':') {
            parts.push(&tokens[start..i]);
            start = i + 1;
        }
    }
    parts.push(&tokens[start..]);
    parts
}

/// An ARN pattern (with variables) against an ARN: `*` alone matches everything; otherwise
/// the pattern and the ARN are split into their six segments and each segment is matched on its
/// own, so a `*` in the region cannot swallow the account.
pub fn arn_matches(pattern: &str, arn: &str, ctx: Option<&Context>) -> bool {
    let Some(tokens) = tokenize(pattern, ctx) else { return false };
    if tokens.len() == 1 && tokens[0] == Tok::Star {
        return true;
    }
    let p = split_tokens(&tokens);
    let a: Vec<&str> = arn.splitn(6, ':').collect();
    if p.len() != 6 || a.len() != 6 {
        // An ARN pattern with too few segments matches no ARN; anything else that is not
        // ARN-shaped is compared whole ("*" is handled above).
        if pattern.starts_with("arn:") || a.len() == 6 {
            return false;
        }
        return glob(&tokens, arn, false);
    }
    p.iter().zip(a.iter()).all(|(pt, seg)| glob(pt, seg, false))
}

/// A policy's Resource/NotResource entry against the request's resource. An ARN pattern with
/// fewer than six segments is padded with `*` segments (`arn:aws:s3*` covers every S3 ARN), as
/// IAM evaluates such patterns in identity policies, boundaries and session policies; in a
/// resource-based policy only a short pattern holding a wildcard is padded, any other matches
/// nothing.
pub fn resource_matches(pattern: &str, resource: &str, ctx: Option<&Context>, resource_policy: bool) -> bool {
    if pattern.starts_with("arn:") {
        let segments = pattern.split(':').count();
        if segments < 6 {
            if resource_policy && !pattern.contains('*') {
                return false;
            }
            let padded = format!("{pattern}{}", ":*".repeat(6 - segments));
            return resource_arn_matches(&padded, resource, ctx);
        }
    }
    resource_arn_matches(pattern, resource, ctx)
}

/// Like `arn_matches`, but the resource type at the start of the resource part (`role/`,
/// `function:`, `key/`) is literal: AWS's ARN reference lists a wildcard there as incorrect
/// usage ("You can't use a wildcard in the portion of the ARN that specifies the resource
/// type"). S3 object and bucket ARNs have no resource type.
fn resource_arn_matches(pattern: &str, arn: &str, ctx: Option<&Context>) -> bool {
    if plain(pattern, arn) {
        return resource_arn_matches_plain(pattern, arn);
    }
    let Some(tokens) = tokenize(pattern, ctx) else { return false };
    if tokens.len() == 1 && tokens[0] == Tok::Star {
        return true;
    }
    let p = split_tokens(&tokens);
    let a: Vec<&str> = arn.splitn(6, ':').collect();
    if p.len() != 6 || a.len() != 6 {
        if pattern.starts_with("arn:") || a.len() == 6 {
            return false;
        }
        return glob(&tokens, arn, false);
    }
    if !p[..5].iter().zip(a[..5].iter()).all(|(pt, seg)| glob(pt, seg, false)) {
        return false;
    }
    let (res_pat, res) = (p[5], a[5]);
    let is_s3_plain = p[2] == [Tok::Lit('s'), Tok::Lit('3')] && p[3].is_empty() && p[4].is_empty();
    let split = if is_s3_plain { None } else { res_pat.iter().position(|t| *t == Tok::Lit('/') || *t == Tok::Lit(':')) };
    match split {
        None => glob(res_pat, res, false),
        Some(i) => {
            let product: String = res_pat[..=i]
                .iter()
                .map(|t| match t {
                    Tok::Lit(c) => *c,
                    Tok::Star => '*',
                    Tok::Any1 => '?',
                })
                .collect();
            match res.strip_prefix(product.as_str()) {
                Some(rest) => glob(&res_pat[i + 1..], rest, false),
                None => false,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actions() {
        assert!(action_matches("s3:Get*", "s3:GetObject"));
        assert!(action_matches("S3:getobject", "s3:GetObject"));
        assert!(action_matches("s3:?etObject", "s3:GetObject"));
        assert!(!action_matches("s3:Get", "s3:GetObject"));
        assert!(action_matches("*", "iam:PassRole"));
    }

    #[test]
    fn arns() {
        assert!(arn_matches("arn:aws:s3:::bucket/*", "arn:aws:s3:::bucket/a/b:c", None));
        assert!(!arn_matches("arn:aws:s3:::bucket/*", "arn:aws:s3:::bucket", None));
        assert!(arn_matches("arn:aws:iam::*:role/*", "arn:aws:iam::123456789012:role/service-role/X", None));
        // A star in the region does not span into the account.
        assert!(!arn_matches("arn:aws:kms:*:key/k", "arn:aws:kms:us-east-1:123456789012:key/k", None));
        assert!(arn_matches(
            "arn:aws:bedrock:*::foundation-model/anthropic.*",
            "arn:aws:bedrock:us-west-2::foundation-model/anthropic.claude-3-haiku-20240307-v1:0",
            None
        ));
        assert!(!arn_matches("arn:aws:iam::123456789012:role/Batch", "arn:aws:iam::123456789012:role/service-role/Batch", None));
    }

    #[test]
    fn short_arns() {
        assert!(resource_matches("arn:aws:s3*", "arn:aws:s3:::b/k", None, false));
        assert!(resource_matches("arn:aws:s3*", "arn:aws:s3:::b/k", None, true));
        assert!(!resource_matches("arn:aws:s3", "arn:aws:s3:::b/k", None, true));
        assert!(!resource_matches("arn:aws:iam*", "arn:aws:s3:::b/k", None, false));
        // The resource type is literal.
        assert!(!resource_matches("arn:aws:lambda:*:*:functi?n:f", "arn:aws:lambda:us-east-1:1:function:f", None, false));
        assert!(resource_matches("arn:aws:iam::1:role*", "arn:aws:iam::1:role/a/B", None, false));
    }

    #[test]
    fn variables_and_escapes() {
        let mut ctx = Context::default();
        ctx.set("aws:username", "alice");
        assert!(arn_matches("arn:aws:s3:::home/${aws:username}/*", "arn:aws:s3:::home/alice/x", Some(&ctx)));
        assert!(!arn_matches("arn:aws:s3:::home/${aws:username}/*", "arn:aws:s3:::home/bob/x", Some(&ctx)));
        assert!(!arn_matches("arn:aws:s3:::home/${aws:userid}/*", "arn:aws:s3:::home/alice/x", Some(&ctx)));
        assert!(arn_matches("arn:aws:s3:::home/${aws:userid, 'none'}/*", "arn:aws:s3:::home/none/x", Some(&ctx)));
        assert!(arn_matches("arn:aws:s3:::b/${*}", "arn:aws:s3:::b/*", Some(&ctx)));
        assert!(!arn_matches("arn:aws:s3:::b/${*}", "arn:aws:s3:::b/x", Some(&ctx)));
        assert!(like("a${?}", "a?", &ctx, false) && !like("a${?}", "ab", &ctx, false));
        assert!(like("${$}x", "$x", &ctx, false));
    }
}
