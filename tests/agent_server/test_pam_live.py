"""The whole path under real PAM: Debian's pamtester runs a /etc/pam.d service loading pam_passgate.py
(libpam-python), which talks to the device daemon's socket; the daemon drives a software CTAP 2.1 key and Passgate's
device API on a live server. Login and sudo stacks alike: the module is the same, only the service differs."""

from __future__ import annotations

from typing import Any

import pytest

from passgate.audit.models import SignInEvent
from passgate.audit.services import Actor
from passgate.core.devices.signin import DEVICE_SIGNIN_APP_ID
from passgate.device_config.services import device_configuration_assign, device_configuration_create
from tests.device_registry.test_device_signin import PIN, register, security_key
from tests.pam.support import pamtester

pytestmark = pytest.mark.django_db(transaction=True)
ADMIN = Actor.system("test admin")
USE_SECURITY_KEY = "./Device/Vendor/MSFT/PassportForWork/SecurityKey/UseSecurityKeyForSignin"


@pytest.mark.parametrize("service", ["login", "sudo"])
def test_a_person_signs_in_with_their_key_through_pam(computer: Any, make_user: Any, pam_service: Any,
                                                      service: str) -> None:
    alice = make_user("alice@contoso.com")
    key = security_key()
    register(alice, key)
    socket_path = computer.start(key)
    name = pam_service(f"socket={socket_path} timeout=60")
    done = pamtester(name, "alice@contoso.com", answers=f"{PIN}\n")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "successfully authenticated" in done.stdout + done.stderr
    assert "Touch your security key." in done.stdout + done.stderr
    assert SignInEvent.objects.filter(app_id=DEVICE_SIGNIN_APP_ID, error_code=0).count() == 1


def test_a_wrong_pin_or_another_person_is_an_authentication_error(computer: Any, make_user: Any,
                                                                 pam_service: Any) -> None:
    alice = make_user("alice@contoso.com")
    make_user("bob@contoso.com")
    key = security_key()
    register(alice, key)
    name = pam_service(f"socket={computer.start(key)} timeout=60")
    wrong = pamtester(name, "alice@contoso.com", answers="0000\n")
    assert wrong.returncode != 0 and "Wrong PIN" in wrong.stdout + wrong.stderr
    assert "Authentication failure" in wrong.stderr
    other = pamtester(name, "bob@contoso.com", answers=f"{PIN}\n")
    assert other.returncode != 0 and "Authentication failure" in other.stderr
    assert not SignInEvent.objects.filter(app_id=DEVICE_SIGNIN_APP_ID, error_code=0).exists()


def test_when_security_key_sign_in_is_off_the_stack_moves_on(computer: Any, make_user: Any,
                                                           pam_service: Any) -> None:
    alice = make_user("alice@contoso.com")
    key = security_key()
    register(alice, key)
    profile = device_configuration_create(body={
        "@odata.type": "#microsoft.graph.windows10CustomConfiguration", "displayName": "No security keys",
        "omaSettings": [{"@odata.type": "#microsoft.graph.omaSettingInteger", "displayName": "Off",
                         "omaUri": USE_SECURITY_KEY, "value": 0}]}, actor=ADMIN)
    device_configuration_assign(configuration_id=profile.id, body={"assignments": [
        {"target": {"@odata.type": "#microsoft.graph.allDevicesAssignmentTarget"}}]}, actor=ADMIN)
    name = pam_service(f"socket={computer.start(key)} timeout=60")
    done = pamtester(name, "alice@contoso.com", answers=f"{PIN}\n")
    assert done.returncode != 0
    assert "not turned on for this device" in done.stdout + done.stderr
    assert "cannot retrieve authentication info" in done.stderr  # PAM_AUTHINFO_UNAVAIL: the next method may run
