#!/usr/bin/env python3
"""Runs action.yml's steps locally, as a runner would, against snapshots (tests/packaging/run).

    action_local.py ROOT --bin BEDBATCH_DOCTOR --wheel WHEEL

The action is read from ROOT/action.yml and its composite steps are run in order: each `if:` is
evaluated (inputs, step outputs, success()/always()…), `${{ … }}` is substituted in `env:` and
`run:`, each `run:` goes through `bash --noprofile --norc -eo pipefail` as GitHub runs it, with
GITHUB_OUTPUT, GITHUB_PATH, GITHUB_STEP_SUMMARY, GITHUB_ACTION_PATH and RUNNER_TEMP as a runner
sets them, and a step that fails skips the rest. `uses:` steps (the cache, the SARIF upload) are
not run: the runner records whether they would run and with what. The scenarios below check the
SARIF file and the exit-code policy. --bin is the binary for scenarios with `install: false`;
--wheel is put where the action's cache would restore it, for the scenario that installs.
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

# ---------------------------------------------------------------- expressions


TOKEN = re.compile(r"\s*(?:(?P<str>'(?:[^']|'')*')|(?P<op>==|!=|&&|\|\||!|\(|\))|(?P<num>\d+)"
                   r"|(?P<fn>[A-Za-z_][\w-]*)\(\)|(?P<path>[A-Za-z_][\w-]*(?:\.[A-Za-z_][\w-]*)*))")


def tokens(expr):
    pos, out = 0, []
    expr = expr.strip()
    while pos < len(expr):
        m = TOKEN.match(expr, pos)
        if not m or m.end() == pos:
            raise ValueError(f"expression not understood at {expr[pos:]!r}: {expr!r}")
        pos = m.end()
        kind = m.lastgroup
        out.append((kind, m.group(kind)))
    return out


def truthy(value):
    return value not in ("", None, False, 0)


def evaluate(expr, ctx, status="success"):
    """The subset of GitHub's expression language action.yml uses; anything else is an error."""
    toks = tokens(expr)
    pos = 0

    def peek():
        return toks[pos] if pos < len(toks) else (None, None)

    def take():
        nonlocal pos
        pos += 1
        return toks[pos - 1]

    def primary():
        kind, text = take()
        if kind == "str":
            return text[1:-1].replace("''", "'")
        if kind == "num":
            return int(text)
        if kind == "fn":
            return {"success": status == "success", "failure": status == "failure",
                    "always": True, "cancelled": False}[text]
        if kind == "path":
            if text in ("true", "false"):
                return text == "true"
            value = ctx
            for part in text.split("."):
                value = value.get(part, "") if isinstance(value, dict) else ""
            return value
        if (kind, text) == ("op", "("):
            value = disjunction()
            assert take() == ("op", ")"), f"unbalanced parentheses in {expr!r}"
            return value
        if (kind, text) == ("op", "!"):
            return not truthy(primary())
        raise ValueError(f"unexpected {text!r} in {expr!r}")

    def comparison():
        left = primary()
        while peek() in (("op", "=="), ("op", "!=")):
            op = take()[1]
            right = primary()
            same = str(left).lower() == str(right).lower()
            left = same if op == "==" else not same
        return left

    def conjunction():
        left = comparison()
        while peek() == ("op", "&&"):
            take()
            right = comparison()
            left = right if truthy(left) else left
        return left

    def disjunction():
        left = conjunction()
        while peek() == ("op", "||"):
            take()
            right = conjunction()
            left = left if truthy(left) else right
        return left

    value = disjunction()
    if pos != len(toks):
        raise ValueError(f"trailing tokens in {expr!r}")
    return value


def as_text(value):
    if value is True:
        return "true"
    if value is False:
        return "false"
    return str(value)


def substitute(text, ctx):
    return re.sub(r"\$\{\{(.*?)\}\}", lambda m: as_text(evaluate(m.group(1), ctx)), str(text))


def condition(step, ctx, status):
    cond = step.get("if")
    if cond is None:
        return status == "success"
    cond = str(cond).strip()
    if cond.startswith("${{") and cond.endswith("}}"):
        cond = cond[3:-2]
    if not re.search(r"\b(success|failure|always|cancelled)\(\)", cond):
        cond = f"success() && ({cond})"
    return truthy(evaluate(cond, ctx, status))


# ---------------------------------------------------------------- the runner


def parse_outputs(path):
    outputs, lines = {}, Path(path).read_text().splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            name, delim = line.split("<<", 1)
            i += 1
            value = []
            while lines[i] != delim:
                value.append(lines[i])
                i += 1
            outputs[name] = "\n".join(value)
        elif "=" in line:
            name, value = line.split("=", 1)
            outputs[name] = value
        i += 1
    return outputs


def run_action(root, inputs, workspace, runner_temp, base_env):
    action = yaml.safe_load((Path(root) / "action.yml").read_text())
    declared = action.get("inputs") or {}
    unknown = set(inputs) - set(declared)
    assert not unknown, f"inputs the action does not declare: {unknown}"
    values = {name: str(spec.get("default", "")) for name, spec in declared.items()}
    values.update({k: str(v) for k, v in inputs.items()})
    ctx = {
        "inputs": values,
        "steps": {},
        "github": {"action_path": str(root), "workspace": str(workspace)},
        "runner": {"temp": str(runner_temp), "os": "Linux", "arch": "X64"},
    }
    files = {name: Path(runner_temp) / f"_{name}" for name in ("path", "env", "summary")}
    for f in files.values():
        f.write_text("")
    status, record = "success", []
    for index, step in enumerate(action["runs"]["steps"]):
        step_id = step.get("id", f"__{index}")
        if not condition(step, ctx, status):
            ctx["steps"][step_id] = {"outputs": {}, "outcome": "skipped", "conclusion": "skipped"}
            record.append({"id": step_id, "ran": False, "uses": step.get("uses")})
            continue
        if "uses" in step:
            with_ = {k: substitute(v, ctx) for k, v in (step.get("with") or {}).items()}
            ctx["steps"][step_id] = {"outputs": {}, "outcome": "success", "conclusion": "success"}
            record.append({"id": step_id, "ran": True, "uses": step["uses"], "with": with_})
            continue
        assert step.get("shell") == "bash", f"step {step_id}: shell {step.get('shell')}"
        script = Path(runner_temp) / f"_step_{index}.sh"
        script.write_text(substitute(step["run"], ctx))
        output_file = Path(runner_temp) / f"_output_{index}"
        output_file.write_text("")
        env = dict(base_env)
        extra_path = [p for p in files["path"].read_text().splitlines() if p]
        env["PATH"] = os.pathsep.join(list(reversed(extra_path)) + [base_env["PATH"]])
        env.update({
            "GITHUB_OUTPUT": str(output_file),
            "GITHUB_PATH": str(files["path"]),
            "GITHUB_ENV": str(files["env"]),
            "GITHUB_STEP_SUMMARY": str(files["summary"]),
            "GITHUB_ACTION_PATH": str(root),
            "GITHUB_WORKSPACE": str(workspace),
            "RUNNER_TEMP": str(runner_temp),
        })
        env.update({k: substitute(v, ctx) for k, v in (step.get("env") or {}).items()})
        proc = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)],
                              cwd=workspace, env=env, capture_output=True, text=True)
        outputs = parse_outputs(output_file)
        outcome = "success" if proc.returncode == 0 else "failure"
        ctx["steps"][step_id] = {"outputs": outputs, "outcome": outcome, "conclusion": outcome}
        record.append({"id": step_id, "ran": True, "rc": proc.returncode, "stdout": proc.stdout,
                       "stderr": proc.stderr, "outputs": outputs})
        if proc.returncode != 0:
            status = "failure"
    outputs = {name: substitute(spec["value"], ctx) for name, spec in (action.get("outputs") or {}).items()}
    log = "".join(s.get("stdout", "") for s in record)
    return {
        "success": status == "success",
        "steps": {s["id"]: s for s in record},
        "outputs": outputs,
        "errors": re.findall(r"^::error::(.*)$", log, re.M),
        "warnings": re.findall(r"^::warning::(.*)$", log, re.M),
        "log": log + "".join(s.get("stderr", "") for s in record),
        "summary": files["summary"].read_text(),
        "path": files["path"].read_text().splitlines(),
    }


# ---------------------------------------------------------------- the scenarios


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("root")
    ap.add_argument("--bin", required=True)
    ap.add_argument("--wheel", required=True)
    args = ap.parse_args()
    root = Path(args.root).resolve()
    examples = root / "examples"
    results = {"passed": 0, "failed": 0}

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        # Only the binary on PATH (next to the system's tools): what the install step would leave.
        bindir = tmp / "bin"
        bindir.mkdir()
        os.symlink(Path(args.bin).resolve(), bindir / "bedbatch-doctor")
        clean_path = os.pathsep.join(p for p in os.environ["PATH"].split(os.pathsep)
                                     if not (Path(p) / "bedbatch-doctor").exists())
        base_env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "RUNNER_", "INPUT_"))}
        base_env.update({
            "GITHUB_REPOSITORY": "acme/infra",
            "GITHUB_WORKFLOW_REF": "acme/infra/.github/workflows/bedbatch-doctor.yml@refs/heads/main",
            # No AWS call may leave the machine: a check against a snapshot makes none.
            "AWS_ENDPOINT_URL": "http://127.0.0.1:9",
            "AWS_EC2_METADATA_DISABLED": "true",
        })
        bare = {}

        def plain_sarif(snapshot):
            if snapshot not in bare:
                proc = subprocess.run([args.bin, "check", "--snapshot", str(snapshot), "--output", "sarif"],
                                      capture_output=True, text=True, env=base_env)
                bare[snapshot] = json.loads(proc.stdout)
            return bare[snapshot]

        def scenario(name, inputs, check, *, installed=True, prepare=None, env=None):
            case = tmp / re.sub(r"\W+", "-", name)
            workspace, runner_temp = case / "workspace", case / "temp"
            workspace.mkdir(parents=True)
            runner_temp.mkdir()
            overrides, env = env or {}, dict(base_env)
            for k, v in overrides.items():
                if v is None:
                    env.pop(k, None)
                else:
                    env[k] = v
            env["PATH"] = (str(bindir) + os.pathsep + clean_path) if installed else clean_path
            if prepare:
                prepare(workspace, runner_temp)
            try:
                result = run_action(root, inputs, workspace, runner_temp, env)
                check(result, workspace)
            except Exception as e:  # an assertion, or a KeyError where the SARIF lacks a field
                results["failed"] += 1
                print(f"FAIL action: {name}: {type(e).__name__}: {e}")
                if "result" in locals():
                    print(result["log"][-4000:])
                return
            results["passed"] += 1
            print(f"ok   action: {name}")

        def sarif_of(workspace, result, anchor, snapshot):
            path = workspace / result["outputs"]["sarif-file"]
            assert path.is_file(), f"no SARIF at {path}"
            doc = json.loads(path.read_text())
            assert doc["version"] == "2.1.0" and doc["runs"], "not SARIF 2.1.0"
            for res in doc["runs"][0]["results"]:
                for loc in res["locations"]:
                    uri = loc["physicalLocation"]["artifactLocation"]["uri"]
                    assert uri == anchor, f"{res['ruleId']}: physical location {uri}, not {anchor}"
                    assert loc["logicalLocations"], f"{res['ruleId']}: the logical location was dropped"
                assert res["partialFingerprints"]["bedbatchDoctorFinding/v1"]
            # Nothing else changed: strip what the action adds and compare with check's own SARIF.
            for res in doc["runs"][0]["results"]:
                res.pop("partialFingerprints")
                for loc in res["locations"]:
                    loc.pop("physicalLocation")
            assert doc == plain_sarif(snapshot), "the SARIF differs from check's own beyond the locations"
            return path

        def uploaded(result, path):
            up = result["steps"]["upload"]
            assert up["uses"].startswith("github/codeql-action/upload-sarif@"), up
            assert up["ran"], "the SARIF upload was skipped"
            assert Path(up["with"]["sarif_file"]).name == Path(path).name, up["with"]

        walkthrough = examples / "walkthrough.snapshot.json"
        unreadable = examples / "unreadable.snapshot.json"
        healthy = examples / "healthy.snapshot.json"
        workflow_anchor = ".github/workflows/bedbatch-doctor.yml"

        def errors_fail(result, ws):
            assert not result["success"], "the step passed on error findings"
            assert result["outputs"]["exit-code"] == "1", result["outputs"]
            uploaded(result, sarif_of(ws, result, workflow_anchor, walkthrough))
            assert result["steps"]["verdict"]["rc"] == 1
            assert any("error findings" in e for e in result["errors"]), result["errors"]
            assert "trust-wrong-principal" in result["summary"], "no findings table in the summary"
        scenario("errors fail the step (default fail-on)", {"install": "false", "args": f"--snapshot {walkthrough}"},
                 errors_fail)

        def incomplete_warns(result, ws):
            assert result["success"], "exit 4 with incomplete: warning failed the step"
            assert result["outputs"]["exit-code"] == "4"
            uploaded(result, sarif_of(ws, result, workflow_anchor, unreadable))
            assert any("incomplete" in w for w in result["warnings"]), result["warnings"]
            assert not result["errors"], result["errors"]
        scenario("exit 4 with incomplete: warning passes with a warning",
                 {"install": "false", "args": f"--snapshot {unreadable}"}, incomplete_warns)

        def incomplete_fails(result, ws):
            assert not result["success"], "exit 4 with incomplete: failure passed"
            assert result["outputs"]["exit-code"] == "4"
            uploaded(result, sarif_of(ws, result, workflow_anchor, unreadable))
            assert any("incomplete" in e for e in result["errors"]), result["errors"]
        scenario("exit 4 with incomplete: failure fails",
                 {"install": "false", "args": f"--snapshot {unreadable}", "incomplete": "failure"}, incomplete_fails)

        def healthy_passes(result, ws):
            assert result["success"] and result["outputs"]["exit-code"] == "0", result["outputs"]
            uploaded(result, sarif_of(ws, result, workflow_anchor, healthy))
            assert not result["errors"] and not result["warnings"]
        scenario("no errors passes", {"install": "false", "args": f"--snapshot {healthy}"}, healthy_passes)

        def not_in_fail_on(result, ws):
            assert result["success"], "exit 1 failed although fail-on leaves 1 out"
            assert result["outputs"]["exit-code"] == "1"
            assert any("not in fail-on" in w for w in result["warnings"]), result["warnings"]
        scenario("exit 1 left out of fail-on passes with a warning",
                 {"install": "false", "args": f"--snapshot {walkthrough}", "fail-on": "2,3"}, not_in_fail_on)

        def quoted_args(result, ws):
            assert result["outputs"]["exit-code"] == "1", result["log"][-2000:]
            sarif_of(ws, result, "settings/bedbatch.toml", walkthrough)
            assert (ws / "out dir" / "report.sarif").is_file()

        def quoted_prepare(ws, _temp):
            (ws / "snap shots").mkdir()
            shutil.copy(walkthrough, ws / "snap shots" / "walk through.json")
        scenario("args split like a shell (quotes), sarif-file and sarif-anchor",
                 {"install": "false", "args": "--snapshot 'snap shots/walk through.json'",
                  "sarif-file": "out dir/report.sarif", "sarif-anchor": "./settings/bedbatch.toml"},
                 quoted_args, prepare=quoted_prepare)

        # A live check (a snapshot is checked with its own settings: check refuses --config with
        # it). No credentials here, so check reports that, in SARIF, exit 3.
        def config_anchor(result, ws):
            assert not result["success"]
            assert result["outputs"]["exit-code"] == "3", result["outputs"]
            doc = json.loads((ws / result["outputs"]["sarif-file"]).read_text())
            rules = [r["ruleId"] for r in doc["runs"][0]["results"]]
            assert rules == ["credentials-missing"], rules
            for res in doc["runs"][0]["results"]:
                for loc in res["locations"]:
                    assert loc["physicalLocation"]["artifactLocation"]["uri"] == "bedbatch.toml", loc

        def config_prepare(ws, _temp):
            (ws / "bedbatch.toml").write_text(
                'region = "us-east-1"\nmodel_id = "anthropic.claude-3-haiku-20240307-v1:0"\n'
                'input_uri = "s3://in-bucket/batch/"\noutput_uri = "s3://out-bucket/batch/"\n'
                'role_name = "BedrockBatchRole"\n')
        no_credentials = {"AWS_ACCESS_KEY_ID": None, "AWS_SECRET_ACCESS_KEY": None, "AWS_SESSION_TOKEN": None,
                          "AWS_PROFILE": None, "AWS_CONFIG_FILE": "/nonexistent/aws-config",
                          "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent/aws-credentials"}
        scenario("the config file is passed and anchors the findings",
                 {"install": "false", "config": "bedbatch.toml"},
                 config_anchor, prepare=config_prepare, env=no_credentials)

        def config_with_snapshot(result, ws):
            assert not result["success"]
            assert result["outputs"]["exit-code"] == "2", result["outputs"]
            assert "the argument '--config' cannot be used with '--snapshot'" in result["log"], result["log"][-2000:]
        scenario("config with a snapshot in args is refused (exit 2), not ignored",
                 {"install": "false", "config": "bedbatch.toml", "args": f"--snapshot {walkthrough}"},
                 config_with_snapshot, prepare=config_prepare)

        def settings_error(result, ws):
            assert not result["success"]
            assert result["outputs"]["exit-code"] == "2", result["outputs"]
            assert result["outputs"]["sarif-file"] == "", "an error document was offered as SARIF"
            assert not result["steps"]["upload"]["ran"], "the upload ran without SARIF"
            assert any("does not exist" in e for e in result["errors"]), result["errors"]
            assert any("usage or settings error" in e for e in result["errors"]), result["errors"]
        scenario("a settings error (exit 2) fails and uploads nothing",
                 {"install": "false", "config": "missing.toml"}, settings_error)

        def bad_input(result, ws):
            assert not result["success"]
            assert result["steps"]["check"]["rc"] == 2
            assert not result["steps"]["verdict"]["ran"]
            assert "exit-code" not in result["steps"]["check"]["outputs"], "check ran despite a bad input"
            assert any("incomplete" in e for e in result["errors"]), result["errors"]
        scenario("an unknown value of incomplete fails before check runs",
                 {"install": "false", "args": f"--snapshot {walkthrough}", "incomplete": "maybe"}, bad_input)

        def bad_fail_on(result, ws):
            assert not result["success"] and result["steps"]["check"]["rc"] == 2
            assert any("fail-on" in e for e in result["errors"]), result["errors"]
        scenario("fail-on naming 4 fails before check runs",
                 {"install": "false", "args": f"--snapshot {walkthrough}", "fail-on": "1 4"}, bad_fail_on)

        def no_upload(result, ws):
            assert result["steps"]["upload"]["ran"] is False, "upload: false still uploaded"
            assert (ws / "bedbatch-doctor.sarif").is_file()
        scenario("upload: false writes the SARIF and skips the upload",
                 {"install": "false", "args": f"--snapshot {healthy}", "upload": "false"}, no_upload)

        def installs(result, ws):
            assert result["steps"]["source"]["ran"] and result["steps"]["install"]["rc"] == 0, result["log"][-3000:]
            cache = result["steps"]["cache"]
            assert cache["ran"] and cache["uses"].startswith("actions/cache@"), cache
            assert cache["with"]["key"].startswith("bedbatch-doctor-wheel-Linux-X64-"), cache["with"]
            assert "Building the bedbatch-doctor wheel" not in result["log"], "the cached wheel was not used"
            bindir_added = [p for p in result["path"] if p.endswith("bedbatch-doctor-bin")]
            assert bindir_added, f"GITHUB_PATH: {result['path']}"
            assert sorted(os.listdir(bindir_added[0])) == ["bedbatch-doctor"], "more than the binary on PATH"
            assert result["outputs"]["exit-code"] == "1", result["outputs"]
            assert not result["success"]

        def installs_prepare(ws, temp):
            (temp / "bedbatch-doctor-wheel").mkdir()
            shutil.copy(args.wheel, temp / "bedbatch-doctor-wheel")
        scenario("install: the wheel (as the cache restores it) into a venv, its binary on PATH",
                 {"args": f"--snapshot {walkthrough}"}, installs, installed=False, prepare=installs_prepare)

    print(f"action: {results['passed']} passed, {results['failed']} failed")
    return 1 if results["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())
