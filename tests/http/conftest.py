"""HTTP fixtures: django.test.Client against the real URLconf, with the software authenticator as relying
party counterpart (see tests/services/support.py)."""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import quote

import pytest

from tests.services.support import authenticator_for, challenge_of, register, use_test_relying_party

SESSION_COOKIE = "passgate_session"


@pytest.fixture(autouse=True)
def test_relying_party(settings: Any) -> None:
    use_test_relying_party(settings)


def post_json(client: Any, url: str, body: Any, **extra: Any) -> Any:
    return client.post(url, data=json.dumps(body), content_type="application/json", **extra)


def session_key(client: Any) -> str | None:
    cookie = client.cookies.get(SESSION_COOKIE)
    return cookie.value if cookie is not None and cookie.value else None


def http_sign_in(client: Any, auth: Any, *, next_url: str | None = None) -> Any:
    """Username-less passkey sign-in over HTTP: options, the authenticator, verify."""
    options = post_json(client, "/signin/passkey/options", {})
    assert options.status_code == 200, options.content
    auth.sign_count += 1
    credential = auth.assert_(challenge=challenge_of(options.json()))
    url = "/signin/passkey/verify" + (f"?next={quote(next_url, safe='')}" if next_url is not None else "")
    return post_json(client, url, {"credential": credential})


def http_tap_sign_in(client: Any, upn: str, tap: str) -> Any:
    return client.post("/signin/tap", {"upn": upn, "tap": tap})


def edit_session(client: Any, **values: Any) -> None:
    """Change the server-side session row behind the client's cookie."""
    session = client.session
    for key, value in values.items():
        session[key] = value
    session.save()


def error_text(html: bytes) -> bytes:
    """The rendered error paragraph of a page, exactly as sent."""
    found = re.search(rb'<p class="error" role="alert">(.*?)</p>', html, re.S)
    assert found, html
    return found.group(1)


@pytest.fixture
def enrolled(make_user: Any) -> tuple[Any, Any, Any]:
    """A user with one registered passkey: (user, authenticator, passkey)."""
    user = make_user(upn="pat@contoso.com", display_name="Pat")
    auth = authenticator_for(user, sign_count=1)
    return user, auth, register(user, auth)


@pytest.fixture
def signed_in(client: Any, enrolled: Any) -> tuple[Any, Any, Any, Any]:
    """A client signed in with a passkey, over HTTP: (client, user, authenticator, passkey)."""
    user, auth, passkey = enrolled
    response = http_sign_in(client, auth)
    assert response.status_code == 200, response.content
    return client, user, auth, passkey
