#!/usr/bin/env bash
# Compares `bedbatch-doctor check` against the AWS CLI commands a person would run to gather the
# same facts, on the emulator seeded with the walkthrough setup. Prints both wall times, the
# ratio, and check's API call count (from the emulator's request log). Not a test.
#
#   benches/check_vs_awscli.sh          (installs awscli into .venv-awscli on first use)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export BEDBATCH_EMULATOR_PORT="${BEDBATCH_EMULATOR_PORT:-5066}"
if [[ ! -x .venv-awscli/bin/aws ]]; then
  python3 -m venv .venv-awscli
  .venv-awscli/bin/pip install --quiet --disable-pip-version-check awscli >&2
fi
cargo build --release --quiet
BIN="$ROOT/target/release/bedbatch-doctor"
scripts/emulator start
trap 'scripts/emulator stop' EXIT
eval "$(scripts/emulator env)"
curl -fsS -X POST "$AWS_ENDPOINT_URL/moto-api/reset" >/dev/null
.venv/bin/python tests/emulator/seed.py walkthrough
ARGS=(--config examples/demo.toml --caller-arn arn:aws:iam::123456789012:user/analyst)
AWS=(.venv-awscli/bin/aws --endpoint-url "$AWS_ENDPOINT_URL" --region us-east-1 --output json)

curl -fsS -X DELETE "$AWS_ENDPOINT_URL/_bedbatch/requests" >/dev/null
start=$(python3 -c "import time; print(time.time())")
"$BIN" check "${ARGS[@]}" --output json >/dev/null || true
end=$(python3 -c "import time; print(time.time())")
check_s=$(python3 -c "print($end - $start)")
calls=$(curl -fsS "$AWS_ENDPOINT_URL/_bedbatch/requests" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["requests"]))')

start=$(python3 -c "import time; print(time.time())")
{
  "${AWS[@]}" sts get-caller-identity
  "${AWS[@]}" iam get-role --role-name BedrockBatchRole
  "${AWS[@]}" iam list-role-policies --role-name BedrockBatchRole
  "${AWS[@]}" iam get-role-policy --role-name BedrockBatchRole --policy-name batch-s3
  "${AWS[@]}" iam list-attached-role-policies --role-name BedrockBatchRole
  "${AWS[@]}" iam get-user --user-name analyst
  "${AWS[@]}" iam list-user-policies --user-name analyst
  "${AWS[@]}" iam get-user-policy --user-name analyst --policy-name batch
  "${AWS[@]}" iam list-attached-user-policies --user-name analyst
  "${AWS[@]}" iam list-groups-for-user --user-name analyst
  for b in demo-batch-in demo-batch-out; do
    "${AWS[@]}" s3api head-bucket --bucket "$b" --expected-bucket-owner 123456789012
    "${AWS[@]}" s3api get-bucket-location --bucket "$b"
    "${AWS[@]}" s3api get-bucket-policy --bucket "$b" || true
    "${AWS[@]}" s3api get-bucket-encryption --bucket "$b" || true
  done
  "${AWS[@]}" s3api list-objects-v2 --bucket demo-batch-in --prefix jobs/in/
  "${AWS[@]}" bedrock get-foundation-model --model-identifier anthropic.claude-3-haiku-20240307-v1:0
  "${AWS[@]}" bedrock get-foundation-model-availability --model-id anthropic.claude-3-haiku-20240307-v1:0
  "${AWS[@]}" bedrock list-inference-profiles
  "${AWS[@]}" service-quotas list-service-quotas --service-code bedrock
  "${AWS[@]}" bedrock list-model-invocation-jobs
} >/dev/null 2>&1
end=$(python3 -c "import time; print(time.time())")
cli_s=$(python3 -c "print($end - $start)")

printf 'check:   %.3f s, %d API calls (evaluation of every check included)\n' "$check_s" "$calls"
printf 'aws cli: %.3f s, 24 commands (gathering the facts only, no evaluation)\n' "$cli_s"
printf 'ratio:   %.1fx faster\n' "$(python3 -c "print($cli_s / $check_s)")"
