//! The model, from the account first: the profile exists (GetInferenceProfile), the model
//! behind it exists (GetFoundationModel), batch supports it in the region (its batch quotas
//! exist in Service Quotas — AWS keeps a model's batch quotas only where batch serves it — with
//! the dated catalogue, AWS's "Supported Regions and models for batch inference" table, as the
//! fallback), access (GetFoundationModelAvailability), and whether it must be reached through
//! an inference profile (inference types without ON_DEMAND; AWS's "Supported Regions and
//! models for inference profiles").

pub mod diags;
pub use diags::Code;

use super::outcome::Outcome;
use crate::desired::Desired;
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
    if m.is_profile() && state.profile.is_none() && state.profile_error.is_none() {
        out.check(F, "the model exists", &[Code::ModelNotFound.into()], vec![diags::not_found(&m.raw, &m.raw, region, true)]);
        return;
    }
    if !state.found && state.profile_error.is_none() {
        let looked_up = state.foundation_model_id.clone().unwrap_or_else(|| m.raw.clone());
        out.check(F, "the model exists", &[Code::ModelNotFound.into()], vec![diags::not_found(&m.raw, &looked_up, region, false)]);
        return;
    }
    if !state.found {
        // The profile could not be read, so the model behind it is not known either.
        let e = state.profile_error.as_ref().map(|e| e.to_string()).unwrap_or_default();
        let all: Vec<_> = Code::ALL.iter().map(|c| (*c).into()).collect();
        out.unknown(F, "the model exists, supports batch and is accessible", &all, format!("the inference profile could not be read: {e}"));
        return;
    }
    out.check(F, "the model exists", &[Code::ModelNotFound.into()], vec![]);
    let fm = state.foundation_model_id.clone().unwrap_or_default();
    let entry = crate::catalogue::model(&fm);
    let name = state.name.clone().or_else(|| entry.map(|e| e.name.clone())).unwrap_or_else(|| fm.clone());
    batch_support(snap, m.is_profile(), &fm, &name, region, entry, out);

    let access_codes = [Code::ModelAccessNotGranted.into()];
    match (&state.authorization, &state.availability_error) {
        (Some(_), _) => out.check(F, "model access is granted", &access_codes, diags::access_not_granted(&fm, state).into_iter().collect()),
        (None, Some(e)) => out.unknown(F, "model access is granted", &access_codes, format!("GetFoundationModelAvailability: {e}")),
        (None, None) => out.unknown(F, "model access is granted", &access_codes, "GetFoundationModelAvailability was not read"),
    }

    let live_profile_only = !state.inference_types.is_empty() && !state.inference_types.iter().any(|t| t == "ON_DEMAND");
    let profile_only = if state.inference_types.is_empty() { entry.is_some_and(|e| e.profile_only()) } else { live_profile_only };
    let mut prof = vec![];
    if profile_only && !m.is_profile() {
        let geo = match region.split('-').next().unwrap_or("us") {
            "ap" => "apac",
            g => g,
        };
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

/// Batch support: the model's batch quotas in Service Quotas (live), else the catalogue.
fn batch_support(
    snap: &Snapshot,
    via_profile: bool,
    fm: &str,
    name: &str,
    region: &str,
    entry: Option<&crate::catalogue::CatalogueModel>,
    out: &mut Outcome,
) {
    let line = "batch inference supports the model in the region";
    let codes = [Code::ModelNoBatch.into(), Code::ModelBatchSupportUnknown.into()];
    // The catalogue's row: listed in the region, not, or open (a features-matrix Yes names no
    // Region).
    let catalogue_says = entry.and_then(|e| e.claims_batch(via_profile, region));
    let live = match &snap.quotas {
        Known::Value(q) if snap.quota_model_name.is_some() => Some(!q.is_empty()),
        _ => None,
    };
    let no_quota = format!("Service Quotas lists no batch inference quota for {name} in {region}");
    let mut f = vec![];
    match (live, catalogue_says) {
        // The account says yes: its batch quotas exist.
        (Some(true), _) => {}
        // The two sources disagree: neither is taken on trust.
        (Some(false), Some(true)) => {
            let row = entry.map(|e| e.provenance()).unwrap_or_default();
            let why = format!("{no_quota}, but {row} lists it there");
            out.unknown(F, line, &codes, why.clone());
            out.findings.push(diags::batch_support_unknown(fm, why));
            return;
        }
        (Some(false), _) => f.push(diags::no_batch(fm, name, region, via_profile, Some(&no_quota), entry)),
        (None, Some(true)) => {
            let why = match &snap.quotas {
                // A read that failed (throttled, 5xx, network) leaves the line unknown: the
                // catalogue fills gaps only where the account cannot answer (offline, a denied
                // read, no model name), not where it did not answer this time.
                Known::Unknown(e) if e.kind == crate::snapshot::ReadErrorKind::Failed => {
                    let why = format!(
                        "the batch quotas could not be read ({e}); the dated catalogue (as of {}) is used only where the account cannot answer",
                        crate::catalogue::as_of()
                    );
                    out.unknown(F, line, &codes, why.clone());
                    out.findings.push(diags::batch_support_unknown(fm, why));
                    return;
                }
                // The account cannot answer (a denied read, or no model name to look the quotas
                // up by): the catalogue is the fallback, and says so.
                Known::Unknown(e) => format!("the batch quotas could not be read ({e})"),
                _ => "the model's quota name is not known".into(),
            };
            out.check(F, line, &codes, vec![]);
            if let Some(c) = out.checks.last_mut() {
                let row = entry.map(|e| e.provenance()).unwrap_or_default();
                c.reason = Some(format!("{why}; {row} lists batch for {name} in {region}"));
            }
            return;
        }
        (None, Some(false)) => f.push(diags::no_batch(fm, name, region, via_profile, None, entry)),
        (None, None) => {
            let why = match &snap.quotas {
                Known::Unknown(e) => format!("the batch quotas could not be read ({e})"),
                _ => format!("the model's name, which its quotas carry, is not known for {fm}"),
            };
            let why = match entry {
                Some(e) => format!("{why}, and {}", diags::catalogue_claim(e, name, via_profile)),
                None => format!("{why}, and the dated catalogue (as of {}) does not list {fm}", crate::catalogue::as_of()),
            };
            out.unknown(F, line, &codes, why.clone());
            out.findings.push(diags::batch_support_unknown(fm, why));
            return;
        }
    }
    out.check(F, line, &codes, f);
}
