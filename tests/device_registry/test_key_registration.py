"""Registering a security key from a joined computer with a Temporary Access Pass (``/device/v1/keys/register``),
then signing in to that computer with it: from a pass to security-key sign-in without a browser."""

from __future__ import annotations

from typing import Any

import pytest
from fido2.webauthn import PublicKeyCredentialCreationOptions

from passgate.audit.models import AuditEvent
from passgate.credentials.models import Passkey
from passgate.devices.models import DeviceKeyRegistration
from tests.device_registry.test_device_signin import fido_client, joined, security_key, sign_in

pytestmark = pytest.mark.django_db
BEGIN, COMPLETE = "/device/v1/keys/register/begin", "/device/v1/keys/register/complete"


def _register(computer: Any, key: Any, user_name: str, tap: str, display_name: str = "My key") -> Any:
    begun = computer.post(BEGIN, {"userName": user_name, "temporaryAccessPass": tap})
    if begun.status_code != 200:
        return begun
    made = fido_client(key).make_credential(PublicKeyCredentialCreationOptions.from_dict(begun.json()["publicKey"]))
    return computer.post(COMPLETE, {"registrationId": begun.json()["registrationId"], "credential": dict(made),
                                    "displayName": display_name})


def test_a_new_employee_goes_from_a_pass_to_signing_in_with_a_key(client: Any, make_user: Any,
                                                                  issue_tap: Any) -> None:
    pat = make_user("pat@contoso.com")
    tap = issue_tap(pat)
    key = security_key()
    computer = joined(client)
    done = _register(computer, key, "pat@contoso.com", tap)
    assert done.status_code == 200, done.content
    passkey = Passkey.objects.get(user=pat)
    assert done.json()["passkey"]["id"] == str(passkey.pk) and passkey.display_name == "My key"
    assert AuditEvent.objects.filter(activity="device.registerKey", result="success").exists()
    assert sign_in(computer, key, "pat@contoso.com").json()["user"]["userPrincipalName"] == "pat@contoso.com"


def test_a_wrong_or_used_pass_registers_nothing(client: Any, make_user: Any, issue_tap: Any) -> None:
    pat = make_user("pat@contoso.com")
    tap = issue_tap(pat)  # one-time
    computer = joined(client)
    wrong = computer.post(BEGIN, {"userName": "pat@contoso.com", "temporaryAccessPass": "AAAA-BBBB-CCCC-DDDD"})
    assert wrong.status_code == 400 and wrong.json()["error"] == "tap_invalid"
    unknown = computer.post(BEGIN, {"userName": "nobody@contoso.com", "temporaryAccessPass": tap})
    assert unknown.status_code == 400 and unknown.json() == wrong.json()  # no hint who exists
    assert _register(computer, security_key(), "pat@contoso.com", tap).status_code == 200
    again = computer.post(BEGIN, {"userName": "pat@contoso.com", "temporaryAccessPass": tap})
    assert again.status_code == 400
    assert Passkey.objects.filter(user=pat).count() == 1


def test_a_registration_completes_once_on_its_own_device(client: Any, make_user: Any, issue_tap: Any) -> None:
    pat = make_user("pat@contoso.com")
    computer, other = joined(client), joined(client, enrollment=None)
    begun = computer.post(BEGIN, {"userName": "pat@contoso.com", "temporaryAccessPass": issue_tap(pat)}).json()
    made = dict(fido_client(security_key()).make_credential(
        PublicKeyCredentialCreationOptions.from_dict(begun["publicKey"])))
    body = {"registrationId": begun["registrationId"], "credential": made, "displayName": "Key"}
    stolen = other.post(COMPLETE, body)
    assert stolen.status_code == 400 and stolen.json()["error"] == "device_register_unknown"
    assert computer.post(COMPLETE, body).status_code == 200
    assert computer.post(COMPLETE, body).json()["error"] == "device_register_unknown"
    assert Passkey.objects.count() == 1


@pytest.mark.parametrize(("path", "body"), [
    (BEGIN, {"userName": "pat@contoso.com"}), (BEGIN, {"userName": 5, "temporaryAccessPass": "x"}), (BEGIN, []),
    (COMPLETE, {"registrationId": "x", "credential": {}}),
    (COMPLETE, {"registrationId": "00000000-0000-0000-0000-000000000000", "credential": [], "displayName": "K"}),
    (COMPLETE, {"registrationId": "00000000-0000-0000-0000-000000000000", "credential": {}, "displayName": ""}),
])
def test_bad_bodies_are_refused(client: Any, path: str, body: Any) -> None:
    computer = joined(client)
    answer = computer.post(path, body)
    assert answer.status_code == 400
    assert answer.json()["error"] in ("device_register_request_invalid", "device_register_unknown")
    assert not DeviceKeyRegistration.objects.exists() and not Passkey.objects.exists()
