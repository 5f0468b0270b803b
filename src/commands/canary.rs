//! `canary`: a tiny real batch job, end to end, verified (the records and the verification live
//! in `src/canary.rs`).

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use aws_sdk_bedrock::types::{
    ModelInvocationJobInputDataConfig, ModelInvocationJobOutputDataConfig, ModelInvocationJobS3InputDataConfig, ModelInvocationJobS3OutputDataConfig,
    Tag,
};
use serde_json::{json, Value};

use crate::aws::{sdk_error, Clients};
use crate::canary::{canary_input, get_job_patiently, read_object, status_str, verify, Interrupt};
use crate::checks::codes_for_message;
use crate::cli::{CanaryArgs, GlobalArgs};
use crate::error::{Error, ExitCode, Result};
use crate::output::{emit, Plain};
use crate::session as app;
use crate::validate::{self, Validator};

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
    let invocation = args.invocation_type.map_or_else(|| profile.default_invocation(), crate::families::Invocation::from);
    let family = profile.record_family(invocation, &model.raw).map_err(Error::Usage)?;
    let limits = crate::collect::quotas::model_limits(&clients, &fm, profile.limits.clone()).await?.limits;
    // Unique per run, even for two canaries started in the same millisecond: it names the job,
    // its client request token and the input file.
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    let stamp = format!("{}{:09}{}", now.as_secs(), now.subsec_nanos(), std::process::id());
    let body = canary_input(family, limits.min_records.max(1), &stamp)?;
    // Dogfood: the canary's own input must pass validate.
    let mut v = Validator::new(family, limits.clone(), 3);
    let rest = validate::feed_buffer(&mut v, body.as_bytes());
    debug_assert_eq!(rest, 0);
    let file_name = format!("bedbatch-canary-{stamp}.jsonl");
    let report = v.finish(&file_name, Some(&file_name));
    if report.errors() > 0 {
        return Err(Error::Usage(format!("the canary input does not validate: {:?}", report.problems)));
    }
    let prices = crate::prices::embedded();
    let cost = crate::prices::estimate(&report, &prices, &fm)
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
            let related = outcome.related(&crate::registry::in_report_order(codes));
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
