//! `simulate`: one request against the policies that apply, offline from files or online from
//! the account, printed with the trace of why.

use std::path::Path;

use crate::cli::{GlobalArgs, SimulateArgs};
use crate::collect;
use crate::error::{Error, ExitCode, Result};
use crate::policy::{self, Context, Decision, Kind, NamedPolicy, Policy, PolicySet, PrincipalId, Request, ResourcePolicyKind};
use crate::session as app;
use crate::settings::PrincipalArn;

fn read_policy(path: &Path, kind: Kind) -> Result<NamedPolicy> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::Usage(format!("cannot read policy file {}: {e}", path.display())))?;
    let policy = Policy::parse_str(&text, kind).map_err(|e| Error::Usage(format!("{}: {e}", path.display())))?;
    Ok(NamedPolicy { name: path.display().to_string(), policy })
}

/// Parses `--context KEY=VALUE` flags; a key given twice becomes multi-valued.
pub fn parse_context(pairs: &[String]) -> Result<Context> {
    let mut ctx = Context::default();
    for p in pairs {
        let (k, v) = p.split_once('=').ok_or_else(|| Error::Usage(format!("--context {p:?}: expected KEY=VALUE, e.g. aws:SourceIp=203.0.113.5")))?;
        if k.is_empty() || !k.contains(':') {
            return Err(Error::Usage(format!("--context {p:?}: a condition key looks like service:Name, e.g. aws:SourceAccount")));
        }
        ctx.add(k, v);
    }
    Ok(ctx)
}

/// Fills the keys AWS derives from the principal, unless the user gave them (none for an
/// anonymous request, which has no principal).
fn derive_context(ctx: &mut Context, who: &PrincipalId) {
    if who.is_anonymous() {
        return;
    }
    if who.is_service() {
        if !ctx.contains("aws:PrincipalServiceName") {
            ctx.set("aws:PrincipalServiceName", &who.arn);
        }
        return;
    }
    if !ctx.contains("aws:PrincipalArn") {
        // For a role session, the role's ARN (with its path when known): see
        // `PrincipalId::principal_arn` for AWS's sentence.
        ctx.set("aws:PrincipalArn", who.principal_arn());
    }
    if !ctx.contains("aws:PrincipalAccount") && !who.account.is_empty() {
        ctx.set("aws:PrincipalAccount", &who.account);
    }
    if !ctx.contains("aws:username") {
        if let Some(name) = who.arn.split(":user/").nth(1) {
            ctx.set("aws:username", name.rsplit('/').next().unwrap_or(name));
        }
    }
}

/// What makes `simulate` take every policy from files, as the flags say it (None: it reads the
/// account — the principal's policies when no `--policy` is given for a user or role, the
/// resource's policy for an anonymous request without `--resource-policy`). Then the settings
/// and AWS flags, which only reach the account, are refused (`cli_parse`).
pub fn from_files_only(args: &SimulateArgs) -> Option<String> {
    if args.principal == policy::evaluate::ANONYMOUS {
        return args.resource_policy.is_some().then(|| "'--principal anonymous' and '--resource-policy'".to_string());
    }
    if !args.policies.is_empty() {
        return Some("'--policy'".into());
    }
    PrincipalId::from_arn(&args.principal).is_service().then(|| format!("a service principal ('--principal {}')", args.principal))
}

pub async fn run(g: &GlobalArgs, args: &SimulateArgs) -> Result<ExitCode> {
    if !args.action.contains(':') || args.action.contains('*') {
        return Err(Error::Usage(format!("--action {:?}: one action of the form service:Action, without wildcards", args.action)));
    }
    let anonymous = args.principal == policy::evaluate::ANONYMOUS;
    let mut who = if anonymous { PrincipalId::anonymous() } else { PrincipalId::from_arn(&args.principal) };
    if !anonymous && !who.is_service() && who.account.is_empty() {
        return Err(Error::Usage(format!(
            "--principal {:?}: expected an IAM user or role ARN, an assumed-role session ARN, a service principal such as bedrock.amazonaws.com, or anonymous",
            args.principal
        )));
    }
    if anonymous && (!args.policies.is_empty() || args.boundary.is_some() || args.session_policy.is_some()) {
        return Err(Error::Usage(
            "--principal anonymous: a request with no principal has no identity policy, permissions boundary or session policy (drop --policy, --boundary, --session-policy)".into(),
        ));
    }
    let mut context = parse_context(&args.context)?;

    let mut set = PolicySet::default();
    for p in &args.policies {
        set.identity.push(read_policy(p, Kind::Identity)?);
    }
    if let Some(p) = &args.boundary {
        set.boundary = Some(read_policy(p, Kind::Identity)?);
    }
    if let Some(p) = &args.session_policy {
        set.session = Some(read_policy(p, Kind::Identity)?);
    }
    if let Some(p) = &args.resource_policy {
        set.resource = Some(read_policy(p, Kind::Resource)?);
    }
    // An endpoint policy "must contain a Principal element" (Amazon VPC, "Control access to VPC
    // endpoints using endpoint policies"): parsed as a resource-based policy.
    if let Some(p) = &args.vpce_policy {
        set.vpc_endpoint = Some(read_policy(p, Kind::Resource)?);
    }
    // The organization's policies, level by level, read and named as `check` reads them.
    let org = org_levels(&g.scp, &g.rcp)?;
    set.scps = org.scps;
    set.rcps = org.rcps;
    if args.action.eq_ignore_ascii_case("sts:AssumeRole") {
        set.resource_kind = ResourcePolicyKind::RoleTrust;
    } else if args.action.to_ascii_lowercase().starts_with("kms:") {
        set.resource_kind = ResourcePolicyKind::KmsKey;
    }

    if from_files_only(args).is_some() {
        if !anonymous && args.policies.is_empty() && set.resource.is_none() {
            return Err(Error::Usage("a service principal has no identity policies: give the resource's policy with --resource-policy".into()));
        }
    } else if anonymous {
        // Online: the resource's own policy (a bucket policy, say) is the only one that can
        // allow an anonymous request.
        let settings = app::load_settings(g).await?;
        let clients = app::connect(g, &settings).await?;
        set.resource = online_resource_policy(&clients, &args.action, &args.resource).await?;
    } else {
        // Online: read the principal's policies (and the resource policy) from the account.
        let principal = PrincipalArn::parse(&args.principal).map_err(|rule| Error::Usage(format!("--principal {:?}: {rule}", args.principal)))?;
        let settings = app::load_settings(g).await?;
        let clients = app::connect(g, &settings).await?;
        let found = collect::principal_policies(&clients, &principal)
            .await?
            .ok_or_else(|| Error::Missing(format!("--principal {}: IAM has no such user or role (NoSuchEntity)", args.principal)))?;
        set.identity = found.identity;
        // A session's ARN omits its role's path; IAM's GetRole gave the role's ARN with it.
        if let Some(role) = &found.role_arn {
            who = who.with_role_arn(role);
        }
        if set.boundary.is_none() {
            set.boundary = found.boundary;
        }
        if set.resource.is_none() {
            set.resource = online_resource_policy(&clients, &args.action, &args.resource).await?;
        }
    }

    derive_context(&mut context, &who);
    let request = Request {
        principal: who,
        action: args.action.clone(),
        resource: args.resource.clone(),
        resource_account: args.resource_account.clone().unwrap_or_default(),
        context,
    };
    let eval = policy::evaluate(&request, &set);
    let mut json = serde_json::json!({
        "request": request,
        "decision": eval.decision,
        "reason": eval.reason,
        "decided_by": eval.decided_by,
        "trace": eval.trace,
    });
    if !org.notes.is_empty() {
        json["notes"] = serde_json::json!(org.notes);
    }
    let exit = if eval.decision == Decision::Allow { ExitCode::Ok } else { ExitCode::Failed };
    Ok(crate::output::emit(&crate::output::Plain { text: text(&request, &set, &eval, &org.notes), json, exit }))
}

/// The SCP and RCP levels `--scp` / `--rcp` give (`root=FILE`, `ou=FILE` repeatable in path
/// order, `account=FILE`, or a bare FILE for the account level), read and named by
/// `collect::org` as `check` reads them, and what was assumed (a deny-list level gets AWS's
/// FullAWSAccess beside it).
struct OrgLevels {
    scps: Vec<policy::OrgLevel>,
    rcps: Vec<policy::OrgLevel>,
    notes: Vec<String>,
}

fn org_levels(scp: &[std::path::PathBuf], rcp: &[std::path::PathBuf]) -> Result<OrgLevels> {
    let files = collect::org::OrgFiles { scp: scp.to_vec(), rcp: rcp.to_vec() };
    if files.is_empty() {
        return Ok(OrgLevels { scps: vec![], rcps: vec![], notes: vec![] });
    }
    let state = collect::org::from_files(&files)?;
    let (scps, skipped) = collect::org::engine_levels(&state.scps, false);
    let (rcps, skipped_rcp) = collect::org::engine_levels(&state.rcps, true);
    // from_files checked every document against the policy model: nothing is skipped here.
    debug_assert!(skipped.is_empty() && skipped_rcp.is_empty());
    Ok(OrgLevels { scps, rcps, notes: state.notes })
}

async fn online_resource_policy(clients: &crate::aws::Clients, action: &str, resource: &str) -> Result<Option<NamedPolicy>> {
    if let Some(rest) = resource
        .strip_prefix("arn:aws:s3:::")
        .or_else(|| resource.strip_prefix("arn:aws-cn:s3:::"))
        .or_else(|| resource.strip_prefix("arn:aws-us-gov:s3:::"))
    {
        let bucket = rest.split('/').next().unwrap_or(rest);
        return collect::bucket_policy(clients, bucket).await;
    }
    // A KMS key's policy decides with the identity policies (online, read it).
    if resource.contains(":kms:") && resource.contains(":key/") {
        let p = clients
            .kms
            .get_key_policy()
            .key_id(resource)
            .policy_name("default")
            .send()
            .await
            .map_err(|e| crate::aws::sdk_error("kms", "GetKeyPolicy", e))?;
        let doc = crate::policy::decode_document(p.policy().unwrap_or("{}"));
        let policy = crate::policy::Policy::parse_str(&doc, Kind::Resource)
            .map_err(|e| Error::Aws(format!("the key policy of {resource} does not parse: {e}")))?;
        return Ok(Some(NamedPolicy { name: format!("key policy of {resource}"), policy }));
    }
    if action.eq_ignore_ascii_case("sts:AssumeRole") {
        if let Some(name) = resource.split(":role/").nth(1) {
            return collect::trust_policy(clients, name.rsplit('/').next().unwrap_or(name)).await.map(Some);
        }
    }
    Ok(None)
}

fn text(req: &Request, set: &PolicySet, eval: &policy::Evaluation, notes: &[String]) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    let verdict = match eval.decision {
        Decision::Allow => "ALLOWED",
        Decision::ExplicitDeny => "DENIED (explicit deny)",
        Decision::ImplicitDeny => "DENIED (implicit deny)",
    };
    let _ = writeln!(out, "{verdict}: {} {} on {}", req.principal.arn, req.action, req.resource);
    let _ = writeln!(out, "  why: {}", eval.reason);
    let _ = writeln!(out, "  decided by: {}", eval.decided_by.describe());
    let n = set.identity.len();
    let levels = |levels: &[policy::OrgLevel], what: &str| {
        if levels.is_empty() {
            return String::new();
        }
        let names: Vec<String> = levels.iter().map(|l| l.kind.name().to_string()).collect();
        format!(", {what} at {} level(s) ({})", levels.len(), names.join(", "))
    };
    let _ = writeln!(
        out,
        "  policies: {n} identity{}{}{}{}{}{}",
        if set.boundary.is_some() { ", a permissions boundary" } else { "" },
        if set.session.is_some() { ", a session policy" } else { "" },
        if set.resource.is_some() { ", a resource policy" } else { "" },
        levels(&set.scps, "SCPs"),
        levels(&set.rcps, "RCPs"),
        if set.vpc_endpoint.is_some() { ", a VPC endpoint policy" } else { "" }
    );
    for note in notes {
        let _ = writeln!(out, "  note: {note}");
    }
    if eval.trace.is_empty() {
        let _ = writeln!(out, "  no statement matched the action and resource");
        return out;
    }
    let _ = writeln!(out, "  statements matching the action and resource:");
    for t in &eval.trace {
        let layer = t.layer.key();
        let at = t.level.as_deref().map(|l| format!(" at the {l}")).unwrap_or_default();
        let _ = writeln!(out, "    [{}] {:?} {} in {layer} policy {}{at}", if t.applies { "applies" } else { "no" }, t.effect, t.statement, t.policy);
        if let Some(a) = &t.action_match {
            let _ = writeln!(out, "        action   {a}");
        }
        if let Some(r) = &t.resource_match {
            let _ = writeln!(out, "        resource {r}");
        }
        if t.principal_match.is_none() {
            let _ = writeln!(out, "        principal does not name {}", req.principal.arn);
        } else if let Some(p) = t.principal_match.as_deref().filter(|p| *p != "n/a") {
            let _ = writeln!(out, "        principal matched ({p})");
        }
        for c in &t.conditions {
            let _ = writeln!(out, "        {} {}", if c.matched { "ok  " } else { "FAIL" }, c.reason);
        }
    }
    out
}
