//! DeepSeek-R1: text completion.
//! AWS, "DeepSeek models" (https://docs.aws.amazon.com/bedrock/latest/userguide/model-parameters-deepseek.html):
//! request `prompt` (required), `temperature` ≤ 1, `top_p` ≤ 1, `max_tokens` 1–32,768, `stop`;
//! the page's example formats the prompt as
//! `<｜begin▁of▁sentence｜><｜User｜>{prompt}<｜Assistant｜><think>\n`. Response: `choices[]` of
//! `{text, stop_reason}` (no token counts in the body).

use serde_json::Value;

use super::{str_at, Answer, BodyOptions};

pub fn body(prompt: &str, system: Option<&str>, o: &BodyOptions) -> Value {
    let text = format!("<｜begin▁of▁sentence｜>{}<｜User｜>{prompt}<｜Assistant｜><think>\n", system.unwrap_or(""));
    super::prompt_body(text, "max_tokens", o)
}

pub fn read(out: &Value) -> Result<Answer, String> {
    let first = out.get("choices").and_then(Value::as_array).and_then(|a| a.first()).ok_or("no choices array (DeepSeek response)")?;
    Ok(Answer { text: str_at(first, &["text"]), stop_reason: str_at(first, &["stop_reason"]), ..Answer::default() })
}
