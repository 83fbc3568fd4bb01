"""The HTML gradebook in a real browser engine: Playwright driving the system Chromium
(``tox -e browser``; ``apt-get install chromium``; Playwright's own browser download is not used).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

import pytest

from bpverify.conformance.isolation.grading import grade
from bpverify.conformance.isolation.worker import Limits
from bpverify.conformance.specimens.sources import book_source, mutant_source

sync_api = pytest.importorskip("playwright.sync_api",
                               reason="the browser test needs Playwright: run `tox -e browser`")
CHROMIUM = os.environ.get("BPVERIFY_CHROMIUM", "/usr/bin/chromium")
if not Path(CHROMIUM).is_file():
    pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium, or set BPVERIFY_CHROMIUM)",
                allow_module_level=True)

HOSTILE = "<img src=x onerror=alert(1)>"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run"]


@pytest.fixture(scope="module")
def gradebook(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    base = tmp_path_factory.mktemp("browser")
    root = base / "class"
    sources = {"alice": book_source(), "bob": mutant_source("SignFlipBP1"),
               "carol": "def broken(:\n", HOSTILE: book_source()}
    for name, text in sources.items():
        (root / name).mkdir(parents=True)
        (root / name / "network.py").write_text(text)
    entries = grade(root, base / "out", limits=Limits(call_seconds=2.0, total_seconds=10.0)).entries
    return {"out": base / "out", "names": [e["submission"] for e in entries]}


@pytest.fixture(scope="module")
def browser() -> Any:
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield chromium
        chromium.close()


def test_the_index_renders_the_class_and_the_histogram(gradebook: dict[str, Any],
                                                       browser: Any) -> None:
    page = browser.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.goto((gradebook["out"] / "index.html").as_uri())
    assert page.title() == "bpverify gradebook"
    links = page.locator("a[href^='submissions/']")
    assert links.count() == len(gradebook["names"])
    widths = page.eval_on_selector_all(".bar span", "spans => spans.map(s => s.offsetWidth)")
    assert widths and all(w > 0 for w in widths)
    assert page.get_by_text(HOSTILE, exact=True).count() == 1  # the name as text, not an <img>
    assert page.locator("img").count() == 0 and not dialogs
    for verdict in ("CONFORMS: 2", "DOES NOT CONFORM: 1", "ERROR: 1"):
        assert page.get_by_text(verdict).count() == 1
    page.close()


def test_every_link_resolves_and_every_submission_page_opens(gradebook: dict[str, Any],
                                                             browser: Any) -> None:
    page = browser.new_page()
    index = (gradebook["out"] / "index.html").as_uri()
    pending, seen = [index], set()
    while pending:
        url = pending.pop()
        if url in seen:
            continue
        seen.add(url)
        path = Path(unquote(urlparse(url).path))
        assert path.is_file(), url
        if path.suffix != ".html":
            continue  # gradebook.csv and .json: a browser downloads them
        page.goto(url)
        assert page.title(), url
        pending += page.eval_on_selector_all("a", "anchors => anchors.map(a => a.href)")
    pages = {Path(unquote(urlparse(u).path)).name for u in seen if "/submissions/" in u}
    assert len(pages) == len(gradebook["names"])
    page.goto(index)
    page.get_by_role("link", name="bob", exact=True).click()
    assert page.locator("h1").inner_text() == "bob"
    assert "likely: sign flipped" in page.content()
    page.get_by_role("link", name="← the class").click()
    assert page.title() == "bpverify gradebook"
    page.close()
