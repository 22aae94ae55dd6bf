"""The agent's state directory: modes, atomic writes, and refusing an exposed device key."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

import pytest

from passgate.agent.cli import main
from passgate.agent.client import normalise_origin
from passgate.agent.errors import AgentError
from passgate.agent.state import DeviceRecord, State, state_dir, write_atomically
from tests.agent.support import Person

RECORD = DeviceRecord(deviceId="d-1", id="o-1", origin="https://id.example.com", displayName="pc", trustType="joined",
                      joinedDateTime="2026-12-04T10:00:00Z")


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_directory_is_0700_and_the_key_0600(tmp_path: Path) -> None:
    state = State(tmp_path / "deep" / "state")
    old = os.umask(0)
    try:
        state.ensure()
        key = state.new_key()
        state.save_device(RECORD)
    finally:
        os.umask(old)
    assert mode(state.root) == 0o700 and mode(state.key_path) == 0o600 and mode(state.device_path) == 0o600
    assert state.key_path.read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----")
    assert state.load_key().private_numbers() == key.private_numbers()
    assert state.load_device() == RECORD
    with pytest.raises(AgentError, match="already exists"):
        state.new_key()


def test_a_wider_directory_is_narrowed(tmp_path: Path) -> None:
    root = tmp_path / "state"
    root.mkdir(mode=0o755)
    os.chmod(root, 0o755)
    State(root).ensure()
    assert mode(root) == 0o700


@pytest.mark.parametrize("exposed", [0o640, 0o604, 0o644, 0o660, 0o606])
def test_a_key_others_may_read_is_refused(tmp_path: Path, exposed: int) -> None:
    state = State(tmp_path)
    state.new_key()
    os.chmod(state.key_path, exposed)
    with pytest.raises(AgentError) as refused:
        state.load_key()
    assert refused.value.code == "key_file_exposed"
    assert f"mode {exposed:04o}" in refused.value.message and "refusing to use it" in refused.value.message


def test_the_cli_refuses_to_run_with_an_exposed_key(tmp_path: Path, capsys: Any) -> None:
    state = State(tmp_path)
    state.new_key()
    state.save_device(RECORD)
    os.chmod(state.key_path, 0o644)
    for argv in (["status"], ["sync"], ["leave"]):
        assert main(["--state-dir", str(tmp_path), *argv], console=Person()) == 1  # type: ignore[arg-type]
        err = capsys.readouterr().err
        assert err.startswith("passgate-device: The device key") and "may be read by its group or others" in err
    assert state.key_path.exists()  # nothing was removed


def test_a_symlinked_key_is_not_followed(tmp_path: Path) -> None:
    state = State(tmp_path / "s")
    state.ensure()
    (tmp_path / "elsewhere").write_text("x")
    state.key_path.symlink_to(tmp_path / "elsewhere")
    with pytest.raises(AgentError) as refused:
        state.load_key()
    assert refused.value.code == "state_unusable"


def test_atomic_writes_leave_no_temporary_and_keep_the_mode(tmp_path: Path) -> None:
    target = tmp_path / "file"
    target.write_bytes(b"old")
    os.chmod(target, 0o644)
    write_atomically(target, b"new", 0o600)
    assert target.read_bytes() == b"new" and mode(target) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file"]


def test_not_joined_is_said_plainly(tmp_path: Path, capsys: Any) -> None:
    assert main(["--state-dir", str(tmp_path), "status"], console=Person()) == 1  # type: ignore[arg-type]
    assert capsys.readouterr().err == ("passgate-device: This computer is not joined to Passgate: run "
                                       "passgate-device join.\n")
    assert main(["--state-dir", str(tmp_path), "leave", "--local-only"], console=Person()) == 1  # type: ignore[arg-type]
    assert "nothing to forget" in capsys.readouterr().err


def test_offline_records_and_removal(tmp_path: Path) -> None:
    state = State(tmp_path)
    state.new_key()
    state.save_device(RECORD)
    state.save_jwks({"keys": []})
    state.save_offline("abc_-", {"record": "x"})
    with pytest.raises(AgentError):
        state.save_offline("../escape", {})
    assert state.offline_ids() == ["abc_-"] and mode(state.offline_path) == 0o700
    state.drop_offline("abc_-")
    assert state.offline_ids() == []
    state.remove()
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_the_state_directory_comes_from_the_option_the_environment_or_the_default(monkeypatch: Any) -> None:
    monkeypatch.delenv("PASSGATE_DEVICE_DIR", raising=False)
    assert state_dir(None) == Path("/var/lib/passgate-device")
    monkeypatch.setenv("PASSGATE_DEVICE_DIR", "/srv/pgd")
    assert state_dir(None) == Path("/srv/pgd") and state_dir("/x") == Path("/x")


@pytest.mark.parametrize(("given", "expected"), [
    ("https://ID.example.com/", "https://id.example.com"), ("http://localhost:8000", "http://localhost:8000"),
    ("https://id.example.com:8443", "https://id.example.com:8443")])
def test_origins(given: str, expected: str) -> None:
    assert normalise_origin(given) == expected


@pytest.mark.parametrize("bad", ["id.example.com", "http://id.example.com", "https://id.example.com/path",
                                 "file:///etc/passwd", "https://u:p@id.example.com", "ftp://x"])
def test_bad_origins(bad: str) -> None:
    with pytest.raises(AgentError) as refused:
        normalise_origin(bad)
    assert refused.value.code == "bad_origin"
