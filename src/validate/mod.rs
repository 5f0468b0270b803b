//! `validate FILE|s3://BUCKET/KEY`: streams a JSONL input file through the validator.

pub mod diags;

use std::io::IsTerminal;

use serde_json::Value;

use crate::aws::sdk_error;
use crate::cli::{GlobalArgs, InvocationType, OutputFormat, ValidateArgs};
use crate::error::{Error, ExitCode, Result};
use crate::jsonl::{self, Family, Limits, Report, Validator};
use crate::session as app;

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
    let entry = crate::catalogue::model(&fm);
    let family = match args.invocation_type {
        InvocationType::Converse => Family::Converse,
        InvocationType::InvokeModel => entry.map(|e| Family::from_catalogue(&e.family)).unwrap_or_else(|| Family::guess(&model.raw)),
    };
    let mut limits = Limits {
        max_output_tokens: entry.and_then(|e| e.max_output_tokens),
        forbids_temperature_with_top_p: entry.is_some_and(|e| e.forbids_temperature_with_top_p),
        ..Limits::default()
    };
    let prices: Value = match &args.prices {
        Some(p) => {
            let text = std::fs::read_to_string(p).map_err(|e| Error::Usage(format!("--prices {}: {e}", p.display())))?;
            serde_json::from_str(&text).map_err(|e| Error::Usage(format!("--prices {}: not JSON: {e}", p.display())))?
        }
        None => serde_json::from_str(jsonl::PRICES).expect("the embedded price table parses"),
    };
    let is_s3 = args.source.starts_with("s3://");
    let offline_hint = |e: Error| match e {
        Error::Credentials(m) if !is_s3 => {
            Error::Credentials(format!("{m}; to check a local file without AWS access, add --offline (AWS's default quotas apply)"))
        }
        other => other,
    };
    let clients = if is_s3 || !args.offline { Some(app::connect(g, &settings).await.map_err(offline_hint)?) } else { None };
    let mut notes = vec![];
    if args.offline {
        notes.push("--offline: AWS's documented default quotas apply".to_string());
        if entry.is_none() {
            notes.push(format!("{fm} is not in the dated catalogue (as of {}): no output-token ceiling is known", crate::catalogue::as_of()));
        }
    } else {
        let ml = crate::quotas::model_limits(clients.as_ref().expect("connected"), &fm, limits).await.map_err(offline_hint)?;
        limits = ml.limits;
        notes = ml.notes;
    }
    let validator = Validator::new(family, limits, args.max_examples);
    let report = if is_s3 {
        let (bucket, key) = args.source["s3://".len()..].split_once('/').unwrap_or((&args.source["s3://".len()..], ""));
        if bucket.is_empty() || key.is_empty() || key.ends_with('/') {
            return Err(Error::Usage(format!("{}: name one object (s3://BUCKET/KEY), not a bucket or folder", args.source)));
        }
        let mut v = validator;
        if let Err(rule) = crate::config::S3Location::parse(&args.source) {
            // S3 stores the object, but Bedrock refuses the URI: the job cannot name it.
            v.add_problem(diags::Code::BadS3Uri, 0, format!("{}: {rule}", args.source));
        }
        let loc = crate::config::S3Location { uri: args.source.clone(), bucket: bucket.to_string(), key: key.to_string(), is_object: true };
        let clients = clients.as_ref().expect("connected");
        let obj = clients.s3.get_object().bucket(&loc.bucket).key(&loc.key).send().await.map_err(|e| sdk_error("s3", "GetObject", e))?;
        let pb = progress_bar(obj.content_length().map(|l| l as u64));
        let mut body = obj.body;
        let mut carry: Vec<u8> = Vec::new();
        let mut read = 0u64;
        while let Some(chunk) =
            body.try_next().await.map_err(|e| Error::Aws(format!("s3:GetObject {}: reading the body failed: {e}", args.source)))?
        {
            read += chunk.len() as u64;
            if let Some(pb) = &pb {
                pb.set_position(read);
            }
            carry.extend_from_slice(&chunk);
            let rest = jsonl::feed_buffer(&mut v, &carry);
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
        v.finish(&args.source, Some(loc.key.rsplit('/').next().unwrap_or(&loc.key)))
    } else {
        let path = std::path::Path::new(&args.source);
        let file = std::fs::File::open(path).map_err(|e| Error::Usage(format!("cannot read {}: {e}", path.display())))?;
        let pb = progress_bar(file.metadata().ok().map(|m| m.len()));
        let v = jsonl::validate_reader(file, validator, |n| {
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
    };
    let cost = jsonl::price(&report, &prices, &fm);
    match g.output {
        OutputFormat::Json => {
            let mut v = serde_json::to_value(&report).expect("serialises");
            v["notes"] = serde_json::json!(notes);
            v["catalogue"] = serde_json::json!({"as_of": crate::catalogue::as_of(), "source": crate::catalogue::source()});
            v["estimated_cost_usd"] = match &cost {
                Some((lo, hi, asof)) => serde_json::json!({"low": lo, "high": hi, "prices_as_of": asof, "batch": true}),
                None => Value::Null,
            };
            println!("{}", serde_json::to_string_pretty(&v).expect("serialises"));
        }
        OutputFormat::Text => {
            for n in &notes {
                println!("note: {n}");
            }
            println!("(model shapes and output-token ceilings from the dated catalogue as of {})", crate::catalogue::as_of());
            print_text(&report, cost, &fm)
        }
    }
    Ok(if report.errors() > 0 { ExitCode::Failed } else { ExitCode::Ok })
}

pub fn print_text(r: &Report, cost: Option<(f64, f64, String)>, model: &str) {
    let n = |count: u64, one: &str, many: &str| format!("{count} {}", if count == 1 { one } else { many });
    println!(
        "{}: {} on {} ({} blank), {}, {:?} shape",
        r.source,
        n(r.records, "record", "records"),
        n(r.lines, "line", "lines"),
        r.blank_lines,
        n(r.bytes, "byte", "bytes"),
        r.family
    );
    for p in &r.problems {
        println!("{}[{}]: {} occurrence{}", p.level.as_str(), p.code.as_str(), p.count, if p.count == 1 { "" } else { "s" });
        for e in &p.examples {
            if e.line > 0 {
                println!("  line {}: {}", e.line, e.message);
            } else {
                println!("  {}", e.message);
            }
        }
        if p.count as usize > p.examples.len() {
            println!("  … and {} more", p.count as usize - p.examples.len());
        }
    }
    println!(
        "input tokens (estimate, characters / 4): {}; output tokens ceiling (sum of max_tokens): {}",
        r.input_tokens_estimate, r.output_tokens_ceiling
    );
    match cost {
        Some((lo, hi, asof)) => {
            println!("estimated batch cost: {} to {} (prices as of {asof}, batch = half the on-demand price)", dollars(lo), dollars(hi))
        }
        None => println!("estimated batch cost: unknown (no price for {model} in the price table; pass --prices FILE)"),
    }
    let errors = r.errors();
    println!("{}", if errors == 0 { "OK: no errors".to_string() } else { n(errors, "error", "errors") });
}

/// A cost for people: under a cent is "< $0.01", not "$0.0000".
pub fn dollars(v: f64) -> String {
    if v > 0.0 && v < 0.01 {
        "< $0.01".into()
    } else {
        format!("${v:.2}")
    }
}
