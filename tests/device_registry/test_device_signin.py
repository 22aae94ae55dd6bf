"""Security-key sign-in to a joined computer through the device API, with a software CTAP 2.1 key driven by
python-fido2's own client, as the agent drives a USB key: begin, getAssertion with the key's PIN, complete."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.conf import settings
from django.utils import timezone
from fido2.client import DefaultClientDataCollector, Fido2Client, UserInteraction
from fido2.ctap2 import Ctap2
from fido2.ctap2.pin import ClientPin
from fido2.webauthn import PublicKeyCredentialCreationOptions, PublicKeyCredentialRequestOptions

from passgate.access.services import ca_policy_create
from passgate.apps.keys import jwks
from passgate.audit.models import AuditEvent, SignInEvent
from passgate.audit.services import Actor
from passgate.core.devices import offline
from passgate.core.devices.keys import public_key_from_jwk
from passgate.core.devices.signin import DEVICE_SIGNIN_APP_ID
from passgate.credentials.models import Passkey
from passgate.credentials.services import passkey_registration_begin, passkey_registration_complete
from passgate.device_config.services import (
    device_configuration_assign,
    device_configuration_create,
    enrollment_configuration_update,
)
from passgate.devices.models import Device
from passgate.devices.services import device_group_add, device_update, enrollment_token_issue
from passgate.directory.models import User
from passgate.directory.services import group_create, user_set_enabled
from tests.device_registry.support import Computer
from tests.devices.softkey import SoftKey

pytestmark = pytest.mark.django_db
ADMIN = Actor.system("test admin")
PIN = "4321"
BEGIN, COMPLETE = "/device/v1/signin/begin", "/device/v1/signin/complete"
USE_SECURITY_KEY = "./Device/Vendor/MSFT/PassportForWork/SecurityKey/UseSecurityKeyForSignin"


class Pin(UserInteraction):
    def __init__(self, pin: str) -> None:
        self.pin = pin

    def request_pin(self, permissions: Any, rp_id: str | None) -> str | None:
        return self.pin


def security_key(pin: str = PIN) -> SoftKey:
    key = SoftKey()
    ClientPin(Ctap2(key)).set_pin(pin)
    return key


def fido_client(key: SoftKey, pin: str = PIN) -> Fido2Client:
    return Fido2Client(key, DefaultClientDataCollector(settings.PASSGATE.origin), user_interaction=Pin(pin))


def register(user: User, key: SoftKey, name: str = "Security key") -> Passkey:
    options = passkey_registration_begin(user=user, session_key=f"enrol-{user.pk}")
    made = fido_client(key).make_credential(PublicKeyCredentialCreationOptions.from_dict(options))
    return passkey_registration_complete(user=user, session_key=f"enrol-{user.pk}", credential=dict(made),
                                         display_name=name)


def joined(client_: Any, *, enrollment: str | None = "enabled") -> Computer:
    if enrollment:
        enrollment_configuration_update(body={"@passgate.securityKeyForSignIn": enrollment}, actor=ADMIN)
    computer = Computer(client_)
    assert computer.join(enrollment_token_issue(actor=ADMIN)[1]).status_code == 201
    return computer


def sign_in(computer: Computer, key: SoftKey, user_name: str | None = None, *, pin: str = PIN,
            pick: int = 0) -> Any:
    begun = computer.post(BEGIN, {"userName": user_name})
    if begun.status_code != 200:
        return begun
    options = PublicKeyCredentialRequestOptions.from_dict(begun.json()["publicKey"])
    response = fido_client(key, pin).get_assertion(options).get_response(pick)
    return computer.post(COMPLETE, {"signInId": begun.json()["signInId"], "credential": dict(response)})


def refused(response: Any, status: int, code: str) -> None:
    assert response.status_code == status, response.content
    assert response.json()["error"] == code, response.json()


def test_a_person_signs_in_to_a_computer_with_their_security_key(client: Any, make_user: Any) -> None:
    alice = make_user("alice@contoso.com", display_name="Alice Example")
    key = security_key()
    register(alice, key)
    computer = joined(client)
    answer = sign_in(computer, key, "Alice@Contoso.com")
    assert answer.status_code == 200, answer.content
    body = answer.json()
    assert body["user"] == {"id": str(alice.pk), "userPrincipalName": "alice@contoso.com",
                            "displayName": "Alice Example"}
    assert body["posix"] == {"name": "alice@contoso.com", "uid": 200000, "gid": 200000, "gecos": "Alice Example",
                             "home": "/home/alice@contoso.com", "shell": "/bin/bash"}
    device = Device.objects.get()
    keys = {k["kid"]: public_key_from_jwk({n: k[n] for n in ("kty", "crv", "x", "y")})
            for k in jwks()["keys"] if k.get("crv") == "P-256"}
    record = offline.verify(body["offline"]["record"], keys=keys, issuer=settings.PASSGATE.origin,
                            device_id=str(device.device_id), now=int(timezone.now().timestamp()))
    passkey = Passkey.objects.get()
    assert (record.user_id, record.uid, record.credential_id) == (str(alice.pk), 200000, bytes(passkey.credential_id))
    assert record.expires_at - record.issued_at == 7 * 24 * 3600
    row = SignInEvent.objects.get(app_id=DEVICE_SIGNIN_APP_ID)
    assert row.error_code == 0 and row.device_id == str(device.device_id) and row.device_display_name == "build-07"
    assert AuditEvent.objects.filter(activity="device.signIn", result="success").exists()
    # the uid is the person's for good, on every device
    assert sign_in(joined(client, enrollment=None), key).json()["posix"]["uid"] == 200000


def test_a_key_with_two_accounts_signs_in_the_one_chosen(client: Any, make_user: Any) -> None:
    alice, bob = make_user("alice@contoso.com"), make_user("bob@contoso.com")
    key = security_key()
    register(alice, key)
    register(bob, key)
    computer = joined(client)
    names = {sign_in(computer, key, None, pick=i).json()["user"]["userPrincipalName"] for i in (0, 1)}
    assert names == {"alice@contoso.com", "bob@contoso.com"}
    # asked for by name, only that person's credential is allowed: the key offers no choice
    answer = sign_in(computer, key, "alice@contoso.com")
    assert answer.json()["user"]["userPrincipalName"] == "alice@contoso.com"


def test_the_person_asked_for_is_the_one_signed_in(client: Any, make_user: Any) -> None:
    alice = make_user("alice@contoso.com")
    make_user("bob@contoso.com")
    key = security_key()
    register(alice, key)
    computer = joined(client)
    refused(sign_in(computer, key, "bob@contoso.com"), 403, "device_signin_user_mismatch")
    refused(sign_in(computer, key, "nobody@contoso.com"), 403, "device_signin_user_mismatch")
    assert SignInEvent.objects.filter(reason_code="device_signin_user_mismatch").count() == 2


def test_off_unless_turned_on_and_the_source_says_why(client: Any, make_user: Any) -> None:
    alice = make_user("alice@contoso.com")
    key = security_key()
    register(alice, key)
    computer = joined(client, enrollment=None)  # nothing configured when it joined
    answer = computer.post(BEGIN, {"userName": None})
    refused(answer, 403, "device_security_key_signin_off")
    assert "enrollment setting" in answer.json()["error_description"]
    # a profile with the OMA-URI, assigned to a group the device is in, turns it on
    group = group_create(display_name="Lab computers", actor=ADMIN)
    device_group_add(device=Device.objects.get(), group=group, actor=ADMIN)
    profile = device_configuration_create(body={
        "@odata.type": "#microsoft.graph.windows10CustomConfiguration", "displayName": "Security keys",
        "omaSettings": [{"@odata.type": "#microsoft.graph.omaSettingInteger", "displayName": "Use security keys",
                         "omaUri": USE_SECURITY_KEY, "value": 1}]}, actor=ADMIN)
    device_configuration_assign(configuration_id=profile.id, body={"assignments": [
        {"target": {"@odata.type": "#microsoft.graph.groupAssignmentTarget", "groupId": str(group.id)}}]},
        actor=ADMIN)
    assert sign_in(computer, key).status_code == 200
    # the enrollment setting changed after the join does not reach this device
    enrollment_configuration_update(body={"@passgate.securityKeyForSignIn": "enabled"}, actor=ADMIN)
    later = joined(client, enrollment=None)
    assert sign_in(later, key).status_code == 200
    assert AuditEvent.objects.filter(activity="device.signIn", reason="device_security_key_signin_off").exists()


def test_a_wrong_pin_is_counted_by_the_key_and_nothing_signs_in(client: Any, make_user: Any) -> None:
    from fido2.client import ClientError

    alice = make_user("alice@contoso.com")
    key = security_key()
    register(alice, key)
    computer = joined(client)
    with pytest.raises(ClientError):
        sign_in(computer, key, "alice@contoso.com", pin="0000")
    assert ClientPin(Ctap2(key)).get_pin_retries()[0] == 7
    assert not SignInEvent.objects.filter(app_id=DEVICE_SIGNIN_APP_ID, error_code=0).exists()


@pytest.mark.parametrize("change", ["user disabled", "device disabled", "passkey deleted"])
def test_a_disabled_user_or_device_or_a_deleted_passkey_signs_no_one_in(client: Any, make_user: Any,
                                                                        change: str) -> None:
    alice = make_user("alice@contoso.com")
    key = security_key()
    passkey = register(alice, key)
    computer = joined(client)
    if change == "user disabled":
        user_set_enabled(user=alice, enabled=False, actor=ADMIN)
        refused(sign_in(computer, key, None), 403, "user_disabled")
    elif change == "device disabled":
        device_update(device=Device.objects.get(), actor=ADMIN, account_enabled=False)
        refused(computer.post(BEGIN, {"userName": None}), 403, "device_disabled")
    else:
        passkey.delete()
        refused(sign_in(computer, key, None), 400, "unknown_credential")
    assert not SignInEvent.objects.filter(app_id=DEVICE_SIGNIN_APP_ID, error_code=0).exists()


def test_conditional_access_can_block_device_sign_in(client: Any, make_user: Any) -> None:
    alice = make_user("alice@contoso.com")
    key = security_key()
    register(alice, key)
    computer = joined(client)
    ca_policy_create(body={"displayName": "No computers", "state": "enabled", "conditions": {
        "users": {"includeUsers": ["All"]}, "applications": {"includeApplications": [DEVICE_SIGNIN_APP_ID]}},
        "grantControls": {"operator": "OR", "builtInControls": ["block"]}}, actor=ADMIN)
    refused(sign_in(computer, key, None), 403, "device_signin_blocked")
    row = SignInEvent.objects.get(app_id=DEVICE_SIGNIN_APP_ID)
    assert row.error_code == 53003 and row.applied_policies[0]["result"] == "failure"


def test_a_sign_in_completes_once_on_its_own_device(client: Any, make_user: Any) -> None:
    alice = make_user("alice@contoso.com")
    key = security_key()
    register(alice, key)
    computer, other = joined(client), joined(client, enrollment=None)
    begun = computer.post(BEGIN, {"userName": None}).json()
    response = dict(fido_client(key).get_assertion(
        PublicKeyCredentialRequestOptions.from_dict(begun["publicKey"])).get_response(0))
    refused(other.post(COMPLETE, {"signInId": begun["signInId"], "credential": response}), 400,
            "device_signin_unknown")
    assert computer.post(COMPLETE, {"signInId": begun["signInId"], "credential": response}).status_code == 200
    refused(computer.post(COMPLETE, {"signInId": begun["signInId"], "credential": response}), 400,
            "device_signin_unknown")


@pytest.mark.parametrize("body", [{"userName": 5}, {"user": "x"}, [], {"userName": "a\u0000b"},
                                  {"userName": "x" * 200}])
def test_a_bad_begin_is_refused(client: Any, body: Any) -> None:
    computer = joined(client)
    response = computer.post(BEGIN, body)
    assert response.status_code == 400
    assert response.json()["error"] in ("device_signin_request_invalid", "invalid_text")


@pytest.mark.parametrize("body", [{"signInId": "x"}, {"signInId": "nope", "credential": {}},
                                  {"signInId": "00000000-0000-0000-0000-000000000000", "credential": {}}])
def test_a_bad_complete_is_refused(client: Any, body: Any) -> None:
    computer = joined(client)
    response = computer.post(COMPLETE, body)
    assert response.status_code == 400
    assert response.json()["error"] in ("device_signin_request_invalid", "device_signin_unknown")


def test_a_begun_sign_in_expires(client: Any, make_user: Any) -> None:
    from passgate.devices.models import DeviceSignIn

    alice = make_user("alice@contoso.com")
    key = security_key()
    register(alice, key)
    computer = joined(client)
    begun = computer.post(BEGIN, {"userName": None}).json()
    response = dict(fido_client(key).get_assertion(
        PublicKeyCredentialRequestOptions.from_dict(begun["publicKey"])).get_response(0))
    DeviceSignIn.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    refused(computer.post(COMPLETE, {"signInId": begun["signInId"], "credential": response}), 400,
            "device_signin_unknown")


def test_device_sign_ins_are_counted_once_by_result(client: Any, make_user: Any,
                                                    django_capture_on_commit_callbacks: Any) -> None:
    from prometheus_client import REGISTRY

    def counts() -> list[float]:
        return [REGISTRY.get_sample_value(name, labels) or 0.0 for name, labels in (
            ("passgate_device_signins_total", {"result": "success"}),
            ("passgate_device_signins_total", {"result": "failure"}),
            ("passgate_signins_total", {"method": "passkey", "result": "success"}),
            ("passgate_signins_total", {"method": "passkey", "result": "failure"}))]

    alice = make_user("alice@contoso.com")
    make_user("bob@contoso.com")
    key = security_key()
    register(alice, key)
    computer = joined(client)
    before = counts()
    with django_capture_on_commit_callbacks(execute=True):  # the counters move as each audit row commits
        assert sign_in(computer, key, "alice@contoso.com").status_code == 200
        refused(sign_in(computer, key, "bob@contoso.com"), 403, "device_signin_user_mismatch")
        begun = computer.post(BEGIN, {"userName": None}).json()  # a tampered assertion: the ceremony refuses it
        response = dict(fido_client(key).get_assertion(
            PublicKeyCredentialRequestOptions.from_dict(begun["publicKey"])).get_response(0))
        response["response"] = {**dict(response["response"]), "signature": "AAAA" + str(
            dict(response["response"])["signature"])[4:]}
        assert computer.post(COMPLETE, {"signInId": begun["signInId"], "credential": response}).status_code >= 400
    # one success, two failures (the ceremony's refusal counted once, by its audit row); no browser sign-in
    assert [a - b for a, b in zip(counts(), before, strict=True)] == [1, 2, 0, 0]
