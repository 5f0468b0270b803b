//! The batch input validator (`validate FILE|s3://BUCKET/KEY`, and the check `prepare`, `run` and
//! `canary` make of the records they write), and what its command prints.
//!
//! - `engine.rs`: the [`Validator`] (lines in, the envelope, recordIds, file and job quotas) and
//!   the readers that feed it; `fast/` its one-pass parser, `ids.rs` its recordId table;
//! - `report.rs`: what a validation found (its cost: `crate::prices`);
//! - `text.rs` (the text count behind the token estimate);
//! - what the families' rules use and the engine too, under `src/families/`: `limits.rs`,
//!   `shapes.rs` (the shapes several families share, with their rules) and `diags.rs` (the
//!   codes), re-exported here as `validate::limits` and `validate::diags`;
//! - each family's own request shape and rules: `src/families/<family>.rs`.

pub mod engine;
/// The one-pass parser; its string scan also serves `run::fastfill`'s JSON escaping.
pub(crate) mod fast;
mod ids;
pub mod report;
#[cfg(test)]
mod tests;
pub mod text;

use serde_json::Value;

/// `validate`'s codes and limits live with the families' rules, which use them; re-exported
/// under their old paths.
pub use crate::families::{diags, limits};
pub use diags::Code;
pub use engine::{feed_buffer, validate_reader, Validator};
pub use limits::Limits;
pub use report::{Example, FileCount, Level, Problem, Report};
pub use text::{text_content, MEDIA_KEYS, TEXT_KEYS};

/// The invocation a JSONL input's records take when the user did not say: Converse when its
/// first record (`first`, see [`crate::run::source::Source::first_record`]) is unmistakably in
/// the Converse format (see [`crate::families::looks_like_converse`]), else the model's default.
/// True when the first record decided it (the caller says so).
pub fn told_invocation(profile: &crate::families::ModelProfile, first: Option<&[u8]>) -> (crate::families::Invocation, bool) {
    let input = first.and_then(|rec| serde_json::from_slice::<Value>(rec).ok()).and_then(|mut v| v.get_mut("modelInput").map(Value::take));
    match input {
        Some(input) if !profile.converse_only() && crate::families::looks_like_converse(profile.family, &input) => {
            (crate::families::Invocation::Converse, true)
        }
        _ => (profile.default_invocation(), false),
    }
}

/// Prints [`text`] (for `run start` and `prepare` when the records break the rules).
pub fn print_text(r: &Report, cost: Option<(f64, f64, String)>, model: &str) {
    print!("{}", text(r, cost, model));
}

/// Each problem with its level, code and count, and its examples: what `text` shows of them,
/// and `prepare` after the records it wrote.
pub fn problems_text(problems: &[Problem], out: &mut String) {
    use std::fmt::Write;
    for p in problems {
        let _ = writeln!(out, "{}[{}]: {} occurrence{}", p.level.as_str(), p.code.as_str(), p.count, if p.count == 1 { "" } else { "s" });
        for e in &p.examples {
            if e.line > 0 {
                match &e.file {
                    Some(f) => {
                        let _ = writeln!(out, "  {f} line {}: {}", e.line, e.message);
                    }
                    None => {
                        let _ = writeln!(out, "  line {}: {}", e.line, e.message);
                    }
                }
            } else {
                let _ = writeln!(out, "  {}", e.message);
            }
        }
        if p.count as usize > p.examples.len() {
            let _ = writeln!(out, "  … and {} more", p.count as usize - p.examples.len());
        }
    }
}

/// The report for people: the input, each problem with its examples, the estimate, the verdict.
pub fn text(r: &Report, cost: Option<(f64, f64, String)>, model: &str) -> String {
    use std::fmt::Write;
    let n = crate::output::count;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{}: {} on {} ({} blank), {}, {:?} shape",
        r.source,
        n(r.records, "record", "records"),
        n(r.lines, "line", "lines"),
        r.blank_lines,
        n(r.bytes, "byte", "bytes"),
        r.family
    );
    if !r.files.is_empty() {
        let _ = writeln!(out, "one job of {}:", n(r.files.len() as u64, "file", "files"));
        for f in &r.files {
            let _ = writeln!(out, "  {}: {}, {}", f.name, n(f.records, "record", "records"), n(f.bytes, "byte", "bytes"));
        }
    }
    problems_text(&r.problems, &mut out);
    let _ = writeln!(
        out,
        "input tokens (estimate, characters of text content / 4): {}; output tokens ceiling (sum of each record's maximum): {}",
        r.input_tokens_estimate, r.output_tokens_ceiling
    );
    if r.media_not_estimated > 0 {
        let _ = writeln!(
            out,
            "  {} not in the estimate (their tokens depend on pixels and pages)",
            n(r.media_not_estimated, "image or document", "images and documents")
        );
    }
    if r.records_without_max_tokens > 0 {
        let _ = writeln!(
            out,
            "  {} no maximum output: counted at the model's limit where the catalogue knows it",
            n(r.records_without_max_tokens, "record declares", "records declare")
        );
    }
    match cost {
        Some((lo, hi, asof)) => {
            let _ = writeln!(out, "estimated batch cost: {} to {} (prices as of {asof}, batch = half the on-demand price)", dollars(lo), dollars(hi));
        }
        None => {
            let _ = writeln!(out, "estimated batch cost: unknown (no price for {model} in the price table; pass --prices FILE)");
        }
    }
    let errors = r.errors();
    let _ = writeln!(out, "{}", if errors == 0 { "OK: no errors".to_string() } else { n(errors, "error", "errors") });
    out
}

/// A cost for people: under a cent is "< $0.01", not "$0.0000".
pub fn dollars(v: f64) -> String {
    if v > 0.0 && v < 0.01 {
        "< $0.01".into()
    } else {
        format!("${v:.2}")
    }
}
