"""Revoking a person's sign-in sessions (or disabling them) ends what apps hold for them too: refresh tokens are
refused with RFC 6749's invalid_grant, access tokens at UserInfo, a code not yet redeemed; the grant is revoked and
audited. A sign-in after the revocation gets tokens as usual."""

from __future__ import annotations

from typing import Any

import pytest

from passgate.apps.models import OidcGrant, OidcToken
from passgate.audit.services import Actor
from passgate.directory.services import user_revoke_sign_in_sessions, user_set_enabled
from tests.oidc.conftest import RelyingParty, audit, passkey_sign_in
from tests.oidc.test_token import live_tokens, oauth_error

pytestmark = pytest.mark.django_db
SYSTEM = Actor.system("test")


def test_revoking_refuses_the_refresh_token_with_invalid_grant(rp: RelyingParty, person: Any) -> None:
    tokens = rp.tokens(scope="openid offline_access")
    user_revoke_sign_in_sessions(user=person[0], actor=SYSTEM)

    body = oauth_error(rp.token(grant_type="refresh_token", refresh_token=tokens["refresh_token"]), "invalid_grant")
    assert "sessions were revoked" in body["error_description"]
    grant = OidcGrant.objects.get()
    assert grant.revoked_at is not None and grant.revoked_reason == "sign_in_sessions_revoked"
    assert live_tokens() == 0
    assert audit("oidc.token", reason="sign_in_sessions_revoked", result="failure")
    assert audit("oidc.grantRevoke", result="success")[0].details["reason"] == "sign_in_sessions_revoked"
    # and again: the grant is revoked now
    oauth_error(rp.token(grant_type="refresh_token", refresh_token=tokens["refresh_token"]), "invalid_grant")


def test_revoking_refuses_the_access_token_at_userinfo(rp: RelyingParty, person: Any) -> None:
    tokens = rp.tokens()
    assert rp.userinfo(tokens["access_token"]).status_code == 200
    user_revoke_sign_in_sessions(user=person[0], actor=SYSTEM)
    response = rp.userinfo(tokens["access_token"])
    assert response.status_code == 401 and 'error="invalid_token"' in response["WWW-Authenticate"]
    assert audit("oidc.userinfo", reason="sign_in_sessions_revoked")


def test_a_code_issued_before_the_revocation_is_refused(rp: RelyingParty, person: Any) -> None:
    code = rp.code(scope="openid offline_access")
    user_revoke_sign_in_sessions(user=person[0], actor=SYSTEM)
    oauth_error(rp.redeem(code), "invalid_grant")
    assert OidcToken.objects.count() == 0


def test_disabling_and_enabling_again_does_not_bring_refresh_tokens_back(rp: RelyingParty, person: Any) -> None:
    tokens = rp.tokens(scope="openid offline_access")
    user_set_enabled(user=person[0], enabled=False, actor=SYSTEM)
    user_set_enabled(user=person[0], enabled=True, actor=SYSTEM)
    oauth_error(rp.token(grant_type="refresh_token", refresh_token=tokens["refresh_token"]), "invalid_grant")
    assert audit("oidc.token", reason="sign_in_sessions_revoked")


def test_after_signing_in_again_the_app_gets_tokens_that_work(rp: RelyingParty, person: Any) -> None:
    old = rp.tokens(scope="openid offline_access")
    user_revoke_sign_in_sessions(user=person[0], actor=SYSTEM)
    response = rp.authorize(scope="openid offline_access")
    assert response.status_code == 302 and response["Location"].startswith("/signin")  # the browser's session ended
    passkey_sign_in(rp.browser, person[1])
    fresh = rp.tokens(scope="openid offline_access")
    refreshed = rp.token(grant_type="refresh_token", refresh_token=fresh["refresh_token"])
    assert refreshed.status_code == 200, refreshed.content
    assert rp.userinfo(refreshed.json()["access_token"]).status_code == 200
    oauth_error(rp.token(grant_type="refresh_token", refresh_token=old["refresh_token"]), "invalid_grant")
