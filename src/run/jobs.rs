//! One job of a run at Bedrock: its create (idempotent by clientRequestToken, a quota refusal
//! told apart), its status and progress, and its counts from `manifest.json.out`.

use aws_sdk_bedrock::types::{
    ModelInvocationJobInputDataConfig, ModelInvocationJobOutputDataConfig, ModelInvocationJobS3InputDataConfig, ModelInvocationJobS3OutputDataConfig,
    Tag,
};
use serde_json::Value;

use crate::aws::{sdk_error, service_code};
use crate::error::{Error, Result};
use crate::families::Invocation;
use crate::run::ctx::Ctx;
use crate::run::manifest::{self, now, RunManifest, Shard};
use crate::run::report;
use crate::run::shard;
use crate::run::source;

/// The outcome of one create.
pub(crate) enum Submitted {
    Job(String),
    /// Bedrock refused it for the concurrency quota: wait for a job to end.
    QuotaFull,
}

pub(crate) async fn submit(ctx: &Ctx, m: &RunManifest, s: &Shard) -> Result<Submitted> {
    let input = ModelInvocationJobS3InputDataConfig::builder().s3_uri(&s.input_uri).build().map_err(|e| Error::Usage(e.to_string()))?;
    let output = ModelInvocationJobS3OutputDataConfig::builder().s3_uri(&m.output_uri).build().map_err(|e| Error::Usage(e.to_string()))?;
    let mut req = ctx
        .clients
        .bedrock
        .create_model_invocation_job()
        .job_name(&s.job_name)
        .client_request_token(&s.client_request_token)
        .role_arn(&m.role_arn)
        .model_id(&m.model_id)
        .input_data_config(ModelInvocationJobInputDataConfig::S3InputDataConfig(input))
        .output_data_config(ModelInvocationJobOutputDataConfig::S3OutputDataConfig(output))
        .tags(Tag::builder().key("managed-by").value("bedbatch-doctor").build().map_err(|e| Error::Usage(e.to_string()))?)
        .tags(Tag::builder().key("purpose").value(format!("run {}", m.run_id)).build().map_err(|e| Error::Usage(e.to_string()))?);
    if let Some(h) = m.timeout_hours {
        req = req.timeout_duration_in_hours(h);
    }
    if m.invocation_type == Invocation::Converse {
        // CreateModelInvocationJob's modelInvocationType: the records are Converse requests.
        req = req.model_invocation_type(aws_sdk_bedrock::types::ModelInvocationType::Converse);
    }
    match req.send().await {
        Ok(out) => Ok(Submitted::Job(out.job_arn().to_string())),
        Err(e) => match service_code(&e) {
            Some("ServiceQuotaExceededException") => Ok(Submitted::QuotaFull),
            // The name exists: an earlier create of this shard succeeded (its answer was lost).
            Some("ConflictException") => {
                find_by_name(ctx, &s.job_name).await?.map(Submitted::Job).ok_or_else(|| sdk_error("bedrock", "CreateModelInvocationJob", e))
            }
            _ => Err(sdk_error("bedrock", "CreateModelInvocationJob", e)),
        },
    }
}

async fn find_by_name(ctx: &Ctx, name: &str) -> Result<Option<String>> {
    let mut pages = ctx.clients.bedrock.list_model_invocation_jobs().name_contains(name).into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| sdk_error("bedrock", "ListModelInvocationJobs", e))?;
        if let Some(j) = page.invocation_job_summaries().iter().find(|j| j.job_name() == name) {
            return Ok(Some(j.job_arn().to_string()));
        }
    }
    Ok(None)
}

/// Reads a job's status; when it has ended with output, its manifest.json.out counts.
/// Returns whether anything changed.
pub(crate) async fn refresh(ctx: &Ctx, m: &RunManifest, s: &mut Shard) -> Result<bool> {
    let Some(arn) = s.job_arn.clone() else { return Ok(false) };
    let job = crate::canary::get_job_patiently(&ctx.clients, &arn).await?;
    let status = job.status().map(|x| x.as_str().to_string()).unwrap_or_else(|| "Unknown".into());
    let progress = manifest::Progress {
        total: job.total_record_count().and_then(|n| u64::try_from(n).ok()),
        processed: job.processed_record_count().and_then(|n| u64::try_from(n).ok()),
        success: job.success_record_count().and_then(|n| u64::try_from(n).ok()),
        error: job.error_record_count().and_then(|n| u64::try_from(n).ok()),
    };
    let progressed = progress != manifest::Progress::default() && s.progress.as_ref() != Some(&progress);
    if progressed {
        s.progress = Some(progress);
    }
    if status == s.status {
        return Ok(progressed);
    }
    s.status = status;
    s.message = job.message().map(String::from);
    if s.terminal() {
        s.ended_at = Some(job.end_time().map(|t| t.secs()).unwrap_or_else(now));
        s.counts = None;
        s.counts_error = None;
        if job.processed_record_count().unwrap_or(0) > 0 || matches!(s.status.as_str(), "Completed" | "PartiallyCompleted") {
            match job_counts(ctx, m, s).await {
                Ok(c) => s.counts = Some(c),
                Err(e) => s.counts_error = Some(e.to_string()),
            }
        }
    }
    Ok(true)
}

/// A finished job's `<output>/<job id>/manifest.json.out`.
async fn job_counts(ctx: &Ctx, m: &RunManifest, s: &Shard) -> Result<manifest::Counts> {
    let (bucket, prefix) = source::split_uri(&m.output_uri)?;
    let key = format!("{prefix}{}/manifest.json.out", s.job_id().unwrap_or_default());
    let obj = ctx.clients.s3.get_object().bucket(&bucket).key(&key).send().await.map_err(|e| sdk_error("s3", "GetObject", e))?;
    let data = obj.body.collect().await.map_err(|e| Error::Aws(format!("s3://{bucket}/{key}: reading failed: {e}")))?.to_vec();
    let v: Value = serde_json::from_slice(&data).map_err(|e| Error::Aws(format!("s3://{bucket}/{key}: not JSON: {e}")))?;
    let n = |k: &str| v[k].as_u64().ok_or_else(|| Error::Aws(format!("s3://{bucket}/{key}: no {k}")));
    Ok(manifest::Counts {
        total: n("totalRecordCount")?,
        success: n("successRecordCount")?,
        error: n("errorRecordCount")?,
        // Documented beside the record counts ("View the results of a batch inference job":
        // manifest.json.out holds inputTokenCount and outputTokenCount): one missing leaves the
        // job's tokens unknown, never zero.
        input_tokens: n("inputTokenCount")?,
        output_tokens: n("outputTokenCount")?,
    })
}

/// Reads every active job of the run once; says each change when `say` is set. Returns whether
/// anything changed (the caller saves the manifest).
pub(crate) async fn refresh_active(ctx: &Ctx, m: &mut RunManifest, say: bool) -> Result<bool> {
    let mut changed = false;
    for i in 0..m.shards.len() {
        if !m.shards[i].active() {
            continue;
        }
        let mut s = m.shards[i].clone();
        if refresh(ctx, m, &mut s).await? {
            if say {
                crate::say!("  {} {}{}", shard::shard_name(s.index), s.status, report::shard_detail(&s));
            }
            m.shards[i] = s;
            changed = true;
        }
    }
    Ok(changed)
}
