"""A passkey sign-in response is good once, in the browser session that asked for it."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.browser.helpers import audit_rows, signed_out

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

VERIFY = "/signin/passkey/verify"


def capture_verify_bodies(tab: Any) -> list[str]:
    bodies: list[str] = []
    tab.page.on("request", lambda r: r.method == "POST" and urlsplit(r.url).path == VERIFY
                and bodies.append(r.post_data))
    return bodies


def test_consumed_challenge_cannot_be_replayed_from_another_context(new_tab: Any, enroll: Any) -> None:
    a = new_tab()
    enroll(a, "katherine@contoso.com", "Katherine Johnson")
    bodies = capture_verify_bodies(a)
    a.sign_out()
    a.wait_for_path("/security-info")  # autofill signed A in
    [body] = bodies
    assert audit_rows(activity="passkey.signIn") == [("passkey.signIn", "success", "")]

    # B: a fresh browser that loaded the sign-in page, replays A's exact response with its own CSRF token.
    b = new_tab()
    b.goto("/signin")
    b.wait_autofill_settled()
    status, answer = b.post_json(VERIFY, body)
    assert (status, answer["error"]["code"]) == (400, "challenge_wrong_session")
    assert signed_out(b)

    # A itself, signed out (a new session), replays it too. Clear the authenticator first so the sign-in
    # page's autofill does not sign A straight back in.
    a.clear_credentials()
    a.sign_out()
    a.wait_autofill_settled()
    status, answer = a.post_json(VERIFY, body)
    assert (status, answer["error"]["code"]) == (400, "challenge_wrong_session")
    assert signed_out(a)
    assert audit_rows(activity="passkey.signIn") == [
        ("passkey.signIn", "success", ""),
        ("passkey.signIn", "failure", "challenge_wrong_session"),
        ("passkey.signIn", "failure", "challenge_wrong_session"),
    ]
    assert set(bodies) == {body}  # A's page sent nothing but its real response and our replay of it


def test_refused_response_consumes_its_challenge(tab: Any, enroll: Any) -> None:
    """In the same session (a refused sign-in keeps it), a replayed response meets a used challenge."""
    enroll(tab, "dorothy@contoso.com", "Dorothy Vaughan")
    bodies = capture_verify_bodies(tab)
    tab.set_response_override_bits(isBadUV=True)
    tab.sign_out()
    tab.wait_autofill_settled()
    tab.page.wait_for_selector("#signin-error:visible")  # refused: user_not_verified, challenge now used
    [body] = bodies
    status, answer = tab.post_json(VERIFY, body)
    assert (status, answer["error"]["code"]) == (400, "challenge_consumed")
    assert signed_out(tab)
    assert audit_rows(activity="passkey.signIn") == [
        ("passkey.signIn", "failure", "user_not_verified"),
        ("passkey.signIn", "failure", "challenge_consumed"),
    ]
