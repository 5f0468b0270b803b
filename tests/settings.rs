//! Bad settings: each gives one clear error naming the key, the value and the rule, exit 2.

mod common;
use common::*;

fn with_config(toml: &str, args: &[&str]) -> std::process::Output {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("bedbatch.toml"), toml).unwrap();
    let mut all = vec!["render", "--account-id", ACCOUNT];
    all.extend_from_slice(args);
    run(bare_command(dir.path()), &all)
}

const GOOD: &str = r#"
region = "us-east-1"
model_id = "anthropic.claude-3-haiku-20240307-v1:0"
input_uri = "s3://my-batch-in/jobs/in/"
output_uri = "s3://my-batch-out/jobs/out/"
role_name = "BedrockBatchRole"
"#;

fn assert_config_error(out: &std::process::Output, needles: &[&str]) {
    let err = stderr(out);
    assert_eq!(out.status.code(), Some(2), "exit code, stderr: {err}");
    assert!(out.stdout.is_empty(), "nothing on stdout: {}", stdout(out));
    for n in needles {
        assert!(err.contains(n), "stderr should contain {n:?}: {err}");
    }
    assert!(!err.contains("panicked"), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "one error line: {err}");
}

#[test]
fn good_settings_render() {
    let out = with_config(GOOD, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}

#[test]
fn unknown_key() {
    let out = with_config(&format!("{GOOD}\nmodel = \"x\"\n"), &[]);
    assert_config_error(&out, &["bedbatch.toml", "line 8", "unknown field `model`", "model_id"]);
}

#[test]
fn wrong_type() {
    let out = with_config(&GOOD.replace("role_name = \"BedrockBatchRole\"", "role_name = 42"), &[]);
    assert_config_error(&out, &["bedbatch.toml", "line 6", "invalid type", "string"]);
}

#[test]
fn uppercase_bucket_rejected_by_bedrock_pattern() {
    let out = with_config(&GOOD.replace("s3://my-batch-in/", "s3://My-Batch-In/"), &[]);
    assert_config_error(&out, &["input_uri", "s3://My-Batch-In/jobs/in/", "S3Uri pattern", "lowercase"]);
}

#[test]
fn space_in_key_rejected() {
    let out = with_config(GOOD, &["--input-uri", "s3://my-batch-in/my jobs/"]);
    assert_config_error(&out, &["--input-uri", "my jobs", "S3Uri pattern", "' '"]);
}

#[test]
fn output_uri_must_be_a_folder() {
    let out = with_config(GOOD, &["--output-uri", "s3://my-batch-out/out/results.jsonl"]);
    assert_config_error(&out, &["output_uri", "results.jsonl", "folder"]);
}

#[test]
fn bad_role_name() {
    let out = with_config(&GOOD.replace("BedrockBatchRole", "Bedrock Batch Role"), &[]);
    assert_config_error(&out, &["role_name", "Bedrock Batch Role", "IAM role names"]);
}

#[test]
fn too_long_role_name() {
    let long = "R".repeat(65);
    let out = with_config(GOOD, &["--role-name", &long]);
    assert_config_error(&out, &["--role-name", "1 to 64 characters"]);
}

#[test]
fn bad_role_path() {
    let out = with_config(GOOD, &["--role-path", "service-role"]);
    assert_config_error(&out, &["--role-path", "\"service-role\"", "IAM path"]);
}

/// Issue 26: a service-linked role (/aws-service-role/) or an IAM Identity Center role
/// (/aws-reserved/) can never be a batch job's role — its trust policy is not the account's to
/// set — so the setting is refused before any AWS call, naming the path and what to use instead.
#[test]
fn reserved_role_paths_are_refused() {
    let out = with_config(GOOD, &["--role-path", "/aws-service-role/bedrock.amazonaws.com/"]);
    assert_config_error(&out, &["--role-path", "/aws-service-role/", "service-linked", "UnmodifiableEntity", "/service-role/"]);
    let out = with_config(&format!("{GOOD}role_path = \"/aws-reserved/sso.amazonaws.com/\"\n"), &[]);
    assert_config_error(&out, &["role_path", "/aws-reserved/", "IAM Identity Center", "/service-role/"]);
    // Only the prefix is reserved: a path of one's own that mentions it is taken.
    let out = with_config(GOOD, &["--role-path", "/team/aws-service-role/", "--output", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stdout(&out).contains(":role/team/aws-service-role/BedrockBatchRole"), "{}", stdout(&out));
}

#[test]
fn unknown_region() {
    let out = with_config(&GOOD.replace("us-east-1", "us-esat-1"), &[]);
    assert_config_error(&out, &["region", "us-esat-1", "not a known AWS region", "did you mean us-east-1"]);
}

#[test]
fn model_id_of_no_known_form() {
    let out = with_config(GOOD, &["--model-id", "claude-3-haiku"]);
    assert_config_error(&out, &["--model-id", "claude-3-haiku", "foundation model id", "inference profile id"]);
}

#[test]
fn model_arn_in_another_region() {
    let out = with_config(GOOD, &["--model-id", "arn:aws:bedrock:eu-west-1::foundation-model/anthropic.claude-3-haiku-20240307-v1:0"]);
    assert_config_error(&out, &["--model-id", "eu-west-1", "us-east-1"]);
}

#[test]
fn kms_alias_is_not_a_policy_resource() {
    let out = with_config(&format!("{GOOD}kms_key_id = \"alias/batch\"\n"), &[]);
    assert_config_error(&out, &["kms_key_id", "alias/batch", "key id or key ARN"]);
}

#[test]
fn bad_caller_arn() {
    let out = with_config(GOOD, &["--caller-arn", "arn:aws:iam::123:user/analyst"]);
    assert_config_error(&out, &["--caller-arn", "arn:aws:iam::123:user/analyst", "IAM user or role ARN"]);
}

#[test]
fn reserved_tag_key() {
    let out = with_config(&format!("{GOOD}[tags]\n\"aws:team\" = \"ml\"\n"), &[]);
    assert_config_error(&out, &["tags.aws:team", "reserved"]);
}

#[test]
fn missing_config_file_given_explicitly() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(bare_command(dir.path()), &["render", "--account-id", ACCOUNT, "--config", "nope.toml"]);
    assert_config_error(&out, &["nope.toml", "does not exist"]);
}

#[test]
fn missing_setting_names_key_and_flag() {
    let out = with_config(&GOOD.replace("role_name = \"BedrockBatchRole\"\n", ""), &[]);
    assert_config_error(&out, &["role_name", "--role-name"]);
}

#[test]
fn flags_override_the_file() {
    let out = with_config(GOOD, &["--role-name", "OtherRole", "--document", "trust-policy"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let out = with_config(GOOD, &["--role-name", "OtherRole", "--document", "passrole-policy"]);
    assert!(stdout(&out).contains("role/OtherRole"), "{}", stdout(&out));
}

#[test]
fn runs_with_no_file_at_all() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(
        bare_command(dir.path()),
        &[
            "render",
            "--account-id",
            ACCOUNT,
            "--region",
            "eu-west-1",
            "--model-id",
            HAIKU,
            "--input-uri",
            "s3://in-bucket/in/",
            "--output-uri",
            "s3://in-bucket/out/",
            "--role-name",
            "R",
            "--document",
            "trust-policy",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stdout(&out).contains("arn:aws:bedrock:eu-west-1:123456789012:model-invocation-job/*"));
}

#[test]
fn init_writes_a_starter_and_refuses_to_overwrite() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(bare_command(dir.path()), &["init"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let written = std::fs::read_to_string(dir.path().join("bedbatch.toml")).unwrap();
    assert!(written.contains("model_id = ") && written.contains("# "));
    // The starter parses and renders offline as it is.
    let out = run(bare_command(dir.path()), &["render", "--account-id", ACCOUNT]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    std::fs::write(dir.path().join("bedbatch.toml"), "mine").unwrap();
    let out = run(bare_command(dir.path()), &["init"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("already exists"));
    assert_eq!(std::fs::read_to_string(dir.path().join("bedbatch.toml")).unwrap(), "mine");
}
