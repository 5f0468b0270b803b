//! The `bedbatch-doctor` binary: parse arguments, run, map errors to exit codes.

use clap::Parser;

fn main() {
    let cli = bedbatch_doctor::cli::Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            std::process::exit(bedbatch_doctor::error::EXIT_USAGE);
        }
    };
    let code = runtime.block_on(async {
        match bedbatch_doctor::app::run(cli).await {
            Ok(code) => code,
            Err(e) => {
                eprintln!("error: {e}");
                e.exit_code()
            }
        }
    });
    std::process::exit(code);
}
