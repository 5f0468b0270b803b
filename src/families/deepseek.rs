//! DeepSeek-R1: text completion.
//! AWS, "DeepSeek models" (https://docs.aws.amazon.com/bedrock/latest/userguide/model-parameters-deepseek.html):
//! request `prompt` (required), `temperature` ≤ 1, `top_p` ≤ 1, `max_tokens` 1–32,768, `stop`;
//! the page's example formats the prompt as
//! `<｜begin▁of▁sentence｜><｜User｜>{prompt}<｜Assistant｜><think>\n`. Response: `choices[]` of
//! `{text, stop_reason}` (no token counts in the body).
//! `validate`'s reading of the request (`check`) is below the reader.

use serde::Deserialize;
use serde_json::Value;

use super::answer::{str_at, Answer};
use super::body::BodyOptions;
use super::diags::Code;
use super::limits::Limits;
use super::shapes::{max_output, LineResult, Number, Text};

pub fn body(prompt: &str, system: Option<&str>, o: &BodyOptions) -> Value {
    let text = format!("<｜begin▁of▁sentence｜>{}<｜User｜>{prompt}<｜Assistant｜><think>\n", system.unwrap_or(""));
    super::body::prompt_body(text, "max_tokens", o)
}

pub fn read(out: &Value) -> Result<Answer, String> {
    let first = out.get("choices").and_then(Value::as_array).and_then(|a| a.first()).ok_or("no choices array (DeepSeek response)")?;
    Ok(Answer { text: str_at(first, &["text"]), stop_reason: str_at(first, &["stop_reason"]), ..Answer::default() })
}

// ------------------------------------------------------------------------------ validate

/// DeepSeek-R1 (AWS, "DeepSeek models", text completion): `prompt` (required), `temperature`
/// and `top_p` at most 1, `max_tokens` 1 to 32,768, `stop` at most 10 strings.
#[derive(Deserialize)]
pub(crate) struct DeepSeekInput<'a> {
    #[serde(borrow)]
    prompt: Option<Text<'a>>,
    max_tokens: Option<Number>,
    temperature: Option<f64>,
    top_p: Option<f64>,
    #[serde(borrow)]
    stop: Option<Vec<Text<'a>>>,
}

/// `validate`'s rules for a DeepSeek-R1 record; Ok: its `max_tokens` (at most 32,768).
pub(crate) fn check(limits: &Limits, m: DeepSeekInput) -> LineResult {
    match m.prompt.as_deref() {
        Some(p) if !p.is_empty() => {}
        _ => return Err((Code::WrongShape, "prompt must be a non-empty string".into())),
    }
    for (name, v) in [("temperature", m.temperature), ("top_p", m.top_p)] {
        if let Some(v) = v.filter(|v| !(0.0..=1.0).contains(v)) {
            return Err((Code::WrongShape, format!("{name} must be between 0 and 1, not {v}")));
        }
    }
    if m.stop.as_ref().is_some_and(|s| s.len() > 10) {
        return Err((Code::WrongShape, "stop takes at most 10 strings".into()));
    }
    max_output(limits, "max_tokens", &m.max_tokens, Some(32_768))
}
