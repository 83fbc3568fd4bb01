"""``bpverify derive``: list, show, check the derivations, and write their docs."""

from __future__ import annotations

import sys
from pathlib import Path

from bpverify.derivations.catalog import DERIVATIONS, with_concrete_bound
from bpverify.derivations.core import Result, check, render

DOCS = Path("docs") / "derivations"


def index(results: list[Result]) -> str:
    """docs/derivations/README.md: one line per derivation with its level."""
    lines = ["# Executable derivations", "",
             "Each page is generated from `derivations/catalog.py` by `bpverify derive "
             "--write-docs`; every step is checked by SymPy (`bpverify derive --check`), and "
             "each derivation's negative control must be rejected by the same checker.", "",
             "| derivation | source | generality |", "|---|---|---|"]
    for r in results:
        d = r.derivation
        lines.append(f"| [{d.title}]({d.name}.md) | {d.source} | {d.generality} |")
    return "\n".join(lines) + "\n"


def write_docs(directory: Path = DOCS) -> list[Path]:
    results = [check(d) for d in DERIVATIONS]
    failed = [r.derivation.name for r in results if not r.passed]
    if failed:
        raise RuntimeError(f"not writing docs: derivations {failed} do not check")
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for r in results:
        path = directory / f"{r.derivation.name}.md"
        path.write_text(render(r, "markdown"), encoding="utf-8")
        written.append(path)
    (directory / "README.md").write_text(index(results), encoding="utf-8")
    return written


def main(name: str | None, *, list_all: bool, run_check: bool, fmt: str,
         write: bool, bound: tuple[int, int] | None = None) -> int:
    derivations = DERIVATIONS if bound is None else with_concrete_bound(*bound)
    if list_all:
        for d in DERIVATIONS:
            print(f"{d.name:<20} {d.title}")
        return 0
    if write:
        for path in write_docs():
            print(f"wrote {path}")
        return 0
    if run_check:
        failures = 0
        total = 0.0
        for d in derivations:
            r = check(d)
            total += r.seconds
            status = "✓" if r.passed else "✗"
            failures += not r.passed
            print(f"{status} {d.name:<20} {r.seconds:6.2f} s  {d.generality}")
        print(f"{len(derivations) - failures} checked, {failures} failed in {total:.1f} s")
        return 1 if failures else 0
    if name is None:
        print("bpverify derive: give a NAME, --list, --check or --write-docs", file=sys.stderr)
        return 2
    matches = [d for d in derivations if d.name == name]
    if not matches:
        print(f"bpverify derive: derivation is {name!r}, expected one of "
              f"{[d.name for d in derivations]}", file=sys.stderr)
        return 2
    derivation = matches[0]
    result = check(derivation)
    print(render(result, fmt))
    return 0 if result.passed else 1
