"""``POST /device/v1/sync``: a device's local sources of the security-key setting (a signed provisioning package,
hybrid devices' local group policy) and the offline records it may keep."""

from __future__ import annotations

from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from django.conf import settings
from django.utils import timezone

from passgate.audit.models import AuditEvent
from passgate.audit.services import Actor
from passgate.core.devices import package as rules
from passgate.core.devices.keys import b64url
from passgate.device_api.packages import provisioning_package_issue
from passgate.device_api.signing import es256_public_keys
from passgate.devices.models import Device
from passgate.directory.services import user_set_enabled
from tests.device_registry.test_device_signin import BEGIN, joined, register, security_key, sign_in

pytestmark = pytest.mark.django_db
ADMIN = Actor.system("test admin")
SYNC = "/device/v1/sync"


def package(on: bool = True) -> str:
    return provisioning_package_issue(security_key_sign_in=on, actor=ADMIN)[1]


def test_a_signed_package_turns_security_key_sign_in_on_for_an_unmanaged_computer(client: Any) -> None:
    computer = joined(client, enrollment=None)
    assert computer.post(BEGIN, {"userName": None}).status_code == 403
    answer = computer.post(SYNC, {"provisioningPackage": package(True)})
    assert answer.status_code == 200, answer.content
    setting = answer.json()["securityKeySignIn"]
    assert setting["enabled"] and setting["source"] == "provisioningPackage"
    assert computer.post(BEGIN, {"userName": None}).status_code == 200
    assert AuditEvent.objects.filter(activity="device.reportSources").exists()
    assert computer.post(SYNC, {"provisioningPackage": package(False)}).json()["securityKeySignIn"]["enabled"] is False
    assert {k["kid"] for k in answer.json()["jwks"]["keys"]}


def _forged(on: bool) -> str:
    other = ec.generate_private_key(ec.SECP256R1())
    now = int(timezone.now().timestamp())
    return rules.issue(other, "made-up", rules.Package(issuer=settings.PASSGATE.origin, package_id="x",
                                                       issued_at=now, expires_at=now + 3600,
                                                       security_key_sign_in=on))


@pytest.mark.parametrize("make", [
    lambda: _forged(True),  # signed by someone else
    lambda: package(False).rsplit(".", 1)[0] + "." + b64url(bytes(64)),  # signature replaced
    lambda: package(True)[:-4] + "AAAA",  # signature changed
    lambda: "not a package",
])
def test_a_package_passgate_did_not_make_changes_nothing(client: Any, make: Any) -> None:
    computer = joined(client, enrollment=None)
    answer = computer.post(SYNC, {"provisioningPackage": make()})
    assert answer.status_code == 400 and answer.json()["error"] == "device_provisioning_package_invalid"
    assert Device.objects.get().reported_package_value is None
    assert computer.post(BEGIN, {"userName": None}).status_code == 403


def test_hybrid_devices_follow_local_group_policy(client: Any) -> None:
    computer = joined(client, enrollment=None)
    Device.objects.update(trust_type="hybrid")
    on = computer.post(SYNC, {"localGroupPolicy": "enabled"}).json()["securityKeySignIn"]
    assert on["enabled"] and on["source"] == "localGroupPolicy"
    off = computer.post(SYNC, {"localGroupPolicy": "notConfigured", "provisioningPackage": package(True)}).json()
    assert off["securityKeySignIn"]["enabled"] is False  # hybrid devices stop at group policy (Microsoft's rule)


def test_offline_records_end_when_the_user_is_disabled_or_the_passkey_deleted(client: Any, make_user: Any) -> None:
    alice, bob = make_user("alice@contoso.com"), make_user("bob@contoso.com")
    key = security_key()
    register(alice, key)
    passkey_b = register(bob, key)
    computer = joined(client)
    ids = [b64url(bytes(p.credential_id)) for p in (alice.passkeys.get(), passkey_b)]
    assert sign_in(computer, key, "alice@contoso.com").status_code == 200
    assert computer.post(SYNC, {"offlineCredentials": ids}).json()["offlineCredentials"] == {"valid": ids,
                                                                                           "revoked": []}
    user_set_enabled(user=alice, enabled=False, actor=ADMIN)
    passkey_b.delete()
    assert computer.post(SYNC, {"offlineCredentials": ids}).json()["offlineCredentials"] == {"valid": [],
                                                                                           "revoked": ids}


@pytest.mark.parametrize("body", [{"colour": 1}, {"localGroupPolicy": "on"}, {"offlineCredentials": "x"},
                                  {"offlineCredentials": ["***"]}, {"offlineCredentials": ["AA"] * 101}, []])
def test_a_bad_sync_changes_nothing(client: Any, body: Any) -> None:
    computer = joined(client, enrollment=None)
    answer = computer.post(SYNC, body)
    assert answer.status_code == 400 and answer.json()["error"] == "device_sync_request_invalid"
    assert Device.objects.get().reported_at is None


def test_a_package_is_made_by_the_cli_once_per_file(cli: Any, tmp_path: Any) -> None:
    target = tmp_path / "keys-on.ppkg"
    code, out, _ = cli("devices", "package", "--security-key-signin", "on", "--output", str(target))
    assert code == 0 and "passgate-device package apply keys-on.ppkg" in out
    made = rules.verify(target.read_text(), keys=es256_public_keys(), issuer=settings.PASSGATE.origin,
                        now=int(timezone.now().timestamp()))
    assert made.security_key_sign_in
    code, out, err = cli("devices", "package", "--security-key-signin", "on", "--output", str(target))
    assert code != 0 and "File exists" in err
    assert AuditEvent.objects.filter(activity="device.provisioningPackage.issue").count() == 1
