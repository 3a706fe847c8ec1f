"""GitHub Actions annotations of a session's verdicts (layer 2, pure).

The step summary holds the table, but a reviewer sees a pull request's checks first: an
INCONCLUSIVE exits 0 (a warning, unless ``--gpuslo-inconclusive=fail``), so a comparison that a
busy runner left undecided read as green there (review154: +50% on a machine busy in 4 of 6 runs).
Each verdict that fails its test becomes an ``::error`` workflow command, each undecided one a
``::warning``, with the row's own words (``terminal.why``).  Printed on standard output, only where
GitHub's runner sets ``GITHUB_ACTIONS=true``; ``GPUSLO_GITHUB_ANNOTATIONS=0`` turns them off.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

from pytest_gpuslo.reports import terminal, view

#: GitHub shows at most 10 annotations of each kind a step; past that, one line counts the rest.
MAX_EACH = 10
OFF = ("0", "false", "no", "off")


def enabled(env: Mapping[str, str] = os.environ) -> bool:
    """On a GitHub Actions runner, unless turned off."""
    return env.get("GITHUB_ACTIONS") == "true" and env.get("GPUSLO_GITHUB_ANNOTATIONS", "").lower() not in OFF


def _data(text: str) -> str:
    """A workflow command's message, escaped as GitHub's toolkit escapes it."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _prop(text: str) -> str:
    return _data(text).replace(":", "%3A").replace(",", "%2C")


def _level(summary: Mapping[str, Any], inconclusive: str | None) -> str:
    """"error" where pytest fails the test (``view.fails_test``), "warning" where it is undecided
    and passes (an INCONCLUSIVE, an xfail-marked test's skipped one, a PASS whose comparison is
    undecided), '' otherwise (a PASS, an expected failure)."""
    if view.fails_test(summary, inconclusive):
        return "error"
    v = summary.get("verdict") or {}
    if str(summary.get("pytest_outcome") or "").startswith(("xfailed", "xpassed")):
        return ""  # an expected failure fails no test; pytest's own line says so
    undecided = any(b.get("outcome") == "INCONCLUSIVE" for b in v.get("baseline", []) if isinstance(b, Mapping))
    return "warning" if v.get("outcome") == "INCONCLUSIVE" or (v.get("outcome") == "PASS" and undecided) else ""


def _said(s: Mapping[str, Any]) -> tuple[str, str]:
    """(title, message) of one SLO test's result."""
    why = terminal.why(dict(s)) + view.pytest_note(dict(s))
    word = why.split(":", 1)[0].split(" (", 1)[0]
    title = ("SLO XPASS (strict)" if s.get("pytest_outcome") == "xpassed (strict)"
             else "SLO PASS, comparison undecided" if word == "PASS" else f"SLO {word}")
    return title, f"{s.get('nodeid', '?')}: {why}"


def where_listed(summary: bool, reports: bool) -> str:
    """Where the tests past ``MAX_EACH`` are listed: the job's summary and the reports only where
    they were written (review169 F5: a run that wrote neither pointed at them)."""
    if summary or reports:
        return " and ".join(w for w, on in (("the job's summary", summary), ("the reports", reports)) if on) + (
            " list them" if summary and reports else " lists them" if summary else " list them")
    return "the gpuslo section of the log lists them"


def commands(summaries: Sequence[Mapping[str, Any]], *, inconclusive: str | None = None,
             errors: Sequence[tuple[str, str]] = (), notes: Sequence[tuple[str, str]] = (),
             listed: str = "the job's summary and the reports list them") -> list[str]:
    """The workflow commands for ``summaries`` (``inconclusive``: the session's
    ``--gpuslo-inconclusive``, "fail" making an undecided test an error as it fails the test;
    ``errors``: ``Context.errors``, SLO tests that ended in an error, before or after a verdict;
    ``notes``: ``Context.notes``, SLO tests not judged (warnings);
    ``listed``: where the ones past ``MAX_EACH`` are, said in the line that counts them)."""
    out: list[str] = []
    for level in ("error", "warning"):
        said = [_said(s) for s in summaries if _level(s, inconclusive) == level]
        if level == "error":
            said += [("SLO test error", f"{nodeid}: {words}") for nodeid, words in errors]
        else:  # ``Context.notes``: not judged (review195 F3: a PR that removed every SLO test read green)
            said += [("SLO test not judged", f"{nodeid}: {words}") for nodeid, words in notes]
        rows = said
        for title, message in rows[:MAX_EACH - 1] if len(rows) > MAX_EACH else rows:
            out.append(f"::{level} title={_prop(title)}::{_data(message)}")
        if len(rows) > MAX_EACH:
            rest = len(rows) - (MAX_EACH - 1)
            kind = "failed" if level == "error" else "undecided"
            out.append(f"::{level} title={_prop(f'{rest} more SLO tests {kind}')}::"
                       + _data(f"{rest} more SLO tests {kind}: {listed}"))
    return out
