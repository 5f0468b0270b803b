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

pub mod join;
pub mod manifest;
pub mod prepare;
pub mod results;
pub mod schema;
pub mod shard;
pub mod source;

use std::path::{Path, PathBuf};
use std::time::Duration;

use aws_sdk_bedrock::types::{
    ModelInvocationJobInputDataConfig, ModelInvocationJobOutputDataConfig, ModelInvocationJobS3InputDataConfig, ModelInvocationJobS3OutputDataConfig,
    Tag,
};
use serde_json::{json, Value};

use crate::aws::{sdk_error, service_code, Clients};
use crate::cli::{GlobalArgs, RunCommand, RunDrive, RunStartArgs};
use crate::config::{ModelRef, Settings};
use crate::error::{Error, ExitCode, Result};
use crate::families::Invocation;
use crate::findings::codes_for_message;
use crate::jsonl::{self, Limits, Validator};
use crate::output::{emit, Plain};
use crate::session as app;
use manifest::{now, RunManifest, Shard};
use shard::ShardLimits;
use source::Source;

pub async fn command(g: &GlobalArgs, cmd: &RunCommand) -> Result<ExitCode> {
    match cmd {
        RunCommand::Start(args) => start(g, args).await,
        RunCommand::Resume { run_id, drive } => {
            let ctx = Ctx::new(g, drive.state_dir.as_deref()).await?;
            let mut m = ctx.load(run_id).await?;
            if m.cancelled {
                return Err(Error::Usage(format!(
                    "run {run_id} was cancelled; start a new run (or `run retry {run_id}` for its unfinished records)"
                )));
            }
            ctx.check_same_setup(&m)?;
            finish_upload(&ctx, &mut m).await?;
            let quota = concurrency_quota(&ctx).await;
            drive_run(&ctx, &mut m, drive, quota).await
        }
        RunCommand::Status { run_id, watch, poll_interval_ms, state_dir } => {
            status(g, run_id.as_deref(), *watch, *poll_interval_ms, state_dir.as_deref()).await
        }
        RunCommand::Collect { run_id, out, failures, force, format, prefix, json_schema, state_dir } => {
            let ctx = Ctx::new(g, state_dir.as_deref()).await?;
            let m = ctx.load(run_id).await?;
            let fmt = format.or_else(|| crate::table::Format::from_path(out));
            // A run from JSONL collected to .jsonl keeps today's merged output and failures file;
            // every other pairing writes a table of one row per input row.
            let schema = json_schema.as_deref().map(schema::Schema::load).transpose()?;
            if m.table.is_none() && matches!(fmt, None | Some(crate::table::Format::Jsonl)) {
                if prefix.is_some() || schema.is_some() {
                    return Err(Error::Usage("--prefix and --json-schema shape the columns of a table: collect to .csv, .tsv or .parquet".into()));
                }
                return join::collect(&ctx, &m, out, failures.clone(), *force).await;
            }
            if failures.is_some() {
                return Err(Error::Usage(
                    "--failures is for the JSONL collect of a JSONL run; a table keeps every row, its status says which failed".into(),
                ));
            }
            let a = results::CollectArgs { out, format: *format, prefix: prefix.as_deref(), force: *force, schema: schema.as_ref() };
            results::collect(&ctx, &m, &a).await
        }
        RunCommand::Retry { run_id, yes, timeout_hours, schema_errors, json_schema, drive } => {
            let schema = match (schema_errors, json_schema) {
                (true, Some(p)) => Some(schema::Schema::load(p)?),
                (true, None) => {
                    return Err(Error::Usage("--schema-errors needs the schema the answers are checked against: --json-schema FILE".into()))
                }
                (false, Some(_)) => return Err(Error::Usage("--json-schema is read with --schema-errors (retry the answers that break it)".into())),
                (false, None) => None,
            };
            let ctx = Ctx::new(g, drive.state_dir.as_deref()).await?;
            let parent = ctx.load(run_id).await?;
            ctx.check_same_setup(&parent)?;
            let file = join::failed_records(&ctx, &parent, schema.as_ref()).await?;
            let opts = StartOptions {
                table: None,
                invocation: Some(match parent.invocation_type {
                    crate::families::Invocation::Converse => crate::cli::InvocationType::Converse,
                    crate::families::Invocation::InvokeModel => crate::cli::InvocationType::InvokeModel,
                }),
                yes: *yes,
                records_per_job: None,
                skip_check: false,
                timeout_hours: *timeout_hours,
                prices: None,
                drive: drive.clone(),
            };
            launch(g, &ctx, &file.display().to_string(), Some(parent.run_id.clone()), &opts).await
        }
        RunCommand::Cancel { run_id, yes, state_dir } => cancel(g, run_id, *yes, state_dir.as_deref()).await,
        RunCommand::List { state_dir } => list(g, state_dir.as_deref()).await,
    }
}

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
    fn check_same_setup(&self, m: &RunManifest) -> Result<()> {
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
fn new_run_id() -> String {
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

struct StartOptions {
    /// A table input: its prompt and settings (None: JSONL records).
    table: Option<crate::cli::TableArgs>,
    /// `--invocation-type` for a JSONL input (None: told from the first record, else the model's).
    invocation: Option<crate::cli::InvocationType>,
    yes: bool,
    records_per_job: Option<u64>,
    skip_check: bool,
    timeout_hours: Option<i32>,
    prices: Option<PathBuf>,
    drive: RunDrive,
}

async fn start(g: &GlobalArgs, args: &RunStartArgs) -> Result<ExitCode> {
    let t = &args.table;
    let is_table = t.prompt.is_some() || t.prompt_text.is_some();
    if !is_table {
        let given = [
            ("--format", t.format.is_some()),
            ("--system", t.system.is_some()),
            ("--system-text", t.system_text.is_some()),
            ("--id-column", t.id_column.is_some()),
            ("--max-tokens", t.max_tokens.is_some()),
            ("--temperature", t.temperature.is_some()),
            ("--top-p", t.top_p.is_some()),
        ];
        if let Some((flag, _)) = given.iter().find(|(_, g)| *g) {
            return Err(Error::Usage(format!("{flag} builds records from a table: give the prompt too (--prompt FILE or --prompt-text TEXT)")));
        }
        if matches!(
            crate::table::Format::from_path(Path::new(&args.input)),
            Some(crate::table::Format::Csv | crate::table::Format::Tsv | crate::table::Format::Parquet)
        ) {
            return Err(Error::Usage(format!("{} is a table: give the prompt each row fills (--prompt FILE or --prompt-text TEXT)", args.input)));
        }
    } else if args.input.starts_with("s3://") {
        return Err(Error::Usage(format!("{}: a table is read from a local file (the run uploads its own copy)", args.input)));
    }
    let ctx = Ctx::new(g, args.drive.state_dir.as_deref()).await?;
    let opts = StartOptions {
        table: is_table.then(|| t.clone()),
        invocation: if is_table { None } else { t.invocation_type },
        yes: args.yes,
        records_per_job: args.records_per_job,
        skip_check: args.skip_check,
        timeout_hours: args.timeout_hours,
        prices: args.prices.clone(),
        drive: args.drive.clone(),
    };
    launch(g, &ctx, &args.input, None, &opts).await
}

fn prices(path: Option<&Path>) -> Result<Value> {
    match path {
        Some(p) => {
            let text = std::fs::read_to_string(p).map_err(|e| Error::Usage(format!("--prices {}: {e}", p.display())))?;
            serde_json::from_str(&text).map_err(|e| Error::Usage(format!("--prices {}: not JSON: {e}", p.display())))
        }
        None => Ok(serde_json::from_str(jsonl::PRICES).expect("the embedded price table parses")),
    }
}

/// The concurrency quota of the model, read live, or why it is unknown.
async fn concurrency_quota(ctx: &Ctx) -> std::result::Result<u64, String> {
    match crate::quotas::model_limits(&ctx.clients, &ctx.fm, Limits::default()).await {
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

async fn launch(g: &GlobalArgs, ctx: &Ctx, input: &str, parent: Option<String>, opts: &StartOptions) -> Result<ExitCode> {
    let profile = crate::families::ModelProfile::of(&ctx.fm, &ctx.model.raw);
    let base = profile.limits.clone();
    let ml = crate::quotas::model_limits(&ctx.clients, &ctx.fm, base).await?;
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
            let inv = match opts.invocation {
                Some(crate::cli::InvocationType::Converse) => Invocation::Converse,
                Some(crate::cli::InvocationType::InvokeModel) => Invocation::InvokeModel,
                None => match crate::validate::first_model_input(input) {
                    Some(mi) if !profile.converse_only() && crate::families::looks_like_converse(profile.family, &mi) => {
                        crate::say!("note: the records are in the Converse format: the jobs use modelInvocationType Converse");
                        Invocation::Converse
                    }
                    _ => profile.default_invocation(),
                },
            };
            let fam = profile.record_family(inv, &ctx.model.raw).map_err(Error::Usage)?;
            (source, inv, fam)
        }
    };
    let mut first = shard::FirstPass::new(Validator::new(family, ml.limits.clone(), 5));
    source
        .for_each_record(Some(&ctx.clients), &mut |rec| {
            first.push(rec);
            Ok(())
        })
        .await?;
    let (totals, missing_ids) = (first.totals, first.missing_ids);
    let report = first.finish(input);
    let cost = jsonl::price(&report, &price_table, &ctx.fm);
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
async fn finish_upload(ctx: &Ctx, m: &mut RunManifest) -> Result<()> {
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

/// The outcome of one create.
enum Submitted {
    Job(String),
    /// Bedrock refused it for the concurrency quota: wait for a job to end.
    QuotaFull,
}

async fn submit(ctx: &Ctx, m: &RunManifest, s: &Shard) -> Result<Submitted> {
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
async fn refresh(ctx: &Ctx, m: &RunManifest, s: &mut Shard) -> Result<bool> {
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
        input_tokens: v["inputTokenCount"].as_u64().unwrap_or(0),
        output_tokens: v["outputTokenCount"].as_u64().unwrap_or(0),
    })
}

/// Reads every active job of the run once; says each change when `say` is set. Returns whether
/// anything changed (the caller saves the manifest).
async fn refresh_active(ctx: &Ctx, m: &mut RunManifest, say: bool) -> Result<bool> {
    let mut changed = false;
    for i in 0..m.shards.len() {
        if !m.shards[i].active() {
            continue;
        }
        let mut s = m.shards[i].clone();
        if refresh(ctx, m, &mut s).await? {
            if say {
                crate::say!("  {} {}{}", shard::shard_name(s.index), s.status, shard_detail(&s));
            }
            m.shards[i] = s;
            changed = true;
        }
    }
    Ok(changed)
}

/// Polls the run's jobs and submits its shards, keeping at most the quota's worth active, until
/// every job has ended (or, with --detach, once what fits is submitted). Ctrl-C saves the
/// manifest and leaves the jobs running.
async fn drive_run(ctx: &Ctx, m: &mut RunManifest, d: &RunDrive, quota: std::result::Result<u64, String>) -> Result<ExitCode> {
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
            let r = report(m, &prices(None)?);
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
    let r = report(m, &prices(None)?);
    Ok(emit(&Plain { text: r.text, json: r.json, exit: r.exit }))
}

fn shard_detail(s: &Shard) -> String {
    match (&s.counts, &s.counts_error) {
        (Some(c), _) => format!(" ({} ok, {} failed)", c.success, c.error),
        (None, Some(e)) => format!(" (counts unknown: {e})"),
        _ => match (&s.progress, s.terminal()) {
            (Some(p), false) if p.processed.is_some() => format!(
                " ({} of {} processed{})",
                p.processed.unwrap_or(0),
                p.total.unwrap_or(s.records),
                p.error.filter(|e| *e > 0).map(|e| format!(", {e} failed")).unwrap_or_default()
            ),
            _ => s.message.as_deref().map(|m| format!(": {m}")).unwrap_or_default(),
        },
    }
}

/// "1h 02m", "3m 04s", "12s".
pub fn human_duration(secs: i64) -> String {
    let s = secs.max(0);
    if s >= 3600 {
        format!("{}h {:02}m", s / 3600, (s % 3600) / 60)
    } else if s >= 60 {
        format!("{}m {:02}s", s / 60, s % 60)
    } else {
        format!("{s}s")
    }
}

/// The cost in USD of token counts at the price table's batch price.
pub(crate) fn token_cost(prices: &Value, fm: &str, input: u64, output: u64) -> Option<f64> {
    let p = prices.get("models")?.get(fm)?;
    let discount = prices.get("batch_discount").and_then(Value::as_f64).unwrap_or(0.5);
    Some((input as f64 * p.get("input")?.as_f64()? + output as f64 * p.get("output")?.as_f64()?) * discount / 1e6)
}

pub struct RunReport {
    pub text: String,
    pub json: Value,
    pub exit: ExitCode,
}

/// The run's state for people and machines, and its exit code: 0 every record has output,
/// 1 a job or record failed, 4 a finished job's counts could not be read; while jobs are
/// still active, 0.
pub fn report(m: &RunManifest, prices: &Value) -> RunReport {
    let fm = ModelRef::parse(&m.model_id).ok().and_then(|r| r.foundation_model_id).unwrap_or_else(|| m.model_id.clone());
    let fm = fm.as_str();
    let t = now();
    let mut by_status: std::collections::BTreeMap<&str, usize> = Default::default();
    let (mut ok, mut failed, mut tin, mut tout, mut done_records) = (0u64, 0u64, 0u64, 0u64, 0u64);
    let mut unknown = 0;
    let mut rows = Vec::new();
    let mut text = String::new();
    for s in &m.shards {
        *by_status.entry(s.status.as_str()).or_default() += 1;
        if let Some(c) = &s.counts {
            ok += c.success;
            failed += c.error;
            tin += c.input_tokens;
            tout += c.output_tokens;
        }
        if s.terminal() {
            done_records += s.records;
            if s.counts.is_none() && matches!(s.status.as_str(), "Completed" | "PartiallyCompleted") {
                unknown += 1;
            }
        }
        let codes: Vec<&str> =
            if s.status == "Failed" { codes_for_message(s.message.as_deref().unwrap_or("")).iter().map(|c| c.as_str()).collect() } else { vec![] };
        let elapsed = s.submitted_at.map(|a| s.ended_at.unwrap_or(t) - a);
        text.push_str(&format!(
            "  {:<16} {:<19} {:>7} records{}{}\n",
            shard::shard_name(s.index),
            s.status,
            s.records,
            elapsed.map(|e| format!(", {}", human_duration(e))).unwrap_or_default(),
            shard_detail(s)
        ));
        if !codes.is_empty() {
            text.push_str(&format!("      cause: {} (bedbatch-doctor explain CODE)\n", codes.join(", ")));
        }
        rows.push(json!({
            "index": s.index, "input_uri": s.input_uri, "records": s.records, "status": s.status, "job_arn": s.job_arn,
            "message": s.message, "codes": codes, "elapsed_seconds": elapsed, "counts": s.counts, "counts_error": s.counts_error,
        }));
    }
    let elapsed = t - m.created_at;
    let remaining = m.records.saturating_sub(done_records);
    let eta = if remaining == 0 {
        Some(0)
    } else if done_records > 0 && elapsed > 0 {
        Some((remaining as f64 * elapsed as f64 / done_records as f64) as i64)
    } else {
        None
    };
    let cost = token_cost(prices, fm, tin, tout);
    let processed: u64 = m
        .shards
        .iter()
        .map(|s| match (&s.counts, &s.progress) {
            (Some(c), _) => c.success + c.error,
            (None, Some(p)) => p.processed.unwrap_or(0),
            _ => 0,
        })
        .sum();
    let finished = m.finished();
    let bad = m.shards.iter().any(|s| s.terminal() && s.status != "Completed") || failed > 0;
    let exit = if !finished {
        ExitCode::Ok
    } else if bad {
        ExitCode::Failed
    } else if unknown > 0 {
        ExitCode::Incomplete
    } else {
        ExitCode::Ok
    };
    let statuses: Vec<String> = by_status.iter().map(|(k, v)| format!("{v} {k}")).collect();
    let verdict = match (finished, exit) {
        (false, _) => "running",
        (true, ExitCode::Ok) => "completed",
        (true, ExitCode::Incomplete) => "unknown",
        _ => "failed",
    };
    let mut head = format!(
        "run {} ({}): {} jobs: {}; {} of {} records ok, {} failed; elapsed {}{}; cost so far {}\n",
        m.run_id,
        verdict,
        m.shards.len(),
        statuses.join(", "),
        ok,
        m.records,
        failed,
        human_duration(elapsed),
        match eta {
            Some(0) => String::new(),
            Some(e) => format!(", ETA {}", human_duration(e)),
            None => ", ETA unknown (no job has ended yet)".into(),
        },
        cost.map(crate::validate::dollars).unwrap_or_else(|| "unknown (no price for the model)".into())
    );
    head.push_str(&format!(
        "  actual tokens: {tin} in, {tout} out (from each ended job's manifest.json.out){}\n",
        m.estimated_cost
            .map(|(lo, hi)| format!("; estimated at start: {} to {}", crate::validate::dollars(lo), crate::validate::dollars(hi)))
            .unwrap_or_default()
    ));
    if m.cancelled {
        head.push_str("  (cancelled)\n");
    }
    if finished && bad {
        head.push_str(&format!(
            "  failed records: `bedbatch-doctor run collect {0} -o FILE` writes them to a failures file; `run retry {0}` submits them again\n",
            m.run_id
        ));
    }
    if unknown > 0 {
        head.push_str(&format!("  {unknown} finished jobs' counts could not be read: their outcome is unknown\n"));
    }
    RunReport {
        text: head + &text,
        json: json!({
            "run_id": m.run_id, "verdict": verdict, "parent_run": m.parent_run, "model_id": m.model_id, "source": m.source,
            "input_prefix": m.input_prefix, "output_uri": m.output_uri, "records": m.records, "assigned_ids": m.assigned_ids,
            "records_ok": ok, "records_failed": failed, "input_tokens": tin, "output_tokens": tout,
            "cost_usd": cost, "estimated_cost_usd": m.estimated_cost.map(|(lo, hi)| json!({"low": lo, "high": hi})),
            "records_processed": processed, "invocation_type": m.invocation_type.as_str(), "elapsed_seconds": elapsed, "eta_seconds": eta, "cancelled": m.cancelled, "jobs": rows,
        }),
        exit,
    }
}

/// The most recent local run.
fn latest_local(root: &Path) -> Result<String> {
    let mut best: Option<(i64, String)> = None;
    if let Ok(rd) = std::fs::read_dir(root) {
        for e in rd.flatten() {
            let id = e.file_name().to_string_lossy().to_string();
            if let Ok(Some(m)) = manifest::read_local(root, &id) {
                if best.as_ref().is_none_or(|(t, _)| m.created_at > *t) {
                    best = Some((m.created_at, id));
                }
            }
        }
    }
    best.map(|(_, id)| id).ok_or_else(|| Error::Usage(format!("no run in {}: name one (`bedbatch-doctor run list`)", root.display())))
}

async fn status(g: &GlobalArgs, run_id: Option<&str>, watch: bool, poll_ms: u64, state_dir: Option<&Path>) -> Result<ExitCode> {
    let ctx = Ctx::new(g, state_dir).await?;
    let id = match run_id {
        Some(id) => id.to_string(),
        None => latest_local(&ctx.root)?,
    };
    let mut m = ctx.load(&id).await?;
    let prices = prices(None)?;
    let bar = if watch && !crate::output::is_json() && std::io::IsTerminal::is_terminal(&std::io::stderr()) {
        let pb = indicatif::ProgressBar::new(m.records);
        pb.set_style(indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} records in ended jobs {msg}").expect("static template"));
        Some(pb)
    } else {
        None
    };
    loop {
        if refresh_active(&ctx, &mut m, watch && bar.is_none()).await? {
            ctx.save(&mut m).await?;
        }
        if let Some(pb) = &bar {
            pb.set_position(m.shards.iter().filter(|s| s.terminal()).map(|s| s.records).sum());
            pb.set_message(format!("({} of {} jobs ended)", m.shards.iter().filter(|s| s.terminal()).count(), m.shards.len()));
        }
        if !watch || m.finished() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(poll_ms.max(10))).await;
    }
    if let Some(pb) = bar {
        pb.finish_and_clear();
    }
    let r = report(&m, &prices);
    Ok(emit(&Plain { text: r.text, json: r.json, exit: r.exit }))
}

async fn cancel(g: &GlobalArgs, run_id: &str, yes: bool, state_dir: Option<&Path>) -> Result<ExitCode> {
    let ctx = Ctx::new(g, state_dir).await?;
    let mut m = ctx.load(run_id).await?;
    let active: Vec<usize> = (0..m.shards.len()).filter(|&i| m.shards[i].active()).collect();
    let pending = m.shards.iter().filter(|s| s.pending()).count();
    crate::say!("run {run_id}: stop {} active jobs; {pending} shards not yet submitted will never be", active.len());
    if !crate::apply::confirm("Cancel the run?", yes)? {
        crate::say!("Nothing was changed.");
        return Ok(ExitCode::Ok);
    }
    m.cancelled = true;
    for s in m.shards.iter_mut().filter(|s| s.pending()) {
        s.status = "Cancelled".into();
    }
    ctx.save(&mut m).await?;
    let mut problems = vec![];
    for i in active {
        let arn = m.shards[i].job_arn.clone().expect("active jobs have an ARN");
        match ctx.clients.bedrock.stop_model_invocation_job().job_identifier(&arn).send().await {
            Ok(_) => crate::say!("  stopping {arn}"),
            Err(e) => {
                let e = sdk_error("bedrock", "StopModelInvocationJob", e);
                // A job that ended meanwhile cannot be stopped: read its state instead.
                let mut s = m.shards[i].clone();
                match refresh(&ctx, &m, &mut s).await {
                    Ok(_) if s.terminal() => m.shards[i] = s,
                    _ => problems.push(format!("{arn}: {e}")),
                }
            }
        }
    }
    ctx.save(&mut m).await?;
    let exit = if problems.is_empty() { ExitCode::Ok } else { ExitCode::Aws };
    Ok(emit(&Plain {
        text: if problems.is_empty() {
            format!("run {run_id} cancelled; `run status {run_id}` shows the jobs as they stop")
        } else {
            format!("run {run_id} cancelled, but these jobs could not be stopped:\n  {}", problems.join("\n  "))
        },
        json: json!({"run_id": run_id, "cancelled": true, "not_stopped": problems}),
        exit,
    }))
}

async fn list(g: &GlobalArgs, state_dir: Option<&Path>) -> Result<ExitCode> {
    let ctx = Ctx::new(g, state_dir).await?;
    let mut runs: std::collections::BTreeMap<String, (RunManifest, &'static str)> = Default::default();
    if let Ok(rd) = std::fs::read_dir(&ctx.root) {
        for e in rd.flatten() {
            let id = e.file_name().to_string_lossy().to_string();
            if let Ok(Some(m)) = manifest::read_local(&ctx.root, &id) {
                runs.insert(id, (m, "local"));
            }
        }
    }
    // The runs under the output folder in S3: `<output folder><run id>/run-manifest.json`.
    let out = ctx.settings.output()?;
    let mut s3_error = None;
    let mut pages = ctx.clients.s3.list_objects_v2().bucket(&out.bucket).prefix(out.folder()).delimiter("/").into_paginator().send();
    'pages: while let Some(page) = pages.next().await {
        let page = match page {
            Ok(p) => p,
            Err(e) => {
                s3_error = Some(sdk_error("s3", "ListObjectsV2", e).to_string());
                break 'pages;
            }
        };
        for p in page.common_prefixes().iter().filter_map(|p| p.prefix()) {
            let id = p.trim_end_matches('/').rsplit('/').next().unwrap_or_default().to_string();
            if !id.starts_with("run-") {
                continue;
            }
            match manifest::read_s3(&ctx.clients, &format!("s3://{}/{p}", out.bucket)).await {
                Ok(Some(m)) => match runs.get_mut(&id) {
                    Some(entry) => {
                        if m.revision > entry.0.revision {
                            entry.0 = m;
                        }
                        entry.1 = "local+s3";
                    }
                    None => {
                        runs.insert(id, (m, "s3"));
                    }
                },
                Ok(None) => {}
                Err(e) => s3_error = Some(e.to_string()),
            }
        }
    }
    let prices = prices(None)?;
    let mut text = String::new();
    let mut rows = vec![];
    for (id, (m, place)) in runs.iter().rev() {
        let r = report(m, &prices);
        text.push_str(&format!(
            "{id}  {:<9} {:>3} jobs {:>9} records  {}{}  [{place}]\n",
            r.json["verdict"].as_str().unwrap_or(""),
            m.shards.len(),
            m.records,
            m.source,
            m.parent_run.as_deref().map(|p| format!(" (retries {p})")).unwrap_or_default()
        ));
        rows.push(json!({"run_id": id, "verdict": r.json["verdict"], "jobs": m.shards.len(), "records": m.records, "source": m.source, "parent_run": m.parent_run, "where": place}));
    }
    if runs.is_empty() {
        text.push_str("no runs\n");
    }
    if let Some(e) = &s3_error {
        text.push_str(&format!("note: the runs in S3 could not all be read: {e}\n"));
    }
    Ok(emit(&Plain {
        text,
        json: json!({"runs": rows, "s3_error": s3_error}),
        exit: if s3_error.is_some() { ExitCode::Incomplete } else { ExitCode::Ok },
    }))
}
