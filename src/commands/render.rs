//! `render`: the documents a batch setup needs.

use crate::cli::{GlobalArgs, OutputFormat, RenderArgs, RenderFormat};
use crate::error::{Error, ExitCode, Result};
use crate::output::{emit, Plain};
use crate::render::{self, Account, Context, Renderer};
use crate::session::{connect, load_settings, require_job_settings};

pub async fn run(g: &GlobalArgs, args: &RenderArgs) -> Result<ExitCode> {
    let settings = load_settings(g).await?;
    // Check the settings the documents need before any network call.
    require_job_settings(&settings)?;
    let renderer = Renderer::new(args.templates.as_deref())?;
    let mut caller_default = None;
    let mut profile = None;
    let account = match &args.account_id {
        Some(id) => {
            if id.len() != 12 || !id.bytes().all(|b| b.is_ascii_digit()) {
                return Err(Error::Usage(format!("--account-id {id:?}: an AWS account id is 12 digits")));
            }
            Account { id: id.clone(), partition: settings.partition()?.to_string() }
        }
        None => {
            let offline_hint = |e: Error| match e {
                Error::Credentials(m) => Error::Credentials(format!("{m}; to render without AWS access, give the account with --account-id")),
                other => other,
            };
            let clients = connect(g, &settings).await.map_err(offline_hint)?;
            let id = crate::aws::whoami(&clients).await.map_err(offline_hint)?;
            caller_default = Some(id.arn.clone());
            profile = crate::session::routes_or_note(&clients, &settings).await?;
            Account { id: id.account, partition: id.partition }
        }
    };
    let mut ctx = Context::new(&settings, &account)?;
    if ctx.caller_arn.is_none() {
        // Online, the caller defaults to whoever runs the tool.
        ctx.caller_arn = caller_default;
    }
    match &profile {
        Some(p) => ctx.set_routes(&p.arn, &p.models),
        // stderr: stdout carries the documents (`render --document role-policy > file`).
        None if !ctx.invoke_arns.is_empty() => match settings.model()?.foundation_model_id.clone() {
            Some(fm) => eprintln!(
                "note: the inference profile's Regions are not known offline; the role's invoke grant names {fm} in every Region (*). Run without --account-id to take them from GetInferenceProfile."
            ),
            // An application inference profile's model is known only to the account.
            None => eprintln!(
                "note: the model behind an application inference profile is not known offline; the role's invoke grant names the profile only. Run without --account-id to add the model in each Region it routes to."
            ),
        },
        None => {}
    }
    if args.format != RenderFormat::Documents && (args.document.is_some() || args.bucket.is_some()) {
        return Err(Error::Usage("--format terraform or cloudformation prints the whole setup: leave out --document and --bucket".into()));
    }
    if args.with_buckets && args.format == RenderFormat::Documents {
        return Err(Error::Usage("--with-buckets goes with --format terraform or cloudformation".into()));
    }
    let mut docs = renderer.render(&ctx, args.document.as_deref())?;
    match args.format {
        RenderFormat::Documents => {}
        RenderFormat::Terraform => {
            let hcl = crate::iac::terraform(&ctx, &docs, args.with_buckets);
            return Ok(emit(&Plain { json: serde_json::json!({"format": "terraform", "terraform": hcl}), text: hcl, exit: ExitCode::Ok }));
        }
        RenderFormat::Cloudformation => {
            let template = crate::iac::cloudformation(&ctx, &docs, args.with_buckets);
            return Ok(emit(&Plain { text: crate::iac::yaml(&template), json: template, exit: ExitCode::Ok }));
        }
    }
    if let Some(bucket) = &args.bucket {
        if args.document.as_deref() != Some("bucket-policy") {
            return Err(Error::Usage("--bucket goes with --document bucket-policy".into()));
        }
        docs.retain(|d| d.bucket.as_deref() == Some(bucket.as_str()));
        if docs.is_empty() {
            let names: Vec<_> = ctx.buckets().into_iter().map(|b| b.name).collect();
            return Err(Error::Usage(format!("--bucket {bucket}: not one of the configured buckets ({})", names.join(", "))));
        }
    }
    if args.document.is_some() && docs.len() > 1 && g.output == OutputFormat::Text {
        let names: Vec<_> = docs.iter().filter_map(|d| d.bucket.clone()).collect();
        return Err(Error::Usage(format!(
            "input and output are in two buckets, so there are two bucket policies: add --bucket {}",
            names.join(" or --bucket ")
        )));
    }
    let text = if args.document.is_some() {
        docs[0].pretty()
    } else {
        docs.iter().map(|d| format!("# {} — {}\n{}", d.name, describe(d), d.pretty())).collect::<Vec<_>>().join("\n\n")
    };
    let json = serde_json::json!({ "account_id": account.id, "partition": account.partition, "routes_from": ctx.routes_from, "documents": docs });
    Ok(emit(&Plain { text, json, exit: ExitCode::Ok }))
}

fn describe(d: &render::Rendered) -> String {
    match d.name.as_str() {
        "trust-policy" => format!("trust policy of {}", d.target),
        "role-policy" => format!("permissions (inline policy) of {}", d.target),
        "passrole-policy" => format!("inline policy for {}", d.target),
        _ => format!("bucket policy of {}", d.target),
    }
}
