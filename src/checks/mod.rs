//! The checks: pure functions of a [`Snapshot`] and the [`Desired`] documents, returning check
//! lines and findings. No I/O here. Each family lives in its own folder: `mod.rs` with the
//! check, `diags.rs` with its `Code` enum and one constructor per finding.
//!
//! Every check line is a pass, a fail, or *unknown*: a check whose input could not be read
//! never passes. When a check that guards an error-level code is unknown and nothing failed,
//! the verdict is incomplete (exit 4).

pub mod bucket;
pub mod identity;
pub mod jobs;
pub mod kms;
pub mod messages;
pub mod model;
pub mod org;
pub mod passrole;
pub mod quotas;
pub mod role_invoke;
pub mod role_s3;
pub mod trust;

use serde::Serialize;

pub use crate::desired::{Desired, Sid};
use crate::error::ExitCode;
use crate::findings::{Code, Finding, Severity};
use crate::policy::{Kind, NamedPolicy, Policy};
use crate::snapshot::{NamedDocument, Snapshot};
pub use messages::codes_for_message;

/// The result of one check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Pass,
    Fail,
    /// The check could not run: a read it needs failed.
    Unknown,
}

/// One check, its result, and the codes it can report. Serialised with `passed` (true only for a
/// pass), derived from `status`, for report version 1 readers.
#[derive(Debug, Clone)]
pub struct CheckLine {
    pub family: &'static str,
    pub name: String,
    pub status: Status,
    /// The codes this check reports when it fails.
    pub codes: Vec<Code>,
    /// Why the check is unknown (the read that failed).
    pub reason: Option<String>,
}

impl Serialize for CheckLine {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("CheckLine", 6)?;
        st.serialize_field("family", self.family)?;
        st.serialize_field("name", &self.name)?;
        st.serialize_field("passed", &self.passed())?;
        st.serialize_field("status", &self.status)?;
        st.serialize_field("codes", &self.codes)?;
        if let Some(r) = &self.reason {
            st.serialize_field("reason", r)?;
        }
        st.end()
    }
}

impl CheckLine {
    pub fn passed(&self) -> bool {
        self.status == Status::Pass
    }

    /// The check guards at least one error-level code.
    pub fn guards_errors(&self) -> bool {
        self.codes.iter().any(|c| c.severity() == Severity::Error)
    }
}

#[derive(Debug, Default, Clone, Serialize)]
pub struct Outcome {
    pub checks: Vec<CheckLine>,
    pub findings: Vec<Finding>,
}

/// What the checks say of one code (for `explain`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CodeState {
    /// A finding with the code was reported.
    Present,
    /// The checks behind the code ran and did not report it.
    Absent,
    /// A check behind the code could not run.
    Unknown,
    /// No check behind the code ran (an earlier failure made it moot, or nothing checks it).
    NotChecked,
}

impl CodeState {
    /// One line for people.
    pub fn describe(self) -> &'static str {
        match self {
            CodeState::Present => "found",
            CodeState::Absent => "not present now",
            CodeState::Unknown => "unknown: a check behind it could not run (see `bedbatch-doctor check`)",
            CodeState::NotChecked => "not checked (an earlier failure made it moot)",
        }
    }
}

/// What the checks say of some codes (the ones a message points at): each code's state, in the
/// order the codes were given (callers give them in report order, `crate::registry`), and the
/// findings with those codes.
#[derive(Debug, Clone, Serialize)]
pub struct Related {
    pub states: CodeStates,
    pub findings: Vec<Finding>,
}

/// Codes with their states, in the order given; serialised as a map from code to state.
#[derive(Debug, Clone, Default)]
pub struct CodeStates(pub Vec<(Code, CodeState)>);

impl Serialize for CodeStates {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(self.0.iter().map(|(c, st)| (c, st)))
    }
}

impl Related {
    /// A line per code, then each finding with its evidence and fix.
    pub fn text(&self) -> String {
        let mut t = String::new();
        for (c, st) in &self.states.0 {
            t.push_str(&format!("  {c}: {}\n", st.describe()));
        }
        for f in &self.findings {
            t.push_str(&format!(
                "\n{}[{}]: {}\n  evidence: {}\n  fix: {}\n",
                f.severity.as_str(),
                f.code,
                f.title,
                f.evidence,
                f.fix.replace('\n', "\n    ")
            ));
        }
        t
    }
}

impl Outcome {
    /// The states of `codes` (each once, in the order given) and the findings among them.
    pub fn related(&self, codes: &[Code]) -> Related {
        let mut states: Vec<(Code, CodeState)> = Vec::new();
        for c in codes {
            if !states.iter().any(|(seen, _)| seen == c) {
                states.push((*c, self.state_of(*c)));
            }
        }
        Related { states: CodeStates(states), findings: self.all_findings().filter(|f| codes.contains(&f.code)).cloned().collect() }
    }

    /// Records a check that ran: it fails when any finding is above a note.
    pub(crate) fn check(&mut self, family: &'static str, name: impl Into<String>, codes: &[Code], findings: Vec<Finding>) {
        let passed = findings.iter().all(|f| f.severity == Severity::Note);
        let status = if passed { Status::Pass } else { Status::Fail };
        self.checks.push(CheckLine { family, name: name.into(), status, codes: codes.to_vec(), reason: None });
        self.findings.extend(findings);
    }

    /// Records a check that could not run, and why.
    pub(crate) fn unknown(&mut self, family: &'static str, name: impl Into<String>, codes: &[Code], reason: impl Into<String>) {
        self.checks.push(CheckLine { family, name: name.into(), status: Status::Unknown, codes: codes.to_vec(), reason: Some(reason.into()) });
    }

    pub fn errors(&self) -> usize {
        self.findings.iter().filter(|f| f.severity == Severity::Error).count()
    }

    /// A check guarding an error-level code could not run.
    pub fn incomplete(&self) -> bool {
        self.checks.iter().any(|c| c.status == Status::Unknown && c.guards_errors())
    }

    /// 1 when errors were found, else 4 when the verdict is incomplete, else 0.
    pub fn exit_code(&self) -> ExitCode {
        if self.errors() > 0 {
            ExitCode::Failed
        } else if self.incomplete() {
            ExitCode::Incomplete
        } else {
            ExitCode::Ok
        }
    }

    /// Every finding, consequences included.
    pub fn all_findings(&self) -> impl Iterator<Item = &Finding> {
        self.findings.iter().flat_map(|f| std::iter::once(f).chain(f.consequences.iter()))
    }

    pub fn state_of(&self, code: Code) -> CodeState {
        if self.all_findings().any(|f| f.code == code) {
            return CodeState::Present;
        }
        let lines: Vec<_> = self.checks.iter().filter(|c| c.codes.contains(&code)).collect();
        if lines.iter().any(|c| c.status == Status::Unknown) {
            CodeState::Unknown
        } else if lines.is_empty() {
            CodeState::NotChecked
        } else {
            CodeState::Absent
        }
    }
}

/// Parses the documents of a principal; those that do not parse are named, not dropped silently.
pub(crate) fn parse_docs(docs: &[NamedDocument], kind: Kind) -> (Vec<NamedPolicy>, Vec<String>) {
    let mut out = Vec::new();
    let mut errors = Vec::new();
    for d in docs {
        match Policy::from_value(&d.document, kind) {
            Ok(p) => out.push(NamedPolicy { name: d.name.clone(), policy: p }),
            Err(e) => errors.push(format!("{}: {e}", d.name)),
        }
    }
    (out, errors)
}

/// The permissions boundary, parsed. A boundary that does not parse is never dropped: dropping
/// it would only widen what is allowed (AWS: an action must be allowed by the boundary too,
/// "Permissions boundaries for IAM entities",
/// https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_boundaries.html), so every
/// check that needs it is unknown, with the parse error.
pub(crate) fn parse_boundary(b: &Option<NamedDocument>) -> Result<Option<NamedPolicy>, String> {
    match b {
        None => Ok(None),
        Some(b) => Policy::from_value(&b.document, Kind::Identity)
            .map(|p| Some(NamedPolicy { name: b.name.clone(), policy: p }))
            .map_err(|e| format!("the permissions boundary {} does not parse: {e}", b.name)),
    }
}

pub(crate) fn skipped_note(errors: &[String]) -> String {
    if errors.is_empty() {
        String::new()
    } else {
        format!(" (policies that do not parse were skipped: {})", errors.join("; "))
    }
}

/// Runs every check on a snapshot against the desired documents.
pub fn run(snap: &Snapshot, desired: &Desired) -> Outcome {
    let mut out = Outcome::default();
    identity::check(snap, &mut out);
    model::check(snap, desired, &mut out);
    trust::check(snap, desired, &mut out);
    role_s3::check(snap, desired, &mut out);
    role_invoke::check(snap, desired, &mut out);
    kms::check(snap, desired, &mut out);
    bucket::check(snap, desired, &mut out);
    passrole::check(snap, desired, &mut out);
    org::check(snap, desired, &mut out);
    quotas::check(snap, desired, &mut out);
    jobs::check(snap, desired, &mut out);
    fold_consequences(&mut out);
    out.findings.sort_by_key(|a| a.severity);
    out
}

/// Convenience for callers holding only a snapshot: desired documents from its settings, then
/// the checks.
pub fn run_snapshot(snap: &Snapshot) -> crate::error::Result<Outcome> {
    let desired = Desired::for_snapshot(snap)?;
    Ok(run(snap, &desired))
}

/// A missing bucket is the cause of every access finding on it: those findings are listed
/// under `bucket-missing` as its consequences, not as errors of their own.
fn fold_consequences(out: &mut Outcome) {
    let missing: Vec<String> =
        out.findings.iter().filter(|f| f.code == Code::from(bucket::Code::BucketMissing)).map(|f| f.resource.clone()).collect();
    for bucket_uri in missing {
        let on_bucket = |f: &Finding| {
            matches!(f.family(), "role_s3" | "kms" | "bucket")
                && f.code != Code::from(bucket::Code::BucketMissing)
                && (f.resource == bucket_uri || f.resource.starts_with(&format!("{bucket_uri}/")))
        };
        let (folded, kept): (Vec<Finding>, Vec<Finding>) = std::mem::take(&mut out.findings).into_iter().partition(on_bucket);
        out.findings = kept;
        if let Some(cause) = out.findings.iter_mut().find(|f| f.code == Code::from(bucket::Code::BucketMissing) && f.resource == bucket_uri) {
            cause.consequences.extend(folded);
        }
    }
}

pub use crate::desired::job_requests;
