//! Renders the documents a batch setup needs from handlebars templates.
//!
//! The templates live in `templates/` and are embedded in the binary; `--templates DIR`
//! overrides any of them. Every value is inserted through a JSON-string escaper, so a value can
//! never break the document's JSON. Each rendered document is parsed back as JSON and as an IAM
//! policy, and checked for least privilege (no wildcard action), before anyone sees it: a broken
//! template is an error naming the template.

use std::collections::BTreeMap;
use std::path::Path;

use handlebars::Handlebars;
use serde::Serialize;
use serde_json::Value;

use crate::error::{Error, Result};
use crate::policy::{Kind, Policy};
use crate::settings::{ModelKind, S3Location, Settings};

/// The documents, in the order they are printed.
pub const DOCUMENTS: &[&str] = &["trust-policy", "role-policy", "passrole-policy", "bucket-policy"];

const EMBEDDED: &[(&str, &str)] = &[
    ("trust-policy", include_str!("../templates/trust-policy.json.hbs")),
    ("role-policy", include_str!("../templates/role-policy.json.hbs")),
    ("passrole-policy", include_str!("../templates/passrole-policy.json.hbs")),
    ("bucket-policy", include_str!("../templates/bucket-policy.json.hbs")),
];

/// Regions a system-defined inference profile may route to are not known offline; the grant
/// on the foundation model behind a profile therefore names every region (`*`), scoped to the
/// one model id and to the one action.
const PROFILE_MODEL_REGION: &str = "*";

/// The account facts rendering needs: from STS when online, from `--account-id` offline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub id: String,
    pub partition: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct LocationContext {
    pub uri: String,
    pub bucket: String,
    pub bucket_arn: String,
    /// The `s3:prefix` pattern for ListBucket, empty for the whole bucket.
    pub list_prefix: String,
    pub objects_arn: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct BucketContext {
    pub name: String,
    pub arn: String,
    /// The bucket holds the input.
    pub input: bool,
    /// The bucket receives the output.
    pub output: bool,
}

/// Everything a template can refer to.
#[derive(Debug, Clone, Serialize)]
pub struct Context {
    pub partition: String,
    pub region: String,
    pub account_id: String,
    pub role_name: String,
    pub role_path: String,
    pub role_arn: String,
    pub job_arn_pattern: String,
    pub model_id: String,
    /// The model resources CreateModelInvocationJob is authorised on.
    pub model_arns: Vec<String>,
    /// What the service role must be allowed to invoke (`bedrock:InvokeModel`): the inference
    /// profile and the foundation model in every Region it routes to. Empty for a bare
    /// foundation-model id, for which AWS documents no invoke grant.
    pub invoke_arns: Vec<String>,
    /// Where the routed Regions came from: `GetInferenceProfile` (exact) or `offline` (every
    /// Region, `*`, scoped to the one model id).
    pub routes_from: String,
    pub input: LocationContext,
    pub output: LocationContext,
    pub kms_key_arn: Option<String>,
    pub caller_arn: Option<String>,
    pub tags: BTreeMap<String, String>,
    /// Set per bucket while rendering `bucket-policy`.
    pub bucket: Option<BucketContext>,
}

fn location(partition: &str, loc: &S3Location) -> LocationContext {
    LocationContext {
        uri: loc.uri.clone(),
        bucket: loc.bucket.clone(),
        bucket_arn: format!("arn:{partition}:s3:::{}", loc.bucket),
        list_prefix: loc.list_prefix_pattern().unwrap_or_default(),
        objects_arn: format!("arn:{partition}:s3:::{}/{}", loc.bucket, loc.object_pattern()),
    }
}

/// The role's ARN: `arn:PARTITION:iam::ACCOUNT:role` + path + name.
pub fn role_arn(partition: &str, account: &str, path: &str, name: &str) -> String {
    format!("arn:{partition}:iam::{account}:role{path}{name}")
}

impl Context {
    /// Builds the context from validated settings; fails naming any setting a document needs.
    pub fn new(settings: &Settings, account: &Account) -> Result<Context> {
        let region = settings.region()?.to_string();
        let partition = account.partition.clone();
        if crate::settings::partition_of(&region) != partition {
            return Err(Error::Config(format!(
                "region {region} is in partition {}, but the account's credentials are for partition {partition}",
                crate::settings::partition_of(&region)
            )));
        }
        let model = settings.model()?;
        let input = settings.input()?;
        let output = settings.output()?;
        let role_name = settings.role_name()?.to_string();
        let acct = &account.id;
        let model_arns = match model.kind {
            ModelKind::FoundationModel => {
                vec![format!("arn:{partition}:bedrock:{region}::foundation-model/{}", model.raw)]
            }
            ModelKind::FoundationModelArn | ModelKind::ApplicationInferenceProfileArn => vec![model.raw.clone()],
            ModelKind::InferenceProfile | ModelKind::InferenceProfileArn => {
                let profile_id = model.profile_id.clone().unwrap_or_default();
                let fm = model.foundation_model_id.clone().unwrap_or_default();
                vec![
                    format!("arn:{partition}:bedrock:{region}:{acct}:inference-profile/{profile_id}"),
                    format!("arn:{partition}:bedrock:{PROFILE_MODEL_REGION}::foundation-model/{fm}"),
                ]
            }
        };
        // AWS, "Create a custom service role for batch inference", section "(Optional)
        // Permissions to run batch inference with inference profiles": the service role must be
        // allowed bedrock:InvokeModel on the profile and on the model in each Region the profile
        // routes to. Offline the Regions are unknown: `*`, for the one model id.
        let invoke_arns = if model.is_profile() { model_arns.clone() } else { vec![] };
        Ok(Context {
            role_arn: role_arn(&partition, acct, &settings.role_path, &role_name),
            job_arn_pattern: format!("arn:{partition}:bedrock:{region}:{acct}:model-invocation-job/*"),
            model_id: model.raw.clone(),
            model_arns,
            invoke_arns,
            routes_from: "offline".into(),
            input: location(&partition, input),
            output: location(&partition, output),
            kms_key_arn: settings.kms_key.as_ref().map(|k| k.arn(&partition, &region, acct)),
            caller_arn: settings.caller_arn.as_ref().map(|c| c.arn.clone()),
            tags: settings.tags.clone(),
            role_name,
            role_path: settings.role_path.clone(),
            account_id: acct.clone(),
            partition,
            region,
            bucket: None,
        })
    }

    /// Sets the profile's routes as GetInferenceProfile answered: the profile's ARN and the
    /// foundation-model ARN in each destination Region. Used for the role's invoke grant and
    /// for the submitter's CreateModelInvocationJob resources.
    pub fn set_routes(&mut self, profile_arn: &str, model_arns: &[String]) {
        let mut arns = vec![profile_arn.to_string()];
        arns.extend(model_arns.iter().cloned());
        self.invoke_arns = arns.clone();
        self.model_arns = arns;
        self.routes_from = "GetInferenceProfile".into();
    }

    /// The buckets that get a bucket policy: the input bucket and the output bucket (one when
    /// they are the same).
    pub fn buckets(&self) -> Vec<BucketContext> {
        let mut out = vec![BucketContext {
            name: self.input.bucket.clone(),
            arn: self.input.bucket_arn.clone(),
            input: true,
            output: self.input.bucket == self.output.bucket,
        }];
        if self.output.bucket != self.input.bucket {
            out.push(BucketContext { name: self.output.bucket.clone(), arn: self.output.bucket_arn.clone(), input: false, output: true });
        }
        out
    }
}

/// One rendered document.
#[derive(Debug, Clone, Serialize)]
pub struct Rendered {
    /// `trust-policy`, `role-policy`, `passrole-policy` or `bucket-policy`.
    pub name: String,
    /// What it applies to: the role ARN, the caller, or the bucket.
    pub target: String,
    /// For bucket policies, the bucket.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bucket: Option<String>,
    pub document: Value,
}

impl Rendered {
    pub fn pretty(&self) -> String {
        serde_json::to_string_pretty(&self.document).expect("a JSON value serialises")
    }
}

/// JSON string-content escaping: every `{{value}}` lands inside a JSON string literal.
fn json_escape(s: &str) -> String {
    let quoted = serde_json::to_string(s).expect("a string serialises");
    quoted[1..quoted.len() - 1].to_string()
}

/// The template registry: embedded templates, each replaced by `DIR/<name>.json.hbs` if present.
pub struct Renderer {
    hbs: Handlebars<'static>,
    /// Where each template came from, for error messages.
    origin: BTreeMap<String, String>,
}

impl Renderer {
    pub fn new(templates_dir: Option<&Path>) -> Result<Renderer> {
        let mut hbs = Handlebars::new();
        hbs.set_strict_mode(true);
        hbs.register_escape_fn(json_escape);
        let mut origin = BTreeMap::new();
        for (name, text) in EMBEDDED {
            hbs.register_template_string(name, *text).map_err(|e| Error::Template(format!("embedded template {name}.json.hbs: {e}")))?;
            origin.insert(name.to_string(), format!("embedded template {name}.json.hbs"));
        }
        if let Some(dir) = templates_dir {
            let entries = std::fs::read_dir(dir).map_err(|e| Error::Usage(format!("--templates {}: {e}", dir.display())))?;
            let mut found = 0;
            for entry in entries {
                let entry = entry.map_err(|e| Error::io(dir.display(), e))?;
                let file_name = entry.file_name().to_string_lossy().to_string();
                let Some(name) = file_name.strip_suffix(".json.hbs") else { continue };
                if !DOCUMENTS.contains(&name) {
                    return Err(Error::Usage(format!(
                        "--templates {}: {file_name} is not a known template (expected one of {})",
                        dir.display(),
                        DOCUMENTS.iter().map(|d| format!("{d}.json.hbs")).collect::<Vec<_>>().join(", ")
                    )));
                }
                let path = entry.path();
                let text = std::fs::read_to_string(&path).map_err(|e| Error::io(path.display(), e))?;
                hbs.register_template_string(name, text).map_err(|e| Error::Template(format!("template {}: {e}", path.display())))?;
                origin.insert(name.to_string(), format!("template {}", path.display()));
                found += 1;
            }
            if found == 0 {
                return Err(Error::Usage(format!("--templates {}: holds no *.json.hbs template to use", dir.display())));
            }
        }
        Ok(Renderer { hbs, origin })
    }

    fn render_one(&self, name: &str, ctx: &Context, kind: Kind) -> Result<Value> {
        let origin = &self.origin[name];
        let text = self.hbs.render(name, ctx).map_err(|e| Error::Template(format!("{origin}: {e}")))?;
        let value: Value = serde_json::from_str(&text).map_err(|e| {
            let line = text.lines().nth(e.line().saturating_sub(1)).unwrap_or("").trim();
            Error::Template(format!("{origin} rendered invalid JSON at line {} column {}: {e} (near `{line}`)", e.line(), e.column()))
        })?;
        let policy = Policy::from_value(&value, kind).map_err(|e| Error::Template(format!("{origin} rendered an invalid policy: {e}")))?;
        for st in &policy.statements {
            for action in st.action.iter().flatten() {
                if action.contains('*') || action.contains('?') {
                    return Err(Error::Template(format!(
                        "{origin}: {} grants the wildcard action {action:?}; rendered policies name exact actions",
                        st.label()
                    )));
                }
            }
            if st.not_action.is_some() && st.effect == crate::policy::Effect::Allow {
                return Err(Error::Template(format!("{origin}: {} allows with NotAction, which grants every other action", st.label())));
            }
        }
        Ok(value)
    }

    /// Renders the named documents (all when `only` is None). `bucket-policy` yields one
    /// document per bucket.
    pub fn render(&self, ctx: &Context, only: Option<&str>) -> Result<Vec<Rendered>> {
        let mut out = Vec::new();
        for name in DOCUMENTS {
            if only.is_some_and(|o| o != *name) {
                continue;
            }
            match *name {
                "trust-policy" => out.push(Rendered {
                    name: name.to_string(),
                    target: ctx.role_arn.clone(),
                    bucket: None,
                    document: self.render_one(name, ctx, Kind::Resource)?,
                }),
                "role-policy" => out.push(Rendered {
                    name: name.to_string(),
                    target: ctx.role_arn.clone(),
                    bucket: None,
                    document: self.render_one(name, ctx, Kind::Identity)?,
                }),
                "passrole-policy" => out.push(Rendered {
                    name: name.to_string(),
                    target: ctx.caller_arn.clone().unwrap_or_else(|| "the principal that submits jobs".into()),
                    bucket: None,
                    document: self.render_one(name, ctx, Kind::Identity)?,
                }),
                _ => {
                    for b in ctx.buckets() {
                        let mut c = ctx.clone();
                        let bucket = b.name.clone();
                        c.bucket = Some(b);
                        out.push(Rendered {
                            name: name.to_string(),
                            target: format!("s3://{bucket}"),
                            bucket: Some(bucket),
                            document: self.render_one(name, &c, Kind::Resource)?,
                        });
                    }
                }
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_keeps_json_valid() {
        assert_eq!(json_escape(r#"a"b\c"#), r#"a\"b\\c"#);
    }
}
