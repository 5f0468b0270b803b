//! validate on crafted files (offline, and online with quotas from the emulator), canary end to
//! end against the emulator, and jobs.

mod common;
use common::*;

use serde_json::{json, Value};

fn anthropic(i: usize) -> Value {
    json!({"recordId": format!("r{i:05}"), "modelInput": {"anthropic_version": "bedrock-2023-05-31", "max_tokens": 64, "messages": [{"role": "user", "content": format!("Summarise {i}")}]}})
}

fn file_of(dir: &std::path::Path, name: &str, lines: &[String]) -> String {
    let p = dir.join(name);
    std::fs::write(&p, lines.join("\n") + "\n").unwrap();
    p.to_str().unwrap().to_string()
}

fn validate(dir: &std::path::Path, model: &str, path: &str, extra: &[&str]) -> (i32, Value) {
    let mut args = vec!["validate", path, "--offline", "--output", "json", "--model-id", model];
    args.extend_from_slice(extra);
    let out = run(bare_command(dir), &args);
    exit_and_json(&out, "validate")
}

fn error_codes(v: &Value) -> Vec<String> {
    v["problems"].as_array().unwrap().iter().filter(|p| p["level"] == "error").map(|p| p["code"].as_str().unwrap().to_string()).collect()
}

#[test]
fn a_good_file_passes_with_a_cost_range() {
    let dir = tempfile::tempdir().unwrap();
    let lines: Vec<String> = (0..150).map(|i| anthropic(i).to_string()).collect();
    let p = file_of(dir.path(), "in.jsonl", &lines);
    let (code, v) = validate(dir.path(), HAIKU, &p, &[]);
    assert_eq!(code, 0, "{v:#}");
    assert_eq!(v["records"], 150);
    assert_eq!(v["output_tokens_ceiling"], 150 * 64);
    let cost = &v["estimated_cost_usd"];
    assert!(cost["low"].as_f64().unwrap() > 0.0 && cost["high"].as_f64().unwrap() > cost["low"].as_f64().unwrap());
}

#[test]
fn duplicates_and_a_broken_line_in_a_large_file() {
    let dir = tempfile::tempdir().unwrap();
    let mut lines: Vec<String> = (0..20_000).map(|i| anthropic(i).to_string()).collect();
    lines[12_344] = "{\"recordId\": \"broken\", \"modelInput\": {".into();
    lines[15_000] = anthropic(7).to_string();
    let p = file_of(dir.path(), "big.jsonl", &lines);
    let (code, v) = validate(dir.path(), HAIKU, &p, &[]);
    assert_eq!(code, 1);
    let problems = v["problems"].as_array().unwrap();
    let broken = problems.iter().find(|p| p["code"] == "invalid-json").unwrap();
    assert_eq!(broken["examples"][0]["line"], 12_345);
    let dup = problems.iter().find(|p| p["code"] == "duplicate-record-id").unwrap();
    assert_eq!(dup["examples"][0]["line"], 15_001);
    assert!(dup["examples"][0]["message"].as_str().unwrap().contains("line 8"));
}

#[test]
fn wrong_shape_per_family() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        (HAIKU, json!({"modelInput": {"anthropic_version": "bedrock-2023-05-31", "max_tokens": 64, "prompt": "Human: hi"}})),
        ("amazon.titan-embed-text-v2:0", json!({"modelInput": {"texts": ["hi"]}})),
        ("amazon.nova-lite-v1:0", json!({"modelInput": {"messages": [{"role": "user", "content": "hi"}]}})),
        ("meta.llama3-1-8b-instruct-v1:0", json!({"modelInput": {"messages": [{"role": "user", "content": "hi"}]}})),
        // Not in the dated catalogue: the family comes from the id, and the output says so.
        ("amazon.nova-2-multimodal-embeddings-v1:0", json!({"modelInput": {"taskType": "SINGLE_EMBEDDING"}})),
        ("cohere.embed-english-v3", json!({"modelInput": {"texts": ["hi"]}})),
    ];
    for (model, bad) in cases {
        let lines = vec![bad.to_string()];
        let p = file_of(dir.path(), "shape.jsonl", &lines);
        let (code, v) = validate(dir.path(), model, &p, &[]);
        assert_eq!(code, 1, "{model}");
        assert!(error_codes(&v).contains(&"wrong-shape".to_string()), "{model}: {v:#}");
    }
    // The Converse shape with --invocation-type converse.
    let converse = json!({"modelInput": {"messages": [{"role": "user", "content": [{"text": "hi"}]}], "inferenceConfig": {"maxTokens": 10}}});
    let p = file_of(dir.path(), "c.jsonl", &[converse.to_string()]);
    let (_, v) = validate(dir.path(), HAIKU, &p, &["--invocation-type", "converse"]);
    assert!(!error_codes(&v).contains(&"wrong-shape".to_string()), "{v:#}");
    // Unmistakably Converse (content blocks without a type, no anthropic_version): recognised
    // without the flag, and said so.
    let (_, v) = validate(dir.path(), HAIKU, &p, &[]);
    assert!(!error_codes(&v).contains(&"wrong-shape".to_string()), "{v:#}");
    assert!(v["notes"].to_string().contains("Converse format"), "{v:#}");
    let (_, v) = validate(dir.path(), HAIKU, &p, &["--invocation-type", "invoke-model"]);
    assert!(error_codes(&v).contains(&"wrong-shape".to_string()), "the Converse body is not an InvokeModel body");
    // max_tokens over the model's limit (AWS's DeepSeek page: max_tokens 1 to 32,768; the only
    // ceiling an AWS page in the catalogue's sources states).
    let over = json!({"modelInput": {"prompt": "hi", "max_tokens": 40000}});
    let p = file_of(dir.path(), "o.jsonl", &[over.to_string()]);
    let (_, v) = validate(dir.path(), "deepseek.r1-v1:0", &p, &[]);
    assert!(error_codes(&v).contains(&"max-tokens-over-limit".to_string()));
}

#[test]
fn too_few_records_and_a_name_that_is_not_jsonl() {
    let dir = tempfile::tempdir().unwrap();
    let lines: Vec<String> = (0..10).map(|i| anthropic(i).to_string()).collect();
    let p = file_of(dir.path(), "in.json", &lines);
    let (code, v) = validate(dir.path(), HAIKU, &p, &["--max-examples", "1"]);
    assert_eq!(code, 1);
    let mut codes = error_codes(&v);
    codes.sort();
    assert_eq!(codes, vec!["not-jsonl", "too-few-records"]);
}

#[test]
fn text_output_caps_examples() {
    let dir = tempfile::tempdir().unwrap();
    let lines: Vec<String> = (0..30).map(|_| "not json".to_string()).collect();
    let p = file_of(dir.path(), "bad.jsonl", &lines);
    let out = run(bare_command(dir.path()), &["validate", &p, "--offline", "--model-id", HAIKU, "--max-examples", "5"]);
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    assert!(text.contains("error[invalid-json]: 30 occurrences") && text.contains("… and 25 more"), "{text}");
    assert_eq!(text.matches("  line ").count(), 5, "{text}");
}

#[tokio::test]
async fn online_quota_and_s3_key_characters() {
    require_emulator();
    let conf = sdk_config().await;
    let s3 = s3_client(&conf);
    let bucket = unique("vq").to_lowercase();
    s3.create_bucket().bucket(&bucket).send().await.unwrap();
    // Nova Pro: no other test touches its quotas.
    let nova = |i: usize| {
        json!({"recordId": format!("n{i}"), "modelInput": {"messages": [{"role": "user", "content": [{"text": "hi"}]}], "inferenceConfig": {"maxTokens": 10}}}).to_string()
    };
    let body: String = (0..120).map(|i| nova(i) + "\n").collect();
    s3.put_object().bucket(&bucket).key("in/ok.jsonl").body(body.clone().into_bytes().into()).send().await.unwrap();
    s3.put_object().bucket(&bucket).key("in/my batch.jsonl").body(body.into_bytes().into()).send().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let run_validate = |uri: String| {
        let out = run(emulator_command(dir.path()), &["validate", &uri, "--output", "json", "--model-id", "amazon.nova-pro-v1:0"]);
        (out.status.code().unwrap(), serde_json::from_slice::<Value>(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", stderr(&out))))
    };
    // Every quota is in ListAWSDefaultServiceQuotas (ListServiceQuotas lists applied values only).
    let quotas = aws_sdk_servicequotas::Client::new(&conf)
        .list_aws_default_service_quotas()
        .service_code("bedrock")
        .into_paginator()
        .items()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .unwrap();
    let code = quotas
        .iter()
        .find(|q| q.quota_name().unwrap_or_default() == "Records per input file per batch inference job for Nova Pro")
        .unwrap()
        .quota_code()
        .unwrap()
        .to_string();
    let set_quota = |value: u64| {
        control("quotas", json!({"region": REGION, "quotaCode": code, "value": value}));
    };
    // AWS's default first, so a rerun on the same emulator starts from it.
    set_quota(50_000);
    let (code, v) = run_validate(format!("s3://{bucket}/in/ok.jsonl"));
    assert_eq!(code, 0, "{v:#}");

    set_quota(100);
    let (code, v) = run_validate(format!("s3://{bucket}/in/ok.jsonl"));
    assert_eq!(code, 1);
    assert_eq!(error_codes(&v), vec!["too-many-records"], "{v:#}");

    let (code, v) = run_validate(format!("s3://{bucket}/in/my batch.jsonl"));
    assert_eq!(code, 1);
    assert!(error_codes(&v).contains(&"bad-s3-uri".to_string()), "{v:#}");
    // A key or bucket that does not exist is a usage error naming it, not "AWS unreachable".
    for uri in [format!("s3://{bucket}/in/missing.jsonl"), format!("s3://{bucket}-gone/in/")] {
        let (code, v) = run_validate(uri.clone());
        assert_eq!(code, 2, "{v:#}");
        assert_eq!(v["error"]["kind"], "usage", "{v:#}");
        let msg = v["error"]["message"].as_str().unwrap();
        assert!(msg.starts_with(&format!("{uri} does not exist")), "{msg}");
    }
}

/// Records in the Converse shape are told without --invocation-type wherever they are: an S3
/// object, the first .jsonl under an S3 prefix, a local folder (not only a local file).
#[tokio::test]
async fn the_converse_shape_is_told_in_s3_objects_and_folders() {
    require_emulator();
    let conf = sdk_config().await;
    let s3 = s3_client(&conf);
    let bucket = unique("vc").to_lowercase();
    s3.create_bucket().bucket(&bucket).send().await.unwrap();
    let converse = |i: usize| {
        json!({"recordId": format!("c{i}"), "modelInput": {"messages": [{"role": "user", "content": [{"text": "hi"}]}], "inferenceConfig": {"maxTokens": 10}}})
            .to_string()
    };
    let lines: Vec<String> = (0..120).map(converse).collect();
    let body: String = lines.iter().map(|l| format!("{l}\n")).collect();
    s3.put_object().bucket(&bucket).key("in/a.jsonl").body(body.into_bytes().into()).send().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("records");
    std::fs::create_dir(&folder).unwrap();
    file_of(&folder, "part-1.jsonl", &lines);
    for source in [format!("s3://{bucket}/in/a.jsonl"), format!("s3://{bucket}/in/"), folder.display().to_string()] {
        let out = run(emulator_command(dir.path()), &["validate", &source, "--output", "json", "--model-id", HAIKU]);
        let v: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{source}: {e}: {}", stderr(&out)));
        assert!(!error_codes(&v).contains(&"wrong-shape".to_string()), "{source}: {v:#}");
        assert!(v["notes"].to_string().contains("Converse format"), "{source}: {v:#}");
    }
}

/// A model the account has but the dated catalogue lacks: validate looks its quotas up by the
/// name GetFoundationModel gives, and says so, instead of refusing the model.
#[test]
fn validate_takes_a_live_only_model_by_its_live_name() {
    require_emulator();
    control("models", json!({"id": "example.validate-live-v1:0", "name": "Validate Live", "provider": "Example"}));
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("in.jsonl");
    let body: String = (0..100).map(|i| json!({"recordId": format!("r{i}"), "modelInput": {"prompt": "hi"}}).to_string() + "\n").collect();
    std::fs::write(&p, body).unwrap();
    let out = run(emulator_command(dir.path()), &["validate", p.to_str().unwrap(), "--output", "json", "--model-id", "example.validate-live-v1:0"]);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", stderr(&out)));
    assert_eq!(out.status.code(), Some(0), "{v:#}");
    let notes = v["notes"].as_array().unwrap().iter().map(|n| n.as_str().unwrap().to_string()).collect::<Vec<_>>().join(" | ");
    assert!(notes.contains("GetFoundationModel") && notes.contains("Validate Live"), "{notes}");
    assert!(notes.contains("6 batch quotas for Validate Live"), "{notes}");
}

/// A healthy setup made by `apply`, for the canary.
async fn applied(tag: &str) -> (tempfile::TempDir, Vec<String>, String) {
    applied_with(tag, HAIKU).await
}

async fn applied_with(tag: &str, model: &str) -> (tempfile::TempDir, Vec<String>, String) {
    require_emulator();
    let u = unique(tag).to_lowercase();
    let conf = sdk_config().await;
    let user = format!("u{u}");
    aws_sdk_iam::Client::new(&conf).create_user().user_name(&user).send().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let args: Vec<String> = [
        "--model-id",
        model,
        "--input-uri",
        &format!("s3://{u}-in/jobs/in/"),
        "--output-uri",
        &format!("s3://{u}-out/jobs/out/"),
        "--role-name",
        &format!("R{u}"),
        "--role-path",
        "/service-role/",
        "--caller-arn",
        &format!("arn:aws:iam::{ACCOUNT}:user/{user}"),
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let mut apply: Vec<&str> = vec!["apply", "--yes", "--backup-dir", dir.path().to_str().unwrap()];
    apply.extend(args.iter().map(String::as_str));
    let out = run(emulator_command(dir.path()), &apply);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    (dir, args, u)
}

/// Runs a canary that must be verified (exit 0); its stdout and stderr.
fn verified_canary(dir: &std::path::Path, args: &[String]) -> (String, String) {
    let mut a: Vec<&str> = vec!["canary", "--yes", "--poll-interval-ms", "10"];
    a.extend(args.iter().map(String::as_str));
    let out = run(emulator_command(dir), &a);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}\n{}", stderr(&out));
    assert!(text.contains("VERIFIED"), "{text}");
    (text, stderr(&out))
}

#[tokio::test]
async fn canary_completes_and_is_verified() {
    let (dir, args, u) = applied("canary").await;
    let (text, _) = verified_canary(dir.path(), &args);
    assert!(text.contains("VERIFIED: the batch path works (100 records"), "{text}");
    for s in ["Validating", "Scheduled", "InProgress", "Completed"] {
        assert!(text.contains(&format!("] {s}")), "status {s} shown: {text}");
    }
    // The canary deleted what it created.
    let s3 = s3_client(&sdk_config().await);
    let left = s3.list_objects_v2().bucket(format!("{u}-in")).send().await.unwrap();
    assert_eq!(left.key_count().unwrap_or(0), 0);
    let left = s3.list_objects_v2().bucket(format!("{u}-out")).send().await.unwrap();
    assert_eq!(left.key_count().unwrap_or(0), 0);
    // jobs lists it with its record counts.
    let mut j: Vec<&str> = vec!["jobs", "--output", "json", "--max", "100"];
    let settings = flags::for_command(&j, &args);
    j.extend(settings.iter().map(String::as_str));
    let out = run(emulator_command(dir.path()), &j);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let arn = text.split("— ").last().unwrap().trim();
    let job = v["jobs"].as_array().unwrap().iter().find(|x| x["job_arn"] == arn).unwrap_or_else(|| panic!("{arn} in {v:#}"));
    assert_eq!(job["status"], "Completed");
    assert_eq!(job["success_records"], 100);
}

/// The common modern setup: a Claude 4.x model through its `us.` profile. `apply` writes the
/// invoke grant on the profile and each routed Region, and the job completes.
#[tokio::test]
async fn canary_through_a_profile_completes() {
    let (dir, args, u) = applied_with("canprof", "us.anthropic.claude-haiku-4-5-20251001-v1:0").await;
    let policy = aws_sdk_iam::Client::new(&sdk_config().await)
        .get_role_policy()
        .role_name(format!("R{u}"))
        .policy_name("bedbatch-doctor-service-role")
        .send()
        .await
        .unwrap();
    let doc = bedbatch_doctor::policy::decode_document(policy.policy_document());
    for r in ["us-east-1", "us-east-2", "us-west-2"] {
        assert!(doc.contains(&format!("arn:aws:bedrock:{r}::foundation-model/anthropic.claude-haiku-4-5-20251001-v1:0")), "{doc}");
    }
    let mut a: Vec<&str> = vec!["canary", "--yes", "--poll-interval-ms", "10"];
    a.extend(args.iter().map(String::as_str));
    let out = run(emulator_command(dir.path()), &a);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}\n{}", stderr(&out));
    assert!(text.contains("VERIFIED"), "{text}");
}

/// A model with no documented InvokeModel body (Qwen): the canary builds Converse records,
/// submits the job with modelInvocationType Converse, and reads the Converse responses.
#[tokio::test]
async fn canary_on_a_converse_only_model_is_verified() {
    let (dir, args, _) = applied_with("canqwen", "qwen.qwen3-32b-v1:0").await;
    let (text, err) = verified_canary(dir.path(), &args);
    let all = format!("{text}{err}");
    assert!(all.contains("converse shape, modelInvocationType Converse"), "{all}");
    // Forced to InvokeModel, it is refused before anything is submitted, naming the fix.
    let mut a: Vec<&str> = vec!["canary", "--yes", "--invocation-type", "invoke-model"];
    a.extend(args.iter().map(String::as_str));
    let out = run(emulator_command(dir.path()), &a);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("--invocation-type converse"), "{}", stderr(&out));
}

#[tokio::test]
async fn canary_with_a_wrong_trust_policy_names_the_cause() {
    let (dir, args, u) = applied("canbad").await;
    let root = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": format!("arn:aws:iam::{ACCOUNT}:root")}, "Action": "sts:AssumeRole"}]});
    aws_sdk_iam::Client::new(&sdk_config().await)
        .update_assume_role_policy()
        .role_name(format!("R{u}"))
        .policy_document(root.to_string())
        .send()
        .await
        .unwrap();
    let mut a: Vec<&str> = vec!["canary", "--yes", "--keep", "--poll-interval-ms", "10"];
    a.extend(args.iter().map(String::as_str));
    let out = run(emulator_command(dir.path()), &a);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("FAILED: job ended Failed") && text.contains("error[trust-wrong-principal]"), "{text}");
    assert!(text.contains("kept s3://"), "{text}");
}

#[test]
fn canary_without_terminal_or_yes_submits_nothing() {
    require_emulator();
    let dir = tempfile::tempdir().unwrap();
    let out = run(
        emulator_command(dir.path()),
        &["canary", "--model-id", HAIKU, "--input-uri", "s3://nothing-here-x/in/", "--output-uri", "s3://nothing-here-x/out/", "--role-name", "R"],
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("--yes"));
}

#[tokio::test]
async fn ctrl_c_while_polling_stops_the_job_and_cleans_up() {
    ctrl_c_canary("canint", None).await;
}

/// Ctrl-C while AWS throttles and fails: from the moment the interrupt is sent, 30% of the
/// canary's requests fail (throttles and 5xx); the stop and the clean-up still happen.
#[tokio::test]
async fn reliability_ctrl_c_under_faults_still_stops_the_job_and_cleans_up() {
    let fired = ctrl_c_canary("canintf", Some(0.3)).await;
    println!("figures: ctrl-c under a 30% fault rate: job stopped, input deleted, {fired} faults injected during the clean-up");
}

/// Interrupts a canary while it waits between polls; with `fault_rate`, faults aimed at the
/// canary's own access key start just before the interrupt. Returns how many faults fired.
async fn ctrl_c_canary(tag: &str, fault_rate: Option<f64>) -> u64 {
    let (dir, args, u) = applied(tag).await;
    let key = format!("CTRLC{}", u.to_uppercase().replace('-', ""));
    let mut a: Vec<&str> = vec!["canary", "--yes", "--poll-interval-ms", "60000", "--max-attempts", "10"];
    a.extend(args.iter().map(String::as_str));
    let mut cmd = emulator_command(dir.path());
    cmd.env("AWS_ACCESS_KEY_ID", &key);
    cmd.args(&a).stdin(std::process::Stdio::null()).stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::piped());
    let child = cmd.spawn().unwrap();
    // Wait until the job is submitted (the canary then sleeps a minute before its next read).
    let s3 = s3_client(&sdk_config().await);
    let bedrock = aws_sdk_bedrock::Client::new(&sdk_config().await);
    let mut submitted = false;
    for _ in 0..100 {
        let jobs = bedrock.list_model_invocation_jobs().max_results(100).send().await.unwrap();
        if jobs.invocation_job_summaries().iter().any(|j| j.input_data_config().is_some_and(|c| format!("{c:?}").contains(&format!("{u}-in")))) {
            submitted = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(submitted, "the canary submitted its job");
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    if let Some(rate) = fault_rate {
        control("faults", json!({"rate": rate, "seed": 7, "kinds": ["throttle", "5xx"], "access_key": key}));
    }
    assert!(std::process::Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap().success());
    let out = child.wait_with_output().unwrap();
    let fired = take_faults(&key)["fired"].as_u64().unwrap_or(0);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(130), "{text}\n{}", stderr(&out));
    assert!(text.contains("stopping arn:aws:bedrock:") && text.contains("INTERRUPTED"), "{text}");
    let arn = text.lines().find_map(|l| l.strip_prefix("stopping ")).unwrap().trim().to_string();
    let job = bedrock.get_model_invocation_job().job_identifier(&arn).send().await.unwrap();
    assert_eq!(job.status().map(|s| s.as_str().to_string()).as_deref(), Some("Stopped"), "a stopped job reads Stopping, then Stopped");
    let left = s3.list_objects_v2().bucket(format!("{u}-in")).send().await.unwrap();
    assert_eq!(left.key_count().unwrap_or(0), 0, "the canary input was deleted");
    fired
}

/// Anthropic bodies take only their documented keys (Bedrock: "Extra inputs are not
/// permitted"), and the documented optional ones pass; Converse refuses toolConfig in batch and
/// accepts reasoning, cache-point and guarded-content blocks.
#[test]
fn anthropic_extra_keys_and_converse_batch_rules() {
    let dir = tempfile::tempdir().unwrap();
    let mut lines: Vec<String> = (0..120).map(|i| anthropic(i).to_string()).collect();
    let mut ok = anthropic(500);
    ok["modelInput"]["system"] = json!("Be brief.");
    ok["modelInput"]["stop_sequences"] = json!(["\n\n"]);
    ok["modelInput"]["top_k"] = json!(5);
    lines.push(ok.to_string());
    let mut extra = anthropic(501);
    extra["modelInput"]["modelId"] = json!("anthropic.claude-3-haiku-20240307-v1:0");
    lines.push(extra.to_string());
    let p = file_of(dir.path(), "a.jsonl", &lines);
    let (code, v) = validate(dir.path(), HAIKU, &p, &[]);
    assert_eq!(code, 1, "{v:#}");
    assert_eq!(error_codes(&v), vec!["bad-model-input"], "{v:#}");
    let ex = &v["problems"][0]["examples"][0];
    assert_eq!(ex["line"], 122);
    assert!(ex["message"].as_str().unwrap().contains("modelId: Extra inputs are not permitted"), "{ex}");

    let converse = |i: usize, block: Value| {
        json!({"recordId": format!("c{i}"), "modelInput": {"messages": [{"role": "user", "content": [block]}], "inferenceConfig": {"maxTokens": 16}}})
            .to_string()
    };
    let mut lines: Vec<String> = (0..117).map(|i| converse(i, json!({"text": "hi"}))).collect();
    lines.push(converse(900, json!({"cachePoint": {"type": "default"}})));
    lines.push(converse(901, json!({"guardContent": {"text": {"text": "x"}}})));
    lines.push(converse(902, json!({"reasoningContent": {"reasoningText": {"text": "x"}}})));
    let mut tools: Value = serde_json::from_str(&converse(903, json!({"text": "hi"}))).unwrap();
    tools["modelInput"]["toolConfig"] = json!({"tools": []});
    lines.push(tools.to_string());
    let p = file_of(dir.path(), "c.jsonl", &lines);
    let (code, v) = validate(dir.path(), HAIKU, &p, &["--invocation-type", "converse"]);
    assert_eq!(code, 1, "{v:#}");
    assert_eq!(error_codes(&v), vec!["bad-model-input"], "only toolConfig is refused: {v:#}");
    assert_eq!(v["problems"][0]["examples"][0]["line"], 121);
}

/// Issue 12: polling survives throttling. 40% of this canary's job reads are throttled (one
/// attempt a call, so the SDK does not hide them): the canary waits them out with backoff and
/// still verifies.
#[tokio::test]
async fn reliability_canary_polling_survives_throttling() {
    let (dir, args, u) = applied("canthrottle").await;
    let key = format!("THROTTLE{}", u.replace('-', "").to_uppercase());
    control(
        "faults",
        json!({"rate": 0.4, "seed": 3, "kinds": ["throttle"], "service": "bedrock", "target": "/model-invocation-job/", "access_key": key}),
    );
    let mut a: Vec<&str> = vec!["canary", "--yes", "--poll-interval-ms", "10", "--max-attempts", "1"];
    a.extend(args.iter().map(String::as_str));
    let mut cmd = emulator_command(dir.path());
    cmd.env("AWS_ACCESS_KEY_ID", &key);
    let out = run(cmd, &a);
    let fired = take_faults(&key)["fired"].as_u64().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}\n{}", stdout(&out), stderr(&out));
    assert!(stdout(&out).contains("VERIFIED"), "{}", stdout(&out));
    assert!(fired > 0 && stderr(&out).contains("ThrottlingException"), "{fired} fired: {}", stderr(&out));
}

/// Issue 12: the connection drops after Bedrock created the job, before its answer arrives.
/// The SDK retries the create with the same client request token, which names the job that
/// exists: one job, verified.
#[tokio::test]
async fn reliability_a_lost_create_answer_never_makes_two_jobs() {
    let (dir, args, u) = applied("canreset").await;
    let key = format!("RESET{}", u.replace('-', "").to_uppercase());
    control("faults", json!({"service": "bedrock", "action": "POST /model-invocation-job", "count": 1, "kind": "reset-after", "access_key": key}));
    let mut a: Vec<&str> = vec!["canary", "--yes", "--keep", "--poll-interval-ms", "10"];
    a.extend(args.iter().map(String::as_str));
    let mut cmd = emulator_command(dir.path());
    cmd.env("AWS_ACCESS_KEY_ID", &key);
    let out = run(cmd, &a);
    let left = read_control("faults")["faults"].as_array().unwrap().iter().filter(|f| f["access_key"] == key.as_str()).count();
    clear_faults(&key);
    assert_eq!(left, 0, "the lost answer happened (the fault was used)");
    assert_eq!(out.status.code(), Some(0), "{}\n{}", stdout(&out), stderr(&out));
    let bedrock = aws_sdk_bedrock::Client::new(&sdk_config().await);
    let jobs = bedrock.list_model_invocation_jobs().max_results(1000).send().await.unwrap();
    let mine = jobs
        .invocation_job_summaries()
        .iter()
        .filter(|j| j.input_data_config().is_some_and(|c| format!("{c:?}").contains(&format!("{u}-in"))))
        .count();
    assert_eq!(mine, 1, "one job for one canary");
}

fn folder(dir: &std::path::Path, files: &[(&str, Vec<String>)]) -> String {
    let d = dir.join("job");
    for (name, lines) in files {
        let p = d.join(name);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, lines.join("\n") + "\n").unwrap();
    }
    d.to_str().unwrap().to_string()
}

/// Issue 11: a folder is one job, as Bedrock reads an input folder. Two files of 60 records are
/// each under the minimum of 100 but together a valid job of 120.
#[test]
fn a_folder_is_one_job() {
    let dir = tempfile::tempdir().unwrap();
    let a: Vec<String> = (0..60).map(|i| anthropic(i).to_string()).collect();
    let b: Vec<String> = (60..120).map(|i| anthropic(i).to_string()).collect();
    let p = folder(dir.path(), &[("a.jsonl", a), ("sub/b.jsonl", b), ("notes.txt", vec!["not read".into()])]);
    let (code, v) = validate(dir.path(), HAIKU, &p, &[]);
    assert_eq!(code, 0, "{v:#}");
    assert_eq!(v["records"], 120);
    let files: Vec<(&str, u64)> =
        v["files"].as_array().unwrap().iter().map(|f| (f["name"].as_str().unwrap(), f["records"].as_u64().unwrap())).collect();
    assert_eq!(files, [("a.jsonl", 60), ("sub/b.jsonl", 60)]);
    // The text names each file and the job.
    let out = run(bare_command(dir.path()), &["validate", &p, "--offline", "--model-id", HAIKU]);
    assert!(stdout(&out).contains("one job of 2 files:") && stdout(&out).contains("  sub/b.jsonl: 60 records"), "{}", stdout(&out));
}

/// Per-job quotas apply to the total, per-file quotas to each file; duplicate ids are found
/// across files, and each example names its file and line.
#[test]
fn a_folder_over_the_job_quota_and_duplicates_across_files() {
    let dir = tempfile::tempdir().unwrap();
    let small = |i: usize| {
        json!({"recordId": format!("r{i}"), "modelInput": {"anthropic_version": "bedrock-2023-05-31", "max_tokens": 8, "messages": [{"role": "user", "content": "x"}]}}).to_string()
    };
    let a: Vec<String> = (0..25_001).map(small).collect();
    let mut b: Vec<String> = (25_001..50_002).map(small).collect();
    b[9] = small(3);
    let p = folder(dir.path(), &[("a.jsonl", a), ("b.jsonl", b)]);
    let (code, v) = validate(dir.path(), HAIKU, &p, &[]);
    assert_eq!(code, 1, "{v:#}");
    let mut errors = error_codes(&v);
    errors.sort();
    assert_eq!(errors, ["duplicate-record-id", "too-many-records-per-job"], "each file is under the per-file quota: {v:#}");
    let dup = v["problems"].as_array().unwrap().iter().find(|p| p["code"] == "duplicate-record-id").unwrap();
    assert_eq!(dup["examples"][0]["file"], "b.jsonl");
    assert_eq!(dup["examples"][0]["line"], 10);
    assert!(dup["examples"][0]["message"].as_str().unwrap().contains("also on line 4 of a.jsonl"), "{dup:#}");
}

/// An S3 prefix is one job too: every .jsonl under it, at any depth.
#[tokio::test]
async fn an_s3_prefix_is_one_job() {
    require_emulator();
    let s3 = s3_client(&sdk_config().await);
    let bucket = unique("vfold").to_lowercase();
    s3.create_bucket().bucket(&bucket).send().await.unwrap();
    for (key, range) in [("in/a.jsonl", 0..70), ("in/deeper/b.jsonl", 70..140)] {
        let body: String = range.map(|i| anthropic(i).to_string() + "\n").collect();
        s3.put_object().bucket(&bucket).key(key).body(body.into_bytes().into()).send().await.unwrap();
    }
    s3.put_object().bucket(&bucket).key("in/readme.md").body(b"x".to_vec().into()).send().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let out = run(emulator_command(dir.path()), &["validate", &format!("s3://{bucket}/in/"), "--output", "json", "--model-id", HAIKU]);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", stderr(&out)));
    assert_eq!(out.status.code(), Some(0), "{v:#}");
    assert_eq!(v["records"], 140);
    assert_eq!(v["files"].as_array().unwrap().len(), 2);
    assert!(v["notes"].as_array().unwrap().iter().any(|n| n.as_str().unwrap().contains("1 object under the prefix does not end in .jsonl")), "{v:#}");
}
