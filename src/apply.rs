//! plan / apply / rollback against the live account.
//!
//! Writes go in an order where no intermediate state grants more than the final one: buckets
//! (no grants), then the role and its trust, its permissions, the bucket policies, and the
//! caller's PassRole last. Before each write the document it replaces is recorded in a backup
//! manifest, and each finished step is recorded at once, so a partial apply can be rolled back
//! and a second apply finishes the rest.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::aws::{sdk_error, service_code, Clients};
use crate::collect;
use crate::error::{Error, Result};
use crate::plan::{self, Action, Change, Target, CALLER_POLICY_NAME, MANAGED_BY, ROLE_POLICY_NAME};
use crate::render::{Account, Context, Renderer};
use crate::settings::{PrincipalArn, PrincipalKind, Settings};

/// Reads the live documents and computes the changes, in write order.
pub async fn compute(clients: &Clients, settings: &Settings, caller_arn: &str, account: &Account) -> Result<Vec<Change>> {
    let mut ctx = Context::new(settings, account)?;
    ctx.caller_arn = Some(caller_arn.to_string());
    if let Some(p) = crate::session::routes_or_note(clients, settings).await? {
        ctx.set_routes(&p.arn, &p.models);
    }
    let docs = Renderer::new(None)?.render(&ctx, None)?;
    let doc = |n: &str| docs.iter().find(|d| d.name == n).map(|d| d.document.clone()).expect("rendered");
    let iam = &clients.iam;
    let mut changes = Vec::new();

    // Buckets (no grants).
    for b in ctx.buckets() {
        let exists = collect::s3::bucket_exists(clients, &b.name).await?;
        changes.push(Change {
            action: if exists { Action::Unchanged } else { Action::Create },
            target: Target::Bucket { name: b.name.clone() },
            title: if exists {
                format!("bucket s3://{}", b.name)
            } else {
                format!("bucket s3://{} in {} (default encryption, public access blocked)", b.name, ctx.region)
            },
            before: None,
            after: None,
            diff: String::new(),
        });
    }

    // The role and its trust policy (merged by Sid when the role exists).
    let role = collect::iam::role(iam, &ctx.role_name).await?.and_then(|r| r.role().cloned());
    let trust = doc("trust-policy");
    match &role {
        None => changes.push(plan::change(
            Target::Role { name: ctx.role_name.clone(), path: ctx.role_path.clone(), arn: ctx.role_arn.clone() },
            format!("role {} (trust policy)", ctx.role_arn),
            None,
            trust,
            false,
        )),
        Some(r) => {
            if r.path() != ctx.role_path {
                return Err(Error::Config(format!(
                    "role {} exists with path {} but role_path is {}: fix role_path (IAM cannot move a role)",
                    ctx.role_name,
                    r.path(),
                    ctx.role_path
                )));
            }
            let live = plan::parse_live(r.assume_role_policy_document().unwrap_or("{}"));
            let merged = plan::merge_by_sid(Some(&live), &trust);
            changes.push(plan::change(
                Target::Role { name: ctx.role_name.clone(), path: ctx.role_path.clone(), arn: r.arn().to_string() },
                format!("trust policy of {}", r.arn()),
                Some(live),
                merged,
                true,
            ));
        }
    }

    // The role's permissions: our own inline policy.
    let live = if role.is_some() { get_inline(iam, "role", &ctx.role_name, ROLE_POLICY_NAME).await? } else { None };
    let exists = live.is_some();
    changes.push(plan::change(
        Target::RolePolicy { role: ctx.role_name.clone(), policy_name: ROLE_POLICY_NAME.into() },
        format!("inline policy {ROLE_POLICY_NAME} of role {}", ctx.role_name),
        live,
        doc("role-policy"),
        exists,
    ));

    // Bucket policies, merged by Sid.
    for d in docs.iter().filter(|d| d.name == "bucket-policy") {
        let bucket = d.bucket.clone().expect("bucket policies name their bucket");
        let live = live_bucket_policy(clients, &bucket).await?;
        let merged = plan::merge_by_sid(live.as_ref(), &d.document);
        let exists = live.is_some();
        changes.push(plan::change(Target::BucketPolicy { bucket: bucket.clone() }, format!("bucket policy of s3://{bucket}"), live, merged, exists));
    }

    // The caller's PassRole policy, last.
    let caller = PrincipalArn::parse(caller_arn).map_err(|rule| Error::Config(format!("caller {caller_arn}: {rule}; set caller_arn")))?;
    let (kind, name) = match caller.kind {
        PrincipalKind::User => ("user", caller.name.clone()),
        PrincipalKind::Role | PrincipalKind::AssumedRole => ("role", caller.name.clone()),
        PrincipalKind::Root => return Err(Error::Config("the account root submits the jobs: set caller_arn to an IAM user or role".into())),
    };
    let target = Target::CallerPolicy {
        principal_arn: caller.arn.clone(),
        principal_kind: kind.into(),
        name: name.clone(),
        policy_name: CALLER_POLICY_NAME.into(),
    };
    let passrole = doc("passrole-policy");
    if kind == "role" && plan::is_sso_role(&name) {
        changes.push(Change {
            action: Action::Manual,
            target,
            title: format!("{name} is an IAM Identity Center role, which only Identity Center may edit: add this policy to its permission set as an inline policy"),
            before: None,
            after: Some(passrole),
            diff: String::new(),
        });
        return Ok(changes);
    }
    let caller_is_new_role = kind == "role" && name == ctx.role_name && role.is_none();
    if !caller_is_new_role && !collect::iam::principal_exists(iam, kind, &name).await? {
        return Err(Error::Config(format!(
            "caller_arn {caller_arn} does not exist (iam:Get{} answered NoSuchEntity): plan and apply would write its PassRole policy, so nothing is planned or written; set caller_arn to the user or role that submits jobs (`bedbatch-doctor whoami` prints yours)",
            if kind == "user" { "User" } else { "Role" }
        )));
    }
    let live = if caller_is_new_role {
        // The caller is the service role, which does not exist yet.
        None
    } else {
        get_inline(iam, kind, &name, CALLER_POLICY_NAME).await?
    };
    let exists = live.is_some();
    changes.push(plan::change(target, format!("inline policy {CALLER_POLICY_NAME} of {kind} {name}"), live, passrole, exists));
    Ok(changes)
}

// ------------------------------------------------------------------------------------ printing

/// How much of each change `print_plan` shows.
#[derive(Debug, Clone, Copy)]
pub struct PlanView {
    /// The whole planned document as a diff (apply), instead of three lines of context (plan).
    pub whole: bool,
    /// Also print each document exactly as it will be sent (`--show-documents`).
    pub documents: bool,
}

/// Prints each change once: its diff against the live document. A change made by hand (an
/// Identity Center caller) prints its whole document, since the user has to write it.
pub fn print_plan(changes: &[Change], view: PlanView) {
    for c in changes {
        let mark = match c.action {
            Action::Create => "+ create   ",
            Action::Update => "~ update   ",
            Action::Unchanged => "= unchanged",
            Action::Manual => "! by hand  ",
        };
        crate::say!("{mark} {}", c.title);
        let writes = matches!(c.action, Action::Create | Action::Update);
        let diff = if view.whole && writes { plan::whole_diff(c.before.as_ref(), c.after.as_ref(), &c.title) } else { c.diff.clone() };
        for line in diff.lines() {
            crate::say!("    {line}");
        }
        let manual = c.action == Action::Manual;
        if (view.documents && writes) || manual {
            if let Some(after) = &c.after {
                crate::say!("    {}", if manual { "document to write by hand:" } else { "document to write, exactly as sent:" });
                for line in serde_json::to_string_pretty(after).expect("serialises").lines() {
                    crate::say!("    {line}");
                }
            }
        }
    }
    crate::say!("{}", plan::summary_line(changes));
}

/// `{"changes": [...], "summary": {...}}`, the plan for `--output json`.
pub fn plan_json(changes: &[Change]) -> Value {
    serde_json::json!({"changes": changes, "summary": plan::counts(changes)})
}

// ------------------------------------------------------------------------------------ backups

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Step {
    pub target: Target,
    /// The document existed (the role, the bucket, the inline policy, the bucket policy).
    pub existed: bool,
    /// The document replaced, exactly as it was.
    pub before: Option<Value>,
    pub done: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Manifest {
    pub version: u32,
    pub account: String,
    pub region: String,
    pub steps: Vec<Step>,
}

/// The default backup folder: $XDG_STATE_HOME/bedbatch-doctor/backups, else
/// ~/.local/state/bedbatch-doctor/backups.
pub fn default_backup_root() -> Result<PathBuf> {
    state_home("backups", "--backup-dir")
}

pub use crate::confirm::state_home;

fn write_manifest(dir: &Path, m: &Manifest) -> Result<()> {
    let path = dir.join("manifest.json");
    let tmp = dir.join("manifest.json.tmp");
    std::fs::write(&tmp, serde_json::to_string_pretty(m).expect("serialises")).map_err(|e| Error::io(tmp.display(), e))?;
    std::fs::rename(&tmp, &path).map_err(|e| Error::io(path.display(), e))
}

pub use crate::confirm::confirm;

// ------------------------------------------------------------------------------------ apply

fn tags(settings: &Settings) -> Vec<(String, String)> {
    let mut t: Vec<(String, String)> = settings.tags.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
    t.retain(|(k, _)| k != MANAGED_BY.0);
    t.push((MANAGED_BY.0.into(), MANAGED_BY.1.into()));
    t
}

async fn write_step(clients: &Clients, settings: &Settings, change: &Change) -> Result<()> {
    let iam = &clients.iam;
    let doc = || change.after.as_ref().map(|d| d.to_string()).unwrap_or_default();
    match &change.target {
        Target::Bucket { name } => {
            let region = settings.region()?;
            let mut req = clients.s3.create_bucket().bucket(name);
            if region != "us-east-1" {
                req = req.create_bucket_configuration(
                    aws_sdk_s3::types::CreateBucketConfiguration::builder()
                        .location_constraint(aws_sdk_s3::types::BucketLocationConstraint::from(region))
                        .build(),
                );
            }
            req.send().await.map_err(|e| sdk_error("s3", "CreateBucket", e))?;
            use aws_sdk_s3::types::*;
            let default = match &settings.kms_key {
                Some(k) => {
                    let arn = match k {
                        crate::settings::KmsKey::Arn(a) | crate::settings::KmsKey::Id(a) => a.clone(),
                    };
                    ServerSideEncryptionByDefault::builder().sse_algorithm(ServerSideEncryption::AwsKms).kms_master_key_id(arn).build()
                }
                None => ServerSideEncryptionByDefault::builder().sse_algorithm(ServerSideEncryption::Aes256).build(),
            }
            .map_err(|e| crate::error::Error::Aws(format!("encryption configuration: {e}")))?;
            let rule = ServerSideEncryptionRule::builder().apply_server_side_encryption_by_default(default).build();
            let conf = ServerSideEncryptionConfiguration::builder()
                .rules(rule)
                .build()
                .map_err(|e| crate::error::Error::Aws(format!("encryption configuration: {e}")))?;
            clients
                .s3
                .put_bucket_encryption()
                .bucket(name)
                .server_side_encryption_configuration(conf)
                .send()
                .await
                .map_err(|e| sdk_error("s3", "PutBucketEncryption", e))?;
            let block = PublicAccessBlockConfiguration::builder()
                .block_public_acls(true)
                .ignore_public_acls(true)
                .block_public_policy(true)
                .restrict_public_buckets(true)
                .build();
            clients
                .s3
                .put_public_access_block()
                .bucket(name)
                .public_access_block_configuration(block)
                .send()
                .await
                .map_err(|e| sdk_error("s3", "PutPublicAccessBlock", e))?;
            let tagset: Vec<Tag> = tags(settings).into_iter().filter_map(|(k, v)| Tag::builder().key(k).value(v).build().ok()).collect();
            let tagging = Tagging::builder().set_tag_set(Some(tagset)).build().map_err(|e| crate::error::Error::Aws(format!("tagging: {e}")))?;
            clients.s3.put_bucket_tagging().bucket(name).tagging(tagging).send().await.map_err(|e| sdk_error("s3", "PutBucketTagging", e))?;
        }
        Target::Role { name, path, .. } => {
            if change.action == Action::Create {
                let t: Vec<aws_sdk_iam::types::Tag> =
                    tags(settings).into_iter().filter_map(|(k, v)| aws_sdk_iam::types::Tag::builder().key(k).value(v).build().ok()).collect();
                iam.create_role()
                    .role_name(name)
                    .path(path)
                    .assume_role_policy_document(doc())
                    .description("Bedrock batch inference service role (bedbatch-doctor)")
                    .set_tags(Some(t))
                    .send()
                    .await
                    .map_err(|e| sdk_error("iam", "CreateRole", e))?;
            } else {
                iam.update_assume_role_policy()
                    .role_name(name)
                    .policy_document(doc())
                    .send()
                    .await
                    .map_err(|e| sdk_error("iam", "UpdateAssumeRolePolicy", e))?;
            }
        }
        Target::RolePolicy { role, policy_name } => put_inline(iam, "role", role, policy_name, doc()).await?,
        Target::BucketPolicy { bucket } => {
            clients.s3.put_bucket_policy().bucket(bucket).policy(doc()).send().await.map_err(|e| sdk_error("s3", "PutBucketPolicy", e))?;
        }
        Target::CallerPolicy { principal_kind, name, policy_name, .. } => put_inline(iam, principal_kind, name, policy_name, doc()).await?,
    }
    Ok(())
}

/// Applies the pending changes, recording a backup manifest in a new folder under `backup_root`.
/// Returns the folder, or an error listing what was done and what was not.
pub async fn apply(clients: &Clients, settings: &Settings, account: &Account, changes: &[Change], backup_root: &Path) -> Result<Option<PathBuf>> {
    let pending: Vec<&Change> = changes.iter().filter(|c| matches!(c.action, Action::Create | Action::Update)).collect();
    if pending.is_empty() {
        return Ok(None);
    }
    let stamp = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis()).unwrap_or(0);
    let dir = backup_root.join(format!("apply-{stamp}"));
    std::fs::create_dir_all(&dir).map_err(|e| Error::io(format!("cannot create backup folder {}", dir.display()), e))?;
    let mut manifest = Manifest {
        version: 1,
        account: account.id.clone(),
        region: settings.region()?.to_string(),
        steps: pending
            .iter()
            .map(|c| Step { target: c.target.clone(), existed: c.action == Action::Update, before: c.before.clone(), done: false })
            .collect(),
    };
    write_manifest(&dir, &manifest)?;
    eprintln!("backup of the documents this apply replaces: {}", dir.display());
    for (i, c) in pending.iter().enumerate() {
        // Read the live document again right before writing: if someone changed it since the
        // plan was read and shown, writing now would replace their edit with a merge of a stale
        // copy. Stop instead, like a stale plan. (IAM and S3 have no conditional writes, so a
        // change in the instant between this read and the write cannot be excluded.)
        let step = match unchanged_since_plan(clients, c).await {
            Ok(true) => write_step(clients, settings, c).await,
            Ok(false) => Err(Error::Aws(format!(
                "the live {} changed after apply read it and showed the plan (someone else's edit, or another apply); nothing was written over it",
                c.title
            ))),
            Err(e) => Err(e),
        };
        if let Err(e) = step {
            let done: Vec<String> = pending[..i].iter().map(|c| format!("  done:     {}", c.title)).collect();
            let not: Vec<String> = pending[i..].iter().map(|c| format!("  not done: {}", c.title)).collect();
            return Err(Error::Aws(format!(
                "apply stopped at \"{}\": {e}\n{}\n{}\nRun apply again to finish (it picks up where this stopped), or `bedbatch-doctor rollback {}` to undo.",
                c.title,
                done.join("\n"),
                not.join("\n"),
                dir.display()
            )));
        }
        manifest.steps[i].done = true;
        write_manifest(&dir, &manifest)?;
        crate::say!("  done: {}", c.title);
    }
    Ok(Some(dir))
}

// ------------------------------------------------------------------------------------ rollback

/// The most recent backup folder under `root`.
pub fn latest_backup(root: &Path) -> Result<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(root)
        .map_err(|e| Error::Usage(format!("no backups in {}: {e}", root.display())))?
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.join("manifest.json").exists())
        .collect();
    dirs.sort();
    dirs.pop().ok_or_else(|| Error::Usage(format!("no backups in {}", root.display())))
}

pub fn read_manifest(dir: &Path) -> Result<Manifest> {
    let path = dir.join("manifest.json");
    let text = std::fs::read_to_string(&path).map_err(|e| Error::Usage(format!("cannot read {}: {e}", path.display())))?;
    serde_json::from_str(&text).map_err(|e| Error::Usage(format!("{}: not a bedbatch-doctor backup manifest: {e}", path.display())))
}

pub fn describe_rollback(m: &Manifest) -> Vec<String> {
    m.steps
        .iter()
        .rev()
        .filter(|s| s.done)
        .map(|s| {
            let what = match &s.target {
                Target::Role { name, .. } if !s.existed => format!("delete role {name} (created by that apply) and its inline policies"),
                Target::Role { name, .. } => format!("restore the trust policy of {name}"),
                Target::RolePolicy { role, policy_name } if !s.existed => format!("delete inline policy {policy_name} of role {role}"),
                Target::RolePolicy { role, policy_name } => format!("restore inline policy {policy_name} of role {role}"),
                Target::Bucket { name } => format!("delete bucket {name} (created by that apply; only if empty)"),
                Target::BucketPolicy { bucket } if !s.existed => format!("delete the bucket policy of {bucket}"),
                Target::BucketPolicy { bucket } => format!("restore the bucket policy of {bucket}"),
                Target::CallerPolicy { name, policy_name, .. } if !s.existed => format!("delete inline policy {policy_name} of {name}"),
                Target::CallerPolicy { name, policy_name, .. } => format!("restore inline policy {policy_name} of {name}"),
            };
            what
        })
        .collect()
}

pub async fn rollback(clients: &Clients, m: &Manifest) -> Result<()> {
    let iam = &clients.iam;
    for s in m.steps.iter().rev().filter(|s| s.done) {
        let before = || s.before.as_ref().map(|d| d.to_string()).unwrap_or_default();
        match (&s.target, s.existed) {
            (Target::Role { name, .. }, false) => {
                let names = iam.list_role_policies().role_name(name).send().await.map_err(|e| sdk_error("iam", "ListRolePolicies", e))?;
                for p in names.policy_names() {
                    iam.delete_role_policy().role_name(name).policy_name(p).send().await.map_err(|e| sdk_error("iam", "DeleteRolePolicy", e))?;
                }
                iam.delete_role().role_name(name).send().await.map_err(|e| sdk_error("iam", "DeleteRole", e))?;
            }
            (Target::Role { name, .. }, true) => {
                iam.update_assume_role_policy()
                    .role_name(name)
                    .policy_document(before())
                    .send()
                    .await
                    .map_err(|e| sdk_error("iam", "UpdateAssumeRolePolicy", e))?;
            }
            (Target::RolePolicy { role, policy_name }, false) => delete_inline(iam, "role", role, policy_name).await?,
            (Target::RolePolicy { role, policy_name }, true) => put_inline(iam, "role", role, policy_name, before()).await?,
            (Target::Bucket { name }, _) => {
                let listed = clients.s3.list_objects_v2().bucket(name).max_keys(1).send().await.map_err(|e| sdk_error("s3", "ListObjectsV2", e))?;
                if listed.key_count().unwrap_or(0) > 0 {
                    eprintln!("kept bucket {name}: it is not empty (delete its objects first to remove it)");
                } else {
                    clients.s3.delete_bucket().bucket(name).send().await.map_err(|e| sdk_error("s3", "DeleteBucket", e))?;
                }
            }
            (Target::BucketPolicy { bucket }, false) => {
                clients.s3.delete_bucket_policy().bucket(bucket).send().await.map_err(|e| sdk_error("s3", "DeleteBucketPolicy", e))?;
            }
            (Target::BucketPolicy { bucket }, true) => {
                clients.s3.put_bucket_policy().bucket(bucket).policy(before()).send().await.map_err(|e| sdk_error("s3", "PutBucketPolicy", e))?;
            }
            (Target::CallerPolicy { principal_kind, name, policy_name, .. }, true) => {
                put_inline(iam, principal_kind, name, policy_name, before()).await?
            }
            (Target::CallerPolicy { principal_kind, name, policy_name, .. }, false) => delete_inline(iam, principal_kind, name, policy_name).await?,
        }
    }
    Ok(())
}

// ------------------------------------------------------------------------------------ live documents

/// The role's trust policy, or None when the role does not exist.
async fn live_trust(iam: &aws_sdk_iam::Client, role: &str) -> Result<Option<Value>> {
    Ok(collect::iam::role(iam, role).await?.and_then(|r| r.role().map(|r| plan::parse_live(r.assume_role_policy_document().unwrap_or("{}")))))
}

/// The bucket's policy, or None when it has none (or the bucket does not exist yet).
async fn live_bucket_policy(clients: &Clients, bucket: &str) -> Result<Option<Value>> {
    Ok(collect::s3::live_bucket_policy(clients, bucket).await?.as_deref().map(plan::parse_live))
}

/// The live document a change replaces, read again right before its write. None: there is none.
/// A bucket has no document: Some(null) when it exists.
async fn live_document(clients: &Clients, target: &Target) -> Result<Option<Value>> {
    match target {
        Target::Bucket { name } => Ok(collect::s3::bucket_exists(clients, name).await?.then_some(Value::Null)),
        Target::Role { name, .. } => live_trust(&clients.iam, name).await,
        Target::RolePolicy { role, policy_name } => get_inline(&clients.iam, "role", role, policy_name).await,
        Target::BucketPolicy { bucket } => live_bucket_policy(clients, bucket).await,
        Target::CallerPolicy { principal_kind, name, policy_name, .. } => get_inline(&clients.iam, principal_kind, name, policy_name).await,
    }
}

/// Whether the live document is still the one the plan was computed from (and shown).
async fn unchanged_since_plan(clients: &Clients, change: &Change) -> Result<bool> {
    let live = live_document(clients, &change.target).await?;
    Ok(match (&change.target, change.action) {
        (Target::Bucket { .. }, Action::Create) => live.is_none(),
        (Target::Bucket { .. }, _) => live.is_some(),
        (_, Action::Create) => live.is_none(),
        _ => live.as_ref() == change.before.as_ref(),
    })
}

// ------------------------------------------------------------------------------------ inline policies

/// An inline policy of a user or role (`holder` is "user" or "role"), or None when it has none.
async fn get_inline(iam: &aws_sdk_iam::Client, holder: &str, name: &str, policy_name: &str) -> Result<Option<Value>> {
    Ok(collect::iam::inline_policy(iam, holder, name, policy_name).await?.as_deref().map(plan::parse_live))
}

async fn put_inline(iam: &aws_sdk_iam::Client, holder: &str, name: &str, policy_name: &str, document: String) -> Result<()> {
    if holder == "user" {
        iam.put_user_policy()
            .user_name(name)
            .policy_name(policy_name)
            .policy_document(document)
            .send()
            .await
            .map_err(|e| sdk_error("iam", "PutUserPolicy", e))?;
    } else {
        iam.put_role_policy()
            .role_name(name)
            .policy_name(policy_name)
            .policy_document(document)
            .send()
            .await
            .map_err(|e| sdk_error("iam", "PutRolePolicy", e))?;
    }
    Ok(())
}

/// Deletes an inline policy; one already gone is not an error (rollback may run twice).
async fn delete_inline(iam: &aws_sdk_iam::Client, holder: &str, name: &str, policy_name: &str) -> Result<()> {
    if holder == "user" {
        match iam.delete_user_policy().user_name(name).policy_name(policy_name).send().await {
            Ok(_) => Ok(()),
            Err(e) if service_code(&e) == Some("NoSuchEntity") => Ok(()),
            Err(e) => Err(sdk_error("iam", "DeleteUserPolicy", e)),
        }
    } else {
        match iam.delete_role_policy().role_name(name).policy_name(policy_name).send().await {
            Ok(_) => Ok(()),
            Err(e) if service_code(&e) == Some("NoSuchEntity") => Ok(()),
            Err(e) => Err(sdk_error("iam", "DeleteRolePolicy", e)),
        }
    }
}
