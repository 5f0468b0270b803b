//! The two table ends of `run`, at scale: `prepare` (a CSV of ~2 KB rows read, each row's prompt
//! filled, a Claude Messages record built and checked by validate's rules, written as JSONL) side
//! by side, in the same run, with the pandas-and-`json.dumps` loop a notebook user writes today
//! (`benches/prepare_py.py`, from the project's `.venv`); then `collect` of the matching outputs
//! to Parquet (every row joined by recordId, the answer, tokens and status added). MB/s and peak
//! RSS of each, measured in child processes so each peak is that pass's alone.
//!
//! `cargo bench --bench table` (BEDBATCH_BENCH_MB sets the CSV size, default 1024; rows are
//! ~2 KB). Under `cargo test` it runs on 2 MB as a smoke test, without the Python baseline.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use bedbatch_doctor::families::{BodyOptions, Family};
use bedbatch_doctor::run::join::{join_local, Joined};
use bedbatch_doctor::run::prepare::{records, Prompt, Settings};
use bedbatch_doctor::run::results::{output_columns, Results};
use bedbatch_doctor::run::shard::FirstPass;
use bedbatch_doctor::table::{self, Format};
use bedbatch_doctor::validate::{Limits, Validator};

const PROMPT: &str = "Summarise this conversation with {{customer}}:\n{{conversation}}";

fn generate(path: &Path, total: u64) {
    // The file is kept between runs: written again, its 1.1 GB of dirty pages were still being
    // flushed to disk while the first measurement (ours, to disk) ran. Quoting makes it about
    // 7% longer than the text counted below, hence the bounds.
    if std::fs::metadata(path).map(|m| m.len() + (64 << 10) > total && m.len() <= total + total / 5).unwrap_or(false) {
        return;
    }
    let filler: String = "Agent: thanks for waiting, \"really\", let me check that, one moment. ".chars().cycle().take(1900).collect();
    let mut w = csv::Writer::from_writer(std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(path).unwrap()));
    w.write_record(["id", "customer", "conversation"]).unwrap();
    let mut written = 0u64;
    let mut i = 0u64;
    while written < total.saturating_sub(4096) {
        i += 1;
        let conv = format!("Customer {i}: my order, number {i}, is late.\n{filler}");
        let customer = format!("Last{i}, First");
        written += (conv.len() + customer.len() + 20) as u64;
        w.write_record([&i.to_string(), &customer, &conv]).unwrap();
    }
    w.flush().unwrap();
}

fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("VmHWM:")).and_then(|l| l.split_whitespace().nth(1)).and_then(|v| v.parse().ok()))
        .unwrap_or(0)
}

/// Child: prepare `input` into `out`; prints "secs rows peak_kib".
fn prepare(input: &Path, out: &Path) {
    let start = Instant::now();
    let mut t = table::open(input, Format::Csv).unwrap();
    let prompt = Prompt::new(("bench", PROMPT), None).unwrap();
    let settings = Settings { family: Family::Anthropic, options: BodyOptions { max_tokens: 1024, temperature: None, top_p: None }, id_column: None };
    let mut first = FirstPass::new(Validator::new(Family::Anthropic, Limits::default(), 5));
    // As the prepare command writes: on a thread of its own, then synced (the sync timed apart).
    let mut w = bedbatch_doctor::table::spool::Spool::new(std::fs::File::create(out).unwrap());
    let stats = records(t.as_mut(), "bench.csv", &prompt, &settings, &mut |_, rec| {
        // Every record prepare writes has its recordId.
        first.push_known(rec, true);
        w.write_all(rec).and_then(|_| w.write_all(b"\n")).map_err(|e| bedbatch_doctor::error::Error::Io(e.to_string()))
    })
    .unwrap();
    let file = w.finish().unwrap();
    let report = first.finish("bench.jsonl");
    assert_eq!(report.errors(), 0);
    let secs = start.elapsed().as_secs_f64();
    let synced = Instant::now();
    if out != Path::new("/dev/null") {
        file.sync_all().unwrap();
    }
    println!("{secs} {} {} {}", stats.rows, peak_rss_kib(), synced.elapsed().as_secs_f64());
}

/// Writes the outputs Bedrock would for `records` (every record answered, odd lines first).
fn fake_output(records: &Path, out: &Path) -> u64 {
    let text = std::fs::read_to_string(records).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let mut w = std::io::BufWriter::new(std::fs::File::create(out).unwrap());
    let order = (1..lines.len()).step_by(2).chain((0..lines.len()).step_by(2));
    for i in order {
        let v: serde_json::Value = serde_json::from_str(lines[i]).unwrap();
        let answer = serde_json::json!({"recordId": v["recordId"], "modelInput": v["modelInput"], "modelOutput": {
            "type": "message", "role": "assistant", "content": [{"type": "text", "text": format!("The customer of record {} is unhappy about a late order; the agent checks it.", v["recordId"])}],
            "stop_reason": "end_turn", "usage": {"input_tokens": 520, "output_tokens": 24}}});
        writeln!(w, "{answer}").unwrap();
    }
    w.flush().unwrap();
    std::fs::metadata(out).unwrap().len()
}

/// Child: collect the table joined to `records`/`output` into Parquet; prints "secs rows peak_kib".
fn collect(input: &Path, records: &Path, output: &Path, out: &Path) {
    let start = Instant::now();
    let reader = table::open(input, Format::Csv).unwrap();
    let cols = output_columns(Some(reader.as_ref()), Family::Anthropic, None, None).unwrap();
    let writer = table::create(out, Format::Parquet, &cols).unwrap();
    let mut results = Results::new(Family::Anthropic, None, Some(reader), None, writer, 0).unwrap();
    join_local(records, Some(output), "no output", &mut |rec, id, j: Joined| results.push(rec, id, j)).unwrap();
    let totals = results.finish().unwrap();
    assert_eq!(totals.ok, totals.rows);
    println!("{} {} {}", start.elapsed().as_secs_f64(), totals.rows, peak_rss_kib());
}

fn run_child(me: &Path, args: &[&str]) -> Vec<f64> {
    let out = Command::new(me).args(args).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).split_whitespace().map(|x| x.parse().unwrap()).collect()
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--prepare") {
        return prepare(Path::new(&args[i + 1]), Path::new(&args[i + 2]));
    }
    if let Some(i) = args.iter().position(|a| a == "--collect") {
        return collect(Path::new(&args[i + 1]), Path::new(&args[i + 2]), Path::new(&args[i + 3]), Path::new(&args[i + 4]));
    }
    let measuring = args.iter().any(|a| a == "--bench");
    let mb: u64 = if measuring { std::env::var("BEDBATCH_BENCH_MB").ok().and_then(|v| v.parse().ok()).unwrap_or(1024) } else { 2 };
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/bench-data");
    std::fs::create_dir_all(&root).unwrap();
    let input = root.join(format!("table-{mb}MB.csv"));
    generate(&input, mb << 20);
    let bytes = std::fs::metadata(&input).unwrap().len() as f64;
    let records = root.join(format!("table-{mb}MB.jsonl"));
    let me = std::env::current_exe().unwrap();
    let smoke = if measuring { "" } else { " [smoke run under cargo test; use cargo bench]" };

    // Side by side, each sink: writing the records to disk (what a user sees; on this VM's
    // disk a write of that size alone takes seconds, a floor both sides share), and to /dev/null
    // (the work itself: read, fill, build, validate). Measured, the two sides take turns three
    // times and each is its median: this 2-core VM's speed moves by a third from minute to
    // minute (steal time), more than the code's own changes.
    let runs = if measuring { 3 } else { 1 };
    let median = |mut v: Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    for (sink, label) in [(records.clone(), "to disk"), (PathBuf::from("/dev/null"), "to /dev/null")] {
        let (mut ours, mut syncs, mut kibs, mut pys, mut py_kibs, mut rows) = (vec![], vec![], vec![], vec![], vec![], 0.0);
        let mut py_failed = None;
        for _ in 0..runs {
            // A new file each time, as the command writes (to a temporary file renamed into
            // place) and as the loop's file is after the removal below: replacing the last run's
            // 1.1 GB file in place costs its truncation first (~0.9 s here).
            if label == "to disk" {
                let _ = std::fs::remove_file(&sink);
            }
            let f = run_child(&me, &["--prepare", input.to_str().unwrap(), sink.to_str().unwrap()]);
            ours.push(f[0]);
            rows = f[1];
            kibs.push(f[2]);
            syncs.push(f[3]);
            if !measuring {
                continue;
            }
            let python = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".venv/bin/python");
            let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("benches/prepare_py.py");
            let py_out = if label == "to disk" { root.join(format!("table-{mb}MB.py.jsonl")) } else { PathBuf::from("/dev/null") };
            let out = Command::new(&python).arg(&script).arg(&input).arg(&py_out).output().unwrap();
            if label == "to disk" {
                let _ = std::fs::remove_file(&py_out);
            }
            if !out.status.success() {
                py_failed = Some(String::from_utf8_lossy(&out.stderr).lines().last().unwrap_or("").to_string());
                break;
            }
            let f: Vec<f64> = String::from_utf8_lossy(&out.stdout).split_whitespace().map(|x| x.parse().unwrap()).collect();
            pys.push(f[0]);
            py_kibs.push(f[1]);
        }
        let mbs = |secs: &[f64]| secs.iter().map(|s| bytes / s / 1e6).collect::<Vec<_>>();
        let range = |v: &[f64]| {
            let (lo, hi) = v.iter().fold((f64::MAX, f64::MIN), |(lo, hi), x| (lo.min(*x), hi.max(*x)));
            if v.len() > 1 {
                format!(" [{lo:.0}-{hi:.0}]")
            } else {
                String::new()
            }
        };
        let (secs, ours_mbs) = (median(ours.clone()), mbs(&ours));
        let mut line = format!(
            "prepare {label} [{:.0} MB CSV, {rows} rows of ~2 KB]: {:.0} MB/s{} ({secs:.1} s{}), peak RSS {:.1} MiB",
            bytes / 1e6,
            median(ours_mbs.clone()),
            range(&ours_mbs),
            if label == "to disk" { format!("; then the command's fsync {:.1} s, which the loop does not do", median(syncs)) } else { String::new() },
            kibs.iter().cloned().fold(0.0, f64::max) / 1024.0
        );
        if let Some(why) = py_failed {
            line.push_str(&format!("; the Python baseline did not run: {why}"));
        } else if measuring {
            let py_mbs = mbs(&pys);
            line.push_str(&format!(
                "; pandas + json.dumps loop {:.1} MB/s{} ({:.1} s), peak RSS {:.1} MiB; ratio of the medians {:.1}x ({} runs each, taking turns)",
                median(py_mbs.clone()),
                range(&py_mbs),
                median(pys.clone()),
                py_kibs.iter().cloned().fold(0.0, f64::max) / 1024.0,
                median(ours_mbs) / median(py_mbs),
                runs
            ));
        }
        println!("{line}{smoke}");
    }

    let output = root.join(format!("table-{mb}MB.jsonl.out"));
    let out_bytes = fake_output(&records, &output) as f64;
    let pq = root.join(format!("table-{mb}MB.results.parquet"));
    let f = run_child(&me, &["--collect", input.to_str().unwrap(), records.to_str().unwrap(), output.to_str().unwrap(), pq.to_str().unwrap()]);
    let (secs, rows, kib) = (f[0], f[1], f[2]);
    println!(
        "collect to Parquet [{:.0} MB of outputs + the {:.0} MB table, {rows} rows]: {:.0} MB/s of outputs ({secs:.1} s), peak RSS {:.1} MiB, Parquet {:.0} MB{smoke}",
        out_bytes / 1e6,
        bytes / 1e6,
        out_bytes / secs / 1e6,
        kib / 1024.0,
        std::fs::metadata(&pq).unwrap().len() as f64 / 1e6
    );
    for p in [&records, &output, &pq] {
        let _ = std::fs::remove_file(p);
    }
}
