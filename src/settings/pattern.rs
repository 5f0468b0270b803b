//! Compiled patterns for the settings' rules, each compiled once.

use std::sync::OnceLock;

use regex::Regex;

pub(super) fn re(cell: &'static OnceLock<Regex>, pattern: &str) -> &'static Regex {
    cell.get_or_init(|| Regex::new(pattern).expect("static regex"))
}
