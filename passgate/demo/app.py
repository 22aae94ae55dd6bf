"""A small relying party that signs in through Passgate with OpenID Connect and shows the ID token's claims.

It is deliberately separate from Passgate: it imports nothing of it, learns everything from the discovery
document, and uses a standard client library (Authlib's ``OAuth2Session`` over ``requests``, authorization code
with PKCE S256, ``state`` and ``nonce``) and ``joserfc`` to verify the ID token against the published JWKS. Its
own session is a signed cookie. Run it with ``passgate demo-app`` (which registers it as a public client).

Pages: ``/`` (sign in, or the claims), ``/login`` (``?acr=<strength id>`` asks for a stronger sign-in),
``/callback``, ``/logout`` (RP-initiated logout at Passgate), ``/demo.css``; every answer has its own strict
Content-Security-Policy (no script, no inline style).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import html
import json
import secrets
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http.cookies import CookieError, SimpleCookie
from importlib import resources
from typing import Any
from urllib.parse import parse_qs, urlencode

import requests
from authlib.common.security import generate_token
from authlib.integrations.base_client.errors import OAuthError
from authlib.integrations.requests_client import OAuth2Session
from authlib.oauth2.base import OAuth2Error
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

COOKIE = "demo_session"
SCOPE = "openid profile email"
PHISHING_RESISTANT = "00000000-0000-0000-0000-000000000004"
TIMEOUT = 10
StartResponse = Callable[[str, list[tuple[str, str]]], Any]


class DemoError(Exception):
    """Something the person should see on the demo's page (a refused state, a bad token, an OP error)."""


@dataclass
class DemoApp:
    """A WSGI app. ``issuer`` is Passgate's origin; ``base_url`` is where this app is reached."""

    issuer: str
    client_id: str
    base_url: str
    secret: bytes = field(default_factory=lambda: secrets.token_bytes(32))
    http: requests.Session = field(default_factory=requests.Session)
    _metadata: dict[str, Any] | None = None

    # --- OpenID Connect -------------------------------------------------------------------------------------------

    @property
    def redirect_uri(self) -> str:
        return f"{self.base_url}/callback"

    def metadata(self) -> dict[str, Any]:
        if self._metadata is None:
            response = self.http.get(f"{self.issuer}/.well-known/openid-configuration", timeout=TIMEOUT)
            response.raise_for_status()
            document = response.json()
            if document.get("issuer") != self.issuer:
                raise DemoError(f"The discovery document names issuer {document.get('issuer')!r}, not {self.issuer!r}.")
            self._metadata = document
        return self._metadata

    def _client(self, **kwargs: Any) -> OAuth2Session:
        return OAuth2Session(client_id=self.client_id, scope=SCOPE, redirect_uri=self.redirect_uri,
                             token_endpoint_auth_method="none",  # noqa: S106 - a public client: no secret
                             code_challenge_method="S256", **kwargs)

    def authorization_url(self, *, acr: str | None) -> tuple[str, dict[str, str]]:
        """Where to send the browser, and what to remember until it comes back."""
        verifier = generate_token(64)
        nonce = generate_token(32)
        extra = {"nonce": nonce, **({"acr_values": acr} if acr else {})}
        url, state = self._client().create_authorization_url(self.metadata()["authorization_endpoint"],
                                                             code_verifier=verifier, **extra)
        return url, {"state": state, "verifier": verifier, "nonce": nonce}

    def finish(self, query: str, pending: dict[str, str]) -> dict[str, Any]:
        """The callback: check state and iss, redeem the code with the PKCE verifier, verify the ID token."""
        params = {k: v[0] for k, v in parse_qs(query).items()}
        if not pending or not hmac.compare_digest(params.get("state", ""), pending.get("state", "")):
            raise DemoError("The answer doesn't belong to a sign-in this browser started (state mismatch).")
        if params.get("iss") not in (None, self.issuer):  # RFC 9207
            raise DemoError(f"The answer came from {params.get('iss')!r}, not {self.issuer!r}.")
        if "error" in params:
            raise DemoError(f"Passgate answered {params['error']}: {params.get('error_description', '')}")
        token = self._client(state=pending["state"]).fetch_token(
            self.metadata()["token_endpoint"], authorization_response=f"{self.redirect_uri}?{query}",
            code_verifier=pending["verifier"])
        claims = self.verify_id_token(token["id_token"], nonce=pending["nonce"])
        userinfo = self.http.get(self.metadata()["userinfo_endpoint"], timeout=TIMEOUT,
                                 headers={"Authorization": f"Bearer {token['access_token']}"})
        userinfo.raise_for_status()
        return {"claims": claims, "userinfo": userinfo.json(), "id_token": token["id_token"]}

    def verify_id_token(self, id_token: str, *, nonce: str) -> dict[str, Any]:
        jwks = self.http.get(self.metadata()["jwks_uri"], timeout=TIMEOUT)
        jwks.raise_for_status()
        try:
            decoded = jwt.decode(id_token, KeySet.import_key_set(jwks.json()),
                                 algorithms=self.metadata().get("id_token_signing_alg_values_supported", ["ES256"]))
        except (JoseError, ValueError) as exc:
            raise DemoError(f"The ID token's signature doesn't verify with Passgate's keys: {exc}") from exc
        claims = dict(decoded.claims)
        now = time.time()
        checks = {
            "iss": claims.get("iss") == self.issuer,
            "aud": self.client_id == claims.get("aud") or self.client_id in (claims.get("aud") or []),
            "exp": isinstance(claims.get("exp"), int) and claims["exp"] > now - 60,
            "iat": isinstance(claims.get("iat"), int) and claims["iat"] < now + 60,
            "nonce": hmac.compare_digest(str(claims.get("nonce", "")), nonce),
        }
        failed = [name for name, ok in checks.items() if not ok]
        if failed:
            raise DemoError(f"The ID token fails these checks: {', '.join(failed)}.")
        return claims

    def logout_url(self, id_token: str) -> str:
        endpoint = str(self.metadata().get("end_session_endpoint") or "")
        if not endpoint:
            return f"{self.base_url}/"
        return endpoint + "?" + urlencode({"id_token_hint": id_token, "client_id": self.client_id,
                                           "post_logout_redirect_uri": f"{self.base_url}/"})

    # --- the signed cookie ----------------------------------------------------------------------------------------

    def _sign(self, value: dict[str, Any]) -> str:
        payload = base64.urlsafe_b64encode(json.dumps(value, separators=(",", ":")).encode()).decode()
        mac = hmac.new(self.secret, payload.encode(), hashlib.sha256).hexdigest()
        return f"{payload}.{mac}"

    def _unsign(self, cookie_header: str) -> dict[str, Any]:
        jar: SimpleCookie = SimpleCookie()
        try:
            jar.load(cookie_header)
        except CookieError:  # a malformed Cookie header is just no session
            return {}
        morsel = jar.get(COOKIE)
        if morsel is None or "." not in morsel.value:
            return {}
        payload, mac = morsel.value.rsplit(".", 1)
        expected = hmac.new(self.secret, payload.encode(), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(mac, expected):
            return {}
        try:
            value = json.loads(base64.urlsafe_b64decode(payload.encode()))
        except ValueError:
            return {}
        return value if isinstance(value, dict) else {}

    def _cookie(self, value: dict[str, Any]) -> tuple[str, str]:
        return ("Set-Cookie", f"{COOKIE}={self._sign(value)}; Path=/; HttpOnly; SameSite=Lax")

    # --- WSGI -----------------------------------------------------------------------------------------------------

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        try:
            return self._route(environ, start_response)
        except (DemoError, requests.RequestException, KeyError, ValueError) as exc:
            return self._page(start_response, _error(str(exc)), status="400 Bad Request")
        except (OAuthError, OAuth2Error) as exc:  # the token endpoint's answer: show it
            return self._page(start_response, _error(f"{type(exc).__name__}: {exc}"), status="400 Bad Request")

    def _route(self, environ: dict[str, Any], start_response: StartResponse) -> list[bytes]:
        path = environ.get("PATH_INFO", "/")
        query = environ.get("QUERY_STRING", "")
        session = self._unsign(environ.get("HTTP_COOKIE", ""))
        if path == "/":
            return self._page(start_response, _home(session))
        if path == "/demo.css":
            return self._stylesheet(start_response)
        if path == "/login":
            url, pending = self.authorization_url(acr=parse_qs(query).get("acr", [None])[0])
            return self._redirect(start_response, url, {"pending": pending})
        if path == "/callback":
            signed_in = self.finish(query, session.get("pending") or {})
            return self._redirect(start_response, "/", {"signed_in": signed_in})
        if path == "/logout":
            id_token = (session.get("signed_in") or {}).get("id_token", "")
            return self._redirect(start_response, self.logout_url(id_token) if id_token else "/", {})
        return self._page(start_response, _error("There is no such page."), status="404 Not Found")

    def _page(self, start_response: StartResponse, body: str, *, status: str = "200 OK") -> list[bytes]:
        data = body.encode()
        start_response(status, [("Content-Type", "text/html; charset=utf-8"), ("Content-Length", str(len(data))),
                                ("Cache-Control", "no-store"), *SECURITY_HEADERS])
        return [data]

    def _stylesheet(self, start_response: StartResponse) -> list[bytes]:
        data = _STYLESHEET.read_bytes()
        start_response("200 OK", [("Content-Type", "text/css; charset=utf-8"), ("Content-Length", str(len(data))),
                                  ("Cache-Control", "public, max-age=3600"), *SECURITY_HEADERS])
        return [data]

    def _redirect(self, start_response: StartResponse, location: str, session: dict[str, Any]) -> list[bytes]:
        start_response("302 Found", [("Location", location), self._cookie(session), ("Content-Length", "0"),
                                     ("Cache-Control", "no-store"), *SECURITY_HEADERS])
        return [b""]


_STYLESHEET = resources.files("passgate.demo") / "static" / "demo.css"
# The demo's pages have no script and no form: its stylesheet, links, nothing else. The callback's URL carries the
# code, so no Referer leaves the demo.
SECURITY_HEADERS = [
    ("Content-Security-Policy", "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'none'; "
                                "frame-ancestors 'none'; base-uri 'none'"),
    ("X-Content-Type-Options", "nosniff"), ("X-Frame-Options", "DENY"), ("Referrer-Policy", "no-referrer"),
    ("Cross-Origin-Opener-Policy", "same-origin"),
]


def _layout(title: str, body: str) -> str:
    return (f"<!doctype html><html lang=en><head><meta charset=utf-8><title>{html.escape(title)}</title>"
            "<meta name=viewport content='width=device-width,initial-scale=1'><link rel=stylesheet href='/demo.css'>"
            "</head>"
            f"<body><h1>{html.escape(title)}</h1>{body}</body></html>")


def _rows(values: dict[str, Any]) -> str:
    return "".join(f"<tr><th>{html.escape(str(k))}</th><td><code>{html.escape(json.dumps(v))}</code></td></tr>"
                   for k, v in sorted(values.items()))


def _home(session: dict[str, Any]) -> str:
    signed_in = session.get("signed_in")
    if not signed_in:
        return _layout("Demo app", "<p>This app trusts Passgate to sign people in (OpenID Connect, code flow with "
                                   "PKCE).</p><p><a class=button id=login href='/login'>Sign in with Passgate</a>"
                                   f"<a class='button secondary' id=login-phr href='/login?acr={PHISHING_RESISTANT}'>"
                                   "Sign in, phishing-resistant</a></p>")
    claims = signed_in.get("claims", {})
    name = claims.get("name") or claims.get("preferred_username") or claims.get("sub")
    return _layout("Demo app", f"<p id=welcome>Signed in as <strong>{html.escape(str(name))}</strong>.</p>"
                               "<h2>ID token claims</h2><p class=note>Signature verified with Passgate's JWKS; iss, "
                               "aud, exp, iat and nonce checked.</p>"
                               f"<table id=claims>{_rows(claims)}</table><h2>UserInfo</h2>"
                               f"<table id=userinfo>{_rows(signed_in.get('userinfo', {}))}</table>"
                               f"<p><a class='button secondary' id=step-up href='/login?acr={PHISHING_RESISTANT}'>"
                               "Sign in again, phishing-resistant</a><a class='button secondary' id=logout "
                               "href='/logout'>Sign out</a></p>")


def _error(message: str) -> str:
    return _layout("Demo app", f"<p class=error role=alert id=error>{html.escape(message)}</p>"
                               "<p><a class=button href='/'>Back</a></p>")
