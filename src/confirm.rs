//! Asking before a change, and where local state lives: the two things every command that
//! changes something shares (apply, rollback, canary, run).

use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;

use crate::error::{Error, Result};

/// Asks `question [y/N]` on the terminal; refuses when standard input is not a terminal.
pub fn confirm(question: &str, yes: bool) -> Result<bool> {
    if yes {
        return Ok(true);
    }
    if !std::io::stdin().is_terminal() {
        return Err(Error::Usage(
            "standard input is not a terminal, so there is no one to confirm: pass --yes to proceed (nothing was changed)".into(),
        ));
    }
    // Prompts go to stderr, so stdout stays one JSON document with --output json.
    eprint!("{question} [y/N] ");
    std::io::stderr().flush().ok();
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line).map_err(|e| Error::io("standard input", e))?;
    Ok(matches!(line.trim(), "y" | "Y" | "yes" | "YES" | "Yes"))
}

/// `$XDG_STATE_HOME/bedbatch-doctor/<what>`, else `~/.local/state/bedbatch-doctor/<what>`;
/// without either, an error naming the flag that sets the folder.
pub fn state_home(what: &str, flag: &str) -> Result<PathBuf> {
    if let Some(x) = std::env::var_os("XDG_STATE_HOME").filter(|v| !v.is_empty()) {
        return Ok(PathBuf::from(x).join("bedbatch-doctor").join(what));
    }
    let home = std::env::var_os("HOME").filter(|v| !v.is_empty()).ok_or_else(|| Error::Usage(format!("HOME is not set: pass {flag}")))?;
    Ok(PathBuf::from(home).join(".local/state/bedbatch-doctor").join(what))
}
