"""The local (POSIX) account of a directory user on a joined computer: the same on every device.

The name is the user principal name in lower case (``alice@contoso.com``, as SSSD names domain users). The uid,
and the gid of the user's own group, is assigned by Passgate once (at the user's first device sign-in), from
``FIRST_UID`` upwards, and never reused: it stays when the UPN changes. Home ``/home/<name>``, shell ``/bin/bash``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from passgate.core.errors import InvalidInput

FIRST_UID = 200_000  # above every distribution's local and system ranges (useradd: UID_MAX 60000)
LAST_UID = 2_147_483_646  # 2**31 - 2: a signed 32-bit uid_t, and not the "nobody" of some systems
SHELL = "/bin/bash"
_NAME = re.compile(r"[a-z0-9_][a-z0-9._@-]{0,112}\Z")


@dataclass(frozen=True)
class PosixAccount:
    name: str
    uid: int
    gid: int
    gecos: str
    home: str
    shell: str = SHELL

    def as_json(self) -> dict[str, object]:
        return {"name": self.name, "uid": self.uid, "gid": self.gid, "gecos": self.gecos, "home": self.home,
                "shell": self.shell}


def account_name(user_principal_name: str) -> str:
    """The account name for a UPN; refused when the UPN holds what a POSIX name can't (spaces, ``:``, ``/``)."""
    name = user_principal_name.strip().lower()
    if not _NAME.match(name):
        raise InvalidInput(f"{user_principal_name!r} can't be a local account name: use letters, digits, '.', '_', "
                           "'-' and '@'.", code="posix_name_invalid")
    return name


def next_uid(highest_assigned: int | None) -> int:
    uid = FIRST_UID if highest_assigned is None else max(highest_assigned + 1, FIRST_UID)
    if uid > LAST_UID:
        raise InvalidInput("No POSIX uid is left to assign.", code="posix_uids_exhausted")
    return uid


def posix_account(*, user_principal_name: str, display_name: str, uid: int) -> PosixAccount:
    name = account_name(user_principal_name)
    gecos = "".join(c for c in display_name if c not in ":,=\n\r\x00")[:256]
    return PosixAccount(name=name, uid=uid, gid=uid, gecos=gecos, home=f"/home/{name}")
