//! JSONL (or NDJSON) of flat objects: one object a line, its keys the columns. The first object
//! names the columns in its key order; a later object may leave a column out (null) but not
//! bring a new one, and no value may be an object or array (a table's cell is a scalar).

use std::fs::File;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::rows::{bad, Batch, Cell, Kind, OutputColumns, TableReader, TableWriter, BATCH_ROWS};
use crate::error::{Error, Result};

pub struct Reader {
    path: PathBuf,
    inner: BufReader<File>,
    columns: Vec<String>,
    kinds: Vec<Kind>,
    /// The first row, read to learn the columns, handed out with the first batch.
    first: Option<Vec<Cell>>,
    line: u64,
    buf: Vec<u8>,
}

fn cell(path: &Path, line: u64, key: &str, v: Value, text: &[u8]) -> Result<Cell> {
    Ok(match v {
        Value::Null => Cell::Null,
        Value::Bool(b) => Cell::Bool(b),
        Value::String(s) => Cell::Str(s),
        Value::Number(n) => match n.as_i64() {
            Some(i) => Cell::Int(i),
            None => {
                let f = n.as_f64().ok_or_else(|| bad(path, format!("line {line}: {key}: the number {n} does not fit a double")))?;
                // An integer written out that no 64-bit integer holds (an id of 20 digits) would
                // be read as the nearest double, its last digits lost and two ids made equal:
                // refused, where a number written as a decimal or with an exponent is a double.
                if f.fract() == 0.0 && f.abs() >= 9.2e18 {
                    if let Some(int) = literal(text, key).filter(|l| !l.contains(['.', 'e', 'E'])) {
                        return Err(bad(
                            path,
                            format!("line {line}: {key:?}: the integer {int} does not fit a 64-bit integer: write it as a string (in quotes) to keep every digit"),
                        ));
                    }
                }
                Cell::Float(f)
            }
        },
        Value::Array(_) | Value::Object(_) => {
            return Err(bad(
                path,
                format!(
                    "line {line}: {key:?} holds an {}: a table's cells are scalars (flatten it first)",
                    if v.is_array() { "array" } else { "object" }
                ),
            ))
        }
    })
}

/// The text of `key`'s value on the line, as written.
fn literal(text: &[u8], key: &str) -> Option<String> {
    let text = text.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(text);
    let raw: std::collections::HashMap<String, &serde_json::value::RawValue> = serde_json::from_slice(text).ok()?;
    raw.get(key).map(|r| r.get().to_string())
}

fn kind(c: &Cell) -> Kind {
    match c {
        Cell::Int(_) => Kind::Int,
        Cell::Float(_) => Kind::Float,
        Cell::Bool(_) => Kind::Bool,
        Cell::Floats(_) => Kind::Floats,
        Cell::Null | Cell::Str(_) => Kind::Str,
    }
}

impl Reader {
    pub fn open(path: &Path) -> Result<Reader> {
        let file = File::open(path).map_err(|e| bad(path, format!("cannot read: {e}")))?;
        let mut r = Reader {
            path: path.to_path_buf(),
            inner: BufReader::with_capacity(1 << 20, file),
            columns: Vec::new(),
            kinds: Vec::new(),
            first: None,
            line: 0,
            buf: Vec::new(),
        };
        let Some(obj) = r.next_object()? else { return Err(bad(path, "no rows: the first line must be a JSON object")) };
        let mut row = Vec::with_capacity(obj.len());
        for (k, v) in obj {
            r.columns.push(k.clone());
            row.push(cell(path, r.line, &k, v, &r.buf)?);
        }
        r.kinds = row.iter().map(kind).collect();
        r.first = Some(row);
        Ok(r)
    }

    /// The next non-blank line as an object.
    fn next_object(&mut self) -> Result<Option<serde_json::Map<String, Value>>> {
        loop {
            self.buf.clear();
            let n = self.inner.read_until(b'\n', &mut self.buf).map_err(|e| bad(&self.path, format!("cannot read: {e}")))?;
            if n == 0 {
                return Ok(None);
            }
            self.line += 1;
            let mut text: &[u8] = &self.buf;
            if self.line == 1 {
                text = text.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(text);
            }
            if text.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            let v: Value = serde_json::from_slice(text).map_err(|e| bad(&self.path, format!("line {}: not JSON: {e}", self.line)))?;
            return match v {
                Value::Object(o) => Ok(Some(o)),
                other => Err(bad(&self.path, format!("line {}: a row must be a JSON object, not {other}", self.line))),
            };
        }
    }
}

impl TableReader for Reader {
    fn columns(&self) -> &[String] {
        &self.columns
    }

    /// Each column's type over the whole file, not its first row's: a column of integers with a
    /// decimal further down is a column of doubles (it used to fail the Parquet collect at that
    /// row, after the run); one mixing text, booleans and numbers is text; one always null is
    /// text. Read in a pass of its own, only by the writers that type their columns. A line
    /// that does not read leaves the first row's types: the rows' own reading reports it.
    fn kinds(&self) -> Vec<Kind> {
        // The file read again by a reader of its own: the same lines, keys and cells as the rows.
        let Ok(mut again) = Reader::open(&self.path) else { return self.kinds.clone() };
        let mut kinds: Vec<Option<Kind>> = vec![None; self.columns.len()];
        loop {
            let batch = match again.next_batch() {
                Ok(Some(b)) => b,
                Ok(None) => break,
                Err(_) => return self.kinds.clone(),
            };
            for (i, c) in batch.rows.iter().flat_map(|r| r.iter().enumerate()) {
                if matches!(c, Cell::Null) {
                    continue;
                }
                let this = kind(c);
                kinds[i] = Some(match kinds[i] {
                    None => this,
                    Some(k) if k == this => k,
                    Some(Kind::Int | Kind::Float) if matches!(this, Kind::Int | Kind::Float) => Kind::Float,
                    Some(_) => Kind::Str,
                });
            }
        }
        kinds.into_iter().map(|k| k.unwrap_or(Kind::Str)).collect()
    }

    fn next_batch(&mut self) -> Result<Option<Batch>> {
        let mut rows = Vec::with_capacity(BATCH_ROWS);
        let mut lines = Vec::with_capacity(BATCH_ROWS);
        if let Some(first) = self.first.take() {
            lines.push(self.line);
            rows.push(first);
        }
        while rows.len() < BATCH_ROWS {
            let Some(obj) = self.next_object()? else { break };
            let mut row = vec![Cell::Null; self.columns.len()];
            for (k, v) in obj {
                let Some(i) = self.columns.iter().position(|c| *c == k) else {
                    return Err(bad(
                        &self.path,
                        format!("line {}: the key {k:?} is not a column of the first row ({})", self.line, self.columns.join(", ")),
                    ));
                };
                row[i] = cell(&self.path, self.line, &k, v, &self.buf)?;
            }
            lines.push(self.line);
            rows.push(row);
        }
        Ok((!rows.is_empty()).then_some(Batch { rows, arrow: None, lines }))
    }
}

pub struct Writer {
    path: PathBuf,
    inner: std::io::BufWriter<File>,
    names: Vec<String>,
}

impl Writer {
    pub fn create(path: &Path, cols: &OutputColumns) -> Result<Writer> {
        let file = File::create(path).map_err(|e| Error::io(path.display(), e))?;
        Ok(Writer {
            path: path.to_path_buf(),
            inner: std::io::BufWriter::with_capacity(1 << 20, file),
            names: cols.names().map(String::from).collect(),
        })
    }
}

impl TableWriter for Writer {
    fn write(&mut self, input: &Batch, added: &[Vec<Cell>]) -> Result<()> {
        for (row, extra) in input.rows.iter().zip(added) {
            let obj: serde_json::Map<String, Value> = self.names.iter().cloned().zip(row.iter().chain(extra).map(Cell::to_json)).collect();
            serde_json::to_writer(&mut self.inner, &obj).map_err(|e| Error::Io(format!("{}: {e}", self.path.display())))?;
            self.inner.write_all(b"\n").map_err(|e| Error::io(self.path.display(), e))?;
        }
        Ok(())
    }

    fn finish(self: Box<Self>) -> Result<()> {
        let path = self.path.clone();
        let file = self.inner.into_inner().map_err(|e| Error::Io(format!("{}: {e}", path.display())))?;
        file.sync_all().map_err(|e| Error::io(path.display(), e))
    }
}
