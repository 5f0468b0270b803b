//! `check` scenarios against the emulator: a healthy setup has no error; each scenario breaks
//! exactly one thing and asserts its code appears and no unrelated error does. Codes the
//! emulator cannot express are tested on snapshots (tests/check_snapshots.rs).

mod common;
use common::*;

use serde_json::{json, Value};

/// A healthy setup, made from the documents `render` produces, with knobs to break one thing.
struct Setup {
    tag: String,
    model: String,
    role: String,
    user: String,
    input_bucket: String,
    output_bucket: String,
    // knobs
    create_role: bool,
    create_output_bucket: bool,
    output_bucket_region: Option<String>,
    upload_input: bool,
    trust: Option<Value>,
    role_policy: Option<Value>,
    role_extra_policy: Option<Value>,
    /// Drop the rendered role policy's bedrock:InvokeModel statement.
    role_without_invoke: bool,
    role_boundary: Option<Value>,
    caller_policy: Option<Value>,
    caller_is_role: bool,
    /// Encrypt both buckets with a new KMS key (SSE-KMS); with `kms_setting`, name it in the settings.
    kms: bool,
    kms_setting: bool,
    kms_key_arn: std::cell::RefCell<Option<String>>,
}

impl Setup {
    fn new(tag: &str) -> Setup {
        let u = unique(tag).to_lowercase();
        Setup {
            tag: tag.into(),
            model: HAIKU.into(),
            role: format!("R{u}"),
            user: format!("u{u}"),
            input_bucket: format!("{u}-in"),
            output_bucket: format!("{u}-out"),
            create_role: true,
            create_output_bucket: true,
            output_bucket_region: None,
            upload_input: true,
            trust: None,
            role_policy: None,
            role_extra_policy: None,
            role_without_invoke: false,
            role_boundary: None,
            caller_policy: None,
            caller_is_role: false,
            kms: false,
            kms_setting: false,
            kms_key_arn: std::cell::RefCell::new(None),
        }
    }

    fn caller_arn(&self) -> String {
        if self.caller_is_role {
            format!("arn:aws:iam::{ACCOUNT}:role/service-role/{}", self.role)
        } else {
            format!("arn:aws:iam::{ACCOUNT}:user/{}", self.user)
        }
    }

    fn args(&self) -> Vec<String> {
        let mut extra = vec![];
        if self.kms_setting {
            if let Some(k) = self.kms_key_arn.borrow().clone() {
                extra = vec!["--kms-key-id".to_string(), k];
            }
        }
        let mut v = vec![
            "--model-id".into(),
            self.model.clone(),
            "--input-uri".into(),
            format!("s3://{}/jobs/in/", self.input_bucket),
            "--output-uri".into(),
            format!("s3://{}/jobs/out/", self.output_bucket),
            "--role-name".into(),
            self.role.clone(),
            "--role-path".into(),
            "/service-role/".into(),
            "--caller-arn".into(),
            self.caller_arn(),
        ];
        v.extend(extra);
        v
    }

    /// Runs the binary with `lead` (the command and its own flags) and those of this setup's
    /// flags the command takes, each `(flag, value)` of `set` replacing that flag's value.
    fn invoke(&self, lead: &[&str], set: &[(&str, &str)]) -> std::process::Output {
        let dir = tempfile::tempdir().unwrap();
        let mut rest = self.args();
        for (flag, value) in set {
            let i = rest.iter().position(|a| a == flag).unwrap_or_else(|| panic!("the setup has no {flag}"));
            rest[i + 1] = value.to_string();
        }
        let rest = flags::for_command(lead, &rest);
        let mut args: Vec<&str> = lead.to_vec();
        args.extend(rest.iter().map(String::as_str));
        run(emulator_command(dir.path()), &args)
    }

    /// `check --output json` signed with another access key id (the emulator aims faults by
    /// key), with `extra` flags; returns the exit code and the report.
    fn check_as(&self, access_key: &str, extra: &[&str]) -> (i32, Value) {
        check_signed(&self.tag, &self.args(), access_key, extra)
    }

    fn rendered(&self) -> Value {
        let out = self.invoke(&["render", "--output", "json"], &[]);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        serde_json::from_slice(&out.stdout).unwrap()
    }

    async fn build(&self) -> Value {
        if self.kms {
            let kms = aws_sdk_kms::Client::new(&sdk_config().await);
            let key = kms.create_key().description(&self.tag).send().await.unwrap();
            *self.kms_key_arn.borrow_mut() = key.key_metadata().and_then(|m| m.arn()).map(str::to_string);
        }
        let docs = self.rendered();
        let doc = |name: &str| docs["documents"].as_array().unwrap().iter().find(|d| d["name"] == name).unwrap()["document"].clone();
        let conf = sdk_config().await;
        let iam = aws_sdk_iam::Client::new(&conf);
        let s3 = s3_client(&conf);
        if self.create_role {
            let mut trust = self.trust.clone().unwrap_or_else(|| doc("trust-policy"));
            if self.caller_is_role {
                // One principal both caller and service role: it also trusts SageMaker.
                trust["Statement"].as_array_mut().unwrap().push(
                    json!({"Sid": "SageMaker", "Effect": "Allow", "Principal": {"Service": "sagemaker.amazonaws.com"}, "Action": "sts:AssumeRole"}),
                );
            }
            let mut create = iam.create_role().role_name(&self.role).path("/service-role/").assume_role_policy_document(trust.to_string());
            if let Some(b) = &self.role_boundary {
                let arn = iam
                    .create_policy()
                    .policy_name(format!("{}-boundary", self.role))
                    .policy_document(b.to_string())
                    .send()
                    .await
                    .unwrap()
                    .policy()
                    .unwrap()
                    .arn()
                    .unwrap()
                    .to_string();
                create = create.permissions_boundary(arn);
            }
            create.send().await.unwrap();
            let mut policy = self.role_policy.clone().unwrap_or_else(|| doc("role-policy"));
            if self.role_without_invoke {
                policy["Statement"].as_array_mut().unwrap().retain(|s| s["Sid"] != "BedrockBatchInvokeModel");
            }
            iam.put_role_policy().role_name(&self.role).policy_name("bedbatch").policy_document(policy.to_string()).send().await.unwrap();
            if let Some(extra) = &self.role_extra_policy {
                iam.put_role_policy().role_name(&self.role).policy_name("extra").policy_document(extra.to_string()).send().await.unwrap();
            }
        }
        let caller_policy = self.caller_policy.clone().unwrap_or_else(|| doc("passrole-policy"));
        if self.caller_is_role {
            iam.put_role_policy().role_name(&self.role).policy_name("caller").policy_document(caller_policy.to_string()).send().await.unwrap();
        } else {
            iam.create_user().user_name(&self.user).send().await.unwrap();
            iam.put_user_policy().user_name(&self.user).policy_name("passrole").policy_document(caller_policy.to_string()).send().await.unwrap();
        }
        s3.create_bucket().bucket(&self.input_bucket).send().await.unwrap();
        if self.create_output_bucket {
            let mut b = s3.create_bucket().bucket(&self.output_bucket);
            if let Some(r) = &self.output_bucket_region {
                b = b.create_bucket_configuration(
                    aws_sdk_s3::types::CreateBucketConfiguration::builder()
                        .location_constraint(aws_sdk_s3::types::BucketLocationConstraint::from(r.as_str()))
                        .build(),
                );
            }
            b.send().await.unwrap();
        }
        let kms_key = self.kms_key_arn.borrow().clone();
        if let Some(key) = kms_key {
            use aws_sdk_s3::types::*;
            for b in [&self.input_bucket, &self.output_bucket] {
                let d = ServerSideEncryptionByDefault::builder().sse_algorithm(ServerSideEncryption::AwsKms).kms_master_key_id(&key).build().unwrap();
                let conf = ServerSideEncryptionConfiguration::builder()
                    .rules(ServerSideEncryptionRule::builder().apply_server_side_encryption_by_default(d).build())
                    .build()
                    .unwrap();
                s3.put_bucket_encryption().bucket(b).server_side_encryption_configuration(conf).send().await.unwrap();
            }
        }
        if self.upload_input {
            s3.put_object().bucket(&self.input_bucket).key("jobs/in/records.jsonl").body(b"{}\n".to_vec().into()).send().await.unwrap();
        }
        docs
    }

    fn check(&self) -> (i32, Value) {
        check_with(self, None)
    }
}

fn check_signed(tag: &str, setup_args: &[String], access_key: &str, extra: &[&str]) -> (i32, Value) {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = emulator_command(dir.path());
    cmd.env("AWS_ACCESS_KEY_ID", access_key);
    let mut args: Vec<&str> = vec!["check", "--output", "json"];
    args.extend_from_slice(extra);
    args.extend(setup_args.iter().map(String::as_str));
    let out = run(cmd, &args);
    exit_and_json(&out, tag)
}

fn codes(report: &Value, severity: &str) -> Vec<String> {
    finding_codes(report, Some(severity))
}

fn finding<'a>(report: &'a Value, code: &str) -> &'a Value {
    report["findings"].as_array().unwrap().iter().find(|f| f["code"] == code).unwrap_or_else(|| panic!("no {code} in {report:#}"))
}

/// Builds the setup, runs check, and asserts the errors are exactly `expected`.
async fn expect_errors(setup: Setup, expected: &[&str]) -> Value {
    require_emulator();
    setup.build().await;
    let (code, report) = setup.check();
    let errors = codes(&report, "error");
    let mut want: Vec<String> = expected.iter().map(|s| s.to_string()).collect();
    want.sort();
    assert_eq!(errors, want, "{}: errors differ; report: {report:#}", setup.tag);
    assert_eq!(code, if expected.is_empty() { 0 } else { 1 }, "{}: exit code", setup.tag);
    assert_eq!(report["version"], 1);
    assert_eq!(report["summary"]["checks_total"].as_u64().unwrap() as usize, report["checks"].as_array().unwrap().len());
    assert_eq!(
        report["summary"]["checks_passed"].as_u64().unwrap() as usize,
        report["checks"].as_array().unwrap().iter().filter(|c| c["status"] == "pass").count()
    );
    assert_eq!(
        report["summary"]["errors"].as_u64().unwrap() as usize,
        report["findings"].as_array().unwrap().iter().filter(|f| f["severity"] == "error").count()
    );
    report
}

#[tokio::test]
async fn healthy_setup_has_no_error() {
    let report = expect_errors(Setup::new("healthy"), &[]).await;
    assert!(report["checks"].as_array().unwrap().len() >= 15);
    assert!(codes(&report, "warning").iter().all(|c| c == "job-failed"), "{report:#}");
}

#[tokio::test]
async fn role_missing() {
    let mut s = Setup::new("nrole");
    s.create_role = false;
    let r = expect_errors(s, &["role-missing"]).await;
    assert!(finding(&r, "role-missing")["fix"].as_str().unwrap().contains("bedrock.amazonaws.com"));
}

#[tokio::test]
async fn trust_names_the_account_root() {
    let mut s = Setup::new("root");
    s.trust = Some(
        json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": format!("arn:aws:iam::{ACCOUNT}:root")}, "Action": "sts:AssumeRole"}]}),
    );
    let r = expect_errors(s, &["trust-wrong-principal"]).await;
    assert!(finding(&r, "trust-wrong-principal")["evidence"].as_str().unwrap().contains("root"));
}

fn trust_with(cond: Value) -> Value {
    json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "bedrock.amazonaws.com"}, "Action": "sts:AssumeRole", "Condition": cond}]})
}

#[tokio::test]
async fn trust_source_account_mismatch() {
    let mut s = Setup::new("srcacct");
    s.trust = Some(trust_with(json!({"StringEquals": {"aws:SourceAccount": "999999999999"}})));
    let r = expect_errors(s, &["trust-source-account-mismatch"]).await;
    assert!(finding(&r, "trust-source-account-mismatch")["evidence"].as_str().unwrap().contains("999999999999"));
}

#[tokio::test]
async fn trust_source_arn_in_another_region() {
    let mut s = Setup::new("srcarn");
    s.trust = Some(trust_with(json!({"ArnLike": {"aws:SourceArn": format!("arn:aws:bedrock:us-west-2:{ACCOUNT}:model-invocation-job/*")}})));
    expect_errors(s, &["trust-source-arn-mismatch"]).await;
}

#[tokio::test]
async fn trust_requires_an_external_id() {
    let mut s = Setup::new("extid");
    s.trust = Some(trust_with(json!({"StringEquals": {"sts:ExternalId": "abc", "aws:SourceAccount": ACCOUNT}})));
    let r = expect_errors(s, &["trust-unsatisfiable-condition"]).await;
    assert!(finding(&r, "trust-unsatisfiable-condition")["evidence"].as_str().unwrap().contains("sts:ExternalId"));
}

#[tokio::test]
async fn trust_without_guard_is_a_warning() {
    let mut s = Setup::new("noguard");
    s.trust = Some(
        json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "bedrock.amazonaws.com"}, "Action": "sts:AssumeRole"}]}),
    );
    let r = expect_errors(s, &[]).await;
    assert!(codes(&r, "warning").contains(&"trust-no-confused-deputy-guard".to_string()));
}

fn role_policy(statements: Value) -> Value {
    json!({"Version": "2012-10-17", "Statement": statements})
}

#[tokio::test]
async fn get_object_on_the_bucket_arn_only() {
    let mut s = Setup::new("getobj");
    let (i, o) = (s.input_bucket.clone(), s.output_bucket.clone());
    s.role_policy = Some(role_policy(json!([
        {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": [format!("arn:aws:s3:::{i}"), format!("arn:aws:s3:::{o}")]},
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": format!("arn:aws:s3:::{i}")},
        {"Effect": "Allow", "Action": "s3:PutObject", "Resource": format!("arn:aws:s3:::{o}/jobs/out/*")}
    ])));
    let r = expect_errors(s, &["role-cannot-read-input"]).await;
    assert!(finding(&r, "role-cannot-read-input")["fix"].as_str().unwrap().contains("BedrockBatchReadInput"));
}

#[tokio::test]
async fn list_bucket_missing() {
    let mut s = Setup::new("nolist");
    let (i, o) = (s.input_bucket.clone(), s.output_bucket.clone());
    s.role_policy = Some(role_policy(json!([
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": format!("arn:aws:s3:::{i}/jobs/in/*")},
        {"Effect": "Allow", "Action": "s3:PutObject", "Resource": format!("arn:aws:s3:::{o}/jobs/out/*")}
    ])));
    expect_errors(s, &["role-cannot-list-input"]).await;
}

#[tokio::test]
async fn put_object_on_another_prefix() {
    let mut s = Setup::new("wrongout");
    let (i, o) = (s.input_bucket.clone(), s.output_bucket.clone());
    s.role_policy = Some(role_policy(json!([
        {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": format!("arn:aws:s3:::{i}")},
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": format!("arn:aws:s3:::{i}/jobs/in/*")},
        {"Effect": "Allow", "Action": "s3:PutObject", "Resource": format!("arn:aws:s3:::{o}/results/*")}
    ])));
    expect_errors(s, &["role-cannot-write-output"]).await;
}

#[tokio::test]
async fn explicit_deny_is_named() {
    let mut s = Setup::new("deny");
    s.role_extra_policy = Some(role_policy(json!([{"Sid": "NoReads", "Effect": "Deny", "Action": "s3:GetObject", "Resource": "*"}])));
    let r = expect_errors(s, &["role-cannot-read-input"]).await;
    let ev = finding(&r, "role-cannot-read-input")["evidence"].as_str().unwrap().to_string();
    assert!(ev.contains("explicit Deny") && ev.contains("NoReads"), "{ev}");
}

#[tokio::test]
async fn permissions_boundary_blocks_writes() {
    let mut s = Setup::new("boundary");
    s.role_boundary = Some(role_policy(json!([{"Effect": "Allow", "Action": ["s3:GetObject", "s3:ListBucket"], "Resource": "*"}])));
    let r = expect_errors(s, &["role-cannot-write-output"]).await;
    assert!(finding(&r, "role-cannot-write-output")["evidence"].as_str().unwrap().contains("permissions boundary"));
}

#[tokio::test]
async fn output_bucket_missing() {
    let mut s = Setup::new("nobucket");
    s.create_output_bucket = false;
    expect_errors(s, &["bucket-missing"]).await;
}

#[tokio::test]
async fn output_bucket_in_another_region() {
    let mut s = Setup::new("region");
    s.output_bucket_region = Some("us-west-2".into());
    let r = expect_errors(s, &["bucket-wrong-region"]).await;
    assert!(finding(&r, "bucket-wrong-region")["evidence"].as_str().unwrap().contains("us-west-2"));
}

#[tokio::test]
async fn input_object_missing() {
    let mut s = Setup::new("noinput");
    s.upload_input = false;
    expect_errors(s, &["input-object-missing"]).await;
}

#[tokio::test]
async fn passrole_pattern_from_the_walkthrough() {
    let mut s = Setup::new("passpat");
    s.caller_policy = Some(role_policy(json!([
        {"Effect": "Allow", "Action": "iam:PassRole", "Resource": format!("arn:aws:iam::{ACCOUNT}:role/EC2-roles-for-XYZ-*")},
        {"Effect": "Allow", "Action": ["bedrock:CreateModelInvocationJob", "bedrock:GetModelInvocationJob", "bedrock:ListModelInvocationJobs", "bedrock:StopModelInvocationJob"], "Resource": "*"}
    ])));
    let r = expect_errors(s, &["caller-cannot-pass-role"]).await;
    assert!(finding(&r, "caller-cannot-pass-role")["evidence"].as_str().unwrap().contains("EC2-roles-for-XYZ-*"));
}

#[tokio::test]
async fn passrole_to_another_service() {
    let mut s = Setup::new("passsvc");
    let role_arn = format!("arn:aws:iam::{ACCOUNT}:role/service-role/{}", s.role);
    s.caller_policy = Some(role_policy(json!([
        {"Effect": "Allow", "Action": "iam:PassRole", "Resource": role_arn, "Condition": {"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}}},
        {"Effect": "Allow", "Action": ["bedrock:CreateModelInvocationJob", "bedrock:GetModelInvocationJob", "bedrock:ListModelInvocationJobs", "bedrock:StopModelInvocationJob"], "Resource": "*"}
    ])));
    let r = expect_errors(s, &["caller-cannot-pass-role"]).await;
    assert!(finding(&r, "caller-cannot-pass-role")["evidence"].as_str().unwrap().contains("sagemaker.amazonaws.com"));
}

#[tokio::test]
async fn passrole_without_the_role_path() {
    let mut s = Setup::new("passpath");
    let bare = format!("arn:aws:iam::{ACCOUNT}:role/{}", s.role);
    s.caller_policy = Some(role_policy(json!([
        {"Effect": "Allow", "Action": "iam:PassRole", "Resource": bare},
        {"Effect": "Allow", "Action": ["bedrock:CreateModelInvocationJob", "bedrock:GetModelInvocationJob", "bedrock:ListModelInvocationJobs", "bedrock:StopModelInvocationJob"], "Resource": "*"}
    ])));
    expect_errors(s, &["caller-cannot-pass-role"]).await;
}

#[tokio::test]
async fn create_job_scoped_to_another_model() {
    let mut s = Setup::new("nocreate");
    let role_arn = format!("arn:aws:iam::{ACCOUNT}:role/service-role/{}", s.role);
    s.caller_policy = Some(role_policy(json!([
        {"Effect": "Allow", "Action": "iam:PassRole", "Resource": role_arn, "Condition": {"StringEquals": {"iam:PassedToService": "bedrock.amazonaws.com"}}},
        {"Effect": "Allow", "Action": "bedrock:CreateModelInvocationJob", "Resource": ["arn:aws:bedrock:us-east-1::foundation-model/amazon.nova-pro-v1:0", "arn:aws:bedrock:us-east-1:123456789012:model-invocation-job/*"]},
        {"Effect": "Allow", "Action": ["bedrock:GetModelInvocationJob", "bedrock:ListModelInvocationJobs", "bedrock:StopModelInvocationJob"], "Resource": "*"}
    ])));
    let r = expect_errors(s, &["caller-cannot-create-job"]).await;
    assert!(finding(&r, "caller-cannot-create-job")["evidence"].as_str().unwrap().contains("anthropic.claude-3-haiku"));
}

#[tokio::test]
async fn model_without_batch_support() {
    let mut s = Setup::new("nobatch");
    s.model = "amazon.titan-text-express-v1".into();
    expect_errors(s, &["model-no-batch"]).await;
}

#[tokio::test]
async fn model_access_not_granted() {
    let mut s = Setup::new("noaccess");
    s.model = "meta.llama3-1-70b-instruct-v1:0".into();
    expect_errors(s, &["model-access-not-granted"]).await;
}

#[tokio::test]
async fn model_needs_an_inference_profile() {
    let mut s = Setup::new("profile");
    s.model = "anthropic.claude-sonnet-4-20250514-v1:0".into();
    let r = expect_errors(s, &["model-needs-inference-profile"]).await;
    assert!(finding(&r, "model-needs-inference-profile")["fix"].as_str().unwrap().contains("us.anthropic.claude-sonnet-4-20250514-v1:0"));
}

#[tokio::test]
async fn through_the_profile_it_is_healthy() {
    let mut s = Setup::new("viaprof");
    s.model = "us.anthropic.claude-sonnet-4-20250514-v1:0".into();
    expect_errors(s, &[]).await;
}

const HAIKU45_US: &str = "us.anthropic.claude-haiku-4-5-20251001-v1:0";
/// Used by the faulted verdict matrix only (its quota and jobs change there).
const SONNET45_US: &str = "us.anthropic.claude-sonnet-4-5-20250929-v1:0";

#[tokio::test]
async fn a_current_profile_only_model_is_healthy() {
    let mut s = Setup::new("haiku45");
    s.model = HAIKU45_US.into();
    let r = expect_errors(s, &[]).await;
    let line = r["checks"].as_array().unwrap().iter().find(|c| c["family"] == "role_invoke").expect("an invoke line");
    assert_eq!(line["status"], "pass", "{r:#}");
}

#[tokio::test]
async fn role_without_invoke_grants() {
    let mut s = Setup::new("noinvoke");
    s.model = HAIKU45_US.into();
    s.role_without_invoke = true;
    let r = expect_errors(s, &["role-cannot-invoke-model"]).await;
    let f = finding(&r, "role-cannot-invoke-model");
    assert!(f["evidence"].as_str().unwrap().contains(&format!("inference-profile/{HAIKU45_US}")), "{f:#}");
    assert!(f["fix"].as_str().unwrap().contains("us-west-2::foundation-model/anthropic.claude-haiku-4-5"), "{f:#}");
}

#[tokio::test]
async fn role_may_invoke_the_profile_only() {
    let mut s = Setup::new("profonly");
    s.model = HAIKU45_US.into();
    s.role_without_invoke = true;
    s.role_extra_policy = Some(json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "bedrock:InvokeModel",
        "Resource": format!("arn:aws:bedrock:us-east-1:{ACCOUNT}:inference-profile/{HAIKU45_US}")}]}));
    let r = expect_errors(s, &["role-cannot-invoke-model"]).await;
    let f = finding(&r, "role-cannot-invoke-model");
    assert!(f["evidence"].as_str().unwrap().contains("::foundation-model/anthropic.claude-haiku-4-5-20251001-v1:0"), "{f:#}");
}

#[tokio::test]
async fn model_not_found() {
    let mut s = Setup::new("nomodel");
    s.model = "anthropic.claude-9-opus-v1:0".into();
    expect_errors(s, &["model-not-found"]).await;
}

#[tokio::test]
async fn one_principal_is_both_caller_and_service_role() {
    let mut s = Setup::new("both");
    s.caller_is_role = true;
    expect_errors(s, &[]).await;
}

/// The code of the quota named exactly `name` (from ListAWSDefaultServiceQuotas, which lists
/// every quota; ListServiceQuotas lists only applied values).
async fn quota_code(quotas: &aws_sdk_servicequotas::Client, name: &str) -> String {
    let mut pages = quotas.list_aws_default_service_quotas().service_code("bedrock").into_paginator().send();
    while let Some(page) = pages.next().await {
        if let Some(q) = page.unwrap().quotas().iter().find(|q| q.quota_name() == Some(name)) {
            return q.quota_code().unwrap().to_string();
        }
    }
    panic!("no quota named {name}")
}

fn set_quota(code: &str, value: f64) {
    control("quotas", json!({"region": REGION, "quotaCode": code, "value": value}));
}

/// Claude 3.5 Sonnet and Claude 3.5 Sonnet v2: v2's quota names contain v1's model name, so a
/// substring match would give v1 the v2 quota. With v2's concurrent-jobs quota at 0 the v1
/// setup still has room, and its line names v1's own quota.
#[tokio::test]
async fn quotas_of_claude_3_5_sonnet_v1_and_v2_are_told_apart() {
    require_emulator();
    let mut s = Setup::new("sonnetv1");
    s.model = "anthropic.claude-3-5-sonnet-20240620-v1:0".into();
    s.build().await;
    let quotas = aws_sdk_servicequotas::Client::new(&sdk_config().await);
    let v2 = quota_code(&quotas, "Sum of in-progress and submitted batch inference jobs using a base model for Claude 3.5 Sonnet v2").await;
    set_quota(&v2, 0.0);
    let (code, r) = s.check();
    assert!(!codes(&r, "error").contains(&"quota-jobs-full".to_string()), "{r:#}");
    assert_eq!(code, 0, "{r:#}");
    let line = r["checks"].as_array().unwrap().iter().find(|c| c["family"] == "quotas").unwrap();
    assert_eq!(line["status"], "pass", "{r:#}");
    set_quota(&v2, 20.0);
}

/// A model the account has that the tool's catalogue lacks: found live, batch confirmed by its
/// quotas, no error; `validate` takes its quotas by the live name instead of refusing it.
#[tokio::test]
async fn a_model_missing_from_the_catalogue_but_present_live() {
    require_emulator();
    control("models", json!({"id": "example.fresh-model-v1:0", "name": "Fresh Model", "provider": "Example"}));
    let mut s = Setup::new("fresh");
    s.model = "example.fresh-model-v1:0".into();
    let r = expect_errors(s, &[]).await;
    assert!(!r["findings"].as_array().unwrap().iter().any(|f| f["code"] == "model-not-found" || f["code"] == "model-batch-support-unknown"), "{r:#}");
}

/// Jobs and quotas: a model no other test submits jobs for, so the quota change is local.
#[tokio::test]
async fn quota_full_and_failed_jobs() {
    require_emulator();
    let mut s = Setup::new("quota");
    s.model = "amazon.nova-lite-v1:0".into();
    s.build().await;
    let (_, before) = s.check();
    assert!(codes(&before, "error").is_empty(), "{before:#}");

    let conf = sdk_config().await;
    let quotas = aws_sdk_servicequotas::Client::new(&conf);
    let code = quota_code(&quotas, "Sum of in-progress and submitted batch inference jobs using a base model for Nova Lite").await;
    // The emulator's control sets the applied value (an increase request stays PENDING, as on AWS).
    set_quota(&code, 1.0);

    // One job of the model, with a role Bedrock cannot assume: it stays Submitted until read.
    let bedrock = aws_sdk_bedrock::Client::new(&conf);
    use aws_sdk_bedrock::types::*;
    let arn = bedrock
        .create_model_invocation_job()
        .job_name(unique("quota"))
        .role_arn(format!("arn:aws:iam::{ACCOUNT}:role/does-not-exist"))
        .model_id("amazon.nova-lite-v1:0")
        .input_data_config(ModelInvocationJobInputDataConfig::S3InputDataConfig(
            ModelInvocationJobS3InputDataConfig::builder().s3_uri(format!("s3://{}/jobs/in/", s.input_bucket)).build().unwrap(),
        ))
        .output_data_config(ModelInvocationJobOutputDataConfig::S3OutputDataConfig(
            ModelInvocationJobS3OutputDataConfig::builder().s3_uri(format!("s3://{}/jobs/out/", s.output_bucket)).build().unwrap(),
        ))
        .send()
        .await
        .unwrap()
        .job_arn()
        .to_string();
    let (code_full, full) = s.check();
    assert_eq!(code_full, 1);
    assert_eq!(codes(&full, "error"), vec!["quota-jobs-full"], "{full:#}");

    // Reading the job moves it along; it fails (the role does not exist) and frees the slot.
    for _ in 0..3 {
        bedrock.get_model_invocation_job().job_identifier(&arn).send().await.unwrap();
    }
    let (code_after, after) = s.check();
    assert_eq!(code_after, 0, "{after:#}");
    let failed = after["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == "job-failed" && f["resource"] == arn.as_str())
        .unwrap_or_else(|| panic!("{after:#}"));
    assert!(failed["fix"].as_str().unwrap().contains("role-missing"), "{failed:#}");
}

#[tokio::test]
async fn text_report_groups_and_prints_fixes() {
    require_emulator();
    let mut s = Setup::new("text");
    s.trust = Some(
        json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": format!("arn:aws:iam::{ACCOUNT}:root")}, "Action": "sts:AssumeRole"}]}),
    );
    s.build().await;
    let out = s.invoke(&["check"], &[]);
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    assert!(text.contains("Service role trust\n") && text.contains("✗ bedrock.amazonaws.com may assume the role"), "{text}");
    assert!(text.contains("error[trust-wrong-principal]") && text.contains("fix:") && text.contains("update-assume-role-policy"), "{text}");
    assert!(!text.contains("\x1b["), "no colour when not a terminal");
}

#[test]
fn check_without_credentials_reports_credentials_missing() {
    let dir = tempfile::tempdir().unwrap();
    let settings = ["--region", REGION, "--model-id", HAIKU, "--input-uri", "s3://a-in/in/", "--output-uri", "s3://a-in/out/", "--role-name", "R"];
    let check = |format: &str| {
        let args: Vec<&str> = ["check", "--output", format].into_iter().chain(settings).collect();
        let out = run(bare_command(dir.path()), &args);
        assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
        serde_json::from_slice::<Value>(&out.stdout).unwrap()
    };
    let v = check("json");
    assert_eq!(v["findings"][0]["code"], "credentials-missing");
    // The exit code the report states is the one the process exits with, in JSON and SARIF.
    assert_eq!(v["exit_code"], 3, "{v:#}");
    let v = check("sarif");
    assert_eq!(v["runs"][0]["invocations"][0]["exitCode"], 3, "{v:#}");
}

#[tokio::test]
async fn explain_runs_the_checks_behind_a_pasted_message() {
    require_emulator();
    let mut s = Setup::new("explain");
    s.caller_policy = Some(role_policy(json!([
        {"Effect": "Allow", "Action": "iam:PassRole", "Resource": format!("arn:aws:iam::{ACCOUNT}:role/EC2-roles-for-XYZ-*")},
        {"Effect": "Allow", "Action": ["bedrock:CreateModelInvocationJob", "bedrock:GetModelInvocationJob", "bedrock:ListModelInvocationJobs", "bedrock:StopModelInvocationJob"], "Resource": "*"}
    ])));
    s.build().await;
    let msg = format!(
        "User: {} is not authorized to perform: iam:PassRole on resource: arn:aws:iam::{ACCOUNT}:role/service-role/{}",
        s.caller_arn(),
        s.role
    );
    let out = s.invoke(&["explain", &msg, "--output", "json"], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["checked"], true, "{v:#}");
    assert_eq!(v["findings"][0]["code"], "caller-cannot-pass-role", "{v:#}");
}

#[tokio::test]
async fn sse_kms_buckets_without_the_key_grant() {
    let mut s = Setup::new("kmsno");
    s.kms = true;
    let r = expect_errors(s, &["role-cannot-use-kms-key"]).await;
    let f = finding(&r, "role-cannot-use-kms-key");
    assert!(f["fix"].as_str().unwrap().contains("BedrockBatchUseKmsKey"), "{f:#}");
    assert!(!f["evidence"].as_str().unwrap().contains("could not be read"), "the key policy was read: {f:#}");
}

#[tokio::test]
async fn sse_kms_buckets_with_kms_key_id_set_are_healthy() {
    let mut s = Setup::new("kmsyes");
    s.kms = true;
    s.kms_setting = true;
    expect_errors(s, &[]).await;
}

// ------------------------------------------------------------------------------------ unknown is never a pass (issue 9)

fn check_with(s: &Setup, replace_caller: Option<&str>) -> (i32, Value) {
    let set: Vec<(&str, &str)> = replace_caller.map(|c| ("--caller-arn", c)).into_iter().collect();
    let out = s.invoke(&["check", "--output", "json"], &set);
    exit_and_json(&out, &s.tag)
}

fn check_line<'a>(report: &'a Value, name_contains: &str) -> &'a Value {
    report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"].as_str().unwrap().contains(name_contains))
        .unwrap_or_else(|| panic!("no check {name_contains}: {report:#}"))
}

#[tokio::test]
async fn a_persistent_server_error_on_a_bucket_is_unknown_never_missing() {
    require_emulator();
    let s = Setup::new("f503");
    s.build().await;
    // Every S3 request on the output bucket answers 503 SlowDown (more than the retries).
    fault(
        json!({"service": "s3", "target": format!("/{}", s.output_bucket), "count": 200, "status": 503, "code": "SlowDown", "message": "Please reduce your request rate."}),
    );
    let (code, r) = check_with(&s, None);
    assert_eq!(code, 4, "incomplete, not missing and not a pass: {r:#}");
    assert!(codes(&r, "error").is_empty(), "no guessed error: {r:#}");
    assert!(codes(&r, "warning").contains(&"read-failed".to_string()), "{r:#}");
    let line = check_line(&r, &format!("s3://{} exists", s.output_bucket));
    assert_eq!(line["status"], "unknown", "{line}");
    assert!(line["reason"].as_str().unwrap().contains("503"), "the real error is carried: {line}");
    assert_eq!(check_line(&r, "may write under")["status"], "unknown", "the bucket policy was not read, so the write check is unknown");
}

#[tokio::test]
async fn a_persistent_server_error_on_get_role_makes_the_role_checks_unknown_and_exits_4() {
    require_emulator();
    let s = Setup::new("f500");
    s.build().await;
    fault(
        json!({"service": "iam", "action": "GetRole", "target": format!("RoleName={}", s.role), "count": 200, "status": 500, "code": "ServiceFailure"}),
    );
    let (code, r) = check_with(&s, None);
    assert_eq!(code, 4, "{r:#}");
    let failed: Vec<_> = r["findings"].as_array().unwrap().iter().filter(|f| f["code"] == "read-failed").collect();
    assert!(
        !failed.is_empty() && r["findings"].as_array().unwrap().iter().all(|f| f["code"] != "read-denied"),
        "a 500 is read-failed, not read-denied: {r:#}"
    );
    assert_eq!(check_line(&r, "may assume the role")["status"], "unknown");
    assert_eq!(r["summary"]["complete"], false);
}

#[tokio::test]
async fn a_missing_bucket_is_one_error_with_its_consequences_folded_under_it() {
    require_emulator();
    let mut s = Setup::new("fold");
    s.create_output_bucket = false;
    let (code, r) = {
        s.build().await;
        check_with(&s, None)
    };
    assert_eq!(code, 1);
    assert_eq!(codes(&r, "error"), vec!["bucket-missing"], "one cause, one error: {r:#}");
    assert!(
        r["findings"].as_array().unwrap().iter().all(|f| f["code"] != "read-failed" && f["code"] != "read-denied"),
        "NoSuchBucket is not a read failure: {r:#}"
    );
}

#[tokio::test]
async fn a_caller_that_does_not_exist_is_an_error_and_plan_apply_refuse_before_writing() {
    require_emulator();
    let s = Setup::new("nocaller");
    s.build().await;
    let ghost = format!("arn:aws:iam::{ACCOUNT}:user/ghost-{}", s.user);
    let (code, r) = check_with(&s, Some(&ghost));
    assert_eq!(code, 1, "{r:#}");
    assert_eq!(codes(&r, "error"), vec!["caller-missing"], "{r:#}");

    // apply on a fresh role name would create it first: it must refuse before any write.
    let backups = tempfile::tempdir().unwrap();
    let backup_dir = backups.path().join("b").display().to_string();
    let fresh_role = format!("{}x", s.role);
    let out = s.invoke(&["apply", "--yes", "--backup-dir", &backup_dir], &[("--caller-arn", &ghost), ("--role-name", &fresh_role)]);
    assert_eq!(out.status.code(), Some(2), "{} {}", stdout(&out), stderr(&out));
    assert!(stderr(&out).contains("does not exist"), "{}", stderr(&out));
    let iam = aws_sdk_iam::Client::new(&sdk_config().await);
    assert!(iam.get_role().role_name(&fresh_role).send().await.is_err(), "no role was created");
}

#[tokio::test]
async fn explain_says_unknown_when_the_checks_behind_a_message_could_not_run() {
    require_emulator();
    let s = Setup::new("explunk");
    s.build().await;
    fault(json!({"service": "iam", "target": format!("UserName={}", s.user), "count": 400, "status": 500, "code": "ServiceFailure"}));
    let msg = format!(
        "User: {} is not authorized to perform: iam:PassRole on resource: arn:aws:iam::{ACCOUNT}:role/service-role/{}",
        s.caller_arn(),
        s.role
    );
    let out = s.invoke(&["explain", &msg, "--output", "json"], &[]);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {} {}", stdout(&out), stderr(&out)));
    assert_eq!(v["checked"], true, "{v:#}");
    assert_eq!(v["states"]["caller-cannot-pass-role"], "unknown", "never 'not present' for a check that could not run: {v:#}");
}

fn inject_job(body: Value) -> String {
    control("jobs", body)["jobArn"].as_str().unwrap().to_string()
}

/// Job outcomes AWS reports without failing the job: an Expired job, and a PartiallyCompleted
/// one whose .out records carry errors. Nova Micro: no other test submits jobs for it.
#[tokio::test]
async fn expired_and_partially_completed_jobs() {
    require_emulator();
    let mut s = Setup::new("outcomes");
    s.model = "amazon.nova-micro-v1:0".into();
    s.build().await;
    let role = format!("arn:aws:iam::{ACCOUNT}:role/service-role/{}", s.role);
    let common = |name: &str, status: &str| {
        json!({"jobName": unique(name), "modelId": "amazon.nova-micro-v1:0", "roleArn": role,
               "inputUri": format!("s3://{}/jobs/in/records.jsonl", s.input_bucket), "outputUri": format!("s3://{}/jobs/out/", s.output_bucket), "status": status})
    };
    let mut expired = common("exp", "Expired");
    expired["timeoutDurationInHours"] = json!(24);
    inject_job(expired);
    let mut partial = common("part", "PartiallyCompleted");
    partial["successRecordCount"] = json!(5);
    partial["errorRecordCount"] = json!(3);
    partial["errors"] = json!([{"errorCode": 400, "errorMessage": "Malformed input request: #: required key [messages] not found"},
                               {"errorCode": 400, "errorMessage": "Malformed input request: #: required key [messages] not found"},
                               {"errorCode": 429, "errorMessage": "Too many requests"}]);
    let partial_arn = inject_job(partial);
    let (code, r) = s.check();
    assert_eq!(code, 0, "warnings only: {r:#}");
    let exp = finding(&r, "job-expired");
    assert!(exp["evidence"].as_str().unwrap().contains("24 h"), "{exp:#}");
    let rec = finding(&r, "job-records-failed");
    assert_eq!(rec["resource"], partial_arn.as_str());
    let ev = rec["evidence"].as_str().unwrap();
    assert!(ev.contains("3 of 8 records failed") && ev.contains("400 ×2") && ev.contains("429 ×1"), "{ev}");
    // `jobs` shows the same summary.
    let out = s.invoke(&["jobs", "--output", "json", "--max", "100"], &[]);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let row = v["jobs"].as_array().unwrap().iter().find(|j| j["job_arn"] == partial_arn.as_str()).unwrap();
    assert_eq!(row["record_errors"]["by_code"][0]["code"], "400", "{row:#}");
}

fn region_lock(allowed: &str) -> Value {
    json!({"Version": "2012-10-17", "Statement": [{"Sid": "RegionLock", "Effect": "Deny", "NotAction": ["iam:*", "sts:*", "organizations:*"], "Resource": "*",
        "Condition": {"StringNotEquals": {"aws:RequestedRegion": [allowed]}}}]})
}

/// `--scp FILE`: the SCPs given as files replace the Organizations read. A deny-list file gets
/// FullAWSAccess beside it; a Deny on job creation and a Region lock against a profile that
/// routes to other Regions are each named.
#[tokio::test]
async fn scp_files_deny_job_creation_and_lock_regions() {
    require_emulator();
    let mut s = Setup::new("scpfile");
    s.model = HAIKU45_US.into();
    s.build().await;
    let dir = tempfile::tempdir().unwrap();
    let nobatch = dir.path().join("nobatch.json");
    std::fs::write(&nobatch, json!({"Version": "2012-10-17", "Statement": [{"Sid": "NoBatch", "Effect": "Deny", "Action": "bedrock:CreateModelInvocationJob", "Resource": "*"}]}).to_string()).unwrap();
    let out = s.invoke(&["check", "--output", "json", "--scp", nobatch.to_str().unwrap()], &[]);
    let r: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(codes(&r, "error"), vec!["scp-denies"], "{r:#}");
    assert!(finding(&r, "scp-denies")["evidence"].as_str().unwrap().contains("NoBatch"), "{r:#}");

    let lock = dir.path().join("lock.json");
    std::fs::write(&lock, region_lock("us-east-1").to_string()).unwrap();
    let out = s.invoke(&["check", "--output", "json", "--scp", lock.to_str().unwrap()], &[]);
    let r: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(1), "{r:#}");
    let ev: Vec<&str> =
        r["findings"].as_array().unwrap().iter().filter(|f| f["code"] == "scp-denies").map(|f| f["evidence"].as_str().unwrap()).collect();
    assert!(ev.iter().any(|e| e.contains("bedrock:InvokeModel") && e.contains("us-east-2") && e.contains("RegionLock")), "{ev:#?}");
    assert!(!ev.iter().any(|e| e.contains("CreateModelInvocationJob")), "job creation in us-east-1 is allowed: {ev:#?}");

    // A bad file is a usage error naming it.
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, "{not json").unwrap();
    let out = s.invoke(&["check", "--scp", bad.to_str().unwrap()], &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("bad.json"), "{}", stderr(&out));
}

/// A new member account in a new OU of the emulator's organization (created when missing),
/// with `scp` (named `<name>-<u>`) attached to the OU. Returns the member's account id.
async fn member_under_scp(u: &str, name: &str, scp: Value) -> String {
    let conf = sdk_config().await;
    let org = aws_sdk_organizations::Client::new(&conf);
    if org.describe_organization().send().await.is_err() {
        // Another test may create it at the same moment: either way there is one afterwards.
        let _ = org.create_organization().feature_set(aws_sdk_organizations::types::OrganizationFeatureSet::All).send().await;
    }
    let root = org.list_roots().send().await.unwrap().roots()[0].id().unwrap().to_string();
    let ou = org.create_organizational_unit().parent_id(&root).name(u).send().await.unwrap().organizational_unit().unwrap().id().unwrap().to_string();
    let member = org
        .create_account()
        .email(format!("{u}@example.com"))
        .account_name(u)
        .send()
        .await
        .unwrap()
        .create_account_status()
        .unwrap()
        .account_id()
        .unwrap()
        .to_string();
    org.move_account().account_id(&member).source_parent_id(&root).destination_parent_id(&ou).send().await.unwrap();
    let pid = org
        .create_policy()
        .name(format!("{name}-{u}"))
        .description(name)
        .r#type(aws_sdk_organizations::types::PolicyType::ServiceControlPolicy)
        .content(scp.to_string())
        .send()
        .await
        .unwrap()
        .policy()
        .unwrap()
        .policy_summary()
        .unwrap()
        .id()
        .unwrap()
        .to_string();
    org.attach_policy().policy_id(&pid).target_id(&ou).send().await.unwrap();
    member
}

/// A new session in the member account (its own access key, so faults can be aimed at it).
async fn member_session(member: &str) -> aws_sdk_sts::types::Credentials {
    aws_sdk_sts::Client::new(&sdk_config().await)
        .assume_role()
        .role_arn(format!("arn:aws:iam::{member}:role/OrganizationAccountAccessRole"))
        .role_session_name("check")
        .send()
        .await
        .unwrap()
        .credentials()
        .unwrap()
        .clone()
}

/// `check --output json` in the member account, for a Haiku 4.5 setup under `s3://<u>-in/`.
fn check_member(creds: &aws_sdk_sts::types::Credentials, u: &str, extra: &[&str]) -> (i32, Value) {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = emulator_command(dir.path());
    cmd.env("AWS_ACCESS_KEY_ID", creds.access_key_id())
        .env("AWS_SECRET_ACCESS_KEY", creds.secret_access_key())
        .env("AWS_SESSION_TOKEN", creds.session_token());
    let (input, output) = (format!("s3://{u}-in/in/"), format!("s3://{u}-in/out/"));
    let mut args =
        vec!["check", "--output", "json", "--model-id", HAIKU45_US, "--input-uri", &input, "--output-uri", &output, "--role-name", "BatchRole"];
    args.extend_from_slice(extra);
    let out = run(cmd, &args);
    let r: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", stderr(&out)));
    (out.status.code().unwrap(), r)
}

/// A member account reading its organization as a delegated administrator: the SCPs attached
/// to the root, its OU and the account are read from AWS Organizations, and the Region lock on
/// the OU is named against the profile's other Regions.
#[tokio::test]
async fn scps_read_from_organizations_in_a_member_account() {
    require_emulator();
    let u = unique("orgm").to_lowercase();
    let member = member_under_scp(&u, "RegionLock", region_lock("us-east-1")).await;
    let (_, r) = check_member(&member_session(&member).await, &u, &[]);
    let ev: Vec<&str> =
        r["findings"].as_array().unwrap().iter().filter(|f| f["code"] == "scp-denies").map(|f| f["evidence"].as_str().unwrap()).collect();
    assert!(
        ev.iter().any(|e| e.contains("attached in AWS Organizations") && e.contains(&format!("RegionLock-{u}")) && e.contains("us-west-2")),
        "{r:#}"
    );
    assert!(!r["findings"].as_array().unwrap().iter().any(|f| f["code"] == "org-policies-unknown"), "{r:#}");
}

/// The org family under faults: a member account whose OU denies job creation, its SCPs read
/// from AWS Organizations, checked fault-free and then under three seeds of the same 10% fault
/// mix as the matrix, each seed in its own session (its own access key). The verdict holds.
#[tokio::test]
async fn reliability_org_verdict_holds_under_transient_faults() {
    require_emulator();
    let u = unique("orgf").to_lowercase();
    let deny = json!({"Version": "2012-10-17", "Statement": [{"Sid": "NoBatch", "Effect": "Deny", "Action": "bedrock:CreateModelInvocationJob", "Resource": "*"}]});
    let member = member_under_scp(&u, "NoBatch", deny).await;
    let (code, base) = check_member(&member_session(&member).await, &u, &[]);
    let want = verdict(code, &base);
    assert!(want.1.contains(&"scp-denies".to_string()), "{base:#}");
    let mut fired_total = 0;
    for seed in [11u64, 22, 33] {
        let creds = member_session(&member).await;
        let key = creds.access_key_id().to_string();
        control("faults", json!({"rate": 0.1, "seed": seed, "kinds": ["throttle", "5xx", "reset", "timeout"], "delay": 2.0, "access_key": key}));
        let (code, r) = check_member(&creds, &u, &["--max-attempts", "10", "--call-timeout", "1"]);
        let fired = take_faults(&key)["fired"].as_u64().unwrap_or(0);
        assert!(fired > 0, "seed {seed}: no fault fired");
        fired_total += fired;
        assert_eq!(verdict(code, &r), want, "seed {seed}, {fired} faults: {r:#}");
    }
    println!(
        "figures: faults: org (member account, SCPs read from Organizations) x 3 seeds, {fired_total} faults injected, 3 of 3 verdicts unchanged"
    );
}

/// The verdict a fault must not change: the exit status, the error codes, and each check's
/// status (warnings about other tests' jobs in the shared account come and go, so they and the
/// jobs family are left out).
fn verdict(code: i32, report: &Value) -> (i32, Vec<String>, Vec<String>) {
    let statuses = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["family"] != "jobs")
        .map(|c| format!("{}: {}", c["name"].as_str().unwrap_or(""), c["status"].as_str().unwrap_or("")))
        .collect();
    (code, codes(report, "error"), statuses)
}

/// Issue 12: the same verdict under transient faults. The healthy setup and twelve broken ones
/// (model, trust ×2, role_s3 ×2, role_invoke, kms, bucket ×2, passrole, quotas, jobs) are
/// checked fault-free, then with 10% of their requests failing — throttles (each service's own
/// error), 5xx, connection resets and answers held past the 1 s call timeout — under three
/// seeds, with a retry budget of 10 attempts a call. Faults are
/// aimed at this test's own access keys, so the tests beside it see none. Every verdict must
/// equal the fault-free one, check by check.
#[tokio::test]
async fn reliability_verdicts_hold_under_transient_faults() {
    require_emulator();
    let mut scenarios: Vec<Setup> = vec![Setup::new("f-healthy")];
    let mut s = Setup::new("f-nobatch");
    s.model = "amazon.titan-text-express-v1".into();
    scenarios.push(s);
    let mut s = Setup::new("f-root");
    s.trust = Some(
        json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": format!("arn:aws:iam::{ACCOUNT}:root")}, "Action": "sts:AssumeRole"}]}),
    );
    scenarios.push(s);
    let mut s = Setup::new("f-norole");
    s.create_role = false;
    scenarios.push(s);
    let mut s = Setup::new("f-nolist");
    let (i, o) = (s.input_bucket.clone(), s.output_bucket.clone());
    s.role_policy = Some(role_policy(json!([
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": format!("arn:aws:s3:::{i}/jobs/in/*")},
        {"Effect": "Allow", "Action": "s3:PutObject", "Resource": format!("arn:aws:s3:::{o}/jobs/out/*")}
    ])));
    scenarios.push(s);
    let mut s = Setup::new("f-deny");
    s.role_extra_policy = Some(role_policy(json!([{"Sid": "NoReads", "Effect": "Deny", "Action": "s3:GetObject", "Resource": "*"}])));
    scenarios.push(s);
    let mut s = Setup::new("f-noinvoke");
    s.model = "us.anthropic.claude-sonnet-4-20250514-v1:0".into();
    s.role_without_invoke = true;
    scenarios.push(s);
    let mut s = Setup::new("f-kms");
    s.kms = true;
    scenarios.push(s);
    let mut s = Setup::new("f-nobucket");
    s.create_output_bucket = false;
    scenarios.push(s);
    let mut s = Setup::new("f-noinput");
    s.upload_input = false;
    scenarios.push(s);
    let mut s = Setup::new("f-passsvc");
    let role_arn = format!("arn:aws:iam::{ACCOUNT}:role/service-role/{}", s.role);
    s.caller_policy = Some(role_policy(json!([
        {"Effect": "Allow", "Action": "iam:PassRole", "Resource": role_arn, "Condition": {"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}}},
        {"Effect": "Allow", "Action": ["bedrock:CreateModelInvocationJob", "bedrock:GetModelInvocationJob", "bedrock:ListModelInvocationJobs", "bedrock:StopModelInvocationJob"], "Resource": "*"}
    ])));
    scenarios.push(s);
    // Quotas and recent jobs: Claude Sonnet 4.5, which no other test uses, so its quota and its
    // jobs change only here. The quota scenario runs first (its concurrent-jobs quota at 0),
    // then the quota is restored and a Failed job of the model is injected.
    let mut s = Setup::new("f-quota");
    s.model = SONNET45_US.into();
    scenarios.push(s);
    let mut s = Setup::new("f-jobfailed");
    s.model = SONNET45_US.into();
    scenarios.push(s);

    let quotas = aws_sdk_servicequotas::Client::new(&sdk_config().await);
    let concurrent = quota_code(&quotas, "Sum of in-progress and submitted batch inference jobs using a base model for Claude Sonnet 4.5").await;
    let seeds = [11u64, 22, 33];
    let (mut tried, mut fired_total) = (0, 0);
    let mut by_kind: std::collections::BTreeMap<String, u64> = Default::default();
    for (n, s) in scenarios.iter().enumerate() {
        s.build().await;
        match s.tag.as_str() {
            "f-quota" => set_quota(&concurrent, 0.0),
            "f-jobfailed" => {
                set_quota(&concurrent, 20.0);
                inject_job(json!({"jobName": unique("ffail"), "modelId": SONNET45_US,
                    "roleArn": format!("arn:aws:iam::{ACCOUNT}:role/service-role/{}", s.role),
                    "inputUri": format!("s3://{}/jobs/in/records.jsonl", s.input_bucket), "outputUri": format!("s3://{}/jobs/out/", s.output_bucket),
                    "status": "Failed", "message": "The provided role does not have permission to perform s3:GetObject on the input"}));
            }
            _ => {}
        }
        // The jobs family is part of the verdict where this test alone makes the model's jobs.
        let with_jobs = s.model == SONNET45_US;
        let verdict = |code: i32, r: &Value| {
            let jobs = if with_jobs { codes(r, "warning").into_iter().filter(|c| c.starts_with("job-")).collect() } else { vec![] };
            (verdict(code, r), jobs)
        };
        let (code, base) = s.check_as("testing", &[]);
        let want = verdict(code, &base);
        match s.tag.as_str() {
            "f-healthy" => assert_eq!(want.0 .0, 0, "{base:#}"),
            "f-jobfailed" => assert_eq!((want.0 .0, want.1.clone()), (0, vec!["job-failed".to_string()]), "warning only: {base:#}"),
            "f-quota" => assert_eq!(want.0 .1, vec!["quota-jobs-full".to_string()], "{base:#}"),
            tag => assert_ne!(want.0 .0, 0, "{tag}: {base:#}"),
        }
        // The seeds run at once, each with its own key and faults.
        let runs: Vec<_> = seeds
            .iter()
            .map(|seed| {
                let key = format!("FAULTS{seed}{}", s.tag.replace('-', "").to_uppercase());
                // Each scenario its own seeds, so the faults it meets differ from the others'.
                let seed = seed + 1000 * n as u64;
                control(
                    "faults",
                    json!({"rate": 0.1, "seed": seed, "kinds": ["throttle", "5xx", "reset", "timeout"], "delay": 2.0, "access_key": key}),
                );
                key
            })
            .collect();
        let (tag, args) = (s.tag.clone(), s.args());
        let results: Vec<(String, (i32, Value))> = std::thread::scope(|scope| {
            let handles: Vec<_> = runs
                .iter()
                .map(|key| {
                    let (tag, args) = (&tag, &args);
                    scope.spawn(move || (key.clone(), check_signed(tag, args, key, &["--max-attempts", "10", "--call-timeout", "1"])))
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        let mut fired_here = 0;
        for (key, (code, report)) in results {
            let entry = take_faults(&key);
            let fired = entry["fired"].as_u64().unwrap_or(0);
            for (kind, n) in entry["fired_by_kind"].as_object().into_iter().flatten() {
                *by_kind.entry(kind.clone()).or_insert(0) += n.as_u64().unwrap_or(0);
            }
            fired_here += fired;
            assert_eq!(verdict(code, &report), want, "{} under faults ({key}, {fired} fired): {report:#}", s.tag);
            tried += 1;
        }
        // A setup broken early makes few requests: one seed may draw no fault, three may not.
        assert!(fired_here > 0, "{}: no fault fired under any seed", s.tag);
        fired_total += fired_here;
    }
    assert_eq!(tried, scenarios.len() * seeds.len());
    // Every kind took part, the held answers (timeouts) included.
    for kind in ["throttle", "5xx", "reset", "timeout"] {
        assert!(by_kind.get(kind).copied().unwrap_or(0) > 0, "no {kind} fault fired: {by_kind:?}");
    }
    println!(
        "figures: faults: {} scenarios x {} seeds = {tried} check runs at a 10% fault rate, {fired_total} faults injected ({by_kind:?}), {tried} of {tried} verdicts unchanged",
        scenarios.len(),
        seeds.len()
    );
}

/// Under a persistent fault on one read (every GetBucketPolicy fails), the checks that need it
/// are unknown and the exit is 4 — never a pass; a setup broken elsewhere keeps its own error.
#[tokio::test]
async fn reliability_a_persistent_fault_makes_its_checks_unknown() {
    require_emulator();
    let healthy = Setup::new("p-healthy");
    healthy.build().await;
    let key = "PERSISTENTHEALTHY";
    control("faults", json!({"rate": 1.0, "kinds": ["5xx"], "service": "s3", "action": "GetBucketPolicy", "access_key": key}));
    let (code, r) = healthy.check_as(key, &["--max-attempts", "2"]);
    clear_faults(key);
    assert_eq!(code, 4, "{r:#}");
    assert!(codes(&r, "error").is_empty(), "{r:#}");
    let unknown: Vec<&str> =
        r["checks"].as_array().unwrap().iter().filter(|c| c["status"] == "unknown").map(|c| c["family"].as_str().unwrap_or("")).collect();
    assert!(!unknown.is_empty(), "{r:#}");

    let mut broken = Setup::new("p-passsvc");
    let role_arn = format!("arn:aws:iam::{ACCOUNT}:role/service-role/{}", broken.role);
    broken.caller_policy = Some(role_policy(json!([
        {"Effect": "Allow", "Action": "iam:PassRole", "Resource": role_arn, "Condition": {"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}}},
        {"Effect": "Allow", "Action": ["bedrock:CreateModelInvocationJob", "bedrock:GetModelInvocationJob", "bedrock:ListModelInvocationJobs", "bedrock:StopModelInvocationJob"], "Resource": "*"}
    ])));
    broken.build().await;
    let key = "PERSISTENTPASSSVC";
    control("faults", json!({"rate": 1.0, "kinds": ["5xx"], "service": "s3", "action": "GetBucketPolicy", "access_key": key}));
    let (code, r) = broken.check_as(key, &["--max-attempts", "2"]);
    clear_faults(key);
    assert_eq!(code, 1, "{r:#}");
    assert_eq!(codes(&r, "error"), vec!["caller-cannot-pass-role"], "{r:#}");
    assert!(r["checks"].as_array().unwrap().iter().any(|c| c["status"] == "unknown"), "{r:#}");
}
