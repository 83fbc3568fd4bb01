"""Frameworks plug in through a helper each: a PyTorch module, a JAX function of a parameter pytree.

In your file::

    import torch
    from bpverify.conformance.protocol.frameworks import TorchModule

    def build(sizes):                       # Linear layers and elementwise activations
        layers = []
        for n_in, n_out in zip(sizes[:-1], sizes[1:]):
            layers += [torch.nn.Linear(n_in, n_out), torch.nn.Sigmoid()]
        return torch.nn.Sequential(*layers)      # or σ called in forward: torch.sigmoid(…)

    implementation = TorchModule(build, loss=torch.nn.MSELoss(),
                                 optimizer=lambda params, eta: torch.optim.SGD(params, lr=eta))

then ``bpverify check mymodel:implementation``. The helper reads σ of each layer from what the
module does to z (``identification``: probed between the Linear layers, so ``torch.sigmoid(
layer(x))`` in ``forward``, ``F.softplus(z, beta=2)`` and a custom module read as well as
``torch.nn.Sigmoid()``; ``activation=`` declares what the probe cannot tell), C and its
reduction from the loss (``MSELoss`` is the quadratic cost without the ½, averaged over every
entry; ``BCELoss`` the cross-entropy), and converts between the book's columns and the
framework's rows of examples. Neither torch nor JAX is imported until used.

Kept whole: the torch and JAX helpers share the probing of σ per layer and the conversion of
parameters.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from bpverify.conformance.protocol.adapters import (
    Capabilities,
    Gradient,
    Implementation,
    Params,
    Session,
    probe_sizes_at,
)
from bpverify.conformance.protocol.conventions import Conventions
from bpverify.conformance.protocol.identification import (
    LayerProbe,
    Unidentified,
    confirm_layer,
    identify_layers,
    layers_named,
)
from bpverify.oracles.cases import (
    activation_names,
    fixed_depth,
    layer_functions,
    layer_names,
    split_layers,
)
from bpverify.oracles.jax_gradient import compiled_gradient, precision
from bpverify.reference.activation_families import FAMILIES
from bpverify.reference.activations import Activation

TORCH_LOSSES = {"MSELoss": ("quadratic", "full"), "BCELoss": ("cross-entropy", "half"),
                "CrossEntropyLoss": ("categorical-cross-entropy", "half")}
"""Loss → (C, quadratic). CrossEntropyLoss takes the last Linear's output as logits: the softmax
is in the loss, so the network's output layer is a softmax layer."""
PROBE_DEPTH = 4
"""The network a build function (or a JAX predict) is probed at for its σ has two hidden layers,
so that σ per layer shows (a network whose hidden layers differ is then checked at this depth
only)."""


class TorchModule(Implementation):
    """A ``torch.nn.Module`` of ``Linear`` layers, each followed by an elementwise activation (or
    none: a linear neuron), with a loss and, for the SGD step, an optimizer factory
    ``optimizer(parameters, eta)``. σ per layer is probed on ``build`` at PROBE_DEPTH
    (``_TorchLayers``); ``activation=`` (a name, ``hidden/output`` or one per layer) declares
    it where the probe cannot tell, and is confirmed by the probe."""

    def __init__(self, build: Callable[[list[int]], Any], loss: Any,
                 optimizer: Callable[[Any, float], Any] | None = None, *,
                 activation: str | Sequence[str] | None = None, dtype: str = "float64",
                 name: str | None = None) -> None:
        self.build, self.loss, self.optimizer = build, loss, optimizer
        self.name = name or f"torch module {getattr(build, '__name__', 'build')}"
        probe = build(probe_sizes_at(PROBE_DEPTH))
        cost, quadratic = _torch_loss(loss)
        self.logits = cost == "categorical-cross-entropy"  # the softmax is inside the loss
        mean = "mean" if self.logits else "mean_all"  # CrossEntropyLoss averages over the batch
        reduction = getattr(loss, "reduction", "mean")
        self.conventions = Conventions(layout="rows", biases="flat", quadratic=quadratic,
                                       reduction={"mean": mean, "sum": "sum"}[reduction])
        layers = _TorchLayers(probe, probe_sizes_at(PROBE_DEPTH))
        names = activations_of(layers, "TorchModule", activation, _torch_hints(probe))
        if dtype == "float64":
            _float32_constants(layers, names)
        if self.logits:
            if names[-1] != "identity":
                raise ValueError(f"TorchModule: loss is CrossEntropyLoss, which applies the "
                                 f"softmax itself, but the module's last layer applies "
                                 f"{names[-1]}")
            names[-1] = "softmax"
        activation = layers_named(names)
        self.capabilities = Capabilities(feedforward=True, mini_batch=True,
                                         update=optimizer is not None,
                                         activations=(activation,), costs=(cost,), dtype=dtype)

    def _module(self, weights: Sequence[np.ndarray], biases: Sequence[np.ndarray]) -> Any:
        import torch

        module = self.build([weights[0].shape[1]] + [w.shape[0] for w in weights])
        module = module.to(getattr(torch, self.capabilities.dtype))
        self._assign(module, weights, biases)
        return module

    def _assign(self, module: Any, weights: Sequence[np.ndarray],
                biases: Sequence[np.ndarray]) -> None:
        import torch

        linears = _linears(module)
        with torch.no_grad():
            for layer, w, b in zip(linears, weights, biases, strict=True):
                layer.weight.copy_(torch.from_numpy(np.array(w)))
                layer.bias.copy_(torch.from_numpy(np.array(b[:, 0])))

    def _parameters(self, module: Any) -> Params:
        linears = _linears(module)
        return ([lin.weight.detach().numpy().copy() for lin in linears],
                [lin.bias.detach().numpy().copy()[:, None] for lin in linears])

    def _gradient(self, module: Any, X: np.ndarray, Y: np.ndarray) -> Gradient:
        import torch

        module.zero_grad()
        out = module(torch.from_numpy(self.conventions.examples_to_theirs(X)))
        self.loss(out, torch.from_numpy(self.conventions.examples_to_theirs(Y))).backward()
        linears = _linears(module)
        value = ([lin.bias.grad.numpy().copy() for lin in linears],
                 [lin.weight.grad.numpy().copy() for lin in linears])
        return self.conventions.gradient_from_theirs(value, X.shape[1], Y.shape[0])

    def _step(self, module: Any, mini_batch: list[tuple[np.ndarray, np.ndarray]],
              eta: float, optimizer: Any = None) -> Any:
        """One optimizer step on the mini-batch; the optimizer (new unless given, as a training
        loop keeps one: its momentum buffers are state) is returned."""
        assert self.optimizer is not None
        optimizer = optimizer or self.optimizer(module.parameters(), eta)
        optimizer.zero_grad()
        X = np.hstack([x for x, _ in mini_batch])
        Y = np.hstack([y for _, y in mini_batch])
        self._gradient(module, X, Y)
        optimizer.step()
        return optimizer

    def gradient(self, weights, biases, x, y, activation="sigmoid", cost="quadratic"):
        return self._gradient(self._module(weights, biases), x, y)

    def gradient_batch(self, weights, biases, X, Y, activation="sigmoid", cost="quadratic"):
        return self._gradient(self._module(weights, biases), X, Y)

    def _output(self, module: Any, x: np.ndarray) -> np.ndarray:
        """aᴸ: the module's output, through the loss's softmax where the loss takes logits."""
        import torch

        with torch.no_grad():
            out = module(torch.from_numpy(self.conventions.examples_to_theirs(x)))
            if self.logits:
                out = torch.softmax(out, dim=1)
        return self.conventions.examples_from_theirs(out.numpy())

    def feedforward(self, weights, biases, x):
        return self._output(self._module(weights, biases), x)

    def update(self, weights, biases, mini_batch, eta, lmbda=0.0, n=1):
        module = self._module(weights, biases)
        self._step(module, mini_batch, eta)
        return self._parameters(module)

    def session(self, weights: list[np.ndarray], biases: list[np.ndarray]) -> Session:
        return _ModuleSession(self, weights, biases)


class _ModuleSession(Session):
    """One module kept across calls."""

    def __init__(self, impl: TorchModule, weights: list[np.ndarray],
                 biases: list[np.ndarray]) -> None:
        self.impl = impl
        self.torch = impl
        self.module = impl._module(weights, biases)
        self.optimizer: Any = None

    def gradient(self, x: np.ndarray, y: np.ndarray) -> Gradient:
        return self.torch._gradient(self.module, x, y)

    def feedforward(self, x: np.ndarray) -> np.ndarray:
        return self.torch._output(self.module, x)

    def update(self, mini_batch: list[tuple[np.ndarray, np.ndarray]], eta: float,
               lmbda: float = 0.0, n: int = 1) -> None:
        self.optimizer = self.torch._step(self.module, mini_batch, eta, self.optimizer)

    def assign(self, weights: list[np.ndarray], biases: list[np.ndarray]) -> None:
        self.torch._assign(self.module, weights, biases)

    def parameters(self) -> Params:
        return self.torch._parameters(self.module)


def _linears(module: Any) -> list[Any]:
    import torch

    return [m for m in module.modules() if isinstance(m, torch.nn.Linear)]


class _TorchLayers(LayerProbe):
    """A module probed between its Linear layers: a forward hook on layer l's Linear replaces
    its output zˡ by the values asked for, and a forward pre-hook on the next Linear reads what
    reaches it (the module's output for the last layer), the input x drawn per variant. The
    module is made float64 and must call each Linear once, in the order they are registered,
    with no parameter besides their weights and biases."""

    def __init__(self, module: Any, sizes: Sequence[int]) -> None:
        import torch

        self.module, self.sizes = module.to(torch.float64), list(sizes)
        self.linears = _linears(module)
        if len(self.linears) != len(self.sizes) - 1:
            raise ValueError(f"TorchModule: build({self.sizes}) made a module of "
                             f"{len(self.linears)} torch.nn.Linear layers, expected "
                             f"{len(self.sizes) - 1} (one per layer 2..L; Linear layers are "
                             "what TorchModule reads w and b from)")
        if any(lin.bias is None for lin in self.linears):
            raise ValueError("TorchModule: a Linear layer has bias=False; the book's neurons "
                             "have biases")
        own = {id(p) for lin in self.linears for p in lin.parameters()}
        others = [n for n, p in module.named_parameters() if p.requires_grad and id(p) not in own]
        if others:
            raise ValueError(f"TorchModule: the module trains parameters besides its Linear "
                             f"layers' weights and biases: {others} (a PReLU's slope?); the "
                             "book's network has w and b only")
        self.widths = [lin.out_features for lin in self.linears]
        self._check_order()

    def _forward(self, X: np.ndarray) -> Any:
        import torch

        with torch.no_grad():
            return self.module(torch.from_numpy(X))

    def _check_order(self) -> None:
        calls: list[int] = []
        hooks = [lin.register_forward_pre_hook(lambda *_, i=i: calls.append(i))
                 for i, lin in enumerate(self.linears)]
        try:
            self._forward(np.zeros((2, self.sizes[0])))
        except Exception as error:  # the module's own code
            raise ValueError(f"TorchModule: the module built for sizes {self.sizes} raised "
                             f"{type(error).__name__}: {error} on a batch of 2 examples "
                             f"(its Linear layers, in the order registered, take "
                             f"{[lin.in_features for lin in self.linears]} inputs)") from None
        finally:
            for hook in hooks:
                hook.remove()
        if calls != list(range(len(self.linears))):
            raise ValueError(f"TorchModule: forward calls its Linear layers in the order "
                             f"{calls}, expected each once, in the order they are registered "
                             f"{list(range(len(self.linears)))} (the book's layers 2..L)")

    def slope(self, layer: int, z: float) -> float:
        """σ′(z) of ``layer`` as the module's backward computes it (autograd through the hooks)."""
        import torch

        injected = torch.full((1, self.widths[layer - 2]), z, dtype=torch.float64,
                              requires_grad=True)
        with torch.enable_grad():
            reached = self._reached(layer, injected, 0, grad=True)
            (gradient,) = torch.autograd.grad(reached.sum(), injected)
        return float(gradient[0, 0])

    def run(self, layer: int, Z: np.ndarray, variant: int) -> np.ndarray:
        import torch

        return self._reached(layer, torch.from_numpy(Z.copy()), variant).detach().numpy().copy()

    def _reached(self, layer: int, Z: Any, variant: int, grad: bool = False) -> Any:
        import torch

        i = layer - 2
        X = np.random.default_rng([variant, layer]).standard_normal((Z.shape[0], self.sizes[0]))
        seen: list[Any] = []

        def inject(_: Any, __: Any, output: Any) -> Any:
            if output.shape != Z.shape:
                raise Unidentified(layer, f"its Linear gave zˡ of shape {tuple(output.shape)} "
                                          f"for {Z.shape[0]} examples, expected "
                                          f"{tuple(Z.shape)}")
            return Z

        hooks = [self.linears[i].register_forward_hook(inject)]
        if i + 1 < len(self.linears):
            hooks.append(self.linears[i + 1].register_forward_pre_hook(
                lambda _, inputs: seen.append(inputs[0])))
        try:
            if grad:
                out = self.module(torch.from_numpy(X))
            else:
                out = self._forward(X)
        except Unidentified:
            raise
        except Exception as error:  # the module's own code, on values it may not expect
            raise Unidentified(layer, f"the module raised {type(error).__name__}: {error} with "
                                      "zˡ set to probe values") from None
        finally:
            for hook in hooks:
                hook.remove()
        reached = seen[0] if seen else out
        if not isinstance(reached, torch.Tensor):
            raise Unidentified(layer, f"the module gave {type(reached).__name__}, expected a "
                                      "tensor")
        return reached


TORCH_FLOAT32_CONSTANTS = {"hardsigmoid": (1.0, 1.0 / 6.0)}
"""σ whose PyTorch backward multiplies by a constant rounded to float32 even in float64 (σ′(z) at
z, and the constant): ``Hardsigmoid``'s 1/6 is 0.16666667163…, 3e-8 from 1/6, so its float64
gradient is not the derivative of its own forward (torch 2.13; measured)."""


def _float32_constants(layers: _TorchLayers, names: Sequence[str]) -> None:
    """Decline, with the reason and the way to check it, a float64 module whose σ is PyTorch's
    own with a float32 constant in its backward (``TORCH_FLOAT32_CONSTANTS``); a σ′ written by
    the user that is wrong otherwise is left to the checks, which fail it."""
    for layer, name in enumerate(names, start=2):
        if name in TORCH_FLOAT32_CONSTANTS:
            z, constant = TORCH_FLOAT32_CONSTANTS[name]
            slope = layers.slope(layer, z)
            if slope != constant and slope == float(np.float32(constant)):
                raise ValueError(
                    f"TorchModule: layer {layer} applies PyTorch's {name}, whose backward uses "
                    f"{constant!r} rounded to float32 ({slope!r}) even in float64: its float64 "
                    f"gradient is {abs(slope / constant - 1):.1e} from the derivative of its own "
                    "forward, which no float64 check can pass. Check it at float32's accuracy: "
                    "TorchModule(..., dtype='float32')")


def _torch_hints(module: Any) -> list[Activation]:
    """σ as the module's activation modules' attributes state it (``Softplus(beta=2,
    threshold=5)``): candidates the probe confirms or not, never taken on trust."""
    import torch.nn as nn

    readers: list[tuple[type, Callable[[Any], dict[str, Any]], str]] = [
        (nn.Softplus, lambda m: {"beta": m.beta, "threshold": m.threshold}, "softplus"),
        (nn.LeakyReLU, lambda m: {"negative_slope": m.negative_slope}, "leaky_relu"),
        (nn.ELU, lambda m: {"alpha": m.alpha}, "elu"),
        (nn.CELU, lambda m: {"alpha": m.alpha}, "celu"),
        (nn.Hardtanh, lambda m: {"min_val": m.min_val, "max_val": m.max_val}, "hardtanh"),
        (nn.Threshold, lambda m: {"threshold": m.threshold, "value": m.value}, "threshold"),
        (nn.Hardshrink, lambda m: {"lambd": m.lambd}, "hardshrink"),
        (nn.Softshrink, lambda m: {"lambd": m.lambd}, "softshrink"),
        (nn.GELU, lambda m: {"approximate": m.approximate}, "gelu"),
        (nn.RReLU, lambda m: {"negative_slope": (m.lower + m.upper) / 2}, "leaky_relu"),
    ]
    hints = []
    for child in module.modules():
        for kind, read, family in readers:
            if isinstance(child, kind):
                try:
                    values = {k: v if isinstance(v, str) else float(v)
                              for k, v in read(child).items()}
                    hints.append(FAMILIES[family](**values))
                except (AttributeError, TypeError, ValueError):
                    pass
    return hints


def activations_of(probe: LayerProbe, helper: str, declared: str | Sequence[str] | None,
                   hints: Sequence[Activation] = ()) -> list[str]:
    """The name of σ for each layer 2..L of the probe network, probed (``identification``) or
    declared and confirmed by the probe; a clear refusal, naming the declaration, where
    neither works."""
    L = len(probe.widths) + 1
    try:
        if declared is None:
            return identify_layers(probe, hints)
        names = declared_layers(declared, helper, L)
        for layer, function in enumerate(layer_functions(",".join(names) + ",", L), start=2):
            confirm_layer(probe, layer, function, output=layer == L)
        return names
    except Unidentified as unknown:
        raise ValueError(f"{helper}: σ of {unknown}. {DECLARE}") from None


DECLARE = ("Declare σ where the probe cannot tell it (a parameter it cannot see, PyTorch's σ′ at "
           "a kink): activation='NAME', 'HIDDEN/OUTPUT' or a list of names, one per layer "
           "2..L, each one bpverify knows: "
           + ", ".join(n for n in activation_names() if n != "cubic") + ", or a family "
           "with its parameters: " + ", ".join(f"{f.name}({','.join(k for k, _ in f.defaults)})"
                                               for f in FAMILIES.values())
           + " (README, \"Frameworks\")")
"""What a refusal offers: the declaration and the names it takes."""


def declared_layers(declared: str | Sequence[str], helper: str, L: int) -> list[str]:
    """A declared σ (``activation=``: one name, ``hidden/output``, or one per layer 2..L) as
    one name per layer of the probe network."""
    if isinstance(declared, str):
        text = declared
    elif isinstance(declared, Sequence) and declared and all(
            isinstance(n, str) and n for n in declared):
        if len(declared) != L - 1:
            raise ValueError(f"{helper}: activation= names {len(declared)} layers, expected one "
                             f"per layer 2..L of the network it is probed at ({L - 1})")
        text = ",".join(declared)
    else:
        raise ValueError(f"{helper}: activation= is {declared!r}, expected a name such as "
                         "'tanh', 'relu/sigmoid' (hidden/output) or a list of names, one per "
                         "layer 2..L")
    try:
        names = layer_names(text, L) if len(split_layers(text)) == 1 else split_layers(text)
        layer_functions(",".join(names) + ",", L)
    except ValueError as bad:
        raise ValueError(f"{helper}: activation= {bad}") from None
    return names


def _torch_loss(loss: Any) -> tuple[str, str]:
    """(cost, quadratic) of a torch loss: MSELoss is Σ(a − y)² averaged, BCELoss cross-entropy."""
    kind = type(loss).__name__
    if kind not in TORCH_LOSSES:
        raise ValueError(f"loss is {kind}, expected one of {sorted(TORCH_LOSSES)}")
    if getattr(loss, "reduction", "mean") not in ("mean", "sum"):
        raise ValueError(f"loss reduction is {loss.reduction!r}, expected 'mean' or 'sum'")
    return TORCH_LOSSES[kind]


class JaxFunction(Implementation):
    """A JAX loss of a parameter pytree: ``loss(params, X, Y)`` with ``params`` a list of
    ``(W, b)`` pairs, one per layer 2..L, in the ``conventions`` given (rows of examples,
    weights (n_in, n_out) and flat biases by default, as most JAX code has them); ∇ by
    ``jax.grad``, the SGD step params − η·∇loss. σ of each layer is probed through
    ``predict(params, X)`` (``_JaxLayers``), or declared (``activation=``): without ``predict``
    it must be."""

    def __init__(self, loss: Callable[..., Any], *,
                 activation: str | Sequence[str] | None = None, cost: str = "quadratic",
                 conventions: Conventions | None = None,
                 predict: Callable[..., Any] | None = None, dtype: str = "float64",
                 name: str | None = None) -> None:
        self.loss, self.predict = loss, predict
        self._compiled: Any = None  # jax.jit(jax.grad(loss)), compiled once per shape
        self.conventions = conventions or Conventions(layout="rows", weights="in_out",
                                                      biases="flat", reduction="mean")
        self.name = name or f"JAX function {getattr(loss, '__name__', 'loss')}"
        if predict is not None:
            activation = layers_named(activations_of(_JaxLayers(self, predict), "JaxFunction",
                                                     activation))
        elif activation is None:
            raise ValueError("JaxFunction: σ is read from predict(params, X), and there is no "
                             "predict: pass predict=, or declare σ: activation='sigmoid' "
                             "('relu/sigmoid' for hidden/output, or a list, one per layer 2..L)")
        else:
            activation = declared_name(activation, "JaxFunction")
        self.capabilities = Capabilities(feedforward=predict is not None, mini_batch=True,
                                         update=True, activations=(activation,), costs=(cost,),
                                         dtype=dtype)

    def _params(self, weights: Sequence[np.ndarray], biases: Sequence[np.ndarray]) -> Any:
        import jax.numpy as jnp

        c = self.conventions
        return [(jnp.asarray(c.weight_to_theirs(w)), jnp.asarray(c.bias_to_theirs(b)))
                for w, b in zip(weights, biases, strict=True)]

    def _grad(self, weights: Sequence[np.ndarray], biases: Sequence[np.ndarray], X: np.ndarray,
              Y: np.ndarray) -> Any:
        c = self.conventions
        if self._compiled is None:
            self._compiled = compiled_gradient(self.loss)
        with precision(self.capabilities.dtype) as jax:
            jnp = jax.numpy
            grads = self._compiled(self._params(weights, biases),
                                   jnp.asarray(c.examples_to_theirs(X)),
                                   jnp.asarray(c.examples_to_theirs(Y)))
            return [(np.asarray(gw), np.asarray(gb)) for gw, gb in grads]

    def gradient(self, weights, biases, x, y, activation="sigmoid", cost="quadratic"):
        return self.gradient_batch(weights, biases, x, y)

    def gradient_batch(self, weights, biases, X, Y, activation="sigmoid", cost="quadratic"):
        grads = self._grad(weights, biases, X, Y)
        value = ([gb for _, gb in grads], [gw for gw, _ in grads])
        return self.conventions.gradient_from_theirs(value, X.shape[1], Y.shape[0])

    def feedforward(self, weights, biases, x):
        assert self.predict is not None
        with precision(self.capabilities.dtype) as jax:
            jnp = jax.numpy
            out = self.predict(self._params(weights, biases),
                               jnp.asarray(self.conventions.examples_to_theirs(x)))
            return self.conventions.examples_from_theirs(np.asarray(out))

    def update(self, weights, biases, mini_batch, eta, lmbda=0.0, n=1):
        X = np.hstack([x for x, _ in mini_batch])
        Y = np.hstack([y for _, y in mini_batch])
        c = self.conventions
        grads = self._grad(weights, biases, X, Y)
        return ([w - eta * c.weight_from_theirs(gw) for w, (gw, _) in zip(weights, grads,
                                                                             strict=True)],
                [b - eta * c.bias_from_theirs(gb) for b, (_, gb) in zip(biases, grads,
                                                                          strict=True)])


class _JaxLayers(LayerProbe):
    """A JAX ``predict(params, X)`` probed on the probe network, one example at a time (vmapped,
    jitted once per batch size): zˡ = bˡ exactly, with wˡ = 0 (wˡaˡ⁻¹ = 0). The output layer is
    read from predict itself; a hidden layer l by the book's BP4 over BP3,
    aˡₖ = (∂s/∂wˡ⁺¹ⱼₖ) / (∂s/∂bˡ⁺¹ⱼ) for s = Σ aᴸ, with wˡ⁺¹ = 0 (so nothing after layer l
    depends on aˡ, and δˡ⁺¹ⱼ is the same in every reading), at the j where |δˡ⁺¹ⱼ| is largest.
    JAX's own differentiation of the product wˡ⁺¹aˡ makes the ratio exact to rounding, whatever
    the layers after it compute."""

    NEXT_BIASES = (2.9, -1.7, 0.6, -3.4, 5.3, -0.35, 1.45, -7.1)
    """The biases of every layer but the one probed, with small weights (0.1/√n): zᵏ near these
    values after layer l, spread so that some σ′(zᵏⱼ) ≠ 0 in each layer (a ReLU's or a ReLU6's
    too), and δˡ⁺¹ with it."""

    def __init__(self, impl: JaxFunction, predict: Callable[..., Any]) -> None:
        self.impl, self.predict = impl, predict
        self.sizes = probe_sizes_at(PROBE_DEPTH)
        self.widths = self.sizes[1:]
        rng = np.random.default_rng(PROBE_DEPTH)
        self.weights = [0.1 * rng.standard_normal((n, p)) / np.sqrt(p)
                        for p, n in zip(self.sizes[:-1], self.sizes[1:], strict=True)]
        self.biases = [np.resize(np.array(self.NEXT_BIASES), n)[:, None] for n in self.sizes[1:]]
        self._compiled: dict[int, Any] = {}

    def _bias(self, b: Any) -> Any:
        """A traced bias vector (n,) in their shape."""
        return {"column": b[:, None], "flat": b, "row": b[None, :]}[self.impl.conventions.biases]

    def _reader(self, layer: int) -> Any:
        import jax
        import jax.numpy as jnp

        c, i = self.impl.conventions, layer - 2
        last = i == len(self.widths) - 1
        fixed = [(jnp.asarray(c.weight_to_theirs(w)), jnp.asarray(c.bias_to_theirs(b)))
                 for w, b in zip(self.weights, self.biases, strict=True)]
        zero = jnp.asarray(c.weight_to_theirs(np.zeros_like(self.weights[i])))

        def params(z: Any, w_next: Any = None, b_next: Any = None) -> list[Any]:
            chosen = list(fixed)
            chosen[i] = (zero, self._bias(z))
            if w_next is not None:
                chosen[i + 1] = (w_next, b_next)
            return chosen

        def example(x: Any) -> Any:
            return x[None, :] if c.layout == "rows" else x[:, None]

        def output(a: Any) -> Any:
            return a[0, :] if c.layout == "rows" else a[:, 0]

        if last:
            def one(z: Any, x: Any) -> Any:
                return output(self.predict(params(z), example(x))), jnp.ones(())
        else:
            n_next = self.widths[i + 1]
            spread = np.resize(np.array(self.NEXT_BIASES), n_next)[:, None]
            w_next = jnp.asarray(c.weight_to_theirs(np.zeros((n_next, self.widths[i]))))
            b_next = jnp.asarray(c.bias_to_theirs(spread))

            def one(z: Any, x: Any) -> Any:
                def s(w: Any, b: Any) -> Any:
                    return jnp.sum(self.predict(params(z, w, b), example(x)))
                gw, gb = jax.grad(s, argnums=(0, 1))(w_next, b_next)
                gw = gw.T if c.weights == "in_out" else gw
                gb = jnp.ravel(gb)
                j = jnp.argmax(jnp.abs(gb))
                return gw[j, :] / gb[j], jnp.abs(gb[j])

        return jax.jit(jax.vmap(one))

    ROWS = 128
    """Examples per call: every call is padded to it, so predict is compiled once a layer."""

    def run(self, layer: int, Z: np.ndarray, variant: int) -> np.ndarray:
        return np.vstack([self._rows(layer, Z[start:start + self.ROWS], variant)
                          for start in range(0, Z.shape[0], self.ROWS)])

    def _rows(self, layer: int, Z: np.ndarray, variant: int) -> np.ndarray:
        m = Z.shape[0]
        X = np.random.default_rng([variant, layer]).standard_normal((self.ROWS, self.sizes[0]))
        padded = np.zeros((self.ROWS, Z.shape[1]))
        padded[:m] = Z
        try:
            with precision("float64") as jax:
                if layer not in self._compiled:
                    self._compiled[layer] = self._reader(layer)
                A, delta = self._compiled[layer](jax.numpy.asarray(padded),
                                                 jax.numpy.asarray(X))
                A, delta = np.asarray(A)[:m], np.asarray(delta)[:m]
        except Exception as error:  # predict's own code, traced on the probe network
            raise Unidentified(layer, f"predict raised {type(error).__name__}: {error} on the "
                                      f"probe network {self.sizes}") from None
        if not np.all(delta > 0):
            raise Unidentified(layer, "every ∂(Σ aᴸ)/∂bˡ⁺¹ⱼ is 0 on the probe network (σ′ = 0 at "
                                      f"zˡ⁺¹ = {self.NEXT_BIASES[:self.widths[layer - 1]]} "
                                      "in the layers after?), so aˡ cannot be read from them")
        return A


def declared_name(declared: str | Sequence[str], helper: str) -> str:
    """A declared σ, checked but not probed, as the suite names it (a list fixes the depth)."""
    if isinstance(declared, str):
        text = declared
    else:
        text = ",".join(declared) + ("," if len(declared) == 1 else "")
    try:
        layer_functions(text, fixed_depth(text) or 3)
    except ValueError as bad:
        raise ValueError(f"{helper}: activation= {bad}") from None
    return text
