//! Cohere Embed v3 (English and Multilingual): text to embed.
//! AWS, "Cohere Embed v3" (https://docs.aws.amazon.com/bedrock/latest/userguide/model-parameters-embed.html):
//! request `texts` (up to 96), `input_type` (required: search_document, search_query,
//! classification, clustering); response `embeddings` — an array per text (`response_type`
//! "embeddings_floats"), or `{"float": [[…]]}` when `embedding_types` was given
//! ("embeddings_by_type") — plus `id` and `texts`.
//! `validate`'s reading of the request (`check`) is below the reader.

use serde::Deserialize;
use serde_json::{json, Value};

use super::answer::{floats, Answer};
use super::diags::Code;
use super::limits::Limits;
use super::shapes::{LineResult, Text};

pub fn body(prompt: &str) -> Value {
    json!({"texts": [prompt], "input_type": "search_document"})
}

pub fn read(out: &Value) -> Result<Answer, String> {
    let e = out.get("embeddings").ok_or("no embeddings (Cohere Embed response)")?;
    let list = e.get("float").unwrap_or(e);
    // One vector per text of the record's `texts` (up to 96): a table row holds one, so a
    // record of several is not read as its first vector alone.
    if let Some(n) = list.as_array().map(Vec::len).filter(|n| *n > 1) {
        return Err(format!("the record embedded {n} texts and a table row holds one vector: collect this run to .jsonl to keep every vector"));
    }
    let first = list.as_array().and_then(|a| a.first());
    Ok(Answer { embedding: Some(floats(first, "embeddings[0]")?), ..Answer::default() })
}

// ------------------------------------------------------------------------------ validate

/// Cohere Embed v3 (AWS, "Cohere Embed and Cohere Embed v4 models" / "Cohere Embed v3"): `texts`
/// (0 to 96 strings of at most 2,048 characters) or `images` (one data URI, image/jpeg or
/// image/png), never both; `input_type` search_document|search_query|classification|clustering|
/// image (required); `truncate` NONE|START|END; `embedding_types` among float, int8, uint8,
/// binary, ubinary.
#[derive(Deserialize)]
pub(crate) struct CohereEmbedInput<'a> {
    texts: Option<Vec<Text<'a>>>,
    images: Option<Vec<Text<'a>>>,
    #[serde(borrow)]
    input_type: Option<Text<'a>>,
    #[serde(borrow)]
    truncate: Option<Text<'a>>,
    embedding_types: Option<Vec<String>>,
}

/// `validate`'s rules for a Cohere Embed v3 record (an embedding declares no output: 0).
pub(crate) fn check(_: &Limits, m: CohereEmbedInput) -> LineResult {
    const INPUT_TYPES: &[&str] = &["search_document", "search_query", "classification", "clustering", "image"];
    match m.input_type.as_deref() {
        None => return Err((Code::WrongShape, format!("input_type is missing (one of {})", INPUT_TYPES.join(", ")))),
        Some(t) if !INPUT_TYPES.contains(&t) => {
            return Err((Code::WrongShape, format!("input_type must be one of {}, not {t:?}", INPUT_TYPES.join(", "))))
        }
        _ => {}
    }
    match (&m.texts, &m.images) {
        (Some(_), Some(_)) => return Err((Code::WrongShape, "give texts or images, not both".into())),
        (None, None) => return Err((Code::WrongShape, "texts (or images) is missing".into())),
        (Some(texts), None) => {
            if texts.len() > 96 {
                return Err((Code::WrongShape, format!("texts holds {} strings; at most 96", texts.len())));
            }
            if let Some((i, t)) = texts.iter().enumerate().find(|(_, t)| t.chars().count() > 2048) {
                return Err((Code::WrongShape, format!("texts[{i}] has {} characters; at most 2,048", t.chars().count())));
            }
        }
        (None, Some(images)) => {
            if images.len() != 1 {
                return Err((Code::WrongShape, format!("images holds {} items; Cohere Embed takes one image a request", images.len())));
            }
            if !(images[0].starts_with("data:image/jpeg;base64,") || images[0].starts_with("data:image/png;base64,")) {
                return Err((Code::WrongShape, "images[0] must be a data URI of an image/jpeg or image/png (data:image/png;base64,…)".into()));
            }
        }
    }
    if let Some(t) = m.truncate.as_deref().filter(|t| !matches!(*t, "NONE" | "START" | "END")) {
        return Err((Code::WrongShape, format!("truncate must be NONE, START or END, not {t:?}")));
    }
    if let Some(bad) = m.embedding_types.iter().flatten().find(|t| !matches!(t.as_str(), "float" | "int8" | "uint8" | "binary" | "ubinary")) {
        return Err((Code::WrongShape, format!("embedding_types: {bad:?} is not one of float, int8, uint8, binary, ubinary")));
    }
    Ok(0)
}
