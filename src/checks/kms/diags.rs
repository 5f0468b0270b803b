//! KMS: the service role may use the buckets' SSE-KMS key (kms:Decrypt for the input,
//! kms:GenerateDataKey for the output), through its policies and the key policy (AWS KMS
//! "Key policies": a key policy must allow, by itself or by delegating to the account).

use crate::findings::Finding;
use crate::policy::evaluate::DeniedBy;
use crate::policy::Evaluation;

crate::family_codes! { "kms", "KMS";
    RoleCannotUseKmsKey = "role-cannot-use-kms-key", Error, "The buckets use SSE-KMS and the service role's policies do not allow the key.";
}

pub fn cannot_use_key(
    key_arn: &str,
    bucket: &str,
    key: &str,
    action: &str,
    eval: &Evaluation,
    statement_fix: &str,
    partition: &str,
    account: &str,
) -> Finding {
    let fix = match eval.denied_by {
        Some(DeniedBy::ResourcePolicy) => format!(
            "let the key policy of {key_arn} allow the account's IAM policies (a statement with Principal {{\"AWS\": \"arn:{partition}:iam::{account}:root\"}} and Action kms:*), or the role directly, for {action}"
        ),
        Some(DeniedBy::ExplicitDeny) => format!("remove or narrow the Deny ({}), which blocks {action}", eval.reason),
        _ => statement_fix.to_string(),
    };
    Finding::new(Code::RoleCannotUseKmsKey, key_arn, format!("s3://{bucket} uses SSE-KMS with {key}; {action}: {}", eval.reason), fix)
}
