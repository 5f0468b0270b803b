//! The registry: every family's codes joined, in report order, with their long forms (rustc's
//! `DIAGNOSTICS` table beside its small `ErrCode`). It sits above the families (`checks/*` and
//! `validate/`), which declare their codes with `family_codes!` and build findings with
//! `crate::findings` alone; `explain`, the reports and SARIF rules read codes back through here.

use serde::{Deserialize, Deserializer};

use crate::checks::{bucket, identity, jobs, kms, model, org, passrole, quotas, role_invoke, role_s3, trust};
use crate::families::diags as input;
use crate::findings::Code;

macro_rules! registry {
    ($( $t:ty ),* $(,)?) => {
        /// The families in report order: (family, heading).
        pub const FAMILIES: &[(&str, &str)] = &[ $( (<$t>::FAMILY, <$t>::HEADING), )* ];

        /// Every code, family by family in report order.
        pub fn all() -> Vec<Code> {
            let mut v = Vec::new();
            $( v.extend(<$t>::ALL.iter().map(|c| Code::from(*c))); )*
            v
        }

        /// The long form of `code`, `docs/codes/CODE.md`.
        pub fn long(code: Code) -> &'static str {
            $(
                if code.family() == <$t>::FAMILY {
                    if let Some(c) = <$t>::ALL.iter().find(|c| c.as_str() == code.as_str()) {
                        return c.long();
                    }
                }
            )*
            unreachable!("{code}: a family not in the registry (a test lists every family_codes! here)")
        }
    };
}

registry! {
    identity::Code,
    model::Code,
    trust::Code,
    role_s3::Code,
    role_invoke::Code,
    kms::Code,
    bucket::Code,
    passrole::Code,
    org::Code,
    quotas::Code,
    jobs::Code,
    input::Code,
}

/// The code named `s` (kebab-case), if there is one.
pub fn parse(s: &str) -> Option<Code> {
    all().into_iter().find(|c| c.as_str() == s)
}

/// `codes` in report order, each once.
pub fn in_report_order(codes: &[Code]) -> Vec<Code> {
    all().into_iter().filter(|c| codes.contains(c)).collect()
}

impl<'de> Deserialize<'de> for Code {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Code, D::Error> {
        let s = String::deserialize(d)?;
        parse(&s).ok_or_else(|| serde::de::Error::custom(format!("unknown finding code {s:?}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_is_unique_documented_and_parses_back() {
        let mut seen = std::collections::HashSet::new();
        for c in all() {
            assert!(seen.insert(c.as_str()), "duplicate code {}", c.as_str());
            let long = long(c);
            assert!(long.starts_with(&format!("# {}", c.as_str())), "{}: long form must start with its heading", c.as_str());
            for section in ["## Cause", "## How AWS shows it", "## Fix"] {
                assert!(long.contains(section), "{}: long form lacks {section}", c.as_str());
            }
            assert_eq!(parse(c.as_str()), Some(c));
            assert!(FAMILIES.iter().any(|(f, _)| *f == c.family()), "{}: family {} not in report order", c.as_str(), c.family());
        }
        assert!(parse("too-few-records").is_some(), "validate's codes are in the registry");
        assert!(parse("no-such-code").is_none());
    }

    #[test]
    fn every_family_codes_declaration_is_registered() {
        fn walk(dir: &std::path::Path, found: &mut Vec<String>) {
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    walk(&path, found);
                } else if path.extension().is_some_and(|e| e == "rs") {
                    let text = std::fs::read_to_string(&path).unwrap();
                    for line in text.lines().filter(|l| l.starts_with("crate::family_codes! {")) {
                        found.push(line.split('"').nth(1).unwrap().to_string());
                    }
                }
            }
        }
        let mut found = Vec::new();
        walk(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src"), &mut found);
        assert_eq!(found.len(), FAMILIES.len(), "declared: {found:?}");
        for family in found {
            assert!(FAMILIES.iter().any(|(f, _)| *f == family), "family {family} declares codes but is not in the registry");
        }
    }

    #[test]
    fn the_readme_lists_every_check_code_with_its_severity() {
        let readme = include_str!("../README.md");
        for c in all().into_iter().filter(|c| c.family() != "validate") {
            let row = format!("| `{}` | {} | {} |", c.as_str(), c.family(), c.severity().as_str());
            assert!(readme.contains(&row), "README's codes table lacks {row}");
        }
    }

    #[test]
    fn every_long_form_file_belongs_to_a_code() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/codes");
        for entry in std::fs::read_dir(dir).unwrap() {
            let name = entry.unwrap().file_name().into_string().unwrap();
            let code = name.trim_end_matches(".md");
            assert!(parse(code).is_some(), "docs/codes/{name} has no code");
        }
    }

    #[test]
    fn report_order_is_the_registry_order() {
        let codes =
            [Code::from(trust::Code::TrustSourceArnMismatch), Code::from(role_s3::Code::RoleCannotReadInput), trust::Code::RoleMissing.into()];
        let names: Vec<_> = in_report_order(&codes).iter().map(|c| c.as_str()).collect();
        assert_eq!(names, ["role-missing", "trust-source-arn-mismatch", "role-cannot-read-input"]);
        // `explain` and the canary show the states in that order, as a map from code to state.
        let related = crate::checks::Outcome::default().related(&in_report_order(&codes));
        let states = serde_json::to_string(&related.states).unwrap();
        assert_eq!(states, r#"{"role-missing":"not_checked","trust-source-arn-mismatch":"not_checked","role-cannot-read-input":"not_checked"}"#);
    }
}
