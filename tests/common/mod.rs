//! Shared test helpers: run the binary with a clean AWS environment, pointed at the emulator.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};

pub const ACCOUNT: &str = "123456789012";
pub const REGION: &str = "us-east-1";
pub const HAIKU: &str = "anthropic.claude-3-haiku-20240307-v1:0";

/// The emulator's URL (scripts/test starts it and sets BEDBATCH_EMULATOR_URL).
pub fn emulator_url() -> String {
    std::env::var("BEDBATCH_EMULATOR_URL").unwrap_or_else(|_| {
        let port = std::env::var("BEDBATCH_EMULATOR_PORT").unwrap_or_else(|_| "5055".into());
        format!("http://127.0.0.1:{port}")
    })
}

pub fn project_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The binary with every AWS variable of the caller's environment removed, so no test can
/// reach a real account or read the developer's profiles.
pub fn bare_command(dir: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_bedbatch-doctor"));
    cmd.current_dir(dir);
    for (k, _) in std::env::vars() {
        if k.starts_with("AWS_") {
            cmd.env_remove(k);
        }
    }
    cmd.env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_CONFIG_FILE", dir.join("no-aws-config"))
        .env("AWS_SHARED_CREDENTIALS_FILE", dir.join("no-aws-credentials"));
    cmd
}

/// The binary pointed at the emulator with its dummy credentials.
pub fn emulator_command(dir: &Path) -> Command {
    let mut cmd = bare_command(dir);
    cmd.env("AWS_ENDPOINT_URL", emulator_url()).env("AWS_ACCESS_KEY_ID", "testing").env("AWS_SECRET_ACCESS_KEY", "testing").env("AWS_REGION", REGION);
    cmd
}

pub fn run(mut cmd: Command, args: &[&str]) -> Output {
    cmd.args(args).output().expect("the binary runs")
}

/// A command's exit code and its one JSON document on stdout; a panic shows both streams when
/// stdout is not JSON (`what` names the command in the message).
pub fn exit_and_json(out: &Output, what: &str) -> (i32, serde_json::Value) {
    let v = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{what}: output is not JSON ({e}): {} {}", stdout(out), stderr(out)));
    (out.status.code().unwrap(), v)
}

/// The distinct codes of a report's findings (of one severity, or all), sorted.
pub fn finding_codes(report: &serde_json::Value, severity: Option<&str>) -> Vec<String> {
    let mut c: Vec<String> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| severity.is_none_or(|s| f["severity"] == s))
        .map(|f| f["code"].as_str().unwrap().to_string())
        .collect();
    c.sort();
    c.dedup();
    c
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A name unique to this test process and call, for buckets and roles (tests share one
/// emulator and run in parallel, so they never reset it).
pub fn unique(prefix: &str) -> String {
    static N: AtomicUsize = AtomicUsize::new(0);
    format!("{prefix}-{}-{}", std::process::id(), N.fetch_add(1, Ordering::SeqCst))
}

/// SDK configuration for the emulator, for tests that set an account up directly.
pub async fn sdk_config() -> aws_config::SdkConfig {
    let creds = aws_credential_types::Credentials::new("testing", "testing", None, None, "tests");
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new(REGION))
        .endpoint_url(emulator_url())
        .credentials_provider(creds)
        .http_client(
            aws_smithy_http_client::Builder::new()
                .tls_provider(aws_smithy_http_client::tls::Provider::Rustls(aws_smithy_http_client::tls::rustls_provider::CryptoMode::Ring))
                .build_https(),
        )
        .load()
        .await
}

pub fn s3_client(conf: &aws_config::SdkConfig) -> aws_sdk_s3::Client {
    aws_sdk_s3::Client::from_conf(aws_sdk_s3::config::Builder::from(conf).force_path_style(true).build())
}

/// Fails with a clear message when the emulator is not running.
pub fn require_emulator() {
    let url = emulator_url();
    let addr = url.trim_start_matches("http://").to_string();
    if std::net::TcpStream::connect(&addr).is_err() {
        panic!("the emulator does not answer at {url}: run the tests with scripts/test (or scripts/emulator start first)");
    }
}

/// POSTs `body` to one of the emulator's test controls (`/_bedbatch/<control>`) and returns
/// its JSON answer; fails the test when the control refuses.
pub fn control(name: &str, body: serde_json::Value) -> serde_json::Value {
    let out = Command::new("curl")
        .args([
            "-fsS",
            "-X",
            "POST",
            "-H",
            "Content-Type: application/json",
            "-d",
            &body.to_string(),
            &format!("{}/_bedbatch/{name}", emulator_url()),
        ])
        .output()
        .expect("curl runs");
    assert!(out.status.success(), "/_bedbatch/{name}: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap_or(serde_json::Value::Null)
}

/// Arms an emulator fault (`POST /_bedbatch/faults`): the next `count` matching calls fail.
pub fn fault(body: serde_json::Value) {
    control("faults", body);
}

/// Clears the emulator faults aimed at one access key (`DELETE /_bedbatch/faults?access_key=K`).
pub fn clear_faults(access_key: &str) {
    let out = Command::new("curl")
        .args(["-fsS", "-X", "DELETE", &format!("{}/_bedbatch/faults?access_key={access_key}", emulator_url())])
        .output()
        .expect("curl runs");
    assert!(out.status.success(), "clearing faults: {}", String::from_utf8_lossy(&out.stderr));
}

/// The rate fault aimed at one access key as the emulator lists it (`fired`, `fired_by_kind`;
/// Null when there is none), then clears that key's faults.
pub fn take_faults(access_key: &str) -> serde_json::Value {
    let listed = read_control("faults");
    let entry = listed["faults"].as_array().and_then(|a| a.iter().find(|f| f["access_key"] == access_key).cloned()).unwrap_or_default();
    clear_faults(access_key);
    entry
}

/// GETs one of the emulator's test controls (`/_bedbatch/<control>`).
pub fn read_control(name: &str) -> serde_json::Value {
    let out = Command::new("curl").args(["-fsS", &format!("{}/_bedbatch/{name}", emulator_url())]).output().expect("curl runs");
    assert!(out.status.success(), "/_bedbatch/{name}: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap_or(serde_json::Value::Null)
}

/// Sets one of a model's batch quotas in the emulator, by its Service Quotas name
/// ("<kind> for <model name>").
pub async fn set_quota(model_name: &str, kind: &str, value: f64) {
    let quotas = aws_sdk_servicequotas::Client::new(&sdk_config().await);
    let name = format!("{kind} for {model_name}");
    let mut pages = quotas.list_aws_default_service_quotas().service_code("bedrock").into_paginator().send();
    while let Some(page) = pages.next().await {
        if let Some(q) = page.unwrap().quotas().iter().find(|q| q.quota_name() == Some(name.as_str())) {
            control("quotas", serde_json::json!({"region": REGION, "quotaCode": q.quota_code().unwrap(), "value": value}));
            return;
        }
    }
    panic!("no quota named {name}");
}

/// A set-up account (apply) for one model, its own buckets and role, with the emulator's
/// default credentials; commands run with its settings as flags and its own state folder.
pub struct RunEnv {
    pub dir: tempfile::TempDir,
    pub args: Vec<String>,
    /// The name its buckets (`<unique>-in`, `<unique>-out`), role and user are made from.
    pub unique: String,
}

impl RunEnv {
    pub async fn new(tag: &str, model: &str) -> RunEnv {
        RunEnv::new_in(tag, model, None).await
    }

    /// [`RunEnv::new`] with `--region` among its settings when given.
    pub async fn new_in(tag: &str, model: &str, region: Option<&str>) -> RunEnv {
        require_emulator();
        let u = unique(tag).to_lowercase();
        let dir = tempfile::tempdir().unwrap();
        let user = format!("u{u}");
        aws_sdk_iam::Client::new(&sdk_config().await).create_user().user_name(&user).send().await.unwrap();
        let mut args: Vec<String> = region.map(|r| vec!["--region".to_string(), r.to_string()]).unwrap_or_default();
        args.extend(
            [
                "--model-id",
                model,
                "--input-uri",
                &format!("s3://{u}-in/data/in/"),
                "--output-uri",
                &format!("s3://{u}-out/data/out/"),
                "--role-name",
                &format!("R{u}"),
                "--caller-arn",
                &format!("arn:aws:iam::{ACCOUNT}:user/{user}"),
            ]
            .iter()
            .map(|s| s.to_string()),
        );
        let env = RunEnv { dir, args, unique: u };
        let backups = env.dir.path().join("backups");
        let out = env.bin(&["apply", "--yes", "--backup-dir", backups.to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        env
    }

    pub fn command(&self) -> Command {
        let mut c = emulator_command(self.dir.path());
        c.env("XDG_STATE_HOME", self.dir.path().join("state"));
        c
    }

    /// Runs `a` with the settings among its flags that the command takes.
    pub fn bin(&self, a: &[&str]) -> Output {
        let settings = flags::for_command(a, &self.args);
        let mut all: Vec<&str> = a.to_vec();
        all.extend(settings.iter().map(String::as_str));
        run(self.command(), &all)
    }

    /// The command with `--output json`: its exit code and its one JSON document.
    pub fn json(&self, a: &[&str]) -> (i32, serde_json::Value) {
        let mut all: Vec<&str> = a.to_vec();
        all.extend(["--output", "json"]);
        exit_and_json(&self.bin(&all), a.first().copied().unwrap_or("command"))
    }

    /// Writes a file of lines in the test's folder; its path.
    pub fn input(&self, name: &str, lines: &[String]) -> String {
        let p = self.dir.path().join(name);
        std::fs::write(&p, lines.join("\n") + "\n").unwrap();
        p.to_str().unwrap().to_string()
    }

    pub fn path(&self, name: &str) -> String {
        self.dir.path().join(name).to_str().unwrap().to_string()
    }
}

/// The flags several commands share, by group, and which groups each command takes (README,
/// "Which flags each command takes"; tests/cli.rs checks every command's --help against this).
pub mod flags {
    pub const OUTPUT: &[&str] = &["--output"];
    pub const CONFIG: &[&str] = &["--config"];
    pub const REGION: &[&str] = &["--region"];
    pub const MODEL: &[&str] = &["--model-id"];
    pub const JOB: &[&str] = &["--input-uri", "--output-uri", "--role-name", "--role-path"];
    pub const ACCESS: &[&str] = &["--kms-key-id", "--caller-arn"];
    pub const PROFILE: &[&str] = &["--profile"];
    pub const AWS: &[&str] = &["--endpoint-url", "--retry-mode", "--max-attempts", "--call-timeout"];
    pub const ORG: &[&str] = &["--scp", "--rcp"];
    pub const ALL: &[&[&str]] = &[OUTPUT, CONFIG, REGION, MODEL, JOB, ACCESS, PROFILE, AWS, ORG];

    /// The shared flags a command takes (`run status` for run's subcommands).
    pub fn taken_by(command: &str) -> Vec<&'static str> {
        let groups: &[&[&str]] = match command {
            "init" => &[OUTPUT, CONFIG],
            "whoami" | "rollback" | "jobs" => &[OUTPUT, CONFIG, REGION, PROFILE, AWS],
            "simulate" => &[OUTPUT, CONFIG, REGION, PROFILE, AWS, ORG],
            "prepare" => &[OUTPUT, CONFIG, REGION, MODEL, PROFILE],
            "validate" => &[OUTPUT, CONFIG, REGION, MODEL, PROFILE, AWS],
            "run resume" | "run status" | "run collect" | "run cancel" | "run list" => &[OUTPUT, CONFIG, REGION, MODEL, JOB, PROFILE, AWS],
            "render" | "plan" => &[OUTPUT, CONFIG, REGION, MODEL, JOB, ACCESS, PROFILE, AWS],
            "check" | "snapshot" | "apply" | "canary" | "explain" | "run start" | "run retry" => ALL,
            "completions" | "man" => &[],
            other => panic!("no command {other} in tests/common flags::taken_by"),
        };
        groups.concat()
    }

    /// The command a command line names: its first word, or `run` and its subcommand.
    pub fn command_of(line: &[&str]) -> String {
        match line {
            ["run", sub, ..] => format!("run {sub}"),
            [first, ..] => first.to_string(),
            [] => String::new(),
        }
    }

    /// Of `pairs` (flag, value, flag, value…: a setup's settings, say), those the command of
    /// `line` takes: a command refuses a flag it does not read.
    pub fn for_command(line: &[&str], pairs: &[String]) -> Vec<String> {
        let takes = taken_by(&command_of(line));
        pairs.chunks(2).filter(|p| takes.contains(&p[0].as_str())).flatten().cloned().collect()
    }
}
