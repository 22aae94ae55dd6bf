"""The token service: app registrations, secrets, signing keys, issuing and validating access tokens."""

from __future__ import annotations

import hashlib
import time
from typing import Any
from urllib.parse import urlencode

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from joserfc import jwt

from passgate.apps.models import AppRegistration, SigningKey
from passgate.apps.services import (
    TokenRequestRejected,
    app_create,
    app_get,
    app_remove,
    signing_key_current,
    token_authenticate,
    token_issue,
)
from passgate.audit.models import AuditEvent
from passgate.audit.services import Actor
from passgate.core.errors import InvalidInput, NotFound, NotSignedIn
from passgate.core.graph.authz import AppCaller
from tests.graph.conftest import ORIGIN
from tests.graph.tokens import bad_tokens, claims_for, signed
from tests.services.support import sql_shape

pytestmark = pytest.mark.django_db
ACTOR = Actor.system("test")
GRAPH_SCOPE = "https://graph.microsoft.com/.default"


def new_app(*permissions: str, name: str = "Provisioning script") -> tuple[AppRegistration, str]:
    return app_create(display_name=name, permissions=permissions or ("User.Read.All",), actor=ACTOR)


def test_app_create_keeps_only_a_hash_of_a_high_entropy_secret() -> None:
    app, secret = new_app("User.Read.All", "Group.ReadWrite.All", "User.Read.All")
    assert len(secret) >= 43  # 32 random bytes, base64url
    assert bytes(app.secret_sha256) == hashlib.sha256(secret.encode()).digest()
    assert app.secret_hint == secret[:3]
    assert app.permissions == ["User.Read.All", "Group.ReadWrite.All"]
    assert app.app_id != app.id
    row = AuditEvent.objects.get(activity="app.add")
    assert row.target_id == str(app.app_id) and row.details["permissions"] == app.permissions
    assert secret not in str(row.details)
    _, other_secret = new_app()
    assert other_secret != secret


@pytest.mark.parametrize(("name", "permissions", "names"), [
    ("Script", ["Directory.ReadWrite.All"], "Unknown permission 'Directory.ReadWrite.All'"),
    ("Script", ["user.read.all"], "Unknown permission 'user.read.all'"),
    ("  ", ["User.Read.All"], "The app's name must be a non-empty string"),
])
def test_app_create_refuses(name: str, permissions: list[str], names: str) -> None:
    with pytest.raises(InvalidInput) as info:
        app_create(display_name=name, permissions=permissions, actor=ACTOR)
    assert names in info.value.message
    assert not AppRegistration.objects.exists()


def test_app_get_and_remove() -> None:
    app, _ = new_app()
    assert app_get(key=str(app.app_id)) == app == app_get(key=str(app.id))
    with pytest.raises(NotFound):
        app_get(key="not-a-guid")
    app_remove(app=app, actor=ACTOR)
    assert AuditEvent.objects.filter(activity="app.remove", target_id=str(app.app_id)).exists()
    with pytest.raises(NotFound):
        app_get(key=str(app.app_id))


def test_issued_token_claims() -> None:
    app, secret = new_app("User.Read.All", "Group.Read.All")
    before = int(time.time())
    issued = token_issue(client_id=str(app.app_id), client_secret=secret, scope=GRAPH_SCOPE)
    assert issued.expires_in == 3600
    kid, key = signing_key_current()
    token = jwt.decode(issued.access_token, key, algorithms=["ES256"])
    assert token.header == {"alg": "ES256", "kid": kid, "typ": "JWT"}
    claims = token.claims
    assert claims["iss"] == claims["aud"] == ORIGIN
    assert claims["appid"] == claims["azp"] == str(app.app_id)
    assert claims["sub"] == claims["oid"] == str(app.id)
    assert claims["roles"] == ["User.Read.All", "Group.Read.All"] and claims["idtyp"] == "app"
    assert before <= claims["iat"] == claims["nbf"] <= int(time.time())
    assert claims["exp"] == claims["iat"] + 3600
    assert len(claims["jti"]) >= 16
    other = token_issue(client_id=str(app.app_id), client_secret=secret, scope=GRAPH_SCOPE)
    assert jwt.decode(other.access_token, key, algorithms=["ES256"]).claims["jti"] != claims["jti"]
    row = AuditEvent.objects.filter(activity="token.issue", result="success").first()
    assert row is not None and row.actor_id == app.id and row.details["roles"] == claims["roles"]


@pytest.mark.parametrize("scope", [
    "https://graph.microsoft.com/.default", "https://graph.microsoft.com//.default",
    "00000003-0000-0000-c000-000000000000/.default", f"{ORIGIN}/.default", " https://graph.microsoft.com/.default ",
])
def test_accepted_scopes(scope: str) -> None:
    app, secret = new_app()
    assert token_issue(client_id=str(app.app_id), client_secret=secret, scope=scope).access_token


@pytest.mark.parametrize(("change", "error", "reason"), [
    ({"client_secret": "wrong"}, "invalid_client", "invalid_client_secret"),
    ({"client_id": "00000000-0000-0000-0000-000000000001"}, "invalid_client", "unknown_client"),
    ({"client_id": "not-a-guid"}, "invalid_client", "unknown_client"),
    ({"scope": "https://graph.microsoft.com/User.Read.All"}, "invalid_scope", "invalid_scope"),
    ({"scope": "https://evil.example/.default"}, "invalid_scope", "invalid_scope"),
    ({"scope": "https://graph.microsoft.com/.default openid"}, "invalid_scope", "invalid_scope"),
    ({"scope": "/.default"}, "invalid_scope", "invalid_scope"),
])
def test_refused_token_requests_are_audited(change: dict[str, str], error: str, reason: str) -> None:
    app, secret = new_app()
    request = {"client_id": str(app.app_id), "client_secret": secret, "scope": GRAPH_SCOPE, **change}
    with pytest.raises(TokenRequestRejected) as info:
        token_issue(**request)
    assert info.value.code == error and info.value.reason == reason
    row = AuditEvent.objects.get(activity="token.issue", result="failure")
    assert row.reason == reason


def test_the_signing_key_is_made_once_and_stored_encrypted() -> None:
    assert not SigningKey.objects.exists()
    kid, key = signing_key_current()
    assert signing_key_current()[0] == kid
    row = SigningKey.objects.get()
    assert row.kid == kid == key.thumbprint()
    assert "ENCRYPTED PRIVATE KEY" in row.private_key_pem
    assert AuditEvent.objects.filter(activity="signingKey.add").count() == 1


def test_token_authenticate_returns_the_app_with_its_current_permissions() -> None:
    app, secret = new_app("User.ReadWrite.All", "Group.Read.All")
    token = token_issue(client_id=str(app.app_id), client_secret=secret, scope=GRAPH_SCOPE).access_token
    caller = token_authenticate(token)
    assert caller == AppCaller(app_id=str(app.app_id), object_id=str(app.id), display_name=app.display_name,
                               permissions=frozenset({"User.ReadWrite.All", "Group.Read.All"}))
    app.permissions = ["Group.Read.All"]  # a permission taken away applies to tokens already issued
    app.save()
    assert token_authenticate(token).permissions == frozenset({"Group.Read.All"})
    app_remove(app=app, actor=ACTOR)
    with pytest.raises(NotSignedIn) as info:
        token_authenticate(token)
    assert info.value.code == "token_app_removed"


@pytest.mark.parametrize(("kind", "code", "message"), [
    ("expired", "token_expired", "Lifetime validation failed, the token is expired."),
    ("forged", "token_signature", "Access token validation failure. Invalid signature."),
    ("wrong-audience", "token_audience", "Access token validation failure. Invalid audience."),
    ("alg-none", "token_algorithm", "not accepted"),
    ("wrong-issuer", "token_issuer", "Invalid issuer."),
    ("not-yet-valid", "token_not_yet_valid", "not yet valid"),
    ("hs256", "token_algorithm", "not accepted"),
    ("unknown-kid", "token_unknown_key", "not signed by this server"),
    ("tampered", "token_signature", "Invalid signature."),
    ("no-expiry", "token_claims", "'exp'"),
    ("garbage", "token_malformed", "not a well-formed JWT"),
])
def test_bad_tokens_are_refused(kind: str, code: str, message: str) -> None:
    app, _ = new_app("User.ReadWrite.All")
    with pytest.raises(NotSignedIn) as info:
        token_authenticate(bad_tokens(app)[kind])
    assert info.value.code == code
    assert message in info.value.message


def test_clock_skew_within_60_seconds_is_tolerated() -> None:
    app, _ = new_app()
    now = int(time.time())
    assert token_authenticate(signed(claims_for(app, exp=now - 30)))
    assert token_authenticate(signed(claims_for(app, nbf=now + 30)))
    with pytest.raises(NotSignedIn):
        token_authenticate(signed(claims_for(app, exp=now - 90)))


def test_empty_and_oversized_tokens() -> None:
    with pytest.raises(NotSignedIn, match=r"Access token is empty\."):
        token_authenticate("")
    with pytest.raises(NotSignedIn, match="too long"):
        token_authenticate("a" * 9000)


def test_a_retired_key_verifies_only_while_its_tokens_can_live() -> None:
    from datetime import timedelta

    from django.utils import timezone

    app, secret = new_app()
    token = token_issue(client_id=str(app.app_id), client_secret=secret, scope=GRAPH_SCOPE).access_token
    old_kid = SigningKey.objects.get().kid
    SigningKey.objects.update(retired_at=timezone.now() - timedelta(minutes=30))
    assert token_authenticate(token)
    new_kid, _ = signing_key_current()  # a retired key signs nothing new: a fresh key is made
    assert new_kid != old_kid
    SigningKey.objects.filter(kid=old_kid).update(retired_at=timezone.now() - timedelta(minutes=62))
    with pytest.raises(NotSignedIn) as info:
        token_authenticate(token)
    assert info.value.code == "token_unknown_key"


def test_the_token_endpoint_answers_the_same_after_the_same_sql_whoever_the_client_id_names(client: Any) -> None:
    """A wrong secret, an app without a secret and an unknown client id: one answer, the same statements, one
    constant-time comparison each (the audit row's reason code tells them apart)."""
    from passgate.apps.services import OidcRegistration

    app, _secret = new_app()
    public, _ = app_create(display_name="Public", permissions=(), actor=ACTOR,
                           oidc=OidcRegistration(redirect_uris=("https://rp.example.org/cb",), public=True))
    answers, shapes = [], []
    for client_id in (str(app.app_id), str(public.app_id), "00000000-0000-0000-0000-000000000001"):
        with CaptureQueriesContext(connection) as captured:
            response = client.post("/oauth2/v2.0/token", content_type="application/x-www-form-urlencoded",
                                   data=urlencode({"grant_type": "client_credentials", "client_id": client_id,
                                                   "client_secret": "x" * 43, "scope": GRAPH_SCOPE}))
        answers.append((response.status_code, response.json()))
        shapes.append(sql_shape(captured))
    assert answers[0] == answers[1] == answers[2]
    assert answers[0][0] == 401 and answers[0][1]["error"] == "invalid_client"
    assert shapes[0] == shapes[1] == shapes[2]
    reasons = list(AuditEvent.objects.filter(activity="token.issue").order_by("occurred_at").values_list("reason",
                                                                                                       flat=True))
    assert reasons == ["invalid_client_secret", "invalid_client_secret", "unknown_client"]
