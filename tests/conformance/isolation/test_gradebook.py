"""The gradebook's files (isolation/gradebook.py)."""

from __future__ import annotations

import pytest

from bpverify.conformance.isolation.gradebook import page_names

# JAX (imported by other tests in the same worker) warns at every fork; the forks here never
# call into JAX: the sandboxes run numpy and the book's network only.
pytestmark = pytest.mark.filterwarnings("ignore:os.fork\\(\\) was called:RuntimeWarning")

def test_page_names_are_distinct_and_url_safe() -> None:
    assert page_names(["a b", "a-b", "A B", "<>", ""]) == [
        "a-b.html", "a-b-2.html", "A-B-3.html", "submission.html", "submission-2.html"]

