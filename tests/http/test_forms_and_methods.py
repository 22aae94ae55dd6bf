"""HTTP methods, CSRF, and the Temporary Access Pass pages (no account enumeration)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client

from passgate.audit.models import AuditEvent
from passgate.credentials import services
from passgate.credentials.models import Challenge, TemporaryAccessPass
from tests.http.conftest import error_text, http_tap_sign_in, post_json, session_key

pytestmark = pytest.mark.django_db

JSON_ENDPOINTS = ["/signin/passkey/options", "/signin/passkey/verify", "/security-info/passkeys/options",
                  "/security-info/passkeys/verify", "/signin/reauth/options", "/signin/reauth/verify"]


# --- methods ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("method", ["get", "put", "delete", "patch"])
@pytest.mark.parametrize("url", [*JSON_ENDPOINTS, "/signout"])
def test_post_only_endpoints_refuse_other_methods(client: Client, url: str, method: str) -> None:
    before = Challenge.objects.count()
    response = getattr(client, method)(url)
    assert response.status_code == 405
    assert "POST" in response["Allow"]
    assert Challenge.objects.count() == before


@pytest.mark.parametrize("url", [*JSON_ENDPOINTS, "/signout", "/signin/reauth/tap", "RENAME"])
def test_post_only_endpoints_refuse_get_when_signed_in(signed_in: Any, url: str) -> None:
    client, _user, _auth, passkey = signed_in
    if url == "RENAME":
        url = f"/security-info/passkeys/{passkey.pk}/rename"
    response = client.get(url)
    assert response.status_code == 405
    assert client.get("/security-info").status_code == 200  # still signed in


@pytest.mark.parametrize("url", ["/signin", "/security-info"])
def test_get_pages_refuse_post(signed_in: Any, url: str) -> None:
    client = signed_in[0]
    assert client.post(url).status_code == 405


# --- CSRF -----------------------------------------------------------------------------------------

@pytest.fixture
def csrf_client() -> Client:
    return Client(enforce_csrf_checks=True)


def csrf_token(client: Client, page: str = "/signin") -> str:
    html = client.get(page).content.decode()
    found = re.search(r'<meta name="csrf-token" content="([^"]+)">', html)
    assert found
    return found.group(1)


@pytest.mark.parametrize("url", ["/signin/passkey/options", "/signin/passkey/verify"])
def test_json_post_without_csrf_token_is_403(csrf_client: Client, url: str) -> None:
    csrf_token(csrf_client)  # the browser has the cookie, but the request carries no token
    before = Challenge.objects.count()
    response = post_json(csrf_client, url, {})
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "csrf_failed"
    assert Challenge.objects.count() == before


def test_json_post_with_a_wrong_csrf_token_is_403(csrf_client: Client) -> None:
    csrf_token(csrf_client)
    response = post_json(csrf_client, "/signin/passkey/options", {}, HTTP_X_CSRFTOKEN="x" * 64)
    assert response.status_code == 403


def test_json_post_with_the_csrf_token_works(csrf_client: Client) -> None:
    token = csrf_token(csrf_client)
    response = post_json(csrf_client, "/signin/passkey/options", {}, HTTP_X_CSRFTOKEN=token)
    assert response.status_code == 200
    assert "challenge" in response.json()["publicKey"]


def test_cross_origin_post_is_403_even_with_a_token(csrf_client: Client) -> None:
    token = csrf_token(csrf_client)
    response = post_json(csrf_client, "/signin/passkey/options", {}, HTTP_X_CSRFTOKEN=token,
                         HTTP_ORIGIN="https://evil.example")
    assert response.status_code == 403


def test_tap_form_without_csrf_token_is_403(csrf_client: Client, make_user: Any, issue_tap: Any) -> None:
    user = make_user()
    plain = issue_tap(user)
    csrf_token(csrf_client, "/signin/tap")
    response = csrf_client.post("/signin/tap", {"upn": user.user_principal_name, "tap": plain})
    assert response.status_code == 403
    assert "This form has expired" in response.content.decode()
    assert TemporaryAccessPass.objects.get().used_at is None
    assert session_key(csrf_client) is None


def test_sign_out_without_csrf_token_is_403_and_keeps_the_session(csrf_client: Client, make_user: Any,
                                                                   issue_tap: Any) -> None:
    user = make_user()
    plain = issue_tap(user)
    token = csrf_token(csrf_client, "/signin/tap")
    response = csrf_client.post("/signin/tap", {"upn": user.user_principal_name, "tap": plain,
                                                "csrfmiddlewaretoken": token})
    assert response.status_code == 302
    assert csrf_client.post("/signout").status_code == 403
    assert csrf_client.get("/security-info").status_code == 200


# --- TAP pages: unknown user and wrong pass look the same -----------------------------------------

def _normalised(html: bytes, upn: str) -> bytes:
    html = re.sub(rb'name="csrfmiddlewaretoken" value="[^"]+"', b"CSRF", html)
    html = re.sub(rb'<meta name="csrf-token" content="[^"]+">', b"CSRF", html)
    return html.replace(upn.encode(), b"UPN")


def test_tap_page_unknown_user_and_wrong_pass_are_byte_identical(client: Client, make_user: Any,
                                                                  issue_tap: Any) -> None:
    user = make_user(upn="known@contoso.com")
    issue_tap(user)
    wrong = http_tap_sign_in(client, "known@contoso.com", "ABCD-EFGH-JKMN-PQRS")
    unknown = http_tap_sign_in(Client(), "unknown@contoso.com", "ABCD-EFGH-JKMN-PQRS")
    assert wrong.status_code == unknown.status_code == 400
    assert error_text(wrong.content) == error_text(unknown.content)
    assert error_text(wrong.content) == services.GENERIC_TAP_FAILURE.encode().replace(b"'", b"&#x27;")
    assert _normalised(wrong.content, "known@contoso.com") == _normalised(unknown.content, "unknown@contoso.com")
    rows = AuditEvent.objects.filter(activity="tap.signIn", result="failure", reason="tap_invalid")
    assert sorted(r.details["upnGiven"] for r in rows) == ["known@contoso.com", "unknown@contoso.com"]
    assert session_key(client) is None


def test_tap_page_user_without_pass_looks_the_same(client: Client, make_user: Any) -> None:
    make_user(upn="nopass@contoso.com")
    a = http_tap_sign_in(client, "nopass@contoso.com", "ABCD-EFGH-JKMN-PQRS")
    b = http_tap_sign_in(client, "unknown@contoso.com", "ABCD-EFGH-JKMN-PQRS")
    assert error_text(a.content) == error_text(b.content)


def test_reauth_tap_wrong_pass_gives_the_same_text(signed_in: Any, client: Client) -> None:
    signed = signed_in[0]
    response = signed.post("/signin/reauth/tap", {"tap": "ABCD-EFGH-JKMN-PQRS"})
    assert response.status_code == 400
    unknown = http_tap_sign_in(Client(), "unknown@contoso.com", "ABCD-EFGH-JKMN-PQRS")
    assert error_text(response.content) == error_text(unknown.content)


def test_tap_page_prefills_the_upn_escaped(client: Client) -> None:
    page = client.get('/signin/tap?upn="><script>x</script>@contoso.com').content.decode()
    assert "<script>x</script>" not in page
    assert "&quot;&gt;&lt;script&gt;" in page


def test_tap_page_with_missing_fields(client: Client) -> None:
    response = client.post("/signin/tap", {})
    assert response.status_code == 400
    assert error_text(response.content) == services.GENERIC_TAP_FAILURE.encode().replace(b"'", b"&#x27;")
