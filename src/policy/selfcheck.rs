//! The engine's self-check, shared by the `policy` fuzz target and the regression tests of what
//! it found: any text as a policy document, plain or URL-encoded, of either kind; what parses is
//! evaluated with its trace and by the fast `decide` for a few requests, and the two must agree.
//! It panics on a disagreement (that is its job): it is never called on a user's input.

use super::context::Context;
use super::document::{decode_document, Kind, Policy};
use super::evaluate::{decide, evaluate, NamedPolicy, PolicySet, PrincipalId, Request};

#[doc(hidden)]
pub fn evaluate_agrees_with_decide(text: &str) {
    let decoded = decode_document(text);
    for kind in [Kind::Identity, Kind::Resource] {
        for doc in [text, decoded.as_str()] {
            let Ok(policy) = Policy::parse_str(doc, kind) else { continue };
            let named = NamedPolicy { name: "fuzz".into(), policy };
            let set = match kind {
                Kind::Identity => PolicySet { identity: vec![named], ..Default::default() },
                Kind::Resource => PolicySet { resource: Some(named), ..Default::default() },
            };
            let mut ctx = Context::default();
            ctx.set("aws:SourceAccount", "123456789012");
            ctx.set("iam:PassedToService", "bedrock.amazonaws.com");
            ctx.set("aws:CurrentTime", "2026-11-25T05:00:00Z");
            ctx.set_many("aws:TagKeys", vec!["a".into(), "b".into()]);
            for (who, action, resource) in [
                ("arn:aws:iam::123456789012:user/analyst", "iam:PassRole", "arn:aws:iam::123456789012:role/service-role/R"),
                ("bedrock.amazonaws.com", "sts:AssumeRole", "arn:aws:iam::123456789012:role/R"),
                ("arn:aws:sts::123456789012:assumed-role/R/s", "s3:GetObject", "arn:aws:s3:::b/in/x.jsonl"),
            ] {
                let req = Request {
                    principal: PrincipalId::from_arn(who),
                    action: action.into(),
                    resource: resource.into(),
                    resource_account: String::new(),
                    context: ctx.clone(),
                };
                assert_eq!(evaluate(&req, &set).decision, decide(&req, &set), "decide and evaluate disagree: {kind:?} {action}");
            }
        }
    }
}
