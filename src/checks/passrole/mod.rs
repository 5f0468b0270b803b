//! The caller: exists, may pass the role to Bedrock, may use the job actions. Evaluated on its
//! identity policies and boundary; when those could not be read, on IAM's own simulator's
//! decisions (iam:SimulatePrincipalPolicy) if the caller may call it; else unknown.

pub mod diags;
pub use diags::Code;

use super::documents::{parse_boundary, parse_docs, skipped_note};
use super::outcome::Outcome;
use crate::desired::{job_requests, Desired, Sid};
use crate::findings::Code as AnyCode;
use crate::policy::{self, Context, Decision, Kind, PolicySet, PrincipalId, Request};
use crate::snapshot::{Known, SimulatedDecision, Snapshot};

const F: &str = Code::FAMILY;

fn job_statements(desired: &Desired) -> String {
    [Sid::CreateJob, Sid::ManageJobs, Sid::ListJobs].iter().map(|s| desired.statement(*s)).collect::<Vec<_>>().join(",\n")
}

pub fn check(snap: &Snapshot, desired: &Desired, out: &mut Outcome) {
    let caller = &snap.caller.arn;
    let pass_line = format!("{caller} may pass the role to Bedrock");
    let jobs_line = format!("{caller} may create, read, list and stop batch jobs");
    let pass_codes: [AnyCode; 1] = [Code::CallerCannotPassRole.into()];
    let jobs_codes: [AnyCode; 1] = [Code::CallerCannotCreateJob.into()];
    match &snap.caller.exists {
        Known::Value(false) => {
            // Nothing else about a principal that does not exist is worth saying.
            out.check(F, format!("{caller} exists"), &[Code::CallerMissing.into()], vec![diags::caller_missing(caller)]);
            return;
        }
        Known::Value(true) => out.check(F, format!("{caller} exists"), &[Code::CallerMissing.into()], vec![]),
        Known::Unknown(e) => out.unknown(F, format!("{caller} exists"), &[Code::CallerMissing.into()], e.to_string()),
    }
    let docs = match &snap.caller.policies {
        Known::Value(d) => d,
        Known::Unknown(e) => {
            match &snap.caller.simulated {
                Some(sim) => simulated(snap, sim, desired, out),
                None => {
                    out.unknown(F, pass_line, &pass_codes, format!("its policies could not be read: {e}"));
                    out.unknown(F, jobs_line, &jobs_codes, format!("its policies could not be read: {e}"));
                }
            }
            return;
        }
    };
    let rctx = &desired.rctx;
    let (identity, errors) = parse_docs(docs, Kind::Identity);
    let boundary = match parse_boundary(&snap.caller.boundary) {
        Ok(b) => b,
        Err(why) => {
            out.unknown(F, pass_line, &pass_codes, why.clone());
            out.unknown(F, jobs_line, &jobs_codes, why);
            return;
        }
    };
    let set = PolicySet { identity: identity.clone(), boundary, ..Default::default() };
    let role_arn = match &snap.role {
        Known::Value(Some(r)) => r.arn.clone(),
        _ => rctx.role_arn.clone(),
    };
    let who = PrincipalId::from_arn(caller);
    let mut ctx = Context::default();
    ctx.set("aws:PrincipalArn", who.role_arn.as_deref().unwrap_or(&who.arn));
    ctx.set("aws:PrincipalAccount", &who.account);
    if let Some(u) = who.arn.split(":user/").nth(1) {
        ctx.set("aws:username", u.rsplit('/').next().unwrap_or(u));
    }
    let skipped = skipped_note(&errors);

    let mut pctx = ctx.clone();
    pctx.set("iam:PassedToService", "bedrock.amazonaws.com");
    let req =
        Request { principal: who.clone(), action: "iam:PassRole".into(), resource: role_arn.clone(), resource_account: String::new(), context: pctx };
    let e = policy::evaluate(&req, &set);
    let mut f = vec![];
    if e.decision != Decision::Allow {
        // Show the PassRole statements the caller does have, and why each misses.
        let mut near = Vec::new();
        for p in &identity {
            for st in &p.policy.statements {
                if st.effect == policy::Effect::Allow && st.action.iter().flatten().any(|a| policy::matching::action_matches(a, "iam:PassRole")) {
                    let resources = st.resource.clone().unwrap_or_default();
                    let cond: Vec<String> = st.conditions.iter().map(|c| format!("{} {} {:?}", c.operator, c.key, c.values)).collect();
                    near.push(format!(
                        "{} {} allows iam:PassRole on {:?}{}",
                        p.name,
                        st.label(),
                        resources,
                        if cond.is_empty() { String::new() } else { format!(" when {}", cond.join(" and ")) }
                    ));
                }
            }
        }
        let evidence = format!(
            "{}{}{skipped}",
            e.reason,
            if near.is_empty() {
                "; no statement of the caller allows iam:PassRole at all".to_string()
            } else {
                format!("; {} does not match {role_arn} passed to bedrock.amazonaws.com", near.join("; "))
            },
        );
        f.push(diags::cannot_pass_role(&role_arn, caller, evidence, &desired.statement(Sid::PassRole)));
    }
    out.check(F, format!("{caller} may pass {role_arn} to Bedrock"), &pass_codes, f);

    let mut denied = Vec::new();
    for (action, resource) in job_requests(rctx) {
        let req = Request {
            principal: who.clone(),
            action: action.clone(),
            resource: resource.clone(),
            resource_account: String::new(),
            context: ctx.clone(),
        };
        if policy::decide(&req, &set) != Decision::Allow {
            denied.push(format!("{action} on {resource}: {}", policy::evaluate(&req, &set).reason));
        }
    }
    let mut f = vec![];
    if !denied.is_empty() {
        f.push(diags::cannot_create_job(caller, format!("{}{skipped}", denied.join("; ")), &job_statements(desired)));
    }
    out.check(F, jobs_line, &jobs_codes, f);
}

/// The caller checks from iam:SimulatePrincipalPolicy's decisions (the policies were unreadable).
fn simulated(snap: &Snapshot, sim: &[SimulatedDecision], desired: &Desired, out: &mut Outcome) {
    let caller = &snap.caller.arn;
    let denied = |pred: &dyn Fn(&str) -> bool| -> Vec<String> {
        sim.iter()
            .filter(|d| pred(&d.action) && d.decision != "allowed")
            .map(|d| format!("{} on {}: {} (iam:SimulatePrincipalPolicy)", d.action, d.resource, d.decision))
            .collect()
    };
    let pass = denied(&|a| a == "iam:PassRole");
    let mut f = vec![];
    if !pass.is_empty() {
        f.push(diags::cannot_pass_role(caller, caller, pass.join("; "), &desired.statement(Sid::PassRole)));
    }
    out.check(F, format!("{caller} may pass the role to Bedrock (by IAM's simulator)"), &[Code::CallerCannotPassRole.into()], f);
    let jobs = denied(&|a| a.starts_with("bedrock:"));
    let mut f = vec![];
    if !jobs.is_empty() {
        f.push(diags::cannot_create_job(caller, jobs.join("; "), &job_statements(desired)));
    }
    out.check(F, format!("{caller} may create, read, list and stop batch jobs (by IAM's simulator)"), &[Code::CallerCannotCreateJob.into()], f);
}
