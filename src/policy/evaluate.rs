//! `evaluate(request, policies) -> Decision`, in AWS's documented order, with a trace of why.
//!
//! 1. An explicit Deny in any applicable policy (identity, resource, boundary, session) wins.
//! 2. A permissions boundary and a session policy, when present, must each allow; they only
//!    limit, never grant. Within one account, a resource policy that names an IAM user, a role
//!    *session* or a federated user session directly is not limited by them (AWS: "…the
//!    permissions boundary … doesn't limit permissions granted by a resource-based policy that
//!    specifies the ARN of the user or role session"); one naming the role is. A federated user
//!    session has nothing but what its session policy allows (see
//!    `PrincipalId::needs_session_policy`).
//! 3. Within one account, an identity policy *or* a resource policy that names the principal
//!    grants. A resource policy naming the account (`arn:aws:iam::ACCOUNT:root` or the bare id)
//!    delegates to the account's identity policies and grants nothing by itself.
//! 4. Across accounts both sides must allow.
//! 5. IAM role trust policies and KMS key policies must allow by themselves (the identity
//!    policy alone never suffices), as AWS documents for those two resource types — for a KMS
//!    request on a key; `kms:ListKeys` on `*` and alias operations on an alias are IAM-only.

use serde::Serialize;

use super::conditions::{self, ConditionResult};
use super::context::Context;
use super::document::{service_hash, Effect, Policy, Principal, Statement};
use super::matching::{action_matches, resource_matches};

/// The `arn` of the anonymous principal (`PrincipalId::anonymous`).
pub const ANONYMOUS: &str = "anonymous";

/// Who makes the request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PrincipalId {
    /// The principal's ARN as the request shows it (user, role session, root), or a service
    /// principal name such as `bedrock.amazonaws.com`.
    pub arn: String,
    /// The account the principal belongs to (empty for a service principal).
    pub account: String,
    /// For an assumed-role session: the role's ARN (with its path, when known).
    pub role_arn: Option<String>,
}

impl PrincipalId {
    /// Builds a principal from an ARN: `arn:…:iam::A:user/…`, `…:role/…`, `…:root`,
    /// `arn:…:sts::A:assumed-role/ROLE/SESSION`, or a service principal name.
    pub fn from_arn(arn: &str) -> PrincipalId {
        let parts: Vec<&str> = arn.splitn(6, ':').collect();
        if parts.len() == 6 && parts[0] == "arn" {
            let account = parts[4].to_string();
            let role_arn = if parts[2] == "sts" {
                parts[5]
                    .strip_prefix("assumed-role/")
                    .and_then(|r| r.split('/').next())
                    .map(|role| format!("arn:{}:iam::{}:role/{}", parts[1], account, role))
            } else {
                None
            };
            PrincipalId { arn: arn.to_string(), account, role_arn }
        } else {
            PrincipalId { arn: arn.to_string(), account: String::new(), role_arn: None }
        }
    }

    /// The same principal with its role's ARN as IAM knows it (with the path, as GetRole
    /// answers it), for an assumed-role session: the session ARN omits the path, so `from_arn`
    /// can only write `role/NAME`. Other principals are returned unchanged.
    pub fn with_role_arn(mut self, role_arn: &str) -> PrincipalId {
        if self.role_arn.is_some() {
            self.role_arn = Some(role_arn.to_string());
        }
        self
    }

    /// The value of `aws:PrincipalArn`: for a role session the role's ARN (with its path when
    /// known), never the session's. IAM User Guide, "AWS global condition context keys",
    /// aws:PrincipalArn: "For IAM roles, the request context returns the ARN of the role, not the
    /// ARN of the user that assumed the role." and "Do not specify the assumed role session ARN
    /// as a value for this condition key."
    pub fn principal_arn(&self) -> &str {
        self.role_arn.as_deref().unwrap_or(&self.arn)
    }

    pub fn is_service(&self) -> bool {
        self.account.is_empty() && self.arn.ends_with(".amazonaws.com")
    }

    /// A request with no principal (unsigned): no identity-side policy and no SCP applies to it,
    /// and only a resource-based policy whose Principal is `"*"` (or `{"AWS": "*"}`) can allow
    /// it. Amazon S3 User Guide, "Principals" (bucket policies): "To grant permission to
    /// everyone, also referred as anonymous access, you set the wildcard ("*") as the Principal
    /// value." RCPs and a VPC endpoint policy still apply.
    pub fn anonymous() -> PrincipalId {
        PrincipalId { arn: ANONYMOUS.to_string(), account: String::new(), role_arn: None }
    }

    pub fn is_anonymous(&self) -> bool {
        self.account.is_empty() && self.arn == ANONYMOUS
    }

    fn kind(&self) -> &str {
        if self.is_anonymous() {
            return ANONYMOUS;
        }
        match self.arn.splitn(6, ':').nth(5) {
            Some(rest) => rest.split('/').next().unwrap_or(""),
            None => "service",
        }
    }

    /// A resource-based policy naming this principal's own ARN grants to it directly, past an
    /// implicit deny in its identity policies, boundary or session policy (same account): an
    /// IAM user, a role session, or a federated user session. IAM User Guide, "Policy evaluation
    /// logic": "If a resource-based policy grants permission directly to the IAM user or the
    /// session principal that is making the request, then an implicit deny in an identity-based
    /// policy, a permissions boundary, or a session policy does not impact the final decision."
    /// A role's own ARN is not such a principal: "Resource-based policies that grant permissions
    /// to an IAM role ARN are limited by an implicit deny in a permissions boundary or session
    /// policy."
    fn takes_direct_grants(&self) -> bool {
        matches!(self.kind(), "user" | "assumed-role" | "federated-user")
    }

    /// A federated user session (GetFederationToken) has only the permissions its session
    /// policy allows: IAM User Guide, "Policy evaluation logic": "If there is no session policy,
    /// the code checks whether the principal is a role session. If the principal is a role
    /// session, then the request is Allowed. Otherwise, the request is implicitly denied".
    fn needs_session_policy(&self) -> bool {
        self.kind() == "federated-user"
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Request {
    pub principal: PrincipalId,
    pub action: String,
    pub resource: String,
    /// The account that owns the resource (empty when unknown: then taken as the principal's).
    pub resource_account: String,
    pub context: Context,
}

/// A policy with a name for the trace.
#[derive(Debug, Clone, Serialize)]
pub struct NamedPolicy {
    pub name: String,
    pub policy: Policy,
}

/// What the resource policy is; trust and key policies follow their own rule (see module doc).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum ResourcePolicyKind {
    #[default]
    Ordinary,
    RoleTrust,
    /// A KMS key's key policy. The key-policy rule binds requests on a key only: `kms:ListKeys`
    /// on `*` and the alias operations on an `alias/…` resource are authorised by IAM policies
    /// alone (see [`key_policy_rules`]).
    KmsKey,
}

/// The resource is a KMS key (`arn:…:kms:REGION:ACCOUNT:key/ID`), not `*` or an alias.
fn is_kms_key(resource: &str) -> bool {
    let (segs, n) = super::matching::arn_segments(resource);
    n == 6 && segs[2] == "kms" && segs[5].starts_with("key/")
}

/// The resource-policy kind that binds this request: a key policy's rule only for a request on
/// a key. AWS KMS API Reference, ListKeys: "Required permissions: kms:ListKeys (IAM policy)". AWS
/// KMS Developer Guide, "Controlling access to aliases": "kms:CreateAlias for the alias. Provide
/// this permission in an IAM policy that is attached to the principal who is allowed to create
/// the alias." — the same page adds that "principals who manage aliases must have permission to
/// call the alias operation on the alias and on all affected KMS keys": the key's half is a
/// separate request on the key (`kms:CreateAlias` on `key/…`), which the key policy governs.
fn key_policy_rules(req: &Request, set: &PolicySet) -> ResourcePolicyKind {
    match set.resource_kind {
        ResourcePolicyKind::KmsKey if !is_kms_key(&req.resource) => ResourcePolicyKind::Ordinary,
        kind => kind,
    }
}

/// Where in the organization a level of SCPs or RCPs is attached.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum OrgLevelKind {
    Root,
    Ou,
    #[default]
    Account,
}

impl OrgLevelKind {
    pub fn name(self) -> &'static str {
        match self {
            OrgLevelKind::Root => "root",
            OrgLevelKind::Ou => "OU",
            OrgLevelKind::Account => "account",
        }
    }
}

/// The organization policies attached at one level of the hierarchy (the root, an OU, or the
/// account itself).
#[derive(Debug, Clone, Default, Serialize)]
pub struct OrgLevel {
    /// The root, OU or account id the policies are attached to (or, for policies given as
    /// files, the name of the level they were given for).
    pub target: String,
    pub kind: OrgLevelKind,
    pub policies: Vec<NamedPolicy>,
}

impl OrgLevel {
    /// `OU level (ou-ab12-cdef3456)`: how reasons and traces name a level.
    pub fn describe(&self) -> String {
        format!("{} level ({})", self.kind.name(), self.target)
    }
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct PolicySet {
    pub identity: Vec<NamedPolicy>,
    pub resource: Option<NamedPolicy>,
    pub resource_kind: ResourcePolicyKind,
    pub boundary: Option<NamedPolicy>,
    pub session: Option<NamedPolicy>,
    /// Service control policies, root first, the account last. AWS: a Deny at any level
    /// denies, and every level must allow ("SCP evaluation", AWS Organizations User Guide).
    /// They bind IAM users and roles of member accounts; the caller leaves them empty for the
    /// management account and for service principals.
    pub scps: Vec<OrgLevel>,
    /// Resource control policies, root first. AWS attaches RCPFullAWSAccess at every level and
    /// it cannot be detached, so only their Denies decide; they apply to the services that
    /// support RCPs ([`RCP_SERVICES`]).
    pub rcps: Vec<OrgLevel>,
    /// The policy of a VPC endpoint the request goes through: it must allow, and its Deny
    /// denies. Amazon VPC, "Control access to VPC endpoints using endpoint policies": "An
    /// endpoint policy is a resource-based policy that you attach to a VPC endpoint to control
    /// which AWS principals can use the endpoint to access an AWS service." and "An endpoint
    /// policy does not override or replace identity-based policies or resource-based policies."
    pub vpc_endpoint: Option<NamedPolicy>,
}

/// The services whose resources resource control policies govern (AWS Organizations User
/// Guide, "Resource control policies (RCPs)": "List of AWS services that support RCPs").
pub const RCP_SERVICES: &[&str] = &["s3", "sts", "kms", "sqs", "secretsmanager", "cognito-idp", "logs", "dynamodb", "ecr", "aoss"];

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Decision {
    Allow,
    ExplicitDeny,
    ImplicitDeny,
}

/// Which layer a policy is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Layer {
    Identity,
    Resource,
    Boundary,
    Session,
    Scp,
    Rcp,
    VpcEndpoint,
}

impl Layer {
    /// The layer's name in JSON (`identity`, …, `vpc-endpoint`).
    pub fn key(self) -> &'static str {
        match self {
            Layer::Identity => "identity",
            Layer::Resource => "resource",
            Layer::Boundary => "boundary",
            Layer::Session => "session",
            Layer::Scp => "scp",
            Layer::Rcp => "rcp",
            Layer::VpcEndpoint => "vpc-endpoint",
        }
    }

    /// A policy layer whose statements name principals.
    fn names_principals(self) -> bool {
        matches!(self, Layer::Resource | Layer::Rcp | Layer::VpcEndpoint)
    }
}

/// Why one statement applied or not.
#[derive(Debug, Clone, Serialize)]
pub struct StatementTrace {
    pub policy: String,
    pub layer: Layer,
    /// For an SCP or RCP statement: the level its policy is attached at.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub level: Option<String>,
    pub statement: String,
    pub effect: Effect,
    /// The Action/NotAction pattern that matched, or None.
    pub action_match: Option<String>,
    pub resource_match: Option<String>,
    /// For resource policies: how the principal matched (`named`, `account`, `any`), or None.
    pub principal_match: Option<String>,
    pub conditions: Vec<ConditionResult>,
    /// The statement applies: action, resource, principal and every condition matched.
    pub applies: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct Evaluation {
    pub decision: Decision,
    /// For a denial: the layer that decided it (typed, so callers pick fixes without reading
    /// `reason`).
    pub denied_by: Option<DeniedBy>,
    /// One line saying which layer decided and why.
    pub reason: String,
    /// The layer that decided (and its level, policy and statement), for an Allow as for a
    /// denial.
    pub decided_by: Decider,
    /// Statements that applied, and those that matched the action and resource but failed on
    /// a condition or principal (the "nearly matched").
    pub trace: Vec<StatementTrace>,
}

/// The layer that decided a request: `aws-rule` (a rule AWS applies before any policy),
/// `identity`, `resource`, `identity-and-resource` (a cross-account Allow, both sides),
/// `boundary`, `session`, `scp`, `rcp`, `vpc-endpoint`, or `no-allow` (no identity or resource
/// policy allows). For an SCP or RCP, the level (`root`, `ou`, `account`) and its target; the
/// policy and statement when one statement decided.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Decider {
    pub layer: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub level: Option<OrgLevelKind>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub policy: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub statement: Option<String>,
}

impl Decider {
    fn layer(layer: &'static str) -> Decider {
        Decider { layer, level: None, target: None, policy: None, statement: None }
    }

    fn policy(layer: &'static str, policy: &NamedPolicy) -> Decider {
        Decider { policy: Some(policy.name.clone()), ..Decider::layer(layer) }
    }

    fn org_level(layer: &'static str, level: &OrgLevel) -> Decider {
        Decider { level: Some(level.kind), target: Some(level.target.clone()), ..Decider::layer(layer) }
    }

    fn of_hit(h: &Hit) -> Decider {
        let (level, target) = match h.level {
            Some(l) => (Some(l.kind), Some(l.target.clone())),
            None => (None, None),
        };
        Decider { layer: h.layer.key(), level, target, policy: Some(h.policy.name.clone()), statement: Some(h.statement.label()) }
    }

    /// `scp at the OU level (ou-1): policy P, statement 0 (Sid "S")` — the text output's line.
    pub fn describe(&self) -> String {
        let mut out = self.layer.to_string();
        if let (Some(kind), Some(target)) = (self.level, &self.target) {
            out.push_str(&format!(" at the {} level ({target})", kind.name()));
        }
        if let Some(p) = &self.policy {
            out.push_str(&format!(": policy {p}"));
        }
        if let Some(st) = &self.statement {
            out.push_str(&format!(", {st}"));
        }
        out
    }
}

/// The layer that denied a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum DeniedBy {
    /// An explicit Deny in any policy.
    ExplicitDeny,
    /// A trust or key policy, which must allow by itself, does not.
    ResourcePolicy,
    /// No identity or resource policy allows the request.
    NoAllow,
    /// Cross-account: the identity side or the resource policy does not allow.
    CrossAccount,
    /// The permissions boundary does not allow.
    Boundary,
    /// The session policy does not allow.
    Session,
    /// A level of the organization's service control policies allows nothing that matches.
    Scp,
    /// The VPC endpoint policy does not allow.
    VpcEndpoint,
    /// AWS forbids the change to anyone in the account: AWS-managed policies, service-linked
    /// roles (`/aws-service-role/`) and roles under `/aws-reserved/`.
    NotModifiable,
}

/// IAM actions that change a policy or a role (and so are refused on AWS-managed policies,
/// service-linked roles and roles under `/aws-reserved/`).
fn iam_write(action: &str) -> bool {
    let Some(name) = action.strip_prefix("iam:").or_else(|| action.strip_prefix("IAM:")) else { return false };
    ["Create", "Delete", "Put", "Attach", "Detach", "Update", "Set", "Tag", "Untag", "Add", "Remove"].iter().any(|p| name.starts_with(p))
}

/// The rules AWS applies before any policy is read.
fn before_policies(req: &Request, set: &PolicySet) -> Option<(Decision, Option<DeniedBy>, String, Decider)> {
    // STS API reference, GetCallerIdentity: "No permissions are required to perform this
    // operation. If an administrator attaches a policy to your identity that explicitly denies
    // access to the sts:GetCallerIdentity action, you can still perform this operation."
    if req.action.eq_ignore_ascii_case("sts:GetCallerIdentity") {
        return Some((
            Decision::Allow,
            None,
            "sts:GetCallerIdentity needs no permission and cannot be denied (STS API reference)".into(),
            Decider::layer("aws-rule"),
        ));
    }
    if iam_write(&req.action) {
        // IAM User Guide, "AWS managed policies": "You cannot change the permissions defined
        // in AWS managed policies"; roles whose path starts /aws-reserved/ (IAM Identity
        // Center's) cannot be modified in the account.
        // Service-linked roles: IAM API reference, PutRolePolicy (and every role write), error
        // UnmodifiableEntity: "The request was rejected because service-linked roles are
        // protected AWS resources. Only the service that depends on the service-linked role can
        // modify or delete the role on your behalf."
        let managed = req.resource.split(':').nth(4) == Some("aws") && req.resource.contains(":policy/");
        let reserved = req.resource.contains(":role/aws-reserved/");
        let service_linked = req.resource.contains(":role/aws-service-role/");
        if managed || reserved || service_linked {
            let what = if managed {
                "an AWS-managed policy"
            } else if service_linked {
                "a service-linked role (only its service may change it: UnmodifiableEntity)"
            } else {
                "a role under /aws-reserved/"
            };
            return Some((
                Decision::ImplicitDeny,
                Some(DeniedBy::NotModifiable),
                format!("{} on {}: {what} cannot be modified by anyone in the account", req.action, req.resource),
                Decider::layer("aws-rule"),
            ));
        }
    }
    // A KMS key is usable only when its key policy allows (AWS KMS Developer Guide, "Key
    // policies": "Unless the key policy explicitly allows it, you cannot use IAM policies to
    // allow access to a KMS key"); a role is assumable only through its trust policy.
    let kind = key_policy_rules(req, set);
    if set.resource.is_none() && kind != ResourcePolicyKind::Ordinary && !req.principal.is_service() {
        let what = if kind == ResourcePolicyKind::KmsKey {
            "a KMS key is usable only when its key policy allows (alone, or by delegating to the account's IAM policies), and no key policy was given"
        } else {
            "a role can be assumed only when its trust policy allows, and no trust policy was given"
        };
        return Some((
            Decision::ImplicitDeny,
            Some(DeniedBy::ResourcePolicy),
            format!("{} on {}: {what}", req.action, req.resource),
            Decider::layer("resource"),
        ));
    }
    None
}

enum PrincipalHow {
    /// The principal's own ARN (user, session, root) or service name.
    Named,
    /// The role behind an assumed-role session.
    Role,
    /// The principal's account (delegation to identity policies).
    Account,
    Any,
}

fn principal_matches(p: &Principal, who: &PrincipalId) -> Option<PrincipalHow> {
    match p {
        Principal::Any => Some(PrincipalHow::Any),
        // An anonymous request matches only "*" and {"AWS": "*"}.
        Principal::Map(m) if who.is_anonymous() => m.get("AWS").is_some_and(|v| v.iter().any(|x| x == "*")).then_some(PrincipalHow::Any),
        Principal::Map(m) => {
            for (kind, values) in m {
                for v in values {
                    match kind.as_str() {
                        "AWS" => {
                            if v == "*" {
                                return Some(PrincipalHow::Any);
                            }
                            if !who.account.is_empty()
                                && (v == &who.account || *v == format!("arn:{}:iam::{}:root", partition(&who.arn), who.account))
                            {
                                if who.arn.ends_with(":root") {
                                    return Some(PrincipalHow::Named);
                                }
                                return Some(PrincipalHow::Account);
                            }
                            if v == &who.arn {
                                return Some(PrincipalHow::Named);
                            }
                            if let Some(role) = &who.role_arn {
                                if same_role(v, role) {
                                    return Some(PrincipalHow::Role);
                                }
                            }
                        }
                        "Service" if who.is_service() && v.eq_ignore_ascii_case(&who.arn) => {
                            return Some(PrincipalHow::Named);
                        }
                        "Federated" | "CanonicalUser" if v == &who.arn => {
                            return Some(PrincipalHow::Named);
                        }
                        _ => {}
                    }
                }
            }
            None
        }
    }
}

/// A role ARN in a policy (with its path) against a session's role (whose ARN has no path):
/// the account and the role name decide.
fn same_role(policy_arn: &str, session_role: &str) -> bool {
    let name = |a: &str| -> Option<(String, String)> {
        let parts: Vec<&str> = a.splitn(6, ':').collect();
        if parts.len() != 6 || !parts[5].starts_with("role/") {
            return None;
        }
        Some((parts[4].to_string(), parts[5].rsplit('/').next().unwrap_or("").to_string()))
    };
    matches!((name(policy_arn), name(session_role)), (Some(a), Some(b)) if a == b)
}

fn partition(arn: &str) -> &str {
    arn.split(':').nth(1).unwrap_or("aws")
}

fn trace_statement(st: &Statement, policy: &str, layer: Layer, level: Option<&OrgLevel>, req: &Request) -> StatementTrace {
    let action_match = match (&st.action, &st.not_action) {
        (Some(a), _) => a.iter().find(|p| action_matches(p, &req.action)).cloned(),
        (None, Some(na)) => {
            if na.iter().any(|p| action_matches(p, &req.action)) {
                None
            } else {
                Some(format!("NotAction {na:?}"))
            }
        }
        (None, None) => None,
    };
    let resource_match = match (&st.resource, &st.not_resource) {
        (Some(r), _) => r.iter().find(|p| resource_matches(p, &req.resource, Some(&req.context), layer == Layer::Resource)).cloned(),
        (None, Some(nr)) => {
            if nr.iter().any(|p| resource_matches(p, &req.resource, Some(&req.context), layer == Layer::Resource)) {
                None
            } else {
                Some(format!("NotResource {nr:?}"))
            }
        }
        // A resource policy statement may omit Resource: it then covers the resource it is on.
        (None, None) => (layer == Layer::Resource).then(|| "(the policy's own resource)".to_string()),
    };
    let principal_match = if layer.names_principals() {
        match (&st.principal, &st.not_principal) {
            (Some(p), _) => principal_matches(p, &req.principal).map(|h| match h {
                PrincipalHow::Named => "named".to_string(),
                PrincipalHow::Role => "role".to_string(),
                PrincipalHow::Account => "account".to_string(),
                PrincipalHow::Any => "any".to_string(),
            }),
            (None, Some(np)) => match principal_matches(np, &req.principal) {
                Some(_) => None,
                None => Some("any".to_string()),
            },
            (None, None) => None,
        }
    } else {
        Some("n/a".to_string())
    };
    let conditions: Vec<ConditionResult> = st.conditions.iter().map(|c| conditions::evaluate(c, &req.context)).collect();
    let applies = action_match.is_some() && resource_match.is_some() && principal_match.is_some() && conditions.iter().all(|c| c.matched);
    StatementTrace {
        policy: policy.to_string(),
        layer,
        level: level.map(OrgLevel::describe),
        statement: st.label(),
        effect: st.effect,
        action_match,
        resource_match,
        principal_match,
        conditions,
        applies,
    }
}

/// The allocation-free verdict on one statement; the trace is built afterwards, only for the
/// statements that matched the action and resource.
#[derive(Clone, Copy)]
struct Hit<'a> {
    layer: Layer,
    /// For an SCP or RCP: the level its policy is attached at.
    level: Option<&'a OrgLevel>,
    policy: &'a NamedPolicy,
    statement: &'a Statement,
    /// Action and resource matched.
    target: bool,
    /// How the principal matched ("n/a" outside resource policies), None when it did not.
    principal: Option<&'static str>,
    applies: bool,
}

/// The request's parts every statement is matched against, computed once per evaluation.
struct Prepared<'r> {
    /// The `service_hash` of the action's service prefix.
    service: u64,
    /// The action ASCII-lower-cased (None when it is not ASCII: the general matcher then).
    action: Option<Vec<u8>>,
    /// The resource's six ARN segments, when it has six and its resource part is ASCII (the
    /// compiled patterns' fast path).
    arn: Option<[&'r str; 6]>,
}

impl<'r> Prepared<'r> {
    fn new(req: &'r Request) -> Prepared<'r> {
        let action = req.action.is_ascii().then(|| req.action.as_bytes().to_ascii_lowercase());
        let service = service_hash(service_of(&req.action));
        let (segs, n) = super::matching::arn_segments(&req.resource);
        let arn = (n == 6 && segs[5].is_ascii()).then_some(segs);
        Prepared { service, action, arn }
    }
}

/// The service prefix of an action (`s3` of `s3:GetObject`; the whole string without a ':').
fn service_of(action: &str) -> &str {
    // ':' is ASCII: a byte position is a character boundary.
    match action.bytes().position(|b| b == b':') {
        Some(i) => &action[..i],
        None => action,
    }
}

fn hit<'a>(st: &'a Statement, policy: &'a NamedPolicy, layer: Layer, level: Option<&'a OrgLevel>, req: &Request, pre: &Prepared) -> Hit<'a> {
    let c = &st.compiled;
    let lower = pre.action.as_deref();
    let act = |(p, m): (&String, &super::matching::ActionPattern)| m.matches(p, &req.action, lower);
    let action = match (&st.action, &st.not_action) {
        (Some(a), _) => c.may_match_service(pre.service) && a.iter().zip(&c.actions).any(act),
        (None, Some(na)) => !na.iter().zip(&c.not_actions).any(act),
        (None, None) => false,
    };
    let resource_policy = layer == Layer::Resource;
    let principal_layer = layer.names_principals();
    let one = |p: &String, compiled: Option<&super::matching::CompiledArn>| {
        compiled
            .and_then(|arn| arn.matches(p, pre.arn.as_ref()))
            .unwrap_or_else(|| resource_matches(p, &req.resource, Some(&req.context), resource_policy))
    };
    let resource = action
        && match (&st.resource, &st.not_resource) {
            (Some(r), _) => r.iter().enumerate().any(|(i, p)| one(p, c.resources.get(i))),
            (None, Some(nr)) => !nr.iter().enumerate().any(|(i, p)| one(p, c.not_resources.get(i))),
            (None, None) => resource_policy,
        };
    let principal = if !principal_layer {
        Some("n/a")
    } else {
        match (&st.principal, &st.not_principal) {
            (Some(p), _) => principal_matches(p, &req.principal).map(|h| match h {
                PrincipalHow::Named => "named",
                PrincipalHow::Role => "role",
                PrincipalHow::Account => "account",
                PrincipalHow::Any => "any",
            }),
            (None, Some(np)) => match principal_matches(np, &req.principal) {
                Some(_) => None,
                None => Some("any"),
            },
            (None, None) => None,
        }
    };
    let applies = resource && principal.is_some() && st.conditions.iter().all(|c| conditions::holds(c, &req.context));
    Hit { layer, level, policy, statement: st, target: resource, principal, applies }
}

/// Every policy that takes part, with its layer (and level): identity, resource, boundary,
/// session, the organization's SCPs and RCPs where they bind (never a service principal; SCPs
/// never an anonymous request, which belongs to no account; RCPs only for the services that
/// support them), and the VPC endpoint policy. An anonymous request has no identity-side
/// policies. Returns the SCP levels too, for the every-level rule.
type Layered<'s> = (&'s NamedPolicy, Layer, Option<&'s OrgLevel>);
fn layers<'s>(req: &Request, set: &'s PolicySet) -> (&'s [OrgLevel], impl Iterator<Item = Layered<'s>>) {
    let org = !req.principal.is_service();
    let anonymous = req.principal.is_anonymous();
    let scps: &[OrgLevel] = if org && !anonymous { &set.scps } else { &[] };
    let svc = service_of(&req.action);
    let rcp_service = !set.rcps.is_empty() && RCP_SERVICES.iter().any(|s| s.eq_ignore_ascii_case(svc));
    let rcps: &[OrgLevel] = if org && rcp_service { &set.rcps } else { &[] };
    let identity: &[NamedPolicy] = if anonymous { &[] } else { &set.identity };
    let (boundary, session) = if anonymous { (None, None) } else { (set.boundary.as_ref(), set.session.as_ref()) };
    let all = identity
        .iter()
        .map(|p| (p, Layer::Identity, None))
        .chain(set.resource.iter().map(|p| (p, Layer::Resource, None)))
        .chain(boundary.into_iter().map(|p| (p, Layer::Boundary, None)))
        .chain(session.into_iter().map(|p| (p, Layer::Session, None)))
        .chain(scps.iter().flat_map(|l| l.policies.iter().map(move |p| (p, Layer::Scp, Some(l)))))
        .chain(rcps.iter().flat_map(|l| l.policies.iter().map(move |p| (p, Layer::Rcp, Some(l)))))
        .chain(set.vpc_endpoint.iter().map(|p| (p, Layer::VpcEndpoint, None)));
    (scps, all)
}

/// The first SCP level (root first) where no statement allows the request: AWS requires an
/// Allow at every level. RCPs have no such rule (RCPFullAWSAccess allows at every level).
fn scp_level_without_allow<'s>(scps: &'s [OrgLevel], req: &Request, pre: &Prepared) -> Option<&'s OrgLevel> {
    scps.iter().find(|level| {
        !level
            .policies
            .iter()
            .any(|p| p.policy.statements.iter().any(|st| st.effect == Effect::Allow && hit(st, p, Layer::Scp, Some(level), req, pre).applies))
    })
}

/// IAM User Guide, "Permissions boundaries for IAM entities": a resource policy's Deny with
/// NotPrincipal always denies a principal that has a permissions boundary, whatever the
/// NotPrincipal names. True when `h` is such a Deny that its NotPrincipal alone kept out.
fn not_principal_deny_binds(h: &Hit, set: &PolicySet, req: &Request) -> bool {
    let st = h.statement;
    set.boundary.is_some()
        && !req.principal.is_anonymous()
        && h.layer == Layer::Resource
        && h.target
        && !h.applies
        && st.effect == Effect::Deny
        && st.not_principal.is_some()
        && st.conditions.iter().all(|c| conditions::holds(c, &req.context))
}

/// Evaluates a request against a set of policies, with the reason and the trace.
pub fn evaluate(req: &Request, set: &PolicySet) -> Evaluation {
    if let Some((decision, denied_by, reason, decided_by)) = before_policies(req, set) {
        return Evaluation { decision, denied_by, reason, decided_by, trace: Vec::new() };
    }
    // On the stack for the common sizes.
    let mut all: smallvec::SmallVec<[Hit; 64]> = smallvec::SmallVec::new();
    let (scps, policies) = layers(req, set);
    let pre = Prepared::new(req);
    for (p, layer, level) in policies {
        for st in &p.policy.statements {
            all.push(hit(st, p, layer, level, req, &pre));
        }
    }
    for h in all.iter_mut() {
        if not_principal_deny_binds(h, set, req) {
            h.applies = true;
            h.principal = Some("any");
        }
    }
    explained(req, set, scps, &pre, &all)
}

/// The decision alone, in one pass over the statements with no allocation: the same rules as
/// `evaluate` (the differential test asserts both agree on every generated case), without the
/// reason and the trace. This is what checks call in bulk; they ask `evaluate` for the trace of
/// a failure.
pub fn decide(req: &Request, set: &PolicySet) -> Decision {
    if let Some((decision, _, _, _)) = before_policies(req, set) {
        return decision;
    }
    let pre = Prepared::new(req);
    #[derive(Default)]
    struct Seen {
        identity: bool,
        resource_named: bool,
        resource_direct: bool,
        resource_account: bool,
        boundary: bool,
        session: bool,
        vpc_endpoint: bool,
    }
    let mut seen = Seen::default();
    // Returns true on an explicit Deny.
    let visit = |p: &NamedPolicy, layer: Layer, level: Option<&OrgLevel>, seen: &mut Seen| -> bool {
        for st in &p.policy.statements {
            // An Allow only marks its layer as allowing: once marked, another Allow there
            // changes nothing, and an SCP's or RCP's Allow is weighed level by level below.
            if st.effect == Effect::Allow {
                let known = match layer {
                    Layer::Identity => seen.identity,
                    Layer::Resource => seen.resource_named && seen.resource_direct && seen.resource_account,
                    Layer::Boundary => seen.boundary,
                    Layer::Session => seen.session,
                    Layer::VpcEndpoint => seen.vpc_endpoint,
                    Layer::Scp | Layer::Rcp => true,
                };
                if known {
                    continue;
                }
            }
            let h = hit(st, p, layer, level, req, &pre);
            if !h.applies && !not_principal_deny_binds(&h, set, req) {
                continue;
            }
            if st.effect == Effect::Deny {
                return true;
            }
            match layer {
                Layer::Identity => seen.identity = true,
                Layer::Resource => match h.principal {
                    Some("named") | Some("any") => {
                        seen.resource_named = true;
                        seen.resource_direct = true;
                    }
                    Some("role") => seen.resource_named = true,
                    Some("account") => seen.resource_account = true,
                    _ => {}
                },
                Layer::Boundary => seen.boundary = true,
                Layer::Session => seen.session = true,
                Layer::VpcEndpoint => seen.vpc_endpoint = true,
                Layer::Scp | Layer::Rcp => {}
            }
        }
        false
    };
    let (scps, policies) = layers(req, set);
    for (p, layer, level) in policies {
        if visit(p, layer, level, &mut seen) {
            return Decision::ExplicitDeny;
        }
    }
    if scp_level_without_allow(scps, req, &pre).is_some() {
        return Decision::ImplicitDeny;
    }
    if set.vpc_endpoint.is_some() && !seen.vpc_endpoint {
        return Decision::ImplicitDeny;
    }
    let resource_allow = seen.resource_named || seen.resource_account;
    let cross_account = is_cross_account(req);
    if key_policy_rules(req, set) != ResourcePolicyKind::Ordinary && set.resource.is_some() && !resource_allow {
        return Decision::ImplicitDeny;
    }
    let direct = !cross_account && seen.resource_direct && req.principal.takes_direct_grants();
    let granted = if cross_account { seen.identity && resource_allow } else { seen.resource_named || seen.identity };
    if !granted {
        return Decision::ImplicitDeny;
    }
    let anonymous = req.principal.is_anonymous();
    if !direct && !anonymous && ((set.boundary.is_some() && !seen.boundary) || (set.session.is_some() && !seen.session)) {
        return Decision::ImplicitDeny;
    }
    if !direct && set.session.is_none() && req.principal.needs_session_policy() {
        return Decision::ImplicitDeny;
    }
    Decision::Allow
}

/// The principal's account is not the resource's (an unknown resource account is taken as the
/// principal's; a service principal or an anonymous request has no account).
fn is_cross_account(req: &Request) -> bool {
    let res_account = if req.resource_account.is_empty() { &req.principal.account } else { &req.resource_account };
    !req.principal.is_service() && !req.principal.account.is_empty() && res_account != &req.principal.account
}

/// The names of a level's policies, for a reason.
fn level_policies(level: &OrgLevel) -> String {
    if level.policies.is_empty() {
        return "none attached".to_string();
    }
    level.policies.iter().map(|p| p.name.as_str()).collect::<Vec<_>>().join(", ")
}

/// The decision over the statement hits, in AWS's order, with the reason and the trace.
fn explained(req: &Request, set: &PolicySet, scps: &[OrgLevel], pre: &Prepared, all: &[Hit]) -> Evaluation {
    let applies = |layer: Layer, effect: Effect| all.iter().filter(move |t| t.layer == layer && t.statement.effect == effect && t.applies);

    let decided = |denied_by: Option<DeniedBy>, decided_by: Decider, reason: &dyn Fn() -> String, all: &[Hit]| {
        let decision = match denied_by {
            None => Decision::Allow,
            Some(DeniedBy::ExplicitDeny) => Decision::ExplicitDeny,
            Some(_) => Decision::ImplicitDeny,
        };
        let trace = all.iter().filter(|h| h.target).map(|h| trace_statement(h.statement, &h.policy.name, h.layer, h.level, req)).collect();
        Evaluation { decision, denied_by, reason: reason(), decided_by, trace }
    };

    // 1. Explicit deny anywhere. An SCP's or RCP's Deny names its level.
    if let Some(d) = all.iter().find(|t| t.statement.effect == Effect::Deny && t.applies) {
        return decided(
            Some(DeniedBy::ExplicitDeny),
            Decider::of_hit(d),
            &|| match d.level {
                Some(level) => {
                    format!("explicit Deny in {} policy {} at the {}, {}", layer_name(d.layer), d.policy.name, level.describe(), d.statement.label())
                }
                None => format!("explicit Deny in {} policy {}, {}", layer_name(d.layer), d.policy.name, d.statement.label()),
            },
            all,
        );
    }

    // 2. Every level of the SCPs must allow (RCPs only deny: RCPFullAWSAccess allows at
    // every level). AWS Organizations User Guide, "SCP evaluation": "For a permission to be
    // allowed for a specific account, there must be an explicit Allow statement at every level
    // from the root through each OU in the direct path to the account (including the target
    // account itself)."
    if let Some(level) = scp_level_without_allow(scps, req, pre) {
        return decided(
            Some(DeniedBy::Scp),
            Decider::org_level("scp", level),
            &|| {
                format!(
                    "the service control policies at the {} allow no {} on {} (attached there: {})",
                    level.describe(),
                    req.action,
                    req.resource,
                    level_policies(level)
                )
            },
            all,
        );
    }

    // 3. A VPC endpoint policy on the request's path must allow.
    if let Some(v) = &set.vpc_endpoint {
        if applies(Layer::VpcEndpoint, Effect::Allow).next().is_none() {
            return decided(
                Some(DeniedBy::VpcEndpoint),
                Decider::policy("vpc-endpoint", v),
                &|| format!("the VPC endpoint policy {} does not allow {} on {} for {}", v.name, req.action, req.resource, req.principal.arn),
                all,
            );
        }
    }

    let identity_allow = applies(Layer::Identity, Effect::Allow).next();
    let resource_named = applies(Layer::Resource, Effect::Allow).find(|t| matches!(t.principal, Some("named") | Some("role") | Some("any")));
    let resource_account = applies(Layer::Resource, Effect::Allow).any(|t| t.principal == Some("account"));
    let resource_allow = resource_named.is_some() || resource_account;

    let cross_account = is_cross_account(req);

    // Trust and key policies must allow by themselves.
    let kind = key_policy_rules(req, set);
    if let Some(r) = set.resource.as_ref().filter(|_| kind != ResourcePolicyKind::Ordinary && !resource_allow) {
        let what = if kind == ResourcePolicyKind::RoleTrust { "the role's trust policy" } else { "the key policy" };
        return decided(
            Some(DeniedBy::ResourcePolicy),
            Decider::policy("resource", r),
            &|| format!("{what} does not allow {} for {}", req.action, req.principal.arn),
            all,
        );
    }

    // A resource policy naming a user or a role or federated user session by its own ARN (or
    // "*") is not limited by a boundary or session policy; naming the role is.
    let direct = !cross_account
        && req.principal.takes_direct_grants()
        && applies(Layer::Resource, Effect::Allow).any(|t| matches!(t.principal, Some("named") | Some("any")));

    let (grant, granted_by): (Box<dyn Fn() -> String + '_>, Decider) = if cross_account {
        let Some(id) = identity_allow else {
            return decided(
                Some(DeniedBy::CrossAccount),
                Decider::layer("identity"),
                &|| format!("cross-account request: no identity policy of {} allows {}", req.principal.arn, req.action),
                all,
            );
        };
        if !resource_allow {
            return decided(
                Some(DeniedBy::CrossAccount),
                match &set.resource {
                    Some(r) => Decider::policy("resource", r),
                    None => Decider::layer("resource"),
                },
                &|| format!("cross-account request: the resource policy does not allow {} for account {}", req.action, req.principal.account),
                all,
            );
        }
        (
            Box::new(move || format!("identity policy {}, {} and the resource policy", id.policy.name, id.statement.label())),
            Decider { layer: "identity-and-resource", ..Decider::of_hit(id) },
        )
    } else if let Some(r) = resource_named {
        (Box::new(move || format!("resource policy {}, {}", r.policy.name, r.statement.label())), Decider::of_hit(r))
    } else if let Some(id) = identity_allow {
        (Box::new(move || format!("identity policy {}, {}", id.policy.name, id.statement.label())), Decider::of_hit(id))
    } else {
        let why = if resource_account {
            "the resource policy names only the account, which delegates to identity policies, and none allows it"
        } else if req.principal.is_anonymous() {
            "an anonymous request is allowed only by a resource policy whose Principal is \"*\", and none allows it"
        } else {
            "no policy allows it"
        };
        return decided(
            Some(DeniedBy::NoAllow),
            Decider::layer("no-allow"),
            &|| format!("implicit deny: {why} ({} on {})", req.action, req.resource),
            all,
        );
    };

    if !direct && !req.principal.is_anonymous() {
        if let Some(b) = &set.boundary {
            if applies(Layer::Boundary, Effect::Allow).next().is_none() {
                return decided(
                    Some(DeniedBy::Boundary),
                    Decider::policy("boundary", b),
                    &|| format!("the permissions boundary {} does not allow {}", b.name, req.action),
                    all,
                );
            }
        }
        if let Some(s) = &set.session {
            if applies(Layer::Session, Effect::Allow).next().is_none() {
                return decided(
                    Some(DeniedBy::Session),
                    Decider::policy("session", s),
                    &|| format!("the session policy {} does not allow {}", s.name, req.action),
                    all,
                );
            }
        } else if req.principal.needs_session_policy() {
            return decided(
                Some(DeniedBy::Session),
                Decider::layer("session"),
                &|| {
                    format!(
                        "{} is a federated user session, which has only what its session policy allows, and no session policy was given",
                        req.principal.arn
                    )
                },
                all,
            );
        }
    }
    decided(None, granted_by, &|| format!("allowed by {}", grant()), all)
}

fn layer_name(l: Layer) -> &'static str {
    match l {
        Layer::Identity => "identity",
        Layer::Resource => "resource",
        Layer::Boundary => "boundary",
        Layer::Session => "session",
        Layer::Scp => "service control",
        Layer::Rcp => "resource control",
        Layer::VpcEndpoint => "VPC endpoint",
    }
}

#[cfg(test)]
#[path = "evaluate_tests.rs"]
mod tests;
