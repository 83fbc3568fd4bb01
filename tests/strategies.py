"""Hypothesis strategies that draw network descriptions (``Case``) for the oracle tests.

Hypothesis draws the structure (depth, widths, activations, cost, batch size, the
scale that decides saturation) and a seed; the parameter values come from
``default_rng(seed)``, continuous draws that land on a ReLU kink with probability 0.
"""

from __future__ import annotations

from hypothesis import strategies as st

from bpverify.oracles.cases import Case, mixed_layer, named_activation, random_case
from bpverify.reference import cross_entropy, quadratic, sigmoid
from bpverify.reference.activations import softmax
from bpverify.reference.costs import categorical_cross_entropy

ACTIVATION_NAMES = ("sigmoid", "tanh", "identity", "relu", "softplus", "cubic")
SATURATING_SCALE = 40.0  # with unit inputs, most |zˡⱼ| ≥ 30: σ, tanh, softplus saturate


@st.composite
def cases(draw: st.DrawFn, *, max_depth: int = 4, max_width: int = 5, max_batch: int = 3,
          scales: tuple[float, ...] = (0.5, 1.0, 2.0, SATURATING_SCALE),
          activation_names: tuple[str, ...] = ACTIVATION_NAMES) -> Case:
    depth = draw(st.integers(2, max_depth))
    sizes = draw(st.lists(st.integers(1, max_width), min_size=depth, max_size=depth))
    per_layer = []
    for l in range(1, depth):
        if sizes[l] > 1 and draw(st.booleans()) and draw(st.booleans()):
            names = draw(st.lists(st.sampled_from(activation_names), min_size=1, max_size=3))
            per_layer.append(mixed_layer(sizes[l], names))
        else:
            per_layer.append(named_activation(draw(st.sampled_from(activation_names))))
    cost = draw(st.sampled_from([quadratic, cross_entropy, categorical_cross_entropy]))
    if cost is cross_entropy:
        per_layer[-1] = sigmoid  # cross-entropy needs outputs in (0, 1)
    if cost is categorical_cross_entropy or (sizes[-1] > 1 and draw(st.booleans())
                                             and draw(st.booleans())):
        per_layer[-1] = softmax  # a probability vector; with the quadratic cost sometimes too
    scale = draw(st.sampled_from(scales))
    if any("cubic" in a.name for a in per_layer):  # a cubic layer, or a per-neuron one with it
        scale = min(scale, 1.0)  # z³ of z³ overflows float64 at larger scales
    return random_case(draw(st.integers(0, 2**32 - 1)), sizes,
                       batch_size=draw(st.integers(1, max_batch)), activations=per_layer,
                       cost=cost, weight_scale=scale)
