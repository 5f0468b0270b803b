//! Findings and the catalogue of their codes. Codes are stable (kebab-case) and never change
//! meaning once released; each has a long form in `docs/codes/CODE.md` (`explain CODE`).

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
    Note,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    pub code: String,
    pub severity: Severity,
    pub title: String,
    /// The ARN or S3 URI at fault.
    pub resource: String,
    /// What was compared: the statement, the values, the quota.
    pub evidence: String,
    /// What to change; for a missing grant, the exact JSON statement to add.
    pub fix: String,
}

/// One entry of the catalogue.
pub struct Code {
    pub code: &'static str,
    pub family: &'static str,
    /// One line.
    pub description: &'static str,
    /// The long form (Markdown).
    pub long: &'static str,
}

macro_rules! codes {
    ($( $code:literal, $family:literal, $desc:literal; )*) => {
        pub const CODES: &[Code] = &[
            $( Code { code: $code, family: $family, description: $desc, long: include_str!(concat!("../docs/codes/", $code, ".md")) }, )*
        ];
    };
}

codes! {
    "credentials-missing", "identity", "No AWS credentials could be found, so nothing could be checked.";
    "read-denied", "identity", "The caller may not read something the checks need; those checks could not run.";
    "model-not-found", "model", "The model id names no foundation model in the region.";
    "model-no-batch", "model", "Batch inference does not support the model in the region.";
    "model-access-not-granted", "model", "Access to the model has not been granted in the account.";
    "model-needs-inference-profile", "model", "The model is reachable only through an inference profile, but a bare model id is configured.";
    "model-batch-support-unknown", "model", "The model is not in bedbatch-doctor's catalogue, so batch support could not be confirmed.";
    "role-missing", "trust", "The service role does not exist.";
    "trust-wrong-principal", "trust", "The service role's trust policy does not let bedrock.amazonaws.com assume it.";
    "trust-source-account-mismatch", "trust", "The trust policy's aws:SourceAccount condition names another account.";
    "trust-source-arn-mismatch", "trust", "The trust policy's aws:SourceArn condition names another partition, region, account or resource type.";
    "trust-unsatisfiable-condition", "trust", "The trust policy requires a condition key Bedrock never supplies.";
    "trust-no-confused-deputy-guard", "trust", "The trust policy trusts Bedrock without an aws:SourceAccount or aws:SourceArn guard.";
    "role-cannot-list-input", "role_s3", "The service role may not list the input location (s3:ListBucket).";
    "role-cannot-read-input", "role_s3", "The service role may not read the input objects (s3:GetObject).";
    "role-cannot-write-output", "role_s3", "The service role may not write the output (s3:PutObject).";
    "role-cannot-use-kms-key", "kms", "The buckets use SSE-KMS and the service role's policies do not allow the key.";
    "bucket-missing", "bucket", "A configured bucket does not exist.";
    "bucket-wrong-region", "bucket", "A bucket is in another region than the jobs.";
    "bucket-other-account", "bucket", "A bucket belongs to another account.";
    "input-object-missing", "bucket", "No .jsonl input object exists at the input URI.";
    "caller-cannot-pass-role", "passrole", "The principal that submits jobs may not pass the service role to Bedrock (iam:PassRole).";
    "caller-cannot-create-job", "passrole", "The principal that submits jobs lacks bedrock:CreateModelInvocationJob or the job actions.";
    "quota-jobs-full", "quotas", "The account is at its quota of submitted and in-progress batch jobs for the model.";
    "quota-unreadable", "quotas", "The batch quotas could not be read.";
    "job-failed", "jobs", "A recent batch job failed.";
}

pub fn lookup(code: &str) -> Option<&'static Code> {
    CODES.iter().find(|c| c.code == code)
}

/// The families in report order.
pub const FAMILIES: &[(&str, &str)] = &[
    ("identity", "Identity"),
    ("model", "Model"),
    ("trust", "Service role trust"),
    ("role_s3", "Service role access to S3"),
    ("kms", "KMS"),
    ("bucket", "Buckets and input"),
    ("passrole", "Caller permissions"),
    ("quotas", "Quotas"),
    ("jobs", "Recent jobs"),
];

impl Finding {
    pub fn new(code: &str, severity: Severity, resource: impl Into<String>, evidence: impl Into<String>, fix: impl Into<String>) -> Finding {
        let title = lookup(code).map(|c| c.description).unwrap_or("unknown code").to_string();
        Finding { code: code.to_string(), severity, title, resource: resource.into(), evidence: evidence.into(), fix: fix.into() }
    }

    pub fn family(&self) -> &'static str {
        lookup(&self.code).map(|c| c.family).unwrap_or("identity")
    }
}

/// Maps an AWS error message or a failed job's message to the codes that explain it.
pub fn codes_for_message(text: &str) -> Vec<&'static str> {
    let t = text.to_ascii_lowercase();
    let mut out = Vec::new();
    let mut add = |c: &'static str| {
        if !out.contains(&c) {
            out.push(c);
        }
    };
    if t.contains("iam:passrole") {
        add("caller-cannot-pass-role");
    }
    if t.contains("perform: bedrock:") {
        add("caller-cannot-create-job");
    }
    if t.contains("assume") || t.contains("trust relationship") {
        add("trust-wrong-principal");
        add("trust-source-account-mismatch");
        add("trust-source-arn-mismatch");
        add("trust-unsatisfiable-condition");
    }
    if t.contains("role") && (t.contains("does not exist") || t.contains("not found")) {
        add("role-missing");
    }
    if t.contains("s3:listbucket") || t.contains("listing the input") {
        add("role-cannot-list-input");
    }
    if t.contains("s3:getobject") || t.contains("reading the input") {
        add("role-cannot-read-input");
    }
    if t.contains("s3:putobject") || t.contains("writing to the output") {
        add("role-cannot-write-output");
    }
    if t.contains("kms") {
        add("role-cannot-use-kms-key");
    }
    if t.contains("bucket does not exist") || t.contains("nosuchbucket") {
        add("bucket-missing");
    }
    if t.contains("no .jsonl input") || t.contains("nosuchkey") {
        add("input-object-missing");
    }
    if t.contains("batch inference is not supported") {
        add("model-no-batch");
    }
    if t.contains("on-demand throughput isn") || t.contains("inference profile") {
        add("model-needs-inference-profile");
    }
    if t.contains("don't have access to the model") || t.contains("access to the model") {
        add("model-access-not-granted");
    }
    if t.contains("model identifier is invalid") || t.contains("model") && t.contains("does not exist") {
        add("model-not-found");
    }
    if t.contains("servicequotaexceeded") || t.contains("maximum number of in-progress") {
        add("quota-jobs-full");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_and_documented() {
        let mut seen = std::collections::HashSet::new();
        for c in CODES {
            assert!(seen.insert(c.code), "duplicate code {}", c.code);
            assert!(c.long.starts_with(&format!("# {}", c.code)), "{}: long form must start with its heading", c.code);
            for section in ["## Cause", "## How AWS shows it", "## Fix"] {
                assert!(c.long.contains(section), "{}: long form lacks {section}", c.code);
            }
            assert!(FAMILIES.iter().any(|(f, _)| *f == c.family), "{}: unknown family {}", c.code, c.family);
        }
    }

    #[test]
    fn messages_map_to_codes() {
        assert_eq!(
            codes_for_message("User: arn:aws:iam::1:user/a is not authorized to perform: iam:PassRole on resource: arn:aws:iam::1:role/R"),
            vec!["caller-cannot-pass-role"]
        );
        assert!(codes_for_message("ValidationException: Batch inference is not supported for the requested model").contains(&"model-no-batch"));
    }
}
