//! `run`'s two streaming passes at scale: sharding a generated input (validate every record,
//! then write the shards within the default quotas: 50,000 records and 1 GiB a job) and
//! `collect` joining the matching outputs back in input order. Prints MB/s and peak RSS of each,
//! measured in child processes so each peak is that pass's alone.
//!
//! `cargo bench --bench run_shard` (BEDBATCH_BENCH_MB sets the input size, default 2048;
//! BEDBATCH_BENCH_RECORD the record size in bytes, default 1024). Under `cargo test` it runs on
//! 2 MB, as a smoke test.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use bedbatch_doctor::families::Family;
use bedbatch_doctor::run::join::{join_local, Joined};
use bedbatch_doctor::run::shard::{read_records, shard_name, FirstPass, ShardLimits, Sharder};
use bedbatch_doctor::validate::{Limits, Validator};

fn record(i: usize, text_len: usize) -> String {
    let filler: String = "The quick brown fox jumps over the lazy dog. ".chars().cycle().take(text_len).collect();
    let input = serde_json::json!({"anthropic_version": "bedrock-2023-05-31", "max_tokens": 256,
        "messages": [{"role": "user", "content": [{"type": "text", "text": format!("Ticket {i}: {filler}")}]}]});
    // Every 100th record has no recordId, so ids are assigned as in real use.
    if i % 100 == 99 {
        serde_json::json!({"modelInput": input}).to_string()
    } else {
        serde_json::json!({"recordId": format!("REC{i:010}"), "modelInput": input}).to_string()
    }
}

fn generate(path: &Path, total: u64, record_len: usize) {
    if std::fs::metadata(path).map(|m| m.len() + (64 << 10) > total && m.len() <= total).unwrap_or(false) {
        return;
    }
    let text_len = record_len.saturating_sub(record(0, 0).len());
    let mut f = std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(path).unwrap());
    let (mut written, mut n) = (0u64, 0usize);
    loop {
        let line = record(n, text_len);
        if written + line.len() as u64 + 1 > total {
            break;
        }
        f.write_all(line.as_bytes()).unwrap();
        f.write_all(b"\n").unwrap();
        written += line.len() as u64 + 1;
        n += 1;
    }
    f.flush().unwrap();
}

fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("VmHWM:")).and_then(|l| l.split_whitespace().nth(1)).and_then(|v| v.parse().ok()))
        .unwrap_or(0)
}

/// Child: both passes of `run start` over `input` into `dir`; prints "bytes secs records shards peak_kib".
fn shard(input: &Path, dir: &Path) {
    let start = Instant::now();
    let limits = Limits { max_output_tokens: Some(4096), ..Limits::default() };
    let mut first = FirstPass::new(Validator::new(Family::Anthropic, limits.clone(), 5));
    let mut bytes = 0u64;
    read_records(std::fs::File::open(input).unwrap(), "input", &mut |rec| {
        bytes += rec.len() as u64 + 1;
        first.push(rec);
        Ok(())
    })
    .unwrap();
    let totals = first.totals;
    let report = first.finish("input");
    assert_eq!(report.errors(), 0, "{:?}", report.problems);
    let _ = std::fs::remove_dir_all(dir);
    let mut s = Sharder::new(dir, ShardLimits::from_limits(&limits), totals).unwrap();
    read_records(std::fs::File::open(input).unwrap(), "input", &mut |rec| s.push(rec)).unwrap();
    let shards = s.finish().unwrap();
    println!("{bytes} {} {} {} {}", start.elapsed().as_secs_f64(), totals.records, shards.len(), peak_rss_kib());
}

/// Writes each shard's Bedrock-like output (`<shard>.out`, odd positions first).
fn fake_outputs(dir: &Path) -> usize {
    let mut n = 0;
    while dir.join(shard_name(n)).exists() {
        let text = std::fs::read_to_string(dir.join(shard_name(n))).unwrap();
        let lines: Vec<String> = text
            .lines()
            .map(|l| {
                let mut v: serde_json::Value = serde_json::from_str(l).unwrap();
                v["modelOutput"] = serde_json::json!({"type": "message", "content": [{"type": "text", "text": "A short summary of the ticket."}],
                    "stop_reason": "end_turn", "usage": {"input_tokens": 250, "output_tokens": 8}});
                v.to_string()
            })
            .collect();
        let mut f = std::io::BufWriter::new(std::fs::File::create(dir.join(format!("{}.out", shard_name(n)))).unwrap());
        for l in lines.iter().skip(1).step_by(2).chain(lines.iter().step_by(2)) {
            writeln!(f, "{l}").unwrap();
        }
        n += 1;
    }
    n
}

/// Child: joins every shard with its output into one file; prints "bytes secs records peak_kib".
fn collect(dir: &Path, shards: usize) {
    let start = Instant::now();
    let mut out = std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(dir.join("merged.jsonl")).unwrap());
    let (mut bytes, mut records) = (0u64, 0u64);
    for n in 0..shards {
        let output = dir.join(format!("{}.out", shard_name(n)));
        bytes += std::fs::metadata(&output).unwrap().len();
        join_local(&dir.join(shard_name(n)), Some(&output), "none", &mut |_, _, j| {
            match j {
                Joined::Ok(line, _) => {
                    records += 1;
                    out.write_all(line).and_then(|_| out.write_all(b"\n")).unwrap();
                }
                _ => panic!("every record has output"),
            }
            Ok(())
        })
        .unwrap();
    }
    out.flush().unwrap();
    println!("{bytes} {} {records} {}", start.elapsed().as_secs_f64(), peak_rss_kib());
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--shard") {
        return shard(Path::new(&args[i + 1]), Path::new(&args[i + 2]));
    }
    if let Some(i) = args.iter().position(|a| a == "--collect") {
        return collect(Path::new(&args[i + 1]), args[i + 2].parse().unwrap());
    }
    let measuring = args.iter().any(|a| a == "--bench");
    let mb: u64 = if measuring { std::env::var("BEDBATCH_BENCH_MB").ok().and_then(|v| v.parse().ok()).unwrap_or(2048) } else { 2 };
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/bench-data");
    std::fs::create_dir_all(&root).unwrap();
    let record_len: usize = std::env::var("BEDBATCH_BENCH_RECORD").ok().and_then(|v| v.parse().ok()).unwrap_or(1024);
    let input = root.join(format!("run-{mb}MB-{record_len}.jsonl"));
    generate(&input, mb << 20, record_len);
    let dir = root.join(format!("run-{mb}MB-{record_len}-shards"));
    let me = std::env::current_exe().unwrap();
    let smoke = if measuring { "" } else { " [smoke run under cargo test; use cargo bench]" };

    let out = Command::new(&me).args(["--shard", input.to_str().unwrap(), dir.to_str().unwrap()]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let f: Vec<f64> = String::from_utf8_lossy(&out.stdout).split_whitespace().map(|x| x.parse().unwrap()).collect();
    let (bytes, secs, records, shards, kib) = (f[0], f[1], f[2], f[3] as usize, f[4]);
    println!(
        "run start, validate + shard [{:.0} MB, {records} records of ~{record_len} bytes, {shards} shards]: {:.0} MB/s ({:.1} s for both passes), peak RSS {:.1} MiB{smoke}",
        bytes / 1e6,
        bytes / secs / 1e6,
        secs,
        kib / 1024.0
    );
    assert_eq!(fake_outputs(&dir), shards);
    let out = Command::new(&me).args(["--collect", dir.to_str().unwrap(), &shards.to_string()]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let f: Vec<f64> = String::from_utf8_lossy(&out.stdout).split_whitespace().map(|x| x.parse().unwrap()).collect();
    let (bytes, secs, joined, kib) = (f[0], f[1], f[2], f[3]);
    assert_eq!(joined, records, "every record joined once");
    println!(
        "run collect, join by recordId [{:.0} MB of outputs, {joined} records]: {:.0} MB/s ({:.1} s), peak RSS {:.1} MiB{smoke}",
        bytes / 1e6,
        bytes / secs / 1e6,
        secs,
        kib / 1024.0
    );
    let _ = std::fs::remove_dir_all(&dir);
}
