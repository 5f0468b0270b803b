//! Splits a dataset into job inputs within a model's batch quotas, streaming, in constant memory.
//!
//! AWS ("Format and upload your batch inference data", and the per-model quotas in Service
//! Quotas): a job reads `.jsonl` files of `{"recordId", "modelInput"}` lines; a job takes at most
//! *records per batch inference job* records and *batch inference job size* bytes, a file at most
//! *records per input file per batch inference job* records and *batch inference input file
//! size* bytes, and a job needs at least *minimum number of records per batch inference job*
//! records. One shard is one job's single input file, so each shard keeps the smaller of each
//! pair of limits and at least the minimum.
//!
//! The records are spread evenly: with N records left that need k more shards (by records or by
//! bytes), the next shard takes ceil(N / k). So no tail shard is left under the minimum
//! (12,345 records at 1,000 a job are 13 shards of 949 or 950, not 12 of 1,000 and one of 345).

use std::collections::HashSet;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::error::{Error, Result};
use crate::validate::limits::Limits;

/// The limits of one shard, from the model's batch quotas.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ShardLimits {
    pub min_records: u64,
    pub max_records: u64,
    pub max_bytes: u64,
}

impl ShardLimits {
    pub fn from_limits(l: &Limits) -> ShardLimits {
        ShardLimits {
            min_records: l.min_records.max(1),
            max_records: l.max_records_per_file.min(l.max_records_per_job).max(1),
            max_bytes: l.max_file_bytes.min(l.max_job_bytes).max(1),
        }
    }
}

/// The id given to the record at `ordinal` (1-based, counted over the whole input) when it has
/// none: stable, so the same input gives the same ids on every run.
pub fn assigned_id(ordinal: u64) -> String {
    format!("r{ordinal:010}")
}

#[derive(Deserialize)]
struct IdOnly<'a> {
    #[serde(rename = "recordId", borrow, default)]
    record_id: Option<std::borrow::Cow<'a, str>>,
}

/// One input line as a record: `None` for a blank line. Strips a UTF-8 byte order mark (on the
/// first line of a file), a final `\r`, and surrounding whitespace.
pub fn record_bytes(raw: &[u8], first_line: bool) -> Option<&[u8]> {
    let mut line = raw;
    if first_line {
        line = line.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(line);
    }
    let start = line.iter().position(|b| !b.is_ascii_whitespace())?;
    let end = line.iter().rposition(|b| !b.is_ascii_whitespace()).map(|e| e + 1).unwrap_or(line.len());
    Some(&line[start..end])
}

/// The record's own recordId, or None when it has none. Err: the line is not a JSON object with
/// a string recordId (validate reports these before any sharding).
pub fn record_id(record: &[u8]) -> std::result::Result<Option<String>, String> {
    // The validator's fast parser first (SIMD over the rest of the line, which is skipped): it
    // answers only for a line serde_json accepts, exactly as serde_json would, and leaves the
    // rest, and the wording of any error, to serde_json.
    if let Some((e, _)) = crate::validate::fast::from_slice::<IdOnly>(record) {
        return Ok(e.record_id.map(|c| c.into_owned()));
    }
    serde_json::from_slice::<IdOnly>(record).map(|e| e.record_id.map(|c| c.into_owned())).map_err(|e| e.to_string())
}

/// The bytes a record takes in a shard: the line, the recordId spliced in when it has none,
/// and the newline.
pub fn written_len(record: &[u8], has_id: bool, ordinal: u64) -> u64 {
    let extra = if has_id { 0 } else { assigned_id(ordinal).len() as u64 + r#""recordId":"","#.len() as u64 };
    record.len() as u64 + extra + 1
}

fn write_record(w: &mut impl Write, record: &[u8], id: Option<&str>) -> std::io::Result<()> {
    match id {
        // `{` + `"recordId":"<id>",` + the rest of the object.
        Some(id) => {
            w.write_all(b"{\"recordId\":\"")?;
            w.write_all(id.as_bytes())?;
            w.write_all(b"\",")?;
            w.write_all(&record[1..])?;
        }
        None => w.write_all(record)?,
    }
    w.write_all(b"\n")
}

/// What the first pass learned: how many records and how many bytes they take in shards.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Totals {
    pub records: u64,
    pub bytes: u64,
}

/// The first pass of a run: every record through the validator, and the records and bytes the
/// shards will hold.
pub struct FirstPass {
    validator: crate::validate::engine::Validator,
    pub totals: Totals,
    /// Records without a recordId (they are given `r<ordinal>`).
    pub missing_ids: u64,
}

impl FirstPass {
    /// Duplicate recordIds are checked per job by [`Sharder::push`] (exactly, in memory bounded
    /// by one job), not by the validator across the whole input (memory growing with it).
    pub fn new(validator: crate::validate::engine::Validator) -> FirstPass {
        FirstPass { validator: validator.without_duplicate_ids(), totals: Totals::default(), missing_ids: 0 }
    }

    pub fn push(&mut self, record: &[u8]) {
        let has_id = matches!(record_id(record), Ok(Some(_)));
        self.push_known(record, has_id);
    }

    /// [`FirstPass::push`] for a record whose writer knows whether it has a recordId (`prepare`
    /// always writes one), so the line is not parsed a second time to find out.
    pub fn push_known(&mut self, record: &[u8], has_id: bool) {
        self.validator.feed(record);
        self.totals.records += 1;
        if !has_id {
            self.missing_ids += 1;
        }
        self.totals.bytes += written_len(record, has_id, self.totals.records);
    }

    /// The validator's report without the problems sharding removes (the input as a whole over
    /// the per-file and per-job limits, a name not ending in .jsonl).
    pub fn finish(self, source: &str) -> crate::validate::report::Report {
        use crate::validate::diags::Code as C;
        let mut report = self.validator.finish(source, None);
        report.problems.retain(|p| !matches!(p.code, C::TooManyRecords | C::TooManyRecordsPerJob | C::FileTooLarge | C::JobTooLarge | C::NotJsonl));
        report
    }
}

/// One shard written to disk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShardFile {
    pub index: usize,
    pub path: PathBuf,
    pub records: u64,
    pub bytes: u64,
}

/// The shard file name for an index (`shard-0007.jsonl`).
pub fn shard_name(index: usize) -> String {
    format!("shard-{index:04}.jsonl")
}

/// Writes shards into a directory, one record at a time.
pub struct Sharder {
    dir: PathBuf,
    limits: ShardLimits,
    totals: Totals,
    done: Totals,
    target: u64,
    current: Option<(std::io::BufWriter<std::fs::File>, ShardFile)>,
    ids: HashSet<Box<str>>,
    shards: Vec<ShardFile>,
    ordinal: u64,
    /// Records given an id because they had none.
    pub assigned: u64,
}

fn div_ceil(a: u64, b: u64) -> u64 {
    a.div_ceil(b.max(1))
}

impl Sharder {
    /// `totals` comes from the first pass over the same input ([`Totals`] of [`written_len`]).
    pub fn new(dir: &Path, limits: ShardLimits, totals: Totals) -> Result<Sharder> {
        if totals.records < limits.min_records {
            return Err(Error::Usage(format!(
                "the input has {} records; a batch job needs at least {} (the model's minimum per job)",
                totals.records, limits.min_records
            )));
        }
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir.display(), e))?;
        Ok(Sharder {
            dir: dir.to_path_buf(),
            limits,
            totals,
            done: Totals::default(),
            target: 0,
            current: None,
            ids: HashSet::new(),
            shards: Vec::new(),
            ordinal: 0,
            assigned: 0,
        })
    }

    /// How many records the next shard takes: the records left spread evenly over the shards
    /// they still need.
    fn next_target(&self) -> u64 {
        let left = self.totals.records.saturating_sub(self.done.records);
        let left_bytes = self.totals.bytes.saturating_sub(self.done.bytes);
        let shards = div_ceil(left, self.limits.max_records).max(div_ceil(left_bytes, self.limits.max_bytes)).max(1);
        div_ceil(left, shards).clamp(1, self.limits.max_records)
    }

    fn open(&mut self) -> Result<()> {
        let index = self.shards.len();
        let path = self.dir.join(shard_name(index));
        let file = std::fs::File::create(&path).map_err(|e| Error::io(path.display(), e))?;
        self.target = self.next_target();
        self.ids.clear();
        self.current = Some((std::io::BufWriter::with_capacity(1 << 20, file), ShardFile { index, path, records: 0, bytes: 0 }));
        Ok(())
    }

    fn close(&mut self) -> Result<()> {
        if let Some((mut w, shard)) = self.current.take() {
            w.flush().map_err(|e| Error::io(shard.path.display(), e))?;
            self.shards.push(shard);
        }
        Ok(())
    }

    /// Adds one record (a non-blank line, see [`record_bytes`]).
    pub fn push(&mut self, record: &[u8]) -> Result<()> {
        self.ordinal += 1;
        let own = record_id(record).map_err(|e| Error::Usage(format!("record {}: {e}", self.ordinal)))?;
        let len = written_len(record, own.is_some(), self.ordinal);
        if len > self.limits.max_bytes {
            return Err(Error::Usage(format!(
                "record {} takes {len} bytes, more than a whole job may hold ({} bytes)",
                self.ordinal, self.limits.max_bytes
            )));
        }
        let full = match &self.current {
            Some((_, s)) => s.records >= self.target || s.bytes + len > self.limits.max_bytes,
            None => true,
        };
        if full {
            self.close()?;
            self.open()?;
        }
        let assigned = if own.is_none() {
            self.assigned += 1;
            Some(assigned_id(self.ordinal))
        } else {
            None
        };
        let id = own.as_deref().or(assigned.as_deref()).unwrap_or_default();
        if !self.ids.insert(id.into()) {
            return Err(Error::Usage(format!(
                "record {}: recordId {id:?} appears twice in one job; every record needs its own id to be matched with its output",
                self.ordinal
            )));
        }
        let (w, shard) = self.current.as_mut().expect("opened above");
        write_record(w, record, assigned.as_deref()).map_err(|e| Error::io(shard.path.display(), e))?;
        shard.records += 1;
        shard.bytes += len;
        self.done.records += 1;
        self.done.bytes += len;
        Ok(())
    }

    /// Closes the last shard; a last shard under the minimum is merged into the one before it
    /// when both fit one job, and is an error otherwise (it cannot be submitted).
    pub fn finish(mut self) -> Result<Vec<ShardFile>> {
        self.close()?;
        let n = self.shards.len();
        if n >= 2 && self.shards[n - 1].records < self.limits.min_records {
            let last = self.shards.pop().expect("n >= 2");
            let prev = self.shards.last_mut().expect("n >= 2");
            if prev.records + last.records > self.limits.max_records || prev.bytes + last.bytes > self.limits.max_bytes {
                return Err(Error::Usage(format!(
                    "the last shard has {} records, under the model's minimum of {}, and cannot join the one before it without passing the job limits ({} records, {} bytes): the records are too large for even shards",
                    last.records, self.limits.min_records, self.limits.max_records, self.limits.max_bytes
                )));
            }
            let mut out = std::fs::OpenOptions::new().append(true).open(&prev.path).map_err(|e| Error::io(prev.path.display(), e))?;
            let mut inp = std::fs::File::open(&last.path).map_err(|e| Error::io(last.path.display(), e))?;
            std::io::copy(&mut inp, &mut out).map_err(|e| Error::io(prev.path.display(), e))?;
            std::fs::remove_file(&last.path).map_err(|e| Error::io(last.path.display(), e))?;
            prev.records += last.records;
            prev.bytes += last.bytes;
        }
        Ok(self.shards)
    }
}

/// Splits a buffer into lines and hands each record to `f`; returns the bytes of an unfinished
/// last line. `first` is true while no line of the file was seen (for the byte order mark).
pub fn split_records(buf: &[u8], first: &mut bool, f: &mut dyn FnMut(&[u8]) -> Result<()>) -> Result<usize> {
    let mut start = 0;
    for nl in memchr::memchr_iter(b'\n', buf) {
        if let Some(r) = record_bytes(&buf[start..nl], *first) {
            f(r)?;
        }
        *first = false;
        start = nl + 1;
    }
    Ok(buf.len() - start)
}

/// Streams the records of a reader (1 MiB at a time) to `f`.
pub fn read_records(mut r: impl std::io::Read, what: &str, f: &mut dyn FnMut(&[u8]) -> Result<()>) -> Result<()> {
    let mut buf = vec![0u8; 1 << 20];
    let mut filled = 0;
    let mut first = true;
    loop {
        if filled == buf.len() {
            buf.resize(buf.len() * 2, 0);
        }
        let n = r.read(&mut buf[filled..]).map_err(|e| Error::Io(format!("reading {what}: {e}")))?;
        if n == 0 {
            break;
        }
        let end = filled + n;
        let rest = split_records(&buf[..end], &mut first, f)?;
        buf.copy_within(end - rest..end, 0);
        filled = rest;
    }
    if let Some(r) = record_bytes(&buf[..filled], first) {
        f(r)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `record_id` answers as serde_json alone would, whichever parser answered: the same id,
    /// or an error (serde_json's own words) on the same lines.
    #[test]
    fn record_id_agrees_with_serde_json() {
        let by_serde = |l: &[u8]| serde_json::from_slice::<IdOnly>(l).map(|e| e.record_id.map(|c| c.into_owned())).map_err(|e| e.to_string());
        let lines: &[&[u8]] = &[
            br#"{"recordId":"r1","modelInput":{"messages":[{"role":"user","content":"a \"q\" b"}]}}"#,
            br#"{"modelInput":{"x":[1,2.5e3,-0.0,true,null]},"recordId":"late"}"#,
            br#"{"recordId":"esc\u00e9\n\t","modelOutput":{"content":[{"text":"\ud83d\ude00"}]}}"#,
            br#"{"recordId":"\ud83d\ude00"}"#,
            "{\"recordId\":\"caf\u{e9}\"}".as_bytes(),
            br#"{"modelInput":{}}"#,
            br#"{"recordId":null,"modelInput":{}}"#,
            br#"{"recordId":7}"#,
            br#"{"recordId":"a","recordId":"b"}"#,
            br#"{"recordId":"a"} x"#,
            br#"{"recordId":"a""#,
            br#"[1,2]"#,
            br#"{"recordId":"a","x":01}"#,
            b"{\"recordId\":\"a\",\"x\":\"\x01\"}",
            b"{\"recordId\":\"\xff\"}",
            br#"  {"recordId" : "spaced" , "x" : { } }  "#,
        ];
        for l in lines {
            assert_eq!(record_id(l), by_serde(l), "{}", String::from_utf8_lossy(l));
        }
    }

    fn line(i: u64, with_id: bool) -> String {
        if with_id {
            format!(r#"{{"recordId":"id{i}","modelInput":{{"x":{i}}}}}"#)
        } else {
            format!(r#"{{"modelInput":{{"x":{i}}}}}"#)
        }
    }

    fn shard_all(n: u64, limits: ShardLimits, with_id: impl Fn(u64) -> bool) -> (Vec<ShardFile>, u64, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        let lines: Vec<String> = (1..=n).map(|i| line(i, with_id(i))).collect();
        let mut totals = Totals::default();
        for (i, l) in lines.iter().enumerate() {
            totals.records += 1;
            totals.bytes += written_len(l.as_bytes(), with_id(i as u64 + 1), i as u64 + 1);
        }
        let mut s = Sharder::new(dir.path(), limits, totals).unwrap();
        for l in &lines {
            s.push(l.as_bytes()).unwrap();
        }
        let assigned = s.assigned;
        (s.finish().unwrap(), assigned, dir)
    }

    #[test]
    fn even_shards_never_leave_a_tail_under_the_minimum() {
        let limits = ShardLimits { min_records: 100, max_records: 1000, max_bytes: 1 << 30 };
        let (shards, _, _d) = shard_all(12_345, limits, |_| true);
        assert_eq!(shards.len(), 13);
        assert!(shards.iter().all(|s| s.records == 949 || s.records == 950), "{shards:?}");
        assert_eq!(shards.iter().map(|s| s.records).sum::<u64>(), 12_345);
        let (shards, _, _d) = shard_all(1_050, limits, |_| true);
        assert_eq!(shards.iter().map(|s| s.records).collect::<Vec<_>>(), vec![525, 525]);
    }

    #[test]
    fn missing_ids_are_assigned_stably_and_the_file_keeps_order() {
        let limits = ShardLimits { min_records: 2, max_records: 3, max_bytes: 1 << 30 };
        let (shards, assigned, _d) = shard_all(7, limits, |i| i % 2 == 0);
        assert_eq!(assigned, 4);
        let all: Vec<String> =
            shards.iter().flat_map(|s| std::fs::read_to_string(&s.path).unwrap().lines().map(String::from).collect::<Vec<_>>()).collect();
        let ids: Vec<String> = all.iter().map(|l| record_id(l.as_bytes()).unwrap().unwrap()).collect();
        assert_eq!(ids, ["r0000000001", "id2", "r0000000003", "id4", "r0000000005", "id6", "r0000000007"]);
        for (i, l) in all.iter().enumerate() {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            assert_eq!(v["modelInput"]["x"], i as u64 + 1);
        }
        assert!(shards.iter().all(|s| s.records >= 2 && s.records <= 3));
    }

    #[test]
    fn the_byte_limit_cuts_shards_and_a_short_tail_joins_the_one_before() {
        // ~30-byte records, 100 bytes a job: 3 a shard by bytes.
        let limits = ShardLimits { min_records: 1, max_records: 1000, max_bytes: 100 };
        let (shards, _, _d) = shard_all(10, limits, |_| true);
        assert!(shards.iter().all(|s| s.bytes <= 100), "{shards:?}");
        assert_eq!(shards.iter().map(|s| s.records).sum::<u64>(), 10);
    }

    #[test]
    fn too_few_records_and_duplicate_ids_in_a_job_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let limits = ShardLimits { min_records: 100, max_records: 1000, max_bytes: 1 << 30 };
        let e = Sharder::new(dir.path(), limits, Totals { records: 99, bytes: 1000 }).err().unwrap();
        assert!(e.to_string().contains("at least 100"), "{e}");
        let limits = ShardLimits { min_records: 1, max_records: 1000, max_bytes: 1 << 30 };
        let mut s = Sharder::new(dir.path(), limits, Totals { records: 2, bytes: 100 }).unwrap();
        s.push(line(1, true).as_bytes()).unwrap();
        let e = s.push(line(1, true).as_bytes()).err().unwrap();
        assert!(e.to_string().contains("\"id1\" appears twice"), "{e}");
    }

    #[test]
    fn records_are_split_on_newlines_with_crlf_bom_and_blank_lines() {
        let data = b"\xEF\xBB\xBF{\"a\":1}\r\n\n  \n{\"a\":2}\n{\"a\":3}";
        let mut got = vec![];
        read_records(&data[..], "x", &mut |r| {
            got.push(String::from_utf8(r.to_vec()).unwrap());
            Ok(())
        })
        .unwrap();
        assert_eq!(got, [r#"{"a":1}"#, r#"{"a":2}"#, r#"{"a":3}"#]);
    }
}
