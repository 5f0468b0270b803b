//! The `bedbatch-doctor` binary: parse arguments, run, map the typed exit code.

fn main() {
    // A reader that closes the pipe early (`| head`) ends the process quietly, as it does any
    // Unix tool, instead of a panic in println!: SIGPIPE back to its default action (Rust
    // ignores it so that a write fails with EPIPE).
    #[cfg(unix)]
    // SAFETY: at the start of main, before any other thread exists; SIG_DFL is a valid action.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    // clap's own errors (an unknown flag, a bad value) exit 2 there, as usage errors do here.
    let cli = bedbatch_doctor::cli::Cli::parse_args();
    bedbatch_doctor::output::set_format(cli.global().output);
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            let err = bedbatch_doctor::error::Error::Io(format!("cannot start the async runtime: {e}"));
            std::process::exit(bedbatch_doctor::output::error(&err).code());
        }
    };
    let code = runtime.block_on(async {
        match bedbatch_doctor::commands::run(cli).await {
            Ok(code) => code,
            Err(e) => bedbatch_doctor::output::error(&e),
        }
    });
    std::process::exit(code.code());
}
