//! Differential test of the policy engine against an independent simulator.
//!
//! `@cloud-copilot/iam-simulate` (npm, AGPL: a test-time tool in the ignored
//! tests/oracle/node_modules, never shipped) implements AWS's evaluation logic. This test
//! generates random, well-formed cases — real actions with resource ARNs of a type each action
//! accepts, identity policies, boundaries, resource policies and conditions over every operator
//! family — seeded and reproducible, and asserts both engines decide the same.
//!
//! BEDBATCH_DIFF_SEED picks the seed (printed on failure), BEDBATCH_DIFF_CASES the count
//! (default 5000). A failing case is shrunk and written to target/differential-failure.json.

use std::io::Write;
use std::path::PathBuf;
use std::process::Command;

use bedbatch_doctor::policy::{self, Context, Decision, Kind, NamedPolicy, Policy, PolicySet, PrincipalId, Request};
use serde_json::{json, Value};

/// splitmix64: small, seedable, reproducible.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
    fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len())]
    }
}

const ACCT: &str = "111111111111";
const OTHER: &str = "222222222222";
const USER: &str = "arn:aws:iam::111111111111:user/alice";
const SESSION: &str = "arn:aws:sts::111111111111:assumed-role/Batch/s1";
const ROLE: &str = "arn:aws:iam::111111111111:role/Batch";
/// The anonymous principal (`PrincipalId::anonymous`; the oracle's `{type: 'Anonymous'}`).
const ANONYMOUS: &str = policy::evaluate::ANONYMOUS;

/// Real actions and a resource ARN each accepts.
fn resources_for(action: &str, r: &mut Rng, account: &str) -> String {
    let region = *r.pick(&["us-east-1", "us-west-2"]);
    match action {
        "s3:GetObject" | "s3:PutObject" => {
            format!("arn:aws:s3:::{}/{}", r.pick(&["data", "logs"]), r.pick(&["in/a.jsonl", "out/job1/b.out", "alice/notes", "x"]))
        }
        "s3:ListBucket" => format!("arn:aws:s3:::{}", r.pick(&["data", "logs"])),
        "iam:PassRole" | "iam:GetRole" => format!("arn:aws:iam::{account}:role{}{}", r.pick(&["/", "/service-role/"]), r.pick(&["Batch", "Other"])),
        "kms:Decrypt" => format!("arn:aws:kms:{region}:{account}:key/1234abcd-12ab-34cd-56ef-1234567890ab"),
        // Not keys: AWS authorises these by IAM policies alone (AWS KMS API Reference, ListKeys:
        // "Required permissions: kms:ListKeys (IAM policy)"; AWS KMS Developer Guide,
        // "Controlling access to aliases": "kms:CreateAlias for the alias. Provide this permission
        // in an IAM policy ..."). AWS-managed aliases (alias/aws/...) are not generated.
        "kms:ListKeys" => "*".into(),
        "kms:CreateAlias" => format!("arn:aws:kms:{region}:{account}:alias/{}", r.pick(&["batch-key", "other"])),
        "bedrock:GetModelInvocationJob" => format!("arn:aws:bedrock:{region}:{account}:model-invocation-job/{}", r.pick(&["abc123", "xyz789"])),
        "dynamodb:GetItem" => format!("arn:aws:dynamodb:{region}:{account}:table/{}", r.pick(&["Jobs", "Other"])),
        "lambda:InvokeFunction" => format!("arn:aws:lambda:{region}:{account}:function:{}", r.pick(&["fn1", "fn2"])),
        "sqs:SendMessage" => format!("arn:aws:sqs:{region}:{account}:{}", r.pick(&["queue1", "queue2"])),
        other => panic!("no resource for {other}"),
    }
}

const ACTIONS: &[&str] = &[
    "s3:GetObject",
    "s3:PutObject",
    "s3:ListBucket",
    "iam:PassRole",
    "iam:GetRole",
    "kms:Decrypt",
    "kms:ListKeys",
    "kms:CreateAlias",
    "bedrock:GetModelInvocationJob",
    "dynamodb:GetItem",
    "lambda:InvokeFunction",
    "sqs:SendMessage",
];

fn action_pattern(r: &mut Rng, action: &str) -> String {
    let (svc, name) = action.split_once(':').unwrap();
    match r.below(8) {
        0 => "*".into(),
        1 => format!("{svc}:*"),
        2 => format!("{svc}:{}*", &name[..3]),
        3 => action.to_ascii_lowercase(),
        4 => format!("{svc}:?{}", &name[1..]),
        5 => r.pick(ACTIONS).to_string(),
        _ => action.to_string(),
    }
}

fn resource_pattern(r: &mut Rng, resource: &str, action: &str) -> String {
    if resource == "*" {
        // A request on "*" (kms:ListKeys) is matched by "*" only.
        return r.pick(&["*", "*", "arn:aws:kms:*:111111111111:key/*", "arn:aws:kms:us-east-1:111111111111:*"]).to_string();
    }
    let exact = || resource.to_string();
    match r.below(9) {
        0 => "*".into(),
        1 => {
            // Replace one of the six segments (not "arn") with "*".
            let mut parts: Vec<String> = resource.splitn(6, ':').map(String::from).collect();
            let i = 1 + r.below(5);
            parts[i] = "*".into();
            parts.join(":")
        }
        2 => {
            // Truncate the resource part and end with "*".
            let cut = resource.len() - r.below(resource.len().min(12)).max(1);
            format!("{}*", &resource[..cut])
        }
        3 => {
            // One character becomes "?".
            let mut chars: Vec<char> = resource.chars().collect();
            let i = chars.len() - 1 - r.below(6.min(chars.len()));
            if chars[i] != ':' {
                chars[i] = '?';
            }
            chars.into_iter().collect()
        }
        4 if action.starts_with("s3:") && action != "s3:ListBucket" => "arn:aws:s3:::data/${aws:username}/*".into(),
        5 => {
            let account = if r.chance(80) { ACCT } else { OTHER };
            resources_for(action, r, account)
        }
        _ => exact(),
    }
}

/// A condition over a global key, with values that sometimes match the context.
fn condition(r: &mut Rng) -> (String, String, Value) {
    let if_exists = |r: &mut Rng, op: &str| if r.chance(25) { format!("{op}IfExists") } else { op.to_string() };
    match r.below(9) {
        0 => {
            let op =
                *r.pick(&["StringEquals", "StringNotEquals", "StringEqualsIgnoreCase", "StringNotEqualsIgnoreCase", "StringLike", "StringNotLike"]);
            let v = r.pick(&["ml", "ML", "data", "m*", "?l"]).to_string();
            (if_exists(r, op), "aws:PrincipalTag/team".into(), json!(v))
        }
        1 => {
            let op = *r.pick(&["StringEquals", "StringLike", "StringNotEquals"]);
            (if_exists(r, op), "aws:username".into(), json!([r.pick(&["alice", "bob"]), r.pick(&["carol", "al*"])]))
        }
        2 => {
            let op = *r.pick(&[
                "NumericEquals",
                "NumericNotEquals",
                "NumericLessThan",
                "NumericLessThanEquals",
                "NumericGreaterThan",
                "NumericGreaterThanEquals",
            ]);
            (if_exists(r, op), "aws:MultiFactorAuthAge".into(), json!(r.pick(&["100", "3600", "5000"]).to_string()))
        }
        3 => {
            let op = *r.pick(&["DateEquals", "DateNotEquals", "DateLessThan", "DateLessThanEquals", "DateGreaterThan", "DateGreaterThanEquals"]);
            (
                if_exists(r, op),
                "aws:CurrentTime".into(),
                json!(r.pick(&["2026-01-01T00:00:00Z", "2026-06-01T12:00:00Z", "2027-01-01T00:00:00Z"]).to_string()),
            )
        }
        4 => (if_exists(r, "Bool"), "aws:SecureTransport".into(), json!(r.pick(&["true", "false"]).to_string())),
        5 => {
            let op = *r.pick(&["IpAddress", "NotIpAddress"]);
            (if_exists(r, op), "aws:SourceIp".into(), json!([r.pick(&["10.0.0.0/8", "203.0.113.0/24"]), r.pick(&["192.0.2.7", "198.51.100.0/24"])]))
        }
        6 => {
            let op = *r.pick(&["ArnEquals", "ArnLike", "ArnNotEquals", "ArnNotLike"]);
            let v = r.pick(&[
                "arn:aws:bedrock:us-east-1:111111111111:model-invocation-job/*",
                "arn:aws:bedrock:*:111111111111:*",
                "arn:aws:bedrock:us-west-2:*:model-invocation-job/*",
            ]);
            (if_exists(r, op), "aws:SourceArn".into(), json!(v.to_string()))
        }
        7 => (
            "Null".into(),
            r.pick(&["aws:MultiFactorAuthAge", "aws:PrincipalTag/team", "aws:SourceIp"]).to_string(),
            json!(r.pick(&["true", "false"]).to_string()),
        ),
        _ => {
            let op = *r.pick(&[
                "ForAnyValue:StringEquals",
                "ForAllValues:StringEquals",
                "ForAnyValue:StringLike",
                "ForAllValues:StringLike",
                "ForAnyValue:StringNotEquals",
                "ForAllValues:StringNotEquals",
            ]);
            (op.into(), "aws:TagKeys".into(), json!([r.pick(&["a", "b", "c"]), r.pick(&["a", "d", "*"])]))
        }
    }
}

fn context(r: &mut Rng) -> Value {
    let mut c = serde_json::Map::new();
    c.insert("aws:username".into(), json!("alice"));
    if r.chance(60) {
        c.insert("aws:PrincipalTag/team".into(), json!(r.pick(&["ml", "data"])));
    }
    if r.chance(60) {
        c.insert("aws:MultiFactorAuthAge".into(), json!(r.pick(&["100", "3600", "7200"])));
    }
    c.insert("aws:CurrentTime".into(), json!(r.pick(&["2026-06-01T12:00:00Z", "2025-12-31T23:59:59Z", "2027-03-01T00:00:00Z"])));
    if r.chance(70) {
        c.insert("aws:SecureTransport".into(), json!(r.pick(&["true", "false"])));
    }
    if r.chance(70) {
        c.insert("aws:SourceIp".into(), json!(r.pick(&["10.1.2.3", "203.0.113.5", "192.0.2.7"])));
    }
    if r.chance(50) {
        c.insert(
            "aws:SourceArn".into(),
            json!(r.pick(&[
                "arn:aws:bedrock:us-east-1:111111111111:model-invocation-job/abc",
                "arn:aws:bedrock:us-west-2:222222222222:model-invocation-job/x"
            ])),
        );
    }
    if r.chance(60) {
        let sets: &[&[&str]] = &[&["a"], &["a", "b"], &["c"], &[]];
        c.insert("aws:TagKeys".into(), json!(r.pick(sets)));
    }
    Value::Object(c)
}

fn statement(r: &mut Rng, action: &str, resource: &str, principal: Option<Value>) -> Value {
    let mut st = serde_json::Map::new();
    if r.chance(30) {
        st.insert("Sid".into(), json!(format!("S{}", r.below(1000))));
    }
    st.insert("Effect".into(), json!(if r.chance(25) { "Deny" } else { "Allow" }));
    if let Some(p) = principal {
        st.insert("Principal".into(), p);
    }
    let actions: Vec<String> = (0..1 + r.below(2)).map(|_| action_pattern(r, action)).collect();
    let key = if r.chance(10) { "NotAction" } else { "Action" };
    st.insert(key.into(), if actions.len() == 1 { json!(actions[0]) } else { json!(actions) });
    let resources: Vec<String> = (0..1 + r.below(2)).map(|_| resource_pattern(r, resource, action)).collect();
    let key = if r.chance(10) { "NotResource" } else { "Resource" };
    st.insert(key.into(), if resources.len() == 1 { json!(resources[0]) } else { json!(resources) });
    if r.chance(40) {
        let mut cond = serde_json::Map::new();
        for _ in 0..1 + r.below(2) {
            let (op, k, v) = condition(r);
            let block = cond.entry(op).or_insert_with(|| json!({}));
            block.as_object_mut().unwrap().insert(k, v);
        }
        st.insert("Condition".into(), Value::Object(cond));
    }
    Value::Object(st)
}

fn policy_doc(mut statements: Vec<Value>) -> Value {
    // Sids are unique within a policy.
    for (i, st) in statements.iter_mut().enumerate() {
        if st.get("Sid").is_some() {
            st["Sid"] = json!(format!("S{i}"));
        }
    }
    json!({"Version": "2012-10-17", "Statement": statements})
}

/// ARN patterns of fewer than six segments become the request's resource: AWS documents no
/// padding rule for them in RCPs and VPC endpoint policies (identity policies pad them, resource
/// policies pad only wildcard ones; the oracle pads neither there).
fn six_segment_resources(st: &mut Value, resource: &str) {
    let full = |a: &Value| {
        let p = a.as_str().unwrap_or("*");
        if p.starts_with("arn:") && p.split(':').count() < 6 {
            json!(resource)
        } else {
            a.clone()
        }
    };
    for key in ["Resource", "NotResource"] {
        if let Some(v) = st.get(key).cloned() {
            st[key] = match v {
                Value::Array(a) => Value::Array(a.iter().map(full).collect()),
                one => full(&one),
            };
        }
    }
}

fn generate(r: &mut Rng) -> Value {
    let action = *r.pick(ACTIONS);
    // An anonymous request (no principal), for S3: only a resource policy naming "*" allows it,
    // and no identity policy, boundary, session policy or SCP applies (the oracle refuses those
    // for an anonymous request, as AWS has none of them).
    let anonymous = action.starts_with("s3:") && r.chance(8);
    let principal = if anonymous {
        ANONYMOUS
    } else if r.chance(70) {
        USER
    } else {
        SESSION
    };
    // kms:ListKeys lists the caller's own account's keys: never cross-account.
    let cross = r.chance(15) && action != "kms:ListKeys" && !anonymous;
    let resource_account = if cross { OTHER } else { ACCT };
    let resource = resources_for(action, r, resource_account);
    let identity: Vec<Value> = if anonymous {
        vec![]
    } else {
        (0..r.below(3) + usize::from(r.chance(80)))
            .map(|_| policy_doc((0..1 + r.below(3)).map(|_| statement(r, action, &resource, None)).collect()))
            .collect()
    };
    let boundary = (!anonymous && r.chance(20)).then(|| policy_doc((0..1 + r.below(2)).map(|_| statement(r, action, &resource, None)).collect()));
    // A session policy, for a role session. The oracle lets no grant past a session policy's
    // implicit deny, while AWS does for a resource policy naming the session itself (IAM User
    // Guide, "Policies and permissions in IAM", Session policies: "The resource-based policy
    // permissions are not limited by the session policy."; unit tests in src/policy/evaluate.rs
    // cover it): with a session policy, no resource policy names the session or "*".
    let session_policy =
        (principal == SESSION && r.chance(25)).then(|| policy_doc((0..1 + r.below(2)).map(|_| statement(r, action, &resource, None)).collect()));
    // KMS keys always have a key policy (AWS requires exactly one); buckets sometimes do.
    let resource_policy = ((action.starts_with("s3:") && r.chance(if anonymous { 85 } else { 40 })) || action == "kms:Decrypt").then(|| {
        policy_doc(
            (0..1 + r.below(2))
                .map(|_| {
                    let pick = if session_policy.is_some() {
                        1 + r.below(4)
                    } else if anonymous {
                        // "*", {"AWS": "*"}, a user, the account.
                        *r.pick(&[0, 6, 1, 2])
                    } else {
                        r.below(6)
                    };
                    let p = match pick {
                        6 => json!({"AWS": "*"}),
                        0 => json!("*"),
                        1 => json!({"AWS": USER}),
                        2 => json!({"AWS": format!("arn:aws:iam::{ACCT}:root")}),
                        3 => json!({"AWS": ACCT}),
                        4 => json!({"AWS": ROLE}),
                        _ => json!({"AWS": SESSION}),
                    };
                    statement(r, action, &resource, Some(p))
                })
                .collect(),
        )
    });
    // Organization policies: SCP levels (root first), each with an allow-list or AWS's
    // FullAWSAccess and perhaps a Deny; RCP levels with Deny statements (Principal "*").
    let scps: Vec<Value> = if !anonymous && r.chance(25) {
        (0..1 + r.below(3))
            .map(|_| {
                let mut level = vec![];
                if r.chance(70) {
                    level.push(json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}));
                }
                for _ in 0..r.below(2) + usize::from(level.is_empty()) {
                    level.push(policy_doc((0..1 + r.below(2)).map(|_| statement(r, action, &resource, None)).collect()));
                }
                json!(level)
            })
            .collect()
    } else {
        vec![]
    };
    // Only for services that support RCPs: AWS applies RCPs to those alone, while the oracle
    // applies them to every action (a unit test in src/policy/evaluate.rs covers the rest).
    let rcp_service = policy::evaluate::RCP_SERVICES.contains(&action.split(':').next().unwrap());
    let rcps: Vec<Value> = if rcp_service && r.chance(15) {
        (0..1 + r.below(2))
            .map(|_| {
                let mut st = statement(r, action, &resource, Some(json!("*")));
                st["Effect"] = json!("Deny");
                // RCPs take Action only (AWS: NotAction is not supported in RCPs).
                if let Some(na) = st.as_object_mut().unwrap().remove("NotAction") {
                    st["Action"] = na;
                }
                // …and never "*" (AWS: an RCP names the service).
                let svc = action.split(':').next().unwrap();
                let fix = |a: &Value| if a == "*" { json!(format!("{svc}:*")) } else { a.clone() };
                st["Action"] = match &st["Action"] {
                    Value::Array(a) => Value::Array(a.iter().map(fix).collect()),
                    one => fix(one),
                };
                six_segment_resources(&mut st, &resource);
                json!([policy_doc(vec![st])])
            })
            .collect()
    } else {
        vec![]
    };
    // A VPC endpoint policy on the request's path: it must allow, and its Deny denies (Amazon
    // VPC, "Control access to VPC endpoints using endpoint policies"). Principal "*", as AWS's
    // default endpoint policy and its gateway-endpoint guidance use.
    let vpc_endpoint = r.chance(12).then(|| {
        policy_doc(
            (0..1 + r.below(2))
                .map(|_| {
                    let mut st = statement(r, action, &resource, Some(json!("*")));
                    six_segment_resources(&mut st, &resource);
                    st
                })
                .collect(),
        )
    });
    let mut case = json!({
        "principal": principal,
        "action": action,
        "resource": resource,
        "resourceAccount": resource_account,
        "context": context(r),
        "identity": identity,
        "scps": scps,
        "rcps": rcps,
    });
    if let Some(b) = boundary {
        case["boundary"] = b;
    }
    if let Some(p) = session_policy {
        case["sessionPolicy"] = p;
    }
    if let Some(p) = vpc_endpoint {
        case["vpcEndpointPolicy"] = p;
    }
    if let Some(p) = resource_policy {
        case["resourcePolicy"] = p;
    }
    case
}

fn ours(case: &Value) -> Result<Decision, String> {
    let named = |name: &str, v: &Value, kind: Kind| -> Result<NamedPolicy, String> {
        Ok(NamedPolicy { name: name.to_string(), policy: Policy::from_value(v, kind).map_err(|e| e.to_string())? })
    };
    let mut ctx = Context::default();
    for (k, v) in case["context"].as_object().unwrap() {
        match v {
            Value::Array(a) => ctx.set_many(k, a.iter().map(|x| x.as_str().unwrap().to_string()).collect()),
            Value::String(s) => ctx.set(k, s),
            _ => unreachable!(),
        }
    }
    let who = case["principal"].as_str().unwrap();
    let req = Request {
        principal: if who == ANONYMOUS { PrincipalId::anonymous() } else { PrincipalId::from_arn(who) },
        action: case["action"].as_str().unwrap().into(),
        resource: case["resource"].as_str().unwrap().into(),
        resource_account: case["resourceAccount"].as_str().unwrap().into(),
        context: ctx,
    };
    let mut set = PolicySet::default();
    for (i, p) in case["identity"].as_array().unwrap().iter().enumerate() {
        set.identity.push(named(&format!("identity{i}"), p, Kind::Identity)?);
    }
    if let Some(b) = case.get("boundary") {
        set.boundary = Some(named("boundary", b, Kind::Identity)?);
    }
    if let Some(p) = case.get("sessionPolicy") {
        set.session = Some(named("session", p, Kind::Identity)?);
    }
    if let Some(p) = case.get("vpcEndpointPolicy") {
        set.vpc_endpoint = Some(named("vpce", p, Kind::Resource)?);
    }
    let levels = |key: &str, prefix: &str, kind: Kind| -> Result<Vec<policy::OrgLevel>, String> {
        let mut out = vec![];
        for (i, level) in case.get(key).and_then(Value::as_array).cloned().unwrap_or_default().iter().enumerate() {
            let mut policies = vec![];
            for (j, p) in level.as_array().unwrap().iter().enumerate() {
                policies.push(named(&format!("{prefix}{i}-{j}"), p, kind)?);
            }
            let kind = if i == 0 { policy::OrgLevelKind::Root } else { policy::OrgLevelKind::Ou };
            out.push(policy::OrgLevel { target: format!("level{i}"), kind, policies });
        }
        Ok(out)
    };
    set.scps = levels("scps", "scp", Kind::Identity)?;
    set.rcps = levels("rcps", "rcp", Kind::Resource)?;
    if let Some(p) = case.get("resourcePolicy") {
        set.resource = Some(named("resource", p, Kind::Resource)?);
    }
    // As simulate does: every kms: request is marked a key request, and the engine applies the
    // key-policy rule to requests on a key only.
    if req.action.starts_with("kms:") {
        set.resource_kind = policy::ResourcePolicyKind::KmsKey;
    }
    let decision = policy::evaluate(&req, &set).decision;
    // The one-pass `decide` must agree with `evaluate` on every case.
    assert_eq!(policy::decide(&req, &set), decision, "decide and evaluate disagree on {case}");
    Ok(decision)
}

fn oracle_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/oracle")
}

/// Runs the oracle over the cases; one decision (or error) per case.
fn oracle(cases: &[Value]) -> Vec<Result<Decision, String>> {
    let dir = oracle_dir();
    assert!(dir.join("node_modules/@cloud-copilot/iam-simulate").exists(), "the oracle is not installed: scripts/test runs `npm ci` in tests/oracle");
    let mut file = tempfile::NamedTempFile::new().unwrap();
    for c in cases {
        writeln!(file, "{c}").unwrap();
    }
    let out = Command::new("node").arg(dir.join("run.mjs")).arg(file.path()).current_dir(&dir).output().expect("node runs");
    assert!(out.status.success(), "oracle failed: {}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    let rows: Vec<Result<Decision, String>> = text
        .lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l).unwrap();
            match v["decision"].as_str() {
                Some("Allowed") => Ok(Decision::Allow),
                Some("ExplicitlyDenied") => Ok(Decision::ExplicitDeny),
                Some("ImplicitlyDenied") => Ok(Decision::ImplicitDeny),
                _ => Err(v["error"].to_string()),
            }
        })
        .collect();
    assert_eq!(rows.len(), cases.len(), "one oracle answer per case");
    rows
}

fn disagrees(case: &Value) -> bool {
    let theirs = oracle(std::slice::from_ref(case)).remove(0);
    matches!((ours(case), theirs), (Ok(a), Ok(b)) if a != b)
}

/// Greedy shrinking: drop policies, statements, conditions and context keys while the engines
/// still disagree.
fn shrink(mut case: Value) -> Value {
    loop {
        let mut candidates = Vec::new();
        for key in ["boundary", "sessionPolicy", "vpcEndpointPolicy", "resourcePolicy", "scps", "rcps"] {
            if case.get(key).is_some_and(|v| v.as_array().is_none_or(|a| !a.is_empty())) {
                let mut c = case.clone();
                c.as_object_mut().unwrap().remove(key);
                candidates.push(c);
            }
        }
        let n = case["identity"].as_array().unwrap().len();
        for i in 0..n {
            let mut c = case.clone();
            c["identity"].as_array_mut().unwrap().remove(i);
            candidates.push(c);
        }
        let mut docs: Vec<String> = (0..n).map(|i| format!("/identity/{i}")).collect();
        docs.extend(["/boundary".to_string(), "/sessionPolicy".to_string(), "/vpcEndpointPolicy".to_string(), "/resourcePolicy".to_string()]);
        for d in &docs {
            let Some(sts) = case.pointer(&format!("{d}/Statement")).and_then(Value::as_array) else { continue };
            for i in 0..sts.len() {
                if sts.len() > 1 {
                    let mut c = case.clone();
                    c.pointer_mut(&format!("{d}/Statement")).unwrap().as_array_mut().unwrap().remove(i);
                    candidates.push(c);
                }
                if sts[i].get("Condition").is_some() {
                    let mut c = case.clone();
                    c.pointer_mut(&format!("{d}/Statement/{i}")).unwrap().as_object_mut().unwrap().remove("Condition");
                    candidates.push(c);
                }
            }
        }
        for k in case["context"].as_object().unwrap().keys() {
            let mut c = case.clone();
            c["context"].as_object_mut().unwrap().remove(k);
            candidates.push(c);
        }
        match candidates.into_iter().find(disagrees) {
            Some(smaller) => case = smaller,
            None => return case,
        }
    }
}

/// Cases where AWS and the oracle are known to differ, with the documentation that decides.
/// Empty: every generated construct agrees.
const EXCEPTIONS: &[(&str, &str)] = &[];

#[test]
fn engine_agrees_with_iam_simulate() {
    let seed: u64 = std::env::var("BEDBATCH_DIFF_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(20_261_125);
    let n: usize = std::env::var("BEDBATCH_DIFF_CASES").ok().and_then(|s| s.parse().ok()).unwrap_or(5000);
    let mut rng = Rng(seed);
    let cases: Vec<Value> = (0..n).map(|_| generate(&mut rng)).collect();
    let theirs = oracle(&cases);
    let mut counts = std::collections::BTreeMap::new();
    let mut layers = std::collections::BTreeMap::new();
    for (i, (case, their)) in cases.iter().zip(theirs).enumerate() {
        let their = their.unwrap_or_else(|e| panic!("seed {seed}, case {i}: the oracle rejects a generated case (a generator bug): {e}\n{case}"));
        let mine = ours(case).unwrap_or_else(|e| panic!("seed {seed}, case {i}: our parser rejects a generated case: {e}\n{case}"));
        if mine != their && !EXCEPTIONS.iter().any(|(id, _)| *id == format!("{seed}/{i}")) {
            let small = shrink(case.clone());
            let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/differential-failure.json");
            std::fs::write(&path, serde_json::to_string_pretty(&small).unwrap()).unwrap();
            panic!(
                "seed {seed}, case {i}: ours {mine:?}, iam-simulate {their:?}; shrunk case written to {}:\n{}",
                path.display(),
                serde_json::to_string_pretty(&small).unwrap()
            );
        }
        *counts.entry(format!("{mine:?}")).or_insert(0usize) += 1;
        if case["principal"] == ANONYMOUS {
            *layers.entry(format!("anonymous {mine:?}")).or_insert(0usize) += 1;
        }
        if case.get("vpcEndpointPolicy").is_some() {
            *layers.entry(format!("vpc endpoint {mine:?}")).or_insert(0usize) += 1;
        }
        if case.get("sessionPolicy").is_some() {
            *layers.entry(format!("session policy {mine:?}")).or_insert(0usize) += 1;
        }
    }
    println!("{n} cases agree (seed {seed}): {counts:?} {layers:?}");
    // The generator must exercise every outcome, or the test proves little.
    assert!(counts.len() == 3 && counts.values().all(|c| *c >= n / 20), "{counts:?}");
    // …and the layers that only some cases have, both allowing and denying.
    if n >= 2000 {
        for key in [
            "anonymous Allow",
            "anonymous ImplicitDeny",
            "vpc endpoint Allow",
            "vpc endpoint ImplicitDeny",
            "session policy Allow",
            "session policy ImplicitDeny",
        ] {
            assert!(layers.get(key).is_some_and(|c| *c > 0), "no case for {key}: {layers:?}");
        }
    }
}
