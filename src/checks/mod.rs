//! The checks: pure functions of a [`Snapshot`] and the [`Desired`] documents, returning check
//! lines and findings. No I/O here. Each family lives in its own folder: `mod.rs` with the
//! check, `diags.rs` with its `Code` enum and one constructor per finding. What the families
//! share is in files of its own that import no family: `outcome.rs` (the [`Outcome`] a check
//! writes to), `documents.rs` (policy documents parsed for the checks); `messages.rs` maps an AWS
//! message to the families' codes. This file declares them, re-exports, and runs every check.
//!
//! Every check line is a pass, a fail, or *unknown*: a check whose input could not be read
//! never passes. When a check that guards an error-level code is unknown and nothing failed,
//! the verdict is incomplete (exit 4).

pub mod bucket;
mod documents;
pub mod identity;
pub mod jobs;
pub mod kms;
pub mod messages;
pub mod model;
pub mod org;
mod outcome;
pub mod passrole;
pub mod quotas;
pub mod role_invoke;
pub mod role_s3;
pub mod trust;

pub use crate::desired::{Desired, Sid};
use crate::findings::{Code, Finding};
use crate::snapshot::Snapshot;
pub use messages::codes_for_message;
pub use outcome::{CheckLine, CodeState, CodeStates, Outcome, Related, Status};

/// Runs every check on a snapshot against the desired documents.
pub fn run(snap: &Snapshot, desired: &Desired) -> Outcome {
    let mut out = Outcome::default();
    identity::check(snap, &mut out);
    model::check(snap, desired, &mut out);
    trust::check(snap, desired, &mut out);
    role_s3::check(snap, desired, &mut out);
    role_invoke::check(snap, desired, &mut out);
    kms::check(snap, desired, &mut out);
    bucket::check(snap, desired, &mut out);
    passrole::check(snap, desired, &mut out);
    org::check(snap, desired, &mut out);
    quotas::check(snap, desired, &mut out);
    jobs::check(snap, desired, &mut out);
    fold_consequences(&mut out);
    out.findings.sort_by_key(|a| a.severity);
    out
}

/// Convenience for callers holding only a snapshot: desired documents from its settings, then
/// the checks.
pub fn run_snapshot(snap: &Snapshot) -> crate::error::Result<Outcome> {
    let desired = Desired::for_snapshot(snap)?;
    Ok(run(snap, &desired))
}

/// A missing bucket is the cause of every access finding on it: those findings are listed
/// under `bucket-missing` as its consequences, not as errors of their own.
fn fold_consequences(out: &mut Outcome) {
    let missing: Vec<String> =
        out.findings.iter().filter(|f| f.code == Code::from(bucket::Code::BucketMissing)).map(|f| f.resource.clone()).collect();
    for bucket_uri in missing {
        let on_bucket = |f: &Finding| {
            matches!(f.family(), "role_s3" | "kms" | "bucket")
                && f.code != Code::from(bucket::Code::BucketMissing)
                && (f.resource == bucket_uri || f.resource.starts_with(&format!("{bucket_uri}/")))
        };
        let (folded, kept): (Vec<Finding>, Vec<Finding>) = std::mem::take(&mut out.findings).into_iter().partition(on_bucket);
        out.findings = kept;
        if let Some(cause) = out.findings.iter_mut().find(|f| f.code == Code::from(bucket::Code::BucketMissing) && f.resource == bucket_uri) {
            cause.consequences.extend(folded);
        }
    }
}

pub use crate::desired::job_requests;
