"""The authorization endpoint: the OpenID conformance modules that exercise it (names as in OIDCCBasicTestPlan),
RFC 9700 §2.1 items, and bad input (errors to the client once client and redirect URI are trusted, an error page
before; every refusal audited, nothing issued)."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from django.test import Client
from django.utils import timezone

from passgate.apps.models import AuthorizationCode, OidcGrant
from passgate.web import session as web_session
from tests.oidc.conftest import (
    ISSUER,
    REDIRECT_URI,
    RelyingParty,
    audit,
    passkey_sign_in,
    query_of,
    verify_id_token,
)

pytestmark = pytest.mark.django_db


def error_at_client(response: Any, rp: RelyingParty, error: str) -> dict[str, str]:
    """An OAuth error sent back to the registered redirect URI, with state and iss (RFC 9207)."""
    assert response.status_code == 302, response.content
    assert response["Location"].startswith(REDIRECT_URI + "?"), response["Location"]
    answer = query_of(response["Location"])
    assert answer["error"] == error, answer
    assert answer["state"] == rp.state and answer["iss"] == ISSUER
    assert "code" not in answer
    return answer


def error_page(response: Any) -> bytes:
    """The request can't be trusted: an HTML error page with status 400, never a redirect."""
    assert response.status_code == 400, response.get("Location")
    assert "Location" not in response
    assert b'id="oidc-error"' in response.content
    return bytes(response.content)


def nothing_issued() -> None:
    assert not AuthorizationCode.objects.exists() and not OidcGrant.objects.exists()


# --- the happy path and what every response carries ---------------------------------------------------------

def test_oidcc_server(rp: RelyingParty, person: Any) -> None:
    tokens = rp.tokens()
    assert tokens["token_type"] == "Bearer" and tokens["expires_in"] == 3600
    assert tokens["scope"] == "openid profile email" and "refresh_token" not in tokens
    claims = verify_id_token(tokens["id_token"], audience=rp.client_id)
    assert claims["sub"] == str(person[0].pk) and claims["nonce"] == rp.nonce
    assert claims["azp"] == rp.client_id and claims["exp"] - claims["iat"] == 3600
    assert abs(claims["auth_time"] - time.time()) < 60 and claims["sid"]
    row = audit("oidc.authorize", result="success")[-1]
    assert row.details["clientId"] == rp.client_id and row.actor_name == "pat@contoso.com"
    assert "code" not in row.details


def test_oidcc_ensure_request_with_valid_pkce_succeeds(rp: RelyingParty) -> None:
    assert "id_token" in rp.tokens()


def test_state_is_echoed_and_iss_is_returned(rp: RelyingParty) -> None:
    response = rp.authorize(state="a b&c=d/é")
    answer = query_of(response["Location"])
    assert answer["state"] == "a b&c=d/é" and answer["iss"] == ISSUER


def test_authorization_response_is_not_cached(rp: RelyingParty) -> None:
    assert rp.authorize()["Cache-Control"] == "no-store"


def test_oidcc_ensure_request_without_nonce_succeeds_for_code_flow(rp: RelyingParty) -> None:
    tokens = rp.tokens(nonce=None)
    assert "nonce" not in verify_id_token(tokens["id_token"], audience=rp.client_id)


def test_oidcc_ensure_request_with_unknown_parameter_succeeds(rp: RelyingParty) -> None:
    assert "id_token" in rp.tokens(extra="foobar", another_one="1")


@pytest.mark.parametrize("display", ["page", "popup", "touch", "wap"])
def test_oidcc_display_page_and_popup(rp: RelyingParty, display: str) -> None:
    assert "id_token" in rp.tokens(display=display)


def test_oidcc_ui_locales(rp: RelyingParty) -> None:
    assert "id_token" in rp.tokens(ui_locales="se")


def test_oidcc_claims_locales(rp: RelyingParty) -> None:
    assert "id_token" in rp.tokens(claims_locales="se")


def test_oidcc_ensure_post_request_succeeds(rp: RelyingParty) -> None:
    """A POSTed authorization request continues as a GET (303) with the same parameters, so the session cookie
    (SameSite=Lax) comes along; then it completes as usual."""
    params = rp.authorize_params()
    response = rp.browser.post("/oidc/authorize", data=urlencode(params),
                               content_type="application/x-www-form-urlencoded")
    assert response.status_code == 303
    assert parse_qs(urlsplit(response["Location"]).query) == {k: [v] for k, v in params.items()}
    code = query_of(rp.browser.get(response["Location"])["Location"])["code"]
    assert rp.redeem(code).status_code == 200


def test_a_post_that_is_not_a_form_is_refused(rp: RelyingParty) -> None:
    response = rp.browser.post("/oidc/authorize", data="{}", content_type="application/json")
    error_page(response)
    assert audit("oidc.authorize", reason="unsupported_media_type")


def test_oidcc_ensure_request_with_acr_values_succeeds(rp: RelyingParty) -> None:
    """Unknown acr values are ignored (they are voluntary, OIDC §3.1.2.1); the acr is what the session met."""
    tokens = rp.tokens(acr_values="1 2")
    claims = verify_id_token(tokens["id_token"], audience=rp.client_id)
    assert claims["acr"] == "00000000-0000-0000-0000-000000000004"  # phishing-resistant: a passkey


def test_oidcc_scope_profile(rp: RelyingParty, person: Any) -> None:
    profile = verify_id_token(rp.tokens(scope="openid profile")["id_token"], audience=rp.client_id)
    assert profile["name"] == "Pat Example" and profile["preferred_username"] == "pat@contoso.com"
    assert "email" not in profile
    assert rp.userinfo(rp.tokens(scope="openid profile")["access_token"]).json()["name"] == "Pat Example"


def test_oidcc_scope_email(rp: RelyingParty) -> None:
    email = verify_id_token(rp.tokens(scope="openid email")["id_token"], audience=rp.client_id)
    assert email["email"] == "pat@contoso.com" and email["email_verified"] is False and "name" not in email


@pytest.mark.parametrize("scope", ["address", "phone"])
def test_oidcc_scope_address_and_phone(rp: RelyingParty, scope: str) -> None:
    """Passgate has no address or phone number: the scope is dropped from the grant, the flow succeeds (the
    modules accept that, with a warning)."""
    tokens = rp.tokens(scope=f"openid {scope}")
    assert tokens["scope"] == "openid"


def test_oidcc_scope_all(rp: RelyingParty) -> None:
    everything = rp.tokens(scope="openid profile email address phone")
    assert everything["scope"] == "openid profile email"


def test_oidcc_claims_essential(rp: RelyingParty) -> None:
    """The claims parameter asks only for acr here (claims_parameter_supported true for id_token.acr); other
    requested claims are ignored, the flow succeeds and the claims of the granted scopes are returned."""
    claims = '{"userinfo": {"name": {"essential": true}}}'
    tokens = rp.tokens(scope="openid profile", claims=claims)
    assert rp.userinfo(tokens["access_token"]).json()["name"] == "Pat Example"


def test_oidcc_alternate_happy_flow(rp: RelyingParty, make_rp: Any) -> None:
    """A second client, another authentication method and ID token algorithm, in the same browser session."""
    second = make_rp(rp.browser, name="Second RP", auth_method="client_secret_post", id_token_alg="RS256")
    response = second.redeem(second.code(scope="openid email"), auth="post")
    assert response.status_code == 200
    claims = verify_id_token(response.json()["id_token"], audience=second.client_id)
    first = verify_id_token(rp.tokens()["id_token"], audience=rp.client_id)
    assert claims["sub"] == first["sub"] and claims["sid"] == first["sid"] and claims["aud"] != first["aud"]


def test_openid_scope_is_required(rp: RelyingParty) -> None:
    answer = error_at_client(rp.authorize(scope="profile email"), rp, "invalid_scope")
    assert "openid" in answer["error_description"]
    nothing_issued()
    assert audit("oidc.authorize", reason="openid_scope_missing")


# --- response types -----------------------------------------------------------------------------------------

def test_oidcc_response_type_missing(rp: RelyingParty) -> None:
    error_at_client(rp.authorize(response_type=None), rp, "invalid_request")
    nothing_issued()
    assert audit("oidc.authorize", reason="response_type_missing")


@pytest.mark.parametrize("response_type", ["token", "id_token", "code id_token", "code token", "none", 'x"y'])
def test_only_the_code_response_type(rp: RelyingParty, response_type: str) -> None:
    """RFC 9700 §2.1.2: no implicit or hybrid flows (no tokens in the front channel)."""
    error_at_client(rp.authorize(response_type=response_type), rp, "unsupported_response_type")
    nothing_issued()
    assert audit("oidc.authorize", reason="unsupported_response_type")


def test_response_mode_other_than_query_is_refused(rp: RelyingParty) -> None:
    error_at_client(rp.authorize(response_mode="fragment"), rp, "invalid_request")
    error_at_client(rp.authorize(response_mode="form_post"), rp, "invalid_request")
    assert "id_token" in rp.tokens(response_mode="query")


# --- client and redirect URI: never redirect before both are trusted ----------------------------------------

def test_oidcc_ensure_registered_redirect_uri(rp: RelyingParty) -> None:
    error_page(rp.authorize(redirect_uri="https://attacker.example.net/callback"))
    nothing_issued()
    row = audit("oidc.authorize", reason="redirect_uri_not_registered")[0]
    assert row.details["redirectUri"] == "https://attacker.example.net/callback"


@pytest.mark.parametrize("variant", [
    REDIRECT_URI + "/", REDIRECT_URI + "?x=1", REDIRECT_URI.upper(), REDIRECT_URI + "#", REDIRECT_URI + "%20",
    "https://rp.example.org:443/callback", "http://rp.example.org/callback", "https://RP.example.org/callback",
])
def test_redirect_uri_must_match_exactly(rp: RelyingParty, variant: str) -> None:
    """RFC 9700 §2.1 / OIDC §3.1.2.1: simple string comparison, no normalisation, no prefix or sub-path match."""
    error_page(rp.authorize(redirect_uri=variant))
    nothing_issued()


def test_redirect_uri_is_required(rp: RelyingParty) -> None:
    error_page(rp.authorize(redirect_uri=None))
    assert audit("oidc.authorize", reason="redirect_uri_missing")


@pytest.mark.parametrize("client_id", [None, "", "not-a-uuid", "00000000-0000-0000-0000-000000000000"])
def test_unknown_client_gets_an_error_page(rp: RelyingParty, client_id: str | None) -> None:
    error_page(rp.authorize(client_id=client_id))
    nothing_issued()
    assert audit("oidc.authorize", result="failure")[0].reason in ("unknown_client", "client_id_missing")


def test_a_graph_only_app_is_not_an_openid_client(rp: RelyingParty, db: Any) -> None:
    from passgate.apps.services import app_create
    from passgate.audit.services import Actor

    graph_app, _ = app_create(display_name="Script", permissions=["User.Read.All"], actor=Actor.system("t"))
    error_page(rp.authorize(client_id=str(graph_app.app_id)))


def test_unsupported_response_type_from_an_unknown_client_is_a_page(rp: RelyingParty) -> None:
    error_page(rp.authorize(response_type="token", client_id="00000000-0000-0000-0000-000000000000"))
    error_page(rp.authorize(response_type="token", redirect_uri="https://attacker.example.net/"))


@pytest.mark.parametrize("name", ["client_id", "redirect_uri", "response_type"])
def test_a_repeated_trust_parameter_is_a_page(rp: RelyingParty, name: str) -> None:
    params = rp.authorize_params()
    query = urlencode(params) + "&" + urlencode({name: params[name]})
    response = rp.browser.get("/oidc/authorize?" + query)
    assert response.status_code in (302, 400)
    if response.status_code == 302:
        assert query_of(response["Location"])["error"] in ("invalid_request", "unsupported_response_type")
    nothing_issued()


@pytest.mark.parametrize("name", ["state", "scope", "nonce", "code_challenge", "prompt"])
def test_a_repeated_parameter_is_invalid_request(rp: RelyingParty, name: str) -> None:
    params = rp.authorize_params(prompt="login")
    response = rp.browser.get("/oidc/authorize?" + urlencode(params) + "&" + urlencode({name: params[name]}))
    assert response.status_code == 302
    assert query_of(response["Location"])["error"] == "invalid_request"
    nothing_issued()


def test_error_descriptions_never_echo_input_that_would_break_them(rp: RelyingParty) -> None:
    response = rp.browser.get("/oidc/authorize?" + urlencode(rp.authorize_params()) + "&x%22%5C=1&x%22%5C=2")
    answer = query_of(response["Location"])
    assert answer["error"] == "invalid_request" and '"' not in answer["error_description"]


# --- PKCE (RFC 7636, RFC 9700 §2.1.1) -----------------------------------------------------------------------

def test_a_confidential_client_without_pkce_or_a_nonce_is_refused(rp: RelyingParty) -> None:
    answer = error_at_client(rp.authorize(code_challenge=None, code_challenge_method=None, nonce=None), rp,
                             "invalid_request")
    assert "nonce" in answer["error_description"]
    nothing_issued()
    assert audit("oidc.authorize", reason="pkce_or_nonce_missing")


def test_a_confidential_client_may_send_a_nonce_instead_of_pkce(rp: RelyingParty, person: Any) -> None:
    """Apache mod_auth_openidc's stock configuration: a confidential client, a nonce, no PKCE (RFC 9700 §2.1.1)."""
    code = rp.code(code_challenge=None, code_challenge_method=None)
    assert AuthorizationCode.objects.get().code_challenge == ""
    response = rp.redeem(code, code_verifier=None)
    assert response.status_code == 200, response.content
    assert verify_id_token(response.json()["id_token"], audience=rp.client_id)["nonce"] == rp.nonce


def test_a_verifier_for_a_code_issued_without_a_challenge_is_refused(rp: RelyingParty, person: Any) -> None:
    code = rp.code(code_challenge=None, code_challenge_method=None)
    response = rp.redeem(code, code_verifier="x" * 50)  # RFC 9700 §4.8: a downgrade attempt
    assert response.status_code == 400 and response.json()["error"] == "invalid_request"
    assert audit("oidc.token", reason="pkce_verifier_unexpected")


def test_a_code_issued_with_a_challenge_needs_its_verifier(rp: RelyingParty, person: Any) -> None:
    response = rp.redeem(rp.code(), code_verifier=None)
    assert response.status_code == 400 and response.json()["error"] == "invalid_request"


def test_an_app_that_requires_pkce_gets_no_nonce_alternative(make_rp: Any, browser: Client) -> None:
    strict = make_rp(browser, name="Strict RP", require_pkce=True)
    answer = error_at_client(strict.authorize(code_challenge=None, code_challenge_method=None), strict,
                             "invalid_request")
    assert "requires PKCE" in answer["error_description"]
    nothing_issued()
    assert audit("oidc.authorize", reason="pkce_required_for_app")


def test_a_public_client_must_use_pkce_even_with_a_nonce(make_rp: Any, browser: Client) -> None:
    public = make_rp(browser, name="Native app", public=True)
    assert public.app.require_pkce is True
    error_at_client(public.authorize(code_challenge=None, code_challenge_method=None), public, "invalid_request")
    nothing_issued()
    assert audit("oidc.authorize", reason="pkce_missing")


def test_a_method_without_a_challenge_is_refused(rp: RelyingParty) -> None:
    error_at_client(rp.authorize(code_challenge=None), rp, "invalid_request")
    nothing_issued()


@pytest.mark.parametrize("method", ["plain", None, "s256", "S512"])
def test_pkce_plain_and_other_methods_are_refused(rp: RelyingParty, method: str | None) -> None:
    answer = error_at_client(rp.authorize(code_challenge_method=method), rp, "invalid_request")
    assert "S256" in answer["error_description"]
    nothing_issued()


@pytest.mark.parametrize("challenge", ["short", "x" * 129, "a" * 42 + "!"])
def test_malformed_code_challenge_is_refused(rp: RelyingParty, challenge: str) -> None:
    error_at_client(rp.authorize(code_challenge=challenge), rp, "invalid_request")
    nothing_issued()


# --- request objects ----------------------------------------------------------------------------------------

def test_oidcc_request_uri_unsigned_supported_correctly_or_rejected_as_unsupported(rp: RelyingParty) -> None:
    error_at_client(rp.authorize(request_uri="https://rp.example.org/request.jwt"), rp, "request_uri_not_supported")
    nothing_issued()
    assert audit("oidc.authorize", reason="request_uri_not_supported")


def test_oidcc_unsigned_request_object_supported_correctly_or_rejected_as_unsupported(rp: RelyingParty) -> None:
    error_at_client(rp.authorize(request="eyJhbGciOiJub25lIn0.eyJzY29wZSI6Im9wZW5pZCJ9."), rp,
                    "request_not_supported")
    nothing_issued()


def test_oidcc_ensure_request_object_with_redirect_uri(rp: RelyingParty) -> None:
    """A request object naming another redirect URI can't take effect: request objects are refused outright."""
    error_at_client(rp.authorize(request="eyJhbGciOiJub25lIn0.eyJyZWRpcmVjdF91cmkiOiJodHRwczovL2V2aWwifQ."), rp,
                    "request_not_supported")


def test_registration_parameter_is_refused(rp: RelyingParty) -> None:
    error_at_client(rp.authorize(registration="{}"), rp, "registration_not_supported")


# --- not signed in, prompt, max_age, hints ------------------------------------------------------------------

def test_not_signed_in_goes_to_the_sign_in_page_with_the_whole_request(make_rp: Any, person: Any) -> None:
    rp = make_rp()
    response = rp.authorize(login_hint="pat@contoso.com")
    assert response.status_code == 302
    target = urlsplit(response["Location"])
    assert target.path == "/signin"
    back = parse_qs(target.query)
    assert back["login_hint"] == ["pat@contoso.com"] and "prompt" not in back
    assert back["next"][0] == "/oidc/authorize?" + _last_params(rp)
    nothing_issued()


def _last_params(rp: RelyingParty) -> str:
    """The exact query the last rp.authorize() sent (state and nonce are fresh per call)."""
    return urlencode({"response_type": "code", "client_id": rp.client_id, "redirect_uri": rp.redirect_uri,
                      "scope": "openid profile email", "state": rp.state, "nonce": rp.nonce,
                      "code_challenge": _challenge(rp.verifier), "code_challenge_method": "S256",
                      "login_hint": "pat@contoso.com"})


def _challenge(verifier: str) -> str:
    import base64
    import hashlib

    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


def test_after_signing_in_the_request_continues(make_rp: Any, person: Any, client: Client) -> None:
    rp = make_rp(client)
    sign_in_url = rp.authorize()["Location"]
    page = client.get(sign_in_url)
    assert page.status_code == 200 and b'data-page="signin"' in page.content
    next_url = parse_qs(urlsplit(sign_in_url).query)["next"][0]
    verified = passkey_sign_in_to(client, person[1], next_url)
    assert verified.json()["redirect"] == next_url
    code = query_of(client.get(next_url)["Location"])["code"]
    assert rp.redeem(code).status_code == 200


def passkey_sign_in_to(client: Client, auth: Any, next_url: str) -> Any:
    import json
    from urllib.parse import quote

    from tests.services.support import challenge_of

    options = client.post("/signin/passkey/options", data="{}", content_type="application/json")
    auth.sign_count += 1
    credential = auth.assert_(challenge=challenge_of(options.json()))
    return client.post(f"/signin/passkey/verify?next={quote(next_url, safe='')}",
                       data=json.dumps({"credential": credential}), content_type="application/json")


def test_oidcc_prompt_none_not_logged_in(make_rp: Any) -> None:
    rp = make_rp()
    error_at_client(rp.authorize(prompt="none"), rp, "login_required")
    nothing_issued()
    assert audit("oidc.authorize", reason="login_required")


def test_oidcc_prompt_none_logged_in(rp: RelyingParty) -> None:
    assert "id_token" in rp.tokens(prompt="none")


def test_prompt_none_with_another_value_is_invalid_request(rp: RelyingParty) -> None:
    error_at_client(rp.authorize(prompt="none login"), rp, "invalid_request")
    nothing_issued()


def test_oidcc_prompt_login(rp: RelyingParty, person: Any) -> None:
    """Signed in, yet prompt=login shows the sign-in page; after a new sign-in the request continues once, with a
    newer auth_time (the round trip doesn't loop)."""
    first = verify_id_token(rp.tokens()["id_token"], audience=rp.client_id)
    time.sleep(1.1)
    response = rp.authorize(prompt="login")
    target = urlsplit(response["Location"])
    assert target.path == "/signin" and parse_qs(target.query)["prompt"] == ["login"]
    page = rp.browser.get(response["Location"])
    assert page.status_code == 200 and b'data-page="signin"' in page.content  # shown although signed in
    next_url = parse_qs(target.query)["next"][0]
    again = rp.browser.get(next_url)
    assert urlsplit(again["Location"]).path == "/signin"  # not yet signed in again: back to the page
    passkey_sign_in_to(rp.browser, person[1], next_url)
    code = query_of(rp.browser.get(next_url)["Location"])["code"]
    second = verify_id_token(rp.redeem(code).json()["id_token"], audience=rp.client_id)
    assert second["auth_time"] > first["auth_time"]


def test_oidcc_max_age_1(rp: RelyingParty, person: Any) -> None:
    first = verify_id_token(rp.tokens()["id_token"], audience=rp.client_id)
    time.sleep(2)
    response = rp.authorize(max_age="1")
    assert urlsplit(response["Location"]).path == "/signin"
    next_url = parse_qs(urlsplit(response["Location"]).query)["next"][0]
    passkey_sign_in_to(rp.browser, person[1], next_url)
    code = query_of(rp.browser.get(next_url)["Location"])["code"]
    claims = verify_id_token(rp.redeem(code).json()["id_token"], audience=rp.client_id)
    assert claims["auth_time"] > first["auth_time"] and claims["auth_time"] >= int(time.time()) - 5


def test_oidcc_max_age_10000(rp: RelyingParty) -> None:
    claims = verify_id_token(rp.tokens(max_age="10000")["id_token"], audience=rp.client_id)
    assert "auth_time" in claims


def test_max_age_0_after_a_fresh_sign_in_does_not_loop(rp: RelyingParty, person: Any) -> None:
    response = rp.authorize(max_age="0")
    next_url = parse_qs(urlsplit(response["Location"]).query)["next"][0]
    passkey_sign_in_to(rp.browser, person[1], next_url)
    assert "code" in query_of(rp.browser.get(next_url)["Location"])


def test_prompt_none_with_an_old_sign_in_and_max_age_is_login_required(rp: RelyingParty) -> None:
    session = rp.browser.session
    from passgate.core.access.methods import authentication_from_json, authentication_to_json

    auth = authentication_from_json(session[web_session.AUTHENTICATION])
    assert auth is not None
    old = type(auth)(user_id=auth.user_id, methods=tuple(
        type(m)(mode=m.mode, at=m.at - timedelta(minutes=30), aaguid=m.aaguid, device_bound=m.device_bound)
        for m in auth.methods))
    session[web_session.AUTHENTICATION] = authentication_to_json(old)
    session.save()
    error_at_client(rp.authorize(prompt="none", max_age="60"), rp, "login_required")
    assert "id_token" in rp.tokens(prompt="none", max_age="3600")


@pytest.mark.parametrize("max_age", ["-1", "abc", "1.5", "99999999999", "١٢"])
def test_invalid_max_age_is_invalid_request(rp: RelyingParty, max_age: str) -> None:
    error_at_client(rp.authorize(max_age=max_age), rp, "invalid_request")
    nothing_issued()


@pytest.mark.parametrize("hint", ["pat@contoso.com", "nobody@nowhere", "", "x" * 500, "<script>", "ünï"])
def test_oidcc_login_hint(rp: RelyingParty, hint: str) -> None:
    assert "id_token" in rp.tokens(login_hint=hint)


def test_login_hint_prefills_the_sign_in_page(make_rp: Any, person: Any, client: Client) -> None:
    rp = make_rp(client)
    page = client.get(rp.authorize(login_hint='pat@contoso.com"><b>')["Location"])
    assert b'value="pat@contoso.com&quot;&gt;&lt;b&gt;"' in page.content
    assert b"/signin/tap?upn=pat%40contoso.com%22%3E%3Cb%3E&amp;next=" in page.content


def test_oidcc_id_token_hint(rp: RelyingParty) -> None:
    """prompt=none with the ID token from a previous sign-in (any age) as the hint succeeds."""
    hint = rp.tokens()["id_token"]
    assert "id_token" in rp.tokens(prompt="none", id_token_hint=hint)


def test_id_token_hint_of_someone_else_with_prompt_none_is_login_required(rp: RelyingParty,
                                                                         make_user: Any) -> None:
    from tests.services.support import authenticator_for, register

    other_user = make_user(upn="sam@contoso.com")
    other_auth = authenticator_for(other_user, sign_count=1)
    register(other_user, other_auth)
    other = RelyingParty(app=rp.app, secret=rp.secret, browser=Client())
    passkey_sign_in(other.browser, other_auth)
    hint = other.tokens()["id_token"]  # Sam's ID token for the same app
    error_at_client(rp.authorize(prompt="none", id_token_hint=hint), rp, "login_required")


def test_id_token_hint_of_someone_else_asks_for_a_sign_in(rp: RelyingParty, make_user: Any) -> None:
    from tests.services.support import authenticator_for, register

    other_user = make_user(upn="sam@contoso.com")
    other_auth = authenticator_for(other_user, sign_count=1)
    register(other_user, other_auth)
    other = RelyingParty(app=rp.app, secret=rp.secret, browser=Client())
    passkey_sign_in(other.browser, other_auth)
    hint = other.tokens()["id_token"]
    response = rp.authorize(id_token_hint=hint)
    assert urlsplit(response["Location"]).path == "/signin"
    next_url = parse_qs(urlsplit(response["Location"]).query)["next"][0]
    passkey_sign_in_to(rp.browser, other_auth, next_url)  # Sam signs in in Pat's browser
    assert "code" in query_of(rp.browser.get(next_url)["Location"])


def test_an_id_token_hint_we_did_not_issue_is_refused(rp: RelyingParty) -> None:
    from cryptography.hazmat.primitives.asymmetric import ec
    from joserfc import jwt
    from joserfc.jwk import ECKey

    key = ECKey.import_key(ec.generate_private_key(ec.SECP256R1()))
    forged = jwt.encode({"alg": "ES256", "kid": "x"}, {"iss": ISSUER, "sub": "x", "aud": rp.client_id}, key)
    error_at_client(rp.authorize(id_token_hint=forged), rp, "invalid_request")
    error_at_client(rp.authorize(id_token_hint="garbage"), rp, "invalid_request")
    assert audit("oidc.authorize", reason="id_token_hint_invalid")
    nothing_issued()


def test_an_expired_id_token_hint_still_counts(rp: RelyingParty, person: Any) -> None:
    """'Any age': the hint identifies the person; its expiry doesn't matter (OIDC §3.1.2.1)."""
    from joserfc import jwt

    from passgate.apps.keys import signing_key_current

    kid, key = signing_key_current("ES256")
    old = jwt.encode({"alg": "ES256", "kid": kid}, {"iss": ISSUER, "sub": str(person[0].pk), "aud": rp.client_id,
                                                   "iat": 1, "exp": 2}, key)
    assert "id_token" in rp.tokens(prompt="none", id_token_hint=old)


def test_a_disabled_account_gets_no_code(rp: RelyingParty, person: Any) -> None:
    person[0].account_enabled = False
    person[0].save()
    response = rp.authorize()
    assert response.status_code == 302 and "code=" not in response["Location"]


def test_codes_are_stored_hashed_and_short_lived(rp: RelyingParty) -> None:
    code = rp.code()
    row = AuthorizationCode.objects.get()
    assert code.encode() not in bytes(row.code_sha256) and len(bytes(row.code_sha256)) == 32
    assert timedelta(0) < row.expires_at - row.created_at <= timedelta(seconds=60)
    assert row.expires_at > timezone.now()
    assert len(code) >= 43
