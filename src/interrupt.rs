//! Ctrl-C, for the commands that wait on jobs (canary, run): registered when created (tokio's
//! `ctrl_c()` registers only when first polled), so an interrupt at any point after is seen.

use crate::error::{Error, Result};

/// SIGINT, registered when created.
pub(crate) struct Interrupt(#[cfg(unix)] tokio::signal::unix::Signal);

impl Interrupt {
    pub(crate) fn new() -> Result<Interrupt> {
        #[cfg(unix)]
        {
            let s = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt())
                .map_err(|e| Error::Io(format!("cannot listen for Ctrl-C: {e}")))?;
            Ok(Interrupt(s))
        }
        #[cfg(not(unix))]
        Ok(Interrupt())
    }

    pub(crate) async fn recv(&mut self) {
        #[cfg(unix)]
        {
            self.0.recv().await;
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}
