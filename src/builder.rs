//! `SnapshotBuilder`: snapshots made in process, for tests of the checks without the emulator.
//! It starts from a healthy setup (the one in `examples/healthy.snapshot.json`: Claude 3 Haiku in
//! us-east-1, two buckets, the rendered role, trust and caller policies) and has one method per
//! break. Every method changes exactly the facts that break, as a live account would show them.

use serde_json::{json, Value};

use crate::snapshot::{JobSummary, Known, ReadError, ReadErrorKind, ReadFailure, Snapshot};

const HEALTHY: &str = include_str!("../examples/healthy.snapshot.json");

pub struct SnapshotBuilder {
    snap: Snapshot,
}

fn denied(what: &str) -> ReadError {
    ReadError::new(ReadErrorKind::Denied, format!("{what}: AccessDenied: User is not authorized to perform this read (HTTP 403)"))
}

fn failed(what: &str) -> ReadError {
    ReadError::new(ReadErrorKind::Failed, format!("{what}: InternalFailure: injected (HTTP 500)"))
}

/// AWS's six batch quotas for a model, at their default values.
fn default_quotas(name: &str) -> Vec<crate::snapshot::QuotaValue> {
    [
        ("Minimum number of records per batch inference job", 100.0),
        ("Records per batch inference job", 50000.0),
        ("Records per input file per batch inference job", 50000.0),
        ("Batch inference input file size (in GB)", 1.0),
        ("Batch inference job size (in GB)", 5.0),
        ("Sum of in-progress and submitted batch inference jobs using a base model", 20.0),
    ]
    .iter()
    .enumerate()
    .map(|(i, (what, v))| crate::snapshot::QuotaValue {
        code: format!("L-TEST000{i}"),
        name: format!("{what} for {name}"),
        value: *v,
        source: crate::quotas::QuotaSource::Default,
    })
    .collect()
}

impl Default for SnapshotBuilder {
    fn default() -> Self {
        SnapshotBuilder::healthy()
    }
}

impl SnapshotBuilder {
    /// The healthy setup: `check` finds no error and every check passes.
    pub fn healthy() -> SnapshotBuilder {
        SnapshotBuilder { snap: Snapshot::from_json(HEALTHY).expect("the embedded example snapshot loads") }
    }

    pub fn build(self) -> Snapshot {
        self.snap
    }

    fn role(&mut self) -> &mut crate::snapshot::RoleState {
        match &mut self.snap.role {
            Known::Value(Some(r)) => r,
            _ => panic!("this break needs the role to exist"),
        }
    }

    fn record(&mut self, what: &str, e: &ReadError) {
        self.snap.read_failures.push(ReadFailure { what: what.into(), error: e.clone() });
    }

    // ---------------------------------------------------------------- model
    pub fn model_not_found(mut self) -> Self {
        if let Known::Value(m) = &mut self.snap.model {
            m.found = false;
        }
        self
    }
    pub fn model_not_in_region(mut self, region: &str) -> Self {
        self.snap.settings.region = region.into();
        self
    }
    pub fn model_not_authorized(mut self) -> Self {
        if let Known::Value(m) = &mut self.snap.model {
            m.authorization = Some("NOT_AUTHORIZED".into());
        }
        self
    }
    pub fn model_profile_only(mut self) -> Self {
        if let Known::Value(m) = &mut self.snap.model {
            m.inference_types = vec!["INFERENCE_PROFILE".into()];
        }
        self
    }
    /// Another foundation model (bare id), found and authorised, with on-demand inference. Its
    /// name is the catalogue's; Service Quotas holds its batch quotas where the catalogue lists
    /// batch for it in the region (none otherwise), as a live account would.
    pub fn model(mut self, id: &str) -> Self {
        let entry = crate::catalogue::model(id);
        let name = entry.map(|e| e.name.clone());
        let region = self.snap.settings.region.clone();
        let batch = entry.is_some_and(|e| e.batch_regions(false).contains(&region));
        self.snap.settings.model_id = id.into();
        if let Known::Value(m) = &mut self.snap.model {
            m.foundation_model_id = Some(id.into());
            m.name = name.clone();
        }
        self.snap.quota_model_name = name.clone();
        self.snap.quotas = Known::Value(match (batch, name) {
            (true, Some(n)) => default_quotas(&n),
            _ => vec![],
        });
        self
    }
    /// A model the account has (GetFoundationModel answers, its batch quotas exist) that the
    /// dated catalogue does not list.
    pub fn model_live_only(mut self, id: &str, name: &str) -> Self {
        self.snap.settings.model_id = id.into();
        if let Known::Value(m) = &mut self.snap.model {
            m.foundation_model_id = Some(id.into());
            m.name = Some(name.into());
        }
        self.snap.quota_model_name = Some(name.into());
        self.snap.quotas = Known::Value(default_quotas(name));
        self
    }
    /// A system-defined inference profile (`us.…`, `eu.…`, `global.…`) for a foundation model,
    /// routing to `regions`, as GetInferenceProfile describes it. The role keeps its S3 grants
    /// only (add [`SnapshotBuilder::rendered`] for the grants `apply` writes).
    pub fn profile(mut self, profile_id: &str, regions: &[&str]) -> Self {
        let (_, fm) = profile_id.split_once('.').expect("a profile id is GEO.MODEL");
        let (acct, region) = (self.snap.account_id.clone(), self.snap.settings.region.clone());
        self.snap.settings.model_id = profile_id.into();
        let name = crate::catalogue::model(fm).map(|e| e.name.clone()).unwrap_or_else(|| fm.to_string());
        self.snap.quota_model_name = Some(name.clone());
        self.snap.quotas = Known::Value(default_quotas(&name));
        if let Known::Value(m) = &mut self.snap.model {
            m.foundation_model_id = Some(fm.into());
            m.name = Some(name);
            m.inference_types = vec!["INFERENCE_PROFILE".into()];
            m.profile = Some(crate::snapshot::ProfileState {
                id: profile_id.into(),
                arn: format!("arn:aws:bedrock:{region}:{acct}:inference-profile/{profile_id}"),
                kind: "SYSTEM_DEFINED".into(),
                status: "ACTIVE".into(),
                models: regions.iter().map(|r| format!("arn:aws:bedrock:{r}::foundation-model/{fm}")).collect(),
            });
        }
        self
    }
    /// GetInferenceProfile failed: the routed models are unknown.
    pub fn profile_unreadable(mut self) -> Self {
        let e = denied("bedrock:GetInferenceProfile failed");
        self.record("the inference profile", &e);
        if let Known::Value(m) = &mut self.snap.model {
            m.profile = None;
            m.profile_error = Some(e);
        }
        self
    }
    /// The role's and the caller's policies become exactly what `render` produces for the
    /// snapshot's settings (what `apply` writes).
    pub fn rendered(mut self) -> Self {
        let desired = crate::desired::Desired::for_snapshot(&self.snap).expect("the snapshot's settings are valid");
        let doc = |n: &str| desired.document(n).cloned().expect("rendered");
        self.role().policies = vec![crate::snapshot::NamedDocument { name: "inline:BedrockBatch".into(), document: doc("role-policy") }];
        self.snap.caller.policies =
            Known::Value(vec![crate::snapshot::NamedDocument { name: "inline:BedrockBatchSubmit".into(), document: doc("passrole-policy") }]);
        self
    }
    /// A model neither the account's quotas nor the catalogue know: its name is unknown (so no
    /// quota can be matched) and the catalogue has no row.
    pub fn model_unknown_to_catalogue(mut self) -> Self {
        let id = "anthropic.claude-nonexistent-20990101-v1:0";
        self.snap.settings.model_id = id.into();
        if let Known::Value(m) = &mut self.snap.model {
            m.foundation_model_id = Some(id.into());
            m.name = None;
        }
        self.snap.quota_model_name = None;
        self.snap.quotas = Known::Value(vec![]);
        self
    }

    // ---------------------------------------------------------------- organization
    /// The account is a member of an organization whose SCPs are `levels` (root first), each
    /// a list of policy documents, as read from AWS Organizations.
    pub fn scps(mut self, levels: Vec<Vec<Value>>) -> Self {
        let levels = levels
            .into_iter()
            .enumerate()
            .map(|(i, docs)| crate::snapshot::OrgLevelState {
                target: if i == 0 { "r-root".into() } else { format!("ou-level{i}") },
                policies: docs
                    .into_iter()
                    .enumerate()
                    .map(|(j, d)| crate::snapshot::NamedDocument { name: format!("scp{i}-{j}"), document: d })
                    .collect(),
            })
            .collect();
        self.snap.org = Known::Value(crate::snapshot::OrgState {
            source: "organizations".into(),
            not_applicable: None,
            scps: levels,
            rcps: vec![],
            notes: vec![],
            org_id: Some("o-exampleorg1".into()),
        });
        self
    }
    /// The organization policies as given by `--scp` files: no organization id is known.
    pub fn org_from_files(mut self) -> Self {
        if let Known::Value(state) = &mut self.snap.org {
            state.source = "files".into();
            state.org_id = None;
        }
        self
    }
    /// Organizations refused the read (a member account that is not a delegated administrator).
    pub fn org_unreadable(mut self) -> Self {
        self.snap.org = Known::Unknown(denied("organizations:ListParents failed"));
        self
    }

    // ---------------------------------------------------------------- trust
    pub fn role_missing(mut self) -> Self {
        self.snap.role = Known::Value(None);
        self
    }
    pub fn role_unreadable(mut self) -> Self {
        let e = failed("iam:GetRole failed");
        self.record("the service role", &e);
        self.snap.role = Known::Unknown(e);
        self
    }
    pub fn trust(mut self, statement: Value) -> Self {
        self.role().trust_policy = json!({"Version": "2012-10-17", "Statement": [statement]});
        self
    }
    pub fn trust_account_root(self) -> Self {
        let acct = self.snap.account_id.clone();
        self.trust(json!({"Effect": "Allow", "Principal": {"AWS": format!("arn:aws:iam::{acct}:root")}, "Action": "sts:AssumeRole"}))
    }
    /// Adds an Allow for the account root next to the Bedrock statement (what a console
    /// walkthrough leaves after `apply` merged the Bedrock statement in).
    pub fn trust_also_root(mut self) -> Self {
        let acct = self.snap.account_id.clone();
        let root = json!({"Sid": "ConsoleDefault", "Effect": "Allow", "Principal": {"AWS": format!("arn:aws:iam::{acct}:root")}, "Action": "sts:AssumeRole"});
        if let Some(st) = self.role().trust_policy["Statement"].as_array_mut() {
            st.push(root);
        }
        self
    }
    pub fn trust_condition(self, operator: &str, key: &str, value: &str) -> Self {
        self.trust(json!({"Effect": "Allow", "Principal": {"Service": "bedrock.amazonaws.com"}, "Action": "sts:AssumeRole", "Condition": {operator: {key: value}}}))
    }
    pub fn trust_unguarded(self) -> Self {
        self.trust(json!({"Effect": "Allow", "Principal": {"Service": "bedrock.amazonaws.com"}, "Action": "sts:AssumeRole"}))
    }

    // ---------------------------------------------------------------- role → S3, KMS
    /// Replaces the role's policies with one inline policy of these statements.
    pub fn role_statements(mut self, statements: Value) -> Self {
        let r = self.role();
        r.policies =
            vec![crate::snapshot::NamedDocument { name: "inline:test".into(), document: json!({"Version": "2012-10-17", "Statement": statements}) }];
        self
    }
    /// Drops every statement that mentions bedrock:InvokeModel from the role's policies.
    pub fn role_without_invoke(mut self) -> Self {
        for p in &mut self.role().policies {
            if let Some(st) = p.document["Statement"].as_array_mut() {
                st.retain(|s| !s.to_string().contains("bedrock:InvokeModel"));
            }
        }
        self
    }
    /// As [`Self::role_without_invoke`], keeping the statements added by `role_extra_statement`.
    pub fn role_without_invoke_except_extra(mut self) -> Self {
        for p in self.role().policies.iter_mut().filter(|p| p.name != "inline:extra") {
            if let Some(st) = p.document["Statement"].as_array_mut() {
                st.retain(|s| !s.to_string().contains("bedrock:InvokeModel"));
            }
        }
        self
    }
    /// Adds one statement to the role, in its own inline policy `extra`.
    pub fn role_extra_statement(mut self, statement: Value) -> Self {
        self.role().policies.push(crate::snapshot::NamedDocument {
            name: "inline:extra".into(),
            document: json!({"Version": "2012-10-17", "Statement": [statement]}),
        });
        self
    }
    pub fn bucket_kms(mut self, bucket_index: usize, key_arn: &str, key_policy: Option<Value>) -> Self {
        let b = &mut self.snap.buckets[bucket_index];
        b.encryption = Known::Value(Some("aws:kms".into()));
        b.kms_key = Some(key_arn.into());
        self.snap.kms_keys.retain(|k| k.key != key_arn);
        self.snap.kms_keys.push(crate::snapshot::KmsKeyState {
            key: key_arn.into(),
            arn: Some(key_arn.into()),
            policy: match key_policy {
                Some(p) => Known::Value(p),
                None => Known::Unknown(denied("kms:GetKeyPolicy failed")),
            },
        });
        self
    }

    // ---------------------------------------------------------------- buckets
    pub fn bucket_missing(mut self, bucket_index: usize) -> Self {
        let b = &mut self.snap.buckets[bucket_index];
        b.exists = Known::Value(false);
        b.region = Known::Value(None);
        b.policy = Known::Value(None);
        b.encryption = Known::Value(None);
        self
    }
    pub fn bucket_unreadable(mut self, bucket_index: usize) -> Self {
        let name = self.snap.buckets[bucket_index].name.clone();
        let e = failed("s3:HeadBucket failed");
        self.record(&format!("s3://{name}"), &e);
        let b = &mut self.snap.buckets[bucket_index];
        b.exists = Known::Unknown(e.clone());
        b.region = Known::Unknown(e.clone());
        b.policy = Known::Unknown(e.clone());
        b.encryption = Known::Unknown(e);
        self
    }
    pub fn bucket_region(mut self, bucket_index: usize, region: &str) -> Self {
        self.snap.buckets[bucket_index].region = Known::Value(Some(region.into()));
        self
    }
    pub fn bucket_other_account(mut self, bucket_index: usize) -> Self {
        self.snap.buckets[bucket_index].owned_by_account = Known::Value(false);
        self
    }
    pub fn no_input_objects(mut self) -> Self {
        self.snap.input_objects = Known::Value(vec![]);
        self
    }

    // ---------------------------------------------------------------- caller
    pub fn caller_missing(mut self) -> Self {
        self.snap.caller.exists = Known::Value(false);
        self.snap.caller.policies = Known::Value(vec![]);
        self
    }
    pub fn caller_statements(mut self, statements: Value) -> Self {
        self.snap.caller.policies = Known::Value(vec![crate::snapshot::NamedDocument {
            name: "inline:user/analyst/test".into(),
            document: json!({"Version": "2012-10-17", "Statement": statements}),
        }]);
        self
    }
    pub fn caller_policies_denied(mut self) -> Self {
        let e = denied("iam:ListUserPolicies failed");
        self.record("the caller's policies", &e);
        self.snap.caller.policies = Known::Unknown(e);
        self
    }

    // ---------------------------------------------------------------- quotas and jobs
    pub fn quotas_denied(mut self) -> Self {
        let e = denied("service-quotas:ListServiceQuotas failed");
        self.record(crate::checks::quotas::READ_WHAT, &e);
        self.snap.quotas = Known::Unknown(e);
        self
    }
    /// The quota read failed (throttled, a 5xx, the network), not denied.
    pub fn quotas_failed(mut self) -> Self {
        let e = failed("service-quotas:ListServiceQuotas failed");
        self.record(crate::checks::quotas::READ_WHAT, &e);
        self.snap.quotas = Known::Unknown(e);
        self
    }
    /// Service Quotas lists no batch quota for the model (applied or default).
    pub fn no_quotas(mut self) -> Self {
        self.snap.quotas = Known::Value(vec![]);
        self
    }
    /// `n` jobs of the model in progress (the healthy quota is listed in the snapshot).
    pub fn jobs_in_progress(mut self, n: usize) -> Self {
        let model = self.snap.settings.model_id.clone();
        if let Known::Value(jobs) = &mut self.snap.jobs {
            for i in 0..n {
                jobs.push(JobSummary {
                    arn: format!("arn:aws:bedrock:us-east-1:{}:model-invocation-job/busy{i}", self.snap.account_id),
                    name: format!("busy{i}"),
                    model_id: model.clone(),
                    status: "InProgress".into(),
                    message: None,
                    ..Default::default()
                });
            }
        }
        self
    }
    pub fn failed_job(mut self, message: &str) -> Self {
        let model = self.snap.settings.model_id.clone();
        if let Known::Value(jobs) = &mut self.snap.jobs {
            jobs.push(JobSummary {
                arn: format!("arn:aws:bedrock:us-east-1:{}:model-invocation-job/failed1", self.snap.account_id),
                name: "failed1".into(),
                model_id: model,
                status: "Failed".into(),
                message: Some(message.into()),
                ..Default::default()
            });
        }
        self
    }
    /// A job of the model that ended `status` (Expired, PartiallyCompleted, Completed) with
    /// these record counts, and `errors` as its .out files' record errors when given.
    pub fn finished_job(mut self, status: &str, success: i64, errors: i64, record_errors: Option<Known<crate::snapshot::RecordErrors>>) -> Self {
        let model = self.snap.settings.model_id.clone();
        if let Known::Value(jobs) = &mut self.snap.jobs {
            jobs.insert(
                0,
                JobSummary {
                    arn: format!("arn:aws:bedrock:us-east-1:{}:model-invocation-job/{}1", self.snap.account_id, status.to_lowercase()),
                    name: format!("{}1", status.to_lowercase()),
                    model_id: model,
                    status: status.into(),
                    output_uri: Some("s3://demo-batch-out/jobs/out/".into()),
                    timeout_hours: Some(24),
                    total_records: Some(success + errors),
                    success_records: Some(success),
                    error_records: Some(errors),
                    record_errors,
                    ..Default::default()
                },
            );
        }
        self
    }
}
