"""The house plan, checked: one-way imports, GPU libraries only under backends/, a thin plugin,
and registries that really are the only place a backend, a report format or a process is named."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "pytest_gpuslo"
GPU_LIBRARIES = {"cupy", "cupyx", "torch", "jax", "jaxlib", "pynvml", "tensorrt", "onnxruntime"}


def _module_name(path: Path) -> str:
    rel = path.relative_to(PACKAGE.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path) -> list[tuple[str, int]]:
    """Every module a file imports (at any depth, TYPE_CHECKING blocks included), with its line."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    here = _module_name(path).split(".")
    is_pkg = path.name == "__init__.py"
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(a.name, node.lineno) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = here if is_pkg else here[:-1]
                base = base[: len(base) - (node.level - 1)]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            out.append((mod, node.lineno))
            # "from pytest_gpuslo import arrivals" imports the submodule too
            out += [(f"{mod}.{a.name}", node.lineno) for a in node.names]
    return out


def _graph() -> dict[str, set[str]]:
    modules = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
    graph: dict[str, set[str]] = {m: set() for m in modules}
    for name, path in modules.items():
        for target, _ in _imports(path):
            if target in modules and target != name:
                graph[name].add(target)
    return graph


def test_no_import_circles() -> None:
    """Data flows one way: no module reaches itself through its imports (lazy ones included),
    except a package's __init__ re-exporting its own submodules."""
    graph = _graph()

    def reach(start: str) -> set[str]:
        seen: set[str] = set()
        stack = [t for t in graph[start] if not _reexport(start, t)]
        while stack:
            m = stack.pop()
            if m in seen:
                continue
            seen.add(m)
            stack += [t for t in graph[m] if not _reexport(m, t)]
        return seen

    circles = sorted(m for m in graph if m in reach(m))
    assert circles == []


def _reexport(module: str, target: str) -> bool:
    """A package's __init__ importing its own submodule is not a dependency of the submodule's."""
    return target.startswith(module + ".")


def test_gpu_libraries_are_imported_only_under_backends() -> None:
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        if "backends" in path.relative_to(PACKAGE).parts:
            continue
        for target, line in _imports(path):
            if target.split(".")[0] in GPU_LIBRARIES:
                offenders.append(f"{path.relative_to(PACKAGE)}:{line} imports {target}")
    assert offenders == []


def test_the_plugin_module_is_thin() -> None:
    assert len((PACKAGE / "plugin.py").read_text().splitlines()) < 200


def test_the_core_imports_neither_pytest_nor_a_gpu_library() -> None:
    """The pure core (everything but the pytest layer and the backends) never imports pytest."""
    pytest_layer = {"plugin.py", "session.py", "fixtures.py"}
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        rel = path.relative_to(PACKAGE)
        if rel.name in pytest_layer or rel.parts[0] == "backends":
            continue
        offenders += [f"{rel}:{line}" for target, line in _imports(path) if target.split(".")[0] in {"pytest", "_pytest"}]
    assert offenders == []


@pytest.mark.parametrize("word", ['"cuda"', "'cuda'"])
def test_no_backend_is_named_outside_the_registry_and_its_own_module(word: str) -> None:
    """Adding a backend touches its module and one registry line: nothing else spells a name."""
    allowed = {Path("backends/__init__.py"), Path("backends/cuda.py"), Path("backends/nvml.py")}
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        rel = path.relative_to(PACKAGE)
        if rel in allowed:
            continue
        for i, line in enumerate(path.read_text().splitlines(), 1):
            if word in line:
                offenders.append(f"{rel}:{i}: {line.strip()}")
    assert offenders == []


def test_every_module_is_in_the_architecture_table() -> None:
    """review119 F4: cuda_sync.py, buffers.py, capacity.py and testing.py were in no row of
    docs/architecture.md; a module added later must be given one."""
    doc = (PACKAGE.parent / "docs" / "architecture.md").read_text(encoding="utf-8")
    missing = []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE)
        if len(rel.parts) > 1 and rel.parts[0] != "backends":  # arrivals/, reports/: named in their row
            if rel.name != "__init__.py" and rel.name not in doc:
                missing.append(rel.as_posix())
            continue
        if f"`{rel.as_posix() if len(rel.parts) > 1 else rel.name}`" not in doc:
            missing.append(rel.as_posix())
    assert not missing, f"give these a row in docs/architecture.md: {missing}"
