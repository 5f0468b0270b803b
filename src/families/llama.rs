//! Meta Llama 3.x and 4 text generation.
//! AWS, "Meta Llama models" (https://docs.aws.amazon.com/bedrock/latest/userguide/model-parameters-meta.html):
//! request `prompt` (required; Llama 3's instruction format, as in AWS's own example
//! awsdocs/aws-doc-sdk-examples `llama3_invoke_model.py`), `temperature`, `top_p`,
//! `max_gen_len`; response `generation`, `prompt_token_count`, `generation_token_count`,
//! `stop_reason` (stop, length).
//! `validate`'s reading of the request (`check`) is below the reader.

use serde::Deserialize;
use serde_json::Value;

use super::answer::{str_at, u64_at, Answer};
use super::body::BodyOptions;
use super::diags::Code;
use super::limits::Limits;
use super::shapes::{max_output, LineResult, Number, Text};

/// Llama 3's chat template: a system header when given, the user turn, and the open assistant turn.
pub fn prompt_text(prompt: &str, system: Option<&str>) -> String {
    let mut p = String::from("<|begin_of_text|>");
    if let Some(s) = system {
        p.push_str("<|start_header_id|>system<|end_header_id|>\n\n");
        p.push_str(s);
        p.push_str("<|eot_id|>");
    }
    p.push_str("<|start_header_id|>user<|end_header_id|>\n\n");
    p.push_str(prompt);
    p.push_str("<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n");
    p
}

pub fn body(prompt: &str, system: Option<&str>, o: &BodyOptions) -> Value {
    super::body::prompt_body(prompt_text(prompt, system), "max_gen_len", o)
}

pub fn read(out: &Value) -> Result<Answer, String> {
    let text = str_at(out, &["generation"]).ok_or("no generation (Meta Llama response)")?;
    Ok(Answer {
        text: Some(text),
        stop_reason: str_at(out, &["stop_reason"]),
        input_tokens: u64_at(out, &["prompt_token_count"]),
        output_tokens: u64_at(out, &["generation_token_count"]),
        embedding: None,
    })
}

// ------------------------------------------------------------------------------ validate

/// Llama's request as `validate` reads it (the page above): `prompt` (required) and
/// `max_gen_len`; `temperature` and `top_p` pass.
#[derive(Deserialize)]
pub(crate) struct LlamaInput<'a> {
    #[serde(borrow)]
    prompt: Option<Text<'a>>,
    max_gen_len: Option<Number>,
}

/// `validate`'s rules for a Llama record; Ok: its `max_gen_len` (0 when it declares none).
pub(crate) fn check(limits: &Limits, m: LlamaInput) -> LineResult {
    match m.prompt.as_deref() {
        Some(p) if !p.is_empty() => {}
        _ => return Err((Code::WrongShape, "prompt must be a non-empty string".into())),
    }
    max_output(limits, "max_gen_len", &m.max_gen_len, None)
}
