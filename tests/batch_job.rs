//! A batch job end to end through the Rust SDK against the emulator, on a role and bucket set
//! up from the documents `render` produces; and a job whose role does not trust Bedrock.

mod common;
use common::*;

use aws_sdk_bedrock::types::{
    ModelInvocationJobInputDataConfig, ModelInvocationJobOutputDataConfig, ModelInvocationJobS3InputDataConfig, ModelInvocationJobS3OutputDataConfig,
    ModelInvocationJobStatus,
};

fn records(n: usize) -> String {
    (0..n)
        .map(|i| {
            serde_json::json!({
                "recordId": format!("rec{i:05}"),
                "modelInput": {
                    "anthropic_version": "bedrock-2023-05-31",
                    "max_tokens": 32,
                    "messages": [{"role": "user", "content": format!("Summarise item {i}")}]
                }
            })
            .to_string()
                + "\n"
        })
        .collect()
}

/// Renders the documents for a fresh bucket and role through the binary.
fn rendered(bucket: &str, role: &str) -> serde_json::Value {
    let dir = tempfile::tempdir().unwrap();
    let out = run(
        emulator_command(dir.path()),
        &[
            "render",
            "--output",
            "json",
            "--model-id",
            HAIKU,
            "--input-uri",
            &format!("s3://{bucket}/jobs/in/"),
            "--output-uri",
            &format!("s3://{bucket}/jobs/out/"),
            "--role-name",
            role,
            "--role-path",
            "/service-role/",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    serde_json::from_slice(&out.stdout).unwrap()
}

fn doc(v: &serde_json::Value, name: &str) -> String {
    v["documents"].as_array().unwrap().iter().find(|d| d["name"] == name).unwrap()["document"].to_string()
}

async fn setup(bucket: &str, role: &str, trust: &str, role_policy: &str) -> (aws_config::SdkConfig, String) {
    let conf = sdk_config().await;
    let iam = aws_sdk_iam::Client::new(&conf);
    let s3 = s3_client(&conf);
    let arn = iam
        .create_role()
        .role_name(role)
        .path("/service-role/")
        .assume_role_policy_document(trust)
        .send()
        .await
        .unwrap()
        .role()
        .unwrap()
        .arn()
        .to_string();
    iam.put_role_policy().role_name(role).policy_name("bedbatch").policy_document(role_policy).send().await.unwrap();
    s3.create_bucket().bucket(bucket).send().await.unwrap();
    s3.put_object().bucket(bucket).key("jobs/in/batch.jsonl").body(records(100).into_bytes().into()).send().await.unwrap();
    (conf, arn)
}

async fn submit(conf: &aws_config::SdkConfig, bucket: &str, role_arn: &str, name: &str) -> String {
    let bedrock = aws_sdk_bedrock::Client::new(conf);
    bedrock
        .create_model_invocation_job()
        .job_name(name)
        .role_arn(role_arn)
        .model_id(HAIKU)
        .input_data_config(ModelInvocationJobInputDataConfig::S3InputDataConfig(
            ModelInvocationJobS3InputDataConfig::builder().s3_uri(format!("s3://{bucket}/jobs/in/")).build().unwrap(),
        ))
        .output_data_config(ModelInvocationJobOutputDataConfig::S3OutputDataConfig(
            ModelInvocationJobS3OutputDataConfig::builder().s3_uri(format!("s3://{bucket}/jobs/out/")).build().unwrap(),
        ))
        .timeout_duration_in_hours(24)
        .send()
        .await
        .unwrap()
        .job_arn()
        .to_string()
}

async fn poll(conf: &aws_config::SdkConfig, arn: &str) -> aws_sdk_bedrock::operation::get_model_invocation_job::GetModelInvocationJobOutput {
    let bedrock = aws_sdk_bedrock::Client::new(conf);
    for _ in 0..20 {
        let job = bedrock.get_model_invocation_job().job_identifier(arn).send().await.unwrap();
        match job.status() {
            Some(ModelInvocationJobStatus::Submitted)
            | Some(ModelInvocationJobStatus::Validating)
            | Some(ModelInvocationJobStatus::Scheduled)
            | Some(ModelInvocationJobStatus::InProgress) => continue,
            _ => return job,
        }
    }
    panic!("job {arn} did not end");
}

#[tokio::test]
async fn job_on_rendered_setup_completes_with_output_and_manifest() {
    require_emulator();
    let bucket = unique("bb-ok");
    let role = unique("BatchOk");
    let docs = rendered(&bucket, &role);
    let (conf, role_arn) = setup(&bucket, &role, &doc(&docs, "trust-policy"), &doc(&docs, "role-policy")).await;
    let job_arn = submit(&conf, &bucket, &role_arn, &unique("canary")).await;
    let job = poll(&conf, &job_arn).await;
    assert_eq!(job.status(), Some(&ModelInvocationJobStatus::Completed), "{:?}", job.message());

    let job_id = job_arn.rsplit('/').next().unwrap();
    let s3 = s3_client(&conf);
    let out = s3.get_object().bucket(&bucket).key(format!("jobs/out/{job_id}/batch.jsonl.out")).send().await.unwrap();
    let body = String::from_utf8(out.body.collect().await.unwrap().to_vec()).unwrap();
    let rows: Vec<serde_json::Value> = body.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(rows.len(), 100);
    let mut ids: Vec<_> = rows.iter().map(|r| r["recordId"].as_str().unwrap().to_string()).collect();
    ids.sort();
    assert_eq!(ids.first().unwrap(), "rec00000");
    assert_eq!(ids.last().unwrap(), "rec00099");
    assert!(rows.iter().all(|r| r["modelOutput"]["content"][0]["text"].is_string()));

    let manifest = s3.get_object().bucket(&bucket).key(format!("jobs/out/{job_id}/manifest.json.out")).send().await.unwrap();
    let manifest: serde_json::Value = serde_json::from_slice(&manifest.body.collect().await.unwrap().to_vec()).unwrap();
    assert_eq!(manifest["totalRecordCount"], 100);
    assert_eq!(manifest["successRecordCount"], 100);
    assert_eq!(manifest["errorRecordCount"], 0);
    assert!(manifest["inputTokenCount"].as_u64().unwrap() > 0);
    assert!(manifest["outputTokenCount"].as_u64().unwrap() > 0);
}

#[tokio::test]
async fn job_with_role_trusting_the_account_root_fails() {
    require_emulator();
    let bucket = unique("bb-root");
    let role = unique("BatchRoot");
    let docs = rendered(&bucket, &role);
    // The setup console walkthroughs lead to: the role trusts the account root, not Bedrock.
    let trust = serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"AWS": format!("arn:aws:iam::{ACCOUNT}:root")}, "Action": "sts:AssumeRole"}]
    })
    .to_string();
    let (conf, role_arn) = setup(&bucket, &role, &trust, &doc(&docs, "role-policy")).await;
    let job = poll(&conf, &submit(&conf, &bucket, &role_arn, &unique("broken")).await).await;
    assert_eq!(job.status(), Some(&ModelInvocationJobStatus::Failed));
    let msg = job.message().unwrap_or_default();
    assert!(msg.contains("trust relationship") && msg.contains("bedrock.amazonaws.com"), "{msg}");
}
