//! Runs one command: loads settings, talks to AWS where the command needs it, prints.

use std::io::Write;
use std::path::PathBuf;

use crate::aws::{self, AwsOptions, Clients};
use crate::cli::{Cli, Command, GlobalArgs, OutputFormat, RenderArgs};
use crate::config::{self, Overrides, Settings};
use crate::error::{Error, Result, EXIT_OK};
use crate::render::{self, Account, Context, Renderer};

fn overrides(g: &GlobalArgs) -> Overrides {
    Overrides {
        region: g.region.clone(),
        model_id: g.model_id.clone(),
        input_uri: g.input_uri.clone(),
        output_uri: g.output_uri.clone(),
        role_name: g.role_name.clone(),
        role_path: g.role_path.clone(),
        kms_key_id: g.kms_key_id.clone(),
        caller_arn: g.caller_arn.clone(),
        tags: None,
    }
}

fn aws_options(g: &GlobalArgs) -> AwsOptions {
    AwsOptions { profile: g.profile.clone(), region: g.region.clone(), endpoint_url: g.endpoint_url.clone() }
}

/// Settings from the file, the flags, and the AWS region fallbacks.
pub async fn load_settings(g: &GlobalArgs) -> Result<Settings> {
    let fallback = aws::fallback_region(g.profile.as_deref()).await;
    config::load(g.config.as_deref(), &overrides(g), fallback)
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
    let conf = aws::load(&aws_options(g), region).await?;
    Ok(Clients::new(conf))
}

pub async fn run(cli: Cli) -> Result<i32> {
    let g = &cli.global;
    match &cli.command {
        Command::Init { path } => init(g, path.clone()),
        Command::Whoami => whoami(g).await,
        Command::Render(args) => render_cmd(g, args).await,
        Command::Simulate(args) => crate::simulate::run(g, args).await,
        Command::Check { snapshot } => check_cmd(g, snapshot.as_deref()).await,
        Command::Snapshot { out, redact, force } => snapshot_cmd(g, out, *redact, *force).await,
        Command::Explain { what } => explain_cmd(g, what).await,
        Command::Validate(args) => crate::validate::run(g, args).await,
        Command::Canary(args) => crate::canary::run(g, args).await,
        Command::Jobs { max } => crate::canary::jobs(g, *max).await,
        Command::Plan { detailed_exitcode } => plan_cmd(g, *detailed_exitcode).await,
        Command::Apply { yes, dry_run, backup_dir } => apply_cmd(g, *yes, *dry_run, backup_dir.clone()).await,
        Command::Rollback { backup, yes, backup_dir } => rollback_cmd(g, backup.clone(), *yes, backup_dir.clone()).await,
    }
}

fn init(g: &GlobalArgs, path: Option<PathBuf>) -> Result<i32> {
    let path = path.or_else(|| g.config.clone()).unwrap_or_else(|| PathBuf::from("bedbatch.toml"));
    let mut file = std::fs::OpenOptions::new().write(true).create_new(true).open(&path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::AlreadyExists {
            Error::Usage(format!("{} already exists; init never overwrites a settings file", path.display()))
        } else {
            Error::io(format!("cannot create {}", path.display()), e)
        }
    })?;
    file.write_all(config::STARTER.as_bytes()).map_err(|e| Error::io(path.display(), e))?;
    eprintln!("wrote {}; edit it, then run `bedbatch-doctor render`", path.display());
    Ok(EXIT_OK)
}

async fn whoami(g: &GlobalArgs) -> Result<i32> {
    let settings = load_settings(g).await?;
    let clients = connect(g, &settings).await?;
    let id = aws::whoami(&clients).await?;
    match g.output {
        OutputFormat::Json => println!("{}", serde_json::to_string_pretty(&id).expect("serialises")),
        OutputFormat::Text => {
            println!("arn:       {}", id.arn);
            println!("account:   {}", id.account);
            println!("user id:   {}", id.user_id);
            println!("partition: {}", id.partition);
        }
    }
    Ok(EXIT_OK)
}

async fn render_cmd(g: &GlobalArgs, args: &RenderArgs) -> Result<i32> {
    let settings = load_settings(g).await?;
    // Check the settings the documents need before any network call.
    require_job_settings(&settings)?;
    let renderer = Renderer::new(args.templates.as_deref())?;
    let mut caller_default = None;
    let account = match &args.account_id {
        Some(id) => {
            if id.len() != 12 || !id.bytes().all(|b| b.is_ascii_digit()) {
                return Err(Error::Usage(format!("--account-id {id:?}: an AWS account id is 12 digits")));
            }
            Account { id: id.clone(), partition: settings.partition()?.to_string() }
        }
        None => {
            let clients = connect(g, &settings).await?;
            let id = aws::whoami(&clients).await?;
            caller_default = Some(id.arn.clone());
            Account { id: id.account, partition: id.partition }
        }
    };
    let mut ctx = Context::new(&settings, &account)?;
    if ctx.caller_arn.is_none() {
        // Online, the caller defaults to whoever runs the tool.
        ctx.caller_arn = caller_default;
    }
    let mut docs = renderer.render(&ctx, args.document.as_deref())?;
    if let Some(bucket) = &args.bucket {
        if args.document.as_deref() != Some("bucket-policy") {
            return Err(Error::Usage("--bucket goes with --document bucket-policy".into()));
        }
        docs.retain(|d| d.bucket.as_deref() == Some(bucket.as_str()));
        if docs.is_empty() {
            let names: Vec<_> = ctx.buckets().into_iter().map(|b| b.name).collect();
            return Err(Error::Usage(format!("--bucket {bucket}: not one of the configured buckets ({})", names.join(", "))));
        }
    }
    match g.output {
        OutputFormat::Json => {
            let value = serde_json::json!({ "account_id": account.id, "partition": account.partition, "documents": docs });
            println!("{}", serde_json::to_string_pretty(&value).expect("serialises"));
        }
        OutputFormat::Text if args.document.is_some() => {
            if docs.len() > 1 {
                let names: Vec<_> = docs.iter().filter_map(|d| d.bucket.clone()).collect();
                return Err(Error::Usage(format!(
                    "input and output are in two buckets, so there are two bucket policies: add --bucket {}",
                    names.join(" or --bucket ")
                )));
            }
            println!("{}", docs[0].pretty());
        }
        OutputFormat::Text => {
            for (i, d) in docs.iter().enumerate() {
                if i > 0 {
                    println!();
                }
                println!("# {} — {}", d.name, describe(d));
                println!("{}", d.pretty());
            }
        }
    }
    Ok(EXIT_OK)
}

fn describe(d: &render::Rendered) -> String {
    match d.name.as_str() {
        "trust-policy" => format!("trust policy of {}", d.target),
        "role-policy" => format!("permissions (inline policy) of {}", d.target),
        "passrole-policy" => format!("inline policy for {}", d.target),
        _ => format!("bucket policy of {}", d.target),
    }
}

/// Takes a snapshot of the live account for the settings.
pub async fn take_snapshot(g: &GlobalArgs) -> Result<crate::snapshot::Snapshot> {
    let settings = load_settings(g).await?;
    require_job_settings(&settings)?;
    let clients = connect(g, &settings).await?;
    let id = aws::whoami(&clients).await?;
    crate::collect::snapshot(&clients, &settings, &id).await
}

async fn check_cmd(g: &GlobalArgs, snapshot: Option<&std::path::Path>) -> Result<i32> {
    let snap = match snapshot {
        Some(path) => {
            let text = std::fs::read_to_string(path).map_err(|e| Error::Usage(format!("cannot read snapshot {}: {e}", path.display())))?;
            crate::snapshot::Snapshot::from_json(&text).map_err(|e| Error::Usage(format!("snapshot {}: {e}", path.display())))?
        }
        None => match take_snapshot(g).await {
            Ok(s) => s,
            Err(Error::Credentials(msg)) => {
                let f = crate::findings::Finding::new(
                    "credentials-missing",
                    crate::findings::Severity::Error,
                    "AWS credentials",
                    msg.clone(),
                    "set AWS_PROFILE or --profile, run `aws sso login`, or export AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY",
                );
                let outcome = crate::checks::Outcome {
                    checks: vec![crate::checks::CheckLine { family: "identity", name: "AWS credentials are available".into(), passed: false }],
                    findings: vec![f],
                };
                print_outcome(g, &outcome);
                return Ok(crate::error::EXIT_AWS);
            }
            Err(e) => return Err(e),
        },
    };
    let outcome = crate::checks::run(&snap)?;
    print_outcome(g, &outcome);
    let errors = outcome.findings.iter().filter(|f| f.severity == crate::findings::Severity::Error).count();
    Ok(if errors > 0 { crate::error::EXIT_CHECK_FAILED } else { EXIT_OK })
}

fn print_outcome(g: &GlobalArgs, outcome: &crate::checks::Outcome) {
    match g.output {
        OutputFormat::Json => println!("{}", crate::report::json(outcome)),
        OutputFormat::Text => print!("{}", crate::report::text(outcome)),
    }
}

async fn snapshot_cmd(g: &GlobalArgs, out: &std::path::Path, redact: bool, force: bool) -> Result<i32> {
    if out.exists() && !force {
        return Err(Error::Usage(format!("{} exists; pass --force to overwrite it", out.display())));
    }
    let snap = take_snapshot(g).await?;
    let snap = if redact { snap.redact().map_err(Error::Usage)? } else { snap };
    let text = serde_json::to_string_pretty(&snap).expect("serialises");
    std::fs::write(out, text + "\n").map_err(|e| Error::io(format!("cannot write {}", out.display()), e))?;
    eprintln!("wrote {} ({} read failures){}", out.display(), snap.read_failures.len(), if redact { ", redacted" } else { "" });
    Ok(EXIT_OK)
}

async fn explain_cmd(g: &GlobalArgs, what: &str) -> Result<i32> {
    if let Some(code) = crate::findings::lookup(what.trim()) {
        match g.output {
            OutputFormat::Json => {
                println!("{}", serde_json::json!({"code": code.code, "family": code.family, "description": code.description, "long": code.long}))
            }
            OutputFormat::Text => print!("{}", code.long),
        }
        return Ok(EXIT_OK);
    }
    let codes = crate::findings::codes_for_message(what);
    if codes.is_empty() {
        if what.chars().all(|c| c.is_ascii_lowercase() || c == '-') {
            let known: Vec<_> = crate::findings::CODES.iter().map(|c| c.code).collect();
            return Err(Error::Usage(format!("unknown code {what:?}; codes: {}", known.join(", "))));
        }
        return Err(Error::Usage("no known cause matches this message; run `bedbatch-doctor check` to look for every cause".into()));
    }
    // Where an account is reachable (settings complete, credentials present), run the checks
    // behind those codes and say which apply.
    let checked = match take_snapshot(g).await {
        Ok(snap) => {
            let outcome = crate::checks::run(&snap)?;
            Ok(outcome.findings.into_iter().filter(|f| codes.contains(&f.code.as_str())).collect::<Vec<_>>())
        }
        Err(e) => Err(e.to_string()),
    };
    match g.output {
        OutputFormat::Json => {
            let (checked_flag, findings, why) = match &checked {
                Ok(f) => (true, serde_json::to_value(f).expect("serialises"), None),
                Err(e) => (false, serde_json::Value::Null, Some(e.clone())),
            };
            println!(
                "{}",
                serde_json::json!({"message": what, "codes": codes, "checked": checked_flag, "findings": findings, "not_checked_because": why})
            );
        }
        OutputFormat::Text => {
            println!("This message points at {}:", if codes.len() == 1 { "one cause" } else { "these causes" });
            for c in &codes {
                let code = crate::findings::lookup(c).expect("mapped codes exist");
                println!("  {} — {}", code.code, code.description);
            }
            match checked {
                Ok(found) if found.is_empty() => println!("\nThe account was checked: none of these causes is present now."),
                Ok(found) => {
                    println!("\nThe account was checked; found:");
                    for f in found {
                        let sev = serde_json::to_value(f.severity).ok().and_then(|v| v.as_str().map(String::from)).unwrap_or_default();
                        println!("  {sev}[{}]: {}\n    evidence: {}\n    fix: {}", f.code, f.title, f.evidence, f.fix.replace('\n', "\n    "));
                    }
                }
                Err(e) => println!("\n(The account was not checked: {e}. Run `bedbatch-doctor check` to see which cause applies, and `bedbatch-doctor explain CODE` for each.)"),
            }
        }
    }
    Ok(EXIT_OK)
}

/// Settings, clients, the caller's identity, the account, and who submits jobs.
struct PlanInputs {
    settings: Settings,
    clients: Clients,
    identity: aws::Identity,
    account: render::Account,
    caller: String,
}

async fn plan_inputs(g: &GlobalArgs) -> Result<PlanInputs> {
    let settings = load_settings(g).await?;
    require_job_settings(&settings)?;
    let clients = connect(g, &settings).await?;
    let identity = aws::whoami(&clients).await?;
    let caller = settings.caller_arn.as_ref().map(|c| c.arn.clone()).unwrap_or_else(|| identity.arn.clone());
    let account = render::Account { id: identity.account.clone(), partition: identity.partition.clone() };
    Ok(PlanInputs { settings, clients, identity, account, caller })
}

async fn plan_cmd(g: &GlobalArgs, detailed: bool) -> Result<i32> {
    let PlanInputs { settings, clients, account, caller, .. } = match plan_inputs(g).await {
        Ok(x) => x,
        Err(e) if detailed => {
            eprintln!("error: {e}");
            return Ok(1);
        }
        Err(e) => return Err(e),
    };
    let changes = match crate::apply::compute(&clients, &settings, &caller, &account).await {
        Ok(c) => c,
        Err(e) if detailed => {
            eprintln!("error: {e}");
            return Ok(1);
        }
        Err(e) => return Err(e),
    };
    match g.output {
        OutputFormat::Json => println!("{}", crate::apply::plan_json(&changes)),
        OutputFormat::Text => crate::apply::print_plan(&changes, false),
    }
    let pending = changes.iter().any(|c| matches!(c.action, crate::plan::Action::Create | crate::plan::Action::Update));
    Ok(if detailed && pending { 2 } else { EXIT_OK })
}

async fn apply_cmd(g: &GlobalArgs, yes: bool, dry_run: bool, backup_dir: Option<PathBuf>) -> Result<i32> {
    let PlanInputs { settings, clients, identity, account, caller } = plan_inputs(g).await?;
    let changes = crate::apply::compute(&clients, &settings, &caller, &account).await?;
    crate::apply::print_plan(&changes, true);
    let pending = changes.iter().filter(|c| matches!(c.action, crate::plan::Action::Create | crate::plan::Action::Update)).count();
    if pending == 0 {
        println!("Nothing to do: the account is set up (no write call made).");
    } else if dry_run {
        println!("--dry-run: nothing was changed.");
        return Ok(EXIT_OK);
    } else {
        let root = match backup_dir {
            Some(d) => d,
            None => crate::apply::default_backup_root()?,
        };
        if !crate::apply::confirm(&format!("Apply these {pending} changes?"), yes)? {
            println!("Nothing was changed.");
            return Ok(EXIT_OK);
        }
        crate::apply::apply(&clients, &settings, &account, &changes, &root).await?;
        println!("Applied {pending} changes.");
    }
    println!("\nChecking the result:");
    let snap = crate::collect::snapshot(&clients, &settings, &identity).await?;
    let outcome = crate::checks::run(&snap)?;
    print!("{}", crate::report::text(&outcome));
    // apply's exit code is about its writes; `check` gives the verdict's own exit code.
    Ok(EXIT_OK)
}

async fn rollback_cmd(g: &GlobalArgs, backup: Option<PathBuf>, yes: bool, backup_dir: Option<PathBuf>) -> Result<i32> {
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
        println!("{}: that apply changed nothing; nothing to roll back.", dir.display());
        return Ok(EXIT_OK);
    }
    println!("Rolling back {} (account {}, {}):", dir.display(), manifest.account, manifest.region);
    for s in &steps {
        println!("  {s}");
    }
    if !crate::apply::confirm(&format!("Roll back these {} changes?", steps.len()), yes)? {
        println!("Nothing was changed.");
        return Ok(EXIT_OK);
    }
    let mut settings = load_settings(g).await?;
    if settings.region.is_none() {
        settings.region = Some(manifest.region.clone());
    }
    let clients = connect(g, &settings).await?;
    let id = aws::whoami(&clients).await?;
    if id.account != manifest.account {
        return Err(Error::Usage(format!("the backup is of account {} but the credentials are for account {}", manifest.account, id.account)));
    }
    crate::apply::rollback(&clients, &manifest).await?;
    println!("Rolled back.");
    Ok(EXIT_OK)
}
