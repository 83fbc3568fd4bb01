"""Printers of the book's notation (δˡ, zˡ, (wˡ⁺¹)ᵀ, ⊙, Σ′, ∂C/∂wˡⱼₖ) for the templates of
``derivations.notation``: plain text (Unicode), LaTeX, and the note's notation (d_z C, W, a′).

Every formula a derivation shows is printed here from the object its check used.

Kept whole: the three printers (text, LaTeX, the note's notation) walk the same node types side by
side.
"""

from __future__ import annotations

import sympy as sp
from sympy.printing.latex import LatexPrinter
from sympy.printing.str import StrPrinter

from bpverify.derivations.notation import QUANTITIES, Apply, Diag, L, Outer, Q, l

SUPERSCRIPT = str.maketrans("0123456789+-()lLnmx", "⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁽⁾ˡᴸⁿᵐˣ")
SUBSCRIPT = str.maketrans("0123456789+-()jkinmpxstu", "₀₁₂₃₄₅₆₇₈₉₊₋₍₎ⱼₖᵢₙₘₚₓₛₜᵤ")
SUBSCRIPT_CHARS = set("₀₁₂₃₄₅₆₇₈₉₊₋₍₎ⱼₖᵢₙₘₚₓₛₜᵤ")

BOOK_TEXT = {"w": "w", "b": "b", "z": "z", "a": "a", "delta": "δ", "y": "y", "w_swapped": "w̃",
             "dC_db": "∂C/∂b", "dC_dw": "∂C/∂w", "dC_da": "∂C/∂a", "grad_a_C": "∇ₐC"}
BOOK_LATEX = {"w": "w", "b": "b", "z": "z", "a": "a", "delta": r"\delta", "y": "y",
              "w_swapped": r"\tilde{w}", "dC_db": "b", "dC_dw": "w", "dC_da": "a",
              "grad_a_C": r"\nabla_a C"}
NOTE_TEXT = {"w": "W", "b": "b", "z": "z", "a": "a", "y": "y", "delta": "d_z C", "dC_db": "d_b C",
             "dC_dw": "D_W C", "dC_da": "d_a C", "grad_a_C": "d_a C", "w_swapped": "W̃"}
DERIVED = {"dC_db", "dC_dw", "dC_da"}
COUNTS = {"passes_46": "evaluations of C for eq. 46", "mults_forward": "multiplications, forward",
          "mults_backward": "multiplications, backward"}
FIXED_TEXT = {"d_u_f": "d_u f", "D_u_x": "D_u x", "d_x_f": "d_x f", "d_u_x": "d_u x", "d_r_x": "d_r x",
              "d_c_f": "d_cⱼ f", "d_c_x": "d_cⱼ x", "Delta_b": "Δb", "Delta_W": "ΔW", "ones": "1"}
FIXED_LATEX = {"d_u_f": r"d_{u} f", "D_u_x": r"D_{u} x", "d_x_f": r"d_{x} f", "d_u_x": r"d_{u} x",
               "d_r_x": r"d_{r} x", "d_c_f": r"d_{c_j} f", "d_c_x": r"d_{c_j} x", "Delta_b": r"\Delta b",
               "Delta_W": r"\Delta W", "ones": r"\mathbf{1}"}
TRAIN_TEXT = {"Train_W": "W{} after Train", "Train_b": "b{} after Train",
              "Train_W_swapped": "W{} after Train with the updates first",
              "Train_b_swapped": "b{} after Train with the updates first",
              "dC1_dw": "∂C₁/∂W{}", "dC1_db": "∂C₁/∂b{}", "dC2_dw": "∂C₂/∂W{}(θ₁)", "dC2_db": "∂C₂/∂b{}(θ₁)",
              "dC2_dw0": "∂C₂/∂W{}(θ₀)", "dC2_db0": "∂C₂/∂b{}(θ₀)"}
TRAIN_LATEX = {"Train_W": r"W^{{{}}}_{{\text{{Train}}}}", "Train_b": r"b^{{{}}}_{{\text{{Train}}}}",
               "Train_W_swapped": r"W^{{{}}}_{{\text{{Train, updates first}}}}",
               "Train_b_swapped": r"b^{{{}}}_{{\text{{Train, updates first}}}}",
               "dC1_dw": r"\frac{{\partial C_{{1}}}}{{\partial W^{{{}}}}}",
               "dC1_db": r"\frac{{\partial C_{{1}}}}{{\partial b^{{{}}}}}",
               "dC2_dw": r"\left.\frac{{\partial C_{{2}}}}{{\partial W^{{{}}}}}\right|_{{\theta_{{1}}}}",
               "dC2_db": r"\left.\frac{{\partial C_{{2}}}}{{\partial b^{{{}}}}}\right|_{{\theta_{{1}}}}",
               "dC2_dw0": r"\left.\frac{{\partial C_{{2}}}}{{\partial W^{{{}}}}}\right|_{{\theta_{{0}}}}",
               "dC2_db0": r"\left.\frac{{\partial C_{{2}}}}{{\partial b^{{{}}}}}\right|_{{\theta_{{0}}}}"}
"""The note's Train on two examples: the weights and biases it leaves, and the gradients of the
examples' costs C₁, C₂ at the start θ₀ and after one step θ₁."""
FUNCTIONS_TEXT = {"sigma": "σ", "sigma_prime": "σ′", "f": "f", "f_prime": "f′", "C": "C"}
FUNCTIONS_LATEX = {"sigma": r"\sigma", "sigma_prime": r"\sigma'", "f": "f", "f_prime": "f'"}
SYMBOLS_TEXT = {"eta": "η", "epsilon": "ε", "lambda": "λ", "_s0": "s", "_s1": "t", "_s2": "u",
                "rho": "ρ", "rho1": "ρ₁", "rho2": "ρ₂"}
"""The canonical form's summation indices (_s0, _s1, …) and the ρ of a symbolic width n = j + ρ."""
SYMBOLS_LATEX = {"eta": r"\eta", "epsilon": r"\epsilon", "λ": r"\lambda", "Δw": r"\Delta w",
                 "Δa": r"\Delta a"}


CHANGES = {"DC_w", "Da_w", "Danext_a", "Danext_w1"}
"""§2.7's changes (``notation.QUANTITIES``)."""


def _sub(index: str) -> str:
    """An index as a subscript where Unicode has one (j → ⱼ), else _q."""
    shown = index.translate(SUBSCRIPT)
    return shown if all(c in SUBSCRIPT_CHARS for c in shown) else f"_{index}"


def _layer_text(layer: sp.Expr) -> str:
    """l + 1 → 'l+1', L - 1 → 'L-1': the symbol first, then the offset (a superscript)."""
    layer = sp.sympify(layer)
    constant, rest = layer.as_coeff_Add()
    if rest == 0:
        return str(constant)
    head = str(rest).replace(" ", "")
    if constant == 0:
        return head
    return f"{head}+{constant}" if constant > 0 else f"{head}-{-constant}"


def _primes(layer: sp.Expr) -> str | None:
    """The note's primes: l → '', l − 1 → ′, l − 2 → ″; None where the layer is not l − k."""
    offset = sp.simplify(l - layer)
    if offset.is_Integer and 0 <= int(offset) <= 2:
        return ["", "′", "″"][int(offset)]
    return None


def _grouped(expr: sp.Basic) -> bool:
    """True for nodes that need parentheses inside a product, ⊙ or transpose."""
    return isinstance(expr, sp.MatAdd | sp.MatMul | sp.HadamardProduct | Outer | sp.Add)


class BookTextPrinter(StrPrinter):
    """Plain Unicode: δˡ = ((wˡ⁺¹)ᵀδˡ⁺¹) ⊙ σ′(zˡ); ``note=True`` prints the note's d_z C, W, a′."""

    printmethod = "_book_text"

    def __init__(self, note: bool = False) -> None:
        super().__init__({"order": "none"})
        self.note = note

    def _wrap(self, expr: sp.Basic) -> str:
        text = self._print(expr)
        return f"({text})" if _grouped(expr) else text

    def _print_Q(self, expr: Q) -> str:
        layer = expr.layer
        if expr.name in TRAIN_TEXT:
            return TRAIN_TEXT[expr.name].format(_layer_text(layer).translate(SUPERSCRIPT))
        if expr.name in FIXED_TEXT:
            return FIXED_TEXT[expr.name] + (_layer_text(layer).translate(SUPERSCRIPT)
                                            if expr.name.startswith("Delta") else "")
        if self.note:
            primes = _primes(layer)
            if primes is not None or layer == L:
                mark = primes if primes is not None else "ᴸ"
                base = NOTE_TEXT[expr.name]
                if expr.name in ("delta", "dC_db", "dC_da"):
                    return f"d_{base[2]}{mark} C"
                if expr.name == "dC_dw":
                    return f"D_W{mark} C"
                return base + mark
        name = BOOK_TEXT[expr.name]
        if expr.name == "grad_a_C":
            return name + ("^(X)" if expr.columns != 1 else "")
        if expr.columns != 1 and QUANTITIES[expr.name][1] == "1":  # a mini-batch: one column per x
            return f"{name}^(X,{_layer_text(layer).replace('-', '−')})"
        sup = _layer_text(layer).translate(SUPERSCRIPT)
        if expr.name in DERIVED:
            return f"{name}{sup}"
        return f"{name}{sup}"

    def _print_Transpose(self, expr: sp.Transpose) -> str:
        inner = self._print(expr.arg)
        needs = _grouped(expr.arg) or (isinstance(expr.arg, Q) and not self.note
                                       and expr.arg.name not in ("grad_a_C", "ones"))
        return f"({inner})ᵀ" if needs else f"{inner}ᵀ"

    def _print_MatMul(self, expr: sp.MatMul) -> str:
        coeff, factors = expr.as_coeff_mmul()
        parts = [self._wrap(x) for x in factors.args]
        body = "".join(parts) if not self.note else " ".join(parts)
        if coeff == 1:
            return body
        sign, magnitude = ("−", -coeff) if coeff.could_extract_minus_sign() else ("", coeff)
        if magnitude == 1:
            return f"{sign}{body}"
        lead = self._print(magnitude)
        lead = lead if isinstance(magnitude, sp.Symbol | sp.Integer) else f"({lead})"
        return f"{sign}{lead} {body}"

    def _print_MatAdd(self, expr: sp.MatAdd) -> str:
        out = ""
        for n_term, term in enumerate(expr.args):
            text = self._print(term)
            if n_term and text.startswith("−"):
                out += f" − {text[1:]}"
            else:
                out += f" + {text}" if n_term else text
        return out

    def _print_HadamardProduct(self, expr: sp.HadamardProduct) -> str:
        return " ⊙ ".join(self._wrap(x) for x in expr.args)

    def _print_Apply(self, expr: Apply) -> str:
        if str(expr.args[0]) == "one_minus":
            return f"(1 − {self._print(expr.arg)})"
        return f"{FUNCTIONS_TEXT.get(str(expr.args[0]), str(expr.args[0]))}({self._print(expr.arg)})"

    def _print_Diag(self, expr: Diag) -> str:
        if isinstance(expr.arg, Apply) and str(expr.arg.args[0]) == "sigma_prime":
            return f"Σ′({self._print(expr.arg.arg)})"
        return f"diag({self._print(expr.arg)})"

    def _print_Outer(self, expr: Outer) -> str:
        return f"{self._wrap(expr.args[0])} ⊗ {self._wrap(expr.args[1])}"

    def _print_Indexed(self, expr: sp.Indexed) -> str:
        name = str(expr.base)
        layer, *indices = expr.indices
        sub = "".join(self._print(x).replace(" ", "") for x in indices).translate(SUBSCRIPT)
        sup = _layer_text(layer).translate(SUPERSCRIPT)
        if name in DERIVED:
            return f"∂C/∂{name[-1]}{sup}{sub}"
        if name == "grad_a_C":
            return f"∂C/∂aᴸ{sub}"
        if name == "rate":
            above = _layer_text(layer + 1).translate(SUPERSCRIPT)
            return f"∂a{above}{_sub(self._print(indices[0]))}/∂a{sup}{_sub(self._print(indices[1]))}"
        if name == "rate_w":
            return f"∂a{sup}{self._print(indices[0]).translate(SUBSCRIPT)}/∂w{sup}{sub}"
        if name in CHANGES:
            first, second = (_sub(self._print(x)) for x in indices)
            above = _layer_text(layer + 1).translate(SUPERSCRIPT)
            return {"DC_w": f"ΔC(Δw{sup}{first}{second})", "Da_w": f"Δa{sup}{first}(Δw{sup}{first}{second})",
                    "Danext_a": f"Δa{above}{first}(Δa{sup}{second})",
                    "Danext_w1": f"Δa{above}{first}(Δw{sup}{second}₁)"}[name]
        if name in ("da_dz", "dz_dz"):
            top = "a" + sup if name == "da_dz" else "z" + _layer_text(layer + 1).translate(SUPERSCRIPT)
            return (f"∂{top}{self._print(indices[0]).translate(SUBSCRIPT)}/"
                    f"∂z{sup}{self._print(indices[1]).translate(SUBSCRIPT)}")
        if name in COUNTS:
            return COUNTS[name]
        return f"{BOOK_TEXT.get(name, name)}{sup}{sub}"

    def _print_Function(self, expr: sp.Function) -> str:
        name = FUNCTIONS_TEXT.get(expr.func.__name__, expr.func.__name__)
        if expr.func.__name__ == "n":
            layer = _layer_text(expr.args[0])
            shown = layer.translate(SUBSCRIPT)
            return "n" + shown if all(c in SUBSCRIPT_CHARS for c in shown) else f"n({layer})"
        return f"{name}({', '.join(self._print(x) for x in expr.args)})"

    def _print_Symbol(self, expr: sp.Symbol) -> str:
        return SYMBOLS_TEXT.get(expr.name, expr.name)

    def _print_Sum(self, expr: sp.Sum) -> str:
        natural = all(lo == 1 and isinstance(hi, sp.Function) for _, lo, hi in expr.limits)
        if natural:
            indices = "".join(str(v) for v, *_ in expr.limits).translate(SUBSCRIPT)
            return f"Σ{indices} {self._wrap(expr.function)}"
        ranges = ", ".join(f"{self._print(v)}={self._print(lo)}..{self._print(hi)}"
                           for v, lo, hi in expr.limits)
        return f"Σ[{ranges}] {self._wrap(expr.function)}"

    def _print_Mul(self, expr: sp.Mul) -> str:
        if any(isinstance(x, sp.Sum) for x in expr.args) and len(expr.args) > 1:
            coeff, rest = expr.as_coeff_Mul()
            parts = [f"({self._print(x)})" if isinstance(x, sp.Sum | sp.Add) else self._print(x)
                     for x in sp.Mul.make_args(rest)]
            head = "" if coeff == 1 else "−" if coeff == -1 else f"{self._print(coeff)} "
            return head + " ".join(parts)
        text = super()._print_Mul(expr)
        return text.replace("*", " ").replace("-", "−")

    def _print_Add(self, expr: sp.Add, order: str | None = None) -> str:
        out = ""
        for n_term, term in enumerate(expr.as_ordered_terms()):
            negative = term.could_extract_minus_sign()
            shown = self._print(-term if negative else term)
            if isinstance(-term if negative else term, sp.Add):
                shown = f"({shown})"
            out += (" − " if negative else " + ") + shown if n_term else ("−" if negative else "") + shown
        return out

    def _print_Derivative(self, expr: sp.Derivative) -> str:
        fn = expr.expr
        if isinstance(fn, sp.core.function.AppliedUndef) and len(expr.variable_count) == 1 and (
                fn.args == (expr.variable_count[0][0],)):
            count = int(expr.variable_count[0][1])
            marks = {1: "′", 2: "″", 3: "‴"}.get(count, f"⁽{str(count).translate(SUPERSCRIPT)}⁾")
            name = FUNCTIONS_TEXT.get(fn.func.__name__, fn.func.__name__)
            return f"{name}{marks}({self._print(fn.args[0])})"
        variables = "".join(f"∂{self._print(v)}" for v in expr.variables)
        return f"∂/{variables} {self._print(expr.expr)}"

    def _print_Order(self, expr: sp.Order) -> str:
        return f"O({self._print(expr.expr)})"

    def _print_Pow(self, expr: sp.Pow, rational: bool = False) -> str:
        if expr.exp.is_Integer and expr.exp > 1:
            return f"{self._print(expr.base)}{str(expr.exp).translate(SUPERSCRIPT)}"
        return super()._print_Pow(expr, rational)


class BookLatexPrinter(LatexPrinter):
    r"""LaTeX: \delta^{l} = \left(\left(w^{l+1}\right)^{T}\delta^{l+1}\right) \odot \sigma'(z^{l})."""

    printmethod = "_book_latex"

    def __init__(self, note: bool = False) -> None:
        super().__init__({"order": "none"})
        self.note = note

    def _layer(self, layer: sp.Expr) -> str:
        return _layer_text(layer).replace("λ", r"\lambda ")

    def _wrap(self, expr: sp.Basic) -> str:
        text = self._print(expr)
        return rf"\left({text}\right)" if _grouped(expr) else text

    def _print_Q(self, expr: Q) -> str:
        layer = expr.layer
        if expr.name in TRAIN_LATEX:
            return TRAIN_LATEX[expr.name].format(self._layer(layer))
        if expr.name in FIXED_LATEX:
            layer_mark = f"^{{{self._layer(layer)}}}" if expr.name.startswith("Delta") else ""
            return FIXED_LATEX[expr.name] + layer_mark
        if self.note:
            primes = _primes(layer)
            if primes is not None or layer == L:
                mark = {"": "", "′": "'", "″": "''"}[primes] if primes is not None else "^{L}"
                if expr.name in ("delta", "dC_db", "dC_da"):
                    var = {"delta": "z", "dC_db": "b", "dC_da": "a"}[expr.name]
                    return rf"d_{{{var}{mark}}} C"
                if expr.name == "dC_dw":
                    return rf"D_{{W{mark}}} C"
                base = {"w": "W", "w_swapped": r"\tilde{W}"}.get(expr.name, expr.name)
                return f"{base}{mark}"
        name = BOOK_LATEX[expr.name]
        if expr.name == "grad_a_C":
            return name + ("^{X}" if expr.columns != 1 else "")
        if expr.columns != 1 and QUANTITIES[expr.name][1] == "1":
            return f"{name}^{{X,{self._layer(layer)}}}"
        if expr.name in DERIVED:
            return rf"\frac{{\partial C}}{{\partial {name}^{{{self._layer(layer)}}}}}"
        return f"{name}^{{{self._layer(layer)}}}"

    def _print_Transpose(self, expr: sp.Transpose) -> str:
        inner = self._print(expr.arg)
        needs = _grouped(expr.arg) or (isinstance(expr.arg, Q) and not self.note
                                       and expr.arg.name not in ("grad_a_C", "ones"))
        return rf"\left({inner}\right)^{{T}}" if needs else f"{{{inner}}}^{{T}}"

    def _print_MatMul(self, expr: sp.MatMul) -> str:
        coeff, factors = expr.as_coeff_mmul()
        body = " ".join(self._wrap(x) for x in factors.args)
        if coeff == 1:
            return body
        if coeff == -1:
            return f"-{body}"
        lead = self._print(coeff)
        return (rf"\left({lead}\right) " if isinstance(coeff, sp.Add) else lead + " ") + body

    def _print_MatAdd(self, expr: sp.MatAdd) -> str:
        out = ""
        for n_term, term in enumerate(expr.args):
            text = self._print(term)
            out += text if not n_term else (f" - {text[1:]}" if text.startswith("-") else f" + {text}")
        return out

    def _print_HadamardProduct(self, expr: sp.HadamardProduct) -> str:
        return r" \odot ".join(self._wrap(x) for x in expr.args)

    def _print_Apply(self, expr: Apply) -> str:
        if str(expr.args[0]) == "one_minus":
            return rf"\left(1 - {self._print(expr.arg)}\right)"
        name = FUNCTIONS_LATEX.get(str(expr.args[0]), str(expr.args[0]))
        return rf"{name}\left({self._print(expr.arg)}\right)"

    def _print_Diag(self, expr: Diag) -> str:
        if isinstance(expr.arg, Apply) and str(expr.arg.args[0]) == "sigma_prime":
            return rf"\Sigma'\left({self._print(expr.arg.arg)}\right)"
        return rf"\operatorname{{diag}}\left({self._print(expr.arg)}\right)"

    def _print_Outer(self, expr: Outer) -> str:
        return rf"{self._wrap(expr.args[0])} \otimes {self._wrap(expr.args[1])}"

    def _print_Indexed(self, expr: sp.Indexed) -> str:
        name = str(expr.base)
        layer, *indices = expr.indices
        sub = "".join(self._print(x) for x in indices)
        sup = self._layer(layer)
        if name in DERIVED:
            return rf"\frac{{\partial C}}{{\partial {name[-1]}^{{{sup}}}_{{{sub}}}}}"
        if name == "grad_a_C":
            return rf"\frac{{\partial C}}{{\partial a^{{L}}_{{{sub}}}}}"
        if name == "rate":
            above = _layer_text(layer + 1)
            return (rf"\frac{{\partial a^{{{above}}}_{{{self._print(indices[0])}}}}}"
                    rf"{{\partial a^{{{sup}}}_{{{self._print(indices[1])}}}}}")
        if name == "rate_w":
            return (rf"\frac{{\partial a^{{{sup}}}_{{{self._print(indices[0])}}}}}"
                    rf"{{\partial w^{{{sup}}}_{{{sub}}}}}")
        if name in CHANGES:
            first, second = (self._print(x) for x in indices)
            above = _layer_text(layer + 1)
            return {"DC_w": rf"\Delta C\left(\Delta w^{{{sup}}}_{{{first}{second}}}\right)",
                    "Da_w": rf"\Delta a^{{{sup}}}_{{{first}}}\left(\Delta "
                            rf"w^{{{sup}}}_{{{first}{second}}}\right)",
                    "Danext_a": rf"\Delta a^{{{above}}}_{{{first}}}\left(\Delta "
                                rf"a^{{{sup}}}_{{{second}}}\right)",
                    "Danext_w1": rf"\Delta a^{{{above}}}_{{{first}}}\left(\Delta "
                                 rf"w^{{{sup}}}_{{{second}1}}\right)"}[name]
        if name in ("da_dz", "dz_dz"):
            top = f"a^{{{sup}}}" if name == "da_dz" else f"z^{{{_layer_text(layer + 1)}}}"
            return (rf"\frac{{\partial {top}_{{{self._print(indices[0])}}}}}"
                    rf"{{\partial z^{{{sup}}}_{{{self._print(indices[1])}}}}}")
        if name in COUNTS:
            return r"\text{" + COUNTS[name] + "}"
        return f"{BOOK_LATEX.get(name, name)}^{{{sup}}}_{{{sub}}}"

    def _print_Function(self, expr: sp.Function, exp: str | None = None) -> str:
        name = expr.func.__name__
        if name == "n":
            return f"n_{{{self._layer(expr.args[0])}}}"
        if name in FUNCTIONS_LATEX:
            args = ", ".join(self._print(x) for x in expr.args)
            text = rf"{FUNCTIONS_LATEX[name]}\left({args}\right)"
            return f"{text}^{{{exp}}}" if exp else text
        return super()._print_Function(expr, exp)

    def _print_Symbol(self, expr: sp.Symbol, style: str = "plain") -> str:
        return SYMBOLS_LATEX.get(expr.name) or super()._print_Symbol(expr, style)


def text(expr: sp.Basic, note: bool = False) -> str:
    """The template in Unicode, as the book writes it (or the note, with ``note=True``)."""
    return BookTextPrinter(note)._print(expr)


def latex(expr: sp.Basic, note: bool = False) -> str:
    """The template in LaTeX (math mode)."""
    return BookLatexPrinter(note)._print(expr)


def equation_text(lhs: sp.Basic, rhs: sp.Basic, note: bool = False) -> str:
    return f"{text(lhs, note)} = {text(rhs, note)}"


def equation_latex(lhs: sp.Basic, rhs: sp.Basic, note: bool = False) -> str:
    return f"{latex(lhs, note)} = {latex(rhs, note)}"


PROSE_LATEX = {
    "δ": r"\delta", "σ": r"\sigma", "Σ": r"\Sigma", "η": r"\eta", "ε": r"\epsilon", "∂": r"\partial",
    "∇": r"\nabla", "⊙": r"\odot", "⊗": r"\otimes", "×": r"\times", "≤": r"\leq", "≥": r"\geq",
    "≠": r"\neq", "→": r"\to", "⇒": r"\Rightarrow", "∈": r"\in", "·": r"\cdot", "ζ": r"\zeta",
    "ρ": r"\rho", "ᵀ": "^{T}", "′": "'", "″": "''", "‴": "'''", "ₐ": "_{a}", "ⱼ": "_{j}", "ₖ": "_{k}",
    "ᵢ": "_{i}", "ₓ": "_{x}", "ₗ": "_{l}", "ˡ": "^{l}", "ᴸ": "^{L}", "⁺": "^{+}", "⁻": "^{-}",
    "¹": "^{1}", "²": "^{2}", "³": "^{3}", "⁴": "^{4}", "ᵖ": "^{p}", "ˣ": "^{x}", "₁": "_{1}",
    "₂": "_{2}", "−": "-", "‖": r"\|", "½": r"\tfrac{1}{2}", "…": r"\ldots", "—": "---", "–": "--",
    "Δ": r"\Delta", "θ": r"\theta", "ξ": r"\xi", "α": r"\alpha", "λ": r"\lambda", "ₚ": "_{p}",
    "ₙ": "_{n}", "ₘ": "_{m}", "₍": "_{(}", "₎": "_{)}", "⁽": "^{(}", "⁾": "^{)}", "ᵐ": "^{m}", "ⁿ": "^{n}",
    "⁰": "^{0}", "ₑ": "_{e}", "ₒ": "_{o}", "≡": r"\equiv", "≈": r"\approx", "∞": r"\infty",
    "ᵣ": "_{r}", "ⱼ₌": "_{j=}",
    "ₛ": "_{s}", "ₜ": "_{t}", "ᵤ": "_{u}", "₀": "_{0}",
    "⁵": "^{5}", "⁶": "^{6}", "⁷": "^{7}", "⁸": "^{8}", "⁹": "^{9}",
    "₃": "_{3}", "₄": "_{4}", "₋": "_{-}", "₊": "_{+}",
}
TEXT_SYMBOLS = {"§": r"\S{}", "“": "``", "”": "''", "’": "'", "w̃": r"$\tilde{w}$", "Ã": "A"}
TEXT_ESCAPES = {"&": r"\&", "%": r"\%", "#": r"\#", "_": r"\_", "{": r"\{", "}": r"\}", "^": r"\^{}",
                "~": r"\~{}", "\\": r"\textbackslash{}", "$": r"\$"}


def latex_prose(prose: str) -> str:
    """Prose with the book's symbols (δˡ, σ′, ⊙ …) as LaTeX that pdflatex compiles: each run of
    symbols set in math mode, the rest escaped; characters without a mapping are an error."""
    out, math = [], []
    tilded = {}
    for n_char, ch in enumerate(prose[1:], 1):  # a letter with a combining tilde: \tilde{w}
        if ch == "\u0303":
            tilded[n_char - 1] = prose[n_char - 1]
    for n_char, ch in enumerate(prose):
        if ch == "\u0303":
            continue
        if n_char in tilded:
            math.append(rf"\tilde{{{ch}}}")
            continue
        if ch in PROSE_LATEX:
            token = PROSE_LATEX[ch]
            if math and token[:2] in ("_{", "^{") and math[-1][:2] == token[:2] and math[-1].endswith("}"):
                math[-1] = math[-1][:-1] + token[2:]  # x_{j}_{k} is a double subscript: x_{jk}
            else:
                math.append(token)
            continue
        if math:
            out.append("$" + "".join(math) + "$")
            math = []
        if ch in TEXT_ESCAPES:
            out.append(TEXT_ESCAPES[ch])
        elif ch in TEXT_SYMBOLS:
            out.append(TEXT_SYMBOLS[ch])
        elif ord(ch) < 128:
            out.append(ch)
        else:
            raise ValueError(f"no LaTeX for {ch!r} (U+{ord(ch):04X}) in {prose!r}")
    if math:
        out.append("$" + "".join(math) + "$")
    return "".join(out)


class BookPythonPrinter(StrPrinter):
    """A matrix template as the Python that ``bpverify derive --try`` reads back:
    ``(w[l+1].T @ delta[l+1]) * sigma_prime(z[l])`` (``*`` of two matrices is ⊙)."""

    printmethod = "_book_python"

    def __init__(self) -> None:
        super().__init__({"order": "none"})

    def _wrap(self, expr: sp.Basic) -> str:
        text_ = self._print(expr)
        return f"({text_})" if _grouped(expr) or isinstance(expr, sp.Add) else text_

    def _print_Q(self, expr: Q) -> str:
        if expr.name in TRAIN_TEXT:
            return f"{expr.name}[{_layer_text(expr.layer)}]"
        if expr.name in ("grad_a_C", "y") or expr.name in FIXED_TEXT and not expr.name.startswith("Delta"):
            return expr.name + ("_X" if expr.columns != 1 and expr.name == "grad_a_C" else "")
        batch = "_X" if expr.columns != 1 and QUANTITIES[expr.name][1] == "1" else ""
        return f"{expr.name}{batch}[{_layer_text(expr.layer)}]"

    def _print_Transpose(self, expr: sp.Transpose) -> str:
        return f"{self._wrap(expr.arg)}.T"

    def _print_MatMul(self, expr: sp.MatMul) -> str:
        coeff, factors = expr.as_coeff_mmul()
        body = " @ ".join(self._wrap(x) for x in factors.args)
        if coeff == 1:
            return body
        if coeff == -1:
            return f"-{body}" if len(factors.args) == 1 else f"-({body})"
        return f"{self._wrap(coeff)} * ({body})" if len(factors.args) > 1 else f"{self._wrap(coeff)} * {body}"

    def _print_MatAdd(self, expr: sp.MatAdd) -> str:
        out = ""
        for n_term, term in enumerate(expr.args):
            shown = self._print(term)
            out += shown if not n_term else (f" - {shown[1:]}" if shown.startswith("-") else f" + {shown}")
        return out

    def _print_HadamardProduct(self, expr: sp.HadamardProduct) -> str:
        return " * ".join(self._wrap(x) for x in expr.args)

    def _print_Apply(self, expr: Apply) -> str:
        return f"{expr.args[0]}({self._print(expr.arg)})"

    def _print_Diag(self, expr: Diag) -> str:
        return f"diag({self._print(expr.arg)})"

    def _print_Outer(self, expr: Outer) -> str:
        return f"outer({self._print(expr.args[0])}, {self._print(expr.args[1])})"

    def _print_Mul(self, expr: sp.Mul) -> str:
        factors = sp.Mul.make_args(expr)
        if any(isinstance(x, sp.Indexed | sp.Sum | sp.Function) for x in factors):
            coeff, rest = expr.as_coeff_Mul()
            parts = [self._wrap(x) if isinstance(x, sp.Add) else self._print(x)
                     for x in sp.Mul.make_args(rest)]
            head = "" if coeff == 1 else "-" if coeff == -1 else f"{self._print(coeff)} * "
            return head + " * ".join(parts)
        return super()._print_Mul(expr).replace(" ", "")

    def _print_Symbol(self, expr: sp.Symbol) -> str:
        return expr.name

    def _print_Indexed(self, expr: sp.Indexed) -> str:
        """An entry: delta[l][j], w[l+1][k][j] (the book counts neurons from 1)."""
        layer, *indices = expr.indices
        name = str(expr.base)
        if name in ("grad_a_C", "y"):  # at layer L only: grad_a_C[j]
            return name + "".join(f"[{self._print(x)}]" for x in indices)
        batch = "_X" if len(indices) == 2 and QUANTITIES[name][1] == "1" else ""  # delta_X[l][j][x]
        return f"{name}{batch}[{_layer_text(layer)}]" + "".join(f"[{self._print(x)}]" for x in indices)

    def _print_Sum(self, expr: sp.Sum) -> str:
        """Σₖ₌₁..N BODY as sum(BODY for k in range(N)): range's N values stand for neurons 1..N."""
        body = self._print(expr.function)
        for var, low, high in expr.limits:  # the first limit is the innermost sum
            if low != 1:
                raise ValueError(f"a sum from {low}: not in the notation of --try")
            body = f"sum({body} for {var} in range({self._print(high)}))"
        return body

    def _print_Function(self, expr: sp.Function) -> str:
        if expr.func.__name__ == "n":
            return f"n[{_layer_text(expr.args[0])}]"
        return f"{expr.func.__name__}({', '.join(self._print(x) for x in expr.args)})"


def python(expr: sp.Basic) -> str:
    """The template as Python in the book's names (the notation of ``--try``)."""
    return BookPythonPrinter()._print(expr)
