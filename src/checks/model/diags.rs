//! Model: the model id resolves, batch supports it in the region, access is granted, and it is
//! invoked the way it must be (through an inference profile where AWS requires one).

use crate::findings::Finding;

crate::family_codes! { "model", "Model";
    ModelNotFound = "model-not-found", Error, "The model id names no foundation model in the region.";
    ModelNoBatch = "model-no-batch", Error, "Batch inference does not support the model in the region.";
    ModelAccessNotGranted = "model-access-not-granted", Error, "Access to the model has not been granted in the account.";
    ModelNeedsInferenceProfile = "model-needs-inference-profile", Error, "The model is reachable only through an inference profile, but a bare model id is configured.";
    ModelBatchSupportUnknown = "model-batch-support-unknown", Note, "The model is not in bedbatch-doctor's catalogue, so batch support could not be confirmed.";
}

pub fn not_found(model_id: &str, looked_up: &str, region: &str) -> Finding {
    Finding::new(
        Code::ModelNotFound,
        model_id,
        format!("GetFoundationModel found no model {looked_up} in {region}"),
        "use an id from `aws bedrock list-foundation-models`, or another region",
    )
}

pub fn no_batch(fm: &str, name: &str, regions: &[String]) -> Finding {
    Finding::new(
        Code::ModelNoBatch,
        fm,
        format!("batch inference supports {name} in: {}", if regions.is_empty() { "no region".into() } else { regions.join(", ") }),
        "pick a model with batch support in the region, or run the jobs where this one has it",
    )
}

pub fn batch_support_unknown(fm: &str) -> Finding {
    Finding::new(
        Code::ModelBatchSupportUnknown,
        fm,
        format!("{fm} is not in policies/models.json"),
        "check AWS's table \"Supported Regions and models for batch inference\"",
    )
}

pub fn access_not_granted(fm: &str, authorization: &str, entitlement: &str) -> Finding {
    Finding::new(
        Code::ModelAccessNotGranted,
        fm,
        format!("GetFoundationModelAvailability: authorizationStatus {authorization}, entitlementAvailability {entitlement}"),
        "request access on the Bedrock console's Model access page, then re-run check",
    )
}

pub fn needs_profile(model_id: &str, fm: &str, inference_types: &[String], suggestion: &str) -> Finding {
    Finding::new(
        Code::ModelNeedsInferenceProfile,
        model_id,
        format!("{fm} supports inference types {inference_types:?}; it is reached through an inference profile"),
        format!("set model_id = \"{suggestion}\" and re-render the PassRole policy (it then grants the profile and the model behind it)"),
    )
}
