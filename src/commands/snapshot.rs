//! `snapshot -o FILE`: what `check` reads, as versioned JSON.

use std::path::Path;

use crate::cli::GlobalArgs;
use crate::error::{Error, ExitCode, Result};
use crate::output::{emit, Plain};

pub async fn run(g: &GlobalArgs, out: &Path, redact: bool, force: bool) -> Result<ExitCode> {
    if out.exists() && !force {
        return Err(Error::Usage(format!("{} exists; pass --force to overwrite it", out.display())));
    }
    let snap = crate::session::take_snapshot(g).await?;
    let snap = if redact { snap.redact().map_err(Error::Usage)? } else { snap };
    let text = serde_json::to_string_pretty(&snap).map_err(|e| Error::Io(format!("cannot serialise the snapshot: {e}")))?;
    std::fs::write(out, text + "\n").map_err(|e| Error::io(format!("cannot write {}", out.display()), e))?;
    let line = format!("wrote {} ({} read failures){}", out.display(), snap.read_failures.len(), if redact { ", redacted" } else { "" });
    eprintln!("{line}");
    Ok(emit(&Plain {
        text: String::new(),
        json: serde_json::json!({"wrote": out.display().to_string(), "read_failures": snap.read_failures.len(), "redacted": redact}),
        exit: ExitCode::Ok,
    }))
}
