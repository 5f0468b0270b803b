//! The model's recent failed jobs, each mapped to the codes its message points at.

pub mod diags;
pub use diags::Code;

use super::{Desired, Outcome};
use crate::findings::codes_for_message;
use crate::snapshot::{Known, Snapshot};

const F: &str = Code::FAMILY;

pub fn check(snap: &Snapshot, desired: &Desired, out: &mut Outcome) {
    let name = "no recent job of the model failed";
    let jobs = match &snap.jobs {
        Known::Value(j) => j,
        Known::Unknown(e) => {
            out.unknown(F, name, &[Code::JobFailed.into()], format!("the batch jobs could not be listed: {e}"));
            return;
        }
    };
    let mut f = vec![];
    for j in jobs.iter().filter(|j| j.status == "Failed" && super::quotas::same_model(&j.model_id, desired)).take(3) {
        let msg = j.message.clone().unwrap_or_default();
        f.push(diags::failed(&j.arn, &j.name, &msg, &codes_for_message(&msg)));
    }
    out.check(F, name, &[Code::JobFailed.into()], f);
}
