"""The house rules of ``src/lunglab`` (see docs/architecture.md), checked on the source.

The import graph is read with :mod:`ast` from every file, counting module-level and
function-level imports alike (a lazy import inside a function is still a dependency). It
must have no cycle, and every arrow between two folders must be in :data:`ALLOWED`. No
module may be longer than :data:`MAX_LINES` lines.
"""
from __future__ import annotations

import ast
from collections.abc import Iterable
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src"
PACKAGE = "lunglab"
MAX_LINES = 400

# The layer order: domain <- imaging <- {io, ml, db} <- services <- {api, cli, workers};
# core is usable by all. Each entry lists the folders a folder may import (besides itself).
# "lunglab" is the package root: a lazy façade for notebooks (``lunglab.segment_volume``).
ALLOWED: dict[str, set[str]] = {
    "core": set(),
    "domain": {"core"},
    "imaging": {"core", "domain"},
    "io": {"core", "domain", "imaging"},
    "ml": {"core", "domain", "imaging"},
    "db": {"core", "domain"},
    "services": {"core", "domain", "imaging", "io", "ml", "db"},
    "api": {"core", "domain", "imaging", "io", "db", "services"},
    "workers": {"core", "domain", "services"},
    "cli": {"core", "domain", "imaging", "io", "ml", "db", "services", "api", "workers"},
    "lunglab": {"core", "io", "ml"},
}
"""Folder -> the folders it may import. ``io``, ``ml`` and ``db`` never import each other;
``services`` never imports ``api``, ``cli`` or ``workers``; ``api`` never imports
``workers`` (the server picks its job runner from ``services.jobs.runners``)."""

FORBIDDEN_LIBRARIES: dict[str, set[str]] = {
    "domain": {"sqlalchemy", "fastapi", "starlette", "celery", "typer"},
    "imaging": {"sqlalchemy", "fastapi", "starlette", "celery", "typer"},
    "ml": {"sqlalchemy", "fastapi", "starlette", "celery", "typer"},
    "io": {"sqlalchemy", "fastapi", "starlette", "celery", "typer"},
    "db": {"fastapi", "starlette", "celery", "typer"},
    "services": {"fastapi", "starlette", "typer"},
}
"""Third-party libraries a folder must not use: imaging and ml work on arrays and files,
without a server or a database, so a data scientist can use them alone."""

def _modules(root: Path) -> dict[str, tuple[Path, bool]]:
    """Dotted module name -> (file, is package) for every ``.py`` under ``root/lunglab``."""
    out = {}
    for path in sorted((root / PACKAGE).rglob("*.py")):
        parts = list(path.relative_to(root).with_suffix("").parts)
        is_pkg = parts[-1] == "__init__"
        if is_pkg:
            parts = parts[:-1]
        out[".".join(parts)] = (path, is_pkg)
    return out


def _imported(module: str, is_pkg: bool, node: ast.Import | ast.ImportFrom) -> Iterable[str]:
    """Absolute names an import statement refers to (modules or module.attribute)."""
    if isinstance(node, ast.Import):
        yield from (a.name for a in node.names)
        return
    if node.level:
        base = module.split(".")
        if not is_pkg:
            base = base[:-1]
        base = base[: len(base) - (node.level - 1)]
        prefix = ".".join(base + ([node.module] if node.module else []))
    else:
        prefix = node.module or ""
    yield prefix
    yield from (f"{prefix}.{a.name}" for a in node.names)


def import_graph(root: Path = SRC) -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    """``(edges between lunglab modules, third-party top-level names per module)``."""
    modules = _modules(root)
    edges: dict[str, set[str]] = {m: set() for m in modules}
    libraries: dict[str, set[str]] = {m: set() for m in modules}
    for module, (path, is_pkg) in modules.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if not isinstance(node, (ast.Import, ast.ImportFrom)):
                continue
            for name in _imported(module, is_pkg, node):
                top = name.split(".")[0]
                if top != PACKAGE:
                    if top:
                        libraries[module].add(top)
                    continue
                while name not in modules and "." in name:
                    name = name.rsplit(".", 1)[0]
                if name in modules and name != module:
                    edges[module].add(name)
    return edges, libraries


def folder(module: str) -> str:
    """The top folder of a module (``lunglab`` for the package root)."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else parts[0]


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0

    def visit(v: str) -> None:
        nonlocal counter
        index[v] = low[v] = counter
        counter += 1
        stack.append(v)
        on_stack.add(v)
        for w in sorted(edges[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return found


def layer_violations(edges: dict[str, set[str]]) -> list[str]:
    """``"a -> b"`` for every import between folders that :data:`ALLOWED` does not list."""
    bad = []
    for module, targets in sorted(edges.items()):
        src = folder(module)
        for target in sorted(targets):
            dst = folder(target)
            if dst != src and dst not in ALLOWED[src]:
                bad.append(f"{module} -> {target}  ({src} may not import {dst})")
    return bad


def library_violations(libraries: dict[str, set[str]]) -> list[str]:
    """``"module uses library"`` for every use :data:`FORBIDDEN_LIBRARIES` forbids."""
    return [f"{module} uses {lib}" for module, libs in sorted(libraries.items())
            for lib in sorted(libs & FORBIDDEN_LIBRARIES.get(folder(module), set()))]


def long_modules(root: Path = SRC, limit: int = MAX_LINES) -> list[str]:
    """``"path: N lines"`` for every module over ``limit`` lines."""
    out = []
    for path, _ in _modules(root).values():
        n = len(path.read_text(encoding="utf-8").splitlines())
        if n > limit:
            out.append(f"{path.relative_to(root)}: {n} lines")
    return out


@pytest.fixture(scope="module")
def graph() -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    return import_graph()


def test_every_folder_has_its_rules(graph) -> None:
    folders = {folder(m) for m in graph[0]}
    assert folders <= set(ALLOWED), f"folders without rules: {sorted(folders - set(ALLOWED))}"


def test_no_import_cycles(graph) -> None:
    found = cycles(graph[0])
    assert not found, "import cycles:\n" + "\n".join(" <-> ".join(c) for c in found)


def test_imports_follow_the_layer_order(graph) -> None:
    bad = layer_violations(graph[0])
    assert not bad, "imports against the layer order:\n" + "\n".join(bad)


def test_imaging_and_ml_need_no_server_or_database(graph) -> None:
    bad = library_violations(graph[1])
    assert not bad, "\n".join(bad)


def test_no_module_over_400_lines() -> None:
    bad = long_modules()
    assert not bad, f"modules over {MAX_LINES} lines:\n" + "\n".join(bad)


# The checks themselves, on a tiny package written to a temporary folder: each can fail.

def _tiny(tmp_path: Path, files: dict[str, str]) -> Path:
    for name, text in {"lunglab/__init__.py": "", **files}.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return tmp_path


def test_a_cycle_is_found_even_through_a_lazy_import(tmp_path: Path) -> None:
    root = _tiny(tmp_path, {
        "lunglab/services/__init__.py": "",
        "lunglab/services/a.py": "from lunglab.services import b\n",
        "lunglab/services/b.py": "def f():\n    from lunglab.services.a import x\n",
    })
    edges, _ = import_graph(root)
    assert cycles(edges) == [["lunglab.services.a", "lunglab.services.b"]]


def test_an_upward_or_sideways_import_is_found(tmp_path: Path) -> None:
    root = _tiny(tmp_path, {
        "lunglab/imaging/__init__.py": "",
        "lunglab/imaging/m.py": "from lunglab.services.x import y\n",
        "lunglab/services/__init__.py": "",
        "lunglab/services/x.py": "y = 1\n",
        "lunglab/io/__init__.py": "",
        "lunglab/io/r.py": "from ..ml import net\n",
        "lunglab/ml/__init__.py": "",
        "lunglab/ml/net.py": "import sqlalchemy\n",
    })
    edges, libraries = import_graph(root)
    assert [v.split("  ")[0] for v in layer_violations(edges)] == [
        "lunglab.imaging.m -> lunglab.services.x", "lunglab.io.r -> lunglab.ml",
        "lunglab.io.r -> lunglab.ml.net"]
    assert library_violations(libraries) == ["lunglab.ml.net uses sqlalchemy"]


def test_a_long_module_is_found(tmp_path: Path) -> None:
    root = _tiny(tmp_path, {"lunglab/big.py": "x = 1\n" * 401, "lunglab/ok.py": "x = 1\n" * 400})
    assert long_modules(root) == ["lunglab/big.py: 401 lines"]
