//! Model: the model id resolves, batch supports it in the region, access is granted, and it is
//! invoked the way it must be (through an inference profile where AWS requires one).

use crate::catalogue::{CatalogueModel, RowSource};
use crate::findings::Finding;
use crate::snapshot::ModelState;

crate::family_codes! { "model", "Model";
    ModelNotFound = "model-not-found", Error, "The model id names no foundation model or inference profile in the region.";
    ModelNoBatch = "model-no-batch", Error, "Batch inference does not support the model in the region.";
    ModelAccessNotGranted = "model-access-not-granted", Error, "The account cannot use the model yet (agreement, authorization, entitlement or Region).";
    ModelNeedsInferenceProfile = "model-needs-inference-profile", Error, "The model is reachable only through an inference profile, but a bare model id is configured.";
    ModelBatchSupportUnknown = "model-batch-support-unknown", Note, "Neither the account nor the dated catalogue could confirm batch support for the model in the region.";
}

pub fn not_found(model_id: &str, looked_up: &str, region: &str, profile: bool) -> Finding {
    let (api, fix) = if profile {
        ("GetInferenceProfile found no inference profile", "use an id from `aws bedrock list-inference-profiles` in the region")
    } else {
        ("GetFoundationModel found no model", "use an id from `aws bedrock list-foundation-models`, or another region")
    };
    Finding::new(Code::ModelNotFound, model_id, format!("{api} {looked_up} in {region}"), fix)
}

/// What the catalogue's row says of batch for the model addressed one way, with the row's
/// source: "the dated catalogue (as of D; row source: TAG, …) lists batch for X by
/// foundation-model id in: …".
pub fn catalogue_claim(e: &CatalogueModel, name: &str, via_profile: bool) -> String {
    let how = if via_profile { "through an inference profile" } else { "by foundation-model id" };
    let regions = e.batch_regions(via_profile);
    let verdict = e.features_matrix.map(|m| if via_profile { m.cross_region } else { m.single_region });
    match (regions.is_empty(), verdict) {
        (false, _) => format!("{} lists batch for {name} {how} in: {}", e.provenance(), regions.join(", ")),
        (true, Some(true)) if e.source == RowSource::AwsFeaturesMatrix20260125 => {
            format!("{} says Yes to batch for {name} {how} but names no Region", e.provenance())
        }
        (true, Some(false)) if e.source == RowSource::AwsFeaturesMatrix20260125 => {
            format!("{} says No to batch for {name} {how}, and no row of AWS's batch table lists it", e.provenance())
        }
        (true, _) => format!("{} lists batch for {name} {how} in: no Region", e.provenance()),
    }
}

/// The live signal said no (no batch quota for the model), and the catalogue does not list it
/// for the region either.
pub fn no_batch(fm: &str, name: &str, region: &str, via_profile: bool, live: Option<&str>, entry: Option<&CatalogueModel>) -> Finding {
    let mut evidence = vec![];
    if let Some(l) = live {
        evidence.push(l.to_string());
    }
    match entry {
        Some(e) => evidence.push(catalogue_claim(e, name, via_profile)),
        None => evidence.push(format!("the dated catalogue (as of {}) does not list {fm}", crate::catalogue::as_of())),
    }
    let alt = entry.filter(|e| e.claims_batch(!via_profile, region) == Some(true));
    let fix = match alt {
        Some(_) if via_profile => format!("batch accepts {name} in {region} by its foundation-model id: set model_id = \"{fm}\""),
        Some(_) => format!("batch accepts {name} in {region} through an inference profile: use one from `aws bedrock list-inference-profiles`"),
        None => "pick a model with batch support in the region, or run the jobs where this one has it".into(),
    };
    Finding::new(Code::ModelNoBatch, fm, evidence.join("; "), fix)
}

pub fn batch_support_unknown(fm: &str, why: String) -> Finding {
    Finding::new(
        Code::ModelBatchSupportUnknown,
        fm,
        why,
        format!("check AWS's table \"Supported Regions and models for batch inference\" ({})", crate::catalogue::source()),
    )
}

/// GetFoundationModelAvailability said the account cannot use the model; the fix follows the
/// field that says so (AWS, "Access Amazon Bedrock foundation models": access is granted by
/// default to callers with AWS Marketplace permissions; some providers — Anthropic — need a
/// one-time use-case form; the first invocation of a Marketplace model subscribes the account).
pub fn access_not_granted(fm: &str, state: &ModelState) -> Option<Finding> {
    let s = |o: &Option<String>| o.clone().unwrap_or_default();
    let (auth, ent, agr, reg) = (s(&state.authorization), s(&state.entitlement), s(&state.agreement), s(&state.region_availability));
    let evidence = format!(
        "GetFoundationModelAvailability: authorizationStatus {auth}, entitlementAvailability {ent}, agreementAvailability {}, regionAvailability {}",
        if agr.is_empty() { "-" } else { &agr },
        if reg.is_empty() { "-" } else { &reg }
    );
    let anthropic = state.provider.as_deref().is_some_and(|p| p.eq_ignore_ascii_case("anthropic")) || fm.starts_with("anthropic.");
    let fix = if reg == "NOT_AVAILABLE" {
        "the model is not offered in this Region: use a Region that offers it, or an inference profile that routes to one".to_string()
    } else if auth == "NOT_AUTHORIZED" {
        "the caller is not authorized to use the model: allow aws-marketplace:ViewSubscriptions and aws-marketplace:Subscribe (the first invocation subscribes the account) to whoever runs the first job, and check that no SCP denies them or bedrock:InvokeModel".to_string()
    } else if ent == "NOT_AVAILABLE" && anthropic {
        "Anthropic models need the one-time use-case form: submit it from the Bedrock console (model catalog, the model's page) or with `aws bedrock put-use-case-for-model-access`, then re-run check".to_string()
    } else if ent == "NOT_AVAILABLE" {
        "the account is not entitled to the model: invoke it once as a principal with aws-marketplace:Subscribe (or accept the offer with `aws bedrock create-foundation-model-agreement`), then re-run check".to_string()
    } else if agr == "PENDING" {
        "the model's Marketplace agreement is being processed: wait a few minutes, then re-run check".to_string()
    } else if agr == "NOT_AVAILABLE" || agr == "ERROR" {
        "accept the model's offer: `aws bedrock list-foundation-model-agreement-offers --model-id MODEL` then `aws bedrock create-foundation-model-agreement`".to_string()
    } else {
        return None;
    };
    Some(Finding::new(Code::ModelAccessNotGranted, fm, evidence, fix))
}

pub fn needs_profile(model_id: &str, fm: &str, inference_types: &[String], suggestion: &str) -> Finding {
    Finding::new(
        Code::ModelNeedsInferenceProfile,
        model_id,
        format!("{fm} supports inference types {inference_types:?}; it is reached through an inference profile"),
        format!("set model_id = \"{suggestion}\" and re-run `bedbatch-doctor apply` (the role then may invoke the profile and its routed models)"),
    )
}
