//! plan: the rendered documents against the live ones. Pure functions here (normalise, merge
//! by Sid, diff); `apply.rs` reads the live state and makes the calls.
//!
//! Documents someone else wrote are merged, never replaced: our statements (stable Sids) are
//! added or updated in the role's trust policy and in bucket policies, and every other
//! statement is kept exactly as it was. The role's permissions and the caller's PassRole policy
//! are inline policies of our own, under stable names.

use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use similar::TextDiff;

/// Inline policy names bedbatch-doctor owns.
pub const ROLE_POLICY_NAME: &str = "bedbatch-doctor-service-role";
pub const CALLER_POLICY_NAME: &str = "bedbatch-doctor-passrole";
pub const MANAGED_BY: (&str, &str) = ("managed-by", "bedbatch-doctor");

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Action {
    Create,
    Update,
    Unchanged,
    /// Cannot be written by the tool (an IAM Identity Center role): shown for a person to add.
    Manual,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "kind")]
pub enum Target {
    /// The service role (created with its trust policy) or its trust policy.
    Role {
        name: String,
        path: String,
        arn: String,
    },
    RolePolicy {
        role: String,
        policy_name: String,
    },
    Bucket {
        name: String,
    },
    BucketPolicy {
        bucket: String,
    },
    CallerPolicy {
        principal_arn: String,
        principal_kind: String,
        name: String,
        policy_name: String,
    },
}

#[derive(Debug, Clone, Serialize)]
pub struct Change {
    pub action: Action,
    pub target: Target,
    /// One line: what and where.
    pub title: String,
    /// The live document, if any.
    pub before: Option<Value>,
    /// The document that will be written (None for a bucket, which has none).
    pub after: Option<Value>,
    /// Unified diff of the normalised documents ("" when unchanged).
    pub diff: String,
}

// ------------------------------------------------------------------------------------ normalise

fn as_sorted_list(v: &Value) -> Value {
    let mut items: Vec<Value> = match v {
        Value::Array(a) => a.iter().map(scalar_string).collect(),
        other => vec![scalar_string(other)],
    };
    items.sort_by_key(|a| a.to_string());
    items.dedup();
    Value::Array(items)
}

fn scalar_string(v: &Value) -> Value {
    match v {
        Value::Bool(b) => Value::String(b.to_string()),
        Value::Number(n) => Value::String(n.to_string()),
        other => other.clone(),
    }
}

fn sort_keys(v: &Value) -> Value {
    match v {
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            let mut out = Map::new();
            for k in keys {
                out.insert(k.clone(), sort_keys(&m[k]));
            }
            Value::Object(out)
        }
        Value::Array(a) => Value::Array(a.iter().map(sort_keys).collect()),
        other => other.clone(),
    }
}

/// Canonical form of a policy: keys sorted; Action/Resource/principal/condition values as
/// sorted lists; Statement always a list; `"Principal": {"AWS": "*"}` kept distinct from `"*"`.
pub fn normalise(doc: &Value) -> Value {
    let Some(obj) = doc.as_object() else { return doc.clone() };
    let mut out = obj.clone();
    if let Some(st) = obj.get("Statement") {
        let list: Vec<Value> = match st {
            Value::Array(a) => a.clone(),
            other => vec![other.clone()],
        };
        let list: Vec<Value> = list
            .iter()
            .map(|s| {
                let Some(m) = s.as_object() else { return s.clone() };
                let mut n = m.clone();
                for k in ["Action", "NotAction", "Resource", "NotResource"] {
                    if let Some(v) = m.get(k) {
                        n.insert(k.into(), as_sorted_list(v));
                    }
                }
                for k in ["Principal", "NotPrincipal"] {
                    if let Some(Value::Object(p)) = m.get(k) {
                        n.insert(k.into(), Value::Object(p.iter().map(|(t, v)| (t.clone(), as_sorted_list(v))).collect()));
                    }
                }
                if let Some(Value::Object(c)) = m.get("Condition") {
                    let cond: Map<String, Value> = c
                        .iter()
                        .map(|(op, block)| {
                            let b = match block {
                                Value::Object(keys) => Value::Object(keys.iter().map(|(k, v)| (k.clone(), as_sorted_list(v))).collect()),
                                other => other.clone(),
                            };
                            (op.clone(), b)
                        })
                        .collect();
                    n.insert("Condition".into(), Value::Object(cond));
                }
                Value::Object(n)
            })
            .collect();
        out.insert("Statement".into(), Value::Array(list));
    }
    sort_keys(&Value::Object(out))
}

/// Parses a live document that may be URL-encoded.
pub fn parse_live(text: &str) -> Value {
    let decoded = crate::policy::decode_document(text);
    serde_json::from_str(&decoded).unwrap_or(Value::String(decoded))
}

pub fn same(a: &Value, b: &Value) -> bool {
    normalise(a) == normalise(b)
}

/// Unified diff of the normalised documents, three lines of context ("" when they are the same).
pub fn diff(before: Option<&Value>, after: Option<&Value>, label: &str) -> String {
    diff_with_context(before, after, label, 3)
}

/// The same diff with every line of both documents as context: the planned document appears
/// whole, once, its new lines marked `+` and the lines it drops marked `-`. `apply` shows this
/// before it writes, so every policy is on screen before any change without printing it twice.
pub fn whole_diff(before: Option<&Value>, after: Option<&Value>, label: &str) -> String {
    diff_with_context(before, after, label, usize::MAX / 4)
}

fn diff_with_context(before: Option<&Value>, after: Option<&Value>, label: &str, radius: usize) -> String {
    let render = |v: Option<&Value>| v.map(|v| serde_json::to_string_pretty(&normalise(v)).expect("serialises") + "\n").unwrap_or_default();
    let (a, b) = (render(before), render(after));
    if a == b {
        return String::new();
    }
    TextDiff::from_lines(&a, &b).unified_diff().context_radius(radius).header(&format!("{label} (live)"), &format!("{label} (planned)")).to_string()
}

// ------------------------------------------------------------------------------------ merge

fn statements(doc: &Value) -> Vec<Value> {
    match doc.get("Statement") {
        Some(Value::Array(a)) => a.clone(),
        Some(v @ Value::Object(_)) => vec![v.clone()],
        _ => vec![],
    }
}

/// Our statements merged into a live document by Sid: a live statement with one of our Sids is
/// replaced in place, ours that are new are appended, every other statement is kept exactly.
pub fn merge_by_sid(live: Option<&Value>, ours: &Value) -> Value {
    let Some(live) = live.filter(|l| l.is_object()) else { return ours.clone() };
    let mine = statements(ours);
    let mut out: Vec<Value> = Vec::new();
    let mut used = vec![false; mine.len()];
    for st in statements(live) {
        let sid = st.get("Sid").and_then(Value::as_str);
        match sid.and_then(|s| mine.iter().position(|m| m.get("Sid").and_then(Value::as_str) == Some(s))) {
            Some(i) => {
                out.push(mine[i].clone());
                used[i] = true;
            }
            None => out.push(st),
        }
    }
    for (i, m) in mine.into_iter().enumerate() {
        if !used[i] {
            out.push(m);
        }
    }
    let mut doc = live.as_object().cloned().unwrap_or_default();
    doc.insert("Version".into(), json!("2012-10-17"));
    doc.insert("Statement".into(), Value::Array(out));
    Value::Object(doc)
}

/// An AWS IAM Identity Center role, which no one but Identity Center may edit.
pub fn is_sso_role(name: &str) -> bool {
    name.starts_with("AWSReservedSSO_")
}

/// The change for one document.
pub fn change(target: Target, title: String, before: Option<Value>, after: Value, exists: bool) -> Change {
    let action = if !exists {
        Action::Create
    } else if before.as_ref().is_some_and(|b| same(b, &after)) {
        Action::Unchanged
    } else {
        Action::Update
    };
    let diff = if action == Action::Unchanged { String::new() } else { diff(before.as_ref(), Some(&after), &title) };
    Change { action, target, title, before, after: Some(after), diff }
}

#[derive(Debug, Default, Serialize)]
pub struct Counts {
    pub create: usize,
    pub update: usize,
    pub unchanged: usize,
    pub manual: usize,
}

pub fn counts(changes: &[Change]) -> Counts {
    let mut c = Counts::default();
    for ch in changes {
        match ch.action {
            Action::Create => c.create += 1,
            Action::Update => c.update += 1,
            Action::Unchanged => c.unchanged += 1,
            Action::Manual => c.manual += 1,
        }
    }
    c
}

pub fn summary_line(changes: &[Change]) -> String {
    let c = counts(changes);
    let mut s = format!("Plan: {} to create, {} to update, {} unchanged", c.create, c.update, c.unchanged);
    if c.manual > 0 {
        s.push_str(&format!(", {} to add by hand", c.manual));
    }
    s.push('.');
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_order_and_list_form_are_not_changes() {
        let a = json!({"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "s3:GetObject", "Resource": ["arn:aws:s3:::b/*"]}});
        let b = json!({"Statement": [{"Resource": "arn:aws:s3:::b/*", "Action": ["s3:GetObject"], "Effect": "Allow"}], "Version": "2012-10-17"});
        assert!(same(&a, &b));
        assert_eq!(diff(Some(&a), Some(&b), "x"), "");
        let c = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:PutObject", "Resource": "*"}]});
        assert!(!same(&a, &c));
        assert!(diff(Some(&a), Some(&c), "x").contains("+"));
    }

    #[test]
    fn merge_keeps_foreign_statements_and_replaces_ours() {
        let live = json!({"Version": "2012-10-17", "Statement": [
            {"Sid": "Theirs", "Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "arn:aws:s3:::b/*", "Condition": {"Bool": {"aws:SecureTransport": "false"}}},
            {"Sid": "BedrockBatchReadInput", "Effect": "Allow", "Principal": {"AWS": "x"}, "Action": "s3:GetObject", "Resource": "old"}
        ]});
        let ours = json!({"Version": "2012-10-17", "Statement": [
            {"Sid": "BedrockBatchReadInput", "Effect": "Allow", "Principal": {"AWS": "role"}, "Action": "s3:GetObject", "Resource": "new"},
            {"Sid": "BedrockBatchListInput", "Effect": "Allow", "Principal": {"AWS": "role"}, "Action": "s3:ListBucket", "Resource": "b"}
        ]});
        let merged = merge_by_sid(Some(&live), &ours);
        let st = merged["Statement"].as_array().unwrap();
        assert_eq!(st.len(), 3);
        assert_eq!(st[0], live["Statement"][0]);
        assert_eq!(st[1]["Resource"], "new");
        assert_eq!(st[2]["Sid"], "BedrockBatchListInput");
        // Merging again changes nothing.
        assert!(same(&merge_by_sid(Some(&merged), &ours), &merged));
    }
}
