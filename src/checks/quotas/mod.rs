//! Room for another job: the jobs submitted or in progress for the model against the quota.

pub mod diags;
pub use diags::Code;

use super::outcome::Outcome;
use crate::desired::Desired;
use crate::snapshot::{Known, Snapshot};

const F: &str = Code::FAMILY;

/// The `what` of the quotas' read failure (reported here as quota-unreadable, not twice).
pub const READ_WHAT: &str = "the batch quotas";

/// The statuses that count against the quota (AWS: "Submitted, Validating, Scheduled and
/// InProgress" jobs count; Stopping is not listed).
pub const ACTIVE: &[&str] = &["Submitted", "Validating", "Scheduled", "InProgress"];

pub(crate) fn same_model(job_model: &str, desired: &Desired) -> bool {
    desired.settings.model().is_ok_and(|m| m.names_job_model(job_model))
}

pub fn check(snap: &Snapshot, desired: &Desired, out: &mut Outcome) {
    let name = "there is room for another batch job";
    let codes = [Code::QuotaJobsFull.into()];
    let q = match &snap.quotas {
        Known::Unknown(e) => {
            out.findings.push(diags::unreadable(&e.error));
            out.unknown(F, name, &codes, format!("the batch quotas could not be read: {e}"));
            return;
        }
        Known::Value(q) => q,
    };
    let model_name = snap.quota_model_name.as_deref().unwrap_or("the model");
    let Some(limit) = crate::quotas::find(q, crate::quotas::QuotaKind::ConcurrentJobs) else {
        out.unknown(
            F,
            name,
            &codes,
            format!("Service Quotas (applied and default values) lists no \"Sum of in-progress and submitted batch inference jobs using a base model for {model_name}\" quota"),
        );
        return;
    };
    let running = match &snap.jobs {
        Known::Value(j) => j.iter().filter(|j| ACTIVE.contains(&j.status.as_str()) && same_model(&j.model_id, desired)).count(),
        Known::Unknown(e) => {
            out.unknown(F, name, &codes, format!("the batch jobs could not be listed: {e}"));
            return;
        }
    };
    let f = if running as f64 >= limit.value { vec![diags::jobs_full(running, limit)] } else { vec![] };
    out.check(F, name, &codes, f);
}
