#!/usr/bin/env python3
"""Lints action.yml and examples/github-workflow.yml with actionlint (tests/packaging/run).

    lint_action.py ROOT

actionlint reads workflows, not action metadata, so action.yml is linted three ways:
1. its composite steps, copied unchanged into a reusable workflow (`on: workflow_call` with the
   action's inputs), so actionlint checks every expression, step id, `uses:` and its inputs, and
   runs shellcheck over every `run:` script;
2. the example workflow as it stands;
3. the example workflow with its `uses:` pointing at this checkout (`./`) inside a scratch git
   repository holding action.yml, so actionlint reads action.yml as a local action and checks the
   example's `with:` against the action's inputs.
Plus what actionlint cannot see: each output of the action names a step that exists.
"""
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml


class Literal(str):
    pass


def literal_presenter(dumper, data):
    return dumper.represent_scalar("tag:yaml.org,2002:str", data, style="|")


yaml.add_representer(Literal, literal_presenter)


def as_literals(value):
    if isinstance(value, dict):
        return {k: as_literals(v) for k, v in value.items()}
    if isinstance(value, list):
        return [as_literals(v) for v in value]
    if isinstance(value, str) and "\n" in value:
        return Literal(value)
    return value


def actionlint(args, cwd):
    proc = subprocess.run(["actionlint", "-oneline", *args], cwd=cwd, capture_output=True, text=True)
    out = (proc.stdout + proc.stderr).strip()
    return proc.returncode, out


def main() -> int:
    root = Path(sys.argv[1]).resolve()
    action = yaml.safe_load((root / "action.yml").read_text())
    assert action["runs"]["using"] == "composite", "action.yml: not a composite action"
    steps = action["runs"]["steps"]
    failures = []

    ids = {s.get("id") for s in steps if s.get("id")}
    for name, output in (action.get("outputs") or {}).items():
        for step_id in re.findall(r"steps\.([A-Za-z0-9_-]+)\.outputs", output["value"]):
            if step_id not in ids:
                failures.append(f"action.yml: output {name} names step {step_id}, which does not exist")
    for step in steps:
        if "run" in step and step.get("shell") != "bash":
            failures.append(f"action.yml: step {step.get('id')}: a composite run step needs shell: bash")

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        workflow = {
            "name": "action.yml's steps as a workflow (lint only)",
            "on": {"workflow_call": {"inputs": {
                name: {"type": "string", "required": False, "default": str(spec.get("default", ""))}
                for name, spec in (action.get("inputs") or {}).items()
            }}},
            "permissions": {"contents": "read", "security-events": "write"},
            "jobs": {"action": {"runs-on": "ubuntu-latest", "steps": as_literals(steps)}},
        }
        as_workflow = tmp / "action-as-workflow.yml"
        as_workflow.write_text(yaml.dump(workflow, sort_keys=False, width=200))
        rc, out = actionlint([str(as_workflow)], tmp)
        print(f"actionlint: action.yml's steps as a workflow: {'clean' if rc == 0 else 'FAILED'}")
        if rc != 0:
            failures.append(f"action.yml (its steps as a workflow):\n{out}")

        example = root / "examples" / "github-workflow.yml"
        rc, out = actionlint([str(example)], root)
        print(f"actionlint: examples/github-workflow.yml: {'clean' if rc == 0 else 'FAILED'}")
        if rc != 0:
            failures.append(f"examples/github-workflow.yml:\n{out}")

        repo = tmp / "repo"
        (repo / ".github" / "workflows").mkdir(parents=True)
        shutil.copy(root / "action.yml", repo / "action.yml")
        text = example.read_text()
        local, n = re.subn(r"uses: [\w.-]+/bedbatch-doctor@[\w.-]+", "uses: ./", text)
        if n != 1:
            failures.append("examples/github-workflow.yml: expected one `uses: <owner>/bedbatch-doctor@<ref>`")
        (repo / ".github" / "workflows" / "bedbatch-doctor.yml").write_text(local)
        subprocess.run(["git", "init", "-q", "."], cwd=repo, check=True)
        rc, out = actionlint([], repo)
        print(f"actionlint: the example using action.yml as a local action: {'clean' if rc == 0 else 'FAILED'}")
        if rc != 0:
            failures.append(f"the example with uses: ./ (inputs checked against action.yml):\n{out}")

    for failure in failures:
        print(f"FAIL {failure}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
