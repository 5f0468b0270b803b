//! `run`: a whole dataset as batch jobs, from the command line, with nothing to deploy.
//!
//! `run start INPUT` validates every record and checks the account, shards the input within the
//! model's batch quotas ([`shard`]), uploads the shards under `<input folder><run id>/`, and
//! submits one job per shard, keeping the account's concurrency quota full as jobs end. The run
//! manifest ([`manifest`]) is written locally and under `<output folder><run id>/` after every
//! change, so `run resume` continues from either copy. `run status`, `run collect`, `run retry`,
//! `run cancel` and `run list` read it.
//!
//! AWS rules used here, with their pages:
//! - a job's input is `.jsonl` files of `{"recordId", "modelInput"}` lines, and its output is
//!   `<output>/<job id>/<input file>.out` plus `manifest.json.out` with the record and token
//!   counts ("Format and upload your batch inference data"; "View the results of a batch
//!   inference job");
//! - the per-model quotas "Records per batch inference job", "Records per input file per batch
//!   inference job", "Batch inference input file size", "Batch inference job size", "Minimum
//!   number of records per batch inference job" and "Sum of in-progress and submitted batch
//!   inference jobs using a base model" (Service Quotas, service code `bedrock`); a create over
//!   the last one is refused with ServiceQuotaExceededException (CreateModelInvocationJob, Errors);
//! - `clientRequestToken`: "A unique, case-sensitive identifier to ensure that the API request
//!   completes no more than one time. If this token matches a previous request, Amazon Bedrock
//!   ignores the request, but does not return an error" (CreateModelInvocationJob, Request
//!   syntax). Each shard has its own token, reused by every create of that shard.

pub mod fastfill;
pub mod jobs;
pub mod join;
pub mod manifest;
pub mod prepare;
pub mod report;
pub mod results;
pub mod schema;
pub mod shard;
pub mod source;

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::json;

use crate::aws::{sdk_error, Clients};
use crate::checks::codes_for_message;
use crate::cli::{GlobalArgs, RunDrive};
use crate::error::{Error, ExitCode, Result};
use crate::families::Invocation;
use crate::output::{emit, Plain};
use crate::session as app;
use crate::settings::{ModelRef, Settings};
use crate::validate::{Limits, Validator};
pub(crate) use jobs::{refresh, refresh_active};
use jobs::{submit, Submitted};
use manifest::{now, RunManifest, Shard};
use shard::ShardLimits;
use source::Source;

/// What every run command needs: the settings, clients, the role and the model.
pub struct Ctx {
    pub settings: Settings,
    pub clients: Clients,
    pub role_arn: String,
    pub model: ModelRef,
    /// The foundation model behind the model id (prices, quotas, family).
    pub fm: String,
    /// The local runs folder.
    pub root: PathBuf,
}

impl Ctx {
    pub async fn new(g: &GlobalArgs, state_dir: Option<&Path>) -> Result<Ctx> {
        let settings = app::load_settings(g).await?;
        app::require_job_settings(&settings)?;
        let root = manifest::state_root(state_dir)?;
        let clients = app::connect(g, &settings).await?;
        let id = crate::aws::whoami(&clients).await?;
        let role_arn = crate::render::role_arn(&id.partition, &id.account, &settings.role_path, settings.role_name()?);
        let model = settings.model()?.clone();
        let fm = model.foundation_model_id.clone().unwrap_or_else(|| model.raw.clone());
        Ok(Ctx { settings, clients, role_arn, model, fm, root })
    }

    /// `s3://BUCKET/<input folder><run id>/` and `s3://BUCKET/<output folder><run id>/`.
    pub fn run_folders(&self, run_id: &str) -> Result<(String, String)> {
        let input = self.settings.input()?;
        let output = self.settings.output()?;
        Ok((format!("s3://{}/{}{run_id}/", input.bucket, input.folder()), format!("s3://{}/{}{run_id}/", output.bucket, output.folder())))
    }

    pub async fn load(&self, run_id: &str) -> Result<RunManifest> {
        manifest::check_run_id(run_id)?;
        let (_, output) = self.run_folders(run_id)?;
        manifest::load(&self.clients, &self.root, run_id, &output).await
    }

    pub async fn save(&self, m: &mut RunManifest) -> Result<()> {
        manifest::save(&self.clients, &self.root, m).await
    }

    /// A run goes on with the model and role it started with: settings that name others are
    /// refused rather than silently mixed into one run.
    pub(crate) fn check_same_setup(&self, m: &RunManifest) -> Result<()> {
        if m.model_id != self.model.raw {
            return Err(Error::Usage(format!(
                "run {} uses model {}, the settings name {}: pass --model-id {}",
                m.run_id, m.model_id, self.model.raw, m.model_id
            )));
        }
        if m.role_arn != self.role_arn {
            return Err(Error::Usage(format!("run {} uses the role {}, the settings name {}", m.run_id, m.role_arn, self.role_arn)));
        }
        Ok(())
    }
}

/// A new run id: `run-YYYYMMDD-HHMMSS-xxxx` (UTC, and four hex digits from the clock and the
/// process id, so two runs started in the same second differ).
pub(crate) fn new_run_id() -> String {
    let t = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    let stamp = aws_smithy_types::DateTime::from_secs(t.as_secs() as i64)
        .fmt(aws_smithy_types::date_time::Format::DateTime)
        .unwrap_or_default()
        .replace(['-', ':'], "")
        .replace('T', "-")
        .trim_end_matches('Z')
        .to_string();
    let salt = (t.subsec_nanos() ^ std::process::id().rotate_left(16)) & 0xffff;
    format!("run-{stamp}-{salt:04x}")
}

pub(crate) struct StartOptions {
    /// A table input: its prompt and settings (None: JSONL records).
    pub(crate) table: Option<crate::cli::TableArgs>,
    /// `--invocation-type` for a JSONL input (None: told from the first record, else the model's).
    pub(crate) invocation: Option<crate::cli::InvocationType>,
    pub(crate) yes: bool,
    pub(crate) records_per_job: Option<u64>,
    pub(crate) skip_check: bool,
    pub(crate) timeout_hours: Option<i32>,
    pub(crate) prices: Option<PathBuf>,
    pub(crate) drive: RunDrive,
}

pub(crate) use crate::prices::load as prices;

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

pub(crate) async fn launch(g: &GlobalArgs, ctx: &Ctx, input: &str, parent: Option<String>, opts: &StartOptions) -> Result<ExitCode> {
    let profile = crate::families::ModelProfile::of(&ctx.fm, &ctx.model.raw);
    let base = profile.limits.clone();
    let ml = crate::collect::quotas::model_limits(&ctx.clients, &ctx.fm, base).await?;
    for n in &ml.notes {
        crate::say!("note: {n}");
    }
    let mut limits = ShardLimits::from_limits(&ml.limits);
    if let Some(n) = opts.records_per_job {
        if n < limits.min_records {
            return Err(Error::Usage(format!("--records-per-job {n} is under the model's minimum of {} records a job", limits.min_records)));
        }
        limits.max_records = limits.max_records.min(n);
    }
    let price_table = prices(opts.prices.as_deref())?;

    // Pass 1: validate every record and measure what the shards will hold.
    let (source, invocation, family) = match &opts.table {
        Some(targs) => {
            let path = PathBuf::from(input);
            let job = crate::run::prepare::TableJob::new(targs, &path, &profile, &ctx.model.raw)?;
            for n in &job.notes {
                crate::say!("note: {n}");
            }
            let table = crate::table::open(&path, job.format)?;
            job.prompt.check_columns(table.columns(), input)?;
            let (inv, fam) = (job.invocation, job.settings.family);
            (Source::Table { path, job: std::sync::Arc::new(job) }, inv, fam)
        }
        None => {
            let source = Source::resolve(input, &ctx.clients).await?;
            let inv = match opts.invocation.map(Invocation::from) {
                Some(inv) => inv,
                None => {
                    let (inv, told) = crate::validate::told_invocation(&profile, input);
                    if told {
                        crate::say!("note: the records are in the Converse format: the jobs use modelInvocationType Converse");
                    }
                    inv
                }
            };
            let fam = profile.record_family(inv, &ctx.model.raw).map_err(Error::Usage)?;
            (source, inv, fam)
        }
    };
    let from_table = matches!(source, Source::Table { .. });
    let mut first = shard::FirstPass::new(Validator::new(family, ml.limits.clone(), 5));
    source
        .for_each_record(Some(&ctx.clients), &mut |rec| {
            // A table's records are written with their recordId; a JSONL line is looked at.
            if from_table {
                first.push_known(rec, true);
            } else {
                first.push(rec);
            }
            Ok(())
        })
        .await?;
    let (totals, missing_ids) = (first.totals, first.missing_ids);
    let report = first.finish(input);
    let cost = crate::prices::estimate(&report, &price_table, &ctx.fm);
    if report.errors() > 0 {
        crate::say!("The input has errors; nothing was submitted. Fix them (bedbatch-doctor validate shows the same) and start again.");
        if crate::output::is_json() {
            return Ok(emit(&Plain { text: String::new(), json: json!({"verdict": "input-invalid", "validate": report}), exit: ExitCode::Failed }));
        }
        crate::validate::print_text(&report, cost, &ctx.fm);
        return Ok(ExitCode::Failed);
    }
    if totals.records < limits.min_records {
        return Err(Error::Usage(format!(
            "{input} has {} records; a batch job of {} needs at least {} (its quota \"Minimum number of records per batch inference job\")",
            totals.records, ctx.model.raw, limits.min_records
        )));
    }

    let run_id = new_run_id();
    let (input_prefix, output_uri) = ctx.run_folders(&run_id)?;

    // The account check, for this run's own input and output folders.
    if !opts.skip_check {
        let mut rg = g.clone();
        rg.input_uri = Some(input_prefix.clone());
        rg.output_uri = Some(output_uri.clone());
        let snap = app::take_snapshot(&rg).await?;
        let outcome = crate::checks::run_snapshot(&snap)?;
        // Two findings do not stop a run: its input folder is empty because the run is about to
        // write the shards there, and a full concurrency quota only means the jobs wait.
        let blocking: Vec<&crate::findings::Finding> = outcome
            .all_findings()
            .filter(|f| f.severity == crate::findings::Severity::Error && !matches!(f.code.as_str(), "quota-jobs-full" | "input-object-missing"))
            .collect();
        if !blocking.is_empty() || outcome.incomplete() {
            crate::say!("{}", crate::report::text(&outcome).trim_end());
            let (why, exit) = if !blocking.is_empty() {
                ("the account check found errors: fix them (bedbatch-doctor check) and start again", ExitCode::Failed)
            } else {
                (
                    "a check could not run, so the account is not known to be ready: fix the read (see above) or pass --skip-check",
                    ExitCode::Incomplete,
                )
            };
            return Ok(emit(&Plain {
                text: format!("Not started: {why}."),
                json: json!({"verdict": "check-failed", "reason": why, "check": crate::report::json(&outcome)}),
                exit,
            }));
        }
    }

    // The plan, shown before anything is written.
    let n_shards = totals.records.div_ceil(limits.max_records).max(totals.bytes.div_ceil(limits.max_bytes)).max(1);
    let per_job = totals.records.div_ceil(n_shards);
    let quota = ml.concurrent_jobs.clone();
    let concurrency = match (&quota, opts.drive.max_concurrent) {
        (Ok(q), Some(m)) => format!("{} at once (quota {q}, --max-concurrent {m})", m.min(*q)),
        (Ok(q), None) => format!("{q} at once (the account's quota, jobs already running counted)"),
        (Err(why), Some(m)) => format!("{m} at once (--max-concurrent; the quota is unknown: {why})"),
        (Err(why), None) => format!("as many as Bedrock accepts (the quota is unknown: {why})"),
    };
    crate::say!("run {run_id}{}: {} records from {input}", parent.as_deref().map(|p| format!(" (retries {p})")).unwrap_or_default(), totals.records);
    if missing_ids > 0 {
        crate::say!("  {missing_ids} records have no recordId: they get stable ids r<ordinal> (r0000000001 is the first record)");
    }
    crate::say!(
        "  {n_shards} jobs of about {per_job} records and {} bytes each (limits: {}–{} records, {} bytes a job)",
        totals.bytes / n_shards,
        limits.min_records,
        limits.max_records,
        limits.max_bytes
    );
    crate::say!(
        "  estimated batch cost: {}",
        cost.as_ref()
            .map(|(lo, hi, _)| format!("{} to {}", crate::validate::dollars(*lo), crate::validate::dollars(*hi)))
            .unwrap_or_else(|| "unknown (no price for the model)".into())
    );
    crate::say!("  jobs: {concurrency}; model {}; role {}", ctx.model.raw, ctx.role_arn);
    crate::say!("  shards: {input_prefix}shard-NNNN.jsonl; output: {output_uri}<job id>/");
    if !crate::apply::confirm("Shard, upload and submit?", opts.yes)? {
        crate::say!("Nothing was submitted.");
        return Ok(emit(&Plain { text: String::new(), json: json!({"verdict": "not-submitted"}), exit: ExitCode::Ok }));
    }

    // The table itself, under the run's input folder (Bedrock reads only the shard objects), so
    // `collect` can rebuild its rows on a machine that does not have the file.
    let table_spec = match &source {
        Source::Table { path, job } => {
            let bytes = std::fs::metadata(path).map_err(|e| Error::io(path.display(), e))?.len();
            let name = path.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_else(|| "table".into());
            let uri = format!("{input_prefix}source/{name}");
            let (bucket, key) = source::split_uri(&uri)?;
            let body = aws_sdk_s3::primitives::ByteStream::from_path(path).await.map_err(|e| Error::Io(format!("{}: {e}", path.display())))?;
            ctx.clients.s3.put_object().bucket(&bucket).key(&key).body(body).send().await.map_err(|e| sdk_error("s3", "PutObject", e))?;
            crate::say!("  uploaded the table to {uri}");
            Some(job.spec(path, bytes, totals.records, Some(uri)))
        }
        _ => None,
    };

    // Pass 2: write the shards locally, record them, upload them.
    let dir = ctx.root.join(&run_id).join("shards");
    let mut sharder = shard::Sharder::new(&dir, limits, totals)?;
    let written = source.for_each_record(Some(&ctx.clients), &mut |rec| sharder.push(rec)).await;
    let assigned = sharder.assigned;
    let files = written.and_then(|_| sharder.finish());
    let files = match files {
        Ok(f) => f,
        Err(e) => {
            // Nothing was uploaded or recorded: leave no half-written run behind.
            let _ = std::fs::remove_dir_all(ctx.root.join(&run_id));
            crate::say!("Nothing was submitted.");
            return Err(e);
        }
    };
    let t = now();
    let mut m = RunManifest {
        format: manifest::FORMAT,
        run_id: run_id.clone(),
        revision: 0,
        created_at: t,
        updated_at: t,
        parent_run: parent,
        source: input.to_string(),
        region: ctx.settings.region()?.to_string(),
        model_id: ctx.model.raw.clone(),
        role_arn: ctx.role_arn.clone(),
        input_prefix: input_prefix.clone(),
        output_uri,
        records: totals.records,
        bytes: totals.bytes,
        assigned_ids: assigned,
        limits,
        max_concurrent: opts.drive.max_concurrent,
        timeout_hours: opts.timeout_hours,
        cancelled: false,
        shards: files
            .iter()
            .map(|f| Shard {
                index: f.index,
                input_uri: format!("{input_prefix}{}", shard::shard_name(f.index)),
                records: f.records,
                bytes: f.bytes,
                uploaded: false,
                job_name: format!("bedbatch-{run_id}-s{:04}", f.index),
                client_request_token: format!("bedbatch-{run_id}-s{:04}", f.index),
                job_arn: None,
                status: "Pending".into(),
                message: None,
                submitted_at: None,
                ended_at: None,
                counts: None,
                counts_error: None,
                progress: None,
            })
            .collect(),
        invocation_type: invocation,
        family: Some(family),
        table: table_spec,
        estimated_cost: cost.as_ref().map(|(lo, hi, _)| (*lo, *hi)),
    };
    ctx.save(&mut m).await?;
    finish_upload(ctx, &mut m).await?;
    drive_run(ctx, &mut m, &opts.drive, quota).await
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
