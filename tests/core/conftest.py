"""tests/core: the functional core only, no Django (run with ``-p no:django``)."""

from __future__ import annotations

from collections import Counter

import pytest

_VECTOR_TEST = "test_conformance_vectors.py::test_vector["


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """One line saying how many conformance vectors ran, passed, were skipped or xfailed."""
    counts: Counter[str] = Counter()
    for outcome in ("passed", "failed", "skipped", "xfailed", "xpassed"):
        for report in terminalreporter.stats.get(outcome, []):
            if _VECTOR_TEST in getattr(report, "nodeid", ""):
                counts[outcome] += 1
    if counts:
        ran = counts["passed"] + counts["failed"]
        details = ", ".join(f"{counts[key]} {key}" for key in ("passed", "failed", "skipped", "xfailed", "xpassed"))
        terminalreporter.write_line(f"WebAuthn conformance vectors: {sum(counts.values())} total, {ran} ran: {details}")
