//! The organization family over snapshots made by `SnapshotBuilder`.

use serde_json::{json, Value};

use crate::builder::SnapshotBuilder as B;
use crate::checks::{self, Outcome};
use crate::findings::Finding;
use crate::snapshot::Snapshot;

const HAIKU45: &str = "us.anthropic.claude-haiku-4-5-20251001-v1:0";
const US: &[&str] = &["us-east-1", "us-east-2", "us-west-2"];

fn run(snap: &Snapshot) -> Outcome {
    checks::run_snapshot(snap).expect("the snapshot's settings are valid")
}

fn scp_denies(o: &Outcome) -> Vec<&Finding> {
    o.findings.iter().filter(|f| f.code.as_str() == "scp-denies").collect()
}

fn full() -> Value {
    json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]})
}

/// A Region lock to us-east-1 with an exemption on aws:PrincipalArn.
fn region_lock_exempting(arn: &str) -> Value {
    json!({"Version": "2012-10-17", "Statement": [{"Sid": "RegionLock", "Effect": "Deny", "NotAction": ["iam:*", "sts:*", "organizations:*"], "Resource": "*",
        "Condition": {"StringNotEquals": {"aws:RequestedRegion": ["us-east-1"]}, "ArnNotLike": {"aws:PrincipalArn": arn}}}]})
}

/// IAM User Guide, "AWS global condition context keys", aws:PrincipalArn: "For IAM roles, the
/// request context returns the ARN of the role, not the ARN of the user that assumed the role."
/// The fix text of scp-denies advises exempting the role with an aws:PrincipalArn condition:
/// following it clears the finding; an exemption naming only Bedrock's session does not.
#[test]
fn a_region_lock_exempting_the_service_role_by_its_arn_clears_scp_denies() {
    let profile = || B::healthy().profile(HAIKU45, US).rendered();
    let by_role = profile().scps(vec![vec![full(), region_lock_exempting("arn:aws:iam::*:role/service-role/BedrockBatchRole")]]).build();
    let o = run(&by_role);
    assert!(scp_denies(&o).is_empty(), "the role's ARN (with its path) is aws:PrincipalArn: {:#?}", o.findings);

    let by_session = profile().scps(vec![vec![full(), region_lock_exempting("arn:aws:sts::*:assumed-role/BedrockBatchRole/*")]]).build();
    let o = run(&by_session);
    let f = scp_denies(&o);
    assert!(
        !f.is_empty() && f.iter().all(|f| f.evidence.contains("bedrock:InvokeModel") && f.evidence.contains("RegionLock")),
        "a session ARN is never aws:PrincipalArn: {f:#?}"
    );
    // Without the path the role's ARN does not match either: the path is part of it.
    let no_path = profile().scps(vec![vec![full(), region_lock_exempting("arn:aws:iam::*:role/BedrockBatchRole")]]).build();
    assert!(!scp_denies(&run(&no_path)).is_empty());
}

/// The caller as an SSO user: a role session whose role lives under /aws-reserved/. The
/// snapshot records the role's ARN as GetRole answered it; aws:PrincipalArn is that ARN.
#[test]
fn an_sso_caller_is_matched_by_its_role_arn_with_the_path() {
    const SESSION: &str = "arn:aws:sts::123456789012:assumed-role/AWSReservedSSO_BatchUsers_0123456789abcdef/alice@example.com";
    const ROLE: &str = "arn:aws:iam::123456789012:role/aws-reserved/sso.amazonaws.com/eu-west-1/AWSReservedSSO_BatchUsers_0123456789abcdef";
    let only = |arn: &str| {
        json!({"Version": "2012-10-17", "Statement": [{"Sid": "OnlyBatchUsers", "Effect": "Deny", "Action": "bedrock:CreateModelInvocationJob", "Resource": "*",
            "Condition": {"ArnNotLike": {"aws:PrincipalArn": arn}}}]})
    };
    let sso = |exempt: &str, known_path: bool| {
        let mut snap = B::healthy().scps(vec![vec![full(), only(exempt)]]).build();
        snap.caller.arn = SESSION.into();
        snap.settings.caller_arn = Some(SESSION.into());
        snap.caller.role_arn = known_path.then(|| ROLE.to_string());
        run(&snap)
    };
    let o = sso("arn:aws:iam::*:role/aws-reserved/sso.amazonaws.com/*/AWSReservedSSO_BatchUsers_*", true);
    assert!(scp_denies(&o).is_empty(), "{:#?}", o.findings);
    let o = sso("arn:aws:sts::*:assumed-role/AWSReservedSSO_BatchUsers_*/*", true);
    let f = scp_denies(&o);
    assert!(!f.is_empty() && f.iter().all(|f| f.evidence.contains("OnlyBatchUsers") && f.evidence.contains("the caller")), "{f:#?}");
    // A snapshot without the role's ARN (taken by an older version): the path-less role/NAME.
    let o = sso("arn:aws:iam::*:role/AWSReservedSSO_BatchUsers_*", false);
    assert!(scp_denies(&o).is_empty(), "{:#?}", o.findings);
}
