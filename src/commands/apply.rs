//! `plan`, `apply` and `rollback`.

use std::path::PathBuf;

use serde_json::json;

use crate::aws::{self, Clients};
use crate::cli::GlobalArgs;
use crate::error::{Error, ExitCode, Result};
use crate::output::{emit, is_json, Plain};
use crate::render;
use crate::session::{load_settings, Session};
use crate::settings::Settings;

/// Settings, clients, the caller's identity, the account, and who submits jobs.
struct PlanInputs {
    settings: Settings,
    clients: Clients,
    identity: aws::Identity,
    account: render::Account,
    caller: String,
}

async fn plan_inputs(g: &GlobalArgs) -> Result<PlanInputs> {
    let Session { settings, clients, identity } = Session::open_for_job(g).await?;
    let caller = settings.caller_arn.as_ref().map(|c| c.arn.clone()).unwrap_or_else(|| identity.arn.clone());
    let account = render::Account { id: identity.account.clone(), partition: identity.partition.clone() };
    Ok(PlanInputs { settings, clients, identity, account, caller })
}

/// The writes a plan makes (creates and updates).
fn pending(changes: &[crate::plan::Change]) -> usize {
    let c = crate::plan::counts(changes);
    c.create + c.update
}

pub async fn plan(g: &GlobalArgs, detailed: bool, show_documents: bool) -> Result<ExitCode> {
    let computed = async {
        let PlanInputs { settings, clients, account, caller, .. } = plan_inputs(g).await?;
        crate::apply::compute(&clients, &settings, &caller, &account).await
    }
    .await;
    let changes = match computed {
        Ok(c) => c,
        // --detailed-exitcode reserves 2 for "changes pending": an error is 1 there.
        Err(e) if detailed => {
            crate::output::error(&e);
            return Ok(ExitCode::Failed);
        }
        Err(e) => return Err(e),
    };
    if !is_json() {
        crate::apply::print_plan(&changes, crate::apply::PlanView { whole: false, documents: show_documents });
    }
    let exit = if detailed && pending(&changes) > 0 { ExitCode::ChangesPending } else { ExitCode::Ok };
    let json = crate::apply::plan_json(&changes);
    Ok(emit(&Plain { text: String::new(), json, exit }))
}

pub async fn apply(g: &GlobalArgs, yes: bool, dry_run: bool, show_documents: bool, backup_dir: Option<PathBuf>) -> Result<ExitCode> {
    let PlanInputs { settings, clients, identity, account, caller } = plan_inputs(g).await?;
    let changes = crate::apply::compute(&clients, &settings, &caller, &account).await?;
    // Every document to write is shown whole, once, as its diff against the live one, before
    // anything is written (on stderr with --output json).
    crate::apply::print_plan(&changes, crate::apply::PlanView { whole: true, documents: show_documents });
    let n = pending(&changes);
    let plan = crate::apply::plan_json(&changes);
    let mut backup = None;
    if n == 0 {
        crate::say!("Nothing to do: the account is set up (no write call made).");
    } else if dry_run {
        crate::say!("--dry-run: nothing was changed.");
        return Ok(emit(&Plain { text: String::new(), json: json!({"plan": plan, "applied": 0, "dry_run": true}), exit: ExitCode::Ok }));
    } else {
        let root = match backup_dir {
            Some(d) => d,
            None => crate::apply::default_backup_root()?,
        };
        if !crate::apply::confirm(&format!("Apply these {n} changes?"), yes)? {
            crate::say!("Nothing was changed.");
            return Ok(emit(&Plain { text: String::new(), json: json!({"plan": plan, "applied": 0, "confirmed": false}), exit: ExitCode::Ok }));
        }
        backup = crate::apply::apply(&clients, &settings, &account, &changes, &root).await?;
        crate::say!("Applied {n} changes.");
    }
    crate::say!("\nChecking the result:");
    let snap = crate::collect::snapshot(&clients, &settings, &identity, &crate::session::org_files(g)).await?;
    let outcome = crate::checks::run_snapshot(&snap)?;
    if !is_json() {
        print!("{}", crate::report::text(&outcome));
    }
    // apply's exit code is about its writes; `check` gives the verdict's own exit code.
    let json = json!({
        "plan": plan,
        "applied": n,
        "backup": backup.map(|b| b.display().to_string()),
        "check": crate::report::json(&outcome),
    });
    Ok(emit(&Plain { text: String::new(), json, exit: ExitCode::Ok }))
}

pub async fn rollback(g: &GlobalArgs, backup: Option<PathBuf>, yes: bool, backup_dir: Option<PathBuf>) -> Result<ExitCode> {
    let dir = match backup {
        Some(b) => b,
        None => {
            let root = match backup_dir {
                Some(d) => d,
                None => crate::apply::default_backup_root()?,
            };
            crate::apply::latest_backup(&root)?
        }
    };
    let manifest = crate::apply::read_manifest(&dir)?;
    let steps = crate::apply::describe_rollback(&manifest);
    if steps.is_empty() {
        crate::say!("{}: that apply changed nothing; nothing to roll back.", dir.display());
        return Ok(emit(&Plain { text: String::new(), json: json!({"backup": dir.display().to_string(), "rolled_back": 0}), exit: ExitCode::Ok }));
    }
    crate::say!("Rolling back {} (account {}, {}):", dir.display(), manifest.account, manifest.region);
    for s in &steps {
        crate::say!("  {s}");
    }
    if !crate::apply::confirm(&format!("Roll back these {} changes?", steps.len()), yes)? {
        crate::say!("Nothing was changed.");
        return Ok(emit(&Plain {
            text: String::new(),
            json: json!({"backup": dir.display().to_string(), "rolled_back": 0, "confirmed": false}),
            exit: ExitCode::Ok,
        }));
    }
    let mut settings = load_settings(g).await?;
    if settings.region.is_none() {
        settings.region = Some(manifest.region.clone());
    }
    let Session { clients, identity: id, .. } = Session::from_settings(g, settings).await?;
    if id.account != manifest.account {
        return Err(Error::Usage(format!("the backup is of account {} but the credentials are for account {}", manifest.account, id.account)));
    }
    crate::apply::rollback(&clients, &manifest).await?;
    crate::say!("Rolled back.");
    Ok(emit(&Plain {
        text: String::new(),
        json: json!({"backup": dir.display().to_string(), "rolled_back": steps.len(), "steps": steps}),
        exit: ExitCode::Ok,
    }))
}
