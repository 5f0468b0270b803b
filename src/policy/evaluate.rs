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
    /// AWS forbids the change to anyone in the account: AWS-managed policies and roles under
    /// `/aws-reserved/`.
    NotModifiable,
}

/// IAM actions that change a policy or a role (and so are refused on AWS-managed policies and
/// on roles under `/aws-reserved/`).
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
        let managed = req.resource.split(':').nth(4) == Some("aws") && req.resource.contains(":policy/");
        let reserved = req.resource.contains(":role/aws-reserved/");
        if managed || reserved {
            let what = if managed { "an AWS-managed policy" } else { "a role under /aws-reserved/" };
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
mod tests {
    use super::super::document::Kind;
    use super::*;

    fn pol(name: &str, json: &str, kind: Kind) -> NamedPolicy {
        NamedPolicy { name: name.into(), policy: Policy::parse_str(json, kind).unwrap() }
    }

    fn req(principal: &str, action: &str, resource: &str) -> Request {
        Request {
            principal: PrincipalId::from_arn(principal),
            action: action.into(),
            resource: resource.into(),
            resource_account: String::new(),
            context: Context::default(),
        }
    }

    const USER: &str = "arn:aws:iam::111111111111:user/alice";

    #[test]
    fn allow_implicit_and_explicit_deny() {
        let allow = pol("a", r#"{"Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}}"#, Kind::Identity);
        let deny = pol("d", r#"{"Statement":{"Effect":"Deny","Action":"s3:*","Resource":"*"}}"#, Kind::Identity);
        let r = req(USER, "s3:GetObject", "arn:aws:s3:::b/k");
        assert_eq!(evaluate(&r, &PolicySet { identity: vec![allow.clone()], ..Default::default() }).decision, Decision::Allow);
        assert_eq!(
            evaluate(&req(USER, "s3:PutObject", "arn:aws:s3:::b/k"), &PolicySet { identity: vec![allow.clone()], ..Default::default() }).decision,
            Decision::ImplicitDeny
        );
        let e = evaluate(&r, &PolicySet { identity: vec![allow, deny], ..Default::default() });
        assert_eq!(e.decision, Decision::ExplicitDeny);
        assert!(e.reason.contains("policy d"), "{}", e.reason);
    }

    #[test]
    fn not_action_with_allow_and_not_resource() {
        let p = pol("p", r#"{"Statement":{"Effect":"Allow","NotAction":"iam:*","NotResource":"arn:aws:s3:::secret/*"}}"#, Kind::Identity);
        let set = PolicySet { identity: vec![p], ..Default::default() };
        assert_eq!(evaluate(&req(USER, "s3:GetObject", "arn:aws:s3:::b/k"), &set).decision, Decision::Allow);
        assert_eq!(evaluate(&req(USER, "iam:PassRole", "arn:aws:iam::111111111111:role/r"), &set).decision, Decision::ImplicitDeny);
        assert_eq!(evaluate(&req(USER, "s3:GetObject", "arn:aws:s3:::secret/k"), &set).decision, Decision::ImplicitDeny);
    }

    #[test]
    fn boundary_limits_and_resource_policy_grants() {
        let allow = pol("a", r#"{"Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*"}}"#, Kind::Identity);
        let boundary = pol("b", r#"{"Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}}"#, Kind::Identity);
        let set = PolicySet { identity: vec![allow], boundary: Some(boundary.clone()), ..Default::default() };
        let e = evaluate(&req(USER, "s3:PutObject", "arn:aws:s3:::b/k"), &set);
        assert_eq!(e.decision, Decision::ImplicitDeny);
        assert!(e.reason.contains("permissions boundary"));
        // Same account, a bucket policy naming the user grants without an identity policy.
        let bucket = pol(
            "bucket",
            &format!(r#"{{"Statement":{{"Effect":"Allow","Principal":{{"AWS":"{USER}"}},"Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}}}}"#),
            Kind::Resource,
        );
        let set = PolicySet { resource: Some(bucket.clone()), ..Default::default() };
        assert_eq!(evaluate(&req(USER, "s3:GetObject", "arn:aws:s3:::b/k"), &set).decision, Decision::Allow);
        // Naming the account root only delegates.
        let root = pol(
            "bucket",
            r#"{"Statement":{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111111111111:root"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}}"#,
            Kind::Resource,
        );
        let set = PolicySet { resource: Some(root), ..Default::default() };
        assert_eq!(evaluate(&req(USER, "s3:GetObject", "arn:aws:s3:::b/k"), &set).decision, Decision::ImplicitDeny);
        // Cross-account: both sides needed.
        let mut r = req(USER, "s3:GetObject", "arn:aws:s3:::b/k");
        r.resource_account = "222222222222".into();
        let set = PolicySet { resource: Some(bucket), ..Default::default() };
        assert_eq!(evaluate(&r, &set).decision, Decision::ImplicitDeny);
    }

    /// IAM User Guide, "AWS global condition context keys", aws:PrincipalArn: "For IAM roles, the
    /// request context returns the ARN of the role, not the ARN of the user that assumed the
    /// role." and "Do not specify the assumed role session ARN as a value for this condition key."
    #[test]
    fn principal_arn_of_a_role_session_is_the_roles_arn_with_its_path() {
        let session = PrincipalId::from_arn("arn:aws:sts::111111111111:assumed-role/Batch/s1");
        assert_eq!(session.principal_arn(), "arn:aws:iam::111111111111:role/Batch", "the path is unknown from the session ARN");
        let session = session.with_role_arn("arn:aws:iam::111111111111:role/service-role/Batch");
        assert_eq!(session.principal_arn(), "arn:aws:iam::111111111111:role/service-role/Batch");
        assert_eq!(session.arn, "arn:aws:sts::111111111111:assumed-role/Batch/s1", "the request still names the session");
        let user = PrincipalId::from_arn(USER).with_role_arn("arn:aws:iam::111111111111:role/R");
        assert_eq!(user.principal_arn(), USER, "a user is its own aws:PrincipalArn");
        // An SCP exempting the role by its ARN exempts the role's sessions.
        let allow = pol("a", r#"{"Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}"#, Kind::Identity);
        let lock = r#"{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*"},{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"ArnNotLike":{"aws:PrincipalArn":"arn:aws:iam::*:role/service-role/Batch"}}}]}"#;
        let set = PolicySet { identity: vec![allow], scps: vec![level("r-root", &[lock], Kind::Identity)], ..Default::default() };
        let mut r = req(&session.arn, "s3:GetObject", "arn:aws:s3:::b/k");
        r.principal = session.clone();
        r.context.set("aws:PrincipalArn", session.principal_arn());
        assert_eq!(evaluate(&r, &set).decision, Decision::Allow);
        r.context.set("aws:PrincipalArn", &session.arn);
        assert_eq!(evaluate(&r, &set).decision, Decision::ExplicitDeny);
    }

    #[test]
    fn trust_policy_with_role_path_and_session_arn() {
        let trust = pol(
            "trust",
            r#"{"Statement":{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111111111111:role/service-role/Caller"},"Action":"sts:AssumeRole"}}"#,
            Kind::Resource,
        );
        let set = PolicySet { resource: Some(trust), resource_kind: ResourcePolicyKind::RoleTrust, ..Default::default() };
        let r = req("arn:aws:sts::111111111111:assumed-role/Caller/session1", "sts:AssumeRole", "arn:aws:iam::111111111111:role/Target");
        assert_eq!(evaluate(&r, &set).decision, Decision::Allow);
        let r = req("arn:aws:sts::111111111111:assumed-role/Other/session1", "sts:AssumeRole", "arn:aws:iam::111111111111:role/Target");
        assert_eq!(evaluate(&r, &set).decision, Decision::ImplicitDeny);
    }

    #[test]
    fn bedrock_service_principal_in_trust_policy() {
        let trust = pol(
            "trust",
            r#"{"Statement":{"Effect":"Allow","Principal":{"Service":"bedrock.amazonaws.com"},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"aws:SourceAccount":"111111111111"}}}}"#,
            Kind::Resource,
        );
        let set = PolicySet { resource: Some(trust), resource_kind: ResourcePolicyKind::RoleTrust, ..Default::default() };
        let mut r = req("bedrock.amazonaws.com", "sts:AssumeRole", "arn:aws:iam::111111111111:role/Batch");
        r.context.set("aws:SourceAccount", "111111111111");
        assert_eq!(evaluate(&r, &set).decision, Decision::Allow);
        r.context.set("aws:SourceAccount", "999999999999");
        let e = evaluate(&r, &set);
        assert_eq!(e.decision, Decision::ImplicitDeny);
        assert!(e.trace[0].conditions[0].reason.contains("fails"));
    }

    fn level(target: &str, docs: &[&str], kind: Kind) -> OrgLevel {
        let level = if target.starts_with("r-") {
            OrgLevelKind::Root
        } else if target.starts_with("ou-") {
            OrgLevelKind::Ou
        } else {
            OrgLevelKind::Account
        };
        OrgLevel {
            target: target.into(),
            kind: level,
            policies: docs.iter().enumerate().map(|(i, d)| pol(&format!("{target}-{i}"), d, kind)).collect(),
        }
    }

    #[test]
    fn scps_need_an_allow_at_every_level_and_deny_anywhere() {
        let full = r#"{"Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}"#;
        let only_s3 = r#"{"Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*"}}"#;
        let deny_bedrock = r#"{"Statement":{"Sid":"NoBatch","Effect":"Deny","Action":"bedrock:CreateModelInvocationJob","Resource":"*"}}"#;
        let allow = pol("a", r#"{"Statement":{"Effect":"Allow","Action":"bedrock:*","Resource":"*"}}"#, Kind::Identity);
        let r = req(USER, "bedrock:CreateModelInvocationJob", "arn:aws:bedrock:us-east-1:111111111111:model-invocation-job/*");
        let set = |scps: Vec<OrgLevel>| PolicySet { identity: vec![allow.clone()], scps, ..Default::default() };
        assert_eq!(evaluate(&r, &set(vec![level("r-root", &[full], Kind::Identity)])).decision, Decision::Allow);
        // The OU allows only S3: the account's FullAWSAccess does not make up for it.
        let e = evaluate(
            &r,
            &set(vec![
                level("r-root", &[full], Kind::Identity),
                level("ou-1", &[only_s3], Kind::Identity),
                level("111111111111", &[full], Kind::Identity),
            ]),
        );
        assert_eq!((e.decision, e.denied_by), (Decision::ImplicitDeny, Some(DeniedBy::Scp)));
        assert!(e.reason.contains("ou-1"), "{}", e.reason);
        let e = evaluate(&r, &set(vec![level("r-root", &[full, deny_bedrock], Kind::Identity)]));
        assert_eq!(e.decision, Decision::ExplicitDeny);
        assert!(e.reason.contains("service control") && e.reason.contains("NoBatch"), "{}", e.reason);
        // SCPs never bind a service principal.
        let svc = req("bedrock.amazonaws.com", "bedrock:CreateModelInvocationJob", "*");
        let trust_like =
            PolicySet { identity: vec![allow.clone()], scps: vec![level("r-root", &[deny_bedrock], Kind::Identity)], ..Default::default() };
        assert_eq!(evaluate(&svc, &trust_like).decision, Decision::Allow);
    }

    #[test]
    fn rcps_deny_only_and_only_for_the_services_that_support_them() {
        let deny_all = r#"{"Statement":{"Effect":"Deny","Principal":"*","Action":["s3:*","bedrock:*"],"Resource":"*"}}"#;
        let allow = pol("a", r#"{"Statement":{"Effect":"Allow","Action":["s3:GetObject","bedrock:InvokeModel"],"Resource":"*"}}"#, Kind::Identity);
        let set = PolicySet { identity: vec![allow], rcps: vec![level("r-root", &[deny_all], Kind::Resource)], ..Default::default() };
        assert_eq!(evaluate(&req(USER, "s3:GetObject", "arn:aws:s3:::b/k"), &set).decision, Decision::ExplicitDeny);
        // Bedrock is not among the services RCPs apply to.
        assert_eq!(evaluate(&req(USER, "bedrock:InvokeModel", "arn:aws:bedrock:us-east-1::foundation-model/m"), &set).decision, Decision::Allow);
        // With no Deny, an RCP level lets through (RCPFullAWSAccess is always attached).
        let quiet = PolicySet {
            rcps: vec![level(
                "r-root",
                &[r#"{"Statement":{"Effect":"Deny","Principal":"*","Action":"s3:DeleteObject","Resource":"*"}}"#],
                Kind::Resource,
            )],
            ..set.clone()
        };
        assert_eq!(evaluate(&req(USER, "s3:GetObject", "arn:aws:s3:::b/k"), &quiet).decision, Decision::Allow);
    }

    #[test]
    fn rules_aws_applies_before_any_policy() {
        let deny_all = pol("d", r#"{"Statement":{"Effect":"Deny","Action":"*","Resource":"*"}}"#, Kind::Identity);
        let allow_all = pol("a", r#"{"Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}"#, Kind::Identity);
        // GetCallerIdentity is allowed even under an explicit Deny.
        let e = evaluate(&req(USER, "sts:GetCallerIdentity", "*"), &PolicySet { identity: vec![deny_all], ..Default::default() });
        assert_eq!(e.decision, Decision::Allow);
        // AWS-managed policies and /aws-reserved/ roles cannot be changed, even by an admin.
        let admin = PolicySet { identity: vec![allow_all.clone()], ..Default::default() };
        let e = evaluate(&req(USER, "iam:CreatePolicyVersion", "arn:aws:iam::aws:policy/AdministratorAccess"), &admin);
        assert_eq!((e.decision, e.denied_by), (Decision::ImplicitDeny, Some(DeniedBy::NotModifiable)));
        let e =
            evaluate(&req(USER, "iam:PutRolePolicy", "arn:aws:iam::111111111111:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_Admin_1"), &admin);
        assert_eq!(e.denied_by, Some(DeniedBy::NotModifiable));
        assert_eq!(evaluate(&req(USER, "iam:GetPolicy", "arn:aws:iam::aws:policy/AdministratorAccess"), &admin).decision, Decision::Allow);
        // KMS: identity policies alone never grant a key.
        let kms = PolicySet { identity: vec![allow_all], resource_kind: ResourcePolicyKind::KmsKey, ..Default::default() };
        let e = evaluate(&req(USER, "kms:Decrypt", "arn:aws:kms:us-east-1:111111111111:key/k"), &kms);
        assert_eq!((e.decision, e.denied_by), (Decision::ImplicitDeny, Some(DeniedBy::ResourcePolicy)));
        assert!(e.reason.contains("key policy"), "{}", e.reason);
    }

    /// AWS KMS API Reference, ListKeys: "Required permissions: kms:ListKeys (IAM policy)". AWS
    /// KMS Developer Guide, "Controlling access to aliases": "kms:CreateAlias for the alias.
    /// Provide this permission in an IAM policy that is attached to the principal who is allowed
    /// to create the alias." and "principals who manage aliases must have permission to call the
    /// alias operation on the alias and on all affected KMS keys" (the key's half is a request on
    /// the key, under its key policy).
    #[test]
    fn kms_list_keys_and_alias_operations_are_authorised_by_iam_policies_alone() {
        const ALIAS: &str = "arn:aws:kms:us-east-1:111111111111:alias/batch";
        const KEY: &str = "arn:aws:kms:us-east-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab";
        let allow = pol(
            "a",
            &format!(
                r#"{{"Statement":[{{"Effect":"Allow","Action":"kms:ListKeys","Resource":"*"}},{{"Effect":"Allow","Action":["kms:CreateAlias","kms:UpdateAlias","kms:DeleteAlias"],"Resource":["{ALIAS}","{KEY}"]}}]}}"#
            ),
            Kind::Identity,
        );
        // simulate marks every kms: request as a key request; the engine narrows it to keys.
        let set = PolicySet { identity: vec![allow.clone()], resource_kind: ResourcePolicyKind::KmsKey, ..Default::default() };
        assert_eq!(evaluate(&req(USER, "kms:ListKeys", "*"), &set).decision, Decision::Allow);
        for action in ["kms:CreateAlias", "kms:UpdateAlias", "kms:DeleteAlias"] {
            let e = evaluate(&req(USER, action, ALIAS), &set);
            assert_eq!(e.decision, Decision::Allow, "{action}: {}", e.reason);
            assert_eq!(decide(&req(USER, action, ALIAS), &set), Decision::Allow);
            // The same operation on the key still needs the key policy.
            let e = evaluate(&req(USER, action, KEY), &set);
            assert_eq!((e.decision, e.denied_by), (Decision::ImplicitDeny, Some(DeniedBy::ResourcePolicy)), "{action}");
        }
        // Without an IAM grant, ListKeys is denied for want of one, not for want of a key policy.
        let none = PolicySet { resource_kind: ResourcePolicyKind::KmsKey, ..Default::default() };
        let e = evaluate(&req(USER, "kms:ListKeys", "*"), &none);
        assert_eq!((e.decision, e.denied_by), (Decision::ImplicitDeny, Some(DeniedBy::NoAllow)), "{}", e.reason);
        // A key policy that allows only the key's half does not make the alias's half allowed.
        let key_policy = pol(
            "key",
            r#"{"Statement":{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111111111111:user/alice"},"Action":"kms:CreateAlias","Resource":"*"}}"#,
            Kind::Resource,
        );
        let only_key = PolicySet { resource: Some(key_policy), resource_kind: ResourcePolicyKind::KmsKey, ..Default::default() };
        assert_eq!(evaluate(&req(USER, "kms:CreateAlias", KEY), &only_key).decision, Decision::Allow);
    }

    /// No AWS page refuses iam:PassRole on a service-linked role (path /aws-service-role/) or a
    /// role under /aws-reserved/ when an identity policy allows it; the IAM User Guide, "Granting
    /// a user permissions to pass a role to an AWS service", says the opposite for the first:
    /// "When you create a service-linked role, you must also have permission to pass that role to
    /// the service." So PassRole is decided by the policies, as for any role; only the writes of
    /// `iam_write` are refused on /aws-reserved/ roles.
    #[test]
    fn pass_role_on_service_linked_and_reserved_roles_is_decided_by_the_policies() {
        let allow = pol("a", r#"{"Statement":{"Effect":"Allow","Action":"iam:PassRole","Resource":"*"}}"#, Kind::Identity);
        let set = PolicySet { identity: vec![allow], ..Default::default() };
        for role in [
            "arn:aws:iam::111111111111:role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling",
            "arn:aws:iam::111111111111:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_Admin_0123456789abcdef",
        ] {
            assert_eq!(evaluate(&req(USER, "iam:PassRole", role), &set).decision, Decision::Allow, "{role}");
            assert_eq!(evaluate(&req(USER, "iam:PassRole", role), &PolicySet::default()).decision, Decision::ImplicitDeny, "{role}");
        }
    }

    /// The combinations of AWS's "Policy evaluation logic" page (IAM User Guide; the table
    /// "Resource-based policies and implicit denies in other policy types (same account)", its
    /// cross-account page, and the "Session policies" section of "Policies and permissions in
    /// IAM"): which principal ARN a resource-based policy names decides whether an implicit deny
    /// in the identity policy, the permissions boundary or the session policy limits its grant.
    /// Each case carries the sentence it is built from; `decide` must agree with `evaluate`.
    #[test]
    fn resource_policy_grants_under_boundaries_and_session_policies_follow_aws_table() {
        const ACCT: &str = "111111111111";
        const SESSION: &str = "arn:aws:sts::111111111111:assumed-role/Batch/s1";
        const ROLE: &str = "arn:aws:iam::111111111111:role/Batch";
        const FEDERATED: &str = "arn:aws:sts::111111111111:federated-user/alice";
        const OBJECT: &str = "arn:aws:s3:::b/k";
        let allow_get = || pol("allow", r#"{"Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}}"#, Kind::Identity);
        let allow_other = || pol("other", r#"{"Statement":{"Effect":"Allow","Action":"sqs:SendMessage","Resource":"*"}}"#, Kind::Identity);
        let deny_get = || pol("deny", r#"{"Statement":{"Effect":"Deny","Action":"s3:GetObject","Resource":"*"}}"#, Kind::Identity);
        let bucket = |principal: &str| {
            pol(
                "bucket",
                &format!(
                    r#"{{"Statement":{{"Effect":"Allow","Principal":{{"AWS":"{principal}"}},"Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}}}}"#
                ),
                Kind::Resource,
            )
        };
        struct Case {
            why: &'static str,
            principal: &'static str,
            named: &'static str,
            resource_account: &'static str,
            identity: Option<NamedPolicy>,
            boundary: Option<NamedPolicy>,
            session: Option<NamedPolicy>,
            want: Decision,
        }
        let same = ACCT;
        let other = "222222222222";
        #[rustfmt::skip]
        let cases = vec![
            // IAM role: "Resource-based policies that grant permissions to an IAM role ARN are
            // limited by an implicit deny in a permissions boundary or session policy."
            Case { why: "role ARN, identity implicit deny", principal: SESSION, named: ROLE, resource_account: same, identity: None, boundary: None, session: None, want: Decision::Allow, },
            Case { why: "role ARN, boundary implicit deny", principal: SESSION, named: ROLE, resource_account: same, identity: Some(allow_get()), boundary: Some(allow_other()), session: None, want: Decision::ImplicitDeny, },
            Case { why: "role ARN, session policy implicit deny", principal: SESSION, named: ROLE, resource_account: same, identity: Some(allow_get()), boundary: None, session: Some(allow_other()), want: Decision::ImplicitDeny, },
            // Session policies: "The session policy limits the total permissions granted by the
            // resource-based policy and the identity-based policy."
            Case { why: "role ARN, session policy allows", principal: SESSION, named: ROLE, resource_account: same, identity: None, boundary: None, session: Some(allow_get()), want: Decision::Allow, },
            // IAM role session: "Permissions granted directly to a session are not limited by an
            // implicit deny in an identity-based policy, a permissions boundary, or session policy."
            Case { why: "session ARN, identity implicit deny", principal: SESSION, named: SESSION, resource_account: same, identity: None, boundary: None, session: None, want: Decision::Allow, },
            Case { why: "session ARN, boundary implicit deny", principal: SESSION, named: SESSION, resource_account: same, identity: None, boundary: Some(allow_other()), session: None, want: Decision::Allow, },
            // Session policies: "The resource-based policy permissions are not limited by the
            // session policy."
            Case { why: "session ARN, session policy implicit deny", principal: SESSION, named: SESSION, resource_account: same, identity: None, boundary: None, session: Some(allow_other()), want: Decision::Allow, },
            // "An explicit deny in any of these policies overrides the allow."
            Case { why: "session ARN, session policy explicit deny", principal: SESSION, named: SESSION, resource_account: same, identity: None, boundary: None, session: Some(deny_get()), want: Decision::ExplicitDeny, },
            Case { why: "session ARN, boundary explicit deny", principal: SESSION, named: SESSION, resource_account: same, identity: None, boundary: Some(deny_get()), session: None, want: Decision::ExplicitDeny, },
            // IAM user: "resource-based policies that grant permissions to an IAM user ARN (that
            // is not a federated user session) are not limited by an implicit deny in an
            // identity-based policy or permissions boundary."
            Case { why: "user ARN, boundary implicit deny", principal: USER, named: USER, resource_account: same, identity: None, boundary: Some(allow_other()), session: None, want: Decision::Allow, },
            // IAM federated user sessions: "resource-based policies that grant permissions to a
            // federated user ARN grant permissions directly to the session. Permissions granted
            // directly to a session are not limited by an implicit deny in an identity-based
            // policy, a permissions boundary, or session policy."
            Case { why: "federated session ARN, session policy implicit deny", principal: FEDERATED, named: FEDERATED, resource_account: same, identity: None, boundary: None, session: Some(allow_other()), want: Decision::Allow, },
            Case { why: "federated session ARN, boundary implicit deny", principal: FEDERATED, named: FEDERATED, resource_account: same, identity: None, boundary: Some(allow_other()), session: Some(allow_get()), want: Decision::Allow, },
            Case { why: "federated session ARN, no session policy", principal: FEDERATED, named: FEDERATED, resource_account: same, identity: None, boundary: None, session: None, want: Decision::Allow, },
            // Session principals: "If there is no session policy, the code checks whether the
            // principal is a role session. If the principal is a role session, then the request
            // is Allowed. Otherwise, the request is implicitly denied" (a federated user session
            // gets its permissions from the session policy it was given).
            Case { why: "federated session, identity allows, no session policy", principal: FEDERATED, named: ROLE, resource_account: same, identity: Some(allow_get()), boundary: None, session: None, want: Decision::ImplicitDeny, },
            Case { why: "federated session, identity and session policy allow", principal: FEDERATED, named: ROLE, resource_account: same, identity: Some(allow_get()), boundary: None, session: Some(allow_get()), want: Decision::Allow, },
            // Cross-account: "AWS evaluates the request in the trusting account and the trusted
            // account ... The request is allowed only if both evaluations return a decision of
            // Allow", and in the trusted account "it checks the identity-based policy and any
            // policies that can limit an identity-based policy".
            Case { why: "cross-account session ARN, identity implicit deny", principal: SESSION, named: SESSION, resource_account: other, identity: None, boundary: None, session: None, want: Decision::ImplicitDeny, },
            Case { why: "cross-account session ARN, session policy implicit deny", principal: SESSION, named: SESSION, resource_account: other, identity: Some(allow_get()), boundary: None, session: Some(allow_other()), want: Decision::ImplicitDeny, },
            Case { why: "cross-account session ARN, boundary implicit deny", principal: SESSION, named: SESSION, resource_account: other, identity: Some(allow_get()), boundary: Some(allow_other()), session: None, want: Decision::ImplicitDeny, },
            Case { why: "cross-account role ARN, every identity-side policy allows", principal: SESSION, named: ROLE, resource_account: other, identity: Some(allow_get()), boundary: Some(allow_get()), session: Some(allow_get()), want: Decision::Allow, },
            Case { why: "cross-account role ARN, session policy implicit deny", principal: SESSION, named: ROLE, resource_account: other, identity: Some(allow_get()), boundary: None, session: Some(allow_other()), want: Decision::ImplicitDeny, },
        ];
        for c in cases {
            let mut r = req(c.principal, "s3:GetObject", OBJECT);
            r.resource_account = c.resource_account.into();
            let set = PolicySet {
                identity: c.identity.into_iter().collect(),
                resource: Some(bucket(c.named)),
                boundary: c.boundary,
                session: c.session,
                ..Default::default()
            };
            let e = evaluate(&r, &set);
            assert_eq!(e.decision, c.want, "{}: {}", c.why, e.reason);
            assert_eq!(decide(&r, &set), c.want, "decide: {}", c.why);
        }
    }

    #[test]
    fn a_not_principal_deny_always_denies_a_principal_with_a_boundary() {
        let allow = pol("a", r#"{"Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*"}}"#, Kind::Identity);
        let bucket = pol(
            "bucket",
            &format!(r#"{{"Statement":{{"Effect":"Deny","NotPrincipal":{{"AWS":"{USER}"}},"Action":"s3:*","Resource":"arn:aws:s3:::b/*"}}}}"#),
            Kind::Resource,
        );
        let r = req(USER, "s3:GetObject", "arn:aws:s3:::b/k");
        let without = PolicySet { identity: vec![allow.clone()], resource: Some(bucket.clone()), ..Default::default() };
        assert_eq!(evaluate(&r, &without).decision, Decision::Allow, "NotPrincipal exempts alice");
        let with = PolicySet { identity: vec![allow.clone()], resource: Some(bucket), boundary: Some(allow), ..Default::default() };
        assert_eq!(evaluate(&r, &with).decision, Decision::ExplicitDeny, "with a boundary the exemption does not hold");
    }

    #[test]
    fn wildcard_account_in_resource_arn() {
        let p =
            pol("p", r#"{"Statement":{"Effect":"Allow","Action":"iam:PassRole","Resource":"arn:aws:iam::*:role/service-role/*"}}"#, Kind::Identity);
        let set = PolicySet { identity: vec![p], ..Default::default() };
        assert_eq!(evaluate(&req(USER, "iam:PassRole", "arn:aws:iam::111111111111:role/service-role/Batch"), &set).decision, Decision::Allow);
        assert_eq!(evaluate(&req(USER, "iam:PassRole", "arn:aws:iam::111111111111:role/Batch"), &set).decision, Decision::ImplicitDeny);
    }
}
