"""Frameworks plug in through a helper each: a PyTorch module, a JAX function of a parameter pytree.

In your file::

    import torch
    from bpverify.conformance.protocol.frameworks import TorchModule

    def build(sizes):                       # Linear layers and elementwise activations
        layers = []
        for n_in, n_out in zip(sizes[:-1], sizes[1:]):
            layers += [torch.nn.Linear(n_in, n_out), torch.nn.Sigmoid()]
        return torch.nn.Sequential(*layers)

    implementation = TorchModule(build, loss=torch.nn.MSELoss(),
                                 optimizer=lambda params, eta: torch.optim.SGD(params, lr=eta))

then ``bpverify check mymodel:implementation``. The helper reads σ of each layer from the
module, C and its reduction from the loss (``MSELoss`` is the quadratic cost without the ½,
averaged over every entry; ``BCELoss`` the cross-entropy), and converts between the book's
columns and the framework's rows of examples. Neither torch nor JAX is imported until used.
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
from bpverify.oracles.jax_gradient import compiled_gradient, precision

TORCH_ACTIVATIONS = {"Sigmoid": "sigmoid", "Tanh": "tanh", "ReLU": "relu", "Identity": "identity",
                     "Softplus": "softplus"}
TORCH_LOSSES = {"MSELoss": ("quadratic", "full"), "BCELoss": ("cross-entropy", "half"),
                "CrossEntropyLoss": ("categorical-cross-entropy", "half")}
"""Loss → (C, quadratic). CrossEntropyLoss takes the last Linear's output as logits: the softmax
is in the loss, so the network's output layer is a softmax layer."""
TORCH_PROBE_DEPTH = 4
"""The module a build function is probed at for its σ has two hidden layers, so that σ per
layer shows (a module whose hidden layers differ is then checked at this depth only)."""


class TorchModule(Implementation):
    """A ``torch.nn.Module`` of ``Linear`` layers, each followed by an elementwise activation (or
    none: a linear neuron), with a loss and, for the SGD step, an optimizer factory
    ``optimizer(parameters, eta)``."""

    def __init__(self, build: Callable[[list[int]], Any], loss: Any,
                 optimizer: Callable[[Any, float], Any] | None = None, *,
                 dtype: str = "float64", name: str | None = None) -> None:
        self.build, self.loss, self.optimizer = build, loss, optimizer
        self.name = name or f"torch module {getattr(build, '__name__', 'build')}"
        probe = build(probe_sizes_at(TORCH_PROBE_DEPTH))
        cost, quadratic = _torch_loss(loss)
        self.logits = cost == "categorical-cross-entropy"  # the softmax is inside the loss
        mean = "mean" if self.logits else "mean_all"  # CrossEntropyLoss averages over the batch
        reduction = getattr(loss, "reduction", "mean")
        self.conventions = Conventions(layout="rows", biases="flat", quadratic=quadratic,
                                       reduction={"mean": mean, "sum": "sum"}[reduction])
        activation = _torch_activations(probe)
        if self.logits:
            separator = "," if "," in activation else "/"
            hidden, _, output = activation.rpartition(separator)
            if output != "identity":
                raise ValueError(f"loss is CrossEntropyLoss, which applies the softmax itself, "
                                 f"but the module's last layer applies {output}")
            activation = f"{hidden or 'identity'}{separator}softmax"
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


def _torch_activations(module: Any) -> str:
    """``σ``, ``hidden/output`` or σ per layer (``tanh,relu,sigmoid``) from the modules after
    each Linear (none: a linear neuron)."""
    import torch

    found: list[str] = []
    children = [m for m in module.modules() if not list(m.children())]
    for i, child in enumerate(children):
        if isinstance(child, torch.nn.Linear):
            following = children[i + 1] if i + 1 < len(children) else None
            kind = type(following).__name__ if following is not None else "Identity"
            if isinstance(following, torch.nn.Linear):
                kind = "Identity"
            if kind not in TORCH_ACTIVATIONS:
                raise ValueError(f"module layer {len(found) + 2} is followed by {kind}, expected "
                                 f"one of {sorted(TORCH_ACTIVATIONS)} (elementwise activations)")
            found.append(TORCH_ACTIVATIONS[kind])
    hidden, output = found[:-1], found[-1]
    if len(set(hidden)) > 1:
        return ",".join(found)
    return output if not hidden or hidden[0] == output else f"{hidden[0]}/{output}"


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
    ``jax.grad``, the SGD step params − η·∇loss."""

    def __init__(self, loss: Callable[..., Any], *, activation: str = "sigmoid",
                 cost: str = "quadratic", conventions: Conventions | None = None,
                 predict: Callable[..., Any] | None = None, dtype: str = "float64",
                 name: str | None = None) -> None:
        self.loss, self.predict = loss, predict
        self._compiled: Any = None  # jax.jit(jax.grad(loss)), compiled once per shape
        self.conventions = conventions or Conventions(layout="rows", weights="in_out",
                                                      biases="flat", reduction="mean")
        self.name = name or f"JAX function {getattr(loss, '__name__', 'loss')}"
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
