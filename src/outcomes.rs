//! What finished jobs left behind: Bedrock writes `<output URI>/<job id>/manifest.json.out`
//! (record counts and token counts) and one `<input file>.out` per input file, where each failed
//! record carries an `error` object (`errorCode`, `errorMessage`) instead of `modelOutput`
//! (AWS, "View the results of a batch inference job"). `PartiallyCompleted` and `Completed` with
//! `errorRecordCount > 0` have such records; this module reads and summarises them.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::aws::{sdk_error, Clients};
use crate::error::{Error, Result};

/// How much of a job's `.out` files is read for the summary (counts beyond it are the
/// manifest's, and the summary says it stopped early).
pub const READ_LIMIT: u64 = 64 << 20;

/// AWS's two ways a job ends with failed records: PartiallyCompleted, or Completed with
/// `errorRecordCount > 0`.
pub fn has_failed_records(status: &str, error_records: Option<i64>) -> bool {
    status == "PartiallyCompleted" || (status == "Completed" && error_records.unwrap_or(0) > 0)
}

/// One record-level error code, with how often it occurred and up to two examples.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorCount {
    pub code: String,
    pub count: u64,
    pub examples: Vec<String>,
}

/// The record-level errors of one job.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecordErrors {
    /// `manifest.json.out`, when it was there.
    #[serde(default)]
    pub manifest: Option<Value>,
    /// Error codes, most frequent first.
    pub by_code: Vec<ErrorCount>,
    /// `.out` files read.
    pub files: usize,
    /// The read stopped at READ_LIMIT bytes.
    #[serde(default)]
    pub truncated: bool,
}

impl RecordErrors {
    /// "400 ×2 (r1: Malformed input request…), 429 ×1 (…)".
    pub fn summary(&self) -> String {
        if self.by_code.is_empty() {
            return "no record with an `error` object was found in the .out files".into();
        }
        let parts: Vec<String> = self.by_code.iter().map(|c| format!("{} ×{} ({})", c.code, c.count, c.examples.join("; "))).collect();
        format!("{}{}", parts.join(", "), if self.truncated { " — from the first 64 MiB of output" } else { "" })
    }
}

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

/// The job's output folder: `<output URI>/<job id>/` as (bucket, prefix).
pub fn output_folder(output_uri: &str, job_arn: &str) -> Option<(String, String)> {
    let rest = output_uri.strip_prefix("s3://")?;
    let (bucket, key) = rest.split_once('/').unwrap_or((rest, ""));
    let job_id = job_arn.rsplit('/').next()?;
    let base = if key.is_empty() || key.ends_with('/') { key.to_string() } else { format!("{key}/") };
    Some((bucket.to_string(), format!("{base}{job_id}/")))
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
