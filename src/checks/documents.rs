//! A principal's policy documents as the checks read them: parsed, with those that do not parse
//! named (the identity policies) or making the checks that need them unknown (the boundary).

use crate::policy::{Kind, NamedPolicy, Policy};
use crate::snapshot::NamedDocument;

/// Parses the documents of a principal; those that do not parse are named, not dropped silently.
pub(crate) fn parse_docs(docs: &[NamedDocument], kind: Kind) -> (Vec<NamedPolicy>, Vec<String>) {
    let mut out = Vec::new();
    let mut errors = Vec::new();
    for d in docs {
        match Policy::from_value(&d.document, kind) {
            Ok(p) => out.push(NamedPolicy { name: d.name.clone(), policy: p }),
            Err(e) => errors.push(format!("{}: {e}", d.name)),
        }
    }
    (out, errors)
}

/// The permissions boundary, parsed. A boundary that does not parse is never dropped: dropping
/// it would only widen what is allowed (AWS: an action must be allowed by the boundary too,
/// "Permissions boundaries for IAM entities",
/// https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_boundaries.html), so every
/// check that needs it is unknown, with the parse error.
pub(crate) fn parse_boundary(b: &Option<NamedDocument>) -> Result<Option<NamedPolicy>, String> {
    match b {
        None => Ok(None),
        Some(b) => Policy::from_value(&b.document, Kind::Identity)
            .map(|p| Some(NamedPolicy { name: b.name.clone(), policy: p }))
            .map_err(|e| format!("the permissions boundary {} does not parse: {e}", b.name)),
    }
}

pub(crate) fn skipped_note(errors: &[String]) -> String {
    if errors.is_empty() {
        String::new()
    } else {
        format!(" (policies that do not parse were skipped: {})", errors.join("; "))
    }
}
