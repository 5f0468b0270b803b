//! The model: exists (GetFoundationModel), batch support in the region (the catalogue, AWS's
//! "Supported Regions and models for batch inference" table), access (GetFoundationModelAvailability),
//! and whether it must be reached through an inference profile (inference types without
//! ON_DEMAND; AWS's "Supported Regions and models for inference profiles").

pub mod diags;
pub use diags::Code;

use super::{Desired, Outcome};
use crate::snapshot::{Known, Snapshot};

const F: &str = Code::FAMILY;

pub fn check(snap: &Snapshot, desired: &Desired, out: &mut Outcome) {
    let Ok(m) = desired.settings.model() else { return };
    let region = desired.rctx.region.as_str();
    let state = match &snap.model {
        Known::Value(s) => s,
        Known::Unknown(e) => {
            let all: Vec<_> = Code::ALL.iter().map(|c| (*c).into()).collect();
            out.unknown(F, "the model exists, supports batch and is accessible", &all, format!("the model could not be read: {e}"));
            return;
        }
    };
    if !state.found {
        let looked_up = state.foundation_model_id.clone().unwrap_or_else(|| m.raw.clone());
        out.check(F, "the model exists", &[Code::ModelNotFound.into()], vec![diags::not_found(&m.raw, &looked_up, region)]);
        return;
    }
    out.check(F, "the model exists", &[Code::ModelNotFound.into()], vec![]);
    let fm = state.foundation_model_id.clone().unwrap_or_default();
    let entry = crate::catalogue::model(&fm);
    let mut batch = vec![];
    match entry {
        None => batch.push(diags::batch_support_unknown(&fm)),
        Some(e) if !e.batch.iter().any(|r| r == region) => batch.push(diags::no_batch(&fm, &e.name, &e.batch)),
        _ => {}
    }
    out.check(F, "batch inference supports the model in the region", &[Code::ModelNoBatch.into(), Code::ModelBatchSupportUnknown.into()], batch);

    match (&state.authorization, &state.availability_error) {
        (Some(auth), _) => {
            let entitlement = state.entitlement.clone().unwrap_or_default();
            let mut access = vec![];
            if auth == "NOT_AUTHORIZED" || entitlement == "NOT_AVAILABLE" {
                access.push(diags::access_not_granted(&fm, auth, &entitlement));
            }
            out.check(F, "model access is granted", &[Code::ModelAccessNotGranted.into()], access);
        }
        (None, Some(e)) => {
            out.unknown(F, "model access is granted", &[Code::ModelAccessNotGranted.into()], format!("GetFoundationModelAvailability: {e}"))
        }
        (None, None) => {
            out.unknown(F, "model access is granted", &[Code::ModelAccessNotGranted.into()], "GetFoundationModelAvailability was not read")
        }
    }

    let profile_only =
        entry.is_some_and(|e| e.profile_only) || (!state.inference_types.is_empty() && !state.inference_types.iter().any(|t| t == "ON_DEMAND"));
    let mut prof = vec![];
    if profile_only && !m.is_profile() {
        let geo = region.split('-').next().unwrap_or("us");
        let suggestion = state
            .profiles
            .iter()
            .find(|p| p.starts_with(&format!("{geo}.")))
            .or(state.profiles.first())
            .cloned()
            .unwrap_or_else(|| format!("{geo}.{fm}"));
        prof.push(diags::needs_profile(&m.raw, &fm, &state.inference_types, &suggestion));
    }
    out.check(F, "the model id can be invoked as configured", &[Code::ModelNeedsInferenceProfile.into()], prof);
}
