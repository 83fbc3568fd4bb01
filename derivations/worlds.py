"""The worlds a template is read in (see ``derivations.interpret``).

ConcreteNet   one network of given widths, σ and C undefined functions: nothing assumed.
LocalLayer    layer l alone, everything above it an undefined function R(zˡ⁺¹) (or, at l = L,
              C an undefined function of aᴸ): nothing assumed, and the layer number is a
              symbol, so one check covers every depth; n_{l−1} may be a symbol.
IndexForm     every width a symbol and every entry an indexed symbol; the claim's left side is
              expanded once by its definition with the chain rule (Prop. 1), the rest is free.
Functions     the note's f(x(u)) with f and every xᵢ undefined (Props. 1, 2, 2E).
OutputLayer   the output layer alone with a given σ and cost (Fact 1, cross-entropy).

The network worlds also come *with their premise broken* (``broken=True``): the network computes
zˡ = wˡκ(aˡ⁻¹) + 2bˡ and aˡ = τ(zˡ) (κ, τ undefined), while σ and σ′ in a formula still mean σ.
A claim about the book's network must fail there: a model that passes it anyway did not derive
the claim from the forward equations but assumed it (``core.check_step``).

Kept whole: the worlds share one reading of a template (the quantity table ``interpret`` asks) and
each its premise-broken variant; apart, each would repeat that reading.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import cast

import sympy as sp

from bpverify.derivations.canonical import canonical, rename_derivatives
from bpverify.derivations.notation import L, comp, da, dw, l, n, sigma, sigma_prime, u_
from bpverify.derivations.notation import m as batch_size


class NotApplicable(Exception):
    """This world has no such layer or quantity (e.g. δˡ⁺¹ at the output layer)."""


class OutOfRange(NotApplicable):
    """An entry beyond the matrix (a¹₂ when layer 1 has one neuron): a formula that reads it where
    its left side exists does not fit the network, which refutes it."""


BROKEN_FORWARD = "zˡ = wˡκ(aˡ⁻¹) + 2bˡ, aˡ = τ(zˡ)"
BROKEN_PROPOSITIONS = "xₜ depends on uₜ and on uₜ₊₁"
"""Props. 2 and 2E without their premise: D_u x is no longer diagonal, so d_u f ≠ d_x f ⊙ d_u x."""
"""The premise-broken network, as the checks report it."""
tau, kappa = sp.Function("tau"), sp.Function("kappa")

LAYERS_OF = {"w": 2, "b": 2, "z": 2, "delta": 2, "dC_db": 2, "dC_dw": 2, "w_swapped": 2,
             "a": 1, "dC_da": 1, "rate": 1, "rate_w": 2, "Delta_b": 2, "Delta_W": 2, "da_dz": 2,
             "dz_dz": 2, "ones": 0, "DC_w": 2, "Da_w": 2, "Danext_a": 1, "Danext_w1": 2,
             **{name: 2 for name in ("Train_W", "Train_b", "Train_W_swapped", "Train_b_swapped", "dC1_dw",
                                     "dC1_db", "dC2_dw", "dC2_db", "dC2_dw0", "dC2_db0")}}
ABOVE = {"rate": 1, "dz_dz": 1, "Danext_a": 1, "Danext_w1": 1}
"""The lowest layer each quantity exists at (the input layer is layer 1: a¹ = x), and how many
layers above it it reaches (∂aˡ⁺¹/∂aˡ needs layer l + 1)."""


def _symbol_matrix(rows: int, cols: int, name: str) -> sp.Matrix:
    return sp.Matrix(rows, cols, lambda r, c: sp.Symbol(f"{name}_{r + 1}{c + 1}"))


def _column(n_rows: int, name: str) -> sp.Matrix:
    return sp.Matrix(n_rows, 1, lambda r, _: sp.Symbol(f"{name}_{r + 1}"))


def _gradient_at(expr_of: Callable[[sp.Matrix], sp.Expr], at: sp.Matrix, name: str) -> sp.Matrix:
    """∂E/∂v at v = ``at`` by the definition: E built on fresh symbols, differentiated, put back."""
    fresh = _column(at.rows, name)
    value = expr_of(fresh)
    back = dict(zip(fresh, at, strict=True))
    return sp.Matrix([rename_derivatives(sp.diff(value, s)).xreplace(back) for s in fresh])


def _matrix_entry(m: sp.Matrix, r: sp.Expr, c: sp.Expr) -> sp.Expr:
    if not (isinstance(r, int | sp.Integer) and isinstance(c, int | sp.Integer)):
        raise NotApplicable("a symbolic index into a concrete matrix")
    if not (1 <= int(r) <= m.rows and 1 <= int(c) <= m.cols):
        raise OutOfRange(f"entry ({r}, {c}) of a {m.rows}×{m.cols} matrix")
    return m[int(r) - 1, int(c) - 1]


# -- one concrete network ------------------------------------------------------------------------

def identity(e: sp.Expr) -> sp.Expr:
    """The linear neuron σ(z) = z."""
    return e


@dataclass
class ConcreteNet:
    """A network of widths ``sizes`` (σ, C undefined), read at layer ``at`` (l = at, L = len);
    with ``modified``, neuron 1 of layer ``at`` outputs f(z) instead of σ(z)."""

    sizes: tuple[int, ...]
    at: int
    activation: Callable[[sp.Expr], sp.Expr] = sigma
    modified: bool = False
    examples: int = 1
    broken: bool = False
    quadratic: bool = False

    @property
    def depth(self) -> int:
        return len(self.sizes)

    def bind(self, layer: sp.Expr) -> sp.Expr:
        return sp.sympify(layer).xreplace({l: sp.Integer(self.at), L: sp.Integer(self.depth),
                                           batch_size: sp.Integer(self.examples)})

    def width(self, layer: sp.Expr) -> sp.Expr:
        value = self.bind(layer)
        if not (value.is_Integer and 1 <= int(value) <= self.depth):
            raise NotApplicable(f"layer {value} of a network with L = {self.depth}")
        return sp.Integer(self.sizes[int(value) - 1])

    def function(self, name: str) -> Callable[[sp.Expr], sp.Expr]:
        if name == "sigma":
            return self.activation
        if name == "sigma_prime":
            return lambda e: canonical(sp.Subs(sp.diff(self.activation(_T), _T), _T, e))
        if name == "f_prime" and self.modified:
            return lambda e: sp.Function("f_prime")(e)
        raise NotApplicable(f"no function {name} in this network")

    def values(self, example: int = 1) -> NetworkValues:
        return network_values(self.sizes, self.activation, self.at if self.modified else 0, example,
                              self.quadratic, self.broken)

    def entry(self, name: str, layer: sp.Expr, r: sp.Expr, c: sp.Expr) -> sp.Expr:
        value = self.bind(layer)
        if not value.is_Integer:
            raise NotApplicable(f"layer {value}")
        lv = int(value)
        if lv < LAYERS_OF.get(name, self.depth) or lv + ABOVE.get(name, 0) > self.depth:
            raise NotApplicable(f"{name} at layer {lv} of a network with L = {self.depth}")
        if name in ("grad_a_C", "y") and lv != self.depth:
            raise NotApplicable(f"{name} at layer {lv}, not L = {self.depth}")
        if self.examples > 1:
            return self._batch_entry(name, lv, r, c)
        values = self.values()
        if name == "w_swapped":
            return _matrix_entry(values.matrix("w", lv).T, r, c)
        return _matrix_entry(values.matrix(name, lv), r, c)

    def _batch_entry(self, name: str, lv: int, r: sp.Expr, c: sp.Expr) -> sp.Expr:
        """C = (1/m)Σₓ Cₓ over ``examples`` inputs: ∂C/∂b, ∂C/∂w average the examples' gradients;
        column x of a per-example quantity (zˡ, aˡ, δˡ) is that of example x (δˣ'ˡ = ∂Cₓ/∂zˣ'ˡ)."""
        if name in ("dC_db", "dC_dw"):
            m = self.examples
            return sp.Rational(1, m) * sum(_matrix_entry(self.values(e).matrix(name, lv), r, c)
                                           for e in range(1, m + 1))
        if name in ("w", "b"):
            return _matrix_entry(self.values().matrix(name, lv), r, c)
        if name == "ones":
            return _matrix_entry(sp.ones(self.examples, 1), r, c)
        if not (isinstance(c, int | sp.Integer) and 1 <= int(c) <= self.examples):
            raise OutOfRange(f"example {c} of {self.examples}")
        return _matrix_entry(self.values(int(c)).matrix(name, lv), r, 1)


_T = sp.Symbol("t")


@dataclass
class NetworkValues:
    """zˡ, aˡ, δˡ = ∂C/∂zˡ, ∂C/∂aˡ, ∂C/∂bˡ, ∂C/∂wˡ and ∇ₐC of one symbolic network, by their
    definitions, each computed once."""

    sizes: tuple[int, ...]
    activation: Callable[[sp.Expr], sp.Expr]
    modified_layer: int = 0
    example: int = 1
    quadratic: bool = False
    broken: bool = False
    cache: dict[tuple[str, int], sp.Matrix] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.weights = {lv: _symbol_matrix(self.sizes[lv - 1], self.sizes[lv - 2], f"w^{lv}")
                        for lv in range(2, len(self.sizes) + 1)}
        self.biases = {lv: _column(self.sizes[lv - 1], f"b^{lv}") for lv in range(2, len(self.sizes) + 1)}
        self.x = _column(self.sizes[0], "x" if self.example == 1 else f"x^{self.example}")

    def act(self, lv: int, z: sp.Matrix) -> sp.Matrix:
        """aˡ = σ(zˡ); at the modified layer neuron 1 outputs f(zˡ₁); τ(zˡ) when broken."""
        a = z.applyfunc(tau if self.broken else self.activation)
        if lv == self.modified_layer:
            a[0, 0] = sp.Function("f")(z[0, 0])
        return a

    def pre(self, lv: int, a: sp.Matrix) -> sp.Matrix:
        """zˡ from aˡ⁻¹ = ``a``: wˡaˡ⁻¹ + bˡ (broken: wˡκ(aˡ⁻¹) + 2bˡ)."""
        if self.broken:
            return self.weights[lv] * a.applyfunc(kappa) + 2 * self.biases[lv]
        return self.weights[lv] * a + self.biases[lv]

    @property
    def y(self) -> sp.Matrix:
        return _column(self.sizes[-1], "y" if self.example == 1 else f"y^{self.example}")

    def cost(self, a_L: sp.Matrix) -> sp.Expr:
        if self.quadratic:
            return sp.Rational(1, 2) * sum((ai - yi) ** 2 for ai, yi in zip(a_L, self.y, strict=True))
        return sp.Function("C")(*a_L)

    def above(self, lv: int, a: sp.Matrix) -> sp.Expr:
        """C as a function of aˡ = ``a`` (the layers above l rebuilt on it)."""
        for k in range(lv + 1, len(self.sizes) + 1):
            a = self.act(k, self.pre(k, a))
        return self.cost(a)

    def _changes(self, name: str, lv: int) -> sp.Matrix:
        """What a change Δw of one weight wˡⱼₖ changes, entry (j, k): the cost (DC_w), the
        activation aˡⱼ (Da_w); or, entry (q, j), aˡ⁺¹_q when wˡⱼ₁ changes (Danext_w1)."""
        W = self.weights[lv]
        if name == "Danext_w1":
            after = self.matrix("a", lv + 1)
            return sp.Matrix(self.sizes[lv], W.rows, lambda q, j: after[q].xreplace({W[j, 0]: W[j, 0] + dw})
                             - after[q])
        before = self.above(1, self.x) if name == "DC_w" else None
        a = self.matrix("a", lv)
        return sp.Matrix(W.rows, W.cols, lambda j, k: (
            before.xreplace({W[j, k]: W[j, k] + dw}) - before if before is not None
            else a[j].xreplace({W[j, k]: W[j, k] + dw}) - a[j]))

    def matrix(self, name: str, lv: int) -> sp.Matrix:
        key = (name, lv)
        if key not in self.cache:
            self.cache[key] = self._compute(name, lv)
        return self.cache[key]

    def _compute(self, name: str, lv: int) -> sp.Matrix:
        if name == "w":
            return self.weights[lv]
        if name == "b":
            return self.biases[lv]
        if name == "y":
            return self.y
        if name == "a":
            return self.x if lv == 1 else self.act(lv, self.matrix("z", lv))
        if name == "z":
            return self.pre(lv, self.matrix("a", lv - 1))
        if name == "delta":
            return _gradient_at(lambda zeta: self.above(lv, self.act(lv, zeta)), self.matrix("z", lv), "zeta")
        if name in ("dC_da", "grad_a_C"):
            return _gradient_at(lambda alpha: self.above(lv, alpha), self.matrix("a", lv), "alpha")
        if name == "rate":
            nxt = lambda alpha: self.act(lv + 1, self.pre(lv + 1, alpha))  # noqa: E731
            fresh = _column(self.sizes[lv - 1], "alpha")
            back = dict(zip(fresh, self.matrix("a", lv), strict=True))
            return nxt(fresh).jacobian(fresh).applyfunc(lambda e: rename_derivatives(e).xreplace(back))
        if name in ("da_dz", "dz_dz"):
            fresh = _column(self.sizes[lv - 1], "zeta")
            back = dict(zip(fresh, self.matrix("z", lv), strict=True))
            out = self.act(lv, fresh) if name == "da_dz" else self.pre(lv + 1, self.act(lv, fresh))
            return out.jacobian(fresh).applyfunc(lambda e: rename_derivatives(e).xreplace(back))
        if name == "rate_w":
            a_here, W = self.matrix("a", lv), self.weights[lv]
            return sp.Matrix(W.rows, W.cols, lambda r, c: rename_derivatives(sp.diff(a_here[r], W[r, c])))
        if name in ("DC_w", "Da_w", "Danext_w1"):
            return self._changes(name, lv)
        if name == "Danext_a":
            fresh = _column(self.sizes[lv - 1], "alpha")
            back = dict(zip(fresh, self.matrix("a", lv), strict=True))
            nxt = self.act(lv + 1, self.pre(lv + 1, fresh))
            return sp.Matrix(self.sizes[lv], self.sizes[lv - 1], lambda q, j: (
                nxt[q].xreplace({fresh[j]: fresh[j] + da}) - nxt[q]).xreplace(back))
        if name in ("passes_46", "mults_forward", "mults_backward"):
            return sp.Matrix([[cost_count(self.sizes, name)]])
        C = self.above(1, self.x)
        if name == "dC_db":
            return sp.Matrix([rename_derivatives(sp.diff(C, s)) for s in self.biases[lv]])
        if name == "dC_dw":
            return self.weights[lv].applyfunc(lambda s: rename_derivatives(sp.diff(C, s)))
        raise NotApplicable(f"no quantity {name} in a network")


def cost_count(sizes: tuple[int, ...], name: str) -> int:
    """§2.6's costs on the network ``sizes``: the distinct points where eq. 46's forward-difference
    gradient evaluates C (C an undefined function of all P parameters), or the scalar
    multiplications in the forward pass's wˡaˡ⁻¹ (l = 2..L) or the backward pass's (wˡ⁺¹)ᵀδˡ⁺¹
    (l = L − 1..2), counted in the products as SymPy writes them with fresh symbols."""
    if name == "passes_46":
        count = sum(n * (p + 1) for p, n in zip(sizes[:-1], sizes[1:], strict=True))
        theta = sp.symbols(f"theta1:{count + 1}")
        eps, C = sp.Symbol("epsilon"), sp.Function("C")
        quotients = [(C(*(t + eps if t == s else t for t in theta)) - C(*theta)) / eps for s in theta]
        return len(set().union(*(q.atoms(sp.core.function.AppliedUndef) for q in quotients)))
    total = 0
    depth = len(sizes)
    layers = range(2, depth + 1) if name == "mults_forward" else range(2, depth)
    for lv in layers:
        if name == "mults_forward":
            product = _symbol_matrix(sizes[lv - 1], sizes[lv - 2], "w") * _column(sizes[lv - 2], "a")
        else:
            product = _symbol_matrix(sizes[lv], sizes[lv - 1], "w").T * _column(sizes[lv], "d")
        total += sum(int(sp.count_ops(e, visual=True).coeff(sp.Symbol("MUL"))) for e in product)
    return total


@functools.cache
def network_values(sizes: tuple[int, ...], activation: Callable[[sp.Expr], sp.Expr],
                   modified_layer: int = 0, example: int = 1, quadratic: bool = False,
                   broken: bool = False) -> NetworkValues:
    return NetworkValues(sizes, activation, modified_layer, example, quadratic, broken)


# -- the note's algorithm, run on a concrete network -----------------------------------------------

def _sigmoid_rule(e: sp.Expr) -> sp.Expr:
    """σ′(t) → σ(t)(1 − σ(t)), the note's substitution (proved in ``sigmoid_prime``)."""
    return rename_derivatives(e).replace(sigma_prime, lambda t: sigma(t) * (1 - sigma(t)))


@dataclass
class NoteAlgorithm:
    """A concrete network with the quadratic cost on which the note's Backpropagate(y, A) has run:
    Δbˡ and ΔWˡ are what its lines (templates, ``program``) computed; every other quantity is the
    definition, with σ′ written σ(1 − σ) as the algorithm does."""

    sizes: tuple[int, ...]
    at: int
    program: tuple[tuple[str, sp.Expr, sp.Basic], ...] = ()
    examples = 1
    loop: tuple[tuple[str, sp.Expr, sp.Basic], ...] = ()
    broken: bool = False
    example: int = 1
    theta: tuple[tuple[sp.Expr, sp.Expr], ...] = ()
    """The parameters the algorithm starts from: each weight and bias symbol with its value (none:
    the symbols themselves)."""

    @property
    def depth(self) -> int:
        return len(self.sizes)

    def bind(self, layer: sp.Expr) -> sp.Expr:
        return sp.sympify(layer).xreplace({l: sp.Integer(self.at), L: sp.Integer(self.depth)})

    def width(self, layer: sp.Expr) -> sp.Expr:
        return ConcreteNet(self.sizes, self.at).width(layer)

    def forward(self, name: str, lv: int) -> sp.Matrix:
        """A forward quantity of this example (w, b, a, z, y) at the parameters ``theta``."""
        return self.values.matrix(name, lv).xreplace(dict(self.theta))

    def function(self, name: str) -> Callable[[sp.Expr], sp.Expr]:
        if name == "one_minus":
            return lambda e: 1 - e
        raise NotApplicable(f"no function {name}")

    @property
    def values(self) -> NetworkValues:
        return network_values(self.sizes, sigma, 0, self.example, True, self.broken)

    @property
    def run(self) -> dict[tuple[str, int], sp.Matrix]:
        return _run_algorithm(self.sizes, self.program, self.loop, self.broken)

    def execute(self) -> dict[tuple[str, int], sp.Matrix]:
        """The algorithm's variables after it ran: each line's template read with the variables
        so far (the network's forward values where a line has not set one)."""
        from bpverify.derivations import interpret
        store: dict[tuple[str, int], sp.Matrix] = {}
        reader = _StoreReader(self, store)
        lines = list(self.program)
        for layer in range(self.depth, 1, -1):
            lines += [(name, at.subs(l, layer), template.subs(l, layer)) for name, at, template in self.loop]
        for name, at, template in lines:
            reader.at = int(self.bind(at))
            target = int(self.bind(at))
            rows, cols = interpret.shape(template, reader)
            store[(name, target)] = sp.Matrix(int(rows), int(cols), lambda r, c: interpret.entry(
                template, sp.Integer(r + 1), sp.Integer(c + 1), reader))
        return store

    def entry(self, name: str, layer: sp.Expr, r: sp.Expr, c: sp.Expr) -> sp.Expr:
        lv = int(self.bind(layer))
        if name in ("Delta_b", "Delta_W"):
            return _sigmoid_rule(_matrix_entry(self.run[(name, lv)], r, c))
        if lv < LAYERS_OF.get(name, self.depth) or lv > self.depth:
            raise NotApplicable(f"{name} at layer {lv}")
        return _sigmoid_rule(_matrix_entry(self.values.matrix(name, lv), r, c))


@functools.cache
def _run_algorithm(sizes: tuple[int, ...], program: tuple[tuple[str, sp.Expr, sp.Basic], ...],
                   loop: tuple[tuple[str, sp.Expr, sp.Basic], ...],
                   broken: bool = False) -> dict[tuple[str, int], sp.Matrix]:
    """The algorithm runs once per network, whichever layer its result is read at."""
    return NoteAlgorithm(sizes, len(sizes), program, loop, broken).execute()


TRAINED = {"Train_W": "w", "Train_b": "b", "Train_W_swapped": "w", "Train_b_swapped": "b"}
GRADIENTS = {"dC1_dw": ("dC_dw", 1, "start"), "dC1_db": ("dC_db", 1, "start"),
             "dC2_dw": ("dC_dw", 2, "after"), "dC2_db": ("dC_db", 2, "after"),
             "dC2_dw0": ("dC_dw", 2, "start"), "dC2_db0": ("dC_db", 2, "start")}
"""∂C_{x₁}/∂θ at the start θ₀; ∂C_{x₂}/∂θ at θ₁ = θ₀ − η∂C_{x₁}/∂θ(θ₀) (after one step) or at θ₀."""


@dataclass
class NoteTrain(NoteAlgorithm):
    """The note's Train on two examples (x¹, y¹), (x², y²): Feedforward and Backpropagate(y, A) for
    each in turn, the second starting from the weights and biases the first left. ``Train_W``,
    ``Train_b`` are what it leaves; ``…_swapped`` what it leaves with the loop's updates of b and W
    moved before the line d_a C := Wᵀ d_z C; the gradients by their definitions (quadratic cost)."""

    def entry(self, name: str, layer: sp.Expr, r: sp.Expr, c: sp.Expr) -> sp.Expr:
        lv = int(self.bind(layer))
        if name in TRAINED:
            result = _train(self.sizes, self.program, self.loop, self.broken, name.endswith("_swapped"))
            return _sigmoid_rule(_matrix_entry(result[(TRAINED[name], lv)], r, c))
        if name in GRADIENTS:
            quantity, example, where = GRADIENTS[name]
            values = network_values(self.sizes, sigma, 0, example, True, self.broken)
            at = self.after_one_step() if where == "after" else {}
            return _sigmoid_rule(_matrix_entry(values.matrix(quantity, lv), r, c).xreplace(at))
        return _sigmoid_rule(_matrix_entry(self.values.matrix(name, lv), r, c))

    def after_one_step(self) -> dict[sp.Expr, sp.Expr]:
        """θ₁ = θ₀ − η ∂C_{x₁}/∂θ(θ₀), by the definitions."""
        from bpverify.derivations.notation import eta
        values = network_values(self.sizes, sigma, 0, 1, True, self.broken)
        step = {}
        for lv in range(2, self.depth + 1):
            for symbol, gradient in zip(values.weights[lv], values.matrix("dC_dw", lv), strict=True):
                step[symbol] = symbol - eta * gradient
            for symbol, gradient in zip(values.biases[lv], values.matrix("dC_db", lv), strict=True):
                step[symbol] = symbol - eta * gradient
        return step


@functools.cache
def _train(sizes: tuple[int, ...], program: tuple[tuple[str, sp.Expr, sp.Basic], ...],
           loop: tuple[tuple[str, sp.Expr, sp.Basic], ...], broken: bool,
           swapped: bool) -> dict[tuple[str, int], sp.Matrix]:
    """Train on examples 1 and 2: the weights and biases each run of Backpropagate leaves are
    where the next starts."""
    if swapped:  # the updates of b and W right after Δb, ΔW: before the line that reads W
        changes = tuple(line for line in loop if line[0] in ("Delta_b", "Delta_W"))
        updates = tuple(line for line in loop if line[0] in ("b", "w"))
        loop = changes + updates + tuple(line for line in loop if line not in changes + updates)
    theta: tuple[tuple[sp.Expr, sp.Expr], ...] = ()
    store: dict[tuple[str, int], sp.Matrix] = {}
    for example in (1, 2):
        store = NoteAlgorithm(sizes, len(sizes), program, loop, broken, example, theta).execute()
        base = network_values(sizes, sigma, 0, 1, True, broken)
        theta = tuple((s, v) for lv in range(2, len(sizes) + 1)
                      for name, matrix in (("w", base.weights[lv]), ("b", base.biases[lv]))
                      for s, v in zip(matrix, store[(name, lv)], strict=True))
    return store


@dataclass
class _StoreReader:
    """Reads a line of the algorithm: its variables first, the network's forward values else."""

    world: NoteAlgorithm
    store: dict[tuple[str, int], sp.Matrix]
    at: int = 0

    def bind(self, layer: sp.Expr) -> sp.Expr:
        return self.world.bind(layer)

    def width(self, layer: sp.Expr) -> sp.Expr:
        return self.world.width(layer)

    def function(self, name: str) -> Callable[[sp.Expr], sp.Expr]:
        return self.world.function(name)

    def entry(self, name: str, layer: sp.Expr, r: sp.Expr, c: sp.Expr) -> sp.Expr:
        lv = int(self.bind(layer))
        if (name, lv) in self.store:
            return _matrix_entry(self.store[(name, lv)], r, c)
        if name in ("w", "b", "a", "z", "y"):
            return _matrix_entry(self.world.forward(name, lv), r, c)
        raise NotApplicable(f"the algorithm reads {name} at layer {lv} before setting it")


# -- the layer-local step ---------------------------------------------------------------------------

@dataclass
class LocalLayer:
    """Layer l with n_{l−1} = ``n_prev`` (an int, or None for a symbol), nₗ = ``n_here`` and, below
    the output, nₗ₊₁ = ``n_next`` with everything above an undefined R(aˡ⁺¹), aˡ⁺¹ = σ(zˡ⁺¹); at
    the output (``n_next`` None) C is an undefined function of aᴸ, or ``cost`` of it. With
    ``modified``, neuron 1 of layer l outputs f(zˡ₁) (the exercise's modified neuron)."""

    n_prev: int | None
    n_here: int
    n_next: int | None
    cost: str = "undefined"
    col: sp.Symbol = field(default_factory=lambda: sp.Dummy("k", integer=True, positive=True))
    broken: bool = False
    modified: bool = False

    def _act(self, e: sp.Expr) -> sp.Expr:
        return tau(e) if self.broken else sigma(e)

    def _activate(self, z: sp.Matrix) -> sp.Matrix:
        """aˡ from zˡ: σ (τ when broken) entry by entry, f at neuron 1 when ``modified``."""
        a = z.applyfunc(self._act)
        if self.modified:
            a[0, 0] = sp.Function("f")(z[0, 0])
        return a

    def _in(self, e: sp.Expr) -> sp.Expr:
        """What a weight multiplies: aˡ⁻¹ itself (broken: κ(aˡ⁻¹))."""
        return kappa(e) if self.broken else e

    @property
    def output(self) -> bool:
        return self.n_next is None

    def bind(self, layer: sp.Expr) -> sp.Expr:
        return sp.sympify(layer).xreplace({L: l}) if self.output else sp.sympify(layer)

    def _offset(self, layer: sp.Expr) -> int:
        value = sp.simplify(self.bind(layer) - l)
        if not value.is_Integer or int(value) not in (-1, 0, 1) or (self.output and value == 1):
            raise NotApplicable(f"layer {layer} in the local step at l"
                                + (" = L" if self.output else ""))
        if sp.sympify(layer).has(L) and not self.output:
            raise NotApplicable("the output layer L in the local step below the output")
        return int(value)

    def width(self, layer: sp.Expr) -> sp.Expr:
        offset = self._offset(layer)
        if offset == -1:
            return sp.Integer(self.n_prev) if self.n_prev is not None else self.col + _RHO
        return sp.Integer(self.n_here if offset == 0 else self.n_next)

    def function(self, name: str) -> Callable[[sp.Expr], sp.Expr]:
        if name == "sigma":
            return sigma
        if name == "sigma_prime":
            return sigma_prime
        if name == "f_prime" and self.modified:
            return sp.Function("f_prime")
        raise NotApplicable(f"no function {name} in a network")

    @functools.cached_property
    def _values(self) -> dict[str, object]:
        nh = self.n_here
        W = _symbol_matrix(nh, 1, "w")  # replaced below when n_prev is known
        scale = 2 if self.broken else 1
        if self.n_prev is not None:
            alpha = _column(self.n_prev, "α")
            W = _symbol_matrix(nh, self.n_prev, "w")
            z = W * alpha.applyfunc(self._in) + scale * _column(nh, "b")
        else:
            A, Wi, s = sp.IndexedBase("α"), sp.IndexedBase("w"), sp.Symbol("s", integer=True)
            N = self.col + _RHO
            z = sp.Matrix([sp.Sum(Wi[r + 1, s] * self._in(A[s]), (s, 1, N)) + scale * sp.Symbol(f"b_{r + 1}")
                           for r in range(nh)])
            alpha, W = A, Wi
        b = _column(nh, "b")
        a = self._activate(z)
        values: dict[str, object] = {"alpha": alpha, "W": W, "b": b, "z": z, "a": a}
        if self.output:
            y = _column(nh, "y")
            values["y"] = y

            def C_of_a(v: sp.Matrix) -> sp.Expr:
                if self.cost == "quadratic":
                    return sp.Rational(1, 2) * sum((vi - yi) ** 2 for vi, yi in zip(v, y, strict=True))
                return sp.Function("C")(*v)
            values["C_of_a"] = C_of_a
        else:
            assert self.n_next is not None
            W1, b1 = _symbol_matrix(self.n_next, nh, "W"), _column(self.n_next, "B")
            values.update(W1=W1, b1=b1)
            R = sp.Function("R")
            values["C_of_a"] = lambda v: R(*(W1 * v.applyfunc(self._in) + scale * b1).applyfunc(self._act))
            z1 = W1 * a.applyfunc(self._in) + scale * b1
            a1 = z1.applyfunc(self._act)
            values.update(z1=z1, a1=a1)
            values["delta1"] = _gradient_at(lambda zeta: R(*zeta.applyfunc(self._act)), z1, "zeta")
            values["dC_da1"] = _gradient_at(lambda alpha: R(*alpha), a1, "A1")
        values["C"] = values["C_of_a"](a)  # type: ignore[operator]
        return values

    def entry(self, name: str, layer: sp.Expr, r: sp.Expr, c: sp.Expr) -> sp.Expr:
        offset = self._offset(layer)
        v = self._values
        C_of_a: Callable[[sp.Matrix], sp.Expr] = v["C_of_a"]  # type: ignore[assignment]
        z: sp.Matrix = v["z"]
        if offset == 1:
            table = {"w": v["W1"], "b": v["b1"], "z": v.get("z1"), "delta": v["delta1"], "a": v["a1"],
                     "dC_da": v["dC_da1"]}
            if name not in table:
                raise NotApplicable(f"{name} above the local layer")
            return _matrix_entry(table[name], r, c)
        if offset == -1:
            if name == "a":
                return self._prev_entry(v["alpha"], r)
            if name == "dC_da":
                return rename_derivatives(sp.diff(v["C"], self._prev_entry(v["alpha"], r)))
            raise NotApplicable(f"{name} below the local layer")
        if name == "delta":
            delta = _gradient_at(lambda zeta: C_of_a(self._activate(zeta)), z, "zeta")
            return _matrix_entry(delta, r, c)
        if name == "rate":  # ∂aˡ⁺¹_q/∂aˡⱼ
            fresh = _column(self.n_here, "A")
            w1, b1, here = (cast(sp.Matrix, v[key]) for key in ("W1", "b1", "a"))
            nxt = (w1 * fresh.applyfunc(self._in) + (2 if self.broken else 1) * b1).applyfunc(self._act)
            back = dict(zip(fresh, here, strict=True))
            return rename_derivatives(sp.diff(_matrix_entry(nxt, r, 1), _matrix_entry(fresh, c,
                                                                                      1))).xreplace(back)
        if name in ("dC_da", "grad_a_C"):
            if name == "grad_a_C" and not self.output:
                raise NotApplicable("∇ₐC below the output layer")
            return _matrix_entry(_gradient_at(C_of_a, v["a"], "A"), r, c)
        if name in ("da_dz", "dz_dz"):
            if name == "dz_dz" and self.output:
                raise NotApplicable("∂zˡ⁺¹/∂zˡ at the output layer")
            fresh = _column(self.n_here, "zeta")
            out = self._activate(fresh)
            if name == "dz_dz":
                out = v["W1"] * out.applyfunc(self._in)
            back = dict(zip(fresh, z, strict=True))
            return rename_derivatives(sp.diff(_matrix_entry(out, r, 1), _matrix_entry(fresh, c,
                                                                                      1))).xreplace(back)
        if name == "dC_db":
            return rename_derivatives(sp.diff(v["C"], _matrix_entry(v["b"], r, 1)))
        if name == "dC_dw":
            return canonical(sp.diff(v["C"], self._weight(r, c)))
        table = {"w": None, "b": v["b"], "z": z, "a": v["a"], "y": v.get("y")}
        if name == "w":
            return self._weight(r, c)
        if table.get(name) is None:
            raise NotApplicable(f"{name} at the local layer")
        return _matrix_entry(table[name], r, c)

    def _prev_entry(self, alpha: object, r: sp.Expr) -> sp.Expr:
        if isinstance(alpha, sp.Matrix):
            return _matrix_entry(alpha, r, 1)
        return alpha[r]  # type: ignore[index]

    def _weight(self, r: sp.Expr, c: sp.Expr) -> sp.Expr:
        W = self._values["W"]
        if isinstance(W, sp.Matrix):
            return _matrix_entry(W, r, c)
        return W[r, c]  # type: ignore[index]


_RHO = sp.Symbol("rho", integer=True, nonnegative=True)
"""n = k + ρ with ρ ≥ 0: a symbolic width written so that index k ≤ n is evident."""


PER_EXAMPLE = {"delta", "a", "z", "grad_a_C", "dC_da", "y"}
"""The quantities one per example (a column each in a mini-batch); w and b are shared."""


# -- index form, symbolic widths ------------------------------------------------------------------

@dataclass
class IndexForm:
    """Every width symbolic, every entry an indexed symbol. The claim's left side ``expand`` (a
    quantity and layer) is expanded once by its definition and the chain rule: δˡ through
    ``delta_via`` (zˡ⁺¹ or aˡ), ∂C/∂bˡ, ∂C/∂wˡ through zˡ, ∂C/∂aˡ through zˡ⁺¹; with a
    quadratic ``cost``, ∂C/∂aᴸ is differentiated outright. Every inner derivative is SymPy's, of
    the component form zˡₜ = Σₛ wˡₜₛ aˡ⁻¹ₛ + bˡₜ with aˡ = σ(zˡ) (``linear``: aˡ = zˡ; ``broken``:
    zˡₜ = Σₛ wˡₜₛ κ(aˡ⁻¹ₛ) + 2bˡₜ, aˡ = τ(zˡ)). With ``batch``, a mini-batch of m examples:
    column x of zˡ, aˡ, δˡ is example x's, and C = (1/m)Σₓ Cₓ."""

    expand: tuple[str, sp.Expr] | None = None
    delta_via: str = "z_next"
    cost: str = "undefined"
    fixed_widths: dict[sp.Expr, sp.Expr] = field(default_factory=dict)
    linear: bool = False
    broken: bool = False
    through_sigma: bool = False
    batch: bool = False

    def bind(self, layer: sp.Expr) -> sp.Expr:
        return sp.sympify(layer)

    def width(self, layer: sp.Expr) -> sp.Expr:
        return self.fixed_widths.get(layer, n(layer))

    def _example(self, name: str, c: sp.Expr) -> sp.Expr | None:
        """The example a column stands for, in a mini-batch (None: one example)."""
        return c if self.batch and name in PER_EXAMPLE and c != 1 else None

    @staticmethod
    def _q(name: str, layer: sp.Expr, r: sp.Expr, x: sp.Expr | None = None) -> sp.Expr:
        """Entry r of a quantity, of example x in a mini-batch."""
        return comp(name, layer, r) if x is None else comp(name, layer, r, x)

    def function(self, name: str) -> Callable[[sp.Expr], sp.Expr]:
        if self.linear and name == "sigma":
            return identity
        if self.linear and name == "sigma_prime":
            return lambda e: sp.S.One
        return sp.Function(name)

    def _act(self, e: sp.Expr) -> sp.Expr:
        return tau(e) if self.broken else e if self.linear else sigma(e)

    def entry(self, name: str, layer: sp.Expr, r: sp.Expr, c: sp.Expr) -> sp.Expr:
        if name == "dC_da" and layer == L:  # ∂C/∂aᴸ is ∇ₐC
            name = "grad_a_C"
        target = self.expand
        if target is not None and target[0] == "dC_da" and target[1] == L:
            target = ("grad_a_C", L)
        if name == "da_dz":
            return sp.diff(self._act(comp("z", layer, r)), comp("z", layer, c))
        if name == "dz_dz":
            return sp.diff(self._z(layer + 1, r, through_sigma=True), comp("z", layer, c))
        if target is not None and (name, layer) == target:
            return self._expanded(name, layer, r, c)
        if name == "w_swapped":
            return comp("w", layer, c, r)
        if name == "ones":
            return sp.S.One
        if name in ("w", "dC_dw"):
            return comp(name, layer, r, c)
        return self._q(name, layer, r, self._example(name, c))

    def _z(self, layer: sp.Expr, t: sp.Expr, through_sigma: bool = False,
           x: sp.Expr | None = None) -> sp.Expr:
        s = sp.Symbol("s", integer=True, positive=True)
        prev = (self._act(self._q("z", layer - 1, s, x)) if through_sigma else self._q("a", layer - 1, s, x))
        if self.broken:
            return sp.Sum(comp("w", layer, t, s) * kappa(prev), (s, 1, self.width(layer - 1))) + 2 * comp(
                "b", layer, t)
        return sp.Sum(comp("w", layer, t, s) * prev, (s, 1, self.width(layer - 1))) + comp("b", layer, t)

    def _expanded(self, name: str, layer: sp.Expr, r: sp.Expr, c: sp.Expr) -> sp.Expr:
        t = sp.Symbol("t", integer=True, positive=True)
        x = self._example(name, c)
        if name == "z":
            return self._z(layer, r, self.through_sigma, x)
        if name == "a":
            return self._act(self._z(layer, r))
        if name == "delta" and (self.delta_via == "a" or layer == L):
            outer = self._q("grad_a_C", L, t, x) if layer == L else comp("dC_da", layer, t)
            if layer == L and self.cost == "quadratic":
                outer = comp("a", L, t) - comp("y", L, t)
            return sp.Sum(outer * sp.diff(self._act(self._q("z", layer, t, x)), self._q("z", layer, r, x)),
                          (t, 1, self.width(layer)))
        if name == "delta":
            return sp.Sum(self._q("delta", layer + 1, t, x)
                          * sp.diff(self._z(layer + 1, t, True, x), self._q("z", layer, r, x)),
                          (t, 1, self.width(layer + 1)))
        if name in ("dC_db", "dC_dw") and self.batch:  # C = (1/m)Σₓ Cₓ
            e = sp.Symbol("e", integer=True, positive=True)
            variable = comp("b", layer, r) if name == "dC_db" else comp("w", layer, r, c)
            return sp.Sum(sp.Sum(self._q("delta", layer, t, e) * sp.diff(self._z(layer, t, x=e), variable),
                                 (t, 1, self.width(layer))), (e, 1, batch_size)) / batch_size
        if name in ("dC_db", "dC_dw"):
            variable = comp("b", layer, r) if name == "dC_db" else comp("w", layer, r, c)
            return sp.Sum(comp("delta", layer, t) * sp.diff(self._z(layer, t), variable),
                          (t, 1, self.width(layer)))
        if name == "grad_a_C" and self.cost == "quadratic":
            C = sp.Sum((comp("a", L, t) - comp("y", L, t)) ** 2 / 2, (t, 1, self.width(L)))
            return sp.diff(C, comp("a", L, r))
        if name == "dC_da":
            return sp.Sum(comp("delta", layer + 1, t) * sp.diff(self._z(layer + 1, t), comp("a", layer, r)),
                          (t, 1, self.width(layer + 1)))
        raise NotApplicable(f"no definition of {name} to expand in the index form")


# -- the note's propositions: f(x(u)) ----------------------------------------------------------------

@dataclass
class Functions:
    """f(x(u)) with f and every xᵢ undefined. ``kind`` "prop1": xᵢ(u₁…u_k); "prop2": xᵢ(uᵢ);
    "prop2e": xᵢ(row i of an m×n matrix U) and u the column ``column`` of U."""

    kind: str
    sizes: tuple[int, int]
    column: int = 1

    def bind(self, layer: sp.Expr) -> sp.Expr:
        return sp.sympify(layer)

    def width(self, label: sp.Expr) -> sp.Expr:
        k, n_x = self.sizes
        if self.kind == "prop2e":
            return sp.Integer(k)  # u is a column of U (m entries), x has m entries
        return sp.Integer(k if label == u_ else n_x)

    def function(self, name: str) -> Callable[[sp.Expr], sp.Expr]:
        raise NotApplicable(f"no function {name} in the propositions")

    @functools.cached_property
    def _setup(self) -> tuple[list[sp.Symbol], list[sp.Expr], sp.Expr]:
        k, n_x = self.sizes
        if self.kind == "prop2e":
            U = sp.Matrix(k, n_x, lambda r, c: sp.Symbol(f"u_{r + 1}{c + 1}"))
            xs = [sp.Function(f"x_{r + 1}")(*U.row(r)) for r in range(k)]
            u = list(U.col(self.column - 1))
        elif self.kind == "prop2":
            u = list(sp.symbols(f"u_1:{k + 1}"))
            xs = [sp.Function(f"x_{r + 1}")(u[r]) for r in range(k)]
        else:
            u = list(sp.symbols(f"u_1:{k + 1}"))
            xs = [sp.Function(f"x_{r + 1}")(*u) for r in range(n_x)]
        return u, xs, sp.Function("f")(*xs)

    def entry(self, name: str, layer: sp.Expr, r: sp.Expr, c: sp.Expr) -> sp.Expr:
        u, xs, F = self._setup
        name = {"d_c_f": "d_u_f", "d_c_x": "d_u_x"}.get(name, name)
        ri, ci = int(r) - 1, int(c) - 1
        X = sp.symbols(f"X_1:{len(xs) + 1}")
        if name == "d_u_f":
            return rename_derivatives(sp.diff(F, u[ri]))
        if name == "d_x_f":
            return rename_derivatives(sp.diff(sp.Function("f")(*X), X[ri])).xreplace(
                dict(zip(X, xs, strict=True)))
        if name == "D_u_x":
            return sp.diff(xs[ci], u[ri])
        if name == "d_u_x":
            return sp.diff(xs[ri], u[ri])
        raise NotApplicable(f"no {name} in the propositions")


@dataclass
class FunctionsIndex:
    """The note's f(x(u)) at every size: u and x of symbolic length n = j + ρ, each xₜ an undefined
    function of its own uₜ only (Prop. 2: X(t, uₜ)) or of its own row of U only (Prop. 2E: X(t, Uₜc,
    Rₜ), with u the column c and Rₜ the rest of row t); d_u f read by Prop. 1 as Σₜ ∂xₜ/∂uᵣ ∂f/∂xₜ,
    every ∂xₜ/∂uᵣ SymPy's derivative of that premise. ``broken``: xₜ also depends on uₜ₊₁
    (``BROKEN_PROPOSITIONS``), where the propositions' claim must fail."""

    kind: str
    broken: bool = False
    size: sp.Expr = field(default_factory=lambda: sp.Symbol("j", integer=True, positive=True) + _RHO)

    def bind(self, layer: sp.Expr) -> sp.Expr:
        return sp.sympify(layer)

    def width(self, label: sp.Expr) -> sp.Expr:
        return self.size

    def function(self, name: str) -> Callable[[sp.Expr], sp.Expr]:
        raise NotApplicable(f"no function {name} in the propositions")

    def _x(self, t: sp.Expr) -> tuple[sp.Expr, sp.Expr]:
        """xₜ and the variable uₜ it depends on, by the proposition's premise."""
        X = sp.Function("X")
        if self.kind == "prop2e":
            U, rest, column = sp.IndexedBase("U"), sp.IndexedBase("R"), sp.Symbol("c", integer=True,
                                                                                  positive=True)
            if self.broken:
                return X(t, U[t, column], rest[t], U[t + 1, column]), U[t, column]
            return X(t, U[t, column], rest[t]), U[t, column]
        u = sp.IndexedBase("u")
        if self.broken:
            return X(t, u[t], u[t + 1]), u[t]
        return X(t, u[t]), u[t]

    def entry(self, name: str, layer: sp.Expr, r: sp.Expr, c: sp.Expr) -> sp.Expr:
        t = sp.Symbol("t", integer=True, positive=True)
        if name in ("d_u_f", "d_c_f"):
            return sp.Sum(sp.diff(self._x(t)[0], self._x(r)[1]) * comp("d_x_f", 0, t), (t, 1, self.size))
        if name in ("d_u_x", "d_c_x"):
            x, u = self._x(r)
            return sp.diff(x, u)
        if name == "d_x_f":
            return comp("d_x_f", 0, r)
        raise NotApplicable(f"no {name} in the propositions at every size")


# -- one output layer with a given σ and cost -----------------------------------------------------------

@dataclass
class OutputLayer:
    """The output layer alone: zᴸ of ``width_L`` free symbols, aᴸ = σ(zᴸ) with σ the sigmoid
    1/(1 + e^(−z)), C the cross-entropy cost −Σⱼ (yⱼ ln aᴸⱼ + (1 − yⱼ) ln(1 − aᴸⱼ)) (the book's ch. 3)."""

    width_L: int

    def bind(self, layer: sp.Expr) -> sp.Expr:
        return sp.sympify(layer).xreplace({l: L})

    def width(self, layer: sp.Expr) -> sp.Expr:
        if self.bind(layer) != L:
            raise NotApplicable(f"layer {layer}: only the output layer exists here")
        return sp.Integer(self.width_L)

    @staticmethod
    def _sigma(e: sp.Expr) -> sp.Expr:
        return 1 / (1 + sp.exp(-e))

    def function(self, name: str) -> Callable[[sp.Expr], sp.Expr]:
        if name == "sigma_prime":
            return lambda e: canonical(sp.Subs(sp.diff(self._sigma(_T), _T), _T, e))
        raise NotApplicable(f"no function {name}")

    @functools.cached_property
    def _values(self) -> dict[str, sp.Matrix]:
        z, y = _column(self.width_L, "z"), _column(self.width_L, "y")
        a = z.applyfunc(self._sigma)

        def C(v: Sequence[sp.Expr]) -> sp.Expr:
            return -sum(yi * sp.log(vi) + (1 - yi) * sp.log(1 - vi) for vi, yi in zip(v, y, strict=True))
        delta = _gradient_at(lambda zeta: C(zeta.applyfunc(self._sigma)), z, "zeta")
        return {"z": z, "y": y, "a": a, "delta": delta}

    def entry(self, name: str, layer: sp.Expr, r: sp.Expr, c: sp.Expr) -> sp.Expr:
        if name not in self._values:
            raise NotApplicable(f"no {name} in the output layer alone")
        return _matrix_entry(self._values[name], r, c)
