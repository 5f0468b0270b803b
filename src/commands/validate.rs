//! `validate FILE|s3://BUCKET/KEY`: streams a JSONL input file through the validator
//! (`src/validate/`, its codes in `src/validate/diags.rs`).

use std::io::IsTerminal;

use serde_json::Value;

use crate::aws::sdk_error;
use crate::cli::{GlobalArgs, ValidateArgs};
use crate::error::{Error, ExitCode, Result};
use crate::families::{Family, Invocation};
use crate::output::{emit, Plain};
use crate::session as app;
use crate::validate::{self, diags, Validator};

/// Reads the batch quotas for the model from the account.
fn progress_bar(total: Option<u64>) -> Option<indicatif::ProgressBar> {
    let big = total.is_some_and(|t| t > 64 << 20);
    if !big || !std::io::stderr().is_terminal() {
        return None;
    }
    let pb = indicatif::ProgressBar::new(total.unwrap_or(0));
    pb.set_style(indicatif::ProgressStyle::with_template("{bar:40} {bytes}/{total_bytes} {bytes_per_sec} {eta}").expect("static template"));
    Some(pb)
}

pub async fn run(g: &GlobalArgs, args: &ValidateArgs) -> Result<ExitCode> {
    let settings = app::load_settings(g).await?;
    let model = settings.model()?.clone();
    let fm = model.foundation_model_id.clone().unwrap_or_else(|| model.raw.clone());
    let profile = crate::families::ModelProfile::of(&fm, &model.raw);
    let entry = profile.entry;
    let is_s3 = args.source.starts_with("s3://");
    let offline_hint = |e: Error| match e {
        Error::Credentials(m) if !is_s3 => {
            Error::Credentials(format!("{m}; to check a local file without AWS access, add --offline (AWS's default quotas apply)"))
        }
        other => other,
    };
    let clients = if is_s3 || !args.offline { Some(app::connect(g, &settings).await.map_err(offline_hint)?) } else { None };
    // What decided the records' shape: said online and offline alike.
    let mut shape_notes = vec![];
    let invocation = match args.invocation_type {
        Some(t) => Invocation::from(t),
        None => {
            let first = first_record(&args.source, clients.as_ref()).await;
            let (inv, told) = crate::validate::told_invocation(&profile, first.as_deref());
            if told {
                shape_notes.push("the records are in the Converse format (content blocks without a type): checked as Converse; submit them with modelInvocationType Converse (--invocation-type invoke-model to check them as the model's own body)".to_string());
            }
            inv
        }
    };
    let family = profile.record_family(invocation, &model.raw).map_err(Error::Usage)?;
    if profile.converse_only() {
        shape_notes.push(format!(
            "{} has no documented InvokeModel request body: its records are checked as Converse requests, and its jobs must use modelInvocationType Converse (--invocation-type converse)",
            model.raw
        ));
    }
    let mut limits = profile.limits.clone();
    let mut notes = vec![];
    let prices: Value = crate::prices::load(args.prices.as_deref())?;
    if entry.is_none() && invocation == Invocation::InvokeModel && family != Family::Unknown {
        notes.push(format!(
            "{fm} is not in the dated catalogue (as of {}): its request shape was taken from the provider in its id ({family:?})",
            crate::catalogue::as_of()
        ));
    }
    if args.offline {
        notes.push("--offline: AWS's documented default quotas apply".to_string());
        if entry.is_none() {
            notes.push(format!("{fm} is not in the dated catalogue (as of {}): no output-token ceiling is known", crate::catalogue::as_of()));
        }
    } else {
        let ml = crate::collect::quotas::model_limits(clients.as_ref().expect("connected"), &fm, limits).await.map_err(offline_hint)?;
        limits = ml.limits;
        notes = ml.notes;
    }
    notes.extend(shape_notes);
    let validator = Validator::new(family, limits, args.max_examples);
    let report = if let Some(rest) = args.source.strip_prefix("s3://") {
        let (bucket, key) = rest.split_once('/').unwrap_or((rest, ""));
        if bucket.is_empty() {
            return Err(Error::Usage(format!("{}: no bucket (s3://BUCKET/KEY or s3://BUCKET/PREFIX/)", args.source)));
        }
        let clients = clients.as_ref().expect("connected");
        if key.is_empty() || key.ends_with('/') {
            // A folder: every .jsonl under it is one job, as Bedrock reads an input folder.
            let (keys, others) = list_jsonl(clients, bucket, key).await?;
            if keys.is_empty() {
                return Err(Error::Usage(format!("{}: no .jsonl object under this prefix", args.source)));
            }
            if others > 0 {
                notes.push(if others == 1 {
                    "1 object under the prefix does not end in .jsonl: Bedrock does not read it".to_string()
                } else {
                    format!("{others} objects under the prefix do not end in .jsonl: Bedrock does not read them")
                });
            }
            let mut v = validator;
            if let Err(rule) = crate::settings::S3Location::parse(&args.source) {
                v.add_problem(diags::Code::BadS3Uri, 0, format!("{}: {rule}", args.source));
            }
            validate_s3_objects(clients, bucket, &keys, &mut v).await?;
            v.finish(&args.source, None)
        } else {
            let mut v = validator;
            if let Err(rule) = crate::settings::S3Location::parse(&args.source) {
                // S3 stores the object, but Bedrock refuses the URI: the job cannot name it.
                v.add_problem(diags::Code::BadS3Uri, 0, format!("{}: {rule}", args.source));
            }
            validate_s3_objects(clients, bucket, &[key.to_string()], &mut v).await?;
            v.finish(&args.source, Some(key.rsplit('/').next().unwrap_or(key)))
        }
    } else {
        let path = std::path::Path::new(&args.source);
        let meta = std::fs::metadata(path).map_err(|e| Error::Usage(format!("cannot read {}: {e}", path.display())))?;
        if meta.is_dir() {
            let files = local_jsonl(path)?;
            if files.is_empty() {
                return Err(Error::Usage(format!("{}: no .jsonl file in the folder or under it", path.display())));
            }
            let total: u64 = files.iter().filter_map(|f| std::fs::metadata(f).ok()).map(|m| m.len()).sum();
            let pb = progress_bar(Some(total));
            let mut v = validator;
            let mut done = 0u64;
            for f in &files {
                v.start_file(&f.strip_prefix(path).unwrap_or(f).display().to_string());
                let file = std::fs::File::open(f).map_err(|e| Error::Usage(format!("cannot read {}: {e}", f.display())))?;
                v = validate::validate_reader(file, v, |n| {
                    if let Some(pb) = &pb {
                        pb.set_position(done + n);
                    }
                })
                .map_err(|e| Error::Usage(format!("reading {}: {e}", f.display())))?;
                done += std::fs::metadata(f).map(|m| m.len()).unwrap_or(0);
            }
            if let Some(pb) = pb {
                pb.finish_and_clear();
            }
            v.finish(&args.source, None)
        } else {
            let file = std::fs::File::open(path).map_err(|e| Error::Usage(format!("cannot read {}: {e}", path.display())))?;
            let pb = progress_bar(file.metadata().ok().map(|m| m.len()));
            let v = validate::validate_reader(file, validator, |n| {
                if let Some(pb) = &pb {
                    pb.set_position(n);
                }
            })
            .map_err(|e| Error::Usage(format!("reading {}: {e}", path.display())))?;
            if let Some(pb) = pb {
                pb.finish_and_clear();
            }
            let name = path.file_name().map(|n| n.to_string_lossy().to_string());
            v.finish(&args.source, name.as_deref())
        }
    };
    let cost = crate::prices::estimate(&report, &prices, &fm);
    let mut v = serde_json::to_value(&report).expect("serialises");
    v["notes"] = serde_json::json!(notes);
    v["catalogue"] = serde_json::json!({
        "as_of": crate::catalogue::as_of(),
        "source": crate::catalogue::source(),
        "row_source": entry.map(|e| e.source.tag()),
    });
    v["estimated_cost_usd"] = match &cost {
        Some((lo, hi, asof)) => serde_json::json!({"low": lo, "high": hi, "prices_as_of": asof, "batch": true}),
        None => Value::Null,
    };
    let mut text: String = notes.iter().map(|n| format!("note: {n}\n")).collect();
    text.push_str(&match entry {
        Some(e) => format!("(model shape and output-token ceiling from {})\n", e.provenance()),
        None => format!("(model shapes and output-token ceilings from the dated catalogue as of {})\n", crate::catalogue::as_of()),
    });
    let exit = if report.errors() > 0 { ExitCode::Failed } else { ExitCode::Ok };
    text.push_str(&validate::text(&report, cost, &fm));
    Ok(emit(&Plain { text, json: v, exit }))
}

/// Every `.jsonl` object under `prefix` (at any depth, as Bedrock reads an input folder), in key
/// order, and how many other objects there are.
/// The first record of SOURCE (a file, a folder's first .jsonl, an S3 object or the first
/// .jsonl under an S3 prefix), to tell the records' shape; None when it cannot be read here (the
/// validation itself then reports why).
async fn first_record(source: &str, clients: Option<&crate::aws::Clients>) -> Option<Vec<u8>> {
    if let Some(rest) = source.strip_prefix("s3://") {
        let (bucket, key) = rest.split_once('/').unwrap_or((rest, ""));
        let clients = clients?;
        let key =
            if key.is_empty() || key.ends_with('/') { list_jsonl(clients, bucket, key).await.ok()?.0.into_iter().next()? } else { key.to_string() };
        return crate::run::source::first_s3_record(clients, bucket, &key).await;
    }
    let path = std::path::Path::new(source);
    if path.is_dir() {
        return crate::run::source::first_local_record(local_jsonl(path).ok()?.first()?);
    }
    crate::run::source::first_local_record(path)
}

async fn list_jsonl(clients: &crate::aws::Clients, bucket: &str, prefix: &str) -> Result<(Vec<String>, usize)> {
    let mut keys = Vec::new();
    let mut others = 0;
    let mut pages = clients.s3.list_objects_v2().bucket(bucket).prefix(prefix).into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| crate::aws::named_input_missing(&format!("s3://{bucket}/{prefix}"), sdk_error("s3", "ListObjectsV2", e)))?;
        for k in page.contents().iter().filter_map(|o| o.key()) {
            if k.ends_with(".jsonl") {
                keys.push(k.to_string());
            } else if !k.ends_with('/') {
                others += 1;
            }
        }
    }
    keys.sort();
    Ok((keys, others))
}

/// Every `.jsonl` file in a local folder and its subfolders, by path.
fn local_jsonl(dir: &std::path::Path) -> Result<Vec<std::path::PathBuf>> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).map_err(|e| Error::Usage(format!("cannot read the folder {}: {e}", d.display())))? {
            let p = e.map_err(|e| Error::Usage(format!("cannot read the folder {}: {e}", d.display())))?.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "jsonl") {
                out.push(p);
            }
        }
    }
    out.sort();
    Ok(out)
}

/// Streams S3 objects through the validator, one pass per byte; the next object's GetObject is
/// sent while the current one streams. With more than one key each is its own file of the job.
async fn validate_s3_objects(clients: &crate::aws::Clients, bucket: &str, keys: &[String], v: &mut Validator) -> Result<()> {
    let get = |key: &str| {
        let s3 = clients.s3.clone();
        let (bucket, key) = (bucket.to_string(), key.to_string());
        tokio::spawn(async move { s3.get_object().bucket(bucket).key(key).send().await })
    };
    let mut next = keys.first().map(|k| get(k));
    for (i, key) in keys.iter().enumerate() {
        let obj = next
            .take()
            .expect("one request per key")
            .await
            .map_err(|e| Error::Aws(format!("s3:GetObject s3://{bucket}/{key}: {e}")))?
            .map_err(|e| crate::aws::named_input_missing(&format!("s3://{bucket}/{key}"), sdk_error("s3", "GetObject", e)))?;
        next = keys.get(i + 1).map(|k| get(k));
        if keys.len() > 1 {
            v.start_file(key);
        }
        let pb = progress_bar(obj.content_length().map(|l| l as u64));
        let mut body = obj.body;
        let mut carry: Vec<u8> = Vec::new();
        let mut read = 0u64;
        while let Some(chunk) =
            body.try_next().await.map_err(|e| Error::Aws(format!("s3:GetObject s3://{bucket}/{key}: reading the body failed: {e}")))?
        {
            read += chunk.len() as u64;
            if let Some(pb) = &pb {
                pb.set_position(read);
            }
            carry.extend_from_slice(&chunk);
            let rest = validate::feed_buffer(v, &carry);
            let keep = carry.len() - rest;
            carry.drain(..keep);
        }
        if !carry.is_empty() {
            v.feed(&carry);
            v.uncount_final_newline();
        }
        if let Some(pb) = pb {
            pb.finish_and_clear();
        }
    }
    Ok(())
}
