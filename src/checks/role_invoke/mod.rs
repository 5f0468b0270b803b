//! The service role may invoke what the job uses: for an inference profile, the profile and the
//! foundation model in each Region the profile routes to (GetInferenceProfile's model list),
//! evaluated through the role's identity policies, boundary and explicit Denies, with
//! `aws:RequestedRegion` set to the Region of each resource. A bare foundation-model id needs
//! no invoke grant (AWS documents none), so no line is shown for it.

pub mod diags;
pub use diags::Code;

use super::documents::{parse_boundary, parse_docs, skipped_note};
use super::outcome::Outcome;
use crate::desired::{Desired, Sid};
use crate::policy::{self, Context, Decision, Kind, PolicySet, PrincipalId, Request};
use crate::snapshot::{Known, Snapshot};

const F: &str = Code::FAMILY;

pub fn check(snap: &Snapshot, desired: &Desired, out: &mut Outcome) {
    let Ok(m) = desired.settings.model() else { return };
    if !m.is_profile() {
        return;
    }
    let rctx = &desired.rctx;
    let name = format!("the role may invoke {} and the models it routes to", m.raw);
    let codes = [Code::RoleCannotInvokeModel.into()];
    let model = match &snap.model {
        Known::Value(s) => s,
        Known::Unknown(e) => return out.unknown(F, name, &codes, format!("the model could not be read: {e}")),
    };
    let profile = match (&model.profile, &model.profile_error) {
        (Some(p), _) => p,
        (None, Some(e)) => return out.unknown(F, name, &codes, format!("the inference profile could not be read: {e}")),
        // model-not-found covers a profile that does not exist.
        (None, None) => return,
    };
    let role = match &snap.role {
        Known::Value(Some(r)) => r,
        Known::Value(None) => return,
        Known::Unknown(e) => return out.unknown(F, name, &codes, format!("the service role could not be read: {e}")),
    };
    let (identity, errors) = parse_docs(&role.policies, Kind::Identity);
    let boundary = match parse_boundary(&role.boundary) {
        Ok(b) => b,
        Err(why) => return out.unknown(F, name, &codes, why),
    };
    let session = format!("arn:{}:sts::{}:assumed-role/{}/bedrock-batch", rctx.partition, rctx.account_id, rctx.role_name);
    let set = PolicySet { identity, boundary, ..Default::default() };
    let mut resources = vec![profile.arn.clone()];
    resources.extend(profile.models.iter().cloned());
    let denied: Vec<(String, policy::Evaluation)> = resources
        .iter()
        .filter_map(|arn| {
            let mut ctx = Context::default();
            ctx.set("aws:PrincipalArn", &role.arn);
            ctx.set("aws:PrincipalAccount", &rctx.account_id);
            ctx.set("aws:SecureTransport", "true");
            if let Some(region) = arn.split(':').nth(3).filter(|r| !r.is_empty()) {
                ctx.set("aws:RequestedRegion", region);
            }
            let req = Request {
                principal: PrincipalId::from_arn(&session),
                action: "bedrock:InvokeModel".into(),
                resource: arn.clone(),
                // Foundation models are owned by Bedrock, not by an account; profiles by the
                // account. Either way the role's own identity policies decide.
                resource_account: String::new(),
                context: ctx,
            };
            let e = policy::evaluate(&req, &set);
            (e.decision != Decision::Allow).then(|| (arn.clone(), e))
        })
        .collect();
    let mut f = vec![];
    if let Some((arn, eval)) = denied.first() {
        f.push(diags::denied(&m.raw, arn, eval, denied.len(), resources.len(), &desired.statement(Sid::InvokeModel), &skipped_note(&errors)));
    }
    out.check(F, name, &codes, f);
}
