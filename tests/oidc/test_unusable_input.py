"""OpenID Connect and OAuth parameters holding NUL (or a lone surrogate): RFC 6749's ``invalid_request``, sent back
to the client once the client and redirect URI are trusted (an error page before), audited with reason code
``invalid_text``, nothing issued. The nonce used to be stored with the code: a 500 on PostgreSQL."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import pytest
from django.test import Client

from passgate.apps.models import AuthorizationCode, OidcGrant
from passgate.audit.models import AuditEvent
from tests.oidc.conftest import POST_LOGOUT_URI, REDIRECT_URI, RelyingParty, query_of

pytestmark = pytest.mark.django_db


def refusals(activity: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(activity=activity, result="failure", reason="invalid_text"))


@pytest.mark.parametrize("params", [{"nonce": "n\x00"}, {"state": "s\x00"}, {"login_hint": "\x00"},
                                    {"scope": "openid\x00"}, {"extra\x00": "1"}])
def test_authorize_sends_invalid_request_back_to_the_client(rp: RelyingParty, params: dict[str, str]) -> None:
    query = urlencode(rp.authorize_params(**params))
    response = rp.browser.get("/oidc/authorize?" + query)
    assert response.status_code == 302, response.content[:300]
    assert response["Location"].startswith(REDIRECT_URI + "?")
    answer = query_of(response["Location"])
    assert answer["error"] == "invalid_request" and "code" not in answer
    assert "U+" in answer["error_description"]
    assert not AuthorizationCode.objects.exists() and not OidcGrant.objects.exists()
    assert len(refusals("oidc.authorize")) == 1


def test_authorize_with_nul_in_the_client_id_is_an_error_page(rp: RelyingParty) -> None:
    response = rp.browser.get("/oidc/authorize?" + urlencode(rp.authorize_params(client_id=rp.client_id + "\x00")))
    assert response.status_code == 400 and "Location" not in response
    assert AuditEvent.objects.filter(activity="oidc.authorize", result="failure").count() == 1


@pytest.mark.parametrize("form", [{"code_verifier": "v\x00"}, {"redirect_uri": REDIRECT_URI + "\x00"},
                                  {"code": "\x00"}, {"x\x00": "1"}])
def test_token_endpoint_answers_invalid_request(rp: RelyingParty, form: dict[str, str]) -> None:
    response = rp.token(**{"grant_type": "authorization_code", "code": rp.code(), "redirect_uri": rp.redirect_uri,
                           "code_verifier": rp.verifier, **form})
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request" and "U+0000" in response.json()["error_description"]
    assert response["Cache-Control"] == "no-store"
    assert len(refusals("oidc.token")) == 1


def test_userinfo_refuses_a_token_with_nul(rp: RelyingParty) -> None:
    response = rp.back_channel.get("/oidc/userinfo", HTTP_AUTHORIZATION="Bearer abc\x00def")
    assert response.status_code == 401 and response.json()["error"] == "invalid_token"
    assert len(refusals("oidc.userinfo")) == 1


def test_logout_refuses_unusable_parameters_with_an_error_page(rp: RelyingParty) -> None:
    query = urlencode({"post_logout_redirect_uri": POST_LOGOUT_URI, "state": "s\x00"})
    response = rp.browser.get(f"/oidc/logout?{query}")
    assert response.status_code == 400 and "Location" not in response
    assert len(refusals("oidc.logout")) == 1


@pytest.mark.parametrize("form", [{"client_id": "\x00"}, {"scope": "https://graph.microsoft.com/.default\x00"},
                                  {"client_secret": "s\x00"}])
def test_the_graph_token_endpoint_answers_invalid_request(make_rp: Any, form: dict[str, str]) -> None:
    app = make_rp(name="Graph client", permissions=("User.Read.All",))
    body = {"grant_type": "client_credentials", "client_id": app.client_id, "client_secret": app.secret,
            "scope": "https://graph.microsoft.com/.default", **form}
    response = Client().post("/oauth2/v2.0/token", data=urlencode(body),
                             content_type="application/x-www-form-urlencoded")
    assert response.status_code == 400 and response.json()["error"] == "invalid_request"
    assert len(refusals("token.issue")) == 1
