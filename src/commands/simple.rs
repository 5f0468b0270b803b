//! `init` and `whoami`.

use std::io::Write;
use std::path::PathBuf;

use crate::cli::GlobalArgs;
use crate::error::{Error, ExitCode, Result};
use crate::output::{emit, Plain};
use crate::session::Session;

pub fn init(g: &GlobalArgs, path: Option<PathBuf>) -> Result<ExitCode> {
    let path = path.or_else(|| g.config.clone()).unwrap_or_else(|| PathBuf::from("bedbatch.toml"));
    let mut file = std::fs::OpenOptions::new().write(true).create_new(true).open(&path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::AlreadyExists {
            Error::Usage(format!("{} already exists; init never overwrites a settings file", path.display()))
        } else {
            Error::io(format!("cannot create {}", path.display()), e)
        }
    })?;
    file.write_all(crate::settings::STARTER.as_bytes()).map_err(|e| Error::io(path.display(), e))?;
    eprintln!("wrote {}; edit it, then run `bedbatch-doctor render`", path.display());
    Ok(emit(&Plain { text: String::new(), json: serde_json::json!({"wrote": path.display().to_string()}), exit: ExitCode::Ok }))
}

pub async fn whoami(g: &GlobalArgs) -> Result<ExitCode> {
    let id = Session::open(g).await?.identity;
    let text = format!("arn:       {}\naccount:   {}\nuser id:   {}\npartition: {}\n", id.arn, id.account, id.user_id, id.partition);
    Ok(emit(&Plain { text, json: serde_json::to_value(&id).unwrap_or_default(), exit: ExitCode::Ok }))
}

/// `completions SHELL`: the completion script for the shell, from the clap definitions.
pub fn completions(shell: clap_complete::Shell) -> Result<ExitCode> {
    let mut cmd = <crate::cli::Cli as clap::CommandFactory>::command();
    clap_complete::generate(shell, &mut cmd, "bedbatch-doctor", &mut std::io::stdout());
    Ok(ExitCode::Ok)
}

/// `man`: the manual page (roff), from the clap definitions.
pub fn man() -> Result<ExitCode> {
    let cmd = <crate::cli::Cli as clap::CommandFactory>::command();
    let mut out = Vec::new();
    clap_mangen::Man::new(cmd).render(&mut out).map_err(|e| Error::Io(format!("rendering the manual: {e}")))?;
    std::io::stdout().write_all(&out).map_err(|e| Error::Io(format!("writing the manual: {e}")))?;
    Ok(ExitCode::Ok)
}
