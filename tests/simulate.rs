//! `simulate` through the binary: offline from policy files and online from the emulator.

mod common;
use common::*;
use std::path::Path;

const USER_ARN: &str = "arn:aws:iam::123456789012:user/analyst";
const ROLE_ARN: &str = "arn:aws:iam::123456789012:role/service-role/BedrockBatchRole";

fn write(dir: &Path, name: &str, json: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, json).unwrap();
    p.to_str().unwrap().to_string()
}

fn sim(dir: &Path, args: &[&str]) -> std::process::Output {
    let mut all = vec!["simulate"];
    all.extend_from_slice(args);
    run(bare_command(dir), &all)
}

const PASSROLE: &str = r#"{"Version":"2012-10-17","Statement":[{"Sid":"PassBatchRole","Effect":"Allow","Action":"iam:PassRole","Resource":"arn:aws:iam::123456789012:role/service-role/BedrockBatchRole","Condition":{"StringEquals":{"iam:PassedToService":"bedrock.amazonaws.com"}}}]}"#;

#[test]
fn offline_allow_and_implicit_deny() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "passrole.json", PASSROLE);
    let base = ["--principal", USER_ARN, "--action", "iam:PassRole", "--resource", ROLE_ARN, "--policy", &p];
    let mut args = base.to_vec();
    args.extend(["--context", "iam:PassedToService=bedrock.amazonaws.com"]);
    let out = sim(dir.path(), &args);
    assert_eq!(out.status.code(), Some(0), "{}{}", stdout(&out), stderr(&out));
    assert!(stdout(&out).starts_with("ALLOWED"), "{}", stdout(&out));
    assert!(stdout(&out).contains("Sid \"PassBatchRole\""));

    // Passed to another service: the condition fails and the trace says which value.
    let mut args = base.to_vec();
    args.extend(["--context", "iam:PassedToService=sagemaker.amazonaws.com"]);
    let out = sim(dir.path(), &args);
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    assert!(text.contains("DENIED (implicit deny)"), "{text}");
    assert!(text.contains("FAIL iam:PassedToService = \"sagemaker.amazonaws.com\" fails StringEquals"), "{text}");

    // The role path left out of the pattern: no statement matches the resource.
    let out = sim(
        dir.path(),
        &["--principal", USER_ARN, "--action", "iam:PassRole", "--resource", "arn:aws:iam::123456789012:role/BedrockBatchRole", "--policy", &p],
    );
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn offline_explicit_deny_names_the_statement() {
    let dir = tempfile::tempdir().unwrap();
    let allow = write(
        dir.path(),
        "allow.json",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::batch-in/*"}]}"#,
    );
    let deny = write(
        dir.path(),
        "deny.json",
        r#"{"Version":"2012-10-17","Statement":[{"Sid":"NoInput","Effect":"Deny","Action":"s3:*","Resource":"arn:aws:s3:::batch-in/*"}]}"#,
    );
    let out = sim(
        dir.path(),
        &[
            "--principal",
            ROLE_ARN,
            "--action",
            "s3:GetObject",
            "--resource",
            "arn:aws:s3:::batch-in/in/a.jsonl",
            "--policy",
            &allow,
            "--policy",
            &deny,
            "--output",
            "json",
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["decision"], "ExplicitDeny");
    assert!(v["reason"].as_str().unwrap().contains("deny.json") && v["reason"].as_str().unwrap().contains("NoInput"), "{}", v["reason"]);
}

#[test]
fn offline_boundary_deny() {
    let dir = tempfile::tempdir().unwrap();
    let allow = write(
        dir.path(),
        "allow.json",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:GetObject","s3:PutObject"],"Resource":"*"}]}"#,
    );
    let boundary =
        write(dir.path(), "boundary.json", r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}"#);
    let args = [
        "--principal",
        ROLE_ARN,
        "--action",
        "s3:PutObject",
        "--resource",
        "arn:aws:s3:::batch-out/out/x",
        "--policy",
        &allow,
        "--boundary",
        &boundary,
    ];
    let out = sim(dir.path(), &args);
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(&out).contains("permissions boundary"), "{}", stdout(&out));
    let out = sim(
        dir.path(),
        &[
            "--principal",
            ROLE_ARN,
            "--action",
            "s3:GetObject",
            "--resource",
            "arn:aws:s3:::batch-out/out/x",
            "--policy",
            &allow,
            "--boundary",
            &boundary,
        ],
    );
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn offline_resource_policy_grant_and_trust() {
    let dir = tempfile::tempdir().unwrap();
    let none =
        write(dir.path(), "none.json", r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sqs:SendMessage","Resource":"*"}]}"#);
    let bucket = write(
        dir.path(),
        "bucket.json",
        &format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Sid":"ReadInput","Effect":"Allow","Principal":{{"AWS":"{USER_ARN}"}},"Action":"s3:GetObject","Resource":"arn:aws:s3:::batch-in/*"}}]}}"#
        ),
    );
    let out = sim(
        dir.path(),
        &[
            "--principal",
            USER_ARN,
            "--action",
            "s3:GetObject",
            "--resource",
            "arn:aws:s3:::batch-in/a",
            "--policy",
            &none,
            "--resource-policy",
            &bucket,
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert!(stdout(&out).contains("resource policy"), "{}", stdout(&out));

    // Bedrock assuming a role whose trust policy trusts the account root: denied.
    let root = write(
        dir.path(),
        "trust.json",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"sts:AssumeRole"}]}"#,
    );
    let out = sim(
        dir.path(),
        &[
            "--principal",
            "bedrock.amazonaws.com",
            "--action",
            "sts:AssumeRole",
            "--resource",
            ROLE_ARN,
            "--resource-policy",
            &root,
            "--context",
            "aws:SourceAccount=123456789012",
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(&out).contains("trust policy does not allow"), "{}", stdout(&out));
}

#[test]
fn malformed_policy_file_names_statement_and_field() {
    let dir = tempfile::tempdir().unwrap();
    let bad = write(
        dir.path(),
        "bad.json",
        r#"{"Version":"2012-10-17","Statement":[{"Sid":"Ok","Effect":"Allow","Action":"s3:GetObject","Resource":"*"},{"Sid":"Broken","Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":{"StringEquals":"x"}}]}"#,
    );
    let out = sim(dir.path(), &["--principal", USER_ARN, "--action", "s3:GetObject", "--resource", "arn:aws:s3:::b/k", "--policy", &bad]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("bad.json") && err.contains("statement 1 (Sid \"Broken\"), Condition.StringEquals"), "{err}");
    let out = sim(
        dir.path(),
        &["--principal", USER_ARN, "--action", "s3:GetObject", "--resource", "arn:aws:s3:::b/k", "--policy", &bad, "--context", "novalue"],
    );
    assert_eq!(out.status.code(), Some(2));
}

#[tokio::test]
async fn online_reads_the_principals_policies() {
    require_emulator();
    let conf = sdk_config().await;
    let iam = aws_sdk_iam::Client::new(&conf);
    let user = unique("analyst");
    let group = unique("batchers");
    iam.create_user().user_name(&user).send().await.unwrap();
    iam.create_group().group_name(&group).send().await.unwrap();
    iam.add_user_to_group().group_name(&group).user_name(&user).send().await.unwrap();
    iam.put_group_policy().group_name(&group).policy_name("pass").policy_document(PASSROLE).send().await.unwrap();
    let deny = r#"{"Version":"2012-10-17","Statement":[{"Sid":"NoStop","Effect":"Deny","Action":"bedrock:StopModelInvocationJob","Resource":"*"}]}"#;
    iam.put_user_policy().user_name(&user).policy_name("deny").policy_document(deny).send().await.unwrap();
    let user_arn = format!("arn:aws:iam::123456789012:user/{user}");
    let dir = tempfile::tempdir().unwrap();

    let out = run(
        emulator_command(dir.path()),
        &[
            "simulate",
            "--principal",
            &user_arn,
            "--action",
            "iam:PassRole",
            "--resource",
            ROLE_ARN,
            "--context",
            "iam:PassedToService=bedrock.amazonaws.com",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}{}", stdout(&out), stderr(&out));
    assert!(stdout(&out).contains(&format!("inline:group/{group}/pass")), "{}", stdout(&out));

    let out = run(
        emulator_command(dir.path()),
        &[
            "simulate",
            "--principal",
            &user_arn,
            "--action",
            "bedrock:StopModelInvocationJob",
            "--resource",
            "arn:aws:bedrock:us-east-1:123456789012:model-invocation-job/abc",
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(&out).contains("explicit Deny") && stdout(&out).contains("NoStop"), "{}", stdout(&out));
}

/// A KMS key is never granted by identity policies alone: without its key policy, simulate
/// says the key policy is needed instead of allowing; with a key policy that delegates to the
/// account, the identity policy decides.
#[test]
fn kms_without_a_key_policy_is_not_allowed() {
    let dir = tempfile::tempdir().unwrap();
    let admin = write(dir.path(), "admin.json", r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"kms:*","Resource":"*"}]}"#);
    let key = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab";
    let out = sim(dir.path(), &["--principal", USER_ARN, "--action", "kms:Decrypt", "--resource", key, "--policy", &admin]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert!(stdout(&out).contains("key policy"), "{}", stdout(&out));
    let delegate = write(
        dir.path(),
        "key.json",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"kms:*","Resource":"*"}]}"#,
    );
    let out =
        sim(dir.path(), &["--principal", USER_ARN, "--action", "kms:Decrypt", "--resource", key, "--policy", &admin, "--resource-policy", &delegate]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
}

/// kms:ListKeys on "*" and the alias operations on an alias are authorised by identity policies
/// alone (AWS KMS API Reference, ListKeys: "Required permissions: kms:ListKeys (IAM policy)";
/// AWS KMS Developer Guide, "Controlling access to aliases": "kms:CreateAlias for the alias.
/// Provide this permission in an IAM policy ..."): no key policy is asked for.
#[test]
fn kms_list_keys_and_aliases_need_no_key_policy() {
    let dir = tempfile::tempdir().unwrap();
    let admin = write(dir.path(), "admin.json", r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"kms:*","Resource":"*"}]}"#);
    for (action, resource) in [
        ("kms:ListKeys", "*"),
        ("kms:CreateAlias", "arn:aws:kms:us-east-1:123456789012:alias/batch"),
        ("kms:UpdateAlias", "arn:aws:kms:us-east-1:123456789012:alias/batch"),
        ("kms:DeleteAlias", "arn:aws:kms:us-east-1:123456789012:alias/batch"),
    ] {
        let out = sim(dir.path(), &["--principal", USER_ARN, "--action", action, "--resource", resource, "--policy", &admin]);
        assert_eq!(out.status.code(), Some(0), "{action}: {}", stdout(&out));
    }
}

/// sts:GetCallerIdentity needs no permission, even under a Deny of everything.
#[test]
fn get_caller_identity_cannot_be_denied() {
    let dir = tempfile::tempdir().unwrap();
    let deny = write(dir.path(), "deny.json", r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"*","Resource":"*"}]}"#);
    let out = sim(dir.path(), &["--principal", USER_ARN, "--action", "sts:GetCallerIdentity", "--resource", "*", "--policy", &deny]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
}

const FULL: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#;
const JOB: &str = "arn:aws:bedrock:us-east-1:123456789012:model-invocation-job/abc";

fn json_of(out: &std::process::Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}{}", stdout(out), stderr(out)))
}

/// `--scp` is used, level by level (AWS Organizations User Guide, "SCP evaluation": "there must
/// be an explicit Allow statement at every level from the root through each OU in the direct
/// path to the account (including the target account itself)"): allowed at the root but not at
/// the OU denies, and the trace names the OU level.
#[test]
fn scp_levels_each_must_allow_and_the_denial_names_the_level() {
    let dir = tempfile::tempdir().unwrap();
    let admin = write(dir.path(), "admin.json", FULL);
    let full = write(dir.path(), "full.json", FULL);
    let s3_only = write(dir.path(), "s3-only.json", r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}"#);
    let (root, ou, ou_s3) = (format!("root={full}"), format!("ou={full}"), format!("ou={s3_only}"));
    let base = ["--principal", USER_ARN, "--action", "bedrock:CreateModelInvocationJob", "--resource", JOB, "--policy", &admin];

    let mut args = base.to_vec();
    args.extend(["--scp", &root, "--scp", &ou]);
    let out = sim(dir.path(), &args);
    assert_eq!(out.status.code(), Some(0), "{}{}", stdout(&out), stderr(&out));

    // The second OU allows only S3: denied there, whatever the root and the first OU allow.
    let mut args = base.to_vec();
    args.extend(["--scp", &root, "--scp", &ou, "--scp", &ou_s3, "--output", "json"]);
    let out = sim(dir.path(), &args);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    let v = json_of(&out);
    assert_eq!(v["decision"], "ImplicitDeny");
    assert_eq!(v["decided_by"]["layer"], "scp", "{v}");
    assert_eq!(v["decided_by"]["level"], "ou", "{v}");
    assert_eq!(v["decided_by"]["target"], "OU 2 of the --scp files", "{v}");
    assert!(
        v["reason"].as_str().unwrap().contains("OU level (OU 2 of the --scp files)") && v["reason"].as_str().unwrap().contains("s3-only.json"),
        "{}",
        v["reason"]
    );

    let mut args = base.to_vec();
    args.extend(["--scp", &root, "--scp", &ou_s3]);
    let text = stdout(&sim(dir.path(), &args));
    assert!(text.contains("decided by: scp at the OU level (OU 1 of the --scp files)"), "{text}");
}

/// The issue's first case: an SCP that denies s3:GetObject, passed with a bare `--scp FILE`
/// (an account-level SCP), denies; the same with `--rcp` (Principal "*").
#[test]
fn a_bare_scp_or_rcp_file_is_not_ignored() {
    let dir = tempfile::tempdir().unwrap();
    let allow =
        write(dir.path(), "allow.json", r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}"#);
    let scp = write(
        dir.path(),
        "deny-get.json",
        r#"{"Version":"2012-10-17","Statement":[{"Sid":"NoGet","Effect":"Deny","Action":"s3:GetObject","Resource":"*"}]}"#,
    );
    let rcp = write(
        dir.path(),
        "rcp.json",
        r#"{"Version":"2012-10-17","Statement":[{"Sid":"NoGetAnywhere","Effect":"Deny","Principal":"*","Action":"s3:GetObject","Resource":"*"}]}"#,
    );
    let base = ["--principal", USER_ARN, "--action", "s3:GetObject", "--resource", "arn:aws:s3:::batch-in/a", "--policy", &allow, "--output", "json"];
    let mut args = base.to_vec();
    args.extend(["--scp", &scp]);
    let out = sim(dir.path(), &args);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    let v = json_of(&out);
    assert_eq!(v["decision"], "ExplicitDeny");
    assert_eq!((v["decided_by"]["layer"].as_str(), v["decided_by"]["level"].as_str()), (Some("scp"), Some("account")), "{v}");
    assert_eq!(v["decided_by"]["statement"], "statement 0 (Sid \"NoGet\")");
    // A deny-list file allows nothing: AWS's FullAWSAccess is assumed beside it, and said.
    assert!(v["notes"][0].as_str().unwrap().contains("FullAWSAccess"), "{v}");

    let rcp_root = format!("root={rcp}");
    let mut args = base.to_vec();
    args.extend(["--rcp", &rcp_root]);
    let v = json_of(&sim(dir.path(), &args));
    assert_eq!(v["decision"], "ExplicitDeny");
    assert_eq!((v["decided_by"]["layer"].as_str(), v["decided_by"]["level"].as_str()), (Some("rcp"), Some("root")), "{v}");
    assert!(v["reason"].as_str().unwrap().contains("resource control policy"), "{}", v["reason"]);
}

/// `--principal anonymous`: only a resource policy with "Principal": "*" can allow (Amazon S3
/// User Guide: "To grant permission to everyone, also referred as anonymous access, you set the
/// wildcard ("*") as the Principal value."): a public-read bucket policy allows, a private one
/// (naming a user) does not.
#[test]
fn anonymous_requests_need_a_public_resource_policy() {
    let dir = tempfile::tempdir().unwrap();
    let public = write(
        dir.path(),
        "public.json",
        r#"{"Version":"2012-10-17","Statement":[{"Sid":"PublicRead","Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::site/*"}]}"#,
    );
    let private = write(
        dir.path(),
        "private.json",
        &format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"{USER_ARN}"}},"Action":"s3:GetObject","Resource":"arn:aws:s3:::site/*"}}]}}"#
        ),
    );
    let base = ["--principal", "anonymous", "--action", "s3:GetObject", "--resource", "arn:aws:s3:::site/index.html"];
    let mut args = base.to_vec();
    args.extend(["--resource-policy", &public, "--output", "json"]);
    let out = sim(dir.path(), &args);
    assert_eq!(out.status.code(), Some(0), "{}{}", stdout(&out), stderr(&out));
    let v = json_of(&out);
    assert_eq!(
        (v["decided_by"]["layer"].as_str(), v["decided_by"]["statement"].as_str()),
        (Some("resource"), Some("statement 0 (Sid \"PublicRead\")"))
    );
    assert!(v["request"]["context"].get("aws:PrincipalArn").is_none(), "no principal, no aws:PrincipalArn: {v}");

    let mut args = base.to_vec();
    args.extend(["--resource-policy", &private]);
    let out = sim(dir.path(), &args);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert!(stdout(&out).contains("anonymous request is allowed only by a resource policy whose Principal is \"*\""), "{}", stdout(&out));

    // An anonymous request has no identity-side policies to give.
    let mut args = base.to_vec();
    args.extend(["--resource-policy", &public, "--policy", &public]);
    let out = sim(dir.path(), &args);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("anonymous"), "{}", stderr(&out));
}

/// `--vpce-policy`: the endpoint policy on the request's path must allow, and the trace says it
/// decided (Amazon VPC: "An endpoint policy does not override or replace identity-based policies
/// or resource-based policies").
#[test]
fn a_vpc_endpoint_policy_must_allow() {
    let dir = tempfile::tempdir().unwrap();
    let allow =
        write(dir.path(), "allow.json", r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}"#);
    let endpoint = write(
        dir.path(),
        "endpoint.json",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::batch-in/*"}]}"#,
    );
    let args = |bucket: &'static str| {
        vec![
            "--principal".to_string(),
            USER_ARN.to_string(),
            "--action".into(),
            "s3:GetObject".into(),
            "--resource".into(),
            format!("arn:aws:s3:::{bucket}/a"),
            "--policy".into(),
            allow.clone(),
            "--vpce-policy".into(),
            endpoint.clone(),
            "--output".into(),
            "json".into(),
        ]
    };
    let run_with = |bucket: &'static str| {
        let a = args(bucket);
        sim(dir.path(), &a.iter().map(String::as_str).collect::<Vec<_>>())
    };
    assert_eq!(run_with("batch-in").status.code(), Some(0));
    let out = run_with("elsewhere");
    assert_eq!(out.status.code(), Some(1));
    let v = json_of(&out);
    assert_eq!(v["decided_by"]["layer"], "vpc-endpoint", "{v}");
    assert!(v["reason"].as_str().unwrap().contains("VPC endpoint policy"), "{}", v["reason"]);
}
