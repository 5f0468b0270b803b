//! Amazon Titan Text Embeddings (V2) and Titan Multimodal Embeddings G1: text to embed.
//! AWS, "Amazon Titan Embeddings Text"
//! (https://docs.aws.amazon.com/bedrock/latest/userguide/model-parameters-titan-embed-text.html):
//! request `inputText` (V2 also `dimensions` 1024 (default), 512 or 256, `normalize`); response
//! `embedding` (floats) and `inputTextTokenCount`.
//! AWS, "Amazon Titan Multimodal Embeddings G1" (…/model-parameters-titan-embed-mm.html): request
//! `inputText` and/or `inputImage`, `embeddingConfig.outputEmbeddingLength` 256, 384 or 1024
//! (default); response `embedding` and `inputTextTokenCount`.
//! `validate`'s reading of each request body (`check`, `check_image`) is below the readers.

use serde::Deserialize;
use serde_json::{json, Value};

use super::answer::{floats, u64_at, Answer};
use super::diags::Code;
use super::limits::Limits;
use super::shapes::{LineResult, Number, Text};

pub fn body(prompt: &str) -> Value {
    json!({"inputText": prompt})
}

pub fn read(out: &Value) -> Result<Answer, String> {
    Ok(Answer {
        embedding: Some(floats(out.get("embedding"), "embedding")?),
        input_tokens: u64_at(out, &["inputTextTokenCount"]),
        ..Answer::default()
    })
}

// ------------------------------------------------------------------------------ validate

/// Titan Text Embeddings (AWS, "Amazon Titan Embeddings Text"): `inputText` (required),
/// `dimensions` 256, 512 or 1024. Its length: AWS, "Amazon Titan Text Embeddings models"
/// (https://docs.aws.amazon.com/bedrock/latest/userguide/titan-embedding-models.html): "Titan
/// Text Embeddings V2 takes as input a non-empty string with up to 8,192 tokens or 50,000
/// characters" (the character bound is checked here; tokens are the model's to count).
#[derive(Deserialize)]
pub(crate) struct TitanEmbedInput<'a> {
    #[serde(rename = "inputText", borrow)]
    input_text: Option<Text<'a>>,
    dimensions: Option<Number>,
}

const MAX_INPUT_CHARS: usize = 50_000;

/// `validate`'s rules for a Titan Text Embeddings record (an embedding declares no output: 0).
pub(crate) fn check(_: &Limits, m: TitanEmbedInput) -> LineResult {
    match m.input_text.as_deref() {
        Some(t) if t.len() > MAX_INPUT_CHARS && t.chars().count() > MAX_INPUT_CHARS => {
            return Err((Code::WrongShape, format!("inputText holds {} characters; the model takes at most 50,000", t.chars().count())))
        }
        Some(t) if !t.is_empty() => {}
        _ => return Err((Code::WrongShape, "inputText must be a non-empty string".into())),
    }
    if let Some(d) = &m.dimensions {
        if !matches!(d.0.as_u64(), Some(256 | 512 | 1024)) {
            return Err((Code::WrongShape, format!("dimensions must be 256, 512 or 1024, not {}", d.0)));
        }
    }
    Ok(0)
}

/// Titan Multimodal Embeddings G1 (AWS, "Amazon Titan Multimodal Embeddings G1"): `inputText`
/// and/or `inputImage` (base64), at least one; `embeddingConfig.outputEmbeddingLength` 256, 384
/// or 1024.
#[derive(Deserialize)]
pub(crate) struct TitanEmbedImageInput<'a> {
    #[serde(rename = "inputText", borrow)]
    input_text: Option<Text<'a>>,
    #[serde(rename = "inputImage", borrow)]
    input_image: Option<Text<'a>>,
    #[serde(rename = "embeddingConfig")]
    embedding_config: Option<EmbeddingConfig>,
}

#[derive(Deserialize)]
struct EmbeddingConfig {
    #[serde(rename = "outputEmbeddingLength")]
    output_embedding_length: Option<Number>,
}

/// `validate`'s rules for a Titan Multimodal Embeddings record.
pub(crate) fn check_image(_: &Limits, m: TitanEmbedImageInput) -> LineResult {
    let text = m.input_text.as_deref().is_some_and(|t| !t.is_empty());
    let image = m.input_image.as_deref().is_some_and(|t| !t.is_empty());
    if !text && !image {
        return Err((Code::WrongShape, "inputText or inputImage (base64) is required".into()));
    }
    if let Some(len) = m.embedding_config.as_ref().and_then(|c| c.output_embedding_length.as_ref()) {
        if !matches!(len.0.as_u64(), Some(256 | 384 | 1024)) {
            return Err((Code::WrongShape, format!("embeddingConfig.outputEmbeddingLength must be 256, 384 or 1024, not {}", len.0)));
        }
    }
    Ok(0)
}
