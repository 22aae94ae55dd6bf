"""passgate.core.trust stays pure: no Django, no I/O beyond its package data, no clock, no randomness."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import passgate.core.trust

PACKAGE = Path(passgate.core.trust.__file__).parent
FORBIDDEN_IMPORTS = {"django", "time", "random", "secrets", "os", "socket", "urllib", "requests", "logging", "httpx"}
CLOCK_CALLS = {"now", "utcnow", "today", "time", "monotonic"}


def _tree(path: Path) -> ast.AST:
    return ast.parse(path.read_text(encoding="utf-8"))


@pytest.mark.parametrize("module", sorted(PACKAGE.glob("*.py")), ids=lambda p: p.name)
def test_module_imports_nothing_impure(module: Path) -> None:
    roots: set[str] = set()
    for node in ast.walk(_tree(module)):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    assert not roots & FORBIDDEN_IMPORTS


@pytest.mark.parametrize("module", sorted(PACKAGE.glob("*.py")), ids=lambda p: p.name)
def test_module_never_reads_the_clock(module: Path) -> None:
    calls = {node.func.attr for node in ast.walk(_tree(module))
             if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)}
    assert not calls & CLOCK_CALLS


def test_importing_the_trust_core_does_not_import_django() -> None:
    code = (
        "import sys\n"
        "import passgate.core.trust, tests.core.trust.test_pki\n"
        "loaded = sorted(m for m in sys.modules if m == 'django' or m.startswith('django.'))\n"
        "assert not loaded, loaded\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=PACKAGE.parents[2])
