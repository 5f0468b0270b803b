//! Mistral AI models: text completion, the body every Mistral model on Bedrock takes.
//! AWS, "Mistral AI text completion"
//! (https://docs.aws.amazon.com/bedrock/latest/userguide/model-parameters-mistral-text-completion.html):
//! request `prompt` (required, `<s>[INST] … [/INST]`), `max_tokens`, `stop`, `temperature`,
//! `top_p`, `top_k`; response `outputs[]` of `{text, stop_reason}` (stop, length).
//! AWS, "Mistral AI chat completion" (…/model-parameters-mistral-chat-completion.html): response
//! `choices[]` of `{index, message: {role, content}, stop_reason}`; read too, for records built
//! with `messages`. Neither response carries token counts (they stay empty; the job's
//! `manifest.json.out` still totals them).
//! `validate`'s reading of either request (`check`) is below the readers.

use serde::Deserialize;
use serde_json::Value;

use super::answer::{str_at, Answer};
use super::body::BodyOptions;
use super::diags::Code;
use super::limits::Limits;
use super::shapes::{chat_messages, max_output, LineResult, Number, RoleContent, Text};

pub fn body(prompt: &str, system: Option<&str>, o: &BodyOptions) -> Value {
    let text = match system {
        Some(s) => format!("<s>[INST] {s}\n\n{prompt} [/INST]"),
        None => format!("<s>[INST] {prompt} [/INST]"),
    };
    super::body::prompt_body(text, "max_tokens", o)
}

pub fn read(out: &Value) -> Result<Answer, String> {
    if let Some(first) = out.get("outputs").and_then(Value::as_array).and_then(|a| a.first()) {
        return Ok(Answer { text: str_at(first, &["text"]), stop_reason: str_at(first, &["stop_reason"]), ..Answer::default() });
    }
    if let Some(first) = out.get("choices").and_then(Value::as_array).and_then(|a| a.first()) {
        return Ok(Answer { text: str_at(first, &["message", "content"]), stop_reason: str_at(first, &["stop_reason"]), ..Answer::default() });
    }
    Err("no outputs or choices array (Mistral AI response)".into())
}

// ------------------------------------------------------------------------------ validate

/// Mistral AI (AWS, "Mistral AI chat completion": `messages` of `{role: system|user|assistant|
/// tool, content: str}`, `tools`, `tool_choice` auto|any|none, `max_tokens`, `top_p`,
/// `temperature`; "Mistral AI text completion": `prompt` (required), `max_tokens`, `stop`,
/// `temperature`, `top_p`, `top_k`).
#[derive(Deserialize)]
pub(crate) struct MistralInput<'a> {
    #[serde(borrow)]
    prompt: Option<Text<'a>>,
    #[serde(borrow)]
    messages: Option<Vec<RoleContent<'a>>>,
    max_tokens: Option<Number>,
    #[serde(borrow)]
    tool_choice: Option<Text<'a>>,
}

/// `validate`'s rules for a Mistral record, chat or text completion; Ok: its `max_tokens`.
pub(crate) fn check(limits: &Limits, m: MistralInput) -> LineResult {
    match (&m.prompt, &m.messages) {
        (Some(_), Some(_)) => return Err((Code::WrongShape, "give prompt (text completion) or messages (chat), not both".into())),
        (None, None) => return Err((Code::WrongShape, "prompt (text completion) or messages (chat) is required".into())),
        (Some(p), None) if p.is_empty() => return Err((Code::WrongShape, "prompt must be a non-empty string".into())),
        (Some(_), None) => {}
        (None, Some(_)) => {
            chat_messages(&m.messages, &["system", "user", "assistant", "tool"])?;
            if let Some(tc) = m.tool_choice.as_deref().filter(|t| !matches!(*t, "auto" | "any" | "none")) {
                return Err((Code::WrongShape, format!("tool_choice must be auto, any or none, not {tc:?}")));
            }
        }
    }
    max_output(limits, "max_tokens", &m.max_tokens, None)
}
