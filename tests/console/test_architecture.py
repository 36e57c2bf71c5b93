"""The arrows between the apps point one way: connections/ and mappings/ know nothing of provisioning/, and the
emulators (test doubles of the remote systems) know nothing of the console at all."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
APPS = ("connections", "mappings", "provisioning", "console", "api", "emulators")
FORBIDDEN = {
    "connections": {"provisioning", "api"},
    "mappings": {"provisioning", "api"},
    "provisioning": {"api"},  # the API sits on top: it calls provisioning's operations, never the other way
    "emulators": {"connections", "mappings", "provisioning", "console", "api"},
}


def imported_apps(path: Path) -> set[str]:
    """Top-level project apps a module imports, wherever the import statement stands."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        else:
            continue
        found |= {name.split(".")[0] for name in names} & set(APPS)
    return found


def test_the_check_sees_imports_inside_functions(tmp_path):
    module = tmp_path / "m.py"
    module.write_text("def f():\n    from provisioning.models import ProvisioningJob\n")
    assert imported_apps(module) == {"provisioning"}


@pytest.mark.parametrize("app", sorted(FORBIDDEN))
def test_app_does_not_import_what_depends_on_it(app):
    offenders = {
        str(path.relative_to(ROOT)): sorted(imported_apps(path) & FORBIDDEN[app])
        for path in (ROOT / app).rglob("*.py")
        if imported_apps(path) & FORBIDDEN[app]
    }
    assert not offenders, f"{app}/ must not import {sorted(FORBIDDEN[app])}: {offenders}"
