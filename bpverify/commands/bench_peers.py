"""``bpverify bench --checkers``: how many real bugs each gradient checker catches, and how fast.

Every implementation of the bug zoo (``bpverify.conformance.specimens.zoo.MUTANTS``, and the correct
variants: the book's network.py and the zoo's ``CORRECT`` tuple where it has one) goes
through each checker:

* ``bpverify check``: ``run_suite`` on the class, as the command runs it;
* ``torch.autograd.gradcheck``, slow mode (the whole Jacobian, column by column) and fast mode
  (one random projection), on a thin ``torch.autograd.Function`` whose forward is the cost
  C = ½‖aᴸ − y‖² from the implementation's own ``feedforward`` and whose backward is its own
  ``backprop``;
* ``jax.test_util.check_grads`` (reverse mode: one random direction), on the same two
  functions wrapped as a ``jax.custom_vjp``;
* a hand-written ``np.allclose`` of ``backprop`` against central differences of the cost,
  parameter by parameter, as tutorials write it.

The peers check one example on each network of ``PEER_SIZES`` (the shapes the suite's own
cases have); a mutant counts as killed when any network fails it. A mutant a checker passes
is *not visible* to it when the checker never ran the code the bug is in (update_mini_batch
for a gradient checker), or when the bug is a property the checker does not test (a gradient
checker checks BP1–BP4 and the forward, not purity or determinism); otherwise it is *missed*.
A hang cannot be stopped from Python: the checks run in a worker process that is replaced
after any check that left an abandoned call running, so that it cannot slow later timings.

Kept whole: one table; each peer checker is an adapter of a few lines beside the others.
"""

from __future__ import annotations

import inspect
import json
import os
import platform
import re
import statistics
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import numpy as np

os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false "
                                   "intra_op_parallelism_threads=1")

PEER_SIZES: tuple[tuple[int, ...], ...] = ((784, 30, 10), (4, 5, 5, 3))
"""Networks the peers check, one example each; the first is the one timed."""
PEER_SECONDS = 300.0
"""Time limit of one peer check (slow gradcheck of [784, 30, 10] takes seconds)."""
SUITE_SECONDS = 10.0
"""``bpverify check``'s own limit per call into the implementation (its default)."""
ALLCLOSE_STEP = 1e-5
"""The tutorials' central-difference step (with np.allclose's default rtol 1e-5, atol 1e-8)."""
GRADIENT_SCOPE = re.compile(r"\bBP[1-4]\b|forward|gradient|saturation")
"""What a gradient checker tests: the gradient equations (at any network, saturated ones too:
a bug there is *missed* when the checker's network does not reach it) and the forward it
differentiates."""


@dataclass(frozen=True)
class Subject:
    """An implementation under check: a mutant (with the equation its bug is in) or a correct one."""

    name: str
    cls: type
    correct: bool
    equation: str = ""


def subjects() -> list[Subject]:
    """The zoo's mutants, the book's network.py, and the zoo's CORRECT variants if it has them."""
    from bpverify.conformance.specimens import zoo
    from bpverify.conformance.specimens.book_network import BookNetwork

    found = [Subject("BookNetwork", BookNetwork, True)]
    for variant in getattr(zoo, "CORRECT", ()):
        cls = getattr(variant, "cls", variant)
        if cls is not BookNetwork:
            found.append(Subject(getattr(variant, "name", cls.__name__), cls, True))
    found += [Subject(m.name, m.cls, False, m.equation) for m in zoo.MUTANTS]
    return found


def overridden_methods(cls: type) -> frozenset[str]:
    """The methods a subject defines itself (plain functions, ``__init__`` included): for a
    mutant, where its bug is."""
    return frozenset(name for name, value in vars(cls).items()
                     if inspect.isfunction(value) and (not name.startswith("__")
                                                       or name == "__init__"))


def recording(cls: type, methods: frozenset[str], calls: set[str]) -> type:
    """A subclass that notes in ``calls`` which of ``methods`` ran."""
    def wrap(name: str) -> Callable[..., Any]:
        method = getattr(cls, name)

        def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
            calls.add(name)
            return method(self, *args, **kwargs)
        return wrapper
    return type(cls.__name__, (cls,), {name: wrap(name) for name in methods})


# -- one example on one network, as the peers see it --

@dataclass(frozen=True)
class Problem:
    sizes: tuple[int, ...]
    weights: tuple[np.ndarray, ...]
    biases: tuple[np.ndarray, ...]
    x: np.ndarray
    y: np.ndarray


def problem(sizes: Sequence[int], seed: int = 0) -> Problem:
    from bpverify.oracles.cases import random_case
    case = random_case(seed, sizes)
    return Problem(tuple(sizes), case.weights, case.biases, case.x, case.y)


def numpy_cost_and_gradient(cls: type, p: Problem) -> tuple[Callable[..., float], Callable[..., list]]:
    """C(w, b) = ½‖aᴸ − y‖² by the implementation's feedforward, and its backprop's gradient,
    both over the flat argument list (w², …, wᴸ, b², …, bᴸ), as a user's own gradient check
    writes them: one network whose parameters are set on every call, and the same x and y
    (this check's own copies) every time."""
    n = len(p.weights)
    net = cls(list(p.sizes))
    x, y = p.x.copy(), p.y.copy()

    def use(params: Sequence[np.ndarray]) -> Any:
        net.weights, net.biases = list(params[:n]), list(params[n:])
        return net

    def cost(*params: np.ndarray) -> float:
        a = use(params).feedforward(x)
        return float(0.5 * np.sum((np.asarray(a, dtype=np.float64) - y) ** 2))

    def gradient(*params: np.ndarray) -> list[np.ndarray]:
        nabla_b, nabla_w = use(params).backprop(x, y)
        return [np.asarray(g, dtype=np.float64) for g in (*nabla_w, *nabla_b)]

    return cost, gradient


def check_torch(cls: type, p: Problem, *, fast: bool) -> None:
    """torch.autograd.gradcheck with its defaults (eps 1e-6, atol 1e-5, rtol 1e-3); raises on failure."""
    import torch

    cost, gradient = numpy_cost_and_gradient(cls, p)

    class Cost(torch.autograd.Function):
        @staticmethod
        def forward(ctx: Any, *params: torch.Tensor) -> torch.Tensor:
            ctx.save_for_backward(*params)
            return torch.tensor(cost(*(t.detach().numpy() for t in params)), dtype=torch.float64)

        @staticmethod
        def backward(ctx: Any, grad_output: torch.Tensor) -> tuple[torch.Tensor, ...]:
            grads = gradient(*(t.detach().numpy() for t in ctx.saved_tensors))
            return tuple(grad_output * torch.from_numpy(g.copy()) for g in grads)

    torch.manual_seed(0)
    params = [torch.tensor(a, dtype=torch.float64, requires_grad=True)
              for a in (*p.weights, *p.biases)]
    torch.autograd.gradcheck(Cost.apply, params, fast_mode=fast)


def check_jax(cls: type, p: Problem) -> None:
    """jax.test_util.check_grads, reverse mode, order 1, its default tolerances; raises on failure."""
    from bpverify.oracles.jax_gradient import precision

    cost, gradient = numpy_cost_and_gradient(cls, p)
    with precision("float64"):  # for the whole check: it reaches XLA's callback thread too
        _check_grads_float64(cost, gradient, p)


def _check_grads_float64(cost: Callable[..., float], gradient: Callable[..., list],
                         p: Problem) -> None:
    import jax
    import jax.numpy as jnp
    from jax.test_util import check_grads

    scalar = jax.ShapeDtypeStruct((), jnp.float64)

    @jax.custom_vjp
    def f(*params: Any) -> Any:
        return jax.pure_callback(lambda *a: np.float64(cost(*a)), scalar, *params)

    def f_fwd(*params: Any) -> tuple[Any, Any]:
        return f(*params), params

    def f_bwd(params: Any, g: Any) -> tuple[Any, ...]:
        shapes = tuple(jax.ShapeDtypeStruct(q.shape, jnp.float64) for q in params)
        grads = jax.pure_callback(lambda *a: tuple(gradient(*a)), shapes, *params)
        return tuple(g * d for d in grads)

    f.defvjp(f_fwd, f_bwd)
    check_grads(f, tuple(jnp.asarray(a) for a in (*p.weights, *p.biases)), order=1,
                modes=("rev",))


def check_allclose(cls: type, p: Problem) -> None:
    """The tutorial check: every parameter nudged by ±h in place, the central difference of the
    cost against backprop's entry, then np.allclose over everything; raises if it is False."""
    cost, gradient = numpy_cost_and_gradient(cls, p)
    params = [np.array(a) for a in (*p.weights, *p.biases)]
    analytic = gradient(*params)
    for theta, g in zip(params, analytic, strict=True):
        numeric = np.empty_like(theta)
        for index in np.ndindex(theta.shape):
            old = theta[index]
            theta[index] = old + ALLCLOSE_STEP
            plus = cost(*params)
            theta[index] = old - ALLCLOSE_STEP
            minus = cost(*params)
            theta[index] = old
            numeric[index] = (plus - minus) / (2 * ALLCLOSE_STEP)
        if np.shape(g) != theta.shape or not np.allclose(g, numeric):
            raise AssertionError("np.allclose(backprop, central differences) is False")


def check_bpverify(cls: type, seconds: float = SUITE_SECONDS) -> tuple[str, frozenset[str]] | None:
    """``bpverify check``: None if the class conforms, else the failing checks and the
    equations they name (the check's and the failure's)."""
    from bpverify.conformance.protocol.adapters import as_implementation
    from bpverify.conformance.suite.runner import run_suite

    report = run_suite(as_implementation(cls, cls.__name__), seconds=seconds)
    if report.passed:
        return None
    bad = [o for o in report.outcomes if o.status in ("fail", "error")]
    named = frozenset({o.check.equation for o in bad}
                      | {o.failure.equation for o in bad if o.failure is not None})
    return "; ".join(f"{o.status} {o.check.id}: {o.detail}" for o in bad), named


@dataclass(frozen=True)
class Checker:
    name: str
    scope: str  # "everything" or "gradient"
    module: str  # what must be importable
    run: Callable[[type, Problem], None] | None = None  # a peer: raises on failure


CHECKERS = (
    Checker("bpverify check", "everything", "bpverify"),
    Checker("torch gradcheck (slow mode)", "gradient", "torch",
            lambda cls, p: check_torch(cls, p, fast=False)),
    Checker("torch gradcheck (fast mode)", "gradient", "torch",
            lambda cls, p: check_torch(cls, p, fast=True)),
    Checker("jax check_grads (rev)", "gradient", "jax", check_jax),
    Checker("np.allclose vs central differences", "gradient", "numpy", check_allclose),
)


def installed(module: str) -> bool:
    import importlib.util
    return importlib.util.find_spec(module) is not None


@dataclass
class Verdict:
    checker: str
    subject: str
    correct: bool
    equation: str
    rejected: bool
    visibility: str  # "visible", or why the bug is not visible to this checker
    names_equation: bool
    seconds: float  # the timed network's check (bpverify: the whole suite)
    detail: str
    abandoned: bool = False  # a call ran past its limit; its thread is still running


def _failure(fn: Callable[[], Any], seconds: float, what: str) -> tuple[str | None, bool]:
    """(failure message or None, whether a call had to be abandoned)."""
    from bpverify.conformance.protocol.calls import ImplementationFault, call_with_limit
    try:
        result = call_with_limit(what, fn, seconds=seconds)
    except ImplementationFault as fault:
        return str(fault), "did not return" in str(fault)
    return result, False


@dataclass(frozen=True)
class Limits:
    peer_seconds: float = PEER_SECONDS
    suite_seconds: float = SUITE_SECONDS


def check_subject(subject: Subject, checker: Checker, problems: Sequence[Problem],
                  limits: Limits = Limits()) -> Verdict:
    """One checker on one subject: rejected or not, and if not, whether the bug was visible."""
    methods = overridden_methods(subject.cls) if not subject.correct else frozenset()
    calls: set[str] = set()
    cls = recording(subject.cls, methods, calls)
    abandoned = False
    if checker.run is None:
        start = time.perf_counter()
        found, abandoned = _failure(lambda: check_bpverify(cls, limits.suite_seconds), 10 * 60.0,
                                    "bpverify check")
        seconds = time.perf_counter() - start
        if isinstance(found, tuple):
            message, names = found[0], subject.equation in found[1]
        else:  # None (conforms), or the check itself did not finish
            message, names = found, False
    else:
        messages: list[str] = []
        seconds = float("nan")
        run = checker.run
        for i, p in enumerate(problems):
            start = time.perf_counter()

            def one(p: Problem = p) -> None:
                assert run is not None
                try:
                    run(cls, p)
                except Exception as error:  # noqa: BLE001 - a failed check is the verdict
                    return f"{type(error).__name__}: {error}"[:2000]  # type: ignore[return-value]
                return None
            message, hung = _failure(one, limits.peer_seconds, checker.name)
            abandoned = abandoned or hung
            if i == 0:
                seconds = time.perf_counter() - start
            if message:
                messages.append(f"{list(p.sizes)}: {message}")
        message = " | ".join(messages) or None
        names = bool(message) and bool(subject.equation) and subject.equation in (message or "")
    rejected = message is not None
    visibility = "visible"
    if not subject.correct and not rejected:
        if methods and not calls & methods:
            visibility = f"never runs {', '.join(sorted(methods))}"
        elif checker.scope == "gradient" and not GRADIENT_SCOPE.search(subject.equation):
            visibility = f"{subject.equation} is not a property of the gradient"
    return Verdict(checker.name, subject.name, subject.correct, subject.equation, rejected,
                   visibility, names, seconds, message or "", abandoned)


def _worker_setup() -> None:
    """One BLAS and one XLA thread in a worker, as in the parent."""
    from threadpoolctl import threadpool_limits
    threadpool_limits(limits=1)
    try:
        import torch
        torch.set_num_threads(1)
    except ImportError:
        pass


def _abandoned_calls() -> bool:
    """Whether a call into an implementation was abandoned in this process (by ``run_suite`` or
    by a peer's limit) and still runs: it would slow every later timing."""
    return any(t.name.startswith("bpverify:") and t.is_alive() for t in threading.enumerate())


def _check_until_abandoned(tasks: list[tuple[str, str]], sizes: tuple[tuple[int, ...], ...],
                           limits: Limits) -> list[dict[str, Any]]:
    """In a worker: (subject, checker) tasks in order, stopping after one that left a call
    running; every checker is warmed up first (imports, JAX's compilation per shape), untimed."""
    _worker_setup()
    by_name = {s.name: s for s in subjects()}
    checkers = {c.name: c for c in CHECKERS}
    problems = [problem(s) for s in sizes]
    warm = next(s for s in by_name.values() if s.correct)
    for name in dict.fromkeys(c for _, c in tasks):
        check_subject(warm, checkers[name], problems, limits)
    out = []
    for subject, checker in tasks:
        out.append(asdict(check_subject(by_name[subject], checkers[checker], problems, limits)))
        if _abandoned_calls():
            break
    return out


@dataclass(frozen=True)
class Config:
    sizes: tuple[tuple[int, ...], ...] = PEER_SIZES
    only: tuple[str, ...] | None = None  # subject names; None: all
    checkers: tuple[str, ...] | None = None  # checker names; None: all
    limits: Limits = Limits()


def run(config: Config = Config()) -> dict[str, Any]:
    """Every subject through every installed checker; a worker process is replaced after a hang."""
    chosen = [s for s in subjects() if config.only is None or s.name in config.only]
    checkers = [c for c in CHECKERS if config.checkers is None or c.name in config.checkers]
    available = [c.name for c in checkers if installed(c.module)]
    missing = {c.name: f"{c.module} not installed" for c in checkers if c.name not in available}
    pending = [(s.name, c) for s in chosen for c in available]
    verdicts: list[dict[str, Any]] = []
    start = time.perf_counter()
    context = get_context("spawn")  # no fork of a process with JAX's threads
    while pending:
        with ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
            done = pool.submit(_check_until_abandoned, pending, config.sizes,
                               config.limits).result()
        verdicts += done
        pending = pending[len(done):]
    return {"setup": {"date": time.strftime("%Y-%m-%d"), "python": platform.python_version(),
                      "numpy": np.__version__, "versions": _versions(),
                      "peer_networks": [list(s) for s in config.sizes],
                      "seconds": time.perf_counter() - start},
            "checkers": [c.name for c in checkers], "not_installed": missing,
            "subjects": [{"name": s.name, "correct": s.correct, "equation": s.equation}
                         for s in chosen],
            "verdicts": verdicts}


def _versions() -> dict[str, str]:
    out = {}
    for module in ("jax", "torch"):
        try:
            out[module] = __import__(module).__version__
        except ImportError:
            out[module] = "not installed"
    return out


@dataclass
class Summary:
    checker: str
    killed: int = 0
    mutants: int = 0
    missed: list[str] = field(default_factory=list)
    not_visible: list[str] = field(default_factory=list)
    false_failures: list[str] = field(default_factory=list)
    correct: int = 0
    named: int = 0
    seconds: float = float("nan")  # median over every subject
    correct_seconds: float = float("nan")  # median over the correct ones: a check run to the end
    installed: bool = True


def summarize(results: dict[str, Any]) -> list[Summary]:
    out = []
    for name in results["checkers"]:
        s = Summary(name, installed=name not in results["not_installed"])
        mine = [v for v in results["verdicts"] if v["checker"] == name]
        for v in mine:
            if v["correct"]:
                s.correct += 1
                if v["rejected"]:
                    s.false_failures.append(v["subject"])
                continue
            s.mutants += 1
            if v["rejected"]:
                s.killed += 1
                s.named += v["names_equation"]
            elif v["visibility"] == "visible":
                s.missed.append(v["subject"])
            else:
                s.not_visible.append(v["subject"])
        s.seconds = _median([v["seconds"] for v in mine])
        s.correct_seconds = _median([v["seconds"] for v in mine if v["correct"]])
        out.append(s)
    return out


def _median(values: list[float]) -> float:
    values = [v for v in values if v == v]  # not NaN
    return statistics.median(values) if values else float("nan")


def table(results: dict[str, Any]) -> str:
    """The summary as a markdown table, then the per-mutant matrix."""
    subjects_ = results["subjects"]
    n_mutants = sum(not s["correct"] for s in subjects_)
    n_correct = len(subjects_) - n_mutants
    lines = ["| checker | mutants killed | missed | not visible to this checker | correct variants "
             "falsely failed | median s per check | s, correct network | names the equation |",
             "|---|---|---|---|---|---|---|---|"]
    for s in summarize(results):
        if not s.installed:
            lines.append(f"| {s.checker} | not installed | | | | | | |")
            continue
        hidden = _kinds(results, s.not_visible)
        missed = _kinds(results, s.missed)
        lines.append(f"| {s.checker} | {s.killed}/{s.mutants} | {len(s.missed)}"
                     f"{f' ({missed})' if missed else ''} | "
                     f"{len(s.not_visible)}{f' ({hidden})' if hidden else ''} | "
                     f"{len(s.false_failures)}/{s.correct} | {s.seconds:.2g} | "
                     f"{s.correct_seconds:.2g} | {s.named}/{s.killed} |")
    lines += ["", f"{n_mutants} mutants, {n_correct} correct variant(s); peers on "
              + " and ".join(str(s) for s in results["setup"]["peer_networks"])
              + f" (timed on the first); run {results['setup']['date']}, "
              f"{results['setup']['seconds']:.0f} s.", ""]
    return "\n".join(lines)


def _kinds(results: dict[str, Any], names: list[str]) -> str:
    equations = {s["name"]: s["equation"] for s in results["subjects"]}
    counts: dict[str, int] = {}
    for n in names:
        counts[equations[n]] = counts.get(equations[n], 0) + 1
    return ", ".join(f"{k} ×{v}" if v > 1 else k for k, v in counts.items())


def matrix(results: dict[str, Any]) -> str:
    """Mutant by checker: ✓ killed, ✗ missed, – not visible (with why in the JSON)."""
    checkers = [c for c in results["checkers"] if c not in results["not_installed"]]
    verdicts = {(v["subject"], v["checker"]): v for v in results["verdicts"]}
    lines = ["| implementation | bug in | " + " | ".join(checkers) + " |",
             "|---|---|" + "---|" * len(checkers)]
    for s in results["subjects"]:
        cells = []
        for c in checkers:
            v = verdicts.get((s["name"], c))
            if v is None:
                cells.append("?")
            elif s["correct"]:
                cells.append("✗ failed" if v["rejected"] else "✓ passed")
            elif v["rejected"]:
                cells.append("✓ killed" + (" (named)" if v["names_equation"] else ""))
            else:
                cells.append("✗ missed" if v["visibility"] == "visible" else "– not visible")
        lines.append(f"| {s['name']} | {s['equation'] or 'correct'} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(out: str, config: Config = Config()) -> int:
    directory = Path(out)
    directory.mkdir(parents=True, exist_ok=True)
    results = run(config)
    (directory / "checkers.json").write_text(json.dumps(results, indent=2), encoding="utf-8")
    summary, detail = table(results), matrix(results)
    (directory / "checkers.md").write_text(
        "# Gradient checkers against the bug zoo\n\nRegenerate: `bpverify bench --checkers`.\n\n"
        + summary + "\n" + detail + "\n", encoding="utf-8")
    print(summary)
    print(detail)
    print(f"\nwrote {directory / 'checkers.json'}, {directory / 'checkers.md'}")
    return 0
