"""The daemon: owns the device key and the security keys, and answers on a Unix stream socket.

The socket (default ``/run/passgate-device/socket``) is mode 0660 in a directory of mode 0750; every connection's
peer is checked with ``SO_PEERCRED``: root, the user the daemon runs as, or a member of ``--allow-group``; anyone
else is refused and logged. The protocol (docs/devices.md, "The daemon's socket") is JSON lines: one request,
then prompts and answers, then one result; every message at most 64 KiB; every read bounded by the idle timeout
and the conversation's overall deadline.
"""

from __future__ import annotations

import contextlib
import grp
import json
import logging
import os
import pwd
import socket
import stat
import struct
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from passgate.agent.errors import AgentError
from passgate.agent.offline import offline_sign_in
from passgate.agent.securitykeys import KeyProvider, describe
from passgate.agent.signin import sign_in
from passgate.agent.state import State

log = logging.getLogger("passgate.agent.daemon")

DEFAULT_SOCKET = "/run/passgate-device/socket"
MAX_MESSAGE = 64 * 1024
IDLE_TIMEOUT = 60.0
OVERALL_TIMEOUT = 300.0
MAX_CONNECTIONS = 16
MAX_ANSWER_ATTEMPTS = 3
SERVICE_LENGTH = 64
USER_LENGTH = 256
_PEERCRED = struct.Struct("3i")  # struct ucred: pid, uid, gid


class ProtocolError(Exception):
    """The client broke the protocol (or was too slow): answered with ``{"result": "error"}``, then closed."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


class Gone(Exception):
    """The client closed the connection."""


# --- who may connect ----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Peer:
    pid: int
    uid: int
    gid: int


def peer_of(connection: socket.socket) -> Peer:
    pid, uid, gid = _PEERCRED.unpack(connection.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, _PEERCRED.size))
    return Peer(pid, uid, gid)


@dataclass(frozen=True)
class PeerPolicy:
    """Root, the daemon's own user, and the members of one group (its gid, and the users the group database lists
    or whose primary group it is)."""

    own_uid: int
    group_gid: int | None = None
    group_members: frozenset[str] = frozenset()

    @classmethod
    def for_group(cls, own_uid: int, group: str | None) -> PeerPolicy:
        if not group:
            return cls(own_uid)
        try:
            entry = grp.getgrnam(group) if not group.isdigit() else grp.getgrgid(int(group))
        except KeyError:
            raise AgentError("bad_group", f"There is no group {group!r} (--allow-group).") from None
        return cls(own_uid, entry.gr_gid, frozenset(entry.gr_mem))

    def allows(self, peer: Peer, user_of: Callable[[int], tuple[str, int] | None] | None = None) -> bool:
        if peer.uid in (0, self.own_uid):
            return True
        if self.group_gid is None:
            return False
        if peer.gid == self.group_gid:
            return True
        account = (user_of or _account)(peer.uid)
        return account is not None and (account[0] in self.group_members or account[1] == self.group_gid)


def _account(uid: int) -> tuple[str, int] | None:
    try:
        entry = pwd.getpwuid(uid)
    except KeyError:
        return None
    return entry.pw_name, entry.pw_gid


# --- one connection ---------------------------------------------------------------------------------------

class Channel:
    """JSON lines on one connection: each message at most ``MAX_MESSAGE`` bytes (newline excluded), each read
    bounded by the idle timeout and the overall deadline."""

    def __init__(self, connection: socket.socket, *, idle: float, deadline: float) -> None:
        self.connection, self.idle, self.deadline = connection, idle, deadline
        self.buffer = b""

    def send(self, message: dict[str, Any]) -> None:
        data = json.dumps(message, separators=(",", ":"), ensure_ascii=False).encode() + b"\n"
        self.connection.settimeout(self.idle)
        try:
            self.connection.sendall(data)
        except OSError:
            raise Gone from None

    def read(self) -> dict[str, Any]:
        while b"\n" not in self.buffer:
            if len(self.buffer) > MAX_MESSAGE:
                raise ProtocolError("message_too_long", f"A message may be at most {MAX_MESSAGE} bytes.")
            left = self.deadline - time.monotonic()
            if left <= 0:
                raise ProtocolError("timeout", "The conversation took too long.")
            self.connection.settimeout(min(self.idle, left))
            try:
                chunk = self.connection.recv(16 * 1024)
            except TimeoutError:
                if self.deadline - time.monotonic() <= 0:
                    raise ProtocolError("timeout", "The conversation took too long.") from None
                raise ProtocolError("timeout", f"No message for {self.idle:g} seconds.") from None
            except OSError:
                raise Gone from None
            if not chunk:
                raise Gone
            self.buffer += chunk
        line, _, self.buffer = self.buffer.partition(b"\n")
        if len(line) > MAX_MESSAGE:
            raise ProtocolError("message_too_long", f"A message may be at most {MAX_MESSAGE} bytes.")
        try:
            message = json.loads(line)
        except (ValueError, UnicodeDecodeError):
            raise ProtocolError("malformed", "Each message is one JSON object on one line.") from None
        if not isinstance(message, dict):
            raise ProtocolError("malformed", "Each message is one JSON object on one line.")
        return message


class SocketInteraction:
    """The ``Interaction`` of a sign-in over the socket: prompts out, answers in."""

    def __init__(self, channel: Channel) -> None:
        self.channel = channel

    def _answer(self, prompt: dict[str, Any]) -> str:
        self.channel.send({"prompt": prompt})
        message = self.channel.read()
        if message.get("cancel") is True:
            raise AgentError("cancelled", "Sign-in cancelled.")
        answer = message.get("answer")
        if not isinstance(answer, str) or set(message) != {"answer"}:
            raise ProtocolError("malformed", 'Answer a prompt with {"answer": "<text>"} (or {"cancel": true}).')
        return answer

    def pin(self, text: str) -> str:
        return self._answer({"kind": "pin", "text": text})

    def choose(self, text: str, choices: list[str]) -> int:
        for _ in range(MAX_ANSWER_ATTEMPTS):
            answer = self._answer({"kind": "choose", "text": text, "choices": choices}).strip()
            if answer in choices:
                return choices.index(answer)
            if answer.isdigit() and 1 <= int(answer) <= len(choices):
                return int(answer) - 1
            self.info(f"{answer!r} is none of the choices: answer one of them or its number.", kind="error")
        raise AgentError("no_choice", "No account was chosen: sign-in cancelled.")

    def info(self, text: str, kind: str = "info") -> None:
        self.channel.send({"prompt": {"kind": kind, "text": text}})


# --- the server -------------------------------------------------------------------------------------------

def _text(value: object, name: str, limit: int, *, optional: bool) -> str | None:
    if value is None and optional:
        return None
    if not isinstance(value, str) or not value or len(value) > limit or any(ord(c) < 0x20 for c in value):
        raise ProtocolError("malformed", f"'{name}' must be a string of 1 to {limit} printable characters"
                            + (" or null." if optional else "."))
    return value


class Daemon:
    def __init__(self, *, socket_path: Path, state: State, provider: KeyProvider, policy: PeerPolicy,
                 socket_group: int | None = None, idle_timeout: float = IDLE_TIMEOUT,
                 overall_timeout: float = OVERALL_TIMEOUT, http_timeout: float = 10.0,
                 max_connections: int = MAX_CONNECTIONS, clock: Callable[[], float] = time.time,
                 accounts: Callable[[dict[str, Any]], bool] | None = None) -> None:
        self.socket_path = socket_path
        self.state = state
        self.provider = provider
        self.policy = policy
        self.socket_group = socket_group
        self.idle_timeout = idle_timeout
        self.overall_timeout = overall_timeout
        self.http_timeout = http_timeout
        self.clock = clock  # offline records' expiry
        self.accounts = accounts  # makes sure the person's local account exists (accounts.ensure_account); None: not
        self.slots = threading.BoundedSemaphore(max_connections)
        self.keys = threading.Lock()  # one conversation with the security keys at a time
        self.stopping = threading.Event()
        self.listener: socket.socket | None = None

    # --- the socket file ---

    def bind(self) -> None:
        directory = self.socket_path.parent
        directory.mkdir(mode=0o750, parents=True, exist_ok=True)
        if directory.stat().st_uid == os.geteuid():
            os.chmod(directory, 0o750)  # noqa: S103 - group may enter, to reach the 0660 socket
            if self.socket_group is not None:
                os.chown(directory, -1, self.socket_group)
        self._clear_stale()
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        previous = os.umask(0o117)  # the socket is born 0660: no moment where others may connect
        try:
            listener.bind(str(self.socket_path))
        finally:
            os.umask(previous)
        os.chmod(self.socket_path, 0o660)
        if self.socket_group is not None:
            os.chown(self.socket_path, -1, self.socket_group)
        listener.listen(MAX_CONNECTIONS)
        listener.settimeout(0.5)
        self.listener = listener

    def _clear_stale(self) -> None:
        try:
            info = self.socket_path.lstat()
        except FileNotFoundError:
            return
        if not stat.S_ISSOCK(info.st_mode):
            raise AgentError("socket_unusable", f"{self.socket_path} exists and is not a socket: refusing to "
                             "replace it.")
        probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        probe.settimeout(1)
        try:
            probe.connect(str(self.socket_path))
        except OSError:
            self.socket_path.unlink()  # left by a daemon that is gone
        else:
            raise AgentError("daemon_running", f"Another daemon already answers on {self.socket_path}.")
        finally:
            probe.close()

    # --- the loop ---

    def serve_forever(self) -> None:
        if self.listener is None:
            self.bind()
        assert self.listener is not None  # noqa: S101 - bind() made it
        log.info("listening on %s", self.socket_path)
        try:
            while not self.stopping.is_set():
                try:
                    connection, _ = self.listener.accept()
                except TimeoutError:
                    continue
                except OSError:
                    if self.stopping.is_set():
                        break
                    raise
                if self.stopping.is_set():
                    connection.close()
                    break
                if not self.slots.acquire(blocking=False):
                    self._refuse_busy(connection)
                    continue
                threading.Thread(target=self._serve_one, args=(connection,), daemon=True).start()
        finally:
            self.listener.close()
            with contextlib.suppress(FileNotFoundError):
                self.socket_path.unlink()

    def shutdown(self) -> None:
        self.stopping.set()
        with contextlib.suppress(OSError), socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as wake:
            wake.settimeout(1)
            wake.connect(str(self.socket_path))  # wakes accept() now rather than at its next timeout

    def _refuse_busy(self, connection: socket.socket) -> None:
        with contextlib.suppress(OSError):
            connection.settimeout(1)
            connection.sendall(b'{"result":"error","reason":"busy","message":"Too many connections."}\n')
        connection.close()

    def _serve_one(self, connection: socket.socket) -> None:
        try:
            peer = peer_of(connection)
            if not self.policy.allows(peer):
                log.warning("refused a connection from pid %d uid %d gid %d: not root, not uid %d%s", peer.pid,
                            peer.uid, peer.gid, self.policy.own_uid,
                            "" if self.policy.group_gid is None else f", not in group {self.policy.group_gid}")
                with contextlib.suppress(OSError):
                    connection.settimeout(1)
                    connection.sendall(b'{"result":"refused","reason":"peer_not_allowed","message":'
                                       b'"This user may not use the Passgate device service."}\n')
                return
            channel = Channel(connection, idle=self.idle_timeout,
                              deadline=time.monotonic() + self.overall_timeout)
            self.converse(channel, peer)
        except Exception:  # one connection's failure never stops the daemon
            log.exception("a connection failed")
        finally:
            connection.close()
            self.slots.release()

    def converse(self, channel: Channel, peer: Peer) -> None:
        try:
            request = channel.read()
            op = request.get("op")
            if op == "status":
                channel.send(self.status())
            elif op == "signin":
                channel.send(self.signin(channel, request, peer))
            else:
                raise ProtocolError("unknown_op", 'The first message is {"op": "signin", "service", "user"} or '
                                    '{"op": "status"}.')
        except ProtocolError as exc:
            log.info("protocol error from pid %d: %s", peer.pid, exc.reason)
            with contextlib.suppress(Gone):
                channel.send({"result": "error", "reason": exc.reason, "message": exc.message})
        except Gone:
            log.info("pid %d closed the connection", peer.pid)

    # --- the operations ---

    def status(self) -> dict[str, Any]:
        device: dict[str, Any] | None = None
        problem = None
        try:
            record = self.state.load_device()
            device = {"deviceId": record.deviceId, "id": record.id, "origin": record.origin,
                      "displayName": record.displayName, "trustType": record.trustType}
            self.state.load_key()
        except AgentError as exc:
            if exc.code != "not_joined":
                problem = exc.message
        try:
            keys = [describe(d) for d in self.provider.devices()]
        except AgentError:
            keys = []
        answer: dict[str, Any] = {"result": "status", "joined": device is not None, "device": device,
                                  "securityKeys": keys, "offlineRecords": len(self.state.offline_ids())}
        if problem:
            answer["problem"] = problem
        return answer

    def signin(self, channel: Channel, request: dict[str, Any], peer: Peer) -> dict[str, Any]:
        unknown = set(request) - {"op", "service", "user"}
        if unknown:
            raise ProtocolError("malformed", f"Unknown member(s) {', '.join(sorted(unknown))} in a signin request.")
        service = _text(request.get("service"), "service", SERVICE_LENGTH, optional=False)
        user = _text(request.get("user"), "user", USER_LENGTH, optional=True)
        if not self.keys.acquire(timeout=max(0.0, min(self.idle_timeout, channel.deadline - time.monotonic()))):
            return _refused("busy", "Another sign-in is using the security key: try again in a moment.")
        cancel = threading.Event()
        timer = threading.Timer(max(0.0, channel.deadline - time.monotonic()), cancel.set)
        timer.daemon = True
        timer.start()
        interaction = SocketInteraction(channel)
        try:
            result = sign_in(state=self.state, provider=self.provider, interaction=interaction, user=user,
                             event=cancel, timeout=self.http_timeout,
                             offline=lambda ctap: offline_sign_in(state=self.state, ctap=ctap, interaction=interaction,
                                                                  user=user, event=cancel, clock=self.clock))
        except AgentError as exc:
            if exc.code == "cancelled" and cancel.is_set():
                exc = AgentError("timeout", "The sign-in took too long.")
            log.info("sign-in for %s (%s) from pid %d uid %d refused: %s", user or "(any)", service, peer.pid,
                     peer.uid, exc.code)
            return _refused(exc.code, exc.message)
        finally:
            timer.cancel()
            self.keys.release()
        if self.accounts is not None:
            try:
                if self.accounts(result["posix"]):
                    log.info("created the local account %s (uid %s)", result["posix"]["name"], result["posix"]["uid"])
            except AgentError as exc:
                log.warning("sign-in for %s refused: %s", result["posix"].get("name"), exc.message)
                return _refused(exc.code, exc.message)
        log.info("sign-in for %s (%s) from pid %d uid %d: %s uid %s%s", user or "(any)", service, peer.pid,
                 peer.uid, result["posix"].get("name"), result["posix"].get("uid"),
                 " (offline)" if result.get("offline") else "")
        return result


def _refused(reason: str, message: str) -> dict[str, Any]:
    return {"result": "refused", "reason": reason, "message": message}
