//! The rows of a table as every reader hands them over and every writer takes them: cells,
//! batches, the reader and writer traits, an output's columns.

use std::borrow::Cow;
use std::path::Path;

use serde_json::Value;

use crate::error::{Error, Result};

/// Rows a reader hands over at a time.
pub const BATCH_ROWS: usize = 1024;

/// One cell as read. CSV and TSV give text only (exactly the field's characters); JSONL and
/// Parquet give typed values.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Null,
    Str(String),
    Int(i64),
    Float(f64),
    Bool(bool),
    /// A vector (an embedding): a JSON array in CSV and JSONL, a list of doubles in Parquet.
    Floats(Vec<f64>),
}

impl Cell {
    /// An empty cell: null, or text with nothing in it.
    pub fn is_empty(&self) -> bool {
        match self {
            Cell::Null => true,
            Cell::Str(s) => s.is_empty(),
            _ => false,
        }
    }

    /// The cell as text: what a prompt template and a CSV file show.
    pub fn text(&self) -> Cow<'_, str> {
        match self {
            Cell::Null => Cow::Borrowed(""),
            Cell::Str(s) => Cow::Borrowed(s),
            Cell::Int(i) => Cow::Owned(i.to_string()),
            Cell::Float(f) => Cow::Owned(float_text(*f)),
            Cell::Bool(b) => Cow::Borrowed(if *b { "true" } else { "false" }),
            Cell::Floats(v) => Cow::Owned(serde_json::to_string(v).unwrap_or_default()),
        }
    }

    pub fn to_json(&self) -> Value {
        match self {
            Cell::Null => Value::Null,
            Cell::Str(s) => Value::String(s.clone()),
            Cell::Int(i) => (*i).into(),
            Cell::Float(f) => serde_json::Number::from_f64(*f).map(Value::Number).unwrap_or(Value::Null),
            Cell::Bool(b) => (*b).into(),
            Cell::Floats(v) => v.iter().map(|f| serde_json::Number::from_f64(*f).map(Value::Number).unwrap_or(Value::Null)).collect(),
        }
    }

    pub fn opt_str(s: Option<String>) -> Cell {
        s.map(Cell::Str).unwrap_or(Cell::Null)
    }

    pub fn opt_int(n: Option<u64>) -> Cell {
        n.map(|n| Cell::Int(n.min(i64::MAX as u64) as i64)).unwrap_or(Cell::Null)
    }
}

/// A double as text: the shortest form that reads back to the same value, with a `.0` on whole
/// numbers so a float column stays recognisably one (as pandas writes it).
pub fn float_text(f: f64) -> String {
    if f.is_finite() && f.fract() == 0.0 && f.abs() < 1e16 {
        format!("{f:.1}")
    } else {
        f.to_string()
    }
}

/// The type of a column, for writers that need one (Parquet).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Str,
    Int,
    Float,
    Bool,
    Floats,
}

/// Rows as read, and (Parquet) the Arrow batch they came from, so a Parquet-to-Parquet round
/// trip writes the input columns with their own types, untouched.
pub struct Batch {
    pub rows: Vec<Vec<Cell>>,
    pub arrow: Option<arrow_array::RecordBatch>,
    /// The file line each row starts on (CSV, TSV, JSONL; empty for Parquet), for messages.
    pub lines: Vec<u64>,
}

impl Batch {
    /// Where row `i` of this batch is, the batch's first row being data row `first_row`:
    /// "line 7" in a text file, else "row 7".
    pub fn place(&self, first_row: u64, i: usize) -> String {
        match self.lines.get(i) {
            Some(line) => format!("line {line}"),
            None => format!("row {}", first_row + i as u64),
        }
    }
}

/// A table being read, batch by batch (on a thread of its own while `prepare` builds records).
pub trait TableReader: Send {
    /// The header: column names in order.
    fn columns(&self) -> &[String];
    /// Column kinds for a typed writer (CSV and TSV: all text).
    fn kinds(&self) -> Vec<Kind>;
    /// The Arrow schema of a Parquet input (its columns are written back as they are).
    fn arrow_schema(&self) -> Option<arrow_schema::SchemaRef> {
        None
    }
    /// The next rows, None at the end.
    fn next_batch(&mut self) -> Result<Option<Batch>>;
    /// As [`TableReader::next_batch`], filling `spare` (a batch done with) where the reader can
    /// reuse its buffers.
    fn next_batch_into(&mut self, spare: Batch) -> Result<Option<Batch>> {
        drop(spare);
        self.next_batch()
    }
}

/// A table being written. The output's columns are the input's, then the added ones.
pub trait TableWriter {
    /// One batch: the input rows (as read) and, per row, the added cells.
    fn write(&mut self, input: &Batch, added: &[Vec<Cell>]) -> Result<()>;
    /// Flushes and closes the temporary file (the caller renames it into place).
    fn finish(self: Box<Self>) -> Result<()>;
}

/// The columns of an output: the input's, then the added ones with their kinds.
#[derive(Clone)]
pub struct OutputColumns {
    pub input: Vec<String>,
    pub input_kinds: Vec<Kind>,
    pub input_arrow: Option<arrow_schema::SchemaRef>,
    pub added: Vec<(String, Kind)>,
}

impl OutputColumns {
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.input.iter().map(String::as_str).chain(self.added.iter().map(|(n, _)| n.as_str()))
    }
}

/// A usage error about a table, naming the file.
pub(crate) fn bad(path: &Path, msg: impl std::fmt::Display) -> Error {
    Error::Usage(format!("{}: {msg}", path.display()))
}
