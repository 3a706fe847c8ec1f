"""The documentation stands alone: every relative link in the repository's markdown resolves to a
file inside the repository, and no page points outside it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PAGES = sorted([*ROOT.glob("*.md"), *ROOT.glob("docs/*.md"), *ROOT.glob("example_project/*.md"),
                ROOT / "tests" / "README.md"])


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_links_resolve_inside_the_repository(page: Path) -> None:
    text = page.read_text(encoding="utf-8")
    targets = re.findall(r"\]\(([^)\s#]+)(?:#[^)]*)?\)", text)
    broken = []
    for target in targets:
        if re.match(r"[a-z]+:", target):
            continue  # a URL
        path = (page.parent / target).resolve()
        if not path.exists() or ROOT not in (path, *path.parents):
            broken.append(target)
    outside = re.findall(r"\.\./shared/\S+", text)

    assert broken == [] and outside == []
