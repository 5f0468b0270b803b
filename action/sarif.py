#!/usr/bin/env python3
"""Readies `bedbatch-doctor check --output sarif` for GitHub code scanning (called by action.yml).

    sarif.py FILE --anchor PATH [--summary FILE]

- Code scanning rejects a result whose locations carry no physical location (check names the AWS
  resource at fault as a logical location: it is not a file), so each location gets one: the
  repository file PATH (the settings file, or the workflow), line 1; the logical location stays.
- Each result gets a partial fingerprint from its rule and resource, so an alert keeps its identity
  from run to run while every result sits on the same line.
- The results and the checks that could not run are printed to the log and, as a table, appended
  to the summary file (GITHUB_STEP_SUMMARY).

Exit 0 when FILE was SARIF (rewritten in place); 3 when it was not (check printed its
`{"error": …}` document, or nothing: a usage or settings error), with the error as an annotation.
Standard library only: it runs on the runner's python3.
"""
import argparse
import hashlib
import json
import sys
from pathlib import Path


def anchor_uri(path: str) -> str:
    uri = path.strip().replace("\\", "/")
    while uri.startswith("./"):
        uri = uri[2:]
    return uri or "bedbatch.toml"


def resource_of(result: dict) -> str:
    resource = (result.get("properties") or {}).get("resource")
    if resource:
        return str(resource)
    for location in result.get("locations") or []:
        for logical in location.get("logicalLocations") or []:
            if logical.get("fullyQualifiedName"):
                return logical["fullyQualifiedName"]
    return ""


def first_line(text: str) -> str:
    return (text or "").splitlines()[0] if text else ""


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("file")
    parser.add_argument("--anchor", required=True)
    parser.add_argument("--summary", default="/dev/null")
    args = parser.parse_args()

    text = Path(args.file).read_text(encoding="utf-8") if Path(args.file).exists() else ""
    try:
        doc = json.loads(text) if text.strip() else None
    except json.JSONDecodeError:
        doc = None
    if not isinstance(doc, dict) or "runs" not in doc:
        error = (doc or {}).get("error") if isinstance(doc, dict) else None
        if error:
            print(f"::error::bedbatch-doctor check: {error.get('kind')}: {error.get('message')}")
        else:
            print("::error::bedbatch-doctor check printed no SARIF (see its message above)")
        return 3

    uri = anchor_uri(args.anchor)
    rows = []
    for run in doc["runs"]:
        for result in run.get("results") or []:
            resource = resource_of(result)
            locations = result.setdefault("locations", [])
            if not locations:
                locations.append({})
            for location in locations:
                location.setdefault(
                    "physicalLocation",
                    {"artifactLocation": {"uri": uri}, "region": {"startLine": 1}},
                )
            key = f"{result.get('ruleId')}|{resource}".encode()
            result.setdefault("partialFingerprints", {})["bedbatchDoctorFinding/v1"] = hashlib.sha256(key).hexdigest()
            rows.append((result.get("level", "warning"), result.get("ruleId", ""), resource,
                         first_line((result.get("message") or {}).get("text", ""))))
        for invocation in run.get("invocations") or []:
            for note in invocation.get("toolExecutionNotifications") or []:
                rows.append(("not run", (note.get("descriptor") or {}).get("id", ""), "",
                             first_line((note.get("message") or {}).get("text", ""))))
    Path(args.file).write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")

    counts = {}
    for level, *_ in rows:
        counts[level] = counts.get(level, 0) + 1
    tally = ", ".join(f"{n} {level}" for level, n in sorted(counts.items())) or "no findings"
    print(f"bedbatch-doctor check: {tally} (SARIF in {args.file}, shown on {uri})")
    for level, rule, resource, message in rows:
        print(f"  {level:8} {rule:32} {resource}  {message}")
    with open(args.summary, "a", encoding="utf-8") as summary:
        summary.write(f"### bedbatch-doctor check: {tally}\n\n")
        if rows:
            summary.write("| level | code | resource | finding |\n| --- | --- | --- | --- |\n")
            for level, rule, resource, message in rows:
                cells = [c.replace("|", "\\|") for c in (level, f"`{rule}`", resource, message)]
                summary.write("| " + " | ".join(cells) + " |\n")
            summary.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
