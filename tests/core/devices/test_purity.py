"""passgate.core.devices stays pure: the standard library, ``cryptography`` (device keys, signed records) and
passgate.core only, as the rest of the core (ADR 0001); no clock, no randomness (both come in as arguments)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import passgate.core.devices

PACKAGE = Path(passgate.core.devices.__file__).parent
ALLOWED_ROOTS = {"__future__", "base64", "binascii", "collections", "dataclasses", "datetime", "enum", "functools",
                 "json", "re", "types", "typing", "uuid", "hashlib", "hmac", "cryptography", "passgate"}
CLOCK_OR_CHANCE = {"now", "utcnow", "today", "time", "monotonic", "uuid1", "uuid4", "random", "token_bytes",
                   "token_urlsafe", "urandom"}


def _tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"))


@pytest.mark.parametrize("module", sorted(PACKAGE.glob("*.py")), ids=lambda p: p.name)
def test_module_imports_only_the_standard_library_and_the_core(module: Path) -> None:
    for node in ast.walk(_tree(module)):
        if isinstance(node, ast.Import):
            assert {alias.name.split(".")[0] for alias in node.names} <= ALLOWED_ROOTS
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            assert node.module.split(".")[0] in ALLOWED_ROOTS
            if node.module.startswith("passgate"):
                assert node.module.startswith("passgate.core")


@pytest.mark.parametrize("module", sorted(PACKAGE.glob("*.py")), ids=lambda p: p.name)
def test_module_reads_no_clock_and_draws_no_chance(module: Path) -> None:
    called = {node.func.attr for node in ast.walk(_tree(module))
              if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)}
    assert not called & CLOCK_OR_CHANCE


def test_importing_the_package_does_not_import_django() -> None:
    code = ("import sys\nimport passgate.core.devices\n"
            "loaded = sorted(m for m in sys.modules if m.split('.')[0] in ('django', 'authlib', 'rest_framework'))\n"
            "assert not loaded, loaded\n")
    root = Path(__file__).resolve().parents[3]
    subprocess.run([sys.executable, "-c", code], cwd=root, check=True, timeout=60)
