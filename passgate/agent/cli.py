"""``passgate-device``: join this computer to Passgate, show and sync its state, leave, run the daemon, and manage
security keys. Errors are one line on stderr and a non-zero exit; read commands take ``--json``.

``main()`` takes the ``KeyProvider`` (USB HID keys unless a caller hands it another) and the ways to ask the person
(terminal input, ``getpass`` for PINs): a program calling ``main()`` itself, a test, can replace them; nothing in
the environment or the configuration can.
"""

from __future__ import annotations

import argparse
import getpass
import json
import logging
import os
import platform
import signal
import socket
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NoReturn

from passgate.agent import securitykeys as sk
from passgate.agent.accounts import ensure_account
from passgate.agent.client import PassgateClient, normalise_origin
from passgate.agent.daemon import DEFAULT_SOCKET, IDLE_TIMEOUT, OVERALL_TIMEOUT, Daemon, PeerPolicy
from passgate.agent.errors import AgentError, Unreachable
from passgate.agent.register import register_key
from passgate.agent.state import DeviceRecord, State, state_dir
from passgate.core.devices import package as packages
from passgate.core.devices.errors import DeviceRejected
from passgate.core.devices.keys import jwk_of

EXIT_ERROR = 1
JOIN, SELF, SYNC, JWKS = "/device/v1/join", "/device/v1/device", "/device/v1/sync", "/oidc/jwks"
RESET_CONFIRMATION = "erase my security key"
DEFAULT_POLICY_FILE = "/etc/passgate-device/policy.conf"
POLICY_NAME = "TurnOnSecurityKeySignIn"
POLICY_VALUES = ("enabled", "disabled", "notConfigured")
MAX_POLICY_BYTES = 4096


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _seconds(raw: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{raw!r} is not a number of seconds") from None
    if not 0 < value <= 3600:
        raise argparse.ArgumentTypeError(f"{raw} is outside 0..3600 seconds")
    return value


def build_parser() -> argparse.ArgumentParser:  # noqa: PLR0915 - one parser, read top to bottom
    p = _Parser(prog="passgate-device", description="The Passgate device agent: join this computer to Passgate "
                "and sign in to it with a FIDO2 security key.")
    p.add_argument("--state-dir", help="the agent's state directory (default $PASSGATE_DEVICE_DIR, else "
                   "/var/lib/passgate-device)")
    p.add_argument("--timeout", type=_seconds, default=10.0, help="seconds to wait for Passgate (default 10)")
    sub = p.add_subparsers(dest="command", required=True)

    a = sub.add_parser("join", help="join this computer to Passgate with an enrollment token")
    a.add_argument("--passgate", required=True, metavar="ORIGIN", help="Passgate's origin, https://id.example.com")
    a.add_argument("--token", required=True, help="the device enrollment token (PGD-…) from your administrator")
    a.add_argument("--display-name", help="the name the directory shows (default: the host name)")
    a.add_argument("--hybrid", action="store_true", help="this computer is also a member of a local domain")
    a.add_argument("--force", action="store_true", help="forget a previous join here first (its record stays in "
                   "Passgate for an administrator to delete)")
    a.add_argument("--json", action="store_true")
    a.set_defaults(func=cmd_join)
    a = sub.add_parser("status", help="this device as Passgate and the local state see it")
    a.add_argument("--json", action="store_true")
    a.set_defaults(func=cmd_status)
    a = sub.add_parser("sync", help="report the local sources of the security-key setting; refresh the device "
                       "record, Passgate's keys and the offline records")
    a.add_argument("--policy-file", default=DEFAULT_POLICY_FILE, help="the local group policy file, read on hybrid "
                   f"devices only (default {DEFAULT_POLICY_FILE})")
    a.add_argument("--json", action="store_true")
    a.set_defaults(func=cmd_sync)
    packages = sub.add_parser("package", help="the provisioning package applied on this computer").add_subparsers(
        dest="action", required=True)
    a = packages.add_parser("apply", help="check a package file (made with passgate devices package) and keep it")
    a.add_argument("file", metavar="FILE")
    a.set_defaults(func=cmd_package_apply)
    packages.add_parser("remove", help="forget the applied package").set_defaults(func=cmd_package_remove)
    a = packages.add_parser("show", help="the applied package")
    a.add_argument("--json", action="store_true")
    a.set_defaults(func=cmd_package_show)
    a = sub.add_parser("leave", help="leave Passgate's directory and forget the local state")
    a.add_argument("--local-only", action="store_true", help="only forget the local state (Passgate unreachable, "
                   "or the device was deleted there)")
    a.set_defaults(func=cmd_leave)

    a = sub.add_parser("daemon", help="run the daemon PAM talks to")
    a.add_argument("--socket", default=DEFAULT_SOCKET, help=f"the Unix socket (default {DEFAULT_SOCKET})")
    a.add_argument("--no-create-accounts", action="store_true",
                   help="don't create a person's local account at their first sign-in (an NSS module provides them)")
    a.add_argument("--allow-group", help="members of this group may connect too (besides root and this user); the "
                   "socket gets this group")
    a.add_argument("--idle-timeout", type=_seconds, default=IDLE_TIMEOUT, help="seconds a client may stay silent")
    a.add_argument("--conversation-timeout", type=_seconds, default=OVERALL_TIMEOUT,
                   help="seconds a whole conversation may take")
    a.set_defaults(func=cmd_daemon)

    keys = sub.add_parser("key", help="manage the security key plugged in").add_subparsers(dest="action",
                                                                                            required=True)
    a = keys.add_parser("info", help="what the key is and how it verifies its user")
    a.add_argument("--json", action="store_true")
    a.set_defaults(func=cmd_key_info)
    a = keys.add_parser("register", help="register the key plugged in for a person, with their Temporary Access "
                                         "Pass (no browser needed)")
    a.add_argument("--user", help="their user name (asked when left out)")
    a.add_argument("--name", default="Security key", help="the key's name in their Security info")
    a.add_argument("--json", action="store_true")
    a.set_defaults(func=cmd_key_register)
    keys.add_parser("set-pin", help="give the key its first PIN").set_defaults(func=cmd_key_set_pin)
    keys.add_parser("change-pin", help="change the key's PIN").set_defaults(func=cmd_key_change_pin)
    a = keys.add_parser("credentials", help="the passkeys on the key")
    a.add_argument("--json", action="store_true")
    a.set_defaults(func=cmd_key_credentials)
    a = keys.add_parser("delete-credential", help="delete one passkey from the key")
    a.add_argument("credential_id", metavar="ID", help="its id, as 'key credentials' shows it")
    a.set_defaults(func=cmd_key_delete_credential)
    fingers = keys.add_parser("fingerprints", help="the key's enrolled fingerprints").add_subparsers(
        dest="fingerprint_action")
    a = fingers.add_parser("list")
    a.add_argument("--json", action="store_true")
    a = fingers.add_parser("enroll")
    a.add_argument("--name", help="a name for the finger, e.g. 'right index'")
    a = fingers.add_parser("rename")
    a.add_argument("template_id", metavar="ID")
    a.add_argument("name")
    a = fingers.add_parser("remove")
    a.add_argument("template_id", metavar="ID")
    keys.choices["fingerprints"].set_defaults(func=cmd_key_fingerprints, fingerprint_action=None, json=False)
    a = keys.add_parser("reset", help="erase the key: every passkey, its PIN, its fingerprints")
    a.set_defaults(func=cmd_key_reset)
    return p


# --- how the CLI talks to the person ------------------------------------------------------------------------

@dataclass
class Console:
    """The terminal: lines out, typed answers in, PINs read without echo."""

    ask: Callable[[str], str] = input
    ask_secret: Callable[[str], str] = getpass.getpass
    out: Callable[[str], None] = field(default=print)

    def pin(self, text: str) -> str:
        return self.ask_secret(text)

    def choose(self, text: str, choices: list[str]) -> int:
        listing = "\n".join(f"  {i}. {c}" for i, c in enumerate(choices, 1))
        answer = self.ask(f"{text}\n{listing}\nNumber: ").strip()
        if not answer.isdigit() or not 1 <= int(answer) <= len(choices):
            raise AgentError("no_choice", f"{answer!r} is none of the choices.")
        return int(answer) - 1

    def info(self, text: str) -> None:
        self.out(text)


@dataclass
class Context:
    args: argparse.Namespace
    state: State
    provider: sk.KeyProvider
    console: Console

    def emit(self, data: Any, lines: Callable[[], list[str]]) -> None:
        if getattr(self.args, "json", False):
            self.console.out(json.dumps(data, indent=2, ensure_ascii=False))
        else:
            for line in lines():
                self.console.out(line)


# --- join, status, sync, leave ------------------------------------------------------------------------------

def _os_version() -> str:
    try:
        for line in Path("/etc/os-release").read_text(encoding="utf-8").splitlines():
            if line.startswith("PRETTY_NAME="):
                value = line.partition("=")[2].strip().strip('"').strip("'")
                if value:
                    return _printable(value)[:64]
    except OSError:
        pass
    return _printable(f"{platform.system()} {platform.release()}".strip())[:64] or "Linux"


def _printable(text: str) -> str:
    return "".join(c for c in text if ord(c) >= 0x20 and ord(c) != 0x7F).strip()


def _client(ctx: Context, record: DeviceRecord | None = None) -> PassgateClient:
    record = record or ctx.state.load_device()
    return PassgateClient(record.origin, key=ctx.state.load_key(), device_id=record.deviceId,
                          timeout=ctx.args.timeout)


def cmd_join(ctx: Context) -> None:
    args, state = ctx.args, ctx.state
    origin = normalise_origin(args.passgate)
    display_name = _printable(args.display_name if args.display_name is not None else socket.gethostname())
    if not display_name:
        raise AgentError("bad_display_name", "Give a display name (--display-name) of printable characters.")
    state.ensure()
    if state.joined() or state.key_path.exists():
        if not args.force:
            where = state.load_device().origin if state.joined() else "(an interrupted join)"
            raise AgentError("already_joined", f"This computer is already joined to {where}: run passgate-device "
                             "leave first (or join --force to forget that join here).")
        state.remove()
        ctx.console.out("Forgot the previous join here; its device record stays in Passgate for an administrator "
                        "to delete.")
    key = state.new_key()
    body = {"enrollmentToken": args.token.strip(), "displayName": display_name, "operatingSystem": "Linux",
            "operatingSystemVersion": _os_version(), "trustType": "hybrid" if args.hybrid else "joined",
            "publicKey": jwk_of(key.public_key())}
    try:
        joined = PassgateClient(origin, timeout=args.timeout).call("POST", JOIN, body, signed=False)
        names = ("deviceId", "id", "origin")
        if not all(isinstance(joined.get(n), str) and joined[n] for n in names):
            raise AgentError("bad_answer", f"Passgate's answer to the join lacks {', '.join(names)}.")
        record = DeviceRecord(deviceId=joined["deviceId"], id=joined["id"], origin=normalise_origin(joined["origin"]),
                              displayName=str(joined.get("displayName", display_name)),
                              trustType=str(joined.get("trustType", body["trustType"])),
                              joinedDateTime=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"))
        state.save_device(record)
    except BaseException:
        state.remove()  # no half-joined computer: the key goes with the failed join
        raise
    try:
        jwks = PassgateClient(record.origin, timeout=args.timeout).call("GET", JWKS, signed=False)
        if isinstance(jwks.get("keys"), list):
            state.save_jwks(jwks)
    except AgentError:
        pass  # sync fetches them later
    if record.origin != origin:
        ctx.console.out(f"Note: Passgate names itself {record.origin}; the agent uses that from now on.")
    ctx.emit({"deviceId": record.deviceId, "id": record.id, "origin": record.origin,
              "displayName": record.displayName, "trustType": record.trustType},
             lambda: [f"Joined {record.origin} as {record.displayName!r}.", f"  deviceId: {record.deviceId}",
                      f"  object id: {record.id}", f"  state: {state.root}"])


def cmd_status(ctx: Context) -> int:
    state = ctx.state
    record = state.load_device()
    local = {"deviceId": record.deviceId, "id": record.id, "origin": record.origin,
             "displayName": record.displayName, "trustType": record.trustType,
             "joinedDateTime": record.joinedDateTime, "stateDir": str(state.root),
             "offlineRecords": len(state.offline_ids()), "jwksCached": state.jwks_path.exists(),
             "provisioningPackage": state.load_package() is not None}
    synced = state.load_sync() or {}
    server: dict[str, Any] | None = None
    problem: AgentError | None = None
    try:
        server = _client(ctx, record).call("GET", SELF)
    except Unreachable as exc:
        problem = exc
    except AgentError as exc:
        if exc.code in ("not_joined", "key_file_exposed", "state_unusable"):
            raise
        problem = exc
    online = not isinstance(problem, Unreachable)
    data = {"online": online, "local": local, "passgate": server,
            "securityKeySignIn": synced.get("securityKeySignIn"), "syncedDateTime": synced.get("syncedDateTime"),
            "error": None if problem is None else {"code": problem.code, "message": problem.message}}

    def lines() -> list[str]:
        out = [f"{name}: {value}" for name, value in local.items()]
        if synced.get("securityKeySignIn"):
            out.append(f"securityKeySignIn: {_setting_line(synced['securityKeySignIn'])} (at the sync of "
                       f"{synced.get('syncedDateTime')})")
        else:
            out.append("securityKeySignIn: unknown (never synced: passgate-device sync)")
        if server is not None:
            state_word = "enabled" if server.get("accountEnabled") else "DISABLED"
            out.append(f"Passgate: {server.get('displayName')!r}, {state_word}, registered "
                       f"{server.get('registrationDateTime')}")
        elif isinstance(problem, Unreachable):
            out.append(f"Offline: {problem.message} (showing the local state only)")
        elif problem is not None:
            out.append(f"Passgate refuses this device: {problem.message}")
            if problem.code == "device_unknown":
                out.append("  The device was deleted in Passgate: passgate-device leave --local-only, then join "
                           "again.")
        return out

    ctx.emit(data, lines)
    return 0 if problem is None or isinstance(problem, Unreachable) else EXIT_ERROR


def cmd_sync(ctx: Context) -> None:
    state = ctx.state
    record = state.load_device()
    policy = read_policy(Path(ctx.args.policy_file)) if record.trustType == "hybrid" else None
    client = _client(ctx, record)
    server = client.call("GET", SELF)
    answer = client.call("POST", SYNC, {"provisioningPackage": state.load_package(), "localGroupPolicy": policy,
                                        "offlineCredentials": state.offline_ids()})
    jwks = answer.get("jwks")
    if not isinstance(jwks, dict):
        jwks = client.call("GET", JWKS, signed=False)
    state.save_jwks(jwks)
    revoked = (answer.get("offlineCredentials") or {}).get("revoked") or []
    for credential_id in revoked:
        state.drop_offline(str(credential_id))
    if isinstance(server.get("displayName"), str) and server["displayName"] != record.displayName:
        record = DeviceRecord(**{**record.__dict__, "displayName": server["displayName"]})
        state.save_device(record)
    setting = answer.get("securityKeySignIn") or {}
    reported = {"provisioningPackage": state.load_package() is not None, "localGroupPolicy": policy}
    state.save_sync({"securityKeySignIn": setting, "syncedDateTime": _utc_now(), "reported": reported})
    read = (policy or "none") if record.trustType == "hybrid" else "not read (not hybrid)"
    data = {"device": server, "securityKeySignIn": setting, "jwksKeys": len(jwks.get("keys") or []),
            "offlineRecordsDropped": len(revoked), "offlineRecords": len(state.offline_ids()), "reported": reported}
    ctx.emit(data, lambda: [
        f"Synced with {record.origin}: {record.displayName!r}, "
        f"{'enabled' if server.get('accountEnabled') else 'DISABLED'}.",
        f"  security-key sign-in: {_setting_line(setting)}",
        f"  reported: provisioning package {'applied' if reported['provisioningPackage'] else 'none'}, "
        f"local group policy {read}",
        f"  Passgate's keys: {data['jwksKeys']}; offline records kept {data['offlineRecords']}, dropped "
        f"{len(revoked)}"])


def _utc_now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _setting_line(setting: dict[str, Any]) -> str:
    text = "on" if setting.get("enabled") else "off"
    if setting.get("source"):
        text += f", source {setting['source']}"
    if setting.get("explanation"):
        text += f" ({setting['explanation']})"
    return text


def read_policy(path: Path) -> str | None:
    """The local group policy file's ``TurnOnSecurityKeySignIn`` (None when there is no file); bad content is an
    error. Blank lines and ``#`` comments aside, the file holds exactly one line ``TurnOnSecurityKeySignIn = V``."""
    try:
        raw = path.read_bytes()[:MAX_POLICY_BYTES + 1]
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise AgentError("policy_unreadable", f"Cannot read the local group policy file {path}: "
                         f"{exc.strerror or exc}.") from None
    usage = (f"it must hold one line '{POLICY_NAME} = enabled', '= disabled' or '= notConfigured'")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise AgentError("policy_invalid", f"The local group policy file {path} is not UTF-8: {usage}.") from None
    if len(raw) > MAX_POLICY_BYTES:
        raise AgentError("policy_invalid", f"The local group policy file {path} is too long: {usage}.")
    lines = [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.strip().startswith("#")]
    if len(lines) != 1:
        raise AgentError("policy_invalid", f"The local group policy file {path} has {len(lines)} settings: {usage}.")
    name, sep, value = lines[0].partition("=")
    if not sep or name.strip() != POLICY_NAME or value.strip() not in POLICY_VALUES:
        raise AgentError("policy_invalid", f"The local group policy file {path} says {lines[0]!r}: {usage}.")
    return value.strip()


# --- provisioning packages ------------------------------------------------------------------------------

def cmd_package_apply(ctx: Context) -> None:
    state = ctx.state
    record = state.load_device()
    path = Path(ctx.args.file)
    try:
        text = path.read_bytes()[:packages.MAX_PACKAGE_LENGTH + 2].decode("utf-8").strip()
    except OSError as exc:
        raise AgentError("package_unreadable", f"Cannot read {path}: {exc.strerror or exc}.") from None
    except UnicodeDecodeError:
        text = ""
    keys = state.jwks_keys()
    if not keys:
        raise AgentError("no_jwks", "This computer has not got Passgate's keys yet to check the package: run "
                         "passgate-device sync first.")
    try:
        made = packages.verify(text, keys=keys, issuer=record.origin, now=int(time.time()))
    except DeviceRejected as exc:
        raise AgentError(exc.reason.value, f"{path}: {exc.message} Nothing was applied.") from None
    state.save_package(text)
    ctx.console.out(f"Applied provisioning package {made.package_id}: security-key sign-in "
                    f"{'on' if made.security_key_sign_in else 'off'}, valid until "
                    f"{datetime.fromtimestamp(made.expires_at, UTC):%Y-%m-%d}. Passgate learns of it at the next "
                    "passgate-device sync.")


def cmd_package_remove(ctx: Context) -> None:
    if not ctx.state.remove_package():
        raise AgentError("no_package", "No provisioning package is applied on this computer.")
    ctx.console.out("Removed the provisioning package. Passgate learns of it at the next passgate-device sync.")


def cmd_package_show(ctx: Context) -> int:
    state = ctx.state
    record = state.load_device()
    text = state.load_package()
    if text is None:
        ctx.emit({"applied": False}, lambda: ["No provisioning package is applied."])
        return 0
    try:
        made = packages.verify(text, keys=state.jwks_keys(), issuer=record.origin, now=int(time.time()))
    except DeviceRejected as exc:
        why = exc.message
        ctx.emit({"applied": True, "valid": False, "error": {"code": exc.reason.value, "message": why}},
                 lambda: [f"A provisioning package is applied but not usable: {why}"])
        return EXIT_ERROR
    data = {"applied": True, "valid": True, "id": made.package_id, "securityKeySignIn": made.security_key_sign_in,
            "issuedDateTime": datetime.fromtimestamp(made.issued_at, UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "expiresDateTime": datetime.fromtimestamp(made.expires_at, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")}
    ctx.emit(data, lambda: [f"Provisioning package {made.package_id}: security-key sign-in "
                            f"{'on' if made.security_key_sign_in else 'off'}, issued {data['issuedDateTime']}, "
                            f"expires {data['expiresDateTime']}."])
    return 0


def cmd_leave(ctx: Context) -> None:
    state = ctx.state
    if not ctx.args.local_only:
        try:
            _client(ctx).call("DELETE", SELF)
        except Unreachable as exc:
            raise AgentError(exc.code, f"{exc.message} Nothing was changed: retry, or passgate-device leave "
                             "--local-only to forget this computer's join here only.") from None
        except AgentError as exc:
            if exc.code in ("device_unknown", "device_disabled"):
                raise AgentError(exc.code, f"{exc.message} Use passgate-device leave --local-only to forget the "
                                 "join here.") from None
            raise
    elif not state.joined() and not state.key_path.exists():
        raise AgentError("not_joined", "This computer is not joined to Passgate: nothing to forget.")
    state.remove()
    ctx.console.out("Left Passgate." if not ctx.args.local_only else
                    "Forgot the join here (the device record, if any, stays in Passgate for an administrator).")


# --- the daemon -------------------------------------------------------------------------------------------

def cmd_daemon(ctx: Context) -> None:
    args = ctx.args
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="passgate-device[%(process)d] %(levelname)s %(message)s")
    state = ctx.state
    state.check_directory()
    if state.joined():
        state.load_key()  # refuse to start with an exposed key
    policy = PeerPolicy.for_group(os.geteuid(), args.allow_group)
    daemon = Daemon(socket_path=Path(args.socket), state=state, provider=ctx.provider, policy=policy,
                    socket_group=policy.group_gid, idle_timeout=args.idle_timeout,
                    overall_timeout=args.conversation_timeout, http_timeout=args.timeout,
                    accounts=None if args.no_create_accounts else ensure_account)
    try:
        daemon.bind()
    except OSError as exc:
        raise AgentError("socket_unusable", f"Cannot listen on {args.socket}: {exc.strerror or exc}.") from None
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: daemon.shutdown())
    daemon.serve_forever()


# --- security keys --------------------------------------------------------------------------------------

def cmd_key_info(ctx: Context) -> None:
    with sk.opened(ctx.provider) as ctap:
        info = sk.key_info(ctap)
    data = info.as_json()

    def lines() -> list[str]:
        pin = "not set" if not info.pin_set else f"set ({info.pin_retries} tries left)"
        fingers = ("no sensor" if info.fingerprints is None else
                   "enrolled" if info.fingerprints else "none enrolled")
        return [info.name, f"  AAGUID: {info.aaguid}", f"  versions: {', '.join(info.versions)}",
                f"  PIN: {pin} (at least {info.min_pin_length} characters)", f"  fingerprints: {fingers}",
                f"  passkey management: {'yes' if info.credential_management else 'no'}",
                f"  room for passkeys: {info.remaining_discoverable_credentials}"]

    ctx.emit(data, lines)


def cmd_key_register(ctx: Context) -> None:
    user = ctx.args.user or ctx.console.ask("User name: ").strip()
    tap = ctx.console.pin("Temporary Access Pass: ")
    done = register_key(state=ctx.state, provider=ctx.provider, interaction=ctx.console, user_name=user,
                        temporary_access_pass=tap, display_name=ctx.args.name, timeout=ctx.args.timeout)
    ctx.emit(done, lambda: [f"Registered \"{done['passkey']['displayName']}\" for "
                            f"{done['user']['userPrincipalName']}: sign in to this computer with it now."])


def cmd_key_set_pin(ctx: Context) -> None:
    with sk.opened(ctx.provider) as ctap:
        sk.set_pin(ctap, ctx.console.pin("New PIN: "), ctx.console.pin("New PIN again: "))
    ctx.console.out("The security key has its PIN.")


def cmd_key_change_pin(ctx: Context) -> None:
    with sk.opened(ctx.provider) as ctap:
        old = ctx.console.pin("Current PIN: ")
        sk.change_pin(ctap, old, ctx.console.pin("New PIN: "), ctx.console.pin("New PIN again: "))
    ctx.console.out("The PIN is changed.")


def cmd_key_credentials(ctx: Context) -> None:
    with sk.opened(ctx.provider) as ctap:
        found = sk.credentials(ctap, ctx.console.pin("PIN: "))
    ctx.emit([c.as_json() for c in found], lambda: [
        f"{c.rp_id:<28} {c.user_name:<32} {c.credential_id}" for c in found] or ["(no passkeys on this key)"])


def cmd_key_delete_credential(ctx: Context) -> None:
    with sk.opened(ctx.provider) as ctap:
        gone = sk.delete_credential(ctap, ctx.console.pin("PIN: "), ctx.args.credential_id)
    ctx.console.out(f"Deleted the passkey for {gone.user_name or gone.user_id} at {gone.rp_id}.")


def cmd_key_fingerprints(ctx: Context) -> None:
    action = ctx.args.fingerprint_action or "list"
    with sk.opened(ctx.provider) as ctap:
        pin = ctx.console.pin("PIN: ")
        if action == "list":
            found = sk.fingerprints(ctap, pin)
            ctx.emit([{"id": t, "name": n} for t, n in found.items()],
                     lambda: [f"{t}  {n or '(no name)'}" for t, n in found.items()] or ["(no fingerprints)"])
        elif action == "enroll":
            template = sk.enroll_fingerprint(ctap, pin, ctx.args.name, ctx.console.out)
            ctx.console.out(f"Enrolled fingerprint {template}.")
        elif action == "rename":
            sk.rename_fingerprint(ctap, pin, ctx.args.template_id, ctx.args.name)
            ctx.console.out("Renamed.")
        else:
            sk.remove_fingerprint(ctap, pin, ctx.args.template_id)
            ctx.console.out(f"Removed fingerprint {ctx.args.template_id}.")


def cmd_key_reset(ctx: Context) -> None:
    with sk.opened(ctx.provider) as ctap:
        ctx.console.out(f"Resetting {sk.describe(ctap.device)} erases every passkey on it (for every site, not "
                        "only Passgate), its PIN and its fingerprints. It cannot be undone.")
        typed = ctx.console.ask(f"Type '{RESET_CONFIRMATION}' to go on: ").strip()
        if typed != RESET_CONFIRMATION:
            raise AgentError("not_confirmed", "Not confirmed: nothing was erased.")
        ctx.console.out("Touch the security key now (a key resets only within 10 seconds of being plugged in).")
        sk.reset(ctap)
    ctx.console.out("The security key is reset: no passkeys, no PIN.")


# --- main -----------------------------------------------------------------------------------------------

def main(argv: Sequence[str] | None = None, *, provider: sk.KeyProvider | None = None,
         console: Console | None = None) -> int:
    args = build_parser().parse_args(argv)
    ctx = Context(args=args, state=State(state_dir(args.state_dir)), provider=provider or sk.HidKeyProvider(),
                  console=console or Console())
    try:
        status = args.func(ctx)
    except AgentError as exc:
        print(f"passgate-device: {exc.message}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("passgate-device: interrupted", file=sys.stderr)
        return 130
    return int(status or 0)


def entry_point() -> NoReturn:
    sys.exit(main())
