//! The offline IAM policy engine: documents (`document`), condition operators (`conditions`),
//! pattern matching (`matching`), the request context (`context`) and the evaluation in AWS's
//! order (`evaluate`). This file only declares the children and re-exports what callers use;
//! the children import each other, never this file.

pub mod conditions;
pub mod context;
pub mod document;
pub mod evaluate;
pub mod matching;
pub mod selfcheck;

pub use conditions::Condition;
pub use context::Context;
pub use document::{decode_document, service_hash, Compiled, Effect, Kind, Policy, PolicyError, Principal, Statement};
pub use evaluate::{
    decide, evaluate, Decider, Decision, Evaluation, NamedPolicy, OrgLevel, OrgLevelKind, PolicySet, PrincipalId, Request, ResourcePolicyKind,
};
