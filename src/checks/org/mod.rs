//! The requests a batch job makes, through the organization's SCPs and RCPs alone (the
//! account's own policies are checked by the other families): the caller's
//! CreateModelInvocationJob and iam:PassRole, and the service role's S3 reads and writes, KMS
//! use, and bedrock:InvokeModel on the profile and on the model in every Region it routes to
//! (`aws:RequestedRegion` set to each; AWS, "Supported Regions and models for inference
//! profiles": an SCP that blocks a destination Region makes cross-Region requests fail even
//! when the source Region is allowed).

pub mod diags;
pub use diags::Code;

use super::outcome::Outcome;
use crate::desired::Desired;
use crate::policy::{self, Context, Decision, Kind, NamedPolicy, Policy, PolicySet, PrincipalId, Request};
use crate::snapshot::{Known, Snapshot};

const F: &str = Code::FAMILY;
const NAME: &str = "the organization's SCPs and RCPs allow the job's requests";

/// How many blocked requests are reported (the rest are counted).
const SHOWN: usize = 6;

struct Probe {
    who: String,
    principal: String,
    /// The value of `aws:PrincipalArn`: the ARN itself for a user or a role, the role's ARN with
    /// its path for a role session (`PrincipalId::principal_arn`).
    principal_arn: String,
    action: &'static str,
    resource: String,
    region: Option<String>,
    extra: Vec<(&'static str, String)>,
}

fn region_of(arn: &str) -> Option<String> {
    arn.split(':').nth(3).filter(|r| !r.is_empty()).map(str::to_string)
}

fn probes(snap: &Snapshot, desired: &Desired) -> Vec<Probe> {
    let r = &desired.rctx;
    let region = Some(r.region.clone());
    let caller = snap.caller.arn.clone();
    // A caller that is a role's session (SSO): its role's ARN with the path, as GetRole answered
    // it (recorded in the snapshot); without it, the path-less `role/NAME`.
    let caller_id = PrincipalId::from_arn(&caller);
    let caller_id = match &snap.caller.role_arn {
        Some(role) => caller_id.with_role_arn(role),
        None => caller_id,
    };
    let caller_arn = caller_id.principal_arn().to_string();
    let session = format!("arn:{}:sts::{}:assumed-role/{}/bedrock-batch", r.partition, r.account_id, r.role_name);
    let job = format!("arn:{}:bedrock:{}:{}:model-invocation-job/bedbatchdoctorprobe", r.partition, r.region, r.account_id);
    let mut v = vec![Probe {
        who: "the caller".into(),
        principal: caller.clone(),
        principal_arn: caller_arn.clone(),
        action: "bedrock:CreateModelInvocationJob",
        resource: job,
        region: region.clone(),
        extra: vec![],
    }];
    if let Some(model) = r.model_arns.first() {
        v.push(Probe {
            who: "the caller".into(),
            principal: caller.clone(),
            principal_arn: caller_arn.clone(),
            action: "bedrock:CreateModelInvocationJob",
            resource: model.clone(),
            region: region.clone(),
            extra: vec![],
        });
    }
    v.push(Probe {
        who: "the caller".into(),
        principal: caller,
        principal_arn: caller_arn,
        action: "iam:PassRole",
        resource: r.role_arn.clone(),
        region: region.clone(),
        extra: vec![("iam:PassedToService", "bedrock.amazonaws.com".into())],
    });
    // Bedrock's session of the service role: aws:PrincipalArn is the role's ARN with its path.
    let role = |action: &'static str, resource: String, region: Option<String>| Probe {
        who: "the service role".into(),
        principal: session.clone(),
        principal_arn: r.role_arn.clone(),
        action,
        resource,
        region,
        extra: vec![],
    };
    v.push(role("s3:ListBucket", r.input.bucket_arn.clone(), region.clone()));
    v.push(role("s3:GetObject", r.input.objects_arn.replace('*', "input.jsonl"), region.clone()));
    v.push(role("s3:PutObject", r.output.objects_arn.replace('*', "JOB_ID/input.jsonl.out"), region.clone()));
    if let Some(k) = &r.kms_key_arn {
        v.push(role("kms:Decrypt", k.clone(), region.clone()));
        v.push(role("kms:GenerateDataKey", k.clone(), region.clone()));
    }
    // The invoke requests of a profile, each in its own Region.
    for arn in &r.invoke_arns {
        let reg = region_of(arn).filter(|x| x != "*").or_else(|| region.clone());
        v.push(role("bedrock:InvokeModel", arn.clone(), reg));
    }
    v
}

pub fn check(snap: &Snapshot, desired: &Desired, out: &mut Outcome) {
    let state = match &snap.org {
        Known::Value(s) => s,
        Known::Unknown(e) => {
            // A note, as the issue of reading them is the caller's standing, not the setup: the
            // line is shown unknown, never as a pass.
            out.findings.push(diags::unknown(&e.to_string()));
            out.unknown(F, NAME, &[Code::OrgPoliciesUnknown.into()], format!("the organization's policies could not be read: {e}"));
            return;
        }
    };
    if let Some(why) = &state.not_applicable {
        out.check(F, NAME, &[Code::ScpDenies.into()], vec![]);
        if let Some(c) = out.checks.last_mut() {
            c.reason = Some(why.clone());
        }
        return;
    }
    let (scps, mut skipped) = crate::collect::org::engine_levels(&state.scps, false);
    let (rcps, skipped_rcp) = crate::collect::org::engine_levels(&state.rcps, true);
    skipped.extend(skipped_rcp);
    // The account's own policies are assumed to allow: this line is about the organization's.
    let allow_all = Policy::from_value(
        &serde_json::json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}),
        Kind::Identity,
    )
    .expect("a static policy parses");
    let set = PolicySet {
        identity: vec![NamedPolicy { name: "(the account's own policies)".into(), policy: allow_all }],
        scps,
        rcps,
        ..Default::default()
    };
    let mut blocked = vec![];
    for p in probes(snap, desired) {
        let mut ctx = Context::default();
        // IAM User Guide, "AWS global condition context keys", aws:PrincipalArn: "For IAM roles,
        // the request context returns the ARN of the role, not the ARN of the user that assumed
        // the role." So a Region lock that exempts the role by its ARN (the fix text's advice)
        // exempts Bedrock's session of it, and one that names only a session ARN exempts nothing.
        ctx.set("aws:PrincipalArn", &p.principal_arn);
        ctx.set("aws:PrincipalAccount", &desired.rctx.account_id);
        ctx.set("aws:SecureTransport", "true");
        if let Some(r) = &p.region {
            ctx.set("aws:RequestedRegion", r);
        }
        if p.who == "the service role" {
            ctx.set("aws:CalledVia", "bedrock.amazonaws.com");
        }
        for (k, v) in &p.extra {
            ctx.set(k, v);
        }
        let resource_account =
            if p.resource.contains(":s3:::") || p.resource.contains(":kms:") { desired.rctx.account_id.clone() } else { String::new() };
        // Data-perimeter conditions: the account's principals and its own resources carry the
        // organization's id. Foundation models carry none: AWS, "Required permissions for batch
        // inference": "Foundation model resources used in batch inference are owned by the Amazon
        // Bedrock service, not by your AWS account. If your IAM policies include
        // organization-based conditions on resources (such as aws:ResourceOrgID), batch
        // inference requests to foundation models will fail with AccessDeniedException."
        if let Some(org) = &state.org_id {
            ctx.set("aws:PrincipalOrgID", org);
            let owned = !resource_account.is_empty() || crate::policy::matching::arn_segments(&p.resource).0[4] == desired.rctx.account_id;
            if owned {
                ctx.set("aws:ResourceOrgID", org);
                ctx.set("aws:ResourceAccount", &desired.rctx.account_id);
            }
        }
        let req = Request {
            principal: PrincipalId::from_arn(&p.principal).with_role_arn(&p.principal_arn),
            action: p.action.into(),
            resource: p.resource.clone(),
            resource_account,
            context: ctx,
        };
        let e = policy::evaluate(&req, &set);
        if e.decision != Decision::Allow {
            blocked.push(diags::denies(
                &format!("{} ({})", p.who, p.principal),
                p.action,
                &p.resource,
                p.region.as_deref(),
                &e.reason,
                &state.source,
            ));
        }
    }
    // Policies from files carry no organization id, and the OU paths (aws:PrincipalOrgPaths,
    // aws:ResourceOrgPaths) are never read: a denial that may rest on a condition over them
    // cannot be told from a real one, so the line is unknown.
    // Only looked at when something was blocked: each policy is serialised once to look.
    let texts: Vec<String> = if blocked.is_empty() {
        vec![]
    } else {
        state.scps.iter().chain(&state.rcps).flat_map(|l| &l.policies).map(|p| p.document.to_string().to_ascii_lowercase()).collect()
    };
    let uses = |keys: &[&str]| texts.iter().any(|t| keys.iter().any(|k| t.contains(k)));
    if uses(&["aws:principalorgpaths", "aws:resourceorgpaths"]) || (state.org_id.is_none() && uses(&["aws:principalorgid", "aws:resourceorgid"])) {
        out.unknown(
            F,
            NAME,
            &[Code::ScpDenies.into()],
            format!(
                "{} request(s) would be denied, but the policies have conditions on the organization's id or OU paths, which check cannot evaluate here (the id is not known when the policies come from --scp/--rcp files; OU paths are not read); run check with credentials that can read AWS Organizations, or review the denials by hand",
                blocked.len()
            ),
        );
        return;
    }
    let total = blocked.len();
    blocked.truncate(SHOWN);
    if total > SHOWN {
        if let Some(last) = blocked.last_mut() {
            last.evidence.push_str(&format!(" ({} more blocked requests not shown)", total - SHOWN));
        }
    }
    out.check(F, NAME, &[Code::ScpDenies.into()], blocked);
    let mut notes = state.notes.clone();
    notes.extend(skipped.into_iter().map(|s| format!("skipped a policy that does not parse: {s}")));
    if !notes.is_empty() {
        if let Some(c) = out.checks.last_mut() {
            c.reason = Some(notes.join("; "));
        }
    }
}

/// The organization family over snapshots made by `SnapshotBuilder` (inline: a test module in
/// a file of its own would be an import arrow from checks/ to builder.rs for scripts/imports).
#[cfg(test)]
mod tests {
    use serde_json::{json, Value};

    use crate::builder::SnapshotBuilder as B;
    use crate::checks::{self, Outcome};
    use crate::findings::Finding;
    use crate::snapshot::Snapshot;

    const HAIKU45: &str = "us.anthropic.claude-haiku-4-5-20251001-v1:0";
    const US: &[&str] = &["us-east-1", "us-east-2", "us-west-2"];

    fn run(snap: &Snapshot) -> Outcome {
        checks::run_snapshot(snap).expect("the snapshot's settings are valid")
    }

    fn scp_denies(o: &Outcome) -> Vec<&Finding> {
        o.findings.iter().filter(|f| f.code.as_str() == "scp-denies").collect()
    }

    fn full() -> Value {
        json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]})
    }

    /// A Region lock to us-east-1 with an exemption on aws:PrincipalArn.
    fn region_lock_exempting(arn: &str) -> Value {
        json!({"Version": "2012-10-17", "Statement": [{"Sid": "RegionLock", "Effect": "Deny", "NotAction": ["iam:*", "sts:*", "organizations:*"], "Resource": "*",
            "Condition": {"StringNotEquals": {"aws:RequestedRegion": ["us-east-1"]}, "ArnNotLike": {"aws:PrincipalArn": arn}}}]})
    }

    /// IAM User Guide, "AWS global condition context keys", aws:PrincipalArn: "For IAM roles, the
    /// request context returns the ARN of the role, not the ARN of the user that assumed the role."
    /// The fix text of scp-denies advises exempting the role with an aws:PrincipalArn condition:
    /// following it clears the finding; an exemption naming only Bedrock's session does not.
    #[test]
    fn a_region_lock_exempting_the_service_role_by_its_arn_clears_scp_denies() {
        let profile = || B::healthy().profile(HAIKU45, US).rendered();
        let by_role = profile().scps(vec![vec![full(), region_lock_exempting("arn:aws:iam::*:role/service-role/BedrockBatchRole")]]).build();
        let o = run(&by_role);
        assert!(scp_denies(&o).is_empty(), "the role's ARN (with its path) is aws:PrincipalArn: {:#?}", o.findings);

        let by_session = profile().scps(vec![vec![full(), region_lock_exempting("arn:aws:sts::*:assumed-role/BedrockBatchRole/*")]]).build();
        let o = run(&by_session);
        let f = scp_denies(&o);
        assert!(
            !f.is_empty() && f.iter().all(|f| f.evidence.contains("bedrock:InvokeModel") && f.evidence.contains("RegionLock")),
            "a session ARN is never aws:PrincipalArn: {f:#?}"
        );
        // Without the path the role's ARN does not match either: the path is part of it.
        let no_path = profile().scps(vec![vec![full(), region_lock_exempting("arn:aws:iam::*:role/BedrockBatchRole")]]).build();
        assert!(!scp_denies(&run(&no_path)).is_empty());
    }

    /// The caller as an SSO user: a role session whose role lives under /aws-reserved/. The
    /// snapshot records the role's ARN as GetRole answered it; aws:PrincipalArn is that ARN.
    #[test]
    fn an_sso_caller_is_matched_by_its_role_arn_with_the_path() {
        const SESSION: &str = "arn:aws:sts::123456789012:assumed-role/AWSReservedSSO_BatchUsers_0123456789abcdef/alice@example.com";
        const ROLE: &str = "arn:aws:iam::123456789012:role/aws-reserved/sso.amazonaws.com/eu-west-1/AWSReservedSSO_BatchUsers_0123456789abcdef";
        let only = |arn: &str| {
            json!({"Version": "2012-10-17", "Statement": [{"Sid": "OnlyBatchUsers", "Effect": "Deny", "Action": "bedrock:CreateModelInvocationJob", "Resource": "*",
                "Condition": {"ArnNotLike": {"aws:PrincipalArn": arn}}}]})
        };
        let sso = |exempt: &str, known_path: bool| {
            let mut snap = B::healthy().scps(vec![vec![full(), only(exempt)]]).build();
            snap.caller.arn = SESSION.into();
            snap.settings.caller_arn = Some(SESSION.into());
            snap.caller.role_arn = known_path.then(|| ROLE.to_string());
            run(&snap)
        };
        let o = sso("arn:aws:iam::*:role/aws-reserved/sso.amazonaws.com/*/AWSReservedSSO_BatchUsers_*", true);
        assert!(scp_denies(&o).is_empty(), "{:#?}", o.findings);
        let o = sso("arn:aws:sts::*:assumed-role/AWSReservedSSO_BatchUsers_*/*", true);
        let f = scp_denies(&o);
        assert!(!f.is_empty() && f.iter().all(|f| f.evidence.contains("OnlyBatchUsers") && f.evidence.contains("the caller")), "{f:#?}");
        // A snapshot without the role's ARN (taken by an older version): the path-less role/NAME.
        let o = sso("arn:aws:iam::*:role/AWSReservedSSO_BatchUsers_*", false);
        assert!(scp_denies(&o).is_empty(), "{:#?}", o.findings);
    }

    /// check reads the organization level by level, as simulate does, and a denial names the
    /// policy and its level: from AWS Organizations (root, OU, account ids) and from files given
    /// with levels (`--scp root=FILE --scp ou=FILE`).
    #[test]
    fn a_denial_names_the_policy_and_its_level() {
        let s3_only = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["s3:*", "iam:*", "kms:*"], "Resource": "*"}]});
        let o = run(&B::healthy().scps(vec![vec![full()], vec![s3_only.clone()]]).build());
        let f = scp_denies(&o);
        assert!(f.iter().any(|f| f.evidence.contains("at the OU level (ou-level1)") && f.evidence.contains("attached there: scp1-0")), "{f:#?}");
        let deny = json!({"Version": "2012-10-17", "Statement": [{"Sid": "NoBatch", "Effect": "Deny", "Action": "bedrock:CreateModelInvocationJob", "Resource": "*"}]});
        let o = run(&B::healthy().scps(vec![vec![full(), deny]]).build());
        let f = scp_denies(&o);
        assert!(!f.is_empty() && f.iter().all(|f| f.evidence.contains("scp0-1 at the root level (r-root), statement 0 (Sid \"NoBatch\")")), "{f:#?}");

        let dir = tempfile::tempdir().unwrap();
        let file = |name: &str, v: &Value| {
            let p = dir.path().join(name);
            std::fs::write(&p, v.to_string()).unwrap();
            p
        };
        let (root, ou) = (file("full.json", &full()), file("s3-only.json", &s3_only));
        let leveled = |level: &str, p: &std::path::Path| std::path::PathBuf::from(format!("{level}={}", p.display()));
        let files = crate::collect::org::OrgFiles { scp: vec![leveled("root", &root), leveled("ou", &ou)], rcp: vec![] };
        let mut snap = B::healthy().build();
        snap.org = crate::snapshot::Known::Value(crate::collect::org::from_files(&files).unwrap());
        let o = run(&snap);
        let f = scp_denies(&o);
        assert!(
            !f.is_empty()
                && f.iter().all(|f| f.evidence.contains("at the OU level (OU 1 of the --scp files)") && f.evidence.contains("s3-only.json")),
            "{f:#?}"
        );
    }
}
