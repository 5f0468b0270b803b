//! Principal ARNs: the IAM user, IAM role or STS assumed-role session that submits jobs, or
//! the account root.

use std::sync::OnceLock;

use regex::Regex;

use super::pattern::re;

/// The principal that submits jobs: an IAM user, an IAM role, or an STS assumed-role session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrincipalArn {
    pub arn: String,
    pub partition: String,
    pub account: String,
    pub kind: PrincipalKind,
    /// User or role name (for an assumed role, the role's name).
    pub name: String,
    /// The path, when the ARN shows it (`/` for assumed roles, whose ARN omits it).
    pub path: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PrincipalKind {
    User,
    Role,
    AssumedRole,
    Root,
}

impl PrincipalArn {
    pub fn parse(v: &str) -> std::result::Result<Self, String> {
        static IAM: OnceLock<Regex> = OnceLock::new();
        static STS: OnceLock<Regex> = OnceLock::new();
        static ROOT: OnceLock<Regex> = OnceLock::new();
        let iam = re(&IAM, r"^arn:(aws|aws-cn|aws-us-gov):iam::([0-9]{12}):(user|role)(/(?:[\x21-\x7E]+/)?)?([\w+=,.@-]{1,64})$");
        let sts = re(&STS, r"^arn:(aws|aws-cn|aws-us-gov):sts::([0-9]{12}):assumed-role/([\w+=,.@-]{1,64})/([\w+=,.@-]{2,64})$");
        // Compiled once, as the others (it was compiled on every call: the `inputs` fuzz target
        // ran at 91 executions a second until this was found).
        let root = re(&ROOT, r"^arn:(aws|aws-cn|aws-us-gov):iam::([0-9]{12}):root$");
        if let Some(c) = iam.captures(v) {
            let path = c.get(4).map(|m| m.as_str()).unwrap_or("/");
            return Ok(PrincipalArn {
                arn: v.into(),
                partition: c[1].into(),
                account: c[2].into(),
                kind: if &c[3] == "user" { PrincipalKind::User } else { PrincipalKind::Role },
                name: c[5].into(),
                path: if path.is_empty() { "/".into() } else { path.into() },
            });
        }
        if let Some(c) = sts.captures(v) {
            return Ok(PrincipalArn {
                arn: v.into(),
                partition: c[1].into(),
                account: c[2].into(),
                kind: PrincipalKind::AssumedRole,
                name: c[3].into(),
                path: "/".into(),
            });
        }
        if let Some(c) = root.captures(v) {
            return Ok(PrincipalArn {
                arn: v.into(),
                partition: c[1].into(),
                account: c[2].into(),
                kind: PrincipalKind::Root,
                name: "root".into(),
                path: "/".into(),
            });
        }
        Err("expected an IAM user or role ARN (arn:aws:iam::123456789012:user/NAME, arn:aws:iam::123456789012:role/PATH/NAME) or an assumed-role ARN (arn:aws:sts::123456789012:assumed-role/ROLE/SESSION)".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn principal_forms() {
        let p = PrincipalArn::parse("arn:aws:iam::123456789012:role/service-role/Batch").unwrap();
        assert_eq!((p.kind, p.name.as_str(), p.path.as_str()), (PrincipalKind::Role, "Batch", "/service-role/"));
        let p = PrincipalArn::parse("arn:aws:sts::123456789012:assumed-role/AWSReservedSSO_Admin_abc/jane").unwrap();
        assert_eq!(p.kind, PrincipalKind::AssumedRole);
        assert!(PrincipalArn::parse("arn:aws:iam::12345:user/x").is_err());
    }
}
