//! The wiring through the binary against the emulator: whoami, online render, and the errors
//! for missing credentials and an unreachable endpoint.

mod common;
use common::*;

#[test]
fn whoami_prints_the_callers_arn_and_account() {
    require_emulator();
    let dir = tempfile::tempdir().unwrap();
    let out = run(emulator_command(dir.path()), &["whoami"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    // The IAM form AWS returns for an IAM user (the emulator fixes moto's sts: form).
    assert!(text.contains("arn:aws:iam::123456789012:user/moto"), "{text}");
    assert!(text.contains("account:   123456789012"), "{text}");

    let out = run(emulator_command(dir.path()), &["whoami", "--output", "json"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["account"], ACCOUNT);
    assert_eq!(v["partition"], "aws");
}

#[test]
fn render_online_uses_the_accounts_id() {
    require_emulator();
    let dir = tempfile::tempdir().unwrap();
    let who = run(emulator_command(dir.path()), &["whoami", "--output", "json"]);
    let who: serde_json::Value = serde_json::from_slice(&who.stdout).unwrap();
    let account = who["account"].as_str().unwrap().to_string();
    let out = run(
        emulator_command(dir.path()),
        &[
            "render",
            "--output",
            "json",
            "--model-id",
            HAIKU,
            "--input-uri",
            "s3://b-in/in/",
            "--output-uri",
            "s3://b-in/out/",
            "--role-name",
            "BatchRole",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["account_id"], account.as_str());
    let trust = &v["documents"][0]["document"]["Statement"][0]["Condition"];
    assert_eq!(trust["StringEquals"]["aws:SourceAccount"], account.as_str());
    // The PassRole policy is for whoever runs the tool when caller_arn is not set.
    assert_eq!(v["documents"][2]["target"], who["arn"]);
}

/// Online, a profile's invoke grant names the Regions GetInferenceProfile lists; a profile id
/// that names nothing is a settings error (exit 2) naming model_id.
#[test]
fn render_online_takes_a_profiles_regions_and_refuses_an_unknown_profile() {
    require_emulator();
    let dir = tempfile::tempdir().unwrap();
    let args = |model: &'static str| {
        vec![
            "render",
            "--output",
            "json",
            "--model-id",
            model,
            "--input-uri",
            "s3://b-in/in/",
            "--output-uri",
            "s3://b-in/out/",
            "--role-name",
            "BatchRole",
        ]
    };
    let out = run(emulator_command(dir.path()), &args("eu.anthropic.claude-haiku-4-5-20251001-v1:0"));
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["routes_from"], "GetInferenceProfile");
    let role = v["documents"].as_array().unwrap().iter().find(|d| d["name"] == "role-policy").unwrap();
    let invoke = role["document"]["Statement"].as_array().unwrap().iter().find(|s| s["Sid"] == "BedrockBatchInvokeModel").unwrap();
    let text = invoke["Resource"].to_string();
    assert!(text.contains("eu-west-3::foundation-model/anthropic.claude-haiku-4-5") && !text.contains(":*::"), "{text}");

    let out = run(emulator_command(dir.path()), &args("us.anthropic.claude-nonexistent-v9:0"));
    assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
    let e: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(e["error"]["kind"], "config");
    let msg = e["error"]["message"].as_str().unwrap();
    assert!(msg.contains("model_id") && msg.contains("does not exist"), "{msg}");
}

#[test]
fn missing_credentials_exit_3() {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = bare_command(dir.path());
    cmd.env("AWS_ENDPOINT_URL", emulator_url()).env("AWS_REGION", REGION);
    let out = run(cmd, &["whoami"]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(stderr(&out).contains("no AWS credentials found"), "{}", stderr(&out));
}

#[test]
fn unreachable_endpoint_exit_3() {
    // A port nothing listens on, on loopback.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = emulator_command(dir.path());
    cmd.env("AWS_ENDPOINT_URL", format!("http://127.0.0.1:{port}")).env("AWS_MAX_ATTEMPTS", "1");
    let out = run(cmd, &["whoami"]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("cannot reach AWS sts") && err.contains("GetCallerIdentity"), "{err}");
}

#[test]
fn endpoint_url_flag_is_honoured() {
    require_emulator();
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = emulator_command(dir.path());
    cmd.env("AWS_ENDPOINT_URL", "http://127.0.0.1:9");
    let out = run(cmd, &["whoami", "--endpoint-url", &emulator_url()]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}
