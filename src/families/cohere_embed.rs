//! Cohere Embed v3 (English and Multilingual): text to embed.
//! AWS, "Cohere Embed v3" (https://docs.aws.amazon.com/bedrock/latest/userguide/model-parameters-embed.html):
//! request `texts` (up to 96), `input_type` (required: search_document, search_query,
//! classification, clustering); response `embeddings` — an array per text (`response_type`
//! "embeddings_floats"), or `{"float": [[…]]}` when `embedding_types` was given
//! ("embeddings_by_type") — plus `id` and `texts`.

use serde_json::{json, Value};

use super::{floats, Answer};

pub fn body(prompt: &str) -> Value {
    json!({"texts": [prompt], "input_type": "search_document"})
}

pub fn read(out: &Value) -> Result<Answer, String> {
    let e = out.get("embeddings").ok_or("no embeddings (Cohere Embed response)")?;
    let list = e.get("float").unwrap_or(e);
    let first = list.as_array().and_then(|a| a.first());
    Ok(Answer { embedding: Some(floats(first, "embeddings[0]")?), ..Answer::default() })
}
