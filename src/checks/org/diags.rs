//! Organization policies: the SCPs and RCPs that bind the account allow the requests a batch
//! job makes (the caller's job creation and PassRole; the service role's S3, KMS and invoke
//! requests, the last in every Region an inference profile routes to).

use crate::findings::Finding;

crate::family_codes! { "org", "Organization policies";
    ScpDenies = "scp-denies", Error, "A service control policy (or resource control policy) of the organization blocks a request the batch job makes.";
    OrgPoliciesUnknown = "org-policies-unknown", Note, "The organization's SCPs and RCPs could not be read and none were given, so they were not evaluated.";
}

/// One blocked request: who, what, where, and the policy and statement that block it.
pub fn denies(who: &str, action: &str, resource: &str, region: Option<&str>, reason: &str, source: &str) -> Finding {
    let region_note = region.map(|r| format!(" (aws:RequestedRegion {r})")).unwrap_or_default();
    let via = if source == "files" { "in the --scp/--rcp files" } else { "attached in AWS Organizations" };
    Finding::new(
        Code::ScpDenies,
        resource,
        format!("{action} by {who} on {resource}{region_note} is blocked by the organization's policies {via}: {reason}"),
        format!(
            "no IAM change in the account can override an SCP or RCP: ask the organization's administrators to exempt this request (for a Region lock, allow {} or exempt the role with an aws:PrincipalArn condition), or use a model/profile whose Regions the policy allows",
            region.unwrap_or("the Region")
        ),
    )
}

pub fn unknown(error: &str) -> Finding {
    Finding::new(
        Code::OrgPoliciesUnknown,
        "AWS Organizations",
        format!("the SCPs and RCPs could not be read: {error}"),
        "only the management account and a delegated administrator may read them: run from one, or pass the policies that bind the account with --scp FILE / --rcp FILE (repeatable)",
    )
}
