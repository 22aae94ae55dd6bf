"""Run as with the security key, through the real ``sudo`` (Debian's package), not a stand-in.

A person signs in at the login service (pamtester): the daemon creates their local account with the uid Passgate
assigned. Then, as that account, ``sudo -S -k id -u`` authenticates through a /etc/pam.d service loading
pam_passgate.py (sudoers' ``pam_service`` points this one account at it, so the machine's own sudo is untouched):
the key's PIN is read by sudo's own PAM conversation, the daemon signs in with the key, Passgate audits it, and the
command runs as root. Needs root, sudo, runuser, useradd, pamtester and libpam-python; .ci/run installs them."""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from passgate.agent.accounts import ensure_account
from passgate.audit.models import SignInEvent
from passgate.core.devices.signin import DEVICE_SIGNIN_APP_ID
from tests.conftest import loud_skip
from tests.device_registry.test_device_signin import PIN, register, security_key
from tests.devices.softkey import SoftKey
from tests.pam.support import MODULE, PAM_PYTHON, pamtester

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def sudo_for() -> Iterator[Callable[[str, str], str]]:
    """``allow(account, socket)``: let ``account`` run anything as root with sudo, authenticated by the security key
    through the daemon at ``socket``; the PAM service's name. Sudoers rule, PAM service and account go afterwards."""
    if os.geteuid() != 0 or not all(shutil.which(tool) for tool in ("sudo", "runuser", "userdel", "pamtester")) \
            or not PAM_PYTHON.exists():
        loud_skip("SUDO TESTS", "they need root, sudo, runuser, pamtester and libpam-python "
                  "(apt-get install sudo pamtester libpam-python)")
    made: list[Path] = []
    accounts: list[str] = []

    def allow(account: str, socket_path: str) -> str:
        uid = pwd.getpwnam(account).pw_uid
        service = f"passgate-sudo-{uuid.uuid4().hex[:8]}"
        pam = Path("/etc/pam.d") / service
        pam.write_text(f"auth required {PAM_PYTHON} {MODULE} socket={socket_path} timeout=60\n"
                       "account required pam_permit.so\nsession required pam_permit.so\n")
        rule = Path("/etc/sudoers.d") / service  # no dot in the name: sudo skips files with one
        rule.write_text(f"Defaults:#{uid} pam_service={service}, !lecture, timestamp_timeout=0\n"
                        f"#{uid} ALL=(ALL:ALL) ALL\n")
        rule.chmod(0o440)
        made.extend([pam, rule])
        accounts.append(account)
        checked = subprocess.run(["visudo", "-c", "-f", str(rule)], capture_output=True, text=True, check=False)
        assert checked.returncode == 0, checked.stdout + checked.stderr
        return service

    yield allow
    for path in made:
        path.unlink(missing_ok=True)
    for account in accounts:
        subprocess.run(["userdel", "--remove", account], capture_output=True, check=False)
        subprocess.run(["groupdel", account], capture_output=True, check=False)


def sudo_as(account: str, *, answers: str) -> subprocess.CompletedProcess[str]:
    """``sudo -S -k id -u`` run by ``account`` (not root), the key's PIN on its standard input."""
    return subprocess.run(["runuser", "-u", account, "--", "sudo", "-S", "-k", "id", "-u"], input=answers,
                          capture_output=True, text=True, timeout=90, check=False,
                          env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C.UTF-8"})


def _free_upn() -> str:
    return f"sudo-{uuid.uuid4().hex[:6]}@contoso.com"


@pytest.fixture
def logged_in(computer: Any, make_user: Any, pam_service: Any, sudo_for: Any) -> tuple[str, SoftKey]:
    """A person with a registered key who signed in at the login service (the daemon made their account), and
    may use sudo through the key: (their account name, the key)."""
    upn = _free_upn()
    key = security_key()
    register(make_user(upn), key)
    socket_path = computer.start(key, accounts=ensure_account)
    login = pamtester(pam_service(f"socket={socket_path} timeout=60"), upn, answers=f"{PIN}\n")
    assert login.returncode == 0, login.stdout + login.stderr
    assert pwd.getpwnam(upn).pw_uid >= 200000  # the daemon made the account at the first sign-in
    sudo_for(upn, str(socket_path))
    return upn, key


def test_sudo_runs_as_root_after_the_security_key_signs_the_person_in(logged_in: tuple[str, SoftKey]) -> None:
    upn, _ = logged_in

    done = sudo_as(upn, answers=f"{PIN}\n")

    assert done.returncode == 0, done.stdout + done.stderr
    assert "0" in done.stdout.splitlines()  # the command ran as root
    assert "PIN of your security key" in done.stderr  # sudo's own PAM conversation asked for it
    assert "Touch your security key." in done.stdout
    assert SignInEvent.objects.filter(app_id=DEVICE_SIGNIN_APP_ID, error_code=0,
                                      user_principal_name=upn).count() == 2  # login, then sudo


def test_sudo_with_a_wrong_pin_runs_nothing_and_the_key_counts_it(logged_in: tuple[str, SoftKey]) -> None:
    upn, key = logged_in
    retries = key.state.pin_retries

    done = sudo_as(upn, answers="0000\n0000\n0000\n")

    assert done.returncode != 0
    assert "0" not in done.stdout.splitlines()
    assert "Wrong PIN" in done.stdout + done.stderr
    assert key.state.pin_retries < retries
    assert SignInEvent.objects.filter(app_id=DEVICE_SIGNIN_APP_ID, error_code=0,
                                      user_principal_name=upn).count() == 1  # the login only
