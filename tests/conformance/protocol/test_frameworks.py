"""Frameworks plug in through their helpers, σ read as the code runs.

PyTorch (``tox -e torch`` installs it; without it these tests are skipped, said so): the
built-in autograd implementation; a user's nn.Module through ``TorchModule`` with its loss and
optimizer (momentum is seen); σ probed between the Linear layers, so functional calls in
``forward``, custom modules and every ``torch.nn`` activation with non-default arguments are
read right and conform, on the battery's saturating networks too; a wrong backward still
fails; what cannot be read is refused, naming the declaration.

JAX (always installed): ``JaxFunction`` probes σ through ``predict``.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from reports import problems as _problems

from bpverify.conformance.protocol.adapters import resolve
from bpverify.conformance.protocol.loading import load
from bpverify.conformance.suite.runner import run_suite

STYLES = Path(__file__).resolve().parent.parent / "specimens" / "styles"


def _torch_importable() -> bool:
    try:
        import torch  # noqa: F401
    except ImportError:
        return False
    return True


requires_torch = pytest.mark.skipif(not _torch_importable(),
                                    reason="PyTorch is optional: run `tox -e torch`")
SATURATING = ("saturating", "saturated-hidden", "saturated-output")
"""The battery's networks where σ meets its tails: some |z| ≥ 10, and z planted at ±750, 40,
±25 … in a hidden and in the output layer."""


def torch_style(attribute: str):
    return resolve(f"{STYLES / 'torch_style.py'}:{attribute}")


def from_torch_style(*names: str):
    """Objects of the torch style file (the very module ``torch_style`` resolves from)."""
    found = tuple(load(f"{STYLES / 'torch_style.py'}:{name}") for name in names)
    return found if len(found) > 1 else found[0]


def failed(report) -> set[str]:
    return {o.check.id for o in report.outcomes if o.status == "fail"}


@requires_torch
def test_pytorch_autograd_conforms() -> None:
    report = run_suite(resolve("bpverify.conformance.specimens.builtin:torch_autograd"), seeds=3)
    assert report.passed, _problems(report)
    skipped = [o.check.id for o in report.outcomes if o.status == "skip"]
    assert skipped == ["sgd"]  # BP3 too: δ read from ∂C/∂w; no SGD method of a class


@requires_torch
@pytest.mark.parametrize("attribute", ["implementation", "tanh_hidden", "classifier",
                                       "per_layer", "functional", "softplus_default",
                                       "softplus_beta_threshold", "custom_module"])
def test_a_torch_module_with_its_loss_and_optimizer_conforms(attribute: str) -> None:
    impl = torch_style(attribute)
    report = run_suite(impl, seeds=2)
    assert report.passed, _problems(report)
    assert impl.capabilities.update and impl.capabilities.mini_batch


@requires_torch
@pytest.mark.parametrize(("attribute", "activation"), [
    ("implementation", "sigmoid"), ("tanh_hidden", "tanh/sigmoid"),
    ("classifier", "tanh/softmax"), ("per_layer", "tanh,relu,sigmoid"),
    ("functional", "tanh,relu,sigmoid"),  # torch.tanh, F.relu, F.softplus…: at L = 4
    ("softplus_default", "softplus(threshold=20)"),
    ("softplus_beta_threshold", "softplus(beta=2,threshold=5)"), ("custom_module", "silu"),
])
def test_sigma_is_read_from_what_the_module_does(attribute: str, activation: str) -> None:
    """Functional calls in forward and custom modules, not only nn modules; PyTorch's Softplus
    with its threshold, not the textbook softplus."""
    assert torch_style(attribute).capabilities.activations == (activation,)


@requires_torch
def test_the_functional_style_reads_softplus_too() -> None:
    """At a depth where the cycle tanh, relu, softplus reaches softplus (F.softplus: threshold
    20)."""
    Functional = from_torch_style("Functional")
    from bpverify.conformance.protocol.frameworks import _TorchLayers
    from bpverify.conformance.protocol.identification import identify_layers

    sizes = [3, 4, 5, 4, 2]  # the probe at depth 5, not the helper's 4
    assert identify_layers(_TorchLayers(Functional(sizes), sizes)) == [
        "tanh", "relu", "softplus(threshold=20)", "sigmoid"]


@requires_torch
def test_momentum_left_in_the_optimizer_fails_state() -> None:
    report = run_suite(torch_style("with_momentum"))
    assert failed(report) == {"state"}, _problems(report)


@requires_torch
def test_a_wrong_backward_behind_a_right_forward_still_fails_bp1_and_bp2() -> None:
    """σ(z) forward, σ(z) for σ′(z) backward (a custom autograd.Function): probed as sigmoid
    from its forward, and its gradient judged: BP1 (δᴸ) and BP2 (δˡ) fail."""
    impl = torch_style("wrong_backward")
    assert impl.capabilities.activations == ("sigmoid",)
    report = run_suite(impl, only=["BP1", "BP2"])
    assert failed(report) == {"BP1", "BP2"}, _problems(report)


def _activation_modules():
    """Every elementwise torch.nn activation, with arguments other than its defaults where it
    takes any (the defaults too where they differ from the textbook function), and the name
    the reference knows it by."""
    import torch.nn as nn

    return [
        (lambda: nn.Softplus(), "softplus(threshold=20)"),
        (lambda: nn.Softplus(beta=2, threshold=5), "softplus(beta=2,threshold=5)"),
        (lambda: nn.Softplus(beta=0.5, threshold=12), "softplus(beta=0.5,threshold=12)"),
        (lambda: nn.LeakyReLU(0.2), "leaky_relu(negative_slope=0.2)"),
        (lambda: nn.ELU(alpha=0.5), "elu(alpha=0.5)"),
        (lambda: nn.CELU(alpha=2.0), "celu(alpha=2)"),
        (nn.SELU, "selu"), (nn.GELU, "gelu"),
        (lambda: nn.GELU(approximate="tanh"), "gelu(approximate=tanh)"),
        (nn.SiLU, "silu"), (nn.Mish, "mish"),
        (lambda: nn.Hardtanh(-12.0, 14.0), "hardtanh(min_val=-12,max_val=14)"),  # planted z
        (nn.ReLU6, "relu6"), (nn.Hardswish, "hardswish"),
        (lambda: nn.Threshold(0.5, -1.0), "threshold(threshold=0.5,value=-1)"),
        (lambda: nn.Hardshrink(0.7), "hardshrink(lambd=0.7)"),
        (lambda: nn.Softshrink(0.3), "softshrink(lambd=0.3)"),
        (nn.Softsign, "softsign"), (nn.LogSigmoid, "logsigmoid"), (nn.Tanhshrink, "tanhshrink"),
        (nn.Sigmoid, "sigmoid"), (nn.Tanh, "tanh"), (nn.ReLU, "relu"), (nn.Identity, "identity"),
        (lambda: nn.RReLU(0.1, 0.3).eval(), "leaky_relu(negative_slope=0.2)"),
    ]


ACTIVATION_COUNT = 25


@requires_torch
@pytest.mark.parametrize("which", range(ACTIVATION_COUNT))
def test_every_torch_activation_conforms_where_it_saturates(which: int) -> None:
    """Each through the battery's saturating networks with every check, read with PyTorch's
    parameters (never a FAIL of correct code, as the textbook softplus gave at z = 158)."""
    import torch

    from bpverify.conformance.protocol.frameworks import TorchModule
    sgd, with_activation = from_torch_style("sgd", "with_activation")

    modules = _activation_modules()
    assert len(modules) == ACTIVATION_COUNT
    make, name = modules[which]
    impl = TorchModule(with_activation(make), loss=torch.nn.MSELoss(), optimizer=sgd)
    assert impl.capabilities.activations == (name,)
    for case in SATURATING:
        report = run_suite(impl, case=case)
        assert report.passed, (case, _problems(report))


@requires_torch
def test_hardsigmoid_is_declined_in_float64_with_the_reason_and_conforms_in_float32() -> None:
    """PyTorch's Hardsigmoid backward multiplies by 1/6 rounded to float32 even in float64 (a
    3e-8 error no float64 check passes): declined, naming dtype='float32', under which it
    conforms; a Hardsigmoid written with clamp, whose σ′ is 1/6, is checked in float64."""
    import torch

    from bpverify.conformance.protocol.frameworks import TorchModule
    sgd, with_activation = from_torch_style("sgd", "with_activation")

    build = with_activation(torch.nn.Hardsigmoid)
    with pytest.raises(ValueError, match=r"rounded to float32 .*TorchModule\(\.\.\., "
                                         r"dtype='float32'\)"):
        TorchModule(build, loss=torch.nn.MSELoss(), optimizer=sgd)
    impl = TorchModule(build, loss=torch.nn.MSELoss(), optimizer=sgd, dtype="float32")
    for case in SATURATING:
        assert run_suite(impl, case=case).passed

    class Clamped(torch.nn.Module):
        def forward(self, z):
            return torch.clamp(z / 6 + 0.5, 0.0, 1.0)

    clamped = TorchModule(with_activation(Clamped), loss=torch.nn.MSELoss(), optimizer=sgd)
    assert clamped.capabilities.activations == ("hardsigmoid",)


@requires_torch
def test_an_activation_bpverify_does_not_know_is_refused_naming_the_declaration() -> None:
    import torch

    from bpverify.conformance.protocol.frameworks import TorchModule
    TanhTimesZ, with_activation = from_torch_style("TanhTimesZ", "with_activation")

    with pytest.raises(ValueError) as refused:
        TorchModule(with_activation(TanhTimesZ), loss=torch.nn.MSELoss())
    message = str(refused.value)
    assert message.startswith("TorchModule: σ of layer 2: the function between")
    assert "σ(-1) = 0.761594" in message and "activation='NAME'" in message
    assert "softplus(beta,threshold)" in message


def Centred():  # noqa: N802  (a module's constructor, as torch.nn's are called)
    """z − mean(z) over each example's neurons: a normalisation, not an elementwise σ."""
    import torch

    class Centre(torch.nn.Module):
        def forward(self, z):
            return z - z.mean(dim=1, keepdim=True)

    return Centre()


@requires_torch
@pytest.mark.parametrize(("layers", "message"), [
    (lambda nn: [nn.Softmax(dim=1)], "not an elementwise σ of zˡ"),
    (lambda nn: [nn.Dropout(0.5)], "the same zˡ gave different values twice"),
    (lambda nn: [nn.RReLU()], "the same zˡ gave different values twice"),
    (lambda nn: [Centred()], "not an elementwise σ of zˡ"),
    (lambda nn: [nn.PReLU()], r"trains parameters besides .*'1.weight'"),
])
def test_what_is_not_an_elementwise_sigma_is_refused_with_the_reason(layers, message) -> None:
    """A hidden softmax, dropout and RReLU in training mode, a normalisation, a PReLU's own
    parameter: never read as some σ."""
    import torch

    from bpverify.conformance.protocol.frameworks import TorchModule

    def build(sizes):
        modules = []
        for n_in, n_out in zip(sizes[:-1], sizes[1:], strict=True):
            modules += [torch.nn.Linear(n_in, n_out), *layers(torch.nn)]
        return torch.nn.Sequential(*modules)

    with pytest.raises(ValueError, match=message):
        TorchModule(build, loss=torch.nn.MSELoss())


@requires_torch
def test_a_skip_connection_between_the_layers_is_refused() -> None:
    import torch

    from bpverify.conformance.protocol.frameworks import TorchModule

    class Residual(torch.nn.Module):
        def __init__(self, sizes):
            super().__init__()
            self.layers = torch.nn.ModuleList(torch.nn.Linear(a, b)
                                              for a, b in zip(sizes[:-1], sizes[1:], strict=True))

        def forward(self, x):
            h = torch.tanh(self.layers[0](x))
            h = torch.tanh(self.layers[1](h)) + x.sum(dim=1, keepdim=True)
            return torch.sigmoid(self.layers[2](h))

    with pytest.raises(ValueError, match="layer 3: not an elementwise σ of zˡ"):
        TorchModule(Residual, loss=torch.nn.MSELoss())


@requires_torch
def test_a_declaration_chooses_among_what_the_probe_cannot_tell_never_against_it() -> None:
    """Softplus with threshold 40 is the textbook softplus in float64 (e^(−40) is below the
    rounding of z): both names fit, the declared one is taken; a declaration the module
    contradicts (tanh for sigmoid) is refused with the value where they differ."""
    import torch

    from bpverify.conformance.protocol.frameworks import TorchModule
    build, with_activation = from_torch_style("build", "with_activation")

    far = with_activation(lambda: torch.nn.Softplus(threshold=40))
    assert TorchModule(far, loss=torch.nn.MSELoss()).capabilities.activations == (
        "softplus(threshold=40)",)  # read from the module's attribute
    assert TorchModule(far, loss=torch.nn.MSELoss(), activation="softplus").capabilities \
        .activations == ("softplus",)
    assert TorchModule(build, loss=torch.nn.MSELoss(), activation=["sigmoid"] * 3) \
        .capabilities.activations == ("sigmoid",)
    with pytest.raises(ValueError, match=r"layer 2: declared tanh, but σ\(.*\) = .* where tanh "
                                         r"gives"):
        TorchModule(build, loss=torch.nn.MSELoss(), activation="tanh")
    with pytest.raises(ValueError, match="activation= names 2 layers, expected one per layer"):
        TorchModule(build, loss=torch.nn.MSELoss(), activation=["sigmoid", "sigmoid"])
    with pytest.raises(ValueError, match="activation= activation is 'swish', expected one of"):
        TorchModule(build, loss=torch.nn.MSELoss(), activation="swish")


@requires_torch
def test_a_module_torch_cannot_run_at_the_probe_or_without_linear_layers_is_refused() -> None:
    import torch

    from bpverify.conformance.protocol.frameworks import TorchModule

    with pytest.raises(ValueError, match=r"made a module of 0 torch.nn.Linear layers, expected 3"):
        TorchModule(lambda sizes: torch.nn.Sequential(torch.nn.Tanh()), loss=torch.nn.MSELoss())

    class Backwards(torch.nn.Module):
        def __init__(self, sizes):
            super().__init__()
            self.first = torch.nn.Linear(sizes[-2], sizes[-1])
            self.rest = torch.nn.ModuleList(torch.nn.Linear(a, b)
                                            for a, b in zip(sizes[:-2], sizes[1:-1], strict=True))

        def forward(self, x):
            for layer in self.rest:
                x = torch.tanh(layer(x))
            return self.first(x)

    with pytest.raises(ValueError, match=r"calls its Linear layers in the order \[1, 2, 0\]"):
        TorchModule(Backwards, loss=torch.nn.MSELoss())


# -- JAX -----------------------------------------------------------------------------------------

def jax_style(attribute: str):
    return resolve(f"{STYLES / 'jax_style.py'}:{attribute}")


@pytest.mark.parametrize(("attribute", "activation"), [
    ("implementation", "sigmoid"), ("relu_softplus", "relu/softplus"),
    ("wrong_backward", "sigmoid"),
])
def test_a_jax_predict_is_probed_for_sigma(attribute: str, activation: str) -> None:
    assert jax_style(attribute).capabilities.activations == (activation,)


def test_a_jax_function_read_by_its_predict_conforms() -> None:
    report = run_suite(jax_style("relu_softplus"), case="square")
    assert report.passed, _problems(report)


def test_a_jax_custom_vjp_with_a_wrong_backward_fails_bp1_and_bp2() -> None:
    report = run_suite(jax_style("wrong_backward"), only=["BP1", "BP2"], case="square")
    assert failed(report) == {"BP1", "BP2"}, _problems(report)


@pytest.mark.parametrize(("hidden", "output", "expected"), [
    ("jax.nn.gelu", "jax.nn.sigmoid", "gelu(approximate=tanh)/sigmoid"),  # JAX's default
    ("lambda z: jax.nn.gelu(z, approximate=False)", "lambda z: z", "gelu/identity"),
    ("lambda z: jax.nn.leaky_relu(z, 0.2)", "jax.nn.elu", "leaky_relu(negative_slope=0.2)/elu"),
    ("jax.nn.silu", "lambda z: jax.nn.softmax(z, axis=-1)", "silu/softmax"),
    ("jnp.tanh", "jax.nn.relu6", "tanh/relu6"),
])
def test_jax_nn_activations_are_read_with_their_parameters(hidden: str, output: str,
                                                           expected: str) -> None:
    import jax
    import jax.numpy as jnp

    from bpverify.conformance.protocol.frameworks import JaxFunction

    names = {"jax": jax, "jnp": jnp}
    f, g = eval(hidden, names), eval(output, names)  # our own literals

    def predict(params, X):
        for W, b in params[:-1]:
            X = f(X @ W + b)
        W, b = params[-1]
        return g(X @ W + b)

    def loss(params, X, Y):
        return 0.5 * ((predict(params, X) - Y) ** 2).sum()

    assert JaxFunction(loss, predict=predict).capabilities.activations == (expected,)


def test_a_jax_function_says_what_it_needs_to_know_sigma() -> None:
    import jax.numpy as jnp

    from bpverify.conformance.protocol.frameworks import JaxFunction

    def predict(params, X):
        for W, b in params:
            z = X @ W + b
            X = z * jnp.tanh(z)
        return X

    def loss(params, X, Y):
        return 0.5 * ((predict(params, X) - Y) ** 2).sum()

    with pytest.raises(ValueError, match="without predict|there is no predict: pass predict=, "
                                         "or declare σ: activation="):
        JaxFunction(loss)
    assert JaxFunction(loss, activation="relu/sigmoid").capabilities.activations == (
        "relu/sigmoid",)
    with pytest.raises(ValueError, match=r"JaxFunction: σ of layer 2: the function between .* "
                                         r"activation='NAME'"):
        JaxFunction(loss, predict=predict)


def test_tail_values_the_probe_reads_are_exact() -> None:
    """The JAX probe's readings through BP4 over BP3 (aˡ = ∂/∂wˡ⁺¹ ÷ ∂/∂bˡ⁺¹) against the
    function itself: within two rounding units, in the tails too."""
    from bpverify.conformance.protocol.frameworks import _JaxLayers
    from bpverify.reference.activation_families import FAMILIES

    impl = jax_style("relu_softplus")
    layers = _JaxLayers(impl, impl.predict)
    z = np.array([[-750.0, -25.0, 0.0, 1e-9, 25.0], [40.0, -40.0, 3.0, -3.0, 700.0]])
    hidden = layers.run(3, z[:, :5], 0)
    np.testing.assert_allclose(hidden, np.maximum(z, 0.0), rtol=4 * 2.0 ** -53, atol=0.0)
    out = layers.run(4, np.array([[-750.0, 25.0], [40.0, -3.0]]), 0)
    softplus = FAMILIES["softplus"]()
    np.testing.assert_allclose(out, softplus.f(np.array([[-750.0, 25.0], [40.0, -3.0]])),
                               rtol=4 * 2.0 ** -53, atol=0.0)
    assert math.isfinite(out.sum())


@requires_torch
@pytest.mark.parametrize("name", [
    "sigmoid", "tanh", "identity", "relu", "softplus", "softplus(threshold=20)",
    "softplus(beta=2,threshold=5)", "silu", "mish", "gelu", "gelu(approximate=tanh)", "selu",
    "softsign", "logsigmoid", "tanhshrink", "hardsigmoid", "hardswish", "relu6", "leaky_relu",
    "elu(alpha=0.5)", "celu(alpha=2)", "hardtanh(min_val=-2,max_val=3)",
    "threshold(threshold=0.5,value=-1)", "hardshrink(lambd=0.7)", "softshrink(lambd=0.3)",
])
def test_the_builtin_torch_implementation_computes_what_each_name_says(name: str) -> None:
    """σ by name in torch (``builtin._torch_activation``) read back by the probe as that name:
    the textbook softplus is not F.softplus (threshold 20)."""
    import torch

    from bpverify.conformance.protocol.identification import identify_layers
    from bpverify.conformance.specimens.builtin import _torch_activation

    function = _torch_activation(name)

    class Probe:
        widths = [3]

        def run(self, layer, Z, variant):
            return function(torch.from_numpy(Z)).numpy()

    assert identify_layers(Probe()) == [name]
