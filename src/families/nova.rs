//! Amazon Nova understanding models (Micro, Lite, Pro, Premier, Nova 2): the InvokeModel body.
//! Amazon Nova User Guide, "Complete request schema":
//! https://docs.aws.amazon.com/nova/latest/userguide/complete-request-schema.html
//! Request: `schemaVersion` "messages-v1", `system` `[{"text"}]`, `messages` of `{role,
//! content: [{"text"}]}`, `inferenceConfig` `{maxTokens, temperature, topP}`. Response (same
//! page, "Response"): `output.message.content[].text`, `stopReason` (end_turn, max_tokens,
//! stop_sequence, …), `usage.inputTokens`, `usage.outputTokens`.

use serde_json::{json, Value};

use super::{converse, Answer, BodyOptions};

pub fn body(prompt: &str, system: Option<&str>, o: &BodyOptions) -> Value {
    let mut b = converse::body(prompt, system, o);
    if let Some(obj) = b.as_object_mut() {
        obj.insert("schemaVersion".into(), json!("messages-v1"));
    }
    b
}

/// Nova's response has the Converse response's shape (`output.message`, `stopReason`, `usage`).
pub fn read(out: &Value) -> Result<Answer, String> {
    converse::read(out)
}
