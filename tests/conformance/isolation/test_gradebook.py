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



def test_a_failures_note_reaches_the_submissions_page() -> None:
    """Where else the networks showed something (a crash beside a failure) is on the page,
    escaped like the rest."""
    from bpverify.conformance.isolation.gradebook import submission_page

    outcome = {"check": "BP2", "equation": "BP2", "status": "fail", "detail": "δˡ at layer 3",
               "note": "judged on 1 of 6 networks (square): it crashes there, at <net.py:9>",
               "diagnosis": None, "rerun": None}
    page = submission_page({"submission": "alice", "path": "/c/alice", "seconds": 1.0,
                            "verdict": "DOES NOT CONFORM", "outcomes": [outcome]}, {})
    assert "also: judged on 1 of 6 networks (square): it crashes there, at &lt;net.py:9&gt;" in page
