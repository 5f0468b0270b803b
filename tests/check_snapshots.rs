//! `check --snapshot`: the shipped example snapshots, the codes the emulator cannot express
//! (KMS, another account's bucket, unreadable quotas and policies), and `explain`.

mod common;
use common::*;
use serde_json::Value;

fn check_snapshot(name: &str) -> (i32, Value) {
    let dir = tempfile::tempdir().unwrap();
    let path = project_root().join("examples").join(format!("{name}.snapshot.json"));
    let out = run(bare_command(dir.path()), &["check", "--output", "json", "--snapshot", path.to_str().unwrap()]);
    exit_and_json(&out, name)
}

fn codes(report: &Value) -> Vec<(String, String)> {
    let mut c: Vec<(String, String)> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["code"].as_str().unwrap().to_string(), f["severity"].as_str().unwrap().to_string()))
        .collect();
    c.sort();
    c.dedup();
    c
}

fn pair(code: &str, sev: &str) -> (String, String) {
    (code.to_string(), sev.to_string())
}

#[test]
fn healthy_snapshot_passes_offline() {
    let (code, r) = check_snapshot("healthy");
    assert_eq!(code, 0, "{r:#}");
    assert!(codes(&r).is_empty(), "{r:#}");
}

#[test]
fn walkthrough_snapshot_finds_both_errors() {
    let (code, r) = check_snapshot("walkthrough");
    assert_eq!(code, 1);
    assert_eq!(codes(&r), vec![pair("caller-cannot-pass-role", "error"), pair("trust-wrong-principal", "error")]);
}

#[test]
fn kms_encrypted_buckets_with_an_unread_key_policy_are_unknown_not_guessed() {
    // A KMS key is never granted by identity policies alone, and a key policy may grant the role
    // directly: with the key policy unread, the KMS checks are unknown and the verdict is
    // incomplete (exit 4), neither a pass nor a guessed failure.
    let (code, r) = check_snapshot("kms");
    assert_eq!(code, 4, "{r:#}");
    assert_eq!(codes(&r), Vec::<(String, String)>::new());
    let kms: Vec<_> = r["checks"].as_array().unwrap().iter().filter(|c| c["family"] == "kms").collect();
    assert_eq!(kms.len(), 2, "{r:#}");
    for c in kms {
        assert_eq!(c["status"], "unknown", "{c}");
        assert!(c["reason"].as_str().unwrap().contains("key policy"), "{c}");
    }
    assert_eq!(r["summary"]["complete"], false);
}

#[test]
fn bucket_of_another_account() {
    let (code, r) = check_snapshot("other-account");
    assert_eq!(code, 1);
    assert_eq!(codes(&r), vec![pair("bucket-other-account", "error")]);
}

#[test]
fn unreadable_facts_are_unknown_and_the_verdict_incomplete() {
    let (code, r) = check_snapshot("unreadable");
    assert_eq!(code, 4, "incomplete, never a pass: {r:#}");
    assert_eq!(codes(&r), vec![pair("quota-unreadable", "warning"), pair("read-denied", "warning")]);
    let passrole: Vec<_> = r["checks"].as_array().unwrap().iter().filter(|c| c["family"] == "passrole" && c["status"] == "unknown").collect();
    assert_eq!(passrole.len(), 2, "{r:#}");
    assert!(passrole.iter().all(|c| c["passed"] == false));
    let quota = r["checks"].as_array().unwrap().iter().find(|c| c["family"] == "quotas").unwrap();
    assert_eq!(quota["status"], "unknown", "{quota}");
}

#[test]
fn a_bad_snapshot_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("old.json"), r#"{"version": 99}"#).unwrap();
    let out = run(bare_command(dir.path()), &["check", "--snapshot", "old.json"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("snapshot version 99 is not supported"), "{}", stderr(&out));
    std::fs::write(dir.path().join("broken.json"), "{").unwrap();
    let out = run(bare_command(dir.path()), &["check", "--snapshot", "broken.json"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("broken.json"), "{}", stderr(&out));
}

#[test]
fn snapshot_refuses_to_overwrite() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("s.json"), "mine").unwrap();
    let out = run(bare_command(dir.path()), &["snapshot", "-o", "s.json"]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(std::fs::read_to_string(dir.path().join("s.json")).unwrap(), "mine");
}

#[test]
fn redacted_snapshot_hides_the_account_and_checks_the_same() {
    require_emulator();
    let dir = tempfile::tempdir().unwrap();
    // The walkthrough snapshot's facts, re-checked after redaction through the library.
    let text = std::fs::read_to_string(project_root().join("examples/walkthrough.snapshot.json")).unwrap();
    let snap = bedbatch_doctor::snapshot::Snapshot::from_json(&text).unwrap();
    let red = snap.redact().unwrap();
    let red_text = serde_json::to_string(&red).unwrap();
    assert!(!red_text.contains("123456789012") && !red_text.contains("BedrockBatchRole") && !red_text.contains("demo-batch-in"), "{red_text}");
    std::fs::write(dir.path().join("red.json"), &red_text).unwrap();
    let out = run(bare_command(dir.path()), &["check", "--output", "json", "--snapshot", "red.json"]);
    let r: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(codes(&r), vec![pair("caller-cannot-pass-role", "error"), pair("trust-wrong-principal", "error")]);
}

#[test]
fn explain_prints_every_codes_long_form() {
    let dir = tempfile::tempdir().unwrap();
    let all = bedbatch_doctor::registry::all();
    assert!(all.iter().any(|c| c.as_str() == "too-few-records"), "validate's codes are explained too");
    for c in all {
        let out = run(bare_command(dir.path()), &["explain", c.as_str()]);
        assert_eq!(out.status.code(), Some(0), "{}", c.as_str());
        let text = stdout(&out);
        assert!(text.starts_with(&format!("# {}", c.as_str())) && text.contains("## Fix"), "{text}");
    }
    let out = run(bare_command(dir.path()), &["explain", "no-such-code"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn explain_maps_a_pasted_message() {
    let dir = tempfile::tempdir().unwrap();
    let msg = "An error occurred (AccessDeniedException) when calling the CreateModelInvocationJob operation: User: arn:aws:iam::123456789012:user/analyst is not authorized to perform: iam:PassRole on resource: arn:aws:iam::123456789012:role/BedrockBatchRole because no identity-based policy allows the iam:PassRole action";
    let out = run(bare_command(dir.path()), &["explain", msg, "--output", "json"]);
    assert_eq!(out.status.code(), Some(0));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["codes"], serde_json::json!(["caller-cannot-pass-role"]));
    assert_eq!(v["checked"], false, "no settings and no credentials here: nothing to check");
}

#[test]
fn unreadable_caller_policies_fall_back_to_iams_simulator() {
    let (code, r) = check_snapshot("simulated");
    assert_eq!(code, 1);
    assert_eq!(codes(&r), vec![pair("caller-cannot-pass-role", "error"), pair("read-denied", "warning")]);
    let f = r["findings"].as_array().unwrap().iter().find(|f| f["code"] == "caller-cannot-pass-role").unwrap();
    assert!(f["evidence"].as_str().unwrap().contains("implicitDeny (iam:SimulatePrincipalPolicy)"), "{f:#}");
}

#[test]
fn output_json_errors_are_one_json_document_on_stdout() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(bare_command(dir.path()), &["check", "--output", "json", "--snapshot", "nope.json"]);
    assert_eq!(out.status.code(), Some(2));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", stdout(&out)));
    assert_eq!(v["error"]["kind"], "usage", "{v:#}");
    assert!(v["error"]["message"].as_str().unwrap().contains("nope.json"), "{v:#}");
    // A missing setting, in JSON too.
    let out = run(bare_command(dir.path()), &["render", "--output", "json", "--account-id", "123456789012"]);
    assert_eq!(out.status.code(), Some(2));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", stdout(&out)));
    assert_eq!(v["error"]["kind"], "config", "{v:#}");
}

#[test]
fn check_json_reports_status_codes_and_exit_per_check() {
    let (code, r) = check_snapshot("healthy");
    assert_eq!(code, 0);
    assert_eq!(r["exit_code"], 0);
    assert_eq!(r["summary"]["complete"], true);
    for c in r["checks"].as_array().unwrap() {
        assert_eq!(c["status"], "pass", "{c}");
        assert!(!c["codes"].as_array().unwrap().is_empty(), "every check names the codes it guards: {c}");
    }
}

/// Runs `check` on the healthy snapshot after `edit`.
fn check_edited(edit: impl FnOnce(&mut Value)) -> (i32, Value) {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(project_root().join("examples/healthy.snapshot.json")).unwrap();
    let mut snap: Value = serde_json::from_str(&text).unwrap();
    edit(&mut snap);
    let path = dir.path().join("edited.snapshot.json");
    std::fs::write(&path, serde_json::to_string(&snap).unwrap()).unwrap();
    let out = run(bare_command(dir.path()), &["check", "--output", "json", "--snapshot", path.to_str().unwrap()]);
    exit_and_json(&out, "check --snapshot")
}

/// The checks of `family` that are unknown, and their reasons.
fn unknown_reasons(r: &Value, family: &str) -> Vec<String> {
    r["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["family"] == family && c["status"] == "unknown")
        .map(|c| c["reason"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn a_boundary_that_does_not_parse_makes_its_checks_unknown_never_drops_it() {
    // Dropped, the boundary would only widen what is allowed: the role's S3 and invoke checks
    // would pass where AWS denies. They are unknown with the parse error (exit 4).
    let (code, r) = check_edited(|s| {
        s["role"]["value"]["boundary"] = serde_json::json!({"name": "arn:aws:iam::123456789012:policy/Fence", "document": {"Statement": [{"Effect": "Maybe", "Action": "s3:*", "Resource": "*"}]}});
    });
    assert_eq!(code, 4, "{r:#}");
    let s3 = unknown_reasons(&r, "role_s3");
    assert_eq!(s3.len(), 3, "{r:#}");
    assert!(s3.iter().all(|w| w.contains("permissions boundary arn:aws:iam::123456789012:policy/Fence does not parse")), "{s3:?}");
    assert_eq!(r["summary"]["complete"], false);
}

#[test]
fn a_bucket_policy_that_does_not_parse_is_unknown_not_absent() {
    let (code, r) = check_edited(|s| {
        s["buckets"][0]["policy"] =
            serde_json::json!({"value": {"Statement": [{"Effect": "Deny", "Principal": "*", "Action": "s3:GetObject", "Resource": 12}]}});
    });
    assert_eq!(code, 4, "{r:#}");
    let s3 = unknown_reasons(&r, "role_s3");
    assert!(!s3.is_empty() && s3.iter().all(|w| w.contains("the bucket policy of s3://demo-batch-in does not parse")), "{r:#}");
}
