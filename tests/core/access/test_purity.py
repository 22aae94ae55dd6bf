"""passgate.core.access stays pure: the standard library and passgate.core only, no clock, no randomness."""

from __future__ import annotations

from pathlib import Path

import pytest

import passgate.core.access
from tests.core.purity import check_imports, check_no_clock_or_chance, check_no_framework_on_import

PACKAGE = Path(passgate.core.access.__file__).parent
ALLOWED_ROOTS = {"__future__", "collections", "dataclasses", "datetime", "enum", "functools", "json", "re", "types",
                 "typing", "uuid", "passgate"}


@pytest.mark.parametrize("module", sorted(PACKAGE.glob("*.py")), ids=lambda p: p.name)
def test_module_imports_only_what_the_core_may(module: Path) -> None:
    check_imports(module, ALLOWED_ROOTS)


@pytest.mark.parametrize("module", sorted(PACKAGE.glob("*.py")), ids=lambda p: p.name)
def test_module_reads_no_clock_and_draws_no_chance(module: Path) -> None:
    check_no_clock_or_chance(module)


def test_importing_the_package_does_not_import_django() -> None:
    check_no_framework_on_import("passgate.core.access")
