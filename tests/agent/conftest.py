"""tests/agent: the device agent without Django (state, socket, security keys through the soft key)."""

from __future__ import annotations

import pytest

from tests.devices.conftest import Clock, clock, key  # noqa: F401 - the soft key fixtures

__all__ = ["Clock"]


@pytest.fixture
def short_tmp(tmp_path_factory: pytest.TempPathFactory) -> object:
    """A short directory for Unix sockets (their paths may be at most 107 bytes)."""
    import tempfile
    from pathlib import Path

    return Path(tempfile.mkdtemp(prefix="pgd-", dir="/tmp"))
