//! How a read becomes a fact or an unknown: a failed read keeps AWS's error (denied, or
//! failed), and is listed once in the snapshot's `read_failures`.

use crate::error::{Error, Result};
use crate::policy::{Kind, NamedPolicy, Policy};
use crate::snapshot::{Known, ReadError, ReadErrorKind, ReadFailure};

pub(super) fn doc_value(text: &str) -> serde_json::Value {
    let decoded = crate::policy::decode_document(text);
    serde_json::from_str(&decoded).unwrap_or(serde_json::Value::String(decoded))
}

/// The kind of read failure an error is: a refusal, or anything else that left the fact unknown.
pub fn read_error(e: &Error) -> ReadError {
    let kind = match e {
        Error::Denied(_) => ReadErrorKind::Denied,
        _ => ReadErrorKind::Failed,
    };
    ReadError::new(kind, e.to_string())
}

pub(super) type Failures = std::sync::Mutex<Vec<ReadFailure>>;

pub(super) fn record(what: &str, err: &ReadError, failures: &Failures) {
    failures.lock().expect("lock").push(ReadFailure { what: what.to_string(), error: err.clone() });
}

pub(super) fn unknown<T>(what: &str, e: &Error, failures: &Failures) -> Known<T> {
    let err = read_error(e);
    record(what, &err, failures);
    Known::Unknown(err)
}

/// A live document parsed into the policy model; one that does not parse is an error naming it.
pub(super) fn parse(name: String, text: &str, kind: Kind) -> Result<NamedPolicy> {
    let policy = Policy::parse_str(text, kind).map_err(|e| Error::Aws(format!("{name}: the live document does not parse: {e}")))?;
    Ok(NamedPolicy { name, policy })
}
