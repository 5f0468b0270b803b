//! What every command that talks to AWS starts with: the settings (file, flags, the AWS region
//! fallback, resolved once by `settings`), the SDK clients, the caller's identity ([`Session`]),
//! a snapshot.
//! Commands and the modules they call (canary, validate, simulate) share these, so no command
//! module imports another.

use crate::aws::{self, AwsOptions, Clients, Identity};
use crate::cli::GlobalArgs;
use crate::error::Result;
use crate::settings::{self, Settings};

pub fn aws_options(g: &GlobalArgs) -> AwsOptions {
    AwsOptions {
        profile: g.profile.clone(),
        region: g.overrides.region.clone(),
        endpoint_url: g.endpoint_url.clone(),
        retry_mode: g.retry_mode,
        max_attempts: g.max_attempts,
        call_timeout_secs: g.call_timeout,
    }
}

/// Settings from the file, the flags, and the AWS region fallbacks.
pub async fn load_settings(g: &GlobalArgs) -> Result<Settings> {
    let fallback = settings::fallback_region(g.profile.as_deref()).await;
    settings::load(g.config.as_deref(), &g.overrides, fallback)
}

/// Fails naming the first missing setting a batch setup needs (before any network call).
pub fn require_job_settings(settings: &Settings) -> Result<()> {
    settings.region()?;
    settings.model()?;
    settings.input()?;
    settings.output()?;
    settings.role_name()?;
    Ok(())
}

/// SDK clients for the settings' region.
pub async fn connect(g: &GlobalArgs, settings: &Settings) -> Result<Clients> {
    let region = settings.region()?;
    if !crate::settings::KNOWN_REGIONS.contains(&region) {
        return Err(crate::error::Error::Config(format!("region {region:?} is not a known AWS region")));
    }
    let conf = aws::load(&aws_options(g), region).await?;
    Ok(Clients::new(conf))
}

/// What a command that talks to AWS starts from: its settings, the SDK clients for their
/// region, and the caller's identity.
#[derive(Debug, Clone)]
pub struct Session {
    pub settings: Settings,
    pub clients: Clients,
    pub identity: Identity,
}

impl Session {
    /// Settings, clients and identity in one call.
    pub async fn open(g: &GlobalArgs) -> Result<Session> {
        Session::from_settings(g, load_settings(g).await?).await
    }

    /// As [`Session::open`], after checking (before any network call) that the settings name
    /// everything a batch setup needs.
    pub async fn open_for_job(g: &GlobalArgs) -> Result<Session> {
        let settings = load_settings(g).await?;
        require_job_settings(&settings)?;
        Session::from_settings(g, settings).await
    }

    /// Clients and identity for settings the command has already read (and perhaps completed).
    pub async fn from_settings(g: &GlobalArgs, settings: Settings) -> Result<Session> {
        let clients = connect(g, &settings).await?;
        let identity = aws::whoami(&clients).await?;
        Ok(Session { settings, clients, identity })
    }
}

/// Takes a snapshot of the live account for the settings.
pub async fn take_snapshot(g: &GlobalArgs) -> Result<crate::snapshot::Snapshot> {
    let s = Session::open_for_job(g).await?;
    crate::collect::snapshot(&s.clients, &s.settings, &s.identity, &org_files(g)).await
}

/// The `--scp` / `--rcp` files.
pub fn org_files(g: &GlobalArgs) -> crate::collect::org::OrgFiles {
    crate::collect::org::OrgFiles { scp: g.scp.clone(), rcp: g.rcp.clone() }
}

/// The profile's routes from GetInferenceProfile. A profile that does not exist is an error; a
/// read that fails is said on the way (the grant then names every Region, `*`).
pub async fn routes_or_note(
    clients: &crate::aws::Clients,
    settings: &crate::settings::Settings,
) -> crate::error::Result<Option<crate::snapshot::ProfileState>> {
    match crate::collect::profile_routes(clients, settings).await {
        Ok(p) => Ok(p),
        // A profile id that names nothing is a wrong setting (exit 2), not an AWS failure.
        Err(crate::error::Error::Missing(m)) => Err(crate::error::Error::Config(format!("model_id: {m}"))),
        Err(e) => {
            eprintln!("note: {e}; the role's invoke grant names the model in every Region (*) instead of the profile's Regions");
            Ok(None)
        }
    }
}
