//! The run's state for people and machines: per job and overall, records, tokens, the actual
//! cost at the batch price beside the estimate, progress, ETA, and the exit code.

use serde_json::{json, Value};

use crate::checks::codes_for_message;
use crate::error::ExitCode;
use crate::run::manifest::{now, RunManifest, Shard};
use crate::run::shard;
use crate::settings::ModelRef;

pub(crate) fn shard_detail(s: &Shard) -> String {
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

pub(crate) use crate::prices::token_cost;

/// The foundation model a run's jobs ran (its manifest's, not today's settings'): what its
/// tokens are priced at and whose output shape its jobs wrote.
pub(crate) fn run_model(m: &RunManifest) -> String {
    ModelRef::parse(&m.model_id).ok().and_then(|r| r.foundation_model_id).unwrap_or_else(|| m.model_id.clone())
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
    let fm = run_model(m);
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
