//! What a correct setup has: the settings, the render context and the rendered documents,
//! computed once and handed to the checks (which use them for the fixes they print).

use serde_json::Value;

use crate::error::Result;
use crate::render::{Account, Context, Rendered, Renderer};
use crate::settings::Settings;
use crate::snapshot::{ProfileState, Snapshot};

/// The stable Sids of the statements our templates write. A unit test renders every template
/// and proves each Sid is there, so a fix can never print an empty statement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sid {
    /// passrole-policy
    PassRole,
    CreateJob,
    ManageJobs,
    /// bedrock:TagResource on job ARNs, for the tags `canary` puts on its job (AWS's service
    /// authorization reference lists bedrock:TagResource among the actions a Create operation
    /// authorizes when it is given tags; AWS's batch identity-policy example grants it).
    TagJobs,
    ListJobs,
    /// role-policy
    ListInput,
    ReadInput,
    ListOutput,
    WriteOutput,
    UseKmsKey,
    InvokeModel,
    /// trust-policy
    AssumeRole,
}

impl Sid {
    pub const ALL: &'static [Sid] = &[
        Sid::PassRole,
        Sid::CreateJob,
        Sid::ManageJobs,
        Sid::TagJobs,
        Sid::ListJobs,
        Sid::ListInput,
        Sid::ReadInput,
        Sid::ListOutput,
        Sid::WriteOutput,
        Sid::UseKmsKey,
        Sid::InvokeModel,
        Sid::AssumeRole,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Sid::PassRole => "BedrockBatchPassRole",
            Sid::CreateJob => "BedrockBatchCreateJob",
            Sid::ManageJobs => "BedrockBatchManageJobs",
            Sid::TagJobs => "BedrockBatchTagJobs",
            Sid::ListJobs => "BedrockBatchListJobs",
            Sid::ListInput => "BedrockBatchListInput",
            Sid::ReadInput => "BedrockBatchReadInput",
            Sid::ListOutput => "BedrockBatchListOutput",
            Sid::WriteOutput => "BedrockBatchWriteOutput",
            Sid::UseKmsKey => "BedrockBatchUseKmsKey",
            Sid::InvokeModel => "BedrockBatchInvokeModel",
            Sid::AssumeRole => "BedrockBatchAssumeRole",
        }
    }

    /// The document that holds the statement.
    pub fn document(self) -> &'static str {
        match self {
            Sid::PassRole | Sid::CreateJob | Sid::ManageJobs | Sid::TagJobs | Sid::ListJobs => "passrole-policy",
            Sid::ListInput | Sid::ReadInput | Sid::ListOutput | Sid::WriteOutput | Sid::UseKmsKey | Sid::InvokeModel => "role-policy",
            Sid::AssumeRole => "trust-policy",
        }
    }
}

/// The desired state for one setup.
#[derive(Debug, Clone)]
pub struct Desired {
    pub settings: Settings,
    pub rctx: Context,
    pub documents: Vec<Rendered>,
}

impl Desired {
    /// Renders the documents for `settings` in `account`, with `caller` as the submitter.
    pub fn new(settings: Settings, account: &Account, caller: Option<String>) -> Result<Desired> {
        Desired::with_profile(settings, account, caller, None)
    }

    /// As `new`, with the inference profile as GetInferenceProfile described it (its routed
    /// Regions then replace the offline `*`).
    pub fn with_profile(settings: Settings, account: &Account, caller: Option<String>, profile: Option<&ProfileState>) -> Result<Desired> {
        let mut rctx = Context::new(&settings, account)?;
        if caller.is_some() {
            rctx.caller_arn = caller;
        }
        if let Some(p) = profile.filter(|p| !p.models.is_empty()) {
            rctx.set_routes(&p.arn, &p.models);
        }
        let documents = Renderer::new(None)?.render(&rctx, None)?;
        Ok(Desired { settings, rctx, documents })
    }

    /// The desired state for the setup a snapshot was taken with.
    pub fn for_snapshot(snap: &Snapshot) -> Result<Desired> {
        let settings = crate::settings::from_snapshot(&snap.settings)?;
        let account = Account { id: snap.account_id.clone(), partition: snap.partition.clone() };
        let profile = snap.model.value().and_then(|m| m.profile.as_ref());
        Desired::with_profile(settings, &account, Some(snap.caller.arn.clone()), profile)
    }

    pub fn document(&self, name: &str) -> Option<&Value> {
        self.documents.iter().find(|d| d.name == name).map(|d| &d.document)
    }

    /// One of our statements, pretty-printed, for a fix. A statement the setup does not render
    /// (the KMS statement without `kms_key_id`) is described instead of printed empty.
    pub fn statement(&self, sid: Sid) -> String {
        self.document(sid.document())
            .and_then(|doc| doc["Statement"].as_array())
            .and_then(|a| a.iter().find(|s| s["Sid"] == sid.as_str()))
            .and_then(|s| serde_json::to_string_pretty(s).ok())
            .unwrap_or_else(|| format!("(the {} statement of `bedbatch-doctor render --document {}`)", sid.as_str(), sid.document()))
    }

    /// A whole document, pretty-printed.
    pub fn pretty(&self, name: &str) -> String {
        self.document(name).and_then(|d| serde_json::to_string_pretty(d).ok()).unwrap_or_default()
    }
}

/// The job actions the caller needs, as (action, resource) requests: CreateModelInvocationJob
/// on the model resources (a region wildcard in a rendered grant becomes the job's region) and on
/// a job ARN, Get/Stop on a job ARN, List on "*". Shared by the checks and by collect's fallback
/// to iam:SimulatePrincipalPolicy, so both ask the same questions.
pub fn job_requests(rctx: &crate::render::Context) -> Vec<(String, String)> {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_sid_is_rendered_by_its_template() {
        let o = crate::settings::Overrides {
            region: Some("us-east-1".into()),
            model_id: Some("us.anthropic.claude-haiku-4-5-20251001-v1:0".into()),
            input_uri: Some("s3://in-bucket/in/".into()),
            output_uri: Some("s3://out-bucket/out/".into()),
            role_name: Some("R".into()),
            kms_key_id: Some("1234abcd-12ab-34cd-56ef-1234567890ab".into()),
            caller_arn: Some("arn:aws:iam::123456789012:user/u".into()),
            ..Default::default()
        };
        let settings = crate::settings::resolve(Default::default(), None, &o, None).unwrap();
        let d = Desired::new(settings, &Account { id: "123456789012".into(), partition: "aws".into() }, None).unwrap();
        for sid in Sid::ALL {
            let text = d.statement(*sid);
            assert!(text.starts_with('{') && text.contains(sid.as_str()), "{sid:?}: {text}");
        }
    }
}
