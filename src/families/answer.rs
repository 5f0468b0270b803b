//! What a family's reader makes of one output line ([`Answer`]), and the helpers the families'
//! `read` functions share (joined text blocks, a string or number at a path, a vector of numbers).

use serde::Serialize;
use serde_json::Value;

/// What one output line's `modelOutput` says, read the way the family's page documents it.
/// A field the family's output does not carry (Mistral's token usage, say) stays None.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Answer {
    pub text: Option<String>,
    pub stop_reason: Option<String>,
    pub input_tokens: Option<u64>,
    pub output_tokens: Option<u64>,
    pub embedding: Option<Vec<f64>>,
}

/// Joins the `text` of content blocks (Anthropic's `{"type":"text","text"}`, Converse's `{"text"}`),
/// skipping other blocks (reasoning, tool use).
pub(crate) fn join_text(blocks: &[Value], typed: bool) -> Option<String> {
    let mut out: Option<String> = None;
    for b in blocks {
        if typed && b.get("type").and_then(Value::as_str) != Some("text") {
            continue;
        }
        if let Some(t) = b.get("text").and_then(Value::as_str) {
            out.get_or_insert_with(String::new).push_str(t);
        }
    }
    out
}

pub(crate) fn str_at(v: &Value, path: &[&str]) -> Option<String> {
    let mut cur = v;
    for p in path {
        cur = cur.get(p)?;
    }
    cur.as_str().map(String::from)
}

pub(crate) fn u64_at(v: &Value, path: &[&str]) -> Option<u64> {
    let mut cur = v;
    for p in path {
        cur = cur.get(p)?;
    }
    cur.as_u64()
}

/// A vector of numbers, or why not.
pub(crate) fn floats(v: Option<&Value>, what: &str) -> Result<Vec<f64>, String> {
    let arr = v.and_then(Value::as_array).ok_or_else(|| format!("no {what} array in the output"))?;
    arr.iter().map(|x| x.as_f64().ok_or_else(|| format!("{what}: {x} is not a number"))).collect()
}
