//! `canary`: a tiny real batch job, end to end, verified; and `jobs`.

use aws_sdk_bedrock::types::ModelInvocationJobStatus;
use serde_json::{json, Value};

use crate::aws::{sdk_error, Clients};
use crate::error::{Error, Result};
use crate::families::Family;

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

pub(crate) fn status_str(s: Option<&ModelInvocationJobStatus>) -> String {
    s.map(|s| s.as_str().to_string()).unwrap_or_else(|| "Unknown".into())
}

pub(crate) async fn read_object(clients: &Clients, bucket: &str, key: &str) -> Result<Vec<u8>> {
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

pub(crate) use crate::interrupt::Interrupt;

#[cfg(test)]
mod tests {
    use super::*;

    /// The canary's own input validates for every family it can build one for.
    #[test]
    fn canary_input_validates_for_every_family() {
        for family in Family::ALL.into_iter().filter(|f| *f != Family::Unknown) {
            let body = canary_input(family, 100, "t").unwrap();
            let mut v = crate::validate::Validator::new(family, crate::validate::Limits::default(), 3);
            assert_eq!(crate::validate::feed_buffer(&mut v, body.as_bytes()), 0);
            let r = v.finish("c.jsonl", Some("c.jsonl"));
            assert_eq!(r.errors(), 0, "{family:?}: {:?}", r.problems);
        }
        assert!(canary_input(Family::Unknown, 1, "t").is_err());
    }
}
