//! `prepare DATA -o OUT.jsonl`: a table and a prompt in, batch records out, each checked by
//! `validate`'s own rules as it is written. Nothing needs AWS: the model comes from the settings.

use std::io::Write;

use serde_json::json;

use crate::cli::{GlobalArgs, PrepareArgs};
use crate::error::{Error, ExitCode, Result};
use crate::families::ModelProfile;
use crate::output::{emit, Plain};
use crate::run::prepare::{records, TableJob};
use crate::run::shard::FirstPass;
use crate::table::Staged;
use crate::validate::Validator;

pub async fn run(g: &GlobalArgs, args: &PrepareArgs) -> Result<ExitCode> {
    let settings = crate::session::load_settings(g).await?;
    let model = settings.model()?.clone();
    let fm = model.foundation_model_id.clone().unwrap_or_else(|| model.raw.clone());
    let profile = ModelProfile::of(&fm, &model.raw);
    let job = TableJob::new(&args.table, &args.data, &profile, &model.raw)?;
    for n in &job.notes {
        crate::say!("note: {n}");
    }
    let source = args.data.display().to_string();
    let mut table = crate::table::open(&args.data, job.format)?;
    // The prompt's columns are checked against the header before anything is created.
    job.prompt.check_columns(table.columns(), &source)?;
    let staged = Staged::new(&args.out, args.force)?;
    let file = std::fs::File::create(&staged.tmp).map_err(|e| Error::io(staged.tmp.display(), e))?;
    let mut w = crate::table::spool::Spool::new(file);
    let mut first = FirstPass::new(Validator::new(job.settings.family, profile.limits.clone(), 5));
    let stats = records(table.as_mut(), &source, &job.prompt, &job.settings, &mut |_, rec| {
        // Every record prepare writes has its recordId.
        first.push_known(rec, true);
        w.write_all(rec).and_then(|_| w.write_all(b"\n")).map_err(|e| Error::io(staged.tmp.display(), e))
    })?;
    let file = w.finish().map_err(|e| Error::io(staged.tmp.display(), e))?;
    file.sync_all().map_err(|e| Error::io(staged.tmp.display(), e))?;
    let mut report = first.finish(&args.out.display().to_string());
    // The minimum records per job binds a job, not a file: `run` checks it for the whole run.
    let mut notes = job.notes.clone();
    let before = report.problems.len();
    report.problems.retain(|p| p.code != crate::validate::diags::Code::TooFewRecords);
    if report.problems.len() < before {
        notes.push(format!(
            "{} records: a batch job needs at least the model's minimum (100 by default); run checks it for the whole run",
            stats.rows
        ));
    }
    let prices = crate::prices::embedded();
    let cost = crate::prices::estimate(&report, &prices, &fm);
    let empty: Vec<String> = stats.empty_cells.iter().filter(|(_, n)| **n > 0).map(|(c, n)| format!("{c:?} empty in {n} rows")).collect();
    let base = json!({
        "source": source,
        "format": job.format,
        "rows": stats.rows,
        "model": model.raw,
        "family": job.settings.family,
        "invocation_type": job.invocation.as_str(),
        "options": job.settings.options,
        "id_column": job.settings.id_column,
        "empty_cells": stats.empty_cells,
        "notes": notes,
    });
    if report.errors() > 0 {
        // Staged drops the temporary file: nothing is left under OUT as if complete.
        drop(staged);
        if !crate::output::is_json() {
            crate::validate::print_text(&report, cost, &fm);
        }
        let mut j = base;
        j["written"] = json!(null);
        j["validate"] = serde_json::to_value(&report).expect("serialises");
        return Ok(emit(&Plain {
            text: format!("The records break validate's rules (above); nothing was written to {}.", args.out.display()),
            json: j,
            exit: ExitCode::Failed,
        }));
    }
    staged.commit()?;
    let mut text = format!(
        "{} records from {} rows of {source} → {} ({}, {} format{})",
        stats.rows,
        stats.rows,
        args.out.display(),
        model.raw,
        job.invocation.as_str(),
        if job.invocation == crate::families::Invocation::Converse { ": submit with modelInvocationType Converse" } else { "" }
    );
    if !empty.is_empty() {
        text.push_str(&format!("\nempty cells: {}", empty.join(", ")));
    }
    // What the checks said beyond the notes already printed (the minimum records of a job, the
    // validator's warnings): on the text output too, not only in the JSON.
    for n in &notes[job.notes.len()..] {
        text.push_str(&format!("\nnote: {n}"));
    }
    if !report.problems.is_empty() {
        let mut problems = String::new();
        crate::validate::problems_text(&report.problems, &mut problems);
        text.push('\n');
        text.push_str(problems.trim_end());
    }
    if let Some((lo, hi, _)) = cost {
        text.push_str(&format!("\nestimated batch cost: {} to {}", crate::validate::dollars(lo), crate::validate::dollars(hi)));
    }
    let mut j = base;
    j["written"] = json!(args.out);
    j["records"] = json!(stats.rows);
    j["validate"] = serde_json::to_value(&report).expect("serialises");
    j["estimated_cost"] = match cost {
        Some((lo, hi, asof)) => json!({"low": lo, "high": hi, "prices_as_of": asof, "batch": true}),
        None => json!(null),
    };
    Ok(emit(&Plain { text, json: j, exit: ExitCode::Ok }))
}
