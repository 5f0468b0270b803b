//! One printer. In text mode everything a person reads goes to stdout; with `--output json`
//! stdout carries exactly one JSON document (the command's result, or `{"error": {"kind",
//! "message"}}`), and progress, plans shown before a confirmation, and prompts go to stderr.

use std::sync::OnceLock;

use crate::cli::OutputFormat;
use crate::error::{Error, ExitCode};

static FORMAT: OnceLock<OutputFormat> = OnceLock::new();

/// Sets the format once, at start-up (later calls are ignored).
pub fn set_format(f: OutputFormat) {
    let _ = FORMAT.set(f);
}

pub fn format() -> OutputFormat {
    FORMAT.get().copied().unwrap_or_default()
}

/// Whether stdout carries one machine document (JSON, or SARIF for `check`): then everything
/// for people goes to stderr.
pub fn is_json() -> bool {
    matches!(format(), OutputFormat::Json | OutputFormat::Sarif)
}

/// A line for people: stdout in text mode, stderr in JSON mode.
pub fn say_line(line: String) {
    if is_json() {
        eprintln!("{line}");
    } else {
        println!("{line}");
    }
}

/// `say!("…", args)`: a line for people (see [`say_line`]).
#[macro_export]
macro_rules! say {
    () => { $crate::output::say_line(String::new()) };
    ($($t:tt)*) => { $crate::output::say_line(format!($($t)*)) };
}

/// A command's typed result: its text for people, its JSON for machines, its exit code.
pub trait Report {
    fn text(&self) -> String;
    fn json(&self) -> serde_json::Value;
    fn exit(&self) -> ExitCode {
        ExitCode::Ok
    }
    /// The SARIF document, for results that have one (`check`); others print their JSON.
    fn sarif(&self) -> Option<serde_json::Value> {
        None
    }
}

/// Prints a result in the chosen format and returns its exit code.
pub fn emit(r: &dyn Report) -> ExitCode {
    if is_json() {
        let doc = if format() == OutputFormat::Sarif { r.sarif().unwrap_or_else(|| r.json()) } else { r.json() };
        println!("{}", serde_json::to_string_pretty(&doc).unwrap_or_else(|e| format!("{{\"error\":{{\"kind\":\"io\",\"message\":\"{e}\"}}}}")));
    } else {
        let t = r.text();
        if !t.is_empty() {
            print!("{t}");
            if !t.ends_with('\n') {
                println!();
            }
        }
    }
    r.exit()
}

/// Prints an error: `{"error": {"kind", "message"}}` on stdout in JSON mode, `error: …` on
/// stderr in text mode. Returns its exit code.
pub fn error(e: &Error) -> ExitCode {
    if is_json() {
        let v = serde_json::json!({"error": {"kind": e.kind(), "message": e.to_string()}});
        println!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
    } else {
        eprintln!("error: {e}");
    }
    e.exit()
}

/// A result that is only a JSON value and its text rendering.
pub struct Plain {
    pub text: String,
    pub json: serde_json::Value,
    pub exit: ExitCode,
}

impl Report for Plain {
    fn text(&self) -> String {
        self.text.clone()
    }
    fn json(&self) -> serde_json::Value {
        self.json.clone()
    }
    fn exit(&self) -> ExitCode {
        self.exit
    }
}

/// "1 record", "2 records": a count with its noun in the right number.
pub fn count(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}
