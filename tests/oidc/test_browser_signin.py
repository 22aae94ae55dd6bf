"""In Chromium with a virtual authenticator: an app sends the browser to /oidc/authorize, the person signs in with a
passkey on the sign-in page, and the browser lands on the app's redirect URI with a code that redeems for an ID
token saying a device-bound passkey was used."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest

from tests.oidc.conftest import b64url_json, basic, pkce

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_passkey_sign_in_through_authorize_to_the_redirect_uri(tab: Any, enroll: Any, app: str) -> None:
    from joserfc import jwt
    from joserfc.jwk import KeySet

    from passgate.apps.services import OidcRegistration, app_create
    from passgate.audit.services import Actor

    user, _ = enroll(tab, "pat@contoso.com", "Pat Example")
    # The app's redirect URI: any page that loads will do (a loopback http URI), the test reads the code from it.
    # (Playwright can't stand in for a host reached through a server redirect.)
    callback = f"{app}/healthz"
    registration, secret = app_create(display_name="Browser RP", permissions=(), actor=Actor.system("test"),
                                      oidc=OidcRegistration(redirect_uris=(callback,)))

    # Signed out, with the passkey off the authenticator until the page's autofill request has ended, so the
    # sign-in below comes from the button.
    saved = tab.credentials()
    tab.clear_credentials()
    tab.sign_out()
    verifier, challenge = pkce()
    params = {"response_type": "code", "client_id": str(registration.app_id), "redirect_uri": callback,
              "scope": "openid profile", "state": "st-1", "nonce": "n-1", "code_challenge": challenge,
              "code_challenge_method": "S256"}
    tab.goto("/oidc/authorize?" + urlencode(params))
    tab.page.wait_for_url(lambda url: urlsplit(url).path == "/signin")
    assert tab.wait_autofill_settled() == "ended"
    tab.add_credential(saved[0])
    tab.page.click("#passkey-button")
    tab.page.wait_for_url(lambda url: url.startswith(callback + "?"))

    answer = {k: v[0] for k, v in parse_qs(urlsplit(tab.page.url).query).items()}
    assert answer["state"] == "st-1" and answer["iss"] == app and answer["code"]
    response = tab.context.request.post(f"{app}/oidc/token", form={
        "grant_type": "authorization_code", "code": answer["code"], "redirect_uri": callback,
        "code_verifier": verifier}, headers={"Authorization": basic(str(registration.app_id), secret or "")})
    assert response.status == 200, response.text()
    id_token = response.json()["id_token"]
    published = tab.context.request.get(f"{app}/oidc/jwks").json()
    claims = jwt.decode(id_token, KeySet.import_key_set(published), algorithms=[b64url_json(id_token, 0)["alg"]]
                        ).claims
    assert claims["iss"] == app and claims["aud"] == str(registration.app_id) and claims["nonce"] == "n-1"
    assert claims["sub"] == str(user.pk) and claims["name"] == "Pat Example"
    assert claims["acr"] == "00000000-0000-0000-0000-000000000004"
    assert claims["amr"] == ["hwk", "mfa", "user"]  # the virtual authenticator's passkey is device-bound
