"""pam_passgate: sign in to this computer with a FIDO2 security key, through the Passgate device daemon.

Loaded by Debian's ``libpam-python`` (``pam_python.so``), inside the program asking (login, gdm, su, sudo), with
the system's Python: this file imports the standard library only. It connects to the daemon's Unix socket, starts a
sign-in for the PAM user, relays the daemon's prompts through the PAM conversation (choose an account, the key's
PIN, "touch your key") and maps the result to PAM codes. It never waits forever: every read has a deadline.

``/etc/pam.d`` use (docs/devices.md, "PAM")::

    auth  [success=done authinfo_unavail=ignore default=die]  pam_python.so /path/to/pam_passgate.py

Arguments: ``socket=PATH`` (default ``/run/passgate-device/socket``), ``timeout=SECONDS`` (default 120, the
whole sign-in). ``PAM_AUTHINFO_UNAVAIL`` when the daemon can't be reached or security-key sign-in is off here
(the stack goes on to its next method); ``PAM_AUTH_ERR`` when the key or Passgate refused; ``PAM_SUCCESS`` only
for a sign-in of exactly the PAM user.
"""

from __future__ import annotations

import json
import socket
import time
from typing import Any

DEFAULT_SOCKET = "/run/passgate-device/socket"
DEFAULT_TIMEOUT = 120.0
MAX_LINE = 64 * 1024
# The device service can't help here: the stack should go on to its next method (PAM_AUTHINFO_UNAVAIL).
UNAVAILABLE_REASONS = frozenset({"device_security_key_signin_off", "daemon_unavailable", "no_security_key",
                                 "not_joined", "passgate_unreachable", "offline_no_record", "peer_not_allowed",
                                 "busy"})


class _Refused(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def _options(argv: list[str]) -> dict[str, str]:
    found: dict[str, str] = {}
    for arg in argv[1:]:  # argv[0] is this file's path
        name, _, value = arg.partition("=")
        found[name] = value
    return found


class _Lines:
    """JSON lines over the socket, each read bounded by the sign-in's deadline."""

    def __init__(self, sock: socket.socket, deadline: float) -> None:
        self.sock, self.deadline, self.buffer = sock, deadline, b""

    def send(self, message: dict[str, Any]) -> None:
        self.sock.sendall(json.dumps(message, separators=(",", ":")).encode() + b"\n")

    def read(self) -> dict[str, Any]:
        while b"\n" not in self.buffer:
            left = self.deadline - time.monotonic()
            if left <= 0:
                raise _Refused("timeout", "The security-key sign-in took too long.")
            self.sock.settimeout(left)
            try:
                chunk = self.sock.recv(4096)
            except TimeoutError:
                raise _Refused("timeout", "The security-key sign-in took too long.") from None
            if not chunk:
                raise _Refused("daemon_unavailable", "The Passgate device service closed the connection.")
            self.buffer += chunk
            if len(self.buffer) > MAX_LINE:
                raise _Refused("daemon_unavailable", "The Passgate device service sent too much.")
        line, _, self.buffer = self.buffer.partition(b"\n")
        try:
            message = json.loads(line)
        except ValueError:
            raise _Refused("daemon_unavailable", "The Passgate device service sent something unreadable.") from None
        if not isinstance(message, dict):
            raise _Refused("daemon_unavailable", "The Passgate device service sent something unreadable.")
        return message


def _ask(pamh: Any, prompt: dict[str, Any]) -> str | None:
    kind, text = prompt.get("kind"), str(prompt.get("text", ""))
    if kind == "choose":
        choices = [str(c) for c in prompt.get("choices", [])]
        listing = "\n".join(f"  {i}. {c}" for i, c in enumerate(choices, 1))
        answer = pamh.conversation(pamh.Message(pamh.PAM_PROMPT_ECHO_ON, f"{text}\n{listing}\nNumber: "))
        reply = (answer.resp or "").strip()
        if reply.isdigit() and 1 <= int(reply) <= len(choices):
            return choices[int(reply) - 1]
        return reply
    if kind == "pin":
        answer = pamh.conversation(pamh.Message(pamh.PAM_PROMPT_ECHO_OFF, text or "Security key PIN: "))
        return answer.resp or ""
    style = pamh.PAM_ERROR_MSG if kind == "error" else pamh.PAM_TEXT_INFO
    pamh.conversation(pamh.Message(style, text))
    return None


def _sign_in(pamh: Any, user: str | None, options: dict[str, str]) -> dict[str, Any]:
    deadline = time.monotonic() + float(options.get("timeout") or DEFAULT_TIMEOUT)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.settimeout(5)
        try:
            sock.connect(options.get("socket") or DEFAULT_SOCKET)
        except OSError:
            raise _Refused("daemon_unavailable", "The Passgate device service is not running.") from None
        lines = _Lines(sock, deadline)
        lines.send({"op": "signin", "service": str(getattr(pamh, "service", "") or ""), "user": user})
        while True:
            message = lines.read()
            if "prompt" in message and isinstance(message["prompt"], dict):
                answer = _ask(pamh, message["prompt"])
                if answer is not None:
                    lines.send({"answer": answer})
            elif message.get("result") == "success":
                return message
            else:
                raise _Refused(str(message.get("reason", "refused")), str(message.get("message", "Refused.")))
    finally:
        sock.close()


def pam_sm_authenticate(pamh: Any, flags: int, argv: list[str]) -> int:
    options = _options(argv)
    try:
        user = pamh.get_user(None)
    except pamh.exception:
        return int(pamh.PAM_USER_UNKNOWN)
    try:
        result = _sign_in(pamh, user or None, options)
    except _Refused as refused:
        try:
            pamh.conversation(pamh.Message(pamh.PAM_ERROR_MSG, refused.message))
        except pamh.exception:
            pass
        return int(pamh.PAM_AUTHINFO_UNAVAIL if refused.code in UNAVAILABLE_REASONS else pamh.PAM_AUTH_ERR)
    name = str((result.get("posix") or {}).get("name", ""))
    if user and name != user:
        return int(pamh.PAM_AUTH_ERR)  # the daemon signed in someone else: never let that through
    if not user:
        pamh.user = name
    return int(pamh.PAM_SUCCESS)


def pam_sm_setcred(pamh: Any, flags: int, argv: list[str]) -> int:
    return int(pamh.PAM_SUCCESS)
