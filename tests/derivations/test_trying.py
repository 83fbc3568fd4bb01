"""``bpverify derive NAME --try EXPR`` decides by truth: student formulas, right and wrong, for every
BP and Fact, in the book's names, numpy's spellings and the book's printed notation, each with the
answer it must get: true (everywhere the statement applies), true where defined (with where it is
not), false (with a counterexample), or refused as bad input (with what to write instead)."""

from __future__ import annotations

import pytest

from bpverify.derivations.catalog import by_name
from bpverify.derivations.trying import Answer, BadFormula, attempt


def _bpverify_derive(argv: list[str]) -> int:
    """``bpverify derive ARGV`` as the command line reads it (the entry point users type)."""
    from bpverify.cli import main
    return main(["derive", *argv])


TRUE, WHERE, FALSE, BAD = "true", "true where defined", "false", "bad input"

FORMULAS: list[tuple[str, str, str]] = [
    # BP1: δᴸ = ∇ₐC ⊙ σ′(zᴸ)
    ("bp1", "grad_a_C * sigma_prime(z[L])", TRUE),
    ("bp1", "np.multiply(grad_a_C, sigma_prime(z[L]))", TRUE),
    ("bp1", "diag(sigma_prime(z[L])) @ grad_a_C", TRUE),
    ("bp1", "dC_da[L] * sigma_prime(z[L])", TRUE),
    ("bp1", "∇ₐC ⊙ σ′(zᴸ)", TRUE),
    ("bp1", "Σ′(zᴸ)∇ₐC", TRUE),
    ("bp1", "grad_a_C[j] * sigma_prime(z[L][j])", TRUE),
    ("bp1", "grad_a_C", FALSE),
    ("bp1", "grad_a_C * sigma(z[L])", FALSE),
    ("bp1", "grad_a_C * sigma_prime(a[L])", FALSE),
    ("bp1", "grad_a_C.T @ diag(sigma_prime(z[L]))", FALSE),
    ("bp1", "(a[L] - y) * sigma_prime(z[L])", FALSE),  # only for the quadratic cost
    # BP1 for the quadratic cost: δᴸ = (aᴸ − y) ⊙ σ′(zᴸ)
    ("bp1_quadratic", "(a[L] - y) * sigma_prime(z[L])", TRUE),
    ("bp1_quadratic", "grad_a_C * sigma_prime(z[L])", TRUE),
    ("bp1_quadratic", "(y - a[L]) * sigma_prime(z[L])", FALSE),
    ("bp1_quadratic", "a[L] - y", FALSE),
    # BP2: δˡ = ((wˡ⁺¹)ᵀδˡ⁺¹) ⊙ σ′(zˡ)
    ("bp2", "(w[l+1].T @ delta[l+1]) * sigma_prime(z[l])", TRUE),
    ("bp2", "w[l+1].T @ delta[l+1] * sigma_prime(z[l])", TRUE),  # @ and * bind alike, left to right
    ("bp2", "np.multiply(np.dot(w[l+1].T, delta[l+1]), sigma_prime(z[l]))", TRUE),
    ("bp2", "numpy.multiply(numpy.transpose(w[l+1]) @ delta[l+1], sigma_prime(z[l]))", TRUE),
    ("bp2", "w[l+1].transpose().dot(delta[l+1]) * sigma_prime(z[l])", TRUE),
    ("bp2", "np.matmul(w[l+1].T, delta[l+1]) * sigma_prime(z[l])", TRUE),
    ("bp2", "diag(sigma_prime(z[l])) @ w[l+1].T @ delta[l+1]", TRUE),
    ("bp2", "np.einsum('kj,k->j', w[l+1], delta[l+1]) * sigma_prime(z[l])", TRUE),
    ("bp2", "sum(w[l+1][k][j] * delta[l+1][k] for k in range(n[l+1])) * sigma_prime(z[l][j])", TRUE),
    ("bp2", "sum(w[l+1][k, j] * delta[l+1, k] for k in range(len(delta[l+1]))) * sigma_prime(z[l, j])", TRUE),
    ("bp2", "dC_da[l] * sigma_prime(z[l])", TRUE),
    ("bp2", "(w[l+1].T @ (dC_da[l+1] * sigma_prime(z[l+1]))) * sigma_prime(z[l])", TRUE),
    ("bp2", "((wˡ⁺¹)ᵀδˡ⁺¹) ⊙ σ′(zˡ)", TRUE),
    ("bp2", "delta[l] = (w[l+1].T @ delta[l+1]) * sigma_prime(z[l])", TRUE),
    ("bp2", "w[l+1].T @ delta[l+1]", FALSE),
    ("bp2", "(w[l+1] @ delta[l+1]) * sigma_prime(z[l])", FALSE),
    ("bp2", "(w[l+1].T @ delta[l+1]) * sigma(z[l])", FALSE),
    ("bp2", "(w[l+1].T @ delta[l+1]) * sigma_prime(z[l+1])", FALSE),
    ("bp2", "(w[L].T @ delta[L]) * sigma_prime(z[l])", FALSE),
    ("bp2", "w[l+1].T @ diag(sigma_prime(z[l+1])) @ delta[l+1]", FALSE),
    ("bp2", "sum(w[l+1][j][k] * delta[l+1][k] for k in range(n[l+1])) * sigma_prime(z[l][j])", FALSE),
    # BP3: ∂C/∂bˡ = δˡ
    ("bp3", "delta[l]", TRUE),
    ("bp3", "delta[l][j]", TRUE),
    ("bp3", "dC_da[l] * sigma_prime(z[l])", TRUE),  # Fact 2, at every layer
    ("bp3", "diag(sigma_prime(z[l])) @ w[l+1].T @ delta[l+1]", WHERE),  # Σ′ form: below the output
    ("bp3", "(w[l+1].T @ delta[l+1]) * sigma_prime(z[l])", WHERE),
    ("bp3", "-delta[l]", FALSE),
    ("bp3", "delta[l] * sigma_prime(z[l])", FALSE),
    ("bp3", "delta[l] * a[l]", FALSE),
    ("bp3", "dC_db[l]", BAD),  # circular
    # BP4: ∂C/∂wˡ = δˡ(aˡ⁻¹)ᵀ
    ("bp4", "delta[l] @ a[l-1].T", TRUE),
    ("bp4", "np.outer(delta[l], a[l-1])", TRUE),
    ("bp4", "np.dot(delta[l], a[l-1].T)", TRUE),
    ("bp4", "delta[l][j] * a[l-1][k]", TRUE),
    ("bp4", "dC_db[l] @ a[l-1].T", TRUE),
    ("bp4", "np.einsum('j,k->jk', delta[l], a[l-1])", TRUE),
    ("bp4", "(dC_da[l] * sigma_prime(z[l])) @ a[l-1].T", TRUE),
    ("bp4", "δˡ(aˡ⁻¹)ᵀ", TRUE),
    ("bp4", "delta[l] @ sigma(z[l-1]).T", WHERE),  # a¹ = x is not σ(z¹)
    ("bp4", "(diag(sigma_prime(z[l])) @ w[l+1].T @ delta[l+1]) @ a[l-1].T", WHERE),
    ("bp4", "a[l-1] @ delta[l].T", FALSE),
    ("bp4", "delta[l] @ a[l].T", FALSE),
    ("bp4", "delta[l][k] * a[l-1][j]", FALSE),
    ("bp4", "delta[l] * a[l-1]", FALSE),
    # Fact 6 (the note): ∂C/∂aˡ⁻¹ = (wˡ)ᵀδˡ
    ("fact6", "w[l].T @ delta[l]", TRUE),
    ("fact6", "np.dot(w[l].T, delta[l])", TRUE),
    ("fact6", "sum(w[l][k][j] * delta[l][k] for k in range(n[l]))", TRUE),
    ("fact6", "w[l].T @ (dC_da[l] * sigma_prime(z[l]))", TRUE),
    ("fact6", "w[l] @ delta[l]", FALSE),
    ("fact6", "w[l].T @ dC_da[l]", FALSE),
    # Facts 2–5 at layer l, Facts 1–5 at L (the note)
    ("facts2-5", "outer(delta[l], a[l-1])", TRUE),
    ("facts2-5", "outer(a[l-1], delta[l])", FALSE),
    ("facts1-5", "outer(delta[L], a[L-1])", TRUE),
    ("facts1-5", "outer(grad_a_C, a[L-1])", FALSE),
    # Σ′(z), parts 1–3
    ("sigma_prime_form", "(w[l+1].T @ delta[l+1]) * sigma_prime(z[l])", TRUE),
    ("sigma_prime_form", "Σ′(zˡ)(wˡ⁺¹)ᵀδˡ⁺¹", TRUE),
    ("sigma_prime_form", "w[l+1].T @ diag(sigma_prime(z[l+1])) @ delta[l+1]", FALSE),
    # linear neurons: δˡ = (wˡ⁺¹)ᵀδˡ⁺¹ when σ(z) = z
    ("linear_neurons", "w[l+1].T @ delta[l+1]", TRUE),
    ("linear_neurons", "(w[l+1].T @ delta[l+1]) * sigma_prime(z[l])", TRUE),
    ("linear_neurons", "w[l+1] @ delta[l+1]", FALSE),
    # the forward equations: aˡ = σ(wˡaˡ⁻¹ + bˡ)
    ("forward", "sigma(w[l] @ a[l-1] + b[l])", TRUE),
    ("forward", "sigma(np.dot(w[l], a[l-1]) + b[l])", TRUE),
    ("forward", "sigma(z[l])", TRUE),
    ("forward", "sigma(sum(w[l][j][k] * a[l-1][k] for k in range(n[l-1])) + b[l][j])", TRUE),
    ("forward", "sigma(w[l].T @ a[l-1] + b[l])", FALSE),
    ("forward", "sigma(w[l] @ a[l-1])", FALSE),
    # the mini-batch rule and the fully matrix-based approach
    ("mini_batch", "-eta / m * delta_X[l] @ a_X[l-1].T", TRUE),
    ("mini_batch", "-eta * delta_X[l] @ a_X[l-1].T", FALSE),
    ("matrix_based", "(w[l+1].T @ delta_X[l+1]) * sigma_prime(z_X[l])", TRUE),
    ("matrix_based", "w[l+1].T @ delta_X[l+1]", FALSE),
    # the exercises, the propositions, σ′, cross-entropy, Backpropagate
    ("modified_neuron", "sum(w[l+1][k][1] * delta[l+1][k] for k in range(n[l+1])) * f_prime(z[l][1])", TRUE),
    ("modified_neuron", "sum(w[l+1][k][1] * delta[l+1][k] for k in range(n[l+1])) * sigma_prime(z[l][1])",
     FALSE),
    ("prop1", "D_u_x @ d_x_f", TRUE),
    ("prop1", "D_u_x.T @ d_x_f", FALSE),
    ("prop2", "d_x_f * d_u_x", TRUE),
    ("prop2", "d_x_f", FALSE),
    ("sigmoid_prime", "sigma(t) * (1 - sigma(t))", TRUE),
    ("sigmoid_prime", "sigma(t) - sigma(t)**2", TRUE),
    ("sigmoid_prime", "sigma(t) * (1 + sigma(t))", FALSE),
    ("cross_entropy", "a[L] - y", TRUE),
    ("cross_entropy", "(a[L] - y) * sigma_prime(z[L])", FALSE),
    ("backpropagate", "-eta * dC_dw[l]", TRUE),
    ("backpropagate", "-eta * delta[l] @ a[l-1].T", TRUE),
    ("backpropagate", "eta * dC_dw[l]", FALSE),
    # bad input: what to write instead
    ("bp2", "w[l+1]^T @ delta[l+1]", BAD),
    ("bp2", "(w[l+1].T @ delta[l+1]) * sigma'(z[l])", BAD),
    ("bp2", "W[l+1].T @ delta[l+1]", BAD),
    ("bp2", "w[L+1].T @ delta[L+1]", BAD),
    ("bp2", "delta[l][0]", BAD),
    ("bp2", "-delta[l]", BAD),  # circular
]


def _outcome(name: str, formula: str) -> tuple[str, Answer | BadFormula]:
    try:
        answer = attempt(by_name(name), formula)
    except BadFormula as refused:
        return BAD, refused
    return (WHERE if answer.where else TRUE) if answer.true else FALSE, answer


@pytest.fixture(scope="module")
def outcomes() -> dict[tuple[str, str], tuple[str, Answer | BadFormula]]:
    return {(name, formula): _outcome(name, formula) for name, formula, _ in FORMULAS}


def test_the_table_covers_every_bp_and_fact_and_numpy(outcomes: dict) -> None:  # type: ignore[type-arg]
    assert len(FORMULAS) >= 60
    names = {name for name, _, _ in FORMULAS}
    assert {"bp1", "bp2", "bp3", "bp4", "facts1-5", "facts2-5", "fact6", "sigma_prime_form"} <= names
    assert sum("np." in f or "numpy." in f for _, f, _ in FORMULAS) >= 8
    assert {expected for _, _, expected in FORMULAS} == {TRUE, WHERE, FALSE, BAD}


def test_no_false_accept_and_no_false_reject(outcomes: dict) -> None:  # type: ignore[type-arg]
    wrong = [(name, formula, expected, outcomes[(name, formula)][0])
             for name, formula, expected in FORMULAS if outcomes[(name, formula)][0] != expected]
    assert not wrong, "\n".join(f"{n} --try {f!r}: {got}, expected {e}" for n, f, e, got in wrong)


def test_a_false_answer_names_its_counterexample_in_the_books_notation(outcomes: dict) -> None:  # type: ignore[type-arg]
    report = outcomes[("bp2", "w[l+1].T @ delta[l+1]")][1].report()
    assert "sizes [1, 1, 1] at l = 2" in report
    assert "the right side lacks the factor σ′(z²₁)" in report and "where z²₁ = b²₁ + w²₁₁ x₁" in report
    assert "C_d1" not in report and "sigma" not in report and " …" not in report


def test_bp2_written_with_layer_L_is_refuted_where_bp2_applies(outcomes: dict) -> None:  # type: ignore[type-arg]
    report = outcomes[("bp2", "(w[L].T @ delta[L]) * sigma_prime(z[l])")][1].report()
    assert "sizes [1, 1, 1, 1] at l = 2" in report  # l < L, where BP2 is a claim; not l = L


def test_true_where_defined_says_where_not(outcomes: dict) -> None:  # type: ignore[type-arg]
    answer = outcomes[("bp3", "diag(sigma_prime(z[l])) @ w[l+1].T @ delta[l+1]")][1]
    assert "true for 2 ≤ l ≤ L − 1; at l = L, wˡ⁺¹ and δˡ⁺¹ do not exist" in answer.report()
    answer = outcomes[("bp4", "delta[l] @ sigma(z[l-1]).T")][1]
    assert "at l = 2, zˡ⁻¹ does not exist" in answer.report()


@pytest.mark.parametrize("name, formula, message", [
    ("bp2", "w[l+1]^T @ delta[l+1]", "the transpose is .T"),
    ("bp2", "(w[l+1].T @ delta[l+1]) * sigma'(z[l])", "σ′ is sigma_prime"),
    ("bp2", "W[l+1].T @ delta[l+1]", "did you mean w?"),
    ("bp3", "dC_db[l]", "circular"),
    ("bp2", "grad_b", "The names are"),
])
def test_bad_input_says_what_to_write(outcomes: dict, name: str, formula: str, message: str) -> None:  # type: ignore[type-arg]
    found = outcomes.get((name, formula)) or _outcome(name, formula)
    assert found[0] == BAD and message in str(found[1])


def test_a_leading_minus_reaches_try_through_argparse(capsys: pytest.CaptureFixture[str]) -> None:
    run = _bpverify_derive
    assert run(["bp3", "--try", "-delta[l]"]) == 1
    assert run(["bp3", "--try=-delta[l]"]) == 1
    out = capsys.readouterr().out
    assert out.count("false: ∂C/∂bˡ = −δˡ") == 2
