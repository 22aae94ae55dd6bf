"""``passgate-device`` against a real ``passgate serve`` (SQLite, or PostgreSQL when PASSGATE_TEST_ON_POSTGRES=1):
join with a token from ``passgate devices token``, status, sync, leave, as separate processes like an administrator
would run them."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.processes import cli, free_port, passgate_env, scratch_database, started


@pytest.fixture
def server(tmp_path: Path) -> Iterator[dict[str, Any]]:
    port = free_port()
    origin = f"http://localhost:{port}"
    with scratch_database(tmp_path, "agent") as database_url:
        env = passgate_env(tmp_path / "data", database_url, PASSGATE_ORIGIN=origin)
        log = tmp_path / "serve.log"
        with started(["serve", "--port", str(port), "--workers", "1"], env, log) as proc:
            deadline = time.monotonic() + 90
            while True:
                try:
                    if requests.get(f"{origin}/healthz", timeout=1).status_code == 200:
                        break
                except requests.RequestException:
                    pass
                assert proc.poll() is None and time.monotonic() < deadline, f"serve did not start:\n{log.read_text()}"
                time.sleep(0.1)
            yield {"origin": origin, "env": env, "proc": proc}


def agent(state: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PASSGATE_", "DJANGO_"))}
    return subprocess.run([sys.executable, "-m", "passgate.agent", "--state-dir", str(state), *args], env=env,
                          capture_output=True, text=True, check=False, timeout=60)


def token(server: dict[str, Any], *args: str) -> str:
    return str(json.loads(cli(server["env"], "devices", "token", "--json", *args))["enrollmentToken"])


def test_join_status_sync_leave(server: dict[str, Any], tmp_path: Path) -> None:
    state = tmp_path / "device"
    joined = agent(state, "join", "--passgate", server["origin"], "--token", token(server), "--display-name",
                   "build-07", "--json")
    assert joined.returncode == 0, joined.stderr
    record = json.loads(joined.stdout)
    assert record["displayName"] == "build-07" and record["origin"] == server["origin"]
    assert record["trustType"] == "joined"
    assert stat.S_IMODE(state.stat().st_mode) == 0o700
    assert stat.S_IMODE((state / "device.key").stat().st_mode) == 0o600
    listed = json.loads(cli(server["env"], "devices", "list", "--json"))
    assert [d["deviceId"] for d in listed] == [record["deviceId"]]

    again = agent(state, "join", "--passgate", server["origin"], "--token", token(server))
    assert again.returncode == 1 and "already joined" in again.stderr and again.stderr.count("\n") == 1

    status = agent(state, "status", "--json")
    assert status.returncode == 0, status.stderr
    seen = json.loads(status.stdout)
    assert seen["online"] is True and seen["passgate"]["accountEnabled"] is True
    assert seen["passgate"]["deviceId"] == record["deviceId"] and seen["local"]["displayName"] == "build-07"

    synced = agent(state, "sync", "--json")
    assert synced.returncode == 0, synced.stderr
    assert json.loads(synced.stdout)["jwksKeys"] >= 1
    jwks = json.loads((state / "jwks.json").read_text())
    assert jwks["keys"] and stat.S_IMODE((state / "jwks.json").stat().st_mode) == 0o600

    cli(server["env"], "devices", "disable", record["deviceId"])
    disabled = agent(state, "status")
    assert disabled.returncode == 1 and "device_disabled" in disabled.stdout
    cli(server["env"], "devices", "enable", record["deviceId"])

    left = agent(state, "leave")
    assert left.returncode == 0, left.stderr
    assert json.loads(cli(server["env"], "devices", "list", "--json")) == []
    assert sorted(p.name for p in state.iterdir()) == []
    assert "not joined" in agent(state, "status").stderr


def test_hybrid_join_and_refusals(server: dict[str, Any], tmp_path: Path) -> None:
    state = tmp_path / "device"
    wrong = agent(state, "join", "--passgate", server["origin"], "--token", "PGD-" + "A" * 32)
    assert wrong.returncode == 1
    assert wrong.stderr == ("passgate-device: Passgate refused: That device enrollment token is not valid. "
                            "(device_enrollment_token_invalid, HTTP 400).\n")
    assert not (state / "device.key").exists()  # a failed join leaves no key behind
    joined = agent(state, "join", "--passgate", server["origin"], "--token", token(server), "--hybrid", "--json")
    assert joined.returncode == 0 and json.loads(joined.stdout)["trustType"] == "hybrid"
    record = json.loads(joined.stdout)

    cli(server["env"], "devices", "delete", record["deviceId"])
    gone = agent(state, "status")
    assert gone.returncode == 1 and "device_unknown" in gone.stdout and "leave --local-only" in gone.stdout
    refused = agent(state, "leave")
    assert refused.returncode == 1 and "leave --local-only" in refused.stderr
    assert agent(state, "leave", "--local-only").returncode == 0
    assert not (state / "device.key").exists()


def test_offline_status_shows_the_local_state(server: dict[str, Any], tmp_path: Path) -> None:
    state = tmp_path / "device"
    assert agent(state, "join", "--passgate", server["origin"], "--token", token(server)).returncode == 0
    os.killpg(server["proc"].pid, 9)
    server["proc"].wait(timeout=10)
    offline = agent(state, "status", "--json")
    assert offline.returncode == 0, offline.stderr
    seen = json.loads(offline.stdout)
    assert seen["online"] is False and seen["passgate"] is None and seen["local"]["origin"] == server["origin"]
    assert seen["error"]["code"] == "passgate_unreachable"
    leave = agent(state, "leave")
    assert leave.returncode == 1 and "--local-only" in leave.stderr and (state / "device.key").exists()
    bad = agent(state, "join", "--passgate", "http://id.example.com", "--token", "x", "--force")
    assert bad.returncode == 1 and "https" in bad.stderr
