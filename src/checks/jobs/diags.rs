//! Recent jobs of the model: failures (with the codes their messages point at), expiries, and
//! jobs that finished with failed records.

use crate::findings::{Code as AnyCode, Finding};
use crate::snapshot::{JobSummary, Known};

crate::family_codes! { "jobs", "Recent jobs";
    JobFailed = "job-failed", Warning, "A recent batch job failed.";
    JobExpired = "job-expired", Warning, "A recent batch job expired before it finished.";
    JobRecordsFailed = "job-records-failed", Warning, "A recent batch job finished with failed records (PartiallyCompleted, or Completed with errors).";
    AccountNotAuthorized = "account-not-authorized", Error, "AWS refused the account itself (\"Your account is not authorized to perform this action\"): no permission change fixes it.";
}

/// A failed job's message says the account, not a principal, is refused.
pub fn account_not_authorized(job_arn: &str, job_name: &str, message: &str) -> Finding {
    Finding::new(
        Code::AccountNotAuthorized,
        job_arn,
        format!("job {job_name} failed: {message}"),
        "open an AWS Support case (Service: Amazon Bedrock, category: account and billing or batch inference) asking to enable batch inference for the account and Region; new accounts and accounts under review are refused this way until AWS lifts it. No IAM or bucket change helps",
    )
}

pub fn failed(job_arn: &str, job_name: &str, message: &str, codes: &[AnyCode]) -> Finding {
    Finding::new(
        Code::JobFailed,
        job_arn,
        format!("job {job_name} failed: {message}"),
        if codes.is_empty() {
            "read the message; bedbatch-doctor explain \"<message>\" maps known messages to causes".to_string()
        } else {
            let names: Vec<&str> = codes.iter().map(|c| c.as_str()).collect();
            format!("the message points at: {} (see the checks above and bedbatch-doctor explain CODE)", names.join(", "))
        },
    )
}

/// AWS ("Monitor batch inference jobs", status Expired; CreateModelInvocationJob's
/// `timeoutDurationInHours`, 24–168, default 168): a job is Expired when it did not finish
/// within its timeout, typically because it waited behind other jobs for capacity.
pub fn expired(j: &JobSummary) -> Finding {
    let timeout = j.timeout_hours.map(|h| format!("{h} h")).unwrap_or_else(|| "its timeout".into());
    let processed = match (j.success_records, j.total_records) {
        (Some(s), Some(t)) => format!("; {s} of {t} records succeeded before it expired"),
        _ => String::new(),
    };
    Finding::new(
        Code::JobExpired,
        &j.arn,
        format!("job {} ended Expired: it did not finish within timeoutDurationInHours ({timeout}){processed}", j.name),
        "resubmit with a longer timeoutDurationInHours (up to 168), fewer records per job, or fewer jobs of the model at once (they share the model's batch capacity); records that finished are in the job's output",
    )
}

pub fn records_failed(j: &JobSummary) -> Finding {
    let counts = format!(
        "{} of {} records failed",
        j.error_records.map(|e| e.to_string()).unwrap_or_else(|| "some".into()),
        j.total_records.map(|t| t.to_string()).unwrap_or_else(|| "?".into())
    );
    let detail = match &j.record_errors {
        Some(Known::Value(r)) => format!("; record errors: {}", r.summary()),
        Some(Known::Unknown(e)) => format!("; the .out files could not be read: {e}"),
        None => String::new(),
    };
    let out =
        j.output_uri.as_deref().and_then(|u| crate::snapshot::output_folder(u, &j.arn)).map(|(b, p)| format!("s3://{b}/{p}")).unwrap_or_default();
    Finding::new(
        Code::JobRecordsFailed,
        &j.arn,
        format!("job {} ended {}: {counts}{detail}", j.name, j.status),
        format!(
            "the failed records carry an `error` object in the .out files under {out}; fix their modelInput (run `bedbatch-doctor validate` on the input) and resubmit only those records; 429/throttling or 5xx codes are transient and can simply be resubmitted"
        ),
    )
}
