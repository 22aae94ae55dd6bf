"""Challenge lifecycle: every refusal reason, consumption on failure, and purging."""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from passgate.core.errors import CeremonyRejected
from passgate.credentials import services
from passgate.credentials.models import Ceremony, Challenge, Passkey
from tests.services.support import (
    REG_SESSION,
    SIGNIN_SESSION,
    assertion,
    authenticator_for,
    challenge_in,
    challenge_of,
    failures,
    register,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def enrolled(make_user: Any) -> tuple[Any, Any]:
    user = make_user()
    auth = authenticator_for(user, sign_count=1)
    register(user, auth)
    return user, auth


def complete(credential: dict[str, Any], session_key: str = SIGNIN_SESSION) -> Any:
    return services.passkey_signin_complete(session_key=session_key, credential=credential)


def reason_of(credential: dict[str, Any], session_key: str = SIGNIN_SESSION) -> str:
    with pytest.raises(CeremonyRejected) as info:
        complete(credential, session_key)
    return info.value.code


def row_for(credential_challenge: bytes) -> Challenge:
    return Challenge.objects.get(challenge=credential_challenge)


def test_unknown_challenge(enrolled: Any) -> None:
    _user, auth = enrolled
    auth.sign_count += 1
    assert reason_of(auth.assert_(challenge=secrets.token_bytes(32))) == "challenge_unknown"
    assert len(failures("passkey.signIn", "challenge_unknown")) == 1


def test_registration_challenge_used_for_sign_in_is_refused(enrolled: Any) -> None:
    user, auth = enrolled
    options = services.passkey_registration_begin(user=user, session_key=SIGNIN_SESSION)
    auth.sign_count += 1
    assert reason_of(auth.assert_(challenge=challenge_of(options))) == "challenge_unknown"
    assert row_for(challenge_of(options)).consumed_at is None  # still usable for its own ceremony


def test_sign_in_challenge_used_for_registration_is_refused(make_user: Any) -> None:
    user = make_user()
    options = services.passkey_signin_begin(session_key=REG_SESSION)
    credential = authenticator_for(user).register(challenge=challenge_of(options))
    with pytest.raises(CeremonyRejected) as info:
        services.passkey_registration_complete(user=user, session_key=REG_SESSION, credential=credential,
                                               display_name="k")
    assert info.value.code == "challenge_unknown"
    assert Passkey.objects.count() == 0


def test_registration_challenge_of_another_user_is_refused(make_user: Any) -> None:
    alice, bob = make_user(), make_user()
    options = services.passkey_registration_begin(user=alice, session_key=REG_SESSION)
    credential = authenticator_for(bob).register(challenge=challenge_of(options))
    with pytest.raises(CeremonyRejected) as info:
        services.passkey_registration_complete(user=bob, session_key=REG_SESSION, credential=credential,
                                               display_name="k")
    assert info.value.code == "challenge_unknown"


def test_wrong_session_is_refused_and_does_not_burn_the_challenge(enrolled: Any) -> None:
    _user, auth = enrolled
    credential = assertion(auth, session_key="the-real-session")
    assert reason_of(credential, session_key="an-attackers-session") == "challenge_wrong_session"
    assert row_for(challenge_in(credential)).consumed_at is None
    assert complete(credential, "the-real-session").method == "passkey"


def test_expired_challenge(enrolled: Any) -> None:
    _user, auth = enrolled
    credential = assertion(auth)
    Challenge.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert reason_of(credential) == "challenge_expired"
    assert len(failures("passkey.signIn", "challenge_expired")) == 1


def test_challenge_expires_after_five_minutes(enrolled: Any) -> None:
    _user, auth = enrolled
    assertion(auth)
    row = Challenge.objects.get(ceremony=Ceremony.AUTHENTICATION)
    assert row.expires_at - row.created_at == timedelta(minutes=5)


def test_replayed_response_is_refused(enrolled: Any) -> None:
    _user, auth = enrolled
    credential = assertion(auth)
    complete(credential)
    assert reason_of(credential) == "challenge_consumed"
    assert len(failures("passkey.signIn", "challenge_consumed")) == 1


def test_failed_verification_still_consumes_the_challenge(enrolled: Any) -> None:
    _user, auth = enrolled
    options = services.passkey_signin_begin(session_key=SIGNIN_SESSION)
    auth.sign_count += 1
    good = auth.assert_(challenge=challenge_of(options))
    bad = auth.assert_(challenge=challenge_of(options), signature=b"\x30\x06\x02\x01\x01\x02\x01\x01")
    assert reason_of(bad) == "signature_invalid"
    assert row_for(challenge_of(options)).consumed_at is not None
    assert reason_of(good) == "challenge_consumed"


def test_failed_registration_verification_consumes_the_challenge(make_user: Any) -> None:
    user = make_user()
    auth = authenticator_for(user)
    options = services.passkey_registration_begin(user=user, session_key=REG_SESSION)
    good = auth.register(challenge=challenge_of(options))
    bad = dict(good, response=dict(good["response"], attestationObject=good["response"]["attestationObject"][:20]))
    for credential, reason in ((bad, "malformed_attestation_object"), (good, "challenge_consumed")):
        with pytest.raises(CeremonyRejected) as info:
            services.passkey_registration_complete(user=user, session_key=REG_SESSION, credential=credential,
                                                   display_name="k")
        assert info.value.code == reason
    assert Passkey.objects.count() == 0


def test_challenges_purge_removes_only_long_expired_rows(db: Any) -> None:
    now = timezone.now()
    for i in range(3):
        services.passkey_signin_begin(session_key=f"s{i}")
    rows = list(Challenge.objects.order_by("pk"))
    Challenge.objects.filter(pk=rows[0].pk).update(expires_at=now - timedelta(hours=2))  # purged
    Challenge.objects.filter(pk=rows[1].pk).update(expires_at=now - timedelta(minutes=30))  # expired, kept
    assert services.challenges_purge() == 1
    assert sorted(Challenge.objects.values_list("pk", flat=True)) == [rows[1].pk, rows[2].pk]
    assert services.challenges_purge(older_than=timedelta(0)) == 1
    assert list(Challenge.objects.values_list("pk", flat=True)) == [rows[2].pk]
    assert services.challenges_purge() == 0


@pytest.mark.django_db
def test_on_postgresql_challenges_are_not_written_to_the_wal() -> None:
    """UNLOGGED (migration credentials 0011): issuing a challenge commits without a WAL flush; a crash empties the
    table and in-flight ceremonies start again."""
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only: SQLite has no WAL-less tables")
    with connection.cursor() as cursor:
        cursor.execute("SELECT relpersistence FROM pg_class WHERE relname = 'credentials_challenge'")
        assert cursor.fetchone() == ("u",)
