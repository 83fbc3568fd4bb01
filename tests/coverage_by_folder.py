"""Coverage per folder of the layout (``tox -e coverage``): statements covered by the tests, per
part (reference/, oracles/, derivations/, conformance/<subpackage>/, bpverify/), from the JSON
report ``coverage json`` writes. Usage: python tests/coverage_by_folder.py coverage.json"""

from __future__ import annotations

import json
import sys
from collections import defaultdict


def folder(path: str) -> str:
    """The part a file belongs to: its top folder, or conformance/'s subpackage."""
    parts = path.split("/")
    return "/".join(parts[:2]) if parts[0] == "conformance" and len(parts) > 2 else parts[0]


def main(report: str) -> None:
    totals: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for path, data in json.load(open(report, encoding="utf-8"))["files"].items():
        summary = totals[folder(path)]
        summary[0] += data["summary"]["covered_lines"]
        summary[1] += data["summary"]["num_statements"]
    for name, (covered, statements) in sorted(totals.items()):
        share = 100 * covered / statements
        print(f"{name + '/':<26} {covered:>6} of {statements:<6} statements {share:5.1f}%")


if __name__ == "__main__":
    main(sys.argv[1])
