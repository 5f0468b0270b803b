//! Throughput of `validate` on a 1 GiB Claude Messages file: 50,000 records of ~21 KB, and files
//! of the same size of 5 KB and 1 KB records. Prints MB/s, records/s and peak RSS (one core),
//! then runs benches/validate_py.py (the same checks with Python's json.loads) and prints the
//! ratio. Then a folder validated as one job: 40 files of 5 KB records, 2 GiB in all.
//!
//! `cargo bench --bench validate` (BEDBATCH_BENCH_MB sets the file size, default 1024;
//! BEDBATCH_BENCH_FOLDER_MB the folder's, default 2048; BEDBATCH_BENCH_RUNS how many times each
//! is measured, default 3: the best and the median are printed, Python's best beside them). Under `cargo test` it runs on 2 MB files
//! only, as a smoke test. The measuring runs happen in child processes so that peak RSS is the
//! validator's alone.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use bedbatch_doctor::families::Family;
use bedbatch_doctor::validate::{validate_reader, Limits, Validator};

fn record(i: usize, text_len: usize) -> String {
    let filler: String = "The quick brown fox jumps over the lazy dog. ".chars().cycle().take(text_len).collect();
    serde_json::json!({
        "recordId": format!("REC{i:010}"),
        "modelInput": {
            "anthropic_version": "bedrock-2023-05-31",
            "max_tokens": 512,
            "temperature": 0.2,
            "system": "You summarise support tickets.",
            "messages": [
                {"role": "user", "content": [{"type": "text", "text": format!("Ticket {i}: {filler}")}]}
            ]
        }
    })
    .to_string()
}

fn generate(path: &Path, total: u64, record_len: usize, first: usize) -> u64 {
    let size = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    if size <= total && size + (64 << 10) > total {
        return std::fs::read(path).map(|b| memchr_count(&b)).unwrap_or(0);
    }
    let text_len = record_len.saturating_sub(record(0, 0).len());
    let mut f = std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(path).unwrap());
    let (mut written, mut n) = (0u64, 0usize);
    loop {
        let line = record(first + n, text_len);
        if written + line.len() as u64 + 1 > total {
            break;
        }
        f.write_all(line.as_bytes()).unwrap();
        f.write_all(b"\n").unwrap();
        written += line.len() as u64 + 1;
        n += 1;
    }
    f.flush().unwrap();
    n as u64
}

fn memchr_positions(b: &[u8]) -> Vec<usize> {
    b.iter().enumerate().filter(|(_, c)| **c == b'\n').map(|(i, _)| i).collect()
}

fn memchr_count(b: &[u8]) -> u64 {
    b.iter().filter(|c| **c == b'\n').count() as u64
}

fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("VmHWM:")).and_then(|l| l.split_whitespace().nth(1)).and_then(|v| v.parse().ok()))
        .unwrap_or(0)
}

/// Child mode: validate a folder's files as one job, print "bytes seconds records peak_kib".
fn measure_folder(dir: &Path) {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    let limits = Limits { max_output_tokens: Some(4096), ..Limits::default() };
    let start = Instant::now();
    let mut v = Validator::new(Family::Anthropic, limits, 20);
    for f in &files {
        v.start_file(&f.file_name().unwrap().to_string_lossy());
        v = validate_reader(std::fs::File::open(f).unwrap(), v, |_| {}).unwrap();
    }
    let report = v.finish(&dir.display().to_string(), None);
    let secs = start.elapsed().as_secs_f64();
    assert!(
        report.problems.iter().all(|p| matches!(p.code.as_str(), "too-many-records-per-job" | "job-too-large" | "too-few-records")),
        "{:?}",
        report.problems
    );
    println!("{} {} {} {}", report.bytes, secs, report.records, peak_rss_kib());
}

/// Child mode: validate one file, print "bytes seconds records peak_kib".
fn measure(path: &Path) {
    let file = std::fs::File::open(path).unwrap();
    let limits = Limits { max_output_tokens: Some(4096), ..Limits::default() };
    let start = Instant::now();
    let v = validate_reader(file, Validator::new(Family::Anthropic, limits, 20), |_| {}).unwrap();
    let report = v.finish(&path.display().to_string(), Some("x.jsonl"));
    let secs = start.elapsed().as_secs_f64();
    assert!(
        report
            .problems
            .iter()
            .all(|p| p.code.as_str() == "too-many-records" || p.code.as_str() == "too-many-records-per-job" || p.code.as_str() == "too-few-records"),
        "{:?}",
        report.problems
    );
    println!("{} {} {} {}", report.bytes, secs, report.records, peak_rss_kib());
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--measure") {
        measure(Path::new(&args[i + 1]));
        return;
    }
    if let Some(i) = args.iter().position(|a| a == "--measure-text") {
        // The text-content scan alone, for profiling the estimate's cost.
        let data = std::fs::read(&args[i + 1]).unwrap();
        let lines = memchr_positions(&data);
        let start = Instant::now();
        let (mut chars, mut media) = (0, 0);
        let mut start_of_line = 0;
        for &nl in &lines {
            let (c, m) = bedbatch_doctor::validate::text_content(&data[start_of_line..nl]);
            start_of_line = nl + 1;
            chars += c;
            media += m;
        }
        println!("text scan: {:.0} MB/s ({chars} chars, {media} media)", data.len() as f64 / start.elapsed().as_secs_f64() / 1e6);
        return;
    }
    if let Some(i) = args.iter().position(|a| a == "--measure-folder") {
        measure_folder(Path::new(&args[i + 1]));
        return;
    }
    let measuring = args.iter().any(|a| a == "--bench");
    let mb: u64 = if measuring { std::env::var("BEDBATCH_BENCH_MB").ok().and_then(|v| v.parse().ok()).unwrap_or(1024) } else { 2 };
    let total = mb << 20;
    // Each figure is the best (and the median) of this many runs; one under `cargo test`.
    let runs: usize = if measuring { std::env::var("BEDBATCH_BENCH_RUNS").ok().and_then(|v| v.parse().ok()).unwrap_or(3).max(1) } else { 1 };
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/bench-data");
    std::fs::create_dir_all(&dir).unwrap();
    let me = std::env::current_exe().unwrap();
    let python = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".venv/bin/python");
    let python = if python.exists() { python } else { PathBuf::from("python3") };
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("benches/validate_py.py");
    for (label, record_len) in [("50,000 records of ~21 KB", (total / 50_000) as usize), ("5 KB records", 5 * 1024usize), ("1 KB records", 1024usize)]
    {
        let path = dir.join(format!("claude-{mb}MB-{record_len}.jsonl"));
        let records = generate(&path, total, record_len, 0);
        // Ours and Python's in turn, `runs` times: on a shared machine the load moves both.
        let (mut ours, mut py) = (Vec::new(), Vec::new());
        let (mut bytes, mut recs, mut kib) = (0.0, 0.0, 0.0f64);
        for _ in 0..runs {
            let f = measure_child(&me, "--measure", &path);
            (bytes, recs, kib) = (f[0], f[2], kib.max(f[3]));
            ours.push(f[1]);
            let out = Command::new(&python).arg(&script).arg(&path).output().unwrap();
            py.push(String::from_utf8_lossy(&out.stdout).trim().parse().unwrap_or(f64::NAN));
        }
        let (best, median) = best_median(&mut ours);
        let (py_best, _) = best_median(&mut py);
        println!(
            "validate [{label}, {:.0} MB, {records} records]: {:.0} MB/s (median of {runs} {:.0}), {:.0} records/s, peak RSS {:.1} MiB; python json.loads {:.0} MB/s; ratio {:.1}x{}",
            bytes / 1e6,
            bytes / best / 1e6,
            bytes / median / 1e6,
            recs / best,
            kib / 1024.0,
            bytes / py_best / 1e6,
            py_best / best,
            if measuring { "" } else { " [smoke run under cargo test; use cargo bench]" }
        );
    }
    // A folder as one job: 40 files of 5 KB records.
    let folder_mb: u64 = if measuring { std::env::var("BEDBATCH_BENCH_FOLDER_MB").ok().and_then(|v| v.parse().ok()).unwrap_or(2048) } else { 4 };
    // (Record ids run on across the files: the job's ids are compared across every file.)
    let folder = dir.join(format!("folder-{folder_mb}MB-ids"));
    std::fs::create_dir_all(&folder).unwrap();
    let mut records = 0;
    for i in 0..40 {
        records += generate(&folder.join(format!("part-{i:02}.jsonl")), (folder_mb << 20) / 40, 5 * 1024, records as usize);
    }
    let (mut times, mut bytes, mut recs, mut kib) = (Vec::new(), 0.0, 0.0, 0.0f64);
    for _ in 0..runs {
        let f = measure_child(&me, "--measure-folder", &folder);
        (bytes, recs, kib) = (f[0], f[2], kib.max(f[3]));
        times.push(f[1]);
    }
    let (best, median) = best_median(&mut times);
    println!(
        "validate [a folder as one job: 40 files of 5 KB records, {:.0} MB, {records} records]: {:.0} MB/s (median of {runs} {:.0}), {:.0} records/s, peak RSS {:.1} MiB{}",
        bytes / 1e6,
        bytes / best / 1e6,
        bytes / median / 1e6,
        recs / best,
        kib / 1024.0,
        if measuring { "" } else { " [smoke run under cargo test; use cargo bench]" }
    );
}

/// Runs this binary in a child mode on `path`; its figures: bytes, seconds, records, peak KiB.
fn measure_child(me: &Path, mode: &str, path: &Path) -> Vec<f64> {
    let out = Command::new(me).args([mode, path.to_str().unwrap()]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).split_whitespace().map(|x| x.parse().unwrap()).collect()
}

/// The shortest and the median of some times (the shortest is the run the machine disturbed
/// least; the median says how typical it is).
fn best_median(times: &mut [f64]) -> (f64, f64) {
    times.sort_by(f64::total_cmp);
    (times[0], times[times.len() / 2])
}
