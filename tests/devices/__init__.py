"""Software stand-ins for hardware devices, for tests only (never part of the ``passgate`` package)."""
