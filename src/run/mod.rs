//! `run`: a whole dataset as batch jobs, from the command line, with nothing to deploy.
//!
//! `run start INPUT` validates every record and checks the account, shards the input within the
//! model's batch quotas ([`shard`]), uploads the shards under `<input folder><run id>/`, and
//! submits one job per shard, keeping the account's concurrency quota full as jobs end. The run
//! manifest ([`manifest`]) is written locally and under `<output folder><run id>/` after every
//! change, so `run resume` continues from either copy. `run status`, `run collect`, `run retry`,
//! `run cancel` and `run list` read it.
//!
//! AWS rules used here, with their pages:
//! - a job's input is `.jsonl` files of `{"recordId", "modelInput"}` lines, and its output is
//!   `<output>/<job id>/<input file>.out` plus `manifest.json.out` with the record and token
//!   counts ("Format and upload your batch inference data"; "View the results of a batch
//!   inference job");
//! - the per-model quotas "Records per batch inference job", "Records per input file per batch
//!   inference job", "Batch inference input file size", "Batch inference job size", "Minimum
//!   number of records per batch inference job" and "Sum of in-progress and submitted batch
//!   inference jobs using a base model" (Service Quotas, service code `bedrock`); a create over
//!   the last one is refused with ServiceQuotaExceededException (CreateModelInvocationJob, Errors);
//! - `clientRequestToken`: "A unique, case-sensitive identifier to ensure that the API request
//!   completes no more than one time. If this token matches a previous request, Amazon Bedrock
//!   ignores the request, but does not return an error" (CreateModelInvocationJob, Request
//!   syntax). Each shard has its own token, reused by every create of that shard.

mod ctx;
mod drive;
pub mod fastfill;
pub mod jobs;
pub mod join;
mod launch;
pub mod manifest;
pub mod prepare;
pub mod report;
pub mod results;
pub mod schema;
pub mod shard;
pub mod source;

pub use ctx::Ctx;
pub(crate) use drive::{concurrency_quota, drive_run, finish_upload};
pub(crate) use jobs::{refresh, refresh_active};
pub(crate) use launch::{launch, StartOptions};

pub(crate) use crate::prices::load as prices;
