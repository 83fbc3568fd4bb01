"""Code written in other people's styles plugs in as it is, or with a few declarations: a
chapter-3 network with cost classes and L2 decay, a row-major numpy MLP, a JAX loss of a
parameter pytree (and, in tests/test_torch.py, a torch module). Planted bugs are named."""

from __future__ import annotations

import inspect
from pathlib import Path

import pytest
from reports import SEEDS
from reports import problems as _problems

from bpverify.conformance.protocol.adapters import resolve
from bpverify.conformance.suite.runner import run_suite

STYLES = Path(__file__).resolve().parent / "styles"


def spec(name: str) -> str:
    module, attribute = name.split(":")
    return f"{STYLES / module}.py:{attribute}"



@pytest.mark.parametrize("name", ["network2_style:Network", "network2_style:QuadraticNetwork",
                                  "rows_mlp:MLP", "softmax_mlp:Classifier",
                                  "per_layer_mlp:Network"])
def test_correct_code_in_other_styles_conforms(name: str) -> None:
    report = run_suite(resolve(spec(name)), seeds=SEEDS)
    assert report.passed, _problems(report)


def test_a_chapter_3_network_is_checked_with_its_own_cost_and_its_l2_update() -> None:
    caps = resolve(spec("network2_style:Network")).capabilities
    assert caps.costs == ("cross-entropy",) and caps.l2
    assert resolve(spec("network2_style:QuadraticNetwork")).capabilities.costs == ("quadratic",)


@pytest.mark.parametrize("name, check, diagnosis", [
    ("network2_style:SigmaPrimeAddedToCrossEntropy", "BP1",
     "an extra ⊙ σ′(zᴸ): δᴸ = (−yᴸ + aᴸ) ⊙ σ′(zᴸ)"),
    ("network2_style:DecayMissingOverN", "update-rule", "it is missing /n"),
    ("network2_style:WeightsNotTransposed", "BP2", "wˡ⁺¹ instead of (wˡ⁺¹)ᵀ"),
    ("network2_style:DecayOverMiniBatchSize", "sgd", "m the mini-batch's size"),
    ("rows_mlp:MeanOverEveryEntry", "gradient-vs-reference", "declare reduction='mean_all'"),
    ("rows_mlp:BiasSummedOverNeurons", "gradient-vs-reference", None),
    ("rows_mlp:Undeclared", "shapes", "{'layout': 'rows', 'weights': 'in_out', 'biases': "
                                      "'flat', 'gradient_order': 'wb', 'reduction': 'mean'"),
    ("pvml_style:MLP", "shapes", "declare bpverify_capabilities = {'activation': "
                                 "'relu/softmax', 'cost': 'categorical-cross-entropy'"),
    ("pvml_style:LabelsByArgmax", "BP1", "y taken as the one-hot vector of its largest entry"),
    ("jax_style:undeclared_full_square", "gradient-vs-reference", "declare quadratic='full'"),
    ("softmax_mlp:ElementwiseSoftmaxDerivative", "BP1", "the softmax is not elementwise"),
    ("per_layer_mlp:FirstLayersDerivative", "BP2", None),
])
def test_planted_bugs_and_missing_declarations_are_named(name: str, check: str,
                                                         diagnosis: str | None) -> None:
    report = run_suite(resolve(spec(name)), only=[check], case="square" if "jax" in name
                       else None)
    outcome = report.outcomes[0]
    assert outcome.status == "fail", (name, outcome.status, outcome.detail)
    if diagnosis is not None:
        assert outcome.failure is not None and diagnosis in (outcome.failure.diagnosis or ""), (
            name, outcome.failure)


@pytest.mark.parametrize("name", ["rows_mlp:Undeclared", "pvml_style:MLP"])
def test_a_declaration_hint_applied_literally_conforms(name: str) -> None:
    """The hint of a class whose declaration is incomplete (pvml's style declares
    reduction='mean' but not the gradient's order) is the whole declaration, the declared keys
    kept: written as it is printed, the class conforms, and no second hint contradicts it."""
    import ast

    import bpverify.conformance.protocol.loading as loading
    cls = loading.load(spec(name))
    report = run_suite(resolve(spec(name)), only=["shapes"])
    hint = report.outcomes[0].failure.diagnosis or ""  # type: ignore[union-attr]
    literal = hint.split("bpverify_capabilities = ", 1)[1]
    declared = ast.literal_eval(literal)
    assert declared.get("reduction") == "mean"  # kept, not "sum"
    fixed = type(cls.__name__, (cls,), {"bpverify_capabilities": declared})
    fixed.__module__ = cls.__module__
    from bpverify.conformance.protocol.adapters import as_implementation
    after = run_suite(as_implementation(fixed), seeds=2)
    assert after.passed, _problems(after)


def test_w_for_w_transposed_fails_bp2_and_names_the_line_it_crashes_on_elsewhere() -> None:
    """network2 with w for wᵀ crashes on every network whose wˡ⁺¹ is not square: shapes is an
    ERROR at its file:line, and BP2, judged on the square network, fails and names both."""
    report = run_suite(resolve(spec("network2_style:WeightsNotTransposed")))
    outcomes = {o.check.id: o for o in report.outcomes}
    assert outcomes["shapes"].status == "error"
    assert "network2_style.py:" in outcomes["shapes"].detail
    bp2 = outcomes["BP2"]
    assert bp2.status == "fail" and bp2.failure is not None
    assert "wˡ⁺¹ instead of (wˡ⁺¹)ᵀ" in (bp2.failure.diagnosis or "")
    assert "it crashes there, at " in bp2.note and "network2_style.py:" in bp2.note


def test_a_row_major_mean_reduced_mlp_needs_five_lines_of_declarations() -> None:
    from styles.rows_mlp import MLP  # type: ignore[import-not-found]
    source = inspect.getsource(MLP).split("def __init__")[0]
    declaration = source[source.index("bpverify_capabilities"):].strip().splitlines()
    assert len(declaration) <= 5, declaration


def test_a_jax_function_of_a_parameter_pytree_conforms_on_one_network() -> None:
    report = run_suite(resolve(spec("jax_style:implementation")), case="square")
    assert report.passed, _problems(report)


def test_a_cost_that_is_neither_quadratic_nor_cross_entropy_must_be_declared() -> None:
    from styles.network2_style import Network  # type: ignore[import-not-found]

    class Quartic:
        @staticmethod
        def fn(a, y):  # type: ignore[no-untyped-def]
            return float(((a - y) ** 4).sum())

        @staticmethod
        def delta(z, a, y):  # type: ignore[no-untyped-def]
            return 4 * (a - y) ** 3

    class QuarticNetwork(Network):
        def __init__(self, sizes):  # type: ignore[no-untyped-def]
            super().__init__(sizes, cost=Quartic)

    from bpverify.conformance.protocol.adapters import as_implementation
    with pytest.raises(ValueError, match="neither the quadratic nor the cross-entropy.*declare"):
        as_implementation(QuarticNetwork)


def test_a_custom_cost_is_declared_as_a_cost_and_checked_with_it() -> None:
    from styles.network2_style import Network  # type: ignore[import-not-found]

    from bpverify.conformance.protocol.adapters import as_implementation
    from bpverify.reference import costs

    quartic = costs.custom(lambda a, y: 0.25 * ((a - y) ** 4).sum(), lambda a, y: (a - y) ** 3,
                           name="quartic (test)")

    class QuarticCost:
        @staticmethod
        def fn(a, y):  # type: ignore[no-untyped-def]
            return float(0.25 * ((a - y) ** 4).sum())

        @staticmethod
        def delta(z, a, y):  # type: ignore[no-untyped-def]
            return (a - y) ** 3 * a * (1 - a)

    class QuarticNetwork(Network):
        bpverify_capabilities = {"cost": quartic}

        def __init__(self, sizes):  # type: ignore[no-untyped-def]
            super().__init__(sizes, cost=QuarticCost)

    class HalfQuarticNetwork(QuarticNetwork):  # a planted bug: the ¼ of C left in ∇ₐC
        def __init__(self, sizes):  # type: ignore[no-untyped-def]
            super().__init__(sizes)
            self.cost = type("Wrong", (QuarticCost,), {"delta": staticmethod(
                lambda z, a, y: 0.25 * (a - y) ** 3 * a * (1 - a))})

    report = run_suite(as_implementation(QuarticNetwork), seeds=2)
    assert report.passed and report.outcomes[0].network is not None, _problems(report)
    assert report.outcomes[0].network.cost == "quartic (test)"
    wrong = run_suite(as_implementation(HalfQuarticNetwork), only=["BP1"])
    assert wrong.outcomes[0].status == "fail"


def test_an_activation_per_layer_fixes_the_depth_of_every_network_checked() -> None:
    report = run_suite(resolve(spec("per_layer_mlp:Network")), only=["BP2", "saturation"])
    networks = [o.network for o in report.outcomes]
    assert all(n is not None and n.L == 4 and n.activation == "tanh,relu,sigmoid"
               for n in networks), networks
    wrong = run_suite(resolve(spec("per_layer_mlp:FirstLayersDerivative")), only=["BP2"])
    failure = wrong.outcomes[0].failure
    assert failure is not None and failure.layer == 3, failure  # the relu layer, and only it


def test_a_list_of_one_activation_fixes_one_weight_layer() -> None:
    from styles.per_layer_mlp import Network  # type: ignore[import-not-found]

    from bpverify.conformance.protocol.adapters import as_implementation

    class OneLayer(Network):
        bpverify_capabilities = {"activation": ["tanh"]}

        def __init__(self, sizes):  # type: ignore[no-untyped-def]
            super().__init__(sizes, activations=("tanh",))

    report = run_suite(as_implementation(OneLayer), only=["gradient-vs-reference"])
    assert report.passed and report.outcomes[0].network is not None, _problems(report)
    assert report.outcomes[0].network.L == 2


@pytest.mark.parametrize("declared, message", [
    (["tanh", "nonesuch"], "'nonesuch', expected one of"),
    (["softmax", "sigmoid"], "softmax"),
    ([], "a name per layer"),
    (3, "int, expected a name"),
])
def test_a_bad_activation_declaration_names_the_declaration(declared: object,
                                                             message: str) -> None:
    from styles.per_layer_mlp import Network  # type: ignore[import-not-found]

    from bpverify.conformance.protocol.adapters import as_implementation

    class Declared(Network):
        bpverify_capabilities = {"activation": declared}

    with pytest.raises(ValueError, match=r"bpverify_capabilities\['activation'\]") as raised:
        as_implementation(Declared)
    assert message in str(raised.value)
