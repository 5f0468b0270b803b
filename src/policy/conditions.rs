//! Condition operators, as AWS documents them.
//!
//! - values of one key are OR-ed; keys and operators are AND-ed (the caller does that);
//! - without a set qualifier, a missing key fails every operator except the negated ones
//!   (`StringNotEquals`, `ArnNotLike`, `NotIpAddress`, …), which match it, and `…IfExists`
//!   forms, which match it; `Null` tests presence;
//! - `ForAnyValue:` matches when some request value matches (an empty or missing set fails);
//!   `ForAllValues:` matches when every request value matches (an empty or missing set passes).

use std::net::IpAddr;

use super::context::Context;
use super::matching::{arn_matches, glob_bytes, like, Shape};

/// One condition: operator (as written, e.g. `ForAnyValue:StringLikeIfExists`), key, values.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Condition {
    pub operator: String,
    pub key: String,
    pub values: Vec<String>,
    /// The operator, parsed once (None for an operator IAM does not know: it never matches).
    #[serde(skip)]
    pub parsed: Option<Operator>,
    /// For Numeric* and Date* operators, each policy value parsed once (None: not a number or
    /// date, which never matches).
    #[serde(skip)]
    pub numbers: Vec<Option<f64>>,
    /// For IpAddress / NotIpAddress, each policy value parsed once as an address and prefix
    /// length (None: not an address or CIDR block, which never matches).
    #[serde(skip)]
    pub networks: Vec<Option<(std::net::IpAddr, u32)>>,
    /// Every value is ASCII and free of policy variables: string operators compare bytes.
    #[serde(skip)]
    pub plain: bool,
    /// For StringLike on plain values, each value's glob shape (`*`, literal, `prefix*`, other).
    #[serde(skip)]
    pub shapes: Vec<Shape>,
}

impl PartialEq for Condition {
    fn eq(&self, other: &Self) -> bool {
        self.operator == other.operator && self.key == other.key && self.values == other.values
    }
}
impl Eq for Condition {}

impl Condition {
    pub fn new(operator: &str, key: &str, values: Vec<String>) -> Condition {
        let parsed = parse_operator(operator);
        let numbers = parsed.map(|op| policy_numbers(op, &values)).unwrap_or_default();
        let networks = parsed.map(|op| policy_networks(op, &values)).unwrap_or_default();
        let plain = values.iter().all(|v| v.is_ascii() && !v.contains("${"));
        let like = plain && parsed.is_some_and(|op| op.is_string_like());
        let shapes = if like { values.iter().map(|v| Shape::of(v.as_bytes())).collect() } else { Vec::new() };
        Condition { operator: operator.to_string(), key: key.to_string(), values, parsed, numbers, networks, plain, shapes }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Qualifier {
    None,
    AnyValue,
    AllValues,
}

impl Operator {
    /// StringLike / StringNotLike, with any qualifier.
    pub fn is_string_like(self) -> bool {
        self.base == Base::StringLike
    }
}

impl Base {
    fn is_date(self) -> bool {
        matches!(self, Base::DateEquals | Base::DateLessThan | Base::DateLessThanEquals | Base::DateGreaterThan | Base::DateGreaterThanEquals)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Base {
    StringEquals,
    StringEqualsIgnoreCase,
    StringLike,
    NumericEquals,
    NumericLessThan,
    NumericLessThanEquals,
    NumericGreaterThan,
    NumericGreaterThanEquals,
    DateEquals,
    DateLessThan,
    DateLessThanEquals,
    DateGreaterThan,
    DateGreaterThanEquals,
    Bool,
    BinaryEquals,
    IpAddress,
    ArnLike,
    Null,
}

/// A parsed operator: its base test, whether it is negated, the set qualifier, IfExists.
#[derive(Debug, Clone, Copy)]
pub struct Operator {
    base: Base,
    negated: bool,
    qualifier: Qualifier,
    if_exists: bool,
}

/// The policy values of a Numeric* or Date* condition, parsed once at policy parse time (empty
/// for other operators).
pub fn policy_numbers(op: Operator, values: &[String]) -> Vec<Option<f64>> {
    use Base::*;
    match op.base {
        NumericEquals | NumericLessThan | NumericLessThanEquals | NumericGreaterThan | NumericGreaterThanEquals => {
            values.iter().map(|v| v.trim().parse::<f64>().ok()).collect()
        }
        DateEquals | DateLessThan | DateLessThanEquals | DateGreaterThan | DateGreaterThanEquals => values.iter().map(|v| parse_date(v)).collect(),
        _ => Vec::new(),
    }
}

/// The policy values of an IpAddress / NotIpAddress condition, parsed once at policy parse time
/// (empty for other operators).
pub fn policy_networks(op: Operator, values: &[String]) -> Vec<Option<(IpAddr, u32)>> {
    if op.base != Base::IpAddress {
        return Vec::new();
    }
    values.iter().map(|v| network(v)).collect()
}

/// Parses an operator name; None for an unknown operator (which never matches).
pub fn parse_operator(op: &str) -> Option<Operator> {
    let (qualifier, rest) = if let Some(r) = strip_prefix_ci(op, "ForAnyValue:") {
        (Qualifier::AnyValue, r)
    } else if let Some(r) = strip_prefix_ci(op, "ForAllValues:") {
        (Qualifier::AllValues, r)
    } else {
        (Qualifier::None, op)
    };
    let (if_exists, name) = match rest.strip_suffix("IfExists") {
        Some(n) => (true, n),
        None => (false, rest),
    };
    use Base::*;
    let (base, negated) = match name {
        "StringEquals" => (StringEquals, false),
        "StringNotEquals" => (StringEquals, true),
        "StringEqualsIgnoreCase" => (StringEqualsIgnoreCase, false),
        "StringNotEqualsIgnoreCase" => (StringEqualsIgnoreCase, true),
        "StringLike" => (StringLike, false),
        "StringNotLike" => (StringLike, true),
        "NumericEquals" => (NumericEquals, false),
        "NumericNotEquals" => (NumericEquals, true),
        "NumericLessThan" => (NumericLessThan, false),
        "NumericLessThanEquals" => (NumericLessThanEquals, false),
        "NumericGreaterThan" => (NumericGreaterThan, false),
        "NumericGreaterThanEquals" => (NumericGreaterThanEquals, false),
        "DateEquals" => (DateEquals, false),
        "DateNotEquals" => (DateEquals, true),
        "DateLessThan" => (DateLessThan, false),
        "DateLessThanEquals" => (DateLessThanEquals, false),
        "DateGreaterThan" => (DateGreaterThan, false),
        "DateGreaterThanEquals" => (DateGreaterThanEquals, false),
        "Bool" => (Bool, false),
        "BinaryEquals" => (BinaryEquals, false),
        "IpAddress" => (IpAddress, false),
        "NotIpAddress" => (IpAddress, true),
        "ArnEquals" | "ArnLike" => (ArnLike, false),
        "ArnNotEquals" | "ArnNotLike" => (ArnLike, true),
        "Null" if !if_exists => (Null, false),
        _ => return None,
    };
    Some(Operator { base, negated, qualifier, if_exists })
}

/// `s` without an ASCII `prefix`, compared case-insensitively. Compared as bytes: slicing the
/// string at the prefix's length would panic inside a multi-byte character (an operator such as
/// "ForAllValues̬tringEquals" in a user's policy, found by the `policy` fuzz target).
fn strip_prefix_ci<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let n = prefix.len();
    if s.len() >= n && s.as_bytes()[..n].eq_ignore_ascii_case(prefix.as_bytes()) {
        // The matched bytes are ASCII, so `n` is a character boundary.
        s.get(n..)
    } else {
        None
    }
}

/// The outcome of one condition, with why.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ConditionResult {
    pub operator: String,
    pub key: String,
    pub expected: Vec<String>,
    /// The request's values (None when the key is absent).
    pub actual: Option<Vec<String>>,
    pub matched: bool,
    pub reason: String,
}

/// Evaluates one condition against the context, with the reason (for traces).
pub fn evaluate(cond: &Condition, ctx: &Context) -> ConditionResult {
    let actual = ctx.get(&cond.key).map(<[String]>::to_vec);
    let (matched, reason) = match cond.parsed {
        None => (false, format!("unknown operator {}", cond.operator)),
        Some(op) => run(op, cond, actual.as_deref(), ctx, true),
    };
    ConditionResult { operator: cond.operator.clone(), key: cond.key.clone(), expected: cond.values.clone(), actual, matched, reason }
}

/// Whether one condition holds: the allocation-free path the decision takes.
pub fn holds(cond: &Condition, ctx: &Context) -> bool {
    match cond.parsed {
        None => false,
        Some(op) => run(op, cond, ctx.get(&cond.key), ctx, false).0,
    }
}

fn run(op: Operator, cond: &Condition, actual: Option<&[String]>, ctx: &Context, explain: bool) -> (bool, String) {
    if op.base == Base::Null {
        let want_absent = cond.values.iter().any(|v| v.eq_ignore_ascii_case("true"));
        let absent = actual.is_none_or(|a| a.is_empty());
        let reason = if explain { format!("{} is {}", cond.key, if absent { "absent" } else { "present" }) } else { String::new() };
        return (absent == want_absent, reason);
    }
    let why = |text: String| if explain { text } else { String::new() };
    let values = match actual {
        None => {
            return match op.qualifier {
                Qualifier::AllValues => (true, why(format!("{} is absent, and ForAllValues matches an empty set", cond.key))),
                Qualifier::AnyValue => (false, why(format!("{} is absent, and ForAnyValue needs a value", cond.key))),
                Qualifier::None if op.if_exists => (true, why(format!("{} is absent (…IfExists)", cond.key))),
                Qualifier::None if op.negated => (true, why(format!("{} is absent, which a negated operator matches", cond.key))),
                Qualifier::None => (false, why(format!("{} is absent from the request", cond.key))),
            };
        }
        Some(v) => v,
    };
    // One request value against the policy values, with negation applied per value.
    // A Numeric* or Date* request value is parsed once, not once per policy value.
    let one = |v: &str| -> bool {
        let any = if cond.numbers.len() == cond.values.len() && !cond.numbers.is_empty() {
            let parsed = if op.base.is_date() { parse_date(v) } else { v.trim().parse::<f64>().ok() };
            parsed.is_some_and(|x| cond.numbers.iter().any(|p| p.is_some_and(|p| compare(op.base, x, p))))
        } else if op.base == Base::IpAddress && cond.networks.len() == cond.values.len() {
            v.trim().parse::<IpAddr>().is_ok_and(|addr| cond.networks.iter().any(|n| n.is_some_and(|(net, bits)| in_network(addr, net, bits))))
        } else if cond.plain && v.is_ascii() && matches!(op.base, Base::StringEquals | Base::StringLike | Base::StringEqualsIgnoreCase) {
            // No policy variable to substitute: compare bytes.
            match op.base {
                Base::StringEquals => cond.values.iter().any(|p| p == v),
                Base::StringEqualsIgnoreCase => cond.values.iter().any(|p| p.eq_ignore_ascii_case(v)),
                _ if cond.shapes.len() == cond.values.len() => {
                    cond.values.iter().zip(&cond.shapes).any(|(p, s)| s.matches(p.as_bytes(), v.as_bytes()))
                }
                _ => cond.values.iter().any(|p| glob_bytes(p.as_bytes(), v.as_bytes(), false)),
            }
        } else {
            cond.values.iter().any(|p| test(op.base, p, v, ctx))
        };
        if op.negated {
            !any
        } else {
            any
        }
    };
    let matched = match op.qualifier {
        Qualifier::AnyValue => values.iter().any(|v| one(v)),
        Qualifier::AllValues => values.iter().all(|v| one(v)),
        Qualifier::None => {
            if values.is_empty() {
                op.negated || op.if_exists
            } else if op.negated {
                values.iter().all(|v| one(v))
            } else {
                values.iter().any(|v| one(v))
            }
        }
    };
    if !explain {
        return (matched, String::new());
    }
    let shown = if values.len() == 1 { format!("{:?}", values[0]) } else { format!("{values:?}") };
    let reason = format!("{} = {shown} {} {} {:?}", cond.key, if matched { "satisfies" } else { "fails" }, cond.operator, cond.values);
    (matched, reason)
}

fn test(base: Base, policy: &str, value: &str, ctx: &Context) -> bool {
    use Base::*;
    match base {
        StringEquals if !policy.contains("${") => policy == value,
        StringEqualsIgnoreCase if !policy.contains("${") => policy.eq_ignore_ascii_case(value),
        StringEquals => substitute(policy, ctx).is_some_and(|p| p == value),
        StringEqualsIgnoreCase => substitute(policy, ctx).is_some_and(|p| p.eq_ignore_ascii_case(value)),
        StringLike => like(policy, value, ctx, false),
        NumericEquals | NumericLessThan | NumericLessThanEquals | NumericGreaterThan | NumericGreaterThanEquals => {
            match (value.trim().parse::<f64>(), policy.trim().parse::<f64>()) {
                (Ok(v), Ok(p)) => compare(base, v, p),
                _ => false,
            }
        }
        DateEquals | DateLessThan | DateLessThanEquals | DateGreaterThan | DateGreaterThanEquals => match (parse_date(value), parse_date(policy)) {
            (Some(v), Some(p)) => compare(base, v, p),
            _ => false,
        },
        Bool => value.eq_ignore_ascii_case(policy),
        BinaryEquals => value == policy,
        IpAddress => ip_in(value, policy),
        ArnLike => arn_matches(policy, value, Some(ctx)),
        Null => false,
    }
}

fn compare(base: Base, v: f64, p: f64) -> bool {
    use Base::*;
    match base {
        NumericEquals | DateEquals => v == p,
        NumericLessThan | DateLessThan => v < p,
        NumericLessThanEquals | DateLessThanEquals => v <= p,
        NumericGreaterThan | DateGreaterThan => v > p,
        NumericGreaterThanEquals | DateGreaterThanEquals => v >= p,
        _ => false,
    }
}

/// Substitutes policy variables in a StringEquals value (no wildcards there).
fn substitute(policy: &str, ctx: &Context) -> Option<String> {
    if !policy.contains("${") {
        return Some(policy.to_string());
    }
    let toks = super::matching::tokenize(policy, Some(ctx))?;
    Some(
        toks.into_iter()
            .map(|t| match t {
                super::matching::Tok::Lit(c) => c,
                super::matching::Tok::Star => '*',
                super::matching::Tok::Any1 => '?',
            })
            .collect(),
    )
}

/// An IP address against an address or CIDR block (v4 or v6).
pub fn ip_in(value: &str, cidr: &str) -> bool {
    let Ok(addr) = value.trim().parse::<IpAddr>() else { return false };
    network(cidr).is_some_and(|(net, bits)| in_network(addr, net, bits))
}

/// An address or CIDR block: the address and its prefix length (32 or 128 for an address);
/// None when it is neither, or the length is out of range.
fn network(cidr: &str) -> Option<(IpAddr, u32)> {
    let (net, bits) = match cidr.split_once('/') {
        Some((n, b)) => (n, Some(b.parse::<u32>().ok()?)),
        None => (cidr, None),
    };
    let net = net.trim().parse::<IpAddr>().ok()?;
    let max = if net.is_ipv4() { 32 } else { 128 };
    let bits = bits.unwrap_or(max);
    (bits <= max).then_some((net, bits))
}

fn in_network(addr: IpAddr, net: IpAddr, bits: u32) -> bool {
    match (addr, net) {
        (IpAddr::V4(a), IpAddr::V4(n)) => {
            let mask = if bits == 0 { 0 } else { u32::MAX << (32 - bits) };
            u32::from(a) & mask == u32::from(n) & mask
        }
        (IpAddr::V6(a), IpAddr::V6(n)) => {
            let mask = if bits == 0 { 0 } else { u128::MAX << (128 - bits) };
            u128::from(a) & mask == u128::from(n) & mask
        }
        _ => false,
    }
}

/// Seconds since the epoch from ISO 8601 (`2026-01-02`, `2026-01-02T03:04:05Z`, with fraction
/// or offset) or from a number of epoch seconds.
pub fn parse_date(s: &str) -> Option<f64> {
    let s = s.trim();
    if let Ok(n) = s.parse::<f64>() {
        return Some(n);
    }
    // An ISO 8601 date is ASCII; anything else is not a date (and slicing below is by byte,
    // which is only safe on ASCII).
    if !s.is_ascii() {
        return None;
    }
    let b = s.as_bytes();
    if b.len() < 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let year: i64 = s[0..4].parse().ok()?;
    let month: i64 = s[5..7].parse().ok()?;
    let day: i64 = s[8..10].parse().ok()?;
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return None;
    }
    let mut secs = days_from_civil(year, month, day) as f64 * 86400.0;
    let rest = &s[10..];
    if rest.is_empty() {
        return Some(secs);
    }
    let rest = rest.strip_prefix('T').or_else(|| rest.strip_prefix(' '))?;
    if rest.len() < 5 {
        return None;
    }
    let hh: i64 = rest[0..2].parse().ok()?;
    let mm: i64 = rest[3..5].parse().ok()?;
    let mut tail = &rest[5..];
    let mut ss = 0.0;
    if let Some(t) = tail.strip_prefix(':') {
        let end = t.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(t.len());
        ss = t[..end].parse().ok()?;
        tail = &t[end..];
    }
    secs += (hh * 3600 + mm * 60) as f64 + ss;
    match tail {
        "" | "Z" | "z" => Some(secs),
        t if t.len() == 6 && (t.starts_with('+') || t.starts_with('-')) => {
            let oh: i64 = t[1..3].parse().ok()?;
            let om: i64 = t[4..6].parse().ok()?;
            let off = (oh * 3600 + om * 60) as f64;
            Some(if t.starts_with('+') { secs - off } else { secs + off })
        }
        _ => None,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146097 + doe - 719468
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cond(op: &str, key: &str, vals: &[&str]) -> Condition {
        Condition::new(op, key, vals.iter().map(|s| s.to_string()).collect())
    }

    fn ctx(pairs: &[(&str, &[&str])]) -> Context {
        let mut c = Context::default();
        for (k, vs) in pairs {
            c.set_many(k, vs.iter().map(|s| s.to_string()).collect());
        }
        c
    }

    fn m(op: &str, key: &str, vals: &[&str], c: &Context) -> bool {
        evaluate(&cond(op, key, vals), c).matched
    }

    #[test]
    fn string_operators() {
        let c = ctx(&[("aws:username", &["Alice"])]);
        assert!(m("StringEquals", "aws:username", &["Bob", "Alice"], &c));
        assert!(!m("StringEquals", "aws:username", &["alice"], &c));
        assert!(m("StringEqualsIgnoreCase", "aws:username", &["alice"], &c));
        assert!(m("StringNotEquals", "aws:username", &["Bob"], &c));
        assert!(!m("StringNotEqualsIgnoreCase", "aws:username", &["ALICE"], &c));
        assert!(m("StringLike", "aws:username", &["A*"], &c));
        assert!(m("StringNotLike", "aws:username", &["B*"], &c));
        assert!(m("StringEquals", "AWS:UserName", &["Alice"], &c), "keys are case-insensitive");
    }

    #[test]
    fn missing_keys() {
        let c = Context::default();
        assert!(!m("StringEquals", "aws:SourceAccount", &["1"], &c));
        assert!(m("StringEqualsIfExists", "aws:SourceAccount", &["1"], &c));
        assert!(m("StringNotEquals", "aws:SourceAccount", &["1"], &c));
        assert!(m("ArnNotLike", "aws:SourceArn", &["arn:*"], &c));
        assert!(!m("NumericLessThan", "aws:MultiFactorAuthAge", &["3600"], &c));
        assert!(m("NumericLessThanIfExists", "aws:MultiFactorAuthAge", &["3600"], &c));
        assert!(m("Null", "aws:TokenIssueTime", &["true"], &c));
        assert!(!m("Null", "aws:TokenIssueTime", &["false"], &c));
    }

    #[test]
    fn set_qualifiers() {
        let empty = Context::default();
        assert!(m("ForAllValues:StringEquals", "aws:TagKeys", &["a"], &empty));
        assert!(!m("ForAnyValue:StringEquals", "aws:TagKeys", &["a"], &empty));
        let c = ctx(&[("aws:TagKeys", &["a", "b"])]);
        assert!(m("ForAnyValue:StringEquals", "aws:TagKeys", &["b"], &c));
        assert!(!m("ForAllValues:StringEquals", "aws:TagKeys", &["b"], &c));
        assert!(m("ForAllValues:StringLike", "aws:TagKeys", &["*"], &c));
        assert!(m("ForAnyValue:StringNotEquals", "aws:TagKeys", &["a"], &c));
        assert!(!m("ForAllValues:StringNotEquals", "aws:TagKeys", &["a"], &c));
        let e = ctx(&[("aws:TagKeys", &[])]);
        assert!(m("ForAllValues:StringEquals", "aws:TagKeys", &["x"], &e));
    }

    #[test]
    fn numeric_date_bool_binary_ip_arn() {
        let c = ctx(&[
            ("aws:MultiFactorAuthAge", &["100"]),
            ("aws:CurrentTime", &["2026-06-01T12:00:00Z"]),
            ("aws:SecureTransport", &["true"]),
            ("aws:SourceIp", &["203.0.113.9"]),
            ("aws:SourceArn", &["arn:aws:bedrock:us-east-1:123456789012:model-invocation-job/abc"]),
            ("k:bin", &["QmluYXJ5"]),
        ]);
        assert!(m("NumericLessThan", "aws:MultiFactorAuthAge", &["3600"], &c));
        assert!(m("NumericGreaterThanEquals", "aws:MultiFactorAuthAge", &["100"], &c));
        assert!(m("NumericNotEquals", "aws:MultiFactorAuthAge", &["5"], &c));
        assert!(!m("NumericEquals", "aws:MultiFactorAuthAge", &["abc"], &c));
        assert!(m("DateGreaterThan", "aws:CurrentTime", &["2026-01-01"], &c));
        assert!(m("DateLessThan", "aws:CurrentTime", &["2026-06-01T13:00:00+00:30"], &c));
        assert!(m("DateEquals", "aws:CurrentTime", &["1780315200"], &c));
        assert!(m("Bool", "aws:SecureTransport", &["True"], &c));
        assert!(!m("Bool", "aws:SecureTransport", &["false"], &c));
        assert!(m("BinaryEquals", "k:bin", &["QmluYXJ5"], &c));
        assert!(m("IpAddress", "aws:SourceIp", &["203.0.113.0/24"], &c));
        assert!(m("NotIpAddress", "aws:SourceIp", &["10.0.0.0/8"], &c));
        assert!(m("ArnEquals", "aws:SourceArn", &["arn:aws:bedrock:us-east-1:123456789012:model-invocation-job/*"], &c));
        assert!(m("ArnLike", "aws:SourceArn", &["arn:aws:bedrock:*:123456789012:*"], &c));
        assert!(!m("ArnLike", "aws:SourceArn", &["arn:aws:bedrock:us-west-2:123456789012:*"], &c));
        assert!(m("ArnNotEquals", "aws:SourceArn", &["arn:aws:bedrock:us-west-2:*:*"], &c));
        assert!(ip_in("2001:db8::1", "2001:db8::/32"));
    }

    #[test]
    fn dates() {
        assert_eq!(parse_date("1970-01-02"), Some(86400.0));
        assert_eq!(parse_date("2026-06-01T12:00:00Z"), Some(1780315200.0));
        assert_eq!(parse_date("nope"), None);
    }
}
