//! `jobs`: recent batch jobs with status, record counts and the cause of failures.

use serde_json::{json, Value};

use crate::aws::sdk_error;
use crate::canary::status_str;
use crate::checks::codes_for_message;
use crate::cli::GlobalArgs;
use crate::error::{ExitCode, Result};
use crate::output::{emit, Plain};
use crate::session as app;

/// `jobs`: recent jobs with status, record counts and, for failures, the explained cause.
pub async fn jobs(g: &GlobalArgs, max: i32) -> Result<ExitCode> {
    let settings = app::load_settings(g).await?;
    let clients = app::connect(g, &settings).await?;
    let out =
        clients.bedrock.list_model_invocation_jobs().max_results(max).send().await.map_err(|e| sdk_error("bedrock", "ListModelInvocationJobs", e))?;
    let mut rows: Vec<Value> = Vec::new();
    let mut read_errors = 0;
    for j in out.invocation_job_summaries() {
        let msg = j.message().unwrap_or_default();
        let status = status_str(j.status());
        let codes = if status == "Failed" { codes_for_message(msg) } else { vec![] };
        let failed_records = crate::snapshot::has_failed_records(&status, j.error_record_count());
        // The record-level errors of the first few jobs with failed records (their .out files).
        let record_errors = match j.output_data_config().and_then(|o| o.as_s3_output_data_config().ok()) {
            Some(o) if failed_records && read_errors < 3 => {
                read_errors += 1;
                match crate::collect::job_outputs::record_errors(&clients, o.s3_uri(), j.job_arn()).await {
                    Ok(r) => json!(r),
                    Err(e) => json!({"unknown": e.to_string()}),
                }
            }
            _ => Value::Null,
        };
        rows.push(json!({
            "job_arn": j.job_arn(), "name": j.job_name(), "model_id": j.model_id(), "status": status,
            "submitted": j.submit_time().to_string(), "total_records": j.total_record_count(), "processed_records": j.processed_record_count(),
            "success_records": j.success_record_count(), "error_records": j.error_record_count(), "message": j.message(), "codes": codes,
            "timeout_hours": j.timeout_duration_in_hours(), "record_errors": record_errors,
        }));
    }
    use std::fmt::Write;
    let mut text = String::new();
    if rows.is_empty() {
        let _ = writeln!(text, "no batch jobs in {}", settings.region()?);
    }
    for r in &rows {
        let counts = match (r["total_records"].as_i64(), r["success_records"].as_i64(), r["error_records"].as_i64()) {
            (Some(t), Some(s), Some(e)) => format!("{s}/{t} ok, {e} failed"),
            _ => "-".into(),
        };
        let _ = writeln!(
            text,
            "{:<20} {:<36} {:<40} {counts}",
            r["status"].as_str().unwrap_or(""),
            r["name"].as_str().unwrap_or(""),
            r["model_id"].as_str().unwrap_or("")
        );
        if r["status"] == "Expired" {
            let _ = writeln!(
                text,
                "    expired: not finished within timeoutDurationInHours ({} h) (bedbatch-doctor explain job-expired)",
                r["timeout_hours"].as_i64().map(|h| h.to_string()).unwrap_or_else(|| "?".into())
            );
        }
        if let Ok(re) = serde_json::from_value::<crate::snapshot::RecordErrors>(r["record_errors"].clone()) {
            let _ = writeln!(text, "    failed records: {} (bedbatch-doctor explain job-records-failed)", re.summary());
        } else if let Some(e) = r["record_errors"]["unknown"].as_str() {
            let _ = writeln!(text, "    failed records: the .out files could not be read: {e}");
        }
        if r["status"] == "Failed" {
            let _ = writeln!(text, "    {}", r["message"].as_str().unwrap_or(""));
            let codes: Vec<&str> = r["codes"].as_array().map(|a| a.iter().filter_map(Value::as_str).collect()).unwrap_or_default();
            if !codes.is_empty() {
                let _ = writeln!(text, "    cause: {} (bedbatch-doctor explain CODE)", codes.join(", "));
            }
        }
    }
    Ok(emit(&Plain { text, json: json!({"jobs": rows}), exit: ExitCode::Ok }))
}
