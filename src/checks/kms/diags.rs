//! KMS: the service role may use the buckets' SSE-KMS key (kms:Decrypt for the input,
//! kms:GenerateDataKey for the output), through its policies and the key policy (AWS KMS
//! "Key policies": a key policy must allow, by itself or by delegating to the account).

use crate::findings::Finding;
use crate::policy::evaluate::DeniedBy;
use crate::policy::Evaluation;

crate::family_codes! { "kms", "KMS";
    RoleCannotUseKmsKey = "role-cannot-use-kms-key", Error, "The buckets use SSE-KMS and the service role's policies do not allow the key.";
}

/// The role may not use the key: the fix follows the layer that denied (the key policy, a Deny,
/// or the role's own policies, which need the rendered KMS statement).
pub fn cannot_use_key(key_arn: &str, bucket: &str, key: &str, action: &str, eval: &Evaluation, rctx: &crate::render::Context) -> Finding {
    let fix = match eval.denied_by {
        Some(DeniedBy::ResourcePolicy) => format!(
            "let the key policy of {key_arn} allow the account's IAM policies (a statement with Principal {{\"AWS\": \"arn:{}:iam::{}:root\"}} and Action kms:*), or the role directly, for {action}",
            rctx.partition, rctx.account_id
        ),
        Some(DeniedBy::ExplicitDeny) => format!("remove or narrow the Deny ({}), which blocks {action}", eval.reason),
        _ => format!("set kms_key_id = \"{key_arn}\" and add the rendered {} statement to the role's policy", crate::desired::Sid::UseKmsKey.as_str()),
    };
    Finding::new(Code::RoleCannotUseKmsKey, key_arn, format!("s3://{bucket} uses SSE-KMS with {key}; {action}: {}", eval.reason), fix)
}
