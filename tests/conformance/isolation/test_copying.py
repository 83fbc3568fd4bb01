"""``copy_capped`` (conformance/copying.py), the copy of a submission into its private folder
(issue 17, item 2: a full disk, and a 1 GiB sparse file copied densely and left half copied).

Each refusal has its negative control: the same tree within the limit, or the copy the grader
made before (``shutil.copytree``), shows that what is refused is what was a threat.
"""

from __future__ import annotations

import os
import shutil
import stat
from pathlib import Path

import pytest
from hypothesis import event, given
from hypothesis import strategies as st

from bpverify.conformance.isolation import copying, submissions
from bpverify.conformance.isolation.copying import PAGE, CopyRefused, copy_capped
from bpverify.conformance.isolation.submissions import Submission, private_copy

LIMIT = 64 * PAGE
NON_UTF8 = b"caf\xe9-\xff.py"
"""A Latin-1 name: not UTF-8, so Python sees it as a str with lone surrogates."""


def _tree(root: Path) -> dict[bytes, tuple[str, bytes | int]]:
    """Every entry below ``root`` by its relative name in bytes: a file's content and mode, a
    folder's mode, a link's text."""
    found: dict[bytes, tuple[str, bytes | int]] = {}
    top = os.fsencode(root)
    for folder, dirs, files in os.walk(top):
        for name in dirs + files:
            path = os.path.join(folder, name)
            rel = os.path.relpath(path, top)
            info = os.lstat(path)
            if stat.S_ISLNK(info.st_mode):
                found[rel] = ("link", os.readlink(path))
            elif stat.S_ISDIR(info.st_mode):
                found[rel] = ("folder", stat.S_IMODE(info.st_mode))
            else:
                found[rel] = (f"file {stat.S_IMODE(info.st_mode):o}", Path(os.fsdecode(path)).read_bytes())
    return found


@pytest.fixture
def src(tmp_path: Path) -> Path:
    """A small submission: files, a nested folder, links that stay inside, a non-UTF-8 name."""
    root = tmp_path / "src"
    (root / "pkg" / "deep").mkdir(parents=True)
    (root / "network.py").write_text("Network = None\n")
    (root / "pkg" / "util.py").write_text("x = 1\n")
    (root / "pkg" / "deep" / "data.txt").write_bytes(bytes(range(256)) * 20)
    (root / "run.sh").write_text("#!/bin/sh\n")
    (root / "run.sh").chmod(0o755)
    os.symlink("pkg/util.py", root / "alias.py")
    os.symlink("../util.py", root / "pkg" / "deep" / "up.py")
    os.symlink("..", root / "pkg" / "parent")  # the root itself: inside
    Path(os.fsdecode(os.path.join(os.fsencode(root), NON_UTF8))).write_bytes(b"# latin-1\n")
    return root


def test_a_folder_is_copied_whole_and_exactly(src: Path, tmp_path: Path) -> None:
    charged = copy_capped(src, tmp_path / "dst", LIMIT)
    assert _tree(tmp_path / "dst") == _tree(src)
    assert NON_UTF8 in os.listdir(os.fsencode(tmp_path / "dst"))
    files = [p for p in src.rglob("*") if p.is_file() and not p.is_symlink()]
    assert charged == sum(-(-p.stat().st_size // PAGE) * PAGE for p in files)
    assert (tmp_path / "dst" / "network.py").stat().st_mtime_ns == \
        (src / "network.py").stat().st_mtime_ns


def test_a_single_file_is_copied(src: Path, tmp_path: Path) -> None:
    assert copy_capped(src / "network.py", tmp_path / "one.py", LIMIT) == PAGE
    assert (tmp_path / "one.py").read_text() == "Network = None\n"


def test_a_sparse_file_stays_sparse_and_is_charged_its_data(tmp_path: Path) -> None:
    """The audit's 1 GiB sparse file: its copy holds one page of data at the same offset, the
    same size, and costs one page of the limit, not a GiB."""
    src = tmp_path / "src"
    src.mkdir()
    with open(src / "weights.bin", "wb") as f:
        f.truncate(1 << 30)
        f.seek(512 << 20)
        f.write(b"data")
    if (src / "weights.bin").stat().st_blocks * 512 > 64 * PAGE:
        pytest.skip("this file system does not keep holes")
    assert copy_capped(src, tmp_path / "dst", LIMIT) == PAGE
    copied = tmp_path / "dst" / "weights.bin"
    assert copied.stat().st_size == 1 << 30
    assert copied.stat().st_blocks * 512 <= 64 * PAGE
    with open(copied, "rb") as f:
        f.seek((512 << 20) - 2)
        assert f.read(8) == b"\0\0data\0\0"


def test_the_limit_stops_the_copy_naming_the_file_and_the_sizes(src: Path, tmp_path: Path) -> None:
    (src / "zz-weights.bin").write_bytes(os.urandom(LIMIT))
    with pytest.raises(CopyRefused) as refused:
        copy_capped(src, tmp_path / "dst", LIMIT)
    message = str(refused.value)
    assert f"{src}/zz-weights.bin: its data, 256.0 KiB ({LIMIT} bytes)" in message
    assert f"over its limit of 256.0 KiB ({LIMIT} bytes)" in message
    assert "had been copied before it, and the partial copy is removed" in message
    assert not (tmp_path / "dst").exists()
    # negative control: the same tree within a limit one file larger is copied
    assert copy_capped(src, tmp_path / "dst", 2 * LIMIT) > LIMIT


def test_a_copy_exactly_at_the_limit_is_allowed(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    (src / "a").write_bytes(bytes(3 * PAGE))
    (src / "b").write_bytes(bytes(PAGE + 1))  # two pages
    assert copy_capped(src, tmp_path / "fits", 5 * PAGE) == 5 * PAGE
    with pytest.raises(CopyRefused, match="b: its data"):
        copy_capped(src, tmp_path / "over", 5 * PAGE - 1)


@pytest.mark.parametrize(("name", "target", "why"), [
    ("abs", "/etc/passwd", "an absolute path"),
    ("up", "../outside.txt", "which leads above the copied folder"),
    ("sneaky", "pkg/deep/../../../outside.txt", "which leads above the copied folder"),
    ("through-a-link", "pkg/parent/../outside.txt", "which leads above the copied folder"),
    ("loop", "loop", "a loop"),
])
def test_a_link_leading_outside_is_refused(src: Path, tmp_path: Path, name: str, target: str,
                                           why: str) -> None:
    """Lexically inside is not enough: pkg/parent is a link to the root, so its .. is above."""
    (tmp_path / "outside.txt").write_text("a neighbour's file")
    os.symlink(target, src / name)
    with pytest.raises(CopyRefused, match=why) as refused:
        copy_capped(src, tmp_path / "dst", LIMIT)
    assert f"{src}/{name}: a symbolic link to {target}" in str(refused.value)
    assert not (tmp_path / "dst").exists()


def test_the_old_copy_kept_a_link_to_a_neighbour(src: Path, tmp_path: Path) -> None:
    """Negative control of the refusal: the grader's copy before (copytree, links as links)
    kept a link that, in the copy, reads the neighbour's file (a file beside the copy, as the
    other copies are beside it in the grader's workspace)."""
    (tmp_path / "outside.txt").write_text("a neighbour's file")
    os.symlink("pkg/parent/../outside.txt", src / "through-a-link")
    old = tmp_path / "copy"
    shutil.copytree(src, old, symlinks=True)
    assert (old / "through-a-link").read_text() == "a neighbour's file"


def test_links_that_stay_inside_are_kept(src: Path, tmp_path: Path) -> None:
    os.symlink("pkg/parent/pkg/util.py", src / "round-trip.py")
    os.symlink("missing/file", src / "dangling")
    copy_capped(src, tmp_path / "dst", LIMIT)
    assert (tmp_path / "dst" / "round-trip.py").read_text() == "x = 1\n"
    assert os.readlink(tmp_path / "dst" / "dangling") == "missing/file"


def test_a_non_utf8_name_in_a_refusal_is_printable(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    name = os.fsdecode(NON_UTF8 + b"\x1b[31m")
    Path(src, name).write_bytes(bytes(2 * PAGE))
    with pytest.raises(CopyRefused) as refused:
        copy_capped(src, tmp_path / "dst", PAGE)
    message = str(refused.value)
    message.encode("utf-8")  # no lone surrogate left to break a report's writer
    assert "caf\\xe9-\\xff.py" in message and "\x1b" not in message  # the escape removed whole


def test_any_failure_removes_the_partial_copy(src: Path, tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """A read error in the middle of the copy (after network.py was written)."""
    reads = []

    def failing(fd: int, n: int, offset: int) -> bytes:
        reads.append(fd)
        if len(reads) > 2:
            raise OSError(5, "Input/output error")
        return os.pread(fd, n, offset)

    monkeypatch.setattr(copying.os, "pread", failing, raising=True)
    with pytest.raises(OSError, match="Input/output error"):
        copy_capped(src, tmp_path / "dst", LIMIT)
    monkeypatch.undo()
    assert len(reads) == 3 and not (tmp_path / "dst").exists()


def test_an_existing_empty_folder_is_filled_and_kept_or_emptied(src: Path, tmp_path: Path) -> None:
    """A mount point (the sandbox's tmpfs) is an existing empty folder: filled; on failure
    emptied, never removed."""
    mount = tmp_path / "mount"
    mount.mkdir()
    copy_capped(src, mount, LIMIT)
    assert _tree(mount) == _tree(src)
    second = tmp_path / "second"
    second.mkdir()
    (src / "zz-big").write_bytes(bytes(LIMIT))
    with pytest.raises(CopyRefused):
        copy_capped(src, second, LIMIT)
    assert second.is_dir() and os.listdir(second) == []


def test_what_is_already_there_is_never_touched(src: Path, tmp_path: Path) -> None:
    taken = tmp_path / "taken"
    taken.mkdir()
    (taken / "precious").write_text("keep")
    with pytest.raises(CopyRefused, match="already exists and is not an empty folder"):
        copy_capped(src, taken, LIMIT)
    (tmp_path / "file.py").write_text("keep")
    with pytest.raises(CopyRefused, match="already exists"):
        copy_capped(src / "network.py", tmp_path / "file.py", LIMIT)
    assert (taken / "precious").read_text() == (tmp_path / "file.py").read_text() == "keep"


def test_special_files_and_skipped_names_are_left_out(src: Path, tmp_path: Path) -> None:
    os.mkfifo(src / "fifo")
    (src / "__pycache__").mkdir()
    (src / "__pycache__" / "network.cpython-311.pyc").write_bytes(b"stale")
    copy_capped(src, tmp_path / "dst", LIMIT, skip_names=("__pycache__",))
    names = set(os.listdir(tmp_path / "dst"))
    assert "fifo" not in names and "__pycache__" not in names and "network.py" in names


def test_folders_nested_too_deep_are_refused(tmp_path: Path) -> None:
    src = tmp_path / "src"
    deep = src.joinpath(*["d"] * (copying.MAX_DEPTH + 1))
    deep.mkdir(parents=True)
    with pytest.raises(CopyRefused, match=f"nested more than {copying.MAX_DEPTH} deep"):
        copy_capped(src, tmp_path / "dst", LIMIT)
    assert not (tmp_path / "dst").exists()
    shutil.rmtree(src.joinpath(*["d"] * copying.MAX_DEPTH))  # control: one level less fits
    copy_capped(src, tmp_path / "dst", LIMIT)


def test_a_read_only_folder_is_copied_with_its_mode(src: Path, tmp_path: Path) -> None:
    (src / "pkg").chmod(0o555)
    try:
        copy_capped(src, tmp_path / "dst", LIMIT)
    finally:
        (src / "pkg").chmod(0o755)
    assert stat.S_IMODE((tmp_path / "dst" / "pkg").stat().st_mode) == 0o555
    assert (tmp_path / "dst" / "pkg" / "util.py").read_text() == "x = 1\n"
    (tmp_path / "dst" / "pkg").chmod(0o755)


def test_bad_arguments(src: Path, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="expected a positive number of bytes"):
        copy_capped(src, tmp_path / "dst", 0)
    with pytest.raises(CopyRefused, match="cannot be read"):
        copy_capped(tmp_path / "missing", tmp_path / "dst", LIMIT)
    with pytest.raises(CopyRefused, match="neither a folder nor a regular file"):
        copy_capped("/dev/null", tmp_path / "dst", LIMIT)


@st.composite
def trees(draw: st.DrawFn) -> list[tuple[bytes, list[tuple[int, int]], int]]:
    """Files as (name, data ranges (offset, length), size): names of any bytes but / and NUL,
    some in a subfolder; data anywhere, with holes between."""
    names = st.binary(min_size=1, max_size=8).filter(
        lambda b: b"/" not in b and b"\0" not in b and b not in (b".", b".."))
    files = []
    for name in draw(st.lists(names, min_size=1, max_size=5, unique=True)):
        ranges = draw(st.lists(st.tuples(st.integers(0, 40 * PAGE), st.integers(1, 2 * PAGE)),
                               max_size=3))
        size = max([o + n for o, n in ranges] + [draw(st.integers(0, 50 * PAGE))])
        files.append((draw(st.sampled_from([b"", b"sub/"])) + name, ranges, size))
    return files


@given(tree=trees(), limit=st.integers(1, 24 * PAGE))
def test_any_tree_is_copied_exactly_within_the_limit_or_not_at_all(
        tree: list[tuple[bytes, list[tuple[int, int]], int]], limit: int,
        tmp_path_factory: pytest.TempPathFactory) -> None:
    base = tmp_path_factory.mktemp("tree")
    src, dst = os.path.join(os.fsencode(base), b"src"), os.path.join(os.fsencode(base), b"dst")
    os.makedirs(os.path.join(src, b"sub"))
    for name, ranges, size in tree:
        fd = os.open(os.path.join(src, name), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        for offset, length in ranges:
            os.pwrite(fd, bytes([len(name)]) * length, offset)
        os.ftruncate(fd, size)
        os.close(fd)
    try:
        charged = copy_capped(os.fsdecode(src), os.fsdecode(dst), limit)
    except CopyRefused as refused:
        event("refused")
        assert not os.path.lexists(dst)
        assert "over its limit" in str(refused)
        return
    event("copied")
    assert charged <= limit
    for name, _, size in tree:
        with open(os.path.join(src, name), "rb") as a, open(os.path.join(dst, name), "rb") as b:
            assert a.read() == b.read()
        assert os.stat(os.path.join(dst, name)).st_size == size


# -- grade's private copy -----------------------------------------------------------------------

def test_grades_private_copy_is_capped_and_leaves_caches_out(src: Path, tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch
                                                            ) -> None:
    (src / "__pycache__").mkdir()
    (src / "__pycache__" / "x.pyc").write_bytes(b"stale")
    workspace = tmp_path / "ws"
    workspace.mkdir()
    copy = private_copy(Submission("alice", src), workspace)
    assert "__pycache__" not in os.listdir(copy) and (copy / "network.py").is_file()
    single = private_copy(Submission("bob.py", src / "network.py"), workspace)
    assert os.listdir(single) == ["network.py"]
    monkeypatch.setattr(submissions, "DISK_BYTES", PAGE)
    with pytest.raises(OSError, match="over its limit of 4.0 KiB"):
        private_copy(Submission("carol", src), workspace)
    assert sorted(os.listdir(workspace)) == sorted([copy.name, single.name])
