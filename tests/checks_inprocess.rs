//! The checks in process, over snapshots made by `SnapshotBuilder`: a healthy setup passes,
//! and each break yields its code (and no other error), with the whole finding pinned by an
//! insta snapshot under tests/snapshots/. The emulator scenarios (tests/check.rs) stay as the
//! end-to-end layer.

use bedbatch_doctor::builder::SnapshotBuilder as B;
use bedbatch_doctor::checks::{self, Outcome, Status};
use bedbatch_doctor::findings::Severity;
use bedbatch_doctor::registry;
use serde_json::{json, Value};

fn run(b: B) -> Outcome {
    checks::run_snapshot(&b.build()).expect("the snapshot's settings are valid")
}

fn errors(o: &Outcome) -> Vec<&'static str> {
    let mut v: Vec<_> = o.findings.iter().filter(|f| f.severity == Severity::Error).map(|f| f.code.as_str()).collect();
    v.sort();
    v.dedup();
    v
}

fn pinned(o: &Outcome) -> Value {
    json!({"exit": o.exit_code().code(), "findings": o.findings, "unknown": o.checks.iter().filter(|c| c.status == Status::Unknown).map(|c| (&c.name, &c.reason)).collect::<Vec<_>>()})
}

const KEY: &str = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab";

/// Each case: the code it is for, the break.
fn cases() -> Vec<(&'static str, B)> {
    let s3_only = json!([{"Effect": "Allow", "Action": "s3:ListBucket", "Resource": ["arn:aws:s3:::demo-batch-in", "arn:aws:s3:::demo-batch-out"]},
                         {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::demo-batch-in/jobs/in/*"},
                         {"Effect": "Allow", "Action": "s3:PutObject", "Resource": "arn:aws:s3:::demo-batch-out/jobs/out/*"}]);
    let key_policy = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:root"}, "Action": "kms:*", "Resource": "*"}]});
    vec![
        ("model-not-found", B::healthy().model_not_found()),
        // The catalogue claims DeepSeek-R1 in no batch Region (AWS's features matrix marks its
        // batch column "No", single-Region and cross-Region).
        ("model-no-batch", B::healthy().model("deepseek.r1-v1:0").caller_statements(json!([
            {"Effect": "Allow", "Action": "iam:PassRole", "Resource": "arn:aws:iam::123456789012:role/service-role/BedrockBatchRole", "Condition": {"StringEquals": {"iam:PassedToService": "bedrock.amazonaws.com"}}},
            {"Effect": "Allow", "Action": ["bedrock:CreateModelInvocationJob", "bedrock:GetModelInvocationJob", "bedrock:ListModelInvocationJobs", "bedrock:StopModelInvocationJob"], "Resource": "*"}]))),
        ("model-access-not-granted", B::healthy().model_not_authorized()),
        ("model-needs-inference-profile", B::healthy().model_profile_only()),
        ("model-batch-support-unknown", B::healthy().model_unknown_to_catalogue()),
        ("role-missing", B::healthy().role_missing()),
        ("trust-wrong-principal", B::healthy().trust_account_root()),
        ("trust-broader-than-needed", B::healthy().trust_also_root()),
        ("trust-source-account-mismatch", B::healthy().trust_condition("StringEquals", "aws:SourceAccount", "999999999999")),
        ("trust-source-arn-mismatch", B::healthy().trust_condition("ArnLike", "aws:SourceArn", "arn:aws:bedrock:eu-west-1:123456789012:model-invocation-job/*")),
        ("trust-unsatisfiable-condition", B::healthy().trust_condition("StringEquals", "sts:ExternalId", "x")),
        ("trust-no-confused-deputy-guard", B::healthy().trust_unguarded()),
        ("role-cannot-list-input", B::healthy().role_statements(json!([s3_only[1], s3_only[2]]))),
        ("role-cannot-read-input", B::healthy().role_statements(json!([s3_only[0], {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::demo-batch-in"}, s3_only[2]]))),
        ("role-cannot-write-output", B::healthy().role_statements(json!([s3_only[0], s3_only[1], {"Effect": "Allow", "Action": "s3:PutObject", "Resource": "arn:aws:s3:::demo-batch-out/elsewhere/*"}]))),
        ("role-cannot-invoke-model", B::healthy().profile("us.anthropic.claude-haiku-4-5-20251001-v1:0", &["us-east-1", "us-east-2", "us-west-2"]).rendered().role_without_invoke()),
        ("role-cannot-use-kms-key", B::healthy().bucket_kms(0, KEY, Some(key_policy))),
        ("bucket-missing", B::healthy().bucket_missing(1)),
        ("bucket-wrong-region", B::healthy().bucket_region(1, "us-west-2")),
        ("bucket-other-account", B::healthy().bucket_other_account(1)),
        ("input-object-missing", B::healthy().no_input_objects()),
        ("caller-missing", B::healthy().caller_missing()),
        ("caller-cannot-pass-role", B::healthy().caller_statements(json!([{"Effect": "Allow", "Action": "iam:PassRole", "Resource": "arn:aws:iam::123456789012:role/EC2-roles-for-XYZ-*"},
            {"Effect": "Allow", "Action": ["bedrock:CreateModelInvocationJob", "bedrock:GetModelInvocationJob", "bedrock:ListModelInvocationJobs", "bedrock:StopModelInvocationJob"], "Resource": "*"}]))),
        ("caller-cannot-create-job", B::healthy().caller_statements(json!([{"Effect": "Allow", "Action": "iam:PassRole", "Resource": "arn:aws:iam::123456789012:role/service-role/BedrockBatchRole"}]))),
        ("scp-denies", B::healthy().scps(vec![vec![json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"},
            {"Sid": "NoBatch", "Effect": "Deny", "Action": "bedrock:CreateModelInvocationJob", "Resource": "*"}]})]])),
        ("org-policies-unknown", B::healthy().org_unreadable()),
        ("quota-jobs-full", B::healthy().jobs_in_progress(20)),
        ("quota-unreadable", B::healthy().quotas_denied()),
        ("job-expired", B::healthy().finished_job("Expired", 10, 0, None)),
        ("job-records-failed", B::healthy().finished_job("PartiallyCompleted", 3, 2, Some(bedbatch_doctor::snapshot::Known::Value(bedbatch_doctor::snapshot::RecordErrors {
            manifest: Some(json!({"totalRecordCount": 5, "successRecordCount": 3, "errorRecordCount": 2})),
            by_code: vec![bedbatch_doctor::snapshot::ErrorCount { code: "400".into(), count: 2, examples: vec!["record r1: Malformed input request".into(), "record r2: Malformed input request".into()] }],
            files: 1,
            truncated: false,
        })))),
        ("account-not-authorized", B::healthy().failed_job("AccessDeniedException: Your account is not authorized to perform this action.")),
        ("job-failed", B::healthy().failed_job("User: arn:aws:sts::123456789012:assumed-role/x is not authorized to perform: s3:GetObject")),
        ("read-denied", B::healthy().caller_policies_denied()),
        ("read-failed", B::healthy().role_unreadable()),
    ]
}

#[test]
fn the_healthy_snapshot_passes_every_check() {
    let o = run(B::healthy());
    assert!(o.findings.is_empty(), "{:#?}", o.findings);
    assert!(o.checks.iter().all(|c| c.status == Status::Pass), "{:#?}", o.checks);
    assert_eq!(o.exit_code().code(), 0);
}

#[test]
fn every_check_code_is_produced_by_a_break_and_pinned() {
    let cases = cases();
    for c in registry::all() {
        if c.family() == "validate" || c.as_str() == "credentials-missing" {
            continue; // validate's codes: tests/validate_canary.rs; credentials: tests/check.rs
        }
        assert!(cases.iter().any(|(code, _)| *code == c.as_str()), "no in-process case for {c}");
    }
    for (code, b) in cases {
        let o = run(b);
        assert!(o.all_findings().any(|f| f.code.as_str() == code), "{code}: not reported: {:#?}", o.findings);
        let f = o.all_findings().find(|f| f.code.as_str() == code).unwrap();
        let wanted_exit = if o.errors() > 0 {
            1
        } else if o.incomplete() {
            4
        } else {
            0
        };
        assert_eq!(o.exit_code().code(), wanted_exit, "{code}");
        if f.severity == Severity::Error {
            assert_eq!(o.exit_code().code(), 1, "{code}: an error finding exits 1");
            assert_eq!(errors(&o), vec![code], "{code}: one break, one error");
        }
        insta::assert_json_snapshot!(code, pinned(&o));
    }
}

const HAIKU45: &str = "us.anthropic.claude-haiku-4-5-20251001-v1:0";
const US: &[&str] = &["us-east-1", "us-east-2", "us-west-2"];

#[test]
fn a_profile_setup_with_the_rendered_grants_passes() {
    let o = run(B::healthy().profile(HAIKU45, US).rendered());
    assert!(errors(&o).is_empty(), "{:#?}", o.findings);
    let line = o.checks.iter().find(|c| c.family == "role_invoke").expect("an invoke line for a profile");
    assert_eq!(line.status, Status::Pass);
    assert_eq!(o.exit_code().code(), 0, "{:#?}", o.checks);
}

#[test]
fn invoke_on_the_profile_only_names_the_first_routed_model() {
    let profile = format!("arn:aws:bedrock:us-east-1:123456789012:inference-profile/{HAIKU45}");
    let o = run(B::healthy()
        .profile(HAIKU45, US)
        .rendered()
        .role_extra_statement(json!({"Effect": "Allow", "Action": "bedrock:InvokeModel", "Resource": profile}))
        .role_without_invoke_except_extra());
    let f = o.findings.iter().find(|f| f.code.as_str() == "role-cannot-invoke-model").expect("reported");
    assert!(f.evidence.contains("arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-haiku-4-5-20251001-v1:0"), "{}", f.evidence);
    assert!(f.evidence.contains("3 of the 4"), "{}", f.evidence);
    assert!(f.fix.contains("BedrockBatchInvokeModel") && f.fix.contains("us-west-2::foundation-model"), "{}", f.fix);
}

#[test]
fn a_region_lock_deny_on_a_routed_region_is_named() {
    let deny =
        json!({"Effect": "Deny", "Action": "bedrock:*", "Resource": "*", "Condition": {"StringNotEquals": {"aws:RequestedRegion": ["us-east-1"]}}});
    let o = run(B::healthy().profile(HAIKU45, US).rendered().role_extra_statement(deny));
    let f = o.findings.iter().find(|f| f.code.as_str() == "role-cannot-invoke-model").expect("reported");
    assert!(f.evidence.contains("us-east-2") && f.evidence.contains("explicit Deny"), "{}", f.evidence);
}

#[test]
fn an_unreadable_profile_makes_the_invoke_check_unknown() {
    let o = run(B::healthy().profile(HAIKU45, US).rendered().profile_unreadable());
    let line = o.checks.iter().find(|c| c.family == "role_invoke").expect("an invoke line");
    assert_eq!(line.status, Status::Unknown);
    assert_eq!(o.exit_code().code(), 4);
}

#[test]
fn a_model_the_account_has_but_the_catalogue_lacks_is_healthy() {
    let o = run(B::healthy().model_live_only("example.brand-new-v1:0", "Brand New").rendered());
    assert!(o.findings.is_empty(), "{:#?}", o.findings);
    assert_eq!(o.exit_code().code(), 0, "{:#?}", o.checks);
}

#[test]
fn live_quotas_and_the_catalogue_disagreeing_is_unknown_not_a_pass() {
    // Claude 3 Haiku is in the catalogue for us-east-1, but the account lists no batch quota.
    let o = run(B::healthy().model("anthropic.claude-3-haiku-20240307-v1:0").no_quotas());
    let line = o.checks.iter().find(|c| c.name == "batch inference supports the model in the region").unwrap();
    assert_eq!(line.status, Status::Unknown);
    assert_eq!(o.exit_code().code(), 4);
}

#[test]
fn a_region_lock_scp_blocks_a_profile_routing_to_other_regions() {
    let full = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]});
    let lock = json!({"Version": "2012-10-17", "Statement": [{"Sid": "RegionLock", "Effect": "Deny", "NotAction": ["iam:*", "sts:*", "organizations:*"], "Resource": "*",
        "Condition": {"StringNotEquals": {"aws:RequestedRegion": ["us-east-1"]}}}]});
    // A bare model id in us-east-1: the lock is no obstacle.
    assert!(errors(&run(B::healthy().scps(vec![vec![full.clone(), lock.clone()]]))).is_empty());
    // Through the us. profile, Bedrock invokes the model in us-east-2 and us-west-2 too.
    let o = run(B::healthy().profile(HAIKU45, US).rendered().scps(vec![vec![full, lock]]));
    assert_eq!(errors(&o), vec!["scp-denies"], "{:#?}", o.findings);
    let f: Vec<_> = o.findings.iter().filter(|f| f.code.as_str() == "scp-denies").collect();
    assert!(
        f.iter().any(|f| f.evidence.contains("us-east-2") && f.evidence.contains("RegionLock") && f.evidence.contains("bedrock:InvokeModel")),
        "{f:#?}"
    );
    assert!(f.iter().all(|f| !f.evidence.contains("(aws:RequestedRegion us-east-1)")), "the source Region is allowed: {f:#?}");
}

#[test]
fn an_allow_list_scp_level_without_bedrock_blocks_the_caller() {
    let full = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]});
    let s3_only = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["s3:*", "iam:*", "kms:*"], "Resource": "*"}]});
    let o = run(B::healthy().scps(vec![vec![full], vec![s3_only]]));
    let f = o.findings.iter().find(|f| f.code.as_str() == "scp-denies").expect("blocked");
    assert!(f.evidence.contains("ou-level1") && f.evidence.contains("bedrock:CreateModelInvocationJob"), "{}", f.evidence);
}

#[test]
fn bare_model_ids_have_no_invoke_line() {
    assert!(run(B::healthy()).checks.iter().all(|c| c.family != "role_invoke"));
}

/// The dated catalogue fills gaps only where the account cannot answer: with the quota read
/// denied, the batch line passes on the catalogue and says so; with it failed (throttled, 5xx),
/// the line is unknown and the verdict incomplete.
#[test]
fn the_catalogue_answers_for_a_denied_quota_read_not_a_failed_one() {
    let line = |o: &Outcome| o.checks.iter().find(|c| c.name == "batch inference supports the model in the region").cloned().unwrap();
    let denied = run(B::healthy().quotas_denied());
    let l = line(&denied);
    assert!(l.passed() && l.reason.as_deref().unwrap_or("").contains("dated catalogue"), "{l:#?}");
    let failed = run(B::healthy().quotas_failed());
    let l = line(&failed);
    assert_eq!(l.status, Status::Unknown, "{l:#?}");
    assert_eq!(failed.exit_code().code(), 4);
}

/// Data-perimeter SCPs: the account's principals and resources carry the organization's id, so
/// "deny S3 outside my organization" does not block the role's own buckets; foundation models
/// carry none (AWS, "Required permissions for batch inference"), so the same rule on Bedrock
/// blocks the profile's routed models. From files, with no organization id, a denial that may
/// rest on such a condition is unknown, not an error.
#[test]
fn data_perimeter_scps_use_the_organization_id() {
    let full = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]});
    let perimeter = |action: &str| {
        json!({"Version": "2012-10-17", "Statement": [{"Sid": "Perimeter", "Effect": "Deny", "Action": action, "Resource": "*",
            "Condition": {"StringNotEqualsIfExists": {"aws:ResourceOrgID": "${aws:PrincipalOrgID}"}}}]})
    };
    let s3 = run(B::healthy().scps(vec![vec![full.clone(), perimeter("s3:*")]]));
    assert!(errors(&s3).is_empty(), "the account's own buckets are inside the perimeter: {:#?}", s3.findings);
    let bedrock = run(B::healthy().profile(HAIKU45, US).rendered().scps(vec![vec![full.clone(), perimeter("bedrock:InvokeModel")]]));
    assert_eq!(errors(&bedrock), vec!["scp-denies"], "{:#?}", bedrock.findings);
    let f = bedrock.findings.iter().find(|f| f.code.as_str() == "scp-denies").unwrap();
    assert!(f.evidence.contains("foundation-model") && f.evidence.contains("Perimeter"), "{}", f.evidence);
    let files = run(B::healthy().scps(vec![vec![full, perimeter("s3:*")]]).org_from_files());
    let line = files.checks.iter().find(|c| c.family == "org").unwrap();
    assert_eq!(line.status, Status::Unknown, "{line:#?}");
    assert!(errors(&files).is_empty() && files.exit_code().code() == 4, "{:#?}", files.findings);
}

#[test]
fn unknown_checks_are_never_passes_and_make_the_verdict_incomplete() {
    for (what, b) in
        [("bucket", B::healthy().bucket_unreadable(1)), ("role", B::healthy().role_unreadable()), ("caller", B::healthy().caller_policies_denied())]
    {
        let o = run(b);
        assert!(o.errors() == 0, "{what}: nothing guessed as an error: {:#?}", o.findings);
        assert!(o.checks.iter().any(|c| c.status == Status::Unknown && !c.passed()), "{what}");
        assert_eq!(o.exit_code().code(), 4, "{what}: incomplete");
    }
}

#[test]
fn a_missing_bucket_folds_the_access_findings_on_it() {
    // The output bucket is missing and the role may not write there either: one error.
    let o = run(B::healthy().bucket_missing(1).role_statements(json!([
        {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": ["arn:aws:s3:::demo-batch-in", "arn:aws:s3:::demo-batch-out"]},
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::demo-batch-in/jobs/in/*"}
    ])));
    assert_eq!(errors(&o), vec!["bucket-missing"]);
    let cause = o.findings.iter().find(|f| f.code.as_str() == "bucket-missing").unwrap();
    assert_eq!(cause.consequences.iter().map(|f| f.code.as_str()).collect::<Vec<_>>(), vec!["role-cannot-write-output"]);
}

#[test]
fn explain_states_follow_the_checks() {
    let o = run(B::healthy().role_unreadable());
    let c = registry::parse("trust-wrong-principal").unwrap();
    assert_eq!(o.state_of(c), checks::CodeState::Unknown);
    let o = run(B::healthy());
    assert_eq!(o.state_of(c), checks::CodeState::Absent);
    let o = run(B::healthy().trust_account_root());
    assert_eq!(o.state_of(c), checks::CodeState::Present);
}
