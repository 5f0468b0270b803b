//! Amazon Nova Multimodal Embeddings: text to embed.
//! Amazon Nova User Guide, "Complete embeddings request and response schema"
//! (https://docs.aws.amazon.com/nova/latest/userguide/embeddings-schema.html): request
//! `taskType` SINGLE_EMBEDDING with `singleEmbeddingParams` `{embeddingPurpose,
//! embeddingDimension (256|384|1024|3072), text: {truncationMode, value}}`; response
//! `embeddings[]` of `{embeddingType, embedding}`.
//! `validate`'s reading of the request (`check`) is below the reader.

use serde::Deserialize;
use serde_json::{json, Value};

use super::answer::{floats, Answer};
use super::diags::Code;
use super::limits::Limits;
use super::shapes::{LineResult, Number, Text};

/// The dimension built bodies ask for: the model's largest and default.
pub const DIMENSION: u64 = 3072;

pub fn body(prompt: &str) -> Value {
    json!({"taskType": "SINGLE_EMBEDDING", "singleEmbeddingParams": {"embeddingPurpose": "GENERIC_INDEX", "embeddingDimension": DIMENSION, "text": {"truncationMode": "END", "value": prompt}}})
}

pub fn read(out: &Value) -> Result<Answer, String> {
    let all = out.get("embeddings").and_then(Value::as_array).ok_or("no embeddings array (Nova embeddings response)")?;
    // AUDIO_VIDEO_SEPARATE answers with one vector per modality: a table row holds one, so such
    // a record is not read as its first vector alone.
    if all.len() > 1 {
        return Err(format!(
            "the record has {} embeddings and a table row holds one vector: collect this run to .jsonl to keep every vector",
            all.len()
        ));
    }
    let first = all.first().ok_or("an empty embeddings array (Nova embeddings response)")?;
    Ok(Answer { embedding: Some(floats(first.get("embedding"), "embeddings[0].embedding")?), ..Answer::default() })
}

// ------------------------------------------------------------------------------ validate

/// Amazon Nova Multimodal Embeddings (Amazon Nova User Guide, "Complete embeddings request and
/// response schema"): `schemaVersion` "nova-multimodal-embed-v1" (optional); `taskType`
/// (required); for SINGLE_EMBEDDING, `singleEmbeddingParams` with `embeddingPurpose` (required),
/// `embeddingDimension` 256|384|1024|3072, and one input among `text` (`value` or `source`,
/// `truncationMode` START|END|NONE), `image` (`format` png|jpeg|gif|webp, `detailLevel`
/// STANDARD_IMAGE|DOCUMENT_IMAGE, `source`), `audio` (`format` mp3|wav|ogg, `source`) and `video`
/// (`format`, `source`, `embeddingMode` AUDIO_VIDEO_COMBINED|AUDIO_VIDEO_SEPARATE).
#[derive(Deserialize)]
pub(crate) struct NovaEmbedInput<'a> {
    #[serde(rename = "schemaVersion", borrow)]
    schema_version: Option<Text<'a>>,
    #[serde(rename = "taskType", borrow)]
    task_type: Option<Text<'a>>,
    #[serde(rename = "singleEmbeddingParams", borrow)]
    single: Option<NovaEmbedParams<'a>>,
    #[serde(rename = "segmentedEmbeddingParams")]
    segmented: Option<serde::de::IgnoredAny>,
}

#[derive(Deserialize)]
struct NovaEmbedParams<'a> {
    #[serde(rename = "embeddingPurpose", borrow)]
    purpose: Option<Text<'a>>,
    #[serde(rename = "embeddingDimension")]
    dimension: Option<Number>,
    #[serde(borrow)]
    text: Option<NovaEmbedText<'a>>,
    #[serde(borrow)]
    image: Option<NovaEmbedMedia<'a>>,
    #[serde(borrow)]
    audio: Option<NovaEmbedMedia<'a>>,
    #[serde(borrow)]
    video: Option<NovaEmbedMedia<'a>>,
}

#[derive(Deserialize)]
struct NovaEmbedText<'a> {
    #[serde(rename = "truncationMode", borrow)]
    truncation: Option<Text<'a>>,
    #[serde(borrow)]
    value: Option<Text<'a>>,
    source: Option<serde::de::IgnoredAny>,
}

#[derive(Deserialize)]
struct NovaEmbedMedia<'a> {
    #[serde(borrow)]
    format: Option<Text<'a>>,
    #[serde(rename = "detailLevel", borrow)]
    detail_level: Option<Text<'a>>,
    #[serde(rename = "embeddingMode", borrow)]
    embedding_mode: Option<Text<'a>>,
    source: Option<serde::de::IgnoredAny>,
}

/// `validate`'s rules for a Nova Multimodal Embeddings record (an embedding declares no output: 0).
pub(crate) fn check(_: &Limits, m: NovaEmbedInput) -> LineResult {
    let one_of = |name: &str, value: Option<&str>, allowed: &[&str]| match value {
        Some(v) if !allowed.contains(&v) => Err((Code::WrongShape, format!("{name} must be one of {}, not {v:?}", allowed.join(", ")))),
        _ => Ok(()),
    };
    one_of("schemaVersion", m.schema_version.as_deref(), &["nova-multimodal-embed-v1"])?;
    match m.task_type.as_deref() {
        None => return Err((Code::WrongShape, "taskType is missing (SINGLE_EMBEDDING)".into())),
        Some("SEGMENTED_EMBEDDING") if m.segmented.is_none() => {
            return Err((Code::WrongShape, "taskType SEGMENTED_EMBEDDING needs segmentedEmbeddingParams".into()))
        }
        Some("SEGMENTED_EMBEDDING") => return Ok(0),
        Some("SINGLE_EMBEDDING") => {}
        Some(t) => return Err((Code::WrongShape, format!("taskType must be SINGLE_EMBEDDING or SEGMENTED_EMBEDDING, not {t:?}"))),
    }
    let Some(p) = m.single else { return Err((Code::WrongShape, "taskType SINGLE_EMBEDDING needs singleEmbeddingParams".into())) };
    const PURPOSES: &[&str] = &[
        "GENERIC_INDEX",
        "GENERIC_RETRIEVAL",
        "TEXT_RETRIEVAL",
        "IMAGE_RETRIEVAL",
        "VIDEO_RETRIEVAL",
        "DOCUMENT_RETRIEVAL",
        "AUDIO_RETRIEVAL",
        "CLASSIFICATION",
        "CLUSTERING",
    ];
    match p.purpose.as_deref() {
        None => return Err((Code::WrongShape, "singleEmbeddingParams.embeddingPurpose is missing".into())),
        v => one_of("singleEmbeddingParams.embeddingPurpose", v, PURPOSES)?,
    }
    if let Some(d) = &p.dimension {
        if !matches!(d.0.as_u64(), Some(256 | 384 | 1024 | 3072)) {
            return Err((Code::WrongShape, format!("singleEmbeddingParams.embeddingDimension must be 256, 384, 1024 or 3072, not {}", d.0)));
        }
    }
    let inputs = [p.text.is_some(), p.image.is_some(), p.audio.is_some(), p.video.is_some()].iter().filter(|x| **x).count();
    if inputs != 1 {
        return Err((Code::WrongShape, format!("singleEmbeddingParams takes exactly one of text, image, audio, video ({inputs} given)")));
    }
    if let Some(t) = &p.text {
        if t.value.is_some() == t.source.is_some() {
            return Err((Code::WrongShape, "singleEmbeddingParams.text takes exactly one of value and source".into()));
        }
        one_of("singleEmbeddingParams.text.truncationMode", t.truncation.as_deref(), &["START", "END", "NONE"])?;
    }
    let media = [
        ("image", &p.image, &["png", "jpeg", "gif", "webp"][..]),
        ("audio", &p.audio, &["mp3", "wav", "ogg"][..]),
        ("video", &p.video, &["mp4", "mov", "mkv", "webm", "flv", "mpeg", "mpg", "wmv", "3gp"][..]),
    ];
    for (name, m, formats) in media {
        let Some(m) = m else { continue };
        if m.source.is_none() {
            return Err((Code::WrongShape, format!("singleEmbeddingParams.{name}.source is missing")));
        }
        one_of(&format!("singleEmbeddingParams.{name}.format"), m.format.as_deref(), formats)?;
        one_of(&format!("singleEmbeddingParams.{name}.detailLevel"), m.detail_level.as_deref(), &["STANDARD_IMAGE", "DOCUMENT_IMAGE"])?;
        one_of(
            &format!("singleEmbeddingParams.{name}.embeddingMode"),
            m.embedding_mode.as_deref(),
            &["AUDIO_VIDEO_COMBINED", "AUDIO_VIDEO_SEPARATE"],
        )?;
    }
    Ok(0)
}
