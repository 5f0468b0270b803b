//! `explain CODE` (the long form) and `explain "MESSAGE"` (the codes a pasted AWS message
//! points at, and, where the account is reachable, what the checks behind them say now: found,
//! not found, or unknown — never "not found" for a check that could not run).

use serde_json::json;

use crate::checks::codes_for_message;
use crate::cli::GlobalArgs;
use crate::error::{Error, ExitCode, Result};
use crate::output::{emit, Plain};
use crate::registry;

pub async fn run(g: &GlobalArgs, what: &str) -> Result<ExitCode> {
    if let Some(code) = registry::parse(what.trim()) {
        return Ok(emit(&Plain {
            text: registry::long(code).to_string(),
            json: json!({"code": code, "family": code.family(), "severity": code.severity(), "description": code.description(), "long": registry::long(code)}),
            exit: ExitCode::Ok,
        }));
    }
    let codes = codes_for_message(what);
    if codes.is_empty() {
        if what.chars().all(|c| c.is_ascii_lowercase() || c == '-') {
            let known: Vec<_> = registry::all().iter().map(|c| c.as_str()).collect();
            return Err(Error::Usage(format!("unknown code {what:?}; codes: {}", known.join(", "))));
        }
        return Err(Error::Usage("no known cause matches this message; run `bedbatch-doctor check` to look for every cause".into()));
    }
    // Where an account is reachable (settings complete, credentials present), run the checks
    // behind those codes and say what each found.
    let checked = match crate::session::take_snapshot(g).await {
        Ok(snap) => crate::checks::run_snapshot(&snap).map_err(|e| e.to_string()),
        Err(e) => Err(e.to_string()),
    };
    let mut text = format!("This message points at {}:\n", if codes.len() == 1 { "one cause" } else { "these causes" });
    for c in &codes {
        text.push_str(&format!("  {} — {}\n", c, c.description()));
    }
    let json = match &checked {
        Ok(outcome) => {
            let related = outcome.related(&registry::in_report_order(&codes));
            text.push_str("\nThe account was checked:\n");
            text.push_str(&related.text());
            json!({"message": what, "codes": codes, "checked": true, "states": related.states, "findings": related.findings, "not_checked_because": null})
        }
        Err(e) => {
            text.push_str(&format!(
                "\n(The account was not checked: {e}. Run `bedbatch-doctor check` to see which cause applies, and `bedbatch-doctor explain CODE` for each.)\n"
            ));
            json!({"message": what, "codes": codes, "checked": false, "states": null, "findings": null, "not_checked_because": e})
        }
    };
    Ok(emit(&Plain { text, json, exit: ExitCode::Ok }))
}
