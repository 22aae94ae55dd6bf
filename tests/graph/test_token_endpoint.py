"""POST /oauth2/v2.0/token: the client credentials grant over HTTP (RFC 6749 §2.3.1, §4.4, §5.1, §5.2)."""

from __future__ import annotations

import base64
from typing import Any
from urllib.parse import quote_plus, urlencode

import pytest

from passgate.apps.services import app_create
from passgate.audit.models import AuditEvent
from passgate.audit.services import Actor
from tests.graph.conftest import ORIGIN

pytestmark = pytest.mark.django_db
FORM = "application/x-www-form-urlencoded"
SCOPE = "https://graph.microsoft.com/.default"


@pytest.fixture
def registered() -> tuple[str, str]:
    app, secret = app_create(display_name="Script", permissions=["User.Read.All"], actor=Actor.system("test"))
    return str(app.app_id), secret


def post(client: Any, fields: list[tuple[str, str]] | dict[str, str], path: str = "/oauth2/v2.0/token",
         **extra: Any) -> Any:
    return client.post(path, data=urlencode(fields), content_type=extra.pop("content_type", FORM), **extra)


def basic(client_id: str, secret: str) -> str:
    raw = f"{quote_plus(client_id)}:{quote_plus(secret)}".encode()
    return "Basic " + base64.b64encode(raw).decode()


def assert_no_store(response: Any) -> None:
    assert response["Cache-Control"] == "no-store"
    assert response["Pragma"] == "no-cache"


def test_client_secret_post(client: Any, registered: tuple[str, str]) -> None:
    client_id, secret = registered
    response = post(client, {"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret,
                             "scope": SCOPE})
    assert response.status_code == 200, response.content
    body = response.json()
    assert set(body) == {"token_type", "expires_in", "ext_expires_in", "access_token"}
    assert body["token_type"] == "Bearer" and body["expires_in"] == 3600
    assert_no_store(response)


@pytest.mark.parametrize("path", ["/oauth2/v2.0/token", "/contoso.onmicrosoft.com/oauth2/v2.0/token",
                                  "/8f2c3c5e-1b2a-4c0d-9e1f-0a1b2c3d4e5f/oauth2/v2.0/token"])
def test_client_secret_basic_with_or_without_a_tenant(client: Any, registered: tuple[str, str], path: str) -> None:
    client_id, secret = registered
    response = post(client, {"grant_type": "client_credentials", "scope": SCOPE}, path,
                    HTTP_AUTHORIZATION=basic(client_id, secret))
    assert response.status_code == 200, response.content
    token = response.json()["access_token"]
    assert client.get("/v1.0/users", HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 200


def test_basic_credentials_are_form_decoded(client: Any) -> None:
    app, secret = app_create(display_name="Script", permissions=["User.Read.All"], actor=Actor.system("test"))
    raw = base64.b64encode(f"{app.app_id}:{quote_plus(secret)}".encode()).decode()
    response = post(client, {"grant_type": "client_credentials", "scope": SCOPE}, HTTP_AUTHORIZATION=f"Basic {raw}")
    assert response.status_code == 200


@pytest.mark.parametrize(("fields", "headers", "outcome"), [
    ({"client_id": "{id}", "client_secret": "{secret}", "scope": SCOPE}, {}, (400, "invalid_request")),
    ({"grant_type": "authorization_code", "client_id": "{id}", "client_secret": "{secret}", "scope": SCOPE}, {},
     (400, "unsupported_grant_type")),
    ({"grant_type": "password", "username": "a", "password": "b", "scope": SCOPE}, {},
     (400, "unsupported_grant_type")),
    ({"grant_type": "client_credentials", "client_id": "{id}", "client_secret": "{secret}"}, {},
     (400, "invalid_request")),
    ({"grant_type": "client_credentials", "client_id": "{id}", "client_secret": "{secret}",
      "scope": "https://graph.microsoft.com/User.Read.All"}, {}, (400, "invalid_scope")),
    ({"grant_type": "client_credentials", "client_id": "{id}", "client_secret": "wrong", "scope": SCOPE}, {},
     (401, "invalid_client")),
    ({"grant_type": "client_credentials", "client_id": "{id}", "scope": SCOPE}, {}, (401, "invalid_client")),
    ({"grant_type": "client_credentials", "scope": SCOPE}, {}, (401, "invalid_client")),
    ({"grant_type": "client_credentials", "client_id": "00000000-0000-0000-0000-000000000000",
      "client_secret": "{secret}", "scope": SCOPE}, {}, (401, "invalid_client")),
    ({"grant_type": "client_credentials", "client_secret": "{secret}", "scope": SCOPE},
     {"HTTP_AUTHORIZATION": "basic:{id}:{secret}"}, (400, "invalid_request")),  # both methods at once
    ({"grant_type": "client_credentials", "client_id": "00000000-0000-0000-0000-000000000000", "scope": SCOPE},
     {"HTTP_AUTHORIZATION": "basic:{id}:{secret}"}, (400, "invalid_request")),  # two different clients
])
def test_refusals(client: Any, registered: tuple[str, str], fields: dict[str, str], headers: dict[str, str],
                  outcome: tuple[int, str]) -> None:
    client_id, secret = registered
    fields = {k: v.format(id=client_id, secret=secret) for k, v in fields.items()}
    headers = {k: (basic(client_id, secret) if v.startswith("basic:") else v) for k, v in headers.items()}
    response = post(client, fields, **headers)
    body = response.json()
    assert (response.status_code, body["error"]) == outcome, body
    assert body["error_description"]
    assert_no_store(response)
    assert "WWW-Authenticate" not in response  # no Basic credentials were used
    assert AuditEvent.objects.filter(activity="token.issue", result="failure").count() == 1


@pytest.mark.parametrize("authorization", [
    "basic:{id}:wrong", "Basic !!!notbase64", "Basic " + base64.b64encode(b"no-colon").decode(),
    "Bearer something",
])
def test_bad_basic_credentials_get_401_with_a_challenge(client: Any, registered: tuple[str, str],
                                                         authorization: str) -> None:
    client_id, _ = registered
    header = basic(client_id, "wrong") if authorization.startswith("basic:") else authorization
    response = post(client, {"grant_type": "client_credentials", "scope": SCOPE}, HTTP_AUTHORIZATION=header)
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"
    assert response["WWW-Authenticate"] == 'Basic realm="passgate"'
    assert_no_store(response)


def test_protocol_errors(client: Any, registered: tuple[str, str]) -> None:
    client_id, secret = registered
    good = {"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret, "scope": SCOPE}
    as_json = client.post("/oauth2/v2.0/token", data=good, content_type="application/json")
    assert (as_json.status_code, as_json.json()["error"]) == (400, "invalid_request")
    twice = post(client, [*good.items(), ("scope", SCOPE)])
    assert (twice.status_code, twice.json()["error"]) == (400, "invalid_request")
    assert "'scope' was given more than once" in twice.json()["error_description"]
    get = client.get("/oauth2/v2.0/token")
    assert (get.status_code, get["Allow"], get.json()["error"]) == (405, "POST", "invalid_request")


def test_the_token_endpoint_needs_no_csrf_token(registered: tuple[str, str]) -> None:
    from django.test import Client

    client_id, secret = registered
    response = post(Client(enforce_csrf_checks=True), {"grant_type": "client_credentials", "client_id": client_id,
                                                       "client_secret": secret, "scope": SCOPE})
    assert response.status_code == 200


class _ThroughTestClient:
    """An ``http_client`` for MSAL that sends its requests to Django's test client (MSAL insists on https)."""

    def __init__(self, client: Any) -> None:
        self.client, self.seen = client, []

    def _path(self, url: str) -> str:
        self.seen.append(url)
        assert url.startswith(ORIGIN + "/"), url
        return url.removeprefix(ORIGIN)

    def get(self, url: str, headers: Any = None, params: Any = None, **_: Any) -> Any:
        return _Answer(self.client.get(self._path(url), params or {}))

    def post(self, url: str, headers: Any = None, params: Any = None, data: Any = None, **_: Any) -> Any:
        return _Answer(self.client.post(self._path(url), data=urlencode(data or {}), content_type=FORM))

    def close(self) -> None:
        return None


class _Answer:
    def __init__(self, response: Any) -> None:
        self.status_code, self.text, self.headers = response.status_code, response.content.decode(), response.headers

    def raise_for_status(self) -> None:
        assert self.status_code < 400, self.text


def test_msal_client_credentials_find_the_token_endpoint(client: Any, registered: tuple[str, str]) -> None:
    """MSAL (under azure-identity's ClientSecretCredential) reads ``{authority}/v2.0/.well-known/
    openid-configuration`` first: with instance discovery off and Passgate's origin + any tenant as the authority,
    it gets a token Graph calls accept. (Regression: the tenant document was a 404, so MSAL could not start.)"""
    import msal

    http = _ThroughTestClient(client)
    app = msal.ConfidentialClientApplication(registered[0], client_credential=registered[1],
                                             authority=f"{ORIGIN}/contoso.onmicrosoft.com", instance_discovery=False,
                                             http_client=http)
    result = app.acquire_token_for_client([SCOPE])
    assert "access_token" in result, result
    assert http.seen == [f"{ORIGIN}/contoso.onmicrosoft.com/v2.0/.well-known/openid-configuration",
                         f"{ORIGIN}/oauth2/v2.0/token"]
    assert client.get("/v1.0/users", HTTP_AUTHORIZATION=f"Bearer {result['access_token']}").status_code == 200


def test_the_tenant_document(client: Any) -> None:
    response = client.get("/common/v2.0/.well-known/openid-configuration")
    assert response.status_code == 200 and response["Cache-Control"].startswith("public")
    body = response.json()
    assert (body["issuer"], body["token_endpoint"]) == (ORIGIN, f"{ORIGIN}/oauth2/v2.0/token")
    assert body["grant_types_supported"] == ["client_credentials"]
    assert client.post("/common/v2.0/.well-known/openid-configuration").status_code == 405
