//! `run collect` and `run retry`: every shard's output joined to its input by recordId.
//!
//! Bedrock writes `<output>/<job id>/<input file>.out`, one line per processed record with its
//! `recordId`, `modelInput` and either `modelOutput` or `error` ("View the results of a batch
//! inference job"). The lines are matched to the input by recordId, not by position. One shard
//! at a time: its input and output are downloaded to temporary files, the output indexed
//! (recordId → byte range), then the input streamed and each record's output copied in input
//! order, so memory grows with the records of one job, never with the dataset.

use std::collections::HashMap;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use serde_json::{json, Value};

use crate::error::{Error, ExitCode, Result};
use crate::output::{emit, Plain};
use crate::run::ctx::Ctx;
use crate::run::manifest::{RunManifest, Shard};
use crate::run::shard::{record_id, shard_name};
use crate::run::source::{download, split_uri};

/// What became of one input record.
pub enum Joined<'a> {
    /// The output line (with modelOutput), and its parts collect reads.
    Ok(&'a [u8], &'a OutputLine),
    /// The output line with its `error` (or without modelOutput), and its parts.
    RecordError(&'a [u8], &'a OutputLine),
    /// No output line: the job failed, was stopped, expired or never ran. The reason.
    NoOutput(&'a str),
}

/// The two parts of an output line that collect and retry read ("View the results of a batch
/// inference job": each line holds `recordId`, `modelInput` and `modelOutput`, or `error`).
/// `modelInput`, the echo of the input and most of the line, is skipped over; the two parts are
/// kept as their JSON text, parsed only by a caller that reads them (the JSONL collect does not).
#[derive(serde::Deserialize, Default, Clone)]
#[serde(default)]
pub struct OutputLine {
    #[serde(rename = "modelOutput")]
    model_output: Option<Box<serde_json::value::RawValue>>,
    error: Option<Box<serde_json::value::RawValue>>,
}

impl<'a> Joined<'a> {
    /// An output line as what became of its record: answered when it has `modelOutput` and no
    /// `error`, else a record error.
    pub fn of(line: &'a [u8], out: &'a OutputLine) -> Joined<'a> {
        if out.error.is_some() || out.model_output.is_none() {
            Joined::RecordError(line, out)
        } else {
            Joined::Ok(line, out)
        }
    }
}

impl OutputLine {
    /// `modelOutput` as a value (null when absent); Err: serde_json's words for a value it cannot
    /// hold (a number out of range, say), which the line's syntax check let through.
    pub fn model_output(&self) -> std::result::Result<Value, String> {
        value_of(self.model_output.as_deref())
    }

    /// `error` as a value (null when absent); Err as for [`OutputLine::model_output`].
    pub fn error(&self) -> std::result::Result<Value, String> {
        value_of(self.error.as_deref())
    }
}

fn value_of(raw: Option<&serde_json::value::RawValue>) -> std::result::Result<Value, String> {
    raw.map_or(Ok(Value::Null), |r| serde_json::from_str(r.get()).map_err(|e| e.to_string()))
}

/// What a join calls for each input record in order: the record, its recordId, what became of it.
pub type OnRecord<'a> = dyn FnMut(&[u8], &str, Joined) -> Result<()> + 'a;

/// An output file, indexed: recordId → (offset, length) of its line; the recordIds that more
/// than one line answers; the lines that are not output records at all.
struct OutputIndex {
    /// recordId → (offset, length, line number) of its line.
    lines: HashMap<String, (u64, usize, u64)>,
    /// recordId → the numbers of the lines that answer it, when there are several.
    repeated: HashMap<String, Vec<u64>>,
    /// The first line that is not an output record (its number, why), and how many are not.
    unreadable: Option<(u64, String)>,
    unreadable_count: u64,
}

/// Indexes an output file. Every line AWS writes holds a `recordId` ("View the results of a
/// batch inference job": "If you omit the recordId field, Amazon Bedrock adds it in the
/// output"), so a line that is not JSON or has none is kept as a fault, never skipped in
/// silence: a record without an answer then says which line of the file could have been it.
fn index_output(path: &Path) -> Result<OutputIndex> {
    let file = std::fs::File::open(path).map_err(|e| Error::io(path.display(), e))?;
    let mut index = OutputIndex { lines: HashMap::new(), repeated: HashMap::new(), unreadable: None, unreadable_count: 0 };
    let (mut offset, mut number) = (0u64, 0u64);
    let mut r = std::io::BufReader::with_capacity(1 << 20, file);
    let mut line = Vec::new();
    loop {
        line.clear();
        let n = std::io::BufRead::read_until(&mut r, b'\n', &mut line).map_err(|e| Error::io(path.display(), e))?;
        if n == 0 {
            break;
        }
        number += 1;
        let body = line.strip_suffix(b"\n").unwrap_or(&line);
        let body = body.strip_suffix(b"\r").unwrap_or(body);
        if !body.iter().all(u8::is_ascii_whitespace) {
            match record_id(body) {
                // One hash lookup a line (this index is most of the join's time).
                Ok(Some(id)) => match index.lines.entry(id) {
                    std::collections::hash_map::Entry::Vacant(v) => {
                        v.insert((offset, body.len(), number));
                    }
                    std::collections::hash_map::Entry::Occupied(mut o) => {
                        let first = o.get().2;
                        index.repeated.entry(o.key().clone()).or_insert_with(|| vec![first]).push(number);
                        o.insert((offset, body.len(), number));
                    }
                },
                Ok(None) => {
                    index.unreadable_count += 1;
                    index.unreadable.get_or_insert((number, "it has no recordId".into()));
                }
                Err(e) => {
                    index.unreadable_count += 1;
                    index.unreadable.get_or_insert((number, format!("it is not JSON ({e})")));
                }
            }
        }
        offset += n as u64;
    }
    Ok(index)
}

/// Joins one shard's input file to its output file (None: the job wrote none), calling
/// `f(input record, its recordId, what became of it)` for each input record in order. `no_output` says why
/// a record has no output line when there is no output file.
pub fn join_local(input: &Path, output: Option<&Path>, no_output: &str, f: &mut OnRecord<'_>) -> Result<()> {
    let (index, mut out_file) = match output {
        Some(p) => (Some(index_output(p)?), Some((std::fs::File::open(p).map_err(|e| Error::io(p.display(), e))?, p))),
        None => (None, None),
    };
    let mut buf = Vec::new();
    let what = input.display().to_string();
    let mut sink = |rec: &[u8]| -> Result<()> {
        let id = record_id(rec).ok().flatten().ok_or_else(|| Error::Aws(format!("{what}: a record without a recordId")))?;
        let (Some(index), Some((file, path))) = (index.as_ref(), out_file.as_mut()) else {
            return f(rec, &id, Joined::NoOutput(no_output));
        };
        if let Some(lines) = index.repeated.get(&id) {
            let why = format!(
                "the job's .out file answers this record on {} lines ({}): which one is its answer is not known",
                lines.len(),
                lines.iter().map(|l| format!("line {l}")).collect::<Vec<_>>().join(", ")
            );
            return f(rec, &id, Joined::NoOutput(&why));
        }
        match index.lines.get(&id) {
            Some(&(off, len, _)) => {
                buf.resize(len, 0);
                file.seek(SeekFrom::Start(off)).and_then(|_| file.read_exact(&mut buf)).map_err(|e| Error::io(path.display(), e))?;
                // Parsed once here; what it holds goes to the caller with the line.
                let out: OutputLine =
                    serde_json::from_slice(&buf).map_err(|e| Error::Aws(format!("{}: the output of {id} is not JSON: {e}", path.display())))?;
                f(rec, &id, Joined::of(&buf, &out))
            }
            None => match &index.unreadable {
                Some((line, why)) => {
                    let why = format!(
                        "no readable output line for this record in the job's .out file, {} of whose lines are not output records (line {line}: {why})",
                        index.unreadable_count
                    );
                    f(rec, &id, Joined::NoOutput(&why))
                }
                None => f(rec, &id, Joined::NoOutput("no output line for this record in the job's .out file")),
            },
        }
    };
    let file = std::fs::File::open(input).map_err(|e| Error::io(input.display(), e))?;
    crate::run::shard::read_records(file, &what, &mut sink)
}

/// Joins one shard: downloads its input and output (when the job wrote one) to `tmp`, then
/// [`join_local`].
pub(crate) async fn join_shard(ctx: &Ctx, m: &RunManifest, s: &Shard, tmp: &Path, f: &mut OnRecord<'_>) -> Result<()> {
    let (in_bucket, in_key) = split_uri(&s.input_uri)?;
    let in_path = tmp.join(shard_name(s.index));
    download(&ctx.clients, &in_bucket, &in_key, &in_path).await?;
    let out_path = tmp.join(format!("{}.out", shard_name(s.index)));
    // A stopped or expired job that processed records wrote their output too (and AWS bills
    // them): it is read like a completed job's ("View the results of a batch inference job").
    // Its counts are no guide when they could not be read (`counts_error`), so the output of
    // every job that ran to an end is looked for; a stopped or expired one may have none.
    let mut has_output = s.job_id().is_some()
        && (matches!(s.status.as_str(), "Completed" | "PartiallyCompleted" | "Stopped" | "Expired")
            || s.counts.as_ref().is_some_and(|c| c.success + c.error > 0));
    if has_output {
        let (bucket, prefix) = split_uri(&m.output_uri)?;
        let key = format!("{prefix}{}/{}.out", s.job_id().unwrap_or_default(), shard_name(s.index));
        match download(&ctx.clients, &bucket, &key, &out_path).await {
            Ok(()) => {}
            // NoSuchKey: the job wrote no output for this file (a stopped job that processed
            // none of its records); every record of it then has none.
            Err(Error::Missing(_)) if !matches!(s.status.as_str(), "Completed" | "PartiallyCompleted") => {
                let _ = std::fs::remove_file(&out_path);
                has_output = false;
            }
            Err(e) => return Err(e),
        }
    }
    let reason = match s.status.as_str() {
        "Pending" | "Cancelled" => {
            format!("not run: the run's shard {} was {}", s.index, if s.status == "Pending" { "never submitted" } else { "cancelled" })
        }
        st => format!(
            "no output: the job {} ended {st}{}",
            s.job_arn.as_deref().unwrap_or("?"),
            s.message.as_deref().map(|m| format!(": {m}")).unwrap_or_default()
        ),
    };
    let r = join_local(&in_path, has_output.then_some(out_path.as_path()), &reason, f);
    let _ = std::fs::remove_file(&in_path);
    let _ = std::fs::remove_file(&out_path);
    r
}

pub(crate) fn refuse_unfinished(m: &RunManifest, what: &str) -> Result<()> {
    let active: Vec<String> = m.shards.iter().filter(|s| !s.terminal()).map(|s| format!("{} ({})", shard_name(s.index), s.status)).collect();
    if active.is_empty() {
        return Ok(());
    }
    Err(Error::Usage(format!(
        "run {} has not finished: {} of {} jobs have not ended ({}); {what} once it has: `bedbatch-doctor run status {} --watch`",
        m.run_id,
        active.len(),
        m.shards.len(),
        active.iter().take(3).cloned().collect::<Vec<_>>().join(", "),
        m.run_id
    )))
}

fn create_new(path: &Path, force: bool) -> Result<std::io::BufWriter<std::fs::File>> {
    let mut o = std::fs::OpenOptions::new();
    o.write(true);
    if force {
        o.create(true).truncate(true);
    } else {
        o.create_new(true);
    }
    let f = o.open(path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::AlreadyExists {
            Error::Usage(format!("{} exists: pass --force to overwrite it", path.display()))
        } else {
            Error::io(path.display(), e)
        }
    })?;
    Ok(std::io::BufWriter::with_capacity(1 << 20, f))
}

/// A failures-file line: the output line with its error, else the input record with an error
/// saying why there is no output.
fn failure_line(rec: &[u8], why: &str) -> Result<Vec<u8>> {
    let mut v: Value = serde_json::from_slice(rec).map_err(|e| Error::Aws(format!("an input record is not JSON: {e}")))?;
    v["error"] = json!({"errorMessage": why});
    Ok(serde_json::to_vec(&v).expect("serialises"))
}

pub(crate) fn scratch(ctx: &Ctx, run_id: &str) -> Result<PathBuf> {
    let dir = ctx.root.join(run_id).join("tmp");
    std::fs::create_dir_all(&dir).map_err(|e| Error::io(dir.display(), e))?;
    Ok(dir)
}

pub async fn collect(ctx: &Ctx, m: &RunManifest, out: &Path, failures: Option<PathBuf>, force: bool) -> Result<ExitCode> {
    refuse_unfinished(m, "collect it")?;
    let failures = failures.unwrap_or_else(|| {
        let name = out.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_default();
        let stem = name.strip_suffix(".jsonl").unwrap_or(&name);
        out.with_file_name(format!("{stem}.failures.jsonl"))
    });
    if failures == out {
        return Err(Error::Usage("the output and the failures file must differ".into()));
    }
    let tmp = scratch(ctx, &m.run_id)?;
    // Both files are written under temporary names and moved into place only when complete
    // (an existing one kept as .bak with --force): an error part way leaves neither behind.
    let (staged_ok, staged_bad) = (crate::table::Staged::new(out, force)?, crate::table::Staged::new(&failures, force)?);
    let mut w_ok = create_new(&staged_ok.tmp, false)?;
    let mut w_bad = create_new(&staged_bad.tmp, false)?;
    let (mut ok, mut bad, mut no_output) = (0u64, 0u64, 0u64);
    for s in &m.shards {
        let mut write = |rec: &[u8], _: &str, j: Joined| -> Result<()> {
            match j {
                Joined::Ok(line, _) => {
                    ok += 1;
                    w_ok.write_all(line).and_then(|_| w_ok.write_all(b"\n")).map_err(|e| Error::io(out.display(), e))
                }
                Joined::RecordError(line, _) => {
                    bad += 1;
                    w_bad.write_all(line).and_then(|_| w_bad.write_all(b"\n")).map_err(|e| Error::io(failures.display(), e))
                }
                Joined::NoOutput(why) => {
                    bad += 1;
                    no_output += 1;
                    let line = failure_line(rec, why)?;
                    w_bad.write_all(&line).and_then(|_| w_bad.write_all(b"\n")).map_err(|e| Error::io(failures.display(), e))
                }
            }
        };
        join_shard(ctx, m, s, &tmp, &mut write).await?;
    }
    w_ok.flush().map_err(|e| Error::io(out.display(), e))?;
    w_bad.flush().map_err(|e| Error::io(failures.display(), e))?;
    drop((w_ok, w_bad));
    staged_ok.commit()?;
    staged_bad.commit()?;
    let _ = std::fs::remove_dir(&tmp);
    let text = format!(
        "{ok} records with output → {}\n{bad} failed records → {}{}{}",
        out.display(),
        failures.display(),
        if no_output > 0 { format!(" ({no_output} of them from jobs that produced no output)") } else { String::new() },
        if bad > 0 { format!("\nsubmit them again: bedbatch-doctor run retry {}", m.run_id) } else { String::new() }
    );
    Ok(emit(&Plain {
        text,
        json: json!({"run_id": m.run_id, "output": out, "failures": failures, "records_ok": ok, "records_failed": bad, "records_without_output": no_output}),
        exit: if bad > 0 { ExitCode::Failed } else { ExitCode::Ok },
    }))
}

/// The family whose output shape the run's jobs wrote.
pub fn output_family(m: &RunManifest) -> crate::families::Family {
    use crate::families::{Family, Invocation};
    match (m.family, m.invocation_type) {
        (Some(f), _) => f,
        (None, Invocation::Converse) => Family::Converse,
        (None, Invocation::InvokeModel) => crate::families::ModelProfile::of(&crate::run::report::run_model(m), &m.model_id).family,
    }
}

/// The input records of a finished run that have no output (record errors, and every record
/// of a job that failed, stopped, expired or never ran), as a local JSONL file for a new run.
/// With `schema`: instead, the records whose answer holds no JSON value or breaks the schema.
pub async fn failed_records(ctx: &Ctx, m: &RunManifest, schema: Option<&crate::run::schema::Schema>) -> Result<PathBuf> {
    let family = output_family(m);
    refuse_unfinished(m, "retry it")?;
    let tmp = scratch(ctx, &m.run_id)?;
    let path = ctx.root.join(&m.run_id).join("retry-input.jsonl");
    let mut w = create_new(&path, true)?;
    let mut n = 0u64;
    for s in &m.shards {
        if schema.is_none() && s.status == "Completed" && s.counts.as_ref().is_some_and(|c| c.error == 0 && c.success == s.records) {
            continue;
        }
        let mut write = |rec: &[u8], _: &str, j: Joined| -> Result<()> {
            let wanted = match (schema, &j) {
                (None, Joined::Ok(..)) => false,
                (None, _) => true,
                (Some(sc), Joined::Ok(_, out)) => {
                    let text = out.model_output().and_then(|v| crate::families::read_output(family, &v)).ok().and_then(|a| a.text);
                    text.is_none_or(|t| sc.check(&t).is_err())
                }
                (Some(_), _) => false,
            };
            if !wanted {
                return Ok(());
            }
            n += 1;
            w.write_all(rec).and_then(|_| w.write_all(b"\n")).map_err(|e| Error::io(path.display(), e))
        };
        join_shard(ctx, m, s, &tmp, &mut write).await?;
    }
    w.flush().map_err(|e| Error::io(path.display(), e))?;
    let _ = std::fs::remove_dir(&tmp);
    if n == 0 {
        return Err(Error::Usage(match schema {
            Some(_) => format!("run {}: every answer holds JSON that the schema accepts; there is nothing to retry", m.run_id),
            None => format!("run {}: every record has output; there is nothing to retry", m.run_id),
        }));
    }
    match schema {
        Some(_) => crate::say!("run {}: {n} records whose answer broke the schema will be submitted again", m.run_id),
        None => crate::say!("run {}: {n} records without output will be submitted again", m.run_id),
    }
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An output line's parts: absent is null, present is the value, and a value serde_json cannot
    /// hold (the line's syntax check lets `1e400` through) is an error in serde_json's words, never
    /// a silent null.
    /// An output line that is not a record is never skipped in silence, and a recordId answered
    /// twice is not answered by whichever line came last.
    #[test]
    fn unreadable_and_repeated_output_lines_are_said() {
        let dir = tempfile::tempdir().unwrap();
        let input = dir.path().join("in.jsonl");
        let output = dir.path().join("in.jsonl.out");
        let rec = |id: &str| format!(r#"{{"recordId":"{id}","modelInput":{{"prompt":"p"}}}}"#);
        std::fs::write(&input, [rec("a"), rec("b"), rec("c")].join("\n") + "\n").unwrap();
        let out = |id: &str, text: &str| format!(r#"{{"recordId":"{id}","modelInput":{{}},"modelOutput":{{"generation":"{text}"}}}}"#);
        let lines = [out("a", "one"), r#"{"recordId":"b","modelInput":{},"modelOut"#.to_string(), out("c", "x"), out("c", "y")];
        std::fs::write(&output, lines.join("\n") + "\n").unwrap();
        let mut got = Vec::new();
        join_local(&input, Some(&output), "no output file", &mut |_, id, j| {
            got.push((
                id.to_string(),
                match j {
                    Joined::Ok(..) => "ok".to_string(),
                    Joined::RecordError(..) => "error".to_string(),
                    Joined::NoOutput(why) => why.to_string(),
                },
            ));
            Ok(())
        })
        .unwrap();
        assert_eq!(got[0], ("a".to_string(), "ok".to_string()));
        assert!(got[1].1.contains("1 of whose lines are not output records (line 2: it is not JSON"), "{got:?}");
        assert!(got[2].1.contains("on 2 lines (line 3, line 4)"), "{got:?}");
    }

    #[test]
    fn output_line_parts_are_values_or_errors() {
        let line: OutputLine =
            serde_json::from_str(r#"{"recordId":"r","modelInput":{"big":[1,2,3]},"modelOutput":{"content":[{"text":"hi"}]}}"#).unwrap();
        assert_eq!(line.model_output().unwrap(), json!({"content":[{"text":"hi"}]}));
        assert_eq!(line.error().unwrap(), Value::Null);
        let line: OutputLine = serde_json::from_str(r#"{"recordId":"r","error":{"errorCode":400,"errorMessage":"bad"},"modelOutput":null}"#).unwrap();
        assert!(line.model_output.is_none());
        assert_eq!(line.error().unwrap()["errorCode"], 400);
        let line: OutputLine = serde_json::from_str(r#"{"recordId":"r","modelOutput":{"score":1e400}}"#).unwrap();
        let err = line.model_output().unwrap_err();
        assert!(err.contains("out of range"), "{err}");
    }
}
