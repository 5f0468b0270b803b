//! Service role trust: the role exists and `bedrock.amazonaws.com` may assume it as Bedrock
//! does, with the confused-deputy conditions AWS documents ("Create a custom service role for
//! batch inference": aws:SourceAccount and aws:SourceArn = model-invocation-job ARNs).

use crate::findings::Finding;

crate::family_codes! { "trust", "Service role trust";
    RoleMissing = "role-missing", Error, "The service role does not exist.";
    TrustWrongPrincipal = "trust-wrong-principal", Error, "The service role's trust policy does not let bedrock.amazonaws.com assume it.";
    TrustSourceAccountMismatch = "trust-source-account-mismatch", Error, "The trust policy's aws:SourceAccount condition names another account.";
    TrustSourceArnMismatch = "trust-source-arn-mismatch", Error, "The trust policy's aws:SourceArn condition names another partition, region, account or resource type.";
    TrustUnsatisfiableCondition = "trust-unsatisfiable-condition", Error, "The trust policy requires a condition key Bedrock never supplies.";
    TrustNoConfusedDeputyGuard = "trust-no-confused-deputy-guard", Warning, "The trust policy trusts Bedrock without an aws:SourceAccount or aws:SourceArn guard.";
    TrustBroaderThanNeeded = "trust-broader-than-needed", Warning, "The service role also trusts principals other than bedrock.amazonaws.com.";
}

/// The role trusts others besides Bedrock (the account root a console walkthrough leaves, a
/// second service): each can assume a role that reads the input and writes the output.
pub fn broader(role_arn: &str, others: &[String], role_name: &str, desired_trust: &str) -> Finding {
    Finding::new(
        Code::TrustBroaderThanNeeded,
        role_arn,
        format!("the trust policy also allows: {}", others.join(", ")),
        format!(
            "if nothing else needs this role, keep only the Bedrock statement (`apply` merges its own statement and never removes others, so this is yours to do):\naws iam update-assume-role-policy --role-name {role_name} --policy-document file://trust.json, with:\n{desired_trust}"
        ),
    )
}

pub fn role_missing(role_arn: &str, role_name: &str, role_path: &str, trust_policy: &str) -> Finding {
    Finding::new(
        Code::RoleMissing,
        role_arn,
        format!("iam:GetRole found no role {role_name}"),
        format!(
            "create it with this trust policy (bedbatch-doctor apply does):\naws iam create-role --role-name {role_name} --path {role_path} --assume-role-policy-document file://trust.json\n{trust_policy}"
        ),
    )
}

pub fn does_not_parse(role_arn: &str, error: &str, fix: &str) -> Finding {
    Finding::new(Code::TrustWrongPrincipal, role_arn, format!("the trust policy does not parse: {error}"), fix)
}

pub fn wrong_principal(role_arn: &str, reason: &str, named: &[String], fix: &str) -> Finding {
    Finding::new(
        Code::TrustWrongPrincipal,
        role_arn,
        format!("{reason}; the trust policy names {}", if named.is_empty() { "no principal".into() } else { named.join(", ") }),
        fix,
    )
}

/// A condition of the statement trusting Bedrock that Bedrock's request does not satisfy: the
/// code follows the key.
pub fn condition_mismatch(role_arn: &str, key: &str, statement: &str, operator: &str, reason: &str, supplied: &str, fix: &str) -> Finding {
    let code = if key.eq_ignore_ascii_case("aws:SourceAccount") {
        Code::TrustSourceAccountMismatch
    } else if key.eq_ignore_ascii_case("aws:SourceArn") {
        Code::TrustSourceArnMismatch
    } else {
        Code::TrustUnsatisfiableCondition
    };
    Finding::new(code, role_arn, format!("{statement} {operator}: {reason}; {supplied}"), fix)
}

pub fn no_guard(role_arn: &str, trust_policy: &str, fix: &str) -> Finding {
    Finding::new(
        Code::TrustNoConfusedDeputyGuard,
        role_arn,
        format!("the statement trusting Bedrock has no aws:SourceAccount or aws:SourceArn condition:\n{trust_policy}"),
        fix,
    )
}

/// Bedrock may not assume the role for a reason the trace does not pin on one condition.
pub fn denied(role_arn: &str, reason: &str, fix: &str) -> Finding {
    Finding::new(Code::TrustWrongPrincipal, role_arn, reason, fix)
}
