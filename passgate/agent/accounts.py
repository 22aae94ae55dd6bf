"""Local accounts for directory people: a successful security-key sign-in makes sure the person's POSIX account
(the name, uid and home Passgate assigned; docs/devices.md, "POSIX accounts") exists on this computer, so that
login, the display manager and ``su`` find it. The daemon, running as root, creates it with ``useradd`` the first
time; an existing account with another uid, or the uid taken by another name, is a conflict it refuses rather
than resolves."""

from __future__ import annotations

import grp
import pwd
import subprocess
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from passgate.agent.errors import AgentError

Runner = Callable[[Sequence[str]], None]


def _run(command: Sequence[str]) -> None:
    # no shell; the values are the account Passgate signed in, checked by core.devices.posix before it was sent
    done = subprocess.run(list(command), capture_output=True, text=True, timeout=30, check=False)  # noqa: S603
    if done.returncode != 0:
        why = ((done.stderr or done.stdout).strip().splitlines() or ["useradd failed"])[-1]
        raise AgentError("account_create_failed", f"Could not create the local account ({command[0]}): {why}")


def _by_name(name: str) -> Any:
    try:
        return pwd.getpwnam(name)
    except KeyError:
        return None


def _by_uid(uid: int) -> Any:
    try:
        return pwd.getpwuid(uid)
    except KeyError:
        return None


def ensure_account(posix: Mapping[str, Any], *, run: Runner = _run) -> bool:
    """Create the account if it is missing (True when created); refuse a conflicting one."""
    name, uid = str(posix["name"]), int(posix["uid"])
    existing = _by_name(name)
    if existing is not None:
        if existing.pw_uid != uid:
            raise AgentError("account_conflict", f"The local account {name} has uid {existing.pw_uid}, not the "
                             f"{uid} Passgate assigned: ask this computer's administrator.")
        return False
    taken = _by_uid(uid)
    if taken is not None:
        raise AgentError("account_conflict", f"uid {uid}, which Passgate assigned to {name}, belongs to the local "
                         f"account {taken.pw_name} here: ask this computer's administrator.")
    gid = int(posix.get("gid", uid))
    group = _group(gid)
    if group is not None and group.gr_name != name:
        raise AgentError("account_conflict", f"gid {gid}, which Passgate assigned to {name}'s own group, belongs to "
                         f"the local group {group.gr_name} here: ask this computer's administrator.")
    if group is None:
        run(["groupadd", "--gid", str(gid), name])
    gecos = "".join(c for c in str(posix.get("gecos", "")) if c not in ":,=\n\r\x00")
    run(["useradd", "--uid", str(uid), "--gid", str(gid), "--create-home", "--home-dir", str(posix["home"]),
         "--shell", str(posix["shell"]), "--comment", gecos, name])
    return True


def _group(gid: int) -> Any:
    try:
        return grp.getgrgid(gid)
    except KeyError:
        return None
