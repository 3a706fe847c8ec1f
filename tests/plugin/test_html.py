"""The HTML dashboard: self-contained, and every chart renders in headless Chromium."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

SUITE = """
import numpy as np, pytest

@pytest.fixture
def pipe(slo_pipeline):
    return slo_pipeline(lambda d_in, d_out: np.multiply(d_in, 2, out=d_out), (1024,), (1024,), "float32")

@pytest.mark.slo(p95_ms=5000, rate_hz=2000, requests=2000, streams=2, backend="cpu")
def test_pipe(slo_request, pipe):
    pipe(slo_request, None)

@pytest.mark.slo(p95_ms=5000, rate_hz=2000, requests=2000, backend="cpu")
def test_plain(slo_request):
    pass
"""
#: Real threads (the report's CPU panels); budgets far above the work, so a busy machine changes
#: no outcome this file asserts.
PANELS_PER_TEST = 6  # five charts and the telemetry strip, each a chart or a "not measured" panel


@pytest.fixture
def report(gputester: pytest.Pytester) -> Path:
    gputester.makepyfile(SUITE)
    result = gputester.runpytest("--gpuslo-html=report.html")
    assert 2 == result.parseoutcomes()["passed"]
    result.stdout.fnmatch_lines(["gpuslo wrote report.html"])
    return gputester.path / "report.html"


def test_report_is_self_contained_with_every_panel(report: Path) -> None:
    """No script, stylesheet, image or font from outside; charts or explicit 'not measured'."""
    text = report.read_text()

    assert not re.search(r'(src|href)\s*=\s*"(https?:)?//', text)
    assert "url(http" not in text and "<script" not in text and "<link" not in text
    assert 2 * PANELS_PER_TEST == text.count('data-chart="')
    assert text.count('data-chart="svg"') >= 2 * 4  # arrivals, queue, latency, CDF at least
    assert "not measured: no slo_occupancy call and no h2d/compute/d2h stages" in text  # test_plain
    assert "not measured: CPU run or NVML unavailable" in text
    assert text.index("test_pipe") < text.index("<section")  # overview table first


def test_every_chart_renders_in_headless_chromium(report: Path, tmp_path: Path) -> None:
    """Chromium lays the page out with every SVG and panel, and the screenshot is not blank."""
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        pytest.skip("Debian's chromium is not installed (.ci/run installs it with apt-get)")
    flags = [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
             "--disable-component-update", "--disable-sync", "--no-first-run",
             f"--user-data-dir={tmp_path / 'profile'}", "--window-size=1300,2600"]
    dom = subprocess.run(flags + ["--dump-dom", report.as_uri()], capture_output=True, text=True, timeout=120)
    shot = tmp_path / "shot.png"
    subprocess.run(flags + [f"--screenshot={shot}", report.as_uri()], capture_output=True, timeout=120)

    assert 2 * PANELS_PER_TEST == dom.stdout.count('data-chart="')
    assert dom.stdout.count("<svg") >= 2 * 4
    from PIL import Image

    img = Image.open(shot).convert("L")
    dark = sum(img.histogram()[:200])
    assert img.size == (1300, 2600) and dark > 20_000


def test_html_without_matplotlib_is_a_usage_error(gputester: pytest.Pytester) -> None:
    """The option explains how to get its plotting library."""
    blocker = gputester.mkpydir("matplotlib")
    (blocker / "__init__.py").write_text("raise ImportError('no matplotlib here')\n")
    gputester.syspathinsert()
    result = gputester.runpytest_subprocess("--gpuslo-html=r.html", "-p", "no:cacheprovider")

    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--gpuslo-html needs matplotlib*pip install 'pytest-gpuslo[[]html[]]'*"])
