"""The gradebook of ``bpverify grade``: OUT/gradebook.csv, OUT/gradebook.json and a static HTML
report (OUT/index.html with the class table, why each ERROR is one, a histogram of outcomes per
check and what changed since the last run, and one page per submission under OUT/submissions/
with its FAIL lines, likely diagnoses and rerun commands). Rebuilt from the journal
(``journal.py``) at the end of every run; each file is written whole or not at all.

Everything a submission controls (its name, what it printed, the texts of its failures) is made
safe to show for any bytes (``display.py``: lone surrogates and non-UTF-8 names escaped, terminal
escapes and control characters removed or escaped) and then escaped for HTML; CSV cells that a
spreadsheet would run as a formula are quoted with a leading '.
"""

from __future__ import annotations

import csv
import html
import json
import os
import re
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote

from bpverify.conformance.protocol.display import one_line, shown_tree
from bpverify.conformance.suite.runner import STATUSES

VERDICT_CLASS = {"CONFORMS": "pass", "DOES NOT CONFORM": "fail", "ERROR": "error"}


def write_gradebook(out: Path, entries: Sequence[dict[str, Any]], checks: Sequence[str],
                    meta: dict[str, Any], changes: dict[str, Any] | None = None) -> None:
    """Every file of the gradebook from the entries (one per submission, as the journal has
    them); nothing written can fail on a submission's text."""
    pages = page_names([e["submission"] for e in entries])
    shown_entries = [shown_tree(e) for e in entries]
    write_csv(out / "gradebook.csv", shown_entries, checks)
    _write(out / "gradebook.json", json.dumps(
        shown_tree({"meta": meta, "checks": list(checks), "submissions": list(entries),
                    "changes": changes or {}}),
        indent=1, ensure_ascii=False, allow_nan=False, default=str))
    (out / "submissions").mkdir(exist_ok=True)
    for e, page in zip(shown_entries, pages, strict=True):
        _write(out / "submissions" / page, submission_page(e, meta))
    _write(out / "index.html", index_page(shown_entries, pages, checks, shown_tree(meta),
                                          shown_tree(changes or {})))


def _write(path: Path, text: str) -> None:
    """``text`` as UTF-8, whole or not at all (a kill leaves the previous file)."""
    partial = path.with_name(path.name + ".partial")
    partial.write_text(text, encoding="utf-8")
    os.replace(partial, path)


def reason(entry: dict[str, Any]) -> str:
    """Why the verdict is what it is, in one line: an ERROR's reason (did not import, with its
    file:line; its time limit; a signal …); for a failure, the first failing check's detail."""
    if entry.get("reason"):
        return one_line(entry["reason"])
    first = next((o for o in entry.get("outcomes", []) if o.get("status") in ("fail", "error")),
                 None)
    return one_line(f"{first['check']}: {first.get('detail')}") if first else ""


def spreadsheet_safe(cell: str) -> str:
    """A cell no spreadsheet evaluates: a leading =, +, -, @, tab or CR gets a ' in front."""
    return "'" + cell if cell[:1] in ("=", "+", "-", "@", "\t", "\r") else cell


def status(entry: dict[str, Any], check: str) -> str:
    """A check's status; an ERROR that never reached the check (it did not load) is an error."""
    return str(entry["checks"].get(check, "error" if entry["verdict"] == "ERROR" else ""))


CSV_REASON_CHARS = 500
"""A reason cell is cut to this many characters (the whole text is in gradebook.json)."""


def write_csv(path: Path, entries: Sequence[dict[str, Any]], checks: Sequence[str]) -> None:
    partial = path.with_name(path.name + ".partial")
    with partial.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["submission", "verdict", *checks, "failed", "reason", "seconds"])
        for e in entries:
            statuses = [status(e, c) for c in checks]
            why = reason(e)
            why = why if len(why) <= CSV_REASON_CHARS else why[:CSV_REASON_CHARS - 1] + "…"
            writer.writerow([spreadsheet_safe(one_line(e["submission"])), e["verdict"], *statuses,
                             " ".join(e["failed"]), spreadsheet_safe(why), f"{e['seconds']:.3f}"])
    os.replace(partial, path)


def page_names(names: Sequence[str]) -> list[str]:
    """One distinct, URL-safe file name per submission (case-insensitively distinct)."""
    taken: set[str] = set()
    pages = []
    for name in names:
        stem = re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-.")[:80] or "submission"
        candidate, n = stem, 1
        while candidate.lower() in taken:
            n += 1
            candidate = f"{stem}-{n}"
        taken.add(candidate.lower())
        pages.append(f"{candidate}.html")
    return pages


STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em; color: #222; }
table { border-collapse: collapse; margin: 1em 0; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.5em; text-align: left; vertical-align: top; }
td.pass, span.pass { background: #d9f2d9; } td.fail, span.fail { background: #f8d0d0; }
td.error, span.error { background: #f5c77e; } td.skip, span.skip { background: #e4e4e4; }
td.blocked, span.blocked { background: #f3e0c0; }
.bar { display: flex; width: 24em; height: 1.1em; border: 1px solid #999; }
.bar span { display: block; height: 100%; }
pre, code { background: #f6f6f6; white-space: pre-wrap; }
.small { font-size: 0.85em; color: #555; }
"""


def _page(title: str, body: str) -> str:
    return (f'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            f"<title>{html.escape(title)}</title>\n<style>{STYLE}</style>\n</head>\n"
            f"<body>\n{body}\n</body>\n</html>\n")


def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def histogram(entries: Sequence[dict[str, Any]], checks: Sequence[str]) -> dict[str, dict[str, int]]:
    """Per check, how many submissions got each status (an ERROR without a verdict: error)."""
    counts = {c: dict.fromkeys(STATUSES, 0) for c in checks}
    for e in entries:
        for c in checks:
            if status(e, c) in counts[c]:
                counts[c][status(e, c)] += 1
    return counts


def index_page(entries: Sequence[dict[str, Any]], pages: Sequence[str], checks: Sequence[str],
               meta: dict[str, Any], changes: dict[str, Any] | None = None) -> str:
    verdicts = {v: sum(e["verdict"] == v for e in entries) for v in VERDICT_CLASS}
    total = max(len(entries), 1)
    rows = []
    for check, counts in histogram(entries, checks).items():
        bar = "".join(f'<span class="{s}" style="width:{100 * counts[s] / total:.2f}%" '
                      f'title="{s}: {counts[s]}"></span>' for s in STATUSES if counts[s])
        numbers = " ".join(f"{s} {counts[s]}" for s in STATUSES)
        rows.append(f"<tr><td><code>{_e(check)}</code></td><td><div class=\"bar\">{bar}</div>"
                    f"</td><td class=\"small\">{numbers}</td></tr>")
    table = []
    for e, page in zip(entries, pages, strict=True):
        cells = "".join(f'<td class="{_e(status(e, c))}" title="{_e(c)}">{_e(status(e, c))}</td>'
                        for c in checks)
        table.append(f'<tr><td><a href="submissions/{quote(page)}">{_e(one_line(e["submission"]))}'
                     f'</a></td><td class="{VERDICT_CLASS[e["verdict"]]}">{_e(e["verdict"])}</td>'
                     f"<td>{_e(' '.join(e['failed']))}</td>"
                     f"<td class=\"small\">{_e(reason(e) if e['verdict'] == 'ERROR' else '')}</td>"
                     f"<td>{e['seconds']:.2f}</td>{cells}</tr>")
    heads = "".join(f"<th><code>{_e(c)}</code></th>" for c in checks)
    protections = _protections(entries)
    body = f"""<h1>Gradebook</h1>
<p>{len(entries)} submissions in <code>{_e(meta.get('submissions'))}</code>, spec
<code>{_e(meta.get('spec'))}</code>, assignment {_e(meta.get('assignment') or 'none')}, seed
{_e(meta.get('seed'))} ({_e(meta.get('seeds'))} seed(s)), {_e(meta.get('seconds'))} s with -j
{_e(meta.get('jobs'))}; {_e(meta.get('run'))}
{_e(time.strftime('%Y-%m-%d %H:%M', time.localtime(meta.get('started', 0))))}:
{_e(sum((meta.get('graded') or {}).values()))} graded, {_e(meta.get('kept', 0))} kept from
earlier runs (unchanged).{' <b>Interrupted: run the same command to resume.</b>'
                          if meta.get('interrupted') else ''}</p>
<p>{' · '.join(f'<span class="{VERDICT_CLASS[v]}">{_e(v)}: {n}</span>' for v, n in verdicts.items())}
· <a href="gradebook.csv">gradebook.csv</a> · <a href="gradebook.json">gradebook.json</a></p>
<h2>Outcomes per check</h2>
<table><tr><th>check</th><th>pass / fail / error / skip</th><th>counts</th></tr>
{''.join(rows)}</table>
<h2>Submissions</h2>
<table><tr><th>submission</th><th>verdict</th><th>failed</th><th>reason (ERROR)</th>
<th>seconds</th>{heads}</tr>
{''.join(table)}</table>
{_changes(changes or {})}
<h2>Isolation</h2>
{protections}
"""
    return _page("bpverify gradebook", body)


def _changes(changes: dict[str, Any]) -> str:
    """What changed for whom since the last complete run (its gradebook is in OUT/history)."""
    if not changes.get("since"):
        return "<h2>Changes</h2><p>The first complete run on this folder.</p>"
    rows = "".join(f"<tr><td>{_e(one_line(c['submission']))}</td><td>{_e(c['before'])}</td>"
                   f"<td>{_e(c['after'])}</td></tr>" for c in changes.get("verdicts", []))
    graded = "; ".join(f"{_e(why)}: {_e(', '.join(one_line(n) for n in names))}"
                       for why, names in (changes.get("graded") or {}).items() if names)
    return (f"<h2>Changes since {_e(changes['since'])}</h2>"
            + (f"<table><tr><th>submission</th><th>before</th><th>now</th></tr>{rows}</table>"
               if rows else "<p>No verdict changed.</p>")
            + f"<p class=\"small\">graded now ({_e(graded or 'none')}); new:"
            f" {_e(', '.join(one_line(n) for n in changes.get('added', [])) or 'none')}; gone:"
            f" {_e(', '.join(one_line(n) for n in changes.get('removed', [])) or 'none')}</p>")


def _protections(entries: Sequence[dict[str, Any]]) -> str:
    """Which protections were active, as each sandbox reported them before the submission's code
    ran: per layer, the first report, and every different one that was not active."""
    seen: dict[str, list[str]] = {}
    for e in entries:
        for layer, state in e.get("protections", {}).items():
            states = seen.setdefault(layer, [])
            if not states or (not state.startswith("active") and state not in states):
                states.append(state)
    if not seen:
        return "<p>No sandbox reported its protections (no submission was started).</p>"
    items = "".join(f"<li><b>{_e(layer)}</b>: {_e(' | '.join(states))}</li>"
                    for layer, states in seen.items())
    return f"<ul>{items}</ul>"


def submission_page(e: dict[str, Any], meta: dict[str, Any]) -> str:
    problems, skips, passes = [], [], []
    for o in e.get("outcomes", []):
        if o["status"] in ("fail", "error"):
            lines = [f"<p><span class=\"{_e(o['status'])}\">{_e(o['status'].upper())}</span> "
                     f"<code>{_e(o['check'])}</code> ({_e(o.get('equation'))}): {_e(o.get('detail'))}"
                     "</p>"]
            if o.get("case"):
                lines.append(f"<p class=\"small\">network: {_e(o['case'])}</p>")
            if o.get("note"):
                lines.append(f"<p class=\"small\">also: {_e(o['note'])}</p>")
            if o.get("diagnosis"):
                lines.append(f"<p>likely: {_e(o['diagnosis'])}</p>")
            if o.get("rerun"):
                lines.append(f"<p>rerun: <code>{_e(o['rerun'])}</code></p>")
            problems.append("<li>" + "".join(lines) + "</li>")
        elif o["status"] == "skip":
            skips.append(f"<li><code>{_e(o['check'])}</code>: {_e(o.get('detail'))}</li>")
        else:
            passes.append(f"<code>{_e(o['check'])}</code>")
    why = (f"<p><b>Why ERROR:</b> {_e(e['reason'])}</p>" if e.get("reason") else "")
    output = (f"<h2>What it printed (last part; never read as a verdict)</h2><pre>"
              f"{_e(e['output'])}</pre>" if e.get("output", "").strip() else "")
    body = f"""<p><a href="../index.html">← the class</a></p>
<h1>{_e(one_line(e['submission']))}</h1>
<p><span class="{VERDICT_CLASS[e['verdict']]}"><b>{_e(e['verdict'])}</b></span></p>
{why}
<p class="small">{_e(e['path'])} · implementation {_e(e.get('implementation'))} ·
{_e(e.get('capabilities'))} · {e['seconds']:.2f} s</p>
<h2>Failures and errors</h2>
{f"<ul>{''.join(problems)}</ul>" if problems else "<p>None.</p>"}
<h2>Skipped</h2>
{f"<ul>{''.join(skips)}</ul>" if skips else "<p>None.</p>"}
<h2>Passed</h2>
<p>{' '.join(passes) or 'None.'}</p>
{output}
"""
    return _page(f"{one_line(e['submission'])}: {e['verdict']}", body)
