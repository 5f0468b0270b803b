//! SDK clients from aws-config: profile, region, endpoint override; the SDK-error mapping is
//! in `errors.rs`. Nothing here reads the settings: commands pass the region and the options
//! as plain values.
//!
//! The TLS stack is rustls with ring through aws-smithy-http-client (the SDK's `rustls` feature
//! is the old hyper 0.14 stack). Credentials are resolved once, up front, so "no credentials"
//! is one clear error (exit 3) rather than a dispatch failure inside the first call.

use std::time::Duration;

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_smithy_http_client::tls::{self, rustls_provider::CryptoMode};

use crate::error::{Error, Result};

mod errors;
pub use errors::*;

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

/// Loads the shared SDK configuration for `region` (a region the settings checked: this module
/// knows nothing of them).
pub async fn load(opts: &AwsOptions, region: &str) -> Result<SdkConfig> {
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
