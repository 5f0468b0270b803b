//! `run collect -o results.csv|.tsv|.parquet|.jsonl`: one row per input row, in input order,
//! never dropped. A run started from a table gives every input column exactly as read; a run
//! started from JSONL gives the record's `modelInput` as text. Then the added columns:
//! `record_id`, `status` (`ok`, `record-error`, `no-output`), `output_text`, `stop_reason`,
//! `input_tokens`, `output_tokens`, `error_code`, `error_message`, and for embedding models
//! `embedding`. Each output is read by its family's reader ([`crate::families::read_output`]),
//! the Converse response for Converse jobs; records are matched by recordId (AWS: the order of
//! the output is not guaranteed to match the input's, "Format and upload your batch inference
//! data").

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde::Serialize;
use serde_json::{json, Value};

use crate::error::{Error, ExitCode, Result};
use crate::families::{read_output, Family};
use crate::output::{emit, Plain};
use crate::run::ctx::Ctx;
use crate::run::join::{join_shard, output_family, refuse_unfinished, scratch, Joined, OutputLine};
use crate::run::manifest::RunManifest;
use crate::run::prepare::{row_id, TableSpec};
use crate::run::schema::Schema;
use crate::table::{Batch, Cell, Format, Kind, OutputColumns, Staged, TableReader};

/// The columns collect adds, in order (before `--prefix`).
pub const ADDED: &[(&str, Kind)] = &[
    ("record_id", Kind::Str),
    ("status", Kind::Str),
    ("output_text", Kind::Str),
    ("stop_reason", Kind::Str),
    ("input_tokens", Kind::Int),
    ("output_tokens", Kind::Int),
    ("error_code", Kind::Str),
    ("error_message", Kind::Str),
];

/// What collect saw, summed.
#[derive(Debug, Default, Serialize)]
pub struct Totals {
    pub rows: u64,
    pub ok: u64,
    pub record_errors: u64,
    pub no_output: u64,
    /// Summed from each record's own usage (records whose family reports it).
    pub input_tokens: u64,
    pub output_tokens: u64,
    /// Records whose output carries no token usage (Mistral, DeepSeek, embeddings' output side).
    pub records_without_usage: u64,
    /// Answers that held no JSON value or broke `--json-schema`.
    pub schema_errors: u64,
}

/// The table a run started from, as a local file: the original when it is still there with the
/// same size, else the run's copy in S3 downloaded to the scratch folder.
async fn table_file(ctx: &Ctx, spec: &TableSpec, tmp: &Path) -> Result<PathBuf> {
    let local = PathBuf::from(&spec.source);
    let unchanged =
        |md: std::fs::Metadata| md.len() == spec.bytes && spec.modified_ns.is_none_or(|t| crate::run::prepare::modified_ns(&md) == Some(t));
    if std::fs::metadata(&local).is_ok_and(unchanged) {
        return Ok(local);
    }
    let uri = spec.s3_copy.as_deref().ok_or_else(|| Error::Usage(format!("{}: the table is gone and the run kept no copy", spec.source)))?;
    let (bucket, key) = crate::run::source::split_uri(uri)?;
    let path = tmp.join(format!("source.{}", spec.format.name()));
    crate::run::source::download(&ctx.clients, &bucket, &key, &path).await?;
    crate::say!("  read the table from the run's copy {uri} ({} is not here or has changed)", spec.source);
    Ok(path)
}

/// The added cells of one record.
fn added_cells(family: Family, id: &str, j: Joined, embedding: bool, schema: Option<&Schema>, t: &mut Totals) -> Vec<Cell> {
    let mut row = vec![Cell::Str(id.to_string())];
    let (status, answer, code, message) = match j {
        Joined::Ok(_, out) => match out.model_output().and_then(|v| read_output(family, &v)) {
            Ok(a) => ("ok", Some(a), None, None),
            Err(why) => {
                ("record-error", None, Some("unreadable-output".to_string()), Some(format!("the output is not the {} shape: {why}", family.name())))
            }
        },
        Joined::RecordError(_, out) => {
            let (code, message) = match out.error() {
                Ok(e) => (
                    match e.get("errorCode") {
                        Some(Value::String(s)) => Some(s.clone()),
                        Some(Value::Number(n)) => Some(n.to_string()),
                        _ => None,
                    },
                    e.get("errorMessage").and_then(Value::as_str).map(String::from).or_else(|| Some("the record has no modelOutput".into())),
                ),
                Err(why) => (None, Some(format!("the output line's error is not readable: {why}"))),
            };
            ("record-error", None, code, message)
        }
        Joined::NoOutput(why) => ("no-output", None, None, Some(why.to_string())),
    };
    t.rows += 1;
    match status {
        "ok" => t.ok += 1,
        "record-error" => t.record_errors += 1,
        _ => t.no_output += 1,
    }
    row.push(Cell::Str(status.into()));
    let a = answer.unwrap_or_default();
    if status == "ok" {
        match (a.input_tokens, a.output_tokens) {
            (None, None) => t.records_without_usage += 1,
            (i, o) => {
                t.input_tokens += i.unwrap_or(0);
                t.output_tokens += o.unwrap_or(0);
            }
        }
    }
    let checked = match (schema, status, a.text.as_deref()) {
        (Some(s), "ok", Some(text)) => Some(s.check(text)),
        (Some(_), "ok", None) => Some(Err("the answer has no text".to_string())),
        _ => None,
    };
    row.push(Cell::opt_str(a.text));
    row.push(Cell::opt_str(a.stop_reason));
    row.push(Cell::opt_int(a.input_tokens));
    row.push(Cell::opt_int(a.output_tokens));
    row.push(Cell::opt_str(code));
    row.push(Cell::opt_str(message));
    if embedding {
        row.push(a.embedding.map(Cell::Floats).unwrap_or(Cell::Null));
    }
    if let Some(s) = schema {
        let n = s.properties.len();
        match checked {
            Some(Ok(cells)) => {
                row.push(Cell::Null);
                row.extend(cells);
            }
            Some(Err(why)) => {
                t.schema_errors += 1;
                row.push(Cell::Str(why));
                row.extend(std::iter::repeat_n(Cell::Null, n));
            }
            None => row.extend(std::iter::repeat_n(Cell::Null, n + 1)),
        }
    }
    row
}

/// The batch being filled: the input rows as read, and each row's added cells.
struct Pending {
    batch: Option<Batch>,
    added: Vec<Vec<Cell>>,
}

pub struct CollectArgs<'a> {
    pub out: &'a Path,
    pub format: Option<Format>,
    pub prefix: Option<&'a str>,
    pub force: bool,
    pub schema: Option<&'a Schema>,
}

/// The output's columns: the input's (a table's, or `model_input` for a JSONL run), then the
/// added ones; a clash is refused naming the column and `--prefix`.
pub fn output_columns(reader: Option<&dyn TableReader>, family: Family, prefix: Option<&str>, schema: Option<&Schema>) -> Result<OutputColumns> {
    let (input, input_kinds, input_arrow) = match reader {
        Some(r) => (r.columns().to_vec(), r.kinds(), r.arrow_schema()),
        None => (vec!["model_input".to_string()], vec![Kind::Str], None),
    };
    let prefix = prefix.unwrap_or("");
    let mut added: Vec<(String, Kind)> = ADDED.iter().map(|(n, k)| (format!("{prefix}{n}"), *k)).collect();
    if family.is_embedding() {
        added.push((format!("{prefix}embedding"), Kind::Floats));
        if schema.is_some() {
            return Err(Error::Usage("--json-schema reads answers as text: an embedding model answers with vectors".into()));
        }
    }
    if let Some(s) = schema {
        added.push((format!("{prefix}schema_error"), Kind::Str));
        // A property named as a column collect adds would give the table that column twice
        // (and a JSONL row one of the two values): refused, naming it.
        if let Some((n, _)) = s.properties.iter().find(|(n, _)| added.iter().any(|(a, _)| *a == format!("{prefix}{n}"))) {
            return Err(Error::Usage(format!(
                "the --json-schema property {n:?} has the name of a column collect adds ({}): rename it in the schema",
                added.iter().map(|(a, _)| a.as_str()).collect::<Vec<_>>().join(", ")
            )));
        }
        added.extend(s.properties.iter().map(|(n, k)| (format!("{prefix}{n}"), *k)));
    }
    if let Some((clash, _)) = added.iter().find(|(n, _)| input.contains(n)) {
        return Err(Error::Usage(format!(
            "the input already has a column {clash:?}, which collect adds: pass --prefix (e.g. --prefix bedrock_) to name the added columns apart"
        )));
    }
    Ok(OutputColumns { input, input_kinds, input_arrow, added })
}

/// Writes the results table as the joined records arrive in input order ([`Results::push`]):
/// with a table, each record is matched to the next table row (whose id must be the record's);
/// without, the record's `modelInput` is the row.
pub struct Results<'a> {
    family: Family,
    schema: Option<&'a Schema>,
    reader: Option<Box<dyn TableReader>>,
    id_index: Option<usize>,
    writer: Box<dyn crate::table::TableWriter>,
    pending: Pending,
    jsonl_rows: Vec<Vec<Cell>>,
    row_no: u64,
    records: u64,
    pub totals: Totals,
}

impl<'a> Results<'a> {
    /// `id_column`: the table's id column (None: ids from the row number); `records`: how many
    /// the run has (for the message when the table does not match).
    pub fn new(
        family: Family,
        schema: Option<&'a Schema>,
        reader: Option<Box<dyn TableReader>>,
        id_column: Option<&str>,
        writer: Box<dyn crate::table::TableWriter>,
        records: u64,
    ) -> Result<Results<'a>> {
        let id_index = match (id_column, &reader) {
            (Some(c), Some(r)) => {
                Some(r.columns().iter().position(|h| h == c).ok_or_else(|| Error::Usage(format!("the table no longer has the id column {c:?}")))?)
            }
            _ => None,
        };
        Ok(Results {
            family,
            schema,
            reader,
            id_index,
            writer,
            pending: Pending { batch: None, added: Vec::new() },
            jsonl_rows: Vec::new(),
            row_no: 0,
            records,
            totals: Totals::default(),
        })
    }

    /// The next record of the run, in input order, and what became of it.
    pub fn push(&mut self, rec: &[u8], id: &str, j: Joined) -> Result<()> {
        let cells = added_cells(self.family, id, j, self.family.is_embedding(), self.schema, &mut self.totals);
        match self.reader.as_mut() {
            Some(r) => {
                if self.pending.batch.is_none() {
                    self.pending.batch = r.next_batch()?;
                    self.pending.added.clear();
                }
                let Some(batch) = self.pending.batch.as_ref() else {
                    return Err(Error::Usage(format!("the table has fewer rows than the run's {} records: was it changed?", self.records)));
                };
                self.row_no += 1;
                let expect = row_id(&batch.rows[self.pending.added.len()], self.row_no, self.id_index);
                if expect != id {
                    return Err(Error::Usage(format!(
                        "row {} of the table has the id {expect:?} but the run's record {} is {id:?}: the table was changed since the run started",
                        self.row_no, self.row_no
                    )));
                }
                self.pending.added.push(cells);
                if self.pending.added.len() == batch.rows.len() {
                    self.writer.write(batch, &self.pending.added)?;
                    self.pending.batch = None;
                }
            }
            None => {
                let v: Value = serde_json::from_slice(rec).unwrap_or(Value::Null);
                let mi = v.get("modelInput").map(|x| x.to_string()).unwrap_or_default();
                self.jsonl_rows.push(vec![Cell::Str(mi)]);
                self.pending.added.push(cells);
                if self.jsonl_rows.len() == crate::table::BATCH_ROWS {
                    self.flush_jsonl()?;
                }
            }
        }
        Ok(())
    }

    fn flush_jsonl(&mut self) -> Result<()> {
        let batch = Batch { rows: std::mem::take(&mut self.jsonl_rows), arrow: None, lines: Vec::new() };
        self.writer.write(&batch, &self.pending.added)?;
        self.pending.added.clear();
        Ok(())
    }

    /// Writes what is left and closes the file; a table with rows beyond the run's records is
    /// refused.
    pub fn finish(mut self) -> Result<Totals> {
        if !self.jsonl_rows.is_empty() {
            self.flush_jsonl()?;
        }
        if let Some(r) = self.reader.as_mut() {
            if self.pending.batch.is_some() || r.next_batch()?.is_some() {
                return Err(Error::Usage(format!("the table has more rows than the run's {} records: was it changed?", self.records)));
            }
        }
        self.writer.finish()?;
        Ok(self.totals)
    }
}

/// The runs from the one that started from a table to `m`, oldest first, when `m` is a retry
/// (of a retry…) of a run started from a table; else just `m`. The first run's `table` says
/// whether the run is collected as a table.
pub async fn chain(ctx: &Ctx, m: RunManifest) -> Result<Vec<RunManifest>> {
    let mut runs = vec![m];
    while let (None, Some(parent)) = (&runs[runs.len() - 1].table, runs[runs.len() - 1].parent_run.clone()) {
        if runs.iter().any(|r| r.run_id == parent) || runs.len() > 1000 {
            return Err(Error::Usage(format!("run {}: its chain of retries loops at {parent}", runs[0].run_id)));
        }
        runs.push(ctx.load(&parent).await?);
    }
    if runs.len() > 1 && runs[runs.len() - 1].table.is_none() {
        runs.truncate(1);
    }
    runs.reverse();
    Ok(runs)
}

/// The newest output line of each record the retries in `runs` answered (newest run first),
/// with its parts.
async fn latest_answers(ctx: &Ctx, runs: &[RunManifest]) -> Result<HashMap<String, (Vec<u8>, OutputLine)>> {
    let mut latest = HashMap::new();
    for r in runs.iter().rev() {
        let tmp = scratch(ctx, &r.run_id)?;
        for s in &r.shards {
            join_shard(ctx, r, s, &tmp, &mut |_, id, j| {
                if let Joined::Ok(line, out) | Joined::RecordError(line, out) = j {
                    latest.entry(id.to_string()).or_insert_with(|| (line.to_vec(), out.clone()));
                }
                Ok(())
            })
            .await?;
        }
        let _ = std::fs::remove_dir_all(&tmp);
    }
    Ok(latest)
}

/// `run collect` to a table. A retry of a run started from a table is collected as that table:
/// every row of it, each with the answer of the newest run that wrote one for it (AWS bills
/// every attempt, so the tokens and cost are the whole chain's). `runs`: [`chain`] of the run.
pub async fn collect(ctx: &Ctx, runs: &[RunManifest], a: &CollectArgs<'_>) -> Result<ExitCode> {
    for r in runs.iter().rev() {
        refuse_unfinished(r, "collect it")?;
    }
    let format = Format::decide(a.out, a.format, "-o")?;
    let (root, m) = (&runs[0], &runs[runs.len() - 1]);
    let latest = latest_answers(ctx, &runs[1..]).await?;
    let family = output_family(root);
    let tmp = scratch(ctx, &root.run_id)?;
    let reader: Option<Box<dyn TableReader>> = match &root.table {
        Some(spec) => {
            let path = table_file(ctx, spec, &tmp).await?;
            Some(crate::table::open(&path, spec.format)?)
        }
        None => None,
    };
    let cols = output_columns(reader.as_deref(), family, a.prefix, a.schema)?;
    let staged = Staged::new(a.out, a.force)?;
    let writer = crate::table::create(&staged.tmp, format, &cols)?;
    let id_column = root.table.as_ref().and_then(|s| s.id_column.as_deref());
    let mut results = Results::new(family, a.schema, reader, id_column, writer, root.records)?;
    for s in &root.shards {
        join_shard(ctx, root, s, &tmp, &mut |rec, id, j| match latest.get(id) {
            Some((line, out)) => results.push(rec, id, Joined::of(line, out)),
            None => results.push(rec, id, j),
        })
        .await?;
    }
    let totals = results.finish()?;
    staged.commit()?;
    let _ = std::fs::remove_dir_all(&tmp);
    let prices = crate::prices::embedded();
    let (job_in, job_out) = runs.iter().map(RunManifest::job_tokens).fold((0, 0), |(i, o), (ri, ro)| (i + ri, o + ro));
    // A job whose manifest.json.out could not be read leaves the run's tokens and cost unknown
    // (with that error), never a smaller sum: `run status` says the same, and exits 4.
    let unknown: Vec<String> = runs
        .iter()
        .flat_map(|r| r.shards.iter().map(move |s| (r, s)))
        .filter_map(|(r, s)| s.counts_error.as_ref().map(|e| format!("run {} shard {}: {e}", r.run_id, s.index)))
        .collect();
    let estimated = runs.iter().map(|r| r.estimated_cost).try_fold((0.0, 0.0), |(l, h), e| e.map(|(lo, hi)| (l + lo, h + hi)));
    let merged = runs.iter().map(|r| r.run_id.as_str()).collect::<Vec<_>>();
    // Each run at the price of the model it ran (a retry runs the same model as its run).
    let cost = runs.iter().try_fold(0.0, |sum, r| {
        let (i, o) = r.job_tokens();
        crate::run::report::token_cost(&prices, &crate::run::report::run_model(r), i, o).map(|c| sum + c)
    });
    let (tokens, cost) = if unknown.is_empty() { (Some((job_in, job_out)), cost) } else { (None, None) };
    let bad = totals.record_errors + totals.no_output;
    let mut text = if runs.len() > 1 {
        format!("the rows of run {} with the newest answer of each from its retries {}\n", root.run_id, merged[1..].join(", "))
    } else {
        String::new()
    };
    text += &format!(
        "{} rows → {} ({}): {} ok, {} record errors, {} without output\nactual tokens: {} (the jobs' manifest.json.out); per record: {} in, {} out{}\nactual cost at the batch price: {}{}",
        totals.rows,
        a.out.display(),
        format.name(),
        totals.ok,
        totals.record_errors,
        totals.no_output,
        match tokens {
            Some((i, o)) => format!("{i} in, {o} out"),
            None => format!("unknown: {}", unknown.join("; ")),
        },
        totals.input_tokens,
        totals.output_tokens,
        if totals.records_without_usage > 0 { format!(" ({} records' outputs carry no usage)", totals.records_without_usage) } else { String::new() },
        match (tokens, cost) {
            (None, _) => "unknown (the jobs' token counts are)".to_string(),
            (Some(_), Some(c)) => crate::validate::dollars(c),
            (Some(_), None) => "unknown (no price for the model)".into(),
        },
        estimated.map(|(lo, hi)| format!(" (estimated at start: {} to {})", crate::validate::dollars(lo), crate::validate::dollars(hi))).unwrap_or_default()
    );
    if bad > 0 {
        text.push_str(&format!("\nsubmit the rows without an answer again: bedbatch-doctor run retry {}", m.run_id));
    }
    if a.schema.is_some() {
        text.push_str(&format!("\n{} answers broke the schema (column schema_error)", totals.schema_errors));
        if totals.schema_errors > 0 {
            text.push_str(&format!("; submit those rows again: bedbatch-doctor run retry {} --schema-errors --json-schema FILE", m.run_id));
        }
    }
    Ok(emit(&Plain {
        text,
        json: json!({
            "run_id": m.run_id, "output": a.out, "format": format.name(), "rows": totals.rows, "records_ok": totals.ok,
            "records_error": totals.record_errors, "records_without_output": totals.no_output,
            "input_tokens": tokens.map(|t| t.0), "output_tokens": tokens.map(|t| t.1), "tokens_unknown": unknown,
            "record_input_tokens": totals.input_tokens, "record_output_tokens": totals.output_tokens,
            "records_without_usage": totals.records_without_usage,
            "schema_errors": a.schema.map(|_| totals.schema_errors),
            "cost_usd": cost, "estimated_cost_usd": estimated.map(|(lo, hi)| json!({"low": lo, "high": hi})),
            "invocation_type": m.invocation_type.as_str(), "family": family, "runs": merged,
        }),
        exit: if bad > 0 || totals.schema_errors > 0 {
            ExitCode::Failed
        } else if !unknown.is_empty() {
            ExitCode::Incomplete
        } else {
            ExitCode::Ok
        },
    }))
}
