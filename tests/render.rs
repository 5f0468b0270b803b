//! `render`: golden files for two setups, Parliament over the identity and bucket policies,
//! and clear errors for broken templates.

mod common;
use common::*;
use std::path::Path;

const SETUPS: &[&str] = &["one-bucket", "two-buckets-kms"];

fn render_in(dir: &Path, extra: &[&str]) -> std::process::Output {
    let mut args = vec!["render", "--account-id", ACCOUNT];
    args.extend_from_slice(extra);
    run(bare_command(dir), &args)
}

/// Compares the text output with tests/golden/SETUP/expected.txt; UPDATE_GOLDEN=1 rewrites it.
#[test]
fn golden_files() {
    for setup in SETUPS {
        let dir = project_root().join("tests/golden").join(setup);
        let out = render_in(&dir, &[]);
        assert_eq!(out.status.code(), Some(0), "{setup}: {}", stderr(&out));
        let got = stdout(&out);
        let path = dir.join("expected.txt");
        if std::env::var_os("UPDATE_GOLDEN").is_some() {
            std::fs::write(&path, &got).unwrap();
        }
        let want = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e} (UPDATE_GOLDEN=1 creates it)", path.display()));
        assert_eq!(got, want, "{setup}: rendered output differs from {}", path.display());
    }
}

fn documents(setup: &str) -> Vec<serde_json::Value> {
    let dir = project_root().join("tests/golden").join(setup);
    let out = render_in(&dir, &["--output", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["account_id"], ACCOUNT);
    v["documents"].as_array().unwrap().clone()
}

#[test]
fn documents_are_least_privilege() {
    for setup in SETUPS {
        for doc in documents(setup) {
            let text = doc["document"].to_string();
            for st in doc["document"]["Statement"].as_array().unwrap() {
                let actions: Vec<String> = match &st["Action"] {
                    serde_json::Value::String(s) => vec![s.clone()],
                    serde_json::Value::Array(a) => a.iter().map(|x| x.as_str().unwrap().to_string()).collect(),
                    other => panic!("Action {other}"),
                };
                assert!(actions.iter().all(|a| !a.contains('*')), "{setup} {}: wildcard action in {text}", doc["name"]);
            }
        }
    }
    let docs = documents("two-buckets-kms");
    let trust = docs.iter().find(|d| d["name"] == "trust-policy").unwrap();
    let st = &trust["document"]["Statement"][0];
    assert_eq!(st["Principal"]["Service"], "bedrock.amazonaws.com");
    assert_eq!(st["Condition"]["StringEquals"]["aws:SourceAccount"], ACCOUNT);
    assert_eq!(st["Condition"]["ArnEquals"]["aws:SourceArn"], "arn:aws:bedrock:us-west-2:123456789012:model-invocation-job/*");
    let pass = docs.iter().find(|d| d["name"] == "passrole-policy").unwrap();
    let st = &pass["document"]["Statement"][0];
    assert_eq!(st["Resource"], "arn:aws:iam::123456789012:role/service-role/TeamABatch");
    assert_eq!(st["Condition"]["StringEquals"]["iam:PassedToService"], "bedrock.amazonaws.com");
    assert_eq!(pass["target"], "arn:aws:sts::123456789012:assumed-role/DataScience/jane");
    let role = docs.iter().find(|d| d["name"] == "role-policy").unwrap();
    let kms = role["document"]["Statement"].as_array().unwrap().iter().find(|s| s["Sid"] == "BedrockBatchUseKmsKey").unwrap();
    assert_eq!(kms["Action"], serde_json::json!(["kms:Decrypt", "kms:GenerateDataKey"]));
    // Two buckets: two bucket policies, each granting only its half.
    let buckets: Vec<_> = docs.iter().filter(|d| d["name"] == "bucket-policy").collect();
    assert_eq!(buckets.len(), 2);
    assert_eq!(buckets[0]["bucket"], "corp-batch-in");
    assert!(buckets[0]["document"].to_string().contains("s3:GetObject"));
    assert!(!buckets[0]["document"].to_string().contains("s3:PutObject"));
    assert!(buckets[1]["document"].to_string().contains("arn:aws:s3:::corp-batch-out/team-a/results/*"));
}

#[test]
fn one_document_is_printed_raw() {
    let dir = project_root().join("tests/golden/one-bucket");
    let out = render_in(&dir, &["--document", "role-policy"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("raw JSON");
    assert_eq!(v["Statement"][1]["Resource"], "arn:aws:s3:::batch-data/jobs/in/*");
}

#[test]
fn two_bucket_policies_need_a_bucket_choice() {
    let dir = project_root().join("tests/golden/two-buckets-kms");
    let out = render_in(&dir, &["--document", "bucket-policy"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("--bucket corp-batch-in or --bucket corp-batch-out"), "{}", stderr(&out));
    let out = render_in(&dir, &["--document", "bucket-policy", "--bucket", "corp-batch-out"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["Statement"][1]["Sid"], "BedrockBatchWriteOutput");
}

fn with_template(name: &str, text: &str) -> std::process::Output {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join(name), text).unwrap();
    let setup = project_root().join("tests/golden/one-bucket");
    render_in(&setup, &["--templates", dir.path().to_str().unwrap()])
}

#[test]
fn template_override_is_used() {
    let out = with_template(
        "trust-policy.json.hbs",
        r#"{"Version":"2012-10-17","Statement":[{"Sid":"Custom","Effect":"Allow","Principal":{"Service":"bedrock.amazonaws.com"},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"aws:SourceAccount":"{{account_id}}"}}}]}"#,
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stdout(&out).contains("\"Custom\""));
}

#[test]
fn template_producing_invalid_json_is_named() {
    let out = with_template("role-policy.json.hbs", r#"{"Version": "2012-10-17", "Statement": [ {"Effect": "Allow",} ]}"#);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("role-policy.json.hbs") && err.contains("invalid JSON"), "{err}");
}

#[test]
fn template_producing_invalid_policy_is_named() {
    let out = with_template(
        "role-policy.json.hbs",
        r#"{"Version": "2012-10-17", "Statement": [{"Sid": "X", "Effect": "Allow", "Action": "s3:GetObject"}]}"#,
    );
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("role-policy.json.hbs") && err.contains("statement 0 (Sid \"X\")") && err.contains("Resource"), "{err}");
}

#[test]
fn template_with_unknown_variable_is_named() {
    let out = with_template("trust-policy.json.hbs", r#"{"Statement": "{{acount_id}}"}"#);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("trust-policy.json.hbs") && err.contains("acount_id"), "{err}");
}

#[test]
fn template_with_wildcard_action_is_refused() {
    let out = with_template(
        "passrole-policy.json.hbs",
        r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "bedrock:*", "Resource": "*"}]}"#,
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("wildcard action \"bedrock:*\""), "{}", stderr(&out));
}

#[test]
fn unknown_template_file_is_an_error() {
    let out = with_template("trust.json.hbs", "{}");
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("not a known template"), "{}", stderr(&out));
}

/// Findings Parliament reports on our documents that are wrong, each with the reason.
/// Any other finding fails the test.
const PARLIAMENT_ALLOWED: &[(&str, &str, &str)] = &[
    (
        "RESOURCE_MISMATCH",
        "bedrock:CreateModelInvocationJob",
        // AWS's service authorization reference lists model-invocation-job* as a required
        // resource type of CreateModelInvocationJob, and inference-profile as an optional one;
        // Parliament's action data predates both and knows only custom-model and foundation-model.
        "Parliament's data lacks the model-invocation-job and inference-profile resource types",
    ),
    (
        "RESOURCE_MISMATCH",
        "bedrock:InvokeModel",
        // Parliament lists every InvokeModel resource type the statement does not name, even when
        // foundation-model matches (try a bare `foundation-model/amazon.titan-text-express-v1`), and
        // splits ARNs on every ':' so Bedrock ids ending ":0" never match. AWS's service
        // authorization reference lists foundation-model and inference-profile for InvokeModel, and
        // the batch service-role page grants exactly those.
        "Parliament reports the resource types a statement does not name, and cannot match ids that contain ':'",
    ),
];

fn parliament() -> std::path::PathBuf {
    let p = std::env::var_os("BEDBATCH_PARLIAMENT").map(Into::into).unwrap_or_else(|| project_root().join(".venv/bin/parliament"));
    assert!(p.exists(), "{} not found: scripts/test installs it into .venv", p.display());
    p
}

#[test]
fn parliament_passes_identity_and_bucket_policies() {
    let bin = parliament();
    let mut checked = 0;
    for setup in SETUPS {
        for doc in documents(setup) {
            if doc["name"] == "trust-policy" {
                continue; // Parliament demands a Resource; trust policies have none.
            }
            let text = serde_json::to_string_pretty(&doc["document"]).unwrap();
            // --string, not stdin: Parliament misreads a non-terminal stdin.
            let out = std::process::Command::new(&bin).args(["--json", "--string", &text]).output().unwrap();
            let report = String::from_utf8_lossy(&out.stdout);
            for line in report.lines().filter(|l| !l.trim().is_empty()) {
                let finding: serde_json::Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("parliament output {line}: {e}"));
                let issue = finding["issue"].as_str().unwrap_or_default();
                let actions: Vec<&str> =
                    finding["detail"].as_array().map(|d| d.iter().filter_map(|x| x["action"].as_str()).collect()).unwrap_or_default();
                let allowed = !actions.is_empty() && actions.iter().all(|a| PARLIAMENT_ALLOWED.iter().any(|(i, act, _)| *i == issue && act == a));
                assert!(allowed, "{setup} {} {}: Parliament finding not on the allow-list: {line}\n{text}", doc["name"], doc["target"]);
            }
            assert!(!String::from_utf8_lossy(&out.stderr).contains("Traceback"), "{}", String::from_utf8_lossy(&out.stderr));
            checked += 1;
        }
    }
    assert_eq!(checked, 7, "role, passrole and bucket policies of both setups");
}

#[test]
fn parliament_catches_a_bad_policy() {
    // The allow-list is not a blanket: an over-broad statement is reported.
    let out = std::process::Command::new(parliament())
        .args(["--json", "--string", r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:PassRole","Resource":"*"}]}"#])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("RESOURCE_STAR"));
}

fn venv_python() -> std::path::PathBuf {
    let p = project_root().join(".venv/bin/python");
    assert!(p.exists(), "run the tests with scripts/test (it installs python-hcl2 and cfn-lint into .venv)");
    p
}

/// Issue 14: `render --format terraform` parses as HCL (python-hcl2), holds the role, its
/// policy, both bucket policies and the submitter's policy (an assumed-role session: its role's
/// inline policy), and with --with-buckets the buckets; every policy equals `render`'s.
#[test]
fn terraform_export_parses_and_holds_the_rendered_documents() {
    let dir = project_root().join("tests/golden/two-buckets-kms");
    let out = render_in(&dir, &["--format", "terraform", "--with-buckets"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let tmp = tempfile::tempdir().unwrap();
    let tf = tmp.path().join("main.tf");
    std::fs::write(&tf, &out.stdout).unwrap();
    let parsed = std::process::Command::new(venv_python()).arg(project_root().join("tests/iac/terraform_policies.py")).arg(&tf).output().unwrap();
    assert!(parsed.status.success(), "{}", String::from_utf8_lossy(&parsed.stderr));
    let v: serde_json::Value = serde_json::from_slice(&parsed.stdout).unwrap();
    let resources: Vec<&str> = v["resources"].as_array().unwrap().iter().map(|r| r.as_str().unwrap()).collect();
    for r in [
        "aws_iam_role.bedrock_batch",
        "aws_iam_role_policy.bedrock_batch",
        "aws_s3_bucket_policy.corp_batch_in",
        "aws_s3_bucket_policy.corp_batch_out",
        "aws_iam_role_policy.bedrock_batch_submitter",
        "aws_s3_bucket.corp_batch_in",
        "aws_s3_bucket_server_side_encryption_configuration.corp_batch_out",
        "aws_s3_bucket_public_access_block.corp_batch_in",
    ] {
        assert!(resources.contains(&r), "{r} in {resources:?}");
    }
    let docs = documents("two-buckets-kms");
    let doc =
        |name: &str, bucket: Option<&str>| docs.iter().find(|d| d["name"] == name && d["bucket"].as_str() == bucket).unwrap()["document"].clone();
    let values = &v["values"];
    assert_eq!(values["aws_iam_role.bedrock_batch.assume_role_policy"], doc("trust-policy", None));
    assert_eq!(values["aws_iam_role_policy.bedrock_batch.policy"], doc("role-policy", None));
    assert_eq!(values["aws_s3_bucket_policy.corp_batch_in.policy"], doc("bucket-policy", Some("corp-batch-in")));
    assert_eq!(values["aws_s3_bucket_policy.corp_batch_out.policy"], doc("bucket-policy", Some("corp-batch-out")));
    assert_eq!(values["aws_iam_role_policy.bedrock_batch_submitter.policy"], doc("passrole-policy", None));
    assert_eq!(values["aws_iam_role_policy.bedrock_batch_submitter.role"], "DataScience");
    assert_eq!(values["aws_iam_role.bedrock_batch.name"], "TeamABatch");
}

/// Issue 14: `render --format cloudformation` passes cfn-lint, reads back as the same template
/// as its JSON form, and holds `render`'s documents; an Identity Center submitter is a note in
/// Metadata, never a resource.
#[test]
fn cloudformation_export_passes_cfn_lint() {
    let dir = project_root().join("tests/golden/two-buckets-kms");
    let tmp = tempfile::tempdir().unwrap();
    let yaml = render_in(&dir, &["--format", "cloudformation", "--with-buckets"]);
    assert_eq!(yaml.status.code(), Some(0), "{}", stderr(&yaml));
    let path = tmp.path().join("template.yaml");
    std::fs::write(&path, &yaml.stdout).unwrap();
    let lint = std::process::Command::new(project_root().join(".venv/bin/cfn-lint")).arg(&path).output().unwrap();
    assert!(lint.status.success(), "cfn-lint: {}{}", String::from_utf8_lossy(&lint.stdout), String::from_utf8_lossy(&lint.stderr));
    let json = render_in(&dir, &["--format", "cloudformation", "--with-buckets", "--output", "json"]);
    let template: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    let read_back = std::process::Command::new(venv_python())
        .args(["-c", "import json, sys, yaml; print(json.dumps(yaml.safe_load(open(sys.argv[1]))))"])
        .arg(&path)
        .output()
        .unwrap();
    let from_yaml: serde_json::Value =
        serde_json::from_slice(&read_back.stdout).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&read_back.stderr)));
    assert_eq!(from_yaml, template, "the YAML is the same template as the JSON");
    let docs = documents("two-buckets-kms");
    let doc = |name: &str| docs.iter().find(|d| d["name"] == name).unwrap()["document"].clone();
    let r = &template["Resources"];
    assert_eq!(r["BedrockBatchRole"]["Properties"]["AssumeRolePolicyDocument"], doc("trust-policy"));
    assert_eq!(r["BedrockBatchRole"]["Properties"]["Policies"][0]["PolicyDocument"], doc("role-policy"));
    assert_eq!(r["SubmitterPolicy"]["Type"], "AWS::IAM::RolePolicy");
    assert_eq!(r["SubmitterPolicy"]["Properties"]["PolicyDocument"], doc("passrole-policy"));
    assert_eq!(
        r["BucketCorpBatchIn"]["Properties"]["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"]
            ["SSEAlgorithm"],
        "aws:kms"
    );
    assert_eq!(r["BucketPolicyCorpBatchOut"]["Properties"]["Bucket"]["Ref"], "BucketCorpBatchOut");
    // An Identity Center role: a note, not a resource.
    let sso = render_in(
        &dir,
        &[
            "--format",
            "cloudformation",
            "--output",
            "json",
            "--caller-arn",
            "arn:aws:sts::123456789012:assumed-role/AWSReservedSSO_DataSci_0123456789abcdef/jane",
        ],
    );
    let t: serde_json::Value = serde_json::from_slice(&sso.stdout).unwrap();
    assert!(t["Resources"].get("SubmitterPolicy").is_none(), "{t:#}");
    assert!(t["Metadata"]["bedbatch-doctor"]["SubmitterPolicy"]["Note"].as_str().unwrap().contains("Identity Center"));
    // --document and --format do not mix.
    let out = render_in(&dir, &["--format", "terraform", "--document", "role-policy"]);
    assert_eq!(out.status.code(), Some(2));
}
