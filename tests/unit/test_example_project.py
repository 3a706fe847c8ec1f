"""The example project's markers, read from its source: a marker too short to PASS turned its
strict "before" test into a test that could not fail (session 47: ``requests=3000`` at p95 drew
the pre-run "too few for a PASS" warning, which the test's ``filterwarnings("error")`` raised
before any load ran, and the xfail held whatever the code did)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from pytest_gpuslo.spec import pass_floor, resolve, validate_marker

TESTS = Path(__file__).resolve().parents[2] / "example_project" / "tests"


def _slo_markers(path: Path) -> list[tuple[int, dict[str, object]]]:
    """Each ``pytest.mark.slo(...)`` call's literal keyword arguments (names, like a rate set at
    import, become a stand-in number: only the sizes matter here)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "slo"
                and isinstance(node.func.value, ast.Attribute) and node.func.value.attr == "mark"):
            kwargs: dict[str, object] = {}
            for kw in node.keywords:
                assert kw.arg is not None
                kwargs[kw.arg] = ast.literal_eval(kw.value) if isinstance(kw.value, ast.Constant) else 100.0
            found.append((node.lineno, kwargs))
    return found


@pytest.mark.parametrize("path", sorted(TESTS.glob("test_*.py")), ids=lambda p: p.name)
def test_every_example_marker_can_pass(path: Path) -> None:
    markers = _slo_markers(path)
    assert markers, f"no slo markers found in {path}"
    for line, kwargs in markers:
        kwargs.pop("arrivals", None)  # a process built at import; the sizes do not depend on it
        where = f"{path.name}:{line}"
        spec = resolve(validate_marker((), kwargs, where), nodeid=where)
        assert pass_floor(spec) is None, f"{where}: {pass_floor(spec)}"
