//! Quotas: room for another job under "Sum of in-progress and submitted batch inference jobs
//! using a base model" (Service Quotas, service code `bedrock`).

use crate::findings::Finding;
use crate::snapshot::QuotaValue;

crate::family_codes! { "quotas", "Quotas";
    QuotaJobsFull = "quota-jobs-full", Error, "The account is at its quota of submitted and in-progress batch jobs for the model.";
    QuotaUnreadable = "quota-unreadable", Warning, "The batch quotas could not be read.";
}

pub fn jobs_full(running: usize, limit: &QuotaValue) -> Finding {
    Finding::new(
        Code::QuotaJobsFull,
        format!("service-quotas:bedrock/{}", limit.code),
        format!(
            "{running} jobs submitted or in progress for the model; quota \"{}\" ({}) is {}{}",
            limit.name,
            limit.code,
            limit.value,
            if limit.source == crate::quotas::QuotaSource::Default { " (AWS's default: the account has no applied value)" } else { "" }
        ),
        format!(
            "wait for jobs to finish, stop stale ones, or: aws service-quotas request-service-quota-increase --service-code bedrock --quota-code {} --desired-value {}",
            limit.code,
            limit.value * 2.0
        ),
    )
}

pub fn unreadable(error: &str) -> Finding {
    Finding::new(
        Code::QuotaUnreadable,
        "service-quotas:bedrock",
        error,
        "allow servicequotas:ListServiceQuotas and servicequotas:ListAWSDefaultServiceQuotas to the caller",
    )
}
