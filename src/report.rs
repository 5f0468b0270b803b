//! The check report: readable (grouped by family, a line per check, colour on a terminal unless
//! NO_COLOR is set, the fix under each error) or JSON with a versioned schema.

use std::io::IsTerminal;

use serde_json::json;

use crate::checks::{Outcome, Status};
use crate::findings::{Code, Finding, Severity};
use crate::registry::{self, FAMILIES};

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

/// `{"version":1,"findings":[{"code","severity","title","resource","evidence","fix","consequences"?}],
/// "summary":{"errors","warnings","notes","checks","passed","failed","unknown","checks_passed","checks_total","complete"},"checks":[…],
/// "catalogue":{"as_of","source"},"exit_code"}`;
/// each check is `{"family","name","passed","status":"pass|fail|unknown","codes":[…],"reason"?}`.
pub fn json(outcome: &Outcome) -> serde_json::Value {
    let s = summary(&outcome.findings);
    let count = |st: Status| outcome.checks.iter().filter(|c| c.status == st).count();
    json!({
        "version": REPORT_VERSION,
        "findings": outcome.findings,
        "summary": {
            "errors": s.errors, "warnings": s.warnings, "notes": s.notes,
            "checks": outcome.checks.len(), "passed": count(Status::Pass), "failed": count(Status::Fail), "unknown": count(Status::Unknown),
            "checks_passed": count(Status::Pass), "checks_total": outcome.checks.len(),
            "complete": !outcome.incomplete(),
        },
        "checks": outcome.checks,
        "catalogue": {"as_of": crate::catalogue::as_of(), "source": crate::catalogue::source()},
        "exit_code": outcome.exit_code().code(),
    })
}

/// `check --output sarif`: SARIF 2.1.0 (OASIS Static Analysis Results Interchange Format). One
/// rule per code of the registry (its one-line description, and its long form as help), one
/// result per finding (level from the severity; the ARN or S3 URI at fault as a logical
/// location, since it is not a file; the evidence and the fix in the message), the consequences
/// folded under a cause as results of their own with the cause named; and each check that could
/// not run as a tool notification, with the invocation marked unsuccessful — a check that did
/// not run is never shown as a pass there either.
pub fn sarif(outcome: &Outcome) -> serde_json::Value {
    let codes = registry::all();
    let rules: Vec<serde_json::Value> = codes
        .iter()
        .map(|c| {
            json!({
                "id": c.as_str(),
                "shortDescription": {"text": c.description()},
                "fullDescription": {"text": c.description()},
                "help": {"text": registry::long(*c), "markdown": registry::long(*c)},
                "defaultConfiguration": {"level": c.severity().as_str()},
                "properties": {"family": c.family()},
            })
        })
        .collect();
    let index = |code: Code| codes.iter().position(|c| *c == code).unwrap_or(0);
    let mut results = Vec::new();
    let mut push = |f: &Finding, cause: Option<&Finding>| {
        let mut text = format!("{}: {}", f.title, f.evidence);
        if let Some(c) = cause {
            text.push_str(&format!(" (follows from {}: {})", c.code.as_str(), c.resource));
        }
        results.push(json!({
            "ruleId": f.code.as_str(),
            "ruleIndex": index(f.code),
            "level": f.severity.as_str(),
            "message": {"text": format!("{text}\nFix: {}", f.fix)},
            "locations": [{"logicalLocations": [{"fullyQualifiedName": f.resource, "kind": "resource"}]}],
            "properties": {"resource": f.resource, "evidence": f.evidence, "fix": f.fix, "family": f.family()},
        }));
    };
    for f in &outcome.findings {
        push(f, None);
        for c in &f.consequences {
            push(c, Some(f));
        }
    }
    let notifications: Vec<serde_json::Value> = outcome
        .checks
        .iter()
        .filter(|c| c.status == Status::Unknown)
        .map(|c| {
            json!({
                "level": "error",
                "message": {"text": format!("the check \"{}\" ({}) could not run: {}", c.name, c.family, c.reason.as_deref().unwrap_or("a read failed"))},
                "descriptor": {"id": format!("unknown-{}", c.family)},
            })
        })
        .collect();
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "bedbatch-doctor",
                "version": env!("CARGO_PKG_VERSION"),
                "informationUri": "https://docs.aws.amazon.com/bedrock/latest/userguide/batch-inference.html",
                "rules": rules,
            }},
            "invocations": [{
                "executionSuccessful": !outcome.incomplete(),
                "exitCode": outcome.exit_code().code(),
                "toolExecutionNotifications": notifications,
            }],
            "results": results,
        }],
    })
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
        let loose: Vec<_> = outcome.findings.iter().filter(|f| f.family() == *family && is_read_failure(f)).collect();
        if checks.is_empty() && loose.is_empty() {
            continue;
        }
        out.push_str(&p.c("1", heading));
        out.push('\n');
        for c in &checks {
            let mark = match c.status {
                Status::Pass => p.c("32", "✓"),
                Status::Fail => p.c("31", "✗"),
                Status::Unknown => p.c("33", "?"),
            };
            out.push_str(&format!("  {mark} {}\n", c.name));
            if let Some(r) = &c.reason {
                let label = if c.status == Status::Unknown { "unknown" } else { "note" };
                out.push_str(&format!("      {label}: {}\n", r.replace('\n', "\n      ")));
            }
        }
        for f in &loose {
            out.push_str(&format!("  {} {} — {}\n", p.c("33", "!"), f.code, f.resource));
            out.push_str(&indent(&f.evidence, "      "));
            out.push('\n');
        }
    }
    let shown: Vec<_> = outcome.findings.iter().filter(|f| !is_read_failure(f)).collect();
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
        for c in &f.consequences {
            out.push_str(&format!("  consequence: {}[{}] {} — {}\n", c.severity.as_str(), c.code, c.title, c.resource));
        }
        out.push_str(&format!("  (bedbatch-doctor explain {})\n\n", f.code));
    }
    let s = summary(&outcome.findings);
    let unknown = outcome.checks.iter().filter(|c| c.status == Status::Unknown).count();
    let n = |c: usize, one: &str, many: &str| crate::output::count(c as u64, one, many);
    let line = format!(
        "{}, {}, {}; {} of {} passed{}",
        n(s.errors, "error", "errors"),
        n(s.warnings, "warning", "warnings"),
        n(s.notes, "note", "notes"),
        outcome.checks.iter().filter(|c| c.status == Status::Pass).count(),
        n(outcome.checks.len(), "check", "checks"),
        if unknown > 0 { format!(", {unknown} unknown") } else { String::new() }
    );
    let line = if s.errors == 0 && outcome.incomplete() { format!("{line}: INCOMPLETE, not a pass (exit 4)") } else { line };
    out.push_str(&if s.errors > 0 {
        p.c("31;1", &line)
    } else if unknown > 0 {
        p.c("33;1", &line)
    } else {
        p.c("32;1", &line)
    });
    out.push('\n');
    out.push_str(&format!("(dated model catalogue as of {}, used only where the account cannot answer)\n", crate::catalogue::as_of()));
    out
}

fn is_read_failure(f: &Finding) -> bool {
    matches!(f.code.as_str(), "read-denied" | "read-failed")
}
