//! A run's last steps: its shards uploaded, its jobs submitted within the concurrency quota and
//! watched until they end.

use std::time::Duration;

use serde_json::json;

use crate::aws::sdk_error;
use crate::checks::codes_for_message;
use crate::cli::RunDrive;
use crate::error::{Error, ExitCode, Result};
use crate::output::{emit, Plain};
use crate::prices::load as prices;
use crate::run::ctx::Ctx;
use crate::run::jobs::{refresh_active, submit, Submitted};
use crate::run::manifest::{now, RunManifest, Shard};
use crate::run::report;
use crate::run::shard;
use crate::run::source;
use crate::validate::Limits;

/// The concurrency quota of the model, read live, or why it is unknown.
pub(crate) async fn concurrency_quota(ctx: &Ctx) -> std::result::Result<u64, String> {
    match crate::collect::quotas::model_limits(&ctx.clients, &ctx.fm, Limits::default()).await {
        Ok(ml) => ml.concurrent_jobs,
        Err(e) => Err(e.to_string()),
    }
}

/// Active (submitted, validating, scheduled, in progress) jobs of the model in the account.
async fn account_active(ctx: &Ctx) -> Result<Vec<String>> {
    let mut arns = Vec::new();
    for status in ["Submitted", "Validating", "Scheduled", "InProgress"] {
        let mut pages = ctx
            .clients
            .bedrock
            .list_model_invocation_jobs()
            .status_equals(aws_sdk_bedrock::types::ModelInvocationJobStatus::from(status))
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| sdk_error("bedrock", "ListModelInvocationJobs", e))?;
            for j in page.invocation_job_summaries() {
                if ctx.model.names_job_model(j.model_id()) {
                    arns.push(j.job_arn().to_string());
                }
            }
        }
    }
    Ok(arns)
}

/// Uploads the shards not yet in S3 from the local shard folder (then deletes the local copy).
pub(crate) async fn finish_upload(ctx: &Ctx, m: &mut RunManifest) -> Result<()> {
    let dir = ctx.root.join(&m.run_id).join("shards");
    for i in 0..m.shards.len() {
        if m.shards[i].uploaded {
            continue;
        }
        let path = dir.join(shard::shard_name(i));
        if !path.exists() {
            return Err(Error::Usage(format!(
                "run {}: shard {i} was never uploaded and its local file {} is gone (the run was started on another machine?); start a new run",
                m.run_id,
                path.display()
            )));
        }
        let (bucket, key) = source::split_uri(&m.shards[i].input_uri)?;
        let body = aws_sdk_s3::primitives::ByteStream::from_path(&path).await.map_err(|e| Error::Io(format!("{}: {e}", path.display())))?;
        ctx.clients.s3.put_object().bucket(&bucket).key(&key).body(body).send().await.map_err(|e| sdk_error("s3", "PutObject", e))?;
        m.shards[i].uploaded = true;
        ctx.save(m).await?;
        std::fs::remove_file(&path).map_err(|e| Error::io(path.display(), e))?;
        crate::say!("  uploaded {} ({} records)", m.shards[i].input_uri, m.shards[i].records);
    }
    let _ = std::fs::remove_dir(&dir);
    Ok(())
}

/// Polls the run's jobs and submits its shards, keeping at most the quota's worth active, until
/// every job has ended (or, with --detach, once what fits is submitted). Ctrl-C saves the
/// manifest and leaves the jobs running.
pub(crate) async fn drive_run(ctx: &Ctx, m: &mut RunManifest, d: &RunDrive, quota: std::result::Result<u64, String>) -> Result<ExitCode> {
    let mut interrupt = crate::canary::Interrupt::new()?;
    if let Err(why) = &quota {
        crate::say!("note: the concurrency quota is unknown ({why}); jobs are submitted until Bedrock refuses one");
    }
    let cap = d.max_concurrent.or(m.max_concurrent);
    let poll = Duration::from_millis(d.poll_interval_ms.max(10));
    loop {
        let changed = refresh_active(ctx, m, true).await?;
        if !m.cancelled && m.shards.iter().any(Shard::pending) {
            let ours = m.shards.iter().filter(|s| s.active()).count() as u64;
            let mut slots = match &quota {
                Ok(q) => q.saturating_sub(account_active(ctx).await?.len() as u64),
                Err(_) => u64::MAX,
            };
            if let Some(c) = cap {
                slots = slots.min(c.saturating_sub(ours));
            }
            for i in 0..m.shards.len() {
                if slots == 0 {
                    break;
                }
                if !m.shards[i].pending() {
                    continue;
                }
                match submit(ctx, m, &m.shards[i]).await {
                    Ok(Submitted::Job(arn)) => {
                        let s = &mut m.shards[i];
                        crate::say!("  {} submitted {arn}", shard::shard_name(s.index));
                        s.job_arn = Some(arn);
                        s.status = "Submitted".into();
                        s.submitted_at = Some(now());
                        slots -= 1;
                        ctx.save(m).await?;
                    }
                    Ok(Submitted::QuotaFull) => break,
                    Err(e) => {
                        if changed {
                            ctx.save(m).await?;
                        }
                        let codes: Vec<&str> = codes_for_message(&e.to_string()).iter().map(|c| c.as_str()).collect();
                        let hint =
                            if codes.is_empty() { String::new() } else { format!(" (cause: {}; bedbatch-doctor explain CODE)", codes.join(", ")) };
                        return Err(Error::Aws(format!(
                            "{e}{hint}. Shard {} was not submitted; fix the cause, then `bedbatch-doctor run resume {}`",
                            m.shards[i].index, m.run_id
                        )));
                    }
                }
            }
        }
        if changed {
            ctx.save(m).await?;
        }
        if m.finished() {
            break;
        }
        if d.detach {
            let r = report::report(m, &prices(None)?);
            crate::say!("detached: continue with `bedbatch-doctor run resume {}`, watch with `run status {} --watch`", m.run_id, m.run_id);
            return Ok(emit(&Plain { text: r.text, json: r.json, exit: ExitCode::Ok }));
        }
        tokio::select! {
            _ = tokio::time::sleep(poll) => {}
            _ = interrupt.recv() => {
                ctx.save(m).await?;
                crate::say!("INTERRUPTED: the run's jobs keep running; continue with `bedbatch-doctor run resume {}` (here or on any machine with the same settings)", m.run_id);
                return Ok(emit(&Plain { text: String::new(), json: json!({"verdict": "interrupted", "run_id": m.run_id}), exit: ExitCode::Interrupted }));
            }
        }
    }
    let r = report::report(m, &prices(None)?);
    Ok(emit(&Plain { text: r.text, json: r.json, exit: r.exit }))
}
