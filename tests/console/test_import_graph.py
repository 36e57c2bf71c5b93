"""Every module of the project imports in a fresh interpreter, and the imports between its modules form no circle.

A circle kept apart by imports placed inside functions fails only when such a function first runs, and every new
feature has to learn where the hidden edges are. So imports stand at the top of their module; the one exception
is AppConfig.ready(), which Django documents as the place for imports that need the app registry (a models
module cannot be imported while apps.py itself loads). Imports under `if TYPE_CHECKING:` never run and only name
types: they are left out of the graph.
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("console", "connections", "mappings", "provisioning", "api", "emulators")
# (module, function) pairs that may import inside a function, with the reason.
FUNCTION_IMPORTS_ALLOWED = {
    ("connections.apps", "ready"): "registers the system checks once the app registry is ready",
    ("provisioning.apps", "ready"): "connects a post_migrate handler whose module imports the models",
    ("console.apps", "ready"): "connects the heartbeat handlers, whose module imports the models",
}


def project_modules(root: Path = ROOT, packages: tuple[str, ...] = PACKAGES) -> dict[str, Path]:
    """Dotted name -> file of every module under the packages."""
    found = {}
    for package in packages:
        for path in sorted((root / package).rglob("*.py")):
            parts = list(path.relative_to(root).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imported(node: ast.Import | ast.ImportFrom, module: str, is_package: bool, known: set[str]) -> set[str]:
    """The project modules an import statement loads."""
    if isinstance(node, ast.Import):
        names = [alias.name for alias in node.names]
    else:
        base = node.module or ""
        if node.level:
            package = module.split(".") if is_package else module.split(".")[:-1]
            package = package[: len(package) - (node.level - 1)]
            base = ".".join([*package, base] if base else package)
        names = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base for alias in node.names]
    return {name for name in names if name in known}


def module_imports(path: Path, module: str, known: set[str]) -> tuple[set[str], list[tuple[int, str, set[str]]]]:
    """(modules imported when the module loads, [(line, function, modules) imported inside functions])."""
    tree = ast.parse(path.read_text(), str(path))
    is_package = path.name == "__init__.py"
    at_load: set[str] = set()
    in_functions: list[tuple[int, str, set[str]]] = []

    def visit(node: ast.AST, function: str | None) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child):
                for sub in child.orelse:
                    visit(sub, function)
                continue
            if isinstance(child, ast.Import | ast.ImportFrom):
                targets = _imported(child, module, is_package, known)
                if function is None:
                    at_load.update(targets)
                else:
                    in_functions.append((child.lineno, function, targets))
            elif isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
                visit(child, function or getattr(child, "name", "<lambda>"))
            else:
                visit(child, function)

    visit(tree, None)
    return at_load, in_functions


def import_graph(modules: dict[str, Path]) -> dict[str, set[str]]:
    """Module -> the project modules it imports, when it loads or inside a function (an edge all the same)."""
    known = set(modules)
    graph = {}
    for name, path in modules.items():
        at_load, in_functions = module_imports(path, name, known)
        graph[name] = (at_load | {target for _, _, targets in in_functions for target in targets}) - {name}
    return graph


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))

    def connect(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph.get(node, ()):
            if target not in index:
                connect(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            connect(node)
    return found


def test_no_two_modules_of_the_project_import_each_other_even_through_others():
    found = circles(import_graph(project_modules()))
    assert not found, "import circles: " + "; ".join(" <-> ".join(c) for c in found)


def test_imports_stand_at_the_top_of_their_module():
    modules = project_modules()
    known = set(modules)
    hidden = [
        f"{name}:{line} ({function}) imports {', '.join(sorted(targets))}"
        for name, path in modules.items()
        for line, function, targets in module_imports(path, name, known)[1]
        if targets and (name, function) not in FUNCTION_IMPORTS_ALLOWED
    ]
    assert not hidden, "imports inside functions: " + "; ".join(hidden)


def test_every_module_imports_in_a_fresh_interpreter():
    script = (
        "import importlib, json, sys, django\n"
        "django.setup()\n"
        "failed = {}\n"
        "for name in json.loads(sys.argv[1]):\n"
        "    try:\n"
        "        importlib.import_module(name)\n"
        "    except Exception as exc:\n"
        "        failed[name] = f'{type(exc).__name__}: {exc}'\n"
        "print(json.dumps(failed))\n"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings"}
    names = json.dumps(sorted(project_modules()))
    done = subprocess.run(
        [sys.executable, "-c", script, names], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert json.loads(done.stdout.strip().splitlines()[-1]) == {}


def test_the_checks_find_a_circle_an_import_in_a_function_and_skip_type_only_imports(tmp_path):
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("from pkg import b\n")
    (package / "b.py").write_text("from . import c\n")
    (package / "c.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from pkg import d\n"
        "def later():\n    from pkg.a import x\n"
    )
    (package / "d.py").write_text("import pkg.b\n")
    modules = project_modules(tmp_path, ("pkg",))
    graph = import_graph(modules)
    assert graph["pkg.b"] == {"pkg.c"} and graph["pkg.d"] == {"pkg.b"}
    assert module_imports(modules["pkg.c"], "pkg.c", set(modules))[1] == [(5, "later", {"pkg.a"})]
    assert circles(graph) == [["pkg.a", "pkg.b", "pkg.c"]]  # through the import inside later()
    (package / "c.py").write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from pkg import a\n")
    assert circles(import_graph(project_modules(tmp_path, ("pkg",)))) == []
