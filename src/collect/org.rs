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
use crate::policy::{Kind, Policy};
use crate::snapshot::{NamedDocument, OrgLevelState, OrgState};

/// `--scp` / `--rcp` files, each one policy document.
#[derive(Debug, Clone, Default)]
pub struct OrgFiles {
    pub scp: Vec<PathBuf>,
    pub rcp: Vec<PathBuf>,
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
    let text = std::fs::read_to_string(path).map_err(|e| Error::Usage(format!("{} {shown}: {e}", if rcp { "--rcp" } else { "--scp" })))?;
    let doc: Value = serde_json::from_str(&text).map_err(|e| Error::Usage(format!("{shown}: not JSON: {e}")))?;
    check_policy(&shown, &doc, rcp)?;
    Ok(NamedDocument { name: format!("file:{shown}"), document: doc })
}

/// The policies given as files: the SCP files form one level (their place in the hierarchy is
/// not known); when none of them allows anything it is a deny-list, and AWS's FullAWSAccess is
/// assumed beside it (said in `notes`). The RCP files form one level.
pub fn from_files(files: &OrgFiles) -> Result<OrgState> {
    let scp: Vec<NamedDocument> = files.scp.iter().map(|p| read_file(p, false)).collect::<Result<_>>()?;
    let rcp: Vec<NamedDocument> = files.rcp.iter().map(|p| read_file(p, true)).collect::<Result<_>>()?;
    let mut notes = vec![];
    let mut scps = vec![];
    if !scp.is_empty() {
        let mut level = scp;
        let allows = level.iter().any(|d| d.document.to_string().contains("\"Allow\""));
        if !allows {
            notes.push("the --scp files allow nothing, so they are deny-list SCPs: AWS's FullAWSAccess is assumed beside them".to_string());
            level.push(NamedDocument { name: "FullAWSAccess (assumed)".into(), document: full_aws_access() });
        }
        scps.push(OrgLevelState { target: "--scp files".into(), policies: level });
    }
    let rcps = if rcp.is_empty() { vec![] } else { vec![OrgLevelState { target: "--rcp files".into(), policies: rcp }] };
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
}
