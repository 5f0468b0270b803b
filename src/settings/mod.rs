//! Settings: `bedbatch.toml`, overridden by flags of the same name, validated against the rules
//! AWS itself applies (Bedrock's S3Uri pattern, IAM's role name and path rules, known regions,
//! the forms a Bedrock model id takes). A bad setting is one error naming the key, the value and
//! the rule.
//!
//! Two layers, as ripgrep's `flags/lowargs.rs` and `hiargs.rs`: `low` holds what the user typed
//! (file and flags, merged key by key, each value checked on its own); [`Settings`] is resolved
//! from it once, with the environment's region fallback ([`regions::fallback_region`]). One file
//! per kind of value: regions, S3 locations, model references, KMS keys, principals, IAM names.

pub mod iam_names;
pub mod kms_key;
pub mod low;
pub mod model_ref;
mod pattern;
pub mod principal;
pub mod regions;
pub mod s3_location;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub use iam_names::{validate_role_name, validate_role_path};
pub use kms_key::KmsKey;
pub use low::{parse_file, read_file, FileSettings, LowSettings, Overrides, Source};
pub use model_ref::{ModelKind, ModelRef, PROFILE_PREFIXES};
pub use principal::{PrincipalArn, PrincipalKind};
pub use regions::{fallback_region, partition_of, KNOWN_REGIONS};
pub use s3_location::{S3Location, BEDROCK_S3_URI_PATTERN};

use crate::error::{Error, Result};
use low::bad;

/// The commented starter file `bedbatch-doctor init` writes.
pub const STARTER: &str = include_str!("starter.toml");

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
    let (file, path) = low::find_file(config)?;
    resolve(file, path, overrides, aws_region)
}

/// A checked value without its source, or its error.
fn value<T>(c: Option<low::Checked<T>>) -> Result<Option<T>> {
    Ok(c.transpose()?.map(|(v, _)| v))
}

/// Merges file, flags and the AWS region fallback, then validates each present value.
pub fn resolve(file: FileSettings, path: Option<PathBuf>, o: &Overrides, aws_region: Option<(String, Source)>) -> Result<Settings> {
    Settings::from_low(LowSettings::new(file, path, o), aws_region)
}

impl Settings {
    /// The high layer: the typed values resolved once with the environment (the region AWS's
    /// configuration falls back on when none was typed). The first bad value, in the order of
    /// the keys below, is the error.
    pub fn from_low(low: LowSettings, aws_region: Option<(String, Source)>) -> Result<Settings> {
        let region = match low.region.or(aws_region) {
            Some((v, src)) => Some(regions::check_region(&v).map_err(|rule| bad(&src, "region", &v, &rule))?),
            None => None,
        };
        let model = low.model.transpose()?;
        if let (Some((m, src)), Some(r)) = (&model, &region) {
            if let Some(arn_region) = m.arn_region() {
                if arn_region != r {
                    return Err(bad(
                        src,
                        "model_id",
                        &m.raw,
                        &format!("the ARN names region {arn_region} but the job runs in region {r}; a batch job uses a model in its own region"),
                    ));
                }
            }
        }
        Ok(Settings {
            region,
            model: model.map(|(m, _)| m),
            input: value(low.input)?,
            output: value(low.output)?,
            role_name: value(low.role_name)?,
            role_path: value(low.role_path)?.unwrap_or_else(|| "/".to_string()),
            kms_key: value(low.kms_key)?,
            caller_arn: value(low.caller_arn)?,
            tags: low.tags?,
            file: low.file,
        })
    }
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
