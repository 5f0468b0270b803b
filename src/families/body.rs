//! The generation settings a family's request body is built with ([`BodyOptions`]), and the
//! helpers the families' `body` functions share (the text-completion body, the sampling keys).

use serde::Serialize;
use serde_json::Value;

/// The generation settings of a built body.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, serde::Deserialize)]
pub struct BodyOptions {
    pub max_tokens: u64,
    pub temperature: Option<f64>,
    pub top_p: Option<f64>,
}

/// `prepare`'s default output ceiling: stated (in `--help` and the report), never silently the
/// model's maximum.
pub const DEFAULT_MAX_TOKENS: u64 = 1024;

/// A text-completion body: `prompt`, the output ceiling under the family's name, and
/// `temperature`/`top_p` when set (Mistral's and DeepSeek's bodies have this shape).
pub(crate) fn prompt_body(prompt: String, max_tokens_key: &str, o: &BodyOptions) -> Value {
    let mut b = serde_json::Map::new();
    b.insert("prompt".into(), prompt.into());
    b.insert(max_tokens_key.into(), o.max_tokens.into());
    sampling(&mut b, o, "temperature", "top_p");
    Value::Object(b)
}

/// Adds temperature and top_p under the family's own names when set.
pub(crate) fn sampling(body: &mut serde_json::Map<String, Value>, o: &BodyOptions, temperature: &str, top_p: &str) {
    if let Some(t) = o.temperature {
        body.insert(temperature.into(), t.into());
    }
    if let Some(p) = o.top_p {
        body.insert(top_p.into(), p.into());
    }
}
