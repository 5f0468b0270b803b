//! Everything the project knows about one model family, one file each: the request body a
//! record's `modelInput` is built with ([`build_body`], used by `prepare`, `run` and `canary`),
//! and the reader of its output shape ([`read_output`], used by `run collect`), each beside the
//! AWS page it follows, and the shape `validate` reads a record's `modelInput` into with the
//! family's rules for it (each file's `check`, called by the validator's engine in
//! `src/validate/engine.rs`; the rules' shared shapes, limits and codes are here too, in
//! `shapes.rs`, `limits.rs` and `diags.rs`, so the engine imports the families and not the
//! other way round). Every body built here is checked by those rules in the tests
//! (`every_family_builds_a_body_validate_accepts`), so the two cannot drift apart. What the
//! family files share for bodies and outputs is in `body.rs` ([`BodyOptions`]) and `answer.rs`
//! ([`Answer`]); this file declares the families, re-exports those, and dispatches.
//!
//! Converse is a family of its own: a job whose `modelInvocationType` is `Converse` takes the
//! Converse request body for every model, and a model whose InvokeModel body no AWS page
//! documents (Qwen, Gemma, GLM, Kimi, MiniMax, Nemotron) is reached only that way ("Format and
//! upload your batch inference data": "If you use the Converse type, the format must match the
//! request body of the Converse API",
//! https://docs.aws.amazon.com/bedrock/latest/userguide/batch-inference-data.html).

use serde::Serialize;
use serde_json::Value;

use crate::catalogue::CatalogueModel;
use limits::Limits;

pub use answer::Answer;
pub use body::{BodyOptions, DEFAULT_MAX_TOKENS};

mod answer;
pub mod anthropic;
mod body;
pub mod cohere_embed;
pub mod converse;
pub mod deepseek;
pub mod diags;
pub mod limits;
pub mod llama;
pub mod mistral;
pub mod nova;
pub mod nova_embed;
pub mod openai;
pub(crate) mod shapes;
pub mod titan_embed;

/// The shape `modelInput` must have.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Family {
    Anthropic,
    TitanEmbed,
    Nova,
    Llama,
    /// The Converse request body (a Converse job), and the family of Converse-only models.
    Converse,
    /// Titan Multimodal Embeddings G1.
    TitanEmbedImage,
    /// Mistral AI: chat (`messages`) or text completion (`prompt`).
    Mistral,
    /// DeepSeek-R1 text completion.
    DeepSeek,
    /// OpenAI gpt-oss: the Chat Completions body.
    OpenAi,
    /// Amazon Nova Multimodal Embeddings.
    NovaEmbed,
    /// Cohere Embed v3 (English and Multilingual).
    CohereEmbed,
    /// A family bedbatch-doctor does not know: envelope checks only.
    Unknown,
}

/// Model-id prefixes of providers whose InvokeModel body no AWS page documents; batch reaches
/// them through the Converse format (BATCH-FACTS §2: "Qwen: NOT FOUND in AWS docs … Safest path:
/// modelInvocationType=Converse").
const CONVERSE_ONLY_PREFIXES: &[&str] = &["qwen.", "google.gemma", "zai.", "moonshotai.", "minimax.", "nvidia.nemotron"];

impl Family {
    /// Every family, in declaration order (the fuzz target feeds each of them).
    pub const ALL: [Family; 12] = [
        Family::Anthropic,
        Family::TitanEmbed,
        Family::Nova,
        Family::Llama,
        Family::Converse,
        Family::TitanEmbedImage,
        Family::Mistral,
        Family::DeepSeek,
        Family::OpenAi,
        Family::NovaEmbed,
        Family::CohereEmbed,
        Family::Unknown,
    ];

    /// The family's place in [`Family::ALL`]; exhaustive, so a new family cannot be left out.
    pub fn ordinal(self) -> usize {
        match self {
            Family::Anthropic => 0,
            Family::TitanEmbed => 1,
            Family::Nova => 2,
            Family::Llama => 3,
            Family::Converse => 4,
            Family::TitanEmbedImage => 5,
            Family::Mistral => 6,
            Family::DeepSeek => 7,
            Family::OpenAi => 8,
            Family::NovaEmbed => 9,
            Family::CohereEmbed => 10,
            Family::Unknown => 11,
        }
    }

    pub fn from_catalogue(family: &str) -> Family {
        match family {
            "anthropic" => Family::Anthropic,
            "titan-embed" => Family::TitanEmbed,
            "nova" => Family::Nova,
            "llama" => Family::Llama,
            "converse" => Family::Converse,
            "titan-embed-image" => Family::TitanEmbedImage,
            "mistral" => Family::Mistral,
            "deepseek" => Family::DeepSeek,
            "openai" => Family::OpenAi,
            "nova-embed" => Family::NovaEmbed,
            "cohere-embed" => Family::CohereEmbed,
            _ => Family::Unknown,
        }
    }

    /// Decides the family from a model id when the catalogue does not list it.
    pub fn guess(model_id: &str) -> Family {
        let id = model_id.rsplit('/').next().unwrap_or(model_id);
        let id = crate::settings::PROFILE_PREFIXES.iter().find_map(|p| id.strip_prefix(&format!("{p}."))).unwrap_or(id);
        if id.starts_with("anthropic.") {
            Family::Anthropic
        } else if id.starts_with("amazon.titan-embed-image") {
            Family::TitanEmbedImage
        } else if id.starts_with("amazon.titan-embed") {
            Family::TitanEmbed
        } else if id.starts_with("amazon.nova-2-multimodal-embeddings") {
            Family::NovaEmbed
        } else if id.starts_with("amazon.nova") {
            Family::Nova
        } else if id.starts_with("meta.llama") {
            Family::Llama
        } else if id.starts_with("mistral.") {
            Family::Mistral
        } else if id.starts_with("deepseek.") {
            Family::DeepSeek
        } else if id.starts_with("openai.") {
            Family::OpenAi
        } else if id.starts_with("cohere.embed-english-v3") || id.starts_with("cohere.embed-multilingual-v3") {
            // Embed v4 takes another body; it stays unknown (envelope checks, said so).
            Family::CohereEmbed
        } else if CONVERSE_ONLY_PREFIXES.iter().any(|p| id.starts_with(p)) {
            Family::Converse
        } else {
            Family::Unknown
        }
    }

    /// An embedding model: the filled template is the text to embed, and the output is a vector.
    pub fn is_embedding(self) -> bool {
        matches!(self, Family::TitanEmbed | Family::TitanEmbedImage | Family::NovaEmbed | Family::CohereEmbed)
    }

    /// The kebab-case name (as in the catalogue and the JSON output).
    pub fn name(self) -> &'static str {
        match self {
            Family::Anthropic => "anthropic",
            Family::TitanEmbed => "titan-embed",
            Family::Nova => "nova",
            Family::Llama => "llama",
            Family::Converse => "converse",
            Family::TitanEmbedImage => "titan-embed-image",
            Family::Mistral => "mistral",
            Family::DeepSeek => "deepseek",
            Family::OpenAi => "open-ai",
            Family::NovaEmbed => "nova-embed",
            Family::CohereEmbed => "cohere-embed",
            Family::Unknown => "unknown",
        }
    }
}

/// How a job's records are invoked: CreateModelInvocationJob's `modelInvocationType`
/// (botocore: enum `["InvokeModel","Converse"]`, "The invocation endpoint for
/// ModelInvocationJob"; BATCH-FACTS §4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize, Default)]
pub enum Invocation {
    #[default]
    InvokeModel,
    Converse,
}

impl Invocation {
    pub fn as_str(self) -> &'static str {
        match self {
            Invocation::InvokeModel => "InvokeModel",
            Invocation::Converse => "Converse",
        }
    }
}

/// What the project knows of a model before asking the account: its family (the catalogue's,
/// else guessed from the id), and the limits its records are checked against. The one place a
/// model's limits are set up (`validate`, `run`, `canary` and `prepare` all call it).
#[derive(Debug, Clone)]
pub struct ModelProfile {
    /// The model's own family (Converse for a Converse-only model).
    pub family: Family,
    pub limits: Limits,
    pub entry: Option<&'static CatalogueModel>,
}

impl ModelProfile {
    /// `fm`: the foundation model behind the id; `raw`: the id as configured.
    pub fn of(fm: &str, raw: &str) -> ModelProfile {
        let entry = crate::catalogue::model(fm);
        let family = entry.map(|e| Family::from_catalogue(&e.family)).unwrap_or_else(|| Family::guess(raw));
        let limits = Limits {
            max_output_tokens: entry.and_then(|e| e.max_output_tokens),
            forbids_temperature_with_top_p: entry.is_some_and(|e| e.forbids_temperature_with_top_p),
            ..Limits::default()
        };
        ModelProfile { family, limits, entry }
    }

    /// The model is reached only through Converse (no AWS page documents its InvokeModel body).
    pub fn converse_only(&self) -> bool {
        self.family == Family::Converse
    }

    /// The invocation a job of this model uses when the user does not say: Converse for a
    /// Converse-only model, else InvokeModel (the API's default).
    pub fn default_invocation(&self) -> Invocation {
        if self.converse_only() {
            Invocation::Converse
        } else {
            Invocation::InvokeModel
        }
    }

    /// The family whose shape the records take under `inv`; an InvokeModel job of a
    /// Converse-only model is refused with the flag that fixes it.
    pub fn record_family(&self, inv: Invocation, model: &str) -> Result<Family, String> {
        match inv {
            Invocation::Converse => Ok(Family::Converse),
            Invocation::InvokeModel if self.converse_only() => Err(format!(
                "{model}: no AWS page documents this model's InvokeModel request body, so batch reaches it through the Converse format: use --invocation-type converse"
            )),
            Invocation::InvokeModel => Ok(self.family),
        }
    }
}

/// The `modelInput` of one record for `family` (Converse: the Converse request): the prompt as
/// the user's one message (the text to embed, for an embedding model), `system` as the
/// family's system prompt. Err: what the family cannot take (a system prompt or sampling
/// settings for an embedding model; an unknown family).
pub fn build_body(family: Family, prompt: &str, system: Option<&str>, o: &BodyOptions) -> Result<Value, String> {
    if family.is_embedding() {
        if system.is_some() {
            return Err("an embedding model takes no system prompt (--system/--system-text)".into());
        }
        if o.temperature.is_some() || o.top_p.is_some() {
            return Err("an embedding model takes no --temperature or --top-p".into());
        }
    }
    Ok(match family {
        Family::Anthropic => anthropic::body(prompt, system, o),
        Family::Nova => nova::body(prompt, system, o),
        Family::Converse => converse::body(prompt, system, o),
        Family::Llama => llama::body(prompt, system, o),
        Family::Mistral => mistral::body(prompt, system, o),
        Family::DeepSeek => deepseek::body(prompt, system, o),
        Family::OpenAi => openai::body(prompt, system, o),
        Family::TitanEmbed | Family::TitanEmbedImage => titan_embed::body(prompt),
        Family::NovaEmbed => nova_embed::body(prompt),
        Family::CohereEmbed => cohere_embed::body(prompt),
        Family::Unknown => {
            return Err("the model's family is not known, so its request body cannot be built: use --invocation-type converse (the Converse format serves every model Converse serves)".into())
        }
    })
}

/// Reads `modelOutput` of a record of `family` (Converse: the Converse response). Err: the
/// output does not have the family's documented shape (named, so the row says why).
pub fn read_output(family: Family, out: &Value) -> Result<Answer, String> {
    match family {
        Family::Anthropic => anthropic::read(out),
        Family::Nova => nova::read(out),
        Family::Converse => converse::read(out),
        Family::Llama => llama::read(out),
        Family::Mistral => mistral::read(out),
        Family::DeepSeek => deepseek::read(out),
        Family::OpenAi => openai::read(out),
        Family::TitanEmbed | Family::TitanEmbedImage => titan_embed::read(out),
        Family::NovaEmbed => nova_embed::read(out),
        Family::CohereEmbed => cohere_embed::read(out),
        Family::Unknown => Err("the model's family is not known, so its output cannot be read".into()),
    }
}

/// Whether a record's `modelInput` is unmistakably in the Converse format rather than the
/// family's InvokeModel body: content blocks without a `type` (Anthropic's blocks have one,
/// OpenAI's and Mistral's content is a string), and no key of the family's own body. Nova's
/// InvokeModel body is the Converse shape with `schemaVersion`, so a Nova record is never
/// called Converse on its shape alone.
pub fn looks_like_converse(family: Family, input: &Value) -> bool {
    let Some(obj) = input.as_object() else { return false };
    let Some(messages) = obj.get("messages").and_then(Value::as_array) else { return false };
    let blocks_untyped = !messages.is_empty()
        && messages.iter().all(|m| {
            m.get("content").and_then(Value::as_array).is_some_and(|c| !c.is_empty() && c.iter().all(|b| b.is_object() && b.get("type").is_none()))
        });
    if !blocks_untyped {
        return false;
    }
    match family {
        Family::Converse => true,
        Family::Nova | Family::Unknown => false,
        Family::Anthropic => !obj.contains_key("anthropic_version"),
        Family::Llama | Family::Mistral | Family::DeepSeek | Family::OpenAi => !obj.contains_key("prompt"),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::validate::Validator;

    fn opts() -> BodyOptions {
        BodyOptions { max_tokens: 256, temperature: Some(0.2), top_p: None }
    }

    /// A record that embedded several inputs is never read as its first vector alone (a table
    /// row holds one); one vector reads as before.
    #[test]
    fn several_vectors_are_not_read_as_the_first() {
        let one = read_output(Family::CohereEmbed, &serde_json::json!({"embeddings": [[0.5, 1.0]]})).unwrap();
        assert_eq!(one.embedding, Some(vec![0.5, 1.0]));
        let e = read_output(Family::CohereEmbed, &serde_json::json!({"embeddings": {"float": [[0.5], [1.0]]}})).unwrap_err();
        assert!(e.contains("embedded 2 texts") && e.contains(".jsonl"), "{e}");
        let nova = |n: usize| serde_json::json!({"embeddings": vec![serde_json::json!({"embeddingType": "TEXT", "embedding": [0.25]}); n]});
        assert_eq!(read_output(Family::NovaEmbed, &nova(1)).unwrap().embedding, Some(vec![0.25]));
        assert!(read_output(Family::NovaEmbed, &nova(2)).unwrap_err().contains("2 embeddings"));
    }

    #[test]
    fn every_family_builds_a_body_validate_accepts() {
        for family in Family::ALL.into_iter().filter(|f| *f != Family::Unknown) {
            let o = if family.is_embedding() { BodyOptions { temperature: None, ..opts() } } else { opts() };
            let system = (!family.is_embedding()).then_some("Answer in one word.");
            let body = build_body(family, "What is \"2+2\"?\nSay it.", system, &o).unwrap();
            let mut text = String::new();
            for i in 0..100 {
                text.push_str(&serde_json::json!({"recordId": format!("r{i:010}"), "modelInput": body}).to_string());
                text.push('\n');
            }
            let v = crate::validate::validate_reader(text.as_bytes(), Validator::new(family, Limits::default(), 3), |_| {}).unwrap();
            let report = v.finish("t.jsonl", Some("t.jsonl"));
            assert_eq!(report.errors(), 0, "{family:?}: {}", serde_json::to_string(&report).unwrap());
        }
        assert!(build_body(Family::Unknown, "x", None, &opts()).unwrap_err().contains("--invocation-type converse"));
        assert!(build_body(Family::TitanEmbed, "x", Some("s"), &BodyOptions { temperature: None, ..opts() }).is_err());
        assert!(build_body(Family::CohereEmbed, "x", None, &opts()).is_err());
    }

    #[test]
    fn converse_is_told_from_invoke_model_only_when_unambiguous() {
        let conv = serde_json::json!({"messages": [{"role": "user", "content": [{"text": "hi"}]}], "inferenceConfig": {"maxTokens": 5}});
        assert!(looks_like_converse(Family::Anthropic, &conv));
        assert!(looks_like_converse(Family::Llama, &conv));
        assert!(!looks_like_converse(Family::Nova, &conv), "Nova's own body has this shape");
        let claude = build_body(Family::Anthropic, "hi", None, &opts()).unwrap();
        assert!(!looks_like_converse(Family::Anthropic, &claude));
        let gpt = build_body(Family::OpenAi, "hi", None, &opts()).unwrap();
        assert!(!looks_like_converse(Family::OpenAi, &gpt));
    }

    #[test]
    fn converse_only_models_refuse_invoke_model_naming_the_flag() {
        let p = ModelProfile::of("qwen.qwen3-32b-v1:0", "qwen.qwen3-32b-v1:0");
        assert_eq!(p.family, Family::Converse);
        assert_eq!(p.default_invocation(), Invocation::Converse);
        assert!(p.record_family(Invocation::InvokeModel, "qwen.qwen3-32b-v1:0").unwrap_err().contains("--invocation-type converse"));
        let c = ModelProfile::of("anthropic.claude-3-haiku-20240307-v1:0", "anthropic.claude-3-haiku-20240307-v1:0");
        assert_eq!(c.record_family(Invocation::Converse, "x").unwrap(), Family::Converse);
        assert_eq!(c.record_family(Invocation::InvokeModel, "x").unwrap(), Family::Anthropic);
    }
}
