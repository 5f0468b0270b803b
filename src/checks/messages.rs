//! What an AWS error message or a failed job's message points at: the checks' codes that explain
//! it (for the `jobs` check, `explain "MESSAGE"`, the canary and `run`).

// Each family's codes, from its diags.rs (the family's check uses this file, not the other way round).
use super::{
    bucket::diags as bucket, jobs::diags as jobs, kms::diags as kms, model::diags as model, passrole::diags as passrole, quotas::diags as quotas,
    role_invoke::diags as role_invoke, role_s3::diags as role_s3, trust::diags as trust,
};
use crate::findings::Code;

/// Maps an AWS error message or a failed job's message to the codes that explain it.
pub fn codes_for_message(text: &str) -> Vec<Code> {
    let t = text.to_ascii_lowercase();
    let mut out: Vec<Code> = Vec::new();
    let mut add = |c: Code| {
        if !out.contains(&c) {
            out.push(c);
        }
    };
    // AWS refuses the account, not a principal (no "User: … is not authorized").
    if t.contains("your account is not authorized") {
        add(jobs::Code::AccountNotAuthorized.into());
    }
    if t.contains("iam:passrole") {
        add(passrole::Code::CallerCannotPassRole.into());
    }
    if t.contains("perform: bedrock:") && !t.contains("perform: bedrock:invokemodel") {
        add(passrole::Code::CallerCannotCreateJob.into());
    }
    // "assumed-role/…" in a principal ARN is not a trust problem.
    if t.contains("sts:assumerole") || t.contains("trust relationship") || t.contains("not assume") || t.contains("assume the") {
        add(trust::Code::TrustWrongPrincipal.into());
        add(trust::Code::TrustSourceAccountMismatch.into());
        add(trust::Code::TrustSourceArnMismatch.into());
        add(trust::Code::TrustUnsatisfiableCondition.into());
    }
    if t.contains("role") && (t.contains("does not exist") || t.contains("not found")) {
        add(trust::Code::RoleMissing.into());
    }
    if t.contains("s3:listbucket") || t.contains("listing the input") {
        add(role_s3::Code::RoleCannotListInput.into());
    }
    if t.contains("s3:getobject") || t.contains("reading the input") {
        add(role_s3::Code::RoleCannotReadInput.into());
    }
    if t.contains("s3:putobject") || t.contains("writing to the output") {
        add(role_s3::Code::RoleCannotWriteOutput.into());
    }
    // AWS: when the role lacks the bucket key's grant, the job fails with a GetObject or
    // PutObject access-denied message that does not mention KMS; both causes are named.
    if t.contains("kms")
        || t.contains("s3:getobject")
        || t.contains("s3:putobject")
        || t.contains("reading the input")
        || t.contains("writing to the output")
    {
        add(kms::Code::RoleCannotUseKmsKey.into());
    }
    if t.contains("bedrock:invokemodel") {
        add(role_invoke::Code::RoleCannotInvokeModel.into());
    }
    if t.contains("expired") {
        add(jobs::Code::JobExpired.into());
    }
    if t.contains("bucket does not exist") || t.contains("nosuchbucket") {
        add(bucket::Code::BucketMissing.into());
    }
    if t.contains("no .jsonl input") || t.contains("nosuchkey") {
        add(bucket::Code::InputObjectMissing.into());
    }
    if t.contains("batch inference is not supported") {
        add(model::Code::ModelNoBatch.into());
    }
    if t.contains("on-demand throughput isn") || t.contains("inference profile") {
        add(model::Code::ModelNeedsInferenceProfile.into());
    }
    if t.contains("don't have access to the model") || t.contains("access to the model") {
        add(model::Code::ModelAccessNotGranted.into());
    }
    if t.contains("model identifier is invalid") || t.contains("model") && t.contains("does not exist") {
        add(model::Code::ModelNotFound.into());
    }
    if t.contains("servicequotaexceeded") || t.contains("maximum number of in-progress") {
        add(quotas::Code::QuotaJobsFull.into());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_map_to_codes() {
        let codes = codes_for_message("User: arn:aws:iam::1:user/a is not authorized to perform: iam:PassRole on resource: arn:aws:iam::1:role/R");
        assert_eq!(codes.iter().map(|c| c.as_str()).collect::<Vec<_>>(), vec!["caller-cannot-pass-role"]);
        assert!(codes_for_message("ValidationException: Batch inference is not supported for the requested model")
            .iter()
            .any(|c| c.as_str() == "model-no-batch"));
    }

    fn names(text: &str) -> Vec<&'static str> {
        codes_for_message(text).iter().map(|c| c.as_str()).collect()
    }

    #[test]
    fn messages_users_see_map_to_their_causes() {
        // A missing key grant surfaces as a GetObject/PutObject denial that never says KMS.
        let get = names("User: arn:aws:sts::1:assumed-role/R/s is not authorized to perform: s3:GetObject on resource: arn:aws:s3:::b/in/x.jsonl");
        assert_eq!(get, vec!["role-cannot-read-input", "role-cannot-use-kms-key"], "an assumed-role ARN is not a trust problem");
        assert!(names("Access denied when writing to the output location s3://b/out/").contains(&"role-cannot-use-kms-key"));
        assert_eq!(names("AccessDeniedException: Your account is not authorized to perform this action."), vec!["account-not-authorized"]);
        assert_eq!(
            names("User: arn:aws:sts::1:assumed-role/R/s is not authorized to perform: bedrock:InvokeModel on resource: arn:aws:bedrock:us-east-2::foundation-model/x"),
            vec!["role-cannot-invoke-model"]
        );
        assert!(names("The job expired before it completed").contains(&"job-expired"));
        assert!(names("Bedrock could not assume the provided IAM role").contains(&"trust-wrong-principal"));
    }
}
