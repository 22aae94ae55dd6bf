"""The device registry through the device API: join with an enrollment token, then requests signed with the
device's key (passgate.devices, passgate.device_api)."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from passgate.audit.models import AuditEvent
from passgate.audit.services import Actor
from passgate.core.devices.keys import jwk_of
from passgate.devices.models import Device, DeviceEnrollmentToken, DeviceProofUse
from passgate.devices.services import (
    device_proofs_purge,
    device_update,
    enrollment_token_issue,
    enrollment_token_revoke,
)
from tests.device_registry.support import JOIN, SELF, Computer

pytestmark = pytest.mark.django_db
ADMIN = Actor.system("test admin")


def _token(**kwargs: Any) -> str:
    return enrollment_token_issue(actor=ADMIN, **kwargs)[1]


def _refused(response: Any, status: int, code: str) -> None:
    assert response.status_code == status, response.content
    assert response.json()["error"] == code
    assert AuditEvent.objects.filter(result="failure", reason=code).exists()


def test_a_computer_joins_with_a_token_and_then_signs_its_requests(client: Any) -> None:
    computer = Computer(client)
    token = _token()
    response = computer.join(token)
    assert response.status_code == 201, response.content
    device = Device.objects.get()
    assert response.json()["id"] == str(device.id) and device.trust_type == "joined" and device.account_enabled
    assert device.public_key == jwk_of(computer.key.public_key()) and device.token_issued_by == "test admin"
    assert DeviceEnrollmentToken.objects.get().uses_left == 0
    assert AuditEvent.objects.filter(activity="device.join", result="success", target_id=str(device.id)).exists()
    mine = computer.call("GET")
    assert mine.status_code == 200 and mine.json()["displayName"] == "build-07"
    assert Device.objects.get().last_seen_at is not None


def test_a_token_joins_as_many_computers_as_it_allows_and_then_none(client: Any) -> None:
    token = _token(uses=2)
    assert Computer(client).join(token).status_code == 201
    assert Computer(client).join(token.lower()).status_code == 201
    _refused(Computer(client).join(token), 400, "device_enrollment_token_used_up")
    assert Device.objects.count() == 2


@pytest.mark.parametrize(("make", "code"), [
    (lambda: "PGD-" + "A" * 32, "device_enrollment_token_invalid"),
    (lambda: "not a token", "device_enrollment_token_invalid"),
])
def test_a_wrong_token_joins_nothing(client: Any, make: Any, code: str) -> None:
    _token()
    _refused(Computer(client).join(make()), 400, code)
    assert not Device.objects.exists() and DeviceEnrollmentToken.objects.get().uses_left == 1


def test_an_expired_or_revoked_token_joins_nothing(client: Any) -> None:
    expired = _token()
    DeviceEnrollmentToken.objects.update(created_at=timezone.now() - timedelta(minutes=61))
    _refused(Computer(client).join(expired), 400, "device_enrollment_token_expired")
    revoked_row, revoked = enrollment_token_issue(actor=ADMIN)
    enrollment_token_revoke(token=revoked_row, actor=ADMIN)
    _refused(Computer(client).join(revoked), 400, "device_enrollment_token_invalid")
    assert not Device.objects.exists()


def test_one_key_joins_once(client: Any) -> None:
    computer = Computer(client)
    token = _token(uses=2)
    assert computer.join(token).status_code == 201
    _refused(computer.join(token), 409, "device_key_already_joined")
    assert Device.objects.count() == 1 and DeviceEnrollmentToken.objects.get().uses_left == 1


@pytest.mark.parametrize("body", [
    b"not json", b"[]", b'{"displayName": "x"}', b'{"enrollmentToken": "PGD-X", "colour": 1}',
    json.dumps({"enrollmentToken": "x", "displayName": "a\u0000b"}).encode(), b'"\\ud800"', b"{" * 20000,
])
def test_a_malformed_join_changes_nothing(client: Any, body: bytes) -> None:
    _token()
    response = client.post(JOIN, body, content_type="application/json")
    assert response.status_code == 400 and response["Content-Type"] == "application/json"
    assert response.json()["error"] in ("device_join_request_invalid", "device_key_invalid", "malformed_json",
                                        "invalid_text")
    assert not Device.objects.exists() and DeviceEnrollmentToken.objects.get().uses_left == 1


def test_a_private_key_is_refused_and_not_stored(client: Any) -> None:
    computer = Computer(client)
    private = {**jwk_of(computer.key.public_key()), "d": "AAAA"}
    _refused(computer.join(_token(), publicKey=private), 400, "device_key_invalid")
    assert not Device.objects.exists()


def test_a_proof_works_once_for_its_own_request_from_its_own_device(client: Any) -> None:
    computer, other = Computer(client), Computer(client)
    token = _token(uses=2)
    computer.join(token)
    other.join(token)
    proof = computer.proof("GET", SELF)
    assert computer.call("GET", proof=proof).status_code == 200
    _refused(computer.call("GET", proof=proof), 401, "device_proof_replayed")
    _refused(computer.call("GET", proof=computer.proof("GET", SELF + "?x=1")), 401, "device_proof_wrong_request")
    _refused(computer.call("GET", proof=computer.proof("DELETE", SELF)), 401, "device_proof_wrong_request")
    _refused(computer.call("GET", proof=computer.proof("GET", SELF, key=other.key)), 401,
             "device_proof_signature_invalid")
    old = int((timezone.now() - timedelta(minutes=5)).timestamp())
    _refused(computer.call("GET", proof=computer.proof("GET", SELF, now=old)), 401, "device_proof_expired")
    _refused(computer.call("GET", proof=computer.proof("GET", SELF, device_id=str(uuid.uuid4()))), 401,
             "device_unknown")
    response = client.get(SELF, HTTP_AUTHORIZATION="Bearer x")
    assert response.status_code == 401 and response["WWW-Authenticate"].startswith("PassgateDevice")
    assert Device.objects.count() == 2


def test_a_disabled_device_is_refused_and_a_deleted_one_unknown(client: Any) -> None:
    computer = Computer(client)
    computer.join(_token())
    device = Device.objects.get()
    device_update(device=device, actor=ADMIN, account_enabled=False)
    assert AuditEvent.objects.filter(activity="device.disable").exists()
    _refused(computer.call("GET"), 403, "device_disabled")
    device_update(device=device, actor=ADMIN, account_enabled=True)
    assert computer.call("DELETE").status_code == 200
    assert not Device.objects.exists() and AuditEvent.objects.filter(activity="device.delete").exists()
    _refused(computer.call("GET"), 401, "device_unknown")


def test_old_proof_ids_are_forgotten(client: Any) -> None:
    computer = Computer(client)
    computer.join(_token())
    computer.call("GET")
    assert device_proofs_purge() == 0
    assert device_proofs_purge(now=timezone.now() + timedelta(minutes=5)) == 1
    assert not DeviceProofUse.objects.exists()


def test_the_device_api_answers_json_to_anything(client: Any) -> None:
    for method, path in (("PUT", JOIN), ("GET", JOIN), ("POST", SELF), ("GET", "/device/v1/nothing")):
        response = client.generic(method, path)
        assert response["Content-Type"].startswith("application/json"), (method, path, response.status_code)


def test_a_form_body_is_refused_not_a_crash(client: Any) -> None:
    """Found by the route walk: a form-encoded join was read by a middleware first, and reading the body failed."""
    response = client.post(JOIN, {"enrollmentToken": "x"})
    assert response.status_code == 400 and response.json()["error"] == "device_join_request_invalid"
