//! Bedrock reads: the inference profile, the foundation model and its availability, the
//! profiles that contain it, the account's batch jobs, a model's name.
//!
//! Bedrock answers ResourceNotFoundException for a model or profile that does not exist (Amazon
//! Bedrock API reference, GetFoundationModel / GetInferenceProfile: "Errors"), so that is the
//! fact "missing"; any other error leaves the fact unknown.

use super::read::{read_error, record, Failures};
use crate::aws::{sdk_error, service_code, Clients};
use crate::error::{Error, Result};
use crate::settings::Settings;
use crate::snapshot::{JobSummary, ModelState, ProfileState};

/// GetInferenceProfile for a profile id or ARN: None when it does not exist.
async fn inference_profile(clients: &Clients, ident: &str) -> Result<Option<ProfileState>> {
    match clients.bedrock.get_inference_profile().inference_profile_identifier(ident).send().await {
        Ok(p) => Ok(Some(ProfileState {
            id: p.inference_profile_id().to_string(),
            arn: p.inference_profile_arn().to_string(),
            kind: p.r#type().as_str().to_string(),
            status: p.status().as_str().to_string(),
            models: p.models().iter().filter_map(|m| m.model_arn().map(str::to_string)).collect(),
        })),
        Err(e) if service_code(&e) == Some("ResourceNotFoundException") => Ok(None),
        Err(e) => Err(sdk_error("bedrock", "GetInferenceProfile", e)),
    }
}

/// The profile's routes for rendering and applying: `Ok(None)` for a bare foundation-model
/// id; `Err(Missing)` when the profile does not exist; a read that fails leaves the caller to
/// render the offline grant (every Region, `*`) and say so.
pub async fn profile_routes(clients: &Clients, settings: &Settings) -> Result<Option<ProfileState>> {
    let model = settings.model()?;
    if !model.is_profile() {
        return Ok(None);
    }
    // GetInferenceProfile takes the id or the ARN, as the setting gives it.
    match inference_profile(clients, &model.raw).await? {
        Some(p) => Ok(Some(p)),
        None => Err(Error::Missing(format!("the inference profile {} does not exist in {} (GetInferenceProfile)", model.raw, settings.region()?))),
    }
}

/// The model as the account sees it: the profile (GetInferenceProfile) when the id is one, the
/// foundation model behind it (GetFoundationModel: name, provider, inference types, lifecycle),
/// its availability (GetFoundationModelAvailability) and the system-defined profiles that
/// contain it (ListInferenceProfiles).
pub(super) async fn model_state(clients: &Clients, settings: &Settings, failures: &Failures) -> Result<ModelState> {
    let model = settings.model()?;
    let mut state = ModelState {
        found: false,
        foundation_model_id: model.foundation_model_id.clone(),
        inference_types: vec![],
        authorization: None,
        entitlement: None,
        profiles: vec![],
        availability_error: None,
        name: None,
        provider: None,
        lifecycle: None,
        agreement: None,
        region_availability: None,
        profile: None,
        profile_error: None,
    };
    if model.is_profile() {
        match inference_profile(clients, &model.raw).await {
            // The profile does not exist: the model id names nothing.
            Ok(None) => return Ok(state),
            Ok(Some(p)) => {
                if let Some(fm) = p.foundation_model_id() {
                    state.foundation_model_id = Some(fm);
                }
                state.profile = Some(p);
            }
            Err(e) => {
                let err = read_error(&e);
                record("the inference profile", &err, failures);
                state.profile_error = Some(err);
            }
        }
    }
    let Some(fm) = state.foundation_model_id.clone() else { return Ok(state) };
    match clients.bedrock.get_foundation_model().model_identifier(&fm).send().await {
        Ok(out) => {
            state.found = true;
            if let Some(d) = out.model_details() {
                state.inference_types = d.inference_types_supported().iter().map(|t| t.as_str().to_string()).collect();
                state.name = d.model_name().map(str::to_string);
                state.provider = d.provider_name().map(str::to_string);
                state.lifecycle = d.model_lifecycle().map(|l| l.status().as_str().to_string());
            }
        }
        Err(e) if service_code(&e) == Some("ResourceNotFoundException") || service_code(&e) == Some("ValidationException") => return Ok(state),
        Err(e) => return Err(sdk_error("bedrock", "GetFoundationModel", e)),
    }
    match clients.bedrock.get_foundation_model_availability().model_id(&fm).send().await {
        Ok(a) => {
            state.authorization = Some(a.authorization_status().as_str().to_string());
            state.entitlement = Some(a.entitlement_availability().as_str().to_string());
            state.agreement = a.agreement_availability().map(|g| g.status().as_str().to_string());
            state.region_availability = Some(a.region_availability().as_str().to_string());
        }
        Err(e) => {
            let err = read_error(&sdk_error("bedrock", "GetFoundationModelAvailability", e));
            record("the model's availability", &err, failures);
            state.availability_error = Some(err);
        }
    }
    let profiles = clients.bedrock.list_inference_profiles().send().await.map_err(|e| sdk_error("bedrock", "ListInferenceProfiles", e))?;
    for p in profiles.inference_profile_summaries() {
        if p.models().iter().any(|m| m.model_arn().is_some_and(|a| a.ends_with(&format!("/{fm}")))) {
            state.profiles.push(p.inference_profile_id().to_string());
        }
    }
    Ok(state)
}

pub(super) async fn jobs(clients: &Clients) -> Result<Vec<JobSummary>> {
    let out =
        clients.bedrock.list_model_invocation_jobs().max_results(100).send().await.map_err(|e| sdk_error("bedrock", "ListModelInvocationJobs", e))?;
    Ok(out
        .invocation_job_summaries()
        .iter()
        .map(|j| JobSummary {
            arn: j.job_arn().to_string(),
            name: j.job_name().to_string(),
            model_id: j.model_id().to_string(),
            status: j.status().map(|s| s.as_str().to_string()).unwrap_or_default(),
            message: j.message().map(str::to_string),
            output_uri: j.output_data_config().and_then(|o| o.as_s3_output_data_config().ok()).map(|o| o.s3_uri().to_string()),
            timeout_hours: j.timeout_duration_in_hours(),
            total_records: j.total_record_count(),
            success_records: j.success_record_count(),
            error_records: j.error_record_count(),
            record_errors: None,
        })
        .collect())
}

/// GetFoundationModel's `modelName` for `fm` (None when the answer has none).
pub async fn foundation_model_name(clients: &Clients, fm: &str) -> Result<Option<String>> {
    match clients.bedrock.get_foundation_model().model_identifier(fm).send().await {
        Ok(out) => Ok(out.model_details().and_then(|d| d.model_name()).map(str::to_string)),
        Err(e) => Err(sdk_error("bedrock", "GetFoundationModel", e)),
    }
}
