//! Evaluations per second of the policy engine on a realistic set: 10 policies, 50 statements,
//! with conditions, for a mix of allowed, implicitly and explicitly denied requests.
//!
//! `cargo bench --bench policy_eval` measures (single thread). Under `cargo test` it runs a
//! few iterations only, as a smoke test. POLICY_EVAL_ROUNDS sets the rounds (for a
//! deterministic instruction count under `valgrind --tool=callgrind`), POLICY_EVAL_DECIDE_ONLY
//! skips `evaluate`, POLICY_EVAL_PER_REQUEST prints the time of each request alone.

use std::time::Instant;

use bedbatch_doctor::policy::{decide, evaluate, Context, Decision, Kind, NamedPolicy, Policy, PolicySet, PrincipalId, Request};

fn policies() -> PolicySet {
    let mut identity = Vec::new();
    for p in 0..9 {
        let mut statements = Vec::new();
        for s in 0..5 {
            let i = p * 5 + s;
            let st = match i % 5 {
                0 => format!(
                    r#"{{"Sid":"S3Read{i}","Effect":"Allow","Action":["s3:GetObject","s3:ListBucket"],"Resource":["arn:aws:s3:::bucket-{i}","arn:aws:s3:::bucket-{i}/in/*"],"Condition":{{"StringEquals":{{"aws:ResourceAccount":"123456789012"}}}}}}"#
                ),
                1 => format!(
                    r#"{{"Sid":"Pass{i}","Effect":"Allow","Action":"iam:PassRole","Resource":"arn:aws:iam::123456789012:role/service-role/Role{i}","Condition":{{"StringEquals":{{"iam:PassedToService":"bedrock.amazonaws.com"}}}}}}"#
                ),
                2 => format!(
                    r#"{{"Sid":"Jobs{i}","Effect":"Allow","Action":["bedrock:CreateModelInvocationJob","bedrock:Get*"],"Resource":["arn:aws:bedrock:us-east-1::foundation-model/anthropic.*","arn:aws:bedrock:us-east-1:123456789012:model-invocation-job/*"],"Condition":{{"IpAddress":{{"aws:SourceIp":["10.0.0.0/8","203.0.113.0/24"]}},"Bool":{{"aws:SecureTransport":"true"}}}}}}"#
                ),
                3 => format!(
                    r#"{{"Sid":"Tags{i}","Effect":"Allow","NotAction":["iam:*","organizations:*"],"Resource":"arn:aws:dynamodb:*:123456789012:table/t{i}","Condition":{{"ForAllValues:StringLike":{{"aws:TagKeys":["team","cost-*"]}},"StringEqualsIfExists":{{"aws:PrincipalTag/team":"ml"}}}}}}"#
                ),
                _ => format!(
                    r#"{{"Sid":"Deny{i}","Effect":"Deny","Action":"s3:DeleteObject","Resource":"arn:aws:s3:::*/${{aws:username}}/*","Condition":{{"DateGreaterThan":{{"aws:CurrentTime":"2026-01-01T00:00:00Z"}},"NumericLessThan":{{"aws:MultiFactorAuthAge":"3600"}}}}}}"#
                ),
            };
            statements.push(st);
        }
        let doc = format!(r#"{{"Version":"2012-10-17","Statement":[{}]}}"#, statements.join(","));
        identity.push(NamedPolicy { name: format!("p{p}"), policy: Policy::parse_str(&doc, Kind::Identity).expect("bench policy parses") });
    }
    let mut boundary = Vec::new();
    for i in 0..5 {
        boundary.push(format!(r#"{{"Sid":"B{i}","Effect":"Allow","Action":["s3:*","iam:PassRole","bedrock:*","dynamodb:*"],"Resource":"*","Condition":{{"StringLike":{{"aws:PrincipalArn":"arn:aws:iam::123456789012:*"}}}}}}"#));
    }
    let doc = format!(r#"{{"Version":"2012-10-17","Statement":[{}]}}"#, boundary.join(","));
    PolicySet {
        identity,
        boundary: Some(NamedPolicy { name: "boundary".into(), policy: Policy::parse_str(&doc, Kind::Identity).unwrap() }),
        ..Default::default()
    }
}

fn requests() -> Vec<Request> {
    let mut ctx = Context::default();
    ctx.set("aws:SourceIp", "10.1.2.3");
    ctx.set("aws:SecureTransport", "true");
    ctx.set("aws:PrincipalArn", "arn:aws:iam::123456789012:user/analyst");
    ctx.set("aws:username", "analyst");
    ctx.set("aws:CurrentTime", "2026-11-25T05:00:00Z");
    ctx.set("aws:MultiFactorAuthAge", "100");
    ctx.set("iam:PassedToService", "bedrock.amazonaws.com");
    ctx.set_many("aws:TagKeys", vec!["team".into(), "cost-center".into()]);
    let who = PrincipalId::from_arn("arn:aws:iam::123456789012:user/analyst");
    let mk = |action: &str, resource: &str| Request {
        principal: who.clone(),
        action: action.into(),
        resource: resource.into(),
        resource_account: String::new(),
        context: ctx.clone(),
    };
    vec![
        mk("s3:GetObject", "arn:aws:s3:::bucket-20/in/part-0001.jsonl"),
        mk("iam:PassRole", "arn:aws:iam::123456789012:role/service-role/Role41"),
        mk("bedrock:CreateModelInvocationJob", "arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-3-haiku-20240307-v1:0"),
        mk("s3:DeleteObject", "arn:aws:s3:::bucket-3/analyst/x"),
        mk("dynamodb:GetItem", "arn:aws:dynamodb:us-east-1:123456789012:table/t8"),
        mk("s3:PutObject", "arn:aws:s3:::bucket-99/out/x"),
    ]
}

fn main() {
    let measuring = std::env::args().any(|a| a == "--bench");
    let set = policies();
    let reqs = requests();
    let statements: usize = set.identity.iter().chain(set.boundary.iter()).map(|p| p.policy.statements.len()).sum();
    let policies = set.identity.len() + usize::from(set.boundary.is_some());
    let decisions: Vec<Decision> = reqs.iter().map(|r| evaluate(r, &set).decision).collect();
    assert!(
        decisions.contains(&Decision::Allow) && decisions.contains(&Decision::ExplicitDeny) && decisions.contains(&Decision::ImplicitDeny),
        "{decisions:?}"
    );
    let rounds = std::env::var("POLICY_EVAL_ROUNDS").ok().and_then(|r| r.parse().ok()).unwrap_or(if measuring { 200_000 } else { 100 });
    for r in &reqs {
        assert_eq!(decide(r, &set), evaluate(r, &set).decision, "decide and evaluate agree");
    }

    if std::env::var_os("POLICY_EVAL_PER_REQUEST").is_some() {
        for r in &reqs {
            let start = Instant::now();
            for _ in 0..200_000 {
                std::hint::black_box(decide(std::hint::black_box(r), &set));
            }
            println!("{} {}: {:.0} ns", r.action, r.resource, start.elapsed().as_nanos() as f64 / 200_000.0);
        }
        return;
    }
    let note = if measuring { "" } else { " [smoke run under cargo test; use cargo bench]" };
    // Decisions only: what checks run in bulk. Ten batches: a shared VM's neighbours slow some
    // of them, so the best and the median batch are printed beside the whole run.
    let start = Instant::now();
    let mut n = 0u64;
    let mut batches = Vec::new();
    for _ in 0..10 {
        let batch = Instant::now();
        for _ in 0..rounds / 10 {
            for r in &reqs {
                std::hint::black_box(decide(std::hint::black_box(r), &set));
                n += 1;
            }
        }
        batches.push((rounds / 10 * reqs.len()) as f64 / batch.elapsed().as_secs_f64().max(1e-9));
    }
    let secs = start.elapsed().as_secs_f64();
    batches.sort_by(f64::total_cmp);
    println!(
        "policy_eval: {policies} policies, {statements} statements: decide   {:>9.0} evaluations/s (one core; best batch {:.0}, median {:.0}){note}",
        n as f64 / secs,
        batches[9],
        (batches[4] + batches[5]) / 2.0
    );
    if std::env::var_os("POLICY_EVAL_DECIDE_ONLY").is_some() {
        return; // for profiling `decide` alone
    }
    // With the reason and the full trace.
    let start = Instant::now();
    let mut n = 0u64;
    for _ in 0..rounds / 4 {
        for r in &reqs {
            std::hint::black_box(evaluate(std::hint::black_box(r), &set));
            n += 1;
        }
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "policy_eval: {policies} policies, {statements} statements: evaluate {:>9.0} evaluations/s with trace (one core){note}",
        n as f64 / secs
    );
}
