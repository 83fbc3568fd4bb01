"""The ``bpverify`` command: one subcommand per job, each in its own module."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from bpverify.commands.derive import add_arguments as derive_arguments

FORMATS = ("text", "json", "junit", "github", "gradescope")
"""``bpverify check --format``: the report's forms (``conformance/isolation/formats.py``)."""


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
    check.add_argument("--seeds", type=int, default=1, metavar="N",
                       help="check the batteries of N seeds from --seed on (default 1)")
    check.add_argument("--thorough", action="store_true",
                       help="the batteries of 10 seeds, then Hypothesis draws more networks and "
                            "shrinks a failure to the smallest network that still fails")
    check.add_argument("--case", metavar="CASE",
                       help="run on this one network: a battery slot (e.g. deep) or "
                            "sizes/m/scale (e.g. 2,1,1/m=1/scale=1), as a rerun line prints it")
    check.add_argument("--timeout", type=float, default=10.0,
                       help="seconds one call into the implementation may take (default 10)")
    check.add_argument("--import-timeout", type=float, default=60.0, metavar="SECONDS",
                       help="seconds importing the implementation may take (default 60)")
    check.add_argument("--read", action="append", default=[], metavar="PATH",
                       help="a folder the implementation may also read (besides the current "
                            "folder, the spec's and its imports' folders); repeatable")
    check.add_argument("--memory", type=float, default=2.0, metavar="GIB",
                       help="address space of the implementation's process (default 2; 0: none)")
    check.add_argument("--format", choices=FORMATS, default="text",
                       help="the report for a reader: text (default), json (docs/schemas), junit "
                            "(XML, one testcase per check), github (workflow commands annotating "
                            "your file), gradescope (results.json); the same verdicts and exit "
                            "status in every format")
    check.add_argument("--output", metavar="FILE",
                       help="write the report to FILE instead of standard output")
    check.add_argument("--assignment", metavar="FILE",
                       help="check what this assignment requires (a TOML file, or 'book': the "
                            "book's network.py), whatever the implementation declares")
    grade = sub.add_parser("grade", help="a class of submissions, each in its own sandbox, "
                                         "into a gradebook (CSV, JSON, HTML)")
    grade.add_argument("submissions", nargs="?", metavar="SUBMISSIONS",
                       help="a folder whose every entry (a folder or a .py file) is a submission")
    grade.add_argument("--out", metavar="OUT", help="folder for gradebook.csv, .json, index.html")
    grade.add_argument("--spec", default=None,
                       help="module:attribute within each submission (default: the assignment's, "
                            "network:Network; a .py file submission is its own module)")
    grade.add_argument("--assignment", metavar="FILE",
                       help="what the class must implement (a TOML file; default 'book': the "
                            "book's network.py, see docs/assignment.example.toml)")
    grade.add_argument("--regrade", action="store_true",
                       help="grade every submission again, even those unchanged since their last "
                            "verdict in OUT")
    grade.add_argument("-j", "--jobs", type=int, default=2, help="submissions at once (default 2)")
    grade.add_argument("--seed", type=int, default=0, help="seed of the networks (default 0)")
    grade.add_argument("--only", nargs="+", metavar="CHECK", help="run only these check ids")
    grade.add_argument("--strict", action="store_true", help="skips count as failures")
    grade.add_argument("--thorough", action="store_true", help="the networks of 10 seeds")
    grade.add_argument("--timeout", type=float, default=10.0,
                       help="seconds one call may take (default 10)")
    grade.add_argument("--import-timeout", type=float, default=60.0, metavar="SECONDS",
                       help="seconds importing a submission may take (default 60)")
    grade.add_argument("--submission-timeout", type=float, default=120.0,
                       help="seconds all calls of one submission may take (default 120)")
    grade.add_argument("--memory", type=float, default=2.0, metavar="GIB",
                       help="address space of each submission's process (default 2; 0: none)")
    grade.add_argument("--bench", type=int, metavar="N",
                       help="instead: grade a generated class of N (correct and mutants) and "
                            "report the time and peak memory")
    autograder = sub.add_parser("autograder", help="bpverify inside a teacher's engine: a "
                                "Gradescope autograder zip, or a GitHub Actions workflow")
    engine = autograder.add_mutually_exclusive_group(required=True)
    engine.add_argument("--gradescope", metavar="OUT.zip",
                        help="write a Gradescope autograder (setup.sh, run_autograder, this "
                             "bpverify as a wheel, the assignment)")
    engine.add_argument("--github", metavar="REPO", nargs="?", const=".",
                        help="write .github/workflows/bpverify.yml (and this bpverify as a wheel) "
                             "into a student repository template (default: the current folder)")
    autograder.add_argument("--assignment", metavar="FILE",
                            help="the assignment to grade by (default: the book's network.py)")
    derive_arguments(sub.add_parser("derive", help="the SymPy derivations: list, show, check, "
                                    "try a formula"))
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
        from bpverify.commands.verify import main as verify_main
        return verify_main(args.seed, args.json)
    if args.command == "check":
        from bpverify.commands.check import main as check_main
        return check_main(args.spec, seed=args.seed, only=args.only, strict=args.strict,
                          seconds=args.timeout, import_seconds=args.import_timeout,
                          seeds=args.seeds, thorough=args.thorough, case=args.case,
                          memory_gib=args.memory, read=args.read, fmt=args.format,
                          output=args.output, assignment=args.assignment)
    if args.command == "grade":
        from bpverify.commands.grade import main as grade_main
        return grade_main(args.submissions, args.out, spec=args.spec, jobs=args.jobs,
                          seed=args.seed, only=args.only, strict=args.strict,
                          seeds=10 if args.thorough else 1, seconds=args.timeout,
                          import_seconds=args.import_timeout,
                          submission_seconds=args.submission_timeout, memory_gib=args.memory,
                          bench=args.bench, assignment=args.assignment, regrade=args.regrade)
    if args.command == "autograder":
        from bpverify.commands.autograder import main as autograder_main
        return autograder_main(gradescope=args.gradescope, github=args.github,
                               assignment=args.assignment)
    if args.command == "derive":
        from bpverify.commands.derive import from_arguments
        return from_arguments(args)
    if args.command == "bench":
        if args.checkers:
            from bpverify.commands.bench_peers import main as checkers_main
            return checkers_main(args.out)
        from bpverify.commands.bench import main as bench_main
        return bench_main(args.quick, args.out)
    raise AssertionError(f"unhandled command {args.command}")  # argparse rejects others first


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
