"""passkey_registration_begin / passkey_registration_complete against the real database."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from passgate.core.errors import CeremonyRejected, InvalidInput
from passgate.credentials import services
from passgate.credentials.models import Challenge, Passkey
from tests.core.softauthn import AAGUID, ES256, b64, eddsa_key, weak_rsa_key
from tests.services.support import REG_SESSION, audit_rows, authenticator_for, challenge_of, failures, register

pytestmark = pytest.mark.django_db


def test_happy_path_stores_every_field_and_audits(make_user: Any) -> None:
    user = make_user(upn="ada@contoso.com")
    auth = authenticator_for(user, backup_eligible=True, sign_count=7)

    options = services.passkey_registration_begin(user=user, session_key=REG_SESSION)
    credential = auth.register(challenge=challenge_of(options), transports=["usb", "internal", "bogus", "usb"])
    passkey = services.passkey_registration_complete(user=user, session_key=REG_SESSION, credential=credential,
                                                     display_name="  Work   laptop ")

    stored = Passkey.objects.get(pk=passkey.pk)
    assert stored.user_id == user.pk
    assert bytes(stored.credential_id) == auth.credential_id
    assert bytes(stored.public_key) == auth.key.cose()
    assert stored.algorithm == ES256
    assert stored.sign_count == 7
    assert stored.aaguid == uuid.UUID(bytes=AAGUID)
    assert stored.attestation_format == "none"
    assert stored.transports == ["usb", "internal"]  # unknown dropped, duplicates removed, order kept
    assert stored.backup_eligible is True
    assert stored.backup_state is True
    assert stored.uv_initialized is True
    assert stored.display_name == "Work laptop"
    assert stored.is_synced is True
    assert bytes(stored.attestation_object)  # kept for later re-verification
    assert b"webauthn.create" in bytes(stored.client_data_json)
    assert stored.created_at is not None
    assert stored.last_used_at is None
    assert stored.possibly_cloned_at is None

    (row,) = audit_rows(activity="passkey.register")
    assert row.result == "success"
    assert row.category == "securityInfo"
    assert row.actor_id == user.pk
    assert row.actor_name == "ada@contoso.com"
    assert row.target_type == "passkey"
    assert row.target_id == str(passkey.pk)
    assert row.target_name == "Work laptop"
    assert row.details == {"aaGuid": str(uuid.UUID(bytes=AAGUID)), "synced": True, "attestationFormat": "none",
                           "owner": "ada@contoso.com", "attestationLevel": "notAttested",
                           "attestation": "no_attestation", "provisionedByAdmin": False}
    # The challenge was used up.
    assert Challenge.objects.get(challenge=challenge_of(options)).consumed_at is not None


def test_device_bound_eddsa_credential(make_user: Any) -> None:
    user = make_user()
    auth = authenticator_for(user, key=eddsa_key(), backup_eligible=False)
    passkey = register(user, auth, transports=[])
    stored = Passkey.objects.get(pk=passkey.pk)
    assert stored.algorithm == -8
    assert stored.backup_eligible is False
    assert stored.backup_state is False
    assert stored.is_synced is False
    assert stored.transports == []


def test_same_credential_twice_for_the_same_user_is_refused(make_user: Any) -> None:
    user = make_user()
    auth = authenticator_for(user)
    register(user, auth)
    with pytest.raises(CeremonyRejected) as info:
        register(user, auth)
    assert info.value.code == "credential_already_registered"
    assert Passkey.objects.count() == 1
    assert len(failures("passkey.register", "credential_already_registered")) == 1


def test_same_credential_for_another_user_is_refused(make_user: Any) -> None:
    alice, bob = make_user(), make_user()
    auth = authenticator_for(alice)
    register(alice, auth)
    with pytest.raises(CeremonyRejected) as info:
        register(bob, auth)
    assert info.value.code == "credential_already_registered"
    assert list(Passkey.objects.values_list("user_id", flat=True)) == [alice.pk]
    (row,) = failures("passkey.register", "credential_already_registered")
    assert row.actor_id == bob.pk


@pytest.mark.parametrize("name", ["", "   ", None, 42, "x" * 65, "bad\x00name", "tab\x07bell"])
def test_display_name_is_validated_before_the_challenge_is_used(make_user: Any, name: Any) -> None:
    user = make_user()
    auth = authenticator_for(user)
    options = services.passkey_registration_begin(user=user, session_key=REG_SESSION)
    credential = auth.register(challenge=challenge_of(options))
    with pytest.raises(InvalidInput) as info:
        services.passkey_registration_complete(user=user, session_key=REG_SESSION, credential=credential,
                                               display_name=name)
    assert info.value.code == "invalid_passkey_name"
    assert Passkey.objects.count() == 0
    assert len(failures("passkey.register", "invalid_passkey_name")) == 1
    # The refused name did not burn the challenge: the same response with a good name still works.
    services.passkey_registration_complete(user=user, session_key=REG_SESSION, credential=credential,
                                           display_name="x" * 64)
    assert Passkey.objects.get().display_name == "x" * 64


def test_exclude_credentials_lists_exactly_the_users_passkeys(make_user: Any) -> None:
    user, other = make_user(), make_user()
    mine = [authenticator_for(user), authenticator_for(user)]
    for i, auth in enumerate(mine):
        register(user, auth, name=f"key {i}", transports=["internal"])
    register(other, authenticator_for(other))

    options = services.passkey_registration_begin(user=user, session_key=REG_SESSION)
    excluded = options["excludeCredentials"]
    assert sorted(d["id"] for d in excluded) == sorted(b64(a.credential_id) for a in mine)
    assert all(d == {"type": "public-key", "id": d["id"], "transports": ["internal"]} for d in excluded)

    fresh = make_user()
    assert services.passkey_registration_begin(user=fresh, session_key=REG_SESSION)["excludeCredentials"] == []


def test_user_handle_in_options_is_the_random_handle_never_the_upn(make_user: Any) -> None:
    user = make_user(upn="grace.hopper@contoso.com", display_name="Grace Hopper")
    options = services.passkey_registration_begin(user=user, session_key=REG_SESSION)
    handle = bytes(user.webauthn_user_handle)
    assert options["user"]["id"] == b64(handle)
    assert len(handle) == 32
    assert b"grace" not in handle.lower() and b"contoso" not in handle.lower()
    assert options["user"]["id"] != b64(b"grace.hopper@contoso.com")
    assert options["user"]["name"] == "grace.hopper@contoso.com"
    assert options["user"]["displayName"] == "Grace Hopper"
    assert options["rp"] == {"id": "login.example.com", "name": "Passgate"}
    assert options["authenticatorSelection"]["residentKey"] == "required"
    # Handles differ between users, and begin() issues a fresh 32-byte challenge bound to the user.
    assert bytes(make_user().webauthn_user_handle) != handle
    row = Challenge.objects.get(challenge=challenge_of(options))
    assert row.ceremony == "registration" and row.user_id == user.pk and len(bytes(row.challenge)) == 32


def test_failed_registration_is_audited_with_its_reason(make_user: Any) -> None:
    user = make_user()
    auth = authenticator_for(user)
    options = services.passkey_registration_begin(user=user, session_key=REG_SESSION)
    credential = auth.register(challenge=challenge_of(options))
    credential["type"] = "not-public-key"
    with pytest.raises(CeremonyRejected) as info:
        services.passkey_registration_complete(user=user, session_key=REG_SESSION, credential=credential,
                                               display_name="k")
    assert info.value.code == "wrong_credential_type"
    (row,) = failures("passkey.register", "wrong_credential_type")
    assert row.actor_id == user.pk and row.target_type == "user" and row.target_id == str(user.pk)
    assert Passkey.objects.count() == 0


@pytest.mark.parametrize("fmt", ["none", "packed"])
def test_a_512_bit_rsa_key_is_refused_audited_and_not_stored(make_user: Any, fmt: str) -> None:
    """Issue 9 finding 7: such a key used to register (its packed self attestation verifies)."""
    user = make_user()
    auth = authenticator_for(user, key=weak_rsa_key(512))
    with pytest.raises(CeremonyRejected) as info:
        register(user, auth, fmt=fmt)
    assert info.value.code == "credential_key_too_weak"
    (row,) = failures("passkey.register", "credential_key_too_weak")
    assert row.actor_id == user.pk and row.target_type == "user" and row.target_id == str(user.pk)
    assert not Passkey.objects.exists()
    assert Challenge.objects.get(user=user).consumed_at is not None  # the challenge cannot be tried again
