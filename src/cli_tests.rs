//! The unit cases of `cli.rs`: the flag groups each command takes, assembled into `GlobalArgs`.

use super::*;

fn parse(line: &[&str]) -> Cli {
    Cli::try_parse_args(std::iter::once("bedbatch-doctor").chain(line.iter().copied())).unwrap_or_else(|e| panic!("{line:?}: {e}"))
}

#[test]
fn the_definitions_are_consistent() {
    <Cli as clap::CommandFactory>::command().debug_assert();
}

/// A group a command does not take keeps the defaults a command that takes it gets from clap.
#[test]
fn absent_groups_are_their_defaults() {
    let taken = parse(&["whoami"]).global();
    let absent = parse(&["completions", "bash"]).global();
    for g in [&taken, &absent, &parse(&["prepare", "d.csv", "-o", "o.jsonl"]).global()] {
        assert_eq!((g.retry_mode, g.max_attempts, g.call_timeout, g.output), (RetryMode::Standard, 3, 30, OutputFormat::Text));
        assert!(g.endpoint_url.is_none() && g.config.is_none() && g.scp.is_empty() && g.rcp.is_empty());
    }
    let d = AwsFlags::default();
    assert_eq!((d.retry_mode, d.max_attempts, d.call_timeout), (taken.retry_mode, taken.max_attempts, taken.call_timeout));
}

#[test]
fn the_flags_given_reach_the_commands() {
    let line = "check --output sarif --config c.toml --region eu-west-1 --model-id m --input-uri s3://a/i/ --output-uri s3://a/o/ \
                --role-name R --role-path /p/ --kms-key-id k --caller-arn arn --profile p --endpoint-url http://e \
                --retry-mode adaptive --max-attempts 5 --call-timeout 9 --scp root=s.json --rcp r.json";
    let g = parse(&line.split_whitespace().collect::<Vec<_>>()).global();
    assert_eq!(g.output, OutputFormat::Sarif);
    assert_eq!(
        (
            g.config.unwrap(),
            g.overrides.region.unwrap(),
            g.overrides.model_id.unwrap(),
            g.overrides.input_uri.unwrap(),
            g.overrides.output_uri.unwrap()
        ),
        (PathBuf::from("c.toml"), "eu-west-1".into(), "m".into(), "s3://a/i/".into(), "s3://a/o/".into())
    );
    assert_eq!(
        (g.overrides.role_name.unwrap(), g.overrides.role_path.unwrap(), g.overrides.kms_key_id.unwrap(), g.overrides.caller_arn.unwrap()),
        ("R".into(), "/p/".into(), "k".into(), "arn".into())
    );
    assert_eq!((g.profile.unwrap(), g.endpoint_url.unwrap()), ("p".into(), "http://e".into()));
    assert_eq!((g.retry_mode, g.max_attempts, g.call_timeout), (RetryMode::Adaptive, 5, 9));
    assert_eq!((g.scp, g.rcp), (vec![PathBuf::from("root=s.json")], vec![PathBuf::from("r.json")]));
    let g = parse(&["init", "--config", "c.toml", "--output", "json"]).global();
    assert_eq!((g.config, g.output), (Some(PathBuf::from("c.toml")), OutputFormat::Json));
    let g = parse(&["prepare", "d.csv", "-o", "o.jsonl", "--model-id", "m", "--region", "us-east-1", "--profile", "p"]).global();
    assert_eq!((g.overrides.model_id.unwrap(), g.overrides.region.unwrap(), g.profile.unwrap()), ("m".into(), "us-east-1".into(), "p".into()));
    let g = parse(&["run", "status", "--role-path", "/x/", "--max-attempts", "2"]).global();
    assert_eq!((g.overrides.role_path.unwrap(), g.max_attempts), ("/x/".into(), 2));
}
