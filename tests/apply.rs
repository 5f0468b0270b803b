//! plan / apply / rollback through the binary against the emulator. Each test works on its own
//! role, user and buckets; write calls are counted from the emulator's request log, filtered to
//! the test's own names.

mod common;
use common::*;

use serde_json::{json, Value};

struct Env {
    tag: String,
    role: String,
    user: String,
    input: String,
    output: String,
    backups: tempfile::TempDir,
    dir: tempfile::TempDir,
}

impl Env {
    async fn new(tag: &str) -> Env {
        require_emulator();
        let u = unique(tag).to_lowercase();
        let env = Env {
            tag: u.clone(),
            role: format!("R{u}"),
            user: format!("u{u}"),
            input: format!("{u}-in"),
            output: format!("{u}-out"),
            backups: tempfile::tempdir().unwrap(),
            dir: tempfile::tempdir().unwrap(),
        };
        let conf = sdk_config().await;
        aws_sdk_iam::Client::new(&conf).create_user().user_name(&env.user).send().await.unwrap();
        env
    }

    fn args(&self) -> Vec<String> {
        vec![
            "--model-id",
            HAIKU,
            "--input-uri",
            &format!("s3://{}/jobs/in/", self.input),
            "--output-uri",
            &format!("s3://{}/jobs/out/", self.output),
            "--role-name",
            &self.role,
            "--role-path",
            "/service-role/",
            "--caller-arn",
            &format!("arn:aws:iam::{ACCOUNT}:user/{}", self.user),
            "--backup-dir",
            self.backups.path().to_str().unwrap(),
        ]
        .into_iter()
        .map(String::from)
        .collect()
    }

    fn run(&self, cmd: &[&str]) -> std::process::Output {
        self.run_as("testing", cmd)
    }

    /// Runs the binary signed with another access key id (the emulator aims faults and hooks
    /// by key).
    fn run_as(&self, access_key: &str, cmd: &[&str]) -> std::process::Output {
        let mut all: Vec<String> = cmd.iter().map(|s| s.to_string()).collect();
        let mut extra = self.args();
        if !matches!(cmd[0], "apply" | "rollback") {
            // --backup-dir belongs to apply and rollback only.
            extra.truncate(extra.len() - 2);
        }
        if cmd[0] != "rollback" {
            all.extend(extra);
        } else {
            all.extend(extra[extra.len() - 2..].to_vec());
        }
        let args: Vec<&str> = all.iter().map(String::as_str).collect();
        let mut c = emulator_command(self.dir.path());
        c.env("AWS_ACCESS_KEY_ID", access_key).stdin(std::process::Stdio::null());
        run(c, &args)
    }

    /// Write calls on this test's resources since the log was read last.
    fn writes(&self) -> Vec<String> {
        let out = std::process::Command::new("curl").args(["-fsS", &format!("{}/_bedbatch/requests", emulator_url())]).output().unwrap();
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        v["requests"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["target"].as_str().unwrap_or("").to_lowercase().contains(&self.tag))
            .filter(|r| {
                let action = r["action"].as_str().unwrap_or("");
                match r["service"].as_str().unwrap_or("") {
                    "iam" => !(action.starts_with("Get") || action.starts_with("List")),
                    "s3" => !matches!(r["method"].as_str(), Some("GET") | Some("HEAD")),
                    _ => false,
                }
            })
            .map(|r| format!("{} {} {}", r["service"], r["action"], r["target"]))
            .collect()
    }

    async fn bucket_policy(&self, bucket: &str) -> Option<Value> {
        let s3 = s3_client(&sdk_config().await);
        s3.get_bucket_policy().bucket(bucket).send().await.ok().and_then(|p| p.policy().map(|t| serde_json::from_str(t).unwrap()))
    }

    fn check_errors(&self) -> Vec<String> {
        let out = self.run(&["check", "--output", "json"]);
        let v: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", stderr(&out)));
        v["findings"].as_array().unwrap().iter().filter(|f| f["severity"] == "error").map(|f| f["code"].as_str().unwrap().to_string()).collect()
    }
}

#[tokio::test]
async fn apply_on_an_empty_account_then_nothing_to_do() {
    let env = Env::new("empty").await;
    let plan = env.run(&["plan", "--detailed-exitcode"]);
    assert_eq!(plan.status.code(), Some(2), "{}", stderr(&plan));
    assert!(stdout(&plan).contains("Plan: 7 to create, 0 to update, 0 unchanged."), "{}", stdout(&plan));

    let out = env.run(&["apply", "--yes"]);
    assert_eq!(out.status.code(), Some(0), "{}\n{}", stdout(&out), stderr(&out));
    // Each document is shown once, whole, as its diff; the exact bodies only on request.
    assert!(stdout(&out).contains("+  \"Statement\": ["), "{}", stdout(&out));
    assert!(!stdout(&out).contains("exactly as sent"), "{}", stdout(&out));
    let s3 = s3_client(&sdk_config().await);
    s3.put_object().bucket(&env.input).key("jobs/in/a.jsonl").body(b"{}\n".to_vec().into()).send().await.unwrap();
    assert!(env.check_errors().is_empty());
    // Buckets were created with encryption and a public access block, and tagged.
    let enc = s3.get_bucket_encryption().bucket(&env.input).send().await.unwrap();
    assert!(enc.server_side_encryption_configuration().is_some());
    let tags = s3.get_bucket_tagging().bucket(&env.output).send().await.unwrap();
    assert!(tags.tag_set().iter().any(|t| t.key() == "managed-by" && t.value() == "bedbatch-doctor"));
    let iam = aws_sdk_iam::Client::new(&sdk_config().await);
    let role = iam.get_role().role_name(&env.role).send().await.unwrap();
    assert!(role.role().unwrap().tags().iter().any(|t| t.key() == "managed-by"));

    // The snapshot reads what apply set on the buckets.
    let snap = env.dir.path().join("snap.json");
    let out = env.run(&["snapshot", "-o", snap.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let v: Value = serde_json::from_str(&std::fs::read_to_string(&snap).unwrap()).unwrap();
    for b in v["buckets"].as_array().unwrap() {
        assert_eq!(b["public_access_blocked"]["value"], true, "{b:#}");
        assert_eq!(b["encryption"]["value"], "AES256", "{b:#}");
    }
    let before = env.writes().len();
    assert!(before >= 7, "the first apply's writes are counted: {:?}", env.writes());
    let again = env.run(&["apply", "--yes"]);
    assert_eq!(again.status.code(), Some(0), "{}", stderr(&again));
    assert!(stdout(&again).contains("Nothing to do"), "{}", stdout(&again));
    assert_eq!(env.writes().len(), before, "a second apply makes no write call");
    let plan = env.run(&["plan", "--detailed-exitcode"]);
    assert_eq!(plan.status.code(), Some(0));
}

#[tokio::test]
async fn foreign_bucket_policy_statements_are_kept_exactly() {
    let env = Env::new("foreign").await;
    let s3 = s3_client(&sdk_config().await);
    s3.create_bucket().bucket(&env.input).send().await.unwrap();
    let foreign = json!([
        {"Sid": "DenyInsecure", "Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": [format!("arn:aws:s3:::{}", env.input), format!("arn:aws:s3:::{}/*", env.input)], "Condition": {"Bool": {"aws:SecureTransport": "false"}}},
        {"Sid": "AuditorsRead", "Effect": "Allow", "Principal": {"AWS": format!("arn:aws:iam::{ACCOUNT}:role/Auditors")}, "Action": ["s3:GetObject", "s3:ListBucket"], "Resource": [format!("arn:aws:s3:::{}", env.input), format!("arn:aws:s3:::{}/*", env.input)]}
    ]);
    s3.put_bucket_policy().bucket(&env.input).policy(json!({"Version": "2012-10-17", "Statement": foreign}).to_string()).send().await.unwrap();
    // --show-documents adds each body exactly as it will be sent, foreign statements included.
    let plan = env.run(&["plan", "--show-documents"]);
    let text = stdout(&plan);
    assert!(text.contains("document to write, exactly as sent:"), "{text}");
    assert!(text.contains("\"Sid\": \"AuditorsRead\""), "{text}");
    let out = env.run(&["apply", "--yes"]);
    assert_eq!(out.status.code(), Some(0), "{}\n{}", stdout(&out), stderr(&out));
    // apply shows the whole planned bucket policy once: the foreign statement as unchanged
    // context, ours as added lines.
    let text = stdout(&out);
    assert_eq!(text.matches("\"Sid\": \"AuditorsRead\"").count(), 1, "{text}");
    assert!(text.contains("      \"Sid\": \"AuditorsRead\"") && text.contains("+      \"Sid\": \"BedrockBatchReadInput\""), "{text}");
    let live = env.bucket_policy(&env.input).await.unwrap();
    let st = live["Statement"].as_array().unwrap();
    assert_eq!(st[0], foreign[0], "first foreign statement kept exactly");
    assert_eq!(st[1], foreign[1], "second foreign statement kept exactly");
    assert!(st.iter().any(|s| s["Sid"] == "BedrockBatchReadInput"));
    // A backup of the replaced policy was written.
    let backup = std::fs::read_dir(env.backups.path()).unwrap().next().unwrap().unwrap().path();
    let manifest: Value = serde_json::from_str(&std::fs::read_to_string(backup.join("manifest.json")).unwrap()).unwrap();
    let step = manifest["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["target"]["kind"] == "bucket-policy" && s["target"]["bucket"] == env.input.as_str())
        .unwrap();
    assert_eq!(step["before"]["Statement"], foreign);
}

#[tokio::test]
async fn walkthrough_setup_is_fixed_then_rolled_back_exactly() {
    let env = Env::new("walk").await;
    let conf = sdk_config().await;
    let iam = aws_sdk_iam::Client::new(&conf);
    let root_trust = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": format!("arn:aws:iam::{ACCOUNT}:root")}, "Action": "sts:AssumeRole"}]});
    iam.create_role().role_name(&env.role).path("/service-role/").assume_role_policy_document(root_trust.to_string()).send().await.unwrap();
    let s3 = s3_client(&conf);
    for b in [&env.input, &env.output] {
        s3.create_bucket().bucket(b).send().await.unwrap();
    }
    s3.put_object().bucket(&env.input).key("jobs/in/a.jsonl").body(b"{}\n".to_vec().into()).send().await.unwrap();
    assert!(env.check_errors().contains(&"trust-wrong-principal".to_string()));

    let plan = env.run(&["plan"]);
    let text = stdout(&plan);
    assert!(text.contains("~ update    trust policy of") && text.contains("+          \"bedrock.amazonaws.com\""), "{text}");

    let out = env.run(&["apply", "--yes"]);
    assert_eq!(out.status.code(), Some(0), "{}\n{}", stdout(&out), stderr(&out));
    assert!(env.check_errors().is_empty());

    let out = env.run(&["rollback", "--yes"]);
    assert_eq!(out.status.code(), Some(0), "{}\n{}", stdout(&out), stderr(&out));
    let trust = iam.get_role().role_name(&env.role).send().await.unwrap();
    let live: Value =
        serde_json::from_str(&bedbatch_doctor::policy::decode_document(trust.role().unwrap().assume_role_policy_document().unwrap())).unwrap();
    assert_eq!(live, root_trust, "the trust policy is restored exactly");
    assert!(
        iam.get_role_policy().role_name(&env.role).policy_name("bedbatch-doctor-service-role").send().await.is_err(),
        "the created inline policy is gone"
    );
    assert!(env.bucket_policy(&env.input).await.is_none(), "the created bucket policy is gone");
    assert!(iam.get_user_policy().user_name(&env.user).policy_name("bedbatch-doctor-passrole").send().await.is_err());
}

#[tokio::test]
async fn a_write_that_fails_half_way_then_converges() {
    let env = Env::new("fault").await;
    fault(
        json!({"service": "iam", "action": "PutUserPolicy", "target": env.user, "count": 1, "status": 403, "code": "AccessDenied", "message": "injected"}),
    );
    let out = env.run(&["apply", "--yes"]);
    assert_eq!(out.status.code(), Some(3), "{}\n{}", stdout(&out), stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("apply stopped at") && err.contains("done:") && err.contains("not done: inline policy bedbatch-doctor-passrole"), "{err}");
    assert!(err.contains("rollback"), "{err}");
    let again = env.run(&["apply", "--yes"]);
    assert_eq!(again.status.code(), Some(0), "{}\n{}", stdout(&again), stderr(&again));
    assert!(stdout(&again).contains("Plan: 1 to create, 0 to update, 6 unchanged."), "{}", stdout(&again));
    assert_eq!(env.check_errors(), vec!["input-object-missing".to_string()], "only the input, which apply does not upload, is missing");
}

#[tokio::test]
async fn apply_without_a_terminal_or_yes_changes_nothing() {
    let env = Env::new("noyes").await;
    let before = env.writes().len();
    let out = env.run(&["apply"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("--yes"), "{}", stderr(&out));
    assert_eq!(env.writes().len(), before);
    let out = env.run(&["apply", "--dry-run"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(stdout(&out).contains("nothing was changed"));
    assert_eq!(env.writes().len(), before);
}

#[tokio::test]
async fn key_order_and_list_form_are_no_change() {
    let env = Env::new("order").await;
    let out = env.run(&["apply", "--yes"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    // Rewrite the role's inline policy with keys reversed and strings as one-element lists.
    let iam = aws_sdk_iam::Client::new(&sdk_config().await);
    let p = iam.get_role_policy().role_name(&env.role).policy_name("bedbatch-doctor-service-role").send().await.unwrap();
    let doc: Value = serde_json::from_str(&bedbatch_doctor::policy::decode_document(p.policy_document())).unwrap();
    fn reshape(v: &Value) -> Value {
        match v {
            Value::Object(m) => {
                let mut out = serde_json::Map::new();
                for (k, v) in m.iter().rev() {
                    let v = match (k.as_str(), v) {
                        ("Action" | "Resource", Value::String(s)) => json!([s]),
                        _ => reshape(v),
                    };
                    out.insert(k.clone(), v);
                }
                Value::Object(out)
            }
            Value::Array(a) => Value::Array(a.iter().map(reshape).collect()),
            other => other.clone(),
        }
    }
    let reshaped = reshape(&doc);
    assert_ne!(reshaped.to_string(), doc.to_string());
    iam.put_role_policy()
        .role_name(&env.role)
        .policy_name("bedbatch-doctor-service-role")
        .policy_document(reshaped.to_string())
        .send()
        .await
        .unwrap();
    let plan = env.run(&["plan", "--detailed-exitcode"]);
    assert_eq!(plan.status.code(), Some(0), "{}", stdout(&plan));
    assert!(stdout(&plan).contains("0 to create, 0 to update, 7 unchanged"), "{}", stdout(&plan));
}

#[tokio::test]
async fn identity_center_roles_get_the_policy_printed() {
    let env = Env::new("sso").await;
    let mut args: Vec<String> = vec!["plan".into(), "--output".into(), "json".into()];
    let mut extra = env.args();
    extra.truncate(extra.len() - 2);
    let i = extra.iter().position(|a| a == "--caller-arn").unwrap();
    extra[i + 1] = format!("arn:aws:sts::{ACCOUNT}:assumed-role/AWSReservedSSO_DataScience_0123456789abcdef/jane");
    args.extend(extra);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = run(emulator_command(env.dir.path()), &args);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let manual = v["changes"].as_array().unwrap().iter().find(|c| c["action"] == "manual").unwrap();
    assert!(manual["title"].as_str().unwrap().contains("permission set"));
    assert_eq!(manual["after"]["Statement"][0]["Sid"], "BedrockBatchPassRole");
    assert_eq!(v["summary"]["manual"], 1);
}

#[tokio::test]
async fn apply_output_json_is_one_document_with_the_plan_shown_on_stderr() {
    let env = Env::new("applyjson").await;
    let out = env.run(&["apply", "--dry-run", "--output", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("stdout is one JSON document ({e}): {}", stdout(&out)));
    assert_eq!(v["dry_run"], true);
    assert!(v["plan"].is_object() || v["plan"].is_array(), "{v:#}");
    assert!(stderr(&out).contains("create"), "the plan is shown to people on stderr: {}", stderr(&out));
}

fn foreign_statements(bucket: &str) -> Value {
    json!([
        {"Sid": "DenyInsecure", "Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": [format!("arn:aws:s3:::{bucket}"), format!("arn:aws:s3:::{bucket}/*")], "Condition": {"Bool": {"aws:SecureTransport": "false"}}}
    ])
}

/// Issue 12: another person's edit to a bucket policy lands after apply read it and showed the
/// plan, before apply writes it. apply reads the document again right before the write, sees the
/// change, and stops there; the edit is intact; the next apply merges into it.
#[tokio::test]
async fn reliability_an_edit_between_plan_and_write_stops_apply_before_that_write() {
    let env = Env::new("stale").await;
    let s3 = s3_client(&sdk_config().await);
    s3.create_bucket().bucket(&env.input).send().await.unwrap();
    let edit = json!({"Version": "2012-10-17", "Statement": foreign_statements(&env.input)});
    // The hook fires when apply writes the role's policy, which comes before the bucket policies.
    let key = format!("STALE{}", env.tag.replace('-', "").to_uppercase());
    control(
        "hooks",
        json!({"service": "iam", "action": "PutRolePolicy", "access_key": key, "put_bucket_policy": {"bucket": env.input, "policy": edit}}),
    );
    let out = env.run_as(&key, &["apply", "--yes"]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(3), "{}\n{err}", stdout(&out));
    assert!(err.contains(&format!("the live bucket policy of s3://{} changed after apply read it", env.input)), "{err}");
    assert!(err.contains(&format!("not done: bucket policy of s3://{}", env.input)), "{err}");
    assert_eq!(env.bucket_policy(&env.input).await.unwrap(), edit, "the other edit is untouched");
    let again = env.run(&["apply", "--yes"]);
    assert_eq!(again.status.code(), Some(0), "{}", stderr(&again));
    let live = env.bucket_policy(&env.input).await.unwrap();
    assert_eq!(live["Statement"][0], edit["Statement"][0], "the edit is kept by the merge");
    assert!(live["Statement"].as_array().unwrap().iter().any(|s| s["Sid"] == "BedrockBatchReadInput"));
}

/// Two applies at once against one account: neither loses the foreign statement, and a third
/// finds nothing to do.
#[tokio::test]
async fn reliability_two_concurrent_applies_keep_foreign_statements() {
    let env = Env::new("twice").await;
    let s3 = s3_client(&sdk_config().await);
    s3.create_bucket().bucket(&env.input).send().await.unwrap();
    let foreign = foreign_statements(&env.input);
    s3.put_bucket_policy().bucket(&env.input).policy(json!({"Version": "2012-10-17", "Statement": foreign}).to_string()).send().await.unwrap();
    let (a, b) = std::thread::scope(|scope| {
        let a = scope.spawn(|| env.run(&["apply", "--yes"]));
        let b = scope.spawn(|| env.run(&["apply", "--yes"]));
        (a.join().unwrap(), b.join().unwrap())
    });
    for out in [&a, &b] {
        // Each either finished, or stopped at a document the other one changed first.
        let code = out.status.code();
        assert!(code == Some(0) || (code == Some(3) && stderr(out).contains("changed after apply read it")), "{code:?}: {}", stderr(out));
    }
    let live = env.bucket_policy(&env.input).await.unwrap();
    assert_eq!(live["Statement"][0], foreign[0], "{live:#}");
    let last = env.run(&["apply", "--yes"]);
    assert_eq!(last.status.code(), Some(0), "{}", stderr(&last));
    assert_eq!(env.bucket_policy(&env.input).await.unwrap()["Statement"][0], foreign[0]);
    let plan = env.run(&["plan", "--detailed-exitcode"]);
    assert_eq!(plan.status.code(), Some(0), "{}", stdout(&plan));
}

/// Under a 10% fault rate (throttles, 5xx, resets) with one attempt a call, repeated
/// `apply --yes` converges to the planned state; every backup records the documents it
/// replaced; rolling back each apply, newest first, restores the account exactly.
#[tokio::test]
async fn reliability_apply_under_faults_converges_and_rolls_back_exactly() {
    let env = Env::new("flaky").await;
    let conf = sdk_config().await;
    let iam = aws_sdk_iam::Client::new(&conf);
    let s3 = s3_client(&conf);
    // A setup that needs updates, not only creates: a root-trusting role and a foreign bucket policy.
    let root_trust = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": format!("arn:aws:iam::{ACCOUNT}:root")}, "Action": "sts:AssumeRole"}]});
    iam.create_role().role_name(&env.role).path("/service-role/").assume_role_policy_document(root_trust.to_string()).send().await.unwrap();
    s3.create_bucket().bucket(&env.input).send().await.unwrap();
    let foreign = json!({"Version": "2012-10-17", "Statement": foreign_statements(&env.input)});
    s3.put_bucket_policy().bucket(&env.input).policy(foreign.to_string()).send().await.unwrap();

    let key = format!("FLAKY{}", env.tag.replace('-', "").to_uppercase());
    control("faults", json!({"rate": 0.1, "seed": 5, "kinds": ["throttle", "5xx", "reset"], "access_key": key}));
    let mut runs = 0;
    let mut statuses = vec![];
    loop {
        runs += 1;
        let out = env.run_as(&key, &["apply", "--yes", "--max-attempts", "1"]);
        statuses.push(out.status.code());
        if out.status.code() == Some(0) && stdout(&out).contains("Nothing to do") {
            break;
        }
        assert!(runs < 30, "apply did not converge: {statuses:?}\n{}", stderr(&out));
    }
    let fired = take_faults(&key)["fired"].as_u64().unwrap();
    assert!(fired > 0);
    let plan = env.run(&["plan", "--detailed-exitcode"]);
    assert_eq!(plan.status.code(), Some(0), "converged: {}", stdout(&plan));
    assert_eq!(env.bucket_policy(&env.input).await.unwrap()["Statement"][0], foreign["Statement"][0], "no statement lost");
    println!("figures: apply under faults: converged after {runs} runs ({fired} faults injected, exits {statuses:?}), 0 statements lost");

    // Every backup lists what it replaced before replacing it: roll back newest first.
    let mut backups: Vec<std::path::PathBuf> = std::fs::read_dir(env.backups.path()).unwrap().map(|e| e.unwrap().path()).collect();
    backups.sort();
    for b in backups.iter().rev() {
        let out = env.run(&["rollback", b.to_str().unwrap(), "--yes"]);
        assert_eq!(out.status.code(), Some(0), "{}: {}", b.display(), stderr(&out));
    }
    let trust = iam.get_role().role_name(&env.role).send().await.unwrap();
    let live: Value =
        serde_json::from_str(&bedbatch_doctor::policy::decode_document(trust.role().unwrap().assume_role_policy_document().unwrap())).unwrap();
    assert_eq!(live, root_trust, "the trust policy is restored exactly");
    assert_eq!(env.bucket_policy(&env.input).await.unwrap(), foreign, "the bucket policy is restored exactly");
    assert!(iam.get_user_policy().user_name(&env.user).policy_name("bedbatch-doctor-passrole").send().await.is_err());
}
