"""Implementations that ship with the suite, must pass it, and show how to plug in.

``bpverify check bpverify.conformance.specimens.builtin:reference_matrix`` (likewise ``reference_loop``,
``reference_sigma_prime``, ``jax_autodiff``, ``jax_autodiff_float32`` and, with the ``torch``
extra, ``torch_autograd``).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import Any

import numpy as np

from bpverify.conformance.protocol.adapters import Capabilities, Gradient, Implementation, Params
from bpverify.oracles.cases import activation_parameters, named_activation
from bpverify.oracles.jax_gradient import compiled_gradient, precision
from bpverify.reference import backpropagation, gradient_descent, sigma_prime
from bpverify.reference.costs import BUILTIN_COSTS
from bpverify.reference.equations import feedforward_layers

EVERYTHING = Capabilities(feedforward=True, mini_batch=True, update=True, exposes_delta=True,
                          activations=("sigmoid", "tanh", "identity", "relu", "softplus"),
                          costs=("quadratic", "cross-entropy"))


class ReferenceImplementation(Implementation):
    """The numpy reference through the adapter protocol; ``form`` picks how ∇C is computed."""

    capabilities = EVERYTHING

    def __init__(self, form: str = "matrix") -> None:
        if form not in ("matrix", "loop", "sigma-prime"):
            raise ValueError(f"form is {form!r}, expected 'matrix', 'loop' or 'sigma-prime'")
        self.form = form
        self.name = f"reference ({form})"

    def _result(self, weights, biases, x, y, activation, cost):
        act, c = named_activation(activation), BUILTIN_COSTS[cost]
        if self.form == "sigma-prime":
            return sigma_prime.backprop_sigma_prime(weights, biases, x, y, act, c)
        return backpropagation.backprop(weights, biases, x, y, act, c)

    def gradient(self, weights, biases, x, y, activation="sigmoid", cost="quadratic") -> Gradient:
        r = self._result(weights, biases, x, y, activation, cost)
        return r.nabla_b, r.nabla_w

    def deltas(self, weights, biases, x, y, activation="sigmoid", cost="quadratic"):
        return self._result(weights, biases, x, y, activation, cost).deltas

    def gradient_batch(self, weights, biases, X, Y, activation="sigmoid", cost="quadratic") -> Gradient:
        act, c = named_activation(activation), BUILTIN_COSTS[cost]
        if self.form == "loop":
            return backpropagation.backprop_loop(weights, biases, X, Y, act, c)
        r = backpropagation.backprop_matrix(weights, biases, X, Y, act, c)
        return r.nabla_b, r.nabla_w

    def feedforward(self, weights, biases, x):
        return feedforward_layers(weights, biases, x, [named_activation("sigmoid")] * len(weights))[1][-1]

    def update(self, weights, biases, mini_batch, eta, lmbda=0.0, n=1) -> Params:
        return gradient_descent.update_mini_batch(weights, biases, mini_batch, eta)


class AutodiffImplementation(Implementation):
    """A framework that differentiates the whole cost: ``gradient_batch`` is all it writes; one
    example is a batch of one, and the SGD step is the book's rule on its gradient."""

    def gradient(self, weights, biases, x, y, activation="sigmoid", cost="quadratic") -> Gradient:
        return self.gradient_batch(weights, biases, x, y, activation, cost)

    def feedforward(self, weights, biases, x):
        return feedforward_layers(weights, biases, x, [named_activation("sigmoid")] * len(weights))[1][-1]

    def update(self, weights, biases, mini_batch, eta, lmbda=0.0, n=1) -> Params:
        X = np.hstack([x for x, _ in mini_batch])
        Y = np.hstack([y for _, y in mini_batch])
        nb, nw = self.gradient_batch(weights, biases, X, Y)
        m = len(mini_batch)
        return ([w - eta / m * g for w, g in zip(weights, nw, strict=True)],
                [b - eta / m * g for b, g in zip(biases, nb, strict=True)])


class JaxImplementation(AutodiffImplementation):
    """∇C by ``jax.jit(jax.grad)`` of the cost, in float64 or float32: a framework plugged in."""

    def __init__(self, dtype: str = "float64") -> None:
        self.name = f"JAX autodiff ({dtype})"
        self.capabilities = Capabilities(feedforward=True, mini_batch=True, update=True,
                                         activations=EVERYTHING.activations,
                                         costs=EVERYTHING.costs, dtype=dtype)

    def gradient_batch(self, weights, biases, X, Y, activation="sigmoid", cost="quadratic") -> Gradient:
        dtype = self.capabilities.dtype
        with precision(dtype) as jax:
            jnp = jax.numpy
            params = ([jnp.asarray(w, dtype) for w in weights], [jnp.asarray(b, dtype) for b in biases])
            gw, gb = jitted_gradient(activation, cost)(params, jnp.asarray(X, dtype),
                                                        jnp.asarray(Y, dtype))
            return [np.asarray(g) for g in gb], [np.asarray(g) for g in gw]


@functools.cache
def jitted_gradient(activation: str, cost: str):
    """One jitted ∂C/∂(w, b) per activation and cost, so JAX compiles once per shape."""
    act, c = named_activation(activation), BUILTIN_COSTS[cost]

    def loss(params, X, Y):
        ws, bs = params
        _, acts = feedforward_layers(ws, bs, X, [act] * len(ws))
        return c.value(acts[-1], Y)

    return compiled_gradient(loss)


def reference_matrix() -> Implementation:
    return ReferenceImplementation("matrix")


def reference_loop() -> Implementation:
    return ReferenceImplementation("loop")


def reference_sigma_prime() -> Implementation:
    return ReferenceImplementation("sigma-prime")


def jax_autodiff() -> Implementation:
    return JaxImplementation("float64")


def jax_autodiff_float32() -> Implementation:
    return JaxImplementation("float32")


class TorchImplementation(AutodiffImplementation):
    """∇C by PyTorch autograd in float64 (optional: ``pip install 'bpverify[torch]'``)."""

    name = "PyTorch autograd (float64)"
    capabilities = Capabilities(feedforward=True, mini_batch=True, update=True,
                                activations=EVERYTHING.activations, costs=EVERYTHING.costs)

    def gradient_batch(self, weights, biases, X, Y, activation="sigmoid", cost="quadratic") -> Gradient:
        import torch

        ws = [torch.tensor(w, dtype=torch.float64, requires_grad=True) for w in weights]
        bs = [torch.tensor(b, dtype=torch.float64, requires_grad=True) for b in biases]
        a, y = torch.tensor(X, dtype=torch.float64), torch.tensor(Y, dtype=torch.float64)
        f = _torch_activation(activation)
        for w, b in zip(ws, bs, strict=True):
            a = f(w @ a + b)
        if cost == "quadratic":
            loss = 0.5 * ((a - y) ** 2).sum()
        else:
            loss = -(torch.xlogy(y, a) + torch.xlogy(1 - y, 1 - a)).sum()
        grads = torch.autograd.grad(loss, ws + bs)
        n = len(ws)
        return ([g.numpy() for g in grads[n:]], [g.numpy() for g in grads[:n]])



def _torch_activation(name: str):
    """σ by name as PyTorch computes it: ``torch.nn.functional`` with the name's parameters
    (``softplus(beta=2,threshold=5)`` is ``F.softplus(z, beta=2, threshold=5)``); the textbook
    softplus (no threshold) is ln(e^0 + e^(βz))/β by ``torch.logaddexp``, which neither
    overflows nor, as F.softplus does above its threshold 20, returns z itself."""
    import torch
    import torch.nn.functional as F

    family, parameters = activation_parameters(named_activation(name).name)

    def softplus(z, beta=1.0, threshold=math.inf):
        if math.isfinite(threshold):
            return F.softplus(z, beta=beta, threshold=threshold)
        return torch.logaddexp(beta * z, torch.zeros_like(z)) / beta

    functions: dict[str, Callable[..., Any]] = {
        "sigmoid": torch.sigmoid, "tanh": torch.tanh, "identity": lambda z: z,
        "relu": torch.relu, "softplus": softplus, "silu": F.silu, "mish": F.mish,
        "gelu": lambda z, approximate="none": F.gelu(z, approximate=approximate),
        "selu": F.selu, "softsign": F.softsign, "logsigmoid": F.logsigmoid,
        "tanhshrink": F.tanhshrink, "hardsigmoid": F.hardsigmoid, "hardswish": F.hardswish,
        "relu6": F.relu6,
        "leaky_relu": lambda z, negative_slope=0.01: F.leaky_relu(z, negative_slope),
        "elu": lambda z, alpha=1.0: F.elu(z, alpha), "celu": lambda z, alpha=1.0: F.celu(z, alpha),
        "hardtanh": lambda z, min_val=-1.0, max_val=1.0: F.hardtanh(z, min_val, max_val),
        "threshold": lambda z, threshold=0.0, value=0.0: F.threshold(z, threshold, value),
        "hardshrink": lambda z, lambd=0.5: F.hardshrink(z, lambd),
        "softshrink": lambda z, lambd=0.5: F.softshrink(z, lambd),
    }
    function = functions[family]
    return lambda z: function(z, **parameters)


def torch_autograd() -> Implementation:
    return TorchImplementation()
