"""Several processes migrating one fresh PostgreSQL database at once (nodes booting together, a CLI command beside
a starting node): one works under the advisory lock, the others wait and find the schema done. Without the lock
two of them both create django_migrations and one dies (found by tests/multinode)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.processes import on_postgres, passgate_env, scratch_database

pytestmark = pytest.mark.postgres

PROCESSES = 3


@pytest.mark.skipif(not on_postgres(), reason="the advisory lock is PostgreSQL's; an SQLite file serves one node")
def test_processes_migrating_one_fresh_database_at_once_all_succeed(tmp_path: Path) -> None:
    with scratch_database(tmp_path, "lock") as database_url:
        env = passgate_env(tmp_path / "data", database_url, PASSGATE_SECRET_KEY="k" * 48)
        running = [subprocess.Popen([sys.executable, "-m", "passgate.cli", "migrate"], env=env, text=True,
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(PROCESSES)]
        outcomes = [(proc.wait(timeout=120), proc.stderr.read() if proc.stderr else "") for proc in running]
        for proc in running:
            for stream in (proc.stdout, proc.stderr):
                if stream:
                    stream.close()
        assert [code for code, _ in outcomes] == [0] * PROCESSES, outcomes
        again = subprocess.run([sys.executable, "-m", "passgate.cli", "migrate"], env=env, capture_output=True,
                               text=True, check=False, timeout=120)
        assert again.returncode == 0 and "No migrations to apply" in again.stdout, again.stdout + again.stderr
