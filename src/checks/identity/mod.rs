//! The reads that failed, each a `read-denied` or `read-failed` warning naming AWS's error.
//! The checks that needed them report themselves unknown.

pub mod diags;
pub use diags::Code;

use super::outcome::Outcome;
use crate::snapshot::Snapshot;

pub fn check(snap: &Snapshot, out: &mut Outcome) {
    for f in &snap.read_failures {
        // The quotas family reports its own read as quota-unreadable, with the same error.
        if f.what == crate::checks::quotas::READ_WHAT {
            continue;
        }
        out.findings.push(diags::read_failure(f));
    }
}
