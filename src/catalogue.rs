//! The dated model catalogue in `policies/models.json`: AWS's table "Supported Regions and
//! models for batch inference" (both columns: by foundation-model id, and through an inference
//! profile), with the family of each model's `modelInput` and its output-token ceiling.
//!
//! It is the fallback, never the first source: the account answers what it can
//! (GetFoundationModel, GetInferenceProfile, the model's batch quotas in Service Quotas), and a
//! finding that rests on the catalogue says so, with its `as_of` date.

use std::sync::OnceLock;

use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
pub struct CatalogueModel {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub provider: String,
    pub family: String,
    /// Regions where batch inference accepts the bare foundation-model id.
    pub foundation_model_regions: Vec<String>,
    /// Source Regions where batch inference accepts the model through a cross-Region profile.
    pub profile_regions: Vec<String>,
    /// The model's ceiling for max_tokens / maxTokens / max_gen_len.
    #[serde(default)]
    pub max_output_tokens: Option<u64>,
    /// The model rejects requests that set both temperature and top_p.
    #[serde(default)]
    pub forbids_temperature_with_top_p: bool,
    /// The row was compared with AWS's page on `as_of`.
    #[serde(default)]
    pub verified: bool,
}

impl CatalogueModel {
    /// Reachable only through an inference profile (no foundation-model Region).
    pub fn profile_only(&self) -> bool {
        self.foundation_model_regions.is_empty()
    }

    /// The Regions where batch accepts the model the way it is addressed.
    pub fn batch_regions(&self, via_profile: bool) -> &[String] {
        if via_profile {
            &self.profile_regions
        } else {
            &self.foundation_model_regions
        }
    }
}

#[derive(Debug, Deserialize)]
struct File {
    source: String,
    as_of: String,
    models: Vec<CatalogueModel>,
}

/// `--version`: the crate version and the catalogue's date (a unit test keeps the date equal
/// to the file's `as_of`).
pub const VERSION_LINE: &str = concat!(env!("CARGO_PKG_VERSION"), " (model catalogue as of 2026-11-25)");

const EMBEDDED: &str = include_str!("../policies/models.json");

fn file() -> &'static File {
    static CELL: OnceLock<File> = OnceLock::new();
    CELL.get_or_init(|| serde_json::from_str::<File>(EMBEDDED).expect("the embedded catalogue parses (a unit test checks it)"))
}

pub fn models() -> &'static [CatalogueModel] {
    &file().models
}

pub fn model(id: &str) -> Option<&'static CatalogueModel> {
    models().iter().find(|m| m.id == id)
}

/// The date the catalogue was last compared with AWS's page.
pub fn as_of() -> &'static str {
    &file().as_of
}

/// The AWS page the catalogue follows.
pub fn source() -> &'static str {
    &file().source
}

#[cfg(test)]
mod tests {
    #[test]
    fn catalogue_parses_and_is_dated() {
        assert!(super::model("anthropic.claude-3-haiku-20240307-v1:0").is_some());
        assert!(super::model("anthropic.claude-haiku-4-5-20251001-v1:0").is_some_and(|m| m.profile_only()));
        assert_eq!(super::as_of().len(), 10);
        assert!(super::VERSION_LINE.contains(super::as_of()), "VERSION_LINE names the catalogue's as_of");
        assert!(super::source().starts_with("https://docs.aws.amazon.com/"));
        let mut ids: Vec<_> = super::models().iter().map(|m| &m.id).collect();
        ids.sort();
        let n = ids.len();
        ids.dedup();
        assert_eq!(ids.len(), n, "model ids are unique");
    }
}
