"""HTTP methods, CSRF, and the Temporary Access Pass pages (no account enumeration; back-off in words)."""

from __future__ import annotations

import base64
import re
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from passgate.audit.models import AuditEvent
from passgate.core import totp
from passgate.credentials import oath, services
from passgate.credentials.models import Challenge, TemporaryAccessPass
from tests.http.conftest import error_text, http_tap_sign_in, post_json, session_key
from tests.services.support import sql_shape

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


# --- TAP pages: back-off, said in people's words, the same for every user name -----------------------

def _guess_until_throttled(upn: str, *, address: str) -> Any:
    client = Client(REMOTE_ADDR=address)
    for _ in range(20):
        response = http_tap_sign_in(client, upn, "ABCD-EFGH-JKMN-PQRS")
        if response.status_code != 400:
            return response
    raise AssertionError("never slowed down")


def test_tap_page_back_off_says_when_to_try_again_the_same_for_every_user_name(make_user: Any, issue_tap: Any,
                                                                              clock: Any) -> None:
    issue_tap(make_user(upn="known@contoso.com"))
    known = _guess_until_throttled("known@contoso.com", address="198.51.100.1")
    unknown = _guess_until_throttled("unknown@contoso.com", address="198.51.100.2")
    assert known.status_code == unknown.status_code == 429
    assert known["Retry-After"] == unknown["Retry-After"] == "1"
    assert error_text(known.content) == b"Too many wrong attempts. Try again in a few seconds."
    assert _normalised(known.content, "known@contoso.com") == _normalised(unknown.content, "unknown@contoso.com")
    rows = AuditEvent.objects.filter(activity="tap.signIn", result="failure", reason="tap_throttled")
    assert sorted(r.details["upnGiven"] for r in rows) == ["known@contoso.com", "unknown@contoso.com"]


def test_tap_page_runs_the_same_sql_for_an_unknown_user_name(make_user: Any, issue_tap: Any) -> None:
    issue_tap(make_user(upn="known@contoso.com"))
    shapes = []
    for upn, address in (("known@contoso.com", "198.51.100.1"), ("unknown@contoso.com", "198.51.100.2")):
        with CaptureQueriesContext(connection) as captured:
            assert http_tap_sign_in(Client(REMOTE_ADDR=address), upn, "ABCD-EFGH-JKMN-PQRS").status_code == 400
        shapes.append(sql_shape(captured))
    assert shapes[0] == shapes[1]


def test_reauth_with_a_pass_shares_the_back_off_and_says_when(signed_in: Any, clock: Any) -> None:
    signed, user = signed_in[0], signed_in[1]
    for _ in range(6):  # the free failures of the user name, then one that starts the wait
        assert signed.post("/signin/reauth/tap", {"tap": "ABCD-EFGH-JKMN-PQRS"}).status_code == 400
    response = signed.post("/signin/reauth/tap", {"tap": "ABCD-EFGH-JKMN-PQRS"})
    assert (response.status_code, response["Retry-After"]) == (429, "1")
    assert error_text(response.content) == b"Too many wrong attempts. Try again in a few seconds."
    # ... and the sign-in page for the same user name waits too.
    assert http_tap_sign_in(Client(REMOTE_ADDR="198.51.100.9"), user.user_principal_name, "X").status_code == 429
    reasons = list(AuditEvent.objects.filter(activity="tap.reauthenticate").values_list("reason", flat=True))
    assert reasons.count("tap_invalid") == 6 and reasons.count("tap_throttled") == 1


def test_reauth_with_a_code_backs_off_and_says_when(signed_in: Any, clock: Any) -> None:
    signed, user = signed_in[0], signed_in[1]
    enrolment = oath.software_oath_enrol_begin(user=user)
    text = enrolment.secret_text.replace(" ", "")
    seed = base64.b32decode(text + "=" * (-len(text) % 8))
    oath.software_oath_enrol_complete(user=user, method_id=enrolment.method.id,
                                      code=totp.code_at(seed, clock.now.timestamp() - 30))
    valid = {totp.code_at(seed, clock.now.timestamp() + drift) for drift in (-30, 0, 30)}
    wrong = next(c for c in ("000000", "111111", "222222", "333333") if c not in valid)
    for _ in range(6):
        assert signed.post("/signin/reauth/code", {"code": wrong}).status_code == 400
    response = signed.post("/signin/reauth/code", {"code": totp.code_at(seed, clock.now.timestamp())})
    assert (response.status_code, response["Retry-After"]) == (429, "30")
    assert error_text(response.content) == (b"Too many wrong codes. Try again in 30 seconds, or confirm it&#x27;s "
                                            b"you another way.")
    clock.advance(30)
    assert signed.post("/signin/reauth/code", {"code": totp.code_at(seed, clock.now.timestamp())}).status_code == 302
