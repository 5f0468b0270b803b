//! The service role's access to S3 (AWS's "Create a custom service role for batch inference":
//! s3:GetObject and s3:ListBucket on the input, s3:PutObject on the output).

use crate::findings::Finding;
use crate::policy::evaluate::DeniedBy;
use crate::policy::Evaluation;

crate::family_codes! { "role_s3", "Service role access to S3";
    RoleCannotListInput = "role-cannot-list-input", Error, "The service role may not list the input location (s3:ListBucket).";
    RoleCannotReadInput = "role-cannot-read-input", Error, "The service role may not read the input objects (s3:GetObject).";
    RoleCannotWriteOutput = "role-cannot-write-output", Error, "The service role may not write the output (s3:PutObject).";
}

/// Which layer denied, from the evaluation: an explicit Deny, the permissions boundary, or no
/// Allow in the identity policies (and bucket policy).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layer {
    ExplicitDeny,
    Boundary,
    NoAllow,
}

impl Layer {
    pub fn of(eval: &Evaluation) -> Layer {
        match eval.denied_by {
            Some(DeniedBy::ExplicitDeny) => Layer::ExplicitDeny,
            Some(DeniedBy::Boundary) => Layer::Boundary,
            _ => Layer::NoAllow,
        }
    }
}

/// A denied S3 request of the role, with the fix for the layer that denied it.
pub fn denied(code: Code, resource: &str, what: &str, eval: &Evaluation, statement: &str, skipped: &str) -> Finding {
    let fix = match Layer::of(eval) {
        Layer::ExplicitDeny => format!("remove or narrow the Deny ({}), which blocks {what}", eval.reason),
        Layer::Boundary => {
            format!("the permissions boundary must allow {what}; add it to the boundary, or add this statement to both:\n{statement}")
        }
        Layer::NoAllow => format!("add to the role's policy (bedbatch-doctor render --document role-policy has it all):\n{statement}"),
    };
    Finding::new(code, resource, format!("{}{skipped}", eval.reason), fix)
}
