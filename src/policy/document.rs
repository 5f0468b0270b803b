//! IAM policy documents: a typed model parsed from JSON with errors that point at the statement
//! (index and Sid) and the field at fault. Documents may arrive URL-encoded (IAM's
//! AssumeRolePolicyDocument and inline policies on the wire) or plain.

use std::collections::BTreeMap;

use serde_json::Value;

use super::conditions::Condition;
use super::matching;

/// A parse error naming where in the document it is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{location}: {message}")]
pub struct PolicyError {
    pub location: String,
    pub message: String,
}

fn perr(location: impl Into<String>, message: impl Into<String>) -> PolicyError {
    PolicyError { location: location.into(), message: message.into() }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum Effect {
    Allow,
    Deny,
}

/// `"*"` or a map of principal types to values.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub enum Principal {
    Any,
    /// Type (`AWS`, `Service`, `Federated`, `CanonicalUser`) to its values.
    Map(BTreeMap<String, Vec<String>>),
}

impl Principal {
    /// The values listed under one principal type.
    pub fn values(&self, kind: &str) -> &[String] {
        match self {
            Principal::Any => &[],
            Principal::Map(m) => m.get(kind).map(Vec::as_slice).unwrap_or(&[]),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Statement {
    pub index: usize,
    pub sid: Option<String>,
    pub effect: Effect,
    pub principal: Option<Principal>,
    pub not_principal: Option<Principal>,
    pub action: Option<Vec<String>>,
    pub not_action: Option<Vec<String>>,
    pub resource: Option<Vec<String>>,
    pub not_resource: Option<Vec<String>>,
    pub conditions: Vec<Condition>,
    /// Prepared at parse time for the evaluator's hot path (derived from the fields above).
    #[serde(skip)]
    pub compiled: Compiled,
}

/// What a statement's patterns are, prepared once: the services its Action patterns can
/// match (None: any — a wildcard before the ':' or no Action list), each Action / NotAction
/// pattern lower-cased with its shape, and each Resource / NotResource pattern split into its
/// ARN segments with their shapes.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Compiled {
    /// A hash of each lower-cased service the Action patterns name (None: any — a wildcard
    /// before the ':' or no Action list). A prefilter only: equal hashes go on to the full match.
    pub services: Option<Vec<u64>>,
    /// Each Action pattern, lower-cased with its shape.
    pub actions: Vec<matching::ActionPattern>,
    /// Each NotAction pattern, likewise.
    pub not_actions: Vec<matching::ActionPattern>,
    pub resources: Vec<matching::CompiledArn>,
    pub not_resources: Vec<matching::CompiledArn>,
}

impl Compiled {
    fn new(
        action: &Option<Vec<String>>,
        not_action: &Option<Vec<String>>,
        resource: &Option<Vec<String>>,
        not_resource: &Option<Vec<String>>,
    ) -> Compiled {
        let patterns = |a: &Option<Vec<String>>| a.iter().flatten().map(|p| matching::ActionPattern::new(p)).collect();
        let services = action.as_ref().and_then(|list| {
            let mut out = Vec::new();
            for a in list {
                let (svc, _) = a.split_once(':')?;
                if svc.contains(['*', '?']) {
                    return None;
                }
                out.push(service_hash(svc));
            }
            Some(out)
        });
        let compile = |r: &Option<Vec<String>>| r.iter().flatten().map(|p| matching::CompiledArn::new(p)).collect();
        Compiled {
            services,
            actions: patterns(action),
            not_actions: patterns(not_action),
            resources: compile(resource),
            not_resources: compile(not_resource),
        }
    }

    /// The request's service (its `service_hash`) may match one of the Action patterns.
    #[inline]
    pub fn may_match_service(&self, service: u64) -> bool {
        self.services.as_ref().is_none_or(|s| s.contains(&service))
    }
}

/// FNV-1a of a service prefix, ASCII-lower-cased: the service prefilter's key.
pub fn service_hash(service: &str) -> u64 {
    service.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ u64::from(b.to_ascii_lowercase())).wrapping_mul(0x100_0000_01b3))
}

impl Statement {
    /// `statement 2 (Sid "ReadInput")` — how errors and traces name a statement.
    pub fn label(&self) -> String {
        label(self.index, self.sid.as_deref())
    }
}

fn label(index: usize, sid: Option<&str>) -> String {
    match sid {
        Some(s) => format!("statement {index} (Sid {s:?})"),
        None => format!("statement {index}"),
    }
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Policy {
    pub version: Option<String>,
    pub id: Option<String>,
    pub statements: Vec<Statement>,
}

/// Which kind of document is expected: resource-based policies (trust, bucket, key policies)
/// need a Principal; identity policies must not have one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Identity,
    Resource,
}

/// Decodes a document that may be URL-encoded (as IAM returns trust and inline policies).
pub fn decode_document(text: &str) -> String {
    let t = text.trim_start();
    if t.starts_with('{') {
        return text.to_string();
    }
    // IAM returns documents "URL-encoded compliant with RFC 3986" (GetRolePolicy,
    // GetPolicyVersion, GetRole's AssumeRolePolicyDocument): a space is %20 and `+` is a literal
    // plus, so only percent-escapes are decoded (form encoding's `+` for space does not apply).
    percent_encoding::percent_decode_str(text).decode_utf8_lossy().into_owned()
}

impl Policy {
    /// Parses a policy from text (plain or URL-encoded JSON).
    pub fn parse_str(text: &str, kind: Kind) -> Result<Policy, PolicyError> {
        let decoded = decode_document(text);
        let value: Value =
            serde_json::from_str(&decoded).map_err(|e| perr(format!("line {} column {}", e.line(), e.column()), format!("not valid JSON: {e}")))?;
        Policy::from_value(&value, kind)
    }

    pub fn from_value(value: &Value, kind: Kind) -> Result<Policy, PolicyError> {
        let obj = value.as_object().ok_or_else(|| perr("document", "a policy is a JSON object"))?;
        for key in obj.keys() {
            if !matches!(key.as_str(), "Version" | "Id" | "Statement") {
                return Err(perr("document", format!("unknown top-level element {key:?} (expected Version, Id, Statement)")));
            }
        }
        let version = match obj.get("Version") {
            None => None,
            Some(Value::String(v)) if v == "2012-10-17" || v == "2008-10-17" => Some(v.clone()),
            Some(v) => return Err(perr("Version", format!("must be \"2012-10-17\" or \"2008-10-17\", not {v}"))),
        };
        let id = match obj.get("Id") {
            None => None,
            Some(Value::String(v)) => Some(v.clone()),
            Some(v) => return Err(perr("Id", format!("must be a string, not {v}"))),
        };
        let raw = match obj.get("Statement") {
            Some(Value::Array(a)) => a.iter().collect::<Vec<_>>(),
            Some(v @ Value::Object(_)) => vec![v],
            Some(v) => return Err(perr("Statement", format!("must be an object or an array of objects, not {v}"))),
            None => return Err(perr("document", "missing Statement")),
        };
        if raw.is_empty() {
            return Err(perr("Statement", "has no statements"));
        }
        let mut statements = Vec::with_capacity(raw.len());
        let mut sids = std::collections::HashSet::new();
        for (i, st) in raw.into_iter().enumerate() {
            let s = parse_statement(i, st, kind)?;
            if let Some(sid) = &s.sid {
                if !sids.insert(sid.clone()) {
                    return Err(perr(s.label(), "Sid repeats an earlier statement's Sid; Sids must be unique in a policy"));
                }
            }
            statements.push(s);
        }
        Ok(Policy { version, id, statements })
    }

    /// Finds a statement by Sid.
    pub fn statement(&self, sid: &str) -> Option<&Statement> {
        self.statements.iter().find(|s| s.sid.as_deref() == Some(sid))
    }
}

fn string_list(v: &Value, at: &str, field: &str) -> Result<Vec<String>, PolicyError> {
    match v {
        Value::String(s) => Ok(vec![s.clone()]),
        Value::Array(a) if !a.is_empty() => a
            .iter()
            .map(|x| match x {
                Value::String(s) => Ok(s.clone()),
                other => Err(perr(format!("{at}, {field}"), format!("values must be strings, not {other}"))),
            })
            .collect(),
        Value::Array(_) => Err(perr(format!("{at}, {field}"), "must not be an empty list")),
        other => Err(perr(format!("{at}, {field}"), format!("must be a string or a list of strings, not {other}"))),
    }
}

fn parse_principal(v: &Value, at: &str, field: &str) -> Result<Principal, PolicyError> {
    match v {
        Value::String(s) if s == "*" => Ok(Principal::Any),
        Value::Object(m) => {
            let mut out = BTreeMap::new();
            for (k, vals) in m {
                if !matches!(k.as_str(), "AWS" | "Service" | "Federated" | "CanonicalUser") {
                    return Err(perr(
                        format!("{at}, {field}"),
                        format!("unknown principal type {k:?} (expected AWS, Service, Federated or CanonicalUser)"),
                    ));
                }
                out.insert(k.clone(), string_list(vals, at, &format!("{field}.{k}"))?);
            }
            if out.is_empty() {
                return Err(perr(format!("{at}, {field}"), "names no principal"));
            }
            Ok(Principal::Map(out))
        }
        other => {
            Err(perr(format!("{at}, {field}"), format!("must be \"*\" or an object such as {{\"Service\": \"bedrock.amazonaws.com\"}}, not {other}")))
        }
    }
}

fn parse_statement(index: usize, v: &Value, kind: Kind) -> Result<Statement, PolicyError> {
    let obj = v.as_object().ok_or_else(|| perr(label(index, None), "a statement is a JSON object"))?;
    let sid = match obj.get("Sid") {
        None => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(other) => return Err(perr(label(index, None), format!("Sid must be a string, not {other}"))),
    };
    let at = label(index, sid.as_deref());
    for key in obj.keys() {
        if !matches!(
            key.as_str(),
            "Sid" | "Effect" | "Principal" | "NotPrincipal" | "Action" | "NotAction" | "Resource" | "NotResource" | "Condition"
        ) {
            return Err(perr(&at, format!("unknown element {key:?}")));
        }
    }
    let effect = match obj.get("Effect") {
        Some(Value::String(s)) if s == "Allow" => Effect::Allow,
        Some(Value::String(s)) if s == "Deny" => Effect::Deny,
        Some(other) => return Err(perr(format!("{at}, Effect"), format!("must be \"Allow\" or \"Deny\", not {other}"))),
        None => return Err(perr(&at, "missing Effect")),
    };
    let principal = obj.get("Principal").map(|p| parse_principal(p, &at, "Principal")).transpose()?;
    let not_principal = obj.get("NotPrincipal").map(|p| parse_principal(p, &at, "NotPrincipal")).transpose()?;
    let action = obj.get("Action").map(|a| string_list(a, &at, "Action")).transpose()?;
    let not_action = obj.get("NotAction").map(|a| string_list(a, &at, "NotAction")).transpose()?;
    let resource = obj.get("Resource").map(|a| string_list(a, &at, "Resource")).transpose()?;
    let not_resource = obj.get("NotResource").map(|a| string_list(a, &at, "NotResource")).transpose()?;

    match (&action, &not_action) {
        (None, None) => return Err(perr(&at, "missing Action (or NotAction)")),
        (Some(_), Some(_)) => return Err(perr(&at, "has both Action and NotAction")),
        _ => {}
    }
    for a in action.iter().chain(not_action.iter()).flatten() {
        if a != "*" && !a.contains(':') {
            return Err(perr(format!("{at}, Action"), format!("{a:?} is not of the form service:Action")));
        }
    }
    if resource.is_some() && not_resource.is_some() {
        return Err(perr(&at, "has both Resource and NotResource"));
    }
    if principal.is_some() && not_principal.is_some() {
        return Err(perr(&at, "has both Principal and NotPrincipal"));
    }
    match kind {
        Kind::Identity => {
            if principal.is_some() || not_principal.is_some() {
                return Err(perr(&at, "an identity policy statement may not have a Principal"));
            }
            if resource.is_none() && not_resource.is_none() {
                return Err(perr(&at, "missing Resource (or NotResource)"));
            }
        }
        Kind::Resource => {
            if principal.is_none() && not_principal.is_none() {
                return Err(perr(&at, "a resource-based policy statement needs a Principal"));
            }
        }
    }
    let mut conditions = Vec::new();
    if let Some(c) = obj.get("Condition") {
        let ops = c.as_object().ok_or_else(|| perr(format!("{at}, Condition"), "must be an object of operator: {key: value}"))?;
        for (op, block) in ops {
            let keys = block.as_object().ok_or_else(|| perr(format!("{at}, Condition.{op}"), "must be an object of key: value"))?;
            for (key, vals) in keys {
                let values = match vals {
                    Value::String(s) => vec![s.clone()],
                    Value::Bool(b) => vec![b.to_string()],
                    Value::Number(n) => vec![n.to_string()],
                    Value::Array(a) => a
                        .iter()
                        .map(|x| match x {
                            Value::String(s) => Ok(s.clone()),
                            Value::Bool(b) => Ok(b.to_string()),
                            Value::Number(n) => Ok(n.to_string()),
                            other => {
                                Err(perr(format!("{at}, Condition.{op}.{key}"), format!("values must be strings, numbers or booleans, not {other}")))
                            }
                        })
                        .collect::<Result<_, _>>()?,
                    other => return Err(perr(format!("{at}, Condition.{op}.{key}"), format!("must be a value or a list of values, not {other}"))),
                };
                conditions.push(Condition::new(op, key, values));
            }
        }
    }
    let compiled = Compiled::new(&action, &not_action, &resource, &not_resource);
    Ok(Statement { index, sid, effect, principal, not_principal, action, not_action, resource, not_resource, conditions, compiled })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_single_statement_object_and_url_encoded() {
        let doc = "%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%7B%22Effect%22%3A%22Allow%22%2C%22Principal%22%3A%7B%22Service%22%3A%22bedrock.amazonaws.com%22%7D%2C%22Action%22%3A%22sts%3AAssumeRole%22%7D%7D";
        let p = Policy::parse_str(doc, Kind::Resource).unwrap();
        assert_eq!(p.statements.len(), 1);
        assert_eq!(p.statements[0].principal.as_ref().unwrap().values("Service"), ["bedrock.amazonaws.com"]);
    }

    #[test]
    fn errors_name_statement_and_field() {
        let doc = r#"{"Version":"2012-10-17","Statement":[{"Sid":"A","Effect":"Allow","Action":"s3:GetObject","Resource":"*"},{"Sid":"B","Effect":"Permit","Action":"s3:GetObject","Resource":"*"}]}"#;
        let e = Policy::parse_str(doc, Kind::Identity).unwrap_err();
        assert_eq!(e.location, "statement 1 (Sid \"B\"), Effect");
        let doc = r#"{"Statement":[{"Effect":"Allow","Action":"s3:GetObject"}]}"#;
        assert!(Policy::parse_str(doc, Kind::Identity).unwrap_err().message.contains("missing Resource"));
        let doc = r#"{"Statement":[{"Effect":"Allow","Action":"GetObject","Resource":"*"}]}"#;
        assert!(Policy::parse_str(doc, Kind::Identity).unwrap_err().message.contains("service:Action"));
    }
}
