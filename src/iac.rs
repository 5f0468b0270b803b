//! `render --format terraform|cloudformation`: the whole setup as infrastructure code, for teams
//! whose IAM lives in Terraform or CloudFormation. The policy documents are exactly `render`'s.
//!
//! Terraform (AWS provider): `aws_iam_role` with `assume_role_policy`, `aws_iam_role_policy`,
//! `aws_s3_bucket_policy` per bucket, and the submitter's `aws_iam_user_policy` or
//! `aws_iam_role_policy`; with `--with-buckets`, `aws_s3_bucket` with
//! `aws_s3_bucket_server_side_encryption_configuration` and `aws_s3_bucket_public_access_block`.
//! Each document is a heredoc of its JSON (Terraform reads a policy as a JSON string), with `${`
//! and `%{` escaped as `$${` and `%%{` so Terraform never takes a policy variable such as
//! `${aws:username}` for its own interpolation.
//!
//! CloudFormation: `AWS::IAM::Role` (trust policy and the inline role policy),
//! `AWS::S3::BucketPolicy` per bucket, `AWS::IAM::UserPolicy` or `AWS::IAM::RolePolicy` for the
//! submitter; with `--with-buckets`, `AWS::S3::Bucket` with encryption and a public access block.
//!
//! An IAM Identity Center role (`AWSReservedSSO_*`) is never a resource: only Identity Center
//! may edit it, so its policy is given as a comment (Terraform, YAML) or in `Metadata` (JSON), as
//! `apply` does. Terraform and CloudFormation own a bucket policy whole: statements other people
//! added to a live policy must be added to these documents, which a comment says.

use std::fmt::Write;

use serde_json::{json, Map, Value};

use crate::render::{Context, Rendered};

/// What the export writes about the submitter.
enum Caller {
    User(String),
    Role(String),
    /// An Identity Center role: a comment, never a resource.
    Sso(String),
    None,
}

fn caller(ctx: &Context) -> Caller {
    use crate::settings::PrincipalKind as K;
    let Some(p) = ctx.caller_arn.as_deref().and_then(|arn| crate::settings::PrincipalArn::parse(arn).ok()) else { return Caller::None };
    // `name` is the user's or role's (an assumed-role session names its role).
    match p.kind {
        K::User => Caller::User(p.name),
        K::Role | K::AssumedRole if crate::plan::is_sso_role(&p.name) => Caller::Sso(p.name),
        K::Role | K::AssumedRole => Caller::Role(p.name),
        K::Root => Caller::None,
    }
}

fn doc<'a>(docs: &'a [Rendered], name: &str) -> Option<&'a Rendered> {
    docs.iter().find(|d| d.name == name)
}

/// A Terraform identifier from a bucket name.
fn tf_id(s: &str) -> String {
    let id: String = s.chars().map(|c| if c.is_ascii_alphanumeric() || c == '_' { c } else { '_' }).collect();
    if id.starts_with(|c: char| c.is_ascii_digit()) {
        format!("b_{id}")
    } else {
        id
    }
}

/// A Terraform string literal.
fn tf_str(s: &str) -> String {
    let escaped = serde_json::to_string(s).expect("a string serialises");
    escaped.replace("${", "$${").replace("%{", "%%{")
}

/// A policy as a Terraform heredoc of its JSON (interpolation sequences escaped).
fn tf_policy(v: &Value) -> String {
    let json = serde_json::to_string_pretty(v).expect("a document serialises").replace("${", "$${").replace("%{", "%%{");
    format!("<<-POLICY\n{json}\nPOLICY")
}

fn tf_tags(ctx: &Context) -> String {
    let mut tags = ctx.tags.clone();
    tags.entry("managed-by".into()).or_insert_with(|| "bedbatch-doctor".into());
    let items: Vec<String> = tags.iter().map(|(k, v)| format!("    {} = {}", tf_str(k), tf_str(v))).collect();
    format!("  tags = {{\n{}\n  }}\n", items.join("\n"))
}

pub fn terraform(ctx: &Context, docs: &[Rendered], with_buckets: bool) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# Amazon Bedrock batch inference for account {} in {} (bedbatch-doctor render --format terraform).\n# The policy documents are the ones `bedbatch-doctor render` prints; `bedbatch-doctor check` verifies the result.\n",
        ctx.account_id, ctx.region
    );
    if let Some(trust) = doc(docs, "trust-policy") {
        let _ = writeln!(
            out,
            "resource \"aws_iam_role\" \"bedrock_batch\" {{\n  name               = {}\n  path               = {}\n  description        = \"Bedrock batch inference service role (bedbatch-doctor)\"\n  assume_role_policy = {}\n{}}}\n",
            tf_str(&ctx.role_name),
            tf_str(&ctx.role_path),
            tf_policy(&trust.document),
            tf_tags(ctx)
        );
    }
    if let Some(p) = doc(docs, "role-policy") {
        let _ = writeln!(
            out,
            "resource \"aws_iam_role_policy\" \"bedrock_batch\" {{\n  name   = {}\n  role   = aws_iam_role.bedrock_batch.id\n  policy = {}\n}}\n",
            tf_str(crate::plan::ROLE_POLICY_NAME),
            tf_policy(&p.document)
        );
    }
    if with_buckets {
        for b in ctx.buckets() {
            let id = tf_id(&b.name);
            let sse = match &ctx.kms_key_arn {
                Some(k) => format!("sse_algorithm     = \"aws:kms\"\n      kms_master_key_id = {}", tf_str(k)),
                None => "sse_algorithm = \"AES256\"".to_string(),
            };
            let _ = writeln!(
                out,
                "resource \"aws_s3_bucket\" \"{id}\" {{\n  bucket = {}\n{}}}\n\nresource \"aws_s3_bucket_server_side_encryption_configuration\" \"{id}\" {{\n  bucket = aws_s3_bucket.{id}.id\n  rule {{\n    apply_server_side_encryption_by_default {{\n      {sse}\n    }}\n  }}\n}}\n\nresource \"aws_s3_bucket_public_access_block\" \"{id}\" {{\n  bucket                  = aws_s3_bucket.{id}.id\n  block_public_acls       = true\n  block_public_policy     = true\n  ignore_public_acls      = true\n  restrict_public_buckets = true\n}}\n",
                tf_str(&b.name),
                tf_tags(ctx)
            );
        }
    }
    for p in docs.iter().filter(|d| d.name == "bucket-policy") {
        let bucket = p.bucket.clone().unwrap_or_default();
        let id = tf_id(&bucket);
        let bucket_ref = if with_buckets { format!("aws_s3_bucket.{id}.id") } else { tf_str(&bucket) };
        let _ = writeln!(
            out,
            "# Terraform owns this bucket's whole policy: add here any statement others wrote to the live one.\nresource \"aws_s3_bucket_policy\" \"{id}\" {{\n  bucket = {bucket_ref}\n  policy = {}\n}}\n",
            tf_policy(&p.document)
        );
    }
    if let Some(p) = doc(docs, "passrole-policy") {
        match caller(ctx) {
            Caller::User(name) => {
                let _ = writeln!(
                    out,
                    "resource \"aws_iam_user_policy\" \"bedrock_batch_submitter\" {{\n  name   = {}\n  user   = {}\n  policy = {}\n}}",
                    tf_str(crate::plan::CALLER_POLICY_NAME),
                    tf_str(&name),
                    tf_policy(&p.document)
                );
            }
            Caller::Role(name) => {
                let role = if name == ctx.role_name { "aws_iam_role.bedrock_batch.id".to_string() } else { tf_str(&name) };
                let _ = writeln!(
                    out,
                    "resource \"aws_iam_role_policy\" \"bedrock_batch_submitter\" {{\n  name   = {}\n  role   = {role}\n  policy = {}\n}}",
                    tf_str(crate::plan::CALLER_POLICY_NAME),
                    tf_policy(&p.document)
                );
            }
            Caller::Sso(name) => {
                let _ = writeln!(out, "# {name} is an IAM Identity Center role, which only Identity Center may edit: add this policy to its permission set as an inline policy.");
                for line in serde_json::to_string_pretty(&p.document).expect("serialises").lines() {
                    let _ = writeln!(out, "#   {line}");
                }
            }
            Caller::None => {}
        }
    }
    out
}

/// The CloudFormation template as a JSON value (printed as YAML, or JSON with --output json).
pub fn cloudformation(ctx: &Context, docs: &[Rendered], with_buckets: bool) -> Value {
    let mut tags: Vec<Value> = ctx.tags.iter().map(|(k, v)| json!({"Key": k, "Value": v})).collect();
    if !ctx.tags.contains_key("managed-by") {
        tags.push(json!({"Key": "managed-by", "Value": "bedbatch-doctor"}));
    }
    let mut resources = Map::new();
    let mut metadata = Map::new();
    if let Some(trust) = doc(docs, "trust-policy") {
        let mut props = json!({
            "RoleName": ctx.role_name,
            "Path": ctx.role_path,
            "Description": "Bedrock batch inference service role (bedbatch-doctor)",
            "AssumeRolePolicyDocument": trust.document,
            "Tags": tags,
        });
        if let Some(p) = doc(docs, "role-policy") {
            props["Policies"] = json!([{"PolicyName": crate::plan::ROLE_POLICY_NAME, "PolicyDocument": p.document}]);
        }
        resources.insert("BedrockBatchRole".into(), json!({"Type": "AWS::IAM::Role", "Properties": props}));
    }
    let logical = |prefix: &str, name: &str| -> String {
        let id: String = name
            .split(|c: char| !c.is_ascii_alphanumeric())
            .map(|w| {
                let mut c = w.chars();
                c.next().map(|f| f.to_ascii_uppercase().to_string() + c.as_str()).unwrap_or_default()
            })
            .collect();
        format!("{prefix}{id}")
    };
    if with_buckets {
        for b in ctx.buckets() {
            let sse = match &ctx.kms_key_arn {
                Some(k) => json!({"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": k}),
                None => json!({"SSEAlgorithm": "AES256"}),
            };
            resources.insert(
                logical("Bucket", &b.name),
                json!({"Type": "AWS::S3::Bucket", "DeletionPolicy": "Retain", "UpdateReplacePolicy": "Retain", "Properties": {
                    "BucketName": b.name,
                    "BucketEncryption": {"ServerSideEncryptionConfiguration": [{"ServerSideEncryptionByDefault": sse}]},
                    "PublicAccessBlockConfiguration": {"BlockPublicAcls": true, "BlockPublicPolicy": true, "IgnorePublicAcls": true, "RestrictPublicBuckets": true},
                    "Tags": tags,
                }}),
            );
        }
    }
    for p in docs.iter().filter(|d| d.name == "bucket-policy") {
        let bucket = p.bucket.clone().unwrap_or_default();
        let bucket_ref = if with_buckets { json!({"Ref": logical("Bucket", &bucket)}) } else { json!(bucket) };
        resources.insert(
            logical("BucketPolicy", &bucket),
            json!({"Type": "AWS::S3::BucketPolicy", "Properties": {"Bucket": bucket_ref, "PolicyDocument": p.document}}),
        );
        metadata.insert(
            logical("BucketPolicy", &bucket),
            json!("CloudFormation owns this bucket's whole policy: add here any statement others wrote to the live one."),
        );
    }
    if let Some(p) = doc(docs, "passrole-policy") {
        match caller(ctx) {
            Caller::User(name) => {
                resources.insert(
                    "SubmitterPolicy".into(),
                    json!({"Type": "AWS::IAM::UserPolicy", "Properties": {"UserName": name, "PolicyName": crate::plan::CALLER_POLICY_NAME, "PolicyDocument": p.document}}),
                );
            }
            Caller::Role(name) => {
                let role = if name == ctx.role_name { json!({"Ref": "BedrockBatchRole"}) } else { json!(name) };
                resources.insert(
                    "SubmitterPolicy".into(),
                    json!({"Type": "AWS::IAM::RolePolicy", "Properties": {"RoleName": role, "PolicyName": crate::plan::CALLER_POLICY_NAME, "PolicyDocument": p.document}}),
                );
            }
            Caller::Sso(name) => {
                metadata.insert(
                    "SubmitterPolicy".into(),
                    json!({"Note": format!("{name} is an IAM Identity Center role, which only Identity Center may edit: add this policy to its permission set as an inline policy."), "PolicyDocument": p.document}),
                );
            }
            Caller::None => {}
        }
    }
    let mut t = json!({
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": format!("Amazon Bedrock batch inference for account {} in {} (bedbatch-doctor render --format cloudformation)", ctx.account_id, ctx.region),
        "Resources": resources,
    });
    if !metadata.is_empty() {
        t["Metadata"] = json!({"bedbatch-doctor": metadata});
    }
    t
}

/// YAML for a JSON value: block mappings and sequences, every scalar string double-quoted in
/// JSON's own syntax (valid YAML 1.2), so nothing is read as a number, boolean or tag.
pub fn yaml(v: &Value) -> String {
    let mut out = String::new();
    emit(v, 0, &mut out);
    out
}

fn scalar(v: &Value) -> String {
    match v {
        Value::String(s) => serde_json::to_string(s).expect("a string serialises"),
        other => other.to_string(),
    }
}

/// A mapping key: plain when it is a simple word YAML cannot read as anything but a string,
/// else double-quoted.
fn key(k: &str) -> String {
    let plain = k.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !matches!(k.to_ascii_lowercase().as_str(), "true" | "false" | "null" | "yes" | "no" | "on" | "off" | "y" | "n");
    if plain {
        k.to_string()
    } else {
        serde_json::to_string(k).expect("a key serialises")
    }
}

fn emit(v: &Value, indent: usize, out: &mut String) {
    let pad = " ".repeat(indent);
    match v {
        Value::Object(m) if !m.is_empty() => {
            for (k, val) in m {
                let key = key(k);
                match val {
                    Value::Object(o) if !o.is_empty() => {
                        let _ = writeln!(out, "{pad}{key}:");
                        emit(val, indent + 2, out);
                    }
                    Value::Array(a) if !a.is_empty() => {
                        let _ = writeln!(out, "{pad}{key}:");
                        emit(val, indent + 2, out);
                    }
                    Value::Object(_) => {
                        let _ = writeln!(out, "{pad}{key}: {{}}");
                    }
                    Value::Array(_) => {
                        let _ = writeln!(out, "{pad}{key}: []");
                    }
                    _ => {
                        let _ = writeln!(out, "{pad}{key}: {}", scalar(val));
                    }
                }
            }
        }
        Value::Array(a) if !a.is_empty() => {
            for item in a {
                match item {
                    Value::Object(o) if !o.is_empty() => {
                        // The first key on the dash line, the rest indented under it.
                        let mut inner = String::new();
                        emit(item, indent + 2, &mut inner);
                        let trimmed = inner.trim_start_matches(' ');
                        let _ = write!(out, "{pad}- {trimmed}");
                    }
                    Value::Array(x) if !x.is_empty() => {
                        let _ = writeln!(out, "{pad}-");
                        emit(item, indent + 2, out);
                    }
                    _ => {
                        let _ = writeln!(
                            out,
                            "{pad}- {}",
                            if item.is_object() {
                                "{}".into()
                            } else if item.is_array() {
                                "[]".into()
                            } else {
                                scalar(item)
                            }
                        );
                    }
                }
            }
        }
        Value::Object(_) => out.push_str(&format!("{pad}{{}}\n")),
        Value::Array(_) => out.push_str(&format!("{pad}[]\n")),
        _ => {
            let _ = writeln!(out, "{pad}{}", scalar(v));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yaml_of_nested_values_reads_back_as_the_same_json() {
        let v = json!({"a": [{"b": 1, "c": ["x", {"d": null}]}, [], {}], "e": "${aws:username}", "f": {"g": true}, "h": "yes"});
        let y = yaml(&v);
        assert!(y.contains("h: \"yes\""), "{y}");
        assert!(y.contains("- b: 1"), "{y}");
        assert_eq!(key("aws:SourceArn"), "\"aws:SourceArn\"");
        assert_eq!(key("On"), "\"On\"");
    }

    #[test]
    fn terraform_strings_escape_interpolation() {
        assert_eq!(tf_str("a${b}%{c}"), "\"a$${b}%%{c}\"");
        assert!(tf_policy(&json!({"Resource": "arn:aws:s3:::b/${aws:username}/*"})).contains("$${aws:username}"));
    }
}
