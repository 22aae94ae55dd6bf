"""The daemon's socket: file modes, who may connect (SO_PEERCRED), the JSON-lines protocol and its limits."""

from __future__ import annotations

import json
import logging
import os
import socket
import stat
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from passgate.agent.daemon import MAX_MESSAGE, Daemon, Peer, PeerPolicy
from passgate.agent.state import DeviceRecord, State
from tests.agent.support import SoftKeys
from tests.devices.softkey import SoftKey


class Running:
    def __init__(self, daemon: Daemon) -> None:
        self.daemon = daemon
        self.path = daemon.socket_path

    def talk(self, *lines: bytes, timeout: float = 10) -> list[dict[str, Any]]:
        """Send ``lines`` (raw bytes), then read every message until the daemon closes."""
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(timeout)
            s.connect(str(self.path))
            for line in lines:
                s.sendall(line)
            return read_all(s)


def read_all(s: socket.socket) -> list[dict[str, Any]]:
    data = b""
    while chunk := s.recv(65536):
        data += chunk
    return [json.loads(line) for line in data.splitlines() if line]


@pytest.fixture
def start(short_tmp: Path) -> Iterator[Any]:
    started: list[tuple[Daemon, threading.Thread]] = []

    def make(state: State | None = None, provider: Any = None, **kwargs: Any) -> Running:
        kwargs.setdefault("policy", PeerPolicy(os.geteuid()))
        daemon = Daemon(socket_path=short_tmp / "run" / "socket", state=state or State(short_tmp / "state"),
                        provider=provider or SoftKeys(), **kwargs)
        daemon.bind()
        thread = threading.Thread(target=daemon.serve_forever, daemon=True)
        thread.start()
        started.append((daemon, thread))
        return Running(daemon)

    yield make
    for daemon, thread in started:
        daemon.shutdown()
        thread.join(timeout=5)


def line(message: Any) -> bytes:
    return json.dumps(message).encode() + b"\n"


def test_socket_0660_in_a_0750_directory_and_a_same_uid_peer_is_served(start: Any) -> None:
    running = start()
    assert stat.S_IMODE(running.path.stat().st_mode) == 0o660 and stat.S_ISSOCK(running.path.stat().st_mode)
    assert stat.S_IMODE(running.path.parent.stat().st_mode) == 0o750
    answer = running.talk(line({"op": "status"}))
    assert answer == [{"result": "status", "joined": False, "device": None, "securityKeys": [],
                       "offlineRecords": 0}]


def test_the_peer_check_with_crafted_credentials() -> None:
    alone = PeerPolicy(own_uid=990)
    assert alone.allows(Peer(pid=1, uid=0, gid=0))  # root
    assert alone.allows(Peer(pid=1, uid=990, gid=990))  # the daemon's own user
    assert not alone.allows(Peer(pid=1, uid=1000, gid=1000), lambda uid: ("alice", 1000))
    group = PeerPolicy(own_uid=990, group_gid=420, group_members=frozenset({"bob"}))
    assert group.allows(Peer(pid=1, uid=1001, gid=420), lambda uid: None)  # running with the group as its gid
    assert group.allows(Peer(pid=1, uid=1001, gid=1001), lambda uid: ("bob", 1001))  # listed member
    assert group.allows(Peer(pid=1, uid=1002, gid=1002), lambda uid: ("carol", 420))  # primary group
    assert not group.allows(Peer(pid=1, uid=1000, gid=1000), lambda uid: ("alice", 1000))
    assert not group.allows(Peer(pid=1, uid=1003, gid=1003), lambda uid: None)  # no such account


def _connect_as(uid: int, path: Path, *, send: bool = True) -> tuple[str, list[dict[str, Any]]]:
    """Connect to ``path`` from a child process running as ``uid``: ("refused by the file system" | "answered",
    the messages)."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns into pytest
        try:
            os.close(read_end)
            os.setgroups([])
            os.setgid(uid)
            os.setuid(uid)
            try:
                with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
                    s.settimeout(5)
                    s.connect(str(path))
                    if send:
                        s.sendall(line({"op": "status"}))
                    out = json.dumps(["answered", read_all(s)])
            except PermissionError:
                out = json.dumps(["refused by the file system", []])
            except Exception as exc:  # noqa: BLE001 - reported to the parent, which fails the test
                out = json.dumps([f"failed: {exc!r}", []])
            os.write(write_end, out.encode())
        finally:
            os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as pipe:
        data = pipe.read()
    os.waitpid(pid, 0)
    kind, messages = json.loads(data)
    return kind, messages


@pytest.mark.skipif(os.geteuid() != 0, reason="switching to another uid needs root")
def test_another_uid_is_refused(start: Any, short_tmp: Path, caplog: Any) -> None:
    running = start(policy=PeerPolicy(own_uid=0))
    nobody = 65534
    os.chmod(short_tmp, 0o755)
    # the file system first: the socket's directory is 0750, so others cannot even reach it
    assert _connect_as(nobody, running.path)[0] == "refused by the file system"
    # then SO_PEERCRED: with the modes opened wide, the daemon itself refuses the peer and logs it
    os.chmod(running.path.parent, 0o755)
    os.chmod(running.path, 0o666)
    with caplog.at_level(logging.WARNING, logger="passgate.agent.daemon"):
        kind, messages = _connect_as(nobody, running.path, send=False)  # the refusal comes unasked
    assert kind == "answered"
    assert messages == [{"result": "refused", "reason": "peer_not_allowed",
                         "message": "This user may not use the Passgate device service."}]
    assert any(f"uid {nobody}" in r.getMessage() and "refused a connection" in r.getMessage() for r in caplog.records)


@pytest.mark.skipif(os.geteuid() != 0, reason="switching to another uid needs root")
def test_a_member_of_the_allowed_group_is_served(start: Any, short_tmp: Path) -> None:
    nobody = 65534
    running = start(policy=PeerPolicy(own_uid=0, group_gid=nobody), socket_group=nobody)
    os.chmod(short_tmp, 0o755)
    assert running.path.stat().st_gid == nobody and running.path.parent.stat().st_gid == nobody
    kind, messages = _connect_as(nobody, running.path)
    assert kind == "answered" and messages[0]["result"] == "status"


@pytest.mark.parametrize(("sent", "reason"), [
    (b"not json\n", "malformed"),
    (b"[1, 2]\n", "malformed"),
    (b'{"op": "status"\n', "malformed"),
    (b"\xff\xfe\n", "malformed"),
    (b'{"op": "dance"}\n', "unknown_op"),
    (b'{}\n', "unknown_op"),
    (b'{"op": "signin", "service": "login", "user": 7}\n', "malformed"),
    (b'{"op": "signin", "service": "", "user": null}\n', "malformed"),
    (b'{"op": "signin", "service": "login", "user": "a\\nb"}\n', "malformed"),
    (b'{"op": "signin", "service": "login", "user": null, "pin": "1234"}\n', "malformed"),
])
def test_malformed_messages_get_an_error_and_the_connection_closes(start: Any, sent: bytes, reason: str) -> None:
    messages = start().talk(sent)
    assert len(messages) == 1 and messages[0]["result"] == "error" and messages[0]["reason"] == reason
    assert messages[0]["message"]


@pytest.mark.parametrize("newline", [b"", b"\n"])
def test_a_message_over_64_kib_is_refused(start: Any, newline: bytes) -> None:
    oversized = b'{"op": "status", "pad": "' + b"x" * MAX_MESSAGE + b'"}' + newline
    messages = start().talk(oversized)
    assert messages == [{"result": "error", "reason": "message_too_long",
                         "message": f"A message may be at most {MAX_MESSAGE} bytes."}]


def test_a_silent_client_is_dropped_after_the_idle_timeout(start: Any) -> None:
    running = start(idle_timeout=0.3)
    began = time.monotonic()
    messages = running.talk()
    assert messages == [{"result": "error", "reason": "timeout", "message": "No message for 0.3 seconds."}]
    assert time.monotonic() - began < 5


def test_the_overall_deadline_answers_timeout(start: Any) -> None:
    running = start(idle_timeout=1.0, overall_timeout=0.4)
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(10)
        s.connect(str(running.path))
        s.sendall(b" ")
        time.sleep(0.2)
        s.sendall(b" ")
        messages = read_all(s)
    assert messages == [{"result": "error", "reason": "timeout", "message": "The conversation took too long."}]


def test_too_many_connections_are_turned_away(start: Any) -> None:
    running = start(max_connections=1, idle_timeout=5)
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as first:
        first.connect(str(running.path))
        time.sleep(0.2)
        assert running.talk() == [{"result": "error", "reason": "busy", "message": "Too many connections."}]


def test_a_second_daemon_does_not_steal_the_socket(start: Any, short_tmp: Path) -> None:
    running = start()
    from passgate.agent.errors import AgentError

    second = Daemon(socket_path=running.path, state=State(short_tmp / "state"), provider=SoftKeys(),
                    policy=PeerPolicy(os.geteuid()))
    with pytest.raises(AgentError) as refused:
        second.bind()
    assert refused.value.code == "daemon_running"
    assert running.talk(line({"op": "status"}))[0]["result"] == "status"


def joined_state(root: Path, origin: str = "http://127.0.0.1:9") -> State:
    state = State(root)
    state.ensure()
    state.new_key()
    state.save_device(DeviceRecord(deviceId="d-1", id="o-1", origin=origin, displayName="pc", trustType="joined",
                                   joinedDateTime="2026-12-04T10:00:00Z"))
    return state


def test_sign_in_refusals_the_pam_module_maps(start: Any, short_tmp: Path) -> None:
    request = line({"op": "signin", "service": "login", "user": "alice@contoso.com"})
    assert start().talk(request) == [{"result": "refused", "reason": "not_joined", "message":
                                      "This computer is not joined to Passgate: run passgate-device join."}]


def test_sign_in_without_a_key_is_refused_before_passgate_is_asked(start: Any, short_tmp: Path) -> None:
    running = start(state=joined_state(short_tmp / "state"))
    messages = running.talk(line({"op": "signin", "service": "sudo", "user": None}))
    assert messages == [{"result": "refused", "reason": "no_security_key",
                         "message": "No FIDO2 security key is plugged in: insert your key and try again."}]


def test_sign_in_with_passgate_unreachable_and_no_offline_record(start: Any, short_tmp: Path, key: SoftKey) -> None:
    running = start(state=joined_state(short_tmp / "state"), provider=SoftKeys(key), http_timeout=2)
    messages = running.talk(line({"op": "signin", "service": "login", "user": None}))
    assert messages[-1]["result"] == "refused" and messages[-1]["reason"] == "offline_no_record"
    assert "never signed in online with this key on this device" in messages[-1]["message"]
    assert key.presence_requests == []  # the key was never asked


def test_status_of_a_joined_device(start: Any, short_tmp: Path, key: SoftKey) -> None:
    running = start(state=joined_state(short_tmp / "state"), provider=SoftKeys(key))
    assert running.talk(line({"op": "status"})) == [{
        "result": "status", "joined": True, "securityKeys": ["Passgate Softkey (SOFTKEY-0001)"], "offlineRecords": 0,
        "device": {"deviceId": "d-1", "id": "o-1", "origin": "http://127.0.0.1:9", "displayName": "pc",
                   "trustType": "joined"}}]
