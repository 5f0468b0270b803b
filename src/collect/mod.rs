//! Live reads into a Snapshot, one file per service, each calling one SDK client: `iam`, `s3`,
//! `bedrock`, `kms`, `quotas` (Service Quotas), `org` (Organizations, or the `--scp`/`--rcp`
//! files) and `job_outputs` (what finished jobs wrote to S3). `snapshot` is the one join. A read
//! that fails leaves its fact unknown with the real error (`read`), never guessed; each
//! service's file says which error code means "missing" and cites AWS's page for it.

pub mod bedrock;
pub mod iam;
pub mod job_outputs;
pub mod kms;
pub mod org;
pub mod quotas;
mod read;
pub mod s3;

pub use bedrock::profile_routes;
pub use iam::{policy_to_value, principal_exists, principal_policies, trust_policy, PrincipalPolicies};
pub use read::read_error;
pub use s3::bucket_policy;

use read::{record, unknown};

use crate::aws::Clients;
use crate::error::{Error, Result};
use crate::settings::{PrincipalArn, Settings};
use crate::snapshot::{Known, PrincipalState, ReadError, Snapshot, SNAPSHOT_VERSION};

/// Reads everything `check` needs, concurrently, each resource once. A read that fails is
/// recorded as unknown (and in `read_failures`), never guessed.
pub async fn snapshot(clients: &Clients, settings: &Settings, identity: &crate::aws::Identity, org_files: &org::OrgFiles) -> Result<Snapshot> {
    // Files given on the command line stand in for Organizations (and are checked first, so a
    // bad file fails before any read).
    let org_from_files = if org_files.is_empty() { None } else { Some(org::from_files(org_files)?) };
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
            Ok(p) => match iam::raw_principal_documents(clients, &p).await {
                Ok(Some((docs, boundary, role_arn))) => {
                    // Only a session's ARN lacks the role's path.
                    let session = matches!(p.kind, crate::settings::PrincipalKind::AssumedRole);
                    (Known::Value(true), Known::Value(docs), boundary, None, role_arn.filter(|_| session))
                }
                // GetUser / GetRole answered NoSuchEntity: the caller does not exist.
                Ok(None) => (Known::Value(false), Known::Value(vec![]), None, None, None),
                Err(e) => {
                    // Fall back to IAM's simulator where the caller may use it; else unknown.
                    let sim = iam::simulate(clients, &p, &sim_pairs).await;
                    let first = read_error(&e);
                    let why = match &sim {
                        Ok(_) => format!("{e}; decisions taken from iam:SimulatePrincipalPolicy instead"),
                        Err(se) => format!("{e}; iam:SimulatePrincipalPolicy also failed: {se}"),
                    };
                    let policies = ReadError::new(first.kind, why);
                    record("the caller's policies", &policies, &failures);
                    (Known::Unknown(first), Known::Unknown(policies), None, sim.ok(), None)
                }
            },
            Err(rule) => {
                let e = Error::Usage(format!("the caller {caller_arn} is not an IAM user, role or assumed-role ARN ({rule}); set caller_arn"));
                (Known::Unknown(read_error(&e)), unknown("the caller's policies", &e, &failures), None, None, None)
            }
        }
    };
    let role_fut = async {
        match iam::role_state(clients, &role_name).await {
            Ok(r) => Known::Value(r),
            Err(e) => unknown("the service role", &e, &failures),
        }
    };
    let mut bucket_names = vec![input.bucket.clone()];
    if output.bucket != input.bucket {
        bucket_names.push(output.bucket.clone());
    }
    let buckets_fut = futures_join_all(bucket_names.iter().map(|b| s3::bucket_state(clients, b, &account, &failures)));
    let objects_fut = async {
        match s3::input_objects(clients, &input).await {
            Ok(o) => Known::Value(o),
            Err(e) => unknown("the input objects", &e, &failures),
        }
    };
    let model_fut = async {
        match bedrock::model_state(clients, settings, &failures).await {
            Ok(m) => Known::Value(m),
            Err(e) => unknown("the model", &e, &failures),
        }
    };
    let quotas_fut = async {
        match quotas::batch_quotas(clients).await {
            Ok(q) => Known::Value(q),
            Err(e) => unknown("the batch quotas", &e, &failures),
        }
    };
    let jobs_fut = async {
        match bedrock::jobs(clients).await {
            Ok(j) => Known::Value(j),
            Err(e) => unknown("the batch jobs", &e, &failures),
        }
    };
    let org_fut = async {
        match org_from_files {
            Some(o) => Known::Value(o),
            None => match org::read(clients, &account).await {
                Ok(o) => Known::Value(o),
                // Most callers may not read them (only the management account and a delegated
                // administrator may): not a failure of the setup, so not a read failure either.
                Err(e) => Known::Unknown(read_error(&e)),
            },
        }
    };
    let (
        (caller_exists, caller_policies, caller_boundary, caller_simulated, caller_role_arn),
        role,
        buckets,
        input_objects,
        model_state,
        all_quotas,
        jobs,
        org,
    ) = tokio::join!(caller_fut, role_fut, buckets_fut, objects_fut, model_fut, quotas_fut, jobs_fut, org_fut);
    // The model's quotas, by its live name (GetFoundationModel), else the catalogue's.
    let fm = model_state.value().and_then(|m| m.foundation_model_id.clone()).or_else(|| model.foundation_model_id.clone());
    let quota_model_name =
        model_state.value().and_then(|m| m.name.clone()).or_else(|| fm.as_deref().and_then(crate::catalogue::model).map(|e| e.name.clone()));
    let mut jobs = jobs;
    if let Known::Value(list) = &mut jobs {
        let model = model.clone();
        job_outputs::add_record_errors(clients, list, |id| model.names_job_model(id), &failures).await;
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
        kms_keys.push(kms::key_state(clients, key, &failures).await);
    }

    Ok(Snapshot {
        version: SNAPSHOT_VERSION,
        account_id: account,
        partition: identity.partition.clone(),
        settings: crate::settings::to_snapshot(settings, &caller_arn)?,
        caller: PrincipalState {
            arn: caller_arn,
            exists: caller_exists,
            policies: caller_policies,
            boundary: caller_boundary,
            simulated: caller_simulated,
            role_arn: caller_role_arn,
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
    pairs.extend(crate::desired::job_requests(&rctx));
    Ok(pairs)
}
