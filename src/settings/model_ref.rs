//! Model references: a foundation model id, a system-defined inference profile id, or the ARN
//! of a foundation model, an inference profile or an application inference profile, classified
//! by the form it takes.

use std::sync::OnceLock;

use regex::Regex;

use super::pattern::re;

/// Geography prefixes of system-defined (cross-region) inference profiles.
pub const PROFILE_PREFIXES: &[&str] = &["us", "eu", "apac", "us-gov", "jp", "au", "ca", "global"];

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ModelKind {
    /// `anthropic.claude-3-haiku-20240307-v1:0`
    FoundationModel,
    /// `us.anthropic.claude-3-haiku-20240307-v1:0`: a system-defined inference profile.
    InferenceProfile,
    /// `arn:…:foundation-model/ID`
    FoundationModelArn,
    /// `arn:…:inference-profile/ID`
    InferenceProfileArn,
    /// `arn:…:application-inference-profile/ID`
    ApplicationInferenceProfileArn,
}

/// A model id as the user gave it, classified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelRef {
    pub raw: String,
    pub kind: ModelKind,
    /// The foundation model id behind it, where the id itself says (not for application profiles).
    pub foundation_model_id: Option<String>,
    /// The profile id (`us.…`) for inference profiles.
    pub profile_id: Option<String>,
}

impl ModelRef {
    pub fn parse(v: &str) -> std::result::Result<Self, String> {
        static FM: OnceLock<Regex> = OnceLock::new();
        static ARN: OnceLock<Regex> = OnceLock::new();
        let fm = re(&FM, r"^[a-z0-9-]{1,63}\.[a-z0-9-]{1,63}([.:]?[a-z0-9-]{1,63})*$");
        let arn = re(
            &ARN,
            r"^arn:(aws|aws-cn|aws-us-gov):bedrock:([a-z0-9-]+):([0-9]{12})?:(foundation-model|inference-profile|application-inference-profile)/([a-zA-Z0-9.:_-]+)$",
        );
        let rule = "expected a foundation model id (anthropic.claude-3-haiku-20240307-v1:0), an inference profile id (us.anthropic.claude-3-haiku-20240307-v1:0), or the ARN of either";
        if v.starts_with("arn:") {
            let c = arn.captures(v).ok_or_else(|| format!("not a Bedrock model or inference-profile ARN; {rule}"))?;
            let account = c.get(3).map(|m| m.as_str()).unwrap_or("");
            let kind_s = &c[4];
            let id = c[5].to_string();
            return match kind_s {
                "foundation-model" => {
                    if !account.is_empty() {
                        return Err("a foundation-model ARN has an empty account field (arn:aws:bedrock:REGION::foundation-model/ID)".into());
                    }
                    Ok(ModelRef { raw: v.into(), kind: ModelKind::FoundationModelArn, foundation_model_id: Some(id), profile_id: None })
                }
                "inference-profile" => {
                    if account.is_empty() {
                        return Err("an inference-profile ARN names the account (arn:aws:bedrock:REGION:ACCOUNT:inference-profile/ID)".into());
                    }
                    let fm_id = strip_profile_prefix(&id).map(str::to_string);
                    Ok(ModelRef { raw: v.into(), kind: ModelKind::InferenceProfileArn, foundation_model_id: fm_id, profile_id: Some(id) })
                }
                _ => {
                    if account.is_empty() {
                        return Err("an application-inference-profile ARN names the account".into());
                    }
                    Ok(ModelRef { raw: v.into(), kind: ModelKind::ApplicationInferenceProfileArn, foundation_model_id: None, profile_id: Some(id) })
                }
            };
        }
        if !fm.is_match(v) {
            return Err(format!("not a model id of any known form; {rule}"));
        }
        if let Some(base) = strip_profile_prefix(v) {
            return Ok(ModelRef {
                raw: v.into(),
                kind: ModelKind::InferenceProfile,
                foundation_model_id: Some(base.into()),
                profile_id: Some(v.into()),
            });
        }
        Ok(ModelRef { raw: v.into(), kind: ModelKind::FoundationModel, foundation_model_id: Some(v.into()), profile_id: None })
    }

    /// The region an ARN names, if the id is an ARN.
    pub fn arn_region(&self) -> Option<&str> {
        if self.raw.starts_with("arn:") {
            self.raw.split(':').nth(3)
        } else {
            None
        }
    }

    /// A job's `modelId` is this model: the same id, or an id or ARN ending with the
    /// foundation model behind it (a job through the profile, or by the bare id).
    pub fn names_job_model(&self, job_model: &str) -> bool {
        job_model == self.raw || self.foundation_model_id.as_deref().is_some_and(|fm| job_model.ends_with(fm))
    }

    pub fn is_profile(&self) -> bool {
        matches!(self.kind, ModelKind::InferenceProfile | ModelKind::InferenceProfileArn | ModelKind::ApplicationInferenceProfileArn)
    }
}

fn strip_profile_prefix(id: &str) -> Option<&str> {
    let (head, rest) = id.split_once('.')?;
    if PROFILE_PREFIXES.contains(&head) && rest.contains('.') {
        Some(rest)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn model_forms() {
        assert_eq!(ModelRef::parse("anthropic.claude-3-haiku-20240307-v1:0").unwrap().kind, ModelKind::FoundationModel);
        let p = ModelRef::parse("us.anthropic.claude-sonnet-4-20250514-v1:0").unwrap();
        assert_eq!(p.kind, ModelKind::InferenceProfile);
        assert_eq!(p.foundation_model_id.as_deref(), Some("anthropic.claude-sonnet-4-20250514-v1:0"));
        assert_eq!(ModelRef::parse("arn:aws:bedrock:us-east-1::foundation-model/amazon.nova-lite-v1:0").unwrap().kind, ModelKind::FoundationModelArn);
        assert!(ModelRef::parse("claude").is_err());
        assert!(ModelRef::parse("arn:aws:bedrock:us-east-1:123456789012:foundation-model/x.y").is_err());
    }
}
