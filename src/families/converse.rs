//! The Converse format, for batch jobs whose `modelInvocationType` is `Converse` and for the
//! models no AWS page documents an InvokeModel body for.
//! AWS, "Format and upload your batch inference data": "If you use the Converse type, the format
//! must match the request body of the Converse API", with the example
//! `{"messages":[{"role":"user","content":[{"text":"…"}]}],"inferenceConfig":{"maxTokens":1024}}`
//! (https://docs.aws.amazon.com/bedrock/latest/userguide/batch-inference-data.html).
//! AWS Converse API reference (https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_Converse.html):
//! request `messages` (Message: `role` user|assistant, `content` ContentBlock[]), `system`
//! (SystemContentBlock[], `{"text"}`), `inferenceConfig` (InferenceConfiguration: `maxTokens`,
//! `temperature`, `topP`, `stopSequences`), `additionalModelRequestFields`; response `output.message`
//! (its `content` blocks), `stopReason` (end_turn | tool_use | max_tokens | stop_sequence |
//! guardrail_intervened | content_filtered | …), `usage` (`inputTokens`, `outputTokens`,
//! `totalTokens`), `metrics.latencyMs`. Batch refuses `toolConfig` in a Converse job (BATCH-FACTS
//! §6; the validator reports it).
//! `validate`'s reading of the request (`check`) is below the reader.

use serde::de::IgnoredAny;
use serde::Deserialize;
use serde_json::{json, Value};

use super::answer::{join_text, str_at, u64_at, Answer};
use super::body::BodyOptions;
use super::diags::Code;
use super::limits::Limits;
use super::shapes::{inference, messages_blocks, InferenceConfig, LineResult, NovaMessage};

pub fn body(prompt: &str, system: Option<&str>, o: &BodyOptions) -> Value {
    let mut b = serde_json::Map::new();
    if let Some(s) = system {
        b.insert("system".into(), json!([{"text": s}]));
    }
    b.insert("messages".into(), json!([{"role": "user", "content": [{"text": prompt}]}]));
    let mut cfg = serde_json::Map::new();
    cfg.insert("maxTokens".into(), o.max_tokens.into());
    super::body::sampling(&mut cfg, o, "temperature", "topP");
    b.insert("inferenceConfig".into(), Value::Object(cfg));
    Value::Object(b)
}

pub fn read(out: &Value) -> Result<Answer, String> {
    let blocks = out
        .get("output")
        .and_then(|o| o.get("message"))
        .and_then(|m| m.get("content"))
        .and_then(Value::as_array)
        .ok_or("no output.message.content array (Converse response)")?;
    Ok(Answer {
        text: join_text(blocks, false),
        stop_reason: str_at(out, &["stopReason"]),
        input_tokens: u64_at(out, &["usage", "inputTokens"]),
        output_tokens: u64_at(out, &["usage", "outputTokens"]),
        embedding: None,
    })
}

// ------------------------------------------------------------------------------ validate

/// The Converse request as `validate` reads it (the API reference above): `messages`,
/// `inferenceConfig`, `system`, and `toolConfig`, which batch refuses.
#[derive(Deserialize)]
pub(crate) struct ConverseInput<'a> {
    #[serde(borrow)]
    messages: Option<Vec<NovaMessage<'a>>>,
    #[serde(rename = "inferenceConfig")]
    inference_config: Option<InferenceConfig>,
    #[allow(dead_code)]
    system: Option<IgnoredAny>,
    /// Batch inference refuses tool use in the Converse format (AWS, "Format and upload your
    /// batch inference data": toolConfig is not supported in batch).
    #[serde(rename = "toolConfig")]
    tool_config: Option<IgnoredAny>,
}

/// Converse content blocks (AWS Converse API, ContentBlock): the Nova ones and reasoning, cache
/// points and guarded content.
const CONVERSE_BLOCKS: &[&str] = &["text", "image", "video", "document", "toolUse", "toolResult", "reasoningContent", "cachePoint", "guardContent"];

/// `validate`'s rules for a record of a Converse job; Ok: its `maxTokens` (0 when it declares none).
pub(crate) fn check(limits: &Limits, m: ConverseInput) -> LineResult {
    if m.tool_config.is_some() {
        return Err((Code::BadModelInput, "toolConfig: batch inference does not support tool use in the Converse format".into()));
    }
    messages_blocks(m.messages.as_deref().unwrap_or_default(), CONVERSE_BLOCKS)?;
    inference(limits, &m.inference_config)
}

#[cfg(test)]
mod tests {
    #[test]
    fn reads_the_converse_response() {
        let out = serde_json::json!({"output": {"message": {"role": "assistant", "content": [{"reasoningContent": {}}, {"text": "Hello"}, {"text": " there"}]}},
            "stopReason": "max_tokens", "usage": {"inputTokens": 12, "outputTokens": 3, "totalTokens": 15}, "metrics": {"latencyMs": 9}});
        let a = super::read(&out).unwrap();
        assert_eq!(a.text.as_deref(), Some("Hello there"));
        assert_eq!(a.stop_reason.as_deref(), Some("max_tokens"));
        assert_eq!((a.input_tokens, a.output_tokens), (Some(12), Some(3)));
        assert!(super::read(&serde_json::json!({"outputText": "x"})).is_err());
    }
}
