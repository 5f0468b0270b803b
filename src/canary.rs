//! `canary`: a tiny real batch job, end to end, verified; and `jobs`.

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use aws_sdk_bedrock::types::{
    ModelInvocationJobInputDataConfig, ModelInvocationJobOutputDataConfig, ModelInvocationJobS3InputDataConfig, ModelInvocationJobS3OutputDataConfig,
    ModelInvocationJobStatus, Tag,
};
use serde_json::{json, Value};

use crate::aws::{sdk_error, Clients};
use crate::cli::{CanaryArgs, GlobalArgs, OutputFormat};
use crate::error::{Error, ExitCode, Result};
use crate::findings::codes_for_message;
use crate::jsonl::{self, Family, Validator};
use crate::output::{emit, Plain};
use crate::session as app;

/// The smallest valid input for the model: `n` records, tiny prompts, small output ceilings,
/// each built by the family's own body builder (`src/families/`), as `prepare` builds them.
pub fn canary_input(family: Family, n: u64, stamp: &str) -> Result<String> {
    let options = crate::families::BodyOptions { max_tokens: 8, temperature: None, top_p: None };
    let mut out = String::new();
    for i in 0..n {
        let prompt = format!("Reply with the single word OK. (bedbatch-doctor canary {stamp} #{i})");
        let input = crate::families::build_body(family, &prompt, None, &options)
            .map_err(|why| Error::Usage(format!("the canary cannot build an input for this model: {why}")))?;
        out.push_str(&json!({"recordId": format!("CANARY{i:05}"), "modelInput": input}).to_string());
        out.push('\n');
    }
    Ok(out)
}

/// Reads a job while polling it: a transient failure (throttling, 5xx, a dropped connection)
/// that outlasts the SDK's own retries is waited out with jittered backoff, up to 8 more tries,
/// and said on stderr; any other error is returned at once.
pub async fn get_job_patiently(
    clients: &Clients,
    arn: &str,
) -> Result<aws_sdk_bedrock::operation::get_model_invocation_job::GetModelInvocationJobOutput> {
    let mut attempt = 0;
    loop {
        match clients.bedrock.get_model_invocation_job().job_identifier(arn).send().await {
            Ok(job) => return Ok(job),
            Err(e) if attempt < 8 && crate::aws::is_transient(&e) => {
                let pause = crate::aws::backoff(attempt);
                eprintln!(
                    "note: reading {arn} failed ({}); trying again in {} ms",
                    sdk_error("bedrock", "GetModelInvocationJob", e),
                    pause.as_millis()
                );
                tokio::time::sleep(pause).await;
                attempt += 1;
            }
            Err(e) => return Err(sdk_error("bedrock", "GetModelInvocationJob", e)),
        }
    }
}

fn status_str(s: Option<&ModelInvocationJobStatus>) -> String {
    s.map(|s| s.as_str().to_string()).unwrap_or_else(|| "Unknown".into())
}

async fn read_object(clients: &Clients, bucket: &str, key: &str) -> Result<Vec<u8>> {
    let obj = clients.s3.get_object().bucket(bucket).key(key).send().await.map_err(|e| sdk_error("s3", "GetObject", e))?;
    let data = obj.body.collect().await.map_err(|e| Error::Aws(format!("s3://{bucket}/{key}: reading failed: {e}")))?;
    Ok(data.to_vec())
}

/// Verifies the output file and the manifest; returns the problems (empty: verified).
pub fn verify(family: Family, expected_ids: &[String], output: &str, manifest: &Value) -> Vec<String> {
    let mut problems = Vec::new();
    let mut seen = std::collections::HashSet::new();
    let mut failed = 0;
    for (n, line) in output.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        match serde_json::from_str::<Value>(line) {
            Ok(v) => {
                if let Some(id) = v["recordId"].as_str() {
                    seen.insert(id.to_string());
                }
                if v.get("error").is_some() || v.get("modelOutput").is_none() {
                    failed += 1;
                    if failed <= 3 {
                        problems.push(format!("record {} failed: {}", v["recordId"], v["error"]));
                    }
                } else if let Err(why) = crate::families::read_output(family, &v["modelOutput"]) {
                    // The answer is read as `run collect` reads it: a shape it cannot read fails.
                    failed += 1;
                    if failed <= 3 {
                        problems.push(format!("record {}: its output is not the {} shape: {why}", v["recordId"], family.name()));
                    }
                }
            }
            Err(e) => problems.push(format!("output line {} is not JSON: {e}", n + 1)),
        }
    }
    let missing: Vec<&String> = expected_ids.iter().filter(|id| !seen.contains(*id)).collect();
    if !missing.is_empty() {
        problems.push(format!("{} records did not come back (first: {})", missing.len(), missing[0]));
    }
    if failed > 3 {
        problems.push(format!("{failed} records failed in all"));
    }
    for k in ["inputTokenCount", "outputTokenCount"] {
        if manifest[k].as_u64().unwrap_or(0) == 0 {
            problems.push(format!("manifest {k} is {}", manifest[k]));
        }
    }
    if manifest["errorRecordCount"].as_u64().unwrap_or(0) > 0 {
        problems.push(format!("manifest errorRecordCount is {}", manifest["errorRecordCount"]));
    }
    if manifest["totalRecordCount"].as_u64() != Some(expected_ids.len() as u64) {
        problems.push(format!("manifest totalRecordCount is {}, expected {}", manifest["totalRecordCount"], expected_ids.len()));
    }
    problems
}

pub async fn run(g: &GlobalArgs, args: &CanaryArgs) -> Result<ExitCode> {
    let settings = app::load_settings(g).await?;
    let model = settings.model()?.clone();
    let input = settings.input()?.clone();
    let output = settings.output()?.clone();
    let role_name = settings.role_name()?.to_string();
    let clients = app::connect(g, &settings).await?;
    let id = crate::aws::whoami(&clients).await?;
    let role_arn = crate::render::role_arn(&id.partition, &id.account, &settings.role_path, &role_name);

    let fm = model.foundation_model_id.clone().unwrap_or_else(|| model.raw.clone());
    let profile = crate::families::ModelProfile::of(&fm, &model.raw);
    let invocation = match args.invocation_type {
        Some(crate::cli::InvocationType::Converse) => crate::families::Invocation::Converse,
        Some(crate::cli::InvocationType::InvokeModel) => crate::families::Invocation::InvokeModel,
        None => profile.default_invocation(),
    };
    let family = profile.record_family(invocation, &model.raw).map_err(Error::Usage)?;
    let limits = crate::quotas::model_limits(&clients, &fm, profile.limits.clone()).await?.limits;
    // Unique per run, even for two canaries started in the same millisecond: it names the job,
    // its client request token and the input file.
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    let stamp = format!("{}{:09}{}", now.as_secs(), now.subsec_nanos(), std::process::id());
    let body = canary_input(family, limits.min_records.max(1), &stamp)?;
    // Dogfood: the canary's own input must pass validate.
    let mut v = Validator::new(family, limits.clone(), 3);
    let rest = jsonl::feed_buffer(&mut v, body.as_bytes());
    debug_assert_eq!(rest, 0);
    let file_name = format!("bedbatch-canary-{stamp}.jsonl");
    let report = v.finish(&file_name, Some(&file_name));
    if report.errors() > 0 {
        return Err(Error::Usage(format!("the canary input does not validate: {:?}", report.problems)));
    }
    let prices: Value = serde_json::from_str(jsonl::PRICES).expect("embedded price table");
    let cost = jsonl::price(&report, &prices, &fm)
        .map(|(lo, hi, _)| format!("{} to {}", crate::validate::dollars(lo), crate::validate::dollars(hi)))
        .unwrap_or_else(|| "unknown (no price for the model)".into());
    let key = format!("{}{file_name}", input.folder());
    crate::say!(
        "canary: {} records for {} ({} shape, modelInvocationType {}), estimated batch cost {cost}",
        report.records,
        model.raw,
        family.name(),
        invocation.as_str()
    );
    crate::say!("  input:  s3://{}/{key}", input.bucket);
    crate::say!("  output: {}<job id>/", if output.uri.ends_with('/') { output.uri.clone() } else { format!("{}/", output.uri) });
    crate::say!("  role:   {role_arn}");
    if !crate::apply::confirm("Run this batch job?", args.yes)? {
        crate::say!("Nothing was submitted.");
        return Ok(verdict(json!({"verdict": "not-submitted"}), ExitCode::Ok));
    }

    // Listen for Ctrl-C from before the job exists, so an interrupt at any point after
    // submission reaches the handler below rather than killing the process.
    let mut interrupt = Interrupt::new()?;
    clients
        .s3
        .put_object()
        .bucket(&input.bucket)
        .key(&key)
        .body(body.into_bytes().into())
        .send()
        .await
        .map_err(|e| sdk_error("s3", "PutObject", e))?;
    let job_name = format!("bedbatch-canary-{stamp}");
    let created = clients
        .bedrock
        .create_model_invocation_job()
        .job_name(&job_name)
        .client_request_token(format!("bedbatch-canary-{stamp}"))
        .role_arn(&role_arn)
        .model_id(&model.raw)
        .input_data_config(ModelInvocationJobInputDataConfig::S3InputDataConfig(
            ModelInvocationJobS3InputDataConfig::builder()
                .s3_uri(format!("s3://{}/{key}", input.bucket))
                .build()
                .map_err(|e| Error::Usage(e.to_string()))?,
        ))
        .output_data_config(ModelInvocationJobOutputDataConfig::S3OutputDataConfig(
            ModelInvocationJobS3OutputDataConfig::builder().s3_uri(&output.uri).build().map_err(|e| Error::Usage(e.to_string()))?,
        ))
        .timeout_duration_in_hours(24)
        .set_model_invocation_type(
            (invocation == crate::families::Invocation::Converse).then_some(aws_sdk_bedrock::types::ModelInvocationType::Converse),
        )
        .tags(Tag::builder().key("managed-by").value("bedbatch-doctor").build().map_err(|e| Error::Usage(e.to_string()))?)
        .tags(Tag::builder().key("purpose").value("canary").build().map_err(|e| Error::Usage(e.to_string()))?)
        .send()
        .await;
    let job_arn = match created {
        Ok(c) => c.job_arn().to_string(),
        Err(e) => {
            let err = sdk_error("bedrock", "CreateModelInvocationJob", e);
            cleanup(&clients, &input.bucket, &key, None, args.keep).await;
            let codes = codes_for_message(&err.to_string());
            crate::say!("FAILED: the job was not created: {err}");
            let related = if codes.is_empty() { json!(null) } else { related_checks(g, &codes).await };
            return Ok(verdict(json!({"verdict": "not-created", "reason": err.to_string(), "codes": codes, "related": related}), ExitCode::Failed));
        }
    };
    let job_id = job_arn.rsplit('/').next().unwrap_or_default().to_string();
    crate::say!("submitted {job_arn}");

    // Poll with backoff, showing each status transition and the elapsed time.
    let start = Instant::now();
    let mut delay = Duration::from_millis(args.poll_interval_ms.max(10));
    let max_delay = Duration::from_secs(300);
    let mut last = String::new();
    let spinner = if std::io::stderr().is_terminal() {
        let s = indicatif::ProgressBar::new_spinner();
        s.enable_steady_tick(Duration::from_millis(200));
        Some(s)
    } else {
        None
    };
    let job = loop {
        let job = get_job_patiently(&clients, &job_arn).await?;
        let status = status_str(job.status());
        if status != last {
            let line = format!("  [{:>7.1}s] {status}", start.elapsed().as_secs_f64());
            match &spinner {
                Some(s) => s.println(line),
                None => crate::say!("{line}"),
            }
            last = status.clone();
        }
        if let Some(s) = &spinner {
            s.set_message(format!("{status}, {:.0}s", start.elapsed().as_secs_f64()));
        }
        if matches!(status.as_str(), "Completed" | "PartiallyCompleted" | "Failed" | "Stopped" | "Expired") {
            break job;
        }
        tokio::select! {
            _ = tokio::time::sleep(delay) => {}
            _ = interrupt.recv() => {
                if let Some(s) = &spinner { s.finish_and_clear(); }
                let stop = if std::io::stdin().is_terminal() { crate::apply::confirm("Interrupted: stop the job?", false).unwrap_or(true) } else { true };
                if stop {
                    match clients.bedrock.stop_model_invocation_job().job_identifier(&job_arn).send().await {
                        Ok(_) => crate::say!("stopping {job_arn}"),
                        Err(e) => eprintln!("could not stop the job: {}", sdk_error("bedrock", "StopModelInvocationJob", e)),
                    }
                }
                cleanup(&clients, &input.bucket, &key, None, args.keep).await;
                crate::say!("INTERRUPTED: {job_arn}");
                return Ok(verdict(json!({"verdict": "interrupted", "job_arn": job_arn}), ExitCode::Interrupted));
            }
        }
        delay = (delay * 2).min(max_delay);
    };
    if let Some(s) = spinner {
        s.finish_and_clear();
    }
    let status = status_str(job.status());
    let out_prefix = format!("{}{job_id}/", output.folder());
    let result = if status == "Completed" || status == "PartiallyCompleted" {
        let out = read_object(&clients, &output.bucket, &format!("{out_prefix}{file_name}.out")).await;
        let manifest = read_object(&clients, &output.bucket, &format!("{out_prefix}manifest.json.out")).await;
        match (out, manifest) {
            (Ok(o), Ok(m)) => {
                let manifest: Value = serde_json::from_slice(&m).unwrap_or(Value::Null);
                let ids: Vec<String> = (0..report.records).map(|i| format!("CANARY{i:05}")).collect();
                let problems = verify(family, &ids, &String::from_utf8_lossy(&o), &manifest);
                if problems.is_empty() {
                    Ok(format!(
                        "{} records, {} input and {} output tokens",
                        manifest["totalRecordCount"], manifest["inputTokenCount"], manifest["outputTokenCount"]
                    ))
                } else {
                    Err(problems.join("; "))
                }
            }
            (Err(e), _) | (_, Err(e)) => {
                Err(format!("the output is missing: {e} (results live under {}{out_prefix})", format_args!("s3://{}/", output.bucket)))
            }
        }
    } else {
        Err(format!("job ended {status}: {}", job.message().unwrap_or("(no message)")))
    };
    cleanup(&clients, &input.bucket, &key, Some((&output.bucket, &out_prefix)), args.keep).await;
    match result {
        Ok(summary) => Ok(emit(&Plain {
            text: format!("VERIFIED: the batch path works ({summary}) — {job_arn}"),
            json: json!({"verdict": "verified", "job_arn": job_arn, "summary": summary}),
            exit: ExitCode::Ok,
        })),
        Err(why) => {
            let codes = codes_for_message(&why);
            crate::say!("FAILED: {why} — {job_arn}");
            let related = if codes.is_empty() { json!(null) } else { related_checks(g, &codes).await };
            Ok(verdict(json!({"verdict": "failed", "job_arn": job_arn, "reason": why, "codes": codes, "related": related}), ExitCode::Failed))
        }
    }
}

/// The canary's verdict: its JSON document (with --output json; the text was said already).
fn verdict(json: Value, exit: ExitCode) -> ExitCode {
    emit(&Plain { text: String::new(), json, exit })
}

/// Runs check and shows what it says of `codes` (the causes the job's message points at);
/// returns the same for the JSON result.
async fn related_checks(g: &GlobalArgs, codes: &[crate::findings::Code]) -> Value {
    let names: Vec<&str> = codes.iter().map(|c| c.as_str()).collect();
    crate::say!("The message points at: {}. Running the related checks:", names.join(", "));
    match app::take_snapshot(g).await.and_then(|s| crate::checks::run_snapshot(&s)) {
        Ok(outcome) => {
            let related = outcome.related(codes);
            crate::say!("{}", related.text().trim_end());
            json!(related)
        }
        Err(e) => {
            crate::say!("  could not run the checks: {e}");
            json!({"error": e.to_string()})
        }
    }
}

async fn cleanup(clients: &Clients, bucket: &str, key: &str, output: Option<(&str, &str)>, keep: bool) {
    if keep {
        crate::say!("kept s3://{bucket}/{key}{}", output.map(|(b, p)| format!(" and s3://{b}/{p}")).unwrap_or_default());
        return;
    }
    if let Err(e) = clients.s3.delete_object().bucket(bucket).key(key).send().await {
        eprintln!("could not delete s3://{bucket}/{key}: {}", sdk_error("s3", "DeleteObject", e));
    }
    if let Some((b, prefix)) = output {
        if let Ok(list) = clients.s3.list_objects_v2().bucket(b).prefix(prefix).send().await {
            for o in list.contents() {
                if let Some(k) = o.key() {
                    if let Err(e) = clients.s3.delete_object().bucket(b).key(k).send().await {
                        eprintln!("could not delete s3://{b}/{k}: {}", sdk_error("s3", "DeleteObject", e));
                    }
                }
            }
        }
    }
}

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
        let failed_records = crate::outcomes::has_failed_records(&status, j.error_record_count());
        // The record-level errors of the first few jobs with failed records (their .out files).
        let record_errors = match j.output_data_config().and_then(|o| o.as_s3_output_data_config().ok()) {
            Some(o) if failed_records && read_errors < 3 => {
                read_errors += 1;
                match crate::outcomes::record_errors(&clients, o.s3_uri(), j.job_arn()).await {
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
    match g.output {
        OutputFormat::Json | OutputFormat::Sarif => println!("{}", serde_json::to_string_pretty(&json!({"jobs": rows})).expect("serialises")),
        OutputFormat::Text => {
            if rows.is_empty() {
                println!("no batch jobs in {}", settings.region()?);
            }
            for r in &rows {
                let counts = match (r["total_records"].as_i64(), r["success_records"].as_i64(), r["error_records"].as_i64()) {
                    (Some(t), Some(s), Some(e)) => format!("{s}/{t} ok, {e} failed"),
                    _ => "-".into(),
                };
                println!(
                    "{:<20} {:<36} {:<40} {counts}",
                    r["status"].as_str().unwrap_or(""),
                    r["name"].as_str().unwrap_or(""),
                    r["model_id"].as_str().unwrap_or("")
                );
                if r["status"] == "Expired" {
                    println!(
                        "    expired: not finished within timeoutDurationInHours ({} h) (bedbatch-doctor explain job-expired)",
                        r["timeout_hours"].as_i64().map(|h| h.to_string()).unwrap_or_else(|| "?".into())
                    );
                }
                if let Ok(re) = serde_json::from_value::<crate::outcomes::RecordErrors>(r["record_errors"].clone()) {
                    println!("    failed records: {} (bedbatch-doctor explain job-records-failed)", re.summary());
                } else if let Some(e) = r["record_errors"]["unknown"].as_str() {
                    println!("    failed records: the .out files could not be read: {e}");
                }
                if r["status"] == "Failed" {
                    println!("    {}", r["message"].as_str().unwrap_or(""));
                    let codes: Vec<&str> = r["codes"].as_array().map(|a| a.iter().filter_map(Value::as_str).collect()).unwrap_or_default();
                    if !codes.is_empty() {
                        println!("    cause: {} (bedbatch-doctor explain CODE)", codes.join(", "));
                    }
                }
            }
        }
    }
    Ok(ExitCode::Ok)
}

/// SIGINT, registered when created (tokio's `ctrl_c()` registers only when first polled).
pub(crate) struct Interrupt(#[cfg(unix)] tokio::signal::unix::Signal);

impl Interrupt {
    pub(crate) fn new() -> Result<Interrupt> {
        #[cfg(unix)]
        {
            let s = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt())
                .map_err(|e| Error::Io(format!("cannot listen for Ctrl-C: {e}")))?;
            Ok(Interrupt(s))
        }
        #[cfg(not(unix))]
        Ok(Interrupt())
    }

    pub(crate) async fn recv(&mut self) {
        #[cfg(unix)]
        {
            self.0.recv().await;
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The canary's own input validates for every family it can build one for.
    #[test]
    fn canary_input_validates_for_every_family() {
        for family in Family::ALL.into_iter().filter(|f| *f != Family::Unknown) {
            let body = canary_input(family, 100, "t").unwrap();
            let mut v = Validator::new(family, crate::jsonl::Limits::default(), 3);
            assert_eq!(jsonl::feed_buffer(&mut v, body.as_bytes()), 0);
            let r = v.finish("c.jsonl", Some("c.jsonl"));
            assert_eq!(r.errors(), 0, "{family:?}: {:?}", r.problems);
        }
        assert!(canary_input(Family::Unknown, 1, "t").is_err());
    }
}
