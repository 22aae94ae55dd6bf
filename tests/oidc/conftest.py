"""OpenID Connect provider fixtures: registered relying parties, signed-in browser sessions (django.test.Client
against the real URLconf, passkeys from the software authenticator), and a small RP that drives code + PKCE.

The issuer is the test relying party's origin, ``https://login.example.com`` (tests/services/support.py).
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from django.test import Client

from tests.services.support import authenticator_for, challenge_of, register, use_test_relying_party

ISSUER = "https://login.example.com"
REDIRECT_URI = "https://rp.example.org/callback"
POST_LOGOUT_URI = "https://rp.example.org/signed-out"


@pytest.fixture(autouse=True)
def test_relying_party(settings: Any) -> None:
    use_test_relying_party(settings)


def pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def query_of(location: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query, keep_blank_values=True).items()}


def basic(client_id: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()


def b64url_json(token: str, part: int) -> dict[str, Any]:
    raw = token.split(".")[part]
    return dict(json.loads(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4))))


@dataclass
class RelyingParty:
    """A registered app and what a relying party does with it, over django.test.Client."""

    app: Any
    secret: str | None
    browser: Client
    back_channel: Client = field(default_factory=Client)
    redirect_uri: str = REDIRECT_URI
    verifier: str = ""
    state: str = ""
    nonce: str = ""

    @property
    def client_id(self) -> str:
        return str(self.app.app_id)

    def authorize_params(self, **params: Any) -> dict[str, str]:
        self.verifier, challenge = pkce()
        self.state, self.nonce = secrets.token_urlsafe(12), secrets.token_urlsafe(12)
        base = {"response_type": "code", "client_id": self.client_id, "redirect_uri": self.redirect_uri,
                "scope": "openid profile email", "state": self.state, "nonce": self.nonce,
                "code_challenge": challenge, "code_challenge_method": "S256"}
        base.update({k: v for k, v in params.items() if v is not None})
        for name in [k for k, v in params.items() if v is None]:
            base.pop(name, None)
        return base

    def authorize(self, **params: Any) -> Any:
        """GET /oidc/authorize with a fresh PKCE pair, state and nonce (``name=None`` drops a parameter)."""
        return self.browser.get("/oidc/authorize?" + urlencode(self.authorize_params(**params)))

    def code(self, **params: Any) -> str:
        response = self.authorize(**params)
        assert response.status_code == 302, response.content
        answer = query_of(response["Location"])
        assert response["Location"].startswith(self.redirect_uri + "?"), response["Location"]
        assert answer.get("state") == self.state and answer.get("iss") == ISSUER, answer
        assert "code" in answer, answer
        return answer["code"]

    def token(self, **form: Any) -> Any:
        """POST /oidc/token with client_secret_basic (or what ``form``/``auth`` says)."""
        auth = form.pop("auth", "basic")
        headers: dict[str, str] = {}
        if auth == "basic" and self.secret:
            headers["HTTP_AUTHORIZATION"] = basic(self.client_id, self.secret)
        elif auth == "post":
            form.setdefault("client_id", self.client_id)
            form.setdefault("client_secret", self.secret)
        elif auth == "none":
            form.setdefault("client_id", self.client_id)
        body = urlencode({k: v for k, v in form.items() if v is not None})
        return self.back_channel.post("/oidc/token", data=body, content_type="application/x-www-form-urlencoded",
                                      **headers)

    def redeem(self, code: str, **form: Any) -> Any:
        form = {"grant_type": "authorization_code", "code": code, "redirect_uri": self.redirect_uri,
                "code_verifier": self.verifier, **form}
        return self.token(**form)

    def tokens(self, **params: Any) -> dict[str, Any]:
        """The whole flow: authorize, then redeem the code; the token response JSON."""
        response = self.redeem(self.code(**params))
        assert response.status_code == 200, response.content
        return dict(response.json())

    def userinfo(self, access_token: str) -> Any:
        return self.back_channel.get("/oidc/userinfo", HTTP_AUTHORIZATION=f"Bearer {access_token}")


@pytest.fixture
def make_rp(db: Any) -> Any:
    from passgate.apps.services import OidcRegistration, app_create
    from passgate.audit.services import Actor

    def make(browser: Client | None = None, *, name: str = "Example RP", permissions: tuple[str, ...] = (),
             **oidc: Any) -> RelyingParty:
        oidc.setdefault("redirect_uris", (REDIRECT_URI,))
        oidc.setdefault("post_logout_redirect_uris", (POST_LOGOUT_URI,))
        app, secret = app_create(display_name=name, permissions=permissions, actor=Actor.system("test"),
                                 oidc=OidcRegistration(**oidc))
        return RelyingParty(app=app, secret=secret, browser=browser or Client())

    return make


def passkey_sign_in(client: Client, auth: Any) -> Any:
    options = client.post("/signin/passkey/options", data="{}", content_type="application/json")
    assert options.status_code == 200, options.content
    auth.sign_count += 1
    credential = auth.assert_(challenge=challenge_of(options.json()))
    response = client.post("/signin/passkey/verify", data=json.dumps({"credential": credential}),
                           content_type="application/json")
    assert response.status_code == 200, response.content
    return response


@pytest.fixture
def person(make_user: Any) -> tuple[Any, Any]:
    """A user with one registered (device-bound) passkey: (user, software authenticator)."""
    user = make_user(upn="pat@contoso.com", display_name="Pat Example")
    auth = authenticator_for(user, sign_count=1)
    register(user, auth)
    return user, auth


@pytest.fixture
def browser(client: Client, person: Any) -> Client:
    """A browser signed in with Pat's passkey."""
    passkey_sign_in(client, person[1])
    return client


@pytest.fixture
def rp(make_rp: Any, browser: Client) -> RelyingParty:
    """A confidential client (client_secret_basic) and Pat's signed-in browser."""
    return make_rp(browser)  # type: ignore[no-any-return]


def audit(activity: str, **filters: Any) -> list[Any]:
    from passgate.audit.models import AuditEvent

    return list(AuditEvent.objects.filter(activity=activity, **filters).order_by("occurred_at"))


def verify_id_token(token: str, *, audience: str) -> dict[str, Any]:
    """Verify an ID token with the published JWKS only (what an RP does)."""
    from joserfc import jwt
    from joserfc.jwk import KeySet

    published = Client().get("/oidc/jwks").json()
    header = b64url_json(token, 0)
    decoded = jwt.decode(token, KeySet.import_key_set(published), algorithms=[header["alg"]])
    claims = dict(decoded.claims)
    assert claims["iss"] == ISSUER and claims["aud"] == audience
    return claims


def tap_sign_in(client: Client, upn: str, tap: str, next_url: str | None = None) -> Any:
    data = {"upn": upn, "tap": tap, **({"next": next_url} if next_url else {})}
    return client.post("/signin/tap", data)


@pytest.fixture
def tap_person(make_user: Any, issue_tap: Any) -> tuple[Any, Any, Client]:
    """Pat, with a passkey, signed in with a one-time pass."""
    user = make_user(upn="pat@contoso.com", display_name="Pat")
    auth = authenticator_for(user, sign_count=1, backup_eligible=False)
    register(user, auth)
    client = Client()
    tap_sign_in(client, user.user_principal_name, issue_tap(user))
    return user, auth, client
