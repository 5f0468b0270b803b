//! `run start` (and `run retry`), step by step: the model's limits; the input opened (a table or
//! JSONL records); pass 1, every record validated and measured; the account checked for the
//! run's own folders; the plan shown and confirmed; the table copied beside the run; pass 2,
//! the shards written; the manifest recorded; then the shards uploaded and the jobs submitted
//! and watched (`finish_upload`, `drive_run`). Each step is a function of its own.

use std::path::PathBuf;

use serde_json::json;

use crate::cli::{GlobalArgs, RunDrive};
use crate::error::{Error, ExitCode, Result};
use crate::families::{Family, Invocation, ModelProfile};
use crate::output::{emit, Plain};
use crate::run::ctx::Ctx;
use crate::run::manifest::{self, now, RunManifest, Shard};
use crate::run::shard::{self, ShardLimits, Totals};
use crate::run::source::{self, Source};
use crate::session as app;
use crate::validate::{Report, Validator};

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

pub(crate) async fn launch(g: &GlobalArgs, ctx: &Ctx, input: &str, parent: Option<String>, opts: &StartOptions) -> Result<ExitCode> {
    let profile = ModelProfile::of(&ctx.fm, &ctx.model.raw);
    let (ml, limits) = limits(ctx, &profile, opts).await?;
    let price_table = crate::prices::load(opts.prices.as_deref())?;
    let (source, invocation, family) = open_input(ctx, &profile, input, opts).await?;

    let pass1 = validate(ctx, &source, family, &ml.limits, input).await?;
    let cost = crate::prices::estimate(&pass1.report, &price_table, &ctx.fm);
    if pass1.report.errors() > 0 {
        crate::say!("The input has errors; nothing was submitted. Fix them (bedbatch-doctor validate shows the same) and start again.");
        if crate::output::is_json() {
            return Ok(emit(&Plain {
                text: String::new(),
                json: json!({"verdict": "input-invalid", "validate": pass1.report}),
                exit: ExitCode::Failed,
            }));
        }
        crate::validate::print_text(&pass1.report, cost, &ctx.fm);
        return Ok(ExitCode::Failed);
    }
    let totals = pass1.totals;
    if totals.records < limits.min_records {
        return Err(Error::Usage(format!(
            "{input} has {} records; a batch job of {} needs at least {} (its quota \"Minimum number of records per batch inference job\")",
            totals.records, ctx.model.raw, limits.min_records
        )));
    }

    let run_id = new_run_id();
    let (input_prefix, output_uri) = ctx.run_folders(&run_id)?;
    if !opts.skip_check {
        if let Some(exit) = check_account(g, &input_prefix, &output_uri).await? {
            return Ok(exit);
        }
    }

    let quota = ml.concurrent_jobs.clone();
    let plan = Plan {
        run_id: &run_id,
        input,
        parent: parent.as_deref(),
        input_prefix: &input_prefix,
        output_uri: &output_uri,
        totals,
        missing_ids: pass1.missing_ids,
        limits: &limits,
        cost: cost.as_ref().map(|(lo, hi, _)| (*lo, *hi)),
    };
    show_plan(ctx, &plan, &quota, opts);
    if !crate::apply::confirm("Shard, upload and submit?", opts.yes)? {
        crate::say!("Nothing was submitted.");
        return Ok(emit(&Plain { text: String::new(), json: json!({"verdict": "not-submitted"}), exit: ExitCode::Ok }));
    }

    let table_spec = match &source {
        Source::Table { path, job } => Some(job.spec(path, file_size(path)?, totals.records, Some(upload_table(ctx, path, &input_prefix).await?))),
        _ => None,
    };
    let (files, assigned) = write_shards(ctx, &source, &run_id, limits.clone(), totals).await?;
    let mut m = record(ctx, &plan, opts, limits, &files, assigned, invocation, family, table_spec)?;
    ctx.save(&mut m).await?;
    crate::run::drive::finish_upload(ctx, &mut m).await?;
    crate::run::drive::drive_run(ctx, &mut m, &opts.drive, quota).await
}

/// The model's limits (its quotas read live) and the shard limits they give, under
/// `--records-per-job`.
async fn limits(ctx: &Ctx, profile: &ModelProfile, opts: &StartOptions) -> Result<(crate::collect::quotas::ModelLimits, ShardLimits)> {
    let ml = crate::collect::quotas::model_limits(&ctx.clients, &ctx.fm, profile.limits.clone()).await?;
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
    Ok((ml, limits))
}

/// The input, its invocation type and the family of its records: a table with its prompt, or
/// JSONL records (the invocation type as given, else told from the first record).
async fn open_input(ctx: &Ctx, profile: &ModelProfile, input: &str, opts: &StartOptions) -> Result<(Source, Invocation, Family)> {
    match &opts.table {
        Some(targs) => {
            let path = PathBuf::from(input);
            let job = crate::run::prepare::TableJob::new(targs, &path, profile, &ctx.model.raw)?;
            for n in &job.notes {
                crate::say!("note: {n}");
            }
            let table = crate::table::open(&path, job.format)?;
            job.prompt.check_columns(table.columns(), input)?;
            let (inv, fam) = (job.invocation, job.settings.family);
            Ok((Source::Table { path, job: std::sync::Arc::new(job) }, inv, fam))
        }
        None => {
            let source = Source::resolve(input, &ctx.clients).await?;
            let inv = match opts.invocation.map(Invocation::from) {
                Some(inv) => inv,
                None => {
                    let first = source.first_record(Some(&ctx.clients)).await;
                    let (inv, told) = crate::validate::told_invocation(profile, first.as_deref());
                    if told {
                        crate::say!("note: the records are in the Converse format: the jobs use modelInvocationType Converse");
                    }
                    inv
                }
            };
            let fam = profile.record_family(inv, &ctx.model.raw).map_err(Error::Usage)?;
            Ok((source, inv, fam))
        }
    }
}

/// What pass 1 found.
struct Pass1 {
    totals: Totals,
    missing_ids: u64,
    report: Report,
}

/// Pass 1: every record validated with validate's rules and measured for the shards.
async fn validate(ctx: &Ctx, source: &Source, family: Family, limits: &crate::validate::Limits, input: &str) -> Result<Pass1> {
    let from_table = matches!(source, Source::Table { .. });
    let mut first = shard::FirstPass::new(Validator::new(family, limits.clone(), 5));
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
    Ok(Pass1 { totals, missing_ids, report: first.finish(input) })
}

/// The account check, for this run's own input and output folders: Some(exit) when it stops
/// the run (the report printed).
async fn check_account(g: &GlobalArgs, input_prefix: &str, output_uri: &str) -> Result<Option<ExitCode>> {
    let mut rg = g.clone();
    rg.overrides.input_uri = Some(input_prefix.to_string());
    rg.overrides.output_uri = Some(output_uri.to_string());
    let snap = app::take_snapshot(&rg).await?;
    let outcome = crate::checks::run_snapshot(&snap)?;
    // Two findings do not stop a run: its input folder is empty because the run is about to
    // write the shards there, and a full concurrency quota only means the jobs wait.
    let blocking: Vec<&crate::findings::Finding> = outcome
        .all_findings()
        .filter(|f| f.severity == crate::findings::Severity::Error && !matches!(f.code.as_str(), "quota-jobs-full" | "input-object-missing"))
        .collect();
    if blocking.is_empty() && !outcome.incomplete() {
        return Ok(None);
    }
    crate::say!("{}", crate::report::text(&outcome).trim_end());
    let (why, exit) = if !blocking.is_empty() {
        ("the account check found errors: fix them (bedbatch-doctor check) and start again", ExitCode::Failed)
    } else {
        ("a check could not run, so the account is not known to be ready: fix the read (see above) or pass --skip-check", ExitCode::Incomplete)
    };
    Ok(Some(emit(&Plain {
        text: format!("Not started: {why}."),
        json: json!({"verdict": "check-failed", "reason": why, "check": crate::report::json(&outcome)}),
        exit,
    })))
}

/// What the run will do, as shown before anything is written.
struct Plan<'a> {
    run_id: &'a str,
    input: &'a str,
    parent: Option<&'a str>,
    input_prefix: &'a str,
    output_uri: &'a str,
    totals: Totals,
    missing_ids: u64,
    limits: &'a ShardLimits,
    cost: Option<(f64, f64)>,
}

fn show_plan(ctx: &Ctx, p: &Plan<'_>, quota: &std::result::Result<u64, String>, opts: &StartOptions) {
    let (totals, limits) = (p.totals, p.limits);
    let n_shards = totals.records.div_ceil(limits.max_records).max(totals.bytes.div_ceil(limits.max_bytes)).max(1);
    let per_job = totals.records.div_ceil(n_shards);
    let concurrency = match (quota, opts.drive.max_concurrent) {
        (Ok(q), Some(m)) => format!("{} at once (quota {q}, --max-concurrent {m})", m.min(*q)),
        (Ok(q), None) => format!("{q} at once (the account's quota, jobs already running counted)"),
        (Err(why), Some(m)) => format!("{m} at once (--max-concurrent; the quota is unknown: {why})"),
        (Err(why), None) => format!("as many as Bedrock accepts (the quota is unknown: {why})"),
    };
    crate::say!("run {}{}: {} records from {}", p.run_id, p.parent.map(|p| format!(" (retries {p})")).unwrap_or_default(), totals.records, p.input);
    if p.missing_ids > 0 {
        crate::say!("  {} records have no recordId: they get stable ids r<ordinal> (r0000000001 is the first record)", p.missing_ids);
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
        p.cost
            .map(|(lo, hi)| format!("{} to {}", crate::validate::dollars(lo), crate::validate::dollars(hi)))
            .unwrap_or_else(|| "unknown (no price for the model)".into())
    );
    crate::say!("  jobs: {concurrency}; model {}; role {}", ctx.model.raw, ctx.role_arn);
    crate::say!("  shards: {}shard-NNNN.jsonl; output: {}<job id>/", p.input_prefix, p.output_uri);
}

fn file_size(path: &std::path::Path) -> Result<u64> {
    Ok(std::fs::metadata(path).map_err(|e| Error::io(path.display(), e))?.len())
}

/// The table itself, under the run's input folder (Bedrock reads only the shard objects), so
/// `collect` can rebuild its rows on a machine that does not have the file. Its S3 URI.
async fn upload_table(ctx: &Ctx, path: &std::path::Path, input_prefix: &str) -> Result<String> {
    let name = path.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_else(|| "table".into());
    let uri = format!("{input_prefix}source/{name}");
    let (bucket, key) = source::split_uri(&uri)?;
    let body = aws_sdk_s3::primitives::ByteStream::from_path(path).await.map_err(|e| Error::Io(format!("{}: {e}", path.display())))?;
    ctx.clients.s3.put_object().bucket(&bucket).key(&key).body(body).send().await.map_err(|e| crate::aws::sdk_error("s3", "PutObject", e))?;
    crate::say!("  uploaded the table to {uri}");
    Ok(uri)
}

/// Pass 2: the shards written locally; with the number of records given a stable id. On an
/// error nothing was uploaded or recorded, and no half-written run is left behind.
async fn write_shards(ctx: &Ctx, source: &Source, run_id: &str, limits: ShardLimits, totals: Totals) -> Result<(Vec<shard::ShardFile>, u64)> {
    let dir = ctx.root.join(run_id).join("shards");
    let mut sharder = shard::Sharder::new(&dir, limits, totals)?;
    let written = source.for_each_record(Some(&ctx.clients), &mut |rec| sharder.push(rec)).await;
    let assigned = sharder.assigned;
    match written.and_then(|_| sharder.finish()) {
        Ok(files) => Ok((files, assigned)),
        Err(e) => {
            let _ = std::fs::remove_dir_all(ctx.root.join(run_id));
            crate::say!("Nothing was submitted.");
            Err(e)
        }
    }
}

/// The run's manifest, every shard pending.
#[allow(clippy::too_many_arguments)]
fn record(
    ctx: &Ctx,
    p: &Plan<'_>,
    opts: &StartOptions,
    limits: ShardLimits,
    files: &[shard::ShardFile],
    assigned: u64,
    invocation: Invocation,
    family: Family,
    table: Option<crate::run::prepare::TableSpec>,
) -> Result<RunManifest> {
    let (run_id, input_prefix) = (p.run_id, p.input_prefix);
    let t = now();
    Ok(RunManifest {
        format: manifest::FORMAT,
        run_id: run_id.to_string(),
        revision: 0,
        created_at: t,
        updated_at: t,
        parent_run: p.parent.map(String::from),
        source: p.input.to_string(),
        region: ctx.settings.region()?.to_string(),
        model_id: ctx.model.raw.clone(),
        role_arn: ctx.role_arn.clone(),
        input_prefix: input_prefix.to_string(),
        output_uri: p.output_uri.to_string(),
        records: p.totals.records,
        bytes: p.totals.bytes,
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
        table,
        estimated_cost: p.cost,
    })
}
