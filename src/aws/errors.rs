//! SDK errors mapped to ours: what an error says about the thing asked for (denied, missing,
//! failed), whether it is worth retrying, and the service's error code.

use aws_sdk_sts::config::http::HttpResponse;
use aws_sdk_sts::error::{ProvideErrorMetadata, SdkError};

use crate::error::Error;

/// Joins an error and its sources into one line.
pub fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut parts = vec![e.to_string()];
    let mut cur = e.source();
    while let Some(s) = cur {
        let text = s.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        cur = s.source();
    }
    parts.join(": ")
}

/// What an SDK error says about the thing asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    /// The call was refused: AccessDenied (and its siblings), HTTP 403.
    Denied,
    /// The thing does not exist: `NoSuch*`, `NotFound`, `ResourceNotFoundException`, HTTP 404.
    Missing,
    /// Anything else: throttling, 5xx, timeouts, network errors, malformed answers.
    Failed,
}

/// Classifies an SDK error by its service code and, for bodiless answers (HeadBucket,
/// HeadObject), its HTTP status. The codes are AWS's: "Amazon S3 error responses" (AccessDenied
/// 403, AllAccessDisabled, NoSuchBucket/NoSuchKey/NoSuchBucketPolicy 404; HEAD answers carry
/// only the status), the IAM API's "Common errors" (AccessDenied, NoSuchEntity), and the Bedrock
/// and Service Quotas API references (AccessDeniedException, ResourceNotFoundException).
pub fn classify<E>(err: &SdkError<E, HttpResponse>) -> Class
where
    E: ProvideErrorMetadata,
{
    match err {
        SdkError::ServiceError(se) => {
            let code = se.err().code().unwrap_or("");
            let status = se.raw().status().as_u16();
            if matches!(code, "AccessDenied" | "AccessDeniedException" | "UnauthorizedOperation" | "Forbidden" | "AllAccessDisabled") || status == 403
            {
                Class::Denied
            } else if code.starts_with("NoSuch") || matches!(code, "NotFound" | "ResourceNotFoundException" | "NotFoundException") || status == 404 {
                Class::Missing
            } else {
                Class::Failed
            }
        }
        _ => Class::Failed,
    }
}

/// An object or bucket the user named as input (`validate s3://…`, `run start s3://…`) that does
/// not exist is a usage error naming it (exit 2), not an AWS failure: the fix is the URI.
pub fn named_input_missing(uri: &str, e: Error) -> Error {
    match e {
        Error::Missing(m) => Error::Usage(format!("{uri} does not exist ({m})")),
        other => other,
    }
}

/// Maps an SDK error to ours: unreachable endpoints and timeouts apart from service errors,
/// denials and missing things apart from other failures, each naming the service and operation.
pub fn sdk_error<E>(service: &str, operation: &str, err: SdkError<E, HttpResponse>) -> Error
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let class = classify(&err);
    match &err {
        SdkError::DispatchFailure(_) | SdkError::TimeoutError(_) => {
            let url = std::env::var("AWS_ENDPOINT_URL").ok();
            let endpoint = url.as_deref().map(|e| format!(" at {e}")).unwrap_or_default();
            // A local endpoint that refuses is usually the project's emulator not running.
            let hint = match url.as_deref() {
                Some(u) if u.contains("127.0.0.1") || u.contains("localhost") => {
                    "; nothing answers at that local endpoint: if it is bedbatch-doctor's emulator, start it with `scripts/emulator start`"
                }
                _ => "",
            };
            Error::Unreachable(format!("cannot reach AWS {service}{endpoint} for {operation}: {}{hint}", error_chain(&err)))
        }
        SdkError::ServiceError(se) => {
            let inner = se.err();
            let status = format!(" (HTTP {})", se.raw().status().as_u16());
            let code = inner.code().unwrap_or("UnknownError");
            let msg = inner.message().unwrap_or("");
            let text = format!("{service}:{operation} failed: {code}: {msg}{status}");
            match class {
                Class::Denied => Error::Denied(text),
                Class::Missing => Error::Missing(text),
                Class::Failed => Error::Aws(text),
            }
        }
        _ => Error::Aws(format!("{service}:{operation} failed: {}", error_chain(&err))),
    }
}

/// An error worth trying again after a pause: the connection failed or timed out, the answer
/// did not parse, or the service answered with throttling (429, or one of the SDK's throttling
/// codes) or a server error (5xx).
pub fn is_transient<E: ProvideErrorMetadata>(err: &SdkError<E, HttpResponse>) -> bool {
    match err {
        SdkError::DispatchFailure(_) | SdkError::TimeoutError(_) | SdkError::ResponseError(_) => true,
        SdkError::ServiceError(se) => {
            let status = se.raw().status().as_u16();
            let code = se.err().code().unwrap_or("");
            status == 429
                || status >= 500
                || matches!(
                    code,
                    "Throttling" | "ThrottlingException" | "ThrottledException" | "TooManyRequestsException" | "RequestLimitExceeded" | "SlowDown"
                )
        }
        _ => false,
    }
}

/// A pause before try `attempt` (0-based) of a polling read: 200 ms doubling to at most 30 s,
/// with "full jitter" (a random point of the interval, as AWS's backoff guidance recommends), so
/// clients that failed together do not retry together.
pub fn backoff(attempt: u32) -> std::time::Duration {
    let cap = 200u64.saturating_mul(1 << attempt.min(8)).min(30_000);
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.subsec_nanos() as u64).unwrap_or(0);
    let seed = nanos ^ (std::process::id() as u64).rotate_left(17);
    std::time::Duration::from_millis(cap / 2 + seed % (cap / 2 + 1))
}

/// The error code of a service error, if the call reached the service.
pub fn service_code<E: ProvideErrorMetadata, R>(err: &SdkError<E, R>) -> Option<&str> {
    match err {
        SdkError::ServiceError(se) => se.err().code(),
        _ => None,
    }
}
