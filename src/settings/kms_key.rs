//! A KMS key as a setting: a key id or a key ARN (an alias cannot be the Resource of a
//! kms:Decrypt grant); an id's ARN is built in the job's region and account.

use std::sync::OnceLock;

use regex::Regex;

use super::pattern::re;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KmsKey {
    /// A key id (`1234abcd-…` or `mrk-…`); its ARN is built in the job's region and account.
    Id(String),
    /// A key ARN.
    Arn(String),
}

impl KmsKey {
    /// The key as it was given (id or ARN).
    pub fn as_str(&self) -> &str {
        match self {
            KmsKey::Id(i) | KmsKey::Arn(i) => i,
        }
    }

    pub fn parse(v: &str) -> std::result::Result<Self, String> {
        static ID: OnceLock<Regex> = OnceLock::new();
        static ARN: OnceLock<Regex> = OnceLock::new();
        let id = re(&ID, r"^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|mrk-[0-9a-f]{32})$");
        let arn = re(
            &ARN,
            r"^arn:(aws|aws-cn|aws-us-gov):kms:[a-z0-9-]+:[0-9]{12}:key/([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|mrk-[0-9a-f]{32})$",
        );
        if v.starts_with("alias/") || v.contains(":alias/") {
            return Err(
                "an alias cannot be the Resource of a kms:Decrypt grant; give the key id or key ARN (aws kms describe-key --key-id ALIAS shows it)"
                    .into(),
            );
        }
        if id.is_match(v) {
            Ok(KmsKey::Id(v.into()))
        } else if arn.is_match(v) {
            Ok(KmsKey::Arn(v.into()))
        } else {
            Err("expected a KMS key id (1234abcd-12ab-34cd-56ef-1234567890ab or mrk-…) or key ARN (arn:aws:kms:REGION:ACCOUNT:key/ID)".into())
        }
    }

    pub fn arn(&self, partition: &str, region: &str, account: &str) -> String {
        match self {
            KmsKey::Id(id) => format!("arn:{partition}:kms:{region}:{account}:key/{id}"),
            KmsKey::Arn(a) => a.clone(),
        }
    }
}
