"""Admin provisioning: creation options for a user, then a credential made elsewhere, registered by the admin."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from passgate.audit.services import Actor
from passgate.core.errors import CeremonyRejected, InvalidInput
from passgate.credentials import services
from passgate.credentials.models import Challenge, Passkey
from tests.services.support import assertion, audit_rows, authenticator_for, challenge_of

pytestmark = pytest.mark.django_db

ADMIN = Actor(id=None, name="app:provisioning-tool")


@pytest.mark.parametrize("minutes", [4, 43_201, 0, -5, "10", True, 10.5])
def test_challenge_timeout_bounds(make_user: Any, minutes: Any) -> None:
    with pytest.raises(InvalidInput) as err:
        services.passkey_provision_begin(user=make_user(), actor=ADMIN, timeout_minutes=minutes)
    assert err.value.code == "invalid_challenge_timeout"


def test_provisioned_passkey_is_registered_by_the_admin_and_signs_in(make_user: Any) -> None:
    user = make_user(upn="lin@contoso.com")
    options, expires = services.passkey_provision_begin(user=user, actor=ADMIN, timeout_minutes=60)
    assert timedelta(minutes=59) < expires - timezone.now() <= timedelta(minutes=60)
    assert options["user"]["name"] == "lin@contoso.com"
    auth = authenticator_for(user, backup_eligible=False)
    passkey = services.passkey_provision_complete(user=user, actor=ADMIN, display_name="Red key",
                                                  credential=auth.register(challenge=challenge_of(options)))
    assert passkey.user == user and passkey.display_name == "Red key"
    row = audit_rows(activity="passkey.register", result="success")[-1]
    assert row.actor_name == ADMIN.name and row.details["provisionedByAdmin"] is True
    assert row.details["owner"] == "lin@contoso.com"
    auth.sign_count += 1
    signed_in = services.passkey_signin_complete(session_key="anywhere", credential=assertion(
        auth, session_key="anywhere", bump=False))
    assert signed_in.user == user


def test_another_caller_cannot_complete_it(make_user: Any) -> None:
    user = make_user()
    options, _ = services.passkey_provision_begin(user=user, actor=ADMIN, timeout_minutes=5)
    credential = authenticator_for(user).register(challenge=challenge_of(options))
    with pytest.raises(CeremonyRejected) as err:
        services.passkey_provision_complete(user=user, actor=Actor(id=None, name="app:other"), credential=credential,
                                            display_name="Key")
    assert err.value.code == "challenge_wrong_session"
    assert not Passkey.objects.filter(user=user).exists()


def test_a_self_service_challenge_cannot_be_used_to_provision(make_user: Any) -> None:
    user = make_user()
    options = services.passkey_registration_begin(user=user, session_key=f"provisioning:{ADMIN.name}")
    credential = authenticator_for(user).register(challenge=challenge_of(options))
    with pytest.raises(CeremonyRejected) as err:
        services.passkey_provision_complete(user=user, actor=ADMIN, credential=credential, display_name="Key")
    assert err.value.code == "challenge_unknown"


def test_expired_provisioning_challenge(make_user: Any) -> None:
    user = make_user()
    options, _ = services.passkey_provision_begin(user=user, actor=ADMIN, timeout_minutes=5)
    Challenge.objects.filter(challenge=challenge_of(options)).update(expires_at=timezone.now() - timedelta(seconds=1))
    with pytest.raises(CeremonyRejected) as err:
        services.passkey_provision_complete(user=user, actor=ADMIN, display_name="Key",
                                            credential=authenticator_for(user).register(challenge=challenge_of(options)))
    assert err.value.code == "challenge_expired"
