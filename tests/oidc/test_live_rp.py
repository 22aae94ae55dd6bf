"""End to end against a live server: a real relying-party library completes the authorization code flow with PKCE.

The RP is Authlib's OAuth 2.0 client (``authlib.oauth2.client.OAuth2Client``: authorization URL with an S256
challenge, parsing and state check of the authorization response, client_secret_basic at the token endpoint). Its
HTTP transport is a few lines of urllib below: ``authlib.integrations.requests_client.OAuth2Session`` is the same
class over ``requests``, which is not installed in this project. The browser step (a Temporary Access Pass
sign-in, CSRF token included) is done with urllib and a cookie jar; the ID token is verified with joserfc and the
published JWKS only.
"""

from __future__ import annotations

import http.cookiejar
import json
import re
import secrets
import urllib.error
import urllib.request
from typing import Any
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit

import pytest
from authlib.oauth2.client import OAuth2Client
from joserfc import jwt
from joserfc.jwk import KeySet

from tests.graph.methods import stored_passkey

pytestmark = pytest.mark.django_db(transaction=True)
REDIRECT_URI = "http://127.0.0.1:9/callback"  # never fetched: the flow reads the redirect's Location


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


class Response:
    """The part of a requests.Response Authlib's client reads."""

    def __init__(self, status: int, body: bytes, headers: Any) -> None:
        self.status_code, self.content, self.headers = status, body, headers

    def json(self) -> Any:
        return json.loads(self.content)

    def raise_for_status(self) -> None:
        if self.status_code >= 400:
            raise RuntimeError(f"HTTP {self.status_code}: {self.content[:200]!r}")

    @property
    def location(self) -> str:
        return str(self.headers.get("Location", ""))


class Http:
    """urllib with a cookie jar and no automatic redirects; ``post`` has the signature Authlib's client calls."""

    def __init__(self) -> None:
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar), _NoRedirects)

    def request(self, method: str, url: str, *, body: bytes | None = None,
                headers: dict[str, str] | None = None) -> Response:
        req = urllib.request.Request(url, data=body, headers=headers or {}, method=method)  # noqa: S310 - http(s) only
        try:
            with self.opener.open(req, timeout=10) as res:
                return Response(res.status, res.read(), res.headers)
        except urllib.error.HTTPError as err:  # 3xx (redirects not followed) and 4xx/5xx
            return Response(err.code, err.read(), err.headers)

    def get(self, url: str, **headers: str) -> Response:
        return self.request("GET", url, headers=headers)

    def post(self, url: str, data: dict[str, str] | None = None, headers: dict[str, str] | None = None,
             auth: Any = None, **_: Any) -> Response:
        body = urlencode(data or {})
        headers = dict(headers or {})
        if auth is not None:  # Authlib's ClientAuth: client_secret_basic adds the Authorization header
            url, headers, body = auth.prepare("POST", url, headers, body)
        headers.setdefault("Content-Type", "application/x-www-form-urlencoded")
        return self.request("POST", url, body=body.encode(), headers=headers)


def tap_sign_in_following(browser: Http, start: str, origin: str, upn: str, tap: str) -> str:
    """Follow the authorization request like a browser: to the sign-in page, to the TAP form, post it with its
    CSRF token, and back; returns the final redirect to the app."""
    response = browser.get(start)
    assert response.status_code == 302
    sign_in = urljoin(origin, response.location)
    assert urlsplit(sign_in).path == "/signin"
    page = browser.get(sign_in)
    tap_link = re.search(rb'id="tap-link" href="([^"]+)"', page.content)
    assert tap_link
    form_url = urljoin(origin, tap_link.group(1).decode().replace("&amp;", "&"))
    form = browser.get(form_url).content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form)
    next_field = re.search(r'name="next" value="([^"]+)"', form)
    assert token and next_field
    posted = browser.post(urljoin(origin, "/signin/tap"), {
        "csrfmiddlewaretoken": token.group(1), "upn": upn, "tap": tap,
        "next": next_field.group(1).replace("&amp;", "&")})
    assert posted.status_code == 302, posted.content[:500]
    back = browser.get(urljoin(origin, posted.location))
    assert back.status_code == 302
    return back.location


def test_authlib_client_completes_code_and_pkce(app: str, make_user: Any, issue_tap: Any) -> None:
    from passgate.apps.services import OidcRegistration, app_create
    from passgate.audit.services import Actor

    user = make_user("ada@contoso.com", "Ada Lovelace")
    stored_passkey(user)  # has a passkey, so no add-a-passkey interrupt on the way
    registration, secret = app_create(display_name="Live RP", permissions=(), actor=Actor.system("test"),
                                      oidc=OidcRegistration(redirect_uris=(REDIRECT_URI,)))
    back_channel, browser = Http(), Http()
    discovery = back_channel.get(f"{app}/.well-known/openid-configuration").json()
    assert discovery["issuer"] == app

    client = OAuth2Client(back_channel, client_id=str(registration.app_id), client_secret=secret,
                          token_endpoint_auth_method="client_secret_basic", scope="openid profile email",
                          redirect_uri=REDIRECT_URI, code_challenge_method="S256")
    verifier, nonce = secrets.token_urlsafe(48), secrets.token_urlsafe(16)
    url, state = client.create_authorization_url(discovery["authorization_endpoint"], code_verifier=verifier,
                                                 nonce=nonce)
    assert "code_challenge=" in url and "code_challenge_method=S256" in url

    location = tap_sign_in_following(browser, url, app, user.user_principal_name, issue_tap(user))
    assert location.startswith(REDIRECT_URI + "?")
    assert parse_qs(urlsplit(location).query)["iss"] == [app]  # RFC 9207, checked before using the code
    token = client.fetch_token(discovery["token_endpoint"], authorization_response=location, state=state,
                               code_verifier=verifier)
    assert token["token_type"] == "Bearer" and "refresh_token" not in token

    published = KeySet.import_key_set(back_channel.get(discovery["jwks_uri"]).json())
    claims = jwt.decode(token["id_token"], published, algorithms=discovery["id_token_signing_alg_values_supported"]
                        ).claims
    jwt.JWTClaimsRegistry(iss={"essential": True, "value": app},
                          aud={"essential": True, "value": str(registration.app_id)},
                          nonce={"essential": True, "value": nonce}, exp={"essential": True}).validate(claims)
    assert claims["sub"] == str(user.pk)
    assert claims["acr"] == "00000000-0000-0000-0000-000000000002"  # a one-time pass: Multifactor authentication
    assert claims["amr"] == ["mfa", "otp"]
    assert claims["preferred_username"] == "ada@contoso.com"

    info = back_channel.get(discovery["userinfo_endpoint"], Authorization=f"Bearer {token['access_token']}")
    assert info.status_code == 200 and info.json()["sub"] == claims["sub"]
