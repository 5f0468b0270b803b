//! SDK clients from aws-config: profile, region, endpoint override, and error mapping.
//!
//! The TLS stack is rustls with ring through aws-smithy-http-client (the SDK's `rustls` feature
//! is the old hyper 0.14 stack). Credentials are resolved once, up front, so "no credentials"
//! is one clear error (exit 3) rather than a dispatch failure inside the first call.

use std::time::Duration;

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_sts::config::http::HttpResponse;
use aws_sdk_sts::error::{ProvideErrorMetadata, SdkError};
use aws_smithy_http_client::tls::{self, rustls_provider::CryptoMode};

use crate::config::{Source, KNOWN_REGIONS};
use crate::error::{Error, Result};

/// How to reach AWS: from `--profile`, `--region`, `--endpoint-url` (each also from the usual
/// environment variables and config files).
#[derive(Debug, Clone, Default)]
pub struct AwsOptions {
    pub profile: Option<String>,
    pub region: Option<String>,
    pub endpoint_url: Option<String>,
    pub retry_mode: crate::cli::RetryMode,
    /// Attempts per call, the first included; 0 means the default (3).
    pub max_attempts: u32,
    /// Seconds per attempt; 0 means the default (30).
    pub call_timeout_secs: u64,
}

/// The region the AWS configuration would use when no setting names one: AWS_REGION,
/// AWS_DEFAULT_REGION, then the profile's `region` in the AWS config file. Never asks the
/// instance metadata service.
pub async fn fallback_region(profile: Option<&str>) -> Option<(String, Source)> {
    for var in ["AWS_REGION", "AWS_DEFAULT_REGION"] {
        if let Ok(v) = std::env::var(var) {
            if !v.is_empty() {
                return Some((v, Source::Environment(if var == "AWS_REGION" { "AWS_REGION" } else { "AWS_DEFAULT_REGION" })));
            }
        }
    }
    let mut builder = aws_config::profile::ProfileFileRegionProvider::builder();
    if let Some(p) = profile {
        builder = builder.profile_name(p);
    }
    use aws_config::meta::region::ProvideRegion;
    builder.build().region().await.map(|r| (r.to_string(), Source::Profile))
}

/// Loads the shared SDK configuration for `region`.
pub async fn load(opts: &AwsOptions, region: &str) -> Result<SdkConfig> {
    if !KNOWN_REGIONS.contains(&region) {
        return Err(Error::Config(format!("region {region:?} is not a known AWS region")));
    }
    let http = aws_smithy_http_client::Builder::new().tls_provider(tls::Provider::Rustls(CryptoMode::Ring)).build_https();
    // Retries are stated, not inherited from the environment: the mode and attempts come from
    // --retry-mode / --max-attempts (standard, 3 by default: the first call and two retries with
    // exponential backoff and jitter on throttling, 5xx and timeouts), each attempt bounded by
    // --call-timeout, connecting by 5 s.
    let attempts = if opts.max_attempts == 0 { 3 } else { opts.max_attempts };
    let retry = match opts.retry_mode {
        crate::cli::RetryMode::Standard => aws_config::retry::RetryConfig::standard(),
        crate::cli::RetryMode::Adaptive => aws_config::retry::RetryConfig::adaptive(),
    }
    .with_max_attempts(attempts);
    let attempt_timeout = Duration::from_secs(if opts.call_timeout_secs == 0 { 30 } else { opts.call_timeout_secs });
    let mut loader =
        aws_config::defaults(BehaviorVersion::latest()).http_client(http).region(Region::new(region.to_string())).retry_config(retry).timeout_config(
            aws_config::timeout::TimeoutConfig::builder().connect_timeout(Duration::from_secs(5)).operation_attempt_timeout(attempt_timeout).build(),
        );
    if let Some(p) = &opts.profile {
        loader = loader.profile_name(p);
    }
    if let Some(e) = &opts.endpoint_url {
        loader = loader.endpoint_url(e);
    }
    let config = loader.load().await;
    ensure_credentials(&config, opts).await?;
    Ok(config)
}

async fn ensure_credentials(config: &SdkConfig, opts: &AwsOptions) -> Result<()> {
    use aws_credential_types::provider::ProvideCredentials;
    let provider = config.credentials_provider().ok_or_else(|| Error::Credentials("no AWS credentials provider is configured".into()))?;
    provider.provide_credentials().await.map(|_| ()).map_err(|e| {
        let profile = opts.profile.as_deref().map(|p| format!(" (profile {p:?})")).unwrap_or_default();
        Error::Credentials(format!(
            "no AWS credentials found{profile}: set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE or --profile, or run `aws sso login` ({})",
            error_chain(&e)
        ))
    })
}

/// True when requests go to an endpoint override (the emulator): S3 then needs path-style
/// addressing, since `bucket.127.0.0.1` does not resolve.
pub fn has_endpoint_override(config: &SdkConfig) -> bool {
    config.endpoint_url().is_some() || std::env::var_os("AWS_ENDPOINT_URL").is_some() || std::env::var_os("AWS_ENDPOINT_URL_S3").is_some()
}

/// Every SDK client the tool uses, built from one shared configuration.
#[derive(Clone, Debug)]
pub struct Clients {
    pub config: SdkConfig,
    pub sts: aws_sdk_sts::Client,
    pub iam: aws_sdk_iam::Client,
    pub s3: aws_sdk_s3::Client,
    pub bedrock: aws_sdk_bedrock::Client,
    pub quotas: aws_sdk_servicequotas::Client,
    pub kms: aws_sdk_kms::Client,
    pub organizations: aws_sdk_organizations::Client,
}

impl Clients {
    pub fn new(config: SdkConfig) -> Clients {
        let s3_conf = aws_sdk_s3::config::Builder::from(&config).force_path_style(has_endpoint_override(&config)).build();
        Clients {
            sts: aws_sdk_sts::Client::new(&config),
            iam: aws_sdk_iam::Client::new(&config),
            s3: aws_sdk_s3::Client::from_conf(s3_conf),
            bedrock: aws_sdk_bedrock::Client::new(&config),
            quotas: aws_sdk_servicequotas::Client::new(&config),
            kms: aws_sdk_kms::Client::new(&config),
            organizations: aws_sdk_organizations::Client::new(&config),
            config,
        }
    }
}

/// The caller's identity, from sts:GetCallerIdentity.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Identity {
    pub arn: String,
    pub account: String,
    pub user_id: String,
    pub partition: String,
}

pub async fn whoami(clients: &Clients) -> Result<Identity> {
    let out = clients.sts.get_caller_identity().send().await.map_err(|e| sdk_error("sts", "GetCallerIdentity", e))?;
    let arn = out.arn().unwrap_or_default().to_string();
    let partition = arn.split(':').nth(1).unwrap_or("aws").to_string();
    Ok(Identity { account: out.account().unwrap_or_default().to_string(), user_id: out.user_id().unwrap_or_default().to_string(), arn, partition })
}

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
