"""The claims ``bpverify verify`` makes about the reference, and the seeded cases it checks them on.

``verification_cases(seed)`` draws the cases (each activation, also saturated, a per-neuron layer,
each cost, a mini-batch, a deep network); ``claims()`` says, for each claim (BP1–BP4, the equal
forms, the path sum, the SGD rule), how to measure it for one case against one method's
derivatives (``methods.Derivatives``): a list of ``Discrepancy``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np

from bpverify.oracles import methods as oracles
from bpverify.oracles.cases import Case, cubic_activation, mixed_layer, random_case
from bpverify.oracles.discrepancy import Discrepancy, batch_scales, worst_discrepancy
from bpverify.oracles.rounding import allowance
from bpverify.reference import costs
from bpverify.reference.activations import identity, relu, sigmoid, softplus, tanh
from bpverify.reference.equations import feedforward_layers
from bpverify.reference.gradient_descent import sgd_step

LEARNING_RATE = 0.5


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


def claims() -> list[tuple[str, str, Callable[[Tagged, oracles.Derivatives], list[Discrepancy]]]]:
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
