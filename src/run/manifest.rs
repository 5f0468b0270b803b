//! The run manifest: versioned JSON, kept locally and in S3 under the run's output folder,
//! rewritten after every state change so `run resume` can continue from either copy.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::aws::{sdk_error, Clients};
use crate::error::{Error, Result};
use crate::run::shard::ShardLimits;

/// The manifest's format version; a reader refuses a newer one.
pub const FORMAT: u32 = 1;
/// The manifest's object name under `<output>/<run id>/`.
pub const OBJECT: &str = "run-manifest.json";

/// Bedrock's job statuses that end a job (AWS, ModelInvocationJobStatus).
pub const TERMINAL: &[&str] = &["Completed", "PartiallyCompleted", "Failed", "Stopped", "Expired"];

/// What a finished job's `manifest.json.out` says.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct Counts {
    pub total: u64,
    pub success: u64,
    pub error: u64,
    pub input_tokens: u64,
    pub output_tokens: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Shard {
    pub index: usize,
    /// The shard's input object, `s3://BUCKET/<input folder><run id>/shard-0007.jsonl`.
    pub input_uri: String,
    pub records: u64,
    pub bytes: u64,
    pub uploaded: bool,
    pub job_name: String,
    /// Sent with every CreateModelInvocationJob of this shard, so a retried or resumed create
    /// returns the job that exists instead of making a second one.
    pub client_request_token: String,
    pub job_arn: Option<String>,
    /// "Pending" (not submitted), "Cancelled" (never to be submitted), or Bedrock's status.
    pub status: String,
    pub message: Option<String>,
    /// Unix seconds.
    pub submitted_at: Option<i64>,
    pub ended_at: Option<i64>,
    /// From the job's manifest.json.out, once it ended with output.
    pub counts: Option<Counts>,
    /// Why the counts could not be read (unknown, not zero).
    pub counts_error: Option<String>,
    /// GetModelInvocationJob's record counters at the last poll, while the job runs.
    #[serde(default)]
    pub progress: Option<Progress>,
}

/// GetModelInvocationJob's `totalRecordCount`, `processedRecordCount`, `successRecordCount`,
/// `errorRecordCount` (NonNegativeLong, optional; BATCH-FACTS §4, botocore's
/// GetModelInvocationJobResponse).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct Progress {
    pub total: Option<u64>,
    pub processed: Option<u64>,
    pub success: Option<u64>,
    pub error: Option<u64>,
}

impl Shard {
    pub fn terminal(&self) -> bool {
        self.status == "Cancelled" || TERMINAL.contains(&self.status.as_str())
    }
    pub fn active(&self) -> bool {
        self.job_arn.is_some() && !self.terminal()
    }
    pub fn pending(&self) -> bool {
        self.status == "Pending"
    }
    /// The job's id (the last part of its ARN).
    pub fn job_id(&self) -> Option<&str> {
        self.job_arn.as_deref().and_then(|a| a.rsplit('/').next())
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunManifest {
    pub format: u32,
    pub run_id: String,
    /// Bumped on every write; of two copies the higher one is the newer.
    pub revision: u64,
    /// Unix seconds.
    pub created_at: i64,
    pub updated_at: i64,
    /// The run this one retries, if any.
    pub parent_run: Option<String>,
    /// What the user gave: a file, folder, or S3 URI.
    pub source: String,
    pub region: String,
    pub model_id: String,
    pub role_arn: String,
    /// `s3://BUCKET/<input folder><run id>/`
    pub input_prefix: String,
    /// `s3://BUCKET/<output folder><run id>/`: jobs write `<job id>/…` under it.
    pub output_uri: String,
    pub records: u64,
    pub bytes: u64,
    /// Records that had no recordId and were given `r<ordinal>`.
    pub assigned_ids: u64,
    pub limits: ShardLimits,
    /// The most jobs of this run active at once (the quota, or --max-concurrent).
    pub max_concurrent: Option<u64>,
    /// timeoutDurationInHours of each job (None: Bedrock's default).
    pub timeout_hours: Option<i32>,
    pub cancelled: bool,
    pub shards: Vec<Shard>,
    /// CreateModelInvocationJob's `modelInvocationType` of every job (runs of earlier
    /// versions: InvokeModel, the API's default).
    #[serde(default)]
    pub invocation_type: crate::families::Invocation,
    /// The family whose output shape the jobs write (None: runs of earlier versions; read from
    /// the model then).
    #[serde(default)]
    pub family: Option<crate::families::Family>,
    /// A run started from a table: the table, its format, the templates and the id column, so
    /// `collect` rebuilds every row on any machine.
    #[serde(default)]
    pub table: Option<crate::run::prepare::TableSpec>,
    /// The batch cost `run start` estimated, low and high (USD).
    #[serde(default)]
    pub estimated_cost: Option<(f64, f64)>,
}

impl RunManifest {
    /// The input and output tokens its ended jobs' `manifest.json.out` report, summed (jobs whose
    /// counts were not read add nothing: a caller that must know says so from `counts_error`).
    pub fn job_tokens(&self) -> (u64, u64) {
        self.shards.iter().filter_map(|s| s.counts.as_ref()).fold((0, 0), |(i, o), c| (i + c.input_tokens, o + c.output_tokens))
    }

    pub fn finished(&self) -> bool {
        self.shards.iter().all(Shard::terminal)
    }

    /// The S3 location of the manifest's copy: (bucket, key).
    pub fn s3_location(&self) -> Result<(String, String)> {
        s3_location(&self.output_uri)
    }

    pub fn from_json(text: &str, what: &str) -> Result<RunManifest> {
        let v: serde_json::Value = serde_json::from_str(text).map_err(|e| Error::Usage(format!("{what}: not a run manifest: {e}")))?;
        match v.get("format").and_then(serde_json::Value::as_u64) {
            Some(f) if f as u32 == FORMAT => {}
            Some(f) => return Err(Error::Usage(format!("{what}: run manifest format {f}; this version reads format {FORMAT}"))),
            None => return Err(Error::Usage(format!("{what}: not a run manifest (no format)"))),
        }
        serde_json::from_value(v).map_err(|e| Error::Usage(format!("{what}: not a run manifest: {e}")))
    }
}

/// (bucket, key of the manifest) for a run's output folder URI.
pub fn s3_location(output_uri: &str) -> Result<(String, String)> {
    let rest = output_uri.strip_prefix("s3://").ok_or_else(|| Error::Usage(format!("{output_uri}: not an s3:// URI")))?;
    let (bucket, key) = rest.split_once('/').unwrap_or((rest, ""));
    Ok((bucket.to_string(), format!("{key}{OBJECT}")))
}

pub fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
}

/// The folder of local run state: --state-dir, else $XDG_STATE_HOME/bedbatch-doctor/runs, else
/// ~/.local/state/bedbatch-doctor/runs.
pub fn state_root(explicit: Option<&Path>) -> Result<PathBuf> {
    match explicit {
        Some(p) => Ok(p.to_path_buf()),
        None => crate::apply::state_home("runs", "--state-dir"),
    }
}

pub fn local_path(root: &Path, run_id: &str) -> PathBuf {
    root.join(run_id).join(OBJECT)
}

/// A run id is a folder name and part of job names and S3 keys: letters, digits and '-'.
pub fn check_run_id(id: &str) -> Result<()> {
    let ok = !id.is_empty() && id.len() <= 40 && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') && !id.starts_with('-');
    if ok {
        Ok(())
    } else {
        Err(Error::Usage(format!("{id:?} is not a run id (letters, digits and '-', at most 40, as `run list` shows them)")))
    }
}

pub fn read_local(root: &Path, run_id: &str) -> Result<Option<RunManifest>> {
    let path = local_path(root, run_id);
    match std::fs::read_to_string(&path) {
        Ok(text) => RunManifest::from_json(&text, &path.display().to_string()).map(Some),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Error::io(path.display(), e)),
    }
}

fn write_local(root: &Path, m: &RunManifest) -> Result<()> {
    let path = local_path(root, &m.run_id);
    let dir = path.parent().expect("a run folder");
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir.display(), e))?;
    let tmp = path.with_extension("json.tmp");
    std::fs::write(&tmp, serde_json::to_string_pretty(m).expect("serialises")).map_err(|e| Error::io(tmp.display(), e))?;
    std::fs::rename(&tmp, &path).map_err(|e| Error::io(path.display(), e))
}

pub async fn read_s3(clients: &Clients, output_uri: &str) -> Result<Option<RunManifest>> {
    let (bucket, key) = s3_location(output_uri)?;
    match clients.s3.get_object().bucket(&bucket).key(&key).send().await {
        Ok(obj) => {
            let data = obj.body.collect().await.map_err(|e| Error::Aws(format!("s3://{bucket}/{key}: reading failed: {e}")))?;
            RunManifest::from_json(&String::from_utf8_lossy(&data.to_vec()), &format!("s3://{bucket}/{key}")).map(Some)
        }
        Err(e) => match sdk_error("s3", "GetObject", e) {
            Error::Missing(_) => Ok(None),
            other => Err(other),
        },
    }
}

/// Bumps the revision and writes both copies: the local one first (it survives a network
/// failure), then S3's. A failed S3 write is an error: the caller decides whether to go on.
pub async fn save(clients: &Clients, root: &Path, m: &mut RunManifest) -> Result<()> {
    m.revision += 1;
    m.updated_at = now();
    write_local(root, m)?;
    let (bucket, key) = m.s3_location()?;
    let body = serde_json::to_vec_pretty(m).expect("serialises");
    clients
        .s3
        .put_object()
        .bucket(&bucket)
        .key(&key)
        .content_type("application/json")
        .body(body.into())
        .send()
        .await
        .map_err(|e| sdk_error("s3", "PutObject", e))?;
    Ok(())
}

/// The newer of the local and the S3 copy (by revision). Neither: an error naming both places.
pub async fn load(clients: &Clients, root: &Path, run_id: &str, output_uri: &str) -> Result<RunManifest> {
    check_run_id(run_id)?;
    let local = read_local(root, run_id)?;
    let uri = local.as_ref().map(|m| m.output_uri.clone()).unwrap_or_else(|| output_uri.to_string());
    let remote = read_s3(clients, &uri).await?;
    match (local, remote) {
        (Some(l), Some(r)) => Ok(if r.revision > l.revision { r } else { l }),
        (Some(l), None) => Ok(l),
        (None, Some(r)) => Ok(r),
        (None, None) => Err(Error::Usage(format!(
            "no run {run_id}: neither {} nor {uri}{OBJECT} exists (is output_uri the one the run used?)",
            local_path(root, run_id).display()
        ))),
    }
}
