//! Identity: credentials, and the reads the other checks depend on.

use crate::findings::Finding;
use crate::snapshot::{ReadErrorKind, ReadFailure};

crate::family_codes! { "identity", "Identity";
    CredentialsMissing = "credentials-missing", Error, "No AWS credentials could be found, so nothing could be checked.";
    ReadDenied = "read-denied", Warning, "The caller was refused a read the checks need; those checks are unknown.";
    ReadFailed = "read-failed", Warning, "A read the checks need failed (throttling, a server error, a timeout); those checks are unknown.";
}

pub fn credentials_missing(message: &str) -> Finding {
    Finding::new(
        Code::CredentialsMissing,
        "AWS credentials",
        message,
        "set AWS_PROFILE or --profile, run `aws sso login`, or export AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY",
    )
}

/// A failed read: `read-denied` for a refusal, `read-failed` for anything else.
pub fn read_failure(f: &ReadFailure) -> Finding {
    match f.error.kind {
        ReadErrorKind::Denied => Finding::new(
            Code::ReadDenied,
            f.what.clone(),
            f.error.error.clone(),
            "give the caller read access to it (or share a snapshot taken by someone who has it); the checks that need it are unknown",
        ),
        ReadErrorKind::Failed => Finding::new(
            Code::ReadFailed,
            f.what.clone(),
            f.error.error.clone(),
            "run check again (raise --max-attempts or use --retry-mode adaptive on a busy account); the checks that need it are unknown",
        ),
    }
}
