"""How the suite talks to an implementation: the adapter protocol and its capabilities.

Two ways in:

* a class with the book's interface plugs in as it is (``BookClassAdapter``): the suite
  calls ``Cls(sizes)``, replaces ``.weights`` and ``.biases`` with its own float arrays,
  calls ``.backprop(x, y)`` and, when present, ``.feedforward(a)``,
  ``.update_mini_batch(mini_batch, eta)`` (or the chapter-3 ``(mini_batch, eta, lmbda, n)``)
  and ``.backprop_matrix(X, Y)``. A ``cost`` object with ``fn`` and ``delta`` (the book's
  network2.py) is recognised, so the checks use the cost the network has;
* anything else subclasses ``Implementation`` and declares its ``Capabilities``.

A class may declare more through a dict attribute ``bpverify_capabilities``: capabilities
(``{"dtype": "float32"}``, ``"activation"``, ``"cost"``) and conventions (``conventions``:
layout, weight orientation, bias shape, gradient order, reduction, method names).
Undeclared capabilities are skipped, with the reason.

Kept whole: the two ways in (the book's class, the declared protocol) share the capability
declaration and the call conventions.
"""

from __future__ import annotations

import contextlib
import copy
import functools
import inspect
import io
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields, replace
from typing import Any

import numpy as np

from bpverify.conformance.protocol.conventions import CHOICES, Conventions
from bpverify.conformance.protocol.loading import load
from bpverify.conformance.protocol.near_misses import method_hints
from bpverify.conformance.protocol.probing import declaration, fitting_conventions
from bpverify.oracles.cases import declare_cost, fixed_depth, layer_functions
from bpverify.reference.activations import layer_activations
from bpverify.reference.costs import BUILTIN_COSTS, quadratic

Gradient = tuple[list[np.ndarray], list[np.ndarray]]
Params = tuple[list[np.ndarray], list[np.ndarray]]
DTYPES = ("float64", "float32")
"""The dtypes the rounding-error bounds are worked out for."""
PROBE_SIZES = [3, 4, 2]
"""The network a class is built at once, to see its cost and its update's signature, and probed
on for its conventions: no two consecutive widths are equal, so every orientation shows."""


@dataclass(frozen=True)
class Capabilities:
    """What an implementation supports; the suite checks exactly these."""

    feedforward: bool = False
    mini_batch: bool = False
    update: bool = False
    exposes_delta: bool = False
    l2: bool = False
    l2_optional: bool = False
    sgd: bool = False
    sgd_l2: str = ""
    activations: tuple[str, ...] = ("sigmoid",)
    costs: tuple[str, ...] = ("quadratic",)
    dtype: str = "float64"

    @property
    def native(self) -> tuple[str, str]:
        """(σ, C) of the core checks: the first activation and cost declared."""
        return self.activations[0], self.costs[0]

    def describe(self) -> str:
        flags = [name for name in ("feedforward", "mini_batch", "update", "exposes_delta", "l2",
                                   "sgd") if getattr(self, name)]
        return (f"dtype={self.dtype} activations={list(self.activations)} "
                f"costs={list(self.costs)} api={flags}")

    @classmethod
    def declared(cls, base: Capabilities, declared: Mapping[str, Any], owner: str
                 ) -> Capabilities:
        """``base`` with what a class declares; ``activation`` and ``cost`` name its own."""
        names = {f.name for f in fields(cls)}
        values = dict(declared)
        if "activation" in values:
            values["activations"] = (activation_name(values.pop("activation"), owner),)
        if "cost" in values:
            cost = values.pop("cost")
            values["costs"] = (cost if isinstance(cost, str) else declare_cost(cost),)
        unknown = sorted(set(values) - names)
        if unknown:
            raise ValueError(f"{owner}.bpverify_capabilities has unknown key(s) {unknown}; "
                             f"expected some of {sorted(names | {'activation', 'cost'})} and "
                             f"the conventions {sorted([*CHOICES, 'methods'])}")
        for key in ("activations", "costs"):
            if isinstance(values.get(key), str):
                values[key] = (values[key],)
        if values.get("dtype", "float64") not in DTYPES:
            raise ValueError(f"{owner}.bpverify_capabilities['dtype'] is {values['dtype']!r}, "
                             f"expected one of {list(DTYPES)}")
        return replace(base, **values)


def activation_name(declared: Any, owner: str) -> str:
    """A declared σ as the battery names it: ``"tanh"``, ``"relu/sigmoid"`` (hidden/output),
    or a list, one per layer 2..L (``["tanh", "relu", "sigmoid"]``, which fixes the depth)."""
    if isinstance(declared, list | tuple):
        if len(declared) == 0 or not all(isinstance(n, str) and n for n in declared):
            raise ValueError(f"{owner}.bpverify_capabilities['activation'] is {declared!r}, "
                             "expected a name per layer 2..L, e.g. ['tanh', 'relu', 'sigmoid']")
        name = ",".join(declared) if len(declared) > 1 else f"{declared[0]},"  # L = 2
    elif isinstance(declared, str):
        name = declared
    else:
        raise ValueError(f"{owner}.bpverify_capabilities['activation'] is "
                         f"{type(declared).__name__}, expected a name such as 'tanh', "
                         "'relu/sigmoid' (hidden/output) or a list of names, one per layer")
    try:
        sizes = probe_sizes(name)
        layer_activations(layer_functions(name, len(sizes)), sizes)  # softmax: output only
    except ValueError as bad:
        raise ValueError(f"{owner}.bpverify_capabilities['activation']: {bad}") from None
    return name


def probe_sizes(activation: str) -> list[int]:
    """PROBE_SIZES at the depth a per-layer σ fixes (``probe_sizes_at``)."""
    return probe_sizes_at(fixed_depth(activation) or len(PROBE_SIZES))


def probe_sizes_at(depth: int) -> list[int]:
    """PROBE_SIZES with ``depth`` layers: the hidden widths alternate 4, 5, never square."""
    return [PROBE_SIZES[0], *[PROBE_SIZES[1] + (i % 2) for i in range(depth - 2)],
            PROBE_SIZES[-1]]


class Implementation:
    """The adapter protocol. ``gradient`` is required; the rest as ``capabilities`` declares.

    Every method receives fresh arrays of the declared dtype in the book's shapes and
    must return ∂C/∂b, ∂C/∂w per layer 2..L (summed over the columns of a batch).
    """

    name: str = "implementation"
    capabilities: Capabilities = Capabilities()
    conventions: Conventions = Conventions()

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
               mini_batch: list[tuple[np.ndarray, np.ndarray]], eta: float,
               lmbda: float = 0.0, n: int = 1) -> Params:
        """One SGD step; with capability ``l2``, w → (1 − ηλ/n)w − step, b unregularised."""
        raise NotImplementedError

    def step_scale(self, m: int, n_out: int) -> float:
        """The SGD step is η × this × Σₓ∇Cₓ: the book's 1/m unless the conventions say other."""
        return self.conventions.step_scale(m, n_out)

    def call_name(self, book_call: str) -> str:
        """How a message names a call, e.g. ``network:Network.backprop(x, y)``, in the
        implementation's own names where it has other ones."""
        method, _, arguments = book_call.partition("(")
        return f"{self.name}.{self.conventions.name(method)}({arguments}"

    def declarations_that_fit(self, seconds: float) -> str | None:
        """When the book's conventions fail: the declarations under which it would be right."""
        return None

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

    def kept_gradient(self, x: np.ndarray, y: np.ndarray) -> int:
        """``gradient``, its result kept exactly as returned (no copy): a number to recall it."""
        kept = self.__dict__.setdefault("_kept", [])
        kept.append(self.gradient(x, y))
        return len(kept) - 1

    def recall(self, number: int) -> Any:
        """A result kept by ``kept_gradient``, as it is now (a returned buffer may have changed)."""
        return self.__dict__.get("_kept", [])[number]

    def feedforward(self, x: np.ndarray) -> np.ndarray:
        return self.impl.feedforward(self.weights, self.biases, x)

    def update(self, mini_batch: list[tuple[np.ndarray, np.ndarray]], eta: float,
               lmbda: float = 0.0, n: int = 1) -> None:
        rest = (lmbda, n) if lmbda else ()  # update(…, eta) unless it takes λ and n
        self.weights, self.biases = self.impl.update(self.weights, self.biases, mini_batch, eta,
                                                     *rest)

    def sgd(self, training_data: list[tuple[np.ndarray, np.ndarray]], epochs: int,
            mini_batch_size: int, eta: float, lmbda: float = 0.0) -> None:
        """The book's SGD(training_data, epochs, mini_batch_size, eta): a method of a class."""
        raise NotImplementedError(f"{self.impl.name} has no SGD method")

    def assign(self, weights: list[np.ndarray], biases: list[np.ndarray]) -> None:
        self.weights, self.biases = list(weights), list(biases)

    def parameters(self) -> Params:
        return list(self.weights), list(self.biases)


class BookSession(Session):
    """One object of a book-style class, its weights and biases assigned directly."""

    def __init__(self, adapter: BookClassAdapter, weights: list[np.ndarray],
                 biases: list[np.ndarray]) -> None:
        self.impl = adapter
        self.adapter = adapter
        self.net = adapter._network(weights, biases)

    def gradient(self, x: np.ndarray, y: np.ndarray) -> Gradient:
        return self.adapter._gradient(self.net, x, y)

    def feedforward(self, x: np.ndarray) -> np.ndarray:
        return self.adapter._feedforward(self.net, x)

    def update(self, mini_batch: list[tuple[np.ndarray, np.ndarray]], eta: float,
               lmbda: float = 0.0, n: int = 1) -> None:
        self.adapter._update(self.net, mini_batch, eta, lmbda, n)

    def sgd(self, training_data: list[tuple[np.ndarray, np.ndarray]], epochs: int,
            mini_batch_size: int, eta: float, lmbda: float = 0.0) -> None:
        self.adapter._sgd(self.net, training_data, epochs, mini_batch_size, eta, lmbda)

    def assign(self, weights: list[np.ndarray], biases: list[np.ndarray]) -> None:
        self.adapter._assign(self.net, weights, biases)

    def parameters(self) -> Params:
        return self.adapter._parameters(self.net)


class BookClassAdapter(Implementation):
    """Adapts a class written against the book's ``Network`` interface, in the conventions it
    declares (``conformance.conventions``), with the cost it has."""

    def __init__(self, cls: type, name: str | None = None,
                 factory: Callable[[list[int]], Any] | None = None) -> None:
        self.cls = cls
        self.make = factory or cls
        self.name = name or f"{cls.__module__}:{cls.__qualname__}"
        owner = cls.__qualname__
        declared = dict(getattr(cls, "bpverify_capabilities", {}))
        self.conventions = Conventions.declared(declared, owner)
        rest = {k: v for k, v in declared.items() if k not in (*CHOICES, "methods")}
        self.probe_sizes = probe_sizes(activation_name(rest.get("activation", "sigmoid"),
                                                       owner))
        probe = self.make(list(self.probe_sizes))
        _require_methods(probe, self.conventions, declared.get("methods"), owner)
        update = getattr(probe, self.conventions.name("update_mini_batch"), None)
        sgd = getattr(probe, self.conventions.name("SGD"), None)
        sgd_ok = (callable(sgd) and self.conventions.update_input == "pairs"
                  and _callable_as_the_books_sgd(sgd))
        base = Capabilities(
            feedforward=callable(getattr(probe, self.conventions.name("feedforward"), None)),
            mini_batch=callable(getattr(probe, self.conventions.name("backprop_matrix"), None)),
            update=callable(update), l2=callable(update) and _l2_parameters(update) != "",
            l2_optional=callable(update) and _l2_parameters(update) == "optional",
            sgd=sgd_ok, sgd_l2=_sgd_l2_parameter(sgd) if sgd_ok else "",
            costs=(quadratic.name,) if "cost" in rest else (native_cost(probe, owner),))
        self.capabilities = Capabilities.declared(base, rest, owner)

    def with_conventions(self, conventions: Conventions) -> BookClassAdapter:
        """The same class under other conventions (to find, by trying, which fit)."""
        other = copy.copy(self)
        other.conventions = conventions
        return other

    def _call(self, net: Any, book_name: str, *args: Any, **kwargs: Any) -> Any:
        return getattr(net, self.conventions.name(book_name))(*args, **kwargs)

    def _network(self, weights: list[np.ndarray], biases: list[np.ndarray]) -> Any:
        sizes = [weights[0].shape[1]] + [w.shape[0] for w in weights]
        net = self.make(sizes)
        self._assign(net, weights, biases)
        return net

    def _assign(self, net: Any, weights: list[np.ndarray], biases: list[np.ndarray]) -> None:
        c = self.conventions
        setattr(net, c.name("weights"), [c.weight_to_theirs(w) for w in weights])
        setattr(net, c.name("biases"), [c.bias_to_theirs(b) for b in biases])

    def _parameters(self, net: Any) -> Params:
        c = self.conventions
        return ([c.weight_from_theirs(w) for w in getattr(net, c.name("weights"))],
                [c.bias_from_theirs(b) for b in getattr(net, c.name("biases"))])

    def _gradient(self, net: Any, x: np.ndarray, y: np.ndarray, book_name: str = "backprop"
                  ) -> Gradient:
        c = self.conventions
        value = self._call(net, book_name, c.examples_to_theirs(x), c.examples_to_theirs(y))
        return c.gradient_from_theirs(value, x.shape[1], y.shape[0])

    def _feedforward(self, net: Any, x: np.ndarray) -> np.ndarray:
        c = self.conventions
        return c.examples_from_theirs(self._call(net, "feedforward", c.examples_to_theirs(x)))

    def _update(self, net: Any, mini_batch: list[tuple[np.ndarray, np.ndarray]], eta: float,
                lmbda: float, n: int) -> None:
        c = self.conventions
        rest = (eta, lmbda, n) if self.capabilities.l2 and lmbda else (eta,)
        if c.update_input == "arrays":
            X = c.examples_to_theirs(np.hstack([x for x, _ in mini_batch]))
            Y = c.examples_to_theirs(np.hstack([y for _, y in mini_batch]))
            self._call(net, "update_mini_batch", X, Y, *rest)
        elif c.layout == "columns":  # the caller's very list: what it does to it is seen
            self._call(net, "update_mini_batch", mini_batch, *rest)
        else:
            converted = [(c.examples_to_theirs(x), c.examples_to_theirs(y)) for x, y in mini_batch]
            theirs = list(converted)
            self._call(net, "update_mini_batch", theirs, *rest)
            left = {id(pair) for pair in theirs}  # the pairs it left, mirrored in the caller's list
            mini_batch[:] = [original for original, pair in zip(list(mini_batch), converted,
                                                                  strict=True) if id(pair) in left]

    def _sgd(self, net: Any, training_data: list[tuple[np.ndarray, np.ndarray]], epochs: int,
             mini_batch_size: int, eta: float, lmbda: float) -> None:
        """``SGD(training_data, epochs, mini_batch_size, eta)`` (λ too, by its own name, where it
        has one: network2.py's ``lmbda=``), what it prints (the book's "Epoch 0 complete")
        dropped."""
        c = self.conventions
        data = training_data if c.layout == "columns" else [
            (c.examples_to_theirs(x), c.examples_to_theirs(y)) for x, y in training_data]
        extra = {self.capabilities.sgd_l2: lmbda} if self.capabilities.sgd_l2 else {}
        with contextlib.redirect_stdout(io.StringIO()):
            self._call(net, "SGD", data, epochs, mini_batch_size, eta, **extra)

    def gradient(self, weights: list[np.ndarray], biases: list[np.ndarray], x: np.ndarray,
                 y: np.ndarray, activation: str = "sigmoid", cost: str = "quadratic") -> Gradient:
        return self._gradient(self._network(weights, biases), x, y)

    def gradient_batch(self, weights: list[np.ndarray], biases: list[np.ndarray], X: np.ndarray,
                       Y: np.ndarray, activation: str = "sigmoid",
                       cost: str = "quadratic") -> Gradient:
        return self._gradient(self._network(weights, biases), X, Y, "backprop_matrix")

    def feedforward(self, weights: list[np.ndarray], biases: list[np.ndarray],
                    x: np.ndarray) -> np.ndarray:
        return self._feedforward(self._network(weights, biases), x)

    def update(self, weights: list[np.ndarray], biases: list[np.ndarray],
               mini_batch: list[tuple[np.ndarray, np.ndarray]], eta: float,
               lmbda: float = 0.0, n: int = 1) -> Params:
        net = self._network(weights, biases)
        self._update(net, mini_batch, eta, lmbda, n)
        return self._parameters(net)

    def declarations_that_fit(self, seconds: float) -> str | None:
        found = fitting_conventions(self, seconds)
        return None if found is None else declaration(found, self.conventions,
                                                      self.capabilities)

    def session(self, weights: list[np.ndarray], biases: list[np.ndarray]) -> Session:
        return BookSession(self, weights, biases)


def _framework_class(cls: type) -> str | None:
    """"torch.nn.Module" when ``cls`` is one (told by its bases' names, without importing
    torch), else None."""
    for base in cls.__mro__:
        if base.__name__ == "Module" and base.__module__.startswith("torch.nn"):
            return "torch.nn.Module"
    return None


def _use_the_helper(framework: str, owner: str) -> str:
    return (f"{owner} is a {framework}, which has no backprop(x, y) of the book's: plug it in "
            f"through the helper: in your file, from bpverify.conformance.protocol.frameworks "
            f"import TorchModule, then model = TorchModule({owner}, loss=torch.nn.MSELoss(), "
            f"optimizer=lambda p, eta: torch.optim.SGD(p, lr=eta)) ({owner}(sizes) builds it), "
            f"and check YOUR_FILE:model (the README's Frameworks)")


def _require_methods(net: Any, conventions: Conventions, declared: Any, owner: str) -> None:
    """The book's ``backprop(x, y)``, and every method the class declares under a name of its
    own, must be there: a ValueError names the methods that look like a missing one and the
    ``methods`` declaration that would map it, or what the class has."""
    backprop = conventions.name("backprop")
    framework = _framework_class(type(net))
    if framework is not None and not callable(getattr(net, backprop, None)):
        raise ValueError(_use_the_helper(framework, owner))
    if not callable(getattr(net, backprop, None)):
        how = (f"{owner} declares methods={{'backprop': {backprop!r}}} but has no method "
               f"{backprop}" if backprop != "backprop" else
               f"{owner} has no method backprop(x, y)")
        raise ValueError(f"{how}; "
                         f"{method_hints(type(net), backprop, 'backprop', 'backprop(x, y)')}")
    for book, theirs in (declared.items() if isinstance(declared, Mapping) else ()):
        if book not in ("weights", "biases") and not callable(getattr(net, theirs, None)):
            raise ValueError(f"{owner} declares methods={{{book!r}: {theirs!r}}} but has no "
                             f"method {theirs}; {method_hints(type(net), theirs, book, book)}")


LOCAL_METHODS = ("step_scale", "call_name")
"""Methods of ``Implementation`` answered from its name and conventions, never by its code."""


def _l2_parameters(method: Callable[..., Any]) -> str:
    """"required" for the book's network2.py ``update_mini_batch(mini_batch, eta, lmbda, n)``,
    "optional" when λ and n have defaults (then the two-argument call must be plain SGD), ""
    otherwise: told by the names (lmbda, lambda, l2, reg…, then n…), not by the count alone."""
    try:
        parameters = list(inspect.signature(method).parameters.values())
    except (TypeError, ValueError):
        return ""
    positional = [p for p in parameters if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    if len(positional) < 4:
        return ""
    lmbda, n = positional[2], positional[3]
    if not (lmbda.name.lower().startswith(L2_NAMES) and n.name.lower().startswith("n")):
        return ""
    return "optional" if lmbda.default is not lmbda.empty else "required"


def _callable_as_the_books_sgd(method: Any) -> bool:
    """SGD(training_data, epochs, mini_batch_size, eta) with nothing else required but λ."""
    try:
        parameters = list(inspect.signature(method).parameters.values())
    except (TypeError, ValueError):
        return False
    l2 = _sgd_l2_parameter(method)
    rest = [p for p in parameters[4:] if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
    takes_four = len(parameters) >= 4 or any(p.kind == p.VAR_POSITIONAL for p in parameters)
    return takes_four and all(p.default is not p.empty or p.name == l2 for p in rest)


def _sgd_l2_parameter(method: Any) -> str:
    """The name of SGD's λ (network2.py: ``SGD(training_data, epochs, mini_batch_size, eta,
    lmbda=0.0, …)``), told by the names ``_l2_parameters`` knows, after the four of the book;
    "" if it has none."""
    try:
        names = list(inspect.signature(method).parameters)[4:]
    except (TypeError, ValueError):
        return ""
    return next((name for name in names if name.lower().startswith(L2_NAMES)), "")


L2_NAMES = ("lmb", "lam", "l2", "reg", "weight_decay", "decay")
"""How the regularisation parameter of an update is called in the code we have seen."""


COST_PROBE = (np.array([[0.2], [0.7], [0.9]]), np.array([[0.0], [1.0], [0.4]]))
"""A point where the quadratic and the cross-entropy cost differ, to tell a cost by its value."""


def native_cost(net: Any, owner: str) -> str:
    """The cost a network differentiates: a ``cost`` object with ``fn`` and ``delta`` (network2.py)
    is told by its value at COST_PROBE; without one, the book's quadratic cost."""
    cost = getattr(net, "cost", None)
    fn = getattr(cost, "fn", None)
    if cost is None or not callable(fn) or not callable(getattr(cost, "delta", None)):
        return quadratic.name
    a, y = COST_PROBE
    with np.errstate(all="ignore"):
        value = float(fn(a, y))
    for known in BUILTIN_COSTS.values():
        if np.isclose(value, float(known.value(a, y)), rtol=1e-12, atol=0.0):
            return known.name
    raise ValueError(f"{owner}'s cost {getattr(cost, '__name__', type(cost).__name__)}.fn is "
                     f"neither the quadratic nor the cross-entropy cost (fn = {value:.6g} where "
                     "they give "
                     + ", ".join(f"{c.value(a, y):.6g}" for c in BUILTIN_COSTS.values())
                     + "); declare the cost it is: bpverify_capabilities = {'cost': NAME}")


def as_implementation(obj: Any, name: str | None = None) -> Implementation:
    """An Implementation from what a user plugs in: an Implementation (instance or class), a
    book-style class, or a zero-argument factory returning either."""
    if isinstance(obj, Implementation):
        return obj
    if isinstance(obj, type) and issubclass(obj, Implementation):
        return obj()
    if isinstance(obj, type) and _book_style(obj):
        return BookClassAdapter(obj, name)
    framework = _framework_class(obj) if isinstance(obj, type) else None
    if framework is not None:
        raise ValueError(_use_the_helper(framework, obj.__name__))
    if callable(obj) and _one_required_argument(obj):  # a factory Cls(sizes), e.g. a partial
        probe = obj(list(PROBE_SIZES))
        return BookClassAdapter(type(probe), name, factory=obj)
    if callable(obj):
        return as_implementation(obj(), name)
    raise ValueError(f"{name or obj!r} is {type(obj).__name__}, expected a class with the book's "
                     "backprop(x, y), an Implementation, or a factory of one")


def _book_style(cls: type) -> bool:
    """A class with the book's backprop(x, y), under its own name if it declares one."""
    methods = dict(getattr(cls, "bpverify_capabilities", {})).get("methods", {})
    name = methods.get("backprop", "backprop") if isinstance(methods, Mapping) else "backprop"
    return callable(getattr(cls, name, None))


def _one_required_argument(obj: Callable[..., Any]) -> bool:
    """A factory of networks takes the sizes: one required argument (a functools.partial of a
    class, or a function ``make(sizes)``)."""
    if isinstance(obj, functools.partial) and isinstance(obj.func, type):
        return True
    try:
        parameters = inspect.signature(obj).parameters.values()
    except (TypeError, ValueError):
        return False
    return sum(p.default is p.empty and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
               for p in parameters) == 1


def resolve(spec: str) -> Implementation:
    """``module:attribute`` (imported from the current folder, as ``python -m`` does) →
    Implementation; a bad spec or an error in the user's module is a ``SpecError``."""
    return as_implementation(load(spec), spec)
