"""``bpverify verify``: every claim of the reference against every independent method.

Rows are claims (BP1–BP4, the equal forms, the path sum, the SGD rule, each
activation and cost); columns are methods (JAX autodiff, complex step, central
differences, path sum); a cell is the worst normwise relative error over the
seeded cases the claim covers, ✓ when within the method's tolerance.
"""

from __future__ import annotations

import json
import platform
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field

import numpy as np

from bpverify.conformance.suite.allowances import allowance
from bpverify.derivations import catalog, evaluate
from bpverify.derivations.core import Result, check
from bpverify.oracles import methods as oracles
from bpverify.oracles.cases import Case, cubic_activation, mixed_layer, random_case
from bpverify.oracles.discrepancy import Discrepancy, batch_scales, worst_discrepancy
from bpverify.oracles.tolerances import TOLERANCES, tolerance_for
from bpverify.reference import costs
from bpverify.reference.activations import identity, relu, sigmoid, softplus, tanh
from bpverify.reference.equations import feedforward_layers
from bpverify.reference.gradient_descent import sgd_step

LEARNING_RATE = 0.5


@dataclass(frozen=True)
class Method:
    """A column: an oracle and the tolerance its agreement is judged by."""

    name: str
    oracle: oracles.Oracle
    tolerance_key: str


METHODS: tuple[Method, ...] = (
    Method("JAX autodiff", oracles.JAX_AUTODIFF, "autodiff"),
    Method("complex step", oracles.COMPLEX_STEP, "complex"),
    Method("central diff.", oracles.CENTRAL, "central"),
    Method("path sum", oracles.PATH_SUM, "algebraic"),
    Method("symbolic", oracles.SYMBOLIC, "symbolic"),
)


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


@dataclass(frozen=True)
class Tagged:
    case: Case
    tags: frozenset[str]


def _quartic_cost() -> costs.Cost:
    """A user-defined cost C = ¼Σ(a − y)⁴ with ∇ₐC = (a − y)³."""
    return costs.custom(lambda a, y: 0.25 * ((a - y) ** 4).sum(), lambda a, y: (a - y) ** 3,
                        name="quartic (custom)")


def verification_cases(seed: int) -> list[Tagged]:
    """The seeded cases the report runs: each activation (also saturated, |z| ≥ 30), a per-neuron
    layer, each cost, a mini-batch, a deep and a path-sum-sized network."""
    cubic = cubic_activation()
    out: list[Tagged] = []

    def add(tags: Iterable[str], sizes: list[int], **kwargs: object) -> None:
        case = random_case(seed + len(out), sizes, label=f"#{len(out)}", **kwargs)  # type: ignore[arg-type]
        out.append(Tagged(case, frozenset(tags)))

    for act in (sigmoid, tanh, identity, relu, softplus, cubic):
        add({act.name, "quadratic"}, [3, 4, 2], activations=act, batch_size=3,
            weight_scale=0.5 if act is cubic else 1.0)
    for act in (sigmoid, tanh, softplus):
        add({act.name, "quadratic", "saturated"}, [3, 3, 2], activations=act, weight_scale=40.0)
    add({"per-neuron", "quadratic"}, [3, 5, 2], batch_size=2,
        activations=[mixed_layer(5, ["sigmoid", "tanh", "identity", "softplus", "cubic"]),
                     sigmoid])
    add({"cross-entropy", "sigmoid"}, [4, 5, 3], batch_size=4, cost=costs.cross_entropy)
    add({"quartic (custom)", "tanh"}, [3, 4, 2], activations=tanh, batch_size=2,
        cost=_quartic_cost())
    add({"sigmoid", "quadratic"}, [2, 3, 2, 2, 2], batch_size=2)
    return out


def _claims() -> list[tuple[str, str, Callable[[Tagged, oracles.Derivatives], list[Discrepancy]]]]:
    """(claim, equation, how to measure it for one case against one method's derivatives)."""

    def memo(compute: Callable[[Case], oracles.Derivatives]
             ) -> Callable[[Tagged], oracles.Derivatives]:
        """Each reference form runs once per case, however many rows and methods read it."""
        seen: dict[int, tuple[Tagged, oracles.Derivatives]] = {}

        def cached(t: Tagged) -> oracles.Derivatives:
            if id(t) not in seen:
                seen[id(t)] = (t, compute(t.case))
            return seen[id(t)][1]
        return cached

    reference = memo(oracles.MATRIX.compute)
    other_forms = [memo(form.compute) for form in oracles.REFERENCE_FORMS[1:]]
    terms: dict[int, tuple[list[float], list[float]]] = {}

    def scales(t: Tagged) -> tuple[list[float], list[float]]:
        """The size of the terms of each summed gradient (``compare.batch_scales``)."""
        if id(t) not in terms:
            c = t.case
            _, acts = feedforward_layers(c.weights, c.biases, c.x, c.activations)
            terms[id(t)] = batch_scales(allowance(c).delta_terms, acts[:-1])
        return terms[id(t)]
    path_sum = memo(oracles.PATH_SUM.compute)

    def deltas(layers: slice) -> Callable[[Tagged, oracles.Derivatives], list[Discrepancy]]:
        def measure(t: Tagged, d: oracles.Derivatives) -> list[Discrepancy]:
            ref = reference(t)
            if d.deltas is None or ref.deltas is None or not ref.deltas[layers]:
                return []
            first = 2 + range(len(ref.deltas))[layers][0]
            sizes = [float(np.max(s)) for s in allowance(t.case).delta_terms[layers]]
            return [worst_discrepancy(ref.deltas[layers], d.deltas[layers], "δ", first,
                                      scales=sizes)]
        return measure

    def gradient(of: str, form: Callable[[Tagged], oracles.Derivatives] | None = None
                 ) -> Callable[[Tagged, oracles.Derivatives], list[Discrepancy]]:
        def measure(t: Tagged, d: oracles.Derivatives) -> list[Discrepancy]:
            got = (form or reference)(t)
            found = []
            scale_b, scale_w = scales(t)
            if of in ("b", "both"):
                found.append(worst_discrepancy(got.nabla_b, d.nabla_b, "∂C/∂b", scales=scale_b))
            if of in ("w", "both"):
                found.append(worst_discrepancy(got.nabla_w, d.nabla_w, "∂C/∂w", scales=scale_w))
            return found
        return measure

    def forms(t: Tagged, d: oracles.Derivatives) -> list[Discrepancy]:
        return [x for form in other_forms for x in gradient("both", form)(t, d)]

    def paths(t: Tagged, d: oracles.Derivatives) -> list[Discrepancy]:
        try:
            return gradient("both", path_sum)(t, d)
        except oracles.Declined:
            return []

    def sgd_rule(t: Tagged, d: oracles.Derivatives) -> list[Discrepancy]:
        c = t.case
        new_w, new_b = sgd_step(list(c.weights), list(c.biases), c.x, c.y, LEARNING_RATE,
                                c.activations, c.cost)
        scale = LEARNING_RATE / c.batch_size
        return [update_discrepancy(c.weights, new_w, [scale * g for g in d.nabla_w], "w"),
                update_discrepancy(c.biases, new_b, [scale * g for g in d.nabla_b], "b")]

    return [
        ("BP1", "δᴸ = ∇ₐC ⊙ σ′(zᴸ)", deltas(slice(-1, None))),
        ("BP2", "δˡ = ((wˡ⁺¹)ᵀδˡ⁺¹) ⊙ σ′(zˡ)", deltas(slice(None, -1))),
        ("BP3", "∂C/∂bˡⱼ = δˡⱼ", gradient("b")),
        ("BP4", "∂C/∂wˡⱼₖ = aˡ⁻¹ₖ δˡⱼ", gradient("w")),
        ("loop = matrix = Σ′", "Σₓ∇Cₓ three ways, Σ′(z) parts 1–3", forms),
        ("path sum", "eq. 53: Σ over paths of rate products", paths),
        ("SGD rule", "w → w − (η/m)Σₓδˣ'ˡ(aˣ'ˡ⁻¹)ᵀ, b likewise", sgd_rule),
    ]


def update_discrepancy(old: Iterable[np.ndarray], new: Iterable[np.ndarray],
                       step: Iterable[np.ndarray], name: str) -> Discrepancy:
    """How far ``new`` is from old − step, relative to the step, less the rounding of the
    subtraction itself (u·|old| per entry): a step far below |old| is lost to rounding in
    any correct implementation and must not count as an error."""
    u = np.finfo(np.float64).eps / 2
    worst = None
    for layer, (o, n, s) in enumerate(zip(old, new, step, strict=True), start=2):
        excess = np.maximum(np.abs(n - (o - s)) - 2 * u * np.abs(o), 0.0)
        index = tuple(int(k) for k in np.unravel_index(int(np.argmax(excess)), excess.shape))
        scale = max(float(np.max(np.abs(s))), np.finfo(np.float64).tiny)
        found = Discrepancy(float(excess[index]) / scale, float(excess[index]),
                            f"{name} after the step", layer, index, float(n[index]),
                            float((o - s)[index]))
        if worst is None or not found.relative <= worst.relative:
            worst = found
    assert worst is not None
    return worst


TAG_ROWS = ("sigmoid", "tanh", "identity", "relu", "softplus", "cubic", "per-neuron",
            "saturated", "quadratic", "cross-entropy", "quartic (custom)")


PROOF_BOUND = catalog.DEFAULT_BOUND
"""The proofs ``verify`` runs are ``bpverify derive --check``'s (concrete steps at L ≤ 3, widths ≤ 2;
the index-form and layer-local steps cover every width and depth)."""
DERIVATION_COLUMNS = ("SymPy proof",) + evaluate.METHODS


def derivation_rows(seed: int, proofs: dict[str, Result] | None = None) -> list[Row]:
    """One row per derivation: its SymPy proof (with the level its statement reaches) and its
    statement, lambdified from the proof's templates, on random networks against each method.
    ``proofs`` are results of ``check`` already at hand (for the same derivations)."""
    rows = []
    for d in catalog.with_concrete_bound(*PROOF_BOUND):
        cells = {name: Cell("proof" if name == "SymPy proof" else evaluate.tolerance_key(name))
                 for name in DERIVATION_COLUMNS}
        proof = proofs[d.name] if proofs is not None else check(d)
        cell = cells["SymPy proof"]
        cell.cases, cell.where = 1, "; ".join(dict.fromkeys(d.levels()))
        cell.error = 0.0 if proof.passed else 1.0
        cell.failures = proof.failures()
        for method in evaluate.METHODS:
            cell = cells[method]
            try:
                found = evaluate.evaluate(d, method, seed)
            except evaluate.NotEvaluated as why:
                cell.declined.append(f"{d.name}: {why}")
                continue
            except Exception as error:  # noqa: BLE001 - a crash is this cell's ✗, the report goes on
                cell.cases += 1
                cell.failures.append(f"{d.name}: raised {type(error).__name__}: {error}")
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


def run_verification(seed: int = 0, derivations: bool = True) -> Report:
    """Build the report: every claim row and every activation and cost row, every method column,
    then one row per derivation (``derivations=False`` leaves those out)."""
    tagged = verification_cases(seed)
    claims = _claims()
    rows = [Row(name, eq, {m.name: Cell(m.tolerance_key) for m in METHODS})
            for name, eq, _ in claims]
    tag_rows = {tag: Row(tag, "∂C/∂b, ∂C/∂w of networks using it",
                         {m.name: Cell(m.tolerance_key) for m in METHODS})
                for tag in TAG_ROWS}
    for t in tagged:
        for method in METHODS:
            try:
                derivs = method.oracle.compute(t.case)
            except oracles.Declined as why:
                for row in [*rows, *(tag_rows[g] for g in t.tags)]:
                    row.cells[method.name].declined.append(f"case {t.case.label}: {why}")
                continue
            for row, (_, _, measure) in zip(rows, claims, strict=True):
                if method.oracle is oracles.PATH_SUM and row.claim == "path sum":
                    continue  # the path sum is not its own witness
                for found in measure(t, derivs):
                    row.cells[method.name].add(found, t.case)
            for tag in t.tags:
                for found in claims[2][2](t, derivs) + claims[3][2](t, derivs):
                    tag_rows[tag].cells[method.name].add(found, t.case)
    extra = derivation_rows(seed) if derivations else []
    return Report(seed, rows + [tag_rows[t] for t in TAG_ROWS] + extra, _versions())


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
    names = [m.name for m in METHODS]
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
              "Tolerances: " + ", ".join(f"{m.name} {TOLERANCES[m.tolerance_key]:g}"
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
    report = run_verification(seed)
    print(to_json(report) if as_json else format_table(report))
    return 0 if report.passed else 1


