"""``bpverify autograder``: bpverify inside the engines teachers already run.

``--gradescope OUT.zip`` writes a Gradescope autograder: ``setup.sh`` (run once when Gradescope
builds the image: a Python ≥ 3.11, a virtual environment, this bpverify from the wheel in the
zip, its dependencies from PyPI), ``run_autograder`` (run once per submission in a fresh
container: ``bpverify check --format gradescope`` in /autograder/submission, under the
assignment, into /autograder/results/results.json), the wheel (``wheel.py``: bpverify is not on
PyPI) and the assignment. ``BPVERIFY_AUTOGRADER_ROOT`` (default /autograder) and
``BPVERIFY_AUTOGRADER_PYTHON`` move both scripts elsewhere, which is how they are tested.

``--github REPO`` writes ``.github/workflows/bpverify.yml`` into a student repository template
(GitHub Classroom gives each student a copy), with the wheel and the assignment beside it
under ``.github/bpverify/``: every push runs ``bpverify check --format github``, which annotates
the student's own lines, and fails the run unless the implementation conforms.
"""

from __future__ import annotations

import shlex
import shutil
import stat
import sys
import tempfile
import zipfile
from pathlib import Path

from bpverify.commands.wheel import build
from bpverify.conformance.suite import assignment as assignments

SETUP = r"""#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder's image (network allowed).
# It installs bpverify from the wheel in this zip (bpverify is not on PyPI) into its own
# virtual environment; pip takes its dependencies (numpy, scipy, sympy, jax, pytest,
# hypothesis) from PyPI.
set -euo pipefail
ROOT="${BPVERIFY_AUTOGRADER_ROOT:-/autograder}"
SOURCE="$ROOT/source"
VENV="$ROOT/bpverify-venv"
PYTHON=""
for candidate in python3.13 python3.12 python3.11; do
    if command -v "$candidate" >/dev/null 2>&1; then PYTHON="$candidate"; break; fi
done
if [ -z "$PYTHON" ]; then  # Gradescope's Ubuntu 22.04 image has Python 3.10
    apt-get update
    apt-get install -y python3.11 python3.11-venv
    PYTHON=python3.11
fi
if ! "$PYTHON" -m venv "$VENV"; then  # Ubuntu keeps venv (ensurepip) in a package of its own
    apt-get update
    apt-get install -y "$PYTHON-venv"
    "$PYTHON" -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install --upgrade pip
"$VENV/bin/python" -m pip install "$SOURCE"/bpverify-*.whl
"$VENV/bin/python" -m bpverify check --help >/dev/null
"""

RUN = r"""#!/usr/bin/env bash
# Gradescope runs this once per submission, in a fresh container: the submission is in
# $ROOT/submission, and $ROOT/results/results.json is what Gradescope reads.
set -uo pipefail
ROOT="${BPVERIFY_AUTOGRADER_ROOT:-/autograder}"
PYTHON="${BPVERIFY_AUTOGRADER_PYTHON:-$ROOT/bpverify-venv/bin/python}"
RESULTS="$ROOT/results/results.json"
mkdir -p "$ROOT/results"
rm -f "$RESULTS"
cd "$ROOT/submission" || exit 1
if [ ! -f @MODULE_FILE@ ]; then  # uploaded inside a folder: the one folder that holds it
    found=$(find . -path ./__MACOSX -prune -o -name @MODULE_BASENAME@ -type f -print)
    if [ "$(printf '%s\n' "$found" | grep -c .)" = 1 ]; then
        cd "$(dirname "$found")/@MODULE_UP@" || exit 1
    fi
fi
"$PYTHON" -m bpverify check @SPEC@ --assignment @ASSIGNMENT@ --timeout @TIMEOUT@ \
    --format gradescope --output "$RESULTS"
status=$?
# 0: conforms, 1: does not, 2: nothing could be checked (results.json says why, score 0).
if [ ! -s "$RESULTS" ]; then  # bpverify itself could not run: say so rather than nothing
    printf '{"score": 0, "output": "bpverify could not run (exit status %s): %s", "tests": []}\n' \
        "$status" "tell your teacher" > "$RESULTS"
fi
exit 0
"""

WORKFLOW = """\
# Written by `bpverify autograder --github`: every push checks the backpropagation in
# @SPEC@ against the teacher's assignment (@ASSIGNMENT_NAME@), annotates your own
# lines with what fails, and fails the run unless it conforms. bpverify is installed from the
# wheel beside this file (.github/bpverify/), its dependencies from PyPI.
name: bpverify
on: [push, pull_request, workflow_dispatch]
permissions:
  contents: read
jobs:
  backprop:
    runs-on: ubuntu-latest
    timeout-minutes: 20
    steps:
      - uses: actions/checkout@v4
      - uses: actions/setup-python@v5
        with:
          python-version: "3.11"
      - name: Install bpverify
        run: python -m pip install .github/bpverify/@WHEEL@
      - name: bpverify check
        run: bpverify check @SPEC@ --assignment @ASSIGNMENT@ --format github
"""


def _module_file(spec: str) -> str:
    return spec.rpartition(":")[0].replace(".", "/") + ".py"


def run_autograder_script(spec: str, assignment: str, timeout: float = 10.0) -> str:
    module = _module_file(spec)
    up = "/".join([".."] * module.count("/")) or "."
    return (RUN.replace("@MODULE_FILE@", shlex.quote(module))
            .replace("@MODULE_BASENAME@", shlex.quote(module.rpartition("/")[2]))
            .replace("@MODULE_UP@", up).replace("@SPEC@", shlex.quote(spec))
            .replace("@ASSIGNMENT@", assignment).replace("@TIMEOUT@", f"{timeout:g}"))


def write_gradescope(out: Path, assignment_file: str | None) -> Path:
    """The autograder zip: setup.sh, run_autograder, the wheel and the assignment."""
    assigned = assignments.load(assignment_file or "book")
    with tempfile.TemporaryDirectory(prefix="bpverify-autograder-") as tmp:
        folder = Path(tmp)
        wheel = build(folder)
        if assignment_file is None:  # built in: every bpverify knows it by name
            where = "book"
        else:
            shutil.copy(assignment_file, folder / assigned.name)
            where = f'"$ROOT/source/"{shlex.quote(assigned.name)}'
        (folder / "setup.sh").write_text(SETUP)
        (folder / "run_autograder").write_text(run_autograder_script(assigned.spec, where))
        out.parent.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as bundle:
            for path in sorted(folder.iterdir()):
                entry = zipfile.ZipInfo(path.name, date_time=(2020, 1, 1, 0, 0, 0))
                executable = path.name in ("setup.sh", "run_autograder")
                entry.external_attr = (0o755 if executable else 0o644) << 16
                bundle.writestr(entry, path.read_bytes(), zipfile.ZIP_DEFLATED)
        print(f"bpverify autograder: {out} for Gradescope ({wheel.name}, assignment "
              f"{assigned.describe()}); upload it as the autograder of a programming assignment",
              file=sys.stderr)
    return out


def write_github(repository: Path, assignment_file: str | None) -> Path:
    """.github/workflows/bpverify.yml and .github/bpverify/ (the wheel, the assignment)."""
    assigned = assignments.load(assignment_file or "book")
    folder = repository / ".github" / "bpverify"
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("bpverify-*.whl"):  # one wheel: the install step takes a glob
        old.unlink()
    wheel = build(folder)
    if assignment_file is None:
        where = "book"
    else:
        shutil.copy(assignment_file, folder / assigned.name)
        where = shlex.quote(f".github/bpverify/{assigned.name}")
    workflow = repository / ".github" / "workflows" / "bpverify.yml"
    workflow.parent.mkdir(parents=True, exist_ok=True)
    workflow.write_text(WORKFLOW.replace("@SPEC@", shlex.quote(assigned.spec))
                        .replace("@ASSIGNMENT_NAME@", assigned.describe())
                        .replace("@ASSIGNMENT@", where).replace("@WHEEL@", wheel.name))
    workflow.chmod(workflow.stat().st_mode | stat.S_IRGRP | stat.S_IROTH)
    print(f"bpverify autograder: {workflow} and {folder}/ written; commit them to the template "
          "repository of the assignment", file=sys.stderr)
    return workflow


def main(*, gradescope: str | None = None, github: str | None = None,
         assignment: str | None = None) -> int:
    try:
        if gradescope is not None:
            write_gradescope(Path(gradescope), assignment)
        elif github is not None:
            write_github(Path(github), assignment)
    except ValueError as error:
        print(f"bpverify autograder: {error}", file=sys.stderr)
        return 2
    return 0
