//! Anthropic Claude: the Messages API body on Bedrock, and its response.
//! AWS, "Anthropic Claude Messages API":
//! https://docs.aws.amazon.com/bedrock/latest/userguide/model-parameters-anthropic-claude-messages.html
//! Request: `anthropic_version` "bedrock-2023-05-31", `max_tokens` (required), `system`,
//! `messages` of `{role, content}` with content blocks `{"type":"text","text"}`, `temperature`,
//! `top_p`. Response: `content` blocks, `stop_reason` (end_turn, max_tokens, stop_sequence,
//! tool_use), `usage.input_tokens`, `usage.output_tokens`.

use serde_json::{json, Value};

use super::{join_text, sampling, str_at, u64_at, Answer, BodyOptions};

pub const VERSION: &str = "bedrock-2023-05-31";

pub fn body(prompt: &str, system: Option<&str>, o: &BodyOptions) -> Value {
    let mut b = serde_json::Map::new();
    b.insert("anthropic_version".into(), VERSION.into());
    b.insert("max_tokens".into(), o.max_tokens.into());
    if let Some(s) = system {
        b.insert("system".into(), s.into());
    }
    b.insert("messages".into(), json!([{"role": "user", "content": [{"type": "text", "text": prompt}]}]));
    sampling(&mut b, o, "temperature", "top_p");
    Value::Object(b)
}

pub fn read(out: &Value) -> Result<Answer, String> {
    let blocks = out.get("content").and_then(Value::as_array).ok_or("no content array (Anthropic Messages response)")?;
    Ok(Answer {
        text: join_text(blocks, true),
        stop_reason: str_at(out, &["stop_reason"]),
        input_tokens: u64_at(out, &["usage", "input_tokens"]),
        output_tokens: u64_at(out, &["usage", "output_tokens"]),
        embedding: None,
    })
}
