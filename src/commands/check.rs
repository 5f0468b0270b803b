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

/// A check that stopped before AWS answered (no credentials): its one finding, and exit 3 said
/// in every format (the JSON's `exit_code`, the SARIF's `exitCode`) as the process exits.
struct Unreached(Outcome);

impl Report for Unreached {
    fn text(&self) -> String {
        crate::report::text(&self.0)
    }
    fn json(&self) -> serde_json::Value {
        let mut v = crate::report::json(&self.0);
        v["exit_code"] = ExitCode::Aws.code().into();
        v
    }
    fn exit(&self) -> ExitCode {
        ExitCode::Aws
    }
    fn sarif(&self) -> Option<serde_json::Value> {
        let mut v = crate::report::sarif(&self.0);
        v["runs"][0]["invocations"][0]["exitCode"] = ExitCode::Aws.code().into();
        Some(v)
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
                return Ok(emit(&Unreached(outcome)));
            }
            Err(e) => return Err(e),
        },
    };
    let desired = Desired::for_snapshot(&snap)?;
    let outcome = checks::run(&snap, &desired);
    Ok(emit(&outcome))
}
