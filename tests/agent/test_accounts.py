"""Local accounts made at a person's first security-key sign-in (passgate.agent.accounts), with the real useradd."""

from __future__ import annotations

import grp
import os
import pwd
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from passgate.agent.accounts import ensure_account
from passgate.agent.errors import AgentError
from tests.conftest import loud_skip


@pytest.fixture
def fresh() -> Iterator[Any]:
    """A name and a uid nobody has here; whatever the test creates is removed."""
    if os.geteuid() != 0 or not shutil.which("useradd"):
        loud_skip("LOCAL ACCOUNT TESTS", "they need root and useradd")
    made: list[str] = []

    def account(uid: int | None = None) -> dict[str, Any]:
        name = f"pg-{uuid.uuid4().hex[:8]}@contoso.com"
        made.append(name)
        free = uid or next(u for u in range(250_000, 260_000) if not _uid_taken(u) and not _gid_taken(u))
        return {"name": name, "uid": free, "gid": free, "gecos": "Pat: Example, Jr.", "home": f"/home/{name}",
                "shell": "/bin/bash"}

    yield account
    for name in made:
        subprocess.run(["userdel", "--remove", name], capture_output=True, check=False)
        subprocess.run(["groupdel", name], capture_output=True, check=False)


def _gid_taken(gid: int) -> bool:
    try:
        grp.getgrgid(gid)
    except KeyError:
        return False
    return True


def _uid_taken(uid: int) -> bool:
    try:
        pwd.getpwuid(uid)
    except KeyError:
        return False
    return True


def test_the_first_sign_in_creates_the_account_as_passgate_assigned_it(fresh: Any) -> None:
    posix = fresh()
    assert ensure_account(posix) is True
    entry = pwd.getpwnam(posix["name"])
    assert (entry.pw_uid, entry.pw_gid, entry.pw_dir, entry.pw_shell) == (posix["uid"], posix["uid"], posix["home"],
                                                                         "/bin/bash")
    assert entry.pw_gecos == "Pat Example Jr."  # the separators useradd would refuse are left out
    assert os.path.isdir(posix["home"])
    assert ensure_account(posix) is False  # the next sign-in finds it


def test_a_conflicting_account_is_refused_not_changed(fresh: Any) -> None:
    posix = fresh()
    ensure_account(posix)
    with pytest.raises(AgentError) as other_uid:
        ensure_account({**posix, "uid": posix["uid"] + 1})
    assert other_uid.value.code == "account_conflict"
    squatter = fresh(uid=posix["uid"])
    with pytest.raises(AgentError) as taken:
        ensure_account(squatter)
    assert taken.value.code == "account_conflict" and posix["name"] in taken.value.message
    assert pwd.getpwnam(posix["name"]).pw_uid == posix["uid"]
