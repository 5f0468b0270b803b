#!/usr/bin/env python3
"""Checks the sdist maturin built (tests/packaging/run).

    check_sdist.py ROOT SDIST.tar.gz

- Its metadata is Cargo.toml's: name, version, summary (description), license.
- It holds what the build needs: Cargo.toml, Cargo.lock (the locked versions), pyproject.toml,
  README.md, every .rs file under src/, and every file an `include_str!`/`include_bytes!` in src/
  embeds: a literal path is resolved from its source file; a path built on CARGO_MANIFEST_DIR names
  a folder, whose files must all be there.
- It leaves out what only the tests, the fuzzer, CI and the GitHub Action read (tests/, fuzz/,
  .ci/, scripts/, action.yml, action/).
"""
import re
import sys
import tarfile
import tomllib
from email.parser import HeaderParser
from pathlib import Path


def main() -> int:
    root, sdist = Path(sys.argv[1]).resolve(), Path(sys.argv[2])
    cargo = tomllib.loads((root / "Cargo.toml").read_text())["package"]
    failures = []
    with tarfile.open(sdist) as tar:
        names = tar.getnames()
        top = names[0].split("/")[0]
        files = {n[len(top) + 1:] for n in names if n.startswith(top + "/")}
        pkg_info = HeaderParser().parsestr(tar.extractfile(f"{top}/PKG-INFO").read().decode())

    expected = {"Name": cargo["name"], "Version": cargo["version"], "Summary": cargo["description"],
                "License": cargo["license"]}
    for field, value in expected.items():
        if pkg_info.get(field) != value:
            failures.append(f"PKG-INFO {field}: {pkg_info.get(field)!r}, Cargo.toml says {value!r}")

    needed = {"Cargo.toml", "Cargo.lock", "pyproject.toml", "README.md"}
    include = re.compile(r"include_(?:str|bytes)!\(\s*\"([^\"]+)\"")
    manifest_dir = re.compile(r"include_(?:str|bytes)!\(\s*concat!\(\s*env!\(\"CARGO_MANIFEST_DIR\"\)\s*,\s*\"([^\"]+)\"")
    embedded = 0
    for source in sorted((root / "src").rglob("*.rs")):
        needed.add(source.relative_to(root).as_posix())
        text = source.read_text()
        for rel in include.findall(text):
            target = (source.parent / rel).resolve()
            needed.add(target.relative_to(root).as_posix())
            embedded += 1
        for folder in manifest_dir.findall(text):
            folder = folder.strip("/")
            for f in (root / folder).rglob("*"):
                if f.is_file():
                    needed.add(f.relative_to(root).as_posix())
                    embedded += 1
    missing = sorted(needed - files)
    if missing:
        failures.append(f"missing from the sdist: {missing[:20]}{' …' if len(missing) > 20 else ''}")
    stray = sorted(f for f in files if f.split("/")[0] in ("tests", "fuzz", ".ci", "scripts", "action", "action.yml"))
    if stray:
        failures.append(f"test-only files in the sdist: {stray[:10]}")

    for failure in failures:
        print(f"FAIL sdist: {failure}", file=sys.stderr)
    if not failures:
        print(f"sdist: {sdist.name}: {len(files)} files; metadata from Cargo.toml ({cargo['name']} "
              f"{cargo['version']}); Cargo.lock and the {embedded} files src/ embeds are in it")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
