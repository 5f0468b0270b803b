//! Errors and the exit codes they map to.
//!
//! Exit codes are part of the public interface, documented once here and in the README:
//! 0 all pass, 1 a check failed, 2 usage or config error, 3 AWS unreachable, credentials
//! missing or an AWS call failed, 4 incomplete (a check could not run and nothing failed).

use std::fmt;

/// The process exit status of every command.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ExitCode {
    /// 0: everything passed (or the command did what it was asked).
    Ok,
    /// 1: a check failed (a finding of severity error, a denied simulation, a failed canary).
    Failed,
    /// 2: bad usage, a bad setting, a bad file or template.
    Usage,
    /// 3: AWS could not be reached, credentials are missing, or an AWS call failed.
    Aws,
    /// 4: a check could not run (a read failed) and nothing failed.
    Incomplete,
    /// 2 for `plan --detailed-exitcode` only: changes are pending (Terraform's convention).
    ChangesPending,
    /// 130: `canary` was interrupted (Ctrl-C), as shells report SIGINT.
    Interrupted,
}

impl ExitCode {
    pub fn code(self) -> i32 {
        match self {
            ExitCode::Ok => 0,
            ExitCode::Failed => 1,
            ExitCode::Usage | ExitCode::ChangesPending => 2,
            ExitCode::Aws => 3,
            ExitCode::Incomplete => 4,
            ExitCode::Interrupted => 130,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A setting in bedbatch.toml or a flag is wrong. The message names the key, value and rule.
    #[error("{0}")]
    Config(String),
    /// The command line or an input file is wrong.
    #[error("{0}")]
    Usage(String),
    /// A template could not be rendered, or rendered something that is not a valid policy.
    #[error("{0}")]
    Template(String),
    /// No credentials could be found.
    #[error("{0}")]
    Credentials(String),
    /// The endpoint did not answer (connection refused, DNS, timeout).
    #[error("{0}")]
    Unreachable(String),
    /// An AWS call answered with an error (throttling, 5xx, a validation error, …).
    #[error("{0}")]
    Aws(String),
    /// An AWS call was refused (AccessDenied, HTTP 403).
    #[error("{0}")]
    Denied(String),
    /// An AWS call answered that the thing does not exist (NoSuch*, NotFound, HTTP 404).
    #[error("{0}")]
    Missing(String),
    /// A local file could not be read or written.
    #[error("{0}")]
    Io(String),
}

impl Error {
    pub fn exit(&self) -> ExitCode {
        match self {
            Error::Config(_) | Error::Usage(_) | Error::Template(_) | Error::Io(_) => ExitCode::Usage,
            Error::Credentials(_) | Error::Unreachable(_) | Error::Aws(_) | Error::Denied(_) | Error::Missing(_) => ExitCode::Aws,
        }
    }

    /// The error's kind, as `--output json` names it: `{"error": {"kind", "message"}}`.
    pub fn kind(&self) -> &'static str {
        match self {
            Error::Config(_) => "config",
            Error::Usage(_) => "usage",
            Error::Template(_) => "template",
            Error::Credentials(_) => "credentials",
            Error::Unreachable(_) => "unreachable",
            Error::Aws(_) => "aws",
            Error::Denied(_) => "denied",
            Error::Missing(_) => "missing",
            Error::Io(_) => "io",
        }
    }

    pub fn io(what: impl fmt::Display, err: std::io::Error) -> Self {
        Error::Io(format!("{what}: {err}"))
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
