//! CSV and TSV through the `csv` crate (RFC 4180: quoted fields holding the delimiter, doubled
//! quotes and newlines; CRLF or LF records). Every cell is read as the exact text of its field.

use std::fs::File;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};

use super::{bad, Batch, Cell, Kind, OutputColumns, TableReader, TableWriter, BATCH_ROWS};
use crate::error::{Error, Result};

pub struct Reader {
    path: PathBuf,
    inner: csv::Reader<BufReader<File>>,
    columns: Vec<String>,
    record: csv::StringRecord,
}

impl Reader {
    pub fn open(path: &Path, delimiter: u8) -> Result<Reader> {
        let file = File::open(path).map_err(|e| bad(path, format!("cannot read: {e}")))?;
        let mut buf = BufReader::with_capacity(1 << 20, file);
        // A UTF-8 byte order mark (Excel writes one) is not part of the first column's name.
        let head = buf.fill_buf().map_err(|e| bad(path, format!("cannot read: {e}")))?;
        if head.starts_with(b"\xEF\xBB\xBF") {
            buf.consume(3);
        }
        let mut inner = csv::ReaderBuilder::new().delimiter(delimiter).has_headers(true).flexible(false).from_reader(buf);
        let headers = inner.headers().map_err(|e| csv_error(path, e))?.clone();
        let columns: Vec<String> = headers.iter().map(String::from).collect();
        if columns.is_empty() || (columns.len() == 1 && columns[0].is_empty()) {
            return Err(bad(path, "no header row: the first line must name the columns"));
        }
        let mut seen = std::collections::HashSet::new();
        for c in &columns {
            if !seen.insert(c.as_str()) {
                return Err(bad(path, format!("the header names the column {c:?} twice")));
            }
        }
        Ok(Reader { path: path.to_path_buf(), inner, columns, record: csv::StringRecord::new() })
    }
}

fn csv_error(path: &Path, e: csv::Error) -> Error {
    let place = e.position().map(|p| format!("line {}: ", p.line())).unwrap_or_default();
    let what = match e.kind() {
        csv::ErrorKind::UnequalLengths { expected_len, len, .. } => {
            format!("{len} fields where the header has {expected_len} (a quote left open, or a delimiter in an unquoted field?)")
        }
        csv::ErrorKind::Utf8 { err, .. } => format!("not UTF-8 text (field {}): save the file as UTF-8", err.field() + 1),
        _ => e.to_string(),
    };
    bad(path, format!("{place}{what}"))
}

impl TableReader for Reader {
    fn columns(&self) -> &[String] {
        &self.columns
    }

    fn kinds(&self) -> Vec<Kind> {
        vec![Kind::Str; self.columns.len()]
    }

    fn next_batch(&mut self) -> Result<Option<Batch>> {
        let mut rows = Vec::with_capacity(BATCH_ROWS);
        let mut lines = Vec::with_capacity(BATCH_ROWS);
        while rows.len() < BATCH_ROWS {
            let more = self.inner.read_record(&mut self.record).map_err(|e| csv_error(&self.path, e))?;
            if !more {
                break;
            }
            lines.push(self.record.position().map(|p| p.line()).unwrap_or(0));
            rows.push(self.record.iter().map(|f| Cell::Str(f.to_string())).collect());
        }
        Ok((!rows.is_empty()).then_some(Batch { rows, arrow: None, lines }))
    }
}

pub struct Writer {
    path: PathBuf,
    inner: csv::Writer<std::io::BufWriter<File>>,
    record: Vec<String>,
}

impl Writer {
    pub fn create(path: &Path, delimiter: u8, cols: &OutputColumns) -> Result<Writer> {
        let file = File::create(path).map_err(|e| Error::io(path.display(), e))?;
        let mut inner = csv::WriterBuilder::new().delimiter(delimiter).from_writer(std::io::BufWriter::with_capacity(1 << 20, file));
        inner.write_record(cols.names()).map_err(|e| Error::Io(format!("{}: {e}", path.display())))?;
        Ok(Writer { path: path.to_path_buf(), inner, record: Vec::new() })
    }
}

impl TableWriter for Writer {
    fn write(&mut self, input: &Batch, added: &[Vec<Cell>]) -> Result<()> {
        for (row, extra) in input.rows.iter().zip(added) {
            self.record.clear();
            self.record.extend(row.iter().chain(extra).map(|c| c.text().into_owned()));
            self.inner.write_record(&self.record).map_err(|e| Error::Io(format!("{}: {e}", self.path.display())))?;
        }
        Ok(())
    }

    fn finish(self: Box<Self>) -> Result<()> {
        let path = self.path.clone();
        let w = self.inner.into_inner().map_err(|e| Error::Io(format!("{}: {e}", path.display())))?;
        let file = w.into_inner().map_err(|e| Error::Io(format!("{}: {e}", path.display())))?;
        let mut file = file;
        file.flush().map_err(|e| Error::io(path.display(), e))?;
        file.sync_all().map_err(|e| Error::io(path.display(), e))
    }
}
