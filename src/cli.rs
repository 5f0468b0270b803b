//! Command-line definitions (clap derive).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(
    name = "bedbatch-doctor",
    version = crate::catalogue::VERSION_LINE,
    about = "Set up and diagnose Amazon Bedrock batch inference (CreateModelInvocationJob)",
    long_about = None
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum OutputFormat {
    /// Readable text.
    #[default]
    Text,
    /// JSON for machines (schema in the README).
    Json,
    /// SARIF 2.1.0, for code-scanning dashboards (check only).
    Sarif,
}

/// The formats of every command that prints, but `check` (which also has SARIF).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum TextOrJson {
    /// Readable text.
    #[default]
    Text,
    /// JSON for machines (schema in the README).
    Json,
}

impl From<TextOrJson> for OutputFormat {
    fn from(f: TextOrJson) -> Self {
        match f {
            TextOrJson::Text => OutputFormat::Text,
            TextOrJson::Json => OutputFormat::Json,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum RetryMode {
    /// The SDK's standard mode: exponential backoff with jitter on throttling and 5xx.
    #[default]
    Standard,
    /// Standard plus client-side rate limiting after throttling.
    Adaptive,
}

// The flags a command takes come in groups, each flattened into exactly the commands that
// read it (README, "Which flags each command takes"); a flag a command does not read is clap's
// own "unexpected argument" (exit 2). The commands see them assembled as one [`GlobalArgs`].

/// `--output` of every command that prints (text or JSON).
#[derive(Debug, Args, Clone, Copy, Default)]
pub struct OutputFlag {
    /// Output format
    #[arg(long, value_enum, default_value_t = TextOrJson::Text)]
    pub output: TextOrJson,
}

/// `--output` of `check`: also SARIF.
#[derive(Debug, Args, Clone, Copy, Default)]
pub struct CheckOutputFlag {
    /// Output format
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    pub output: OutputFormat,
}

/// `--config` alone (`init`, which writes the file there).
#[derive(Debug, Args, Clone, Default)]
pub struct ConfigFlag {
    /// Settings file [default: ./bedbatch.toml when it exists]
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
}

/// The settings file and the region: what every command that reads the settings takes (those
/// that only call AWS: whoami, simulate, rollback, jobs).
#[derive(Debug, Args, Clone, Default)]
#[command(next_help_heading = "Settings")]
pub struct RegionSettings {
    #[command(flatten)]
    pub config: ConfigFlag,
    /// Region the jobs run in (setting `region`)
    #[arg(long)]
    pub region: Option<String>,
}

/// The settings file, the region and the model (prepare, validate).
#[derive(Debug, Args, Clone, Default)]
#[command(next_help_heading = "Settings")]
pub struct ModelSettings {
    #[command(flatten)]
    pub region: RegionSettings,
    /// Foundation model id, inference profile id, or an ARN of either (setting `model_id`)
    #[arg(long)]
    pub model_id: Option<String>,
}

/// The settings of a job: the model, its input and output folders and the service role (the
/// run commands that do not check the account).
#[derive(Debug, Args, Clone, Default)]
#[command(next_help_heading = "Settings")]
pub struct JobSettings {
    #[command(flatten)]
    pub model: ModelSettings,
    /// S3 folder or .jsonl object holding the input (setting `input_uri`)
    #[arg(long, value_name = "S3_URI")]
    pub input_uri: Option<String>,
    /// S3 folder Bedrock writes results to (setting `output_uri`)
    #[arg(long, value_name = "S3_URI")]
    pub output_uri: Option<String>,
    /// The service role Bedrock assumes (setting `role_name`)
    #[arg(long)]
    pub role_name: Option<String>,
    /// The service role's IAM path (setting `role_path`, default "/")
    #[arg(long)]
    pub role_path: Option<String>,
}

/// Every setting: a job's, the buckets' KMS key and who submits the jobs (the commands that
/// render the documents or check the account).
#[derive(Debug, Args, Clone, Default)]
#[command(next_help_heading = "Settings")]
pub struct SettingsFlags {
    #[command(flatten)]
    pub job: JobSettings,
    /// KMS key id or ARN of the buckets' encryption (setting `kms_key_id`)
    #[arg(long)]
    pub kms_key_id: Option<String>,
    /// Who submits jobs and needs iam:PassRole (setting `caller_arn`; default: the caller)
    #[arg(long, value_name = "ARN")]
    pub caller_arn: Option<String>,
}

/// The settings flags of one command, whichever group it takes.
pub trait SettingsGroup {
    fn apply(&self, g: GlobalArgs) -> GlobalArgs;
}

impl SettingsGroup for ConfigFlag {
    fn apply(&self, g: GlobalArgs) -> GlobalArgs {
        GlobalArgs { config: self.config.clone(), ..g }
    }
}

impl SettingsGroup for RegionSettings {
    fn apply(&self, g: GlobalArgs) -> GlobalArgs {
        let mut g = self.config.apply(g);
        g.overrides.region = self.region.clone();
        g
    }
}

impl SettingsGroup for ModelSettings {
    fn apply(&self, g: GlobalArgs) -> GlobalArgs {
        let mut g = self.region.apply(g);
        g.overrides.model_id = self.model_id.clone();
        g
    }
}

impl SettingsGroup for JobSettings {
    fn apply(&self, g: GlobalArgs) -> GlobalArgs {
        let mut g = self.model.apply(g);
        let o = &mut g.overrides;
        o.input_uri = self.input_uri.clone();
        o.output_uri = self.output_uri.clone();
        o.role_name = self.role_name.clone();
        o.role_path = self.role_path.clone();
        g
    }
}

impl SettingsGroup for SettingsFlags {
    fn apply(&self, g: GlobalArgs) -> GlobalArgs {
        let mut g = self.job.apply(g);
        g.overrides.kms_key_id = self.kms_key_id.clone();
        g.overrides.caller_arn = self.caller_arn.clone();
        g
    }
}

/// `--profile` alone: the settings read it for the region fallback (`prepare`, which makes no
/// AWS call); with the AWS flags in [`AwsFlags`].
#[derive(Debug, Args, Clone, Default)]
#[command(next_help_heading = "AWS")]
pub struct ProfileFlag {
    /// AWS profile (else AWS_PROFILE, else the default profile)
    #[arg(long, env = "AWS_PROFILE", hide_env_values = true)]
    pub profile: Option<String>,
}

/// How AWS is called (every command that makes AWS calls, `session::connect`).
#[derive(Debug, Args, Clone)]
#[command(next_help_heading = "AWS")]
pub struct AwsFlags {
    #[command(flatten)]
    pub profile: ProfileFlag,
    /// Send every AWS call to this endpoint (else AWS_ENDPOINT_URL)
    #[arg(long, value_name = "URL")]
    pub endpoint_url: Option<String>,
    /// How AWS calls are retried: standard (exponential backoff with jitter) or adaptive (also
    /// rate-limits the client after throttling)
    #[arg(long, value_enum, default_value_t = RetryMode::Standard)]
    pub retry_mode: RetryMode,
    /// Attempts per AWS call, the first included (1 = no retry)
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..=20))]
    pub max_attempts: u32,
    /// Seconds one attempt of an AWS call may take before it is abandoned (and retried)
    #[arg(long, default_value_t = 30, value_name = "SECS", value_parser = clap::value_parser!(u64).range(1..=600))]
    pub call_timeout: u64,
}

impl Default for AwsFlags {
    fn default() -> Self {
        let g = GlobalArgs::default();
        AwsFlags {
            profile: ProfileFlag::default(),
            endpoint_url: None,
            retry_mode: g.retry_mode,
            max_attempts: g.max_attempts,
            call_timeout: g.call_timeout,
        }
    }
}

/// The organization's policies given as files (every command that runs the account check,
/// `session::org_files`, and `simulate`).
#[derive(Debug, Args, Clone, Default)]
#[command(next_help_heading = "Organization policies")]
pub struct OrgFlags {
    /// A service control policy (JSON file) that binds the account, for when AWS Organizations
    /// cannot be read; repeatable, at a level: root=FILE, ou=FILE (one OU each, root first),
    /// account=FILE (a bare FILE is account level); every level must allow. Given, they replace
    /// the Organizations read
    #[arg(long = "scp", value_name = "[LEVEL=]FILE")]
    pub scp: Vec<PathBuf>,
    /// A resource control policy (JSON file) that binds the account's resources; repeatable,
    /// at a level as --scp
    #[arg(long = "rcp", value_name = "[LEVEL=]FILE")]
    pub rcp: Vec<PathBuf>,
}

/// What the commands read of the flags above, assembled from the command given (see
/// [`Cli::global`]); a group the command does not take keeps its defaults (no settings
/// overrides, no AWS profile or endpoint, standard retries, 3 attempts, 30 s, text output).
#[derive(Debug, Clone)]
pub struct GlobalArgs {
    pub config: Option<PathBuf>,
    pub profile: Option<String>,
    pub endpoint_url: Option<String>,
    pub output: OutputFormat,
    pub retry_mode: RetryMode,
    pub max_attempts: u32,
    pub call_timeout: u64,
    /// The settings given as flags, each winning over the settings file.
    pub overrides: crate::settings::Overrides,
    pub scp: Vec<PathBuf>,
    pub rcp: Vec<PathBuf>,
}

impl Default for GlobalArgs {
    fn default() -> Self {
        GlobalArgs {
            config: None,
            profile: None,
            endpoint_url: None,
            output: OutputFormat::Text,
            retry_mode: RetryMode::Standard,
            max_attempts: 3,
            call_timeout: 30,
            overrides: crate::settings::Overrides::default(),
            scp: vec![],
            rcp: vec![],
        }
    }
}

impl GlobalArgs {
    fn output(mut self, o: impl Into<OutputFormat>) -> Self {
        self.output = o.into();
        self
    }

    fn settings(self, s: &impl SettingsGroup) -> Self {
        s.apply(self)
    }

    fn profile(mut self, p: &ProfileFlag) -> Self {
        self.profile = p.profile.clone();
        self
    }

    fn aws(self, a: &AwsFlags) -> Self {
        let AwsFlags { profile, endpoint_url, retry_mode, max_attempts, call_timeout } = a.clone();
        GlobalArgs { endpoint_url, retry_mode, max_attempts, call_timeout, ..self.profile(&profile) }
    }

    fn org(mut self, o: &OrgFlags) -> Self {
        self.scp = o.scp.clone();
        self.rcp = o.rcp.clone();
        self
    }

    /// Output, settings and AWS flags: what every command that talks to AWS takes.
    fn account(self, o: &OutputFlag, s: &impl SettingsGroup, a: &AwsFlags) -> Self {
        self.output(o.output).settings(s).aws(a)
    }
}

impl Cli {
    /// The flags the command was given, as the commands read them.
    pub fn global(&self) -> GlobalArgs {
        let g = GlobalArgs::default();
        match &self.command {
            Command::Init { output, config, .. } => g.output(output.output).settings(config),
            Command::Whoami { output, settings, aws } => g.account(output, settings, aws),
            Command::Render(a) => g.account(&a.output, &a.settings, &a.aws),
            Command::Simulate(a) => g.account(&a.output, &a.settings, &a.aws).org(&a.org),
            Command::Check { output, settings, aws, org, .. } => g.output(output.output).settings(settings).aws(aws).org(org),
            Command::Snapshot { output, settings, aws, org, .. } => g.account(output, settings, aws).org(org),
            Command::Plan { output, settings, aws, .. } => g.account(output, settings, aws),
            Command::Apply { output, settings, aws, org, .. } => g.account(output, settings, aws).org(org),
            Command::Rollback { output, settings, aws, .. } => g.account(output, settings, aws),
            Command::Canary(a) => g.account(&a.output, &a.settings, &a.aws).org(&a.org),
            Command::Jobs { output, settings, aws, .. } => g.account(output, settings, aws),
            Command::Run(run) => match run {
                RunCommand::Start(a) => g.account(&a.output, &a.settings, &a.aws).org(&a.org),
                RunCommand::Resume { output, settings, aws, .. }
                | RunCommand::Status { output, settings, aws, .. }
                | RunCommand::Collect { output, settings, aws, .. }
                | RunCommand::Cancel { output, settings, aws, .. }
                | RunCommand::List { output, settings, aws, .. } => g.account(output, settings, aws),
                RunCommand::Retry { output, settings, aws, org, .. } => g.account(output, settings, aws).org(org),
            },
            Command::Prepare(a) => g.output(a.output.output).settings(&a.settings).profile(&a.profile),
            Command::Validate(a) => g.account(&a.output, &a.settings, &a.aws),
            Command::Explain { output, settings, aws, org, .. } => g.account(output, settings, aws).org(org),
            Command::Completions { .. } | Command::Man => g,
        }
    }
}

// Parsed once per process: the variants' sizes do not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Write a commented starter bedbatch.toml (never overwrites one)
    #[command(
        after_help = "Exit codes: 0 written; 2 FILE exists (never overwritten) or cannot be written.\n\nExample: bedbatch-doctor init bedbatch.toml"
    )]
    Init {
        /// Where to write it [default: the --config path, else ./bedbatch.toml]
        #[arg(value_name = "FILE")]
        path: Option<PathBuf>,
        #[command(flatten)]
        output: OutputFlag,
        #[command(flatten)]
        config: ConfigFlag,
    },
    /// Print the caller's identity (sts:GetCallerIdentity)
    #[command(
        after_help = "Exit codes: 0 answered; 2 a bad setting; 3 no credentials or AWS unreachable.\n\nExample: bedbatch-doctor whoami --profile batch"
    )]
    Whoami {
        #[command(flatten)]
        output: OutputFlag,
        #[command(flatten)]
        settings: RegionSettings,
        #[command(flatten)]
        aws: AwsFlags,
    },
    /// Render the policy documents a batch setup needs
    #[command(
        after_help = "Exit codes: 0 rendered; 2 a bad setting, flag or template; 3 no credentials or AWS unreachable (offline: give --account-id).\n\nExample: bedbatch-doctor render --config bedbatch.toml --document role-policy > role-policy.json"
    )]
    Render(RenderArgs),
    /// May PRINCIPAL do ACTION on RESOURCE? Offline IAM evaluation with a trace of why
    #[command(
        after_help = "Exit codes: 0 allowed; 1 denied; 2 bad input (a malformed policy file names the statement and field).\n\nExample: bedbatch-doctor simulate --principal arn:aws:iam::123456789012:user/analyst --action iam:PassRole --resource arn:aws:iam::123456789012:role/R --context iam:PassedToService=bedrock.amazonaws.com --policy passrole.json"
    )]
    Simulate(SimulateArgs),
    /// Name every reason a batch job would fail, with evidence and the exact fix
    #[command(
        after_help = "Exit codes: 0 no error; 1 errors found; 2 usage or settings error; 3 AWS unreachable or no credentials; 4 incomplete (a check could not run and nothing failed).\n\nExample: bedbatch-doctor check --config bedbatch.toml --output json"
    )]
    Check {
        /// Check a saved snapshot offline instead of the live account
        #[arg(long, value_name = "FILE")]
        snapshot: Option<PathBuf>,
        #[command(flatten)]
        output: CheckOutputFlag,
        #[command(flatten)]
        settings: SettingsFlags,
        #[command(flatten)]
        aws: AwsFlags,
        #[command(flatten)]
        org: OrgFlags,
    },
    /// Save the live state check reads as versioned JSON
    #[command(
        after_help = "Exit codes: 0 written; 2 FILE exists (--force) or a bad setting; 3 no credentials or AWS unreachable. A read that fails is kept in the file as unknown, not an error.\n\nExample: bedbatch-doctor snapshot -o snap.json --redact"
    )]
    Snapshot {
        /// Where to write it (refuses to overwrite an existing file without --force)
        #[arg(short = 'o', long = "out", value_name = "FILE")]
        out: PathBuf,
        /// Replace the account id, names and ARNs consistently, for sharing
        #[arg(long)]
        redact: bool,
        /// Overwrite FILE if it exists
        #[arg(long)]
        force: bool,
        #[command(flatten)]
        output: OutputFlag,
        #[command(flatten)]
        settings: SettingsFlags,
        #[command(flatten)]
        aws: AwsFlags,
        #[command(flatten)]
        org: OrgFlags,
    },
    /// Compare the rendered documents with the live ones: create / update / unchanged, with diffs
    #[command(
        after_help = "Exit codes: 0 planned; with --detailed-exitcode 0 nothing to do, 2 changes pending, 1 error; 2 usage or settings error; 3 AWS unreachable.\n\nExample: bedbatch-doctor plan --config bedbatch.toml --detailed-exitcode"
    )]
    Plan {
        /// Exit 0 when there is nothing to do, 2 when changes are pending, 1 on error
        #[arg(long)]
        detailed_exitcode: bool,
        /// After each change's diff, print the document to write exactly as it will be sent
        #[arg(long)]
        show_documents: bool,
        #[command(flatten)]
        output: OutputFlag,
        #[command(flatten)]
        settings: SettingsFlags,
        #[command(flatten)]
        aws: AwsFlags,
    },
    /// Set the account up: print the plan and every policy it will write, confirm, write
    #[command(
        after_help = "Exit codes: 0 every write succeeded (run check for the verdict); 2 refused (no terminal and no --yes, or a caller that does not exist); 3 a write failed part way (it lists what was done; run apply again, or rollback).\n\nExample: bedbatch-doctor apply --config bedbatch.toml --yes"
    )]
    Apply {
        /// Do not ask for confirmation (needed when standard input is not a terminal)
        #[arg(long)]
        yes: bool,
        /// Print the plan and the documents, change nothing
        #[arg(long)]
        dry_run: bool,
        /// After each change's diff (which already shows the whole document), print the document
        /// exactly as it will be sent
        #[arg(long)]
        show_documents: bool,
        /// Where to back up what apply replaces [default: $XDG_STATE_HOME or ~/.local/state, /bedbatch-doctor/backups]
        #[arg(long, value_name = "DIR")]
        backup_dir: Option<PathBuf>,
        #[command(flatten)]
        output: OutputFlag,
        #[command(flatten)]
        settings: SettingsFlags,
        #[command(flatten)]
        aws: AwsFlags,
        #[command(flatten)]
        org: OrgFlags,
    },
    /// Undo an apply from its backup: restore what it replaced, delete what it created
    #[command(
        after_help = "Exit codes: 0 restored (or nothing to restore); 2 refused (no terminal and no --yes) or no backup found; 3 a write failed part way (run rollback again).\n\nExample: bedbatch-doctor rollback --yes"
    )]
    Rollback {
        /// The backup folder [default: the most recent one]
        #[arg(value_name = "BACKUP")]
        backup: Option<PathBuf>,
        /// Do not ask for confirmation
        #[arg(long)]
        yes: bool,
        /// The folder holding the backups
        #[arg(long, value_name = "DIR")]
        backup_dir: Option<PathBuf>,
        #[command(flatten)]
        output: OutputFlag,
        #[command(flatten)]
        settings: RegionSettings,
        #[command(flatten)]
        aws: AwsFlags,
    },
    /// Prove the whole path with a tiny real batch job, verified end to end
    #[command(
        after_help = "Exit codes: 0 verified; 1 the job failed or its output did not verify (the cause is mapped to codes); 2 refused or bad settings; 3 AWS unreachable; 130 interrupted.\n\nExample: bedbatch-doctor canary --config bedbatch.toml --yes"
    )]
    Canary(CanaryArgs),
    /// List recent batch jobs with status, record counts and the cause of failures
    #[command(
        after_help = "Exit codes: 0 listed; 2 a bad setting; 3 no credentials or AWS unreachable.\n\nExample: bedbatch-doctor jobs --max 50 --output json"
    )]
    Jobs {
        /// How many jobs
        #[arg(long, default_value_t = 20)]
        max: i32,
        #[command(flatten)]
        output: OutputFlag,
        #[command(flatten)]
        settings: RegionSettings,
        #[command(flatten)]
        aws: AwsFlags,
    },
    /// Run a whole dataset: shard it within the quotas, submit, keep the quota full, collect, retry
    #[command(
        subcommand,
        after_help = "Exit codes: each subcommand lists its own (run start --help).\n\nExample: bedbatch-doctor run start prompts.jsonl --yes"
    )]
    Run(RunCommand),
    /// Turn a table (CSV, TSV, JSONL, Parquet) and a prompt into batch records for the model
    #[command(
        after_help = "Exit codes: 0 written (every record passes validate's rules); 1 the records break validate's rules (nothing is written); 2 bad input: a template naming a missing column, a template syntax error, a broken row, duplicate or empty ids, OUT exists (--force).\n\nExample: bedbatch-doctor prepare reviews.csv --prompt-text 'Classify: {{review}}' --model-id us.anthropic.claude-haiku-4-5-20251001-v1:0 -o records.jsonl"
    )]
    Prepare(PrepareArgs),
    /// Check a JSONL input file (local or s3://) before submitting it
    #[command(
        after_help = "Exit codes: 0 no errors; 1 errors found; 2 bad input or settings; 3 AWS unreachable or no credentials (for a local file: --offline).\n\nExample: bedbatch-doctor validate requests.jsonl --model-id us.anthropic.claude-haiku-4-5-20251001-v1:0 --offline"
    )]
    Validate(ValidateArgs),
    /// Explain a finding code, or map a pasted AWS error message to codes
    #[command(
        after_help = "The Settings, AWS and Organization policies flags are read for a MESSAGE only (explain then checks the account); with a CODE they are refused.\n\nExit codes: 0 explained; 2 an unknown code, a message no known cause matches, or a Settings, AWS or Organization policies flag given with a CODE.\n\nExample: bedbatch-doctor explain 'User: arn:aws:iam::123456789012:user/a is not authorized to perform: iam:PassRole'"
    )]
    Explain {
        /// A code (trust-wrong-principal) or an error message in quotes
        #[arg(value_name = "CODE_OR_MESSAGE")]
        what: String,
        #[command(flatten)]
        output: OutputFlag,
        #[command(flatten)]
        settings: SettingsFlags,
        #[command(flatten)]
        aws: AwsFlags,
        #[command(flatten)]
        org: OrgFlags,
    },
    /// Print a shell completion script (e.g. `bedbatch-doctor completions bash > /etc/bash_completion.d/bedbatch-doctor`)
    #[command(after_help = "Exit codes: 0 printed; 2 an unknown shell.\n\nExample: bedbatch-doctor completions zsh > ~/.zfunc/_bedbatch-doctor")]
    Completions {
        /// bash, zsh, fish, powershell or elvish
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff) to standard output (e.g. `bedbatch-doctor man | man -l -`)
    #[command(after_help = "Exit codes: 0 printed.\n\nExample: bedbatch-doctor man | man -l -")]
    Man,
}

#[derive(Debug, Args)]
pub struct SimulateArgs {
    /// The principal: an IAM user or role ARN, an assumed-role session ARN, a service principal
    /// such as bedrock.amazonaws.com, or `anonymous` (a request with no principal: only a
    /// resource policy with "Principal": "*" can allow it)
    #[arg(long, value_name = "ARN")]
    pub principal: String,
    /// The action, e.g. iam:PassRole
    #[arg(long)]
    pub action: String,
    /// The resource ARN
    #[arg(long, value_name = "ARN")]
    pub resource: String,
    /// The account owning the resource, when the ARN does not say (S3) [default: the principal's]
    #[arg(long, value_name = "ID")]
    pub resource_account: Option<String>,
    /// A request context value; repeat a key for a multi-valued key
    #[arg(long = "context", value_name = "KEY=VALUE")]
    pub context: Vec<String>,
    /// An identity policy file (repeatable); without any, the principal's policies are read from the account
    #[arg(long = "policy", value_name = "FILE")]
    pub policies: Vec<PathBuf>,
    /// A resource-based policy file (bucket, key or trust policy); online, the bucket policy or
    /// trust policy is read when none is given
    #[arg(long, value_name = "FILE")]
    pub resource_policy: Option<PathBuf>,
    /// A permissions boundary file
    #[arg(long, value_name = "FILE")]
    pub boundary: Option<PathBuf>,
    /// A session policy file
    #[arg(long, value_name = "FILE")]
    pub session_policy: Option<PathBuf>,
    /// The policy of a VPC endpoint on the request's path (it must allow; its Deny denies)
    #[arg(long, value_name = "FILE")]
    pub vpce_policy: Option<PathBuf>,
    #[command(flatten)]
    pub output: OutputFlag,
    #[command(flatten)]
    pub settings: RegionSettings,
    #[command(flatten)]
    pub aws: AwsFlags,
    #[command(flatten)]
    pub org: OrgFlags,
}

#[derive(Debug, Args)]
pub struct RenderArgs {
    /// One document, printed raw: trust-policy, role-policy, passrole-policy, bucket-policy
    #[arg(long, value_name = "NAME", value_parser = ["trust-policy", "role-policy", "passrole-policy", "bucket-policy"])]
    pub document: Option<String>,
    /// With --document bucket-policy when input and output are in two buckets: which bucket
    #[arg(long, value_name = "BUCKET")]
    pub bucket: Option<String>,
    /// Directory of templates overriding the embedded ones (NAME.json.hbs)
    #[arg(long, value_name = "DIR")]
    pub templates: Option<PathBuf>,
    /// Render offline for this account id (else ask STS)
    #[arg(long, value_name = "ID")]
    pub account_id: Option<String>,
    /// What to print: the policy documents, or the whole setup as Terraform (HCL) or a
    /// CloudFormation template (YAML; JSON with --output json)
    #[arg(long, value_enum, default_value_t = RenderFormat::Documents)]
    pub format: RenderFormat,
    /// With --format terraform or cloudformation: also the buckets (encryption, public access blocked)
    #[arg(long)]
    pub with_buckets: bool,
    #[command(flatten)]
    pub output: OutputFlag,
    #[command(flatten)]
    pub settings: SettingsFlags,
    #[command(flatten)]
    pub aws: AwsFlags,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum RenderFormat {
    /// The policy documents
    #[default]
    Documents,
    /// Terraform (HCL for the AWS provider)
    Terraform,
    /// A CloudFormation template
    Cloudformation,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default, serde::Serialize, serde::Deserialize)]
pub enum InvocationType {
    /// The model's native request body (InvokeModel), the CLI's default
    #[default]
    InvokeModel,
    /// The Converse shape
    Converse,
}

/// A table and the prompt each of its rows fills (prepare, run start).
#[derive(Debug, Args, Clone, Default)]
pub struct TableArgs {
    /// The table's format [default: from the extension: .csv, .tsv, .jsonl/.ndjson, .parquet]
    #[arg(long, value_enum)]
    pub format: Option<crate::table::Format>,
    /// The prompt: a handlebars template naming columns ({{Context}}, {{[Column With Spaces]}})
    #[arg(long, value_name = "FILE", conflicts_with = "prompt_text")]
    pub prompt: Option<PathBuf>,
    /// The prompt template given inline
    #[arg(long, value_name = "TEXT")]
    pub prompt_text: Option<String>,
    /// A system prompt template (not for embedding models)
    #[arg(long, value_name = "FILE", conflicts_with = "system_text")]
    pub system: Option<PathBuf>,
    /// The system prompt template given inline
    #[arg(long, value_name = "TEXT")]
    pub system_text: Option<String>,
    /// The column holding each row's recordId (non-empty and unique) [default: r<row number>, r0000000001 first]
    #[arg(long, value_name = "COL")]
    pub id_column: Option<String>,
    /// The request shape: the model's own body, or Converse [default: converse for models with no documented InvokeModel body, else invoke-model]
    #[arg(long, value_enum)]
    pub invocation_type: Option<InvocationType>,
    /// The output ceiling of each answer (not for embedding models) [default: 1024, or the model's ceiling when lower]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub max_tokens: Option<u64>,
    /// Sampling temperature, a number from 0 (not for embedding models) [default: the model's]
    #[arg(long, value_name = "T", value_parser = temperature)]
    pub temperature: Option<f64>,
    /// Nucleus sampling, a probability from 0 to 1 (not for embedding models) [default: the model's]
    #[arg(long, value_name = "P", value_parser = top_p)]
    pub top_p: Option<f64>,
}

#[derive(Debug, Args)]
pub struct PrepareArgs {
    /// The table: .csv, .tsv, .jsonl/.ndjson (flat objects) or .parquet
    #[arg(value_name = "DATA")]
    pub data: PathBuf,
    /// The batch records to write (JSONL)
    #[arg(short = 'o', long = "out", value_name = "OUT.jsonl")]
    pub out: PathBuf,
    /// Replace OUT if it exists (the old file is kept as OUT.bak)
    #[arg(long)]
    pub force: bool,
    #[command(flatten)]
    pub table: TableArgs,
    #[command(flatten)]
    pub output: OutputFlag,
    #[command(flatten)]
    pub settings: ModelSettings,
    #[command(flatten)]
    pub profile: ProfileFlag,
}

impl From<InvocationType> for crate::families::Invocation {
    fn from(t: InvocationType) -> Self {
        match t {
            InvocationType::InvokeModel => crate::families::Invocation::InvokeModel,
            InvocationType::Converse => crate::families::Invocation::Converse,
        }
    }
}

impl From<crate::families::Invocation> for InvocationType {
    fn from(i: crate::families::Invocation) -> Self {
        match i {
            crate::families::Invocation::InvokeModel => InvocationType::InvokeModel,
            crate::families::Invocation::Converse => InvocationType::Converse,
        }
    }
}

#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// A local file or s3://BUCKET/KEY
    #[arg(value_name = "FILE|S3_URI")]
    pub source: String,
    /// Use AWS's default quotas instead of reading the account's
    #[arg(long)]
    pub offline: bool,
    /// The shape of modelInput [default: converse when the first record is unmistakably in the
    /// Converse format or the model has no documented InvokeModel body, else invoke-model]
    #[arg(long, value_enum)]
    pub invocation_type: Option<InvocationType>,
    /// Examples printed per problem
    #[arg(long, default_value_t = 20)]
    pub max_examples: usize,
    /// A price table replacing policies/prices.json
    #[arg(long, value_name = "FILE")]
    pub prices: Option<PathBuf>,
    #[command(flatten)]
    pub output: OutputFlag,
    #[command(flatten)]
    pub settings: ModelSettings,
    #[command(flatten)]
    pub aws: AwsFlags,
}

#[derive(Debug, Args)]
pub struct CanaryArgs {
    /// Do not ask before submitting
    #[arg(long)]
    pub yes: bool,
    /// Keep the input and output objects the canary created
    #[arg(long)]
    pub keep: bool,
    /// First polling interval in milliseconds (doubles up to 5 minutes)
    #[arg(long, default_value_t = 5000, value_name = "MS")]
    pub poll_interval_ms: u64,
    /// The job's modelInvocationType [default: converse for models with no documented InvokeModel body, else invoke-model]
    #[arg(long, value_enum)]
    pub invocation_type: Option<InvocationType>,
    #[command(flatten)]
    pub output: OutputFlag,
    #[command(flatten)]
    pub settings: SettingsFlags,
    #[command(flatten)]
    pub aws: AwsFlags,
    #[command(flatten)]
    pub org: OrgFlags,
}

#[derive(Debug, Args, Clone)]
pub struct RunDrive {
    /// Submit what fits now and return; `run resume` continues (default: stay until every job ends)
    #[arg(long)]
    pub detach: bool,
    /// At most this many of the run's jobs at once (default: the account's concurrency quota)
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub max_concurrent: Option<u64>,
    /// How often to poll the jobs, in milliseconds
    #[arg(long, default_value_t = 60_000, value_name = "MS")]
    pub poll_interval_ms: u64,
    /// Where runs are kept locally [default: $XDG_STATE_HOME or ~/.local/state, /bedbatch-doctor/runs]
    #[arg(long, value_name = "DIR")]
    pub state_dir: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct RunStartArgs {
    /// A local .jsonl file, a local folder of .jsonl files, or an s3:// object or folder (folders: the .jsonl files directly in them, by name); with --prompt or --prompt-text, a local table (.csv, .tsv, .jsonl, .parquet)
    #[arg(value_name = "INPUT")]
    pub input: String,
    #[command(flatten)]
    pub table: TableArgs,
    /// Do not ask before sharding and submitting
    #[arg(long)]
    pub yes: bool,
    /// Do not run the account check before starting (the input is still validated)
    #[arg(long)]
    pub skip_check: bool,
    /// Hours each job may run before it expires (24 to 168; default: Bedrock's, 168)
    #[arg(long, value_name = "HOURS", value_parser = clap::value_parser!(i32).range(24..=168))]
    pub timeout_hours: Option<i32>,
    /// At most N records a job, below the quota (smaller jobs finish sooner); at least the model's minimum
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub records_per_job: Option<u64>,
    /// A price table replacing policies/prices.json
    #[arg(long, value_name = "FILE")]
    pub prices: Option<PathBuf>,
    #[command(flatten)]
    pub drive: RunDrive,
    #[command(flatten)]
    pub output: OutputFlag,
    #[command(flatten)]
    pub settings: SettingsFlags,
    #[command(flatten)]
    pub aws: AwsFlags,
    #[command(flatten)]
    pub org: OrgFlags,
}

#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub enum RunCommand {
    /// Validate, check, shard, upload and submit a dataset, then keep the quota full until every job ends
    #[command(
        after_help = "Exit codes: 0 every record has output; 1 the input has errors, or jobs or records failed (see run status, run retry); 2 refused or bad input; 3 AWS unreachable; 4 the account check could not run (--skip-check); 130 interrupted (the jobs go on: run resume).\n\nExample: bedbatch-doctor run start prompts.jsonl --yes"
    )]
    Start(RunStartArgs),
    /// Continue a run from its manifest (local or in S3) without resubmitting what exists
    #[command(
        after_help = "Exit codes: 0 every record has output (or, with --detach, submitted what fits); 1 jobs or records failed; 2 a cancelled run, or settings naming another model or role; 3 AWS unreachable or a create refused (its codes are named); 130 interrupted.\n\nExample: bedbatch-doctor run resume run-20261125-153000-a1b2"
    )]
    Resume {
        #[arg(value_name = "RUN_ID")]
        run_id: String,
        #[command(flatten)]
        drive: RunDrive,
        #[command(flatten)]
        output: OutputFlag,
        #[command(flatten)]
        settings: JobSettings,
        #[command(flatten)]
        aws: AwsFlags,
    },
    /// Per job and overall: status, records done and failed, elapsed, ETA, cost so far
    #[command(
        after_help = "Exit codes: 0 running, or every record has output; 1 a job or record failed; 4 a finished job's counts could not be read.\n\nExample: bedbatch-doctor run status --watch"
    )]
    Status {
        /// The run [default: the most recent local one]
        #[arg(value_name = "RUN_ID")]
        run_id: Option<String>,
        /// Refresh until every job ends
        #[arg(long)]
        watch: bool,
        #[arg(long, default_value_t = 60_000, value_name = "MS")]
        poll_interval_ms: u64,
        #[arg(long, value_name = "DIR")]
        state_dir: Option<PathBuf>,
        #[command(flatten)]
        output: OutputFlag,
        #[command(flatten)]
        settings: JobSettings,
        #[command(flatten)]
        aws: AwsFlags,
    },
    /// Join every answer to its input row: a table (.csv, .tsv, .parquet, .jsonl) with one row per input row, in input order
    #[command(
        after_help = "Exit codes: 0 every record has output; 1 some rows have no answer (status record-error or no-output; for a JSONL run collected to .jsonl: some records are in the failures file); 2 the run has not finished, FILE exists (--force), or an input column clashes with an added one (--prefix); 4 every row answered but a job's token counts (its manifest.json.out) could not be read: tokens and cost unknown.\n\nA run started from a table gives every input column as read, then record_id, status, output_text, stop_reason, input_tokens, output_tokens, error_code, error_message (and embedding for embedding models). A run started from JSONL and collected to .jsonl keeps the merged JSONL and a failures file.\n\nExample: bedbatch-doctor run collect run-20261125-153000-a1b2 -o results.parquet"
    )]
    Collect {
        #[arg(value_name = "RUN_ID")]
        run_id: String,
        /// The results: .csv, .tsv, .parquet or .jsonl (the format from the extension, or --format)
        #[arg(short = 'o', long = "out", value_name = "FILE")]
        out: PathBuf,
        /// The format of FILE [default: from its extension]
        #[arg(long, value_enum)]
        format: Option<crate::table::Format>,
        /// Prefix of the added columns (record_id, status, …), when the input has one of those names
        #[arg(long, value_name = "P")]
        prefix: Option<String>,
        /// Parse each answer as JSON (the whole text, a fenced block, or the first {…}/[…]), check it against this JSON Schema, and spread its top-level properties into columns (with schema_error)
        #[arg(long, value_name = "FILE")]
        json_schema: Option<PathBuf>,
        /// The failed records [default: FILE with .failures.jsonl]
        #[arg(long, value_name = "FILE")]
        failures: Option<PathBuf>,
        /// Overwrite FILE and the failures file if they exist
        #[arg(long)]
        force: bool,
        #[arg(long, value_name = "DIR")]
        state_dir: Option<PathBuf>,
        #[command(flatten)]
        output: OutputFlag,
        #[command(flatten)]
        settings: JobSettings,
        #[command(flatten)]
        aws: AwsFlags,
    },
    /// Submit the failed records of a finished run as a follow-up run linked to it
    #[command(
        after_help = "Exit codes: as run start; 2 when the run has not finished or nothing failed.\n\nExample: bedbatch-doctor run retry run-20261125-153000-a1b2 --yes"
    )]
    Retry {
        #[arg(value_name = "RUN_ID")]
        run_id: String,
        /// Do not ask before submitting
        #[arg(long)]
        yes: bool,
        #[arg(long, value_name = "HOURS", value_parser = clap::value_parser!(i32).range(24..=168))]
        timeout_hours: Option<i32>,
        /// Instead of the records without output: those whose answer breaks --json-schema
        #[arg(long, requires = "json_schema")]
        schema_errors: bool,
        /// The JSON Schema the answers were collected with (for --schema-errors)
        #[arg(long, value_name = "FILE")]
        json_schema: Option<PathBuf>,
        #[command(flatten)]
        drive: RunDrive,
        #[command(flatten)]
        output: OutputFlag,
        #[command(flatten)]
        settings: SettingsFlags,
        #[command(flatten)]
        aws: AwsFlags,
        #[command(flatten)]
        org: OrgFlags,
    },
    /// Stop every active job of a run; its pending shards are never submitted
    #[command(
        after_help = "Exit codes: 0 cancelled; 2 refused (no terminal and no --yes); 3 a job could not be stopped (named).\n\nExample: bedbatch-doctor run cancel run-20261125-153000-a1b2 --yes"
    )]
    Cancel {
        #[arg(value_name = "RUN_ID")]
        run_id: String,
        /// Do not ask for confirmation
        #[arg(long)]
        yes: bool,
        #[arg(long, value_name = "DIR")]
        state_dir: Option<PathBuf>,
        #[command(flatten)]
        output: OutputFlag,
        #[command(flatten)]
        settings: JobSettings,
        #[command(flatten)]
        aws: AwsFlags,
    },
    /// List runs: the local ones and those under the output folder in S3
    #[command(after_help = "Exit codes: 0 listed; 4 the S3 listing could not be read in full.\n\nExample: bedbatch-doctor run list --output json")]
    List {
        #[arg(long, value_name = "DIR")]
        state_dir: Option<PathBuf>,
        #[command(flatten)]
        output: OutputFlag,
        #[command(flatten)]
        settings: JobSettings,
        #[command(flatten)]
        aws: AwsFlags,
    },
}

#[cfg(test)]
#[path = "cli_tests.rs"]
mod tests;

/// `--temperature`: a finite number, not negative. Every family's page gives a range from 0
/// (AWS, "Influence response generation with inference parameters": lower values favour the
/// likelier tokens); its upper end is the family's, checked with its body. NaN and infinity
/// are refused here: JSON cannot hold them (they would be written as null).
fn temperature(s: &str) -> std::result::Result<f64, String> {
    let v: f64 = s.parse().map_err(|e| format!("{e}"))?;
    if !v.is_finite() || v < 0.0 {
        return Err(format!("{s} is not a temperature: give a number from 0"));
    }
    Ok(v)
}

/// `--top-p`: the share of the likeliest tokens sampled from, a probability from 0 to 1 (AWS,
/// "Influence response generation with inference parameters": "Top P – The percentage of most-
/// likely candidates that the model considers for the next token").
fn top_p(s: &str) -> std::result::Result<f64, String> {
    let v: f64 = s.parse().map_err(|e| format!("{e}"))?;
    if !(0.0..=1.0).contains(&v) {
        return Err(format!("{s} is not a probability: give a number from 0 to 1"));
    }
    Ok(v)
}
