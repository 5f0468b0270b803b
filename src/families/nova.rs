//! Amazon Nova understanding models (Micro, Lite, Pro, Premier, Nova 2): the InvokeModel body.
//! Amazon Nova User Guide, "Complete request schema":
//! https://docs.aws.amazon.com/nova/latest/userguide/complete-request-schema.html
//! Request: `schemaVersion` "messages-v1", `system` `[{"text"}]`, `messages` of `{role,
//! content: [{"text"}]}`, `inferenceConfig` `{maxTokens, temperature, topP}`. Response (same
//! page, "Response"): `output.message.content[].text`, `stopReason` (end_turn, max_tokens,
//! stop_sequence, …), `usage.inputTokens`, `usage.outputTokens`.
//! `validate`'s reading of the request (`check`) is below the reader.

use serde::Deserialize;
use serde_json::{json, Value};

use super::answer::Answer;
use super::body::BodyOptions;
use super::converse;
use super::limits::Limits;
use super::shapes::{inference, messages_blocks, InferenceConfig, LineResult, NovaMessage};

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

// ------------------------------------------------------------------------------ validate

/// Nova's request as `validate` reads it (the page above): `messages` of content blocks and
/// `inferenceConfig`; other keys (`schemaVersion`, `system`, `toolConfig`) pass.
#[derive(Deserialize)]
pub(crate) struct NovaInput<'a> {
    #[serde(borrow)]
    messages: Option<Vec<NovaMessage<'a>>>,
    #[serde(rename = "inferenceConfig")]
    inference_config: Option<InferenceConfig>,
}

/// Nova content blocks (the page above, "messages").
const NOVA_BLOCKS: &[&str] = &["text", "image", "video", "document", "toolUse", "toolResult"];

/// `validate`'s rules for a Nova record; Ok: its `maxTokens` (0 when it declares none).
pub(crate) fn check(limits: &Limits, m: NovaInput) -> LineResult {
    messages_blocks(m.messages.as_deref().unwrap_or_default(), NOVA_BLOCKS)?;
    inference(limits, &m.inference_config)
}
