"""UserInfo (OIDC §5.3, RFC 6750): GET and POST, Bearer header or form body, errors with WWW-Authenticate."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

import pytest
from django.test import Client
from django.utils import timezone

from passgate.apps.models import OidcToken
from tests.oidc.conftest import RelyingParty, audit, verify_id_token

pytestmark = pytest.mark.django_db
FORM = "application/x-www-form-urlencoded"


def bearer_error(response: Any, status: int, error: str | None) -> None:
    assert response.status_code == status, response.content
    challenge = response["WWW-Authenticate"]
    assert challenge.startswith('Bearer realm="passgate"')
    if error is None:
        assert "error=" not in challenge  # RFC 6750 §3.1: no error code when no token was sent
    else:
        assert f'error="{error}"' in challenge and response.json()["error"] == error
    assert response["Cache-Control"] == "no-store"


def test_oidcc_userinfo_get(rp: RelyingParty, person: Any) -> None:
    tokens = rp.tokens()
    response = rp.userinfo(tokens["access_token"])
    assert response.status_code == 200 and response["Cache-Control"] == "no-store"
    claims = verify_id_token(tokens["id_token"], audience=rp.client_id)
    assert response.json() == {"sub": claims["sub"], "name": "Pat Example", "preferred_username": "pat@contoso.com",
                               "updated_at": claims["updated_at"], "email": "pat@contoso.com",
                               "email_verified": False}


def test_oidcc_userinfo_post_header(rp: RelyingParty) -> None:
    token = rp.tokens(scope="openid")["access_token"]
    response = Client().post("/oidc/userinfo", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 200 and set(response.json()) == {"sub"}


def test_oidcc_userinfo_post_body(rp: RelyingParty) -> None:
    token = rp.tokens(scope="openid email")["access_token"]
    response = Client().post("/oidc/userinfo", data=urlencode({"access_token": token}), content_type=FORM)
    assert response.status_code == 200 and response.json()["email"] == "pat@contoso.com"


def test_no_token(db: Any) -> None:
    bearer_error(Client().get("/oidc/userinfo"), 401, None)
    assert audit("oidc.userinfo", reason="token_missing")


@pytest.mark.parametrize("token", ["pgat_nope", "x" * 9000, "eyJhbGciOiJFUzI1NiJ9.e30.sig"])
def test_invalid_tokens(db: Any, token: str) -> None:
    bearer_error(Client().get("/oidc/userinfo", HTTP_AUTHORIZATION=f"Bearer {token}"), 401, "invalid_token")


def test_expired_and_revoked_tokens(rp: RelyingParty) -> None:
    token = rp.tokens()["access_token"]
    OidcToken.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    bearer_error(rp.userinfo(token), 401, "invalid_token")
    assert audit("oidc.userinfo", reason="token_expired")
    other = rp.tokens()["access_token"]
    OidcToken.objects.filter(expires_at__gt=timezone.now()).update(revoked_at=timezone.now())
    bearer_error(rp.userinfo(other), 401, "invalid_token")
    assert audit("oidc.userinfo", reason="token_revoked")


def test_disabled_user(rp: RelyingParty, person: Any) -> None:
    token = rp.tokens()["access_token"]
    person[0].account_enabled = False
    person[0].save()
    bearer_error(rp.userinfo(token), 401, "invalid_token")


def test_a_graph_token_is_not_a_userinfo_token(rp: RelyingParty) -> None:
    from passgate.apps.services import app_create, token_issue
    from passgate.audit.services import Actor

    app, secret = app_create(display_name="Script", permissions=["User.Read.All"], actor=Actor.system("t"))
    graph = token_issue(client_id=str(app.app_id), client_secret=secret or "",
                        scope="https://graph.microsoft.com/.default").access_token
    bearer_error(rp.userinfo(graph), 401, "invalid_token")
    # and the other way round: an OpenID Connect access token is no Graph token
    access = rp.tokens()["access_token"]
    assert Client().get("/v1.0/users", HTTP_AUTHORIZATION=f"Bearer {access}").status_code == 401


def test_bad_requests(rp: RelyingParty) -> None:
    token = rp.tokens()["access_token"]
    both = Client().post("/oidc/userinfo", data=urlencode({"access_token": token}), content_type=FORM,
                         HTTP_AUTHORIZATION=f"Bearer {token}")
    bearer_error(both, 400, "invalid_request")
    assert audit("oidc.userinfo", reason="multiple_tokens")
    in_url = Client().get(f"/oidc/userinfo?access_token={token}")
    bearer_error(in_url, 400, "invalid_request")
    assert audit("oidc.userinfo", reason="token_in_query")
    basic = Client().get("/oidc/userinfo", HTTP_AUTHORIZATION="Basic dXNlcjpwYXNz")
    bearer_error(basic, 401, "invalid_token")
    twice = Client().post("/oidc/userinfo", data=f"access_token={token}&access_token={token}", content_type=FORM)
    bearer_error(twice, 400, "invalid_request")
    put = Client().put("/oidc/userinfo", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert put.status_code == 405 and put["Allow"] == "GET, POST"
    assert rp.userinfo(token).status_code == 200  # none of that spent or revoked the token
