//! The model's recent jobs: failed ones (each mapped to the codes its message points at),
//! expired ones, and those that finished with failed records (AWS's statuses: Failed, Expired,
//! PartiallyCompleted, and Completed with `errorRecordCount > 0`).

pub mod diags;
pub use diags::Code;

use super::messages::codes_for_message;
use super::outcome::Outcome;
use crate::desired::Desired;
use crate::snapshot::{Known, Snapshot};

const F: &str = Code::FAMILY;

/// How many jobs each line reports at most.
const SHOWN: usize = 3;

pub fn check(snap: &Snapshot, desired: &Desired, out: &mut Outcome) {
    let lines = [
        (Code::JobFailed, "no recent job of the model failed"),
        (Code::JobExpired, "no recent job of the model expired"),
        (Code::JobRecordsFailed, "no recent job of the model finished with failed records"),
    ];
    let jobs = match &snap.jobs {
        Known::Value(j) => j,
        Known::Unknown(e) => {
            for (code, name) in lines {
                out.unknown(F, name, &[code.into()], format!("the batch jobs could not be listed: {e}"));
            }
            return;
        }
    };
    let mine: Vec<_> = jobs.iter().filter(|j| super::quotas::same_model(&j.model_id, desired)).collect();
    let failed = mine
        .iter()
        .filter(|j| j.status == "Failed")
        .take(SHOWN)
        .map(|j| {
            let msg = j.message.clone().unwrap_or_default();
            diags::failed(&j.arn, &j.name, &msg, &codes_for_message(&msg))
        })
        .collect();
    out.check(F, lines[0].1, &[Code::JobFailed.into()], failed);
    // AWS's "Your account is not authorized to perform this action" blocks every job.
    let blocked: Vec<_> = mine
        .iter()
        .filter(|j| j.status == "Failed")
        .filter(|j| codes_for_message(j.message.as_deref().unwrap_or_default()).contains(&Code::AccountNotAuthorized.into()))
        .take(1)
        .map(|j| diags::account_not_authorized(&j.arn, &j.name, j.message.as_deref().unwrap_or_default()))
        .collect();
    out.check(F, "the account itself is not refused by Bedrock", &[Code::AccountNotAuthorized.into()], blocked);
    let expired = mine.iter().filter(|j| j.status == "Expired").take(SHOWN).map(|j| diags::expired(j)).collect();
    out.check(F, lines[1].1, &[Code::JobExpired.into()], expired);
    let partial = mine.iter().filter(|j| j.has_failed_records()).take(SHOWN).map(|j| diags::records_failed(j)).collect();
    out.check(F, lines[2].1, &[Code::JobRecordsFailed.into()], partial);
}
