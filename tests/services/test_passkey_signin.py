"""passkey_signin_begin / passkey_signin_complete / passkey_reauth_begin against the real database."""

from __future__ import annotations

import secrets
from typing import Any

import pytest

from passgate.audit.services import Actor
from passgate.core.errors import AccessDenied, CeremonyRejected
from passgate.credentials import services
from passgate.credentials.models import Passkey
from passgate.directory.services import user_set_enabled, user_set_upn
from tests.core.softauthn import RS256, b64, second_es256_key, weak_rsa_key
from tests.services.support import (
    SIGNIN_SESSION,
    assertion,
    audit_rows,
    authenticator_for,
    challenge_of,
    failures,
    register,
    sign_in,
)

pytestmark = pytest.mark.django_db
ADMIN = Actor.system("test")


@pytest.fixture
def enrolled(make_user: Any) -> tuple[Any, Any, Any]:
    user = make_user(upn="lin@contoso.com")
    auth = authenticator_for(user, sign_count=10)
    passkey = register(user, auth)
    return user, auth, passkey


def test_options_are_the_same_for_everyone(db: Any) -> None:
    options = services.passkey_signin_begin(session_key=SIGNIN_SESSION)
    assert set(options) == {"challenge", "rpId", "timeout", "userVerification"}  # no allowCredentials
    assert options["rpId"] == "login.example.com"
    assert len(challenge_of(options)) == 32


def test_happy_path_updates_counter_last_used_and_audits(enrolled: Any) -> None:
    user, auth, passkey = enrolled
    assert Passkey.objects.get(pk=passkey.pk).last_used_at is None
    result = sign_in(auth)  # counter 10 -> 11
    assert result.user.pk == user.pk
    assert result.method == "passkey"
    assert result.passkey.pk == passkey.pk
    stored = Passkey.objects.get(pk=passkey.pk)
    assert stored.sign_count == 11
    assert stored.last_used_at is not None
    (row,) = audit_rows(activity="passkey.signIn")
    assert row.result == "success" and row.category == "signIn"
    assert row.actor_id == user.pk and row.target_id == str(passkey.pk)
    assert row.details["signCount"] == 11 and row.details["userVerified"] is True

    sign_in(auth)
    assert Passkey.objects.get(pk=passkey.pk).sign_count == 12
    assert len(audit_rows(activity="passkey.signIn", result="success")) == 2


def test_authenticator_without_a_counter_keeps_zero(make_user: Any) -> None:
    user = make_user()
    auth = authenticator_for(user, sign_count=0)
    passkey = register(user, auth)
    for _ in range(2):
        sign_in(auth, bump=False)
    assert Passkey.objects.get(pk=passkey.pk).sign_count == 0
    assert Passkey.objects.get(pk=passkey.pk).possibly_cloned_at is None


def test_unknown_credential(enrolled: Any, make_user: Any) -> None:
    stranger = authenticator_for(make_user(), credential_id=secrets.token_bytes(32))
    with pytest.raises(CeremonyRejected) as info:
        sign_in(stranger)
    assert info.value.code == "unknown_credential"
    (row,) = failures("passkey.signIn", "unknown_credential")
    assert row.actor_id is None and row.target_id == ""


def test_disabled_user_is_refused_and_nothing_is_updated(enrolled: Any) -> None:
    user, auth, passkey = enrolled
    user_set_enabled(user=user, enabled=False, actor=ADMIN)
    with pytest.raises(AccessDenied) as info:
        sign_in(auth)
    assert info.value.code == "user_disabled"
    stored = Passkey.objects.get(pk=passkey.pk)
    assert stored.sign_count == 10 and stored.last_used_at is None
    (row,) = failures("passkey.signIn", "user_disabled")
    assert row.actor_id == user.pk
    assert audit_rows(activity="passkey.signIn", result="success") == []


def test_sign_count_regression_flags_a_possible_clone_and_suspends_the_passkey(enrolled: Any) -> None:
    user, auth, passkey = enrolled
    sign_in(auth)  # 11
    auth.sign_count = 4  # a copy of the key with an older counter
    with pytest.raises(CeremonyRejected) as info:
        sign_in(auth, bump=False)
    assert info.value.code == "sign_count_regression"

    stored = Passkey.objects.get(pk=passkey.pk)
    assert stored.possibly_cloned_at is not None
    assert stored.sign_count == 11
    (clone,) = audit_rows(activity="passkey.possibleClone")
    assert clone.result == "failure" and clone.reason == "sign_count_regression"
    assert clone.category == "securityInfo"
    assert clone.actor_id == user.pk and clone.target_id == str(passkey.pk)
    assert clone.details == {"storedSignCount": 11}
    assert len(failures("passkey.signIn", "sign_count_regression")) == 1

    # Even a perfectly valid assertion with a higher counter is refused from now on.
    auth.sign_count = 50
    with pytest.raises(AccessDenied) as later:
        sign_in(auth, bump=False)
    assert later.value.code == "credential_suspended"
    assert Passkey.objects.get(pk=passkey.pk).sign_count == 11
    assert len(failures("passkey.signIn", "credential_suspended")) == 1
    assert len(audit_rows(activity="passkey.signIn", result="success")) == 1


def test_equal_counter_is_a_regression_too(enrolled: Any) -> None:
    _user, auth, passkey = enrolled
    with pytest.raises(CeremonyRejected) as info:
        sign_in(auth, bump=False)  # 10 again
    assert info.value.code == "sign_count_regression"
    assert Passkey.objects.get(pk=passkey.pk).possibly_cloned_at is not None


def test_upn_change_then_sign_in_still_works(enrolled: Any) -> None:
    user, auth, _passkey = enrolled
    user_set_upn(user=user, upn="lin.renamed@fabrikam.com", actor=ADMIN)
    result = sign_in(auth)
    assert result.user.pk == user.pk
    assert result.user.user_principal_name == "lin.renamed@fabrikam.com"
    (row,) = audit_rows(activity="passkey.signIn", result="success")
    assert row.actor_name == "lin.renamed@fabrikam.com"


def test_user_handle_of_another_user_is_refused(enrolled: Any, make_user: Any) -> None:
    _user, auth, _passkey = enrolled
    other = make_user()
    with pytest.raises(CeremonyRejected) as info:
        sign_in(auth, user_handle=bytes(other.webauthn_user_handle))
    assert info.value.code == "user_handle_mismatch"


def test_signature_from_another_key_is_refused(enrolled: Any) -> None:
    _user, auth, passkey = enrolled
    with pytest.raises(CeremonyRejected) as info:
        sign_in(auth, sign_with=second_es256_key())
    assert info.value.code == "signature_invalid"
    assert Passkey.objects.get(pk=passkey.pk).sign_count == 10


# --- re-authentication ------------------------------------------------------------------------------

def reauth(user: Any, auth: Any, *, session_key: str = "reauth-session", as_user: Any = None) -> Any:
    options = services.passkey_reauth_begin(user=user, session_key=session_key)
    auth.sign_count += 1
    credential = auth.assert_(challenge=challenge_of(options))
    return services.passkey_signin_complete(session_key=session_key, credential=credential,
                                            reauth_user=as_user or user)


def test_reauth_accepts_the_users_own_passkey(enrolled: Any) -> None:
    user, auth, passkey = enrolled
    options = services.passkey_reauth_begin(user=user, session_key="s")
    assert options["allowCredentials"] == [{"type": "public-key", "id": b64(auth.credential_id),
                                            "transports": ["internal", "hybrid"]}]
    result = reauth(user, auth)
    assert result.user.pk == user.pk
    (row,) = audit_rows(activity="passkey.reauthenticate", result="success")
    assert row.target_id == str(passkey.pk)
    assert audit_rows(activity="passkey.signIn") == []


def test_reauth_refuses_another_users_passkey(enrolled: Any, make_user: Any) -> None:
    user, _auth, _passkey = enrolled
    mallory = make_user()
    mallory_auth = authenticator_for(mallory, sign_count=1)
    register(mallory, mallory_auth)
    with pytest.raises(CeremonyRejected) as info:
        reauth(user, mallory_auth)
    assert info.value.code == "unknown_credential"
    assert len(failures("passkey.reauthenticate", "unknown_credential")) == 1


def test_reauth_challenge_of_another_user_is_unknown(enrolled: Any, make_user: Any) -> None:
    user, auth, _passkey = enrolled
    other = make_user()
    options = services.passkey_reauth_begin(user=other, session_key="s")
    auth.sign_count += 1
    credential = auth.assert_(challenge=challenge_of(options))
    with pytest.raises(CeremonyRejected) as info:
        services.passkey_signin_complete(session_key="s", credential=credential, reauth_user=user)
    assert info.value.code == "challenge_unknown"


def test_sign_in_challenge_cannot_be_used_for_reauth(enrolled: Any) -> None:
    user, auth, _passkey = enrolled
    credential = assertion(auth, session_key="s")
    with pytest.raises(CeremonyRejected) as info:
        services.passkey_signin_complete(session_key="s", credential=credential, reauth_user=user)
    assert info.value.code == "challenge_unknown"


def test_a_stored_key_that_is_too_weak_is_refused_at_sign_in(enrolled: Any) -> None:
    """A 512-bit key an older version registered: a valid signature from it proves nothing (it can be factored)."""
    user, auth, passkey = enrolled
    weak = weak_rsa_key(512)
    Passkey.objects.filter(pk=passkey.pk).update(public_key=weak.cose(), algorithm=RS256)
    auth.key = weak
    with pytest.raises(CeremonyRejected) as info:
        sign_in(auth)
    assert info.value.code == "credential_key_too_weak"
    (row,) = failures("passkey.signIn", "credential_key_too_weak")
    assert row.actor_id == user.pk and row.target_id == str(passkey.pk)
    stored = Passkey.objects.get(pk=passkey.pk)
    assert (stored.sign_count, stored.last_used_at) == (10, None)
