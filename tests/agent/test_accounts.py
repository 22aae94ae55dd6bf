"""Local accounts made at a person's first security-key sign-in (passgate.agent.accounts), with the real useradd."""

from __future__ import annotations

import grp
import json
import os
import pwd
import shutil
import subprocess
import sys
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


def _unit_bounding_set() -> str:
    from tests.agent.test_packaging import UNIT
    (line,) = [line for line in UNIT.read_text().splitlines() if line.startswith("CapabilityBoundingSet=")]
    return ",".join(["-all"] + ["+" + cap.removeprefix("CAP_").lower() for cap in line.split("=", 1)[1].split()])


def _create_bounded(bounding: str, posix: dict[str, Any]) -> subprocess.CompletedProcess[str]:
    code = ("import json, sys\nfrom passgate.agent.accounts import ensure_account\n"
            "print(ensure_account(json.loads(sys.argv[1])))")
    return subprocess.run(["setpriv", f"--bounding-set={bounding}", "--no-new-privs", "--", sys.executable, "-c", code,
                           json.dumps(posix)], capture_output=True, text=True, timeout=60, check=False)


def test_the_daemon_units_capabilities_are_enough_to_create_an_account(fresh: Any) -> None:
    """The capability bounding set of packaging/systemd/passgate-device.service, applied with setpriv as systemd
    applies it, still lets useradd make the account and its home; without CAP_CHOWN it can't."""
    if not shutil.which("setpriv"):
        loud_skip("CAPABILITY CHECK", "it needs setpriv (util-linux)")
    posix = fresh()
    done = _create_bounded(_unit_bounding_set(), posix)
    assert done.returncode == 0 and done.stdout.strip() == "True", done.stderr
    assert pwd.getpwnam(posix["name"]).pw_uid == posix["uid"]
    assert os.stat(posix["home"]).st_uid == posix["uid"]

    too_few = _create_bounded(_unit_bounding_set().replace(",+chown", ""), fresh())
    assert too_few.returncode != 0 and "account_create_failed" in too_few.stderr + too_few.stdout
