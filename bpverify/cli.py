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
    check = sub.add_parser("check", help="the conformance suite against an implementation")
    check.add_argument("spec", metavar="MODULE:ATTRIBUTE",
                       help="a book-style class (Cls(sizes), .backprop(x, y)) or an Implementation")
    check.add_argument("--seed", type=int, default=0, help="seed of the networks (default 0)")
    check.add_argument("--only", nargs="+", metavar="CHECK", help="run only these check ids")
    check.add_argument("--strict", action="store_true", help="skips count as failures")
    check.add_argument("--thorough", action="store_true",
                       help="check the networks of 10 seeds from --seed on, not one")
    check.add_argument("--timeout", type=float, default=10.0,
                       help="seconds one call into the implementation may take (default 10)")
    derive = sub.add_parser("derive", help="the SymPy derivations: list, show, check")
    derive.add_argument("name", nargs="?", help="the derivation to show (see --list)")
    derive.add_argument("--list", action="store_true", help="list the derivations")
    derive.add_argument("--check", action="store_true",
                        help="check every derivation, with the time of each and its level")
    derive.add_argument("--format", choices=("markdown", "latex", "text"), default="text")
    derive.add_argument("--bound", nargs=2, type=int, metavar=("DEPTH", "WIDTH"),
                        help="check BP1–BP4 on every architecture up to this depth and width "
                             "(default 4 2; e.g. 3 3 is thorougher and slower)")
    derive.add_argument("--write-docs", action="store_true",
                        help="write docs/derivations/*.md (run from the repository root)")
    bench = sub.add_parser("bench", help="benchmarks: in what sense backprop is fast")
    bench.add_argument("--quick", action="store_true", help="the quick run (under a minute)")
    bench.add_argument("--out", default="bench-out", help="directory for bench.json and plots")
    bench.add_argument("--checkers", action="store_true",
                       help="instead: the bug zoo through bpverify check and the peer gradient "
                            "checkers (torch, JAX, np.allclose); writes checkers.json and "
                            "checkers.md (several minutes)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "verify":
        from bpverify.verify import main as verify_main
        return verify_main(args.seed, args.json)
    if args.command == "check":
        from bpverify.check import main as check_main
        return check_main(args.spec, seed=args.seed, only=args.only, strict=args.strict,
                          seconds=args.timeout, seeds=10 if args.thorough else 1)
    if args.command == "derive":
        from bpverify.derive import main as derive_main
        return derive_main(args.name, list_all=args.list, run_check=args.check, fmt=args.format,
                           write=args.write_docs, bound=tuple(args.bound) if args.bound else None)
    if args.command == "bench":
        if args.checkers:
            from bpverify.bench_checkers import main as checkers_main
            return checkers_main(args.out)
        from bpverify.bench import main as bench_main
        return bench_main(args.quick, args.out)
    raise AssertionError(f"unhandled command {args.command}")  # argparse rejects others first


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
