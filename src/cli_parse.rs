//! Parsing the command line: clap's rules, and the one it cannot express — `explain CODE` takes
//! none of the account flags (it reads them only for a pasted message). Apart from `cli.rs` so the
//! definition of the command line imports nothing that reads it (the finding codes' registry).

use crate::cli::{Cli, Command};

impl Cli {
    /// The command line of this process; clap's own errors (and those of [`Cli::try_parse_args`])
    /// print and exit 2.
    pub fn parse_args() -> Cli {
        Cli::try_parse_args(std::env::args_os()).unwrap_or_else(|e| e.exit())
    }

    /// Parses a command line. Beyond clap's own rules: `explain CODE` refuses the settings, AWS
    /// and organization flags (clap's "cannot be used with" error, exit 2), which `explain`
    /// reads only for a pasted message (it then checks the account).
    pub fn try_parse_args<I, T>(args: I) -> Result<Cli, clap::Error>
    where
        I: IntoIterator<Item = T>,
        T: Into<std::ffi::OsString> + Clone,
    {
        use clap::{CommandFactory, FromArgMatches};
        let mut cmd = Cli::command();
        let matches = cmd.try_get_matches_from_mut(args)?;
        let cli = Cli::from_arg_matches(&matches).map_err(|e| e.format(&mut cmd))?;
        if let Command::Explain { what, .. } = &cli.command {
            if let Some(code) = crate::registry::parse(what.trim()) {
                let (Some(m), Some(sub)) = (matches.subcommand_matches("explain"), cmd.find_subcommand_mut("explain")) else {
                    return Ok(cli);
                };
                let given = sub
                    .get_arguments()
                    .filter(|a| !matches!(a.get_id().as_str(), "what" | "output" | "help"))
                    .find(|a| m.value_source(a.get_id().as_str()) == Some(clap::parser::ValueSource::CommandLine))
                    .map(|a| format!("--{}", a.get_long().unwrap_or(a.get_id().as_str())));
                if let Some(flag) = given {
                    return Err(sub.error(
                        clap::error::ErrorKind::ArgumentConflict,
                        format!(
                            "the argument '{flag}' cannot be used with a finding code ({code}): explain reads the settings, AWS and organization flags only for a pasted message, to check the account"
                        ),
                    ));
                }
            }
        }
        Ok(cli)
    }
}
