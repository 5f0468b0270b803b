"""Tests of the emulator itself, through boto3 against the running server.

scripts/test starts the server and sets BEDBATCH_EMULATOR_URL; run alone with
`scripts/emulator start && .venv/bin/pytest tests/emulator`.
"""

import hashlib
import json
import os
import urllib.error
import urllib.request

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

URL = os.environ.get("BEDBATCH_EMULATOR_URL", f"http://127.0.0.1:{os.environ.get('BEDBATCH_EMULATOR_PORT', '5055')}")
REGION = "us-east-1"
ACCOUNT = "123456789012"
HAIKU = "anthropic.claude-3-haiku-20240307-v1:0"

TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"Service": "bedrock.amazonaws.com"},
            "Action": "sts:AssumeRole",
            "Condition": {
                "StringEquals": {"aws:SourceAccount": ACCOUNT},
                "ArnEquals": {"aws:SourceArn": f"arn:aws:bedrock:{REGION}:{ACCOUNT}:model-invocation-job/*"},
            },
        }
    ],
}


def client(name):
    return boto3.client(
        name,
        endpoint_url=URL,
        region_name=REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def post(path, payload=None, content_type="application/json"):
    data = json.dumps(payload).encode() if payload is not None else b""
    req = urllib.request.Request(URL + path, data=data, method="POST", headers={"Content-Type": content_type})
    return urllib.request.urlopen(req).read()


@pytest.fixture(autouse=True)
def reset():
    post("/moto-api/reset")
    yield
    post("/moto-api/reset")


def record(i, model_input=None):
    return json.dumps(
        {
            "recordId": f"r{i:04d}",
            "modelInput": model_input
            or {
                "anthropic_version": "bedrock-2023-05-31",
                "max_tokens": 16,
                "messages": [{"role": "user", "content": f"Say {i}"}],
            },
        }
    )


def setup_account(trust=TRUST, records=100, role_s3=True, bad_lines=0, make_input=None):
    iam, s3 = client("iam"), client("s3")
    role = iam.create_role(RoleName="BatchRole", Path="/service-role/", AssumeRolePolicyDocument=json.dumps(trust))["Role"]
    if role_s3:
        iam.put_role_policy(
            RoleName="BatchRole",
            PolicyName="s3",
            PolicyDocument=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "arn:aws:s3:::batch-in"},
                        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::batch-in/in/*"},
                        {"Effect": "Allow", "Action": "s3:PutObject", "Resource": "arn:aws:s3:::batch-in/out/*"},
                    ],
                }
            ),
        )
    s3.create_bucket(Bucket="batch-in")
    lines = [record(i, make_input(i) if make_input else None) for i in range(records)] + ["{not json"] * bad_lines
    s3.put_object(Bucket="batch-in", Key="in/records.jsonl", Body=("\n".join(lines) + "\n").encode())
    return role["Arn"]


def create_job(bedrock, role_arn, name="job1", model=HAIKU, **extra):
    return bedrock.create_model_invocation_job(
        jobName=name,
        roleArn=role_arn,
        modelId=model,
        inputDataConfig={"s3InputDataConfig": {"s3Uri": "s3://batch-in/in/"}},
        outputDataConfig={"s3OutputDataConfig": {"s3Uri": "s3://batch-in/out/"}},
        **extra,
    )["jobArn"]


def run_to_end(bedrock, arn):
    seen = []
    for _ in range(10):
        job = bedrock.get_model_invocation_job(jobIdentifier=arn)
        seen.append(job["status"])
        if job["status"] not in ("Submitted", "Validating", "Scheduled", "InProgress", "Stopping"):
            return job, seen
    raise AssertionError(f"job never ended: {seen}")


def test_job_completes_and_writes_output_and_manifest():
    bedrock, s3 = client("bedrock"), client("s3")
    arn = create_job(bedrock, setup_account())
    job, seen = run_to_end(bedrock, arn)
    assert seen == ["Validating", "Scheduled", "InProgress", "Completed"]
    job_id = arn.rsplit("/", 1)[1]
    out = s3.get_object(Bucket="batch-in", Key=f"out/{job_id}/records.jsonl.out")["Body"].read().decode()
    rows = [json.loads(line) for line in out.splitlines()]
    assert len(rows) == 100
    assert {r["recordId"] for r in rows} == {f"r{i:04d}" for i in range(100)}
    assert rows[0]["modelOutput"]["type"] == "message"
    manifest = json.loads(s3.get_object(Bucket="batch-in", Key=f"out/{job_id}/manifest.json.out")["Body"].read())
    assert manifest["totalRecordCount"] == 100
    assert manifest["successRecordCount"] == 100
    assert manifest["errorRecordCount"] == 0
    assert manifest["inputTokenCount"] > 0 and manifest["outputTokenCount"] > 0


def test_malformed_records_give_partially_completed():
    bedrock, s3 = client("bedrock"), client("s3")
    arn = create_job(bedrock, setup_account(bad_lines=3))
    job, _ = run_to_end(bedrock, arn)
    assert job["status"] == "PartiallyCompleted"
    assert job["errorRecordCount"] == 3


def test_role_trusting_account_root_fails_validation():
    trust = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, "Action": "sts:AssumeRole"}],
    }
    bedrock = client("bedrock")
    job, _ = run_to_end(bedrock, create_job(bedrock, setup_account(trust=trust)))
    assert job["status"] == "Failed"
    assert "trust relationship" in job["message"]


def test_wrong_source_account_fails_validation():
    trust = json.loads(json.dumps(TRUST))
    trust["Statement"][0]["Condition"]["StringEquals"]["aws:SourceAccount"] = "999999999999"
    bedrock = client("bedrock")
    job, _ = run_to_end(bedrock, create_job(bedrock, setup_account(trust=trust)))
    assert job["status"] == "Failed"
    assert "aws:SourceAccount" in job["message"]


def test_role_without_s3_access_fails():
    bedrock = client("bedrock")
    job, _ = run_to_end(bedrock, create_job(bedrock, setup_account(role_s3=False)))
    assert job["status"] == "Failed"
    assert "s3:ListBucket" in job["message"]


def test_too_few_records_fails():
    bedrock = client("bedrock")
    job, _ = run_to_end(bedrock, create_job(bedrock, setup_account(records=5)))
    assert job["status"] == "Failed"
    assert "minimum of 100" in job["message"]


def test_synchronous_validation_errors():
    bedrock = client("bedrock")
    role = setup_account()
    with pytest.raises(ClientError) as e:
        create_job(bedrock, role, name="bad name!")
    assert e.value.response["Error"]["Code"] == "ValidationException"
    unchecked = boto3.client(
        "bedrock", endpoint_url=URL, region_name=REGION, aws_access_key_id="testing",
        aws_secret_access_key="testing", config=Config(parameter_validation=False),
    )
    with pytest.raises(ClientError) as e:
        create_job(unchecked, role, timeoutDurationInHours=12)
    assert "between 24 and 168" in str(e.value)
    with pytest.raises(ClientError) as e:
        create_job(bedrock, role, model="amazon.titan-text-express-v1")
    assert "not supported for the requested model" in str(e.value)
    with pytest.raises(ClientError) as e:
        create_job(bedrock, role, model="anthropic.claude-sonnet-4-20250514-v1:0")
    assert "inference profile" in str(e.value)
    with pytest.raises(ClientError) as e:
        create_job(bedrock, role, model="meta.llama3-1-70b-instruct-v1:0")
    assert e.value.response["Error"]["Code"] == "AccessDeniedException"
    # through the inference profile the Sonnet 4 job is accepted
    assert create_job(bedrock, role, name="viaprofile", model="us.anthropic.claude-sonnet-4-20250514-v1:0")


def test_stop_moves_to_stopping_then_stopped():
    bedrock = client("bedrock")
    arn = create_job(bedrock, setup_account())
    bedrock.stop_model_invocation_job(jobIdentifier=arn)
    assert bedrock.get_model_invocation_job(jobIdentifier=arn)["status"] == "Stopped"
    with pytest.raises(ClientError):
        bedrock.stop_model_invocation_job(jobIdentifier=arn)


def test_list_jobs_and_quota_full():
    bedrock = client("bedrock")
    role = setup_account()
    sq = client("service-quotas")
    quotas = sq.get_paginator("list_aws_default_service_quotas").paginate(ServiceCode="bedrock").build_full_result()["Quotas"]
    concurrent = next(q for q in quotas if q["QuotaName"] == "Sum of in-progress and submitted batch inference jobs using a base model for Claude 3 Haiku")
    assert concurrent["Value"] == 20
    # Never applied: ListServiceQuotas omits it, as AWS does.
    assert not any(q["QuotaCode"] == concurrent["QuotaCode"] for q in sq.list_service_quotas(ServiceCode="bedrock")["Quotas"])
    post("/_bedbatch/quotas", {"region": REGION, "quotaCode": concurrent["QuotaCode"], "value": 2})
    applied = sq.list_service_quotas(ServiceCode="bedrock")["Quotas"]
    assert [q["Value"] for q in applied if q["QuotaCode"] == concurrent["QuotaCode"]] == [2]
    create_job(bedrock, role, name="a")
    create_job(bedrock, role, name="b")
    with pytest.raises(ClientError) as e:
        create_job(bedrock, role, name="c")
    assert e.value.response["Error"]["Code"] == "ServiceQuotaExceededException"
    jobs = bedrock.list_model_invocation_jobs()["invocationJobSummaries"]
    assert sorted(j["jobName"] for j in jobs) == ["a", "b"]


def test_model_catalogue_and_availability():
    bedrock = client("bedrock")
    ids = {m["modelId"] for m in bedrock.list_foundation_models()["modelSummaries"]}
    assert HAIKU in ids and "amazon.titan-embed-text-v2:0" in ids
    assert bedrock.get_foundation_model(modelIdentifier=HAIKU)["modelDetails"]["providerName"] == "Anthropic"
    with pytest.raises(ClientError) as e:
        bedrock.get_foundation_model(modelIdentifier="nope.model-v1:0")
    assert e.value.response["Error"]["Code"] == "ResourceNotFoundException"
    denied = bedrock.get_foundation_model_availability(modelId="meta.llama3-1-70b-instruct-v1:0")
    assert denied["authorizationStatus"] == "NOT_AUTHORIZED"
    profiles = bedrock.list_inference_profiles()["inferenceProfileSummaries"]
    sonnet4 = next(p for p in profiles if p["inferenceProfileId"] == "us.anthropic.claude-sonnet-4-20250514-v1:0")
    assert len(sonnet4["models"]) == 3


def test_service_quotas_defaults_and_pagination():
    sq = client("service-quotas")
    first = sq.list_aws_default_service_quotas(ServiceCode="bedrock", MaxResults=10)
    assert len(first["Quotas"]) == 10 and "NextToken" in first
    names = [q["QuotaName"] for q in sq.get_paginator("list_aws_default_service_quotas").paginate(ServiceCode="bedrock").build_full_result()["Quotas"]]
    assert "Minimum number of records per batch inference job for Claude 3 Haiku" in names
    code = next(q["QuotaCode"] for q in first["Quotas"])
    assert sq.get_service_quota(ServiceCode="bedrock", QuotaCode=code)["Quota"]["QuotaCode"] == code


def test_pass_role_enforced_under_iam_enforcement():
    iam = client("iam")
    role = setup_account()
    iam.create_user(UserName="analyst")
    key = iam.create_access_key(UserName="analyst")["AccessKey"]
    iam.put_user_policy(
        UserName="analyst",
        PolicyName="jobs",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": "bedrock:*Model*", "Resource": "*"}],
            }
        ),
    )
    analyst = boto3.client(
        "bedrock", endpoint_url=URL, region_name=REGION,
        aws_access_key_id=key["AccessKeyId"], aws_secret_access_key=key["SecretAccessKey"],
    )
    req = urllib.request.Request(URL + "/moto-api/reset-auth", data=b"0", method="POST", headers={"Content-Type": "text/plain"})
    urllib.request.urlopen(req).read()
    try:
        # GETs verify (the signature fix) and the job actions are allowed ...
        analyst.list_model_invocation_jobs()
        # ... but PassRole is missing.
        with pytest.raises(ClientError) as e:
            create_job(analyst, role)
        assert "iam:PassRole" in str(e.value)
    finally:
        req = urllib.request.Request(URL + "/moto-api/reset-auth", data=b"1000000", method="POST", headers={"Content-Type": "text/plain"})
        urllib.request.urlopen(req).read()


def test_fault_injection_and_request_log():
    iam = client("iam")
    urllib.request.urlopen(urllib.request.Request(URL + "/_bedbatch/requests", method="DELETE")).read()
    post("/_bedbatch/faults", {"service": "iam", "action": "CreateRole", "count": 1, "status": 403, "code": "AccessDenied"})
    with pytest.raises(ClientError):
        iam.create_role(RoleName="x", AssumeRolePolicyDocument=json.dumps(TRUST))
    iam.create_role(RoleName="x", AssumeRolePolicyDocument=json.dumps(TRUST))
    log = json.loads(urllib.request.urlopen(URL + "/_bedbatch/requests").read())["requests"]
    assert [r["action"] for r in log if r["service"] == "iam"] == ["CreateRole", "CreateRole"]


def delete(path):
    urllib.request.urlopen(urllib.request.Request(URL + path, method="DELETE")).read()


def no_retry(name):
    return boto3.client(
        name, endpoint_url=URL, region_name=REGION, aws_access_key_id="testing", aws_secret_access_key="testing",
        config=Config(retries={"total_max_attempts": 1, "mode": "standard"}, read_timeout=2, connect_timeout=2),
    )


def test_rate_faults_are_seeded_and_use_each_services_throttling_error():
    def outcomes(seed):
        post("/_bedbatch/faults", {"rate": 0.3, "seed": seed, "kinds": ["throttle"], "service": "iam"})
        iam = no_retry("iam")
        got = []
        for _ in range(60):
            try:
                iam.list_roles()
                got.append("ok")
            except ClientError as e:
                got.append(e.response["Error"]["Code"])
        listed = json.loads(urllib.request.urlopen(URL + "/_bedbatch/faults").read())["faults"][0]
        assert listed["fired"] == listed["fired_by_kind"]["throttle"] == got.count("Throttling")
        delete("/_bedbatch/faults")
        return got

    first, again, other = outcomes(7), outcomes(7), outcomes(8)
    assert first == again, "the same seed fails the same requests"
    assert first != other
    assert set(first) == {"ok", "Throttling"}
    assert 8 <= first.count("Throttling") <= 30
    # S3 by operation name, with S3's own throttling error; other operations are untouched.
    s3 = no_retry("s3")
    s3.create_bucket(Bucket="faulty")
    post("/_bedbatch/faults", {"rate": 1.0, "seed": 1, "kinds": ["throttle"], "service": "s3", "action": "GetBucketPolicy"})
    with pytest.raises(ClientError) as e:
        s3.get_bucket_policy(Bucket="faulty")
    assert e.value.response["Error"]["Code"] == "SlowDown"
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 503
    s3.put_object(Bucket="faulty", Key="k", Body=b"x")
    delete("/_bedbatch/faults")
    post("/_bedbatch/faults", {"rate": 1.0, "kinds": ["throttle"], "service": "bedrock"})
    with pytest.raises(ClientError) as e:
        no_retry("bedrock").list_foundation_models()
    assert e.value.response["Error"]["Code"] == "ThrottlingException"
    delete("/_bedbatch/faults")


def test_reset_and_timeout_faults():
    import botocore.exceptions

    post("/_bedbatch/faults", {"rate": 1.0, "kinds": ["reset"], "service": "sts"})
    with pytest.raises((botocore.exceptions.ConnectionClosedError, botocore.exceptions.EndpointConnectionError)):
        no_retry("sts").get_caller_identity()
    delete("/_bedbatch/faults")
    post("/_bedbatch/faults", {"rate": 1.0, "kinds": ["timeout"], "delay": 3, "service": "sts"})
    with pytest.raises(botocore.exceptions.ReadTimeoutError):
        no_retry("sts").get_caller_identity()
    delete("/_bedbatch/faults")
    bad = urllib.request.Request(URL + "/_bedbatch/faults", data=json.dumps({"rate": 0.1, "kinds": ["gremlins"]}).encode(), method="POST")
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(bad)
    assert e.value.code == 400


HAIKU45 = "anthropic.claude-haiku-4-5-20251001-v1:0"


def invoke_policy(resources):
    return json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "bedrock:InvokeModel", "Resource": resources}]}
    )


def test_profile_job_needs_invoke_on_profile_and_every_routed_region():
    bedrock, iam = client("bedrock"), client("iam")
    role = setup_account()
    profile = bedrock.get_inference_profile(inferenceProfileIdentifier=f"us.{HAIKU45}")
    routed = [m["modelArn"] for m in profile["models"]]
    assert sorted(a.split(":")[3] for a in routed) == ["us-east-1", "us-east-2", "us-west-2"]
    # S3 grants only: the job is accepted and fails while validating, naming the denied resource.
    job, _ = run_to_end(bedrock, create_job(bedrock, role, name="noinvoke", model=f"us.{HAIKU45}"))
    assert job["status"] == "Failed" and "bedrock:InvokeModel" in job["message"] and profile["inferenceProfileArn"] in job["message"]
    # The profile only: the first routed model is denied.
    iam.put_role_policy(RoleName="BatchRole", PolicyName="invoke", PolicyDocument=invoke_policy([profile["inferenceProfileArn"]]))
    job, _ = run_to_end(bedrock, create_job(bedrock, role, name="profileonly", model=f"us.{HAIKU45}"))
    assert job["status"] == "Failed" and routed[0] in job["message"]
    # The profile and every routed model: it completes.
    iam.put_role_policy(RoleName="BatchRole", PolicyName="invoke", PolicyDocument=invoke_policy([profile["inferenceProfileArn"]] + routed))
    job, _ = run_to_end(bedrock, create_job(bedrock, role, name="full", model=f"us.{HAIKU45}"))
    assert job["status"] == "Completed", job.get("message")
    # eu. and global. profiles route elsewhere.
    eu = bedrock.get_inference_profile(inferenceProfileIdentifier=f"eu.{HAIKU45}")
    assert all(m["modelArn"].split(":")[3].startswith("eu-") for m in eu["models"])


def test_both_claude_3_5_sonnet_quota_names_exist():
    names = [q["QuotaName"] for q in client("service-quotas").get_paginator("list_aws_default_service_quotas").paginate(ServiceCode="bedrock").build_full_result()["Quotas"]]
    assert "Records per batch inference job for Claude 3.5 Sonnet" in names
    assert "Records per batch inference job for Claude 3.5 Sonnet v2" in names


def test_models_control_adds_a_live_model():
    post("/_bedbatch/models", {"id": "example.brand-new-v1:0", "name": "Brand New", "provider": "Example"})
    bedrock = client("bedrock")
    assert bedrock.get_foundation_model(modelIdentifier="example.brand-new-v1:0")["modelDetails"]["modelName"] == "Brand New"
    quotas = client("service-quotas").get_paginator("list_aws_default_service_quotas").paginate(ServiceCode="bedrock").build_full_result()["Quotas"]
    assert any(q["QuotaName"].endswith(" for Brand New") for q in quotas)
    post("/moto-api/reset")
    with pytest.raises(ClientError):
        bedrock.get_foundation_model(modelIdentifier="example.brand-new-v1:0")


def test_jobs_control_injects_terminal_jobs_with_their_output():
    s3, bedrock = client("s3"), client("bedrock")
    s3.create_bucket(Bucket="batch-out")
    arn = json.loads(
        post(
            "/_bedbatch/jobs",
            {
                "jobName": "partial",
                "modelId": HAIKU,
                "roleArn": f"arn:aws:iam::{ACCOUNT}:role/R",
                "inputUri": "s3://batch-in/in/records.jsonl",
                "outputUri": "s3://batch-out/out/",
                "status": "PartiallyCompleted",
                "successRecordCount": 3,
                "errorRecordCount": 2,
                "errors": [{"errorCode": 400, "errorMessage": "Malformed input request"}, {"errorCode": 429, "errorMessage": "Too many requests"}],
            },
        )
    )["jobArn"]
    job = bedrock.get_model_invocation_job(jobIdentifier=arn)
    assert job["status"] == "PartiallyCompleted"
    job_id = arn.rsplit("/", 1)[1]
    manifest = json.loads(s3.get_object(Bucket="batch-out", Key=f"out/{job_id}/manifest.json.out")["Body"].read())
    assert manifest["errorRecordCount"] == 2 and manifest["successRecordCount"] == 3
    rows = [json.loads(x) for x in s3.get_object(Bucket="batch-out", Key=f"out/{job_id}/records.jsonl.out")["Body"].read().decode().splitlines()]
    assert [r["error"]["errorCode"] for r in rows if "error" in r] == [400, 429]
    summary = bedrock.list_model_invocation_jobs()["invocationJobSummaries"][0]
    assert summary["errorRecordCount"] == 2
    expired = json.loads(post("/_bedbatch/jobs", {"jobName": "old", "modelId": HAIKU, "roleArn": f"arn:aws:iam::{ACCOUNT}:role/R",
                                                  "inputUri": "s3://batch-in/in/", "outputUri": "s3://batch-out/out/", "status": "Expired"}))["jobArn"]
    assert bedrock.get_model_invocation_job(jobIdentifier=expired)["status"] == "Expired"


def member_account():
    """An organization (management account 123456789012) with a member account under an OU;
    returns (member id, OU id, root id, clients factory for the member)."""
    org = client("organizations")
    org.create_organization(FeatureSet="ALL")
    root = org.list_roots()["Roots"][0]["Id"]
    ou = org.create_organizational_unit(ParentId=root, Name="ml")["OrganizationalUnit"]["Id"]
    member = org.create_account(Email="ml@example.com", AccountName="ml")["CreateAccountStatus"]["AccountId"]
    org.move_account(AccountId=member, SourceParentId=root, DestinationParentId=ou)
    creds = client("sts").assume_role(RoleArn=f"arn:aws:iam::{member}:role/OrganizationAccountAccessRole", RoleSessionName="setup")["Credentials"]

    def as_member(name):
        return boto3.client(
            name,
            endpoint_url=URL,
            region_name=REGION,
            aws_access_key_id=creds["AccessKeyId"],
            aws_secret_access_key=creds["SecretAccessKey"],
            aws_session_token=creds["SessionToken"],
        )

    return member, ou, root, as_member


def scp(org, name, statements, target):
    pid = org.create_policy(
        Name=name, Type="SERVICE_CONTROL_POLICY", Description=name, Content=json.dumps({"Version": "2012-10-17", "Statement": statements})
    )["Policy"]["PolicySummary"]["Id"]
    org.attach_policy(PolicyId=pid, TargetId=target)


def member_setup(as_member, member, path="/"):
    iam, s3 = as_member("iam"), as_member("s3")
    trust = json.loads(json.dumps(TRUST).replace(ACCOUNT, member))
    role = iam.create_role(RoleName="BatchRole", Path=path, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    profile = f"arn:aws:bedrock:{REGION}:{member}:inference-profile/us.{HAIKU45}"
    routed = [f"arn:aws:bedrock:{r}::foundation-model/{HAIKU45}" for r in ("us-east-1", "us-east-2", "us-west-2")]
    iam.put_role_policy(
        RoleName="BatchRole",
        PolicyName="all",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {"Effect": "Allow", "Action": ["s3:ListBucket", "s3:GetObject", "s3:PutObject"], "Resource": ["arn:aws:s3:::member-in", "arn:aws:s3:::member-in/*"]},
                    {"Effect": "Allow", "Action": "bedrock:InvokeModel", "Resource": [profile] + routed},
                ],
            }
        ),
    )
    s3.create_bucket(Bucket="member-in")
    s3.put_object(Bucket="member-in", Key="in/records.jsonl", Body=("\n".join(record(i) for i in range(100)) + "\n").encode())
    return role


def member_job(bedrock, role, name, model):
    return bedrock.create_model_invocation_job(
        jobName=name,
        roleArn=role,
        modelId=model,
        inputDataConfig={"s3InputDataConfig": {"s3Uri": "s3://member-in/in/"}},
        outputDataConfig={"s3OutputDataConfig": {"s3Uri": "s3://member-in/out/"}},
    )["jobArn"]


def test_scps_bind_member_accounts_on_job_creation_and_per_routed_region():
    member, ou, root, as_member = member_account()
    org = client("organizations")
    role = member_setup(as_member, member)
    bedrock = as_member("bedrock")
    # FullAWSAccess only: the profile job completes.
    job, _ = run_to_end(bedrock, member_job(bedrock, role, "ok", f"us.{HAIKU45}"))
    assert job["status"] == "Completed", job.get("message")
    # A Region lock on the OU: job creation in us-east-1 passes, the invoke in us-east-2 fails.
    scp(org, "RegionLock", [{"Effect": "Deny", "NotAction": ["iam:*", "sts:*"], "Resource": "*",
                              "Condition": {"StringNotEquals": {"aws:RequestedRegion": ["us-east-1"]}}}], ou)
    job, _ = run_to_end(bedrock, member_job(bedrock, role, "locked", f"us.{HAIKU45}"))
    assert job["status"] == "Failed" and "us-east-2" in job["message"] and "service control policy" in job["message"], job
    # A Deny on job creation at the root.
    scp(org, "NoBatch", [{"Effect": "Deny", "Action": "bedrock:CreateModelInvocationJob", "Resource": "*"}], root)
    with pytest.raises(ClientError) as e:
        member_job(bedrock, role, "denied", HAIKU)
    assert "explicit deny in a service control policy" in str(e.value)
    # The member reads the policies as a delegated administrator would.
    parents = as_member("organizations").list_parents(ChildId=member)["Parents"]
    assert parents[0]["Id"] == ou
    # The management account is never bound.
    assert create_job(client("bedrock"), setup_account(), name="mgmt")


def test_scp_principal_arn_is_the_roles_arn_with_its_path_for_role_sessions():
    """IAM User Guide, "AWS global condition context keys", aws:PrincipalArn: "For IAM roles, the
    request context returns the ARN of the role, not the ARN of the user that assumed the role."
    Both the service role (Bedrock's session of it) and the caller (here a session of
    OrganizationAccountAccessRole) are matched by their role's ARN, never by a session ARN."""
    member, ou, root, as_member = member_account()
    org = client("organizations")
    role = member_setup(as_member, member, path="/service-role/")
    assert role == f"arn:aws:iam::{member}:role/service-role/BatchRole"
    bedrock = as_member("bedrock")

    def lock(name, exempt):
        scp(org, name, [{"Sid": name, "Effect": "Deny", "NotAction": ["iam:*", "sts:*"], "Resource": "*",
                         "Condition": {"StringNotEquals": {"aws:RequestedRegion": ["us-east-1"]}, "ArnNotLike": {"aws:PrincipalArn": exempt}}}], ou)

    # The Region lock exempts the role by its ARN, as check's fix text advises: the profile job completes.
    lock("ByRole", "arn:aws:iam::*:role/service-role/BatchRole")
    job, _ = run_to_end(bedrock, member_job(bedrock, role, "exempt", f"us.{HAIKU45}"))
    assert job["status"] == "Completed", job.get("message")
    # A second lock exempting only the session ARN: Bedrock's invoke in us-east-2 is denied.
    lock("BySession", "arn:aws:sts::*:assumed-role/BatchRole/*")
    job, _ = run_to_end(bedrock, member_job(bedrock, role, "session", f"us.{HAIKU45}"))
    assert job["status"] == "Failed" and "us-east-2" in job["message"] and "service control policy" in job["message"], job

    # The caller: only OrganizationAccountAccessRole may create jobs, named by its role ARN.
    scp(org, "CallerByRole", [{"Effect": "Deny", "Action": "bedrock:CreateModelInvocationJob", "Resource": "*",
                               "Condition": {"ArnNotLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/OrganizationAccountAccessRole"}}}], root)
    assert member_job(bedrock, role, "caller", HAIKU)
    scp(org, "CallerBySession", [{"Effect": "Deny", "Action": "bedrock:CreateModelInvocationJob", "Resource": "*",
                                  "Condition": {"ArnNotLike": {"aws:PrincipalArn": "arn:aws:sts::*:assumed-role/OrganizationAccountAccessRole/*"}}}], root)
    with pytest.raises(ClientError) as e:
        member_job(bedrock, role, "caller2", HAIKU)
    assert "explicit deny in a service control policy" in str(e.value)


def test_caller_identity_of_an_iam_user_is_its_iam_arn():
    assert client("sts").get_caller_identity()["Arn"] == f"arn:aws:iam::{ACCOUNT}:user/moto"


# --------------------------------------------------------------------------- model outputs


def answer_for(model_input, name):
    """The emulator's answer to a record: it names the sha256 of the record's modelInput."""
    digest = hashlib.sha256(json.dumps(model_input, sort_keys=True).encode()).hexdigest()
    return f"Emulated answer to {digest[:8]} from {name}."


def output_rows(s3, arn, name="records.jsonl"):
    job_id = arn.rsplit("/", 1)[1]
    body = s3.get_object(Bucket="batch-in", Key=f"out/{job_id}/{name}.out")["Body"].read().decode()
    return {r["recordId"]: r for r in (json.loads(line) for line in body.splitlines())}


def manifest_of(s3, arn):
    job_id = arn.rsplit("/", 1)[1]
    return json.loads(s3.get_object(Bucket="batch-in", Key=f"out/{job_id}/manifest.json.out")["Body"].read())


def allow_invoke(bedrock, profile_id):
    """Lets BatchRole invoke the profile and every model it routes to."""
    profile = bedrock.get_inference_profile(inferenceProfileIdentifier=profile_id)
    resources = [profile["inferenceProfileArn"]] + [m["modelArn"] for m in profile["models"]]
    client("iam").put_role_policy(RoleName="BatchRole", PolicyName="invoke", PolicyDocument=invoke_policy(resources))


def run_family(model, make_input, name="fam", invocation=None, via=None):
    """Runs 100 records of make_input(i) through `model` (or the profile `via`); -> (job, rows by recordId, manifest)."""
    bedrock, s3 = client("bedrock"), client("s3")
    role = setup_account(make_input=make_input)
    if via:
        allow_invoke(bedrock, via)
    extra = {"modelInvocationType": invocation} if invocation else {}
    arn = create_job(bedrock, role, name=name, model=via or model, **extra)
    job, _ = run_to_end(bedrock, arn)
    return job, output_rows(s3, arn), manifest_of(s3, arn)


def chat(i):
    return [{"role": "user", "content": f"Say {i}"}]


# Families whose models take no batch job by the facts, kept in the emulator's answers: a model of
# that family added at run time (`/_bedbatch/models`) exercises them.
RUNTIME_MODELS = {
    "example.deepseek-body-v1:0": {"name": "DeepSeek Body", "provider": "Example", "family": "deepseek"},
    "example.cohere-embed-body-v1:0": {"name": "Cohere Embed Body", "provider": "Example", "family": "cohere-embed", "output": ["EMBEDDING"]},
}


def add_runtime_model(model_id):
    if model_id in RUNTIME_MODELS:
        post("/_bedbatch/models", {"id": model_id, **RUNTIME_MODELS[model_id]})


# (model id, its name, modelInput of record i (even records: a 2-token ceiling where the body has one), check(output, answer, capped))
FAMILIES = {
    "anthropic": (
        HAIKU, "Claude 3 Haiku",
        lambda i: {"anthropic_version": "bedrock-2023-05-31", "max_tokens": 2 if i % 2 == 0 else 64, "messages": chat(i)},
        lambda o, a, capped: o["type"] == "message" and o["content"] == [{"type": "text", "text": a[:8] if capped else a}]
        and o["stop_reason"] == ("max_tokens" if capped else "end_turn") and o["usage"]["output_tokens"] == (2 if capped else len(a) // 4),
    ),
    "nova": (
        "amazon.nova-micro-v1:0", "Nova Micro",
        lambda i: {"messages": [{"role": "user", "content": [{"text": f"Say {i}"}]}], "inferenceConfig": {"maxTokens": 2 if i % 2 == 0 else 64}},
        lambda o, a, capped: o["output"]["message"] == {"role": "assistant", "content": [{"text": a[:8] if capped else a}]}
        and o["stopReason"] == ("max_tokens" if capped else "end_turn")
        and o["usage"]["totalTokens"] == o["usage"]["inputTokens"] + o["usage"]["outputTokens"],
    ),
    "llama": (
        "meta.llama3-1-8b-instruct-v1:0", "Llama 3.1 8B Instruct",
        lambda i: {"prompt": f"Say {i}", "max_gen_len": 2 if i % 2 == 0 else 64},
        lambda o, a, capped: o["generation"] == (a[:8] if capped else a) and o["stop_reason"] == ("length" if capped else "stop")
        and o["generation_token_count"] == (2 if capped else len(a) // 4),
    ),
    "mistral-chat": (
        "mistral.mistral-large-2407-v1:0", "Mistral Large (24.07)",
        lambda i: {"messages": chat(i), "max_tokens": 2 if i % 2 == 0 else 64},
        lambda o, a, capped: o == {"choices": [{"index": 0, "message": {"role": "assistant", "content": a[:8] if capped else a}, "stop_reason": "length" if capped else "stop"}]},
    ),
    "mistral-text": (
        "mistral.mistral-small-2402-v1:0", "Mistral Small (24.02)",
        lambda i: {"prompt": f"<s>[INST] Say {i} [/INST]", "max_tokens": 2 if i % 2 == 0 else 64},
        lambda o, a, capped: o == {"outputs": [{"text": a[:8] if capped else a, "stop_reason": "length" if capped else "stop"}]},
    ),
    # DeepSeek-R1 takes no batch job (the features matrix says No): a model added at run time
    # with R1's body keeps the family's output shape tested.
    "deepseek": (
        "example.deepseek-body-v1:0", "DeepSeek Body",
        lambda i: {"prompt": f"Say {i}", "max_tokens": 2 if i % 2 == 0 else 64},
        lambda o, a, capped: o == {"choices": [{"text": a[:8] if capped else a, "stop_reason": "length" if capped else "stop"}]},
    ),
    "openai": (
        "openai.gpt-oss-120b-1:0", "gpt-oss-120b",
        lambda i: {"messages": chat(i), "max_completion_tokens": 2 if i % 2 == 0 else 64},
        lambda o, a, capped: o["object"] == "chat.completion" and o["id"].startswith("chatcmpl-") and o["model"] == "openai.gpt-oss-120b-1:0"
        and isinstance(o["created"], int)
        and o["choices"] == [{"index": 0, "message": {"role": "assistant", "content": a[:8] if capped else a}, "finish_reason": "length" if capped else "stop"}]
        and o["usage"]["total_tokens"] == o["usage"]["prompt_tokens"] + o["usage"]["completion_tokens"],
    ),
}


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_each_text_family_answers_in_its_own_shape_and_stops_at_its_ceiling(family):
    model, name, make_input, check = FAMILIES[family]
    add_runtime_model(model)
    job, rows, manifest = run_family(model, make_input)
    assert job["status"] == "Completed", job.get("message")
    assert len(rows) == 100 and manifest["successRecordCount"] == 100
    for i in range(100):
        row = rows[f"r{i:04d}"]
        assert row["modelInput"] == make_input(i)
        assert check(row["modelOutput"], answer_for(make_input(i), name), i % 2 == 0), (family, row)
    assert manifest["outputTokenCount"] > 0


EMBEDDINGS = {
    # family: (model, modelInput of record i, the vector length it asks for, (vectors of an output))
    "titan-embed": (
        "amazon.titan-embed-text-v2:0",
        lambda i: {"inputText": f"text {i}", **({"dimensions": [256, 512][i % 2]} if i % 3 else {})},
        lambda i: 1024 if i % 3 == 0 else [256, 512][i % 2],
        lambda o: [o["embedding"]],
    ),
    "titan-embed-image": (
        "amazon.titan-embed-image-v1",
        lambda i: {"inputText": f"text {i}", **({"embeddingConfig": {"outputEmbeddingLength": 384}} if i % 2 else {})},
        lambda i: 384 if i % 2 else 1024,
        lambda o: [o["embedding"]],
    ),
    "nova-embed": (
        "amazon.nova-2-multimodal-embeddings-v1:0",
        lambda i: {"taskType": "SINGLE_EMBEDDING", "singleEmbeddingParams": {
            "embeddingPurpose": "GENERIC_INDEX", **({"embeddingDimension": 256} if i % 2 else {}),
            "text": {"truncationMode": "END", "value": f"text {i}"}}},
        lambda i: 256 if i % 2 else 3072,
        lambda o: [e["embedding"] for e in o["embeddings"] if e["embeddingType"] == "TEXT"],
    ),
    # No source lists a Cohere Embed model for batch (BATCH-FACTS §1d): a model added at run
    # time with Embed v3's body keeps the family's output shape tested.
    "cohere-embed": (
        "example.cohere-embed-body-v1:0",
        lambda i: {"texts": [f"a {i}", f"b {i}", f"c {i}"][: 1 + i % 3], "input_type": "search_document"},
        lambda i: 1024,
        lambda o: o["embeddings"],
    ),
}


@pytest.mark.parametrize("family", sorted(EMBEDDINGS))
def test_each_embedding_family_gives_vectors_of_the_asked_length(family):
    model, make_input, length, vectors = EMBEDDINGS[family]
    add_runtime_model(model)
    job, rows, manifest = run_family(model, make_input)
    assert job["status"] == "Completed", job.get("message")
    assert manifest["outputTokenCount"] == 0 and manifest["inputTokenCount"] > 0
    for i in range(100):
        out = rows[f"r{i:04d}"]["modelOutput"]
        vecs = vectors(out)
        assert vecs and all(len(v) == length(i) for v in vecs), (family, i, [len(v) for v in vecs])
        assert all(-1 <= x <= 1 for v in vecs for x in v)
        if family == "cohere-embed":
            assert len(vecs) == 1 + i % 3 and out["texts"] == make_input(i)["texts"] and out["response_type"] == "embeddings_floats" and out["id"]
        elif family == "nova-embed":
            assert set(out) == {"embeddings"}
        else:
            assert set(out) == {"embedding", "inputTextTokenCount"}
    # The same input gives the same vector; another input another.
    first = vectors(rows["r0000"]["modelOutput"])[0]
    assert first != vectors(rows["r0003"]["modelOutput"])[0]


def test_embedding_lengths_outside_the_documented_set_are_record_errors():
    job, rows, _ = run_family("amazon.titan-embed-text-v2:0", lambda i: {"inputText": "x", "dimensions": 300 if i < 10 else 256})
    assert job["status"] == "PartiallyCompleted" and job["errorRecordCount"] == 10
    assert rows["r0000"]["error"] == {"errorCode": 400, "errorMessage": "Malformed input request: dimensions: must be 256, 512 or 1024"}


def converse_input(i):
    body = {"messages": [{"role": "user", "content": [{"text": f"Say {i}"}]}], "inferenceConfig": {"maxTokens": 2 if i % 2 == 0 else 64}}
    if i == 1:
        body["toolConfig"] = {"tools": [{"toolSpec": {"name": "t", "inputSchema": {"json": {"type": "object"}}}}]}
    if i == 3:
        body["messages"] = [{"role": "user", "content": "a plain string is not a list of content blocks"}]
    return body


@pytest.mark.parametrize("model,name", [(HAIKU, "Claude 3 Haiku"), ("qwen.qwen3-32b-v1:0", "Qwen3 32B")])
def test_converse_job_answers_every_model_in_the_converse_shape(model, name):
    job, rows, manifest = run_family(model, converse_input, invocation="Converse")
    assert job["status"] == "PartiallyCompleted" and job["modelInvocationType"] == "Converse"
    assert job["errorRecordCount"] == 2 and manifest["errorRecordCount"] == 2
    assert rows["r0001"]["error"]["errorCode"] == 400 and "toolConfig" in rows["r0001"]["error"]["errorMessage"]
    assert rows["r0003"]["error"]["errorMessage"].startswith("Malformed input request: messages[0].content")
    for i in (0, 2, 5):
        out, answer, capped = rows[f"r{i:04d}"]["modelOutput"], answer_for(converse_input(i), name), i % 2 == 0
        assert set(out) == {"output", "stopReason", "usage", "metrics"}
        assert out["output"] == {"message": {"role": "assistant", "content": [{"text": answer[:8] if capped else answer}]}}
        assert out["stopReason"] == ("max_tokens" if capped else "end_turn")
        assert out["usage"]["outputTokens"] == (2 if capped else len(answer) // 4)
        assert out["usage"]["totalTokens"] == out["usage"]["inputTokens"] + out["usage"]["outputTokens"]
        assert isinstance(out["metrics"]["latencyMs"], int)


def test_converse_only_model_in_an_invokemodel_job_fails_every_record():
    job, rows, manifest = run_family("qwen.qwen3-32b-v1:0", converse_input)
    assert job["status"] == "Completed" and "All records failed" in job["message"]
    assert manifest["successRecordCount"] == 0 and manifest["errorRecordCount"] == 100
    err = rows["r0000"]["error"]
    assert err["errorCode"] == 400 and "qwen.qwen3-32b-v1:0" in err["errorMessage"] and "Converse" in err["errorMessage"]


def test_an_embedding_model_in_a_converse_job_fails_its_records():
    job, rows, _ = run_family("amazon.titan-embed-text-v2:0", converse_input, invocation="Converse")
    assert job["errorRecordCount"] == 100
    assert "does not support the Converse API" in rows["r0000"]["error"]["errorMessage"]


def test_unknown_invocation_type_is_refused():
    unchecked = boto3.client(
        "bedrock", endpoint_url=URL, region_name=REGION, aws_access_key_id="testing",
        aws_secret_access_key="testing", config=Config(parameter_validation=False),
    )
    with pytest.raises(ClientError) as e:
        create_job(unchecked, setup_account(), modelInvocationType="Chat")
    assert "modelInvocationType" in str(e.value)


@pytest.mark.parametrize(
    "model,make_input,usage",
    [
        (HAIKU, FAMILIES["anthropic"][2], lambda o: (o["usage"]["input_tokens"], o["usage"]["output_tokens"])),
        ("openai.gpt-oss-120b-1:0", FAMILIES["openai"][2], lambda o: (o["usage"]["prompt_tokens"], o["usage"]["completion_tokens"])),
        ("meta.llama3-1-8b-instruct-v1:0", FAMILIES["llama"][2], lambda o: (o["prompt_token_count"], o["generation_token_count"])),
        ("amazon.titan-embed-text-v2:0", EMBEDDINGS["titan-embed"][1], lambda o: (o["inputTextTokenCount"], 0)),
    ],
)
def test_manifest_token_counts_are_the_sums_of_the_records_usage(model, make_input, usage):
    job, rows, manifest = run_family(model, make_input)
    ins, outs = zip(*(usage(r["modelOutput"]) for r in rows.values() if "modelOutput" in r))
    assert (manifest["inputTokenCount"], manifest["outputTokenCount"]) == (sum(ins), sum(outs))
    assert manifest["processedRecordCount"] == manifest["totalRecordCount"] == 100


def test_converse_manifest_token_counts_are_the_sums_of_the_records_usage():
    _, rows, manifest = run_family("amazon.nova-micro-v1:0", converse_input, invocation="Converse")
    usages = [r["modelOutput"]["usage"] for r in rows.values() if "modelOutput" in r]
    assert len(usages) == manifest["successRecordCount"] == 98
    assert manifest["inputTokenCount"] == sum(u["inputTokens"] for u in usages)
    assert manifest["outputTokenCount"] == sum(u["outputTokens"] for u in usages)


def test_stopping_an_in_progress_job_writes_the_processed_half():
    bedrock, s3 = client("bedrock"), client("s3")
    role = setup_account()
    # A second input file of 51 records: 25 of them are processed before the stop.
    s3.put_object(Bucket="batch-in", Key="in/more.jsonl", Body=("\n".join(record(1000 + i) for i in range(51)) + "\n").encode())
    arn = create_job(bedrock, role)
    statuses = [bedrock.get_model_invocation_job(jobIdentifier=arn) for _ in range(3)]
    assert [j["status"] for j in statuses] == ["Validating", "Scheduled", "InProgress"]
    assert (statuses[-1]["totalRecordCount"], statuses[-1]["processedRecordCount"]) == (151, 75)
    bedrock.stop_model_invocation_job(jobIdentifier=arn)
    job = bedrock.get_model_invocation_job(jobIdentifier=arn)
    assert job["status"] == "Stopped" and "endTime" in job
    assert (job["totalRecordCount"], job["processedRecordCount"], job["successRecordCount"], job["errorRecordCount"]) == (151, 75, 75, 0)
    first, more = output_rows(s3, arn), output_rows(s3, arn, "more.jsonl")
    assert sorted(first) == [f"r{i:04d}" for i in range(50)]
    assert sorted(more) == [f"r{1000 + i:04d}" for i in range(25)]
    job_id = arn.rsplit("/", 1)[1]
    lines = s3.get_object(Bucket="batch-in", Key=f"out/{job_id}/records.jsonl.out")["Body"].read().decode().splitlines()
    assert [json.loads(x)["recordId"] for x in lines] != sorted(first), "the output is not in input order"
    manifest = manifest_of(s3, arn)
    assert {k: manifest[k] for k in ("totalRecordCount", "processedRecordCount", "successRecordCount", "errorRecordCount")} == {
        "totalRecordCount": 151, "processedRecordCount": 75, "successRecordCount": 75, "errorRecordCount": 0}
    rows = list(first.values()) + list(more.values())
    assert manifest["inputTokenCount"] == sum(r["modelOutput"]["usage"]["input_tokens"] for r in rows)
    assert manifest["outputTokenCount"] == sum(r["modelOutput"]["usage"]["output_tokens"] for r in rows)


def test_stopping_before_in_progress_writes_nothing():
    bedrock, s3 = client("bedrock"), client("s3")
    arn = create_job(bedrock, setup_account())
    assert bedrock.get_model_invocation_job(jobIdentifier=arn)["status"] == "Validating"
    bedrock.stop_model_invocation_job(jobIdentifier=arn)
    job = bedrock.get_model_invocation_job(jobIdentifier=arn)
    assert job["status"] == "Stopped" and "processedRecordCount" not in job
    assert s3.list_objects_v2(Bucket="batch-in", Prefix="out/").get("KeyCount", 0) == 0


# --------------------------------------------------------------------------- the catalogue and the facts

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TOOL_CATALOGUE = json.load(open(os.path.join(ROOT, "policies", "models.json")))["models"]


def all_default_quotas():
    return client("service-quotas").get_paginator("list_aws_default_service_quotas").paginate(ServiceCode="bedrock").build_full_result()["Quotas"]


def profile_geos(regions):
    """The geographies whose profiles the model's profile source Regions suggest (see catalogue.py)."""
    geos = []
    if any(r.startswith("us-") and not r.startswith("us-gov-") for r in regions):
        geos.append("us")
    if any(r.startswith("eu-") for r in regions):
        geos.append("eu")
    if any(r.startswith("ap-") for r in regions):
        geos.append("apac")
    if any(r.split("-")[0] in ("ca", "sa", "me", "af", "il", "mx") for r in regions):
        geos.append("global")
    return geos


def test_every_model_of_the_tool_catalogue_is_served_as_its_row_says():
    """Each row of policies/models.json (BATCH-FACTS §1) is a model here: same name (the quota
    names carry it) and family; batch accepted where any source lists it; ON_DEMAND only where
    batch takes the bare id; profiles in the geographies its profile Regions suggest."""
    bedrock = client("bedrock")
    summaries = {m["modelId"]: m for m in bedrock.list_foundation_models()["modelSummaries"]}
    profiles = {p["inferenceProfileId"] for p in bedrock.list_inference_profiles()["inferenceProfileSummaries"]}
    quota_names = {q["QuotaName"] for q in all_default_quotas()}
    assert len(TOOL_CATALOGUE) >= 60
    for row in TOOL_CATALOGUE:
        mid = row["id"]
        assert mid in summaries, mid
        s = summaries[mid]
        assert s["modelName"] == row["name"], mid
        matrix = row.get("features_matrix") or {}
        from_matrix = row["source"] == "aws-features-matrix-2026-01-25"
        by_id = bool(row["foundation_model_regions"]) or (from_matrix and matrix["single_region"])
        by_profile = bool(row["profile_regions"]) or (from_matrix and matrix["cross_region"])
        has_quotas = f"Records per batch inference job for {row['name']}" in quota_names
        assert has_quotas == (by_id or by_profile), f"{mid}: batch quotas exist exactly where a source lists batch"
        if by_id or by_profile:
            assert ("ON_DEMAND" in s["inferenceTypesSupported"]) == by_id, mid
        ours = sorted(p.split(".", 1)[0] for p in profiles if p.split(".", 1)[1] == mid)
        if row["profile_regions"]:
            assert ours == sorted(profile_geos(row["profile_regions"])), mid
        elif by_profile:
            assert ours == ["us"], mid
        elif not from_matrix:
            assert ours == [], f"{mid}: no profile Region, no profile"


def test_quota_names_in_both_word_orders_with_the_codes_of_the_facts():
    """BATCH-FACTS §3: Qwen, DeepSeek v3 and Titan Text Embeddings V2 name their size quotas
    "… for X (in GB)", the others "… (in GB) for X"; the codes are the facts'."""
    by_name = {q["QuotaName"]: q["QuotaCode"] for q in all_default_quotas()}
    expected = {
        "Batch inference input file size for Qwen3 32B (in GB)": "L-37B69F3F",
        "Batch inference job size for Qwen3 32B (in GB)": "L-AED2B25B",
        "Batch inference input file size for DeepSeek V3.1 (in GB)": "L-E5418429",
        "Batch inference job size for DeepSeek V3.1 (in GB)": "L-CB18C933",
        "Sum of in-progress and submitted batch inference jobs using a base model for DeepSeek V3.1": "L-0C5F7593",
        "Batch inference input file size for Titan Text Embeddings V2 (in GB)": "L-3CAACDCF",
        "Batch inference job size for Titan Text Embeddings V2 (in GB)": "L-F687AD4D",
        "Batch inference input file size (in GB) for Claude 3 Haiku": "L-42ABE687",
        "Batch inference job size (in GB) for Claude 3 Haiku": "L-79301C5B",
        "Records per batch inference job for Claude 3 Haiku": "L-1F644C2A",
        "Minimum number of records per batch inference job for Claude 3 Haiku": "L-AE7F26D4",
        "Records per input file per batch inference job for Claude 3 Haiku": "L-EBB72C32",
        "Batch inference input file size (in GB) for Nova Pro": "L-68FC8D47",
        "Records per batch inference job for Llama 3.3 70B Instruct": "L-E293C7C7",
        "Sum of in-progress and submitted batch inference jobs using a base model for Claude 3.5 Sonnet v2": "L-C2FA9AEC",
        "Sum of in-progress and submitted batch inference jobs using a base model for Claude Haiku 4.5": "L-63020993",
        "Sum of in-progress and submitted batch inference jobs using a base model for GLM 4.7 Flash": "L-E453CCF3",
    }
    for name, code in expected.items():
        assert by_name.get(name) == code, (name, by_name.get(name))
    assert "Batch inference input file size (in GB) for Qwen3 32B" not in by_name
    assert "Batch inference input file size for Claude 3 Haiku (in GB)" not in by_name
    assert len(set(by_name.values())) == len(by_name), "every quota has its own code"
    # A code of the facts answers GetServiceQuota.
    sq = client("service-quotas")
    assert sq.get_service_quota(ServiceCode="bedrock", QuotaCode="L-37B69F3F")["Quota"]["QuotaName"] == "Batch inference input file size for Qwen3 32B (in GB)"


def test_models_the_features_matrix_marks_no_take_no_batch_job():
    bedrock = client("bedrock")
    role = setup_account()
    names = {q["QuotaName"] for q in all_default_quotas()}
    for model in ["us.deepseek.r1-v1:0", "cohere.embed-v4", "us.anthropic.claude-opus-4-1-20250805-v1:0", "writer.palmyra-x5-v1:0"]:
        with pytest.raises(ClientError) as e:
            create_job(bedrock, role, name="no", model=model)
        assert "not supported for the requested model" in str(e.value), model
    assert not any(n.endswith(" for DeepSeek-R1") or n.endswith(" for Cohere Embed v4") for n in names)


def test_profile_only_models_and_their_apac_profiles():
    bedrock = client("bedrock")
    lite2 = bedrock.get_foundation_model(modelIdentifier="amazon.nova-2-lite-v1:0")["modelDetails"]
    assert lite2["inferenceTypesSupported"] == ["INFERENCE_PROFILE"]
    apac = bedrock.get_inference_profile(inferenceProfileIdentifier="apac.amazon.nova-2-lite-v1:0")
    assert apac["inferenceProfileName"] == "APAC Nova 2 Lite"
    assert all(m["modelArn"].split(":")[3].startswith("ap-") for m in apac["models"])
    qwen = bedrock.get_foundation_model(modelIdentifier="qwen.qwen3-32b-v1:0")["modelDetails"]
    assert qwen["inferenceTypesSupported"] == ["ON_DEMAND"]
    with pytest.raises(ClientError):
        bedrock.get_inference_profile(inferenceProfileIdentifier="us.qwen.qwen3-32b-v1:0")
    # Claude 3 Haiku: batch by model id only (no batch profile in the facts).
    with pytest.raises(ClientError):
        bedrock.get_inference_profile(inferenceProfileIdentifier=f"us.{HAIKU}")
    role = setup_account()
    with pytest.raises(ClientError) as e:
        create_job(bedrock, role, model="amazon.nova-2-lite-v1:0")
    assert "inference profile" in str(e.value)
