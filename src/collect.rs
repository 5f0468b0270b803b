//! Reads live IAM and S3 state: the policies that apply to a principal, a bucket's policy, a
//! role's trust policy. Every document is parsed into the policy model; a document that does
//! not parse is an error naming the policy.

use aws_sdk_iam::Client as Iam;

use crate::aws::{sdk_error, service_code, Clients};
use crate::config::{PrincipalArn, PrincipalKind};
use crate::error::{Error, Result};
use crate::policy::{Kind, NamedPolicy, Policy};

fn parse(name: String, text: &str, kind: Kind) -> Result<NamedPolicy> {
    let policy = Policy::parse_str(text, kind).map_err(|e| Error::Aws(format!("{name}: the live document does not parse: {e}")))?;
    Ok(NamedPolicy { name, policy })
}

/// The identity-side policies of a principal.
#[derive(Debug, Clone, Default)]
pub struct PrincipalPolicies {
    pub identity: Vec<NamedPolicy>,
    pub boundary: Option<NamedPolicy>,
}

async fn managed(iam: &Iam, arn: &str) -> Result<NamedPolicy> {
    let p = iam.get_policy().policy_arn(arn).send().await.map_err(|e| sdk_error("iam", "GetPolicy", e))?;
    let version = p.policy().and_then(|p| p.default_version_id()).unwrap_or("v1").to_string();
    let v = iam
        .get_policy_version()
        .policy_arn(arn)
        .version_id(&version)
        .send()
        .await
        .map_err(|e| sdk_error("iam", "GetPolicyVersion", e))?;
    let doc = v.policy_version().and_then(|v| v.document()).unwrap_or("{}");
    parse(format!("managed:{arn}"), doc, Kind::Identity)
}

/// Collects the identity policies (inline, attached managed, and for users the groups') and the
/// permissions boundary of an IAM user or role (an assumed-role session uses its role's).
pub async fn principal_policies(clients: &Clients, principal: &PrincipalArn) -> Result<PrincipalPolicies> {
    let iam = &clients.iam;
    let mut out = PrincipalPolicies::default();
    match principal.kind {
        PrincipalKind::User => {
            let name = &principal.name;
            let user = iam.get_user().user_name(name).send().await.map_err(|e| sdk_error("iam", "GetUser", e))?;
            if let Some(b) = user.user().and_then(|u| u.permissions_boundary()).and_then(|b| b.permissions_boundary_arn()) {
                out.boundary = Some(managed(iam, b).await?);
            }
            let names = iam.list_user_policies().user_name(name).send().await.map_err(|e| sdk_error("iam", "ListUserPolicies", e))?;
            for pname in names.policy_names() {
                let p = iam.get_user_policy().user_name(name).policy_name(pname).send().await.map_err(|e| sdk_error("iam", "GetUserPolicy", e))?;
                out.identity.push(parse(format!("inline:user/{name}/{pname}"), p.policy_document(), Kind::Identity)?);
            }
            let attached = iam.list_attached_user_policies().user_name(name).send().await.map_err(|e| sdk_error("iam", "ListAttachedUserPolicies", e))?;
            for a in attached.attached_policies() {
                if let Some(arn) = a.policy_arn() {
                    out.identity.push(managed(iam, arn).await?);
                }
            }
            let groups = iam.list_groups_for_user().user_name(name).send().await.map_err(|e| sdk_error("iam", "ListGroupsForUser", e))?;
            for g in groups.groups() {
                let gname = g.group_name();
                let names = iam.list_group_policies().group_name(gname).send().await.map_err(|e| sdk_error("iam", "ListGroupPolicies", e))?;
                for pname in names.policy_names() {
                    let p = iam.get_group_policy().group_name(gname).policy_name(pname).send().await.map_err(|e| sdk_error("iam", "GetGroupPolicy", e))?;
                    out.identity.push(parse(format!("inline:group/{gname}/{pname}"), p.policy_document(), Kind::Identity)?);
                }
                let attached = iam.list_attached_group_policies().group_name(gname).send().await.map_err(|e| sdk_error("iam", "ListAttachedGroupPolicies", e))?;
                for a in attached.attached_policies() {
                    if let Some(arn) = a.policy_arn() {
                        out.identity.push(managed(iam, arn).await?);
                    }
                }
            }
        }
        PrincipalKind::Role | PrincipalKind::AssumedRole => {
            let name = &principal.name;
            let role = iam.get_role().role_name(name).send().await.map_err(|e| sdk_error("iam", "GetRole", e))?;
            if let Some(b) = role.role().and_then(|r| r.permissions_boundary()).and_then(|b| b.permissions_boundary_arn()) {
                out.boundary = Some(managed(iam, b).await?);
            }
            let names = iam.list_role_policies().role_name(name).send().await.map_err(|e| sdk_error("iam", "ListRolePolicies", e))?;
            for pname in names.policy_names() {
                let p = iam.get_role_policy().role_name(name).policy_name(pname).send().await.map_err(|e| sdk_error("iam", "GetRolePolicy", e))?;
                out.identity.push(parse(format!("inline:role/{name}/{pname}"), p.policy_document(), Kind::Identity)?);
            }
            let attached = iam.list_attached_role_policies().role_name(name).send().await.map_err(|e| sdk_error("iam", "ListAttachedRolePolicies", e))?;
            for a in attached.attached_policies() {
                if let Some(arn) = a.policy_arn() {
                    out.identity.push(managed(iam, arn).await?);
                }
            }
        }
        PrincipalKind::Root => {
            return Err(Error::Usage("the account root user is not governed by identity policies; simulate an IAM user or role".into()));
        }
    }
    Ok(out)
}

/// A bucket's policy, or None when it has none.
pub async fn bucket_policy(clients: &Clients, bucket: &str) -> Result<Option<NamedPolicy>> {
    match clients.s3.get_bucket_policy().bucket(bucket).send().await {
        Ok(out) => Ok(Some(parse(format!("bucket-policy:{bucket}"), out.policy().unwrap_or("{}"), Kind::Resource)?)),
        Err(e) if service_code(&e) == Some("NoSuchBucketPolicy") => Ok(None),
        Err(e) => Err(sdk_error("s3", "GetBucketPolicy", e)),
    }
}

/// A role's trust policy.
pub async fn trust_policy(clients: &Clients, role_name: &str) -> Result<NamedPolicy> {
    let role = clients.iam.get_role().role_name(role_name).send().await.map_err(|e| sdk_error("iam", "GetRole", e))?;
    let doc = role.role().and_then(|r| r.assume_role_policy_document()).unwrap_or("{}");
    parse(format!("trust-policy:{role_name}"), doc, Kind::Resource)
}
