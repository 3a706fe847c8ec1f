"""Each extension point is one module plus one registry line: a backend, an arrival process and a
report format added from outside the package work end to end (docs/architecture.md lists the
files each touches)."""

from __future__ import annotations

import importlib
from collections.abc import Iterator

import pytest

FAKE_PROCESS = '''
from dataclasses import dataclass
from typing import ClassVar
import numpy as np
from pytest_gpuslo.arrivals.processes import Process, to_ns

@dataclass(frozen=True, slots=True)
class Pairs(Process):
    """Arrivals two at a time, pairs 2/rate_hz apart."""
    rate_hz: float
    name: ClassVar[str] = "pairs"

    def _draw(self, n, duration_s, rng):
        k = n if n is not None else int(duration_s * self.rate_hz)
        return to_ns((np.arange(k) // 2) * 2.0 / self.rate_hz)
'''


def test_a_backend_is_a_module_and_a_registry_line(gputester: pytest.Pytester) -> None:
    """backends/virtual.py is not registered; one line in a conftest makes it a backend the marker,
    the gate and the reports use (an M/G/2 queue in virtual time: 2 ms service at 200/s)."""
    gputester.makeconftest("from pytest_gpuslo import backends\n"
                           "backends.REGISTRY['virtual'] = 'pytest_gpuslo.backends.virtual'\n")
    gputester.makepyfile(test_it="""
        import pytest
        from pytest_gpuslo.backends.virtual import work

        @pytest.mark.slo(p95_ms=50, rate_hz=200, requests=4000, streams=2, backend="virtual")
        def test_on_virtual(slo_request):
            work(0.002)
        """)
    result = gputester.runpytest()

    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["device: backend=virtual, cpu=virtual time",
                                 "*test_on_virtual  4,000 *  0  no baseline  PASS"])
    # and from the command line, which pytest parses before it loads the conftest (review34)
    result = gputester.runpytest("--gpuslo-backend=virtual")
    result.assert_outcomes(passed=1)


def test_an_arrival_process_is_a_module_and_a_registry_line(simtester: pytest.Pytester) -> None:
    gputester = simtester
    gputester.makepyfile(pairs=FAKE_PROCESS)
    gputester.makeconftest("import pairs\nfrom pytest_gpuslo import arrivals, backends\n"
                           "arrivals.PROCESSES['pairs'] = pairs.Pairs\n"
                           "backends.REGISTRY.setdefault('virtual', 'pytest_gpuslo.backends.virtual')\n")
    gputester.makepyfile(test_it="""
        import numpy as np
        import pytest

        @pytest.mark.slo(p95_ms=50, rate_hz=400, requests=4000, arrivals="pairs")
        def test_pairs(slo_arrivals):
            pass

        def test_schedule():
            from pytest_gpuslo import arrivals
            s = arrivals.parse("pairs", rate_hz=100).schedule(n=4)
            assert s.tolist() == [0, 0, 20_000_000, 20_000_000]
        """)
    gputester.syspathinsert()
    try:
        result = gputester.runpytest()
    finally:
        from pytest_gpuslo import arrivals

        arrivals.PROCESSES.pop("pairs", None)
    result.assert_outcomes(passed=2)


@pytest.fixture
def csv_format(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A report format registered the way a new module would be: one line in FORMATS."""
    from pytest_gpuslo import options, reports

    fmt = reports.ReportFormat("csv", "Write one CSV row per SLO test", "csvreport:render")
    monkeypatch.setattr(reports, "FORMATS", (*reports.FORMATS, fmt))
    importlib.reload(options)
    yield
    monkeypatch.undo()
    importlib.reload(options)


def test_a_report_format_is_a_module_and_a_registry_line(simtester: pytest.Pytester, csv_format: None) -> None:
    gputester = simtester
    gputester.makepyfile(csvreport="""
        def render(summaries, context):
            return "".join(f"{s['nodeid']},{s['verdict']['outcome']}\\n" for s in summaries)
        """)
    gputester.makepyfile(test_it="""
        import pytest

        @pytest.mark.slo(p95_ms=500, rate_hz=200, requests=1000)
        def test_fast():
            pass
        """)
    gputester.syspathinsert()
    result = gputester.runpytest("--gpuslo-csv=out/slo.csv")

    result.stdout.fnmatch_lines(["gpuslo wrote out/slo.csv (created the folder out)"])
    assert (gputester.path / "out" / "slo.csv").read_text().startswith("test_it.py::test_fast,")


def test_a_report_format_from_a_conftest_is_written_and_a_renderer_bug_is_named(
        simtester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    """Outside the package a format is appended to ``reports.FORMATS`` and its option added by the
    same conftest (pytest reads the plugin's options before conftests load): it was a KeyError at
    session end (review34).  A renderer that raises is named as the bug, with where it raised, not
    answered with "give a writable file path"; the session's alpha and INCONCLUSIVE mode reach it."""
    from pytest_gpuslo import reports

    monkeypatch.setattr(reports, "FORMATS", reports.FORMATS)  # the in-process runs' conftest appends to it
    gputester = simtester
    gputester.makepyfile(tsvreport="""
        def render(summaries, context):
            if context.alpha == 0.03:
                raise RuntimeError("tsv writer bug")
            if context.alpha == 0.04:
                return None
            return "".join(f"{s['nodeid']}\\t{s['verdict']['outcome']}\\t{context.alpha}\\t{context.inconclusive}\\n"
                           for s in summaries)
        """)
    gputester.makeconftest("""
        from pytest_gpuslo import backends, reports
        backends.REGISTRY.setdefault('virtual', 'pytest_gpuslo.backends.virtual')  # (simtester's, replaced here)
        if not any(f.key == "tsv" for f in reports.FORMATS):  # (pytester runs this conftest twice in one process)
            reports.FORMATS = (*reports.FORMATS, reports.ReportFormat("tsv", "one TSV row per SLO test",
                                                                      "tsvreport:render"))

        def pytest_addoption(parser):
            parser.addoption("--gpuslo-tsv", dest="gpuslo_tsv", default=None)
        """)
    gputester.makepyfile(test_it="""
        import pytest

        @pytest.mark.slo(p95_ms=500, rate_hz=200, requests=1000)
        def test_fast():
            pass
        """)
    gputester.syspathinsert()
    result = gputester.runpytest("--gpuslo-tsv=out/slo.tsv", "--gpuslo-alpha=0.02")

    result.stdout.fnmatch_lines(["gpuslo wrote out/slo.tsv (created the folder out)"])
    assert (gputester.path / "out" / "slo.tsv").read_text().endswith("\t0.02\twarn\n")
    result = gputester.runpytest("--gpuslo-tsv=out/b.tsv", "--gpuslo-alpha=0.03")
    result.stdout.fnmatch_lines(["gpuslo ERROR: could not write --gpuslo-tsv=out/b.tsv: rendering it raised "
                                 "RuntimeError: tsv writer bug (at *tsvreport.py:3, in render); a bug in its "
                                 "renderer tsvreport:render, not in the path*"])
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result = gputester.runpytest("--gpuslo-tsv=out/c.tsv", "--gpuslo-alpha=0.04", "--gpuslo-md=out/c.md")
    result.stdout.fnmatch_lines(["gpuslo wrote out/c.md", "gpuslo ERROR: could not write --gpuslo-tsv=out/c.tsv: its "
                                 "renderer returned NoneType, not str; a bug in its renderer tsvreport:render*"])
