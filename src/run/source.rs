//! Where a run's records come from: a local file, a local folder of `.jsonl` files, an S3
//! object or an S3 folder. Folders give the `.jsonl` files directly in them (not in subfolders:
//! a run's own shards live in a subfolder of the input folder), in name order.

use std::path::PathBuf;

use crate::aws::{sdk_error, Clients};
use crate::error::{Error, Result};
use crate::run::shard::{read_records, split_records};

#[derive(Clone)]
pub enum Source {
    Local(Vec<PathBuf>),
    S3 {
        bucket: String,
        keys: Vec<String>,
    },
    /// A local table and its prompt: each pass reads the table again and builds the records
    /// ([`crate::run::prepare::records`]), so no JSONL copy of the dataset is kept.
    Table {
        path: PathBuf,
        job: std::sync::Arc<crate::run::prepare::TableJob>,
    },
}

impl Source {
    /// Resolves INPUT to its files (an S3 folder is listed).
    pub async fn resolve(input: &str, clients: &Clients) -> Result<Source> {
        if let Some(rest) = input.strip_prefix("s3://") {
            let (bucket, key) = rest.split_once('/').unwrap_or((rest, ""));
            if bucket.is_empty() {
                return Err(Error::Usage(format!("{input}: no bucket")));
            }
            if key.ends_with(".jsonl") {
                return Ok(Source::S3 { bucket: bucket.into(), keys: vec![key.into()] });
            }
            let prefix = if key.is_empty() || key.ends_with('/') { key.to_string() } else { format!("{key}/") };
            let mut keys = Vec::new();
            let mut pages = clients.s3.list_objects_v2().bucket(bucket).prefix(&prefix).delimiter("/").into_paginator().send();
            while let Some(page) = pages.next().await {
                let page = page.map_err(|e| sdk_error("s3", "ListObjectsV2", e))?;
                keys.extend(page.contents().iter().filter_map(|o| o.key()).filter(|k| k.ends_with(".jsonl")).map(String::from));
            }
            keys.sort();
            if keys.is_empty() {
                return Err(Error::Usage(format!("{input}: no .jsonl object directly under s3://{bucket}/{prefix}")));
            }
            return Ok(Source::S3 { bucket: bucket.into(), keys });
        }
        Source::local(input)
    }

    pub fn local(input: &str) -> Result<Source> {
        let path = PathBuf::from(input);
        let meta = std::fs::metadata(&path).map_err(|e| Error::Usage(format!("cannot read {input}: {e}")))?;
        if meta.is_file() {
            return Ok(Source::Local(vec![path]));
        }
        let mut files: Vec<PathBuf> = std::fs::read_dir(&path)
            .map_err(|e| Error::Usage(format!("cannot read the folder {input}: {e}")))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.is_file() && p.extension().is_some_and(|x| x == "jsonl"))
            .collect();
        files.sort();
        if files.is_empty() {
            return Err(Error::Usage(format!("{input}: no .jsonl file in the folder")));
        }
        Ok(Source::Local(files))
    }

    /// Every record of every file, in order, to `f` (see [`crate::run::shard::record_bytes`]).
    pub async fn for_each_record(&self, clients: Option<&Clients>, f: &mut dyn FnMut(&[u8]) -> Result<()>) -> Result<()> {
        match self {
            Source::Local(files) => {
                for p in files {
                    let file = std::fs::File::open(p).map_err(|e| Error::Usage(format!("cannot read {}: {e}", p.display())))?;
                    read_records(file, &p.display().to_string(), f)?;
                }
                Ok(())
            }
            Source::S3 { bucket, keys } => {
                let clients = clients.ok_or_else(|| Error::Usage("an S3 input needs AWS access".into()))?;
                for key in keys {
                    s3_records(clients, bucket, key, f).await?;
                }
                Ok(())
            }
            Source::Table { path, job } => {
                let mut table = crate::table::open(path, job.format)?;
                crate::run::prepare::records(table.as_mut(), &path.display().to_string(), &job.prompt, &job.settings, &mut |_, rec| f(rec))
                    .map(|_| ())
            }
        }
    }
}

impl Source {
    /// The first record of the input (its first file or object), to tell the records' shape
    /// before reading them all; None for a table, or when it cannot be read (the full read
    /// then reports why).
    pub async fn first_record(&self, clients: Option<&Clients>) -> Option<Vec<u8>> {
        match self {
            Source::Local(files) => first_local_record(files.first()?),
            Source::S3 { bucket, keys } => first_s3_record(clients?, bucket, keys.first()?).await,
            Source::Table { .. } => None,
        }
    }
}

/// The first record of `bytes`, as every reader of records sees it ([`split_records`]: a byte
/// order mark and blank lines skipped); None when no whole line holds one.
fn first_line(bytes: &[u8], whole: bool) -> Option<Vec<u8>> {
    let mut found: Option<Vec<u8>> = None;
    let mut first = true;
    let rest = split_records(bytes, &mut first, &mut |r| {
        found.get_or_insert_with(|| r.to_vec());
        Ok(())
    })
    .ok()?;
    // The last piece of a partial read may be cut short.
    if found.is_none() && whole {
        found = crate::run::shard::record_bytes(&bytes[bytes.len() - rest..], first).map(<[u8]>::to_vec);
    }
    found
}

/// The first record of a local JSONL file (from its first MiB).
pub fn first_local_record(path: &std::path::Path) -> Option<Vec<u8>> {
    use std::io::Read;
    let mut head = Vec::new();
    let file = std::fs::File::open(path).ok()?;
    let n = file.take(1 << 20).read_to_end(&mut head).ok()?;
    let whole = (n as u64) < (1 << 20);
    first_line(&head, whole)
}

/// The first record of an S3 object, from its first MiB (a ranged GetObject: "Range: Downloads
/// the specified byte range of an object", S3 API Reference, GetObject).
pub async fn first_s3_record(clients: &Clients, bucket: &str, key: &str) -> Option<Vec<u8>> {
    let obj = clients.s3.get_object().bucket(bucket).key(key).range(format!("bytes=0-{}", (1 << 20) - 1)).send().await.ok()?;
    let whole = obj.content_range().is_none_or(|r| r.rsplit('/').next().and_then(|t| t.parse::<u64>().ok()).is_some_and(|t| t <= 1 << 20));
    let head = obj.body.collect().await.ok()?.into_bytes();
    first_line(&head, whole)
}

/// Streams the records of one S3 object to `f`.
pub async fn s3_records(clients: &Clients, bucket: &str, key: &str, f: &mut dyn FnMut(&[u8]) -> Result<()>) -> Result<()> {
    let obj = clients
        .s3
        .get_object()
        .bucket(bucket)
        .key(key)
        .send()
        .await
        .map_err(|e| crate::aws::named_input_missing(&format!("s3://{bucket}/{key}"), sdk_error("s3", "GetObject", e)))?;
    let mut body = obj.body;
    let mut carry: Vec<u8> = Vec::new();
    let mut first = true;
    while let Some(chunk) = body.try_next().await.map_err(|e| Error::Aws(format!("s3://{bucket}/{key}: reading failed: {e}")))? {
        carry.extend_from_slice(&chunk);
        let rest = split_records(&carry, &mut first, f)?;
        let keep = carry.len() - rest;
        carry.drain(..keep);
    }
    if let Some(r) = crate::run::shard::record_bytes(&carry, first) {
        f(r)?;
    }
    Ok(())
}

/// Streams an S3 object into a local file.
pub async fn download(clients: &Clients, bucket: &str, key: &str, to: &std::path::Path) -> Result<()> {
    use std::io::Write;
    let obj = clients.s3.get_object().bucket(bucket).key(key).send().await.map_err(|e| sdk_error("s3", "GetObject", e))?;
    let file = std::fs::File::create(to).map_err(|e| Error::io(to.display(), e))?;
    let mut w = std::io::BufWriter::new(file);
    let mut body = obj.body;
    while let Some(chunk) = body.try_next().await.map_err(|e| Error::Aws(format!("s3://{bucket}/{key}: reading failed: {e}")))? {
        w.write_all(&chunk).map_err(|e| Error::io(to.display(), e))?;
    }
    w.flush().map_err(|e| Error::io(to.display(), e))
}

/// Splits `s3://bucket/key` into (bucket, key).
pub fn split_uri(uri: &str) -> Result<(String, String)> {
    let rest = uri.strip_prefix("s3://").ok_or_else(|| Error::Usage(format!("{uri}: not an s3:// URI")))?;
    let (b, k) = rest.split_once('/').unwrap_or((rest, ""));
    Ok((b.to_string(), k.to_string()))
}
