//! The check report: readable (grouped by family, a line per check, colour on a terminal unless
//! NO_COLOR is set, the fix under each error) or JSON with a versioned schema.

use std::io::IsTerminal;

use serde_json::json;

use crate::checks::Outcome;
use crate::findings::{Finding, Severity, FAMILIES};

pub const REPORT_VERSION: u32 = 1;

pub struct Summary {
    pub errors: usize,
    pub warnings: usize,
    pub notes: usize,
}

pub fn summary(findings: &[Finding]) -> Summary {
    Summary {
        errors: findings.iter().filter(|f| f.severity == Severity::Error).count(),
        warnings: findings.iter().filter(|f| f.severity == Severity::Warning).count(),
        notes: findings.iter().filter(|f| f.severity == Severity::Note).count(),
    }
}

/// `{"version":1,"findings":[{"code","severity","title","resource","evidence","fix"}],"summary":{"errors","warnings","notes"}}`
/// plus `checks`: every check that ran, `{"family","name","passed"}`.
pub fn json(outcome: &Outcome) -> String {
    let s = summary(&outcome.findings);
    let v = json!({
        "version": REPORT_VERSION,
        "findings": outcome.findings,
        "summary": {"errors": s.errors, "warnings": s.warnings, "notes": s.notes},
        "checks": outcome.checks,
    });
    serde_json::to_string_pretty(&v).expect("serialises")
}

struct Paint(bool);

impl Paint {
    fn new() -> Paint {
        Paint(std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()))
    }
    fn c(&self, code: &str, s: &str) -> String {
        if self.0 {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s.to_string()
        }
    }
}

fn indent(text: &str, by: &str) -> String {
    text.lines().map(|l| format!("{by}{l}")).collect::<Vec<_>>().join("\n")
}

pub fn text(outcome: &Outcome) -> String {
    let p = Paint::new();
    let mut out = String::new();
    for (family, heading) in FAMILIES {
        let checks: Vec<_> = outcome.checks.iter().filter(|c| c.family == *family).collect();
        let loose: Vec<_> = outcome.findings.iter().filter(|f| f.family() == *family && f.code == "read-denied").collect();
        if checks.is_empty() && loose.is_empty() {
            continue;
        }
        out.push_str(&p.c("1", heading));
        out.push('\n');
        for c in &checks {
            let mark = if c.passed { p.c("32", "✓") } else { p.c("31", "✗") };
            out.push_str(&format!("  {mark} {}\n", c.name));
        }
        for f in &loose {
            out.push_str(&format!("  {} {} — {}\n", p.c("33", "!"), f.code, f.resource));
            out.push_str(&indent(&f.evidence, "      "));
            out.push('\n');
        }
    }
    let shown: Vec<_> = outcome.findings.iter().filter(|f| f.code != "read-denied").collect();
    if !shown.is_empty() {
        out.push('\n');
    }
    for f in shown {
        let sev = match f.severity {
            Severity::Error => p.c("31;1", "error"),
            Severity::Warning => p.c("33;1", "warning"),
            Severity::Note => p.c("36", "note"),
        };
        out.push_str(&format!("{sev}[{}]: {}\n", f.code, f.title));
        out.push_str(&format!("  resource: {}\n", f.resource));
        out.push_str(&format!("  evidence:\n{}\n", indent(&f.evidence, "    ")));
        out.push_str(&format!("  fix:\n{}\n", indent(&f.fix, "    ")));
        out.push_str(&format!("  (bedbatch-doctor explain {})\n\n", f.code));
    }
    let s = summary(&outcome.findings);
    let line = format!(
        "{} errors, {} warnings, {} notes; {} of {} checks passed",
        s.errors,
        s.warnings,
        s.notes,
        outcome.checks.iter().filter(|c| c.passed).count(),
        outcome.checks.len()
    );
    out.push_str(&if s.errors > 0 { p.c("31;1", &line) } else { p.c("32;1", &line) });
    out.push('\n');
    out
}
