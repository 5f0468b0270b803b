//! The Snapshot: everything `check` needs from a live account, as versioned JSON. `snapshot`
//! writes one, `check --snapshot FILE` checks one offline: that is how users share a diagnosis
//! and how tests pin a case. A value the caller could not read is `{"unknown": "why"}`, never a
//! guess.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Version 2 records why a read failed (`denied` or `failed`) and keeps every bucket fact as
/// known or unknown; version 1 files are read too (their bare facts count as known, and the
/// kind of a failure is taken from its text).
pub const SNAPSHOT_VERSION: u32 = 2;

/// Why a read gave no answer about the resource. A `NoSuch*` answer is not a read failure: it
/// is the fact "missing".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ReadErrorKind {
    /// AWS refused the read (AccessDenied, HTTP 403).
    Denied,
    /// Throttling, a 5xx, a timeout or a network error (after the SDK's retries).
    Failed,
}

impl ReadErrorKind {
    /// The kind of a failure known only by its text (version 1 snapshots).
    pub fn from_text(text: &str) -> ReadErrorKind {
        let t = text.to_ascii_lowercase();
        if ["accessdenied", "not authorized", "unauthorizedoperation", "forbidden", "403"].iter().any(|w| t.contains(w)) {
            ReadErrorKind::Denied
        } else {
            ReadErrorKind::Failed
        }
    }
}

/// A read that failed, with AWS's error.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReadError {
    pub kind: ReadErrorKind,
    pub error: String,
}

impl ReadError {
    pub fn new(kind: ReadErrorKind, error: impl Into<String>) -> ReadError {
        ReadError { kind, error: error.into() }
    }
}

impl std::fmt::Display for ReadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.error)
    }
}

impl<'de> Deserialize<'de> for ReadError {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<ReadError, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Repr {
            Text(String),
            Full { kind: Option<ReadErrorKind>, error: String },
        }
        // Version 1 wrote the error's text alone (or, in read_failures, no `kind`).
        let (kind, error) = match Repr::deserialize(d)? {
            Repr::Text(t) => (None, t),
            Repr::Full { kind, error } => (kind, error),
        };
        Ok(ReadError { kind: kind.unwrap_or_else(|| ReadErrorKind::from_text(&error)), error })
    }
}

/// A fact that was read, or why it could not be.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Known<T> {
    Value(T),
    Unknown(ReadError),
}

impl<T> Known<T> {
    pub fn value(&self) -> Option<&T> {
        match self {
            Known::Value(v) => Some(v),
            Known::Unknown(_) => None,
        }
    }

    pub fn unknown(&self) -> Option<&ReadError> {
        match self {
            Known::Value(_) => None,
            Known::Unknown(e) => Some(e),
        }
    }
}

/// Reads `{"value": x}` / `{"unknown": …}`, or a bare `x` as version 1 wrote some facts.
fn lenient<'de, D, T>(d: D) -> Result<Known<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Repr<T> {
        Tagged(Known<T>),
        Bare(T),
    }
    Ok(match Repr::deserialize(d)? {
        Repr::Tagged(k) => k,
        Repr::Bare(v) => Known::Value(v),
    })
}

fn known_true() -> Known<bool> {
    Known::Value(true)
}

fn known_none<T>() -> Known<Option<T>> {
    Known::Value(None)
}

/// The settings the snapshot was taken with (so it can be checked elsewhere).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SnapshotSettings {
    pub region: String,
    pub model_id: String,
    pub input_uri: String,
    pub output_uri: String,
    pub role_name: String,
    #[serde(default = "root_path")]
    pub role_path: String,
    #[serde(default)]
    pub kms_key_id: Option<String>,
    #[serde(default)]
    pub caller_arn: Option<String>,
}

fn root_path() -> String {
    "/".into()
}

/// A policy document with the name it has in the account.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NamedDocument {
    pub name: String,
    pub document: Value,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PrincipalState {
    pub arn: String,
    /// False when IAM answered NoSuchEntity for the user or role.
    #[serde(default = "known_true", deserialize_with = "lenient")]
    pub exists: Known<bool>,
    /// Identity policies: inline, attached managed (default version), groups'.
    pub policies: Known<Vec<NamedDocument>>,
    #[serde(default)]
    pub boundary: Option<NamedDocument>,
    /// When the policies could not be read: iam:SimulatePrincipalPolicy's decisions for the
    /// actions the checks need, if the caller may simulate.
    #[serde(default)]
    pub simulated: Option<Vec<SimulatedDecision>>,
    /// For a caller that is a role's session (an SSO user's, say): the role's ARN as IAM's
    /// GetRole answers it, with its path, which the session ARN omits. It is the value of
    /// `aws:PrincipalArn` for the caller's requests (see `policy::PrincipalId::principal_arn`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role_arn: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SimulatedDecision {
    pub action: String,
    pub resource: String,
    /// allowed, explicitDeny or implicitDeny, as IAM answers.
    pub decision: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RoleState {
    pub arn: String,
    pub path: String,
    pub trust_policy: Value,
    pub policies: Vec<NamedDocument>,
    #[serde(default)]
    pub boundary: Option<NamedDocument>,
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BucketState {
    pub name: String,
    /// HeadBucket: true, false (404), or unknown (403 from the caller's own account, 5xx, …).
    #[serde(deserialize_with = "lenient")]
    pub exists: Known<bool>,
    /// The bucket's region (GetBucketLocation; empty answer = us-east-1).
    #[serde(default = "known_none", deserialize_with = "lenient")]
    pub region: Known<Option<String>>,
    /// False when HeadBucket with ExpectedBucketOwner = the account was refused but the bucket
    /// answers without it.
    #[serde(default = "known_true", deserialize_with = "lenient")]
    pub owned_by_account: Known<bool>,
    /// The bucket policy; `null` when it has none (NoSuchBucketPolicy).
    #[serde(default = "known_none", deserialize_with = "lenient")]
    pub policy: Known<Option<Value>>,
    /// Default encryption: "AES256", "aws:kms" or "aws:kms:dsse"; `null` when none is configured.
    #[serde(default = "known_none", deserialize_with = "lenient")]
    pub encryption: Known<Option<String>>,
    #[serde(default)]
    pub kms_key: Option<String>,
    /// GetPublicAccessBlock: all four settings on; `null` when none is configured.
    #[serde(default = "known_none", deserialize_with = "lenient")]
    pub public_access_blocked: Known<Option<bool>>,
}

impl BucketState {
    /// The bucket is known to exist.
    pub fn present(&self) -> bool {
        self.exists.value() == Some(&true)
    }

    /// The bucket is known not to exist.
    pub fn missing(&self) -> bool {
        self.exists.value() == Some(&false)
    }

    /// SSE-KMS is the bucket's default encryption.
    pub fn uses_kms(&self) -> bool {
        self.encryption.value().and_then(|e| e.as_deref()).is_some_and(|e| e.starts_with("aws:kms"))
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ObjectInfo {
    pub key: String,
    pub size: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelState {
    /// GetFoundationModel found the foundation model behind the id.
    pub found: bool,
    pub foundation_model_id: Option<String>,
    pub inference_types: Vec<String>,
    /// GetFoundationModelAvailability: AUTHORIZED / NOT_AUTHORIZED, or None when unreadable.
    pub authorization: Option<String>,
    pub entitlement: Option<String>,
    /// The ids of system-defined inference profiles that contain the model.
    pub profiles: Vec<String>,
    /// Why GetFoundationModelAvailability could not be read (then access is unknown).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub availability_error: Option<ReadError>,
    /// GetFoundationModel's `modelName` (the name Service Quotas uses in the model's quotas).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider: Option<String>,
    /// GetFoundationModel's `modelLifecycle.status`: ACTIVE or LEGACY.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lifecycle: Option<String>,
    /// GetFoundationModelAvailability's `agreementAvailability.status` (AVAILABLE,
    /// PENDING, NOT_AVAILABLE, ERROR) and `regionAvailability`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agreement: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region_availability: Option<String>,
    /// When the model id is an inference profile: GetInferenceProfile's answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<ProfileState>,
    /// Why GetInferenceProfile could not be read (then the routed models are unknown).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile_error: Option<ReadError>,
}

/// An inference profile as GetInferenceProfile describes it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProfileState {
    pub id: String,
    pub arn: String,
    /// SYSTEM_DEFINED (cross-Region) or APPLICATION.
    pub kind: String,
    pub status: String,
    /// The foundation-model ARNs the profile routes to, one per destination Region.
    pub models: Vec<String>,
}

impl ProfileState {
    /// The destination Regions, from the routed model ARNs (`arn:P:bedrock:REGION::…`).
    pub fn regions(&self) -> Vec<String> {
        let mut r: Vec<String> = self.models.iter().filter_map(|a| a.split(':').nth(3)).filter(|r| !r.is_empty()).map(str::to_string).collect();
        r.sort();
        r.dedup();
        r
    }

    /// The foundation model id behind the profile (the last path segment of its model ARNs).
    pub fn foundation_model_id(&self) -> Option<String> {
        self.models.first().and_then(|a| a.rsplit_once('/')).map(|(_, id)| id.to_string())
    }
}

/// Where a quota's value came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum QuotaSource {
    /// ListServiceQuotas: the value applied in the account.
    #[default]
    Applied,
    /// ListAWSDefaultServiceQuotas: no applied value exists, AWS's default holds.
    Default,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QuotaValue {
    pub code: String,
    pub name: String,
    pub value: f64,
    /// `applied` (ListServiceQuotas) or `default` (ListAWSDefaultServiceQuotas, where the
    /// account has no applied value).
    #[serde(default)]
    pub source: QuotaSource,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct JobSummary {
    pub arn: String,
    pub name: String,
    pub model_id: String,
    pub status: String,
    #[serde(default)]
    pub message: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_uri: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_hours: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total_records: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub success_records: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_records: Option<i64>,
    /// For jobs with failed records: the summary of their `error` objects (unknown when the
    /// output could not be read).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub record_errors: Option<Known<RecordErrors>>,
}

impl JobSummary {
    /// PartiallyCompleted, or Completed with failed records.
    pub fn has_failed_records(&self) -> bool {
        has_failed_records(&self.status, self.error_records)
    }
}

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
    /// The read stopped at the collector's READ_LIMIT bytes.
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

/// The job's output folder: `<output URI>/<job id>/` as (bucket, prefix).
pub fn output_folder(output_uri: &str, job_arn: &str) -> Option<(String, String)> {
    let rest = output_uri.strip_prefix("s3://")?;
    let (bucket, key) = rest.split_once('/').unwrap_or((rest, ""));
    let job_id = job_arn.rsplit('/').next()?;
    let base = if key.is_empty() || key.ends_with('/') { key.to_string() } else { format!("{key}/") };
    Some((bucket.to_string(), format!("{base}{job_id}/")))
}

/// A read that failed: what it was for, and AWS's error (`{"what", "kind", "error"}`; version 1
/// wrote no `kind`, which is then taken from the error's text).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReadFailure {
    pub what: String,
    #[serde(flatten)]
    pub error: ReadError,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    pub version: u32,
    pub account_id: String,
    pub partition: String,
    pub settings: SnapshotSettings,
    /// The principal that submits jobs.
    pub caller: PrincipalState,
    /// None: the role does not exist.
    pub role: Known<Option<RoleState>>,
    pub buckets: Vec<BucketState>,
    /// The .jsonl objects under the input URI.
    pub input_objects: Known<Vec<ObjectInfo>>,
    pub model: Known<ModelState>,
    /// Bedrock's batch quotas for the model (service code `bedrock`): those whose name ends
    /// with " for <quota_model_name>".
    pub quotas: Known<Vec<QuotaValue>>,
    /// The model name the quotas were matched by (GetFoundationModel's, else the catalogue's);
    /// None when neither knows the model.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quota_model_name: Option<String>,
    /// Jobs (all models) in the account and region, most recent first.
    pub jobs: Known<Vec<JobSummary>>,
    /// The KMS keys the buckets or the settings use, with their key policies.
    #[serde(default)]
    pub kms_keys: Vec<KmsKeyState>,
    #[serde(default)]
    pub read_failures: Vec<ReadFailure>,
    /// The organization's SCPs and RCPs that bind the account (unknown in snapshots taken
    /// before they were read).
    #[serde(default = "org_not_recorded")]
    pub org: Known<OrgState>,
}

fn org_not_recorded() -> Known<OrgState> {
    Known::Unknown(ReadError::new(ReadErrorKind::Failed, "this snapshot does not record the organization's policies (taken by an older version)"))
}

/// The organization policies that bind the account, and where they came from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrgState {
    /// `organizations` (read from AWS Organizations), `files` (--scp / --rcp), or `none`.
    pub source: String,
    /// Why no SCP or RCP binds the account, when none does (no organization; the management
    /// account, which SCPs and RCPs never restrict).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_applicable: Option<String>,
    /// Service control policies, root first, the account last.
    #[serde(default)]
    pub scps: Vec<OrgLevelState>,
    /// Resource control policies, root first.
    #[serde(default)]
    pub rcps: Vec<OrgLevelState>,
    /// What was assumed and why (e.g. FullAWSAccess at a level given by files without an Allow).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// The organization's id (`o-…`, from DescribeOrganization): the value of
    /// `aws:PrincipalOrgID` for the account's principals and of `aws:ResourceOrgID` for its
    /// resources. None when the policies came from files.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub org_id: Option<String>,
}

/// The policies attached at one level (root, OU, account).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrgLevelState {
    pub target: String,
    pub policies: Vec<NamedDocument>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KmsKeyState {
    /// The key as the bucket or the settings name it (id, ARN or alias).
    pub key: String,
    /// The key's ARN, when it could be resolved.
    #[serde(default)]
    pub arn: Option<String>,
    /// The key policy (GetKeyPolicy "default").
    pub policy: Known<Value>,
}

impl Snapshot {
    pub fn from_json(text: &str) -> Result<Snapshot, String> {
        let v: Value = serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))?;
        match v.get("version").and_then(Value::as_u64) {
            Some(n) if n == 1 || n == u64::from(SNAPSHOT_VERSION) => {}
            Some(n) => return Err(format!("snapshot version {n} is not supported (this build reads versions 1 and {SNAPSHOT_VERSION})")),
            None => return Err("missing \"version\": not a bedbatch-doctor snapshot".into()),
        }
        let mut snap: Snapshot = serde_json::from_value(v).map_err(|e| format!("{e}"))?;
        snap.version = SNAPSHOT_VERSION;
        Ok(snap)
    }

    pub fn bucket(&self, name: &str) -> Option<&BucketState> {
        self.buckets.iter().find(|b| b.name == name)
    }

    /// Replaces the account id, names and ARNs consistently, for sharing. The replacement walks
    /// the parsed structure and rewrites string *values* only: object keys (`"role"`,
    /// `"policy"`) are structure, never data, so a role called `role` cannot break the snapshot.
    pub fn redact(&self) -> Result<Snapshot, String> {
        let mut map: Vec<(String, String)> = vec![(self.account_id.clone(), "111122223333".into())];
        let s = &self.settings;
        let mut names: Vec<String> = vec![s.role_name.clone()];
        for b in &self.buckets {
            names.push(b.name.clone());
        }
        if let Some(caller) = self.caller.arn.rsplit('/').next() {
            names.push(caller.to_string());
        }
        names.sort();
        names.dedup();
        for (i, n) in names.iter().enumerate() {
            if !n.is_empty() {
                map.push((n.clone(), format!("redacted{i}")));
            }
        }
        let mut value = serde_json::to_value(self).map_err(|e| format!("cannot redact the snapshot: {e}"))?;
        redact_values(&mut value, &map);
        // Only string values changed, so the structure still fits; were it ever not to, the
        // snapshot is refused rather than shared half-redacted.
        serde_json::from_value(value).map_err(|e| format!("cannot redact the snapshot: {e}"))
    }
}

/// Replaces names inside the string values of `v` (recursively), leaving object keys alone.
fn redact_values(v: &mut Value, map: &[(String, String)]) {
    match v {
        Value::String(text) => *text = redact_str(text, map),
        Value::Array(items) => items.iter_mut().for_each(|i| redact_values(i, map)),
        Value::Object(fields) => fields.values_mut().for_each(|f| redact_values(f, map)),
        _ => {}
    }
}

/// Replaces whole tokens of `text` (split at `/ : * ? , = ' "`, spaces and brackets) that equal
/// a name, so `role` the name is replaced and `role` inside `service-role` is not. In an ARN
/// outside S3 the resource type (`role` in `arn:aws:iam::1:role/role`) is structure, not a
/// name, and is kept.
fn redact_str(text: &str, map: &[(String, String)]) -> String {
    let is_delim =
        |c: char| matches!(c, '/' | ':' | '*' | '?' | ',' | '=' | '\'' | '"' | '{' | '}' | '[' | ']' | '(' | ')' | ';') || c.is_whitespace();
    // The byte offset of an ARN's resource type, which is never replaced.
    let keep_at = if text.starts_with("arn:") {
        let fields: Vec<&str> = text.splitn(6, ':').collect();
        if fields.len() == 6 && fields[2] != "s3" {
            Some(text.len() - fields[5].len())
        } else {
            None
        }
    } else {
        None
    };
    let mut out = String::with_capacity(text.len());
    let mut start = 0;
    let flush = |out: &mut String, from: usize, to: usize| {
        let token = &text[from..to];
        match map.iter().find(|(name, _)| name == token) {
            Some((_, replacement)) if keep_at != Some(from) => out.push_str(replacement),
            _ => out.push_str(token),
        }
    };
    for (i, c) in text.char_indices() {
        if is_delim(c) {
            flush(&mut out, start, i);
            out.push(c);
            start = i + c.len_utf8();
        }
    }
    flush(&mut out, start, text.len());
    out
}
