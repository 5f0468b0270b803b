//! IAM reads: the policies that apply to a principal (inline, attached managed, the groups' for
//! a user, and the permissions boundary), a role and its trust policy, one inline policy, and
//! IAM's policy simulator as the fallback when the caller may not read its own policies. Every
//! document is parsed into the policy model; a document that does not parse is an error naming
//! the policy.
//!
//! IAM answers `NoSuchEntity` (HTTP 404) for a user, role or policy that does not exist (IAM API
//! reference, "Common errors", and GetUser / GetRole / GetUserPolicy / GetRolePolicy: "Errors:
//! NoSuchEntity"), so that code is the fact "missing"; any other error leaves the fact unknown.

use aws_sdk_iam::Client as Iam;

use super::read::{doc_value, parse};
use crate::aws::{sdk_error, service_code, Clients};
use crate::error::{Error, Result};
use crate::policy::{Kind, NamedPolicy, Policy};
use crate::settings::{PrincipalArn, PrincipalKind};
use crate::snapshot::{NamedDocument, RoleState};

/// The identity-side policies of a principal.
#[derive(Debug, Clone, Default)]
pub struct PrincipalPolicies {
    pub identity: Vec<NamedPolicy>,
    pub boundary: Option<NamedPolicy>,
    /// For a role or an assumed-role session: the role's ARN as GetRole answers it, with its
    /// path (the session ARN omits the path; `aws:PrincipalArn` of a session is this ARN).
    pub role_arn: Option<String>,
}

async fn managed(iam: &Iam, arn: &str) -> Result<NamedPolicy> {
    let p = iam.get_policy().policy_arn(arn).send().await.map_err(|e| sdk_error("iam", "GetPolicy", e))?;
    let version = p.policy().and_then(|p| p.default_version_id()).unwrap_or("v1").to_string();
    let v = iam.get_policy_version().policy_arn(arn).version_id(&version).send().await.map_err(|e| sdk_error("iam", "GetPolicyVersion", e))?;
    let doc = v.policy_version().and_then(|v| v.document()).unwrap_or("{}");
    parse(format!("managed:{arn}"), doc, Kind::Identity)
}

/// The first answer about a principal: `None` when IAM says NoSuchEntity (the fact "missing").
fn found<T>(r: Result<T>) -> Result<Option<T>> {
    match r {
        Ok(v) => Ok(Some(v)),
        Err(Error::Missing(_)) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Whether an IAM user (`kind` "user") or role exists: GetUser / GetRole, NoSuchEntity is "no".
pub async fn principal_exists(iam: &Iam, kind: &str, name: &str) -> Result<bool> {
    let r = if kind == "user" {
        iam.get_user().user_name(name).send().await.map(|_| ()).map_err(|e| sdk_error("iam", "GetUser", e))
    } else {
        iam.get_role().role_name(name).send().await.map(|_| ()).map_err(|e| sdk_error("iam", "GetRole", e))
    };
    Ok(found(r)?.is_some())
}

/// Collects the identity policies (inline, attached managed, and for users the groups') and the
/// permissions boundary of an IAM user or role (an assumed-role session uses its role's).
/// `None`: the user or role does not exist.
pub async fn principal_policies(clients: &Clients, principal: &PrincipalArn) -> Result<Option<PrincipalPolicies>> {
    let iam = &clients.iam;
    let mut out = PrincipalPolicies::default();
    match principal.kind {
        PrincipalKind::User => {
            let name = &principal.name;
            let Some(user) = found(iam.get_user().user_name(name).send().await.map_err(|e| sdk_error("iam", "GetUser", e)))? else {
                return Ok(None);
            };
            if let Some(b) = user.user().and_then(|u| u.permissions_boundary()).and_then(|b| b.permissions_boundary_arn()) {
                out.boundary = Some(managed(iam, b).await?);
            }
            let names = iam.list_user_policies().user_name(name).send().await.map_err(|e| sdk_error("iam", "ListUserPolicies", e))?;
            for pname in names.policy_names() {
                let p = iam.get_user_policy().user_name(name).policy_name(pname).send().await.map_err(|e| sdk_error("iam", "GetUserPolicy", e))?;
                out.identity.push(parse(format!("inline:user/{name}/{pname}"), p.policy_document(), Kind::Identity)?);
            }
            let attached =
                iam.list_attached_user_policies().user_name(name).send().await.map_err(|e| sdk_error("iam", "ListAttachedUserPolicies", e))?;
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
                    let p = iam
                        .get_group_policy()
                        .group_name(gname)
                        .policy_name(pname)
                        .send()
                        .await
                        .map_err(|e| sdk_error("iam", "GetGroupPolicy", e))?;
                    out.identity.push(parse(format!("inline:group/{gname}/{pname}"), p.policy_document(), Kind::Identity)?);
                }
                let attached = iam
                    .list_attached_group_policies()
                    .group_name(gname)
                    .send()
                    .await
                    .map_err(|e| sdk_error("iam", "ListAttachedGroupPolicies", e))?;
                for a in attached.attached_policies() {
                    if let Some(arn) = a.policy_arn() {
                        out.identity.push(managed(iam, arn).await?);
                    }
                }
            }
        }
        PrincipalKind::Role | PrincipalKind::AssumedRole => {
            let name = &principal.name;
            let Some(role) = found(iam.get_role().role_name(name).send().await.map_err(|e| sdk_error("iam", "GetRole", e)))? else {
                return Ok(None);
            };
            out.role_arn = role.role().map(|r| r.arn().to_string());
            if let Some(b) = role.role().and_then(|r| r.permissions_boundary()).and_then(|b| b.permissions_boundary_arn()) {
                out.boundary = Some(managed(iam, b).await?);
            }
            let names = iam.list_role_policies().role_name(name).send().await.map_err(|e| sdk_error("iam", "ListRolePolicies", e))?;
            for pname in names.policy_names() {
                let p = iam.get_role_policy().role_name(name).policy_name(pname).send().await.map_err(|e| sdk_error("iam", "GetRolePolicy", e))?;
                out.identity.push(parse(format!("inline:role/{name}/{pname}"), p.policy_document(), Kind::Identity)?);
            }
            let attached =
                iam.list_attached_role_policies().role_name(name).send().await.map_err(|e| sdk_error("iam", "ListAttachedRolePolicies", e))?;
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
    Ok(Some(out))
}

/// A role's trust policy.
pub async fn trust_policy(clients: &Clients, role_name: &str) -> Result<NamedPolicy> {
    let role = clients.iam.get_role().role_name(role_name).send().await.map_err(|e| sdk_error("iam", "GetRole", e))?;
    let doc = role.role().and_then(|r| r.assume_role_policy_document()).unwrap_or("{}");
    parse(format!("trust-policy:{role_name}"), doc, Kind::Resource)
}

/// GetRole: `None` when IAM answers NoSuchEntity (the role does not exist).
pub async fn role(iam: &Iam, name: &str) -> Result<Option<aws_sdk_iam::operation::get_role::GetRoleOutput>> {
    match iam.get_role().role_name(name).send().await {
        Ok(r) => Ok(Some(r)),
        Err(e) if service_code(&e) == Some("NoSuchEntity") => Ok(None),
        Err(e) => Err(sdk_error("iam", "GetRole", e)),
    }
}

/// An inline policy's document as IAM returns it (URL-encoded), of a user or role (`holder`
/// "user" or "role"): GetUserPolicy / GetRolePolicy, `None` on NoSuchEntity (no such policy).
pub async fn inline_policy(iam: &Iam, holder: &str, name: &str, policy_name: &str) -> Result<Option<String>> {
    if holder == "user" {
        match iam.get_user_policy().user_name(name).policy_name(policy_name).send().await {
            Ok(p) => Ok(Some(p.policy_document().to_string())),
            Err(e) if service_code(&e) == Some("NoSuchEntity") => Ok(None),
            Err(e) => Err(sdk_error("iam", "GetUserPolicy", e)),
        }
    } else {
        match iam.get_role_policy().role_name(name).policy_name(policy_name).send().await {
            Ok(p) => Ok(Some(p.policy_document().to_string())),
            Err(e) if service_code(&e) == Some("NoSuchEntity") => Ok(None),
            Err(e) => Err(sdk_error("iam", "GetRolePolicy", e)),
        }
    }
}

/// The identity documents and the boundary of a principal, and for a role (or a role's
/// session) the role's ARN with its path.
pub(super) type Documents = (Vec<NamedDocument>, Option<NamedDocument>, Option<String>);

/// Raw documents of a principal, by name (kept as the account has them, for the snapshot);
/// `None` when the principal does not exist.
pub(super) async fn raw_principal_documents(clients: &Clients, principal: &PrincipalArn) -> Result<Option<Documents>> {
    let Some(found) = principal_policies(clients, principal).await? else { return Ok(None) };
    let to_doc = |p: &NamedPolicy| NamedDocument { name: p.name.clone(), document: policy_to_value(&p.policy) };
    Ok(Some((found.identity.iter().map(to_doc).collect(), found.boundary.as_ref().map(to_doc), found.role_arn)))
}

/// A parsed policy back to JSON (the parsed model keeps every element).
pub fn policy_to_value(p: &Policy) -> serde_json::Value {
    use serde_json::{json, Map, Value};
    let list = |v: &Vec<String>| if v.len() == 1 { json!(v[0]) } else { json!(v) };
    let principal = |p: &crate::policy::Principal| match p {
        crate::policy::Principal::Any => json!("*"),
        crate::policy::Principal::Map(m) => Value::Object(m.iter().map(|(k, v)| (k.clone(), list(v))).collect()),
    };
    let statements: Vec<Value> = p
        .statements
        .iter()
        .map(|s| {
            let mut o = Map::new();
            if let Some(sid) = &s.sid {
                o.insert("Sid".into(), json!(sid));
            }
            o.insert("Effect".into(), json!(format!("{:?}", s.effect)));
            if let Some(x) = &s.principal {
                o.insert("Principal".into(), principal(x));
            }
            if let Some(x) = &s.not_principal {
                o.insert("NotPrincipal".into(), principal(x));
            }
            if let Some(x) = &s.action {
                o.insert("Action".into(), list(x));
            }
            if let Some(x) = &s.not_action {
                o.insert("NotAction".into(), list(x));
            }
            if let Some(x) = &s.resource {
                o.insert("Resource".into(), list(x));
            }
            if let Some(x) = &s.not_resource {
                o.insert("NotResource".into(), list(x));
            }
            if !s.conditions.is_empty() {
                let mut c = Map::new();
                for cond in &s.conditions {
                    let block = c.entry(cond.operator.clone()).or_insert_with(|| json!({}));
                    block.as_object_mut().expect("object").insert(cond.key.clone(), list(&cond.values));
                }
                o.insert("Condition".into(), Value::Object(c));
            }
            Value::Object(o)
        })
        .collect();
    let mut top = Map::new();
    if let Some(v) = &p.version {
        top.insert("Version".into(), json!(v));
    }
    top.insert("Statement".into(), json!(statements));
    Value::Object(top)
}

pub(super) async fn role_state(clients: &Clients, name: &str) -> Result<Option<RoleState>> {
    let Some(role) = role(&clients.iam, name).await? else { return Ok(None) };
    let r = role.role().ok_or_else(|| Error::Aws("iam:GetRole answered without a role".into()))?;
    let principal = PrincipalArn::parse(r.arn()).map_err(|e| Error::Aws(format!("role ARN {}: {e}", r.arn())))?;
    // Deleted between the two reads: as missing as if GetRole had said so.
    let Some((policies, boundary, _)) = raw_principal_documents(clients, &principal).await? else { return Ok(None) };
    Ok(Some(RoleState {
        arn: r.arn().to_string(),
        path: r.path().to_string(),
        trust_policy: doc_value(r.assume_role_policy_document().unwrap_or("{}")),
        policies,
        boundary,
        tags: r.tags().iter().map(|t| (t.key().to_string(), t.value().to_string())).collect(),
    }))
}

/// iam:SimulatePrincipalPolicy for each pair (PassRole with iam:PassedToService = Bedrock).
pub(super) async fn simulate(
    clients: &Clients,
    principal: &PrincipalArn,
    pairs: &[(String, String)],
) -> Result<Vec<crate::snapshot::SimulatedDecision>> {
    use aws_sdk_iam::types::{ContextEntry, ContextKeyTypeEnum};
    let source = match principal.kind {
        PrincipalKind::AssumedRole => format!("arn:{}:iam::{}:role/{}", principal.partition, principal.account, principal.name),
        _ => principal.arn.clone(),
    };
    let mut out = Vec::new();
    for (action, resource) in pairs {
        let mut req = clients.iam.simulate_principal_policy().policy_source_arn(&source).action_names(action).resource_arns(resource);
        if action == "iam:PassRole" {
            req = req.context_entries(
                ContextEntry::builder()
                    .context_key_name("iam:PassedToService")
                    .context_key_values("bedrock.amazonaws.com")
                    .context_key_type(ContextKeyTypeEnum::String)
                    .build(),
            );
        }
        let res = req.send().await.map_err(|e| sdk_error("iam", "SimulatePrincipalPolicy", e))?;
        for r in res.evaluation_results() {
            out.push(crate::snapshot::SimulatedDecision {
                action: r.eval_action_name().to_string(),
                resource: r.eval_resource_name().unwrap_or(resource).to_string(),
                decision: r.eval_decision().as_str().to_string(),
            });
        }
    }
    Ok(out)
}
