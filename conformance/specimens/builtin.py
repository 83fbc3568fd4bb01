"""Implementations that ship with the suite, must pass it, and show how to plug in.

``bpverify check bpverify.conformance.specimens.builtin:reference_matrix`` (likewise ``reference_loop``,
``reference_sigma_prime``, ``jax_autodiff``, ``jax_autodiff_float32`` and, with the ``torch``
extra, ``torch_autograd``).
"""

from __future__ import annotations

import functools

import numpy as np

from bpverify.conformance.protocol.adapters import Capabilities, Gradient, Implementation, Params
from bpverify.oracles.cases import named_activation
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
    import torch

    return {"sigmoid": torch.sigmoid, "tanh": torch.tanh, "identity": lambda z: z,
            "relu": torch.relu,  # softplus as declared, ln(1 + e^z) (F.softplus is z past z = 20)
            "softplus": lambda z: torch.logaddexp(z, torch.zeros_like(z))}[name]


def torch_autograd() -> Implementation:
    return TorchImplementation()
