//! Parsing the command line: clap's rules, and those it cannot express — a command in a mode
//! that reads none of some of its flags refuses them (`explain CODE`, `check --snapshot`,
//! `simulate` from policy files, `validate --offline` on a local file, `render --account-id`).
//! Apart from `cli.rs` so the definition of the command line imports nothing that reads it (the
//! finding codes' registry, simulate's rule for when it reads the account).

use crate::cli::{Cli, Command};

/// The flags a command makes AWS calls with, beside `--profile` (which the settings also read,
/// for the region's fallback, offline too).
const AWS_CALLS: &[&str] = &["endpoint_url", "retry_mode", "max_attempts", "call_timeout"];

/// Which of its flags a command refuses in the mode its command line puts it in, and why.
struct Refusal {
    subcommand: &'static str,
    /// The flag's clap id → refused.
    refuses: fn(&str) -> bool,
    /// "cannot be used with {with}: {why}"
    with: String,
    why: &'static str,
}

fn refusal(cli: &Cli) -> Option<Refusal> {
    match &cli.command {
        Command::Explain { what, .. } => crate::registry::parse(what.trim()).map(|code| Refusal {
            subcommand: "explain",
            refuses: |id| !matches!(id, "what" | "output" | "help"),
            with: format!("a finding code ({code})"),
            why: "explain reads the settings, AWS and organization flags only for a pasted message, to check the account",
        }),
        Command::Check { snapshot: Some(_), .. } => Some(Refusal {
            subcommand: "check",
            refuses: |id| !matches!(id, "snapshot" | "output" | "help"),
            with: "'--snapshot'".into(),
            why: "a snapshot is checked with the settings and organization policies it was taken with, and no AWS call is made (take a new one with `bedbatch-doctor snapshot` and these flags)",
        }),
        // simulate reads the settings (and --profile) only to reach the account.
        Command::Simulate(args) => crate::commands::simulate::from_files_only(args).map(|with| Refusal {
            subcommand: "simulate",
            refuses: |id| matches!(id, "config" | "region" | "profile") || AWS_CALLS.contains(&id),
            with,
            why: "simulate reads nothing from the account when the policies are given as files (the settings and AWS flags only reach the account)",
        }),
        Command::Validate(args) if args.offline && !args.source.starts_with("s3://") => Some(Refusal {
            subcommand: "validate",
            refuses: |id| AWS_CALLS.contains(&id),
            with: "'--offline' and a local file".into(),
            why: "validate makes no AWS call then (an s3:// source is read with these flags)",
        }),
        Command::Render(args) if args.account_id.is_some() => Some(Refusal {
            subcommand: "render",
            refuses: |id| AWS_CALLS.contains(&id),
            with: "'--account-id'".into(),
            why: "render makes no AWS call when it is given the account",
        }),
        _ => None,
    }
}

impl Cli {
    /// The command line of this process; clap's own errors (and those of [`Cli::try_parse_args`])
    /// print and exit 2.
    pub fn parse_args() -> Cli {
        Cli::try_parse_args(std::env::args_os()).unwrap_or_else(|e| e.exit())
    }

    /// Parses a command line. Beyond clap's own rules: a flag the command's mode does not read
    /// (see [`refusal`]) given on the command line is clap's "cannot be used with" error (exit 2),
    /// naming it. A value from the environment (`AWS_PROFILE`) is not a flag given.
    pub fn try_parse_args<I, T>(args: I) -> Result<Cli, clap::Error>
    where
        I: IntoIterator<Item = T>,
        T: Into<std::ffi::OsString> + Clone,
    {
        use clap::{CommandFactory, FromArgMatches};
        let mut cmd = Cli::command();
        let matches = cmd.try_get_matches_from_mut(args)?;
        let cli = Cli::from_arg_matches(&matches).map_err(|e| e.format(&mut cmd))?;
        let Some(r) = refusal(&cli) else {
            return Ok(cli);
        };
        let (Some(m), Some(sub)) = (matches.subcommand_matches(r.subcommand), cmd.find_subcommand_mut(r.subcommand)) else {
            return Ok(cli);
        };
        let given = sub
            .get_arguments()
            .filter(|a| (r.refuses)(a.get_id().as_str()))
            .find(|a| m.value_source(a.get_id().as_str()) == Some(clap::parser::ValueSource::CommandLine))
            .map(|a| format!("--{}", a.get_long().unwrap_or(a.get_id().as_str())));
        match given {
            Some(flag) => {
                Err(sub.error(clap::error::ErrorKind::ArgumentConflict, format!("the argument '{flag}' cannot be used with {}: {}", r.with, r.why)))
            }
            None => Ok(cli),
        }
    }
}
