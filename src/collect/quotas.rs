//! Bedrock's batch quotas, read from Service Quotas (the matching rules are `crate::quotas`).
//!
//! AWS names each batch quota "<what> for <model name>" (service code `bedrock`), with the
//! model's name as GetFoundationModel's `modelName` gives it ("… for Claude 3.5 Sonnet",
//! "… for Claude 3.5 Sonnet v2"). A quota belongs to a model only when its name ends with
//! exactly " for <model name>" — or, for the size quotas AWS names with the unit last ("Batch
//! inference input file size for Qwen3 32B (in GB)"; most models have "… (in GB) for X"),
//! exactly " for <model name> (in GB)": a substring match would give Claude 3.5 Sonnet the v2
//! model's quotas. `ListServiceQuotas` lists only quotas with an applied value in the account (AWS,
//! Service Quotas API: "ListServiceQuotas … Lists the applied quota values"; quotas never
//! raised may be absent), so the defaults from `ListAWSDefaultServiceQuotas` fill the gaps.

use crate::aws::{sdk_error, Clients};
use crate::error::Result;
use crate::quotas::{find, for_model, is_batch, limits, QuotaKind};
use crate::snapshot::{QuotaSource, QuotaValue};
use crate::validate::Limits;

/// Every Bedrock batch quota in the region: the applied values, and AWS's default for each
/// quota with no applied value.
pub async fn batch_quotas(clients: &Clients) -> Result<Vec<QuotaValue>> {
    let mut out: Vec<QuotaValue> = Vec::new();
    let mut pages = clients.quotas.list_service_quotas().service_code("bedrock").into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| sdk_error("service-quotas", "ListServiceQuotas", e))?;
        for q in page.quotas() {
            let name = q.quota_name().unwrap_or_default();
            if is_batch(name) {
                out.push(QuotaValue {
                    code: q.quota_code().unwrap_or_default().to_string(),
                    name: name.to_string(),
                    value: q.value().unwrap_or(0.0),
                    source: QuotaSource::Applied,
                });
            }
        }
    }
    let mut pages = clients.quotas.list_aws_default_service_quotas().service_code("bedrock").into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| sdk_error("service-quotas", "ListAWSDefaultServiceQuotas", e))?;
        for q in page.quotas() {
            let name = q.quota_name().unwrap_or_default();
            let code = q.quota_code().unwrap_or_default();
            if is_batch(name) && !out.iter().any(|a| a.code == code) {
                out.push(QuotaValue {
                    code: code.to_string(),
                    name: name.to_string(),
                    value: q.value().unwrap_or(0.0),
                    source: QuotaSource::Default,
                });
            }
        }
    }
    Ok(out)
}

/// The limits for a model as the account states them, and notes on where they came from.
#[derive(Debug, Clone)]
pub struct ModelLimits {
    pub limits: Limits,
    /// The model name the quotas were matched by, when one is known.
    pub model_name: Option<String>,
    /// Where the values came from, for people ("quotas of Claude Haiku 4.5: 6 applied, …").
    pub notes: Vec<String>,
    /// "Sum of in-progress and submitted batch inference jobs using a base model", or why it is
    /// unknown (no model name, or Service Quotas lists none for the model).
    pub concurrent_jobs: std::result::Result<u64, String>,
}

/// The model's name: the catalogue's, else GetFoundationModel's `modelName` (a model the
/// catalogue does not know yet is still looked up live). None when neither answers.
pub async fn model_name(clients: &Clients, fm: &str, notes: &mut Vec<String>) -> Option<String> {
    if let Some(e) = crate::catalogue::model(fm) {
        return Some(e.name.clone());
    }
    match super::bedrock::foundation_model_name(clients, fm).await {
        Ok(name) => {
            if let Some(n) = &name {
                notes.push(format!(
                    "{fm} is not in the dated catalogue (as of {}); its name {n:?} comes from GetFoundationModel",
                    crate::catalogue::as_of()
                ));
            }
            name
        }
        Err(e) => {
            notes.push(format!("{fm} is not in the dated catalogue and GetFoundationModel failed ({e}); AWS's default quotas apply"));
            None
        }
    }
}

/// `base` with the model's batch quotas from the account (applied, else AWS's defaults).
pub async fn model_limits(clients: &Clients, fm: &str, base: Limits) -> Result<ModelLimits> {
    let mut notes = vec![];
    let Some(name) = model_name(clients, fm, &mut notes).await else {
        let why = notes.join("; ");
        return Ok(ModelLimits { limits: base, model_name: None, notes, concurrent_jobs: Err(why) });
    };
    let all = batch_quotas(clients).await?;
    let mine = for_model(&all, &name);
    if mine.is_empty() {
        notes.push(format!("Service Quotas lists no batch inference quota for {name}; AWS's documented defaults apply"));
    } else {
        let defaults = mine.iter().filter(|q| q.source == QuotaSource::Default).count();
        notes.push(format!("{} batch quotas for {name} ({} applied, {defaults} AWS defaults)", mine.len(), mine.len() - defaults));
    }
    let concurrent_jobs = find(&mine, QuotaKind::ConcurrentJobs)
        .map(|q| q.value as u64)
        .ok_or_else(|| format!("Service Quotas lists no concurrent-jobs quota for {name}"));
    Ok(ModelLimits { limits: limits(&mine, base), model_name: Some(name), notes, concurrent_jobs })
}
