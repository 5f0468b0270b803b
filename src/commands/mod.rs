//! One file per command: gather the inputs, call the core, return a typed result that
//! `output` prints as text or JSON, and an [`ExitCode`].

mod apply;
mod canary;
mod check;
mod explain;
mod jobs;
mod prepare;
mod render;
mod run;
mod simple;
pub mod simulate;
mod snapshot;
mod validate;

use crate::cli::{Cli, Command};
use crate::error::{ExitCode, Result};

pub async fn run(cli: Cli) -> Result<ExitCode> {
    let g = &cli.global();
    match &cli.command {
        Command::Init { path, .. } => simple::init(g, path.clone()),
        Command::Whoami { .. } => simple::whoami(g).await,
        Command::Render(args) => render::run(g, args).await,
        Command::Simulate(args) => simulate::run(g, args).await,
        Command::Check { snapshot, .. } => check::run(g, snapshot.as_deref()).await,
        Command::Snapshot { out, redact, force, .. } => snapshot::run(g, out, *redact, *force).await,
        Command::Explain { what, .. } => explain::run(g, what).await,
        Command::Completions { shell } => simple::completions(*shell),
        Command::Man => simple::man(),
        Command::Run(cmd) => run::command(g, cmd).await,
        Command::Prepare(args) => prepare::run(g, args).await,
        Command::Validate(args) => validate::run(g, args).await,
        Command::Canary(args) => canary::run(g, args).await,
        Command::Jobs { max, .. } => jobs::jobs(g, *max).await,
        Command::Plan { detailed_exitcode, show_documents, .. } => apply::plan(g, *detailed_exitcode, *show_documents).await,
        Command::Apply { yes, dry_run, show_documents, backup_dir, .. } => apply::apply(g, *yes, *dry_run, *show_documents, backup_dir.clone()).await,
        Command::Rollback { backup, yes, backup_dir, .. } => apply::rollback(g, backup.clone(), *yes, backup_dir.clone()).await,
    }
}
