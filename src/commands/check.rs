//! `check`: every reason a batch job would fail, from the live account or a snapshot.

use std::path::Path;

use crate::checks::{self, Desired, Outcome};
use crate::cli::GlobalArgs;
use crate::error::{Error, ExitCode, Result};
use crate::output::{emit, Report};
use crate::snapshot::Snapshot;

impl Report for Outcome {
    fn text(&self) -> String {
        crate::report::text(self)
    }
    fn json(&self) -> serde_json::Value {
        crate::report::json(self)
    }
    fn exit(&self) -> ExitCode {
        self.exit_code()
    }
    fn sarif(&self) -> Option<serde_json::Value> {
        Some(crate::report::sarif(self))
    }
}

pub fn load_snapshot(path: &Path) -> Result<Snapshot> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::Usage(format!("cannot read snapshot {}: {e}", path.display())))?;
    Snapshot::from_json(&text).map_err(|e| Error::Usage(format!("snapshot {}: {e}", path.display())))
}

pub async fn run(g: &GlobalArgs, snapshot: Option<&Path>) -> Result<ExitCode> {
    let snap = match snapshot {
        Some(path) => load_snapshot(path)?,
        None => match crate::session::take_snapshot(g).await {
            Ok(s) => s,
            Err(Error::Credentials(msg)) => {
                let mut outcome = Outcome::default();
                outcome.check(
                    checks::identity::Code::FAMILY,
                    "AWS credentials are available",
                    &[checks::identity::Code::CredentialsMissing.into()],
                    vec![checks::identity::diags::credentials_missing(&msg)],
                );
                emit(&outcome);
                return Ok(ExitCode::Aws);
            }
            Err(e) => return Err(e),
        },
    };
    let desired = Desired::for_snapshot(&snap)?;
    let outcome = checks::run(&snap, &desired);
    Ok(emit(&outcome))
}
