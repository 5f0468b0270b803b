//! The low layer: what the user typed. The settings file (`bedbatch.toml`) and the flags of the
//! same names, merged key by key (a flag wins over the file), each value tagged with where it
//! came from and checked on its own against the rule AWS applies to it. Nothing here reads the
//! environment: that is the high layer's one step (`Settings::from_low`), as in ripgrep's
//! `flags/lowargs.rs` ("populating low level arguments should not require anything other than
//! validating what the user has provided").

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::iam_names::{validate_role_name, validate_role_path, validate_tags};
use super::kms_key::KmsKey;
use super::model_ref::ModelRef;
use super::principal::PrincipalArn;
use super::s3_location::S3Location;
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

/// One bad value: the key, where the value came from, the value and the rule it breaks.
pub(super) fn bad(src: &Source, key: &str, value: &str, rule: &str) -> Error {
    Error::Config(format!("invalid setting {}: {value:?}: {rule}", src.describe(key)))
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

/// The file `--config` names (which must exist), else `./bedbatch.toml` when it exists, else
/// no file.
pub fn find_file(config: Option<&Path>) -> Result<(FileSettings, Option<PathBuf>)> {
    match config {
        Some(p) => {
            if !p.exists() {
                return Err(Error::Config(format!("config file {} does not exist (given with --config)", p.display())));
            }
            Ok((read_file(p)?, Some(p.to_path_buf())))
        }
        None => {
            let p = PathBuf::from("bedbatch.toml");
            if p.exists() {
                Ok((read_file(&p)?, Some(p)))
            } else {
                Ok((FileSettings::default(), None))
            }
        }
    }
}

/// A typed value with where it came from, or the error naming the key, the value and the rule.
pub type Checked<T> = Result<(T, Source)>;

/// What the user typed, each key checked on its own. The region stays as typed: the
/// environment may supply it instead, and the high layer checks whichever holds.
#[derive(Debug)]
pub struct LowSettings {
    pub region: Option<(String, Source)>,
    pub model: Option<Checked<ModelRef>>,
    pub input: Option<Checked<S3Location>>,
    pub output: Option<Checked<S3Location>>,
    pub role_name: Option<Checked<String>>,
    pub role_path: Option<Checked<String>>,
    pub kms_key: Option<Checked<KmsKey>>,
    pub caller_arn: Option<Checked<PrincipalArn>>,
    pub tags: Result<BTreeMap<String, String>>,
    /// The file the settings were read from, if any.
    pub file: Option<PathBuf>,
}

fn check<T>(picked: Option<(String, Source)>, key: &str, parse: impl Fn(&str) -> std::result::Result<T, String>) -> Option<Checked<T>> {
    picked.map(|(v, src)| match parse(&v) {
        Ok(t) => Ok((t, src)),
        Err(rule) => Err(bad(&src, key, &v, &rule)),
    })
}

fn output_folder(v: &str) -> std::result::Result<S3Location, String> {
    let loc = S3Location::parse(v)?;
    if loc.is_object {
        return Err("must be a folder (prefix), not a .jsonl object: Bedrock writes <output_uri>/<job id>/…".into());
    }
    Ok(loc)
}

impl LowSettings {
    /// Merges the file and the flags key by key, and checks each value present.
    pub fn new(file: FileSettings, path: Option<PathBuf>, o: &Overrides) -> LowSettings {
        let file_src = Source::File(path.clone().unwrap_or_else(|| PathBuf::from("bedbatch.toml")));
        let pick = |flag: &Option<String>, file: &Option<String>| -> Option<(String, Source)> {
            flag.clone().map(|v| (v, Source::Flag)).or_else(|| file.clone().map(|v| (v, file_src.clone())))
        };
        let tags = file.tags.clone().unwrap_or_default();
        let tags = match validate_tags(&tags) {
            Ok(()) => Ok(tags),
            Err((k, v, rule)) => Err(bad(&file_src, &format!("tags.{k}"), &v, &rule)),
        };
        LowSettings {
            region: pick(&o.region, &file.region),
            model: check(pick(&o.model_id, &file.model_id), "model_id", ModelRef::parse),
            input: check(pick(&o.input_uri, &file.input_uri), "input_uri", S3Location::parse),
            output: check(pick(&o.output_uri, &file.output_uri), "output_uri", output_folder),
            role_name: check(pick(&o.role_name, &file.role_name), "role_name", validate_role_name),
            role_path: check(pick(&o.role_path, &file.role_path), "role_path", validate_role_path),
            kms_key: check(pick(&o.kms_key_id, &file.kms_key_id), "kms_key_id", KmsKey::parse),
            caller_arn: check(pick(&o.caller_arn, &file.caller_arn), "caller_arn", PrincipalArn::parse),
            tags,
            file: path,
        }
    }
}
