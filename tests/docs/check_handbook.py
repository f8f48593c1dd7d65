#!/usr/bin/env python3
"""Checks the handbook (docs/) and the README against what issue 28 asks:

- README.md has at most 250 lines, and `cargo run --release` and
  `cargo test` within its first 15;
- every key of the configuration schema is named in the handbook: its full
  path in the generated reference, its name on some page besides it;
- every `{{#include}}` of a page names a file that exists, and every file
  under tests/interop/ that a page includes is one tests/interop/run.sh runs
  (so a snippet shown is a snippet tested);
- every page of docs/src/ is in SUMMARY.md.

    python3 tests/docs/check_handbook.py

Python 3.11, standard library only. Exit 0, or 1 with every problem.
"""

import importlib.util
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs" / "src"
README_MAX_LINES = 250
FIRST_LINES = 15


def load_generator():
    spec = importlib.util.spec_from_file_location("gen_reference", ROOT / "docs" / "gen_reference.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def check_readme(problems):
    lines = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    if len(lines) > README_MAX_LINES:
        problems.append(f"README.md has {len(lines)} lines, more than {README_MAX_LINES}")
    head = "\n".join(lines[:FIRST_LINES])
    for command in ("cargo run --release", "cargo test"):
        if command not in head:
            problems.append(f"README.md: `{command}` is not in its first {FIRST_LINES} lines")


def check_keys(problems):
    gen = load_generator()
    reference = (DOCS / "reference.md").read_text(encoding="utf-8")
    pages = "\n".join(p.read_text(encoding="utf-8") for p in sorted(DOCS.glob("*.md"))
                      if p.name != "reference.md")
    for path, *_ in gen.rows_of(gen.load(gen.SCHEMA)):
        if f"`{path}`" not in reference:
            problems.append(f"docs/src/reference.md does not name `{path}` "
                            "(run python3 docs/gen_reference.py)")
        name = re.split(r"[.\[\]]+", path.rstrip("[]"))[-1]
        if not re.search(rf"(?<![A-Za-z0-9_]){re.escape(name)}(?![A-Za-z0-9_])", pages):
            problems.append(f"no page of docs/src/ besides the reference names the key `{name}` ({path})")


INCLUDE = re.compile(r"\{\{#(?:include|rustdoc_include)\s+([^}:\s]+)(?::[^}]*)?\}\}")


def check_includes(problems):
    run_sh = (ROOT / "tests" / "interop" / "run.sh").read_text(encoding="utf-8")
    interop = (ROOT / "tests" / "interop").resolve()
    for page in sorted(DOCS.rglob("*.md")):
        for target in INCLUDE.findall(page.read_text(encoding="utf-8")):
            file = (page.parent / target).resolve()
            where = page.relative_to(ROOT)
            if not file.is_file():
                problems.append(f"{where}: {{{{#include {target}}}}}: no such file")
            elif file.parent == interop and f'$here/{file.name}"' not in run_sh:
                problems.append(f"{where}: includes tests/interop/{file.name}, which tests/interop/run.sh does not run")


def check_summary(problems):
    summary = (DOCS / "SUMMARY.md").read_text(encoding="utf-8")
    listed = set(re.findall(r"\]\(([^)#]+\.md)\)", summary))
    for page in sorted(DOCS.glob("*.md")):
        if page.name != "SUMMARY.md" and page.name not in listed:
            problems.append(f"docs/src/{page.name} is not in SUMMARY.md")


def main():
    problems = []
    check_readme(problems)
    check_keys(problems)
    check_includes(problems)
    check_summary(problems)
    for p in problems:
        print(f"handbook: {p}", file=sys.stderr)
    if problems:
        print(f"handbook: {len(problems)} problem(s)", file=sys.stderr)
        return 1
    print("handbook: README, keys, includes and pages ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
