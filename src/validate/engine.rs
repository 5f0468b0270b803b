//! The batch input validator's engine: one pass over a JSONL file, line by line, in constant
//! memory (apart from the set of record ids, which the per-file record quota bounds).
//!
//! Each line is parsed once, straight into borrowed structs of the model family's shape (no
//! intermediate `Value`, no copies of the prompt text), by the fast path in `super::fast`,
//! which also counts the text content as it goes; a line the fast path cannot vouch for is parsed
//! by serde_json, which also words every problem. Only a line that fails is parsed again to say
//! why. The envelope (`recordId`, `modelInput`), the recordId table and the file and job quotas
//! are checked here; each family's shape and rules are in its file under `src/families/`.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::value::RawValue;

use super::{fast, ids};
use crate::families::diags::Code;
use crate::families::limits::Limits;
use crate::families::shapes::{LineResult, NotedResult, Text};
use crate::families::{anthropic, cohere_embed, converse, deepseek, llama, mistral, nova, nova_embed, openai, titan_embed, Family};
use crate::validate::report::{Example, FileCount, Problem, Report};
use crate::validate::text::text_content;

#[derive(Deserialize)]
struct Envelope<'a, M> {
    #[serde(rename = "recordId", borrow, default)]
    record_id: Option<Text<'a>>,
    #[serde(rename = "modelInput")]
    model_input: Option<M>,
}

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
    pub(super) fast_lines: u64,
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
    pub(super) input_chars: u64,
    pub(super) media: u64,
    output_ceiling: u64,
    without_max: u64,
    /// The line within the current file.
    file_line: u64,
    /// The files of a job, in the order they were started ([`Validator::start_file`]); the open
    /// one (index `closed`) holds the counters at its start.
    files: Vec<FileCount>,
    closed: usize,
}

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
            Family::Anthropic => self.checked::<anthropic::AnthropicInput>(line, anthropic::check),
            Family::TitanEmbed => self.generic::<titan_embed::TitanEmbedInput>(line, titan_embed::check),
            Family::Nova => self.generic::<nova::NovaInput>(line, nova::check),
            Family::Llama => self.generic::<llama::LlamaInput>(line, llama::check),
            Family::Converse => self.generic::<converse::ConverseInput>(line, converse::check),
            Family::TitanEmbedImage => self.generic::<titan_embed::TitanEmbedImageInput>(line, titan_embed::check_image),
            Family::Mistral => self.generic::<mistral::MistralInput>(line, mistral::check),
            Family::DeepSeek => self.generic::<deepseek::DeepSeekInput>(line, deepseek::check),
            Family::OpenAi => self.generic::<openai::OpenAiInput>(line, openai::check),
            Family::NovaEmbed => self.generic::<nova_embed::NovaEmbedInput>(line, nova_embed::check),
            Family::CohereEmbed => self.generic::<cohere_embed::CohereEmbedInput>(line, cohere_embed::check),
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
                self.output_ceiling = self.output_ceiling.saturating_add(self.limits.max_output_tokens.unwrap_or(0));
            }
            // Saturating: a declared maximum can be any u64 (a ceiling that large is refused as
            // a quota or cost problem, never wrapped to a small one).
            Ok(ceiling) => self.output_ceiling = self.output_ceiling.saturating_add(ceiling),
            Err((code, msg)) => {
                // A record with a problem still counts toward the ceiling when it declares a
                // maximum: once fixed it will be sent with it.
                self.output_ceiling = self.output_ceiling.saturating_add(std::str::from_utf8(line).ok().and_then(declared_max_output).unwrap_or(0));
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
                // Bedrock's own words for an Anthropic body it refuses (see `anthropic::misfit`).
                if self.family == Family::Anthropic {
                    if let Some(problem) = anthropic::misfit(m) {
                        return problem;
                    }
                }
                (Code::WrongShape, format!("modelInput does not have the {:?} shape: {}", self.family, at_column(&err)))
            }
        }
    }

    fn generic<'a, M: Deserialize<'a>>(&mut self, line: &'a [u8], check: fn(&Limits, M) -> LineResult) -> LineResult {
        self.checked(line, |limits, m| check(limits, m).map(|max| (max, None)))
    }

    /// Reads a record into the family's shape `M` and applies the family's rules `check` to its
    /// `modelInput`; a note the rules give beside a pass is reported on the record's line.
    fn checked<'a, M: Deserialize<'a>>(&mut self, line: &'a [u8], check: impl FnOnce(&Limits, M) -> NotedResult) -> LineResult {
        let (rec, tally) = self.parse::<M>(line)?;
        self.record_id(rec.record_id.as_deref());
        let m = rec.model_input.ok_or_else(|| (Code::MissingModelInput, "no modelInput".to_string()))?;
        self.count_text(tally);
        let (max, note) = check(&self.limits, m)?;
        if let Some((code, message)) = note {
            self.report(code, self.file_line, message);
        }
        Ok(max)
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
