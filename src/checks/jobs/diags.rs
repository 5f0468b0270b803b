//! Recent jobs: failures of the model's jobs, with the codes their messages point at.

use crate::findings::{Code as AnyCode, Finding};

crate::family_codes! { "jobs", "Recent jobs";
    JobFailed = "job-failed", Warning, "A recent batch job failed.";
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
