//! Reads live IAM and S3 state: the policies that apply to a principal, a bucket's policy, a
//! role's trust policy. Every document is parsed into the policy model; a document that does
//! not parse is an error naming the policy.

use aws_sdk_iam::Client as Iam;

use crate::aws::{sdk_error, service_code, Clients};
use crate::config::{PrincipalArn, PrincipalKind};
use crate::error::{Error, Result};
use crate::policy::{Kind, NamedPolicy, Policy};

fn parse(name: String, text: &str, kind: Kind) -> Result<NamedPolicy> {
    let policy = Policy::parse_str(text, kind).map_err(|e| Error::Aws(format!("{name}: the live document does not parse: {e}")))?;
    Ok(NamedPolicy { name, policy })
}

/// The identity-side policies of a principal.
#[derive(Debug, Clone, Default)]
pub struct PrincipalPolicies {
    pub identity: Vec<NamedPolicy>,
    pub boundary: Option<NamedPolicy>,
}

async fn managed(iam: &Iam, arn: &str) -> Result<NamedPolicy> {
    let p = iam.get_policy().policy_arn(arn).send().await.map_err(|e| sdk_error("iam", "GetPolicy", e))?;
    let version = p.policy().and_then(|p| p.default_version_id()).unwrap_or("v1").to_string();
    let v = iam.get_policy_version().policy_arn(arn).version_id(&version).send().await.map_err(|e| sdk_error("iam", "GetPolicyVersion", e))?;
    let doc = v.policy_version().and_then(|v| v.document()).unwrap_or("{}");
    parse(format!("managed:{arn}"), doc, Kind::Identity)
}

/// The first answer about a principal: `None` when IAM says NoSuchEntity (the fact "missing").
fn found<T>(r: Result<T>) -> Result<Option<T>> {
    match r {
        Ok(v) => Ok(Some(v)),
        Err(Error::Missing(_)) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Whether an IAM user (`kind` "user") or role exists: GetUser / GetRole, NoSuchEntity is "no".
pub async fn principal_exists(iam: &Iam, kind: &str, name: &str) -> Result<bool> {
    let r = if kind == "user" {
        iam.get_user().user_name(name).send().await.map(|_| ()).map_err(|e| sdk_error("iam", "GetUser", e))
    } else {
        iam.get_role().role_name(name).send().await.map(|_| ()).map_err(|e| sdk_error("iam", "GetRole", e))
    };
    Ok(found(r)?.is_some())
}

/// Collects the identity policies (inline, attached managed, and for users the groups') and the
/// permissions boundary of an IAM user or role (an assumed-role session uses its role's).
/// `None`: the user or role does not exist.
pub async fn principal_policies(clients: &Clients, principal: &PrincipalArn) -> Result<Option<PrincipalPolicies>> {
    let iam = &clients.iam;
    let mut out = PrincipalPolicies::default();
    match principal.kind {
        PrincipalKind::User => {
            let name = &principal.name;
            let Some(user) = found(iam.get_user().user_name(name).send().await.map_err(|e| sdk_error("iam", "GetUser", e)))? else {
                return Ok(None);
            };
            if let Some(b) = user.user().and_then(|u| u.permissions_boundary()).and_then(|b| b.permissions_boundary_arn()) {
                out.boundary = Some(managed(iam, b).await?);
            }
            let names = iam.list_user_policies().user_name(name).send().await.map_err(|e| sdk_error("iam", "ListUserPolicies", e))?;
            for pname in names.policy_names() {
                let p = iam.get_user_policy().user_name(name).policy_name(pname).send().await.map_err(|e| sdk_error("iam", "GetUserPolicy", e))?;
                out.identity.push(parse(format!("inline:user/{name}/{pname}"), p.policy_document(), Kind::Identity)?);
            }
            let attached =
                iam.list_attached_user_policies().user_name(name).send().await.map_err(|e| sdk_error("iam", "ListAttachedUserPolicies", e))?;
            for a in attached.attached_policies() {
                if let Some(arn) = a.policy_arn() {
                    out.identity.push(managed(iam, arn).await?);
                }
            }
            let groups = iam.list_groups_for_user().user_name(name).send().await.map_err(|e| sdk_error("iam", "ListGroupsForUser", e))?;
            for g in groups.groups() {
                let gname = g.group_name();
                let names = iam.list_group_policies().group_name(gname).send().await.map_err(|e| sdk_error("iam", "ListGroupPolicies", e))?;
                for pname in names.policy_names() {
                    let p = iam
                        .get_group_policy()
                        .group_name(gname)
                        .policy_name(pname)
                        .send()
                        .await
                        .map_err(|e| sdk_error("iam", "GetGroupPolicy", e))?;
                    out.identity.push(parse(format!("inline:group/{gname}/{pname}"), p.policy_document(), Kind::Identity)?);
                }
                let attached = iam
                    .list_attached_group_policies()
                    .group_name(gname)
                    .send()
                    .await
                    .map_err(|e| sdk_error("iam", "ListAttachedGroupPolicies", e))?;
                for a in attached.attached_policies() {
                    if let Some(arn) = a.policy_arn() {
                        out.identity.push(managed(iam, arn).await?);
                    }
                }
            }
        }
        PrincipalKind::Role | PrincipalKind::AssumedRole => {
            let name = &principal.name;
            let Some(role) = found(iam.get_role().role_name(name).send().await.map_err(|e| sdk_error("iam", "GetRole", e)))? else {
                return Ok(None);
            };
            if let Some(b) = role.role().and_then(|r| r.permissions_boundary()).and_then(|b| b.permissions_boundary_arn()) {
                out.boundary = Some(managed(iam, b).await?);
            }
            let names = iam.list_role_policies().role_name(name).send().await.map_err(|e| sdk_error("iam", "ListRolePolicies", e))?;
            for pname in names.policy_names() {
                let p = iam.get_role_policy().role_name(name).policy_name(pname).send().await.map_err(|e| sdk_error("iam", "GetRolePolicy", e))?;
                out.identity.push(parse(format!("inline:role/{name}/{pname}"), p.policy_document(), Kind::Identity)?);
            }
            let attached =
                iam.list_attached_role_policies().role_name(name).send().await.map_err(|e| sdk_error("iam", "ListAttachedRolePolicies", e))?;
            for a in attached.attached_policies() {
                if let Some(arn) = a.policy_arn() {
                    out.identity.push(managed(iam, arn).await?);
                }
            }
        }
        PrincipalKind::Root => {
            return Err(Error::Usage("the account root user is not governed by identity policies; simulate an IAM user or role".into()));
        }
    }
    Ok(Some(out))
}

/// A bucket's policy, or None when it has none.
pub async fn bucket_policy(clients: &Clients, bucket: &str) -> Result<Option<NamedPolicy>> {
    match clients.s3.get_bucket_policy().bucket(bucket).send().await {
        Ok(out) => Ok(Some(parse(format!("bucket-policy:{bucket}"), out.policy().unwrap_or("{}"), Kind::Resource)?)),
        Err(e) if service_code(&e) == Some("NoSuchBucketPolicy") => Ok(None),
        Err(e) => Err(sdk_error("s3", "GetBucketPolicy", e)),
    }
}

/// A role's trust policy.
pub async fn trust_policy(clients: &Clients, role_name: &str) -> Result<NamedPolicy> {
    let role = clients.iam.get_role().role_name(role_name).send().await.map_err(|e| sdk_error("iam", "GetRole", e))?;
    let doc = role.role().and_then(|r| r.assume_role_policy_document()).unwrap_or("{}");
    parse(format!("trust-policy:{role_name}"), doc, Kind::Resource)
}

// ------------------------------------------------------------------------------------ snapshot

use crate::config::Settings;
use crate::snapshot::{
    BucketState, JobSummary, Known, ModelState, NamedDocument, ObjectInfo, PrincipalState, ProfileState, ReadError, ReadErrorKind, RoleState,
    Snapshot, SNAPSHOT_VERSION,
};

fn doc_value(text: &str) -> serde_json::Value {
    let decoded = crate::policy::decode_document(text);
    serde_json::from_str(&decoded).unwrap_or(serde_json::Value::String(decoded))
}

/// The identity documents and the boundary of a principal.
type Documents = (Vec<NamedDocument>, Option<NamedDocument>);

/// Raw documents of a principal, by name (kept as the account has them, for the snapshot);
/// `None` when the principal does not exist.
async fn raw_principal_documents(clients: &Clients, principal: &PrincipalArn) -> Result<Option<Documents>> {
    let Some(found) = principal_policies(clients, principal).await? else { return Ok(None) };
    let to_doc = |p: &NamedPolicy| NamedDocument { name: p.name.clone(), document: policy_to_value(&p.policy) };
    Ok(Some((found.identity.iter().map(to_doc).collect(), found.boundary.as_ref().map(to_doc))))
}

/// A parsed policy back to JSON (the parsed model keeps every element).
pub fn policy_to_value(p: &Policy) -> serde_json::Value {
    use serde_json::{json, Map, Value};
    let list = |v: &Vec<String>| if v.len() == 1 { json!(v[0]) } else { json!(v) };
    let principal = |p: &crate::policy::Principal| match p {
        crate::policy::Principal::Any => json!("*"),
        crate::policy::Principal::Map(m) => Value::Object(m.iter().map(|(k, v)| (k.clone(), list(v))).collect()),
    };
    let statements: Vec<Value> = p
        .statements
        .iter()
        .map(|s| {
            let mut o = Map::new();
            if let Some(sid) = &s.sid {
                o.insert("Sid".into(), json!(sid));
            }
            o.insert("Effect".into(), json!(format!("{:?}", s.effect)));
            if let Some(x) = &s.principal {
                o.insert("Principal".into(), principal(x));
            }
            if let Some(x) = &s.not_principal {
                o.insert("NotPrincipal".into(), principal(x));
            }
            if let Some(x) = &s.action {
                o.insert("Action".into(), list(x));
            }
            if let Some(x) = &s.not_action {
                o.insert("NotAction".into(), list(x));
            }
            if let Some(x) = &s.resource {
                o.insert("Resource".into(), list(x));
            }
            if let Some(x) = &s.not_resource {
                o.insert("NotResource".into(), list(x));
            }
            if !s.conditions.is_empty() {
                let mut c = Map::new();
                for cond in &s.conditions {
                    let block = c.entry(cond.operator.clone()).or_insert_with(|| json!({}));
                    block.as_object_mut().expect("object").insert(cond.key.clone(), list(&cond.values));
                }
                o.insert("Condition".into(), Value::Object(c));
            }
            Value::Object(o)
        })
        .collect();
    let mut top = Map::new();
    if let Some(v) = &p.version {
        top.insert("Version".into(), json!(v));
    }
    top.insert("Statement".into(), json!(statements));
    Value::Object(top)
}

/// The kind of read failure an error is: a refusal, or anything else that left the fact unknown.
pub fn read_error(e: &Error) -> ReadError {
    let kind = match e {
        Error::Denied(_) => ReadErrorKind::Denied,
        _ => ReadErrorKind::Failed,
    };
    ReadError::new(kind, e.to_string())
}

type Failures = std::sync::Mutex<Vec<crate::snapshot::ReadFailure>>;

fn record(what: &str, err: &ReadError, failures: &Failures) {
    failures.lock().expect("lock").push(crate::snapshot::ReadFailure { what: what.to_string(), error: err.clone() });
}

fn unknown<T>(what: &str, e: &Error, failures: &Failures) -> Known<T> {
    let err = read_error(e);
    record(what, &err, failures);
    Known::Unknown(err)
}

/// A sub-read of a bucket: the answer, `None` for the `NoSuch*` that means "not configured",
/// or unknown with the error.
fn bucket_read<T>(bucket: &str, what: &str, r: std::result::Result<Option<T>, Error>, failures: &Failures) -> Known<Option<T>> {
    match r {
        Ok(v) => Known::Value(v),
        Err(Error::Missing(_)) => Known::Value(None),
        Err(e) => unknown(&format!("the {what} of s3://{bucket}"), &e, failures),
    }
}

async fn role_state(clients: &Clients, name: &str) -> Result<Option<RoleState>> {
    let role = match clients.iam.get_role().role_name(name).send().await {
        Ok(r) => r,
        Err(e) if service_code(&e) == Some("NoSuchEntity") => return Ok(None),
        Err(e) => return Err(sdk_error("iam", "GetRole", e)),
    };
    let r = role.role().ok_or_else(|| Error::Aws("iam:GetRole answered without a role".into()))?;
    let principal = PrincipalArn::parse(r.arn()).map_err(|e| Error::Aws(format!("role ARN {}: {e}", r.arn())))?;
    // Deleted between the two reads: as missing as if GetRole had said so.
    let Some((policies, boundary)) = raw_principal_documents(clients, &principal).await? else { return Ok(None) };
    Ok(Some(RoleState {
        arn: r.arn().to_string(),
        path: r.path().to_string(),
        trust_policy: doc_value(r.assume_role_policy_document().unwrap_or("{}")),
        policies,
        boundary,
        tags: r.tags().iter().map(|t| (t.key().to_string(), t.value().to_string())).collect(),
    }))
}

/// Marks a bucket's configuration unknown when HeadBucket did not let it be read.
fn not_read(b: &mut BucketState, kind: ReadErrorKind, why: String) {
    let e = ReadError::new(kind, why);
    b.region = Known::Unknown(e.clone());
    b.policy = Known::Unknown(e.clone());
    b.encryption = Known::Unknown(e.clone());
    b.public_access_blocked = Known::Unknown(e);
}

async fn bucket_state(clients: &Clients, name: &str, account: &str, failures: &Failures) -> BucketState {
    let mut b = BucketState {
        name: name.to_string(),
        exists: Known::Value(false),
        region: Known::Value(None),
        owned_by_account: Known::Value(true),
        policy: Known::Value(None),
        encryption: Known::Value(None),
        kms_key: None,
        public_access_blocked: Known::Value(None),
    };
    match clients.s3.head_bucket().bucket(name).expected_bucket_owner(account).send().await {
        Ok(_) => b.exists = Known::Value(true),
        Err(e) => match crate::aws::classify(&e) {
            // 404: no such bucket. That is the fact "missing", not a read failure.
            crate::aws::Class::Missing => return b,
            // 403 with ExpectedBucketOwner: another account's bucket ("Verifying bucket ownership
            // with bucket owner condition": a mismatch is 403 Access Denied), or the caller may
            // not read it. Asking again without the owner tells them apart.
            crate::aws::Class::Denied => {
                match clients.s3.head_bucket().bucket(name).send().await {
                    Ok(_) => {
                        b.exists = Known::Value(true);
                        b.owned_by_account = Known::Value(false);
                        not_read(&mut b, ReadErrorKind::Denied, format!("s3://{name} belongs to another account; its configuration was not read"));
                    }
                    Err(e2) => {
                        let err = sdk_error("s3", "HeadBucket", e2);
                        match err {
                            Error::Missing(_) => {}
                            // Refused both ways: the bucket exists (S3 answers 404 otherwise)
                            // but who owns it is unknown.
                            Error::Denied(_) => {
                                b.exists = Known::Value(true);
                                b.owned_by_account = unknown(&format!("the owner of s3://{name}"), &err, failures);
                                not_read(&mut b, ReadErrorKind::Denied, format!("not read: HeadBucket on s3://{name} was refused ({err})"));
                            }
                            other => {
                                b.exists = unknown(&format!("s3://{name}"), &other, failures);
                                not_read(&mut b, read_error(&other).kind, format!("not read: HeadBucket on s3://{name} failed ({other})"));
                            }
                        }
                    }
                }
                return b;
            }
            crate::aws::Class::Failed => {
                let err = sdk_error("s3", "HeadBucket", e);
                b.exists = unknown(&format!("s3://{name}"), &err, failures);
                not_read(&mut b, ReadErrorKind::Failed, format!("not read: HeadBucket on s3://{name} failed ({err})"));
                return b;
            }
        },
    }
    let region =
        clients.s3.get_bucket_location().bucket(name).send().await.map_err(|e| sdk_error("s3", "GetBucketLocation", e)).map(|loc| {
            Some(loc.location_constraint().map(|c| c.as_str().to_string()).filter(|s| !s.is_empty()).unwrap_or_else(|| "us-east-1".into()))
        });
    b.region = bucket_read(name, "region", region, failures);
    let policy = clients.s3.get_bucket_policy().bucket(name).send().await.map(|p| p.policy().map(doc_value));
    let policy = match policy {
        Err(e) if service_code(&e) == Some("NoSuchBucketPolicy") => Ok(None),
        other => other.map_err(|e| sdk_error("s3", "GetBucketPolicy", e)),
    };
    b.policy = bucket_read(name, "policy", policy, failures);
    let pab = clients.s3.get_public_access_block().bucket(name).send().await.map_err(|e| sdk_error("s3", "GetPublicAccessBlock", e)).map(|pab| {
        pab.public_access_block_configuration().map(|c| {
            c.block_public_acls() == Some(true)
                && c.ignore_public_acls() == Some(true)
                && c.block_public_policy() == Some(true)
                && c.restrict_public_buckets() == Some(true)
        })
    });
    b.public_access_blocked = bucket_read(name, "public access block", pab, failures);
    let enc = match clients.s3.get_bucket_encryption().bucket(name).send().await {
        Ok(enc) => Ok(enc
            .server_side_encryption_configuration()
            .and_then(|c| c.rules().first())
            .and_then(|r| r.apply_server_side_encryption_by_default())
            .map(|d| {
                b.kms_key = d.kms_master_key_id().map(str::to_string);
                d.sse_algorithm().as_str().to_string()
            })),
        // S3 answers this code (not NoSuch*) when a bucket has no default encryption (Amazon S3
        // API reference, GetBucketEncryption).
        Err(e) if service_code(&e) == Some("ServerSideEncryptionConfigurationNotFoundError") => Ok(None),
        Err(e) => Err(sdk_error("s3", "GetBucketEncryption", e)),
    };
    b.encryption = bucket_read(name, "default encryption", enc, failures);
    b
}

async fn input_objects(clients: &Clients, loc: &crate::config::S3Location) -> Result<Vec<ObjectInfo>> {
    if loc.is_object {
        return match clients.s3.head_object().bucket(&loc.bucket).key(&loc.key).send().await {
            Ok(h) => Ok(vec![ObjectInfo { key: loc.key.clone(), size: h.content_length().unwrap_or(0) }]),
            Err(e) => match sdk_error("s3", "HeadObject", e) {
                // No such object, or no such bucket: nothing there (bucket-missing says which).
                Error::Missing(_) => Ok(vec![]),
                other => Err(other),
            },
        };
    }
    let mut out = Vec::new();
    let mut pages = clients.s3.list_objects_v2().bucket(&loc.bucket).prefix(loc.folder()).into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = match page.map_err(|e| sdk_error("s3", "ListObjectsV2", e)) {
            Ok(p) => p,
            // NoSuchBucket: nothing there (bucket-missing reports the bucket).
            Err(Error::Missing(_)) => return Ok(vec![]),
            Err(e) => return Err(e),
        };
        for o in page.contents() {
            let key = o.key().unwrap_or_default();
            if key.ends_with(".jsonl") {
                out.push(ObjectInfo { key: key.to_string(), size: o.size().unwrap_or(0) });
            }
        }
    }
    Ok(out)
}

/// GetInferenceProfile for a profile id or ARN: None when it does not exist.
async fn inference_profile(clients: &Clients, ident: &str) -> Result<Option<ProfileState>> {
    match clients.bedrock.get_inference_profile().inference_profile_identifier(ident).send().await {
        Ok(p) => Ok(Some(ProfileState {
            id: p.inference_profile_id().to_string(),
            arn: p.inference_profile_arn().to_string(),
            kind: p.r#type().as_str().to_string(),
            status: p.status().as_str().to_string(),
            models: p.models().iter().filter_map(|m| m.model_arn().map(str::to_string)).collect(),
        })),
        Err(e) if service_code(&e) == Some("ResourceNotFoundException") => Ok(None),
        Err(e) => Err(sdk_error("bedrock", "GetInferenceProfile", e)),
    }
}

/// The profile's routes for rendering and applying: `Ok(None)` for a bare foundation-model
/// id; `Err(Missing)` when the profile does not exist; a read that fails leaves the caller to
/// render the offline grant (every Region, `*`) and say so.
pub async fn profile_routes(clients: &Clients, settings: &Settings) -> Result<Option<ProfileState>> {
    let model = settings.model()?;
    if !model.is_profile() {
        return Ok(None);
    }
    // GetInferenceProfile takes the id or the ARN, as the setting gives it.
    match inference_profile(clients, &model.raw).await? {
        Some(p) => Ok(Some(p)),
        None => Err(Error::Missing(format!("the inference profile {} does not exist in {} (GetInferenceProfile)", model.raw, settings.region()?))),
    }
}

/// The model as the account sees it: the profile (GetInferenceProfile) when the id is one, the
/// foundation model behind it (GetFoundationModel: name, provider, inference types, lifecycle),
/// its availability (GetFoundationModelAvailability) and the system-defined profiles that
/// contain it (ListInferenceProfiles).
async fn model_state(clients: &Clients, settings: &Settings, failures: &Failures) -> Result<ModelState> {
    let model = settings.model()?;
    let mut state = ModelState {
        found: false,
        foundation_model_id: model.foundation_model_id.clone(),
        inference_types: vec![],
        authorization: None,
        entitlement: None,
        profiles: vec![],
        availability_error: None,
        name: None,
        provider: None,
        lifecycle: None,
        agreement: None,
        region_availability: None,
        profile: None,
        profile_error: None,
    };
    if model.is_profile() {
        match inference_profile(clients, &model.raw).await {
            // The profile does not exist: the model id names nothing.
            Ok(None) => return Ok(state),
            Ok(Some(p)) => {
                if let Some(fm) = p.foundation_model_id() {
                    state.foundation_model_id = Some(fm);
                }
                state.profile = Some(p);
            }
            Err(e) => {
                let err = read_error(&e);
                record("the inference profile", &err, failures);
                state.profile_error = Some(err);
            }
        }
    }
    let Some(fm) = state.foundation_model_id.clone() else { return Ok(state) };
    match clients.bedrock.get_foundation_model().model_identifier(&fm).send().await {
        Ok(out) => {
            state.found = true;
            if let Some(d) = out.model_details() {
                state.inference_types = d.inference_types_supported().iter().map(|t| t.as_str().to_string()).collect();
                state.name = d.model_name().map(str::to_string);
                state.provider = d.provider_name().map(str::to_string);
                state.lifecycle = d.model_lifecycle().map(|l| l.status().as_str().to_string());
            }
        }
        Err(e) if service_code(&e) == Some("ResourceNotFoundException") || service_code(&e) == Some("ValidationException") => return Ok(state),
        Err(e) => return Err(sdk_error("bedrock", "GetFoundationModel", e)),
    }
    match clients.bedrock.get_foundation_model_availability().model_id(&fm).send().await {
        Ok(a) => {
            state.authorization = Some(a.authorization_status().as_str().to_string());
            state.entitlement = Some(a.entitlement_availability().as_str().to_string());
            state.agreement = a.agreement_availability().map(|g| g.status().as_str().to_string());
            state.region_availability = Some(a.region_availability().as_str().to_string());
        }
        Err(e) => {
            let err = read_error(&sdk_error("bedrock", "GetFoundationModelAvailability", e));
            record("the model's availability", &err, failures);
            state.availability_error = Some(err);
        }
    }
    let profiles = clients.bedrock.list_inference_profiles().send().await.map_err(|e| sdk_error("bedrock", "ListInferenceProfiles", e))?;
    for p in profiles.inference_profile_summaries() {
        if p.models().iter().any(|m| m.model_arn().is_some_and(|a| a.ends_with(&format!("/{fm}")))) {
            state.profiles.push(p.inference_profile_id().to_string());
        }
    }
    Ok(state)
}

async fn jobs(clients: &Clients) -> Result<Vec<JobSummary>> {
    let out =
        clients.bedrock.list_model_invocation_jobs().max_results(100).send().await.map_err(|e| sdk_error("bedrock", "ListModelInvocationJobs", e))?;
    Ok(out
        .invocation_job_summaries()
        .iter()
        .map(|j| JobSummary {
            arn: j.job_arn().to_string(),
            name: j.job_name().to_string(),
            model_id: j.model_id().to_string(),
            status: j.status().map(|s| s.as_str().to_string()).unwrap_or_default(),
            message: j.message().map(str::to_string),
            output_uri: j.output_data_config().and_then(|o| o.as_s3_output_data_config().ok()).map(|o| o.s3_uri().to_string()),
            timeout_hours: j.timeout_duration_in_hours(),
            total_records: j.total_record_count(),
            success_records: j.success_record_count(),
            error_records: j.error_record_count(),
            record_errors: None,
        })
        .collect())
}

/// How many recent jobs with failed records have their output read.
const RECORD_ERROR_JOBS: usize = 3;

/// Reads the record-level errors of the model's most recent jobs with failed records.
async fn add_record_errors(clients: &Clients, jobs: &mut [JobSummary], same_model: impl Fn(&str) -> bool, failures: &Failures) {
    for j in jobs.iter_mut().filter(|j| j.has_failed_records() && same_model(&j.model_id)).take(RECORD_ERROR_JOBS) {
        let Some(uri) = j.output_uri.clone() else { continue };
        j.record_errors = Some(match crate::outcomes::record_errors(clients, &uri, &j.arn).await {
            Ok(r) => Known::Value(r),
            Err(e) => unknown(&format!("the output of job {}", j.name), &e, failures),
        });
    }
}

/// Reads everything `check` needs, concurrently, each resource once. A read that fails is
/// recorded as unknown (and in `read_failures`), never guessed.
pub async fn snapshot(clients: &Clients, settings: &Settings, identity: &crate::aws::Identity, org_files: &crate::org::OrgFiles) -> Result<Snapshot> {
    // Files given on the command line stand in for Organizations (and are checked first, so a
    // bad file fails before any read).
    let org_from_files = if org_files.is_empty() { None } else { Some(crate::org::from_files(org_files)?) };
    let input = settings.input()?.clone();
    let output = settings.output()?.clone();
    let role_name = settings.role_name()?.to_string();
    let model = settings.model()?.clone();
    let caller_arn = settings.caller_arn.as_ref().map(|c| c.arn.clone()).unwrap_or_else(|| identity.arn.clone());
    let account = identity.account.clone();
    let failures = std::sync::Mutex::new(Vec::new());

    let sim_pairs = simulation_pairs(settings, &identity.partition, &account)?;
    let caller_fut = async {
        match PrincipalArn::parse(&caller_arn) {
            Ok(p) => match raw_principal_documents(clients, &p).await {
                Ok(Some((docs, boundary))) => (Known::Value(true), Known::Value(docs), boundary, None),
                // GetUser / GetRole answered NoSuchEntity: the caller does not exist.
                Ok(None) => (Known::Value(false), Known::Value(vec![]), None, None),
                Err(e) => {
                    // Fall back to IAM's simulator where the caller may use it; else unknown.
                    let sim = simulate(clients, &p, &sim_pairs).await;
                    let first = read_error(&e);
                    let why = match &sim {
                        Ok(_) => format!("{e}; decisions taken from iam:SimulatePrincipalPolicy instead"),
                        Err(se) => format!("{e}; iam:SimulatePrincipalPolicy also failed: {se}"),
                    };
                    let policies = ReadError::new(first.kind, why);
                    record("the caller's policies", &policies, &failures);
                    (Known::Unknown(first), Known::Unknown(policies), None, sim.ok())
                }
            },
            Err(rule) => {
                let e = Error::Usage(format!("the caller {caller_arn} is not an IAM user, role or assumed-role ARN ({rule}); set caller_arn"));
                (Known::Unknown(read_error(&e)), unknown("the caller's policies", &e, &failures), None, None)
            }
        }
    };
    let role_fut = async {
        match role_state(clients, &role_name).await {
            Ok(r) => Known::Value(r),
            Err(e) => unknown("the service role", &e, &failures),
        }
    };
    let mut bucket_names = vec![input.bucket.clone()];
    if output.bucket != input.bucket {
        bucket_names.push(output.bucket.clone());
    }
    let buckets_fut = futures_join_all(bucket_names.iter().map(|b| bucket_state(clients, b, &account, &failures)));
    let objects_fut = async {
        match input_objects(clients, &input).await {
            Ok(o) => Known::Value(o),
            Err(e) => unknown("the input objects", &e, &failures),
        }
    };
    let model_fut = async {
        match model_state(clients, settings, &failures).await {
            Ok(m) => Known::Value(m),
            Err(e) => unknown("the model", &e, &failures),
        }
    };
    let quotas_fut = async {
        match crate::quotas::batch_quotas(clients).await {
            Ok(q) => Known::Value(q),
            Err(e) => unknown("the batch quotas", &e, &failures),
        }
    };
    let jobs_fut = async {
        match jobs(clients).await {
            Ok(j) => Known::Value(j),
            Err(e) => unknown("the batch jobs", &e, &failures),
        }
    };
    let org_fut = async {
        match org_from_files {
            Some(o) => Known::Value(o),
            None => match crate::org::read(clients, &account).await {
                Ok(o) => Known::Value(o),
                // Most callers may not read them (only the management account and a delegated
                // administrator may): not a failure of the setup, so not a read failure either.
                Err(e) => Known::Unknown(read_error(&e)),
            },
        }
    };
    let ((caller_exists, caller_policies, caller_boundary, caller_simulated), role, buckets, input_objects, model_state, all_quotas, jobs, org) =
        tokio::join!(caller_fut, role_fut, buckets_fut, objects_fut, model_fut, quotas_fut, jobs_fut, org_fut);
    // The model's quotas, by its live name (GetFoundationModel), else the catalogue's.
    let fm = model_state.value().and_then(|m| m.foundation_model_id.clone()).or_else(|| model.foundation_model_id.clone());
    let quota_model_name =
        model_state.value().and_then(|m| m.name.clone()).or_else(|| fm.as_deref().and_then(crate::catalogue::model).map(|e| e.name.clone()));
    let mut jobs = jobs;
    if let Known::Value(list) = &mut jobs {
        let model = model.clone();
        add_record_errors(clients, list, |id| model.names_job_model(id), &failures).await;
    }
    let quotas = match all_quotas {
        Known::Value(all) => Known::Value(quota_model_name.as_deref().map(|n| crate::quotas::for_model(&all, n)).unwrap_or_default()),
        Known::Unknown(e) => Known::Unknown(e),
    };

    // KMS keys: the buckets' default encryption keys and the configured one, each read once.
    let mut keys: Vec<String> = buckets.iter().filter(|b| b.uses_kms()).filter_map(|b| b.kms_key.clone()).collect();
    if let Some(k) = &settings.kms_key {
        keys.push(k.as_str().to_string());
    }
    keys.sort();
    keys.dedup();
    let mut kms_keys = Vec::new();
    for key in keys {
        let arn = clients.kms.describe_key().key_id(&key).send().await.ok().and_then(|d| d.key_metadata().and_then(|m| m.arn().map(str::to_string)));
        let policy = match clients.kms.get_key_policy().key_id(arn.as_deref().unwrap_or(&key)).policy_name("default").send().await {
            Ok(p) => Known::Value(doc_value(p.policy().unwrap_or("{}"))),
            Err(e) => unknown(&format!("the key policy of {key}"), &sdk_error("kms", "GetKeyPolicy", e), &failures),
        };
        kms_keys.push(crate::snapshot::KmsKeyState { key, arn, policy });
    }

    Ok(Snapshot {
        version: SNAPSHOT_VERSION,
        account_id: account,
        partition: identity.partition.clone(),
        settings: crate::config::to_snapshot(settings, &caller_arn)?,
        caller: PrincipalState {
            arn: caller_arn,
            exists: caller_exists,
            policies: caller_policies,
            boundary: caller_boundary,
            simulated: caller_simulated,
        },
        role,
        buckets,
        input_objects,
        model: model_state,
        quotas,
        quota_model_name,
        jobs,
        kms_keys,
        read_failures: failures.into_inner().expect("lock"),
        org,
    })
}

/// Runs futures concurrently and collects their outputs in order.
async fn futures_join_all<F: std::future::Future>(futs: impl Iterator<Item = F>) -> Vec<F::Output> {
    let mut out = Vec::new();
    let futs: Vec<_> = futs.map(Box::pin).collect();
    // Two buckets at most: join them pairwise.
    let mut it = futs.into_iter();
    match (it.next(), it.next()) {
        (Some(a), Some(b)) => {
            let (x, y) = tokio::join!(a, b);
            out.push(x);
            out.push(y);
        }
        (Some(a), None) => out.push(a.await),
        _ => {}
    }
    out
}

/// The (action, resource) pairs the caller checks need: PassRole on the role, and the job
/// actions the checks evaluate.
fn simulation_pairs(settings: &Settings, partition: &str, account: &str) -> Result<Vec<(String, String)>> {
    let rctx = crate::render::Context::new(settings, &crate::render::Account { id: account.to_string(), partition: partition.to_string() })?;
    let mut pairs = vec![("iam:PassRole".to_string(), rctx.role_arn.clone())];
    pairs.extend(crate::checks::job_requests(&rctx));
    Ok(pairs)
}

/// iam:SimulatePrincipalPolicy for each pair (PassRole with iam:PassedToService = Bedrock).
async fn simulate(clients: &Clients, principal: &PrincipalArn, pairs: &[(String, String)]) -> Result<Vec<crate::snapshot::SimulatedDecision>> {
    use aws_sdk_iam::types::{ContextEntry, ContextKeyTypeEnum};
    let source = match principal.kind {
        PrincipalKind::AssumedRole => format!("arn:{}:iam::{}:role/{}", principal.partition, principal.account, principal.name),
        _ => principal.arn.clone(),
    };
    let mut out = Vec::new();
    for (action, resource) in pairs {
        let mut req = clients.iam.simulate_principal_policy().policy_source_arn(&source).action_names(action).resource_arns(resource);
        if action == "iam:PassRole" {
            req = req.context_entries(
                ContextEntry::builder()
                    .context_key_name("iam:PassedToService")
                    .context_key_values("bedrock.amazonaws.com")
                    .context_key_type(ContextKeyTypeEnum::String)
                    .build(),
            );
        }
        let res = req.send().await.map_err(|e| sdk_error("iam", "SimulatePrincipalPolicy", e))?;
        for r in res.evaluation_results() {
            out.push(crate::snapshot::SimulatedDecision {
                action: r.eval_action_name().to_string(),
                resource: r.eval_resource_name().unwrap_or(resource).to_string(),
                decision: r.eval_decision().as_str().to_string(),
            });
        }
    }
    Ok(out)
}
