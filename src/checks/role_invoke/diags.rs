//! The service role's right to invoke the model through an inference profile (AWS, "Create a
//! custom service role for batch inference", section "(Optional) Permissions to run batch
//! inference with inference profiles": `bedrock:InvokeModel` on the profile and on the
//! foundation model in every Region the profile routes to).

use crate::checks::role_s3::diags::Layer;
use crate::findings::Finding;
use crate::policy::Evaluation;

crate::family_codes! { "role_invoke", "Service role access to the model";
    RoleCannotInvokeModel = "role-cannot-invoke-model", Error, "The service role may not invoke the inference profile, or the model in a Region the profile routes to (bedrock:InvokeModel).";
}

/// The first ARN the role may not invoke, the layer that stops it, and the statement to add.
pub fn denied(model_id: &str, arn: &str, eval: &Evaluation, denied_count: usize, total: usize, statement: &str, skipped: &str) -> Finding {
    let layer = match Layer::of(eval) {
        Layer::ExplicitDeny => "an explicit Deny",
        Layer::Boundary => "the permissions boundary",
        Layer::NoAllow => "no identity policy allows it",
    };
    let fix = match Layer::of(eval) {
        Layer::ExplicitDeny => format!("remove or narrow the Deny ({}), which blocks bedrock:InvokeModel on {arn}", eval.reason),
        Layer::Boundary => format!("the permissions boundary must allow bedrock:InvokeModel on the profile and its routed models; add this statement to the boundary and the role:\n{statement}"),
        Layer::NoAllow => format!("add to the role's policy (`bedbatch-doctor apply` writes it; `render --document role-policy` shows it):\n{statement}"),
    };
    let more = if denied_count > 1 { format!(" ({denied_count} of the {total} resources are denied)") } else { String::new() };
    Finding::new(
        Code::RoleCannotInvokeModel,
        model_id,
        format!("bedrock:InvokeModel on {arn} is denied for the role ({layer}){more}: {}{skipped}", eval.reason),
        fix,
    )
}
