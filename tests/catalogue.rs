//! The dated catalogue (`policies/models.json`, from BATCH-FACTS §1) through the binary: every
//! model it newly lists resolves — by model id or through a profile, as the facts say for the
//! Region — and is healthy in `check` against the emulator; a model AWS's features matrix marks
//! "No" for batch gets `model-no-batch`, live and offline, the offline evidence naming the row's
//! source; a features-matrix "Yes" without Regions leaves the Region open; and a table row used as
//! the fallback names its source.

mod common;

use common::*;
use serde_json::{json, Value};

/// Models the catalogue lists newly, as batch takes them in us-east-1 (the emulator's default
/// Region; BATCH-FACTS §1c, a third party's parse of AWS's table): the bare id where a
/// foundation-model Region is us-east-1, else the `us.` profile where a profile source Region is.
const NEW_IN_US_EAST_1: &[&str] = &[
    "us.anthropic.claude-sonnet-4-6",
    "us.anthropic.claude-opus-4-6-v1",
    "us.amazon.nova-2-lite-v1:0",
    "mistral.mistral-large-3-675b-instruct",
    "mistral.ministral-3-3b-instruct",
    "mistral.ministral-3-8b-instruct",
    "mistral.ministral-3-14b-instruct",
    "mistral.magistral-small-2509",
    "mistral.devstral-2-123b",
    "mistral.voxtral-mini-3b-2507",
    "mistral.voxtral-small-24b-2507",
    "deepseek.v3.2",
    "openai.gpt-oss-safeguard-20b",
    "openai.gpt-oss-safeguard-120b",
    "qwen.qwen3-coder-30b-a3b-v1:0",
    "qwen.qwen3-coder-next",
    "qwen.qwen3-next-80b-a3b",
    "qwen.qwen3-vl-235b-a22b",
    "google.gemma-3-4b-it",
    "google.gemma-3-12b-it",
    "google.gemma-3-27b-it",
    "minimax.minimax-m2",
    "minimax.minimax-m2.1",
    "moonshot.kimi-k2-thinking",
    "moonshotai.kimi-k2.5",
    "zai.glm-4.7",
    "zai.glm-4.7-flash",
    "nvidia.nemotron-nano-9b-v2",
    "nvidia.nemotron-nano-12b-v2",
    "nvidia.nemotron-nano-3-30b",
];

/// Newly listed models the facts list in no us-east-1 column: checked in us-west-2, where they
/// are listed by model id.
const NEW_IN_US_WEST_2: &[&str] = &["deepseek.v3-v1:0", "qwen.qwen3-235b-a22b-2507-v1:0", "qwen.qwen3-coder-480b-a35b-v1:0"];

/// The JSON of a `check` run.
fn checks<'a>(r: &'a Value, name: &str) -> &'a Value {
    r["checks"].as_array().unwrap().iter().find(|c| c["name"] == name).unwrap_or_else(|| panic!("no check {name:?} in {r:#}"))
}

fn findings(r: &Value, severity: &str) -> Vec<String> {
    r["findings"].as_array().unwrap().iter().filter(|f| f["severity"] == severity).map(|f| f["code"].as_str().unwrap().to_string()).collect()
}

fn finding<'a>(r: &'a Value, code: &str) -> &'a Value {
    r["findings"].as_array().unwrap().iter().find(|f| f["code"] == code).unwrap_or_else(|| panic!("no {code} in {r:#}"))
}

/// A set-up account (apply) for `model` in `region`, as RunEnv sets one up (with the Region as a
/// flag), and one input object in place.
async fn env_in(tag: &str, model: &str, region: &str) -> RunEnv {
    let env = RunEnv::new_in(tag, model, Some(region)).await;
    let u = &env.unique;
    let s3 = s3_client(&sdk_config().await);
    s3.put_object().bucket(format!("{u}-in")).key("data/in/records.jsonl").body(b"{}\n".to_vec().into()).send().await.unwrap();
    env
}

/// `check` of one model's set-up account: exit 0, no error or warning, the model's lines pass.
fn assert_healthy(model: &str, region: &str) -> Result<(), String> {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let env = rt.block_on(env_in("cat", model, region));
    let (code, r) = env.json(&["check"]);
    let bad: Vec<String> = findings(&r, "error").into_iter().chain(findings(&r, "warning")).collect();
    if code != 0 || !bad.is_empty() {
        return Err(format!("{model} in {region}: exit {code}, findings {bad:?}"));
    }
    for line in ["the model exists", "batch inference supports the model in the region", "the model id can be invoked as configured"] {
        if checks(&r, line)["status"] != "pass" {
            return Err(format!("{model} in {region}: {line:?} is {}", checks(&r, line)));
        }
    }
    Ok(())
}

/// Runs `assert_healthy` over the models, four at a time; every failure is reported.
fn all_healthy(models: &[&str], region: &str) {
    let mut failures = vec![];
    for chunk in models.chunks(4) {
        let results: Vec<Result<(), String>> = std::thread::scope(|s| {
            let handles: Vec<_> = chunk.iter().map(|m| s.spawn(move || assert_healthy(m, region))).collect();
            handles.into_iter().map(|h| h.join().unwrap_or_else(|_| Err("panicked".into()))).collect()
        });
        failures.extend(results.into_iter().filter_map(Result::err));
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

#[test]
fn newly_listed_models_are_healthy_in_us_east_1() {
    require_emulator();
    all_healthy(NEW_IN_US_EAST_1, REGION);
}

#[test]
fn newly_listed_models_of_other_regions_are_healthy_in_us_west_2() {
    require_emulator();
    all_healthy(NEW_IN_US_WEST_2, "us-west-2");
}

/// A model the facts list only through a profile, configured by its bare id: the check says
/// it needs the profile (the emulator's inference types, as the facts give them).
#[tokio::test]
async fn a_profile_only_model_by_its_bare_id_needs_its_profile() {
    let env = RunEnv::new("cat-bare", "anthropic.claude-opus-4-6-v1").await;
    let (code, r) = env.json(&["check"]);
    assert_eq!(code, 1, "{r:#}");
    assert!(finding(&r, "model-needs-inference-profile")["fix"].as_str().unwrap().contains("us.anthropic.claude-opus-4-6-v1"), "{r:#}");
}

/// DeepSeek-R1: AWS's features matrix says No to batch (single-Region and cross-Region) and no
/// row of AWS's table lists it. Against the emulator the account says so (no batch quota).
#[tokio::test]
async fn deepseek_r1_has_no_batch_against_the_emulator() {
    let env = RunEnv::new("cat-r1", "us.deepseek.r1-v1:0").await;
    let (code, r) = env.json(&["check"]);
    assert_eq!(code, 1, "{r:#}");
    assert!(findings(&r, "error").contains(&"model-no-batch".to_string()), "{r:#}");
    let evidence = finding(&r, "model-no-batch")["evidence"].as_str().unwrap().to_string();
    assert!(evidence.contains("Service Quotas lists no batch inference quota for DeepSeek-R1"), "{evidence}");
    assert!(evidence.contains("aws-features-matrix-2026-01-25"), "{evidence}");
}

// ----------------------------------------------------------------------------- offline

/// examples/healthy.snapshot.json with another model, found and authorised, its batch quotas
/// unreadable (denied): `check` can only fall back on the catalogue.
fn offline_snapshot(dir: &std::path::Path, model_id: &str, fm: &str, name: &str, inference_types: &[&str]) -> String {
    let mut s: Value = serde_json::from_str(&std::fs::read_to_string(project_root().join("examples/healthy.snapshot.json")).unwrap()).unwrap();
    s["settings"]["model_id"] = json!(model_id);
    let m = &mut s["model"]["value"];
    m["foundation_model_id"] = json!(fm);
    m["name"] = json!(name);
    m["inference_types"] = json!(inference_types);
    m["profiles"] = json!(if model_id == fm { vec![] } else { vec![model_id] });
    if model_id != fm {
        let routes: Vec<String> =
            ["us-east-1", "us-east-2", "us-west-2"].iter().map(|r| format!("arn:aws:bedrock:{r}::foundation-model/{fm}")).collect();
        m["profile"] = json!({
            "id": model_id,
            "arn": format!("arn:aws:bedrock:{REGION}:{ACCOUNT}:inference-profile/{model_id}"),
            "kind": "SYSTEM_DEFINED",
            "status": "ACTIVE",
            "models": routes,
        });
    }
    s["quota_model_name"] = json!(name);
    s["quotas"] =
        json!({"unknown": {"kind": "denied", "error": "AccessDeniedException: not authorized to perform: servicequotas:ListServiceQuotas"}});
    let p = dir.join(format!("{}.snapshot.json", fm.replace([':', '.'], "_")));
    std::fs::write(&p, serde_json::to_string_pretty(&s).unwrap()).unwrap();
    p.to_str().unwrap().to_string()
}

fn check_offline(dir: &std::path::Path, snapshot: &str) -> (i32, Value) {
    let out = run(bare_command(dir), &["check", "--snapshot", snapshot, "--output", "json"]);
    exit_and_json(&out, "check")
}

/// The features matrix's "No", offline: `model-no-batch`, by model id and through a profile,
/// the evidence naming the row's source. The snapshot says nothing else is wrong with the model
/// (found, authorised), so the verdict is the catalogue's.
#[test]
fn features_matrix_no_is_model_no_batch_offline() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        ("us.deepseek.r1-v1:0", "deepseek.r1-v1:0", "DeepSeek-R1", &["INFERENCE_PROFILE"][..]),
        ("cohere.embed-v4", "cohere.embed-v4", "Cohere Embed v4", &["ON_DEMAND"][..]),
        ("us.anthropic.claude-opus-4-1-20250805-v1:0", "anthropic.claude-opus-4-1-20250805-v1:0", "Claude Opus 4.1", &["INFERENCE_PROFILE"][..]),
    ];
    for (model_id, fm, name, types) in cases {
        let snap = offline_snapshot(dir.path(), model_id, fm, name, types);
        let (code, r) = check_offline(dir.path(), &snap);
        assert_eq!(code, 1, "{model_id}: {r:#}");
        assert_eq!(checks(&r, "batch inference supports the model in the region")["status"], "fail", "{model_id}: {r:#}");
        let evidence = finding(&r, "model-no-batch")["evidence"].as_str().unwrap().to_string();
        assert!(evidence.contains("row source: aws-features-matrix-2026-01-25") && evidence.contains("says No to batch"), "{model_id}: {evidence}");
    }
}

/// A row of the third party's parse, used offline: the batch line passes on it and says whose
/// data it is; the same model in a Region the row does not list gets `model-no-batch`.
#[test]
fn a_parsed_row_used_as_the_fallback_names_its_source() {
    let dir = tempfile::tempdir().unwrap();
    let snap = offline_snapshot(dir.path(), "qwen.qwen3-32b-v1:0", "qwen.qwen3-32b-v1:0", "Qwen3 32B", &["ON_DEMAND"]);
    let (_, r) = check_offline(dir.path(), &snap);
    let line = checks(&r, "batch inference supports the model in the region");
    assert_eq!(line["status"], "pass", "{r:#}");
    let reason = line["reason"].as_str().unwrap_or_default();
    assert!(reason.contains("row source: aws-page-parsed-2026-08-19") && reason.contains("third party"), "{line:#}");
    assert!(!findings(&r, "error").iter().any(|c| c.starts_with("model-")), "{r:#}");
    // Qwen3 Coder 480B: listed in us-east-2 and us-west-2, not us-east-1.
    let snap =
        offline_snapshot(dir.path(), "qwen.qwen3-coder-480b-a35b-v1:0", "qwen.qwen3-coder-480b-a35b-v1:0", "Qwen3 Coder 480B A35B", &["ON_DEMAND"]);
    let (code, r) = check_offline(dir.path(), &snap);
    assert_eq!(code, 1, "{r:#}");
    let evidence = finding(&r, "model-no-batch")["evidence"].as_str().unwrap().to_string();
    assert!(evidence.contains("aws-page-parsed-2026-08-19") && evidence.contains("us-east-2, us-west-2"), "{evidence}");
}

/// The features matrix's "Yes" names no Region: offline, batch support in the region is
/// unknown (never assumed, never denied), and the note says why.
#[test]
fn features_matrix_yes_without_regions_leaves_the_region_open() {
    let dir = tempfile::tempdir().unwrap();
    let fm = "anthropic.claude-3-5-sonnet-20240620-v1:0";
    let snap = offline_snapshot(dir.path(), fm, fm, "Claude 3.5 Sonnet", &["ON_DEMAND"]);
    let (_, r) = check_offline(dir.path(), &snap);
    assert_eq!(checks(&r, "batch inference supports the model in the region")["status"], "unknown", "{r:#}");
    let evidence = finding(&r, "model-batch-support-unknown")["evidence"].as_str().unwrap().to_string();
    assert!(evidence.contains("aws-features-matrix-2026-01-25") && evidence.contains("names no Region"), "{evidence}");
    assert!(!findings(&r, "error").iter().any(|c| c.starts_with("model-")), "{r:#}");
}

// ----------------------------------------------------------------------------- quota names

fn validate_live(dir: &std::path::Path, model: &str, lines: &[String]) -> (i32, Value) {
    let p = dir.join("in.jsonl");
    std::fs::write(&p, lines.join("\n") + "\n").unwrap();
    let out = run(emulator_command(dir), &["validate", p.to_str().unwrap(), "--model-id", model, "--output", "json"]);
    exit_and_json(&out, "check")
}

fn converse_records(n: usize) -> Vec<String> {
    (0..n)
        .map(|i| json!({"recordId": format!("r{i}"), "modelInput": {"messages": [{"role": "user", "content": [{"text": "hi"}]}]}}).to_string())
        .collect()
}

/// Service Quotas names the size quotas of Qwen, DeepSeek v3 and Titan Text Embeddings V2 "…
/// for X (in GB)" and the others' "… (in GB) for X" (BATCH-FACTS §3): `validate` takes all six
/// of a model's batch quotas in either order.
#[test]
fn validate_takes_a_models_quotas_in_both_word_orders() {
    require_emulator();
    let dir = tempfile::tempdir().unwrap();
    for (model, name) in [
        ("qwen.qwen3-coder-next", "Qwen3 Coder Next"),
        ("deepseek.v3-v1:0", "DeepSeek V3.1"),
        ("amazon.titan-embed-text-v2:0", "Titan Text Embeddings V2"),
        ("anthropic.claude-3-5-haiku-20241022-v1:0", "Claude 3.5 Haiku"),
    ] {
        let (_, v) = validate_live(dir.path(), model, &converse_records(1));
        let notes = v["notes"].to_string();
        assert!(notes.contains(&format!("6 batch quotas for {name} (")), "{model}: {notes}");
    }
}

/// The unit-last file-size quota's value is the one `validate` holds the file to: a Qwen file
/// over an applied quota of a few bytes is `file-too-large`.
#[tokio::test]
async fn a_unit_last_size_quota_sets_the_file_limit() {
    require_emulator();
    // Qwen3 VL 235B A22B: no other test reads its size quotas.
    set_quota("Qwen3 VL 235B A22B (in GB)", "Batch inference input file size", 100.0 / (1u64 << 30) as f64).await;
    let dir = tempfile::tempdir().unwrap();
    let (code, v) = validate_live(dir.path(), "qwen.qwen3-vl-235b-a22b", &converse_records(100));
    set_quota("Qwen3 VL 235B A22B (in GB)", "Batch inference input file size", 1.0).await;
    assert_eq!(code, 1, "{v:#}");
    let problems = v["problems"].as_array().unwrap();
    let big = problems.iter().find(|p| p["code"] == "file-too-large").unwrap_or_else(|| panic!("{v:#}"));
    assert!(big["examples"][0]["message"].as_str().unwrap().contains("the input file quota is 100 bytes"), "{big:#}");
}
