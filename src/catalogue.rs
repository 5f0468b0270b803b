//! The dated model catalogue in `policies/models.json`: AWS's table "Supported Regions and
//! models for batch inference" (both columns: by foundation-model id, and through an inference
//! profile), with the family of each model's `modelInput` and its output-token ceiling where an
//! AWS page states one. Each row names its source ([`RowSource`]): AWS's page read verbatim, a
//! third party's parse of that page, or AWS's models-features matrix (Yes/No, no Regions).
//!
//! It is the fallback, never the first source: the account answers what it can
//! (GetFoundationModel, GetInferenceProfile, the model's batch quotas in Service Quotas), and a
//! finding that rests on the catalogue says so, with its `as_of` date and the row's source.

use std::sync::OnceLock;

use serde::Deserialize;

/// Where a catalogue row's batch data comes from (`source` in `policies/models.json`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum RowSource {
    /// AWS's "Supported Regions and models for batch inference" table, the row read verbatim.
    #[serde(rename = "aws-page")]
    AwsPage,
    /// A third party's parse of that AWS page (JoakimCarlsson/model-sync, 2026-08-19).
    #[serde(rename = "aws-page-parsed-2026-08-19")]
    AwsPageParsed20260819,
    /// AWS's models-features matrix, "Batch inference" column (copy fetched 2026-01-25): Yes or
    /// No per model, single-Region and cross-Region, with no Regions.
    #[serde(rename = "aws-features-matrix-2026-01-25")]
    AwsFeaturesMatrix20260125,
}

impl RowSource {
    pub const ALL: [RowSource; 3] = [RowSource::AwsPage, RowSource::AwsPageParsed20260819, RowSource::AwsFeaturesMatrix20260125];

    /// The tag as the file spells it.
    pub fn tag(self) -> &'static str {
        match self {
            RowSource::AwsPage => "aws-page",
            RowSource::AwsPageParsed20260819 => "aws-page-parsed-2026-08-19",
            RowSource::AwsFeaturesMatrix20260125 => "aws-features-matrix-2026-01-25",
        }
    }

    /// The source in words, for evidence.
    pub fn describe(self) -> &'static str {
        match self {
            RowSource::AwsPage => "AWS's batch table, row read verbatim",
            RowSource::AwsPageParsed20260819 => "a third party's parse of AWS's batch table, 2026-08-19",
            RowSource::AwsFeaturesMatrix20260125 => "AWS's models-features matrix of 2026-01-25, which names no Regions",
        }
    }

    /// The row rests on a third party's reading of AWS's page.
    pub fn third_party(self) -> bool {
        self == RowSource::AwsPageParsed20260819
    }
}

/// AWS's models-features matrix, its "Batch inference" column for the model: the single-Region
/// table's verdict (by model id) and the cross-Region (CRIS) table's (through a profile).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub struct FeaturesMatrix {
    pub single_region: bool,
    pub cross_region: bool,
}

#[derive(Debug, Clone, Deserialize)]
pub struct CatalogueModel {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub provider: String,
    pub family: String,
    /// Where the row's batch data comes from.
    pub source: RowSource,
    /// Regions where batch inference accepts the bare foundation-model id.
    pub foundation_model_regions: Vec<String>,
    /// Source Regions where batch inference accepts the model through a cross-Region profile.
    pub profile_regions: Vec<String>,
    /// The model's ceiling for max_tokens / maxTokens / max_gen_len, where an AWS page states it.
    #[serde(default)]
    pub max_output_tokens: Option<u64>,
    /// The model rejects requests that set both temperature and top_p.
    #[serde(default)]
    pub forbids_temperature_with_top_p: bool,
    /// The features matrix's batch verdicts, where it lists the model. For a row whose source
    /// is the matrix, the only batch data there is.
    #[serde(default)]
    pub features_matrix: Option<FeaturesMatrix>,
    /// Where the sources disagree, or why the row is as it is.
    #[serde(default)]
    pub note: Option<String>,
}

impl CatalogueModel {
    /// Batch accepts the model addressed this way in some Region, as far as the row says (its
    /// Regions, or the features matrix's Yes on a matrix row).
    pub fn batch_anywhere(&self, via_profile: bool) -> bool {
        !self.batch_regions(via_profile).is_empty() || self.matrix_says_yes_without_regions(via_profile)
    }

    /// Reachable in batch only through an inference profile: no way by model id, some through a
    /// profile.
    pub fn profile_only(&self) -> bool {
        !self.batch_anywhere(false) && self.batch_anywhere(true)
    }

    /// The Regions where batch accepts the model the way it is addressed (empty on a features-
    /// matrix row, which names none: see [`CatalogueModel::claims_batch`]).
    pub fn batch_regions(&self, via_profile: bool) -> &[String] {
        if via_profile {
            &self.profile_regions
        } else {
            &self.foundation_model_regions
        }
    }

    /// What the row says of batch for the model addressed this way in `region`: `Some(true)`
    /// listed there, `Some(false)` not (no Region listed, or the features matrix says No), and
    /// `None` when the row cannot tell (the features matrix says Yes but names no Region).
    pub fn claims_batch(&self, via_profile: bool, region: &str) -> Option<bool> {
        if self.batch_regions(via_profile).iter().any(|r| r == region) {
            Some(true)
        } else if self.matrix_says_yes_without_regions(via_profile) {
            None
        } else {
            Some(false)
        }
    }

    fn matrix_says_yes_without_regions(&self, via_profile: bool) -> bool {
        self.source == RowSource::AwsFeaturesMatrix20260125
            && self.features_matrix.is_some_and(|m| if via_profile { m.cross_region } else { m.single_region })
    }

    /// The row's provenance for evidence: "the dated catalogue (as of D; row source: TAG, WORDS)".
    pub fn provenance(&self) -> String {
        format!("the dated catalogue (as of {}; row source: {}, {})", as_of(), self.source.tag(), self.source.describe())
    }
}

#[derive(Debug, Deserialize)]
struct File {
    source: String,
    as_of: String,
    /// Each `RowSource` tag in words, for people reading the file.
    #[serde(default)]
    sources: std::collections::BTreeMap<String, String>,
    models: Vec<CatalogueModel>,
}

/// `--version`: the crate version and the catalogue's date (a unit test keeps the date equal
/// to the file's `as_of`).
pub const VERSION_LINE: &str = concat!(env!("CARGO_PKG_VERSION"), " (model catalogue as of 2026-12-02)");

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

/// The date the catalogue was last compared with its sources.
pub fn as_of() -> &'static str {
    &file().as_of
}

/// The AWS page the catalogue follows.
pub fn source() -> &'static str {
    &file().source
}

/// Where a row source's data comes from, in full (the file's `sources`: pages, repository and
/// dates).
pub fn source_reference(s: RowSource) -> Option<&'static str> {
    file().sources.get(s.tag()).map(String::as_str)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::families::Family;

    #[test]
    fn catalogue_parses_and_is_dated() {
        assert!(model("anthropic.claude-3-haiku-20240307-v1:0").is_some());
        assert!(model("anthropic.claude-haiku-4-5-20251001-v1:0").is_some_and(|m| m.profile_only()));
        assert_eq!(as_of().len(), 10);
        assert!(VERSION_LINE.contains(as_of()), "VERSION_LINE names the catalogue's as_of");
        assert!(source().starts_with("https://docs.aws.amazon.com/"));
        let mut ids: Vec<_> = models().iter().map(|m| &m.id).collect();
        ids.sort();
        let n = ids.len();
        ids.dedup();
        assert_eq!(ids.len(), n, "model ids are unique");
        let mut names: Vec<_> = models().iter().map(|m| &m.name).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), n, "model names are unique (Service Quotas names carry them)");
    }

    /// Every row names a known source (an unknown tag fails the parse), the file describes
    /// each source it uses, and a third party's parse is said to be one.
    #[test]
    fn every_row_has_a_known_source() {
        let tags: Vec<&str> = RowSource::ALL.iter().map(|s| s.tag()).collect();
        let described: Vec<&str> = file().sources.keys().map(String::as_str).collect();
        let mut sorted = tags.clone();
        sorted.sort();
        assert_eq!(described, sorted, "`sources` in models.json describes exactly the known tags");
        for m in models() {
            assert!(tags.contains(&m.source.tag()), "{}", m.id);
            assert!(m.provenance().contains(m.source.tag()), "{}", m.id);
        }
        for s in RowSource::ALL {
            let v: RowSource = serde_json::from_value(serde_json::json!(s.tag())).unwrap();
            assert_eq!(v, s);
        }
        assert!(source_reference(RowSource::AwsPageParsed20260819).is_some_and(|s| s.contains("THIRD PARTY")));
        assert!(RowSource::AwsPageParsed20260819.third_party() && !RowSource::AwsPage.third_party());
        assert!(serde_json::from_value::<RowSource>(serde_json::json!("aws-page-maybe")).is_err());
    }

    /// Regions belong to table rows only; a features-matrix row has none, and its verdicts
    /// decide what it claims.
    #[test]
    fn matrix_rows_name_no_regions_and_table_rows_do() {
        for m in models() {
            let listed = !m.foundation_model_regions.is_empty() || !m.profile_regions.is_empty();
            match m.source {
                RowSource::AwsFeaturesMatrix20260125 => {
                    assert!(!listed && m.features_matrix.is_some(), "{}: a matrix row names no Region and has the matrix's verdicts", m.id)
                }
                _ => assert!(listed, "{}: a table row lists the model somewhere", m.id),
            }
            for r in m.foundation_model_regions.iter().chain(&m.profile_regions) {
                let shaped = r.split('-').count() >= 3 && r.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
                assert!(shaped && r.ends_with(|c: char| c.is_ascii_digit()), "{}: {r}", m.id);
            }
            let mut fm = m.foundation_model_regions.clone();
            fm.dedup();
            assert_eq!(fm.len(), m.foundation_model_regions.len(), "{}", m.id);
        }
    }

    /// A Converse-family row claims nothing of an InvokeModel body: no output-token ceiling,
    /// no temperature/top_p rule, and the family refuses InvokeModel records. A provider whose
    /// InvokeModel body no AWS page documents is Converse.
    #[test]
    fn converse_rows_make_no_invoke_model_claim() {
        let converse: Vec<_> = models().iter().filter(|m| m.family == "converse").collect();
        assert!(converse.len() >= 20, "Qwen, Gemma, GLM, Kimi, MiniMax, Nemotron and others");
        for m in &converse {
            assert_eq!(Family::from_catalogue(&m.family), Family::Converse, "{}", m.id);
            assert!(m.max_output_tokens.is_none() && !m.forbids_temperature_with_top_p, "{}: an InvokeModel-body claim", m.id);
            let p = crate::families::ModelProfile::of(&m.id, &m.id);
            assert!(p.record_family(crate::families::Invocation::InvokeModel, &m.id).is_err(), "{}", m.id);
        }
        for prefix in ["qwen.", "google.gemma", "zai.", "moonshotai.", "moonshot.", "minimax.", "nvidia.nemotron"] {
            let rows: Vec<_> = models().iter().filter(|m| m.id.starts_with(prefix)).collect();
            assert!(!rows.is_empty(), "{prefix}");
            assert!(rows.iter().all(|m| m.family == "converse"), "{prefix}");
        }
        // Every family is one the tool knows, or `unknown` (a documented body without a family).
        for m in models() {
            let f = Family::from_catalogue(&m.family);
            assert!(f != Family::Unknown || m.family == "unknown", "{}: family {:?}", m.id, m.family);
        }
    }

    /// The ceilings the facts state: AWS's DeepSeek page (max_tokens 1–32,768); no other page in
    /// the facts states one.
    #[test]
    fn output_ceilings_only_where_an_aws_page_states_them() {
        let with: Vec<_> = models().iter().filter(|m| m.max_output_tokens.is_some()).map(|m| (m.id.as_str(), m.max_output_tokens)).collect();
        assert_eq!(with, vec![("deepseek.r1-v1:0", Some(32_768))]);
    }

    /// The features matrix's "No" with no table row saying yes: not claimed anywhere, so an
    /// offline `check` says model-no-batch. Its "Yes" without Regions leaves the Region open.
    #[test]
    fn matrix_no_is_no_batch_and_matrix_yes_is_open() {
        for id in ["deepseek.r1-v1:0", "cohere.embed-v4", "anthropic.claude-opus-4-1-20250805-v1:0", "writer.palmyra-x5-v1:0"] {
            let m = model(id).unwrap_or_else(|| panic!("{id}"));
            assert_eq!(m.source, RowSource::AwsFeaturesMatrix20260125, "{id}");
            for via in [false, true] {
                assert_eq!(m.claims_batch(via, "us-east-1"), Some(false), "{id}");
                assert!(!m.batch_anywhere(via), "{id}");
            }
            assert!(!m.profile_only(), "{id}: a model with no batch at all needs no profile for it");
        }
        let sonnet = model("anthropic.claude-3-5-sonnet-20240620-v1:0").unwrap();
        assert_eq!(sonnet.claims_batch(false, "us-east-1"), None);
        assert!(!sonnet.profile_only());
        let s37 = model("anthropic.claude-3-7-sonnet-20250219-v1:0").unwrap();
        assert_eq!((s37.claims_batch(false, "us-east-1"), s37.claims_batch(true, "us-east-1")), (Some(false), None));
        assert!(s37.profile_only());
        // A table row: its Regions decide, whatever the matrix said earlier.
        let haiku = model("anthropic.claude-3-haiku-20240307-v1:0").unwrap();
        assert_eq!((haiku.claims_batch(false, "us-east-1"), haiku.claims_batch(true, "us-east-1")), (Some(true), Some(false)));
        let l32 = model("meta.llama3-2-1b-instruct-v1:0").unwrap();
        assert_eq!(l32.claims_batch(false, "us-east-1"), Some(false), "the table (2026-08-19) lists no model-id Region");
        assert!(l32.profile_only());
    }

    /// Spot checks of rows against BATCH-FACTS §1 (verbatim AWS rows and the parse).
    #[test]
    fn rows_follow_the_facts() {
        let lite = model("amazon.nova-lite-v1:0").unwrap();
        assert_eq!(lite.source, RowSource::AwsPage);
        assert_eq!(lite.foundation_model_regions, ["us-east-1", "us-gov-west-1"]);
        assert_eq!(lite.profile_regions.len(), 14, "eu-central-1 is listed twice on AWS's page, kept once");
        let premier = model("amazon.nova-premier-v1:0").unwrap();
        assert!(premier.profile_only() && premier.profile_regions == ["us-east-1", "us-east-2", "us-west-2"]);
        let qwen = model("qwen.qwen3-32b-v1:0").unwrap();
        assert_eq!((qwen.source, qwen.family.as_str(), qwen.foundation_model_regions.len()), (RowSource::AwsPageParsed20260819, "converse", 13));
        let opus46 = model("anthropic.claude-opus-4-6-v1").unwrap();
        assert!(opus46.profile_only() && opus46.profile_regions.len() == 32);
        let sonnet46 = model("anthropic.claude-sonnet-4-6").unwrap();
        assert_eq!(sonnet46.foundation_model_regions, ["eu-west-2"]);
        assert_eq!(model("amazon.titan-embed-image-v1").unwrap().foundation_model_regions.len(), 11);
        for absent in ["amazon.titan-text-express-v1", "mistral.mistral-large-2407-v1:0", "cohere.embed-english-v3"] {
            assert!(model(absent).is_none(), "{absent}: no source lists it for batch");
        }
    }
}
