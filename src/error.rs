//! Errors and the exit codes they map to.
//!
//! Exit codes are part of the public interface (see README): 0 all pass, 1 a check failed,
//! 2 usage or config error, 3 AWS unreachable, credentials missing or an AWS call failed.

use std::fmt;

/// Exit code: everything passed.
pub const EXIT_OK: i32 = 0;
/// Exit code: a check failed (a finding of severity error, a denied simulation).
pub const EXIT_CHECK_FAILED: i32 = 1;
/// Exit code: bad usage, a bad setting, a bad file or template.
pub const EXIT_USAGE: i32 = 2;
/// Exit code: AWS could not be reached, credentials are missing, or an AWS call failed.
pub const EXIT_AWS: i32 = 3;

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
    /// An AWS call answered with an error.
    #[error("{0}")]
    Aws(String),
    /// A local file could not be read or written.
    #[error("{0}")]
    Io(String),
}

impl Error {
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Config(_) | Error::Usage(_) | Error::Template(_) | Error::Io(_) => EXIT_USAGE,
            Error::Credentials(_) | Error::Unreachable(_) | Error::Aws(_) => EXIT_AWS,
        }
    }

    pub fn io(what: impl fmt::Display, err: std::io::Error) -> Self {
        Error::Io(format!("{what}: {err}"))
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
