"""σ told by what a layer does to z (``identification``), on probes that compute with numpy: each
family's parameters found from the values alone (breakpoints to the last bit), softmax only as
an output layer, anything random, not elementwise or unknown refused with the reason, and a
declaration confirmed or contradicted. The frameworks' own probes are in test_frameworks.py."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from bpverify.conformance.protocol.identification import (
    PROBE_TOLERANCE,
    Unidentified,
    _breakpoint,
    best_fit,
    confirm_layer,
    identify_layers,
    layers_named,
)
from bpverify.oracles.cases import named_activation
from bpverify.reference.activation_families import FAMILIES
from bpverify.reference.activations import softmax


class Probe:
    """A network whose layers apply ``functions`` (rows of examples) to the injected zˡ; x
    (``variant``) reaches the next layer where ``leak`` says so."""

    def __init__(self, *functions, leak: float = 0.0, noise: float = 0.0) -> None:
        self.functions, self.leak, self.noise = functions, leak, noise
        self.widths = [3] * len(functions)
        self.rng = np.random.default_rng(0)

    def run(self, layer, Z, variant):
        A = self.functions[layer - 2](Z) + self.leak * variant
        return A + self.noise * self.rng.standard_normal(A.shape) * np.abs(A)


def elementwise(name):
    act = named_activation(name)
    return lambda Z: act.f(Z)


def rows_softmax(Z):
    return softmax.f(Z.T).T


def number(low, high, scale):
    """A parameter as people write one: a few digits."""
    return st.integers(low, high).map(lambda k: k / scale)


FAMILY_PARAMETERS = {
    "softplus": st.fixed_dictionaries({"beta": number(1, 40, 10), "threshold": number(0, 300, 10)}),
    "leaky_relu": st.fixed_dictionaries({"negative_slope": number(1, 900, 1000)}),
    "elu": st.fixed_dictionaries({"alpha": number(1, 500, 100)}),
    "celu": st.fixed_dictionaries({"alpha": number(1, 500, 100)}),
    "hardtanh": st.tuples(number(-40, 10, 4), number(1, 40, 4)).map(
        lambda t: {"min_val": t[0], "max_val": t[0] + t[1]}),
    "threshold": st.fixed_dictionaries({"threshold": number(-30, 30, 10),
                                        "value": number(-30, 30, 10)}),
    "hardshrink": st.fixed_dictionaries({"lambd": number(1, 300, 100)}),
    "softshrink": st.fixed_dictionaries({"lambd": number(1, 300, 100)}),
    "gelu": st.fixed_dictionaries({"approximate": st.sampled_from(["none", "tanh"])}),
}


@given(data=st.data())
@pytest.mark.parametrize("family", sorted(FAMILY_PARAMETERS))
def test_a_family_is_read_with_its_parameters_from_its_values(family: str, data) -> None:
    """No hint: slopes, α, ends, thresholds and β come from the values alone."""
    act = FAMILIES[family](**data.draw(FAMILY_PARAMETERS[family]))
    assert identify_layers(Probe(act.f)) == [act.name]


@pytest.mark.parametrize("name", ["sigmoid", "tanh", "relu", "identity", "softplus", "silu",
                                  "mish", "gelu", "selu", "softsign", "logsigmoid", "tanhshrink",
                                  "hardsigmoid", "hardswish", "relu6", "softplus(threshold=20)"])
def test_each_known_activation_is_read_as_itself(name: str) -> None:
    assert identify_layers(Probe(elementwise(name), elementwise("sigmoid"))) == [name, "sigmoid"]


def test_a_hint_is_taken_where_the_values_cannot_tell_and_only_then() -> None:
    """A softplus threshold of 40 changes no float64 value: the module's attribute names it; a
    hint the values contradict is passed over."""
    far = named_activation("softplus(threshold=40)")
    assert identify_layers(Probe(far.f)) == ["softplus"]
    assert identify_layers(Probe(far.f), hints=[far]) == ["softplus(threshold=40)"]
    wrong = named_activation("leaky_relu(negative_slope=0.3)")
    assert identify_layers(Probe(elementwise("relu")), hints=[wrong]) == ["relu"]


def test_the_textbook_softplus_and_pytorchs_are_told_apart() -> None:
    """Negative controls on the tolerance: 1.4e-11 at z = 25 is far beyond it, both ways."""
    assert identify_layers(Probe(elementwise("softplus"))) == ["softplus"]
    assert identify_layers(Probe(elementwise("softplus(threshold=20)"))) == [
        "softplus(threshold=20)"]
    fit = best_fit(elementwise("softplus(threshold=20)"), [named_activation("softplus")])
    assert fit.activation.name == "softplus(threshold=20)"


def test_sigma_in_float32_or_slightly_off_is_no_known_sigma() -> None:
    """σ computed in float32, or with a relative error of 1e-12: refused (the tolerance is some
    units of float64 rounding, not a looseness that would pass a wrong σ)."""
    float32 = Probe(lambda Z: named_activation("sigmoid").f(Z.astype(np.float32)).astype(float))
    with pytest.raises(Unidentified, match="no activation bpverify knows"):
        identify_layers(float32)
    off = Probe(lambda Z: np.tanh(Z) * (1 + 1e-12))
    with pytest.raises(Unidentified, match=r"the closest, tanh, is off by"):
        identify_layers(off)


def test_an_unknown_function_is_refused_with_what_was_seen() -> None:
    with pytest.raises(Unidentified) as refused:
        identify_layers(Probe(lambda Z: Z * np.tanh(Z)))
    assert refused.value.layer == 2
    assert "σ(-1) = 0.761594" in str(refused.value) and "σ(25) = 25" in str(refused.value)


def test_softmax_is_an_output_layer_only() -> None:
    assert identify_layers(Probe(elementwise("tanh"), rows_softmax)) == ["tanh", "softmax"]
    with pytest.raises(Unidentified, match="layer 2: not an elementwise σ of zˡ"):
        identify_layers(Probe(rows_softmax, elementwise("sigmoid")))


@pytest.mark.parametrize(("probe", "message"), [
    (Probe(elementwise("tanh"), noise=1e-3), "the same zˡ gave different values twice"),
    (Probe(elementwise("tanh"), leak=0.5), "not an elementwise σ of zˡ"),  # x reaches it
    (Probe(lambda Z: Z - Z.mean(axis=1, keepdims=True)), "not an elementwise σ of zˡ"),
    (Probe(lambda Z: Z[:, :2]), r"reached the next layer as shape"),
])
def test_what_is_not_an_elementwise_function_of_z_is_refused(probe, message) -> None:
    with pytest.raises(Unidentified, match=message):
        identify_layers(probe)


def test_a_declaration_is_confirmed_or_contradicted() -> None:
    probe = Probe(elementwise("softplus(threshold=40)"), rows_softmax)
    confirm_layer(probe, 2, named_activation("softplus(threshold=40)"))
    confirm_layer(probe, 2, named_activation("softplus"))  # the same in float64
    confirm_layer(probe, 3, softmax, output=True)
    with pytest.raises(Unidentified, match=r"declared softplus\(threshold=20\), but σ\(20\.0*4\) = "):
        confirm_layer(probe, 2, named_activation("softplus(threshold=20)"))
    with pytest.raises(Unidentified, match="declared sigmoid, but the layer is a softmax"):
        confirm_layer(probe, 3, named_activation("sigmoid"), output=True)


@given(st.floats(-1e6, 1e6, allow_nan=False))
def test_a_breakpoint_is_found_to_the_last_bit(threshold: float) -> None:
    def values(z):
        return np.where(z > threshold, z, -1e6 - 1.0)
    found = _breakpoint(values, lambda z, a: a == z, -1e300, 1e300)
    assert found == threshold


def test_names_per_layer_as_the_suite_takes_them() -> None:
    assert layers_named(["tanh", "tanh", "sigmoid"]) == "tanh/sigmoid"
    assert layers_named(["relu", "relu"]) == "relu"
    assert layers_named(["tanh", "relu", "sigmoid"]) == "tanh,relu,sigmoid"
    assert layers_named(["softplus(beta=2,threshold=5)"] * 2 + ["softmax"]) == \
        "softplus(beta=2,threshold=5)/softmax"
    assert PROBE_TOLERANCE >= 4  # measured: PyTorch and JAX within 3 units
