"""RFC 7009 revocation, RFC 7662 introspection, RFC 8414 metadata and CORS for single-page apps (issue 12 item 8)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import pytest
from django.test import Client

from passgate.apps.models import OidcGrant, OidcToken
from tests.oidc.conftest import ISSUER, RelyingParty, audit, basic

FORM = "application/x-www-form-urlencoded"


def post(rp: RelyingParty, path: str, *, auth: str = "basic", secret: str | None = None, **form: Any) -> Any:
    headers: dict[str, str] = {}
    if auth == "basic":
        headers["HTTP_AUTHORIZATION"] = basic(rp.client_id, secret or rp.secret or "")
    elif auth == "none":
        form.setdefault("client_id", rp.client_id)
    return Client().post(path, data=urlencode(form), content_type=FORM, **headers)


def introspect(rp: RelyingParty, token: str, **form: Any) -> Any:
    return post(rp, "/oidc/introspect", token=token, **form)


def revoke(rp: RelyingParty, token: str, **form: Any) -> Any:
    return post(rp, "/oidc/revoke", token=token, **form)


# --- introspection -------------------------------------------------------------------------------------------

def test_a_live_access_token_is_active_with_what_it_carries(rp: RelyingParty, person: Any) -> None:
    tokens = rp.tokens()
    answer = introspect(rp, tokens["access_token"])
    assert answer.status_code == 200 and answer["Cache-Control"] == "no-store"
    body = answer.json()
    user, _ = person
    assert body["active"] is True and body["token_type"] == "Bearer"
    assert body["client_id"] == rp.client_id == body["aud"] and body["iss"] == ISSUER
    assert body["sub"] == str(user.pk) and body["username"] == user.user_principal_name
    assert set(body["scope"].split()) == {"openid", "profile", "email"} and body["exp"] > body["iat"]
    assert audit("oidc.introspect", result="success")


def test_a_refresh_token_is_active_until_it_is_used(rp: RelyingParty) -> None:
    tokens = rp.tokens(scope="openid offline_access")
    assert introspect(rp, tokens["refresh_token"]).json()["active"] is True
    assert rp.token(grant_type="refresh_token", refresh_token=tokens["refresh_token"]).status_code == 200
    assert introspect(rp, tokens["refresh_token"]).json() == {"active": False}
    assert audit("oidc.introspect", reason="token_used")


def test_another_clients_token_is_inactive_to_this_one(rp: RelyingParty, make_rp: Any) -> None:
    tokens = rp.tokens()
    other = make_rp(name="Other app")
    assert introspect(other, tokens["access_token"]).json() == {"active": False}
    assert audit("oidc.introspect", reason="token_other_client")


@pytest.mark.parametrize("token", ["pgat_nothing-like-it", "not a token at all", "x" * 9000])
def test_unknown_tokens_are_inactive(rp: RelyingParty, token: str) -> None:
    assert introspect(rp, token).json() == {"active": False}


def test_revoked_and_expired_tokens_are_inactive(rp: RelyingParty) -> None:
    from django.utils import timezone

    first, second = rp.tokens()["access_token"], rp.tokens()["access_token"]
    OidcGrant.objects.update(revoked_at=timezone.now())
    assert introspect(rp, first).json() == {"active": False}
    OidcGrant.objects.update(revoked_at=None)
    OidcToken.objects.update(expires_at=timezone.now())
    assert introspect(rp, second).json() == {"active": False}
    assert {e.reason for e in audit("oidc.introspect", result="failure")} == {"token_revoked", "token_expired"}


def test_introspection_needs_the_clients_own_authentication(rp: RelyingParty) -> None:
    token = rp.tokens()["access_token"]
    wrong = introspect(rp, token, secret="wrong")  # type: ignore[arg-type]
    assert wrong.status_code == 401 and wrong.json()["error"] == "invalid_client"
    assert "WWW-Authenticate" in wrong
    anonymous = Client().post("/oidc/introspect", data=urlencode({"token": token}), content_type=FORM)
    assert anonymous.status_code == 401
    assert [e.reason for e in audit("oidc.introspect", result="failure")] == [
        "invalid_client_secret", "unknown_client"]


@pytest.mark.parametrize(("call", "reason"), [
    (lambda rp: Client().get("/oidc/introspect"), "method_not_allowed"),
    (lambda rp: Client().post("/oidc/introspect", data="{}", content_type="application/json",
                              HTTP_AUTHORIZATION=basic(rp.client_id, rp.secret)), "unsupported_media_type"),
    (lambda rp: post(rp, "/oidc/introspect", token_type_hint="access_token"), "token_missing"),
    (lambda rp: Client().post("/oidc/introspect?token=pgat_x", data="token_type_hint=x", content_type=FORM,
                              HTTP_AUTHORIZATION=basic(rp.client_id, rp.secret)), "credentials_in_query"),
    (lambda rp: Client().post("/oidc/introspect", data="token=a&token=b", content_type=FORM,
                              HTTP_AUTHORIZATION=basic(rp.client_id, rp.secret)), "duplicate_parameter"),
])
def test_bad_introspection_requests_are_refused_and_audited(rp: RelyingParty, call: Any, reason: str) -> None:
    answer = call(rp)
    assert answer.status_code in (400, 405) and answer.json()["error"] == "invalid_request", answer.content
    assert [e.reason for e in audit("oidc.introspect", result="failure")] == [reason]


# --- revocation ----------------------------------------------------------------------------------------------

def test_revoking_an_access_token_ends_it_and_nothing_else(rp: RelyingParty) -> None:
    tokens = rp.tokens(scope="openid offline_access")
    answer = revoke(rp, tokens["access_token"], token_type_hint="access_token")
    assert (answer.status_code, answer.content) == (200, b"{}")
    assert rp.userinfo(tokens["access_token"]).status_code == 401
    assert introspect(rp, tokens["refresh_token"]).json()["active"] is True
    [event] = audit("oidc.revoke", result="success")
    assert event.details["tokenType"] == "access_token" and event.details["tokensRevoked"] == 1


def test_revoking_a_refresh_token_ends_the_whole_grant(rp: RelyingParty) -> None:
    tokens = rp.tokens(scope="openid offline_access")
    assert revoke(rp, tokens["refresh_token"], token_type_hint="access_token").status_code == 200  # wrong hint
    assert rp.userinfo(tokens["access_token"]).status_code == 401
    refreshed = rp.token(grant_type="refresh_token", refresh_token=tokens["refresh_token"])
    assert refreshed.status_code == 400
    assert OidcGrant.objects.get().revoked_reason == "client_revoked"


def test_revoking_another_clients_token_is_refused_and_changes_nothing(rp: RelyingParty, make_rp: Any) -> None:
    tokens = rp.tokens()
    other = make_rp(name="Other app")
    answer = revoke(other, tokens["access_token"])
    assert answer.status_code == 400 and answer.json()["error"] == "unauthorized_client"
    assert rp.userinfo(tokens["access_token"]).status_code == 200
    assert audit("oidc.revoke", reason="token_other_client")


def test_revoking_an_unknown_token_is_answered_200_and_audited(rp: RelyingParty) -> None:
    rp.tokens()
    answer = revoke(rp, "pgat_no-such-token")
    assert (answer.status_code, answer.content) == (200, b"{}")
    assert audit("oidc.revoke", reason="token_unknown")
    assert OidcToken.objects.filter(revoked_at__isnull=False).count() == 0


def test_a_public_client_revokes_its_own_token_naming_itself(make_rp: Any, browser: Client) -> None:
    app = make_rp(browser, public=True)
    redeemed = app.redeem(app.code(), auth="none")
    assert redeemed.status_code == 200, redeemed.content
    tokens = redeemed.json()
    assert revoke(app, tokens["access_token"], auth="none").status_code == 200
    assert app.userinfo(tokens["access_token"]).status_code == 401


def test_revocation_needs_the_clients_own_authentication(rp: RelyingParty) -> None:
    token = rp.tokens()["access_token"]
    assert revoke(rp, token, secret="wrong").status_code == 401  # type: ignore[arg-type]
    assert rp.userinfo(token).status_code == 200


# --- metadata and CORS ---------------------------------------------------------------------------------------

def test_rfc_8414_metadata_is_the_discovery_document(client: Client, db: Any) -> None:
    metadata = client.get("/.well-known/oauth-authorization-server")
    discovery = client.get("/.well-known/openid-configuration").json()
    assert metadata.status_code == 200 and metadata.json() == discovery
    assert discovery["revocation_endpoint"] == ISSUER + "/oidc/revoke"
    assert discovery["introspection_endpoint"] == ISSUER + "/oidc/introspect"
    assert metadata["Access-Control-Allow-Origin"] == "*"
    assert client.get("/oidc/jwks")["Access-Control-Allow-Origin"] == "*"


SPA = "https://spa.contoso.test"


def test_a_registered_single_page_app_may_call_the_token_endpoint_from_its_origin(make_rp: Any,
                                                                                   browser: Client) -> None:
    app = make_rp(browser, public=True, redirect_uris=(f"{SPA}/callback",))
    preflight = Client().options("/oidc/token", HTTP_ORIGIN=SPA, HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
                                 HTTP_ACCESS_CONTROL_REQUEST_HEADERS="content-type")
    assert preflight.status_code == 204 and preflight["Access-Control-Allow-Origin"] == SPA
    assert "POST" in preflight["Access-Control-Allow-Methods"] and "Origin" in preflight["Vary"]
    app.redirect_uri = f"{SPA}/callback"
    code = app.code()
    answer = Client().post("/oidc/token", data=urlencode({
        "grant_type": "authorization_code", "code": code, "redirect_uri": app.redirect_uri,
        "code_verifier": app.verifier, "client_id": app.client_id}), content_type=FORM, HTTP_ORIGIN=SPA)
    assert answer.status_code == 200 and answer["Access-Control-Allow-Origin"] == SPA
    assert "Access-Control-Allow-Credentials" not in answer
    userinfo = Client().get("/oidc/userinfo", HTTP_ORIGIN=SPA,
                            HTTP_AUTHORIZATION=f"Bearer {answer.json()['access_token']}")
    assert userinfo.status_code == 200 and userinfo["Access-Control-Allow-Origin"] == SPA


@pytest.mark.parametrize("origin", ["https://evil.example", "https://spa.contoso.test.evil.example", "null"])
def test_other_origins_get_no_cors_headers(make_rp: Any, browser: Client, origin: str) -> None:
    make_rp(browser, public=True, redirect_uris=(f"{SPA}/callback",))
    make_rp(browser, name="Server app", redirect_uris=("https://server.contoso.test/cb",))  # confidential
    for path in ("/oidc/token", "/oidc/userinfo", "/oidc/revoke"):
        preflight = Client().options(path, HTTP_ORIGIN=origin, HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST")
        assert preflight.status_code == 204 and "Access-Control-Allow-Origin" not in preflight, path
    confidential = Client().options("/oidc/token", HTTP_ORIGIN="https://server.contoso.test",
                                    HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST")
    assert "Access-Control-Allow-Origin" not in confidential  # a confidential client's secret stays on its server
    assert "Access-Control-Allow-Origin" not in Client().options(
        "/oidc/introspect", HTTP_ORIGIN=SPA, HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST")
