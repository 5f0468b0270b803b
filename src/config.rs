//! Settings: `bedbatch.toml`, overridden by flags of the same name, validated against the rules
//! AWS itself applies (Bedrock's S3Uri pattern, IAM's role name and path rules, known regions,
//! the forms a Bedrock model id takes). A bad setting is one error naming the key, the value and
//! the rule.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use regex::Regex;
use serde::Deserialize;

use crate::error::{Error, Result};

/// The settings file as written by the user. Unknown keys are an error.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileSettings {
    pub region: Option<String>,
    pub model_id: Option<String>,
    pub input_uri: Option<String>,
    pub output_uri: Option<String>,
    pub role_name: Option<String>,
    pub role_path: Option<String>,
    pub kms_key_id: Option<String>,
    pub caller_arn: Option<String>,
    pub tags: Option<BTreeMap<String, String>>,
}

/// Values given on the command line, each winning over the file: the same keys as the file
/// (`tags` has no flag and stays `None`).
pub type Overrides = FileSettings;

/// Where a setting's value came from, for error messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    File(PathBuf),
    Flag,
    Environment(&'static str),
    Profile,
    /// The settings recorded in a snapshot file.
    Snapshot,
}

impl Source {
    fn describe(&self, key: &str) -> String {
        match self {
            Source::File(p) => format!("{}: {key}", p.display()),
            Source::Flag => format!("--{}", key.replace('_', "-")),
            Source::Environment(var) => format!("{var} (environment)"),
            Source::Profile => format!("{key} (AWS config file)"),
            Source::Snapshot => format!("{key} (snapshot settings)"),
        }
    }
}

/// Validated settings. Every field is optional here; commands ask for what they need through
/// the accessors, which name the missing key and how to set it.
#[derive(Debug, Clone, Default)]
pub struct Settings {
    pub region: Option<String>,
    pub model: Option<ModelRef>,
    pub input: Option<S3Location>,
    pub output: Option<S3Location>,
    pub role_name: Option<String>,
    pub role_path: String,
    pub kms_key: Option<KmsKey>,
    pub caller_arn: Option<PrincipalArn>,
    pub tags: BTreeMap<String, String>,
    /// The file the settings were read from, if any.
    pub file: Option<PathBuf>,
}

fn missing(key: &str) -> Error {
    Error::Config(format!(
        "missing setting `{key}`: set it in bedbatch.toml or pass --{} (run `bedbatch-doctor init` for a starter file)",
        key.replace('_', "-")
    ))
}

impl Settings {
    pub fn region(&self) -> Result<&str> {
        self.region
            .as_deref()
            .ok_or_else(|| Error::Config("missing setting `region`: set it in bedbatch.toml, pass --region, or set AWS_REGION".into()))
    }
    pub fn partition(&self) -> Result<&'static str> {
        Ok(partition_of(self.region()?))
    }
    pub fn model(&self) -> Result<&ModelRef> {
        self.model.as_ref().ok_or_else(|| missing("model_id"))
    }
    pub fn input(&self) -> Result<&S3Location> {
        self.input.as_ref().ok_or_else(|| missing("input_uri"))
    }
    pub fn output(&self) -> Result<&S3Location> {
        self.output.as_ref().ok_or_else(|| missing("output_uri"))
    }
    pub fn role_name(&self) -> Result<&str> {
        self.role_name.as_deref().ok_or_else(|| missing("role_name"))
    }
}

/// Reads the file (if any), applies the overrides and the AWS region fallbacks, and validates.
///
/// `config` is the path given with `--config`; when it is `None`, `./bedbatch.toml` is read if
/// it exists. A path given explicitly must exist.
pub fn load(config: Option<&Path>, overrides: &Overrides, aws_region: Option<(String, Source)>) -> Result<Settings> {
    let (file, path) = match config {
        Some(p) => {
            if !p.exists() {
                return Err(Error::Config(format!("config file {} does not exist (given with --config)", p.display())));
            }
            (read_file(p)?, Some(p.to_path_buf()))
        }
        None => {
            let p = PathBuf::from("bedbatch.toml");
            if p.exists() {
                (read_file(&p)?, Some(p))
            } else {
                (FileSettings::default(), None)
            }
        }
    };
    resolve(file, path, overrides, aws_region)
}

/// Parses the settings file. Errors name the file, the line and the key.
pub fn read_file(path: &Path) -> Result<FileSettings> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::Config(format!("cannot read config file {}: {e}", path.display())))?;
    parse_file(&text, path)
}

pub fn parse_file(text: &str, path: &Path) -> Result<FileSettings> {
    toml::from_str::<FileSettings>(text).map_err(|e| {
        let location = e
            .span()
            .map(|span| {
                let line = text[..span.start.min(text.len())].matches('\n').count() + 1;
                format!(" (line {line})")
            })
            .unwrap_or_default();
        Error::Config(format!("{}{location}: {}", path.display(), e.message()))
    })
}

/// Merges file, flags and the AWS region fallback, then validates each present value.
pub fn resolve(file: FileSettings, path: Option<PathBuf>, o: &Overrides, aws_region: Option<(String, Source)>) -> Result<Settings> {
    let file_src = Source::File(path.clone().unwrap_or_else(|| PathBuf::from("bedbatch.toml")));
    let pick = |flag: &Option<String>, file: &Option<String>| -> Option<(String, Source)> {
        flag.clone().map(|v| (v, Source::Flag)).or_else(|| file.clone().map(|v| (v, file_src.clone())))
    };

    let region = pick(&o.region, &file.region).or(aws_region);
    let region = match region {
        Some((v, src)) => Some(validate_region(&v, &src)?),
        None => None,
    };

    let model = match pick(&o.model_id, &file.model_id) {
        Some((v, src)) => Some(ModelRef::parse(&v).map_err(|rule| bad(&src, "model_id", &v, &rule))?),
        None => None,
    };
    if let (Some(m), Some(r)) = (&model, &region) {
        if let Some(arn_region) = m.arn_region() {
            if arn_region != r {
                let src = if o.model_id.is_some() { Source::Flag } else { file_src.clone() };
                return Err(bad(
                    &src,
                    "model_id",
                    &m.raw,
                    &format!("the ARN names region {arn_region} but the job runs in region {r}; a batch job uses a model in its own region"),
                ));
            }
        }
    }

    let input = match pick(&o.input_uri, &file.input_uri) {
        Some((v, src)) => Some(S3Location::parse(&v).map_err(|rule| bad(&src, "input_uri", &v, &rule))?),
        None => None,
    };
    let output = match pick(&o.output_uri, &file.output_uri) {
        Some((v, src)) => {
            let loc = S3Location::parse(&v).map_err(|rule| bad(&src, "output_uri", &v, &rule))?;
            if loc.is_object {
                return Err(bad(&src, "output_uri", &v, "must be a folder (prefix), not a .jsonl object: Bedrock writes <output_uri>/<job id>/…"));
            }
            Some(loc)
        }
        None => None,
    };
    let role_name = match pick(&o.role_name, &file.role_name) {
        Some((v, src)) => Some(validate_role_name(&v).map_err(|rule| bad(&src, "role_name", &v, &rule))?),
        None => None,
    };
    let role_path = match pick(&o.role_path, &file.role_path) {
        Some((v, src)) => validate_role_path(&v).map_err(|rule| bad(&src, "role_path", &v, &rule))?,
        None => "/".to_string(),
    };
    let kms_key = match pick(&o.kms_key_id, &file.kms_key_id) {
        Some((v, src)) => Some(KmsKey::parse(&v).map_err(|rule| bad(&src, "kms_key_id", &v, &rule))?),
        None => None,
    };
    let caller_arn = match pick(&o.caller_arn, &file.caller_arn) {
        Some((v, src)) => Some(PrincipalArn::parse(&v).map_err(|rule| bad(&src, "caller_arn", &v, &rule))?),
        None => None,
    };
    let tags = file.tags.unwrap_or_default();
    validate_tags(&tags).map_err(|(k, v, rule)| bad(&file_src, &format!("tags.{k}"), &v, &rule))?;

    Ok(Settings { region, model, input, output, role_name, role_path, kms_key, caller_arn, tags, file: path })
}

/// Settings back from a snapshot's record of them, validated as the file and flags are (the
/// same merge: the snapshot's values are the only layer).
pub fn from_snapshot(s: &crate::snapshot::SnapshotSettings) -> Result<Settings> {
    let layer = FileSettings {
        region: Some(s.region.clone()),
        model_id: Some(s.model_id.clone()),
        input_uri: Some(s.input_uri.clone()),
        output_uri: Some(s.output_uri.clone()),
        role_name: Some(s.role_name.clone()),
        role_path: Some(s.role_path.clone()),
        kms_key_id: s.kms_key_id.clone(),
        caller_arn: None,
        tags: None,
    };
    resolve(layer, None, &Overrides::default(), None).map_err(|e| Error::Usage(format!("the snapshot's settings: {e}")))
}

/// The record of the settings a snapshot keeps (the inverse of [`from_snapshot`]).
pub fn to_snapshot(settings: &Settings, caller_arn: &str) -> Result<crate::snapshot::SnapshotSettings> {
    Ok(crate::snapshot::SnapshotSettings {
        region: settings.region()?.to_string(),
        model_id: settings.model()?.raw.clone(),
        input_uri: settings.input()?.uri.clone(),
        output_uri: settings.output()?.uri.clone(),
        role_name: settings.role_name()?.to_string(),
        role_path: settings.role_path.clone(),
        kms_key_id: settings.kms_key.as_ref().map(|k| k.as_str().to_string()),
        caller_arn: Some(caller_arn.to_string()),
    })
}

fn bad(src: &Source, key: &str, value: &str, rule: &str) -> Error {
    Error::Config(format!("invalid setting {}: {value:?}: {rule}", src.describe(key)))
}

fn re(cell: &'static OnceLock<Regex>, pattern: &str) -> &'static Regex {
    cell.get_or_init(|| Regex::new(pattern).expect("static regex"))
}

// ------------------------------------------------------------------------------------ regions

/// Regions of the aws, aws-cn and aws-us-gov partitions.
pub const KNOWN_REGIONS: &[&str] = &[
    "us-east-1",
    "us-east-2",
    "us-west-1",
    "us-west-2",
    "af-south-1",
    "ap-east-1",
    "ap-east-2",
    "ap-south-1",
    "ap-south-2",
    "ap-southeast-1",
    "ap-southeast-2",
    "ap-southeast-3",
    "ap-southeast-4",
    "ap-southeast-5",
    "ap-southeast-7",
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-northeast-3",
    "ca-central-1",
    "ca-west-1",
    "eu-central-1",
    "eu-central-2",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "eu-south-1",
    "eu-south-2",
    "eu-north-1",
    "il-central-1",
    "me-south-1",
    "me-central-1",
    "mx-central-1",
    "sa-east-1",
    "cn-north-1",
    "cn-northwest-1",
    "us-gov-west-1",
    "us-gov-east-1",
];

pub fn partition_of(region: &str) -> &'static str {
    if region.starts_with("cn-") {
        "aws-cn"
    } else if region.starts_with("us-gov-") {
        "aws-us-gov"
    } else {
        "aws"
    }
}

fn validate_region(value: &str, src: &Source) -> Result<String> {
    if KNOWN_REGIONS.contains(&value) {
        return Ok(value.to_string());
    }
    let nearest = KNOWN_REGIONS.iter().min_by_key(|r| edit_distance(r, value)).copied().unwrap_or("us-east-1");
    let hint = if edit_distance(nearest, value) <= 3 { format!(" (did you mean {nearest}?)") } else { String::new() };
    Err(bad(src, "region", value, &format!("not a known AWS region; expected one like us-east-1{hint}")))
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur.push((prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

// ------------------------------------------------------------------------------------ S3 URIs

/// Bedrock's S3Uri pattern for batch input and output (CreateModelInvocationJob).
pub const BEDROCK_S3_URI_PATTERN: &str = r"s3://[a-z0-9][-.a-z0-9]{1,61}[a-z0-9](/[-!_*'().a-zA-Z0-9]+)*/?";

/// An S3 location: a bucket and a key that is a folder (prefix) or, for input, one `.jsonl` object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Location {
    pub uri: String,
    pub bucket: String,
    /// The key as written, without a leading slash.
    pub key: String,
    /// True when the key names one `.jsonl` object rather than a folder.
    pub is_object: bool,
}

impl S3Location {
    pub fn parse(uri: &str) -> std::result::Result<Self, String> {
        static RE: OnceLock<Regex> = OnceLock::new();
        let full = re(&RE, &format!("^{BEDROCK_S3_URI_PATTERN}$"));
        if uri.len() > 1024 {
            return Err(format!("longer than Bedrock's limit of 1024 characters ({} characters)", uri.len()));
        }
        let Some(rest) = uri.strip_prefix("s3://") else {
            return Err("must start with s3:// (Bedrock's S3Uri pattern)".into());
        };
        let (bucket, key) = rest.split_once('/').unwrap_or((rest, ""));
        if !full.is_match(uri) {
            return Err(explain_s3_uri(bucket, key));
        }
        if bucket.contains("..") || bucket.split('.').count() == 4 && bucket.split('.').all(|p| p.parse::<u8>().is_ok()) {
            return Err(format!("bucket name {bucket:?} breaks S3's bucket naming rules (no '..', not an IP address)"));
        }
        Ok(S3Location { uri: uri.to_string(), bucket: bucket.to_string(), key: key.to_string(), is_object: key.ends_with(".jsonl") })
    }

    /// The folder the location names, with a trailing slash, or "" for the bucket root.
    /// For an object, its parent folder.
    pub fn folder(&self) -> String {
        if self.is_object {
            match self.key.rfind('/') {
                Some(i) => self.key[..=i].to_string(),
                None => String::new(),
            }
        } else if self.key.is_empty() || self.key.ends_with('/') {
            self.key.clone()
        } else {
            format!("{}/", self.key)
        }
    }

    /// The key pattern of the objects the location covers: the object itself, or `folder*`.
    pub fn object_pattern(&self) -> String {
        if self.is_object {
            self.key.clone()
        } else {
            format!("{}*", self.folder())
        }
    }

    /// The `s3:prefix` pattern a ListBucket on this location uses, or None for the whole bucket.
    pub fn list_prefix_pattern(&self) -> Option<String> {
        if self.is_object {
            Some(self.key.clone())
        } else if self.folder().is_empty() {
            None
        } else {
            Some(format!("{}*", self.folder()))
        }
    }
}

fn explain_s3_uri(bucket: &str, key: &str) -> String {
    let rule = format!("rejected by Bedrock's S3Uri pattern {BEDROCK_S3_URI_PATTERN}");
    if bucket.len() < 3 || bucket.len() > 63 {
        return format!("{rule}: the bucket name must be 3 to 63 characters");
    }
    if let Some(c) = bucket.chars().find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-' || *c == '.')) {
        return format!("{rule}: the bucket name may hold only lowercase letters, digits, '-' and '.', not {c:?}");
    }
    if bucket.starts_with(['-', '.']) || bucket.ends_with(['-', '.']) {
        return format!("{rule}: the bucket name must start and end with a letter or digit");
    }
    if key.contains("//") {
        return format!("{rule}: the key has an empty path segment ('//')");
    }
    if let Some(c) = key.chars().find(|c| !(c.is_ascii_alphanumeric() || "-!_*'()./".contains(*c))) {
        return format!("{rule}: the key may hold only letters, digits and -!_*'()./, not {c:?}");
    }
    rule
}

// ------------------------------------------------------------------------------------ IAM names

pub fn validate_role_name(v: &str) -> std::result::Result<String, String> {
    static RE: OnceLock<Regex> = OnceLock::new();
    if v.is_empty() || v.chars().count() > 64 {
        return Err(format!("IAM role names are 1 to 64 characters ({} given)", v.chars().count()));
    }
    if !re(&RE, r"^[\w+=,.@-]+$").is_match(v) || !v.is_ascii() {
        return Err("IAM role names may hold only letters, digits and +=,.@_- (pattern [\\w+=,.@-]+)".into());
    }
    Ok(v.to_string())
}

pub fn validate_role_path(v: &str) -> std::result::Result<String, String> {
    static RE: OnceLock<Regex> = OnceLock::new();
    if v.len() > 512 {
        return Err("IAM paths are at most 512 characters".into());
    }
    if !re(&RE, r"^(/|/[\x21-\x7E]+/)$").is_match(v) {
        return Err("an IAM path is \"/\" or starts and ends with \"/\" with printable ASCII and no spaces between (pattern (/)|(/[\\x21-\\x7E]+/)), e.g. \"/service-role/\"".into());
    }
    Ok(v.to_string())
}

fn validate_tags(tags: &BTreeMap<String, String>) -> std::result::Result<(), (String, String, String)> {
    static RE: OnceLock<Regex> = OnceLock::new();
    let allowed = re(&RE, r"^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$");
    if tags.len() > 50 {
        return Err(("*".into(), format!("{} tags", tags.len()), "IAM allows at most 50 tags on a resource".into()));
    }
    for (k, v) in tags {
        if k.is_empty() || k.chars().count() > 128 {
            return Err((k.clone(), k.clone(), "tag keys are 1 to 128 characters".into()));
        }
        if k.to_ascii_lowercase().starts_with("aws:") {
            return Err((k.clone(), k.clone(), "tag keys may not start with aws: (reserved by AWS)".into()));
        }
        if !allowed.is_match(k) {
            return Err((k.clone(), k.clone(), "tag keys may hold only letters, digits, spaces and _.:/=+-@".into()));
        }
        if v.chars().count() > 256 || !allowed.is_match(v) {
            return Err((k.clone(), v.clone(), "tag values are at most 256 letters, digits, spaces and _.:/=+-@".into()));
        }
    }
    Ok(())
}

// ------------------------------------------------------------------------------------ models

/// Geography prefixes of system-defined (cross-region) inference profiles.
pub const PROFILE_PREFIXES: &[&str] = &["us", "eu", "apac", "us-gov", "jp", "au", "ca", "global"];

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ModelKind {
    /// `anthropic.claude-3-haiku-20240307-v1:0`
    FoundationModel,
    /// `us.anthropic.claude-3-haiku-20240307-v1:0`: a system-defined inference profile.
    InferenceProfile,
    /// `arn:…:foundation-model/ID`
    FoundationModelArn,
    /// `arn:…:inference-profile/ID`
    InferenceProfileArn,
    /// `arn:…:application-inference-profile/ID`
    ApplicationInferenceProfileArn,
}

/// A model id as the user gave it, classified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelRef {
    pub raw: String,
    pub kind: ModelKind,
    /// The foundation model id behind it, where the id itself says (not for application profiles).
    pub foundation_model_id: Option<String>,
    /// The profile id (`us.…`) for inference profiles.
    pub profile_id: Option<String>,
}

impl ModelRef {
    pub fn parse(v: &str) -> std::result::Result<Self, String> {
        static FM: OnceLock<Regex> = OnceLock::new();
        static ARN: OnceLock<Regex> = OnceLock::new();
        let fm = re(&FM, r"^[a-z0-9-]{1,63}\.[a-z0-9-]{1,63}([.:]?[a-z0-9-]{1,63})*$");
        let arn = re(
            &ARN,
            r"^arn:(aws|aws-cn|aws-us-gov):bedrock:([a-z0-9-]+):([0-9]{12})?:(foundation-model|inference-profile|application-inference-profile)/([a-zA-Z0-9.:_-]+)$",
        );
        let rule = "expected a foundation model id (anthropic.claude-3-haiku-20240307-v1:0), an inference profile id (us.anthropic.claude-3-haiku-20240307-v1:0), or the ARN of either";
        if v.starts_with("arn:") {
            let c = arn.captures(v).ok_or_else(|| format!("not a Bedrock model or inference-profile ARN; {rule}"))?;
            let account = c.get(3).map(|m| m.as_str()).unwrap_or("");
            let kind_s = &c[4];
            let id = c[5].to_string();
            return match kind_s {
                "foundation-model" => {
                    if !account.is_empty() {
                        return Err("a foundation-model ARN has an empty account field (arn:aws:bedrock:REGION::foundation-model/ID)".into());
                    }
                    Ok(ModelRef { raw: v.into(), kind: ModelKind::FoundationModelArn, foundation_model_id: Some(id), profile_id: None })
                }
                "inference-profile" => {
                    if account.is_empty() {
                        return Err("an inference-profile ARN names the account (arn:aws:bedrock:REGION:ACCOUNT:inference-profile/ID)".into());
                    }
                    let fm_id = strip_profile_prefix(&id).map(str::to_string);
                    Ok(ModelRef { raw: v.into(), kind: ModelKind::InferenceProfileArn, foundation_model_id: fm_id, profile_id: Some(id) })
                }
                _ => {
                    if account.is_empty() {
                        return Err("an application-inference-profile ARN names the account".into());
                    }
                    Ok(ModelRef { raw: v.into(), kind: ModelKind::ApplicationInferenceProfileArn, foundation_model_id: None, profile_id: Some(id) })
                }
            };
        }
        if !fm.is_match(v) {
            return Err(format!("not a model id of any known form; {rule}"));
        }
        if let Some(base) = strip_profile_prefix(v) {
            return Ok(ModelRef {
                raw: v.into(),
                kind: ModelKind::InferenceProfile,
                foundation_model_id: Some(base.into()),
                profile_id: Some(v.into()),
            });
        }
        Ok(ModelRef { raw: v.into(), kind: ModelKind::FoundationModel, foundation_model_id: Some(v.into()), profile_id: None })
    }

    /// The region an ARN names, if the id is an ARN.
    pub fn arn_region(&self) -> Option<&str> {
        if self.raw.starts_with("arn:") {
            self.raw.split(':').nth(3)
        } else {
            None
        }
    }

    /// A job's `modelId` is this model: the same id, or an id or ARN ending with the
    /// foundation model behind it (a job through the profile, or by the bare id).
    pub fn names_job_model(&self, job_model: &str) -> bool {
        job_model == self.raw || self.foundation_model_id.as_deref().is_some_and(|fm| job_model.ends_with(fm))
    }

    pub fn is_profile(&self) -> bool {
        matches!(self.kind, ModelKind::InferenceProfile | ModelKind::InferenceProfileArn | ModelKind::ApplicationInferenceProfileArn)
    }
}

fn strip_profile_prefix(id: &str) -> Option<&str> {
    let (head, rest) = id.split_once('.')?;
    if PROFILE_PREFIXES.contains(&head) && rest.contains('.') {
        Some(rest)
    } else {
        None
    }
}

// ------------------------------------------------------------------------------------ KMS

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KmsKey {
    /// A key id (`1234abcd-…` or `mrk-…`); its ARN is built in the job's region and account.
    Id(String),
    /// A key ARN.
    Arn(String),
}

impl KmsKey {
    /// The key as it was given (id or ARN).
    pub fn as_str(&self) -> &str {
        match self {
            KmsKey::Id(i) | KmsKey::Arn(i) => i,
        }
    }

    pub fn parse(v: &str) -> std::result::Result<Self, String> {
        static ID: OnceLock<Regex> = OnceLock::new();
        static ARN: OnceLock<Regex> = OnceLock::new();
        let id = re(&ID, r"^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|mrk-[0-9a-f]{32})$");
        let arn = re(
            &ARN,
            r"^arn:(aws|aws-cn|aws-us-gov):kms:[a-z0-9-]+:[0-9]{12}:key/([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|mrk-[0-9a-f]{32})$",
        );
        if v.starts_with("alias/") || v.contains(":alias/") {
            return Err(
                "an alias cannot be the Resource of a kms:Decrypt grant; give the key id or key ARN (aws kms describe-key --key-id ALIAS shows it)"
                    .into(),
            );
        }
        if id.is_match(v) {
            Ok(KmsKey::Id(v.into()))
        } else if arn.is_match(v) {
            Ok(KmsKey::Arn(v.into()))
        } else {
            Err("expected a KMS key id (1234abcd-12ab-34cd-56ef-1234567890ab or mrk-…) or key ARN (arn:aws:kms:REGION:ACCOUNT:key/ID)".into())
        }
    }

    pub fn arn(&self, partition: &str, region: &str, account: &str) -> String {
        match self {
            KmsKey::Id(id) => format!("arn:{partition}:kms:{region}:{account}:key/{id}"),
            KmsKey::Arn(a) => a.clone(),
        }
    }
}

// ------------------------------------------------------------------------------------ principals

/// The principal that submits jobs: an IAM user, an IAM role, or an STS assumed-role session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrincipalArn {
    pub arn: String,
    pub partition: String,
    pub account: String,
    pub kind: PrincipalKind,
    /// User or role name (for an assumed role, the role's name).
    pub name: String,
    /// The path, when the ARN shows it (`/` for assumed roles, whose ARN omits it).
    pub path: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PrincipalKind {
    User,
    Role,
    AssumedRole,
    Root,
}

impl PrincipalArn {
    pub fn parse(v: &str) -> std::result::Result<Self, String> {
        static IAM: OnceLock<Regex> = OnceLock::new();
        static STS: OnceLock<Regex> = OnceLock::new();
        static ROOT: OnceLock<Regex> = OnceLock::new();
        let iam = re(&IAM, r"^arn:(aws|aws-cn|aws-us-gov):iam::([0-9]{12}):(user|role)(/(?:[\x21-\x7E]+/)?)?([\w+=,.@-]{1,64})$");
        let sts = re(&STS, r"^arn:(aws|aws-cn|aws-us-gov):sts::([0-9]{12}):assumed-role/([\w+=,.@-]{1,64})/([\w+=,.@-]{2,64})$");
        // Compiled once, as the others (it was compiled on every call: the `inputs` fuzz target
        // ran at 91 executions a second until this was found).
        let root = re(&ROOT, r"^arn:(aws|aws-cn|aws-us-gov):iam::([0-9]{12}):root$");
        if let Some(c) = iam.captures(v) {
            let path = c.get(4).map(|m| m.as_str()).unwrap_or("/");
            return Ok(PrincipalArn {
                arn: v.into(),
                partition: c[1].into(),
                account: c[2].into(),
                kind: if &c[3] == "user" { PrincipalKind::User } else { PrincipalKind::Role },
                name: c[5].into(),
                path: if path.is_empty() { "/".into() } else { path.into() },
            });
        }
        if let Some(c) = sts.captures(v) {
            return Ok(PrincipalArn {
                arn: v.into(),
                partition: c[1].into(),
                account: c[2].into(),
                kind: PrincipalKind::AssumedRole,
                name: c[3].into(),
                path: "/".into(),
            });
        }
        if let Some(c) = root.captures(v) {
            return Ok(PrincipalArn {
                arn: v.into(),
                partition: c[1].into(),
                account: c[2].into(),
                kind: PrincipalKind::Root,
                name: "root".into(),
                path: "/".into(),
            });
        }
        Err("expected an IAM user or role ARN (arn:aws:iam::123456789012:user/NAME, arn:aws:iam::123456789012:role/PATH/NAME) or an assumed-role ARN (arn:aws:sts::123456789012:assumed-role/ROLE/SESSION)".into())
    }
}

// ------------------------------------------------------------------------------------ init

/// The commented starter file `bedbatch-doctor init` writes.
pub const STARTER: &str = r#"# bedbatch-doctor settings. Every key can be overridden by a flag of the same name
# (--region, --model-id, --input-uri, ...). Run `bedbatch-doctor render` to see the policies.

# The region the batch jobs run in (default: AWS_REGION or your AWS profile's region).
region = "us-east-1"

# A foundation model id, an inference profile id (us.…), or the ARN of either. Claude Haiku 4.5
# takes batch jobs only through a cross-Region inference profile (AWS, "Supported Regions and
# models for batch inference"); `bedbatch-doctor check` says which form a model needs.
model_id = "us.anthropic.claude-haiku-4-5-20251001-v1:0"

# Where the JSONL input lives: a folder (prefix) or one .jsonl object.
input_uri = "s3://my-batch-in/jobs/in/"

# Where Bedrock writes results: <output_uri>/<job id>/<input>.jsonl.out and manifest.json.out.
output_uri = "s3://my-batch-out/jobs/out/"

# The service role Bedrock assumes to read the input and write the output.
role_name = "BedrockBatchRole"
# role_path = "/service-role/"      # default "/"

# The KMS key (id or ARN) that encrypts the buckets, if they use SSE-KMS.
# kms_key_id = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"

# Who submits jobs and so needs iam:PassRole (default: whoever runs the tool).
# caller_arn = "arn:aws:iam::123456789012:user/analyst"

# Tags put on what the tool creates.
# [tags]
# team = "ml"
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn s3_location_forms() {
        let l = S3Location::parse("s3://my-batch-in/jobs/in/").unwrap();
        assert_eq!(l.folder(), "jobs/in/");
        assert_eq!(l.object_pattern(), "jobs/in/*");
        assert_eq!(l.list_prefix_pattern().as_deref(), Some("jobs/in/*"));
        let l = S3Location::parse("s3://my-batch-in/jobs/in").unwrap();
        assert_eq!(l.folder(), "jobs/in/");
        let l = S3Location::parse("s3://my-batch-in/jobs/in/a.jsonl").unwrap();
        assert!(l.is_object);
        assert_eq!(l.folder(), "jobs/in/");
        assert_eq!(l.object_pattern(), "jobs/in/a.jsonl");
        let l = S3Location::parse("s3://my-batch-in").unwrap();
        assert_eq!(l.list_prefix_pattern(), None);
        assert_eq!(l.object_pattern(), "*");
        assert!(S3Location::parse("s3://My-Bucket/x").unwrap_err().contains("lowercase"));
        assert!(S3Location::parse("s3://bucket/has space/x").unwrap_err().contains("' '"));
        assert!(S3Location::parse("https://bucket/x").is_err());
    }

    #[test]
    fn model_forms() {
        assert_eq!(ModelRef::parse("anthropic.claude-3-haiku-20240307-v1:0").unwrap().kind, ModelKind::FoundationModel);
        let p = ModelRef::parse("us.anthropic.claude-sonnet-4-20250514-v1:0").unwrap();
        assert_eq!(p.kind, ModelKind::InferenceProfile);
        assert_eq!(p.foundation_model_id.as_deref(), Some("anthropic.claude-sonnet-4-20250514-v1:0"));
        assert_eq!(ModelRef::parse("arn:aws:bedrock:us-east-1::foundation-model/amazon.nova-lite-v1:0").unwrap().kind, ModelKind::FoundationModelArn);
        assert!(ModelRef::parse("claude").is_err());
        assert!(ModelRef::parse("arn:aws:bedrock:us-east-1:123456789012:foundation-model/x.y").is_err());
    }

    #[test]
    fn principal_forms() {
        let p = PrincipalArn::parse("arn:aws:iam::123456789012:role/service-role/Batch").unwrap();
        assert_eq!((p.kind, p.name.as_str(), p.path.as_str()), (PrincipalKind::Role, "Batch", "/service-role/"));
        let p = PrincipalArn::parse("arn:aws:sts::123456789012:assumed-role/AWSReservedSSO_Admin_abc/jane").unwrap();
        assert_eq!(p.kind, PrincipalKind::AssumedRole);
        assert!(PrincipalArn::parse("arn:aws:iam::12345:user/x").is_err());
    }

    /// `init`'s starter parses, and names a current model in the form batch takes it in the
    /// starter's region, as the dated catalogue lists it (a profile for a profile-only model).
    #[test]
    fn starter_names_a_model_batch_takes_as_written() {
        let file = parse_file(STARTER, Path::new("bedbatch.toml")).expect("the starter parses");
        let region = file.region.clone().expect("the starter names a region");
        let m = ModelRef::parse(file.model_id.as_deref().expect("the starter names a model")).unwrap();
        let fm = m.foundation_model_id.clone().unwrap();
        let entry = crate::catalogue::model(&fm).unwrap_or_else(|| panic!("{fm} is in the dated catalogue"));
        let via_profile = m.kind == ModelKind::InferenceProfile;
        assert_eq!(entry.claims_batch(via_profile, &region), Some(true), "{} in {region}", m.raw);
        assert_eq!(via_profile, entry.profile_only(), "a profile exactly when batch needs one");
        assert!(!fm.contains("2024"), "{fm}: a current model, not one from 2024");
    }

    #[test]
    fn edit_distance_suggests() {
        assert_eq!(edit_distance("us-east-1", "us-esat-1"), 2);
    }
}
