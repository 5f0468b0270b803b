//! Caller permissions: the principal that submits jobs exists, may pass the service role to
//! Bedrock (iam:PassRole with iam:PassedToService = bedrock.amazonaws.com), and may create,
//! read, list and stop jobs (AWS's "Required permissions for batch inference").

use crate::findings::Finding;

crate::family_codes! { "passrole", "Caller permissions";
    CallerMissing = "caller-missing", Error, "The principal that submits jobs (caller_arn) does not exist.";
    CallerCannotPassRole = "caller-cannot-pass-role", Error, "The principal that submits jobs may not pass the service role to Bedrock (iam:PassRole).";
    CallerCannotCreateJob = "caller-cannot-create-job", Error, "The principal that submits jobs lacks bedrock:CreateModelInvocationJob or the job actions.";
}

pub fn caller_missing(caller: &str) -> Finding {
    let kind = if caller.contains(":user/") { "iam:GetUser" } else { "iam:GetRole" };
    Finding::new(
        Code::CallerMissing,
        caller,
        format!("{kind} answered NoSuchEntity for {caller}"),
        "set caller_arn (or --caller-arn) to the user or role that submits jobs (`bedbatch-doctor whoami` prints yours), or create it first",
    )
}

pub fn cannot_pass_role(role_arn: &str, caller: &str, evidence: String, statement: &str) -> Finding {
    Finding::new(
        Code::CallerCannotPassRole,
        role_arn,
        evidence,
        format!("add to {caller} (bedbatch-doctor render --document passrole-policy has it all):\n{statement}"),
    )
}

pub fn cannot_create_job(caller: &str, evidence: String, statements: &str) -> Finding {
    Finding::new(Code::CallerCannotCreateJob, caller, evidence, format!("add to {caller}:\n{statements}"))
}
