//! OpenAI gpt-oss: the Chat Completions body.
//! AWS, "OpenAI models" (https://docs.aws.amazon.com/bedrock/latest/userguide/model-parameters-openai.html):
//! "For information about the parameters in the request body … see Create chat completion in the
//! OpenAI documentation": request `messages` of `{role: system|user|…, content}`,
//! `max_completion_tokens`, `temperature`, `top_p`; response `choices[]` of `{index, message:
//! {role, content}, finish_reason}` and `usage` `{prompt_tokens, completion_tokens, total_tokens}`.
//! `validate`'s reading of the request (`check`) is below the reader.

use serde::Deserialize;
use serde_json::{json, Value};

use super::answer::{str_at, u64_at, Answer};
use super::body::BodyOptions;
use super::diags::Code;
use super::limits::Limits;
use super::shapes::{chat_messages, max_output, LineResult, Number, RoleContent, Text};

pub fn body(prompt: &str, system: Option<&str>, o: &BodyOptions) -> Value {
    let mut messages = Vec::new();
    if let Some(s) = system {
        messages.push(json!({"role": "system", "content": s}));
    }
    messages.push(json!({"role": "user", "content": prompt}));
    let mut b = serde_json::Map::new();
    b.insert("messages".into(), Value::Array(messages));
    b.insert("max_completion_tokens".into(), o.max_tokens.into());
    super::body::sampling(&mut b, o, "temperature", "top_p");
    Value::Object(b)
}

pub fn read(out: &Value) -> Result<Answer, String> {
    let first = out.get("choices").and_then(Value::as_array).and_then(|a| a.first()).ok_or("no choices array (Chat Completions response)")?;
    Ok(Answer {
        text: str_at(first, &["message", "content"]),
        stop_reason: str_at(first, &["finish_reason"]),
        input_tokens: u64_at(out, &["usage", "prompt_tokens"]),
        output_tokens: u64_at(out, &["usage", "completion_tokens"]),
        embedding: None,
    })
}

// ------------------------------------------------------------------------------ validate

/// OpenAI gpt-oss (AWS, "OpenAI models": the request body is OpenAI's Create chat completion):
/// `messages` of `{role: developer|system|user|assistant|tool, content}`, `max_completion_tokens`
/// (or the older `max_tokens`), `reasoning_effort` low|medium|high. OpenAI's other fields pass.
#[derive(Deserialize)]
pub(crate) struct OpenAiInput<'a> {
    #[serde(borrow)]
    messages: Option<Vec<RoleContent<'a>>>,
    max_completion_tokens: Option<Number>,
    max_tokens: Option<Number>,
    #[serde(borrow)]
    reasoning_effort: Option<Text<'a>>,
}

/// `validate`'s rules for a gpt-oss record; Ok: its `max_completion_tokens`, else `max_tokens`.
pub(crate) fn check(limits: &Limits, m: OpenAiInput) -> LineResult {
    chat_messages(&m.messages, &["developer", "system", "user", "assistant", "tool"])?;
    if let Some(e) = m.reasoning_effort.as_deref().filter(|e| !matches!(*e, "low" | "medium" | "high")) {
        return Err((Code::WrongShape, format!("reasoning_effort must be low, medium or high, not {e:?}")));
    }
    match (&m.max_completion_tokens, &m.max_tokens) {
        (Some(_), _) => max_output(limits, "max_completion_tokens", &m.max_completion_tokens, None),
        (None, _) => max_output(limits, "max_tokens", &m.max_tokens, None),
    }
}
