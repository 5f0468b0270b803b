//! bedbatch-doctor: set up and diagnose Amazon Bedrock batch inference.
//!
//! The binary is a thin shell over this library: `cli` parses, `app` runs a command, and the
//! modules below do the work. I/O stays at the edges (`aws`); rendering and policy parsing are
//! pure functions over values.

pub mod apply;
pub mod aws;
pub mod builder;
pub mod canary;
pub mod catalogue;
pub mod checks;
pub mod cli;
mod cli_parse;
pub mod collect;
pub mod commands;
pub mod confirm;
pub mod desired;
pub mod error;
pub mod families;
pub mod findings;
pub mod iac;
pub(crate) mod interrupt;
pub mod jsonl;
pub mod output;
pub mod plan;
pub mod policy;
pub mod prices;
pub mod quotas;
pub mod registry;
pub mod render;
pub mod report;
pub mod run;
pub mod session;
pub mod settings;
pub mod snapshot;
pub mod table;
pub mod validate;
