//! OpenAI gpt-oss: the Chat Completions body.
//! AWS, "OpenAI models" (https://docs.aws.amazon.com/bedrock/latest/userguide/model-parameters-openai.html):
//! "For information about the parameters in the request body … see Create chat completion in the
//! OpenAI documentation": request `messages` of `{role: system|user|…, content}`,
//! `max_completion_tokens`, `temperature`, `top_p`; response `choices[]` of `{index, message:
//! {role, content}, finish_reason}` and `usage` `{prompt_tokens, completion_tokens, total_tokens}`.

use serde_json::{json, Value};

use super::{str_at, u64_at, Answer, BodyOptions};

pub fn body(prompt: &str, system: Option<&str>, o: &BodyOptions) -> Value {
    let mut messages = Vec::new();
    if let Some(s) = system {
        messages.push(json!({"role": "system", "content": s}));
    }
    messages.push(json!({"role": "user", "content": prompt}));
    let mut b = serde_json::Map::new();
    b.insert("messages".into(), Value::Array(messages));
    b.insert("max_completion_tokens".into(), o.max_tokens.into());
    super::sampling(&mut b, o, "temperature", "top_p");
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
