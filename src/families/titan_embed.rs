//! Amazon Titan Text Embeddings (V2) and Titan Multimodal Embeddings G1: text to embed.
//! AWS, "Amazon Titan Embeddings Text"
//! (https://docs.aws.amazon.com/bedrock/latest/userguide/model-parameters-titan-embed-text.html):
//! request `inputText` (V2 also `dimensions` 1024 (default), 512 or 256, `normalize`); response
//! `embedding` (floats) and `inputTextTokenCount`.
//! AWS, "Amazon Titan Multimodal Embeddings G1" (…/model-parameters-titan-embed-mm.html): request
//! `inputText` and/or `inputImage`, `embeddingConfig.outputEmbeddingLength` 256, 384 or 1024
//! (default); response `embedding` and `inputTextTokenCount`.

use serde_json::{json, Value};

use super::{floats, u64_at, Answer};

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
