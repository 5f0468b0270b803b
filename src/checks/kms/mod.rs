//! SSE-KMS buckets: the role needs the bucket's key through its identity policies (and
//! boundary) and the key policy, which must allow by itself or delegate to the account. An
//! unreadable encryption setting or key policy makes the check unknown: KMS never allows on
//! identity policies alone, so guessing either way would be wrong.

pub mod diags;
pub use diags::Code;

use super::documents::{parse_boundary, parse_docs};
use super::outcome::Outcome;
use crate::desired::Desired;
use crate::policy::{self, Context, Decision, Kind, NamedPolicy, Policy, PolicySet, PrincipalId, Request, ResourcePolicyKind};
use crate::snapshot::{Known, Snapshot};

const F: &str = Code::FAMILY;

pub fn check(snap: &Snapshot, desired: &Desired, out: &mut Outcome) {
    let rctx = &desired.rctx;
    let (Ok(input), Ok(output)) = (desired.settings.input(), desired.settings.output()) else { return };
    let Known::Value(Some(role)) = &snap.role else { return };
    let (identity, _) = parse_docs(&role.policies, Kind::Identity);
    let boundary = parse_boundary(&role.boundary);
    let session = format!("arn:{}:sts::{}:assumed-role/{}/bedrock-batch", rctx.partition, rctx.account_id, rctx.role_name);
    let codes = [Code::RoleCannotUseKmsKey.into()];
    for (bucket, action) in [(&input.bucket, "kms:Decrypt"), (&output.bucket, "kms:GenerateDataKey")] {
        let Some(b) = snap.bucket(bucket) else { continue };
        if b.missing() {
            continue;
        }
        match &b.encryption {
            Known::Unknown(e) => {
                out.unknown(
                    F,
                    format!("the role may use the key of s3://{bucket} ({action})"),
                    &codes,
                    format!("the default encryption of s3://{bucket} could not be read: {e}"),
                );
                continue;
            }
            Known::Value(_) if !b.uses_kms() => continue,
            Known::Value(_) => {}
        }
        let key = b.kms_key.clone().unwrap_or_else(|| "the bucket's KMS key".into());
        let state = snap.kms_keys.iter().find(|k| k.key == key || k.arn.as_deref() == Some(key.as_str()));
        let key_arn = state.and_then(|s| s.arn.clone()).unwrap_or_else(|| {
            if key.starts_with("arn:") {
                key.clone()
            } else {
                format!("arn:{}:kms:{}:{}:key/{key}", rctx.partition, rctx.region, rctx.account_id)
            }
        });
        let name = format!("the role may use {key} ({action})");
        let key_policy = match state.map(|s| &s.policy) {
            Some(Known::Value(v)) => match Policy::from_value(v, Kind::Resource) {
                Ok(p) => p,
                Err(e) => {
                    out.unknown(F, name, &codes, format!("the key policy of {key_arn} does not parse: {e}"));
                    continue;
                }
            },
            Some(Known::Unknown(e)) => {
                out.unknown(F, name, &codes, format!("the key policy of {key_arn} could not be read: {e}"));
                continue;
            }
            None => {
                out.unknown(F, name, &codes, format!("the key policy of {key_arn} was not read"));
                continue;
            }
        };
        let boundary = match &boundary {
            Ok(b) => b.clone(),
            Err(why) => {
                out.unknown(F, name, &codes, why.clone());
                continue;
            }
        };
        let mut ctx = Context::default();
        ctx.set("kms:ViaService", &format!("s3.{}.amazonaws.com", rctx.region));
        ctx.set("aws:PrincipalArn", &role.arn);
        ctx.set("aws:PrincipalAccount", &rctx.account_id);
        let set = PolicySet {
            identity: identity.clone(),
            boundary,
            resource: Some(NamedPolicy { name: format!("key policy of {key_arn}"), policy: key_policy }),
            resource_kind: ResourcePolicyKind::KmsKey,
            ..Default::default()
        };
        let req = Request {
            principal: PrincipalId::from_arn(&session),
            action: action.into(),
            resource: key_arn.clone(),
            resource_account: rctx.account_id.clone(),
            context: ctx,
        };
        let e = policy::evaluate(&req, &set);
        let mut f = vec![];
        if e.decision != Decision::Allow {
            f.push(diags::cannot_use_key(&key_arn, bucket, &key, action, &e, rctx));
        }
        out.check(F, name, &codes, f);
    }
}
