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
    let (mut n, mut start) = (0, 0);
    // ':' is ASCII, so every split point is a character boundary.
    for (i, b) in arn.bytes().enumerate() {
        if b == b':' {
            segs[n] = &arn[start..i];
            n += 1;
            start = i + 1;
            if n == 5 {
                break;
            }
        }
    }
    segs[n] = &arn[start..];
    (segs, n + 1)
}

/// A glob over plain ASCII bytes, classified once so that the common shapes skip the general
/// matcher: `*`, a literal, `literal*`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Shape {
    /// `*`: anything, the empty string too.
    #[default]
    Any,
    /// No wildcard: byte equality.
    Exact,
    /// One `*` at the end and no other wildcard: a prefix.
    Prefix,
    /// Anything else: the general glob.
    Glob,
}

impl Shape {
    pub fn of(p: &[u8]) -> Shape {
        match p.iter().position(|b| matches!(b, b'*' | b'?')) {
            None => Shape::Exact,
            Some(0) if p.len() == 1 => Shape::Any,
            Some(i) if i == p.len() - 1 && p[i] == b'*' => Shape::Prefix,
            Some(_) => Shape::Glob,
        }
    }

    /// `p` (the pattern this shape was taken of) against `t`, byte for byte.
    #[inline]
    pub fn matches(self, p: &[u8], t: &[u8]) -> bool {
        match self {
            Shape::Any => true,
            Shape::Exact => p == t,
            Shape::Prefix => t.starts_with(&p[..p.len() - 1]),
            Shape::Glob => glob_bytes(p, t, false),
        }
    }
}

/// An Action / NotAction pattern prepared at parse time: ASCII-lower-cased with its shape, so
/// that a request action lower-cased once per evaluation is matched byte for byte (IAM compares
/// actions case-insensitively). A non-ASCII pattern keeps the general path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActionPattern {
    lower: Option<(Box<[u8]>, Shape)>,
}

impl ActionPattern {
    pub fn new(pattern: &str) -> ActionPattern {
        if !pattern.is_ascii() {
            return ActionPattern { lower: None };
        }
        let lower = pattern.to_ascii_lowercase().into_bytes().into_boxed_slice();
        let shape = Shape::of(&lower);
        ActionPattern { lower: Some((lower, shape)) }
    }

    /// `pattern` (as written) against the request's action; `lower` is the action ASCII-lower-cased
    /// (None when the action is not ASCII).
    #[inline]
    pub fn matches(&self, pattern: &str, action: &str, lower: Option<&[u8]>) -> bool {
        match (&self.lower, lower) {
            (Some((p, shape)), Some(a)) => shape.matches(p, a),
            _ => action_matches(pattern, action),
        }
    }
}

/// A Resource pattern prepared at parse time: for a plain (ASCII, no policy variable)
/// six-segment ARN pattern, each segment's byte range and shape, and the resource part split
/// into its literal resource type and the rest; matched against a request ARN split once per
/// request. Anything else takes the general path.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CompiledArn {
    plain: Option<Box<PlainArn>>,
    /// The pattern is `*`.
    star: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct PlainArn {
    /// Byte ranges of the first five segments in the pattern, with their shapes.
    segs: [(u32, u32, Shape); 5],
    /// The resource part's literal resource type (through its '/' or ':'; empty for S3's
    /// bucket and object ARNs and for a resource part without one).
    res_type: (u32, u32),
    /// The rest of the resource part after the type.
    rest: (u32, u32, Shape),
}

impl CompiledArn {
    pub fn new(pattern: &str) -> CompiledArn {
        if pattern == "*" {
            return CompiledArn { plain: None, star: true };
        }
        if !pattern.starts_with("arn:") || !pattern.is_ascii() || pattern.contains("${") {
            return CompiledArn::default();
        }
        let (segs, n) = arn_segments(pattern);
        if n != 6 {
            return CompiledArn::default();
        }
        let base = pattern.as_ptr() as usize;
        let range = |s: &str| {
            let start = s.as_ptr() as usize - base;
            (start as u32, (start + s.len()) as u32)
        };
        let mut ranges = [(0u32, 0u32, Shape::Any); 5];
        for (i, seg) in segs[..5].iter().enumerate() {
            let (a, b) = range(seg);
            ranges[i] = (a, b, Shape::of(seg.as_bytes()));
        }
        let res_pat = segs[5];
        let is_s3_plain = segs[2] == "s3" && segs[3].is_empty() && segs[4].is_empty();
        let split = if is_s3_plain { None } else { res_pat.find(['/', ':']) };
        let (res_type, rest) = match split {
            None => (&res_pat[..0], res_pat),
            Some(i) => (&res_pat[..=i], &res_pat[i + 1..]),
        };
        let (ra, rb) = range(rest);
        let plain = PlainArn { segs: ranges, res_type: range(res_type), rest: (ra, rb, Shape::of(rest.as_bytes())) };
        CompiledArn { plain: Some(Box::new(plain)), star: false }
    }

    /// Some(answer) when the fast path decides; None sends the caller to `resource_matches`.
    /// `request` is the request's ARN split by `arn_segments`, when it has six segments and its
    /// resource part is ASCII (None otherwise).
    #[inline]
    pub fn matches(&self, pattern: &str, request: Option<&[&str; 6]>) -> Option<bool> {
        if self.star {
            return Some(true);
        }
        let plain = self.plain.as_deref()?;
        let segs_a = request?;
        let p = pattern.as_bytes();
        // The most selective segments first (service, account, region).
        for i in [2, 4, 3, 1, 0] {
            let (a, b, shape) = plain.segs[i];
            if !shape.matches(&p[a as usize..b as usize], segs_a[i].as_bytes()) {
                return Some(false);
            }
        }
        let res = segs_a[5].as_bytes();
        let res_type = &p[plain.res_type.0 as usize..plain.res_type.1 as usize];
        let Some(rest) = res.strip_prefix(res_type) else { return Some(false) };
        let (a, b, shape) = plain.rest;
        Some(shape.matches(&p[a as usize..b as usize], rest))
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

enum Substituted {
    /// Every variable replaced by an ASCII value holding no wildcard: match as a plain pattern.
    Plain(String),
    /// A variable with no value and no default: the pattern matches nothing.
    Missing,
    /// An escape (`${*}`, `${?}`, `${$}`) or a value that is not plain text: the token path.
    General,
}

/// The pattern with its policy variables replaced, when the result is a plain pattern whose
/// wildcards are exactly the pattern's own; the same reading of `${…}` as `tokenize`.
fn substitute_plain(pattern: &str, ctx: Option<&Context>) -> Substituted {
    let mut out = String::with_capacity(pattern.len() + 16);
    let mut rest = pattern;
    while let Some(at) = rest.find("${") {
        out.push_str(&rest[..at]);
        let after = &rest[at + 2..];
        let Some(end) = after.find('}') else {
            // No closing brace: the rest is literal text.
            out.push_str(&rest[at..]);
            rest = "";
            break;
        };
        let inner = &after[..end];
        if matches!(inner, "*" | "?" | "$") {
            return Substituted::General;
        }
        let (key, default) = match inner.split_once(',') {
            Some((k, d)) => {
                let d = d.trim();
                (k.trim(), Some(d.strip_prefix('\'').and_then(|x| x.strip_suffix('\'')).unwrap_or(d)))
            }
            None => (inner.trim(), None),
        };
        let Some(value) = ctx.and_then(|c| c.single(key)).or(default) else { return Substituted::Missing };
        if !value.is_ascii() || value.contains(['*', '?']) {
            return Substituted::General;
        }
        out.push_str(value);
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Substituted::Plain(out)
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
        let segments = pattern.bytes().filter(|&b| b == b':').count() + 1;
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
    if pattern.is_ascii() && arn.is_ascii() {
        match substitute_plain(pattern, ctx) {
            Substituted::Plain(p) => return resource_arn_matches_plain(&p, arn),
            Substituted::Missing => return false,
            Substituted::General => {}
        }
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
    fn arn_segments_keep_the_rest_whole() {
        assert_eq!(arn_segments("arn:aws:s3:::b/k:1:2"), (["arn", "aws", "s3", "", "", "b/k:1:2"], 6));
        assert_eq!(arn_segments("a:b"), (["a", "b", "", "", "", ""], 2));
        assert_eq!(arn_segments(""), ([""; 6], 1));
    }

    #[test]
    fn substituted_patterns_match_as_the_token_path_does() {
        let mut ctx = Context::default();
        ctx.set("aws:username", "alice");
        ctx.set("aws:PrincipalTag/team", "a*b");
        let cases = [
            ("arn:aws:s3:::home/${aws:username}/*", "arn:aws:s3:::home/alice/x", true),
            ("arn:aws:s3:::home/${aws:username}/*", "arn:aws:s3:::home/bob/x", false),
            ("arn:aws:s3:::home/${aws:userid}/*", "arn:aws:s3:::home/alice/x", false),
            ("arn:aws:s3:::home/${aws:userid, 'none'}/*", "arn:aws:s3:::home/none/x", true),
            // A value's '*' is a literal character, never a wildcard.
            ("arn:aws:s3:::t/${aws:PrincipalTag/team}", "arn:aws:s3:::t/a*b", true),
            ("arn:aws:s3:::t/${aws:PrincipalTag/team}", "arn:aws:s3:::t/axxb", false),
            ("arn:aws:s3:::b/${*}", "arn:aws:s3:::b/*", true),
            ("arn:aws:s3:::b/${*}", "arn:aws:s3:::b/x", false),
            ("arn:aws:s3:::b/${aws:username", "arn:aws:s3:::b/${aws:username", true),
        ];
        for (pattern, arn, want) in cases {
            assert_eq!(resource_matches(pattern, arn, Some(&ctx), false), want, "{pattern} against {arn}");
            assert_eq!(arn_matches(pattern, arn, Some(&ctx)), want, "token path: {pattern} against {arn}");
        }
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
