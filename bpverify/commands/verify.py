"""``bpverify verify``: every claim of the reference against every independent method.

Rows are claims (BP1–BP4, the equal forms, the path sum, the SGD rule, each
activation and cost); columns are methods (JAX autodiff, complex step, central
differences, path sum); a cell is the worst normwise relative error over the
seeded cases the claim covers, ✓ when within the method's tolerance.
"""

from __future__ import annotations

import functools
import json
import os
import platform
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from bpverify.commands import workers
from bpverify.commands.workers import Submit
from bpverify.derivations import catalog, evaluate
from bpverify.derivations.core import Result, check
from bpverify.oracles import methods as oracles
from bpverify.oracles.cases import Case
from bpverify.oracles.claims import TAG_ROWS, Tagged, verification_cases
from bpverify.oracles.claims import claims as all_claims
from bpverify.oracles.discrepancy import Discrepancy
from bpverify.oracles.tolerances import TOLERANCES, tolerance_for

METHODS: tuple[oracles.Oracle, ...] = (oracles.JAX_AUTODIFF, oracles.COMPLEX_STEP, oracles.CENTRAL,
                                        oracles.PATH_SUM, oracles.SYMBOLIC)
"""The columns of the claims: each oracle, judged by its own tolerance."""


@dataclass
class Cell:
    """The worst error of one claim against one method over the cases it covers."""

    tolerance_key: str
    error: float | None = None
    where: str = ""
    cases: int = 0
    failures: list[str] = field(default_factory=list)
    declined: list[str] = field(default_factory=list)

    @property
    def status(self) -> str:
        if self.cases == 0:
            return "n/a"
        return "fail" if self.failures else "pass"

    def add(self, found: Discrepancy, case: Case) -> None:
        """Count one measurement; it fails above ``tolerance_for`` (the named tolerance, or
        the rounding allowance of the case's zˡ in deep saturation)."""
        self.cases += 1
        where = f"{found.describe()} [case {case.label}: {case.describe()}]"
        if not found.relative <= tolerance_for(self.tolerance_key, case):
            self.failures.append(where)
        if self.error is None or not found.relative <= self.error:
            self.error = found.relative
            self.where = where


@dataclass
class Row:
    claim: str
    equation: str
    cells: dict[str, Cell]
    derivation: str | None = None


@dataclass
class Report:
    seed: int
    rows: list[Row]
    versions: dict[str, str]

    @property
    def passed(self) -> bool:
        return all(c.status != "fail" for r in self.rows for c in r.cells.values())


PROOF_BOUND = catalog.DEFAULT_BOUND
"""The proofs ``verify`` runs are ``bpverify derive --check``'s (concrete steps at L ≤ 3, widths ≤ 2;
the index-form and layer-local steps cover every width and depth)."""
DERIVATION_COLUMNS = ("SymPy proof",) + evaluate.METHODS


def derivation_rows(seed: int, proofs: dict[str, Result] | None = None,
                    submit: Submit | None = None) -> list[Row]:
    """One row per derivation: its SymPy proof (with the level its statement reaches) and its
    statement, lambdified from the proof's templates, on random networks against each method.
    ``proofs`` are results of ``check`` already at hand (for the same derivations); ``submit``
    runs the jobs (``workers.pool``; default: here, in order)."""
    submit = submit or workers.here
    derivations = catalog.with_concrete_bound(*PROOF_BOUND)
    proved = {i: submit(_proof, i) for i, d in enumerate(derivations)
              if proofs is None or d.name not in proofs}
    evaluated = {(i, method): submit(_evaluation, i, method, seed)
                 for i in range(len(derivations)) for method in evaluate.METHODS}
    rows = []
    for i, d in enumerate(derivations):
        cells = {name: Cell("proof" if name == "SymPy proof" else evaluate.tolerance_key(name))
                 for name in DERIVATION_COLUMNS}
        if proofs is not None and d.name in proofs:
            passed, failures = proofs[d.name].passed, proofs[d.name].failures()
        else:
            passed, failures = proved[i].result()
        cell = cells["SymPy proof"]
        cell.cases, cell.where = 1, "; ".join(dict.fromkeys(d.levels()))
        cell.error = 0.0 if passed else 1.0
        cell.failures = failures
        for method in evaluate.METHODS:
            cell = cells[method]
            kind, found = evaluated[i, method].result()
            if kind == "declined":
                cell.declined.append(f"{d.name}: {found}")
                continue
            if kind == "raised":  # a crash is this cell's ✗, the report goes on
                cell.cases += 1
                cell.failures.append(f"{d.name}: raised {found}")
                continue
            for discrepancy in found:
                cell.cases += 1
                where = f"{discrepancy.describe()} [{d.name}, seed {seed}]"
                if not discrepancy.relative <= TOLERANCES[cell.tolerance_key]:
                    cell.failures.append(where)
                if cell.error is None or not discrepancy.relative <= cell.error:
                    cell.error, cell.where = discrepancy.relative, where
        rows.append(Row(d.name, d.statement(), cells, derivation=d.name))
    return rows


def _proof(index: int) -> tuple[bool, list[str]]:
    """A job: ``bpverify derive --check`` of the derivation ``index`` (passed, its failures)."""
    proof = check(catalog.with_concrete_bound(*PROOF_BOUND)[index])
    return proof.passed, proof.failures()


def _evaluation(index: int, method: str, seed: int) -> tuple[str, Any]:
    """A job: the statement of derivation ``index`` on numbers by ``method``: ("ok", its
    discrepancies), ("declined", why) or ("raised", what)."""
    d = catalog.with_concrete_bound(*PROOF_BOUND)[index]
    try:
        return "ok", evaluate.evaluate(d, method, seed)
    except evaluate.NotEvaluated as why:
        return "declined", str(why)
    except Exception as error:  # noqa: BLE001 - a crash is the cell's ✗, the report goes on
        return "raised", f"{type(error).__name__}: {error}"


def _derivatives(seed: int, index: int, column: str) -> tuple[str, Any]:
    """A job: one method's derivatives for case ``index`` of the seed's cases: ("ok",
    Derivatives) or ("declined", why)."""
    method = next(m for m in METHODS if m.column == column)
    try:
        return "ok", method.compute(_cases(seed)[index].case)
    except oracles.Declined as why:
        return "declined", str(why)


@functools.lru_cache(maxsize=2)
def _cases(seed: int) -> list[Tagged]:
    return verification_cases(seed)


def run_verification(seed: int = 0, derivations: bool = True) -> Report:
    """Build the report: every claim row and every activation and cost row, every method column,
    then one row per derivation (``derivations=False`` leaves those out). The methods' jobs run
    on every core (``workers.pool``); the cells are filled here, in order."""
    tagged = _cases(seed)
    claims = all_claims()
    rows = [Row(name, eq, {m.column: Cell(m.tolerance) for m in METHODS})
            for name, eq, _ in claims]
    tag_rows = {tag: Row(tag, "∂C/∂b, ∂C/∂w of networks using it",
                         {m.column: Cell(m.tolerance) for m in METHODS})
                for tag in TAG_ROWS}
    with workers.pool() as submit:
        jobs = {(i, m.column): submit(_derivatives, seed, i, m.column)
                for i in range(len(tagged)) for m in METHODS}
        extra = derivation_rows(seed, submit=submit) if derivations else []
        for i, t in enumerate(tagged):
            for method in METHODS:
                kind, derivs = jobs[i, method.column].result()
                if kind == "declined":
                    for row in [*rows, *(tag_rows[g] for g in t.tags)]:
                        row.cells[method.column].declined.append(f"case {t.case.label}: {derivs}")
                    continue
                for row, (_, _, measure) in zip(rows, claims, strict=True):
                    if method is oracles.PATH_SUM and row.claim == "path sum":
                        continue  # the path sum is not its own witness
                    for found in measure(t, derivs):
                        row.cells[method.column].add(found, t.case)
                for tag in t.tags:
                    for found in claims[2][2](t, derivs) + claims[3][2](t, derivs):
                        tag_rows[tag].cells[method.column].add(found, t.case)
    return Report(seed, rows + [tag_rows[t] for t in TAG_ROWS] + extra, _versions())


def compilation_cache() -> str | None:
    """JAX's persistent compilation cache in the user's cache folder (``$XDG_CACHE_HOME`` or
    ``~/.cache``, then ``bpverify/jax``), for this process and the workers it forks, unless the
    user chose one (``JAX_COMPILATION_CACHE_DIR``) or the folder cannot be made. JAX keys each
    entry by the program, its compile options, the JAX and XLA versions and the machine, so a
    cached program is the one a compilation would give; a second run skips the compilations
    (about 2 s of CPU). Set before JAX is imported (it reads these variables then)."""
    if "JAX_COMPILATION_CACHE_DIR" not in os.environ:
        base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
        folder = base / "bpverify" / "jax"
        try:
            folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        except OSError:
            return None
        os.environ["JAX_COMPILATION_CACHE_DIR"] = str(folder)
    # each program compiles in about 0.2 s, below JAX's default threshold for caching (1 s)
    os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", "0")
    os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES", "0")
    return os.environ["JAX_COMPILATION_CACHE_DIR"]


def _versions() -> dict[str, str]:
    import importlib.metadata as md

    found = {"python": platform.python_version()}
    for dist in ("bpverify", "numpy", "jax", "sympy"):
        try:
            found[dist] = md.version(dist)
        except md.PackageNotFoundError:
            found[dist] = "not installed"
    return found


def format_table(report: Report) -> str:
    """The report as a table a person reads at a glance."""
    names = [m.column for m in METHODS]
    first = max(len(r.claim) for r in report.rows)
    width = 14
    lines = [f"bpverify verify  seed={report.seed}  (repeat: bpverify verify --seed {report.seed})",
             "  ".join(f"{k} {v}" for k, v in report.versions.items()), "",
             f"{'claim':<{first}}  " + "".join(f"{n:>{width}}" for n in names),
             "-" * (first + 2 + width * len(names))]
    for row in (r for r in report.rows if r.derivation is None):
        cells = []
        for n in names:
            cell = row.cells[n]
            text = "–" if cell.status == "n/a" else (
                ("✓ " if cell.status == "pass" else "✗ ") + f"{cell.error:.1e}")
            cells.append(f"{text:>{width}}")
        lines.append(f"{row.claim:<{first}}  " + "".join(cells))
    derived = [r for r in report.rows if r.derivation is not None]
    if derived:
        first_d = max(len(r.claim) for r in derived)
        lines += ["", f"{'derivation':<{first_d}}  " + "".join(f"{n:>{width}}" for n in DERIVATION_COLUMNS),
                  "-" * (first_d + 2 + width * len(DERIVATION_COLUMNS))]
        for row in derived:
            cells = []
            for n in DERIVATION_COLUMNS:
                cell = row.cells[n]
                if cell.status == "n/a":
                    shown = "–"
                elif n == "SymPy proof":
                    shown = "✓ proved" if cell.status == "pass" else "✗ fails"
                else:
                    shown = ("✓ " if cell.status == "pass" else "✗ ") + f"{cell.error:.1e}"
                cells.append(f"{shown:>{width}}")
            lines.append(f"{row.claim:<{first_d}}  " + "".join(cells))
        lines.append("Derivations: the proof is `bpverify derive NAME` at L ≤ 3 for its concrete steps; the "
                     "statement, lambdified from the proof's templates, is evaluated on random networks "
                     "(random smooth functions for Props. 1, 2, 2E) with each method's derivatives; "
                     "tolerances as above, reference 1e-13.")
    lines += ["", "Cells: worst normwise relative error over the cases the claim covers. "
              "Tolerances: " + ", ".join(f"{m.column} {TOLERANCES[m.tolerance]:g}"
                                          for m in METHODS) + ".",
              "–: the method does not apply to any of the row's cases."]
    failures = [(r, n, c) for r in report.rows for n, c in r.cells.items() if c.status == "fail"]
    for row, name, cell in failures:
        lines.append(f"✗ {row.claim} vs {name}: {cell.failures[0]}")
    declined = sorted({d for r in report.rows if r.derivation is not None or r in report.rows[:7]
                       for c in r.cells.values() for d in c.declined})
    if declined:
        lines += ["", "Declined (not counted):"] + [f"  {d}" for d in declined]
    lines.append("")
    lines.append("PASS: every claim agrees with every method that applies." if report.passed
                 else f"FAIL: {len(failures)} cell(s) out of tolerance.")
    return "\n".join(lines)


def to_json(report: Report) -> str:
    data = asdict(report)
    data["passed"] = report.passed
    for row in data["rows"]:
        for name, cell in row["cells"].items():
            cell["status"] = next(r for r in report.rows if r.claim == row["claim"]
                                  ).cells[name].status
    return json.dumps(data, indent=2, ensure_ascii=False, default=float)


def main(seed: int, as_json: bool) -> int:
    compilation_cache()
    report = run_verification(seed)
    print(to_json(report) if as_json else format_table(report))
    return 0 if report.passed else 1


