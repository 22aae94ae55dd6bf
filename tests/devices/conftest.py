"""tests/devices: software stand-ins for hardware, pure Python, no Django (run with ``-p no:django``)."""

from __future__ import annotations

import pytest

from tests.devices.softkey import SoftKey


class Clock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def key(clock: Clock) -> SoftKey:
    return SoftKey(clock=clock)
