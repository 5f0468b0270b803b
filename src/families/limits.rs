//! The limits a file is checked against: AWS's batch quotas, and what the model allows of a
//! record (set per model in `families::ModelProfile`).

use serde::Serialize;

/// The limits a file is checked against.
#[derive(Debug, Clone, Serialize)]
pub struct Limits {
    pub min_records: u64,
    pub max_records_per_file: u64,
    pub max_records_per_job: u64,
    pub max_file_bytes: u64,
    pub max_job_bytes: u64,
    /// The model's ceiling for max_tokens (None: unknown).
    pub max_output_tokens: Option<u64>,
    pub forbids_temperature_with_top_p: bool,
}

impl Default for Limits {
    /// AWS's default batch quotas.
    fn default() -> Limits {
        Limits {
            min_records: 100,
            max_records_per_file: 50_000,
            max_records_per_job: 50_000,
            max_file_bytes: 1 << 30,
            max_job_bytes: 5 << 30,
            max_output_tokens: None,
            forbids_temperature_with_top_p: false,
        }
    }
}
