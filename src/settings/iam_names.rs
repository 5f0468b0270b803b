//! IAM's rules for the names the tool writes: role names, role paths and tags (IAM API
//! reference, CreateRole: RoleName [\w+=,.@-]{1,64}, Path (/)|(/[\x21-\x7E]+/); "Tagging IAM
//! resources": at most 50 tags, keys 1-128 and values 0-256 characters, no aws: prefix).

use std::collections::BTreeMap;
use std::sync::OnceLock;

use regex::Regex;

use super::pattern::re;

pub fn validate_role_name(v: &str) -> std::result::Result<String, String> {
    static RE: OnceLock<Regex> = OnceLock::new();
    if v.is_empty() || v.chars().count() > 64 {
        return Err(format!("IAM role names are 1 to 64 characters ({} given)", v.chars().count()));
    }
    if !re(&RE, r"^[\w+=,.@-]+$").is_match(v) || !v.is_ascii() {
        return Err("IAM role names may hold only letters, digits and +=,.@_- (pattern [\\w+=,.@-]+)".into());
    }
    Ok(v.to_string())
}

pub fn validate_role_path(v: &str) -> std::result::Result<String, String> {
    static RE: OnceLock<Regex> = OnceLock::new();
    if v.len() > 512 {
        return Err("IAM paths are at most 512 characters".into());
    }
    if !re(&RE, r"^(/|/[\x21-\x7E]+/)$").is_match(v) {
        return Err("an IAM path is \"/\" or starts and ends with \"/\" with printable ASCII and no spaces between (pattern (/)|(/[\\x21-\\x7E]+/)), e.g. \"/service-role/\"".into());
    }
    // The job's role must trust bedrock.amazonaws.com (Bedrock User Guide, "Create a custom
    // service role for batch inference"), a trust policy only a role the account owns can hold.
    // A service-linked role's is its service's: "The defined permissions include the trust policy
    // ... only [the service] can assume its roles" (IAM User Guide, each service's "Using
    // service-linked roles"), and IAM refuses any change to it (API reference, UpdateAssumeRolePolicy,
    // UnmodifiableEntity: "service-linked roles are protected AWS resources"). Roles under
    // /aws-reserved/ are IAM Identity Center's permission-set roles, trusted by its SAML provider.
    if v.starts_with("/aws-service-role/") {
        return Err("/aws-service-role/ holds service-linked roles: their trust policy is their own service's and cannot be changed (UnmodifiableEntity), so Bedrock can never assume one for a batch job; use a service role of your own, e.g. role_path \"/service-role/\"".into());
    }
    if v.starts_with("/aws-reserved/") {
        return Err("/aws-reserved/ holds IAM Identity Center's permission-set roles (trusted by its SAML provider, not bedrock.amazonaws.com), so Bedrock cannot assume one for a batch job; use a service role of your own, e.g. role_path \"/service-role/\"".into());
    }
    Ok(v.to_string())
}

pub fn validate_tags(tags: &BTreeMap<String, String>) -> std::result::Result<(), (String, String, String)> {
    static RE: OnceLock<Regex> = OnceLock::new();
    let allowed = re(&RE, r"^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$");
    if tags.len() > 50 {
        return Err(("*".into(), format!("{} tags", tags.len()), "IAM allows at most 50 tags on a resource".into()));
    }
    for (k, v) in tags {
        if k.is_empty() || k.chars().count() > 128 {
            return Err((k.clone(), k.clone(), "tag keys are 1 to 128 characters".into()));
        }
        if k.to_ascii_lowercase().starts_with("aws:") {
            return Err((k.clone(), k.clone(), "tag keys may not start with aws: (reserved by AWS)".into()));
        }
        if !allowed.is_match(k) {
            return Err((k.clone(), k.clone(), "tag keys may hold only letters, digits, spaces and _.:/=+-@".into()));
        }
        if v.chars().count() > 256 || !allowed.is_match(v) {
            return Err((k.clone(), v.clone(), "tag values are at most 256 letters, digits, spaces and _.:/=+-@".into()));
        }
    }
    Ok(())
}
