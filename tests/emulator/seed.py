"""Seeds the emulator with a setup for demos and examples.

    python seed.py walkthrough   # what the console walkthroughs lead to
    python seed.py healthy       # the documents `bedbatch-doctor render` produces

Both use the demo settings (examples/demo.toml): role /service-role/BedrockBatchRole, buckets
demo-batch-in and demo-batch-out, and an IAM user `analyst` who submits the jobs. `healthy`
reads the rendered documents as JSON on standard input.
"""

import json
import os
import sys

import boto3

ACCOUNT = "123456789012"
KW = dict(endpoint_url=os.environ["AWS_ENDPOINT_URL"], region_name=os.environ.get("AWS_REGION", "us-east-1"))


def records(n):
    return "".join(
        json.dumps(
            {
                "recordId": f"r{i:04d}",
                "modelInput": {
                    "anthropic_version": "bedrock-2023-05-31",
                    "max_tokens": 64,
                    "messages": [{"role": "user", "content": f"Summarise ticket {i} in one line."}],
                },
            }
        )
        + "\n"
        for i in range(n)
    )


def base(trust, role_policy, caller_policy):
    iam, s3 = boto3.client("iam", **KW), boto3.client("s3", **KW)
    iam.create_role(RoleName="BedrockBatchRole", Path="/service-role/", AssumeRolePolicyDocument=json.dumps(trust))
    iam.put_role_policy(RoleName="BedrockBatchRole", PolicyName="batch-s3", PolicyDocument=json.dumps(role_policy))
    iam.create_user(UserName="analyst")
    iam.put_user_policy(UserName="analyst", PolicyName="batch", PolicyDocument=json.dumps(caller_policy))
    for b in ("demo-batch-in", "demo-batch-out"):
        s3.create_bucket(Bucket=b)
    s3.put_object(Bucket="demo-batch-in", Key="jobs/in/tickets.jsonl", Body=records(100).encode())


def walkthrough():
    trust = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, "Action": "sts:AssumeRole"}],
    }
    role_policy = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": ["s3:GetObject", "s3:ListBucket"], "Resource": ["arn:aws:s3:::demo-batch-in", "arn:aws:s3:::demo-batch-in/*"]},
            {"Effect": "Allow", "Action": "s3:PutObject", "Resource": "arn:aws:s3:::demo-batch-out/*"},
        ],
    }
    caller_policy = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": "iam:PassRole", "Resource": f"arn:aws:iam::{ACCOUNT}:role/EC2-roles-for-XYZ-*"},
            {"Effect": "Allow", "Action": ["bedrock:CreateModelInvocationJob", "bedrock:GetModelInvocationJob", "bedrock:ListModelInvocationJobs", "bedrock:StopModelInvocationJob"], "Resource": "*"},
        ],
    }
    base(trust, role_policy, caller_policy)


def healthy():
    docs = {d["name"]: d["document"] for d in json.load(sys.stdin)["documents"]}
    base(docs["trust-policy"], docs["role-policy"], docs["passrole-policy"])


if __name__ == "__main__":
    {"walkthrough": walkthrough, "healthy": healthy}[sys.argv[1]]()
