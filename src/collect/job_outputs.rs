//! What finished jobs left behind: Bedrock writes `<output URI>/<job id>/manifest.json.out`
//! (record counts and token counts) and one `<input file>.out` per input file, where each failed
//! record carries an `error` object (`errorCode`, `errorMessage`) instead of `modelOutput`
//! (AWS, "View the results of a batch inference job"). `PartiallyCompleted` and `Completed` with
//! `errorRecordCount > 0` have such records; this module reads and summarises them.

use serde_json::Value;

use super::read::{unknown, Failures};
use crate::aws::{sdk_error, Clients};
use crate::error::{Error, Result};
use crate::snapshot::{output_folder, ErrorCount, JobSummary, Known, RecordErrors};

/// How much of a job's `.out` files is read for the summary (counts beyond it are the
/// manifest's, and the summary says it stopped early).
pub const READ_LIMIT: u64 = 64 << 20;

/// Adds the errors of one `.out` text to `acc`.
pub fn tally(text: &str, acc: &mut Vec<ErrorCount>) {
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let Ok(v) = serde_json::from_str::<Value>(line) else { continue };
        let Some(err) = v.get("error") else { continue };
        let code = match &err["errorCode"] {
            Value::Null => "unknown".to_string(),
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        let example = format!(
            "record {}: {}",
            v["recordId"].as_str().unwrap_or("?"),
            err["errorMessage"].as_str().unwrap_or("").chars().take(160).collect::<String>()
        );
        match acc.iter_mut().find(|c| c.code == code) {
            Some(c) => {
                c.count += 1;
                if c.examples.len() < 2 {
                    c.examples.push(example);
                }
            }
            None => acc.push(ErrorCount { code, count: 1, examples: vec![example] }),
        }
    }
}

/// Reads the manifest and the `.out` files of a finished job and summarises its failed records.
pub async fn record_errors(clients: &Clients, output_uri: &str, job_arn: &str) -> Result<RecordErrors> {
    let (bucket, prefix) =
        output_folder(output_uri, job_arn).ok_or_else(|| Error::Usage(format!("the job's output URI {output_uri} is not an s3:// URI")))?;
    let manifest = match clients.s3.get_object().bucket(&bucket).key(format!("{prefix}manifest.json.out")).send().await {
        Ok(o) => {
            let data = o.body.collect().await.map_err(|e| Error::Aws(format!("s3://{bucket}/{prefix}manifest.json.out: reading failed: {e}")))?;
            serde_json::from_slice(&data.into_bytes()).ok()
        }
        // No manifest (NoSuchKey: Amazon S3 API reference, GetObject): the job wrote none yet.
        Err(e) if crate::aws::service_code(&e) == Some("NoSuchKey") => None,
        Err(e) => return Err(sdk_error("s3", "GetObject", e)),
    };
    let mut keys = vec![];
    let mut pages = clients.s3.list_objects_v2().bucket(&bucket).prefix(&prefix).into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| sdk_error("s3", "ListObjectsV2", e))?;
        keys.extend(
            page.contents().iter().filter_map(|o| o.key()).filter(|k| k.ends_with(".out") && !k.ends_with("manifest.json.out")).map(str::to_string),
        );
    }
    let mut by_code = vec![];
    let mut read = 0u64;
    let mut truncated = false;
    let mut files = 0;
    for key in keys {
        if read >= READ_LIMIT {
            truncated = true;
            break;
        }
        let obj = clients.s3.get_object().bucket(&bucket).key(&key).send().await.map_err(|e| sdk_error("s3", "GetObject", e))?;
        let mut body = obj.body;
        let mut carry: Vec<u8> = vec![];
        while let Some(chunk) = body.try_next().await.map_err(|e| Error::Aws(format!("s3://{bucket}/{key}: reading failed: {e}")))? {
            read += chunk.len() as u64;
            carry.extend_from_slice(&chunk);
            if let Some(end) = carry.iter().rposition(|b| *b == b'\n') {
                tally(&String::from_utf8_lossy(&carry[..end]), &mut by_code);
                carry.drain(..=end);
            }
            if read >= READ_LIMIT {
                truncated = true;
                break;
            }
        }
        tally(&String::from_utf8_lossy(&carry), &mut by_code);
        files += 1;
    }
    by_code.sort_by(|a, b| b.count.cmp(&a.count).then(a.code.cmp(&b.code)));
    Ok(RecordErrors { manifest, by_code, files, truncated })
}

/// How many recent jobs with failed records have their output read.
const RECORD_ERROR_JOBS: usize = 3;

/// Reads the record-level errors of the model's most recent jobs with failed records.
pub(super) async fn add_record_errors(clients: &Clients, jobs: &mut [JobSummary], same_model: impl Fn(&str) -> bool, failures: &Failures) {
    for j in jobs.iter_mut().filter(|j| j.has_failed_records() && same_model(&j.model_id)).take(RECORD_ERROR_JOBS) {
        let Some(uri) = j.output_uri.clone() else { continue };
        j.record_errors = Some(match record_errors(clients, &uri, &j.arn).await {
            Ok(r) => Known::Value(r),
            Err(e) => unknown(&format!("the output of job {}", j.name), &e, failures),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tally_counts_codes_and_keeps_two_examples() {
        let text = r#"{"recordId":"a","modelOutput":{}}
{"recordId":"b","error":{"errorCode":400,"errorMessage":"Malformed input request"}}
{"recordId":"c","error":{"errorCode":400,"errorMessage":"Malformed input request"}}
{"recordId":"d","error":{"errorCode":400,"errorMessage":"x"}}
{"recordId":"e","error":{"errorCode":"ThrottlingException","errorMessage":"slow down"}}
not json"#;
        let mut acc = vec![];
        tally(text, &mut acc);
        assert_eq!(acc[0].code, "400");
        assert_eq!(acc[0].count, 3);
        assert_eq!(acc[0].examples.len(), 2);
        assert_eq!(acc[1].code, "ThrottlingException");
    }

    #[test]
    fn output_folder_is_the_job_id_under_the_output_uri() {
        let arn = "arn:aws:bedrock:us-east-1:123456789012:model-invocation-job/abc123";
        assert_eq!(output_folder("s3://b/out/", arn), Some(("b".into(), "out/abc123/".into())));
        assert_eq!(output_folder("s3://b/out", arn), Some(("b".into(), "out/abc123/".into())));
        assert_eq!(output_folder("s3://b", arn), Some(("b".into(), "abc123/".into())));
        assert_eq!(output_folder("https://x", arn), None);
    }
}
