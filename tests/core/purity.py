"""Purity checks of a core package: which modules it may import, and that it reads no clock and draws no chance
(both come in as arguments). Each package's test_purity.py names its package and what it may import."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

CLOCK_OR_CHANCE = {"now", "utcnow", "today", "time", "monotonic", "uuid1", "uuid4", "random", "token_bytes",
                   "token_urlsafe", "urandom"}
ROOT = Path(__file__).resolve().parents[2]


def _tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"))


def check_imports(module: Path, allowed_roots: set[str]) -> None:
    for node in ast.walk(_tree(module)):
        if isinstance(node, ast.Import):
            assert {alias.name.split(".")[0] for alias in node.names} <= allowed_roots
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            assert node.module.split(".")[0] in allowed_roots
            if node.module.startswith("passgate"):
                assert node.module.startswith("passgate.core")


def check_no_clock_or_chance(module: Path) -> None:
    called = {node.func.attr for node in ast.walk(_tree(module))
              if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)}
    assert not called & CLOCK_OR_CHANCE


def check_no_framework_on_import(package: str) -> None:
    code = (f"import sys\nimport {package}\n"
            "loaded = sorted(m for m in sys.modules if m.split('.')[0] in ('django', 'authlib', 'rest_framework'))\n"
            "assert not loaded, loaded\n")
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True, timeout=60)
