//! The organization policies that bind the account: service control policies (SCPs) and
//! resource control policies (RCPs), read from AWS Organizations or given as files.
//!
//! AWS's rules (AWS Organizations User Guide, "Service control policies" and "Resource control
//! policies"): SCPs and RCPs do not affect the management account; SCPs are inherited down the
//! hierarchy, so the policies attached to the root, to every OU above the account and to the
//! account itself all apply, and each level must allow; RCPFullAWSAccess is attached at every
//! level and cannot be detached, so RCPs restrict only by Deny. Only the management account and
//! a delegated administrator may read them (ListParents, ListPoliciesForTarget, DescribePolicy);
//! everyone else gets AccessDenied, and then `--scp FILE` / `--rcp FILE` supply them.
//! DescribeOrganization answers AWSOrganizationsNotInUseException when the account is in no
//! organization (AWS Organizations API reference, DescribeOrganization: "Errors"): then no SCP or
//! RCP applies; any other error leaves the policies unknown.

use std::path::PathBuf;

use serde_json::{json, Value};

use crate::aws::{sdk_error, service_code, Clients};
use crate::error::{Error, Result};
use crate::policy::{Kind, NamedPolicy, OrgLevel, OrgLevelKind, Policy};
use crate::snapshot::{NamedDocument, OrgLevelState, OrgState};

/// `--scp` / `--rcp` values, each one policy document, optionally with the level it is attached
/// at: `root=FILE`, `ou=FILE` (repeatable: each is one OU, in path order from the root down),
/// `account=FILE`, or a bare `FILE`, which is an account-level policy (what the flag always
/// meant: the policies that bind the account, their place in the hierarchy not said).
#[derive(Debug, Clone, Default)]
pub struct OrgFiles {
    pub scp: Vec<PathBuf>,
    pub rcp: Vec<PathBuf>,
}

/// One `--scp`/`--rcp` value split into its level and file.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Given {
    Root(PathBuf),
    Ou(PathBuf),
    Account(PathBuf),
    /// A bare FILE: the account level.
    Bare(PathBuf),
}

fn given(value: &std::path::Path) -> Given {
    let Some(text) = value.to_str() else { return Given::Bare(value.to_path_buf()) };
    if let Some(f) = text.strip_prefix("root=") {
        Given::Root(f.into())
    } else if let Some(f) = text.strip_prefix("ou=") {
        Given::Ou(f.into())
    } else if let Some(f) = text.strip_prefix("account=") {
        Given::Account(f.into())
    } else {
        Given::Bare(value.to_path_buf())
    }
}

/// The level of a target: an Organizations id (`r-…` root, `ou-…` OU, else the account), or
/// the name `from_files` gives a level of files (`root of the --scp files`, `OU 2 of …`,
/// `account of …`, or `--scp files` when every file was bare).
pub fn level_kind(target: &str) -> OrgLevelKind {
    if target.starts_with("r-") || target.starts_with("root") {
        OrgLevelKind::Root
    } else if target.starts_with("ou-") || target.starts_with("OU ") {
        OrgLevelKind::Ou
    } else {
        OrgLevelKind::Account
    }
}

/// The levels as the policy engine takes them, each with its kind (`level_kind`); a document
/// that does not parse is skipped and named in the returned list. `check` and `simulate` both
/// go through here, so a denial names the same policy and level in both.
pub fn engine_levels(levels: &[OrgLevelState], rcp: bool) -> (Vec<OrgLevel>, Vec<String>) {
    let kind = if rcp { Kind::Resource } else { Kind::Identity };
    let mut skipped = vec![];
    let out = levels
        .iter()
        .map(|l| OrgLevel {
            target: l.target.clone(),
            kind: level_kind(&l.target),
            policies: l
                .policies
                .iter()
                .filter_map(|d| match Policy::from_value(&d.document, kind) {
                    Ok(p) => Some(NamedPolicy { name: d.name.clone(), policy: p }),
                    Err(e) => {
                        skipped.push(format!("{}: {e}", d.name));
                        None
                    }
                })
                .collect(),
        })
        .collect();
    (out, skipped)
}

impl OrgFiles {
    pub fn is_empty(&self) -> bool {
        self.scp.is_empty() && self.rcp.is_empty()
    }
}

/// AWS's FullAWSAccess SCP, attached to every root, OU and account unless replaced.
fn full_aws_access() -> Value {
    json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]})
}

/// Checks a policy as AWS accepts it at its layer; the error names the file and the rule.
fn check_policy(path: &str, doc: &Value, rcp: bool) -> Result<()> {
    let kind = if rcp { Kind::Resource } else { Kind::Identity };
    let policy = Policy::from_value(doc, kind).map_err(|e| Error::Usage(format!("{path}: not a valid policy: {e}")))?;
    if rcp {
        for st in &policy.statements {
            if st.not_action.is_some() {
                return Err(Error::Usage(format!("{path}: {}: NotAction is not supported in a resource control policy", st.label())));
            }
            if st.action.iter().flatten().any(|a| a == "*") {
                return Err(Error::Usage(format!("{path}: {}: an RCP's Action cannot be \"*\"; name the service (\"s3:*\")", st.label())));
            }
            if st.principal.is_none() {
                return Err(Error::Usage(format!("{path}: {}: an RCP statement needs Principal \"*\"", st.label())));
            }
        }
    } else if policy.statements.iter().any(|s| s.principal.is_some() || s.not_principal.is_some()) {
        return Err(Error::Usage(format!("{path}: an SCP has no Principal element (is this a resource policy?)")));
    }
    Ok(())
}

fn read_file(path: &PathBuf, rcp: bool) -> Result<NamedDocument> {
    let shown = path.display().to_string();
    if shown.is_empty() {
        return Err(Error::Usage(format!("{}: a level needs a file, e.g. ou=scp.json", if rcp { "--rcp" } else { "--scp" })));
    }
    let text = std::fs::read_to_string(path).map_err(|e| Error::Usage(format!("{} {shown}: {e}", if rcp { "--rcp" } else { "--scp" })))?;
    let doc: Value = serde_json::from_str(&text).map_err(|e| Error::Usage(format!("{shown}: not JSON: {e}")))?;
    check_policy(&shown, &doc, rcp)?;
    Ok(NamedDocument { name: format!("file:{shown}"), document: doc })
}

/// The levels of one flag's files, root first: `root=` files form the root level, each `ou=`
/// file an OU level (in the order given), `account=` and bare files the account level. When
/// every file is bare they form one level named `--scp files` (`--rcp files`), as before levels
/// could be given.
fn file_levels(values: &[PathBuf], rcp: bool) -> Result<Vec<OrgLevelState>> {
    let flag = if rcp { "--rcp" } else { "--scp" };
    let mut root = vec![];
    let mut ous = vec![];
    let mut account = vec![];
    let mut leveled = false;
    for v in values {
        match given(v) {
            Given::Root(f) => {
                leveled = true;
                root.push(read_file(&f, rcp)?)
            }
            Given::Ou(f) => {
                leveled = true;
                ous.push(read_file(&f, rcp)?)
            }
            Given::Account(f) => {
                leveled = true;
                account.push(read_file(&f, rcp)?)
            }
            Given::Bare(f) => account.push(read_file(&f, rcp)?),
        }
    }
    if !leveled {
        return Ok(if account.is_empty() { vec![] } else { vec![OrgLevelState { target: format!("{flag} files"), policies: account }] });
    }
    let mut levels = vec![];
    if !root.is_empty() {
        levels.push(OrgLevelState { target: format!("root of the {flag} files"), policies: root });
    }
    for (i, d) in ous.into_iter().enumerate() {
        levels.push(OrgLevelState { target: format!("OU {} of the {flag} files", i + 1), policies: vec![d] });
    }
    if !account.is_empty() {
        levels.push(OrgLevelState { target: format!("account of the {flag} files"), policies: account });
    }
    Ok(levels)
}

/// The policies given as files, level by level (see `OrgFiles`; a level not given is not on
/// the path as far as the files say, so it restricts nothing). AWS attaches at least one SCP at
/// every level, so a level whose SCP files allow nothing is a deny-list: AWS's FullAWSAccess is
/// assumed beside it (said in `notes`). RCP levels are taken as given (RCPFullAWSAccess is at
/// every level and only Denies restrict).
pub fn from_files(files: &OrgFiles) -> Result<OrgState> {
    let mut scps = file_levels(&files.scp, false)?;
    let rcps = file_levels(&files.rcp, true)?;
    let mut notes = vec![];
    for level in &mut scps {
        let allows = level.policies.iter().any(|d| d.document.to_string().contains("\"Allow\""));
        if !allows {
            notes.push(if level.target == "--scp files" {
                "the --scp files allow nothing, so they are deny-list SCPs: AWS's FullAWSAccess is assumed beside them".to_string()
            } else {
                format!("the SCP files at the {} allow nothing, so they are deny-list SCPs: AWS's FullAWSAccess is assumed beside them", level.target)
            });
            level.policies.push(NamedDocument { name: "FullAWSAccess (assumed)".into(), document: full_aws_access() });
        }
    }
    Ok(OrgState { source: "files".into(), not_applicable: None, scps, rcps, notes, org_id: None })
}

/// Reads the SCPs and RCPs that bind `account` from AWS Organizations.
pub async fn read(clients: &Clients, account: &str) -> Result<OrgState> {
    let org = &clients.organizations;
    let described = match org.describe_organization().send().await {
        Ok(d) => d,
        Err(e) if service_code(&e) == Some("AWSOrganizationsNotInUseException") => {
            return Ok(OrgState {
                source: "none".into(),
                not_applicable: Some("the account is in no AWS organization, so no SCP or RCP applies".into()),
                scps: vec![],
                rcps: vec![],
                notes: vec![],
                org_id: None,
            })
        }
        Err(e) => return Err(sdk_error("organizations", "DescribeOrganization", e)),
    };
    let org_id = described.organization().and_then(|o| o.id()).map(str::to_string);
    if described.organization().and_then(|o| o.master_account_id()) == Some(account) {
        return Ok(OrgState {
            source: "organizations".into(),
            not_applicable: Some(format!("{account} is the organization's management account, which SCPs and RCPs never restrict")),
            scps: vec![],
            rcps: vec![],
            notes: vec![],
            org_id,
        });
    }
    // The chain of targets: the account, its OU, … up to the root; then root first.
    let mut targets = vec![account.to_string()];
    let mut child = account.to_string();
    for _ in 0..10 {
        let parents = org.list_parents().child_id(&child).send().await.map_err(|e| sdk_error("organizations", "ListParents", e))?;
        let Some(p) = parents.parents().first() else { break };
        let id = p.id().unwrap_or_default().to_string();
        let root = p.r#type().is_some_and(|t| t.as_str() == "ROOT");
        targets.push(id.clone());
        if root {
            break;
        }
        child = id;
    }
    targets.reverse();
    let mut scps = vec![];
    let mut rcps = vec![];
    for target in &targets {
        scps.push(OrgLevelState { target: target.clone(), policies: attached(clients, target, "SERVICE_CONTROL_POLICY").await? });
        match attached(clients, target, "RESOURCE_CONTROL_POLICY").await {
            Ok(p) => rcps.push(OrgLevelState { target: target.clone(), policies: p }),
            // RCPs not enabled in the organization: none applies.
            Err(Error::Aws(m)) if m.contains("PolicyTypeNotEnabled") => {}
            Err(e) => return Err(e),
        }
    }
    Ok(OrgState { source: "organizations".into(), not_applicable: None, scps, rcps, notes: vec![], org_id })
}

async fn attached(clients: &Clients, target: &str, kind: &str) -> Result<Vec<NamedDocument>> {
    let org = &clients.organizations;
    let filter = aws_sdk_organizations::types::PolicyType::from(kind);
    let mut out = vec![];
    let mut pages = org.list_policies_for_target().target_id(target).filter(filter).into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| sdk_error("organizations", "ListPoliciesForTarget", e))?;
        for p in page.policies() {
            let id = p.id().unwrap_or_default();
            let d = org.describe_policy().policy_id(id).send().await.map_err(|e| sdk_error("organizations", "DescribePolicy", e))?;
            let content = d.policy().and_then(|p| p.content()).unwrap_or("{}");
            let document = serde_json::from_str(content).unwrap_or(Value::Null);
            out.push(NamedDocument { name: format!("{} ({id})", p.name().unwrap_or(id)), document });
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &std::path::Path, name: &str, v: &Value) -> PathBuf {
        let p = dir.join(name);
        std::fs::write(&p, v.to_string()).unwrap();
        p
    }

    #[test]
    fn deny_list_files_get_full_aws_access_and_rcp_rules_are_enforced() {
        let dir = tempfile::tempdir().unwrap();
        let deny = write(
            dir.path(),
            "deny.json",
            &json!({"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "bedrock:*", "Resource": "*"}]}),
        );
        let s = from_files(&OrgFiles { scp: vec![deny], rcp: vec![] }).unwrap();
        assert_eq!(s.scps[0].policies.len(), 2);
        assert!(s.notes[0].contains("FullAWSAccess"));
        let bad = write(
            dir.path(),
            "rcp.json",
            &json!({"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Principal": "*", "NotAction": "s3:GetObject", "Resource": "*"}]}),
        );
        let e = from_files(&OrgFiles { scp: vec![], rcp: vec![bad] }).unwrap_err().to_string();
        assert!(e.contains("rcp.json") && e.contains("NotAction"), "{e}");
        let broken = dir.path().join("broken.json");
        std::fs::write(&broken, "{not json").unwrap();
        assert!(from_files(&OrgFiles { scp: vec![broken], rcp: vec![] }).unwrap_err().to_string().contains("broken.json"));
    }

    /// `root=`, `ou=` (each one OU, in order), `account=` and bare files become levels root
    /// first, each with its kind; a bare file is account-level.
    #[test]
    fn levels_are_root_then_each_ou_then_the_account() {
        let dir = tempfile::tempdir().unwrap();
        let full = write(dir.path(), "full.json", &full_aws_access());
        let s3 =
            write(dir.path(), "s3.json", &json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}));
        let deny = write(
            dir.path(),
            "deny.json",
            &json!({"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "bedrock:*", "Resource": "*"}]}),
        );
        let tagged = |level: &str, p: &PathBuf| PathBuf::from(format!("{level}={}", p.display()));
        let files = OrgFiles { scp: vec![tagged("ou", &s3), tagged("root", &full), deny.clone(), tagged("ou", &full)], rcp: vec![] };
        let s = from_files(&files).unwrap();
        let targets: Vec<&str> = s.scps.iter().map(|l| l.target.as_str()).collect();
        assert_eq!(targets, ["root of the --scp files", "OU 1 of the --scp files", "OU 2 of the --scp files", "account of the --scp files"]);
        let (levels, skipped) = engine_levels(&s.scps, false);
        assert!(skipped.is_empty());
        let kinds: Vec<OrgLevelKind> = levels.iter().map(|l| l.kind).collect();
        assert_eq!(kinds, [OrgLevelKind::Root, OrgLevelKind::Ou, OrgLevelKind::Ou, OrgLevelKind::Account]);
        // The account level (the bare deny file) allows nothing: FullAWSAccess is assumed there.
        assert_eq!(s.scps[3].policies.len(), 2);
        assert!(s.notes[0].contains("account of the --scp files"), "{:?}", s.notes);
        // Organizations ids.
        assert_eq!(level_kind("r-ab12"), OrgLevelKind::Root);
        assert_eq!(level_kind("ou-ab12-cdef3456"), OrgLevelKind::Ou);
        assert_eq!(level_kind("123456789012"), OrgLevelKind::Account);
        assert_eq!(level_kind("--scp files"), OrgLevelKind::Account);
        // A level with no file is a usage error naming the flag.
        let e = from_files(&OrgFiles { scp: vec![PathBuf::from("ou=")], rcp: vec![] }).unwrap_err().to_string();
        assert!(e.contains("--scp") && e.contains("ou=scp.json"), "{e}");
    }
}
