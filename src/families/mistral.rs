//! Mistral AI models: text completion, the body every Mistral model on Bedrock takes.
//! AWS, "Mistral AI text completion"
//! (https://docs.aws.amazon.com/bedrock/latest/userguide/model-parameters-mistral-text-completion.html):
//! request `prompt` (required, `<s>[INST] … [/INST]`), `max_tokens`, `stop`, `temperature`,
//! `top_p`, `top_k`; response `outputs[]` of `{text, stop_reason}` (stop, length).
//! AWS, "Mistral AI chat completion" (…/model-parameters-mistral-chat-completion.html): response
//! `choices[]` of `{index, message: {role, content}, stop_reason}`; read too, for records built
//! with `messages`. Neither response carries token counts (they stay empty; the job's
//! `manifest.json.out` still totals them).

use serde_json::Value;

use super::{str_at, Answer, BodyOptions};

pub fn body(prompt: &str, system: Option<&str>, o: &BodyOptions) -> Value {
    let text = match system {
        Some(s) => format!("<s>[INST] {s}\n\n{prompt} [/INST]"),
        None => format!("<s>[INST] {prompt} [/INST]"),
    };
    super::prompt_body(text, "max_tokens", o)
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
