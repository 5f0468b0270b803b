//! Parquet through Arrow: read in record batches of [`BATCH_ROWS`] rows (pages are decoded as
//! the batches need them), written with snappy compression (what `DataFrame.to_parquet` writes
//! by default) in row groups flushed every 64 MiB, so memory stays bounded either way.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow_array::builder::{BooleanBuilder, Float64Builder, Int64Builder, ListBuilder, StringBuilder};
use arrow_array::cast::AsArray;
use arrow_array::types::*;
use arrow_array::{Array, ArrayRef, RecordBatch};
use arrow_schema::{DataType, Field, Schema, SchemaRef, TimeUnit};
use parquet::arrow::arrow_reader::{ParquetRecordBatchReader, ParquetRecordBatchReaderBuilder};
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;

use super::rows::{bad, Batch, Cell, Kind, OutputColumns, TableReader, TableWriter, BATCH_ROWS};
use crate::error::{Error, Result};

/// A row group is written once this much is buffered.
const FLUSH_BYTES: usize = 64 << 20;

pub struct Reader {
    path: PathBuf,
    inner: ParquetRecordBatchReader,
    schema: SchemaRef,
    columns: Vec<String>,
}

impl Reader {
    pub fn open(path: &Path) -> Result<Reader> {
        let file = File::open(path).map_err(|e| bad(path, format!("cannot read: {e}")))?;
        let builder = ParquetRecordBatchReaderBuilder::try_new(file).map_err(|e| bad(path, format!("not a Parquet file this tool can read: {e}")))?;
        let schema = builder.schema().clone();
        for f in schema.fields() {
            supported(f.data_type())
                .map_err(|t| bad(path, format!("the column {:?} is {t}, which a prompt cannot show; write it as text first", f.name())))?;
        }
        let columns = schema.fields().iter().map(|f| f.name().clone()).collect();
        let inner = builder.with_batch_size(BATCH_ROWS).build().map_err(|e| bad(path, e))?;
        Ok(Reader { path: path.to_path_buf(), inner, schema, columns })
    }
}

/// The column types read as cells.
fn supported(t: &DataType) -> std::result::Result<(), String> {
    use DataType::*;
    match t {
        Null
        | Boolean
        | Int8
        | Int16
        | Int32
        | Int64
        | UInt8
        | UInt16
        | UInt32
        | UInt64
        | Float32
        | Float64
        | Utf8
        | LargeUtf8
        | Utf8View
        | Date32
        | Date64
        | Timestamp(_, _)
        | Decimal128(_, _) => Ok(()),
        Dictionary(_, v) => supported(v),
        other => Err(format!("a {other} column")),
    }
}

fn timestamp(v: Option<chrono::NaiveDateTime>, tz: bool) -> Cell {
    match v {
        Some(t) => Cell::Str(if tz { format!("{t}+00:00") } else { t.to_string() }),
        None => Cell::Null,
    }
}

fn cell_at(a: &dyn Array, i: usize) -> Cell {
    if a.is_null(i) {
        return Cell::Null;
    }
    use DataType::*;
    match a.data_type() {
        Utf8 => Cell::Str(a.as_string::<i32>().value(i).to_string()),
        LargeUtf8 => Cell::Str(a.as_string::<i64>().value(i).to_string()),
        Utf8View => Cell::Str(a.as_string_view().value(i).to_string()),
        Boolean => Cell::Bool(a.as_boolean().value(i)),
        Int8 => Cell::Int(a.as_primitive::<Int8Type>().value(i).into()),
        Int16 => Cell::Int(a.as_primitive::<Int16Type>().value(i).into()),
        Int32 => Cell::Int(a.as_primitive::<Int32Type>().value(i).into()),
        Int64 => Cell::Int(a.as_primitive::<Int64Type>().value(i)),
        UInt8 => Cell::Int(a.as_primitive::<UInt8Type>().value(i).into()),
        UInt16 => Cell::Int(a.as_primitive::<UInt16Type>().value(i).into()),
        UInt32 => Cell::Int(a.as_primitive::<UInt32Type>().value(i).into()),
        UInt64 => {
            let v = a.as_primitive::<UInt64Type>().value(i);
            i64::try_from(v).map(Cell::Int).unwrap_or_else(|_| Cell::Str(v.to_string()))
        }
        // A float's shortest text, read back as a double: 0.1f32 stays 0.1, not 0.10000000149.
        Float32 => Cell::Float(a.as_primitive::<Float32Type>().value(i).to_string().parse().unwrap_or(f64::NAN)),
        Float64 => Cell::Float(a.as_primitive::<Float64Type>().value(i)),
        Date32 => a.as_primitive::<Date32Type>().value_as_date(i).map(|d| Cell::Str(d.to_string())).unwrap_or(Cell::Null),
        Date64 => a.as_primitive::<Date64Type>().value_as_date(i).map(|d| Cell::Str(d.to_string())).unwrap_or(Cell::Null),
        Timestamp(unit, tz) => {
            let tz = tz.is_some();
            match unit {
                TimeUnit::Second => timestamp(a.as_primitive::<TimestampSecondType>().value_as_datetime(i), tz),
                TimeUnit::Millisecond => timestamp(a.as_primitive::<TimestampMillisecondType>().value_as_datetime(i), tz),
                TimeUnit::Microsecond => timestamp(a.as_primitive::<TimestampMicrosecondType>().value_as_datetime(i), tz),
                TimeUnit::Nanosecond => timestamp(a.as_primitive::<TimestampNanosecondType>().value_as_datetime(i), tz),
            }
        }
        Decimal128(_, _) => Cell::Str(a.as_primitive::<Decimal128Type>().value_as_string(i)),
        Dictionary(_, _) => {
            let d = a.as_any_dictionary();
            let k = d.normalized_keys()[i];
            cell_at(d.values().as_ref(), k)
        }
        _ => Cell::Null, // refused at open (`supported`)
    }
}

impl TableReader for Reader {
    fn columns(&self) -> &[String] {
        &self.columns
    }

    fn kinds(&self) -> Vec<Kind> {
        self.schema
            .fields()
            .iter()
            .map(|f| match f.data_type() {
                DataType::Boolean => Kind::Bool,
                DataType::Float32 | DataType::Float64 => Kind::Float,
                t if t.is_integer() => Kind::Int,
                _ => Kind::Str,
            })
            .collect()
    }

    fn arrow_schema(&self) -> Option<SchemaRef> {
        Some(self.schema.clone())
    }

    fn next_batch(&mut self) -> Result<Option<Batch>> {
        let Some(batch) = self.inner.next() else { return Ok(None) };
        let batch = batch.map_err(|e| bad(&self.path, format!("reading failed: {e}")))?;
        let n = batch.num_rows();
        let mut rows: Vec<Vec<Cell>> = (0..n).map(|_| Vec::with_capacity(batch.num_columns())).collect();
        for col in batch.columns() {
            for (i, row) in rows.iter_mut().enumerate() {
                row.push(cell_at(col.as_ref(), i));
            }
        }
        Ok(Some(Batch { rows, arrow: Some(batch), lines: Vec::new() }))
    }
}

fn data_type(k: Kind) -> DataType {
    match k {
        Kind::Str => DataType::Utf8,
        Kind::Int => DataType::Int64,
        Kind::Float => DataType::Float64,
        Kind::Bool => DataType::Boolean,
        Kind::Floats => DataType::List(Arc::new(Field::new("item", DataType::Float64, true))),
    }
}

pub struct Writer {
    path: PathBuf,
    inner: ArrowWriter<File>,
    schema: SchemaRef,
    cols: OutputColumns,
}

impl Writer {
    pub fn create(path: &Path, cols: &OutputColumns) -> Result<Writer> {
        let mut fields: Vec<Field> = match &cols.input_arrow {
            // The input's own fields (pandas' metadata is left behind: it describes the input's
            // columns only).
            Some(s) => s.fields().iter().map(|f| f.as_ref().clone()).collect(),
            None => cols.input.iter().zip(&cols.input_kinds).map(|(n, k)| Field::new(n, data_type(*k), true)).collect(),
        };
        fields.extend(cols.added.iter().map(|(n, k)| Field::new(n, data_type(*k), true)));
        let schema = Arc::new(Schema::new(fields));
        let file = File::create(path).map_err(|e| Error::io(path.display(), e))?;
        let props = WriterProperties::builder().set_compression(Compression::SNAPPY).build();
        let inner = ArrowWriter::try_new(file, schema.clone(), Some(props)).map_err(|e| Error::Io(format!("{}: {e}", path.display())))?;
        Ok(Writer { path: path.to_path_buf(), inner, schema, cols: cols.clone() })
    }
}

/// One column of cells as an Arrow array of `kind`. Err: a cell of another kind (named).
fn build(name: &str, kind: Kind, cells: impl Iterator<Item = (usize, Cell)>) -> std::result::Result<ArrayRef, String> {
    let wrong = |i: usize, c: &Cell| {
        format!("the column {name:?} holds {c:?} in row {} of a batch where its first row's type was {kind:?}; write CSV or JSONL instead", i + 1)
    };
    Ok(match kind {
        Kind::Str => {
            let mut b = StringBuilder::new();
            for (_, c) in cells {
                match c {
                    Cell::Null => b.append_null(),
                    other => b.append_value(other.text()),
                }
            }
            Arc::new(b.finish())
        }
        Kind::Int => {
            let mut b = Int64Builder::new();
            for (i, c) in cells {
                match c {
                    Cell::Null => b.append_null(),
                    Cell::Int(v) => b.append_value(v),
                    other => return Err(wrong(i, &other)),
                }
            }
            Arc::new(b.finish())
        }
        Kind::Float => {
            let mut b = Float64Builder::new();
            for (i, c) in cells {
                match c {
                    Cell::Null => b.append_null(),
                    Cell::Float(v) => b.append_value(v),
                    Cell::Int(v) => b.append_value(v as f64),
                    other => return Err(wrong(i, &other)),
                }
            }
            Arc::new(b.finish())
        }
        Kind::Bool => {
            let mut b = BooleanBuilder::new();
            for (i, c) in cells {
                match c {
                    Cell::Null => b.append_null(),
                    Cell::Bool(v) => b.append_value(v),
                    other => return Err(wrong(i, &other)),
                }
            }
            Arc::new(b.finish())
        }
        Kind::Floats => {
            let mut b = ListBuilder::new(Float64Builder::new());
            for (i, c) in cells {
                match c {
                    Cell::Null => b.append_null(),
                    Cell::Floats(v) => {
                        b.values().append_slice(&v);
                        b.append(true);
                    }
                    other => return Err(wrong(i, &other)),
                }
            }
            Arc::new(b.finish())
        }
    })
}

impl TableWriter for Writer {
    fn write(&mut self, input: &Batch, added: &[Vec<Cell>]) -> Result<()> {
        let err = |e: String| Error::Usage(format!("{}: {e}", self.path.display()));
        let mut arrays: Vec<ArrayRef> = Vec::with_capacity(self.schema.fields().len());
        match (&self.cols.input_arrow, &input.arrow) {
            (Some(_), Some(b)) => arrays.extend(b.columns().iter().cloned()),
            _ => {
                for (j, (name, kind)) in self.cols.input.iter().zip(&self.cols.input_kinds).enumerate() {
                    arrays.push(build(name, *kind, input.rows.iter().map(|r| r[j].clone()).enumerate()).map_err(err)?);
                }
            }
        }
        for (j, (name, kind)) in self.cols.added.iter().enumerate() {
            arrays.push(build(name, *kind, added.iter().map(|r| r[j].clone()).enumerate()).map_err(err)?);
        }
        let batch = RecordBatch::try_new(self.schema.clone(), arrays).map_err(|e| Error::Io(format!("{}: {e}", self.path.display())))?;
        self.inner.write(&batch).map_err(|e| Error::Io(format!("{}: {e}", self.path.display())))?;
        if self.inner.in_progress_size() > FLUSH_BYTES {
            self.inner.flush().map_err(|e| Error::Io(format!("{}: {e}", self.path.display())))?;
        }
        Ok(())
    }

    fn finish(self: Box<Self>) -> Result<()> {
        let path = self.path.clone();
        let file = self.inner.into_inner().map_err(|e| Error::Io(format!("{}: {e}", path.display())))?;
        file.sync_all().map_err(|e| Error::io(path.display(), e))
    }
}
