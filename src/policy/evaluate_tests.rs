//! The unit cases of `evaluate.rs` (AWS's evaluation logic, each with its sentence).

use super::super::document::Kind;
use super::*;

fn pol(name: &str, json: &str, kind: Kind) -> NamedPolicy {
    NamedPolicy { name: name.into(), policy: Policy::parse_str(json, kind).unwrap() }
}

fn req(principal: &str, action: &str, resource: &str) -> Request {
    Request {
        principal: PrincipalId::from_arn(principal),
        action: action.into(),
        resource: resource.into(),
        resource_account: String::new(),
        context: Context::default(),
    }
}

const USER: &str = "arn:aws:iam::111111111111:user/alice";

#[test]
fn allow_implicit_and_explicit_deny() {
    let allow = pol("a", r#"{"Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}}"#, Kind::Identity);
    let deny = pol("d", r#"{"Statement":{"Effect":"Deny","Action":"s3:*","Resource":"*"}}"#, Kind::Identity);
    let r = req(USER, "s3:GetObject", "arn:aws:s3:::b/k");
    assert_eq!(evaluate(&r, &PolicySet { identity: vec![allow.clone()], ..Default::default() }).decision, Decision::Allow);
    assert_eq!(
        evaluate(&req(USER, "s3:PutObject", "arn:aws:s3:::b/k"), &PolicySet { identity: vec![allow.clone()], ..Default::default() }).decision,
        Decision::ImplicitDeny
    );
    let e = evaluate(&r, &PolicySet { identity: vec![allow, deny], ..Default::default() });
    assert_eq!(e.decision, Decision::ExplicitDeny);
    assert!(e.reason.contains("policy d"), "{}", e.reason);
}

#[test]
fn not_action_with_allow_and_not_resource() {
    let p = pol("p", r#"{"Statement":{"Effect":"Allow","NotAction":"iam:*","NotResource":"arn:aws:s3:::secret/*"}}"#, Kind::Identity);
    let set = PolicySet { identity: vec![p], ..Default::default() };
    assert_eq!(evaluate(&req(USER, "s3:GetObject", "arn:aws:s3:::b/k"), &set).decision, Decision::Allow);
    assert_eq!(evaluate(&req(USER, "iam:PassRole", "arn:aws:iam::111111111111:role/r"), &set).decision, Decision::ImplicitDeny);
    assert_eq!(evaluate(&req(USER, "s3:GetObject", "arn:aws:s3:::secret/k"), &set).decision, Decision::ImplicitDeny);
}

#[test]
fn boundary_limits_and_resource_policy_grants() {
    let allow = pol("a", r#"{"Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*"}}"#, Kind::Identity);
    let boundary = pol("b", r#"{"Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}}"#, Kind::Identity);
    let set = PolicySet { identity: vec![allow], boundary: Some(boundary.clone()), ..Default::default() };
    let e = evaluate(&req(USER, "s3:PutObject", "arn:aws:s3:::b/k"), &set);
    assert_eq!(e.decision, Decision::ImplicitDeny);
    assert!(e.reason.contains("permissions boundary"));
    // Same account, a bucket policy naming the user grants without an identity policy.
    let bucket = pol(
        "bucket",
        &format!(r#"{{"Statement":{{"Effect":"Allow","Principal":{{"AWS":"{USER}"}},"Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}}}}"#),
        Kind::Resource,
    );
    let set = PolicySet { resource: Some(bucket.clone()), ..Default::default() };
    assert_eq!(evaluate(&req(USER, "s3:GetObject", "arn:aws:s3:::b/k"), &set).decision, Decision::Allow);
    // Naming the account root only delegates.
    let root = pol(
        "bucket",
        r#"{"Statement":{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111111111111:root"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}}"#,
        Kind::Resource,
    );
    let set = PolicySet { resource: Some(root), ..Default::default() };
    assert_eq!(evaluate(&req(USER, "s3:GetObject", "arn:aws:s3:::b/k"), &set).decision, Decision::ImplicitDeny);
    // Cross-account: both sides needed.
    let mut r = req(USER, "s3:GetObject", "arn:aws:s3:::b/k");
    r.resource_account = "222222222222".into();
    let set = PolicySet { resource: Some(bucket), ..Default::default() };
    assert_eq!(evaluate(&r, &set).decision, Decision::ImplicitDeny);
}

/// IAM User Guide, "AWS global condition context keys", aws:PrincipalArn: "For IAM roles, the
/// request context returns the ARN of the role, not the ARN of the user that assumed the
/// role." and "Do not specify the assumed role session ARN as a value for this condition key."
#[test]
fn principal_arn_of_a_role_session_is_the_roles_arn_with_its_path() {
    let session = PrincipalId::from_arn("arn:aws:sts::111111111111:assumed-role/Batch/s1");
    assert_eq!(session.principal_arn(), "arn:aws:iam::111111111111:role/Batch", "the path is unknown from the session ARN");
    let session = session.with_role_arn("arn:aws:iam::111111111111:role/service-role/Batch");
    assert_eq!(session.principal_arn(), "arn:aws:iam::111111111111:role/service-role/Batch");
    assert_eq!(session.arn, "arn:aws:sts::111111111111:assumed-role/Batch/s1", "the request still names the session");
    let user = PrincipalId::from_arn(USER).with_role_arn("arn:aws:iam::111111111111:role/R");
    assert_eq!(user.principal_arn(), USER, "a user is its own aws:PrincipalArn");
    // An SCP exempting the role by its ARN exempts the role's sessions.
    let allow = pol("a", r#"{"Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}"#, Kind::Identity);
    let lock = r#"{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*"},{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"ArnNotLike":{"aws:PrincipalArn":"arn:aws:iam::*:role/service-role/Batch"}}}]}"#;
    let set = PolicySet { identity: vec![allow], scps: vec![level("r-root", &[lock], Kind::Identity)], ..Default::default() };
    let mut r = req(&session.arn, "s3:GetObject", "arn:aws:s3:::b/k");
    r.principal = session.clone();
    r.context.set("aws:PrincipalArn", session.principal_arn());
    assert_eq!(evaluate(&r, &set).decision, Decision::Allow);
    r.context.set("aws:PrincipalArn", &session.arn);
    assert_eq!(evaluate(&r, &set).decision, Decision::ExplicitDeny);
}

#[test]
fn trust_policy_with_role_path_and_session_arn() {
    let trust = pol(
        "trust",
        r#"{"Statement":{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111111111111:role/service-role/Caller"},"Action":"sts:AssumeRole"}}"#,
        Kind::Resource,
    );
    let set = PolicySet { resource: Some(trust), resource_kind: ResourcePolicyKind::RoleTrust, ..Default::default() };
    let r = req("arn:aws:sts::111111111111:assumed-role/Caller/session1", "sts:AssumeRole", "arn:aws:iam::111111111111:role/Target");
    assert_eq!(evaluate(&r, &set).decision, Decision::Allow);
    let r = req("arn:aws:sts::111111111111:assumed-role/Other/session1", "sts:AssumeRole", "arn:aws:iam::111111111111:role/Target");
    assert_eq!(evaluate(&r, &set).decision, Decision::ImplicitDeny);
}

#[test]
fn bedrock_service_principal_in_trust_policy() {
    let trust = pol(
        "trust",
        r#"{"Statement":{"Effect":"Allow","Principal":{"Service":"bedrock.amazonaws.com"},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"aws:SourceAccount":"111111111111"}}}}"#,
        Kind::Resource,
    );
    let set = PolicySet { resource: Some(trust), resource_kind: ResourcePolicyKind::RoleTrust, ..Default::default() };
    let mut r = req("bedrock.amazonaws.com", "sts:AssumeRole", "arn:aws:iam::111111111111:role/Batch");
    r.context.set("aws:SourceAccount", "111111111111");
    assert_eq!(evaluate(&r, &set).decision, Decision::Allow);
    r.context.set("aws:SourceAccount", "999999999999");
    let e = evaluate(&r, &set);
    assert_eq!(e.decision, Decision::ImplicitDeny);
    assert!(e.trace[0].conditions[0].reason.contains("fails"));
}

fn level(target: &str, docs: &[&str], kind: Kind) -> OrgLevel {
    let level = if target.starts_with("r-") {
        OrgLevelKind::Root
    } else if target.starts_with("ou-") {
        OrgLevelKind::Ou
    } else {
        OrgLevelKind::Account
    };
    OrgLevel { target: target.into(), kind: level, policies: docs.iter().enumerate().map(|(i, d)| pol(&format!("{target}-{i}"), d, kind)).collect() }
}

#[test]
fn scps_need_an_allow_at_every_level_and_deny_anywhere() {
    let full = r#"{"Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}"#;
    let only_s3 = r#"{"Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*"}}"#;
    let deny_bedrock = r#"{"Statement":{"Sid":"NoBatch","Effect":"Deny","Action":"bedrock:CreateModelInvocationJob","Resource":"*"}}"#;
    let allow = pol("a", r#"{"Statement":{"Effect":"Allow","Action":"bedrock:*","Resource":"*"}}"#, Kind::Identity);
    let r = req(USER, "bedrock:CreateModelInvocationJob", "arn:aws:bedrock:us-east-1:111111111111:model-invocation-job/*");
    let set = |scps: Vec<OrgLevel>| PolicySet { identity: vec![allow.clone()], scps, ..Default::default() };
    assert_eq!(evaluate(&r, &set(vec![level("r-root", &[full], Kind::Identity)])).decision, Decision::Allow);
    // The OU allows only S3: the account's FullAWSAccess does not make up for it.
    let e = evaluate(
        &r,
        &set(vec![
            level("r-root", &[full], Kind::Identity),
            level("ou-1", &[only_s3], Kind::Identity),
            level("111111111111", &[full], Kind::Identity),
        ]),
    );
    assert_eq!((e.decision, e.denied_by), (Decision::ImplicitDeny, Some(DeniedBy::Scp)));
    assert!(e.reason.contains("ou-1"), "{}", e.reason);
    let e = evaluate(&r, &set(vec![level("r-root", &[full, deny_bedrock], Kind::Identity)]));
    assert_eq!(e.decision, Decision::ExplicitDeny);
    assert!(e.reason.contains("service control") && e.reason.contains("NoBatch"), "{}", e.reason);
    // SCPs never bind a service principal.
    let svc = req("bedrock.amazonaws.com", "bedrock:CreateModelInvocationJob", "*");
    let trust_like = PolicySet { identity: vec![allow.clone()], scps: vec![level("r-root", &[deny_bedrock], Kind::Identity)], ..Default::default() };
    assert_eq!(evaluate(&svc, &trust_like).decision, Decision::Allow);
}

#[test]
fn rcps_deny_only_and_only_for_the_services_that_support_them() {
    let deny_all = r#"{"Statement":{"Effect":"Deny","Principal":"*","Action":["s3:*","bedrock:*"],"Resource":"*"}}"#;
    let allow = pol("a", r#"{"Statement":{"Effect":"Allow","Action":["s3:GetObject","bedrock:InvokeModel"],"Resource":"*"}}"#, Kind::Identity);
    let set = PolicySet { identity: vec![allow], rcps: vec![level("r-root", &[deny_all], Kind::Resource)], ..Default::default() };
    assert_eq!(evaluate(&req(USER, "s3:GetObject", "arn:aws:s3:::b/k"), &set).decision, Decision::ExplicitDeny);
    // Bedrock is not among the services RCPs apply to.
    assert_eq!(evaluate(&req(USER, "bedrock:InvokeModel", "arn:aws:bedrock:us-east-1::foundation-model/m"), &set).decision, Decision::Allow);
    // With no Deny, an RCP level lets through (RCPFullAWSAccess is always attached).
    let quiet = PolicySet {
        rcps: vec![level(
            "r-root",
            &[r#"{"Statement":{"Effect":"Deny","Principal":"*","Action":"s3:DeleteObject","Resource":"*"}}"#],
            Kind::Resource,
        )],
        ..set.clone()
    };
    assert_eq!(evaluate(&req(USER, "s3:GetObject", "arn:aws:s3:::b/k"), &quiet).decision, Decision::Allow);
}

#[test]
fn rules_aws_applies_before_any_policy() {
    let deny_all = pol("d", r#"{"Statement":{"Effect":"Deny","Action":"*","Resource":"*"}}"#, Kind::Identity);
    let allow_all = pol("a", r#"{"Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}"#, Kind::Identity);
    // GetCallerIdentity is allowed even under an explicit Deny.
    let e = evaluate(&req(USER, "sts:GetCallerIdentity", "*"), &PolicySet { identity: vec![deny_all], ..Default::default() });
    assert_eq!(e.decision, Decision::Allow);
    // AWS-managed policies and /aws-reserved/ roles cannot be changed, even by an admin.
    let admin = PolicySet { identity: vec![allow_all.clone()], ..Default::default() };
    let e = evaluate(&req(USER, "iam:CreatePolicyVersion", "arn:aws:iam::aws:policy/AdministratorAccess"), &admin);
    assert_eq!((e.decision, e.denied_by), (Decision::ImplicitDeny, Some(DeniedBy::NotModifiable)));
    let e = evaluate(&req(USER, "iam:PutRolePolicy", "arn:aws:iam::111111111111:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_Admin_1"), &admin);
    assert_eq!(e.denied_by, Some(DeniedBy::NotModifiable));
    assert_eq!(evaluate(&req(USER, "iam:GetPolicy", "arn:aws:iam::aws:policy/AdministratorAccess"), &admin).decision, Decision::Allow);
    // KMS: identity policies alone never grant a key.
    let kms = PolicySet { identity: vec![allow_all], resource_kind: ResourcePolicyKind::KmsKey, ..Default::default() };
    let e = evaluate(&req(USER, "kms:Decrypt", "arn:aws:kms:us-east-1:111111111111:key/k"), &kms);
    assert_eq!((e.decision, e.denied_by), (Decision::ImplicitDeny, Some(DeniedBy::ResourcePolicy)));
    assert!(e.reason.contains("key policy"), "{}", e.reason);
}

/// AWS KMS API Reference, ListKeys: "Required permissions: kms:ListKeys (IAM policy)". AWS
/// KMS Developer Guide, "Controlling access to aliases": "kms:CreateAlias for the alias.
/// Provide this permission in an IAM policy that is attached to the principal who is allowed
/// to create the alias." and "principals who manage aliases must have permission to call the
/// alias operation on the alias and on all affected KMS keys" (the key's half is a request on
/// the key, under its key policy).
#[test]
fn kms_list_keys_and_alias_operations_are_authorised_by_iam_policies_alone() {
    const ALIAS: &str = "arn:aws:kms:us-east-1:111111111111:alias/batch";
    const KEY: &str = "arn:aws:kms:us-east-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab";
    let allow = pol(
        "a",
        &format!(
            r#"{{"Statement":[{{"Effect":"Allow","Action":"kms:ListKeys","Resource":"*"}},{{"Effect":"Allow","Action":["kms:CreateAlias","kms:UpdateAlias","kms:DeleteAlias"],"Resource":["{ALIAS}","{KEY}"]}}]}}"#
        ),
        Kind::Identity,
    );
    // simulate marks every kms: request as a key request; the engine narrows it to keys.
    let set = PolicySet { identity: vec![allow.clone()], resource_kind: ResourcePolicyKind::KmsKey, ..Default::default() };
    assert_eq!(evaluate(&req(USER, "kms:ListKeys", "*"), &set).decision, Decision::Allow);
    for action in ["kms:CreateAlias", "kms:UpdateAlias", "kms:DeleteAlias"] {
        let e = evaluate(&req(USER, action, ALIAS), &set);
        assert_eq!(e.decision, Decision::Allow, "{action}: {}", e.reason);
        assert_eq!(decide(&req(USER, action, ALIAS), &set), Decision::Allow);
        // The same operation on the key still needs the key policy.
        let e = evaluate(&req(USER, action, KEY), &set);
        assert_eq!((e.decision, e.denied_by), (Decision::ImplicitDeny, Some(DeniedBy::ResourcePolicy)), "{action}");
    }
    // Without an IAM grant, ListKeys is denied for want of one, not for want of a key policy.
    let none = PolicySet { resource_kind: ResourcePolicyKind::KmsKey, ..Default::default() };
    let e = evaluate(&req(USER, "kms:ListKeys", "*"), &none);
    assert_eq!((e.decision, e.denied_by), (Decision::ImplicitDeny, Some(DeniedBy::NoAllow)), "{}", e.reason);
    // A key policy that allows only the key's half does not make the alias's half allowed.
    let key_policy = pol(
        "key",
        r#"{"Statement":{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111111111111:user/alice"},"Action":"kms:CreateAlias","Resource":"*"}}"#,
        Kind::Resource,
    );
    let only_key = PolicySet { resource: Some(key_policy), resource_kind: ResourcePolicyKind::KmsKey, ..Default::default() };
    assert_eq!(evaluate(&req(USER, "kms:CreateAlias", KEY), &only_key).decision, Decision::Allow);
}

/// A service-linked role is changed only by its service (IAM API reference, PutRolePolicy,
/// error UnmodifiableEntity: "service-linked roles are protected AWS resources. Only the service
/// that depends on the service-linked role can modify or delete the role on your behalf"), even
/// by an administrator; reading it is decided by the policies.
#[test]
fn service_linked_roles_are_not_modifiable() {
    let admin = PolicySet {
        identity: vec![pol("admin", r#"{"Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}"#, Kind::Identity)],
        ..Default::default()
    };
    let slr = "arn:aws:iam::111111111111:role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling";
    for action in ["iam:PutRolePolicy", "iam:UpdateAssumeRolePolicy", "iam:AttachRolePolicy", "iam:DeleteRolePolicy", "iam:DeleteRole", "iam:TagRole"]
    {
        let e = evaluate(&req(USER, action, slr), &admin);
        assert_eq!(e.decision, Decision::ImplicitDeny, "{action}");
        assert_eq!(e.denied_by, Some(DeniedBy::NotModifiable), "{action}");
        assert!(e.reason.contains("service-linked role"), "{action}: {}", e.reason);
    }
    assert_eq!(evaluate(&req(USER, "iam:GetRole", slr), &admin).decision, Decision::Allow);
    // A role whose name merely starts so, at another path, is an ordinary role.
    let ordinary = "arn:aws:iam::111111111111:role/team/aws-service-role-copy";
    assert_eq!(evaluate(&req(USER, "iam:PutRolePolicy", ordinary), &admin).decision, Decision::Allow);
}

/// No AWS page refuses iam:PassRole on a service-linked role (path /aws-service-role/) or a
/// role under /aws-reserved/ when an identity policy allows it; the IAM User Guide, "Granting
/// a user permissions to pass a role to an AWS service", says the opposite for the first:
/// "When you create a service-linked role, you must also have permission to pass that role to
/// the service." So PassRole is decided by the policies, as for any role; only the writes of
/// `iam_write` are refused on /aws-reserved/ roles.
#[test]
fn pass_role_on_service_linked_and_reserved_roles_is_decided_by_the_policies() {
    let allow = pol("a", r#"{"Statement":{"Effect":"Allow","Action":"iam:PassRole","Resource":"*"}}"#, Kind::Identity);
    let set = PolicySet { identity: vec![allow], ..Default::default() };
    for role in [
        "arn:aws:iam::111111111111:role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling",
        "arn:aws:iam::111111111111:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_Admin_0123456789abcdef",
    ] {
        assert_eq!(evaluate(&req(USER, "iam:PassRole", role), &set).decision, Decision::Allow, "{role}");
        assert_eq!(evaluate(&req(USER, "iam:PassRole", role), &PolicySet::default()).decision, Decision::ImplicitDeny, "{role}");
    }
}

/// The combinations of AWS's "Policy evaluation logic" page (IAM User Guide; the table
/// "Resource-based policies and implicit denies in other policy types (same account)", its
/// cross-account page, and the "Session policies" section of "Policies and permissions in
/// IAM"): which principal ARN a resource-based policy names decides whether an implicit deny
/// in the identity policy, the permissions boundary or the session policy limits its grant.
/// Each case carries the sentence it is built from; `decide` must agree with `evaluate`.
#[test]
fn resource_policy_grants_under_boundaries_and_session_policies_follow_aws_table() {
    const ACCT: &str = "111111111111";
    const SESSION: &str = "arn:aws:sts::111111111111:assumed-role/Batch/s1";
    const ROLE: &str = "arn:aws:iam::111111111111:role/Batch";
    const FEDERATED: &str = "arn:aws:sts::111111111111:federated-user/alice";
    const OBJECT: &str = "arn:aws:s3:::b/k";
    let allow_get = || pol("allow", r#"{"Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}}"#, Kind::Identity);
    let allow_other = || pol("other", r#"{"Statement":{"Effect":"Allow","Action":"sqs:SendMessage","Resource":"*"}}"#, Kind::Identity);
    let deny_get = || pol("deny", r#"{"Statement":{"Effect":"Deny","Action":"s3:GetObject","Resource":"*"}}"#, Kind::Identity);
    let bucket = |principal: &str| {
        pol(
            "bucket",
            &format!(
                r#"{{"Statement":{{"Effect":"Allow","Principal":{{"AWS":"{principal}"}},"Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}}}}"#
            ),
            Kind::Resource,
        )
    };
    struct Case {
        why: &'static str,
        principal: &'static str,
        named: &'static str,
        resource_account: &'static str,
        identity: Option<NamedPolicy>,
        boundary: Option<NamedPolicy>,
        session: Option<NamedPolicy>,
        want: Decision,
    }
    let same = ACCT;
    let other = "222222222222";
    #[rustfmt::skip]
    let cases = vec![
        // IAM role: "Resource-based policies that grant permissions to an IAM role ARN are
        // limited by an implicit deny in a permissions boundary or session policy."
        Case { why: "role ARN, identity implicit deny", principal: SESSION, named: ROLE, resource_account: same, identity: None, boundary: None, session: None, want: Decision::Allow, },
        Case { why: "role ARN, boundary implicit deny", principal: SESSION, named: ROLE, resource_account: same, identity: Some(allow_get()), boundary: Some(allow_other()), session: None, want: Decision::ImplicitDeny, },
        Case { why: "role ARN, session policy implicit deny", principal: SESSION, named: ROLE, resource_account: same, identity: Some(allow_get()), boundary: None, session: Some(allow_other()), want: Decision::ImplicitDeny, },
        // Session policies: "The session policy limits the total permissions granted by the
        // resource-based policy and the identity-based policy."
        Case { why: "role ARN, session policy allows", principal: SESSION, named: ROLE, resource_account: same, identity: None, boundary: None, session: Some(allow_get()), want: Decision::Allow, },
        // IAM role session: "Permissions granted directly to a session are not limited by an
        // implicit deny in an identity-based policy, a permissions boundary, or session policy."
        Case { why: "session ARN, identity implicit deny", principal: SESSION, named: SESSION, resource_account: same, identity: None, boundary: None, session: None, want: Decision::Allow, },
        Case { why: "session ARN, boundary implicit deny", principal: SESSION, named: SESSION, resource_account: same, identity: None, boundary: Some(allow_other()), session: None, want: Decision::Allow, },
        // Session policies: "The resource-based policy permissions are not limited by the
        // session policy."
        Case { why: "session ARN, session policy implicit deny", principal: SESSION, named: SESSION, resource_account: same, identity: None, boundary: None, session: Some(allow_other()), want: Decision::Allow, },
        // "An explicit deny in any of these policies overrides the allow."
        Case { why: "session ARN, session policy explicit deny", principal: SESSION, named: SESSION, resource_account: same, identity: None, boundary: None, session: Some(deny_get()), want: Decision::ExplicitDeny, },
        Case { why: "session ARN, boundary explicit deny", principal: SESSION, named: SESSION, resource_account: same, identity: None, boundary: Some(deny_get()), session: None, want: Decision::ExplicitDeny, },
        // IAM user: "resource-based policies that grant permissions to an IAM user ARN (that
        // is not a federated user session) are not limited by an implicit deny in an
        // identity-based policy or permissions boundary."
        Case { why: "user ARN, boundary implicit deny", principal: USER, named: USER, resource_account: same, identity: None, boundary: Some(allow_other()), session: None, want: Decision::Allow, },
        // IAM federated user sessions: "resource-based policies that grant permissions to a
        // federated user ARN grant permissions directly to the session. Permissions granted
        // directly to a session are not limited by an implicit deny in an identity-based
        // policy, a permissions boundary, or session policy."
        Case { why: "federated session ARN, session policy implicit deny", principal: FEDERATED, named: FEDERATED, resource_account: same, identity: None, boundary: None, session: Some(allow_other()), want: Decision::Allow, },
        Case { why: "federated session ARN, boundary implicit deny", principal: FEDERATED, named: FEDERATED, resource_account: same, identity: None, boundary: Some(allow_other()), session: Some(allow_get()), want: Decision::Allow, },
        Case { why: "federated session ARN, no session policy", principal: FEDERATED, named: FEDERATED, resource_account: same, identity: None, boundary: None, session: None, want: Decision::Allow, },
        // Session principals: "If there is no session policy, the code checks whether the
        // principal is a role session. If the principal is a role session, then the request
        // is Allowed. Otherwise, the request is implicitly denied" (a federated user session
        // gets its permissions from the session policy it was given).
        Case { why: "federated session, identity allows, no session policy", principal: FEDERATED, named: ROLE, resource_account: same, identity: Some(allow_get()), boundary: None, session: None, want: Decision::ImplicitDeny, },
        Case { why: "federated session, identity and session policy allow", principal: FEDERATED, named: ROLE, resource_account: same, identity: Some(allow_get()), boundary: None, session: Some(allow_get()), want: Decision::Allow, },
        // Cross-account: "AWS evaluates the request in the trusting account and the trusted
        // account ... The request is allowed only if both evaluations return a decision of
        // Allow", and in the trusted account "it checks the identity-based policy and any
        // policies that can limit an identity-based policy".
        Case { why: "cross-account session ARN, identity implicit deny", principal: SESSION, named: SESSION, resource_account: other, identity: None, boundary: None, session: None, want: Decision::ImplicitDeny, },
        Case { why: "cross-account session ARN, session policy implicit deny", principal: SESSION, named: SESSION, resource_account: other, identity: Some(allow_get()), boundary: None, session: Some(allow_other()), want: Decision::ImplicitDeny, },
        Case { why: "cross-account session ARN, boundary implicit deny", principal: SESSION, named: SESSION, resource_account: other, identity: Some(allow_get()), boundary: Some(allow_other()), session: None, want: Decision::ImplicitDeny, },
        Case { why: "cross-account role ARN, every identity-side policy allows", principal: SESSION, named: ROLE, resource_account: other, identity: Some(allow_get()), boundary: Some(allow_get()), session: Some(allow_get()), want: Decision::Allow, },
        Case { why: "cross-account role ARN, session policy implicit deny", principal: SESSION, named: ROLE, resource_account: other, identity: Some(allow_get()), boundary: None, session: Some(allow_other()), want: Decision::ImplicitDeny, },
    ];
    for c in cases {
        let mut r = req(c.principal, "s3:GetObject", OBJECT);
        r.resource_account = c.resource_account.into();
        let set = PolicySet {
            identity: c.identity.into_iter().collect(),
            resource: Some(bucket(c.named)),
            boundary: c.boundary,
            session: c.session,
            ..Default::default()
        };
        let e = evaluate(&r, &set);
        assert_eq!(e.decision, c.want, "{}: {}", c.why, e.reason);
        assert_eq!(decide(&r, &set), c.want, "decide: {}", c.why);
    }
}

#[test]
fn a_not_principal_deny_always_denies_a_principal_with_a_boundary() {
    let allow = pol("a", r#"{"Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*"}}"#, Kind::Identity);
    let bucket = pol(
        "bucket",
        &format!(r#"{{"Statement":{{"Effect":"Deny","NotPrincipal":{{"AWS":"{USER}"}},"Action":"s3:*","Resource":"arn:aws:s3:::b/*"}}}}"#),
        Kind::Resource,
    );
    let r = req(USER, "s3:GetObject", "arn:aws:s3:::b/k");
    let without = PolicySet { identity: vec![allow.clone()], resource: Some(bucket.clone()), ..Default::default() };
    assert_eq!(evaluate(&r, &without).decision, Decision::Allow, "NotPrincipal exempts alice");
    let with = PolicySet { identity: vec![allow.clone()], resource: Some(bucket), boundary: Some(allow), ..Default::default() };
    assert_eq!(evaluate(&r, &with).decision, Decision::ExplicitDeny, "with a boundary the exemption does not hold");
}

#[test]
fn wildcard_account_in_resource_arn() {
    let p = pol("p", r#"{"Statement":{"Effect":"Allow","Action":"iam:PassRole","Resource":"arn:aws:iam::*:role/service-role/*"}}"#, Kind::Identity);
    let set = PolicySet { identity: vec![p], ..Default::default() };
    assert_eq!(evaluate(&req(USER, "iam:PassRole", "arn:aws:iam::111111111111:role/service-role/Batch"), &set).decision, Decision::Allow);
    assert_eq!(evaluate(&req(USER, "iam:PassRole", "arn:aws:iam::111111111111:role/Batch"), &set).decision, Decision::ImplicitDeny);
}
