"""The conformance checks, one per equation or property, each with a stable id, and the networks
of the battery each runs on (``applies``).

  equations.py  shapes, forward, BP1, BP2, BP3, BP4: each equation on its own
  gradients.py  the whole gradient: vs the reference, vs the complex step, saturation, and
                one check per declared activation and cost
  batch.py      mini-batch (the matrix-based gradient), update-rule (the SGD step)
  state.py      state (one network across calls), inputs-not-mutated, deterministic
  sgd.py        sgd (the SGD method: epochs of mini-batches, the last one shorter)
"""

from __future__ import annotations

from collections.abc import Callable

from bpverify.conformance.protocol.adapters import Capabilities
from bpverify.conformance.suite.battery import SATURATION_SLOTS, NetworkSpec
from bpverify.conformance.suite.checks.base import Check, CheckFailed, Context, Failure, needs
from bpverify.conformance.suite.checks.batch import check_mini_batch, check_update
from bpverify.conformance.suite.checks.fundamental_equations import (
    check_bp1,
    check_bp2,
    check_bp3,
    check_bp4,
    check_forward,
    check_shapes,
)
from bpverify.conformance.suite.checks.gradients import (
    check_declared_function,
    check_gradient_complex_step,
    check_gradient_reference,
    check_saturation,
    saturates,
    small_and_smooth,
)
from bpverify.conformance.suite.checks.sgd import check_sgd
from bpverify.conformance.suite.checks.state import (
    check_deterministic,
    check_inputs_not_mutated,
    check_state,
)

__all__ = ["Check", "CheckFailed", "Context", "Failure", "all_checks", "by_id"]


def _named(*names: str) -> Callable[[NetworkSpec], bool]:
    """Battery networks of these slots, and any drawn network (Hypothesis, --case)."""
    return lambda spec: spec.name in names or spec.name == "drawn"


def _deep_enough(spec: NetworkSpec) -> bool:
    return spec.L >= 3


CORE_CHECKS: tuple[Check, ...] = (
    Check("shapes", "BP3/BP4", "∂C/∂b, ∂C/∂w: L − 1 finite arrays in the book's shapes",
          check_shapes, after=()),
    Check("forward", "feedforward", "aᴸ = σ(wᴸσ(…) + bᴸ)", check_forward,
          needs("feedforward", "no feedforward(a) method"), after=()),
    Check("BP1", "BP1", "δᴸ = ∇ₐC ⊙ σ′(zᴸ)", check_bp1),
    Check("BP2", "BP2", "δˡ = ((wˡ⁺¹)ᵀδˡ⁺¹) ⊙ σ′(zˡ)", check_bp2, applies=_deep_enough),
    Check("BP3", "BP3", "∂C/∂bˡⱼ = δˡⱼ (δˡ exposed, or read from ∂C/∂wˡ by BP4)", check_bp3),
    Check("BP4", "BP4", "∂C/∂wˡⱼₖ = aˡ⁻¹ₖ δˡⱼ", check_bp4),
    Check("gradient-vs-reference", "gradient", "every entry of ∇C against the reference",
          check_gradient_reference),
    Check("gradient-vs-complex-step", "gradient", "every entry of ∇C against the complex step",
          check_gradient_complex_step, applies=small_and_smooth),
    Check("saturation", "saturation", "∇C accurate where σ saturates, finite where exp(±z) "
          "overflows, in every layer",
          check_saturation, applies=saturates, source="saturation"),
    Check("mini-batch", "mini-batch", "backprop_matrix(X, Y) = Σₓ∇Cₓ (against the reference)",
          check_mini_batch, needs("mini_batch", "no backprop_matrix(X, Y) method"), after=(),
          whole_batch=True),
    Check("update-rule", "update rule", "w → w − (η/m)Σₓ∂Cₓ/∂w, b likewise", check_update,
          needs("update", "no update_mini_batch(mini_batch, eta) method"), after=(),
          whole_batch=True),
    Check("state", "state", "one network across calls: kept results, new weights, two steps",
          check_state, applies=_named("width-one", "square", "deep"),
          after=("shapes", "gradient-vs-reference", "update-rule")),
    Check("inputs-not-mutated", "purity", "backprop(x, y) changes none of its inputs",
          check_inputs_not_mutated, applies=_named("square", "large-batch")),
    Check("deterministic", "determinism", "two identical calls give identical results",
          check_deterministic, applies=_named("square", "deep")),
    Check("sgd", "SGD", "SGD(training_data, epochs, mini_batch_size, eta): every mini-batch, "
          "the last one shorter, every epoch", check_sgd,
          needs("sgd", "no SGD(training_data, epochs, mini_batch_size, eta) method callable as "
                "the book's: a list of (x, y) pairs, no other argument required"),
          applies=_named("width-one", "square"),
          after=("shapes", "gradient-vs-reference", "update-rule", "inputs-not-mutated")),
)

VARIANT_ACTIVATIONS = ("tanh", "identity", "relu", "softplus")
VARIANT_COSTS = ("cross-entropy",)


def _declared(kind: str, name: str) -> Callable[[Capabilities], str | None]:
    def requires(caps: Capabilities) -> str | None:
        where = " (in every layer)" if kind == "activations" else ""
        return None if name in getattr(caps, kind) else f"{kind[:-1]} {name}{where} not declared"
    return requires


def all_checks() -> tuple[Check, ...]:
    """The core checks, then one per activation and cost an implementation may declare."""
    def variants(spec: NetworkSpec) -> bool:
        return _named("one-layer", "square", "deep", *SATURATION_SLOTS)(spec) and saturates(spec)
    extra = [Check(f"activation-{name}", "gradient", f"∇C with σ = {name} (and in saturation)",
                   check_declared_function, _declared("activations", name), variants,
                   source="both", functions=(name, None)) for name in VARIANT_ACTIVATIONS]
    extra += [Check(f"cost-{name}", "gradient", f"∇C with C = {name}", check_gradient_reference,
                    _declared("costs", name), _named("one-layer", "square", "deep"),
                    functions=(None, name)) for name in VARIANT_COSTS]
    return CORE_CHECKS + tuple(extra)


def by_id(check_id: str) -> Check:
    for check in all_checks():
        if check.id == check_id:
            return check
    raise ValueError(f"check id is {check_id!r}, expected one of {[c.id for c in all_checks()]}")
