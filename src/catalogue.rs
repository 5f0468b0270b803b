//! The model catalogue in `policies/models.json`: which model ids batch inference accepts, in
//! which regions, and whether they need an inference profile. AWS's APIs do not say (batch
//! support is in the user guide's table), so this is dated data embedded in the binary.

use std::sync::OnceLock;

use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
pub struct CatalogueModel {
    pub id: String,
    pub name: String,
    pub family: String,
    /// Regions where batch inference accepts the model.
    pub batch: Vec<String>,
    /// Reachable only through an inference profile.
    pub profile_only: bool,
    /// The model's ceiling for max_tokens / maxTokens / max_gen_len.
    #[serde(default)]
    pub max_output_tokens: Option<u64>,
    /// The model rejects requests that set both temperature and top_p.
    #[serde(default)]
    pub forbids_temperature_with_top_p: bool,
}

#[derive(Debug, Deserialize)]
struct File {
    models: Vec<CatalogueModel>,
}

const EMBEDDED: &str = include_str!("../policies/models.json");

pub fn models() -> &'static [CatalogueModel] {
    static CELL: OnceLock<Vec<CatalogueModel>> = OnceLock::new();
    CELL.get_or_init(|| serde_json::from_str::<File>(EMBEDDED).expect("the embedded catalogue parses (a unit test checks it)").models)
}

pub fn model(id: &str) -> Option<&'static CatalogueModel> {
    models().iter().find(|m| m.id == id)
}

#[cfg(test)]
mod tests {
    #[test]
    fn catalogue_parses() {
        assert!(super::model("anthropic.claude-3-haiku-20240307-v1:0").is_some());
    }
}
