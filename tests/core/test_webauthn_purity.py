"""passgate.core.webauthn stays pure: no Django, no I/O, no clock, no randomness in our code."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import passgate.core.webauthn

PACKAGE = Path(passgate.core.webauthn.__file__).parent
FORBIDDEN = {"django", "time", "datetime", "random", "secrets", "os", "socket", "urllib", "requests", "logging"}


def _imported_roots(path: Path) -> set[str]:
    roots: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


@pytest.mark.parametrize("module", sorted(PACKAGE.glob("*.py")), ids=lambda p: p.name)
def test_module_imports_nothing_impure(module: Path) -> None:
    assert not _imported_roots(module) & FORBIDDEN


def test_importing_the_core_and_its_tests_does_not_import_django() -> None:
    code = (
        "import sys\n"
        "import passgate.core.webauthn\n"
        "import tests.core.softauthn, tests.core.test_conformance_vectors, tests.core.test_webauthn_fuzz\n"
        "loaded = sorted(m for m in sys.modules if m == 'django' or m.startswith('django.'))\n"
        "assert not loaded, loaded\n"
    )
    root = Path(__file__).resolve().parents[2]
    subprocess.run([sys.executable, "-c", code], cwd=root, check=True, timeout=60)
