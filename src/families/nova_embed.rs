//! Amazon Nova Multimodal Embeddings: text to embed.
//! Amazon Nova User Guide, "Complete embeddings request and response schema"
//! (https://docs.aws.amazon.com/nova/latest/userguide/embeddings-schema.html): request
//! `taskType` SINGLE_EMBEDDING with `singleEmbeddingParams` `{embeddingPurpose,
//! embeddingDimension (256|384|1024|3072), text: {truncationMode, value}}`; response
//! `embeddings[]` of `{embeddingType, embedding}`.

use serde_json::{json, Value};

use super::{floats, Answer};

/// The dimension built bodies ask for: the model's largest and default.
pub const DIMENSION: u64 = 3072;

pub fn body(prompt: &str) -> Value {
    json!({"taskType": "SINGLE_EMBEDDING", "singleEmbeddingParams": {"embeddingPurpose": "GENERIC_INDEX", "embeddingDimension": DIMENSION, "text": {"truncationMode": "END", "value": prompt}}})
}

pub fn read(out: &Value) -> Result<Answer, String> {
    let first = out.get("embeddings").and_then(Value::as_array).and_then(|a| a.first()).ok_or("no embeddings array (Nova embeddings response)")?;
    Ok(Answer { embedding: Some(floats(first.get("embedding"), "embeddings[0].embedding")?), ..Answer::default() })
}
