//! The batch input validator: one pass over a JSONL file, line by line, in constant memory
//! (apart from the set of record ids, which the per-file record quota bounds).
//!
//! Each line is parsed once, straight into borrowed structs of the model family's shape (no
//! intermediate `Value`, no copies of the prompt text), by the fast path in [`fast`], which also
//! counts the text content as it goes; a line the fast path cannot vouch for is parsed by
//! serde_json, which also words every problem. Only a line that fails is parsed again to say why.

use std::borrow::Cow;
use std::collections::BTreeMap;

use serde::de::IgnoredAny;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

pub use crate::validate::diags::Code;

mod fast;
mod ids;

pub use crate::families::Family;

/// The limits a file is checked against.
#[derive(Debug, Clone, Serialize)]
pub struct Limits {
    pub min_records: u64,
    pub max_records_per_file: u64,
    pub max_records_per_job: u64,
    pub max_file_bytes: u64,
    pub max_job_bytes: u64,
    /// The model's ceiling for max_tokens (None: unknown).
    pub max_output_tokens: Option<u64>,
    pub forbids_temperature_with_top_p: bool,
}

impl Default for Limits {
    /// AWS's default batch quotas.
    fn default() -> Limits {
        Limits {
            min_records: 100,
            max_records_per_file: 50_000,
            max_records_per_job: 50_000,
            max_file_bytes: 1 << 30,
            max_job_bytes: 5 << 30,
            max_output_tokens: None,
            forbids_temperature_with_top_p: false,
        }
    }
}

/// A problem's level: its code's severity (each code owns one, in `validate::diags`).
pub use crate::findings::Severity as Level;

#[derive(Debug, Clone, Serialize)]
pub struct Example {
    /// The file, when a folder (one job) is validated.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    /// 1-based line number in the file (0 for problems of the whole file or job).
    pub line: u64,
    pub message: String,
}

/// One file of a job (a folder validated as one job).
#[derive(Debug, Clone, Serialize, Default)]
pub struct FileCount {
    pub name: String,
    pub lines: u64,
    pub records: u64,
    pub bytes: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Problem {
    pub code: Code,
    pub level: Level,
    pub count: u64,
    pub examples: Vec<Example>,
}

/// What one validation found.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub source: String,
    pub family: Family,
    pub bytes: u64,
    pub lines: u64,
    pub records: u64,
    pub blank_lines: u64,
    /// Estimated input tokens: characters of text content (message text, prompts, system
    /// prompts, texts to embed — not JSON keys and punctuation) / 4.
    pub input_tokens_estimate: u64,
    /// Images, documents and videos in the records: not in the estimate (their tokens depend on
    /// pixels and pages the file does not say).
    pub media_not_estimated: u64,
    /// The sum of each record's declared maximum output (max_tokens, maxTokens, max_gen_len);
    /// a record declaring none counts at the model's limit when it is known.
    pub output_tokens_ceiling: u64,
    /// Records declaring no maximum output.
    pub records_without_max_tokens: u64,
    pub problems: Vec<Problem>,
    /// The files of a folder validated as one job (empty for one file).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub files: Vec<FileCount>,
}

impl Report {
    pub fn errors(&self) -> u64 {
        self.problems.iter().filter(|p| p.level == Level::Error).map(|p| p.count).sum()
    }
}

// ------------------------------------------------------------------------------------ shapes

/// A JSON string borrowed from the line when it holds no escape (copied only when it does).
/// serde's own `Cow<str>` inside an `Option` or a `Vec` always copies (its `borrow` attribute
/// reaches a bare `Cow` only): one allocation per string field of every record.
struct Text<'a>(Cow<'a, str>);

/// Shown as the string is (`"system"`), as the `Cow` it replaced was: messages quote it.
impl std::fmt::Debug for Text<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        std::fmt::Debug::fmt(&*self.0, f)
    }
}

impl std::ops::Deref for Text<'_> {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Text<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Text<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E>(self, s: &'de str) -> Result<Text<'de>, E> {
                Ok(Text(Cow::Borrowed(s)))
            }
            fn visit_str<E>(self, s: &str) -> Result<Text<'de>, E> {
                Ok(Text(Cow::Owned(s.to_string())))
            }
            fn visit_string<E>(self, s: String) -> Result<Text<'de>, E> {
                Ok(Text(Cow::Owned(s)))
            }
        }
        d.deserialize_str(V)
    }
}

#[derive(Deserialize)]
struct Envelope<'a, M> {
    #[serde(rename = "recordId", borrow, default)]
    record_id: Option<Text<'a>>,
    #[serde(rename = "modelInput")]
    model_input: Option<M>,
}

/// Anthropic's Messages body on Bedrock (AWS, "Anthropic Claude Messages API" model parameters):
/// these keys only. Bedrock answers any other with "Extra inputs are not permitted", so an
/// unknown key (a `modelId` copied into `modelInput`, say) is refused here too.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AnthropicInput<'a> {
    #[serde(borrow)]
    anthropic_version: Option<Text<'a>>,
    max_tokens: Option<Number>,
    messages: Option<Messages>,
    temperature: Option<f64>,
    top_p: Option<f64>,
    #[allow(dead_code)]
    anthropic_beta: Option<IgnoredAny>,
    #[allow(dead_code)]
    system: Option<IgnoredAny>,
    #[allow(dead_code)]
    top_k: Option<IgnoredAny>,
    #[allow(dead_code)]
    stop_sequences: Option<IgnoredAny>,
    #[allow(dead_code)]
    tools: Option<IgnoredAny>,
    #[allow(dead_code)]
    tool_choice: Option<IgnoredAny>,
    #[allow(dead_code)]
    thinking: Option<IgnoredAny>,
}

/// Anthropic's top-level keys, for the message that names an extra one.
const ANTHROPIC_KEYS: &[&str] = &[
    "anthropic_version",
    "anthropic_beta",
    "max_tokens",
    "system",
    "messages",
    "temperature",
    "top_p",
    "top_k",
    "stop_sequences",
    "tools",
    "tool_choice",
    "thinking",
];

/// Anthropic `messages`, checked while they are read: no Vec, no copy of any text. Holds the
/// count, or the first problem found.
struct Messages(Result<usize, String>);

impl<'de> Deserialize<'de> for Messages {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Messages;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a list of messages")
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Messages, A::Error> {
                let mut i = 0usize;
                let mut problem: Option<String> = None;
                while let Some(m) = seq.next_element::<AnthropicMessage>()? {
                    if problem.is_none() {
                        let want = if i % 2 == 0 { "user" } else { "assistant" };
                        if m.role.as_deref() != Some(want) {
                            problem = Some(format!(
                                "messages[{i}].role is {:?}; roles must alternate user, assistant, … starting with user",
                                m.role.as_deref().unwrap_or("(missing)")
                            ));
                        } else if let Content(Err(e)) = m.content {
                            problem = Some(format!("messages[{i}].content: {e}"));
                        }
                    }
                    i += 1;
                }
                Ok(Messages(match problem {
                    Some(p) => Err(p),
                    None => Ok(i),
                }))
            }
        }
        d.deserialize_seq(V)
    }
}

#[derive(Deserialize)]
struct AnthropicMessage<'a> {
    #[serde(borrow)]
    role: Option<Text<'a>>,
    #[serde(default = "no_content")]
    content: Content,
}

fn no_content() -> Content {
    Content(Err("missing".into()))
}

/// A message's content: a string, or a non-empty list of blocks of known types. Read in one
/// pass; the text itself is skipped, never copied.
struct Content(Result<(), String>);

impl<'de> Deserialize<'de> for Content {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Content;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a string or a list of content blocks")
            }
            fn visit_borrowed_str<E>(self, _: &'de str) -> Result<Content, E> {
                Ok(Content(Ok(())))
            }
            fn visit_str<E>(self, _: &str) -> Result<Content, E> {
                Ok(Content(Ok(())))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Content, A::Error> {
                let mut j = 0usize;
                let mut problem: Option<String> = None;
                while let Some(b) = seq.next_element::<Block>()? {
                    if problem.is_none() {
                        match b.kind.as_deref() {
                            Some(k) if ANTHROPIC_BLOCKS.contains(&k) => {}
                            Some(k) => problem = Some(format!("content[{j}].type {k:?} is not one of {ANTHROPIC_BLOCKS:?}")),
                            None => problem = Some(format!("content[{j}] has no type")),
                        }
                    }
                    j += 1;
                }
                if j == 0 && problem.is_none() {
                    problem = Some("an empty list".into());
                }
                Ok(Content(match problem {
                    Some(p) => Err(p),
                    None => Ok(()),
                }))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Content, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(Content(Err("must be a string or a list of content blocks, not an object".into())))
            }
            fn visit_u64<E>(self, _: u64) -> Result<Content, E> {
                Ok(Content(Err("must be a string or a list of content blocks, not a number".into())))
            }
            fn visit_i64<E>(self, _: i64) -> Result<Content, E> {
                Ok(Content(Err("must be a string or a list of content blocks, not a number".into())))
            }
            fn visit_f64<E>(self, _: f64) -> Result<Content, E> {
                Ok(Content(Err("must be a string or a list of content blocks, not a number".into())))
            }
            fn visit_bool<E>(self, _: bool) -> Result<Content, E> {
                Ok(Content(Err("must be a string or a list of content blocks, not a boolean".into())))
            }
            fn visit_unit<E>(self) -> Result<Content, E> {
                Ok(Content(Err("must be a string or a list of content blocks, not null".into())))
            }
        }
        d.deserialize_any(V)
    }
}

#[derive(Deserialize)]
struct Block<'a> {
    #[serde(rename = "type", borrow)]
    kind: Option<Text<'a>>,
}

#[derive(Deserialize)]
struct TitanEmbedInput<'a> {
    #[serde(rename = "inputText", borrow)]
    input_text: Option<Text<'a>>,
    dimensions: Option<Number>,
}

#[derive(Deserialize)]
struct NovaInput<'a> {
    #[serde(borrow)]
    messages: Option<Vec<NovaMessage<'a>>>,
    #[serde(rename = "inferenceConfig")]
    inference_config: Option<InferenceConfig>,
}

#[derive(Deserialize)]
struct NovaMessage<'a> {
    #[serde(borrow)]
    role: Text<'a>,
    content: Vec<serde_json::Map<String, serde_json::Value>>,
}

#[derive(Deserialize)]
struct InferenceConfig {
    #[serde(rename = "maxTokens", alias = "max_new_tokens")]
    max_tokens: Option<Number>,
    temperature: Option<f64>,
    #[serde(rename = "topP")]
    top_p: Option<f64>,
}

#[derive(Deserialize)]
struct LlamaInput<'a> {
    #[serde(borrow)]
    prompt: Option<Text<'a>>,
    max_gen_len: Option<Number>,
}

/// Titan Multimodal Embeddings G1 (AWS, "Amazon Titan Multimodal Embeddings G1"): `inputText`
/// and/or `inputImage` (base64), at least one; `embeddingConfig.outputEmbeddingLength` 256, 384
/// or 1024.
#[derive(Deserialize)]
struct TitanEmbedImageInput<'a> {
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

/// Amazon Nova Multimodal Embeddings (Amazon Nova User Guide, "Complete embeddings request and
/// response schema"): `schemaVersion` "nova-multimodal-embed-v1" (optional); `taskType`
/// (required); for SINGLE_EMBEDDING, `singleEmbeddingParams` with `embeddingPurpose` (required),
/// `embeddingDimension` 256|384|1024|3072, and one input among `text` (`value` or `source`,
/// `truncationMode` START|END|NONE), `image` (`format` png|jpeg|gif|webp, `detailLevel`
/// STANDARD_IMAGE|DOCUMENT_IMAGE, `source`), `audio` (`format` mp3|wav|ogg, `source`) and `video`
/// (`format`, `source`, `embeddingMode` AUDIO_VIDEO_COMBINED|AUDIO_VIDEO_SEPARATE).
#[derive(Deserialize)]
struct NovaEmbedInput<'a> {
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

/// Cohere Embed v3 (AWS, "Cohere Embed and Cohere Embed v4 models" / "Cohere Embed v3"): `texts`
/// (0 to 96 strings of at most 2,048 characters) or `images` (one data URI, image/jpeg or
/// image/png), never both; `input_type` search_document|search_query|classification|clustering|
/// image (required); `truncate` NONE|START|END; `embedding_types` among float, int8, uint8,
/// binary, ubinary.
#[derive(Deserialize)]
struct CohereEmbedInput<'a> {
    texts: Option<Vec<Text<'a>>>,
    images: Option<Vec<Text<'a>>>,
    #[serde(borrow)]
    input_type: Option<Text<'a>>,
    #[serde(borrow)]
    truncate: Option<Text<'a>>,
    embedding_types: Option<Vec<String>>,
}

/// Mistral AI (AWS, "Mistral AI chat completion": `messages` of `{role: system|user|assistant|
/// tool, content: str}`, `tools`, `tool_choice` auto|any|none, `max_tokens`, `top_p`,
/// `temperature`; "Mistral AI text completion": `prompt` (required), `max_tokens`, `stop`,
/// `temperature`, `top_p`, `top_k`).
#[derive(Deserialize)]
struct MistralInput<'a> {
    #[serde(borrow)]
    prompt: Option<Text<'a>>,
    #[serde(borrow)]
    messages: Option<Vec<RoleContent<'a>>>,
    max_tokens: Option<Number>,
    #[serde(borrow)]
    tool_choice: Option<Text<'a>>,
}

/// A chat message: its role and whatever its content is (checked per family).
#[derive(Deserialize)]
struct RoleContent<'a> {
    #[serde(borrow)]
    role: Option<Text<'a>>,
    /// Only its presence is checked (per family).
    #[allow(dead_code)]
    content: Option<IgnoredAny>,
}

/// DeepSeek-R1 (AWS, "DeepSeek models", text completion): `prompt` (required), `temperature`
/// and `top_p` at most 1, `max_tokens` 1 to 32,768, `stop` at most 10 strings.
#[derive(Deserialize)]
struct DeepSeekInput<'a> {
    #[serde(borrow)]
    prompt: Option<Text<'a>>,
    max_tokens: Option<Number>,
    temperature: Option<f64>,
    top_p: Option<f64>,
    #[serde(borrow)]
    stop: Option<Vec<Text<'a>>>,
}

/// OpenAI gpt-oss (AWS, "OpenAI models": the request body is OpenAI's Create chat completion):
/// A parse error of one JSONL line, placed by column only. serde_json says "at line 1 column 9"
/// (the line within the record); printed after the file's own "line 7:" that reads as two
/// different line numbers side by side.
fn at_column(e: &serde_json::Error) -> String {
    let text = e.to_string();
    match text.rfind(" at line ") {
        Some(i) if e.line() > 0 => format!("{} at column {}", &text[..i], e.column()),
        _ => text,
    }
}

/// The maximum output a record declares, whatever its other problems: `max_tokens`,
/// `max_completion_tokens`, `max_gen_len` at the top of `modelInput`, or `maxTokens` /
/// `max_new_tokens` under its `inferenceConfig`. Only read for records that failed their shape
/// check, so a full parse is affordable here.
fn declared_max_output(line: &str) -> Option<u64> {
    let v: serde_json::Value = serde_json::from_str(line).ok()?;
    let m = v.get("modelInput")?;
    let top = ["max_tokens", "max_completion_tokens", "max_gen_len"].iter().find_map(|k| m.get(k));
    let nested = || m.get("inferenceConfig").and_then(|c| c.get("maxTokens").or_else(|| c.get("max_new_tokens")));
    top.or_else(nested)?.as_u64().filter(|n| *n > 0)
}

/// `messages` of `{role: developer|system|user|assistant|tool, content}`, `max_completion_tokens`
/// (or the older `max_tokens`), `reasoning_effort` low|medium|high. OpenAI's other fields pass.
#[derive(Deserialize)]
struct OpenAiInput<'a> {
    #[serde(borrow)]
    messages: Option<Vec<RoleContent<'a>>>,
    max_completion_tokens: Option<Number>,
    max_tokens: Option<Number>,
    #[serde(borrow)]
    reasoning_effort: Option<Text<'a>>,
}

#[derive(Deserialize)]
struct ConverseInput<'a> {
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

/// A JSON number kept as written, so "an integer" can be checked.
#[derive(Deserialize)]
#[serde(transparent)]
struct Number(serde_json::Number);

impl Number {
    fn as_positive_int(&self) -> Option<u64> {
        self.0.as_u64().filter(|n| *n > 0)
    }
}

// ------------------------------------------------------------------------------------ validator

const ANTHROPIC_VERSION: &str = "bedrock-2023-05-31";
const ANTHROPIC_BLOCKS: &[&str] = &["text", "image", "document", "tool_use", "tool_result", "thinking", "redacted_thinking"];
const NOVA_BLOCKS: &[&str] = &["text", "image", "video", "document", "toolUse", "toolResult"];
/// Converse content blocks (AWS Converse API, ContentBlock): the Nova ones and reasoning, cache
/// points and guarded content.
const CONVERSE_BLOCKS: &[&str] = &["text", "image", "video", "document", "toolUse", "toolResult", "reasoningContent", "cachePoint", "guardContent"];

/// Streams lines in, collects problems.
pub struct Validator {
    family: Family,
    limits: Limits,
    max_examples: usize,
    /// recordId hash → where it first appeared: 32 to 64 bytes a record whatever the id's
    /// length (the table is kept between a quarter and half full).
    ids: ids::IdTable,
    /// The last record's id, looked up one record late: its table slot is prefetched, and
    /// arrives while the next record parses. Its hash, place (file and line) and line; the id
    /// itself, for the message, in `pending_id` (one buffer, reused).
    pending: Option<(u64, u64, u64)>,
    pending_id: String,
    /// Whether records may take the fast path ([`Validator::serde_only`] turns it off).
    fast: bool,
    /// Records the fast path parsed (the rest went to serde_json).
    fast_lines: u64,
    /// Whether duplicate recordIds are looked for across the whole input (see
    /// [`Validator::without_duplicate_ids`]).
    track_ids: bool,
    problems: BTreeMap<Code, Problem>,
    /// foldhash, seeded at random per process: a recordId's 64-bit key in a few instructions
    /// (SipHash took a fifth of a 1 KB record's time).
    hasher: foldhash::fast::RandomState,
    line: u64,
    records: u64,
    blank: u64,
    bytes: u64,
    input_chars: u64,
    media: u64,
    output_ceiling: u64,
    without_max: u64,
    /// The line within the current file.
    file_line: u64,
    /// The files of a job, in the order they were started ([`Validator::start_file`]); the open
    /// one (index `closed`) holds the counters at its start.
    files: Vec<FileCount>,
    closed: usize,
}

/// One record's verdict: Ok(output ceiling) or the problem.
type LineResult = Result<u64, (Code, String)>;

impl Validator {
    pub fn new(family: Family, limits: Limits, max_examples: usize) -> Validator {
        Validator {
            family,
            limits,
            max_examples,
            ids: ids::IdTable::default(),
            pending: None,
            pending_id: String::new(),
            fast: true,
            fast_lines: 0,
            track_ids: true,
            problems: BTreeMap::new(),
            hasher: foldhash::fast::RandomState::default(),
            line: 0,
            records: 0,
            blank: 0,
            bytes: 0,
            input_chars: 0,
            media: 0,
            output_ceiling: 0,
            without_max: 0,
            file_line: 0,
            files: Vec::new(),
            closed: 0,
        }
    }

    /// Starts the next file of a job (a folder validated as one job): line numbers, the byte
    /// order mark and the per-file quotas restart; recordIds are compared across every file.
    pub fn start_file(&mut self, name: &str) {
        self.settle_id();
        self.close_file();
        self.files.push(FileCount { name: name.to_string(), lines: self.line, records: self.records, bytes: self.bytes });
        self.file_line = 0;
    }

    /// Turns the open file's start counters into its counts.
    fn close_file(&mut self) {
        if let Some(f) = self.files.get_mut(self.closed) {
            f.lines = self.line - f.lines;
            f.records = self.records - f.records;
            f.bytes = self.bytes - f.bytes;
            self.closed += 1;
        }
    }

    /// Does not look for duplicate recordIds across the input, so memory stays constant however
    /// many records stream through (the map costs ~16 bytes a record). For `run`, which splits
    /// the input into jobs and checks each job's ids exactly as it writes them.
    pub fn without_duplicate_ids(mut self) -> Validator {
        self.track_ids = false;
        self
    }

    /// Parses every record with serde_json alone, never the fast path: the reference the fast
    /// path is tested against (the differential tests and the `validate_line` fuzz target).
    #[doc(hidden)]
    pub fn serde_only(mut self) -> Validator {
        self.fast = false;
        self
    }

    /// Records a problem found outside the lines (the object's key, say).
    pub fn add_problem(&mut self, code: Code, line: u64, message: String) {
        self.report(code, line, message);
    }

    fn report(&mut self, code: Code, line: u64, message: String) {
        let level = code.severity();
        let p = self.problems.entry(code).or_insert_with(|| Problem { code, level, count: 0, examples: Vec::new() });
        p.count += 1;
        if p.examples.len() < self.max_examples {
            let file = if line > 0 { self.files.last().map(|f| f.name.clone()) } else { None };
            p.examples.push(Example { file, line, message });
        }
    }

    /// Feeds one line (without its `\n`). Never panics, whatever the bytes.
    pub fn feed(&mut self, raw: &[u8]) {
        self.line += 1;
        self.file_line += 1;
        self.bytes += raw.len() as u64 + 1;
        let mut line = raw;
        if self.file_line == 1 && line.starts_with(b"\xEF\xBB\xBF") {
            line = &line[3..];
        }
        if let Some(l) = line.strip_suffix(b"\r") {
            line = l;
        }
        if line.iter().all(u8::is_ascii_whitespace) {
            self.blank += 1;
            return;
        }
        self.records += 1;
        let n = self.file_line;
        let outcome = match self.family {
            Family::Anthropic => self.anthropic(line),
            Family::TitanEmbed => self.generic::<TitanEmbedInput>(line, Self::titan),
            Family::Nova => self.generic::<NovaInput>(line, Self::nova),
            Family::Llama => self.generic::<LlamaInput>(line, Self::llama),
            Family::Converse => self.generic::<ConverseInput>(line, Self::converse),
            Family::TitanEmbedImage => self.generic::<TitanEmbedImageInput>(line, Self::titan_image),
            Family::Mistral => self.generic::<MistralInput>(line, Self::mistral),
            Family::DeepSeek => self.generic::<DeepSeekInput>(line, Self::deepseek),
            Family::OpenAi => self.generic::<OpenAiInput>(line, Self::openai),
            Family::NovaEmbed => self.generic::<NovaEmbedInput>(line, Self::nova_embed),
            Family::CohereEmbed => self.generic::<CohereEmbedInput>(line, Self::cohere_embed),
            Family::Unknown => self.generic::<&RawValue>(line, |_, m| {
                if m.get().starts_with('{') {
                    Ok(0)
                } else {
                    Err((Code::BadModelInput, format!("modelInput must be an object, not {}", m.get().chars().take(40).collect::<String>())))
                }
            }),
        };
        match outcome {
            Ok(0)
                if !matches!(
                    self.family,
                    Family::TitanEmbed | Family::TitanEmbedImage | Family::NovaEmbed | Family::CohereEmbed | Family::Unknown
                ) =>
            {
                // No declared maximum: the model's own limit bounds it, when known.
                self.without_max += 1;
                self.output_ceiling += self.limits.max_output_tokens.unwrap_or(0);
            }
            Ok(ceiling) => self.output_ceiling += ceiling,
            Err((code, msg)) => {
                // A record with a problem still counts toward the ceiling when it declares a
                // maximum: once fixed it will be sent with it.
                self.output_ceiling += std::str::from_utf8(line).ok().and_then(declared_max_output).unwrap_or(0);
                self.report(code, n, msg)
            }
        }
    }

    fn count_text(&mut self, tally: fast::Tally) {
        self.input_chars += tally.chars;
        self.media += tally.media;
    }

    /// Parses a record into the family's shape: the fast path first, serde_json when the fast
    /// path cannot vouch for the line (serde_json then also words any error). The text content
    /// comes with it, counted by the same rules either way.
    fn parse<'a, M: Deserialize<'a>>(&mut self, raw: &'a [u8]) -> Result<(Envelope<'a, M>, fast::Tally), (Code, String)> {
        // The unknown family keeps modelInput as serde_json's RawValue, which only it reads.
        if self.fast && self.family != Family::Unknown {
            if let Some(parsed) = fast::from_slice::<Envelope<M>>(raw) {
                self.fast_lines += 1;
                return Ok(parsed);
            }
        }
        let line = std::str::from_utf8(raw).map_err(|e| (Code::InvalidUtf8, format!("not UTF-8: {e}")))?;
        let rec: Envelope<M> = serde_json::from_str(line).map_err(|e| self.diagnose(line, e))?;
        let (chars, media) = text_content(raw);
        Ok((rec, fast::Tally { chars, media }))
    }

    fn record_id(&mut self, id: Option<&str>) {
        if !self.track_ids {
            return;
        }
        self.settle_id();
        if let Some(id) = id {
            use std::hash::{BuildHasher, Hasher};
            let mut h = self.hasher.build_hasher();
            h.write(id.as_bytes());
            let key = h.finish();
            let line = self.file_line;
            // Where it is: the file's index in the upper 24 bits, its line below.
            let here = ((self.files.len().saturating_sub(1) as u64) << 40) | line;
            self.ids.prefetch(key);
            self.pending = Some((key, here, line));
            self.pending_id.clear();
            self.pending_id.push_str(id);
        }
    }

    /// Looks up the pending recordId (see `pending`). Called before the next one, when a file
    /// starts and when the job ends, so a duplicate is reported against its own file and line.
    fn settle_id(&mut self) {
        let Some((key, here, line)) = self.pending.take() else { return };
        if let Some(first) = self.ids.insert(key, here) {
            let (file, at) = ((first >> 40) as usize, first & ((1 << 40) - 1));
            let where_ = match self.files.get(file) {
                Some(f) if self.files.len() > 1 => format!("line {at} of {}", f.name),
                _ => format!("line {at}"),
            };
            let id = std::mem::take(&mut self.pending_id);
            self.report(Code::DuplicateRecordId, line, format!("recordId {id:?} also on {where_}"));
            self.pending_id = id;
        }
    }

    /// Explains why a line failed to parse into the family's shape.
    fn diagnose(&self, line: &str, err: serde_json::Error) -> (Code, String) {
        let v: serde_json::Value = match serde_json::from_str(line) {
            Ok(v) => v,
            Err(e) => return (Code::InvalidJson, format!("not valid JSON: {}", at_column(&e))),
        };
        let Some(obj) = v.as_object() else { return (Code::NotAnObject, "each line must be a JSON object".into()) };
        if let Some(id) = obj.get("recordId") {
            if !id.is_string() {
                return (Code::BadRecordId, format!("recordId must be a string, not {id}"));
            }
        }
        match obj.get("modelInput") {
            None => (Code::MissingModelInput, "no modelInput".into()),
            Some(m) if !m.is_object() => (Code::BadModelInput, format!("modelInput must be an object, not {}", kind(m))),
            Some(m) => {
                // Bedrock's own words for an Anthropic body with a key it does not know.
                // (Without `messages` it is another shape altogether, e.g. the legacy `prompt`.)
                if self.family == Family::Anthropic && m.get("messages").is_some() {
                    let obj = m.as_object();
                    if obj.is_some_and(|o| o.contains_key("inferenceConfig") || o.contains_key("toolConfig")) {
                        return (
                            Code::WrongShape,
                            "modelInput is in the Converse format (inferenceConfig), not Anthropic's InvokeModel body: validate with --invocation-type converse and submit with modelInvocationType Converse".into(),
                        );
                    }
                    if let Some(extra) = obj.and_then(|o| o.keys().find(|k| !ANTHROPIC_KEYS.contains(&k.as_str()))) {
                        return (
                            Code::BadModelInput,
                            format!("modelInput.{extra}: Extra inputs are not permitted (Anthropic accepts only {})", ANTHROPIC_KEYS.join(", ")),
                        );
                    }
                }
                (Code::WrongShape, format!("modelInput does not have the {:?} shape: {}", self.family, at_column(&err)))
            }
        }
    }

    fn anthropic(&mut self, line: &[u8]) -> LineResult {
        let (rec, tally) = self.parse::<AnthropicInput>(line)?;
        self.record_id(rec.record_id.as_deref());
        let m = rec.model_input.ok_or_else(|| (Code::MissingModelInput, "no modelInput".to_string()))?;
        self.count_text(tally);
        match m.anthropic_version.as_deref() {
            Some(ANTHROPIC_VERSION) => {}
            Some(v) => return Err((Code::WrongShape, format!("anthropic_version is {v:?}; Bedrock needs {ANTHROPIC_VERSION:?}"))),
            None => return Err((Code::WrongShape, format!("anthropic_version is missing; Bedrock needs {ANTHROPIC_VERSION:?}"))),
        }
        let max = m.max_tokens.as_ref().ok_or_else(|| (Code::WrongShape, "max_tokens is missing".to_string()))?;
        let max = max.as_positive_int().ok_or_else(|| (Code::WrongShape, format!("max_tokens must be a positive integer, not {}", max.0)))?;
        if let Some(limit) = self.limits.max_output_tokens {
            if max > limit {
                return Err((Code::MaxTokensOverLimit, format!("max_tokens {max} is over the model's limit of {limit}")));
            }
        }
        if self.limits.forbids_temperature_with_top_p && m.temperature.is_some() && m.top_p.is_some() {
            return Err((Code::TemperatureAndTopP, "temperature and top_p are both set; this model accepts only one of them".into()));
        }
        let count = match m.messages {
            None => return Err((Code::WrongShape, "messages is missing".into())),
            Some(Messages(Err(p))) => return Err((Code::WrongShape, p)),
            Some(Messages(Ok(n))) => n,
        };
        if count == 0 {
            return Err((Code::WrongShape, "messages must be a non-empty list".into()));
        }
        if count % 2 == 0 {
            // Ending with an assistant turn is a prefill: allowed, but worth a note once.
            self.report(Code::AssistantPrefill, self.file_line, "the last message is the assistant's (a prefill)".into());
        }
        Ok(max)
    }

    fn generic<'a, M: Deserialize<'a>>(&mut self, line: &'a [u8], check: fn(&Validator, M) -> LineResult) -> LineResult {
        let (rec, tally) = self.parse::<M>(line)?;
        self.record_id(rec.record_id.as_deref());
        let m = rec.model_input.ok_or_else(|| (Code::MissingModelInput, "no modelInput".to_string()))?;
        self.count_text(tally);
        check(self, m)
    }

    fn titan(&self, m: TitanEmbedInput) -> LineResult {
        match m.input_text.as_deref() {
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

    fn messages_blocks(messages: &[NovaMessage], blocks: &[&str]) -> Result<(), (Code, String)> {
        if messages.is_empty() {
            return Err((Code::WrongShape, "messages must be a non-empty list".into()));
        }
        for (i, msg) in messages.iter().enumerate() {
            if &*msg.role != "user" && &*msg.role != "assistant" {
                return Err((Code::WrongShape, format!("messages[{i}].role must be user or assistant, not {:?}", msg.role)));
            }
            if msg.content.is_empty() {
                return Err((Code::WrongShape, format!("messages[{i}].content must be a non-empty list of blocks")));
            }
            for (j, b) in msg.content.iter().enumerate() {
                if !b.keys().any(|k| blocks.contains(&k.as_str())) {
                    return Err((Code::WrongShape, format!("messages[{i}].content[{j}] has none of {blocks:?}")));
                }
            }
        }
        Ok(())
    }

    fn inference(&self, c: &Option<InferenceConfig>) -> LineResult {
        let Some(c) = c else { return Ok(0) };
        if self.limits.forbids_temperature_with_top_p && c.temperature.is_some() && c.top_p.is_some() {
            return Err((Code::TemperatureAndTopP, "temperature and topP are both set; this model accepts only one of them".into()));
        }
        let Some(max) = &c.max_tokens else { return Ok(0) };
        let max = max
            .as_positive_int()
            .ok_or_else(|| (Code::WrongShape, format!("inferenceConfig.maxTokens must be a positive integer, not {}", max.0)))?;
        if let Some(limit) = self.limits.max_output_tokens {
            if max > limit {
                return Err((Code::MaxTokensOverLimit, format!("maxTokens {max} is over the model's limit of {limit}")));
            }
        }
        Ok(max)
    }

    fn nova(&self, m: NovaInput) -> LineResult {
        Self::messages_blocks(m.messages.as_deref().unwrap_or_default(), NOVA_BLOCKS)?;
        self.inference(&m.inference_config)
    }

    fn converse(&self, m: ConverseInput) -> LineResult {
        if m.tool_config.is_some() {
            return Err((Code::BadModelInput, "toolConfig: batch inference does not support tool use in the Converse format".into()));
        }
        Self::messages_blocks(m.messages.as_deref().unwrap_or_default(), CONVERSE_BLOCKS)?;
        self.inference(&m.inference_config)
    }

    fn llama(&self, m: LlamaInput) -> LineResult {
        match m.prompt.as_deref() {
            Some(p) if !p.is_empty() => {}
            _ => return Err((Code::WrongShape, "prompt must be a non-empty string".into())),
        }
        let Some(max) = &m.max_gen_len else { return Ok(0) };
        let max = max.as_positive_int().ok_or_else(|| (Code::WrongShape, format!("max_gen_len must be a positive integer, not {}", max.0)))?;
        if let Some(limit) = self.limits.max_output_tokens {
            if max > limit {
                return Err((Code::MaxTokensOverLimit, format!("max_gen_len {max} is over the model's limit of {limit}")));
            }
        }
        Ok(max)
    }

    fn titan_image(&self, m: TitanEmbedImageInput) -> LineResult {
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

    fn nova_embed(&self, m: NovaEmbedInput) -> LineResult {
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

    fn cohere_embed(&self, m: CohereEmbedInput) -> LineResult {
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

    /// A declared maximum output: a positive integer within the model's limit (and `cap`).
    fn max_output(&self, name: &str, max: &Option<Number>, cap: Option<u64>) -> LineResult {
        let Some(max) = max else { return Ok(0) };
        let n = max.as_positive_int().ok_or_else(|| (Code::WrongShape, format!("{name} must be a positive integer, not {}", max.0)))?;
        if let Some(cap) = cap.filter(|c| n > *c) {
            return Err((Code::MaxTokensOverLimit, format!("{name} {n} is over the documented maximum of {cap}")));
        }
        if let Some(limit) = self.limits.max_output_tokens.filter(|l| n > *l) {
            return Err((Code::MaxTokensOverLimit, format!("{name} {n} is over the model's limit of {limit}")));
        }
        Ok(n)
    }

    /// Chat messages: non-empty, each with one of `roles` and a content.
    fn chat_messages(messages: &Option<Vec<RoleContent>>, roles: &[&str]) -> Result<(), (Code, String)> {
        let Some(messages) = messages else { return Err((Code::WrongShape, "messages is missing".into())) };
        if messages.is_empty() {
            return Err((Code::WrongShape, "messages must be a non-empty list".into()));
        }
        for (i, m) in messages.iter().enumerate() {
            match m.role.as_deref() {
                Some(r) if roles.contains(&r) => {}
                other => return Err((Code::WrongShape, format!("messages[{i}].role must be one of {roles:?}, not {other:?}"))),
            }
            if m.content.is_none() {
                return Err((Code::WrongShape, format!("messages[{i}].content is missing")));
            }
        }
        Ok(())
    }

    fn mistral(&self, m: MistralInput) -> LineResult {
        match (&m.prompt, &m.messages) {
            (Some(_), Some(_)) => return Err((Code::WrongShape, "give prompt (text completion) or messages (chat), not both".into())),
            (None, None) => return Err((Code::WrongShape, "prompt (text completion) or messages (chat) is required".into())),
            (Some(p), None) if p.is_empty() => return Err((Code::WrongShape, "prompt must be a non-empty string".into())),
            (Some(_), None) => {}
            (None, Some(_)) => {
                Self::chat_messages(&m.messages, &["system", "user", "assistant", "tool"])?;
                if let Some(tc) = m.tool_choice.as_deref().filter(|t| !matches!(*t, "auto" | "any" | "none")) {
                    return Err((Code::WrongShape, format!("tool_choice must be auto, any or none, not {tc:?}")));
                }
            }
        }
        self.max_output("max_tokens", &m.max_tokens, None)
    }

    fn deepseek(&self, m: DeepSeekInput) -> LineResult {
        match m.prompt.as_deref() {
            Some(p) if !p.is_empty() => {}
            _ => return Err((Code::WrongShape, "prompt must be a non-empty string".into())),
        }
        for (name, v) in [("temperature", m.temperature), ("top_p", m.top_p)] {
            if let Some(v) = v.filter(|v| !(0.0..=1.0).contains(v)) {
                return Err((Code::WrongShape, format!("{name} must be between 0 and 1, not {v}")));
            }
        }
        if m.stop.as_ref().is_some_and(|s| s.len() > 10) {
            return Err((Code::WrongShape, "stop takes at most 10 strings".into()));
        }
        self.max_output("max_tokens", &m.max_tokens, Some(32_768))
    }

    fn openai(&self, m: OpenAiInput) -> LineResult {
        Self::chat_messages(&m.messages, &["developer", "system", "user", "assistant", "tool"])?;
        if let Some(e) = m.reasoning_effort.as_deref().filter(|e| !matches!(*e, "low" | "medium" | "high")) {
            return Err((Code::WrongShape, format!("reasoning_effort must be low, medium or high, not {e:?}")));
        }
        match (&m.max_completion_tokens, &m.max_tokens) {
            (Some(_), _) => self.max_output("max_completion_tokens", &m.max_completion_tokens, None),
            (None, _) => self.max_output("max_tokens", &m.max_tokens, None),
        }
    }

    /// The last line had no final newline: it was counted with one.
    pub fn uncount_final_newline(&mut self) {
        self.bytes = self.bytes.saturating_sub(1);
    }

    /// File-level checks, then the report. For a job of several files ([`Validator::start_file`]),
    /// the per-file quotas apply to each file and the per-job quotas to their total, as Bedrock
    /// counts a job whose input URI is a folder (AWS, per-model quotas "Records per input file per
    /// batch inference job", "Batch inference input file size" per file; "Records per batch
    /// inference job", "Batch inference job size", "Minimum number of records per batch inference
    /// job" per job).
    pub fn finish(mut self, source: &str, key_name: Option<&str>) -> Report {
        self.settle_id();
        if let Some(name) = key_name {
            if !name.ends_with(".jsonl") {
                self.report(Code::NotJsonl, 0, format!("{name}: Bedrock reads only files whose names end in .jsonl"));
            }
        }
        self.close_file();
        let l = self.limits.clone();
        let what = if self.files.is_empty() { "the file" } else { "the job" };
        if self.records < l.min_records {
            self.report(
                Code::TooFewRecords,
                0,
                format!("{} in {what}; the model's minimum per job is {}", crate::output::count(self.records, "record", "records"), l.min_records),
            );
        }
        let per_file: Vec<(String, u64, u64)> = if self.files.is_empty() {
            vec![(String::new(), self.records, self.bytes)]
        } else {
            self.files.iter().map(|f| (format!("{}: ", f.name), f.records, f.bytes)).collect()
        };
        for (name, records, bytes) in per_file {
            if records > l.max_records_per_file {
                self.report(Code::TooManyRecords, 0, format!("{name}{records} records; the quota is {} per file", l.max_records_per_file));
            }
            if bytes > l.max_file_bytes {
                self.report(Code::FileTooLarge, 0, format!("{name}{bytes} bytes; the input file quota is {} bytes", l.max_file_bytes));
            }
        }
        if self.records > l.max_records_per_job {
            self.report(
                Code::TooManyRecordsPerJob,
                0,
                format!("{} in {what}; the quota is {} per job", crate::output::count(self.records, "record", "records"), l.max_records_per_job),
            );
        }
        if self.bytes > l.max_job_bytes {
            self.report(Code::JobTooLarge, 0, format!("{} bytes in {what}; the job size quota is {} bytes", self.bytes, l.max_job_bytes));
        }
        if self.family == Family::Unknown {
            self.report(Code::UnknownFamily, 0, "the model family is not known: only the envelope (recordId, modelInput) was checked".into());
        }
        let mut problems: Vec<Problem> = self.problems.into_values().collect();
        problems.sort_by(|a, b| a.level.cmp(&b.level).then(a.code.as_str().cmp(b.code.as_str())));
        Report {
            source: source.to_string(),
            family: self.family,
            bytes: self.bytes,
            lines: self.line,
            records: self.records,
            blank_lines: self.blank,
            input_tokens_estimate: self.input_chars / 4,
            media_not_estimated: self.media,
            output_tokens_ceiling: self.output_ceiling,
            records_without_max_tokens: self.without_max,
            problems,
            files: self.files,
        }
    }
}

/// Keys whose string values are text the model reads: message text and content, prompts, system
/// prompts, texts to embed.
pub const TEXT_KEYS: &[&str] = &["text", "content", "prompt", "system", "inputText", "texts", "input", "value"];
/// Keys that hold an image, document or video block (Converse, Nova).
pub const MEDIA_KEYS: &[&str] = &["image", "document", "video", "audio"];

fn is_text_key(k: &[u8]) -> bool {
    // The same list as TEXT_KEYS, as a match: a dispatch on length, not eight comparisons.
    matches!(k, b"text" | b"content" | b"prompt" | b"system" | b"inputText" | b"texts" | b"input" | b"value")
}

fn is_media_key(k: &[u8]) -> bool {
    matches!(k, b"image" | b"document" | b"video" | b"audio")
}

/// The first `a` or `b` in `hay`. JSON keys and the gaps between strings are short: the first
/// 32 bytes are tested eight at a time in a register, and only a longer stretch goes to
/// memchr's vector search (whose setup costs more than a short key).
#[inline]
fn find2(hay: &[u8], a: u8, b: u8) -> Option<usize> {
    const ONES: u64 = u64::MAX / 255;
    const HIGH: u64 = ONES << 7;
    let (wa, wb) = (ONES * u64::from(a), ONES * u64::from(b));
    let mut at = 0;
    while at + 8 <= hay.len() && at < 32 {
        let w = u64::from_le_bytes(hay[at..at + 8].try_into().unwrap_or([0; 8]));
        // A zero byte of w ^ wa is an `a` (the classic has-zero-byte test; exact for the lowest
        // match, which is the one taken).
        let (xa, xb) = (w ^ wa, w ^ wb);
        let found = ((xa.wrapping_sub(ONES) & !xa) | (xb.wrapping_sub(ONES) & !xb)) & HIGH;
        if found != 0 {
            return Some(at + found.trailing_zeros() as usize / 8);
        }
        at += 8;
    }
    if at < 32 {
        // Fewer than eight bytes left.
        return hay[at..].iter().position(|&c| c == a || c == b).map(|p| p + at);
    }
    memchr::memchr2(a, b, &hay[at..]).map(|p| p + at)
}

/// The characters of text content in a JSON record, and how many images, documents and
/// videos it holds. One scan of the bytes: a string followed by `:` is a key; a string value
/// counts when the key before it is one of [`TEXT_KEYS`] (characters, an escape as one); a
/// `"type"` of `image` or `document` (Anthropic) or an object under a [`MEDIA_KEYS`] key
/// (Converse, Nova) is one medium. Malformed JSON gives a partial count, never a panic.
pub fn text_content(b: &[u8]) -> (u64, u64) {
    let (mut chars, mut media) = (0u64, 0u64);
    let mut key: &[u8] = b"";
    let mut i = 0;
    // The next opening quote (a backslash outside a string is skipped as any other byte).
    while let Some(q) = find2(&b[i..], b'"', b'"') {
        let start = i + q + 1;
        // The string's end: the next quote not escaped. Escapes are rare; jump between them.
        let mut j = start;
        let mut escapes = 0u64;
        loop {
            match find2(&b[j..], b'"', b'\\') {
                Some(k) if b[j + k] == b'\\' => {
                    // `\uXXXX` is one character in 6 bytes, `\x` one in 2.
                    let width: usize = if b.get(j + k + 1) == Some(&b'u') { 6 } else { 2 };
                    escapes += width as u64 - 1;
                    j += k + width;
                    if j >= b.len() {
                        j = b.len();
                        break;
                    }
                }
                Some(k) => {
                    j += k;
                    break;
                }
                None => {
                    j = b.len();
                    break;
                }
            }
        }
        let s = &b[start..j];
        i = (j + 1).min(b.len());
        let next = b[i..].iter().position(|c| !c.is_ascii_whitespace()).map(|p| i + p);
        if next.is_some_and(|n| b[n] == b':') {
            key = s;
            if is_media_key(s) {
                let after = next.map(|n| n + 1).unwrap_or(b.len());
                if b[after..].iter().find(|c| !c.is_ascii_whitespace()) == Some(&b'{') {
                    media += 1;
                }
            }
        } else if is_text_key(key) {
            // Characters: bytes, less UTF-8 continuation bytes, less the escapes' extra bytes.
            // Most text is ASCII (checked a word at a time); only other text is counted byte by byte.
            let cont = if s.is_ascii() { 0 } else { s.iter().map(|&c| u64::from((c as i8) < -64)).sum::<u64>() };
            chars += (s.len() as u64).saturating_sub(cont + escapes);
        } else if key == b"type" && (s == b"image" || s == b"document") {
            media += 1;
        }
        if i >= b.len() {
            break;
        }
    }
    (chars, media)
}

fn kind(v: &serde_json::Value) -> &'static str {
    match v {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "an array",
        serde_json::Value::Object(_) => "an object",
    }
}

/// Splits a buffer into lines and feeds them; returns the bytes of an unfinished last line,
/// which the caller carries into the next buffer.
pub fn feed_buffer(v: &mut Validator, buf: &[u8]) -> usize {
    let mut start = 0;
    for nl in memchr::memchr_iter(b'\n', buf) {
        v.feed(&buf[start..nl]);
        start = nl + 1;
    }
    buf.len() - start
}

/// Validates a reader (a file, or an S3 object's body), streaming in 1 MiB buffers.
pub fn validate_reader<R: std::io::Read>(mut r: R, mut v: Validator, progress: impl Fn(u64)) -> std::io::Result<Validator> {
    let mut buf = vec![0u8; 1 << 20];
    let mut filled = 0usize;
    let mut total = 0u64;
    loop {
        if filled == buf.len() {
            // A line longer than the buffer: grow it (Bedrock's records are far smaller than 1 GiB).
            buf.resize(buf.len() * 2, 0);
        }
        let n = r.read(&mut buf[filled..])?;
        if n == 0 {
            break;
        }
        total += n as u64;
        progress(total);
        let end = filled + n;
        let rest = feed_buffer(&mut v, &buf[..end]);
        buf.copy_within(end - rest..end, 0);
        filled = rest;
    }
    if filled > 0 {
        // A missing final newline: the last line still counts, as Bedrock reads it.
        v.feed(&buf[..filled]);
        v.uncount_final_newline();
    }
    Ok(v)
}

/// Estimated cost in USD of a report: (low, high) where low prices the input only and high
/// adds the output ceiling; batch price = on-demand × discount.
pub fn price(report: &Report, prices: &Value, model_id: &str) -> Option<(f64, f64, String)> {
    let p = prices.get("models")?.get(model_id)?;
    let discount = prices.get("batch_discount").and_then(Value::as_f64).unwrap_or(0.5);
    let input = p.get("input")?.as_f64()? * discount / 1e6;
    let output = p.get("output")?.as_f64()? * discount / 1e6;
    let low = report.input_tokens_estimate as f64 * input;
    let high = low + report.output_tokens_ceiling as f64 * output;
    Some((low, high, prices.get("as_of").and_then(Value::as_str).unwrap_or("?").to_string()))
}

use serde_json::Value;

/// The embedded price table.
pub const PRICES: &str = include_str!("../policies/prices.json");

#[cfg(test)]
mod tests {

    #[test]
    fn text_content_counts_text_not_syntax_and_media_apart() {
        let rec = r#"{"recordId":"abc","modelInput":{"anthropic_version":"bedrock-2023-05-31","max_tokens":64,"system":"Be brief.","messages":[{"role":"user","content":[{"type":"text","text":"Summarise caf\u00e9 notes"},{"type":"image","source":{"type":"base64","media_type":"image/png","data":"iVBORw0KGgo="}}]},{"role":"assistant","content":"Sure"}]}}"#;
        let (chars, media) = text_content(rec.as_bytes());
        // "Be brief." 9 + "Summarise café notes" 20 + "Sure" 4.
        assert_eq!((chars, media), (33, 1));
        let converse =
            r#"{"modelInput":{"messages":[{"role":"user","content":[{"text":"héllo"},{"image":{"format":"png","source":{"bytes":"AAAA"}}}]}]}}"#;
        assert_eq!(text_content(converse.as_bytes()), (5, 1));
        // Malformed input: a partial count, no panic.
        let _ = text_content(br#"{"text":"unterminated \"#);
    }

    #[test]
    fn find2_finds_what_a_plain_scan_finds() {
        // Every length to 80 and every position of the first match (or none), with bytes that
        // sit next to '"' and '\\' in value and high bytes that could fool the word test.
        let filler = [b'a', b'!', b'#', b'[', b']', 0x80, 0xff, 0x01, b' '];
        for len in 0..80usize {
            for first in (0..=len).step_by(1) {
                for (i, &target) in [b'"', b'\\'].iter().enumerate() {
                    let mut hay: Vec<u8> = (0..len).map(|k| filler[(k * 7 + i + first) % filler.len()]).collect();
                    if first < len {
                        hay[first] = target;
                        if first + 1 < len {
                            hay[first + 1] = b'"';
                        }
                    }
                    let want = hay.iter().position(|&c| c == b'"' || c == b'\\');
                    assert_eq!(find2(&hay, b'"', b'\\'), want, "{hay:?}");
                }
            }
        }
    }

    #[test]
    fn the_key_matches_are_the_key_lists() {
        for k in TEXT_KEYS {
            assert!(is_text_key(k.as_bytes()) && !is_media_key(k.as_bytes()), "{k}");
        }
        for k in MEDIA_KEYS {
            assert!(is_media_key(k.as_bytes()) && !is_text_key(k.as_bytes()), "{k}");
        }
        assert!(!is_text_key(b"type") && !is_text_key(b"texts2") && !is_media_key(b"images"));
        // Keys, gaps and strings longer than the byte-by-byte stretch go to the vector search.
        let long = format!(r#"{{"{}":1, {}"text" : "{}\"{}"}}"#, "k".repeat(40), " ".repeat(40), "a".repeat(50), "b".repeat(30));
        assert_eq!(text_content(long.as_bytes()), (81, 0));
    }

    #[test]
    fn the_estimate_is_text_length_over_four_and_a_missing_maximum_counts_at_the_limit() {
        let text = "word ".repeat(200);
        let line = format!(r#"{{"recordId":"a","modelInput":{{"messages":[{{"role":"user","content":[{{"text":"{text}"}}]}}]}}}}"#);
        let limits = Limits { max_output_tokens: Some(5000), ..Limits::default() };
        let mut v = Validator::new(Family::Nova, limits, 3);
        v.feed(line.as_bytes());
        let r = v.finish("x", None);
        let want = text.len() as f64 / 4.0;
        assert!((r.input_tokens_estimate as f64 - want).abs() <= want * 0.1, "{} vs {want}", r.input_tokens_estimate);
        assert_eq!((r.output_tokens_ceiling, r.records_without_max_tokens), (5000, 1));
    }

    use super::*;

    fn run(family: Family, text: &str) -> Report {
        let v = Validator::new(family, Limits { min_records: 1, ..Limits::default() }, 20);
        validate_reader(text.as_bytes(), v, |_| {}).unwrap().finish("t", Some("t.jsonl"))
    }

    fn codes(r: &Report) -> Vec<&'static str> {
        r.problems.iter().filter(|p| p.level == Level::Error).map(|p| p.code.as_str()).collect()
    }

    const OK: &str =
        r#"{"recordId":"a","modelInput":{"anthropic_version":"bedrock-2023-05-31","max_tokens":10,"messages":[{"role":"user","content":"hi"}]}}"#;

    #[test]
    fn all_lists_every_family_once() {
        for (i, f) in Family::ALL.iter().enumerate() {
            assert_eq!(f.ordinal(), i, "{f:?}");
        }
    }

    #[test]
    fn parse_errors_name_a_column_not_a_second_line() {
        let r = run(Family::Anthropic, &format!("{OK}\n{{\"recordId\": \"b\", oops}}\n"));
        let e = &r.problems.iter().find(|p| p.code == Code::InvalidJson).expect("invalid-json").examples[0];
        assert_eq!(e.line, 2);
        assert!(e.message.contains("at column 19") && !e.message.contains("line"), "{}", e.message);
    }

    #[test]
    fn records_with_problems_still_count_their_declared_maximum() {
        let bad_role = OK.replace("\"user\"", "\"assistant\"").replace("\"a\"", "\"b\"");
        let nova_bad = r#"{"recordId":"n","modelInput":{"messages":"x","inferenceConfig":{"maxTokens":7}}}"#;
        let r = run(Family::Anthropic, &format!("{OK}\n{bad_role}\n"));
        assert_eq!(codes(&r), vec!["wrong-shape"]);
        assert_eq!(r.output_tokens_ceiling, 20, "both records declare 10");
        let r = run(Family::Nova, nova_bad);
        assert!(!codes(&r).is_empty());
        assert_eq!(r.output_tokens_ceiling, 7);
        let v = Validator::new(Family::Anthropic, Limits::default(), 20);
        let r = validate_reader(OK.as_bytes(), v, |_| {}).unwrap().finish("t", Some("t.jsonl"));
        assert!(r.problems.iter().flat_map(|p| &p.examples).any(|e| e.message.contains("1 record in the file")), "{r:#?}");
    }

    #[test]
    fn bom_crlf_blank_and_no_final_newline() {
        let text = format!("\u{feff}{OK}\r\n\n{}", OK.replace("\"a\"", "\"b\""));
        let r = run(Family::Anthropic, &text);
        assert_eq!(codes(&r), Vec::<&str>::new(), "{r:#?}");
        assert_eq!((r.records, r.blank_lines), (2, 1));
        assert_eq!(r.output_tokens_ceiling, 20);
    }

    #[test]
    fn duplicates_and_broken_lines_are_located() {
        let text = format!("{OK}\n{{broken\n{OK}\n");
        let r = run(Family::Anthropic, &text);
        assert_eq!(codes(&r), vec!["duplicate-record-id", "invalid-json"]);
        let dup = r.problems.iter().find(|p| p.code.as_str() == "duplicate-record-id").unwrap();
        assert_eq!(dup.examples[0].line, 3);
        assert!(dup.examples[0].message.contains("line 1"));
    }

    #[test]
    fn a_string_field_is_quoted_in_messages_as_written() {
        let line = r#"{"recordId":"a","modelInput":{"messages":[{"role":"system","content":[{"text":"hi"}]}]}}"#;
        let r = run(Family::Nova, line);
        let p = r.problems.iter().find(|p| p.code.as_str() == "wrong-shape").expect("a wrong shape");
        assert!(p.examples[0].message.ends_with(r#"role must be user or assistant, not "system""#), "{}", p.examples[0].message);
    }

    #[test]
    fn anthropic_shape() {
        let bad = OK.replace("bedrock-2023-05-31", "2023-06-01");
        assert_eq!(codes(&run(Family::Anthropic, &bad)), vec!["wrong-shape"]);
        let bad = OK.replace("\"max_tokens\":10", "\"max_tokens\":1.5");
        assert_eq!(codes(&run(Family::Anthropic, &bad)), vec!["wrong-shape"]);
        let bad = OK.replace("\"role\":\"user\"", "\"role\":\"assistant\"");
        assert_eq!(codes(&run(Family::Anthropic, &bad)), vec!["wrong-shape"]);
        let bad = OK.replace("\"hi\"", "[{\"type\":\"audio\"}]");
        assert_eq!(codes(&run(Family::Anthropic, &bad)), vec!["wrong-shape"]);
        let v = Validator::new(
            Family::Anthropic,
            Limits { min_records: 1, max_output_tokens: Some(5), forbids_temperature_with_top_p: true, ..Limits::default() },
            20,
        );
        let r = validate_reader(OK.as_bytes(), v, |_| {}).unwrap().finish("t", None);
        assert_eq!(codes(&r), vec!["max-tokens-over-limit"]);
    }

    #[test]
    fn other_families() {
        assert!(codes(&run(Family::TitanEmbed, r#"{"modelInput":{"inputText":"x"}}"#)).is_empty());
        assert_eq!(codes(&run(Family::TitanEmbed, r#"{"modelInput":{"texts":["x"]}}"#)), vec!["wrong-shape"]);
        assert!(codes(&run(
            Family::Nova,
            r#"{"modelInput":{"messages":[{"role":"user","content":[{"text":"x"}]}],"inferenceConfig":{"maxTokens":5}}}"#
        ))
        .is_empty());
        assert_eq!(codes(&run(Family::Nova, r#"{"modelInput":{"messages":[{"role":"user","content":"x"}]}}"#)), vec!["wrong-shape"]);
        assert!(codes(&run(Family::Llama, r#"{"modelInput":{"prompt":"x","max_gen_len":5}}"#)).is_empty());
        assert_eq!(codes(&run(Family::Llama, r#"{"modelInput":{"messages":[]}}"#)), vec!["wrong-shape"]);
        let r = run(Family::Unknown, r#"{"modelInput":{"anything":1}}"#);
        assert!(codes(&r).is_empty() && r.problems.iter().any(|p| p.code.as_str() == "unknown-family"));
        assert_eq!(codes(&run(Family::Unknown, r#"{"modelInput":"text"}"#)), vec!["bad-model-input"]);
    }

    /// The families added from AWS's model-parameter pages: a good `modelInput`, then one bad
    /// one per rule, each with the code it must give.
    const FAMILY_CASES: &[(Family, &str, &[&str])] = &[
        (Family::TitanEmbedImage, r#"{"inputText":"a cat"}"#, &[]),
        (Family::TitanEmbedImage, r#"{"inputImage":"iVBORw0KGgo=","embeddingConfig":{"outputEmbeddingLength":384}}"#, &[]),
        (Family::TitanEmbedImage, r#"{"embeddingConfig":{"outputEmbeddingLength":256}}"#, &["wrong-shape"]),
        (Family::TitanEmbedImage, r#"{"inputText":"x","embeddingConfig":{"outputEmbeddingLength":512}}"#, &["wrong-shape"]),
        (Family::Mistral, r#"{"prompt":"<s>[INST] hi [/INST]","max_tokens":50,"stop":["</s>"],"top_k":5}"#, &[]),
        (
            Family::Mistral,
            r#"{"messages":[{"role":"system","content":"be brief"},{"role":"user","content":"hi"}],"tool_choice":"auto","max_tokens":9}"#,
            &[],
        ),
        (Family::Mistral, r#"{"max_tokens":9}"#, &["wrong-shape"]),
        (Family::Mistral, r#"{"prompt":"x","messages":[{"role":"user","content":"hi"}]}"#, &["wrong-shape"]),
        (Family::Mistral, r#"{"messages":[{"role":"developer","content":"hi"}]}"#, &["wrong-shape"]),
        (Family::Mistral, r#"{"messages":[{"role":"user","content":"hi"}],"tool_choice":"required"}"#, &["wrong-shape"]),
        (Family::Mistral, r#"{"prompt":"x","max_tokens":0}"#, &["wrong-shape"]),
        (Family::DeepSeek, r#"{"prompt":"why?","max_tokens":2048,"temperature":0.6,"top_p":0.9,"stop":["STOP"]}"#, &[]),
        (Family::DeepSeek, r#"{"max_tokens":10}"#, &["wrong-shape"]),
        (Family::DeepSeek, r#"{"prompt":"x","max_tokens":40000}"#, &["max-tokens-over-limit"]),
        (Family::DeepSeek, r#"{"prompt":"x","temperature":1.5}"#, &["wrong-shape"]),
        (Family::DeepSeek, r#"{"prompt":"x","stop":["a","b","c","d","e","f","g","h","i","j","k"]}"#, &["wrong-shape"]),
        (
            Family::OpenAi,
            r#"{"messages":[{"role":"developer","content":"be brief"},{"role":"user","content":[{"type":"text","text":"hi"}]}],"max_completion_tokens":500,"reasoning_effort":"low","temperature":1}"#,
            &[],
        ),
        (Family::OpenAi, r#"{"messages":[{"role":"user","content":"hi"}],"max_tokens":20}"#, &[]),
        (Family::OpenAi, r#"{"prompt":"hi"}"#, &["wrong-shape"]),
        (Family::OpenAi, r#"{"messages":[{"role":"robot","content":"hi"}]}"#, &["wrong-shape"]),
        (Family::OpenAi, r#"{"messages":[{"role":"user"}]}"#, &["wrong-shape"]),
        (Family::OpenAi, r#"{"messages":[{"role":"user","content":"hi"}],"reasoning_effort":"extreme"}"#, &["wrong-shape"]),
        (Family::OpenAi, r#"{"messages":[{"role":"user","content":"hi"}],"max_completion_tokens":-1}"#, &["wrong-shape"]),
        // Nova Multimodal Embeddings: a good text and a good image request, then a bad one per rule.
        (
            Family::NovaEmbed,
            r#"{"schemaVersion":"nova-multimodal-embed-v1","taskType":"SINGLE_EMBEDDING","singleEmbeddingParams":{"embeddingPurpose":"GENERIC_INDEX","embeddingDimension":3072,"text":{"truncationMode":"END","value":"a cat"}}}"#,
            &[],
        ),
        (
            Family::NovaEmbed,
            r#"{"taskType":"SINGLE_EMBEDDING","singleEmbeddingParams":{"embeddingPurpose":"IMAGE_RETRIEVAL","image":{"format":"png","detailLevel":"STANDARD_IMAGE","source":{"bytes":"iVBORw0KGgo="}}}}"#,
            &[],
        ),
        (
            Family::NovaEmbed,
            r#"{"schemaVersion":"v2","taskType":"SINGLE_EMBEDDING","singleEmbeddingParams":{"embeddingPurpose":"GENERIC_INDEX","text":{"value":"x"}}}"#,
            &["wrong-shape"],
        ),
        (Family::NovaEmbed, r#"{"singleEmbeddingParams":{"embeddingPurpose":"GENERIC_INDEX","text":{"value":"x"}}}"#, &["wrong-shape"]),
        (
            Family::NovaEmbed,
            r#"{"taskType":"EMBED","singleEmbeddingParams":{"embeddingPurpose":"GENERIC_INDEX","text":{"value":"x"}}}"#,
            &["wrong-shape"],
        ),
        (Family::NovaEmbed, r#"{"taskType":"SINGLE_EMBEDDING"}"#, &["wrong-shape"]),
        (Family::NovaEmbed, r#"{"taskType":"SEGMENTED_EMBEDDING"}"#, &["wrong-shape"]),
        (Family::NovaEmbed, r#"{"taskType":"SINGLE_EMBEDDING","singleEmbeddingParams":{"text":{"value":"x"}}}"#, &["wrong-shape"]),
        (
            Family::NovaEmbed,
            r#"{"taskType":"SINGLE_EMBEDDING","singleEmbeddingParams":{"embeddingPurpose":"SEARCH","text":{"value":"x"}}}"#,
            &["wrong-shape"],
        ),
        (
            Family::NovaEmbed,
            r#"{"taskType":"SINGLE_EMBEDDING","singleEmbeddingParams":{"embeddingPurpose":"GENERIC_INDEX","embeddingDimension":512,"text":{"value":"x"}}}"#,
            &["wrong-shape"],
        ),
        (Family::NovaEmbed, r#"{"taskType":"SINGLE_EMBEDDING","singleEmbeddingParams":{"embeddingPurpose":"GENERIC_INDEX"}}"#, &["wrong-shape"]),
        (
            Family::NovaEmbed,
            r#"{"taskType":"SINGLE_EMBEDDING","singleEmbeddingParams":{"embeddingPurpose":"GENERIC_INDEX","text":{"value":"x"},"audio":{"format":"mp3","source":{}}}}"#,
            &["wrong-shape"],
        ),
        (
            Family::NovaEmbed,
            r#"{"taskType":"SINGLE_EMBEDDING","singleEmbeddingParams":{"embeddingPurpose":"GENERIC_INDEX","text":{}}}"#,
            &["wrong-shape"],
        ),
        (
            Family::NovaEmbed,
            r#"{"taskType":"SINGLE_EMBEDDING","singleEmbeddingParams":{"embeddingPurpose":"GENERIC_INDEX","text":{"value":"x","truncationMode":"MIDDLE"}}}"#,
            &["wrong-shape"],
        ),
        (
            Family::NovaEmbed,
            r#"{"taskType":"SINGLE_EMBEDDING","singleEmbeddingParams":{"embeddingPurpose":"GENERIC_INDEX","image":{"format":"png"}}}"#,
            &["wrong-shape"],
        ),
        (
            Family::NovaEmbed,
            r#"{"taskType":"SINGLE_EMBEDDING","singleEmbeddingParams":{"embeddingPurpose":"GENERIC_INDEX","image":{"format":"bmp","source":{}}}}"#,
            &["wrong-shape"],
        ),
        (
            Family::NovaEmbed,
            r#"{"taskType":"SINGLE_EMBEDDING","singleEmbeddingParams":{"embeddingPurpose":"VIDEO_RETRIEVAL","video":{"format":"mp4","source":{},"embeddingMode":"VIDEO_ONLY"}}}"#,
            &["wrong-shape"],
        ),
        // Cohere Embed v3: good texts and a good image, then a bad one per rule.
        (
            Family::CohereEmbed,
            r#"{"texts":["a cat","a dog"],"input_type":"search_document","truncate":"END","embedding_types":["float","int8"]}"#,
            &[],
        ),
        (Family::CohereEmbed, r#"{"images":["data:image/png;base64,iVBORw0KGgo="],"input_type":"image"}"#, &[]),
        (Family::CohereEmbed, r#"{"texts":["x"]}"#, &["wrong-shape"]),
        (Family::CohereEmbed, r#"{"texts":["x"],"input_type":"search"}"#, &["wrong-shape"]),
        (Family::CohereEmbed, r#"{"input_type":"clustering"}"#, &["wrong-shape"]),
        (Family::CohereEmbed, r#"{"texts":["x"],"images":["data:image/png;base64,AA=="],"input_type":"image"}"#, &["wrong-shape"]),
        (Family::CohereEmbed, r#"{"images":["data:image/png;base64,AA==","data:image/png;base64,AA=="],"input_type":"image"}"#, &["wrong-shape"]),
        (Family::CohereEmbed, r#"{"images":["https://example.com/cat.png"],"input_type":"image"}"#, &["wrong-shape"]),
        (Family::CohereEmbed, r#"{"texts":["x"],"input_type":"classification","truncate":"MIDDLE"}"#, &["wrong-shape"]),
        (Family::CohereEmbed, r#"{"texts":["x"],"input_type":"classification","embedding_types":["double"]}"#, &["wrong-shape"]),
    ];

    /// The families added from AWS's model-parameter pages: a good record, then one bad record
    /// per rule, each with the code it must give.
    #[test]
    fn mistral_deepseek_openai_and_titan_multimodal() {
        for (family, input, want) in FAMILY_CASES {
            let r = run(*family, &format!(r#"{{"recordId":"a","modelInput":{input}}}"#));
            assert_eq!(codes(&r), *want, "{family:?} {input}: {:?}", r.problems);
        }
        assert_eq!(Family::guess("us.deepseek.r1-v1:0"), Family::DeepSeek);
        assert_eq!(Family::guess("amazon.titan-embed-image-v1"), Family::TitanEmbedImage);
        assert_eq!(Family::guess("openai.gpt-oss-20b-1:0"), Family::OpenAi);
        assert_eq!(Family::guess("amazon.nova-2-multimodal-embeddings-v1:0"), Family::NovaEmbed);
        assert_eq!(Family::guess("cohere.embed-multilingual-v3"), Family::CohereEmbed);
        assert_eq!(Family::guess("cohere.embed-v4:0"), Family::Unknown, "Embed v4 takes another body");
        // Cohere's per-request limits: 96 texts, 2,048 characters each.
        let many = format!(r#"{{"recordId":"a","modelInput":{{"texts":{},"input_type":"clustering"}}}}"#, serde_json::json!(vec!["x"; 97]));
        assert_eq!(codes(&run(Family::CohereEmbed, &many)), vec!["wrong-shape"]);
        let long = format!(r#"{{"recordId":"a","modelInput":{{"texts":["{}"],"input_type":"clustering"}}}}"#, "é".repeat(2049));
        assert_eq!(codes(&run(Family::CohereEmbed, &long)), vec!["wrong-shape"]);
        // Embeddings declare no output: the ceiling stays 0, and the text counts as input.
        let r = run(Family::CohereEmbed, r#"{"recordId":"a","modelInput":{"texts":["abcdefgh"],"input_type":"clustering"}}"#);
        assert_eq!((r.output_tokens_ceiling, r.records_without_max_tokens, r.input_tokens_estimate), (0, 0, 2));
    }

    #[test]
    fn counts() {
        let v = Validator::new(Family::Anthropic, Limits { min_records: 100, ..Limits::default() }, 20);
        let r = validate_reader(OK.as_bytes(), v, |_| {}).unwrap().finish("t", Some("input.json"));
        assert_eq!(codes(&r), vec!["not-jsonl", "too-few-records"]);
    }

    #[test]
    fn arbitrary_bytes_never_panic() {
        let mut v = Validator::new(Family::Anthropic, Limits::default(), 3);
        for s in [
            &b"\xff\xfe"[..],
            b"{\"modelInput\":",
            b"[]",
            b"{\"recordId\":1}",
            b"\"\\ud800\"",
            b"{\"modelInput\":{\"messages\":[{\"role\":\"user\",\"content\":{}}]}}",
        ] {
            v.feed(s);
        }
        let _ = v.finish("x", None);
    }

    /// Records every family's fast path must take, and forms it must hand to serde_json.
    fn seeds() -> Vec<(Family, String)> {
        let mut seeds: Vec<(Family, String)> =
            FAMILY_CASES.iter().map(|(f, input, _)| (*f, format!(r#"{{"recordId":"a","modelInput":{input}}}"#))).collect();
        seeds.push((Family::Anthropic, OK.to_string()));
        let odd = [
            // Escapes of every kind, a surrogate pair and a lone one, text in several scripts.
            r#"{"recordId":"a\u0062\n","modelInput":{"anthropic_version":"bedrock-2023-05-31","max_tokens":9,"system":"s\t\"\\\/\b\f\r","messages":[{"role":"user","content":[{"type":"text","text":"caf\u00e9 😀 \ud83d\ude00 日本語"},{"type":"image","source":{}}]}]}}"#,
            r#"{"recordId":"\ud800","modelInput":{"anthropic_version":"bedrock-2023-05-31","max_tokens":9,"messages":[{"role":"user","content":"x"}]}}"#,
            // Numbers: negative zero, exponents, floats, too big for u64, leading zeros.
            r#"{"recordId":"n","modelInput":{"anthropic_version":"bedrock-2023-05-31","max_tokens":1e3,"temperature":-0,"top_p":0.5e-1,"messages":[{"role":"user","content":"x"}]}}"#,
            r#"{"recordId":"n","modelInput":{"anthropic_version":"bedrock-2023-05-31","max_tokens":18446744073709551616,"messages":[{"role":"user","content":"x"}]}}"#,
            r#"{"recordId":"n","modelInput":{"anthropic_version":"bedrock-2023-05-31","max_tokens":123456789012345678,"messages":[{"role":"user","content":"x"}]}}"#,
            r#"{"recordId":"n","modelInput":{"anthropic_version":"bedrock-2023-05-31","max_tokens":007,"messages":[{"role":"user","content":"x"}]}}"#,
            // Whitespace everywhere, a struct written as an array, a duplicate key.
            " { \"recordId\" :\t\"w\" ,\r\"modelInput\" : { \"anthropic_version\" : \"bedrock-2023-05-31\" , \"max_tokens\" : 5 , \"messages\" : [ { \"role\" : \"user\" , \"content\" : \"x\" } ] } } ",
            r#"{"recordId":"w","modelInput":["bedrock-2023-05-31",5]}"#,
            r#"{"recordId":"d","recordId":"e","modelInput":{"anthropic_version":"bedrock-2023-05-31","max_tokens":5,"messages":[{"role":"user","content":"x"}]}}"#,
            r#"{"recordId":"x","modelInput":{"anthropic_version":"bedrock-2023-05-31","max_tokens":5,"metadata":{"a":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}},"messages":[]}}"#,
            r#"{"recordId":"c","modelInput":{"messages":[{"role":"user","content":[{"text":"x"},{"document":{"format":"pdf","name":"n","source":{"bytes":"AA=="}}}]}],"toolConfig":{"tools":[]}}}"#,
        ];
        for family in Family::ALL {
            seeds.extend(odd.iter().map(|l| (family, l.to_string())));
        }
        seeds
    }

    /// Changes a record the ways a broken or unusual file would: bytes dropped, doubled or
    /// replaced; tokens of JSON, escapes, numbers, text and media keys, bad UTF-8 put in.
    fn mutate(line: &mut Vec<u8>, rng: &mut u64) {
        let mut next = |n: usize| {
            *rng ^= *rng << 13;
            *rng ^= *rng >> 7;
            *rng ^= *rng << 17;
            (*rng % n.max(1) as u64) as usize
        };
        const TOKENS: &[&[u8]] = &[
            b"\"",
            b"\\",
            b"\\u00e9",
            b"\\ud83d\\ude00",
            b"\\ud800",
            b"\\udc00",
            b"\\n",
            b"\\x",
            b"\\u12",
            "é".as_bytes(),
            "😀".as_bytes(),
            b"\x01",
            b"\x7f",
            b" ",
            b"\t",
            b",",
            b":",
            b"{",
            b"}",
            b"[",
            b"]",
            b"0",
            b"-0",
            b"1e400",
            b"1.5",
            b"-",
            b"1.",
            b".5",
            b"18446744073709551616",
            b"123456789012345678",
            b"1234567890123456789",
            b"true",
            b"null",
            b"nul",
            b"\"text\":\"x\",",
            b"\"content\":\"ab\",",
            b"\"image\":{},",
            b"\"type\":\"image\",",
            b"\"system\":\"s\",",
            b"\xff",
            b"\xc3",
            b"\xed\xa0\x80",
            b",]",
            b",}",
            b"[,",
            b"{,",
            b"\"text\":\"caf\\u00e9\\n\",",
        ];
        for _ in 0..1 + next(3) {
            let at = next(line.len() + 1);
            match next(4) {
                0 if !line.is_empty() => {
                    let end = (at + 1 + next(3)).min(line.len());
                    line.drain(at.min(end)..end);
                }
                1 => {
                    let t = TOKENS[next(TOKENS.len())];
                    line.splice(at..at, t.iter().copied());
                }
                2 if at < line.len() => line[at] = b" \"\\{}[],:0a\xc3\xff\x01"[next(14)],
                _ => {
                    let end = (at + next(20)).min(line.len());
                    let copy = line[at..end].to_vec();
                    line.splice(at..at, copy);
                }
            }
        }
    }

    /// The fast path against serde_json alone, on every seed record and thousands of mutations
    /// of them, for every family: the reports (problems and their lines and messages, counts,
    /// the text estimate, the output ceiling) must be the same whichever path parsed the line.
    /// More cases: BEDBATCH_FAST_DIFF_CASES; another sequence: BEDBATCH_FAST_DIFF_SEED.
    #[test]
    fn the_fast_path_reports_what_serde_json_reports() {
        let seeds = seeds();
        let cases: usize = std::env::var("BEDBATCH_FAST_DIFF_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(20_000);
        let mut rng: u64 = std::env::var("BEDBATCH_FAST_DIFF_SEED").ok().and_then(|v| v.parse().ok()).unwrap_or(0x5EED_F00D) | 1;
        let limits = || Limits { min_records: 1, max_output_tokens: Some(4096), forbids_temperature_with_top_p: true, ..Limits::default() };
        let mut fast_taken = 0;
        // Five lines a job, so duplicates and line numbers are compared too.
        for chunk in 0..cases.div_ceil(5) {
            let family = Family::ALL[chunk % Family::ALL.len()];
            let mut fast = Validator::new(family, limits(), 5);
            let mut slow = Validator::new(family, limits(), 5).serde_only();
            let mut lines = Vec::new();
            for _ in 0..5 {
                rng ^= rng << 13;
                rng ^= rng >> 7;
                rng ^= rng << 17;
                let (_, seed) = &seeds[rng as usize % seeds.len()];
                let mut line = seed.clone().into_bytes();
                if rng % 4 != 0 {
                    mutate(&mut line, &mut rng);
                }
                fast.feed(&line);
                slow.feed(&line);
                lines.push(String::from_utf8_lossy(&line).into_owned());
            }
            fast_taken += fast.fast_lines;
            assert_eq!(slow.fast_lines, 0);
            assert_eq!((fast.input_chars, fast.media), (slow.input_chars, slow.media), "{family:?} lines:\n{}", lines.join("\n"));
            let (f, s) = (fast.finish("t", None), slow.finish("t", None));
            assert_eq!(
                serde_json::to_string_pretty(&f).unwrap(),
                serde_json::to_string_pretty(&s).unwrap(),
                "{family:?} lines:\n{}",
                lines.join("\n")
            );
        }
        assert!(fast_taken > cases as u64 / 10, "the fast path took only {fast_taken} of {cases} lines");
    }

    /// The fast parser against serde_json on any JSON (a `Value`, so no shape error hides a
    /// grammar one): where it accepts a line, serde_json accepts it too, with the same value.
    #[test]
    fn the_fast_parser_accepts_only_what_serde_json_accepts() {
        let seeds = seeds();
        let mut rng: u64 = 0xA11CE;
        let mut accepted = 0;
        for _ in 0..20_000 {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            let mut line = seeds[rng as usize % seeds.len()].1.clone().into_bytes();
            mutate(&mut line, &mut rng);
            if let Some((v, _)) = fast::from_slice::<serde_json::Value>(&line) {
                accepted += 1;
                let want: serde_json::Value = serde_json::from_slice(&line).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&line)));
                assert_eq!(v, want, "{}", String::from_utf8_lossy(&line));
            }
        }
        assert!(accepted > 2_000, "only {accepted} lines accepted");
    }

    /// Every record the tests call good takes the fast path, in every family but the unknown one
    /// (whose modelInput only serde_json reads).
    #[test]
    fn good_records_take_the_fast_path() {
        for (family, line) in seeds() {
            let mut v = Validator::new(family, Limits::default(), 5);
            v.feed(line.as_bytes());
            let good = FAMILY_CASES.iter().any(|(f, input, want)| *f == family && want.is_empty() && line.contains(input)) || line == OK;
            if good {
                assert_eq!(v.fast_lines, u64::from(family != Family::Unknown), "{family:?} {line}");
            }
        }
        for line in [r#"{"recordId":"\ud800","modelInput":{}}"#, r#"{"recordId":"n","modelInput":{"max_tokens":007}}"#] {
            let mut v = Validator::new(Family::Anthropic, Limits::default(), 5);
            v.feed(line.as_bytes());
            assert_eq!(v.fast_lines, 0, "{line} is serde_json's to judge");
        }
    }
}
