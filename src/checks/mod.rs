//! The checks: pure functions over a Snapshot (and the documents a correct setup would have)
//! returning findings. No I/O here. Each family records the checks it ran, so the report can
//! say what passed, not only what failed.

use serde_json::Value;

use crate::config::{self, Overrides, Settings};
use crate::findings::{codes_for_message, Finding, Severity};
use crate::policy::{self, Context, Decision, Kind, NamedPolicy, Policy, PolicySet, PrincipalId, Request, ResourcePolicyKind};
use crate::render::{Account, Context as RenderContext, Renderer};
use crate::snapshot::{Known, NamedDocument, Snapshot};

/// One check that ran, and whether it passed.
#[derive(Debug, Clone, serde::Serialize)]
pub struct CheckLine {
    pub family: &'static str,
    pub name: String,
    pub passed: bool,
}

#[derive(Debug, Default, Clone, serde::Serialize)]
pub struct Outcome {
    pub checks: Vec<CheckLine>,
    pub findings: Vec<Finding>,
}

impl Outcome {
    fn check(&mut self, family: &'static str, name: impl Into<String>, findings: Vec<Finding>) {
        let passed = findings.iter().all(|f| f.severity == Severity::Note);
        self.checks.push(CheckLine { family, name: name.into(), passed });
        self.findings.extend(findings);
    }
}

/// Settings back from a snapshot, validated as the file and flags are.
pub fn settings_of(snap: &Snapshot) -> crate::error::Result<Settings> {
    let s = &snap.settings;
    let o = Overrides {
        region: Some(s.region.clone()),
        model_id: Some(s.model_id.clone()),
        input_uri: Some(s.input_uri.clone()),
        output_uri: Some(s.output_uri.clone()),
        role_name: Some(s.role_name.clone()),
        role_path: Some(s.role_path.clone()),
        kms_key_id: s.kms_key_id.clone(),
        caller_arn: None,
        tags: None,
    };
    config::resolve(config::FileSettings::default(), None, &o, None)
}

/// What a correct setup has: the rendered documents, used for the fixes.
struct Desired {
    role_policy: Value,
    passrole_policy: Value,
    trust_policy: Value,
}

impl Desired {
    fn statement(doc: &Value, sid: &str) -> String {
        doc["Statement"]
            .as_array()
            .and_then(|a| a.iter().find(|s| s["Sid"] == sid))
            .map(|s| serde_json::to_string_pretty(s).expect("serialises"))
            .unwrap_or_default()
    }
}

fn parse_docs(docs: &[NamedDocument], kind: Kind) -> (Vec<NamedPolicy>, Vec<String>) {
    let mut out = Vec::new();
    let mut errors = Vec::new();
    for d in docs {
        match Policy::from_value(&d.document, kind) {
            Ok(p) => out.push(NamedPolicy { name: d.name.clone(), policy: p }),
            Err(e) => errors.push(format!("{}: {e}", d.name)),
        }
    }
    (out, errors)
}

/// Runs every check.
pub fn run(snap: &Snapshot) -> crate::error::Result<Outcome> {
    let settings = settings_of(snap)?;
    let account = Account { id: snap.account_id.clone(), partition: snap.partition.clone() };
    let mut rctx = RenderContext::new(&settings, &account)?;
    rctx.caller_arn = Some(snap.caller.arn.clone());
    let docs = Renderer::new(None)?.render(&rctx, None)?;
    let get = |n: &str| docs.iter().find(|d| d.name == n).map(|d| d.document.clone()).unwrap_or(Value::Null);
    let desired = Desired { role_policy: get("role-policy"), passrole_policy: get("passrole-policy"), trust_policy: get("trust-policy") };

    let mut out = Outcome::default();
    for f in &snap.read_failures {
        out.findings.push(Finding::new(
            "read-denied",
            Severity::Warning,
            f.what.clone(),
            f.error.clone(),
            "give the caller read access to it (or share a snapshot taken by someone who has it); the checks that need it report unknown",
        ));
    }
    model(snap, &settings, &mut out);
    trust(snap, &rctx, &desired, &mut out);
    role_s3(snap, &settings, &rctx, &desired, &mut out);
    buckets(snap, &settings, &mut out);
    caller(snap, &rctx, &desired, &mut out);
    quotas(snap, &settings, &mut out);
    jobs(snap, &settings, &mut out);
    out.findings.sort_by_key(|a| a.severity);
    Ok(out)
}

// ------------------------------------------------------------------------------------ model

fn model(snap: &Snapshot, settings: &Settings, out: &mut Outcome) {
    let Ok(m) = settings.model() else { return };
    let region = settings.region().unwrap_or_default();
    let Known::Value(state) = &snap.model else {
        out.check("model", "the model can be read", vec![]);
        return;
    };
    if !state.found {
        out.check(
            "model",
            "the model exists",
            vec![Finding::new(
                "model-not-found",
                Severity::Error,
                m.raw.clone(),
                format!("GetFoundationModel found no model {} in {region}", state.foundation_model_id.clone().unwrap_or_else(|| m.raw.clone())),
                "use an id from `aws bedrock list-foundation-models`, or another region",
            )],
        );
        return;
    }
    out.check("model", "the model exists", vec![]);
    let fm = state.foundation_model_id.clone().unwrap_or_default();
    let entry = crate::catalogue::model(&fm);
    let mut batch = vec![];
    match entry {
        None => batch.push(Finding::new(
            "model-batch-support-unknown",
            Severity::Note,
            fm.clone(),
            format!("{fm} is not in policies/models.json"),
            "check AWS's table \"Supported Regions and models for batch inference\"",
        )),
        Some(e) if !e.batch.iter().any(|r| r == region) => batch.push(Finding::new(
            "model-no-batch",
            Severity::Error,
            fm.clone(),
            format!("batch inference supports {} in: {}", e.name, if e.batch.is_empty() { "no region".into() } else { e.batch.join(", ") }),
            "pick a model with batch support in the region, or run the jobs where this one has it",
        )),
        _ => {}
    }
    out.check("model", "batch inference supports the model in the region", batch);
    let mut access = vec![];
    if state.authorization.as_deref() == Some("NOT_AUTHORIZED") || state.entitlement.as_deref() == Some("NOT_AVAILABLE") {
        access.push(Finding::new(
            "model-access-not-granted",
            Severity::Error,
            fm.clone(),
            format!(
                "GetFoundationModelAvailability: authorizationStatus {}, entitlementAvailability {}",
                state.authorization.clone().unwrap_or_default(),
                state.entitlement.clone().unwrap_or_default()
            ),
            "request access on the Bedrock console's Model access page, then re-run check",
        ));
    }
    out.check("model", "model access is granted", access);
    let profile_only =
        entry.is_some_and(|e| e.profile_only) || (!state.inference_types.is_empty() && !state.inference_types.iter().any(|t| t == "ON_DEMAND"));
    let mut prof = vec![];
    if profile_only && !m.is_profile() {
        let geo = region.split('-').next().unwrap_or("us");
        let suggestion = state
            .profiles
            .iter()
            .find(|p| p.starts_with(&format!("{geo}.")))
            .or(state.profiles.first())
            .cloned()
            .unwrap_or_else(|| format!("{geo}.{fm}"));
        prof.push(Finding::new(
            "model-needs-inference-profile",
            Severity::Error,
            m.raw.clone(),
            format!("{fm} supports inference types {:?}; it is reached through an inference profile", state.inference_types),
            format!("set model_id = \"{suggestion}\" and re-render the PassRole policy (it then grants the profile and the model behind it)"),
        ));
    }
    out.check("model", "the model id can be invoked as configured", prof);
}

// ------------------------------------------------------------------------------------ trust

fn trust(snap: &Snapshot, rctx: &RenderContext, desired: &Desired, out: &mut Outcome) {
    let role = match &snap.role {
        Known::Unknown(_) => return,
        Known::Value(None) => {
            out.check(
                "trust",
                "the service role exists",
                vec![Finding::new(
                    "role-missing",
                    Severity::Error,
                    rctx.role_arn.clone(),
                    format!("iam:GetRole found no role {}", rctx.role_name),
                    format!(
                        "create it with this trust policy (bedbatch-doctor apply does):\naws iam create-role --role-name {} --path {} --assume-role-policy-document file://trust.json\n{}",
                        rctx.role_name,
                        rctx.role_path,
                        serde_json::to_string_pretty(&desired.trust_policy).unwrap_or_default()
                    ),
                )],
            );
            return;
        }
        Known::Value(Some(r)) => r,
    };
    out.check("trust", "the service role exists", vec![]);
    let fix_trust = format!(
        "aws iam update-assume-role-policy --role-name {} --policy-document file://trust.json, with:\n{}",
        rctx.role_name,
        serde_json::to_string_pretty(&desired.trust_policy).unwrap_or_default()
    );
    let policy = match Policy::from_value(&role.trust_policy, Kind::Resource) {
        Ok(p) => p,
        Err(e) => {
            out.check(
                "trust",
                "bedrock.amazonaws.com may assume the role",
                vec![Finding::new(
                    "trust-wrong-principal",
                    Severity::Error,
                    role.arn.clone(),
                    format!("the trust policy does not parse: {e}"),
                    fix_trust,
                )],
            );
            return;
        }
    };
    let job_arn = format!("arn:{}:bedrock:{}:{}:model-invocation-job/bedbatchdoctorprobe", rctx.partition, rctx.region, rctx.account_id);
    let mut ctx = Context::default();
    ctx.set("aws:SourceAccount", &rctx.account_id);
    ctx.set("aws:SourceArn", &job_arn);
    ctx.set("aws:PrincipalServiceName", "bedrock.amazonaws.com");
    let req = Request {
        principal: PrincipalId::from_arn("bedrock.amazonaws.com"),
        action: "sts:AssumeRole".into(),
        resource: role.arn.clone(),
        resource_account: rctx.account_id.clone(),
        context: ctx,
    };
    let set = PolicySet {
        resource: Some(NamedPolicy { name: "trust policy".into(), policy: policy.clone() }),
        resource_kind: ResourcePolicyKind::RoleTrust,
        ..Default::default()
    };
    let eval = policy::evaluate(&req, &set);
    // Statements that would let Bedrock assume the role but for their conditions.
    let bedrock_statements: Vec<_> = policy
        .statements
        .iter()
        .filter(|s| s.effect == policy::Effect::Allow)
        .filter(|s| s.action.iter().flatten().any(|a| policy::matching::action_matches(a, "sts:AssumeRole")))
        .filter(|s| match &s.principal {
            Some(policy::Principal::Any) => true,
            Some(p) => {
                p.values("Service").iter().any(|v| v.eq_ignore_ascii_case("bedrock.amazonaws.com")) || p.values("AWS").iter().any(|v| v == "*")
            }
            None => false,
        })
        .collect();
    let mut findings = Vec::new();
    if eval.decision == Decision::Allow {
        out.check("trust", "bedrock.amazonaws.com may assume the role", vec![]);
        let guarded = bedrock_statements
            .iter()
            .any(|s| s.conditions.iter().any(|c| c.key.eq_ignore_ascii_case("aws:SourceAccount") || c.key.eq_ignore_ascii_case("aws:SourceArn")));
        let mut g = vec![];
        if !guarded {
            g.push(Finding::new(
                "trust-no-confused-deputy-guard",
                Severity::Warning,
                role.arn.clone(),
                format!(
                    "the statement trusting Bedrock has no aws:SourceAccount or aws:SourceArn condition:\n{}",
                    serde_json::to_string_pretty(&role.trust_policy).unwrap_or_default()
                ),
                fix_trust,
            ));
        }
        out.check("trust", "the trust is guarded against the confused deputy", g);
        return;
    }
    if bedrock_statements.is_empty() || eval.decision == Decision::ExplicitDeny {
        let named: Vec<String> = policy
            .statements
            .iter()
            .filter_map(|s| s.principal.as_ref())
            .flat_map(|p| match p {
                policy::Principal::Any => vec!["*".to_string()],
                policy::Principal::Map(m) => m.iter().flat_map(|(k, v)| v.iter().map(move |x| format!("{k}: {x}"))).collect(),
            })
            .collect();
        findings.push(Finding::new(
            "trust-wrong-principal",
            Severity::Error,
            role.arn.clone(),
            format!("{}; the trust policy names {}", eval.reason, if named.is_empty() { "no principal".into() } else { named.join(", ") }),
            fix_trust.clone(),
        ));
    } else {
        let mut seen = std::collections::BTreeSet::new();
        for t in eval.trace.iter().filter(|t| t.principal_match.is_some()) {
            for c in t.conditions.iter().filter(|c| !c.matched) {
                let code = if c.key.eq_ignore_ascii_case("aws:SourceAccount") {
                    "trust-source-account-mismatch"
                } else if c.key.eq_ignore_ascii_case("aws:SourceArn") {
                    "trust-source-arn-mismatch"
                } else {
                    "trust-unsatisfiable-condition"
                };
                if seen.insert(code) {
                    let supplied = match c.key.to_ascii_lowercase().as_str() {
                        "aws:sourceaccount" => format!("Bedrock supplies aws:SourceAccount = {}", rctx.account_id),
                        "aws:sourcearn" => format!(
                            "Bedrock supplies aws:SourceArn = arn:{}:bedrock:{}:{}:model-invocation-job/JOB_ID",
                            rctx.partition, rctx.region, rctx.account_id
                        ),
                        _ => format!("Bedrock supplies no {}", c.key),
                    };
                    findings.push(Finding::new(
                        code,
                        Severity::Error,
                        role.arn.clone(),
                        format!("{} {}: {}; {supplied}", t.statement, c.operator, c.reason),
                        fix_trust.clone(),
                    ));
                }
            }
        }
        if findings.is_empty() {
            findings.push(Finding::new("trust-wrong-principal", Severity::Error, role.arn.clone(), eval.reason.clone(), fix_trust.clone()));
        }
    }
    out.check("trust", "bedrock.amazonaws.com may assume the role", findings);
}

// ------------------------------------------------------------------------------------ role → S3

fn role_s3(snap: &Snapshot, settings: &Settings, rctx: &RenderContext, desired: &Desired, out: &mut Outcome) {
    let Known::Value(Some(role)) = &snap.role else { return };
    let (identity, errors) = parse_docs(&role.policies, Kind::Identity);
    let boundary = role
        .boundary
        .as_ref()
        .and_then(|b| Policy::from_value(&b.document, Kind::Identity).ok().map(|p| NamedPolicy { name: b.name.clone(), policy: p }));
    let (Ok(input), Ok(output)) = (settings.input(), settings.output()) else { return };
    let session = format!("arn:{}:sts::{}:assumed-role/{}/bedrock-batch", rctx.partition, rctx.account_id, rctx.role_name);
    let eval_s3 = |action: &str, bucket: &str, resource: String, prefix: Option<String>| {
        let mut ctx = Context::default();
        ctx.set("aws:PrincipalArn", &role.arn);
        ctx.set("aws:PrincipalAccount", &rctx.account_id);
        ctx.set("aws:ResourceAccount", &rctx.account_id);
        ctx.set("aws:SecureTransport", "true");
        if let Some(p) = prefix {
            ctx.set("s3:prefix", &p);
        }
        let bucket_policy = snap.bucket(bucket).and_then(|b| b.policy.as_ref()).and_then(|d| Policy::from_value(d, Kind::Resource).ok());
        let set = PolicySet {
            identity: identity.clone(),
            boundary: boundary.clone(),
            resource: bucket_policy.map(|p| NamedPolicy { name: format!("bucket policy of {bucket}"), policy: p }),
            ..Default::default()
        };
        let req = Request {
            principal: PrincipalId::from_arn(&session),
            action: action.into(),
            resource,
            resource_account: rctx.account_id.clone(),
            context: ctx,
        };
        policy::evaluate(&req, &set)
    };
    let unparsable = if errors.is_empty() { String::new() } else { format!(" (policies that do not parse were skipped: {})", errors.join("; ")) };
    let mk = |code: &str, what: &str, resource: &str, eval: &policy::Evaluation, sid: &str| {
        let fix = match eval.decision {
            Decision::ExplicitDeny => format!("remove or narrow the Deny ({}), which blocks {what}", eval.reason),
            _ if eval.reason.contains("boundary") => format!(
                "the permissions boundary must allow {what}; add it to the boundary, or add this statement to both:\n{}",
                Desired::statement(&desired.role_policy, sid)
            ),
            _ => format!(
                "add to the role's policy (bedbatch-doctor render --document role-policy has it all):\n{}",
                Desired::statement(&desired.role_policy, sid)
            ),
        };
        Finding::new(code, Severity::Error, resource.to_string(), format!("{}{unparsable}", eval.reason), fix)
    };

    let list = eval_s3("s3:ListBucket", &input.bucket, rctx.input.bucket_arn.clone(), Some(input.folder()));
    let mut f = vec![];
    if list.decision != Decision::Allow {
        f.push(mk("role-cannot-list-input", "s3:ListBucket", &input.uri, &list, "BedrockBatchListInput"));
    }
    out.check("role_s3", format!("the role may list {}", input.uri), f);

    let key = snap.input_objects.value().and_then(|o| o.first()).map(|o| o.key.clone()).unwrap_or_else(|| {
        if input.is_object {
            input.key.clone()
        } else {
            format!("{}input.jsonl", input.folder())
        }
    });
    let read = eval_s3("s3:GetObject", &input.bucket, format!("arn:{}:s3:::{}/{}", rctx.partition, input.bucket, key), None);
    let mut f = vec![];
    if read.decision != Decision::Allow {
        f.push(mk("role-cannot-read-input", "s3:GetObject", &format!("s3://{}/{key}", input.bucket), &read, "BedrockBatchReadInput"));
    }
    out.check("role_s3", format!("the role may read s3://{}/{key}", input.bucket), f);

    let out_key = format!("{}JOB_ID/input.jsonl.out", output.folder());
    let write = eval_s3("s3:PutObject", &output.bucket, format!("arn:{}:s3:::{}/{}", rctx.partition, output.bucket, out_key), None);
    let mut f = vec![];
    if write.decision != Decision::Allow {
        f.push(mk("role-cannot-write-output", "s3:PutObject", &output.uri, &write, "BedrockBatchWriteOutput"));
    }
    out.check("role_s3", format!("the role may write under {}", output.uri), f);

    // SSE-KMS: the role needs the bucket's key, through its identity policies (and boundary)
    // and the key policy, which must allow by itself or delegate to the account.
    for (bucket, action) in [(&input.bucket, "kms:Decrypt"), (&output.bucket, "kms:GenerateDataKey")] {
        let Some(b) = snap.bucket(bucket) else { continue };
        if !b.encryption.as_deref().is_some_and(|e| e.starts_with("aws:kms")) {
            continue;
        }
        let key = b.kms_key.clone().unwrap_or_else(|| "the bucket's KMS key".into());
        let state = snap.kms_keys.iter().find(|k| k.key == key || k.arn.as_deref() == Some(key.as_str()));
        let key_arn = state.and_then(|s| s.arn.clone()).unwrap_or_else(|| {
            if key.starts_with("arn:") {
                key.clone()
            } else {
                format!("arn:{}:kms:{}:{}:key/{key}", rctx.partition, rctx.region, rctx.account_id)
            }
        });
        let key_policy = state.and_then(|s| s.policy.value()).and_then(|v| Policy::from_value(v, Kind::Resource).ok());
        let mut ctx = Context::default();
        ctx.set("kms:ViaService", &format!("s3.{}.amazonaws.com", rctx.region));
        ctx.set("aws:PrincipalArn", &role.arn);
        ctx.set("aws:PrincipalAccount", &rctx.account_id);
        let (set, note) = match key_policy {
            Some(p) => (
                PolicySet {
                    identity: identity.clone(),
                    boundary: boundary.clone(),
                    resource: Some(NamedPolicy { name: format!("key policy of {key_arn}"), policy: p }),
                    resource_kind: ResourcePolicyKind::KmsKey,
                    ..Default::default()
                },
                String::new(),
            ),
            None => (
                PolicySet { identity: identity.clone(), boundary: boundary.clone(), ..Default::default() },
                " (the key policy could not be read: it must allow the role too)".to_string(),
            ),
        };
        let req = Request {
            principal: PrincipalId::from_arn(&session),
            action: action.into(),
            resource: key_arn.clone(),
            resource_account: rctx.account_id.clone(),
            context: ctx,
        };
        let e = policy::evaluate(&req, &set);
        let mut f = vec![];
        if e.decision != Decision::Allow {
            let fix = if e.reason.contains("key policy") {
                format!("let the key policy of {key_arn} allow the account's IAM policies (a statement with Principal {{\"AWS\": \"arn:{}:iam::{}:root\"}} and Action kms:*), or the role directly, for {action}", rctx.partition, rctx.account_id)
            } else {
                format!("set kms_key_id = \"{key_arn}\" and add the rendered BedrockBatchUseKmsKey statement to the role's policy")
            };
            f.push(Finding::new(
                "role-cannot-use-kms-key",
                Severity::Error,
                key_arn.clone(),
                format!("s3://{bucket} uses SSE-KMS with {key}; {action}: {}{note}", e.reason),
                fix,
            ));
        }
        out.check("kms", format!("the role may use {key} ({action})"), f);
    }
}

// ------------------------------------------------------------------------------------ buckets

fn buckets(snap: &Snapshot, settings: &Settings, out: &mut Outcome) {
    let region = settings.region().unwrap_or_default();
    for b in &snap.buckets {
        let mut f = vec![];
        if !b.exists {
            f.push(Finding::new(
                "bucket-missing",
                Severity::Error,
                format!("s3://{}", b.name),
                format!("HeadBucket: no bucket {}", b.name),
                format!(
                    "aws s3api create-bucket --bucket {} --region {region}{} (or bedbatch-doctor apply)",
                    b.name,
                    if region == "us-east-1" { String::new() } else { format!(" --create-bucket-configuration LocationConstraint={region}") }
                ),
            ));
            out.check("bucket", format!("s3://{} exists", b.name), f);
            continue;
        }
        if !b.owned_by_account {
            f.push(Finding::new(
                "bucket-other-account",
                Severity::Error,
                format!("s3://{}", b.name),
                format!("HeadBucket with ExpectedBucketOwner = {} was refused", snap.account_id),
                "use a bucket of this account, or have the owner grant the role in the bucket policy and set s3BucketOwner on the job",
            ));
        }
        if let Some(r) = &b.region {
            if r != region {
                f.push(Finding::new(
                    "bucket-wrong-region",
                    Severity::Error,
                    format!("s3://{}", b.name),
                    format!("the bucket is in {r}; the jobs run in {region}"),
                    format!("use a bucket in {region}, or set region = \"{r}\""),
                ));
            }
        }
        out.check("bucket", format!("s3://{} exists in {region} and belongs to the account", b.name), f);
    }
    if let (Known::Value(objects), Ok(input)) = (&snap.input_objects, settings.input()) {
        let exists = snap.bucket(&input.bucket).is_some_and(|b| b.exists);
        if exists {
            let mut f = vec![];
            if objects.is_empty() {
                f.push(Finding::new(
                    "input-object-missing",
                    Severity::Error,
                    input.uri.clone(),
                    format!("no .jsonl object at {}", input.uri),
                    format!("aws s3 cp input.jsonl {}{}", input.uri, if input.is_object || input.uri.ends_with('/') { "" } else { "/" }),
                ));
            }
            out.check("bucket", format!("{} holds .jsonl input", input.uri), f);
        }
    }
}

// ------------------------------------------------------------------------------------ caller

fn caller(snap: &Snapshot, rctx: &RenderContext, desired: &Desired, out: &mut Outcome) {
    let Known::Value(docs) = &snap.caller.policies else {
        if let Some(sim) = &snap.caller.simulated {
            simulated_caller(snap, sim, desired, out);
            return;
        }
        // Unknown is not a pass: the line shows the check could not run (read-denied says why).
        out.checks.push(CheckLine {
            family: "passrole",
            name: format!("{} may pass the role and create jobs: unknown, its policies could not be read", snap.caller.arn),
            passed: false,
        });
        return;
    };
    let (identity, errors) = parse_docs(docs, Kind::Identity);
    let boundary = snap
        .caller
        .boundary
        .as_ref()
        .and_then(|b| Policy::from_value(&b.document, Kind::Identity).ok().map(|p| NamedPolicy { name: b.name.clone(), policy: p }));
    let set = PolicySet { identity: identity.clone(), boundary, ..Default::default() };
    let role_arn = match &snap.role {
        Known::Value(Some(r)) => r.arn.clone(),
        _ => rctx.role_arn.clone(),
    };
    let who = PrincipalId::from_arn(&snap.caller.arn);
    let mut ctx = Context::default();
    ctx.set("aws:PrincipalArn", who.role_arn.as_deref().unwrap_or(&who.arn));
    ctx.set("aws:PrincipalAccount", &who.account);
    if let Some(u) = who.arn.split(":user/").nth(1) {
        ctx.set("aws:username", u.rsplit('/').next().unwrap_or(u));
    }
    let unparsable = if errors.is_empty() { String::new() } else { format!(" (policies that do not parse were skipped: {})", errors.join("; ")) };

    let mut pctx = ctx.clone();
    pctx.set("iam:PassedToService", "bedrock.amazonaws.com");
    let req =
        Request { principal: who.clone(), action: "iam:PassRole".into(), resource: role_arn.clone(), resource_account: String::new(), context: pctx };
    let e = policy::evaluate(&req, &set);
    let mut f = vec![];
    if e.decision != Decision::Allow {
        // Show the PassRole statements the caller does have, and why each misses.
        let mut near = Vec::new();
        for p in &identity {
            for st in &p.policy.statements {
                if st.effect == policy::Effect::Allow && st.action.iter().flatten().any(|a| policy::matching::action_matches(a, "iam:PassRole")) {
                    let resources = st.resource.clone().unwrap_or_default();
                    let cond: Vec<String> = st.conditions.iter().map(|c| format!("{} {} {:?}", c.operator, c.key, c.values)).collect();
                    near.push(format!(
                        "{} {} allows iam:PassRole on {:?}{}",
                        p.name,
                        st.label(),
                        resources,
                        if cond.is_empty() { String::new() } else { format!(" when {}", cond.join(" and ")) }
                    ));
                }
            }
        }
        let evidence = format!(
            "{}{}{}",
            e.reason,
            if near.is_empty() {
                "; no statement of the caller allows iam:PassRole at all".to_string()
            } else {
                format!("; {} does not match {role_arn} passed to bedrock.amazonaws.com", near.join("; "))
            },
            unparsable
        );
        f.push(Finding::new(
            "caller-cannot-pass-role",
            Severity::Error,
            role_arn.clone(),
            evidence,
            format!(
                "add to {} (bedbatch-doctor render --document passrole-policy has it all):\n{}",
                snap.caller.arn,
                Desired::statement(&desired.passrole_policy, "BedrockBatchPassRole")
            ),
        ));
    }
    out.check("passrole", format!("{} may pass {role_arn} to Bedrock", snap.caller.arn), f);

    let mut denied = Vec::new();
    let pairs = job_requests(rctx);
    for (action, resource) in &pairs {
        let req = Request {
            principal: who.clone(),
            action: action.clone(),
            resource: resource.clone(),
            resource_account: String::new(),
            context: ctx.clone(),
        };
        let e = policy::decide(&req, &set);
        if e != Decision::Allow {
            denied.push(format!("{action} on {resource}: {}", policy::evaluate(&req, &set).reason));
        }
    }
    let mut f = vec![];
    if !denied.is_empty() {
        f.push(create_job_finding(snap, desired, format!("{}{unparsable}", denied.join("; "))));
    }
    out.check("passrole", format!("{} may create, read, list and stop batch jobs", snap.caller.arn), f);
}

/// The job actions the caller needs, as (action, resource) requests: CreateModelInvocationJob
/// on the model resources (a region wildcard in a rendered grant becomes the job's region) and on
/// a job ARN, Get/Stop on a job ARN, List on "*". Shared by the checks and by collect's fallback
/// to iam:SimulatePrincipalPolicy, so both ask the same questions.
pub fn job_requests(rctx: &RenderContext) -> Vec<(String, String)> {
    let create = "bedrock:CreateModelInvocationJob".to_string();
    let mut pairs: Vec<(String, String)> =
        rctx.model_arns.iter().map(|m| (create.clone(), m.replace(":*::", &format!(":{}::", rctx.region)))).collect();
    let job = rctx.job_arn_pattern.replace("/*", "/bedbatchdoctorprobe");
    pairs.push((create, job.clone()));
    pairs.push(("bedrock:GetModelInvocationJob".into(), job.clone()));
    pairs.push(("bedrock:StopModelInvocationJob".into(), job));
    pairs.push(("bedrock:ListModelInvocationJobs".into(), "*".into()));
    pairs
}

fn create_job_finding(snap: &Snapshot, desired: &Desired, evidence: String) -> Finding {
    let fix = ["BedrockBatchCreateJob", "BedrockBatchManageJobs", "BedrockBatchListJobs"]
        .iter()
        .map(|s| Desired::statement(&desired.passrole_policy, s))
        .collect::<Vec<_>>()
        .join(",\n");
    Finding::new("caller-cannot-create-job", Severity::Error, snap.caller.arn.clone(), evidence, format!("add to {}:\n{fix}", snap.caller.arn))
}

/// The caller checks from iam:SimulatePrincipalPolicy's decisions (the policies were unreadable).
fn simulated_caller(snap: &Snapshot, sim: &[crate::snapshot::SimulatedDecision], desired: &Desired, out: &mut Outcome) {
    let denied = |pred: &dyn Fn(&str) -> bool| -> Vec<String> {
        sim.iter()
            .filter(|d| pred(&d.action) && d.decision != "allowed")
            .map(|d| format!("{} on {}: {} (iam:SimulatePrincipalPolicy)", d.action, d.resource, d.decision))
            .collect()
    };
    let pass = denied(&|a| a == "iam:PassRole");
    let mut f = vec![];
    if !pass.is_empty() {
        f.push(Finding::new(
            "caller-cannot-pass-role",
            Severity::Error,
            snap.caller.arn.clone(),
            pass.join("; "),
            format!("add to {}:\n{}", snap.caller.arn, Desired::statement(&desired.passrole_policy, "BedrockBatchPassRole")),
        ));
    }
    out.check("passrole", format!("{} may pass the role to Bedrock (by IAM's simulator)", snap.caller.arn), f);
    let jobs = denied(&|a| a.starts_with("bedrock:"));
    let mut f = vec![];
    if !jobs.is_empty() {
        f.push(create_job_finding(snap, desired, jobs.join("; ")));
    }
    out.check("passrole", format!("{} may create, read, list and stop batch jobs (by IAM's simulator)", snap.caller.arn), f);
}

// ------------------------------------------------------------------------------------ quotas and jobs

const ACTIVE: &[&str] = &["Submitted", "Validating", "Scheduled", "InProgress"];

fn same_model(job_model: &str, settings: &Settings) -> bool {
    let Ok(m) = settings.model() else { return false };
    job_model == m.raw || m.foundation_model_id.as_deref().is_some_and(|fm| job_model.ends_with(fm))
}

fn quotas(snap: &Snapshot, settings: &Settings, out: &mut Outcome) {
    match &snap.quotas {
        Known::Unknown(why) => {
            out.check(
                "quotas",
                "the batch quotas can be read",
                vec![Finding::new(
                    "quota-unreadable",
                    Severity::Warning,
                    "service-quotas:bedrock",
                    why.clone(),
                    "allow servicequotas:ListServiceQuotas to the caller",
                )],
            );
        }
        Known::Value(q) => {
            let limit = q.iter().find(|q| q.name.to_ascii_lowercase().starts_with("sum of in-progress and submitted batch inference jobs"));
            let running =
                snap.jobs.value().map(|j| j.iter().filter(|j| ACTIVE.contains(&j.status.as_str()) && same_model(&j.model_id, settings)).count());
            let mut f = vec![];
            if let (Some(limit), Some(running)) = (limit, running) {
                if running as f64 >= limit.value {
                    f.push(Finding::new(
                        "quota-jobs-full",
                        Severity::Error,
                        format!("service-quotas:bedrock/{}", limit.code),
                        format!("{running} jobs submitted or in progress for the model; quota \"{}\" ({}) is {}", limit.name, limit.code, limit.value),
                        format!("wait for jobs to finish, stop stale ones, or: aws service-quotas request-service-quota-increase --service-code bedrock --quota-code {} --desired-value {}", limit.code, limit.value * 2.0),
                    ));
                }
            }
            out.check("quotas", "there is room for another batch job", f);
        }
    }
}

fn jobs(snap: &Snapshot, settings: &Settings, out: &mut Outcome) {
    let Known::Value(jobs) = &snap.jobs else { return };
    let mut f = vec![];
    for j in jobs.iter().filter(|j| j.status == "Failed" && same_model(&j.model_id, settings)).take(3) {
        let msg = j.message.clone().unwrap_or_default();
        let codes = codes_for_message(&msg);
        f.push(Finding::new(
            "job-failed",
            Severity::Warning,
            j.arn.clone(),
            format!("job {} failed: {msg}", j.name),
            if codes.is_empty() {
                "read the message; bedbatch-doctor explain \"<message>\" maps known messages to causes".to_string()
            } else {
                format!("the message points at: {} (see the checks above and bedbatch-doctor explain CODE)", codes.join(", "))
            },
        ));
    }
    out.check("jobs", "no recent job of the model failed", f);
}
