"""`bpverify check` (commands/check.py): the verdict is computed outside the implementation's
process; the sandbox imports what Python would; a crash or a hang names the user's line."""

from __future__ import annotations

import importlib
import re
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from handed_in import FAKE, backprop_runs_first, hangs_in_backprop, w_for_w_transposed

from bpverify.commands import check
from bpverify.commands.check import main as check_main
from bpverify.conformance.specimens.sources import book_source

# JAX (imported by other tests in the same worker) warns at every fork; the forks here never
# call into JAX: the sandboxes run numpy and the book's network only.
pytestmark = pytest.mark.filterwarnings("ignore:os.fork\\(\\) was called:RuntimeWarning")

FAST = {"only": ["shapes", "BP2"]}
"""Two checks: enough to see that the implementation imported and answers right."""


def test_check_exits_non_zero_when_the_implementation_fakes_its_verdict(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "network.py").write_text(backprop_runs_first(f"print({FAKE!r}, flush=True)\nos._exit(0)"))
    monkeypatch.chdir(tmp_path)
    assert check_main("network:Network", seconds=2.0) == 1
    captured = capsys.readouterr()
    assert FAKE in captured.err  # shown, as what it printed …
    assert "ERROR: its process exited with status 0" in captured.out  # … and judged
    assert "DOES NOT CONFORM" in captured.out
    (tmp_path / "network.py").write_text(book_source())
    assert check_main("network:Network", seconds=2.0) == 0
    assert "isolated: " in capsys.readouterr().out


@pytest.fixture
def elsewhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A project folder, and the current folder another one; ``sys.path`` and the meta path
    restored afterwards (what PYTHONPATH, a .pth file or an editable finder adds to them), and
    the modules of the project forgotten (``sys.modules`` itself is kept: bpverify's modules
    first imported during the test must stay the ones the next test sees)."""
    monkeypatch.setattr(sys, "path", list(sys.path))
    monkeypatch.setattr(sys, "meta_path", list(sys.meta_path))
    (tmp_path / "run").mkdir()
    monkeypatch.chdir(tmp_path / "run")
    project = tmp_path / "studentproj"
    (project / "studentnet").mkdir(parents=True)
    (project / "studentnet" / "__init__.py").write_text("")
    (project / "studentnet" / "helpers.py").write_text("BACKPROP = 'backprop'\n")
    (project / "studentnet" / "network.py").write_text(
        book_source("\nfrom .helpers import BACKPROP  # a relative import\n"))
    (project / "solo.py").write_text(book_source())
    yield project
    for name in [n for n in sys.modules if n.startswith(("studentnet", "solo", "__editable__"))]:
        del sys.modules[name]


def _conforms(spec: str, capsys: pytest.CaptureFixture[str], **options: object) -> None:
    code = check_main(spec, seconds=5.0, **{**FAST, **options})  # type: ignore[arg-type]
    out, err = capsys.readouterr()
    assert code == 0 and "CONFORMS" in out, err


def test_a_project_on_pythonpath_conforms_from_another_folder(
        elsewhere: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """PYTHONPATH=/abs/studentproj (what Python makes of it: a sys.path entry)."""
    sys.path.insert(1, str(elsewhere))
    _conforms("solo:Network", capsys)
    _conforms("studentnet.network:Network", capsys)


def test_an_editable_install_conforms_from_another_folder(
        elsewhere: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """``pip install -e`` by setuptools (64+, a flat layout): the finder module setuptools writes
    into site-packages, from setuptools' own template, installed as its .pth file does."""
    editable_wheel = pytest.importorskip("setuptools.command.editable_wheel")
    finder = elsewhere.parent / "site"
    finder.mkdir()
    name = "__editable___studentnet_0_1_finder"
    (finder / f"{name}.py").write_text(editable_wheel._finder_template(
        name, {"studentnet": str(elsewhere / "studentnet")}, {}))
    sys.path.append(str(finder))
    importlib.import_module(name).install()  # the line of __editable__.studentnet-0.1.pth
    sys.path.remove(str(finder))
    assert importlib.util.find_spec("studentnet") is not None
    _conforms("studentnet.network:Network", capsys)


def test_a_module_of_a_package_by_path_conforms(
        elsewhere: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _conforms(f"{elsewhere / 'studentnet' / 'network.py'}:Network", capsys)
    _conforms("../studentproj/studentnet/network.py:Network", capsys)


def test_a_folder_outside_is_refused_in_one_line_naming_the_way_in(
        elsewhere: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
        ) -> None:
    """The control: without its import roots the same project is refused, in one line that
    names the folder and --read; with --read it conforms."""
    sys.path.insert(1, str(elsewhere))
    monkeypatch.setattr(check, "import_roots", lambda spec, cwd: (str(cwd),))
    assert check_main("solo:Network", seconds=5.0, **FAST) == 2  # type: ignore[arg-type]
    err = capsys.readouterr().err
    assert f"'solo' is {elsewhere / 'solo.py'}: outside the folders the sandbox may read" in err
    assert f"--read {elsewhere}" in err and "Errno" not in err
    assert len(err.strip().splitlines()) == 1
    _conforms("solo:Network", capsys, read=[str(elsewhere)])


def test_a_crash_and_a_hang_name_the_users_line(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
        ) -> None:
    monkeypatch.chdir(tmp_path)
    source, line = w_for_w_transposed()
    (tmp_path / "network.py").write_text(source)
    assert check_main("network:Network", seconds=5.0, only=["shapes"]) == 1
    out = capsys.readouterr().out
    assert f"(at network.py:{line} in backpropagate: return np.dot(w_next, delta)" in out
    source, lines = hangs_in_backprop()
    (tmp_path / "network.py").write_text(source)
    assert check_main("network:Network", seconds=0.5, only=["shapes"]) == 1
    out = capsys.readouterr().out
    stopped = re.search(r"did not return within 0\.5 s \(a hang\?\); its process was stopped at "
                        r"network\.py:(\d+) in backprop: (while True:|x = x \+ 0); more time: "
                        r"--timeout SECONDS", out)
    assert stopped and int(stopped[1]) in lines, out


def test_a_slow_import_has_its_own_limit_and_names_its_option(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
        ) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "network.py").write_text(book_source("import time\ntime.sleep(1.5)\n"))
    assert check_main("network:Network", seconds=0.5, import_seconds=30.0, **FAST) == 0  # type: ignore[arg-type]
    capsys.readouterr()
    assert check_main("network:Network", import_seconds=0.5, **FAST) == 2  # type: ignore[arg-type]
    err = capsys.readouterr().err
    assert "did not finish importing within 0.5 s (a hang?); it was at network.py:" in err
    assert "time.sleep(1.5); more time: --import-timeout SECONDS" in err


def test_thorough_leaves_no_hypothesis_folder(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
        ) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "network.py").write_text(book_source())
    assert check_main("network:Network", thorough=True, only=["BP1"]) == 0
    assert "Hypothesis" in capsys.readouterr().out
    assert sorted(p.name for p in tmp_path.iterdir()) == ["network.py"]


def test_noise_the_sandbox_causes_in_libraries_is_not_shown_unless_the_run_errs(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
        ) -> None:
    """PyTorch's cpuinfo complains that it cannot read /proc (the sandbox hides it): not the
    implementation's output when it conforms; everything is shown when it does not load."""
    monkeypatch.chdir(tmp_path)
    printed = ("import sys\nprint('Error in cpuinfo: failed to parse processor information "
               "from /proc/cpuinfo', file=sys.stderr)\nprint('loading my data')\n")
    (tmp_path / "network.py").write_text(book_source(printed))
    assert check_main("network:Network", **FAST) == 0  # type: ignore[arg-type]
    err = capsys.readouterr().err
    assert "loading my data" in err and "cpuinfo" not in err
    (tmp_path / "network.py").write_text(book_source(printed + "raise RuntimeError('no data')\n"))
    assert check_main("network:Network", **FAST) == 2  # type: ignore[arg-type]
    err = capsys.readouterr().err
    assert "Error in cpuinfo" in err and "no data" in err


def test_an_exception_while_the_class_is_built_names_the_users_line(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """``import numpy as nmp`` with ``np.random`` in ``__init__``: the NameError is raised when
    the suite builds the network, not at import, and still says where (as an error in the
    module's own lines does, once, without the location twice)."""
    source = book_source().replace("import numpy as np", "import numpy as nmp", 1)
    (tmp_path / "network.py").write_text(source)
    line = next(n for n, text in enumerate(source.splitlines(), 1)
                if "np.random" in text and "def " not in text)
    monkeypatch.chdir(tmp_path)
    assert check_main("network.py:Network", **FAST) == 2
    err = capsys.readouterr().err
    assert f"NameError: name 'np' is not defined (at network.py:{line} in __init__:" in err
    (tmp_path / "network.py").write_text("import numpy as np\nnp.nope()\n")
    assert check_main("network.py:Network", **FAST) == 2
    err = capsys.readouterr().err
    assert err.count("network.py:2") == 1, err
