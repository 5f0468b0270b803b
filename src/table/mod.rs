//! Tables in and out: CSV and TSV (RFC 4180: quoted fields with commas, doubled quotes and
//! newlines; a UTF-8 byte order mark; CRLF), JSONL of flat objects, and Parquet (what
//! `DataFrame.to_parquet` writes by default: snappy pages through pyarrow). Readers stream in
//! batches of rows, so memory holds one batch whatever the size of the file; writers append
//! batches and finish into a temporary file that is renamed over the target only when complete.

pub mod csv;
pub mod jsonl;
pub mod parquet;
mod rows;
mod split;
pub mod spool;

pub use rows::{float_text, Batch, Cell, Kind, OutputColumns, TableReader, TableWriter, BATCH_ROWS};

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    Csv,
    Tsv,
    Jsonl,
    Parquet,
}

impl Format {
    /// The format named by a path's extension (`.csv`, `.tsv`, `.jsonl`/`.ndjson`, `.parquet`/`.pq`).
    pub fn from_path(p: &Path) -> Option<Format> {
        let ext = p.extension()?.to_str()?.to_ascii_lowercase();
        Some(match ext.as_str() {
            "csv" => Format::Csv,
            "tsv" | "tab" => Format::Tsv,
            "jsonl" | "ndjson" => Format::Jsonl,
            "parquet" | "pq" => Format::Parquet,
            _ => return None,
        })
    }

    /// `--format` when given, else the extension's; else a usage error naming both ways.
    pub fn decide(p: &Path, given: Option<Format>, what: &str) -> Result<Format> {
        given.or_else(|| Format::from_path(p)).ok_or_else(|| {
            Error::Usage(format!(
                "{what} {}: the format is not known from the extension (.csv, .tsv, .jsonl, .ndjson, .parquet): pass --format",
                p.display()
            ))
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Tsv => "tsv",
            Format::Jsonl => "jsonl",
            Format::Parquet => "parquet",
        }
    }
}

/// Opens a table for reading.
pub fn open(path: &Path, format: Format) -> Result<Box<dyn TableReader>> {
    match format {
        Format::Csv => Ok(Box::new(csv::Reader::open(path, b',')?)),
        Format::Tsv => Ok(Box::new(csv::Reader::open(path, b'\t')?)),
        Format::Jsonl => Ok(Box::new(jsonl::Reader::open(path)?)),
        Format::Parquet => Ok(Box::new(parquet::Reader::open(path)?)),
    }
}

/// Creates a writer of `format` on `tmp`.
pub fn create(tmp: &Path, format: Format, cols: &OutputColumns) -> Result<Box<dyn TableWriter>> {
    match format {
        Format::Csv => Ok(Box::new(csv::Writer::create(tmp, b',', cols)?)),
        Format::Tsv => Ok(Box::new(csv::Writer::create(tmp, b'\t', cols)?)),
        Format::Jsonl => Ok(Box::new(jsonl::Writer::create(tmp, cols)?)),
        Format::Parquet => Ok(Box::new(parquet::Writer::create(tmp, cols)?)),
    }
}

/// A file written beside its target under a temporary name and renamed over it only when
/// complete: an error (or a kill) never leaves a half-written file under the target's name.
/// Without `force`, an existing target is refused; with it, the old file is kept as
/// `<name>.bak` before the rename (`<name>.bak.1`, `.2`… when that exists: an earlier backup
/// is never replaced), so nothing the user owns is lost. A target that exists and is not a
/// regular file (a folder, a device such as /dev/null, a pipe) is refused: renaming over it
/// would move the device aside, not write to it.
pub struct Staged {
    pub target: PathBuf,
    pub tmp: PathBuf,
    force: bool,
    done: bool,
}

impl Staged {
    pub fn new(target: &Path, force: bool) -> Result<Staged> {
        if let Ok(meta) = std::fs::metadata(target) {
            if !meta.is_file() {
                return Err(Error::Usage(format!(
                    "{} exists and is not a regular file (a folder, a device or a pipe): name a file to write",
                    target.display()
                )));
            }
            if !force {
                return Err(Error::Usage(format!("{} exists: pass --force to replace it (the old file is kept as .bak)", target.display())));
            }
        }
        let name = target.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_else(|| "out".into());
        let tmp = target.with_file_name(format!(".{name}.partial-{}", std::process::id()));
        Ok(Staged { target: target.to_path_buf(), tmp, force, done: false })
    }

    /// Moves the finished file into place.
    pub fn commit(mut self) -> Result<()> {
        if self.force && self.target.exists() {
            let bak = (0..)
                .map(|n| {
                    let mut b = self.target.clone().into_os_string();
                    b.push(if n == 0 { ".bak".to_string() } else { format!(".bak.{n}") });
                    PathBuf::from(b)
                })
                .find(|b| std::fs::symlink_metadata(b).is_err())
                .expect("some backup name is free");
            std::fs::rename(&self.target, &bak).map_err(|e| Error::io(self.target.display(), e))?;
        }
        std::fs::rename(&self.tmp, &self.target).map_err(|e| Error::io(self.target.display(), e))?;
        self.done = true;
        Ok(())
    }
}

impl Drop for Staged {
    fn drop(&mut self) {
        if !self.done {
            let _ = std::fs::remove_file(&self.tmp);
        }
    }
}
