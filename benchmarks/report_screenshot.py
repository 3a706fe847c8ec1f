"""A screenshot of an HTML report, taken by headless Chromium, of the whole page as a reader sees it.

Two passes: the first lets the report draw its charts and reads the page's height (the report
writes it on ``<body data-height>``), the second takes the screenshot at that height.  Works on any
report file, on the CPU or the GPU machine; it is how docs/report-*.png are made.

Usage: python benchmarks/report_screenshot.py REPORT.html OUT.png [--all | --section tN]
       [--width 1300] [--max-height 9000]
  --all         open every test's section (by default, as the report opens: failed and regressed tests)
  --section tN  the overview and test section tN alone, opened (t0 is the overview's first row)
Needs Debian's ``chromium`` (or ``chromium-browser``) on PATH.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", "--virtual-time-budget=10000"]


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        raise SystemExit("chromium is not on PATH: install Debian's chromium (apt-get install chromium)")
    return found


def page_height(url: str, width: int, profile: str) -> int:
    """The laid-out page's height once its charts are drawn."""
    out = subprocess.run([chromium(), *FLAGS, f"--user-data-dir={profile}", f"--window-size={width},1000",
                          "--dump-dom", url], capture_output=True, text=True, timeout=180)
    m = re.search(r'data-height="(\d+)"', out.stdout)
    if m is None:
        raise SystemExit(f"the page did not report its height (is {url} a pytest-gpuslo report?)\n{out.stderr[-2000:]}")
    return int(m.group(1))


def screenshot(report: Path, png: Path, *, open_all: bool = False, section: str | None = None,
               width: int = 1300, max_height: int = 9000) -> int:
    url = report.resolve().as_uri() + ("#all" if open_all else f"#only-{section}" if section else "")
    with tempfile.TemporaryDirectory() as profile:
        height = min(page_height(url, width, profile), max_height)
        subprocess.run([chromium(), *FLAGS, f"--user-data-dir={profile}", f"--window-size={width},{height}",
                        f"--screenshot={png.resolve()}", url], capture_output=True, timeout=180, check=True)
    return height


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("report", type=Path)
    ap.add_argument("png", type=Path)
    ap.add_argument("--all", action="store_true", help="open every test's section")
    ap.add_argument("--section", help="the overview and this test section (tN) alone, opened")
    ap.add_argument("--width", type=int, default=1300)
    ap.add_argument("--max-height", type=int, default=9000)
    a = ap.parse_args(argv)
    if not a.report.is_file():
        raise SystemExit(f"{a.report}: no such report file")
    h = screenshot(a.report, a.png, open_all=a.all, section=a.section, width=a.width, max_height=a.max_height)
    print(f"wrote {a.png} ({a.width}x{h})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
