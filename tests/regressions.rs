//! Regression tests for bugs found on user input (issue 9): each crashed or corrupted data.

mod common;
use common::*;

use bedbatch_doctor::policy::{conditions::parse_date, decode_document};

#[test]
fn a_date_with_a_non_ascii_character_is_not_a_date_and_does_not_panic() {
    for bad in ["2026-01-0é", "é026-01-01", "2026-01-01T0€:00Z", "2026-01-01T00:00+0€:00", "２０２６-01-01"] {
        assert_eq!(parse_date(bad), None, "{bad}");
    }
    assert!(parse_date("2026-01-02T03:04:05Z").is_some());
}

#[test]
fn simulate_with_a_non_ascii_date_context_value_answers_instead_of_crashing() {
    let dir = tempfile::tempdir().unwrap();
    let policy = serde_json::json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*",
        "Condition": {"DateLessThan": {"aws:CurrentTime": "2030-01-0é"}}}]});
    std::fs::write(dir.path().join("p.json"), policy.to_string()).unwrap();
    let out = run(
        bare_command(dir.path()),
        &[
            "simulate",
            "--principal",
            "arn:aws:iam::123456789012:user/a",
            "--action",
            "s3:GetObject",
            "--resource",
            "arn:aws:s3:::b/k",
            "--policy",
            "p.json",
            "--context",
            "aws:CurrentTime=2026-01-0€T00:00:00Z",
        ],
    );
    assert_eq!(out.status.code(), Some(1), "denied, not a crash: {}", stderr(&out));
}

#[test]
fn a_plus_in_a_url_encoded_document_stays_a_plus() {
    // RFC 3986 encoding, as IAM returns documents: %2B is a plus, %20 a space.
    let encoded = "%7B%22Sid%22%3A%22a%2Bb%20c%22%7D";
    assert_eq!(decode_document(encoded), r#"{"Sid":"a+b c"}"#);
    let literal_plus = "%7B%22Sid%22%3A%22a+b%22%7D";
    assert_eq!(decode_document(literal_plus), r#"{"Sid":"a+b"}"#);
}

#[test]
fn redaction_of_a_name_that_is_also_a_json_key_keeps_the_snapshot_whole() {
    let text = std::fs::read_to_string(project_root().join("examples/healthy.snapshot.json")).unwrap();
    // A role literally named "role" and a bucket named "policy": both are keys of the snapshot.
    let text = text.replace("BedrockBatchRole", "role").replace("demo-batch-in", "policy");
    let snap = bedbatch_doctor::snapshot::Snapshot::from_json(&text).unwrap();
    let red = snap.redact().expect("redaction keeps the structure");
    let v = serde_json::to_value(&red).unwrap();
    assert!(v.get("role").is_some(), "the \"role\" key survives");
    assert!(red.settings.role_name.starts_with("redacted"), "the role's name is replaced: {}", red.settings.role_name);
    let role = red.role.value().unwrap().as_ref().unwrap();
    assert!(
        role.arn.ends_with(":role/service-role/redacted0") || role.arn.contains(":role/service-role/redacted"),
        "the ARN keeps its type and path: {}",
        role.arn
    );
    assert!(!red.caller.arn.contains("123456789012"));
    assert!(!red.settings.input_uri.contains("policy"), "{}", red.settings.input_uri);
    assert!(red.buckets.iter().all(|b| b.name != "policy"));
    let round: bedbatch_doctor::snapshot::Snapshot = serde_json::from_value(v).unwrap();
    assert_eq!(round, red);
}

/// Found by the `policy` fuzz target (fuzz/artifacts/policy/crash-d014d66a…): a condition
/// operator with a non-ASCII character in it, among other oddities. Parsing and evaluating the
/// document must not panic, and decide must agree with evaluate.
#[test]
fn fuzz_policy_crash_d014d66a_operator_with_a_non_ascii_character() {
    let doc = "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Sid\":\"P\",\"Effect\":\"Allow\",\"Action\":\"iam:PassRole\",\"Resource\":\"arn9aws:iam::123456789012:role/service-role/R\",\"Condition\":{\"StringEquals\":{\"iam:PassedToService\":\"bdeck.amazonaws.com\"},\"ForAllValues\u{32c}tringEquals\":{\"aws:TagKeys\":[\"a\"]},\"DateLessThan\":{\"aws:CurrentTime\":\"2030-01-01t00:00:00Z\"}}},{\"Effect\":\"Deny\",\"NotAction\":\"s3:*\",\"NotResource\":\"arn:aws:s3:::b/*\",\"Condition\":{\"Null\":{\"aws:SourceIp\":\"true\"},\"IpAddress\":{\"aws:SourceIp\":\"10.0.0.rock.amazonaws.com\"},\"ForAllValues:StringEquals\":{\"aws:TagKeys\":[\"a\"]},\"DateLessThan\":{\"aws:CurrentTime\":\"2030-01-01t00:00:00Z\"}}},{\"Effect\":\"Deny\",\"NotAction\":\"s3:*\",\"NotResource\":\"arn:aws:s3:::b/*\",\"Condition\":{\"Null\":{\"aws:SourceIp\":\"true\"},\"IpAddress\":{\"aws:SourceIp\":\"10.0.0.0/8\"}}}]}";
    bedbatch_doctor::policy::selfcheck::evaluate_agrees_with_decide(doc);
}
