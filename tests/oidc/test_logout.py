"""RP-initiated logout 1.0 (oidcc-rp-initiated-logout plan): a redirect after logout needs a
post_logout_redirect_uri registered for the client named by an id_token_hint we issued or by client_id; without a
valid hint for the signed-in person,
a confirmation page (POST with CSRF) instead of a silent logout (ASVS 10.6.2); state echoed."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import pytest
from django.test import Client

from passgate.apps.models import OidcToken
from tests.oidc.conftest import POST_LOGOUT_URI, RelyingParty, audit, query_of

pytestmark = pytest.mark.django_db


def signed_in(client: Client) -> bool:
    return client.get("/security-info").status_code == 200


def logout(client: Client, **params: str) -> Any:
    return client.get("/oidc/logout?" + urlencode(params))


def test_oidcc_rp_initiated_logout(rp: RelyingParty) -> None:
    tokens = rp.tokens(scope="openid offline_access")
    response = logout(rp.browser, id_token_hint=tokens["id_token"], post_logout_redirect_uri=POST_LOGOUT_URI,
                      state="s-1")
    assert response.status_code == 302
    assert response["Location"] == POST_LOGOUT_URI + "?state=s-1"
    assert not signed_in(rp.browser)
    assert rp.userinfo(tokens["access_token"]).status_code == 401  # the session's access tokens end
    refreshed = rp.token(grant_type="refresh_token", refresh_token=tokens["refresh_token"])
    assert refreshed.status_code == 200  # offline access outlives the session (OIDC §11)
    row = audit("oidc.logout", result="success")[0]
    assert row.details["reason"] == "rpLogout" and row.details["accessTokensRevoked"] == 1


def test_oidcc_rp_initiated_logout_no_post_logout_redirect_uri(rp: RelyingParty) -> None:
    response = logout(rp.browser, id_token_hint=rp.tokens()["id_token"])
    assert response.status_code == 302 and response["Location"] == "/signin"
    assert b"You have signed out." in rp.browser.get("/signin").content


def test_oidcc_rp_initiated_logout_bad_post_logout_redirect_uri(rp: RelyingParty) -> None:
    hint = rp.tokens()["id_token"]
    for target in ("https://attacker.example.net/", POST_LOGOUT_URI + "/", "https://rp.example.org/callback"):
        response = logout(rp.browser, id_token_hint=hint, post_logout_redirect_uri=target)
        assert response.status_code == 400 and "Location" not in response
    assert signed_in(rp.browser)
    assert audit("oidc.logout", reason="post_logout_redirect_uri_invalid")


def test_oidcc_rp_initiated_logout_no_id_token_hint(rp: RelyingParty) -> None:
    """client_id and a registered return address, no hint: the person is asked, then returned to the app."""
    token = rp.tokens()["access_token"]
    page = logout(rp.browser, post_logout_redirect_uri=POST_LOGOUT_URI, client_id=rp.client_id, state="s-2")
    assert page.status_code == 200 and b"Sign out of Passgate?" in page.content and b"Example RP asked" in page.content
    assert signed_in(rp.browser)  # nothing ended before the person says so
    done = rp.browser.post("/oidc/logout/confirm", {"action": "signout", "client_id": rp.client_id,
                                                    "post_logout_redirect_uri": POST_LOGOUT_URI, "state": "s-2"})
    assert done.status_code == 302 and done["Location"] == POST_LOGOUT_URI + "?state=s-2"
    assert not signed_in(rp.browser) and rp.userinfo(token).status_code == 401


def test_no_hint_and_no_client_id_is_refused(rp: RelyingParty) -> None:
    response = logout(rp.browser, post_logout_redirect_uri=POST_LOGOUT_URI)
    assert response.status_code == 400 and "Location" not in response and signed_in(rp.browser)
    assert audit("oidc.logout", reason="id_token_hint_missing")


@pytest.mark.parametrize("target", ["https://attacker.example.net/", POST_LOGOUT_URI + "x"])
def test_a_client_id_cannot_return_to_an_address_it_did_not_register(rp: RelyingParty, target: str) -> None:
    response = logout(rp.browser, post_logout_redirect_uri=target, client_id=rp.client_id)
    assert response.status_code == 400 and "Location" not in response and signed_in(rp.browser)
    assert audit("oidc.logout", reason="post_logout_redirect_uri_invalid")


def test_an_unknown_client_id_is_refused(rp: RelyingParty) -> None:
    response = logout(rp.browser, post_logout_redirect_uri=POST_LOGOUT_URI,
                      client_id="00000000-0000-4000-8000-000000000000")
    assert response.status_code == 400 and signed_in(rp.browser)
    assert audit("oidc.logout", reason="post_logout_redirect_uri_invalid")


def test_nobody_signed_in_with_a_client_id_returns_to_the_app(rp: RelyingParty) -> None:
    response = logout(Client(), post_logout_redirect_uri=POST_LOGOUT_URI, client_id=rp.client_id, state="q")
    assert response.status_code == 302 and response["Location"] == POST_LOGOUT_URI + "?state=q"


def test_oidcc_rp_initiated_logout_bad_id_token_hint(rp: RelyingParty) -> None:
    """An id_token_hint signed by someone else (the suite signs a fake one): no redirect, an error page."""
    from cryptography.hazmat.primitives.asymmetric import ec
    from joserfc import jwt
    from joserfc.jwk import ECKey

    rp.tokens()
    fake_key = ECKey.import_key(ec.generate_private_key(ec.SECP256R1()))
    fake = jwt.encode({"alg": "ES256", "kid": "fake"}, {"iss": "https://login.example.com", "sub": "x",
                                                       "aud": rp.client_id}, fake_key)
    for bad in (fake, "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0."):
        response = logout(rp.browser, id_token_hint=bad, post_logout_redirect_uri=POST_LOGOUT_URI, state="s")
        assert response.status_code == 400 and "Location" not in response and signed_in(rp.browser)
    assert audit("oidc.logout", reason="id_token_hint_invalid")


def test_oidcc_rp_initiated_logout_modified_id_token_hint(rp: RelyingParty) -> None:
    """Our ID token with one claim changed (the signature no longer matches): no redirect, an error page."""
    import base64
    import json

    header, payload, signature = rp.tokens()["id_token"].split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["sub"] = "someone-else"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    response = logout(rp.browser, id_token_hint=f"{header}.{forged}.{signature}",
                      post_logout_redirect_uri=POST_LOGOUT_URI)
    assert response.status_code == 400 and "Location" not in response and signed_in(rp.browser)


def test_oidcc_rp_initiated_logout_no_state(rp: RelyingParty) -> None:
    response = logout(rp.browser, id_token_hint=rp.tokens()["id_token"], post_logout_redirect_uri=POST_LOGOUT_URI)
    assert response["Location"] == POST_LOGOUT_URI and not signed_in(rp.browser)


def test_oidcc_rp_initiated_logout_only_state(rp: RelyingParty) -> None:
    page = logout(rp.browser, state="only")
    assert page.status_code == 200 and b"Sign out of Passgate?" in page.content and signed_in(rp.browser)


def test_oidcc_rp_initiated_logout_query_added_to_post_logout_redirect_uri(rp: RelyingParty) -> None:
    response = logout(rp.browser, id_token_hint=rp.tokens()["id_token"],
                      post_logout_redirect_uri=POST_LOGOUT_URI + "?extra=1")
    assert response.status_code == 400 and "Location" not in response and signed_in(rp.browser)


def test_oidcc_rp_initiated_logout_discovery_endpoint_verification(db: Any) -> None:
    doc = Client().get("/.well-known/openid-configuration").json()
    assert doc["end_session_endpoint"] == "https://login.example.com/oidc/logout"


def test_client_id_must_match_the_hint(rp: RelyingParty, make_rp: Any) -> None:
    other = make_rp(name="Other")
    response = logout(rp.browser, id_token_hint=rp.tokens()["id_token"], client_id=other.client_id)
    assert response.status_code == 400 and signed_in(rp.browser)


def test_oidcc_rp_initiated_logout_no_params(rp: RelyingParty) -> None:
    token = rp.tokens()["access_token"]
    page = logout(rp.browser)
    assert page.status_code == 200 and b'action="/oidc/logout/confirm"' in page.content
    assert signed_in(rp.browser)  # nothing ended yet
    csrf_client = Client(enforce_csrf_checks=True)
    csrf_client.cookies = rp.browser.cookies
    assert csrf_client.post("/oidc/logout/confirm", {"action": "signout"}).status_code == 403  # no CSRF token
    assert signed_in(rp.browser)
    stay = rp.browser.post("/oidc/logout/confirm", {"action": "stay"})
    assert stay.status_code == 302 and signed_in(rp.browser)
    done = rp.browser.post("/oidc/logout/confirm", {"action": "signout"})
    assert done.status_code == 302 and done["Location"] == "/signin"
    assert not signed_in(rp.browser) and rp.userinfo(token).status_code == 401


def test_a_hint_for_someone_else_asks_first(rp: RelyingParty, make_user: Any) -> None:
    """A logout link built from another person's ID token can't sign this person out silently."""
    from tests.oidc.conftest import passkey_sign_in
    from tests.services.support import authenticator_for, register

    sam = make_user(upn="sam@contoso.com")
    sam_auth = authenticator_for(sam, sign_count=1)
    register(sam, sam_auth)
    attacker = RelyingParty(app=rp.app, secret=rp.secret, browser=Client())
    passkey_sign_in(attacker.browser, sam_auth)
    hint = attacker.tokens()["id_token"]
    page = logout(rp.browser, id_token_hint=hint, post_logout_redirect_uri=POST_LOGOUT_URI, state="x")
    assert page.status_code == 200 and b"Sign out of Passgate?" in page.content
    assert b"Example RP asked" in page.content and signed_in(rp.browser)
    done = rp.browser.post("/oidc/logout/confirm", {"action": "signout", "id_token_hint": hint,
                                                    "post_logout_redirect_uri": POST_LOGOUT_URI, "state": "x"})
    assert done["Location"] == POST_LOGOUT_URI + "?state=x" and not signed_in(rp.browser)


def test_nobody_signed_in_still_returns_to_the_app(rp: RelyingParty) -> None:
    hint = rp.tokens()["id_token"]
    response = logout(Client(), id_token_hint=hint, post_logout_redirect_uri=POST_LOGOUT_URI, state="abc")
    assert query_of(response["Location"]) == {"state": "abc"}


def test_post_logout_is_accepted_too(rp: RelyingParty) -> None:
    hint = rp.tokens()["id_token"]
    response = rp.browser.post("/oidc/logout", urlencode({"id_token_hint": hint,
                                                          "post_logout_redirect_uri": POST_LOGOUT_URI}),
                               content_type="application/x-www-form-urlencoded")
    assert response["Location"] == POST_LOGOUT_URI and not signed_in(rp.browser)


def test_signing_out_of_passgate_revokes_what_apps_got(rp: RelyingParty) -> None:
    token = rp.tokens()["access_token"]
    rp.browser.post("/signout")
    assert rp.userinfo(token).status_code == 401
    assert OidcToken.objects.get(kind="access").revoked_at is not None
