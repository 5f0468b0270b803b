//! The service role exists, and its trust policy lets `bedrock.amazonaws.com` assume it with
//! the context Bedrock supplies: aws:SourceAccount = the account, aws:SourceArn = a
//! model-invocation-job ARN of the region (AWS's "Create a custom service role for batch
//! inference", trust relationship section).

pub mod diags;
pub use diags::Code;

use super::outcome::Outcome;
use crate::desired::Desired;
use crate::findings::Code as AnyCode;
use crate::policy::{self, Context, Decision, Kind, NamedPolicy, Policy, PolicySet, PrincipalId, Request, ResourcePolicyKind};
use crate::snapshot::{Known, Snapshot};

const F: &str = Code::FAMILY;
const ASSUME: &str = "bedrock.amazonaws.com may assume the role";

fn assume_codes() -> Vec<AnyCode> {
    [Code::TrustWrongPrincipal, Code::TrustSourceAccountMismatch, Code::TrustSourceArnMismatch, Code::TrustUnsatisfiableCondition]
        .iter()
        .map(|c| (*c).into())
        .collect()
}

pub fn check(snap: &Snapshot, desired: &Desired, out: &mut Outcome) {
    let rctx = &desired.rctx;
    let role = match &snap.role {
        Known::Unknown(e) => {
            out.unknown(F, "the service role exists", &[Code::RoleMissing.into()], format!("the service role could not be read: {e}"));
            out.unknown(F, ASSUME, &assume_codes(), format!("the service role could not be read: {e}"));
            return;
        }
        Known::Value(None) => {
            let f = diags::role_missing(&rctx.role_arn, &rctx.role_name, &rctx.role_path, &desired.pretty("trust-policy"));
            out.check(F, "the service role exists", &[Code::RoleMissing.into()], vec![f]);
            return;
        }
        Known::Value(Some(r)) => r,
    };
    out.check(F, "the service role exists", &[Code::RoleMissing.into()], vec![]);
    let fix_trust = format!(
        "aws iam update-assume-role-policy --role-name {} --policy-document file://trust.json, with:\n{}",
        rctx.role_name,
        desired.pretty("trust-policy")
    );
    let policy = match Policy::from_value(&role.trust_policy, Kind::Resource) {
        Ok(p) => p,
        Err(e) => {
            out.check(F, ASSUME, &assume_codes(), vec![diags::does_not_parse(&role.arn, &e.to_string(), &fix_trust)]);
            return;
        }
    };
    let job_arn = format!("arn:{}:bedrock:{}:{}:model-invocation-job/bedbatchdoctorprobe", rctx.partition, rctx.region, rctx.account_id);
    let mut ctx = Context::default();
    ctx.set("aws:SourceAccount", &rctx.account_id);
    ctx.set("aws:SourceArn", &job_arn);
    ctx.set("aws:PrincipalServiceName", "bedrock.amazonaws.com");
    let req = Request {
        principal: PrincipalId::from_arn("bedrock.amazonaws.com"),
        action: "sts:AssumeRole".into(),
        resource: role.arn.clone(),
        resource_account: rctx.account_id.clone(),
        context: ctx,
    };
    let set = PolicySet {
        resource: Some(NamedPolicy { name: "trust policy".into(), policy: policy.clone() }),
        resource_kind: ResourcePolicyKind::RoleTrust,
        ..Default::default()
    };
    let eval = policy::evaluate(&req, &set);
    // Every principal an Allow statement trusts other than Bedrock.
    let others: Vec<String> = policy
        .statements
        .iter()
        .filter(|s| s.effect == policy::Effect::Allow)
        .filter_map(|s| s.principal.as_ref().map(|p| (s, p)))
        .flat_map(|(s, p)| {
            let label = s.label();
            match p {
                policy::Principal::Any => vec![format!("* (anyone, {label})")],
                policy::Principal::Map(m) => m
                    .iter()
                    .flat_map(|(k, v)| v.iter().map(move |x| (k.clone(), x.clone())))
                    .filter(|(k, x)| !(k == "Service" && x.eq_ignore_ascii_case("bedrock.amazonaws.com")))
                    .map(|(k, x)| format!("{k}: {x} ({label})"))
                    .collect(),
            }
        })
        .collect();
    let mut broad = vec![];
    if !others.is_empty() {
        broad.push(diags::broader(&role.arn, &others, &rctx.role_name, &desired.pretty("trust-policy")));
    }
    // Statements that would let Bedrock assume the role but for their conditions.
    let bedrock_statements: Vec<_> = policy
        .statements
        .iter()
        .filter(|s| s.effect == policy::Effect::Allow)
        .filter(|s| s.action.iter().flatten().any(|a| policy::matching::action_matches(a, "sts:AssumeRole")))
        .filter(|s| match &s.principal {
            Some(policy::Principal::Any) => true,
            Some(p) => {
                p.values("Service").iter().any(|v| v.eq_ignore_ascii_case("bedrock.amazonaws.com")) || p.values("AWS").iter().any(|v| v == "*")
            }
            None => false,
        })
        .collect();
    if eval.decision == Decision::Allow {
        out.check(F, ASSUME, &assume_codes(), vec![]);
        let guarded = bedrock_statements
            .iter()
            .any(|s| s.conditions.iter().any(|c| c.key.eq_ignore_ascii_case("aws:SourceAccount") || c.key.eq_ignore_ascii_case("aws:SourceArn")));
        let mut g = vec![];
        if !guarded {
            g.push(diags::no_guard(&role.arn, &serde_json::to_string_pretty(&role.trust_policy).unwrap_or_default(), &fix_trust));
        }
        out.check(F, "the trust is guarded against the confused deputy", &[Code::TrustNoConfusedDeputyGuard.into()], g);
        // Only once Bedrock is trusted: a trust that lacks Bedrock is trust-wrong-principal.
        out.check(F, "the role trusts only bedrock.amazonaws.com", &[Code::TrustBroaderThanNeeded.into()], broad);
        return;
    }
    let mut findings = Vec::new();
    if bedrock_statements.is_empty() || eval.decision == Decision::ExplicitDeny {
        let named: Vec<String> = policy
            .statements
            .iter()
            .filter_map(|s| s.principal.as_ref())
            .flat_map(|p| match p {
                policy::Principal::Any => vec!["*".to_string()],
                policy::Principal::Map(m) => m.iter().flat_map(|(k, v)| v.iter().map(move |x| format!("{k}: {x}"))).collect(),
            })
            .collect();
        findings.push(diags::wrong_principal(&role.arn, &eval.reason, &named, &fix_trust));
    } else {
        let mut seen = std::collections::HashSet::new();
        for t in eval.trace.iter().filter(|t| t.principal_match.is_some()) {
            for c in t.conditions.iter().filter(|c| !c.matched) {
                let supplied = match c.key.to_ascii_lowercase().as_str() {
                    "aws:sourceaccount" => format!("Bedrock supplies aws:SourceAccount = {}", rctx.account_id),
                    "aws:sourcearn" => format!(
                        "Bedrock supplies aws:SourceArn = arn:{}:bedrock:{}:{}:model-invocation-job/JOB_ID",
                        rctx.partition, rctx.region, rctx.account_id
                    ),
                    _ => format!("Bedrock supplies no {}", c.key),
                };
                let f = diags::condition_mismatch(&role.arn, &c.key, &t.statement, &c.operator, &c.reason, &supplied, &fix_trust);
                if seen.insert(f.code) {
                    findings.push(f);
                }
            }
        }
        if findings.is_empty() {
            findings.push(diags::denied(&role.arn, &eval.reason, &fix_trust));
        }
    }
    out.check(F, ASSUME, &assume_codes(), findings);
}
