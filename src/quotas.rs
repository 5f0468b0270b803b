//! Bedrock's batch quotas, read from Service Quotas and matched to a model by AWS's naming.
//!
//! AWS names each batch quota "<what> for <model name>" (service code `bedrock`), with the
//! model's name as GetFoundationModel's `modelName` gives it ("… for Claude 3.5 Sonnet",
//! "… for Claude 3.5 Sonnet v2"). A quota belongs to a model only when its name ends with
//! exactly " for <model name>" — or, for the size quotas AWS names with the unit last ("Batch
//! inference input file size for Qwen3 32B (in GB)"; most models have "… (in GB) for X"),
//! exactly " for <model name> (in GB)": a substring match would give Claude 3.5 Sonnet the v2
//! model's quotas. `ListServiceQuotas` lists only quotas with an applied value in the account (AWS,
//! Service Quotas API: "ListServiceQuotas … Lists the applied quota values"; quotas never
//! raised may be absent), so the defaults from `ListAWSDefaultServiceQuotas` fill the gaps.

use crate::snapshot::QuotaValue;
use crate::validate::Limits;

pub use crate::snapshot::QuotaSource;

/// The batch quotas bedbatch-doctor uses, by the start of AWS's quota name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QuotaKind {
    MinRecords,
    RecordsPerFile,
    RecordsPerJob,
    FileSizeGb,
    JobSizeGb,
    /// Sum of in-progress and submitted batch inference jobs using a base model.
    ConcurrentJobs,
}

impl QuotaKind {
    const PREFIXES: &'static [(&'static str, QuotaKind)] = &[
        ("minimum number of records per batch inference job", QuotaKind::MinRecords),
        ("records per input file per batch inference job", QuotaKind::RecordsPerFile),
        ("records per batch inference job", QuotaKind::RecordsPerJob),
        ("batch inference input file size", QuotaKind::FileSizeGb),
        ("batch inference job size", QuotaKind::JobSizeGb),
        ("sum of in-progress and submitted batch inference jobs using a base model", QuotaKind::ConcurrentJobs),
    ];

    /// The kind of a quota, from its name (None for other quotas, e.g. the custom-model ones).
    pub fn of(name: &str) -> Option<QuotaKind> {
        let n = name.to_ascii_lowercase();
        QuotaKind::PREFIXES.iter().find(|(p, _)| n.starts_with(p)).map(|(_, k)| *k)
    }
}

/// The unit AWS puts in the size quotas' names, before or after the model's name.
const UNIT: &str = " (in GB)";

/// The quota is one of `model_name`'s: its name is exactly "<what> for <model_name>", or, in
/// the word order AWS uses for some models' size quotas (Qwen, DeepSeek v3, Titan Text
/// Embeddings V2: "Batch inference input file size for X (in GB)", BATCH-FACTS §3), exactly
/// "<what> for <model_name> (in GB)". The other order, "Batch inference input file size (in
/// GB) for X", is the first form.
pub fn belongs_to(quota_name: &str, model_name: &str) -> bool {
    let ends_with_model = |name: &str| name.strip_suffix(model_name).is_some_and(|head| head.ends_with(" for "));
    let sized = matches!(QuotaKind::of(quota_name), Some(QuotaKind::FileSizeGb | QuotaKind::JobSizeGb));
    ends_with_model(quota_name) || (sized && quota_name.strip_suffix(UNIT).is_some_and(ends_with_model))
}

/// A batch quota (its name mentions batch inference).
pub fn is_batch(name: &str) -> bool {
    name.to_ascii_lowercase().contains("batch inference")
}

/// The quotas of one model, by exact name suffix.
pub fn for_model(quotas: &[QuotaValue], model_name: &str) -> Vec<QuotaValue> {
    quotas.iter().filter(|q| belongs_to(&q.name, model_name)).cloned().collect()
}

/// One kind of quota among a model's quotas.
pub fn find(quotas: &[QuotaValue], kind: QuotaKind) -> Option<&QuotaValue> {
    quotas.iter().find(|q| QuotaKind::of(&q.name) == Some(kind))
}

/// `base` with the model's quota values in place of AWS's documented defaults.
pub fn limits(quotas: &[QuotaValue], base: Limits) -> Limits {
    let mut l = base;
    let gib = |v: f64| (v * (1u64 << 30) as f64) as u64;
    for q in quotas {
        match QuotaKind::of(&q.name) {
            Some(QuotaKind::MinRecords) => l.min_records = q.value as u64,
            Some(QuotaKind::RecordsPerFile) => l.max_records_per_file = q.value as u64,
            Some(QuotaKind::RecordsPerJob) => l.max_records_per_job = q.value as u64,
            Some(QuotaKind::FileSizeGb) => l.max_file_bytes = gib(q.value),
            Some(QuotaKind::JobSizeGb) => l.max_job_bytes = gib(q.value),
            Some(QuotaKind::ConcurrentJobs) | None => {}
        }
    }
    l
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_match_by_exact_suffix() {
        let v1 = "Records per batch inference job for Claude 3.5 Sonnet";
        let v2 = "Records per batch inference job for Claude 3.5 Sonnet v2";
        assert!(belongs_to(v1, "Claude 3.5 Sonnet"));
        assert!(!belongs_to(v2, "Claude 3.5 Sonnet"));
        assert!(belongs_to(v2, "Claude 3.5 Sonnet v2"));
        assert!(!belongs_to("Records per batch inference job for XClaude 3.5 Sonnet", "Claude 3.5 Sonnet"));
    }

    /// "Batch inference input file size (in GB) for X": the unit before the model's name, as
    /// AWS names most models' size quotas.
    #[test]
    fn size_quota_with_the_unit_before_the_model() {
        for name in ["Batch inference input file size (in GB) for Claude 3 Haiku", "Batch inference job size (in GB) for Claude 3 Haiku"] {
            assert!(belongs_to(name, "Claude 3 Haiku"), "{name}");
            assert!(!belongs_to(name, "Claude 3"), "{name}");
            assert!(!belongs_to(name, "Haiku"), "{name}");
        }
        assert_eq!(QuotaKind::of("Batch inference input file size (in GB) for Claude 3 Haiku"), Some(QuotaKind::FileSizeGb));
        assert_eq!(QuotaKind::of("Batch inference job size (in GB) for Claude 3 Haiku"), Some(QuotaKind::JobSizeGb));
    }

    /// "Batch inference input file size for X (in GB)": the unit after the model's name, as AWS
    /// names the size quotas of Qwen, DeepSeek v3 and Titan Text Embeddings V2 — matched as
    /// exactly as the other order.
    #[test]
    fn size_quota_with_the_unit_after_the_model() {
        let file = "Batch inference input file size for Qwen3 32B (in GB)";
        let job = "Batch inference job size for Titan Text Embeddings V2 (in GB)";
        assert!(belongs_to(file, "Qwen3 32B"));
        assert!(belongs_to(job, "Titan Text Embeddings V2"));
        assert_eq!(QuotaKind::of(file), Some(QuotaKind::FileSizeGb));
        assert_eq!(QuotaKind::of(job), Some(QuotaKind::JobSizeGb));
        // Exact: not a model whose name the other's ends with, nor the unit as part of the name.
        assert!(!belongs_to(file, "32B"));
        assert!(!belongs_to("Records per batch inference job for Qwen3 32B (in GB)", "Qwen3 32B"), "only the size quotas carry the unit");
        assert!(!belongs_to("Batch inference input file size for Qwen3 Coder 32B (in GB)", "Qwen3 32B"));
        assert!(!belongs_to(job, "Titan Text Embeddings"));
        assert!(!belongs_to("Batch inference job size for Titan Text Embeddings V2 (in MB)", "Titan Text Embeddings V2"));
        assert!(!belongs_to("Batch inference job size for Titan Text Embeddings V2 (in GB) ", "Titan Text Embeddings V2"));
        // Both orders give the same limits.
        let q = |name: &str, value: f64| QuotaValue { code: "L-1".into(), name: name.into(), value, source: QuotaSource::Default };
        let quotas = [q(file, 2.0), q("Batch inference job size (in GB) for Qwen3 32B", 10.0)];
        let mine = for_model(&quotas, "Qwen3 32B");
        assert_eq!(mine.len(), 2);
        let l = limits(&mine, Limits::default());
        assert_eq!((l.max_file_bytes, l.max_job_bytes), (2 << 30, 10 << 30));
    }

    #[test]
    fn kinds_by_prefix_and_custom_models_are_not_base_models() {
        assert_eq!(QuotaKind::of("Records per input file per batch inference job for X"), Some(QuotaKind::RecordsPerFile));
        assert_eq!(QuotaKind::of("Records per batch inference job for X"), Some(QuotaKind::RecordsPerJob));
        assert_eq!(QuotaKind::of("Sum of in-progress and submitted batch inference jobs using a base model for X"), Some(QuotaKind::ConcurrentJobs));
        assert_eq!(QuotaKind::of("Sum of in-progress and submitted batch inference jobs using a custom model for X"), None);
    }
}
