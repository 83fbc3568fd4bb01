"""How the suite talks to an implementation: the adapter protocol and its capabilities.

Two ways in:

* a class with the book's interface plugs in as it is (``BookClassAdapter``): the suite
  calls ``Cls(sizes)``, replaces ``.weights`` and ``.biases`` with its own float arrays,
  calls ``.backprop(x, y)`` and, when present, ``.feedforward(a)``,
  ``.update_mini_batch(mini_batch, eta)`` and ``.backprop_matrix(X, Y)``;
* anything else subclasses ``Implementation`` and declares its ``Capabilities``.

A class may declare more through a dict attribute ``bpverify_capabilities``, e.g.
``{"dtype": "float32"}``. Undeclared capabilities are skipped, with the reason.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from bpverify.conformance.loading import load

Gradient = tuple[list[np.ndarray], list[np.ndarray]]
Params = tuple[list[np.ndarray], list[np.ndarray]]


@dataclass(frozen=True)
class Capabilities:
    """What an implementation supports; the suite checks exactly these."""

    feedforward: bool = False
    mini_batch: bool = False
    update: bool = False
    exposes_delta: bool = False
    activations: tuple[str, ...] = ("sigmoid",)
    costs: tuple[str, ...] = ("quadratic",)
    dtype: str = "float64"

    def describe(self) -> str:
        flags = [name for name in ("feedforward", "mini_batch", "update", "exposes_delta")
                 if getattr(self, name)]
        return (f"dtype={self.dtype} activations={list(self.activations)} "
                f"costs={list(self.costs)} api={flags}")


class Implementation:
    """The adapter protocol. ``gradient`` is required; the rest as ``capabilities`` declares.

    Every method receives fresh arrays of the declared dtype in the book's shapes and
    must return ∂C/∂b, ∂C/∂w per layer 2..L (summed over the columns of a batch).
    """

    name: str = "implementation"
    capabilities: Capabilities = Capabilities()

    def gradient(self, weights: list[np.ndarray], biases: list[np.ndarray], x: np.ndarray,
                 y: np.ndarray, activation: str = "sigmoid", cost: str = "quadratic") -> Gradient:
        raise NotImplementedError

    def gradient_batch(self, weights: list[np.ndarray], biases: list[np.ndarray], X: np.ndarray,
                       Y: np.ndarray, activation: str = "sigmoid",
                       cost: str = "quadratic") -> Gradient:
        raise NotImplementedError

    def deltas(self, weights: list[np.ndarray], biases: list[np.ndarray], x: np.ndarray,
               y: np.ndarray, activation: str = "sigmoid", cost: str = "quadratic"
               ) -> list[np.ndarray]:
        raise NotImplementedError

    def feedforward(self, weights: list[np.ndarray], biases: list[np.ndarray],
                    x: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def update(self, weights: list[np.ndarray], biases: list[np.ndarray],
               mini_batch: list[tuple[np.ndarray, np.ndarray]], eta: float) -> Params:
        raise NotImplementedError

    def session(self, weights: list[np.ndarray], biases: list[np.ndarray]) -> Session:
        """One network that lives across calls (the ``state`` check): stateless here."""
        return Session(self, weights, biases)


class Session:
    """A network kept between calls: its parameters change by ``assign`` and ``update`` only.

    For an ``Implementation`` the parameters are held here and every call is stateless; a
    book-style class keeps one object, so whatever it remembers between calls is seen.
    """

    def __init__(self, impl: Implementation, weights: list[np.ndarray],
                 biases: list[np.ndarray]) -> None:
        self.impl = impl
        self.weights, self.biases = list(weights), list(biases)

    def gradient(self, x: np.ndarray, y: np.ndarray) -> Gradient:
        return self.impl.gradient(self.weights, self.biases, x, y)

    def feedforward(self, x: np.ndarray) -> np.ndarray:
        return self.impl.feedforward(self.weights, self.biases, x)

    def update(self, mini_batch: list[tuple[np.ndarray, np.ndarray]], eta: float) -> None:
        self.weights, self.biases = self.impl.update(self.weights, self.biases, mini_batch, eta)

    def assign(self, weights: list[np.ndarray], biases: list[np.ndarray]) -> None:
        self.weights, self.biases = list(weights), list(biases)

    def parameters(self) -> Params:
        return list(self.weights), list(self.biases)


class BookSession(Session):
    """One object of a book-style class, its ``weights`` and ``biases`` assigned directly."""

    def __init__(self, adapter: BookClassAdapter, weights: list[np.ndarray],
                 biases: list[np.ndarray]) -> None:
        self.impl = adapter
        self.net = adapter._network(weights, biases)

    def gradient(self, x: np.ndarray, y: np.ndarray) -> Gradient:
        return self.net.backprop(x, y)

    def feedforward(self, x: np.ndarray) -> np.ndarray:
        return self.net.feedforward(x)

    def update(self, mini_batch: list[tuple[np.ndarray, np.ndarray]], eta: float) -> None:
        self.net.update_mini_batch(mini_batch, eta)

    def assign(self, weights: list[np.ndarray], biases: list[np.ndarray]) -> None:
        self.net.weights, self.net.biases = list(weights), list(biases)

    def parameters(self) -> Params:
        return list(self.net.weights), list(self.net.biases)


class BookClassAdapter(Implementation):
    """Adapts a class written against the book's ``Network`` interface (sigmoid, quadratic)."""

    def __init__(self, cls: type, name: str | None = None) -> None:
        self.cls = cls
        self.name = name or f"{cls.__module__}:{cls.__qualname__}"
        declared = dict(getattr(cls, "bpverify_capabilities", {}))
        self.capabilities = replace(Capabilities(
            feedforward=callable(getattr(cls, "feedforward", None)),
            mini_batch=callable(getattr(cls, "backprop_matrix", None)),
            update=callable(getattr(cls, "update_mini_batch", None))), **declared)

    def _network(self, weights: list[np.ndarray], biases: list[np.ndarray]) -> Any:
        sizes = [weights[0].shape[1]] + [w.shape[0] for w in weights]
        net = self.cls(sizes)
        net.weights, net.biases = list(weights), list(biases)
        return net

    def gradient(self, weights: list[np.ndarray], biases: list[np.ndarray], x: np.ndarray,
                 y: np.ndarray, activation: str = "sigmoid", cost: str = "quadratic") -> Gradient:
        nabla_b, nabla_w = self._network(weights, biases).backprop(x, y)
        return list(nabla_b), list(nabla_w)

    def gradient_batch(self, weights: list[np.ndarray], biases: list[np.ndarray], X: np.ndarray,
                       Y: np.ndarray, activation: str = "sigmoid",
                       cost: str = "quadratic") -> Gradient:
        nabla_b, nabla_w = self._network(weights, biases).backprop_matrix(X, Y)
        return list(nabla_b), list(nabla_w)

    def feedforward(self, weights: list[np.ndarray], biases: list[np.ndarray],
                    x: np.ndarray) -> np.ndarray:
        return np.asarray(self._network(weights, biases).feedforward(x))

    def update(self, weights: list[np.ndarray], biases: list[np.ndarray],
               mini_batch: list[tuple[np.ndarray, np.ndarray]], eta: float) -> Params:
        net = self._network(weights, biases)
        net.update_mini_batch(mini_batch, eta)
        return list(net.weights), list(net.biases)

    def session(self, weights: list[np.ndarray], biases: list[np.ndarray]) -> Session:
        return BookSession(self, weights, biases)


def as_implementation(obj: Any, name: str | None = None) -> Implementation:
    """An Implementation from what a user plugs in: an Implementation (instance or class), a
    book-style class, or a zero-argument factory returning either."""
    if isinstance(obj, Implementation):
        return obj
    if isinstance(obj, type) and issubclass(obj, Implementation):
        return obj()
    if isinstance(obj, type) and callable(getattr(obj, "backprop", None)):
        return BookClassAdapter(obj, name)
    if callable(obj):
        return as_implementation(obj(), name)
    raise ValueError(f"{name or obj!r} is {type(obj).__name__}, expected a class with the book's "
                     "backprop(x, y), an Implementation, or a factory of one")


def resolve(spec: str) -> Implementation:
    """``module:attribute`` (imported from the current folder, as ``python -m`` does) →
    Implementation; a bad spec or an error in the user's module is a ``SpecError``."""
    return as_implementation(load(spec), spec)
