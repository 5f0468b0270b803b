//! Findings and the one registry of their codes.
//!
//! Every family declares its codes in its own `diags.rs` with [`family_codes!`] (a `Code` enum,
//! kebab-case on the wire, each code with its severity, one-line description and long form in
//! `docs/codes/CODE.md`) and one constructor per diagnostic that owns the evidence format. The
//! [`Code`] enum here joins every family, `check`'s and `validate`'s, so a mistyped code does not
//! compile, `explain` parses into it, and a test proves every code has a long form.

pub mod registry;

use serde::{Deserialize, Serialize};

pub use registry::Code;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
    Note,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Note => "note",
        }
    }
}

/// Declares a family's `Code` enum: `Variant = "kebab-code", Severity, "one line";`.
#[macro_export]
macro_rules! family_codes {
    ($family:literal, $heading:literal; $( $variant:ident = $code:literal, $sev:ident, $desc:literal; )*) => {
        /// This family's finding codes (kebab-case on the wire; never renamed once released).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Code { $( $variant, )* }

        impl Code {
            pub const ALL: &'static [Code] = &[ $( Code::$variant, )* ];
            pub const FAMILY: &'static str = $family;
            pub const HEADING: &'static str = $heading;
            pub fn as_str(self) -> &'static str {
                match self { $( Code::$variant => $code, )* }
            }
            pub fn severity(self) -> $crate::findings::Severity {
                match self { $( Code::$variant => $crate::findings::Severity::$sev, )* }
            }
            pub fn description(self) -> &'static str {
                match self { $( Code::$variant => $desc, )* }
            }
            pub fn long(self) -> &'static str {
                match self { $( Code::$variant => include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/codes/", $code, ".md")), )* }
            }
        }

        impl serde::Serialize for Code {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }
    };
}

/// One diagnosis: a code, the resource at fault, what was compared, and the fix.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    pub code: Code,
    pub severity: Severity,
    pub title: String,
    /// The ARN or S3 URI at fault.
    pub resource: String,
    /// What was compared: the statement, the values, the quota.
    pub evidence: String,
    /// What to change; for a missing grant, the exact JSON statement to add.
    pub fix: String,
    /// Findings that follow from this one (a missing bucket cannot be read): listed under it,
    /// not counted as causes of their own.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub consequences: Vec<Finding>,
}

impl Finding {
    /// A finding with the code's own severity and title. Family constructors call this; checks
    /// call the constructors.
    pub fn new(code: impl Into<Code>, resource: impl Into<String>, evidence: impl Into<String>, fix: impl Into<String>) -> Finding {
        let code = code.into();
        Finding {
            code,
            severity: code.severity(),
            title: code.description().to_string(),
            resource: resource.into(),
            evidence: evidence.into(),
            fix: fix.into(),
            consequences: Vec::new(),
        }
    }

    pub fn family(&self) -> &'static str {
        self.code.family()
    }
}

/// Maps an AWS error message or a failed job's message to the codes that explain it.
pub fn codes_for_message(text: &str) -> Vec<Code> {
    use crate::checks::{bucket, jobs, kms, model, passrole, quotas, role_invoke, role_s3, trust};
    let t = text.to_ascii_lowercase();
    let mut out: Vec<Code> = Vec::new();
    let mut add = |c: Code| {
        if !out.contains(&c) {
            out.push(c);
        }
    };
    // AWS refuses the account, not a principal (no "User: … is not authorized").
    if t.contains("your account is not authorized") {
        add(jobs::Code::AccountNotAuthorized.into());
    }
    if t.contains("iam:passrole") {
        add(passrole::Code::CallerCannotPassRole.into());
    }
    if t.contains("perform: bedrock:") && !t.contains("perform: bedrock:invokemodel") {
        add(passrole::Code::CallerCannotCreateJob.into());
    }
    // "assumed-role/…" in a principal ARN is not a trust problem.
    if t.contains("sts:assumerole") || t.contains("trust relationship") || t.contains("not assume") || t.contains("assume the") {
        add(trust::Code::TrustWrongPrincipal.into());
        add(trust::Code::TrustSourceAccountMismatch.into());
        add(trust::Code::TrustSourceArnMismatch.into());
        add(trust::Code::TrustUnsatisfiableCondition.into());
    }
    if t.contains("role") && (t.contains("does not exist") || t.contains("not found")) {
        add(trust::Code::RoleMissing.into());
    }
    if t.contains("s3:listbucket") || t.contains("listing the input") {
        add(role_s3::Code::RoleCannotListInput.into());
    }
    if t.contains("s3:getobject") || t.contains("reading the input") {
        add(role_s3::Code::RoleCannotReadInput.into());
    }
    if t.contains("s3:putobject") || t.contains("writing to the output") {
        add(role_s3::Code::RoleCannotWriteOutput.into());
    }
    // AWS: when the role lacks the bucket key's grant, the job fails with a GetObject or
    // PutObject access-denied message that does not mention KMS; both causes are named.
    if t.contains("kms")
        || t.contains("s3:getobject")
        || t.contains("s3:putobject")
        || t.contains("reading the input")
        || t.contains("writing to the output")
    {
        add(kms::Code::RoleCannotUseKmsKey.into());
    }
    if t.contains("bedrock:invokemodel") {
        add(role_invoke::Code::RoleCannotInvokeModel.into());
    }
    if t.contains("expired") {
        add(jobs::Code::JobExpired.into());
    }
    if t.contains("bucket does not exist") || t.contains("nosuchbucket") {
        add(bucket::Code::BucketMissing.into());
    }
    if t.contains("no .jsonl input") || t.contains("nosuchkey") {
        add(bucket::Code::InputObjectMissing.into());
    }
    if t.contains("batch inference is not supported") {
        add(model::Code::ModelNoBatch.into());
    }
    if t.contains("on-demand throughput isn") || t.contains("inference profile") {
        add(model::Code::ModelNeedsInferenceProfile.into());
    }
    if t.contains("don't have access to the model") || t.contains("access to the model") {
        add(model::Code::ModelAccessNotGranted.into());
    }
    if t.contains("model identifier is invalid") || t.contains("model") && t.contains("does not exist") {
        add(model::Code::ModelNotFound.into());
    }
    if t.contains("servicequotaexceeded") || t.contains("maximum number of in-progress") {
        add(quotas::Code::QuotaJobsFull.into());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_is_unique_documented_and_parses_back() {
        let mut seen = std::collections::HashSet::new();
        for c in Code::all() {
            assert!(seen.insert(c.as_str()), "duplicate code {}", c.as_str());
            let long = c.long();
            assert!(long.starts_with(&format!("# {}", c.as_str())), "{}: long form must start with its heading", c.as_str());
            for section in ["## Cause", "## How AWS shows it", "## Fix"] {
                assert!(long.contains(section), "{}: long form lacks {section}", c.as_str());
            }
            assert_eq!(Code::parse(c.as_str()), Some(c));
            assert!(registry::FAMILIES.iter().any(|(f, _)| *f == c.family()), "{}: family {} not in report order", c.as_str(), c.family());
        }
        assert!(Code::parse("too-few-records").is_some(), "validate's codes are in the registry");
        assert!(Code::parse("no-such-code").is_none());
    }

    #[test]
    fn the_readme_lists_every_check_code_with_its_severity() {
        let readme = include_str!("../../README.md");
        for c in Code::all().into_iter().filter(|c| c.family() != "validate") {
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
            assert!(Code::parse(code).is_some(), "docs/codes/{name} has no code");
        }
    }

    #[test]
    fn messages_map_to_codes() {
        let codes = codes_for_message("User: arn:aws:iam::1:user/a is not authorized to perform: iam:PassRole on resource: arn:aws:iam::1:role/R");
        assert_eq!(codes.iter().map(|c| c.as_str()).collect::<Vec<_>>(), vec!["caller-cannot-pass-role"]);
        assert!(codes_for_message("ValidationException: Batch inference is not supported for the requested model")
            .iter()
            .any(|c| c.as_str() == "model-no-batch"));
    }

    fn names(text: &str) -> Vec<&'static str> {
        codes_for_message(text).iter().map(|c| c.as_str()).collect()
    }

    #[test]
    fn messages_users_see_map_to_their_causes() {
        // A missing key grant surfaces as a GetObject/PutObject denial that never says KMS.
        let get = names("User: arn:aws:sts::1:assumed-role/R/s is not authorized to perform: s3:GetObject on resource: arn:aws:s3:::b/in/x.jsonl");
        assert_eq!(get, vec!["role-cannot-read-input", "role-cannot-use-kms-key"], "an assumed-role ARN is not a trust problem");
        assert!(names("Access denied when writing to the output location s3://b/out/").contains(&"role-cannot-use-kms-key"));
        assert_eq!(names("AccessDeniedException: Your account is not authorized to perform this action."), vec!["account-not-authorized"]);
        assert_eq!(
            names("User: arn:aws:sts::1:assumed-role/R/s is not authorized to perform: bedrock:InvokeModel on resource: arn:aws:bedrock:us-east-2::foundation-model/x"),
            vec!["role-cannot-invoke-model"]
        );
        assert!(names("The job expired before it completed").contains(&"job-expired"));
        assert!(names("Bedrock could not assume the provided IAM role").contains(&"trust-wrong-principal"));
    }
}
