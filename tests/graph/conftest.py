"""Graph API fixtures: Passgate's public origin, app tokens, signed-in administrators, a JSON client."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from typing import Any

import pytest

ORIGIN = "https://id.contoso.test"
HOST = "id.contoso.test"


@pytest.fixture(autouse=True)
def graph_origin(settings: Any) -> None:
    settings.PASSGATE = dataclasses.replace(settings.PASSGATE, origin=ORIGIN, rp_id=HOST, extra_origins=())
    settings.ALLOWED_HOSTS = ["testserver", HOST]
    settings.CSRF_TRUSTED_ORIGINS = [ORIGIN, "http://testserver"]


class Api:
    """A Django test client speaking JSON to the Graph API, with an optional bearer token."""

    def __init__(self, client: Any, token: str | None = None) -> None:
        self.client = client
        self.token = token

    def _headers(self, extra: dict[str, str]) -> dict[str, str]:
        headers = dict(extra)
        if self.token is not None:
            headers.setdefault("HTTP_AUTHORIZATION", f"Bearer {self.token}")
        return headers

    def request(self, method: str, path: str, body: Any = None, **extra: str) -> Any:
        kwargs: dict[str, Any] = self._headers(extra)
        if body is not None:
            kwargs["data"] = body if isinstance(body, (str, bytes)) else json.dumps(body)
            kwargs["content_type"] = kwargs.pop("content_type", "application/json")
        return getattr(self.client, method.lower())(path, **kwargs)

    def get(self, path: str, **extra: str) -> Any:
        return self.request("GET", path, **extra)

    def post(self, path: str, body: Any = None, **extra: str) -> Any:
        return self.request("POST", path, body if body is not None else {}, **extra)

    def patch(self, path: str, body: Any = None, **extra: str) -> Any:
        return self.request("PATCH", path, body if body is not None else {}, **extra)

    def delete(self, path: str, **extra: str) -> Any:
        return self.request("DELETE", path, **extra)


def issue_token(*permissions: str) -> str:
    from passgate.apps.services import app_create, token_issue
    from passgate.audit.services import Actor

    app, secret = app_create(display_name="Test app", permissions=permissions, actor=Actor.system("test"))
    return token_issue(client_id=str(app.app_id), client_secret=secret,
                       scope="https://graph.microsoft.com/.default").access_token


@pytest.fixture
def app_api(client: Any, db: Any) -> Callable[..., Api]:
    """``app_api("User.Read.All", ...)``: an Api calling with a fresh app's access token."""

    def make(*permissions: str) -> Api:
        return Api(client, issue_token(*permissions))

    return make


def sign_in_session(client: Any, user: Any) -> None:
    """A signed-in browser session as the web adapter starts one (passkey sign-in, fresh)."""
    from django.utils import timezone

    from passgate.web import session as web_session

    client.force_login(user, backend="passgate.directory.backends.DirectoryBackend")
    s = client.session
    now = timezone.now().isoformat()
    s[web_session.AUTH_TIME] = now
    s[web_session.LAST_SEEN] = now
    s[web_session.METHOD] = "passkey"
    s.save()


@pytest.fixture
def admin_api(client: Any, make_user: Any) -> Callable[..., Api]:
    """``admin_api(DirectoryRole.USER_ADMINISTRATOR, ...)``: an Api calling with a signed-in admin's session."""

    def make(*roles: Any, upn: str | None = None) -> Api:
        user = make_user(upn=upn, display_name="Admin", roles=tuple(roles))
        sign_in_session(client, user)
        return Api(client)

    return make


def error_of(response: Any) -> tuple[int, str, str]:
    """(status, Graph error code, message) of an error response, checking the whole envelope."""
    body = response.json()
    assert set(body) == {"error"}, body
    error = body["error"]
    assert set(error) == {"code", "message", "innerError"}, error
    inner = error["innerError"]
    assert set(inner) == {"date", "request-id", "client-request-id"}, inner
    assert inner["request-id"] == response["request-id"]
    return response.status_code, error["code"], error["message"]
