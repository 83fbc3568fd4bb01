"""The ``bpverify`` command: one subcommand per job, each in its own module."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="bpverify", description=(
        "Verify backpropagation (Nielsen, ch. 2): the reference against independent oracles."))
    sub = parser.add_subparsers(dest="command", required=True)
    verify = sub.add_parser("verify", help="the verification report: every claim, every method")
    verify.add_argument("--seed", type=int, default=0, help="seed of the cases (default 0)")
    verify.add_argument("--json", action="store_true", help="machine-readable output")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "verify":
        from bpverify.verify import main as verify_main
        return verify_main(args.seed, args.json)
    raise AssertionError(f"unhandled command {args.command}")  # argparse rejects others first


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
