//! `run start|resume|status|collect|retry|cancel|list`: the flags, read and checked, handed to
//! the engine in `src/run/`.

use std::path::Path;
use std::time::Duration;

use serde_json::json;

use crate::aws::sdk_error;
use crate::cli::{GlobalArgs, RunCommand, RunStartArgs};
use crate::error::{Error, ExitCode, Result};
use crate::output::{emit, Plain};
use crate::run::manifest::{self, RunManifest};
use crate::run::report::report;
use crate::run::{concurrency_quota, drive_run, finish_upload, join, launch, prices, refresh, refresh_active, results, schema, Ctx, StartOptions};

pub async fn command(g: &GlobalArgs, cmd: &RunCommand) -> Result<ExitCode> {
    match cmd {
        RunCommand::Start(args) => start(g, args).await,
        RunCommand::Resume { run_id, drive, .. } => {
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
        RunCommand::Status { run_id, watch, poll_interval_ms, state_dir, .. } => {
            status(g, run_id.as_deref(), *watch, *poll_interval_ms, state_dir.as_deref()).await
        }
        RunCommand::Collect { run_id, out, failures, force, format, prefix, json_schema, state_dir, .. } => {
            let ctx = Ctx::new(g, state_dir.as_deref()).await?;
            let m = ctx.load(run_id).await?;
            let fmt = format.or_else(|| crate::table::Format::from_path(out));
            // A run from JSONL (and not a retry of a run from a table) collected to .jsonl keeps
            // today's merged output and failures file; every other pairing writes a table of one
            // row per input row (a retry's: the table's rows, each with its newest answer).
            let schema = json_schema.as_deref().map(schema::Schema::load).transpose()?;
            let runs = results::chain(&ctx, m).await?;
            let m = &runs[runs.len() - 1];
            if matches!(fmt, None | Some(crate::table::Format::Jsonl)) && runs[0].table.is_none() {
                if prefix.is_some() || schema.is_some() {
                    return Err(Error::Usage("--prefix and --json-schema shape the columns of a table: collect to .csv, .tsv or .parquet".into()));
                }
                return join::collect(&ctx, m, out, failures.clone(), *force).await;
            }
            if failures.is_some() {
                return Err(Error::Usage(
                    "--failures is for the JSONL collect of a JSONL run; a table keeps every row, its status says which failed".into(),
                ));
            }
            let a = results::CollectArgs { out, format: *format, prefix: prefix.as_deref(), force: *force, schema: schema.as_ref() };
            results::collect(&ctx, &runs, &a).await
        }
        RunCommand::Retry { run_id, yes, timeout_hours, schema_errors, json_schema, drive, .. } => {
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
                invocation: Some(parent.invocation_type.into()),
                yes: *yes,
                records_per_job: None,
                skip_check: false,
                timeout_hours: *timeout_hours,
                prices: None,
                drive: drive.clone(),
            };
            launch(g, &ctx, &file.display().to_string(), Some(parent.run_id.clone()), &opts).await
        }
        RunCommand::Cancel { run_id, yes, state_dir, .. } => cancel(g, run_id, *yes, state_dir.as_deref()).await,
        RunCommand::List { state_dir, .. } => list(g, state_dir.as_deref()).await,
    }
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
