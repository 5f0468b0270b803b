//! What the checks report: each check's line ([`CheckLine`], its [`Status`]) and the findings, in
//! one [`Outcome`]; what it says of given codes ([`Related`], for `explain`) and its exit code.

use serde::Serialize;

use crate::error::ExitCode;
use crate::findings::{Code, Finding, Severity};

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
