//! S3 reads: a bucket's state (exists, owner, region, policy, default encryption, public access
//! block), the input objects, and the live bucket policy `apply` merges into.
//!
//! S3's codes are AWS's ("Amazon S3 error responses"): NoSuchBucket, NoSuchKey and
//! NoSuchBucketPolicy (404) mean the thing is missing, AccessDenied (403) that it was refused;
//! HEAD answers carry only the status. Any other error leaves the fact unknown.

use super::read::{doc_value, parse, read_error, unknown, Failures};
use crate::aws::{sdk_error, service_code, Clients};
use crate::error::{Error, Result};
use crate::policy::{Kind, NamedPolicy};
use crate::snapshot::{BucketState, Known, ObjectInfo, ReadError, ReadErrorKind};

/// A bucket's policy, or None when it has none.
pub async fn bucket_policy(clients: &Clients, bucket: &str) -> Result<Option<NamedPolicy>> {
    match clients.s3.get_bucket_policy().bucket(bucket).send().await {
        Ok(out) => Ok(Some(parse(format!("bucket-policy:{bucket}"), out.policy().unwrap_or("{}"), Kind::Resource)?)),
        Err(e) if service_code(&e) == Some("NoSuchBucketPolicy") => Ok(None),
        Err(e) => Err(sdk_error("s3", "GetBucketPolicy", e)),
    }
}

/// Whether the bucket exists, as `apply` plans it: HeadBucket, where 404 is "no" (HEAD answers
/// carry no error code, only the status: Amazon S3 API reference, HeadBucket).
pub async fn bucket_exists(clients: &Clients, name: &str) -> Result<bool> {
    match clients.s3.head_bucket().bucket(name).send().await {
        Ok(_) => Ok(true),
        Err(e) if e.raw_response().map(|r| r.status().as_u16()) == Some(404) => Ok(false),
        Err(e) => Err(sdk_error("s3", "HeadBucket", e)),
    }
}

/// The bucket's policy as S3 returns it, or None when it has none (NoSuchBucketPolicy) or the
/// bucket does not exist yet (NoSuchBucket): Amazon S3 API reference, GetBucketPolicy.
pub async fn live_bucket_policy(clients: &Clients, bucket: &str) -> Result<Option<String>> {
    match clients.s3.get_bucket_policy().bucket(bucket).send().await {
        Ok(p) => Ok(p.policy().map(str::to_string)),
        Err(e) if service_code(&e) == Some("NoSuchBucketPolicy") || service_code(&e) == Some("NoSuchBucket") => Ok(None),
        Err(e) => Err(sdk_error("s3", "GetBucketPolicy", e)),
    }
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

/// Marks a bucket's configuration unknown when HeadBucket did not let it be read.
fn not_read(b: &mut BucketState, kind: ReadErrorKind, why: String) {
    let e = ReadError::new(kind, why);
    b.region = Known::Unknown(e.clone());
    b.policy = Known::Unknown(e.clone());
    b.encryption = Known::Unknown(e.clone());
    b.public_access_blocked = Known::Unknown(e);
}

pub(super) async fn bucket_state(clients: &Clients, name: &str, account: &str, failures: &Failures) -> BucketState {
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

pub(super) async fn input_objects(clients: &Clients, loc: &crate::settings::S3Location) -> Result<Vec<ObjectInfo>> {
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
