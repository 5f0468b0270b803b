//! `run` against the emulator, through the binary: a dataset sharded within the quotas, the
//! concurrency quota kept full and never passed, output collected in input order, a killed run
//! resumed without a duplicate job, failed records retried, and a run cancelled.
//!
//! The tests share one model (Claude 3.7 Sonnet through its `us.` profile, which no other
//! suite uses) and set its quotas, so they take turns (`SERIAL`).

mod common;
use common::*;

use serde_json::{json, Value};

const MODEL: &str = "us.anthropic.claude-3-7-sonnet-20250219-v1:0";
const MODEL_NAME: &str = "Claude 3.7 Sonnet";
const FM: &str = "anthropic.claude-3-7-sonnet-20250219-v1:0";

static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

async fn set_quota(kind: &str, value: f64) {
    common::set_quota(MODEL_NAME, kind, value).await
}

/// The model's quotas for one test: records per job and per file, and jobs at once.
async fn quotas(per_job: f64, concurrent: f64) {
    set_quota("Records per batch inference job", per_job).await;
    set_quota("Records per input file per batch inference job", per_job).await;
    set_quota("Sum of in-progress and submitted batch inference jobs using a base model", concurrent).await;
}

fn stats() -> Value {
    read_control("stats")["stats"][FM].clone()
}

/// A record; its id is `<prefix>-<i>` (each test its own prefix: the emulator's record errors
/// are armed by id and outlive a failed test).
fn record_as(prefix: &str, i: usize, with_id: bool) -> String {
    let input = json!({"anthropic_version": "bedrock-2023-05-31", "max_tokens": 16, "messages": [{"role": "user", "content": format!("Summarise item {i}")}]});
    if with_id {
        json!({"recordId": format!("{prefix}-{i:06}"), "modelInput": input}).to_string()
    } else {
        json!({"modelInput": input}).to_string()
    }
}

type Env = RunEnv;

fn record(i: usize, with_id: bool) -> String {
    record_as("item", i, with_id)
}

fn ids_of(path: &std::path::Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap()["recordId"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn a_dataset_runs_within_the_quotas_and_collects_in_input_order() {
    let _turn = SERIAL.lock().await;
    let env = Env::new("runall", MODEL).await;
    quotas(1000.0, 3.0).await;
    let before = stats();
    // Every 1,000th record has no recordId: it gets r<ordinal>.
    let lines: Vec<String> = (1..=12_345).map(|i| record(i, i % 1000 != 0)).collect();
    let input = env.input("big.jsonl", &lines);
    let (code, v) = env.json(&["run", "start", &input, "--yes", "--poll-interval-ms", "10"]);
    assert_eq!(code, 0, "{v:#}");
    assert_eq!(v["verdict"], "completed", "{v:#}");
    assert_eq!(v["records"], 12_345);
    assert_eq!(v["assigned_ids"], 12);
    assert_eq!(v["records_ok"], 12_345);
    let jobs = v["jobs"].as_array().unwrap();
    // 13 even shards of 949 or 950, never 12 of 1,000 and a tail of 345.
    assert_eq!(jobs.len(), 13);
    assert!(jobs.iter().all(|j| j["records"] == 949 || j["records"] == 950), "{v:#}");
    assert!(jobs.iter().all(|j| j["status"] == "Completed"));
    // The quota was kept full (3 at once) and never passed (no create refused).
    let after = stats();
    let created = after["created"].as_u64().unwrap() - before["created"].as_u64().unwrap_or(0);
    assert_eq!(created, 13, "{after:#}");
    assert_eq!(after["peak_active"], 3, "{after:#}");
    assert_eq!(after["quota_refusals"], before["quota_refusals"].as_u64().unwrap_or(0), "{after:#}");

    let run_id = v["run_id"].as_str().unwrap();
    let out = env.dir.path().join("results.jsonl");
    let (code, c) = env.json(&["run", "collect", run_id, "-o", out.to_str().unwrap()]);
    assert_eq!(code, 0, "{c:#}");
    assert_eq!(c["records_ok"], 12_345);
    assert_eq!(c["records_failed"], 0);
    let expected: Vec<String> = (1..=12_345).map(|i| if i % 1000 == 0 { format!("r{i:010}") } else { format!("item-{i:06}") }).collect();
    assert_eq!(ids_of(&out), expected, "every record once, in input order");
    let first: Value = serde_json::from_str(std::fs::read_to_string(&out).unwrap().lines().next().unwrap()).unwrap();
    assert!(first["modelOutput"]["content"][0]["text"].as_str().unwrap().starts_with("Emulated answer"), "{first}");
    assert_eq!(std::fs::read_to_string(env.dir.path().join("results.failures.jsonl")).unwrap(), "");
    // collect never overwrites without --force.
    let (code, e) = env.json(&["run", "collect", run_id, "-o", out.to_str().unwrap()]);
    assert_eq!(code, 2, "{e:#}");
    assert!(e["error"]["message"].as_str().unwrap().contains("--force"), "{e:#}");

    // status reads the finished run; list shows it from local state and S3.
    let (code, s) = env.json(&["run", "status", run_id]);
    assert_eq!(code, 0, "{s:#}");
    assert_eq!(s["eta_seconds"], 0);
    assert!(s["cost_usd"].as_f64().unwrap() > 0.0, "{s:#}");
    let (code, l) = env.json(&["run", "list"]);
    assert_eq!(code, 0, "{l:#}");
    let row = l["runs"].as_array().unwrap().iter().find(|r| r["run_id"] == run_id).unwrap_or_else(|| panic!("{l:#}"));
    assert_eq!(row["where"], "local+s3");
}

#[tokio::test]
async fn a_killed_run_resumes_without_a_duplicate_job() {
    let _turn = SERIAL.lock().await;
    let env = Env::new("runkill", MODEL).await;
    quotas(50_000.0, 2.0).await;
    let before = stats()["created"].as_u64().unwrap_or(0);
    let lines: Vec<String> = (1..=500).map(|i| record(i, true)).collect();
    let input = env.input("in.jsonl", &lines);
    // Polls once a minute: after the first round it sleeps, and is killed there.
    let mut cmd = env.command();
    // --records-per-job: jobs smaller than the quota, 5 of 100.
    let mut a = vec!["run", "start", input.as_str(), "--yes", "--records-per-job", "100", "--poll-interval-ms", "60000"];
    a.extend(env.args.iter().map(String::as_str));
    cmd.args(&a).stdin(std::process::Stdio::null()).stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    let state = env.dir.path().join("state/bedbatch-doctor/runs");
    let mut manifest = None;
    for _ in 0..300 {
        if let Some(p) = std::fs::read_dir(&state).ok().and_then(|mut d| d.next()).map(|e| e.unwrap().path().join("run-manifest.json")) {
            if let Ok(text) = std::fs::read_to_string(&p) {
                let m: Value = serde_json::from_str(&text).unwrap();
                if m["shards"].as_array().unwrap().iter().filter(|s| s["job_arn"].is_string()).count() == 2 {
                    manifest = Some((p, m));
                    break;
                }
            }
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let (path, mut m) = manifest.expect("two jobs submitted");
    child.kill().unwrap();
    child.wait().unwrap();
    // The crash came between a create and the manifest write: the second job exists in Bedrock
    // but this copy does not know it (and it is the newer copy).
    let s = &mut m["shards"][1];
    s["job_arn"] = Value::Null;
    s["status"] = json!("Pending");
    m["revision"] = json!(m["revision"].as_u64().unwrap() + 100);
    std::fs::write(&path, serde_json::to_string_pretty(&m).unwrap()).unwrap();

    let run_id = m["run_id"].as_str().unwrap();
    let (code, v) = env.json(&["run", "resume", run_id, "--poll-interval-ms", "10"]);
    assert_eq!(code, 0, "{v:#}");
    assert_eq!(v["records_ok"], 500);
    let arns: std::collections::BTreeSet<&str> = v["jobs"].as_array().unwrap().iter().map(|j| j["job_arn"].as_str().unwrap()).collect();
    assert_eq!(arns.len(), 5, "{v:#}");
    assert_eq!(stats()["created"].as_u64().unwrap() - before, 5, "one job per shard: the resumed create returned the existing job");
    let out = env.dir.path().join("out.jsonl");
    let (code, _) = env.json(&["run", "collect", run_id, "-o", out.to_str().unwrap()]);
    assert_eq!(code, 0);
    assert_eq!(ids_of(&out), (1..=500).map(|i| format!("item-{i:06}")).collect::<Vec<_>>());
}

#[tokio::test]
async fn failed_records_go_to_the_failures_file_and_retry_completes_them() {
    let _turn = SERIAL.lock().await;
    let env = Env::new("runretry", MODEL).await;
    quotas(50_000.0, 5.0).await;
    let lines: Vec<String> = (1..=300).map(|i| record_as("retry", i, true)).collect();
    let input = env.input("in.jsonl", &lines);
    // The model fails 120 of the records once (a record-level model error).
    let failing: Vec<String> = (1..=300).filter(|i| i % 5 < 2).map(|i| format!("retry-{i:06}")).collect();
    assert_eq!(failing.len(), 120);
    control("record-errors", json!({"recordIds": failing, "errorCode": 500, "times": 1}));
    let (code, v) = env.json(&["run", "start", &input, "--yes", "--poll-interval-ms", "10"]);
    assert_eq!(code, 1, "{v:#}");
    assert_eq!(v["verdict"], "failed");
    assert_eq!(v["records_failed"], 120);
    assert_eq!(v["jobs"][0]["status"], "PartiallyCompleted");
    let run_id = v["run_id"].as_str().unwrap().to_string();

    let out = env.dir.path().join("first.jsonl");
    let (code, c) = env.json(&["run", "collect", &run_id, "-o", out.to_str().unwrap()]);
    assert_eq!(code, 1, "{c:#}");
    assert_eq!((c["records_ok"].as_u64(), c["records_failed"].as_u64()), (Some(180), Some(120)));
    let failures = env.dir.path().join("first.failures.jsonl");
    assert_eq!(ids_of(&failures), failing);
    let f: Value = serde_json::from_str(std::fs::read_to_string(&failures).unwrap().lines().next().unwrap()).unwrap();
    assert_eq!(f["error"]["errorCode"], 500, "{f}");

    let (code, r) = env.json(&["run", "retry", &run_id, "--yes", "--poll-interval-ms", "10"]);
    assert_eq!(code, 0, "{r:#}");
    assert_eq!(r["parent_run"], run_id.as_str());
    assert_eq!(r["records"], 120);
    assert_eq!(r["records_ok"], 120);
    let out2 = env.dir.path().join("retry.jsonl");
    let (code, _) = env.json(&["run", "collect", r["run_id"].as_str().unwrap(), "-o", out2.to_str().unwrap()]);
    assert_eq!(code, 0);
    assert_eq!(ids_of(&out2), failing);
}

#[tokio::test]
async fn cancel_stops_every_job_and_the_rest_is_never_submitted() {
    let _turn = SERIAL.lock().await;
    let env = Env::new("runcancel", MODEL).await;
    quotas(100.0, 2.0).await;
    let lines: Vec<String> = (1..=400).map(|i| record(i, true)).collect();
    let input = env.input("in.jsonl", &lines);
    let (code, v) = env.json(&["run", "start", &input, "--yes", "--detach", "--poll-interval-ms", "10"]);
    assert_eq!(code, 0, "{v:#}");
    assert_eq!(v["verdict"], "running");
    let run_id = v["run_id"].as_str().unwrap().to_string();
    let submitted: Vec<&Value> = v["jobs"].as_array().unwrap().iter().filter(|j| j["job_arn"].is_string()).collect();
    assert_eq!(submitted.len(), 2, "two at once: {v:#}");
    // Another machine: no local state, only the manifest's copy in S3.
    std::fs::remove_dir_all(env.dir.path().join("state")).unwrap();
    let (code, c) = env.json(&["run", "cancel", &run_id, "--yes"]);
    assert_eq!(code, 0, "{c:#}");
    let (code, s) = env.json(&["run", "status", &run_id]);
    assert_eq!(code, 1, "a cancelled run did not give every record output: {s:#}");
    let statuses: Vec<&str> = s["jobs"].as_array().unwrap().iter().map(|j| j["status"].as_str().unwrap()).collect();
    assert_eq!(statuses, ["Stopped", "Stopped", "Cancelled", "Cancelled"], "{s:#}");
    let out = env.bin(&["run", "resume", &run_id]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("was cancelled"), "{}", stderr(&out));
}

#[tokio::test]
async fn an_input_with_errors_is_refused_before_anything_is_written() {
    let _turn = SERIAL.lock().await;
    let env = Env::new("runbad", MODEL).await;
    quotas(50_000.0, 5.0).await;
    let mut lines: Vec<String> = (1..=200).map(|i| record(i, true)).collect();
    lines[41] = "{not json".into();
    let input = env.input("in.jsonl", &lines);
    let before = stats()["created"].as_u64().unwrap_or(0);
    let (code, v) = env.json(&["run", "start", &input, "--yes"]);
    assert_eq!(code, 1, "{v:#}");
    assert_eq!(v["verdict"], "input-invalid");
    let codes: Vec<&str> = v["validate"]["problems"].as_array().unwrap().iter().map(|p| p["code"].as_str().unwrap()).collect();
    assert_eq!(codes, ["invalid-json"], "{v:#}");
    // Jobs under the model's minimum cannot be asked for.
    let good: Vec<String> = (1..=200).map(|i| record(i, true)).collect();
    let good = env.input("good.jsonl", &good);
    let (code, v) = env.json(&["run", "start", &good, "--yes", "--records-per-job", "50"]);
    assert_eq!(code, 2, "{v:#}");
    assert!(v["error"]["message"].as_str().unwrap().contains("under the model's minimum of 100"), "{v:#}");
    // A recordId twice in one job: its output could not be matched to one record.
    let mut lines: Vec<String> = (1..=200).map(|i| record(i, true)).collect();
    lines[99] = record(41, true);
    let input = env.input("dup.jsonl", &lines);
    let (code, v) = env.json(&["run", "start", &input, "--yes"]);
    assert_eq!(code, 2, "{v:#}");
    let msg = v["error"]["message"].as_str().unwrap();
    assert!(msg.contains("record 100: recordId \"item-000041\" appears twice in one job"), "{msg}");
    assert_eq!(stats()["created"].as_u64().unwrap_or(0), before);
    let runs = env.dir.path().join("state/bedbatch-doctor/runs");
    assert!(std::fs::read_dir(&runs).map(|d| d.count()).unwrap_or(0) == 0, "no run was recorded");
}

/// An S3 folder as the input: its `.jsonl` objects directly in it, in name order (not the
/// run folders under it, nor other files).
#[tokio::test]
async fn an_s3_folder_is_read_in_name_order() {
    let _turn = SERIAL.lock().await;
    let env = Env::new("runs3", MODEL).await;
    quotas(50_000.0, 5.0).await;
    let s3 = s3_client(&sdk_config().await);
    let bucket = env.args[3].trim_start_matches("s3://").split('/').next().unwrap().to_string();
    let put = |key: &str, body: String| {
        let s3 = s3.clone();
        let bucket = bucket.clone();
        let key = key.to_string();
        async move { s3.put_object().bucket(bucket).key(key).body(body.into_bytes().into()).send().await.unwrap() }
    };
    let part = |from: usize, to: usize| (from..to).map(|i| record_as("s3", i, true)).collect::<Vec<_>>().join("\n") + "\n";
    put("src/b.jsonl", part(150, 310)).await;
    put("src/a.jsonl", part(0, 150)).await;
    put("src/notes.txt", "not records".into()).await;
    put("src/old/c.jsonl", part(900, 901)).await;
    let (code, v) = env.json(&["run", "start", &format!("s3://{bucket}/src/"), "--yes", "--poll-interval-ms", "10"]);
    assert_eq!(code, 0, "{v:#}");
    assert_eq!(v["records"], 310);
    let out = env.dir.path().join("out.jsonl");
    let (code, _) = env.json(&["run", "collect", v["run_id"].as_str().unwrap(), "-o", out.to_str().unwrap()]);
    assert_eq!(code, 0);
    assert_eq!(ids_of(&out), (0..310).map(|i| format!("s3-{i:06}")).collect::<Vec<_>>());
}

/// Ctrl-C while a run waits: the manifest is saved, the jobs keep running, exit 130; `resume`
/// finishes the run.
#[tokio::test]
async fn ctrl_c_saves_the_run_and_resume_finishes_it() {
    let _turn = SERIAL.lock().await;
    let env = Env::new("runint", MODEL).await;
    quotas(50_000.0, 5.0).await;
    let lines: Vec<String> = (1..=300).map(|i| record_as("int", i, true)).collect();
    let input = env.input("in.jsonl", &lines);
    let mut cmd = env.command();
    let mut a = vec!["run", "start", input.as_str(), "--yes", "--records-per-job", "100", "--poll-interval-ms", "60000"];
    a.extend(env.args.iter().map(String::as_str));
    cmd.args(&a).stdin(std::process::Stdio::null()).stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::piped());
    let child = cmd.spawn().unwrap();
    let state = env.dir.path().join("state/bedbatch-doctor/runs");
    let mut run_id = None;
    for _ in 0..300 {
        if let Some(p) = std::fs::read_dir(&state).ok().and_then(|mut d| d.next()).map(|e| e.unwrap().path().join("run-manifest.json")) {
            if let Ok(m) = std::fs::read_to_string(&p).map(|t| serde_json::from_str::<Value>(&t).unwrap()) {
                if m["shards"].as_array().unwrap().iter().all(|s| s["job_arn"].is_string()) {
                    run_id = m["run_id"].as_str().map(String::from);
                    break;
                }
            }
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let run_id = run_id.expect("every shard submitted");
    std::thread::sleep(std::time::Duration::from_millis(300));
    assert!(std::process::Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap().success());
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(130), "{}\n{}", stdout(&out), stderr(&out));
    assert!(stdout(&out).contains(&format!("run resume {run_id}")), "{}", stdout(&out));
    let (code, v) = env.json(&["run", "resume", &run_id, "--poll-interval-ms", "10"]);
    assert_eq!(code, 0, "{v:#}");
    assert_eq!(v["records_ok"], 300);
}
