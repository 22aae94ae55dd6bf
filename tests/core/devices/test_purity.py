"""passgate.core.devices stays pure: the standard library, ``cryptography`` (device keys, signed records) and
passgate.core only, as the rest of the core (ADR 0001); no clock, no randomness (both come in as arguments)."""

from __future__ import annotations

from pathlib import Path

import pytest

import passgate.core.devices
from tests.core.purity import check_imports, check_no_clock_or_chance, check_no_framework_on_import

PACKAGE = Path(passgate.core.devices.__file__).parent
ALLOWED_ROOTS = {"__future__", "base64", "binascii", "collections", "dataclasses", "datetime", "enum", "functools",
                 "json", "re", "types", "typing", "uuid", "hashlib", "hmac", "cryptography", "passgate"}


@pytest.mark.parametrize("module", sorted(PACKAGE.glob("*.py")), ids=lambda p: p.name)
def test_module_imports_only_what_the_core_may(module: Path) -> None:
    check_imports(module, ALLOWED_ROOTS)


@pytest.mark.parametrize("module", sorted(PACKAGE.glob("*.py")), ids=lambda p: p.name)
def test_module_reads_no_clock_and_draws_no_chance(module: Path) -> None:
    check_no_clock_or_chance(module)


def test_importing_the_package_does_not_import_django() -> None:
    check_no_framework_on_import("passgate.core.devices")
