"""The HTML report: self-contained, and every chart renders in headless Chromium with a title,
labelled axes with units and a legend clear of the data."""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

SUITE = """
import os, pytest
from pytest_gpuslo.backends.virtual import work

SLOW = float(os.environ.get("GPUSLO_TEST_SLOW", "1"))

@pytest.mark.slo(p95_ms=20, p99_ms=40, rate_hz=800, requests=4000, streams=2,
                 arrivals="onoff(burst_s=0.05, calm_s=0.2)")
def test_bursty(slo_request):
    work(0.0022)

@pytest.mark.slo(p95_ms=5, rate_hz=500, requests=4000, streams=2)
def test_steady(slo_request):
    work(0.0005 * SLOW)
"""
REPORT = "artifacts/gpuslo/report.html"  # a nested path, as a CI workflow passes it
#: per test: spectrum, latency over time, where the time went, rate, queue depth, occupancy, telemetry
PANELS_PER_TEST = 7
UNIT = re.compile(r"\((?:ms|s|%|MHz|W|°C|requests/s|requests)[ ,)]")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", "--virtual-time-budget=10000"]


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """test_bursty fails its budgets in the bursts; test_steady passes its budget but, 2.5x
    slower than its baseline (three runs stored on three days), regresses.
    Made once for the module (in a subprocess: pytester is per test) on the virtual-time backend,
    so every verdict is exact."""
    root = tmp_path_factory.mktemp("suite")
    (root / "pytest.ini").write_text("[pytest]\naddopts = -p no:cacheprovider\ngpuslo_backend = virtual\n")
    (root / "conftest.py").write_text("from pytest_gpuslo import backends\n"
                                      "backends.REGISTRY.setdefault('virtual', 'pytest_gpuslo.backends.virtual')\n")
    (root / "test_suite.py").write_text(SUITE)
    run = [sys.executable, "-m", "pytest", "-q"]
    for day in ("day-1", "day-2", "day-3"):  # runs from three sessions: their spread decides
        subprocess.run([*run, "--gpuslo-save"], cwd=root, capture_output=True, timeout=300,
                       env={**os.environ, "GPUSLO_SESSION": day, "GPUSLO_NOW": f"2026-11-1{day[-1]}T12:00:00+00:00"})
    out = subprocess.run([*run, f"--gpuslo-html={REPORT}", f"--gpuslo-json={Path(REPORT).parent}/results.json"],
                         cwd=root, capture_output=True, text=True,
                         timeout=300, env={**os.environ, "GPUSLO_TEST_SLOW": "2.5"})
    assert "2 failed" in out.stdout and f"gpuslo wrote {REPORT}" in out.stdout, out.stdout[-3000:]
    return root / REPORT


def chart_data(text: str) -> list[dict[str, Any]]:
    return [json.loads(blob) for blob in re.findall(r'<script type="application/json" id="data-\d+">(.*?)</script>', text)]


def test_report_is_self_contained_with_the_reviewer_s_answer_first(report: Path) -> None:
    """Nothing from outside (uPlot inlined once); the overview comes first, worst first, each row
    linking to its section; a failed or regressed test opens, with its chart data and reference."""
    text = report.read_text()

    assert not re.search(r'(src|href)\s*=\s*"(https?:)?//', text)
    assert "url(http" not in text and "<link" not in text and "<script src" not in text
    assert 1 == text.count("var uPlot=")
    overview = text[:text.index("<details")]
    assert overview.index("test_bursty") < overview.index("test_steady")  # both FAIL: by node id
    assert re.search(r"p95 (replayed )?\+\d{2,3}\.\d%.{0,40}REGRESSED", overview)
    for i in range(2):
        assert f'href="#t{i}"' in overview and f'<details class="test" id="t{i}" data-json="data-{i}" open>' in text
    assert 2 * PANELS_PER_TEST == len(re.findall(r'<div class="panel" data-chart="', text))
    assert "not measured: no slo_occupancy call and no h2d/compute/d2h stages" in text
    assert "not measured: no GPU samples (backend virtual: CPU run or NVML unavailable)" in text
    bursty, steady = chart_data(text)
    assert bursty["series"]["bursts"] and not steady["series"]["bursts"]
    assert steady["series"]["reference"]["label"] == "baseline"
    assert [c["outcome"] for c in bursty["claims"]] == ["FAIL", "FAIL"]


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        pytest.skip("Debian's chromium is not installed (.ci/run installs it with apt-get)")
    return found


def dump_dom(page: Path, profile: Path, fragment: str = "#all") -> str:
    out = subprocess.run([chromium(), *FLAGS, f"--user-data-dir={profile}", "--window-size=1300,2600",
                          "--dump-dom", page.as_uri() + fragment], capture_output=True, text=True, timeout=180)
    return out.stdout


def overlap(a: list[float], b: list[float]) -> float:
    w = min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0])
    h = min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1])
    return max(w, 0.0) * max(h, 0.0)


def test_every_chart_renders_titled_labelled_with_a_legend_clear_of_the_data(report: Path, tmp_path: Path) -> None:
    """Chromium lays out every chart of every section; each records (data-audit) its title, its
    axis labels with units, its legend entries and where its legend and plot area ended up."""
    dom = dump_dom(report, tmp_path / "profile")
    audits = [json.loads(html.unescape(a)) for a in re.findall(r'data-audit="([^"]*)"', dom)]

    # per test: spectrum, over time, rate, depth (uPlot) and where the time went (bars)
    assert 2 * 5 == len(audits), dom[-3000:]
    assert 2 * 4 == sum(a["kind"] == "uplot" for a in audits)
    for a in audits:
        assert a["title"] and a["legend"], a
        assert UNIT.search(a["x"]), f"{a['title']}: x axis {a['x']!r} has no unit"
        assert a["y"] and (a["kind"] == "bars" or UNIT.search(a["y"])), f"{a['title']}: y axis {a['y']!r}"
        assert a["plot"][2] > 200 and a["plot"][3] > 40, a
        assert a["legend_box"] and 0 == overlap(a["plot"], a["legend_box"]), f"{a['title']}: legend covers the data"
    spectra = [a for a in audits if a["title"].startswith("Percentile spectrum")]
    assert any("baseline" in e for e in spectra[1]["legend"])  # the reference's label, from the data
    assert any(e.startswith("p95 budget 5 ms: PASS") for e in spectra[1]["legend"])
    assert any(e.startswith("p99 budget 40 ms: FAIL") for e in spectra[0]["legend"])
    assert not re.search(r"chart failed: [^$]", dom)  # no chart raised (the text is in the script too)

    shot = tmp_path / "shot.png"  # and the pixels are there: the page as a reader opens it
    subprocess.run([chromium(), *FLAGS, f"--user-data-dir={tmp_path / 'profile'}", "--window-size=1300,2600",
                    f"--screenshot={shot}", report.as_uri()], capture_output=True, timeout=180)
    from PIL import Image

    img = Image.open(shot).convert("L")
    assert img.size == (1300, 2600) and sum(img.histogram()[:200]) > 20_000


def test_zooming_one_time_chart_zooms_the_test_s_others(report: Path, tmp_path: Path) -> None:
    """Drag-zoom on latency over time moves rate and queue depth to the same window."""
    page = tmp_path / "zoom.html"
    probe = ("<script>setTimeout(() => { const cs = window.gpusloCharts.slice(0, 4);"
             " cs[1].u.setScale('x', {min: 1, max: 2});"
             " setTimeout(() => { document.body.dataset.zoom = JSON.stringify(cs.map(c => [c.u.scales.x.min,"
             " c.u.scales.x.max])); }, 50); }, 50);</script></body>")
    page.write_text(report.read_text().replace("</body>", probe))

    dom = dump_dom(page, tmp_path / "profile", fragment="")
    windows = json.loads(html.unescape(re.search(r'data-zoom="([^"]*)"', dom).group(1)))

    spectrum, *time_charts = windows
    assert all(w == pytest.approx([1, 2]) for w in time_charts)
    assert spectrum != pytest.approx([1, 2])  # the percentile axis is not a time axis


def test_gpu_telemetry_renders_on_the_run_s_time_axis(report: Path, tmp_path: Path) -> None:
    """NVML samples (as a GPU run would carry) become three strips, SM clock, power and temperature,
    each with its unit and a legend naming the clock-event reason that held the clocks down."""
    from pytest_gpuslo import series
    from pytest_gpuslo.reports.html import render

    steady = json.loads((report.parent / "results.json").read_text())["results"][1]
    t0 = 10**9
    trace = [{"t_ns": t0 + k * 50_000_000, "sm_mhz": 1980 - 600 * (k == 40), "power_w": 300.0 + k % 5,
              "temp_c": 60, "reasons": 0x4 * (k == 40)} for k in range(160)]
    steady["series"]["telemetry"] = series.telemetry(trace, t0, 0.0)
    page = tmp_path / "gpu.html"
    page.write_text(render([steady]))

    dom = dump_dom(page, tmp_path / "profile")
    audits = [json.loads(html.unescape(a)) for a in re.findall(r'data-audit="([^"]*)"', dom)]

    strips = [a for a in audits if a["title"].startswith("GPU telemetry")]
    assert ["SM clock (MHz)", "power (W)", "temperature (°C)"] == [a["y"] for a in strips]
    for a in strips:
        assert UNIT.search(a["x"]) and 0 == overlap(a["plot"], a["legend_box"])
        assert "clocks held down: sw_power_cap" in a["legend"]
    assert "not measured: no GPU samples" not in dom


def test_html_needs_no_plotting_library(gputester: pytest.Pytester) -> None:
    """The report draws in the browser: without matplotlib it is still written."""
    blocker = gputester.mkpydir("matplotlib")
    (blocker / "__init__.py").write_text("raise ImportError('no matplotlib here')\n")
    gputester.syspathinsert()
    gputester.makepyfile("import pytest\n\n@pytest.mark.slo(p95_ms=500, rate_hz=200, requests=100)\n"
                         "def test_x(slo_request):\n    pass\n")
    result = gputester.runpytest_subprocess("--gpuslo-html=r.html", "-p", "no:cacheprovider")

    assert result.ret in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED)
    assert "var uPlot=" in (gputester.path / "r.html").read_text()
