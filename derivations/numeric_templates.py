"""A template of the derivations (a SymPy object over the book's quantities) as a numpy function:
the very object a proof checks, put to numbers by ``sympy.lambdify``."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import sympy as sp
from sympy.printing.numpy import NumPyPrinter

from bpverify.derivations.notation import Apply, Diag, Outer, Q


class _Printer(NumPyPrinter):
    """NumPy code for the book's nodes: σ(v) and σ′(v) elementwise, Σ′ = diag, u ⊗ v = u vᵀ."""

    def _print_Apply(self, expr: Apply) -> str:
        return f"book_{expr.args[0]}({self._print(expr.arg)})"

    def _print_Diag(self, expr: Diag) -> str:
        return f"numpy.diagflat({self._print(expr.arg)})"

    def _print_Outer(self, expr: Outer) -> str:
        return f"numpy.outer({self._print(expr.args[0])}, {self._print(expr.args[1])})"


def lambdify_template(template: sp.Basic, bind: dict[sp.Symbol, float],
                      functions: dict[str, Callable[[np.ndarray], np.ndarray]]
                      ) -> tuple[Callable[..., np.ndarray], list[tuple[str, int]]]:
    """The template at concrete layers as a numpy function of its leaves (name, layer)."""
    bound = template.xreplace({k: sp.nsimplify(v) for k, v in bind.items()})
    leaves = sorted(bound.atoms(Q), key=sp.default_sort_key)
    symbols = [sp.MatrixSymbol(f"{q.name}_{int(q.layer)}", 1, 1) for q in leaves]
    code = bound.xreplace(dict(zip(leaves, symbols, strict=True)))
    namespace = {f"book_{name}": fn for name, fn in functions.items()}
    fn = sp.lambdify(symbols, code, modules=[namespace, "numpy"], printer=_Printer)
    return fn, [(q.name, int(q.layer)) for q in leaves]
