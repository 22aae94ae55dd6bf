"""Shared fixtures. Nothing here imports Django at module level: tests/core runs without it."""

from __future__ import annotations

import os
from typing import Any

import pytest
from hypothesis import settings

# No per-example time limit: how fast a property holds is for the benchmarks, not for tests (a 200 ms deadline
# failed a throttle property on a loaded 2-core machine). Examples and shrinking are unchanged.
settings.register_profile("passgate", deadline=None)
settings.load_profile("passgate")

IN_CI = os.environ.get("CI") == "true"
# One line per fuzzing run (tests/fuzz): its figures, printed in the terminal summary.
FUZZ_FIGURES = pytest.StashKey[list[str]]()

# One set of real-browser fixtures for every folder (see the module docstring).
pytest_plugins = ["tests.browser.fixtures", "tests.pam.support"]


def loud_skip(what: str, why: str) -> None:
    """Skip outside CI with a message nobody can miss; under CI=true the same condition fails the run."""
    message = f"!!! {what} NOT RUN: {why}"
    if IN_CI:
        pytest.fail(f"{message} (CI=true requires them)", pytrace=False)
    pytest.skip(message)


@pytest.fixture
def make_user(db: Any) -> Any:
    from passgate.audit.services import Actor
    from passgate.directory.services import user_create

    counter = iter(range(1, 10_000))

    def make(upn: str | None = None, display_name: str = "Test User", **kwargs: Any) -> Any:
        return user_create(upn=upn or f"user{next(counter)}@contoso.com", display_name=display_name,
                           actor=Actor.system("test"), **kwargs)

    return make


@pytest.fixture
def issue_tap(db: Any) -> Any:
    from passgate.audit.services import Actor
    from passgate.credentials.services import tap_issue

    def issue(user: Any, **kwargs: Any) -> str:
        _, plain = tap_issue(user=user, actor=Actor.system("test"), **kwargs)
        return plain

    return issue


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Any:
    """Django's clock (``timezone.now``) frozen at the real time, moved only by ``clock.advance(seconds)``:
    for back-off windows and expiry without sleeping."""
    from datetime import timedelta

    from django.utils import timezone

    class Clock:
        def __init__(self) -> None:
            self.now = timezone.now()

        def __call__(self) -> Any:
            return self.now

        def advance(self, seconds: float) -> None:
            self.now += timedelta(seconds=seconds)

    frozen = Clock()
    monkeypatch.setattr(timezone, "now", frozen)
    return frozen


def pytest_configure(config: Any) -> None:
    config.stash[FUZZ_FIGURES] = []


def pytest_collection_modifyitems(items: list[Any]) -> None:
    for item in items:
        if "/tests/browser/" in str(item.path):
            item.add_marker(pytest.mark.browser)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Say how many real-browser and PostgreSQL-only tests actually ran, so a skipped dependency shows."""
    counts: dict[str, dict[str, int]] = {"browser": {}, "postgres": {}}
    for outcome in ("passed", "failed", "skipped", "error"):
        for report in terminalreporter.stats.get(outcome, []):
            keywords = getattr(report, "keywords", {})
            for marker, tally in counts.items():
                if marker in keywords and getattr(report, "when", "call") in ("call", "setup"):
                    if outcome == "passed" and report.when != "call":
                        continue
                    tally[outcome] = tally.get(outcome, 0) + 1
    database = os.environ.get("PASSGATE_DATABASE_URL", "").split(":", 1)[0] or "default"
    for marker, tally in counts.items():
        if tally:
            parts = ", ".join(f"{n} {outcome}" for outcome, n in sorted(tally.items()))
            terminalreporter.write_line(f"passgate: {marker} tests on {database}: {parts}")
    for line in terminalreporter.config.stash.get(FUZZ_FIGURES, []):
        terminalreporter.write_line(line)


@pytest.fixture
def cli(capsys: Any) -> Any:
    """Run ``passgate …`` in-process (``passgate.cli.main``): (exit code, stdout, stderr)."""
    from passgate.cli import main

    def run(*argv: str) -> tuple[int, str, str]:
        code = main(list(argv))
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return run


@pytest.fixture
def fails(cli: Any) -> Any:
    """Run a command that must fail: non-zero exit, nothing on stdout, exactly one 'passgate: error:' line."""

    def run(*argv: str) -> str:
        code, out, err = cli(*argv)
        assert code != 0
        assert out == ""
        lines = err.splitlines()
        assert len(lines) == 1, err
        assert lines[0].startswith("passgate: error: "), err
        return lines[0]

    return run
