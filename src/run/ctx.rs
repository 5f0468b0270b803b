//! What every run command needs: the settings, clients, the role and the model, opened once.

use std::path::{Path, PathBuf};

use crate::aws::Clients;
use crate::cli::GlobalArgs;
use crate::error::{Error, Result};
use crate::run::manifest::{self, RunManifest};
use crate::session as app;
use crate::settings::{ModelRef, Settings};

/// What every run command needs: the settings, clients, the role and the model.
pub struct Ctx {
    pub settings: Settings,
    pub clients: Clients,
    pub role_arn: String,
    pub model: ModelRef,
    /// The foundation model behind the model id (prices, quotas, family).
    pub fm: String,
    /// The local runs folder.
    pub root: PathBuf,
}

impl Ctx {
    pub async fn new(g: &GlobalArgs, state_dir: Option<&Path>) -> Result<Ctx> {
        let settings = app::load_settings(g).await?;
        app::require_job_settings(&settings)?;
        let root = manifest::state_root(state_dir)?;
        let clients = app::connect(g, &settings).await?;
        let id = crate::aws::whoami(&clients).await?;
        let role_arn = crate::render::role_arn(&id.partition, &id.account, &settings.role_path, settings.role_name()?);
        let model = settings.model()?.clone();
        let fm = model.foundation_model_id.clone().unwrap_or_else(|| model.raw.clone());
        Ok(Ctx { settings, clients, role_arn, model, fm, root })
    }

    /// `s3://BUCKET/<input folder><run id>/` and `s3://BUCKET/<output folder><run id>/`.
    pub fn run_folders(&self, run_id: &str) -> Result<(String, String)> {
        let input = self.settings.input()?;
        let output = self.settings.output()?;
        Ok((format!("s3://{}/{}{run_id}/", input.bucket, input.folder()), format!("s3://{}/{}{run_id}/", output.bucket, output.folder())))
    }

    pub async fn load(&self, run_id: &str) -> Result<RunManifest> {
        manifest::check_run_id(run_id)?;
        let (_, output) = self.run_folders(run_id)?;
        manifest::load(&self.clients, &self.root, run_id, &output).await
    }

    pub async fn save(&self, m: &mut RunManifest) -> Result<()> {
        manifest::save(&self.clients, &self.root, m).await
    }

    /// A run goes on with the model and role it started with: settings that name others are
    /// refused rather than silently mixed into one run.
    pub(crate) fn check_same_setup(&self, m: &RunManifest) -> Result<()> {
        if m.model_id != self.model.raw {
            return Err(Error::Usage(format!(
                "run {} uses model {}, the settings name {}: pass --model-id {}",
                m.run_id, m.model_id, self.model.raw, m.model_id
            )));
        }
        if m.role_arn != self.role_arn {
            return Err(Error::Usage(format!("run {} uses the role {}, the settings name {}", m.run_id, m.role_arn, self.role_arn)));
        }
        Ok(())
    }
}
