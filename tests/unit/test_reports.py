"""The report views: the markdown file against its golden copy, the terminal's failure message."""

from __future__ import annotations

from pathlib import Path

from pytest_gpuslo.reports import files, terminal

GOLDEN = Path(__file__).parent / "golden"

SUMMARY = {
    "nodeid": "tests/test_svc.py::test_score",
    "spec": {"budgets_ms": {"p95": 25.0, "p99": 40.0}, "streams": 4, "seed": 7, "throughput_hz": None},
    "n": 4000, "warmup": 200, "latency_ms": {"p50": 1.5, "p95": 3.25, "p99": 5.5},
    "verdict": {"outcome": "FAIL", "reasons": ["p95 vs baseline: REGRESSED: p95 is +12.0%"],
                "checks": [{"name": "p95<=25ms", "outcome": "PASS", "headroom": 6.1, "detail": ""}],
                "baseline": [{"name": "p95 vs baseline", "outcome": "REGRESSED", "ratio": 1.12,
                              "ci": [1.08, 1.16], "detail": "", "reason": ""}]},
}
OK = {**SUMMARY, "nodeid": "tests/test_svc.py::test_tokenize",
      "verdict": {"outcome": "PASS", "reasons": [], "checks": [], "baseline": []}}


def test_markdown_matches_golden() -> None:
    """Failures first, budgets, tails, headroom and the change with its interval."""
    assert (GOLDEN / "summary.md").read_text() == files.markdown([OK, SUMMARY])


def test_a_failure_names_the_stage_that_holds_the_tail() -> None:
    """The red test's message carries the per-stage table and points at the largest p95."""
    summary = {**SUMMARY, "lag_ms": {"p99": 0.2}, "offered_hz": 100.0, "throughput_hz": 99.0,
               "backend": "cpu", "stages": {
                   "admission": {"n": 4000, "p50_ms": 0.1, "p95_ms": 0.4, "mean_ms": 0.2},
                   "normalise.queue": {"n": 4000, "p50_ms": 9.0, "p95_ms": 31.0, "mean_ms": 12.0},
                   "model.service": {"n": 4000, "p50_ms": 4.2, "p95_ms": 4.9, "mean_ms": 4.3}}}

    lines = terminal.failure_message(summary).splitlines()

    tail = [ln for ln in lines if "holds the tail" in ln]
    assert 1 == len(tail) and "normalise.queue" in tail[0] and "p95 31 ms" in tail[0]
    assert any(ln.strip().startswith("stage admission") for ln in lines)


def test_a_backlog_before_the_service_blames_the_stage_the_lanes_are_stuck_in() -> None:
    """Admission larger than any stage is the symptom; the culprit is the largest stage inside."""
    lines = terminal.stage_lines({"admission": {"n": 9, "p50_ms": 900.0, "p95_ms": 2600.0},
                                "normalise.queue": {"n": 9, "p50_ms": 120.0, "p95_ms": 160.0},
                                "model.service": {"n": 9, "p50_ms": 20.0, "p95_ms": 28.0}})

    assert "holds the tail" in lines[1] and "every lane busy" in lines[0]
    assert not any("<-" in ln for ln in lines[2:])


def test_markdown_escapes_a_pipe_in_a_test_id() -> None:
    """A parametrised id such as ``test_mode[a|b]`` stays in its cell: the row keeps 7 cells."""
    import re

    odd = {**OK, "nodeid": "tests/test_svc.py::test_mode[a|b]"}
    (row,) = [line for line in files.markdown([odd]).splitlines() if "test_mode" in line]

    assert len(re.findall(r"(?<!\\)\|", row)) == 8
    assert "`tests/test_svc.py::test_mode[a\\|b]`" in row
    assert files.md_code("a`b") == "``a`b``" and files.md_cell("x\ny|z") == "x y\\|z"
