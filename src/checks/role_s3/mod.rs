//! The service role's session lists and reads the input and writes `<output>/<job id>/…`,
//! through its identity policies, boundary, explicit Denies and the bucket policy.

pub mod diags;
pub use diags::Code;

use super::documents::{parse_boundary, parse_docs, skipped_note};
use super::outcome::Outcome;
use crate::desired::{Desired, Sid};
use crate::policy::{self, Context, Decision, Kind, NamedPolicy, Policy, PolicySet, PrincipalId, Request};
use crate::snapshot::{Known, Snapshot};

const F: &str = Code::FAMILY;

pub fn check(snap: &Snapshot, desired: &Desired, out: &mut Outcome) {
    let rctx = &desired.rctx;
    let (Ok(input), Ok(output)) = (desired.settings.input(), desired.settings.output()) else { return };
    let lines = [
        (Code::RoleCannotListInput, format!("the role may list {}", input.uri)),
        (Code::RoleCannotReadInput, format!("the role may read the input under {}", input.uri)),
        (Code::RoleCannotWriteOutput, format!("the role may write under {}", output.uri)),
    ];
    let role = match &snap.role {
        Known::Value(Some(r)) => r,
        // role-missing covers it: nothing to evaluate.
        Known::Value(None) => return,
        Known::Unknown(e) => {
            for (code, name) in lines {
                out.unknown(F, name, &[code.into()], format!("the service role could not be read: {e}"));
            }
            return;
        }
    };
    let (identity, errors) = parse_docs(&role.policies, Kind::Identity);
    let boundary = match parse_boundary(&role.boundary) {
        Ok(b) => b,
        Err(why) => {
            for (code, name) in lines {
                out.unknown(F, name, &[code.into()], why.clone());
            }
            return;
        }
    };
    let session = format!("arn:{}:sts::{}:assumed-role/{}/bedrock-batch", rctx.partition, rctx.account_id, rctx.role_name);
    // The bucket policy takes part in every decision: unknown when it could not be read.
    let bucket_policy = |bucket: &str| -> Result<Option<NamedPolicy>, String> {
        let Some(b) = snap.bucket(bucket) else { return Ok(None) };
        match &b.policy {
            // A bucket policy that does not parse is not "no bucket policy": it may deny, so the
            // decision is unknown, with the parse error.
            Known::Value(Some(d)) => Policy::from_value(d, Kind::Resource)
                .map(|p| Some(NamedPolicy { name: format!("bucket policy of {bucket}"), policy: p }))
                .map_err(|e| format!("the bucket policy of s3://{bucket} does not parse: {e}")),
            Known::Value(None) => Ok(None),
            Known::Unknown(e) => Err(format!("the bucket policy of s3://{bucket} could not be read: {e}")),
        }
    };
    let eval_s3 = |action: &str, bucket: &str, resource: String, prefix: Option<String>| -> Result<policy::Evaluation, String> {
        let mut ctx = Context::default();
        ctx.set("aws:PrincipalArn", &role.arn);
        ctx.set("aws:PrincipalAccount", &rctx.account_id);
        ctx.set("aws:ResourceAccount", &rctx.account_id);
        ctx.set("aws:SecureTransport", "true");
        if let Some(p) = prefix {
            ctx.set("s3:prefix", &p);
        }
        let set = PolicySet { identity: identity.clone(), boundary: boundary.clone(), resource: bucket_policy(bucket)?, ..Default::default() };
        let req = Request {
            principal: PrincipalId::from_arn(&session),
            action: action.into(),
            resource,
            resource_account: rctx.account_id.clone(),
            context: ctx,
        };
        Ok(policy::evaluate(&req, &set))
    };
    let skipped = skipped_note(&errors);
    let mut record = |code: Code, name: String, resource: &str, what: &str, sid: Sid, eval: Result<policy::Evaluation, String>| match eval {
        Err(why) => out.unknown(F, name, &[code.into()], why),
        Ok(e) => {
            let mut f = vec![];
            if e.decision != Decision::Allow {
                f.push(diags::denied(code, resource, what, &e, &desired.statement(sid), &skipped));
            }
            out.check(F, name, &[code.into()], f);
        }
    };

    let list = eval_s3("s3:ListBucket", &input.bucket, rctx.input.bucket_arn.clone(), Some(input.folder()));
    record(Code::RoleCannotListInput, format!("the role may list {}", input.uri), &input.uri, "s3:ListBucket", Sid::ListInput, list);

    let key = snap.input_objects.value().and_then(|o| o.first()).map(|o| o.key.clone()).unwrap_or_else(|| {
        if input.is_object {
            input.key.clone()
        } else {
            format!("{}input.jsonl", input.folder())
        }
    });
    let read = eval_s3("s3:GetObject", &input.bucket, format!("arn:{}:s3:::{}/{}", rctx.partition, input.bucket, key), None);
    let uri = format!("s3://{}/{key}", input.bucket);
    record(Code::RoleCannotReadInput, format!("the role may read {uri}"), &uri, "s3:GetObject", Sid::ReadInput, read);

    let out_key = format!("{}JOB_ID/input.jsonl.out", output.folder());
    let write = eval_s3("s3:PutObject", &output.bucket, format!("arn:{}:s3:::{}/{}", rctx.partition, output.bucket, out_key), None);
    record(Code::RoleCannotWriteOutput, format!("the role may write under {}", output.uri), &output.uri, "s3:PutObject", Sid::WriteOutput, write);
}
