//! What one validation found ([`Report`], its problems with their examples, the files of a job)
//! (its batch cost is `crate::prices::estimate`).

use serde::Serialize;

use crate::families::diags::Code;
use crate::families::Family;

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
