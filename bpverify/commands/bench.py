"""``bpverify bench``: in what sense is backpropagation fast (§2.6), measured.

Every comparison is a ratio of two timings taken side by side, interleaved repeat by
repeat in one run, and reported as the median with its spread. The process is pinned to
one core (sched_setaffinity) and BLAS capped at one thread (threadpoolctl): XLA ignores its
thread flags on this JAX version and would otherwise use both cores, and on a 2-core shared
machine two-thread BLAS collapses whenever anything else runs. One core each is the fair
comparison and what "flops per core" means.

The reference is timed through its public ``backprop_matrix`` (validation included) against
targets, each printed with ✓ or ✗: at most 1.2× the minimal algorithm (``minimal_backprop``,
the floor: the same arithmetic with no validation and no generality; 1.0× where BLAS
dominates), at most 1.0× ``jax.jit(jax.grad)`` and PyTorch autograd in float64, at least 80% of
the float64 matmul peak, and ``bpverify check`` of a book-style class within its budgets.

Kept whole: one report whose timings are interleaved in one run; its measurements are small
functions in the order it prints them.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from scipy.special import expit

from bpverify.commands.extras import missing
from bpverify.conformance.specimens.book_network import BookNetwork
from bpverify.conformance.specimens.builtin import jitted_gradient
from bpverify.oracles.cases import random_case
from bpverify.reference.activations import layer_activations, sigmoid
from bpverify.reference.backpropagation import _backprop, backprop_matrix
from bpverify.reference.costs import quadratic
from bpverify.reference.equations import feedforward_layers
from bpverify.reference.numerical import cost_of_parameters, flatten, numerical_gradient

os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false "
                                   "intra_op_parallelism_threads=1")


Shape = tuple[int, ...]


@dataclass(frozen=True)
class Config:
    repeats: int
    target_seconds: float  # per timing sample
    fd_hidden: tuple[int, ...]
    loop_batches: tuple[int, ...]
    framework_shapes: tuple[tuple[Shape, tuple[int, ...]], ...]
    ratio_shapes: tuple[tuple[Shape, int], ...]  # the last is the flops shape
    peak_size: int
    floor_shapes: tuple[tuple[Shape, int, float], ...] = ()  # (sizes, m, target)
    check_repeats: int = 1  # timings of ``bpverify check`` (0: not timed)


FLOOR_SHAPES: tuple[tuple[Shape, int, float], ...] = (
    ((784, 30, 10), 1, 1.2), ((784, 30, 10), 10, 1.2), ((784, 30, 10), 100, 1.2),
    ((784, 100, 10), 64, 1.2), ((784, 512, 512, 10), 256, 1.0))
"""The issue's shapes with the targets against the floor: 1.0× where BLAS dominates."""

QUICK = Config(5, 0.02, (2, 5, 10, 30), (1, 10, 100),
               (((784, 30, 10), (1, 10, 100)), ((784, 512, 512, 10), (10,))),
               (((784, 30, 10), 10), ((784, 30, 10), 100), ((784, 100, 10), 100),
                ((784, 512, 512, 10), 256)), 1024, FLOOR_SHAPES, 1)
FULL = Config(15, 0.05, (2, 5, 10, 20, 30, 60), (1, 10, 100, 1000),
              (((784, 30, 10), (1, 10, 100, 1000)), ((784, 512, 512, 10), (10, 256))),
              (((784, 30, 10), 10), ((784, 30, 10), 100), ((784, 30, 10), 1000),
               ((784, 100, 10), 100), ((784, 512, 512, 10), 10), ((784, 512, 512, 10), 256)),
              2048, FLOOR_SHAPES, 3)
TINY = Config(2, 0.002, (2, 3), (1, 4), (((20, 8, 3), (1, 4)),), (((20, 8, 3), 4),), 128,
              (((20, 8, 3), 1, 1.2), ((20, 8, 3), 4, 1.0)), 0)

TARGETS = {"reference / jax f64": 1.0, "reference / torch f64": 1.0, "fraction of peak": 0.8,
           "verify (first run)": 10.0, "verify": 10.0, "check": 10.0, "check --thorough": 10.0}
"""The issue's targets: ratios at most, the fraction of peak at least, the commands' seconds."""

COMMANDS = (("verify (first run)", ["verify"]), ("verify", ["verify"]),
            ("check", ["check", "network.py:Network"]),
            ("check --thorough", ["check", "network.py:Network", "--thorough"]))
"""The commands a user runs first, timed as they run them: ``bpverify verify`` with an empty
JAX compilation cache (the first run after installing) and with the cache its first run left,
``bpverify check`` of the book's network.py, default and ``--thorough``."""

_CALLERS_XLA_FLAGS = os.environ.get("XLA_FLAGS")
"""XLA_FLAGS as the caller set them, before this module pins XLA to one thread for its own
timings: the commands timed as subprocesses get the caller's environment."""


def verdict(value: float, target: float, *, at_least: bool = False, digits: int = 2) -> str:
    """✓ or ✗, judged on the value as printed (``digits`` decimals), as the reader sees it."""
    shown = round(value, digits)
    return "✓" if (shown >= target if at_least else shown <= target) else "✗"


def at_most(target: float) -> str:
    return f"≤ {target:.1f}"


def minimal_backprop(weights: list[np.ndarray], biases: list[np.ndarray], X: np.ndarray,
                     Y: np.ndarray) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """The floor: the matrix-based algorithm for sigmoid neurons and the quadratic cost in the
    reference's own arithmetic (σ = expit, σ′ = σ(z)σ(−z), the same products), with no
    validation, no generality and no result object. It gives the reference's numbers."""
    acts, zs = [X], []
    for w, b in zip(weights, biases, strict=True):
        zs.append(w @ acts[-1] + b)
        acts.append(expit(zs[-1]))
    delta = (acts[-1] - Y) * (acts[-1] * expit(-zs[-1]))
    nabla_b, nabla_w = [delta] * len(weights), [delta] * len(weights)
    for i in range(len(weights) - 1, -1, -1):
        if i < len(weights) - 1:
            delta = (weights[i + 1].T @ delta) * (acts[i + 1] * expit(-zs[i]))
        nabla_b[i] = delta if delta.shape[1] == 1 else delta.sum(axis=1, keepdims=True)
        nabla_w[i] = (np.einsum("i,j->ij", delta[:, 0], acts[i][:, 0]) if delta.shape[1] == 1
                      else delta @ acts[i].T)
    return nabla_b, nabla_w


def _per_call(fn: Callable[[], Any], target: float) -> float:
    """Seconds per call, from enough calls to last about ``target`` seconds."""
    start = time.perf_counter()
    fn()
    once = max(time.perf_counter() - start, 1e-7)
    n = max(1, int(target / once))
    start = time.perf_counter()
    for _ in range(n):
        fn()
    return (time.perf_counter() - start) / n


def side_by_side(fns: dict[str, Callable[[], Any]], config: Config) -> dict[str, dict[str, float]]:
    """Median seconds per call of each function, timed interleaved repeat by repeat."""
    samples: dict[str, list[float]] = {name: [] for name in fns}
    for fn in fns.values():
        fn()  # warm up (JAX compiles here)
    for _ in range(config.repeats):
        for name, fn in fns.items():
            samples[name].append(_per_call(fn, config.target_seconds))
    return {name: {"median": statistics.median(s), "min": min(s), "max": max(s)}
            for name, s in samples.items()}


def ratio(timings: dict[str, dict[str, float]], a: str, b: str) -> float:
    return timings[a]["median"] / timings[b]["median"]


def _network(sizes: tuple[int, ...], m: int, seed: int = 0) -> Any:
    return random_case(seed, sizes, batch_size=m)


def measure_finite_differences(config: Config) -> list[dict[str, Any]]:
    """Claim: eq. 46 needs P + 1 forward passes per gradient; backprop about two."""
    out = []
    for h in config.fd_hidden:
        case = _network((784, h, 10), 1)
        acts = layer_activations(sigmoid, case.sizes)
        w, b = list(case.weights), list(case.biases)
        f = cost_of_parameters(case.sizes, case.x, case.y)
        theta = flatten(w, b)
        timings = side_by_side({
            "backprop": lambda: _backprop(w, b, case.x, case.y, acts, quadratic),
            "forward pass": lambda: feedforward_layers(w, b, case.x, acts)}, config)
        start = time.perf_counter()
        numerical_gradient(f, theta, "forward")
        fd_seconds = time.perf_counter() - start
        P = theta.size
        out.append({"hidden": h, "parameters": P, "forward_passes": P + 1,
                    "finite_differences_s": fd_seconds,
                    "model_s": (P + 1) * timings["forward pass"]["median"],
                    "backprop_s": timings["backprop"]["median"],
                    "slowdown": fd_seconds / timings["backprop"]["median"]})
    return out


def predicted_gradient_over_forward(sizes: tuple[int, ...]) -> float:
    """Flop count: forward Σ 2nₗnₗ₋₁m; backward adds BP2 (Σₗ<L 2nₗ₊₁nₗm) and BP4 (Σ 2nₗnₗ₋₁m)."""
    forward = sum(a * b for a, b in zip(sizes[:-1], sizes[1:], strict=True))
    bp2 = sum(a * b for a, b in zip(sizes[1:-1], sizes[2:], strict=True))
    return (2 * forward + bp2) / forward


def measure_gradient_over_forward(config: Config) -> list[dict[str, Any]]:
    out = []
    for sizes, m in config.ratio_shapes:
        case = _network(sizes, m)
        acts = layer_activations(sigmoid, case.sizes)
        w, b = list(case.weights), list(case.biases)
        timings = side_by_side({
            "gradient": lambda: _backprop(w, b, case.x, case.y, acts, quadratic),
            "forward": lambda: feedforward_layers(w, b, case.x, acts)}, config)
        out.append({"sizes": list(sizes), "m": m, "measured": ratio(timings, "gradient", "forward"),
                    "predicted_by_flops": predicted_gradient_over_forward(sizes),
                    "gradient_s": timings["gradient"]["median"]})
    return out


def _book_loop(net: BookNetwork, X: np.ndarray, Y: np.ndarray) -> None:
    """The book's update_mini_batch accumulation over backprop, without the step."""
    nabla_b = [np.zeros(b.shape) for b in net.biases]
    nabla_w = [np.zeros(w.shape) for w in net.weights]
    for j in range(X.shape[1]):
        db, dw = net.backprop(X[:, j:j + 1], Y[:, j:j + 1])
        nabla_b = [nb + d for nb, d in zip(nabla_b, db, strict=True)]
        nabla_w = [nw + d for nw, d in zip(nabla_w, dw, strict=True)]


def measure_loop_vs_matrix(config: Config) -> list[dict[str, Any]]:
    """The book reports the matrix form about 2× faster than looping over the mini-batch."""
    out = []
    sizes = config.framework_shapes[0][0]
    for m in config.loop_batches:
        case = _network(sizes, m)
        acts = layer_activations(sigmoid, case.sizes)
        w, b = list(case.weights), list(case.biases)
        book = BookNetwork(list(sizes))
        book.weights, book.biases = list(w), list(b)

        def our_loop() -> None:
            for j in range(m):
                _backprop(w, b, case.x[:, j:j + 1], case.y[:, j:j + 1], acts, quadratic)

        timings = side_by_side({
            "matrix": lambda: _backprop(w, b, case.x, case.y, acts, quadratic),
            "reference loop": our_loop,
            "book network.py loop": lambda: _book_loop(book, case.x, case.y)}, config)
        out.append({"m": m, "matrix_s": timings["matrix"]["median"],
                    "loop_over_matrix": ratio(timings, "reference loop", "matrix"),
                    "book_loop_over_matrix": ratio(timings, "book network.py loop", "matrix"),
                    "spread": [timings["matrix"]["min"], timings["matrix"]["max"]]})
    return out


def measure_floor(config: Config) -> list[dict[str, Any]]:
    """The reference's public backprop_matrix against the minimal algorithm, same arithmetic."""
    out = []
    for sizes, m, target in config.floor_shapes:
        case = _network(sizes, m)
        w, b = list(case.weights), list(case.biases)
        timings = side_by_side({"reference": lambda: backprop_matrix(w, b, case.x, case.y),
                                "minimal": lambda: minimal_backprop(w, b, case.x, case.y)}, config)
        value = ratio(timings, "reference", "minimal")
        out.append({"sizes": list(sizes), "m": m, "reference_s": timings["reference"]["median"],
                    "minimal_s": timings["minimal"]["median"], "reference_over_minimal": value,
                    "target": target, "met": verdict(value, target) == "✓"})
    return out


def measure_frameworks(config: Config) -> list[dict[str, Any]]:
    """The reference (public backprop_matrix) and the floor against jax.jit(jax.grad) in float64
    and float32, and against PyTorch autograd in float64 where torch is installed."""
    import jax
    import jax.numpy as jnp

    out = []
    for sizes, batches in config.framework_shapes:
        for m in batches:
            case = _network(sizes, m)
            w, b = list(case.weights), list(case.biases)
            fns: dict[str, Callable[[], Any]] = {
                "reference f64": lambda: backprop_matrix(w, b, case.x, case.y),
                "minimal f64": lambda: minimal_backprop(w, b, case.x, case.y)}
            for dtype in ("float64", "float32"):
                with jax.enable_x64(dtype == "float64"):
                    grad = jitted_gradient("sigmoid", "quadratic")
                    params = ([jnp.asarray(a, dtype) for a in w], [jnp.asarray(a, dtype) for a in b])
                    X, Y = jnp.asarray(case.x, dtype), jnp.asarray(case.y, dtype)

                    def run(grad=grad, params=params, X=X, Y=Y, dtype=dtype):
                        with jax.enable_x64(dtype == "float64"):
                            jax.block_until_ready(grad(params, X, Y))
                    fns[f"jax.jit(grad) f{dtype[-2:]}"] = run
            torch_fn = _torch_gradient(case)
            if torch_fn is not None:
                fns["torch autograd f64"] = torch_fn
            timings = side_by_side(fns, config)
            row: dict[str, Any] = {"sizes": list(sizes), "m": m,
                                   "seconds": {k: v["median"] for k, v in timings.items()}}
            row["reference_over_jax_f64"] = ratio(timings, "reference f64", "jax.jit(grad) f64")
            row["reference_over_jax_f32"] = ratio(timings, "reference f64", "jax.jit(grad) f32")
            row["minimal_over_jax_f64"] = ratio(timings, "minimal f64", "jax.jit(grad) f64")
            row["reference_over_torch_f64"] = (ratio(timings, "reference f64", "torch autograd f64")
                                               if torch_fn is not None else None)
            out.append(row)
    return out


def _torch_gradient(case: Any) -> Callable[[], Any] | None:
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(1)
    ws = [torch.tensor(w, requires_grad=True) for w in case.weights]
    bs = [torch.tensor(b, requires_grad=True) for b in case.biases]
    X, Y = torch.tensor(case.x), torch.tensor(case.y)

    def run() -> None:
        a = X
        for w, b in zip(ws, bs, strict=True):
            a = torch.sigmoid(w @ a + b)
        loss = 0.5 * ((a - Y) ** 2).sum()
        torch.autograd.grad(loss, ws + bs)
    return run


def measure_flops(config: Config) -> dict[str, Any]:
    """GFLOP/s of the reference (public backprop_matrix) at the largest shape against a float64
    matmul in the same run."""
    sizes, m = config.ratio_shapes[-1]
    case = _network(sizes, m)
    w, b = list(case.weights), list(case.biases)
    n = config.peak_size
    A = np.random.default_rng(0).standard_normal((n, n))
    timings = side_by_side({"gradient": lambda: backprop_matrix(w, b, case.x, case.y),
                            "matmul": lambda: A @ A}, config)
    forward = sum(p * q for p, q in zip(sizes[:-1], sizes[1:], strict=True))
    bp2 = sum(p * q for p, q in zip(sizes[1:-1], sizes[2:], strict=True))
    gradient_flops = 2.0 * m * (2 * forward + bp2)
    peak = 2.0 * n ** 3 / timings["matmul"]["median"] / 1e9
    reached = gradient_flops / timings["gradient"]["median"] / 1e9
    return {"sizes": list(sizes), "m": m, "gflops": reached, "matmul_peak_gflops": peak,
            "fraction_of_peak": reached / peak, "target": TARGETS["fraction of peak"]}


def measure_commands(config: Config) -> list[dict[str, Any]]:
    """Wall seconds of the COMMANDS as a user runs them (``python -m bpverify …`` in a fresh
    folder holding the book's network.py, on every core this process may use, the caller's
    environment), the median of ``config.check_repeats`` runs each, against their targets."""
    import subprocess
    import sys
    import tempfile

    from bpverify.conformance.specimens.sources import book_source

    out: list[dict[str, Any]] = []
    if config.check_repeats == 0:
        return out
    env = {k: v for k, v in os.environ.items() if k != "XLA_FLAGS"}
    if _CALLERS_XLA_FLAGS is not None:
        env["XLA_FLAGS"] = _CALLERS_XLA_FLAGS
    with tempfile.TemporaryDirectory(prefix="bpverify-bench-") as folder:
        (Path(folder) / "network.py").write_text(book_source(), encoding="utf-8")
        cache = Path(folder) / "jax-cache"
        for label, arguments in COMMANDS:
            seconds, codes = [], []
            for _ in range(config.check_repeats):
                if label == "verify (first run)":
                    shutil.rmtree(cache, ignore_errors=True)
                start = time.perf_counter()
                done = subprocess.run([sys.executable, "-m", "bpverify", *arguments], cwd=folder,
                                      env={**env, "JAX_COMPILATION_CACHE_DIR": str(cache)},
                                      capture_output=True, check=False)
                seconds.append(time.perf_counter() - start)
                codes.append(done.returncode)
            value = statistics.median(seconds)
            out.append({"command": "bpverify " + " ".join(arguments), "mode": label,
                        "seconds": value, "target": TARGETS[label], "passed": codes == [0] * len(codes),
                        "met": round(value, 2) <= TARGETS[label]})
    return out


def measure_step_sizes(config: Config) -> dict[str, Any]:
    """Error of each difference method against the exact gradient, as the step shrinks."""
    case = _network((4, 5, 3), 1)
    acts = layer_activations(sigmoid, case.sizes)
    exact = _backprop(list(case.weights), list(case.biases), case.x, case.y, acts, quadratic)
    g = np.concatenate([np.concatenate([w.ravel(), b.ravel()])
                        for w, b in zip(exact.nabla_w, exact.nabla_b, strict=True)])
    f = cost_of_parameters(case.sizes, case.x, case.y)
    theta = flatten(list(case.weights), list(case.biases))
    steps = [float(h) for h in np.logspace(-1, -15, 29)]
    curves: dict[str, list[float]] = {}
    for method in ("forward", "central", "richardson", "complex"):
        curves[method] = []
        for h in steps + ([1e-20, 1e-30] if method == "complex" else []):
            est = numerical_gradient(f, theta, method, h=h).value
            curves[method].append(float(np.max(np.abs(est - g)) / np.max(np.abs(g))))
    return {"steps": steps, "complex_extra_steps": [1e-20, 1e-30], "relative_error": curves}


def _pin_to_one_core() -> Callable[[], None]:
    """Pin this process (every thread: BLAS, XLA) to one core; return how to undo it."""
    if not hasattr(os, "sched_getaffinity"):
        return lambda: None
    before = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {min(before)})
    return lambda: os.sched_setaffinity(0, before)


def run(config: Config) -> dict[str, Any]:
    from threadpoolctl import threadpool_limits

    unpin = _pin_to_one_core()
    try:
        results = _run(config, threadpool_limits)
    finally:
        unpin()
    results["commands"] = measure_commands(config)  # on every core, as a user runs them
    return results


def _run(config: Config, threadpool_limits: Any) -> dict[str, Any]:
    with threadpool_limits(limits=1):
        results: dict[str, Any] = {
            "setup": {"date": time.strftime("%Y-%m-%d"), "python": platform.python_version(),
                      "numpy": np.__version__, "machine": platform.machine(),
                      "cores": os.cpu_count(), "threads": 1, "pinned_to_one_core":
                      hasattr(os, "sched_setaffinity"),
                      "xla_flags": os.environ.get("XLA_FLAGS", ""), "repeats": config.repeats},
            "finite_differences": measure_finite_differences(config),
            "gradient_over_forward": measure_gradient_over_forward(config),
            "loop_vs_matrix": measure_loop_vs_matrix(config),
            "floor": measure_floor(config),
            "frameworks": measure_frameworks(config),
            "flops": measure_flops(config),
            "step_sizes": measure_step_sizes(config),
        }
    try:
        import torch
        results["setup"]["torch"] = torch.__version__
    except ImportError:
        results["setup"]["torch"] = "not installed"
    import jax
    results["setup"]["jax"] = jax.__version__
    return results


def table(results: dict[str, Any]) -> str:
    s = results["setup"]
    lines = [f"bpverify bench  {s['date']}  python {s['python']}  numpy {s['numpy']}  "
             f"jax {s.get('jax', '?')}  torch {s.get('torch', '?')}  {s['cores']} cores, "
             f"{s['threads']} thread", "",
             "1. finite differences (eq. 46) vs backprop, [784, h, 10], one example",
             f"{'h':>5} {'P':>8} {'passes':>8} {'FD s':>9} {'model s':>9} {'backprop s':>11} "
             f"{'FD/BP':>9}"]
    for r in results["finite_differences"]:
        lines.append(f"{r['hidden']:>5} {r['parameters']:>8} {r['forward_passes']:>8} "
                     f"{r['finite_differences_s']:>9.4f} {r['model_s']:>9.4f} "
                     f"{r['backprop_s']:>11.2e} {r['slowdown']:>9.0f}")
    lines += ["", "2. gradient time / forward time", f"{'sizes':<22} {'m':>5} {'measured':>9} "
              f"{'flops':>7}"]
    for r in results["gradient_over_forward"]:
        lines.append(f"{str(r['sizes']):<22} {r['m']:>5} {r['measured']:>9.2f} "
                     f"{r['predicted_by_flops']:>7.2f}")
    lines += ["", "3. per-example loop / matrix mini-batch (the book: about 2×; no target)",
              f"{'m':>5} {'matrix s':>10} {'our loop':>9} {'book loop':>10}"]
    for r in results["loop_vs_matrix"]:
        lines.append(f"{r['m']:>5} {r['matrix_s']:>10.2e} {r['loop_over_matrix']:>8.1f}× "
                     f"{r['book_loop_over_matrix']:>9.1f}×")
    lines += ["", "4. reference backprop_matrix / the minimal algorithm (same arithmetic, no "
              "validation)", f"{'sizes':<22} {'m':>5} {'reference s':>12} {'ratio':>7} "
              f"{'target':>7}"]
    for r in results["floor"]:
        lines.append(f"{str(r['sizes']):<22} {r['m']:>5} {r['reference_s']:>12.2e} "
                     f"{r['reference_over_minimal']:>7.2f} {at_most(r['target']):>7} "
                     f"{verdict(r['reference_over_minimal'], r['target'])}")
    jax_target, torch_target = TARGETS["reference / jax f64"], TARGETS["reference / torch f64"]
    lines += ["", "5. reference backprop_matrix (f64) / frameworks, one core",
              f"{'sizes':<22} {'m':>5} {'/ jax f64':>10} {'/ torch f64':>12} {'/ jax f32':>10} "
              f"{'floor / jax f64':>16}"]
    for r in results["frameworks"]:
        jax_cell = (f"{r['reference_over_jax_f64']:.2f} "
                    f"{verdict(r['reference_over_jax_f64'], jax_target)}")
        torch_ratio = r.get("reference_over_torch_f64")
        torch_cell = ("not installed" if torch_ratio is None
                      else f"{torch_ratio:.2f} {verdict(torch_ratio, torch_target)}")
        lines.append(f"{str(r['sizes']):<22} {r['m']:>5} {jax_cell:>10} {torch_cell:>12} "
                     f"{r['reference_over_jax_f32']:>10.2f} {r['minimal_over_jax_f64']:>16.2f}")
    lines.append(f"{'target':<22} {'':>5} {at_most(jax_target):>10} {at_most(torch_target):>12}")
    fl = results["flops"]
    lines += ["", f"6. {fl['sizes']} m={fl['m']}: {fl['gflops']:.1f} GFLOP/s, matmul peak "
              f"{fl['matmul_peak_gflops']:.1f} GFLOP/s: {100 * fl['fraction_of_peak']:.0f}% of "
              f"peak (target ≥ {100 * fl['target']:.0f}%) "
              f"{verdict(100 * fl['fraction_of_peak'], 100 * fl['target'], at_least=True, digits=0)}"]
    best = {k: min(v) for k, v in results["step_sizes"]["relative_error"].items()}
    lines += ["", "7. best relative error over step sizes: " +
              ", ".join(f"{k} {v:.1e}" for k, v in best.items())]
    if results["commands"]:
        lines += ["", f"8. the first commands as a user runs them (wall s, {s['cores']} cores, "
                      "the book's network.py)"]
        for r in results["commands"]:
            lines.append(f"   {r['mode']:<19} {r['seconds']:7.2f} s  target ≤ {r['target']:.0f} s "
                         f"{'✓' if r['met'] else '✗'}"
                         + ("" if r["passed"] else "  (it did not pass!)"))
    return "\n".join(lines)


def plot(results: dict[str, Any], out: Path) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    paths = []

    def save(fig: Any, name: str) -> None:
        path = out / name
        fig.tight_layout()
        fig.savefig(path, dpi=100)
        plt.close(fig)
        paths.append(path)

    fd = results["finite_differences"]
    fig, ax = plt.subplots(figsize=(6, 4))
    P = [r["parameters"] for r in fd]
    ax.loglog(P, [r["finite_differences_s"] for r in fd], "o-", label="finite differences (measured)")
    ax.loglog(P, [r["model_s"] for r in fd], "--", label="model: (P + 1) forward passes")
    ax.loglog(P, [r["backprop_s"] for r in fd], "s-", label="backprop")
    ax.set(xlabel="parameters P", ylabel="seconds per gradient", title="Eq. 46 vs backprop")
    ax.legend()
    save(fig, "finite_differences.png")

    def bars(rows: list[dict[str, Any]], series: dict[str, str], ylabel: str, name: str,
             line: float | None = None) -> None:
        """One group of bars per row, one bar per series (key → label) that has values."""
        series = {k: v for k, v in series.items() if all(r.get(k) is not None for r in rows)}
        fig, ax = plt.subplots(figsize=(6, 4))
        x = np.arange(len(rows))
        width = 0.8 / len(series)
        for i, (key, label) in enumerate(series.items()):
            ax.bar(x + (i - (len(series) - 1) / 2) * width, [r[key] for r in rows], width,
                   label=label)
        ax.set_xticks(x, [f"{r['sizes']}\nm={r['m']}" for r in rows], fontsize=6)
        if line is not None:
            ax.axhline(line, color="grey", ls=":")
        ax.set(ylabel=ylabel)
        ax.legend(fontsize=7)
        save(fig, name)

    bars(results["gradient_over_forward"], {"measured": "measured", "predicted_by_flops":
                                            "flop count"},
         "gradient time / forward time", "gradient_over_forward.png")
    bars(results["floor"], {"reference_over_minimal": "reference / minimal algorithm"},
         "time ratio (target 1.2; 1.0 at the BLAS-bound shape)", "floor.png", line=1.2)

    fig, ax = plt.subplots(figsize=(6, 4))
    lv = results["loop_vs_matrix"]
    ax.semilogx([r["m"] for r in lv], [r["loop_over_matrix"] for r in lv], "o-", label="reference loop")
    ax.semilogx([r["m"] for r in lv], [r["book_loop_over_matrix"] for r in lv], "s-",
                label="book network.py loop")
    ax.axhline(2, color="grey", ls=":", label="the book: about 2×")
    ax.set(xlabel="mini-batch size m", ylabel="loop time / matrix time")
    ax.legend()
    save(fig, "loop_vs_matrix.png")

    bars(results["frameworks"], {"reference_over_jax_f64": "reference / jax f64",
                                 "reference_over_torch_f64": "reference / torch f64",
                                 "minimal_over_jax_f64": "minimal algorithm / jax f64",
                                 "reference_over_jax_f32": "reference / jax f32"},
         "time ratio (< 1: numpy faster; target ≤ 1 in f64)", "frameworks.png", line=1.0)

    fig, ax = plt.subplots(figsize=(6, 4))
    st = results["step_sizes"]
    for method, errors in st["relative_error"].items():
        steps = st["steps"] + (st["complex_extra_steps"] if method == "complex" else [])
        ax.loglog(steps, np.maximum(errors, 1e-17), "o-", ms=3, label=method)
    ax.invert_xaxis()
    ax.set(xlabel="step ε", ylabel="relative error of ∇C", title="Gradient checks vs step size")
    ax.legend()
    save(fig, "step_sizes.png")
    return paths


def main(quick: bool, out: str, config: Config | None = None) -> int:
    config = config or (QUICK if quick else FULL)
    directory = Path(out)
    directory.mkdir(parents=True, exist_ok=True)
    results = run(config)
    (directory / "bench.json").write_text(json.dumps(results, indent=2), encoding="utf-8")
    no_plots = missing("matplotlib", "bench", "plots not written")
    paths = plot(results, directory) if no_plots is None else []
    print(table(results))
    print("\nwrote " + ", ".join(str(p) for p in [directory / "bench.json", *paths]))
    if no_plots:
        print(no_plots)
    return 0
