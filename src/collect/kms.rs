//! KMS reads: a key's ARN (DescribeKey) and its key policy (GetKeyPolicy, policy name
//! "default", the only one KMS has: AWS KMS API reference, GetKeyPolicy).

use super::read::{doc_value, unknown, Failures};
use crate::aws::{sdk_error, Clients};
use crate::snapshot::{KmsKeyState, Known};

/// One key: its ARN when DescribeKey answers (else none: the checks then match on the key as
/// given), and its policy, unknown with the error when GetKeyPolicy fails.
pub(super) async fn key_state(clients: &Clients, key: String, failures: &Failures) -> KmsKeyState {
    let arn = clients.kms.describe_key().key_id(&key).send().await.ok().and_then(|d| d.key_metadata().and_then(|m| m.arn().map(str::to_string)));
    let policy = match clients.kms.get_key_policy().key_id(arn.as_deref().unwrap_or(&key)).policy_name("default").send().await {
        Ok(p) => Known::Value(doc_value(p.policy().unwrap_or("{}"))),
        Err(e) => unknown(&format!("the key policy of {key}"), &sdk_error("kms", "GetKeyPolicy", e), failures),
    };
    KmsKeyState { key, arn, policy }
}
