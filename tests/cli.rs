//! The command line itself: completion scripts and the manual page come from the same clap
//! definitions as `--help`, so every command and flag is in them.

mod common;
use common::*;

#[test]
fn completions_for_each_shell_name_the_commands() {
    let dir = tempfile::tempdir().unwrap();
    for shell in ["bash", "zsh", "fish", "powershell"] {
        let out = run(bare_command(dir.path()), &["completions", shell]);
        assert_eq!(out.status.code(), Some(0), "{shell}: {}", stderr(&out));
        let text = stdout(&out);
        for word in ["bedbatch-doctor", "check", "canary", "scp"] {
            assert!(text.contains(word), "{shell}: no {word} in the script");
        }
    }
    let out = run(bare_command(dir.path()), &["completions", "tcsh"]);
    assert_eq!(out.status.code(), Some(2), "an unknown shell is a usage error");
}

/// A reader that stops early (`| head`) ends the process quietly, as SIGPIPE ends any Unix tool:
/// no panic and backtrace on stderr (the completion scripts are larger than a pipe's buffer).
#[cfg(unix)]
#[test]
fn a_closed_pipe_ends_the_output_quietly() {
    use std::io::Read;
    use std::os::unix::process::ExitStatusExt;
    let dir = tempfile::tempdir().unwrap();
    let mut child = bare_command(dir.path())
        .args(["completions", "bash"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut head = [0u8; 10];
    child.stdout.take().unwrap().read_exact(&mut head).unwrap();
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("panicked"), "{err}");
    assert_eq!(out.status.signal(), Some(13), "ended by SIGPIPE: {:?}", out.status);
}

#[test]
fn the_manual_page_is_roff_with_every_command() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(bare_command(dir.path()), &["man"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.starts_with(".ie") || text.contains(".TH bedbatch-doctor"), "{}", &text[..200.min(text.len())]);
    for cmd in ["render", "check", "plan", "apply", "validate", "canary", "explain", "completions"] {
        assert!(text.contains(cmd), "the manual lacks {cmd}");
    }
}

#[test]
fn version_names_the_catalogue_date() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(bare_command(dir.path()), &["--version"]);
    assert!(stdout(&out).contains("model catalogue as of 20"), "{}", stdout(&out));
}

/// Errors point at the way out: no credentials for render (give --account-id) or for a local
/// validate (add --offline); nothing listening at a local endpoint (start the emulator).
#[test]
fn errors_say_how_to_go_on() {
    let dir = tempfile::tempdir().unwrap();
    let setup = ["--region", "us-east-1", "--model-id", HAIKU, "--input-uri", "s3://a-in/in/", "--output-uri", "s3://a-in/out/", "--role-name", "R"];
    let mut args = vec!["render"];
    args.extend(setup);
    let out = run(bare_command(dir.path()), &args);
    assert_eq!(out.status.code(), Some(3));
    assert!(stderr(&out).contains("--account-id"), "{}", stderr(&out));

    let file = dir.path().join("in.jsonl");
    std::fs::write(&file, "{\"recordId\":\"a\",\"modelInput\":{\"prompt\":\"x\"}}\n").unwrap();
    let out = run(bare_command(dir.path()), &["validate", file.to_str().unwrap(), "--region", "us-east-1", "--model-id", HAIKU]);
    assert_eq!(out.status.code(), Some(3));
    assert!(stderr(&out).contains("--offline"), "{}", stderr(&out));

    let mut cmd = bare_command(dir.path());
    cmd.env("AWS_ACCESS_KEY_ID", "x").env("AWS_SECRET_ACCESS_KEY", "y").env("AWS_ENDPOINT_URL", "http://127.0.0.1:9");
    let out = run(cmd, &["whoami", "--region", "us-east-1", "--max-attempts", "1"]);
    assert_eq!(out.status.code(), Some(3));
    assert!(stderr(&out).contains("scripts/emulator start"), "{}", stderr(&out));
}

/// A cost under a cent reads "< $0.01", and counts take their singular.
#[test]
fn small_costs_and_singular_counts_read_naturally() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("one.jsonl");
    let rec =
        r#"{"recordId":"r1","modelInput":{"anthropic_version":"bedrock-2023-05-31","max_tokens":8,"messages":[{"role":"user","content":"hi"}]}}"#;
    std::fs::write(&file, format!("{rec}\n")).unwrap();
    let out = run(bare_command(dir.path()), &["validate", file.to_str().unwrap(), "--offline", "--region", "us-east-1", "--model-id", HAIKU]);
    let text = stdout(&out);
    assert!(text.contains("1 record on 1 line"), "{text}");
    assert!(text.contains("< $0.01"), "{text}");
    assert!(text.contains("1 error") && !text.contains("1 errors"), "{text}");
}

/// Each command's --help ends with its exit codes and an example.
#[test]
fn help_lists_exit_codes_and_an_example() {
    let dir = tempfile::tempdir().unwrap();
    // Every command the top-level help lists (so a new command cannot be left out).
    let top = stdout(&run(bare_command(dir.path()), &["--help"]));
    let commands: Vec<String> = top
        .lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| !l.trim().is_empty())
        .filter_map(|l| l.split_whitespace().next().map(str::to_string))
        .filter(|c| c != "help")
        .collect();
    assert!(commands.len() >= 16, "{top}");
    for cmd in &commands {
        let out = run(bare_command(dir.path()), &[cmd, "--help"]);
        assert_eq!(out.status.code(), Some(0), "{cmd}");
        let text = stdout(&out);
        assert!(text.contains("Exit codes: ") && text.contains(&format!("Example: bedbatch-doctor {cmd}")), "{cmd}: {text}");
    }
    for sub in ["start", "resume", "status", "collect", "retry", "cancel", "list"] {
        let out = run(bare_command(dir.path()), &["run", sub, "--help"]);
        assert_eq!(out.status.code(), Some(0), "run {sub}");
        let text = stdout(&out);
        assert!(text.contains("Exit codes: ") && text.contains(&format!("Example: bedbatch-doctor run {sub}")), "run {sub}: {text}");
    }
}

/// Runs tests/sarif/validate.py (jsonschema against the OASIS SARIF 2.1.0 schema, which
/// scripts/test fetches) over a file; returns its exit code and output.
fn sarif_validate(path: &std::path::Path) -> (i32, String) {
    let root = project_root();
    let python = root.join(".venv/bin/python");
    assert!(
        python.exists() && root.join("tests/sarif/sarif-2.1.0.json").exists(),
        "run the tests with scripts/test (it installs jsonschema and fetches the SARIF schema)"
    );
    let out = std::process::Command::new(python).arg(root.join("tests/sarif/validate.py")).arg(path).output().unwrap();
    (out.status.code().unwrap(), format!("{}{}", stdout(&out), stderr(&out)))
}

/// Issue 14: `check --output sarif` is SARIF 2.1.0 (validated against the schema): one rule
/// per code, one result per finding with its level, resource and fix; a check that could not
/// run is a tool notification and the run is not successful. The validator is shown to reject
/// a broken document, so the pass means something.
#[test]
fn check_writes_valid_sarif() {
    let dir = tempfile::tempdir().unwrap();
    let root = project_root();
    for (snapshot, exit) in [("walkthrough", 1), ("unreadable", 4), ("healthy", 0)] {
        let snap = root.join(format!("examples/{snapshot}.snapshot.json"));
        let out = run(bare_command(dir.path()), &["check", "--snapshot", snap.to_str().unwrap(), "--output", "sarif"]);
        assert_eq!(out.status.code(), Some(exit), "{snapshot}: {}", stderr(&out));
        let sarif: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{snapshot}: not JSON ({e})"));
        let json_out = run(bare_command(dir.path()), &["check", "--snapshot", snap.to_str().unwrap(), "--output", "json"]);
        let report: serde_json::Value = serde_json::from_slice(&json_out.stdout).unwrap();
        let file = dir.path().join(format!("{snapshot}.sarif"));
        std::fs::write(&file, &out.stdout).unwrap();
        let (code, text) = sarif_validate(&file);
        assert_eq!(code, 0, "{snapshot}: {text}");
        let run0 = &sarif["runs"][0];
        let rules: Vec<&str> = run0["tool"]["driver"]["rules"].as_array().unwrap().iter().map(|r| r["id"].as_str().unwrap()).collect();
        assert!(rules.contains(&"trust-wrong-principal") && rules.contains(&"too-few-records"), "every code is a rule");
        let findings = report["findings"].as_array().unwrap();
        let consequences: usize = findings.iter().map(|f| f["consequences"].as_array().map_or(0, |c| c.len())).sum();
        let results = run0["results"].as_array().unwrap();
        assert_eq!(results.len(), findings.len() + consequences, "{snapshot}");
        for (r, f) in results.iter().zip(findings) {
            assert_eq!(r["ruleId"], f["code"]);
            assert_eq!(r["level"], f["severity"]);
            assert_eq!(r["locations"][0]["logicalLocations"][0]["fullyQualifiedName"], f["resource"]);
            assert!(r["message"]["text"].as_str().unwrap().contains(f["fix"].as_str().unwrap()));
            assert_eq!(rules[r["ruleIndex"].as_u64().unwrap() as usize], r["ruleId"].as_str().unwrap());
        }
        let inv = &run0["invocations"][0];
        assert_eq!(inv["executionSuccessful"], exit != 4, "{snapshot}: {inv:#}");
        assert_eq!(inv["toolExecutionNotifications"].as_array().unwrap().is_empty(), exit != 4, "{snapshot}: {inv:#}");
    }
    let broken = dir.path().join("broken.sarif");
    std::fs::write(&broken, r#"{"version":"2.1.0","runs":[{"tool":{"driver":{}},"results":[{"level":"fatal"}]}]}"#).unwrap();
    assert_eq!(sarif_validate(&broken).0, 1, "the validator rejects a broken document");
    // SARIF is check's alone (output_goes_after_the_command_and_sarif_is_checks).
}

/// A value each shared flag accepts.
fn value_of(flag: &str) -> &'static str {
    match flag {
        "--output" => "json",
        "--retry-mode" => "adaptive",
        "--max-attempts" => "1",
        "--call-timeout" => "5",
        "--region" => "us-east-1",
        _ => "x.json",
    }
}

/// Every command (and run's subcommands) with the arguments it needs to parse.
fn commands() -> Vec<(&'static str, Vec<&'static str>)> {
    vec![
        ("init", vec![]),
        ("whoami", vec![]),
        ("render", vec![]),
        ("simulate", vec!["--principal", "arn:aws:iam::123456789012:user/a", "--action", "s3:GetObject", "--resource", "arn:aws:s3:::b/k"]),
        ("check", vec![]),
        ("snapshot", vec!["-o", "snap.json"]),
        ("plan", vec![]),
        ("apply", vec![]),
        ("rollback", vec![]),
        ("canary", vec![]),
        ("jobs", vec![]),
        ("prepare", vec!["data.csv", "-o", "out.jsonl"]),
        ("validate", vec!["in.jsonl"]),
        // A pasted message (explain_with_a_code_refuses_the_account_flags: a code).
        ("explain", vec!["some message"]),
        ("completions", vec!["bash"]),
        ("man", vec![]),
        ("run start", vec!["in.jsonl"]),
        ("run resume", vec!["run-1"]),
        ("run status", vec![]),
        ("run collect", vec!["run-1", "-o", "out.csv"]),
        ("run retry", vec!["run-1"]),
        ("run cancel", vec!["run-1"]),
        ("run list", vec![]),
    ]
}

/// The long flags a --help lists.
fn listed_flags(help: &str) -> std::collections::BTreeSet<String> {
    help.lines()
        .filter_map(|l| {
            let l = l.trim_start();
            let l = l.strip_prefix("-h, ").or_else(|| l.strip_prefix("-V, ")).or_else(|| l.strip_prefix("-o, ")).unwrap_or(l);
            l.strip_prefix("--").map(|rest| format!("--{}", rest.split([' ', '=']).next().unwrap()))
        })
        .collect()
}

/// Issue 26, item 1: each command takes only the flags it reads. Its --help lists exactly those
/// of the shared flags, and any other is clap's own "unexpected argument" (exit 2), naming it.
#[test]
fn each_command_takes_only_the_flags_it_reads() {
    let dir = tempfile::tempdir().unwrap();
    let all: Vec<&str> = flags::ALL.concat();
    let table = commands();
    // The table covers every command the help lists.
    let names = |args: &[&str]| -> Vec<String> {
        let top = stdout(&run(bare_command(dir.path()), args));
        top.lines()
            .skip_while(|l| !l.starts_with("Commands:"))
            .skip(1)
            .take_while(|l| !l.trim().is_empty())
            .filter_map(|l| l.split_whitespace().next().map(str::to_string))
            .filter(|c| c != "help")
            .collect()
    };
    let mut listed: Vec<String> = names(&["--help"]).into_iter().filter(|c| c != "run").collect();
    listed.extend(names(&["run", "--help"]).into_iter().map(|s| format!("run {s}")));
    let mut covered: Vec<String> = table.iter().map(|(c, _)| c.to_string()).collect();
    listed.sort();
    covered.sort();
    assert_eq!(listed, covered, "a command missing from the table");

    for (command, args) in &table {
        let path: Vec<&str> = command.split(' ').collect();
        let takes = flags::taken_by(command);
        let help = stdout(&run(bare_command(dir.path()), &[path.as_slice(), &["--help"]].concat()));
        let shared: Vec<String> = listed_flags(&help).into_iter().filter(|f| all.contains(&f.as_str())).collect();
        let mut want: Vec<String> = takes.iter().map(|f| f.to_string()).collect();
        want.sort();
        assert_eq!(shared, want, "{command} --help:\n{help}");
        for flag in all.iter().filter(|f| !takes.contains(f)) {
            let line = [path.as_slice(), args.as_slice(), &[flag, value_of(flag)]].concat();
            let out = run(bare_command(dir.path()), &line);
            assert_eq!(out.status.code(), Some(2), "{line:?}: {}", stderr(&out));
            assert!(stderr(&out).contains(&format!("unexpected argument '{flag}'")), "{line:?}: {}", stderr(&out));
            assert!(stdout(&out).is_empty(), "{line:?}: {}", stdout(&out));
        }
    }
    // The ones the issue names.
    for (line, flag) in [
        (&["run", "collect", "RUN", "-o", "x.csv", "--scp", "x.json"][..], "--scp"),
        (&["run", "collect", "RUN", "-o", "x.csv", "--kms-key-id", "k"][..], "--kms-key-id"),
        (&["completions", "bash", "--region", "us-east-1"][..], "--region"),
        (&["prepare", "d.csv", "-o", "o.jsonl", "--endpoint-url", "http://127.0.0.1:9"][..], "--endpoint-url"),
        (&["init", "--caller-arn", "arn:aws:iam::123456789012:user/a"][..], "--caller-arn"),
    ] {
        let out = run(bare_command(dir.path()), line);
        assert_eq!(out.status.code(), Some(2), "{line:?}");
        assert!(stderr(&out).contains(&format!("unexpected argument '{flag}'")), "{line:?}: {}", stderr(&out));
    }
}

/// `explain CODE` reads no settings, AWS or organization flag (only a pasted message checks the
/// account): given one, it is refused as clap refuses a conflict (exit 2, naming it).
#[test]
fn explain_with_a_code_refuses_the_account_flags() {
    let dir = tempfile::tempdir().unwrap();
    for &flag in flags::ALL.concat().iter().filter(|f| **f != "--output") {
        let out = run(bare_command(dir.path()), &["explain", "trust-wrong-principal", flag, value_of(flag)]);
        assert_eq!(out.status.code(), Some(2), "{flag}: {}", stderr(&out));
        assert!(stderr(&out).contains(&format!("the argument '{flag}' cannot be used with a finding code")), "{flag}: {}", stderr(&out));
        assert!(stdout(&out).is_empty(), "{flag}");
    }
    // --output is read for a code too; AWS_PROFILE in the environment is not a flag given.
    let mut cmd = bare_command(dir.path());
    cmd.env("AWS_PROFILE", "someone");
    let out = run(cmd, &["explain", "trust-wrong-principal", "--output", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["code"], "trust-wrong-principal");
    // A message takes them (the account is not reachable here: said, not an error).
    let out = run(
        bare_command(dir.path()),
        &[
            "explain",
            "is not authorized to perform: iam:PassRole",
            "--region",
            "us-east-1",
            "--max-attempts",
            "1",
            "--scp",
            "x.json",
            "--output",
            "json",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["checked"], false, "{v:#}");
}

/// `--output` is the command's own flag: before the command it is clap's error (exit 2), and
/// only `check` takes sarif.
#[test]
fn output_goes_after_the_command_and_sarif_is_checks() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(bare_command(dir.path()), &["--output", "json", "explain", "bucket-missing"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("unexpected argument '--output'"), "{}", stderr(&out));
    for line in [&["explain", "bucket-missing"][..], &["whoami"][..], &["run", "list"][..]] {
        let out = run(bare_command(dir.path()), &[line, &["--output", "sarif"]].concat());
        assert_eq!(out.status.code(), Some(2), "{line:?}");
        assert!(stderr(&out).contains("invalid value 'sarif' for '--output <OUTPUT>'"), "{line:?}: {}", stderr(&out));
        assert!(stderr(&out).contains("[possible values: text, json]"), "{line:?}: {}", stderr(&out));
    }
    let help = stdout(&run(bare_command(dir.path()), &["check", "--help"]));
    assert!(help.contains("sarif: SARIF 2.1.0"), "{help}");
}

/// Issue 26, item 1: a command in a mode that reads none of some of its flags refuses them, as
/// clap refuses a conflict (exit 2, naming the flag and the mode): `check --snapshot` (the
/// snapshot's own settings, no AWS call), `simulate` from policy files, `validate --offline` on a
/// local file, `render --account-id`. The same flags in the mode that reads them are taken.
#[test]
fn modes_that_read_no_account_refuse_its_flags() {
    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("p.json");
    std::fs::write(&policy, r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}"#).unwrap();
    let records = dir.path().join("in.jsonl");
    std::fs::write(
        &records,
        r#"{"recordId":"r1","modelInput":{"anthropic_version":"bedrock-2023-05-31","max_tokens":100,"messages":[{"role":"user","content":"hi"}]}}"#,
    )
    .unwrap();
    let snapshot = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/walkthrough.snapshot.json");
    let policy = policy.to_str().unwrap();
    let records = records.to_str().unwrap();
    let simulate = |extra: &[&'static str]| -> Vec<String> {
        let mut v: Vec<String> =
            ["simulate", "--principal", "arn:aws:iam::123456789012:user/a", "--action", "s3:GetObject", "--resource", "arn:aws:s3:::b/k"]
                .map(String::from)
                .to_vec();
        v.extend(extra.iter().map(|s| s.to_string()));
        v
    };
    let with_policy = [simulate(&[]), vec!["--policy".into(), policy.into()]].concat();
    let service = [
        "simulate",
        "--principal",
        "bedrock.amazonaws.com",
        "--action",
        "sts:AssumeRole",
        "--resource",
        "arn:aws:iam::123456789012:role/R",
        "--resource-policy",
        policy,
    ]
    .map(String::from)
    .to_vec();
    let anonymous =
        ["simulate", "--principal", "anonymous", "--action", "s3:GetObject", "--resource", "arn:aws:s3:::b/k", "--resource-policy", policy]
            .map(String::from)
            .to_vec();
    let all = flags::ALL.concat();
    let account = |f: &&str| !flags::OUTPUT.contains(f);
    let cases: Vec<(Vec<String>, Vec<&str>, &str)> = vec![
        (
            ["check", "--snapshot", snapshot].map(String::from).to_vec(),
            all.iter().copied().filter(account).collect(),
            "cannot be used with '--snapshot'",
        ),
        (with_policy, [flags::CONFIG, flags::REGION, flags::PROFILE, flags::AWS].concat(), "cannot be used with '--policy'"),
        (service, [flags::CONFIG, flags::REGION, flags::PROFILE, flags::AWS].concat(), "cannot be used with a service principal"),
        (
            anonymous,
            [flags::CONFIG, flags::REGION, flags::PROFILE, flags::AWS].concat(),
            "cannot be used with '--principal anonymous' and '--resource-policy'",
        ),
        (["validate", records, "--offline"].map(String::from).to_vec(), flags::AWS.to_vec(), "cannot be used with '--offline' and a local file"),
        (["render", "--account-id", "123456789012"].map(String::from).to_vec(), flags::AWS.to_vec(), "cannot be used with '--account-id'"),
    ];
    for (line, refused, says) in &cases {
        for flag in refused {
            let full: Vec<&str> = line.iter().map(String::as_str).chain([*flag, value_of(flag)]).collect();
            let out = run(bare_command(dir.path()), &full);
            assert_eq!(out.status.code(), Some(2), "{full:?}: {}", stderr(&out));
            assert!(stderr(&out).contains(&format!("the argument '{flag}' {says}")), "{full:?}: {}", stderr(&out));
            assert!(stdout(&out).is_empty(), "{full:?}");
        }
    }
    // The modes themselves run; AWS_PROFILE in the environment is not a flag given, and the flags
    // the mode reads are taken (--output everywhere, --profile for the region's fallback).
    let mut cmd = bare_command(dir.path());
    cmd.env("AWS_PROFILE", "someone");
    let out = run(cmd, &["check", "--snapshot", snapshot, "--output", "json"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let line: Vec<&str> = cases[1].0.iter().map(String::as_str).chain(["--output", "json"]).collect();
    let out = run(bare_command(dir.path()), &line);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let out = run(
        bare_command(dir.path()),
        &["validate", records, "--offline", "--profile", "p", "--region", "us-east-1", "--model-id", "anthropic.claude-3-haiku-20240307-v1:0"],
    );
    assert!(matches!(out.status.code(), Some(0 | 1)), "{}", stderr(&out));
    assert!(stdout(&out).contains("r1") || stdout(&out).contains("record"), "{}", stdout(&out));
    // The modes that reach the account take the same flags: an s3:// source, a principal's own
    // policies read online (nothing answers at 127.0.0.1:9: AWS unreachable, exit 3, not 2).
    for line in [
        &["validate", "s3://b/in.jsonl", "--offline", "--region", "us-east-1", "--model-id", "anthropic.claude-3-haiku-20240307-v1:0"][..],
        &simulate(&["--region", "us-east-1"]).iter().map(String::as_str).collect::<Vec<_>>()[..],
    ] {
        let full: Vec<&str> = line.iter().copied().chain(["--endpoint-url", "http://127.0.0.1:9", "--max-attempts", "1"]).collect();
        let out = run(bare_command(dir.path()), &full);
        assert!(!stderr(&out).contains("cannot be used with"), "{full:?}: {}", stderr(&out));
        assert_ne!(out.status.code(), Some(2), "{full:?}: {}", stderr(&out));
    }
}
