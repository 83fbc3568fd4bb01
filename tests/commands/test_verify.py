"""The ``bpverify verify`` report: it passes the reference, and it rejects broken ones."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from bpverify.cli import main
from bpverify.commands import verify
from bpverify.oracles import claims


@pytest.fixture(scope="module")
def report() -> verify.Report:
    """The claims about the reference (the derivation rows are tested once, below)."""
    return verify.run_verification(seed=0, derivations=False)


def test_reference_passes_every_cell(report: verify.Report) -> None:
    failing = [(r.claim, n, c.failures[0]) for r in report.rows for n, c in r.cells.items()
               if c.status == "fail"]
    assert report.passed, failing


def test_every_claim_is_measured_by_jax_and_the_complex_step(report: verify.Report) -> None:
    """No row may pass vacuously: each has cases under the two exact methods."""
    for row in (r for r in report.rows if r.derivation is None):
        for method in ("JAX autodiff", "complex step"):
            assert row.cells[method].cases > 0, (row.claim, method)
    claims = [r.claim for r in report.rows]
    assert claims[:7] == ["BP1", "BP2", "BP3", "BP4", "loop = matrix = Σ′", "path sum", "SGD rule"]


def test_json_has_every_row_and_column(report: verify.Report) -> None:
    data = json.loads(verify.to_json(report))
    assert data["seed"] == 0 and data["passed"] is True
    assert {m.column for m in verify.METHODS} == set(data["rows"][0]["cells"])
    assert "symbolic" in data["rows"][0]["cells"]
    statuses = {cell["status"] for r in data["rows"] for cell in r["cells"].values()}
    assert statuses <= {"pass", "fail", "n/a"}


def _bp2_without_sigma_prime(w_next, delta_next, z, activation):  # type: ignore[no-untyped-def]
    return w_next.T @ delta_next


@pytest.fixture
def exact_methods_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """The meta-tests need one exact column each, not the slower symbolic one, and not the
    derivation rows (tested on their own below)."""
    monkeypatch.setattr(verify, "METHODS", verify.METHODS[:2])
    monkeypatch.setattr(verify, "derivation_rows",
                        lambda seed, **_: [_stand_in_derivation_row()])


def _stand_in_derivation_row() -> verify.Row:
    """What the meta-tests see of the derivation rows: one passing row (the real ones are
    computed once, in test_every_derivation_is_a_row_with_its_proof_and_its_numbers)."""
    cells = {name: verify.Cell("proof") for name in verify.DERIVATION_COLUMNS}
    cells["SymPy proof"].cases, cells["SymPy proof"].error = 1, 0.0
    return verify.Row("prop1", "d_u f = D_u x d_x f", cells, derivation="prop1")


@pytest.mark.usefixtures("exact_methods_only")
def test_a_missing_sigma_prime_in_bp2_fails_bp2_bp3_bp4(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("bpverify.reference.backpropagation.bp2_backpropagate", _bp2_without_sigma_prime)
    broken = verify.run_verification(seed=0)
    status = {r.claim: r.cells["JAX autodiff"].status for r in broken.rows}
    assert [status[k] for k in ("BP1", "BP2", "BP3", "BP4")] == ["pass", "fail", "fail", "fail"]
    assert "✗ BP2 vs JAX autodiff: δ at layer" in verify.format_table(broken)


@pytest.mark.usefixtures("exact_methods_only")
def test_eta_instead_of_eta_over_m_fails_the_sgd_rule(monkeypatch: pytest.MonkeyPatch) -> None:
    real_step = claims.sgd_step

    def step_by_eta(w, b, X, Y, eta, *args):  # type: ignore[no-untyped-def]
        return real_step(w, b, X, Y, eta * X.shape[1], *args)
    monkeypatch.setattr(claims, "sgd_step", step_by_eta)
    broken = verify.run_verification(seed=0)
    sgd_row = next(r for r in broken.rows if r.claim == "SGD rule")
    assert sgd_row.cells["complex step"].status == "fail"
    assert not broken.passed


@pytest.mark.usefixtures("exact_methods_only")
def test_cli_exit_status_and_json(capsys: pytest.CaptureFixture[str],
                                  monkeypatch: pytest.MonkeyPatch) -> None:
    assert main(["verify", "--seed", "3", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["seed"] == 3
    assert [r["derivation"] for r in data["rows"] if r["derivation"]] == ["prop1"]  # rows of verify
    monkeypatch.setattr("bpverify.reference.backpropagation.bp2_backpropagate", _bp2_without_sigma_prime)
    assert main(["verify", "--seed", "3"]) == 1
    out = capsys.readouterr().out
    assert "FAIL:" in out and "bpverify verify --seed 3" in out


# -- the derivations' rows (every row is checked in tests/derivations/test_catalog.py) ---------

def test_a_wrong_statement_fails_its_proof_and_its_numbers(monkeypatch: pytest.MonkeyPatch) -> None:
    """The numbers are the statement's own template lambdified: a wrong BP2 fails both."""
    from bpverify.derivations import catalog
    wrong = catalog.by_name("bp2").steps[3].wrong
    broken = tuple(d.with_rhs(wrong) if d.name == "bp2" else d for d in catalog.DERIVATIONS
                   if d.name in ("bp2", "bp3"))
    monkeypatch.setattr(catalog, "DERIVATIONS", broken)
    rows = {r.derivation: r for r in verify.derivation_rows(seed=0)}
    assert rows["bp2"].cells["SymPy proof"].status == "fail"
    for method in ("reference", "JAX autodiff", "complex step", "central diff."):
        assert rows["bp2"].cells[method].status == "fail", method
    assert all(c.status != "fail" for c in rows["bp3"].cells.values())


def test_the_compilation_cache_is_in_the_users_cache_folder_unless_they_chose_one(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("JAX_COMPILATION_CACHE_DIR", "JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS",
                 "JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert verify.compilation_cache() == str(tmp_path / "bpverify" / "jax")
    assert os.environ["JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS"] == "0"
    monkeypatch.setenv("JAX_COMPILATION_CACHE_DIR", str(tmp_path / "theirs"))
    assert verify.compilation_cache() == str(tmp_path / "theirs")
    monkeypatch.delenv("JAX_COMPILATION_CACHE_DIR")
    (tmp_path / "file").write_text("")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "file"))  # cannot hold a folder
    assert verify.compilation_cache() is None and "JAX_COMPILATION_CACHE_DIR" not in os.environ
