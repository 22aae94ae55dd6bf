"""Fixtures for the command-line tests: ``cli`` runs ``passgate.cli.main`` in-process, ``fails`` a command that
must fail with one error line."""

from __future__ import annotations

from typing import Any

import pytest

from passgate.cli import main


@pytest.fixture
def cli(capsys: Any) -> Any:
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
