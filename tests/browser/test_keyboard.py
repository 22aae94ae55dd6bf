"""Keyboard only (issue 14 item 12): a person who cannot use a pointer signs in with a Temporary Access Pass, adds a
passkey, signs out and signs back in with the passkey button, pressing only Tab, typing and Enter."""

from __future__ import annotations

from typing import Any

import pytest

from passgate.credentials.models import Passkey

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

MAX_TABS = 40  # a page whose control takes more Tab presses than this is not keyboard-friendly either


def tab_to(page: Any, selector: str) -> None:
    """Press Tab until ``selector`` has the focus (a visible focus ring included), or fail."""
    for _ in range(MAX_TABS):
        page.keyboard.press("Tab")
        if page.evaluate("s => document.activeElement && document.activeElement.matches(s)", selector):
            outline = page.evaluate("""() => { const s = getComputedStyle(document.activeElement);
                return s.outlineStyle !== 'none' || s.boxShadow !== 'none'; }""")
            assert outline, f"{selector} has the focus but shows no focus ring"
            return
    pytest.fail(f"{selector} never got the focus in {MAX_TABS} Tab presses on {page.url}")


def test_sign_in_add_a_passkey_and_sign_back_in_with_the_keyboard_alone(new_tab: Any, make_user: Any,
                                                                       issue_tap: Any) -> None:
    user = make_user("kim@contoso.com", "Kim Keyboard")
    tab = new_tab()
    tab.add_authenticator()
    page = tab.page

    tab.goto("/signin/tap?upn=kim@contoso.com")
    tab_to(page, "#tap")
    page.keyboard.type(issue_tap(user))
    with page.expect_navigation():
        page.keyboard.press("Enter")
    tab.wait_for_path("/security-info")

    tab_to(page, "#passkey-name")
    page.keyboard.type("Keyboard laptop")
    page.keyboard.press("Enter")
    page.wait_for_selector("text=Passkey “Keyboard laptop” added.")
    assert Passkey.objects.filter(user=user, display_name="Keyboard laptop").exists()

    saved = tab.credentials()
    tab.clear_credentials()  # the sign-in page's autofill finds nothing: only the button can sign in
    tab_to(page, "form[action='/signout'] button")
    with page.expect_navigation(url=lambda url: url.endswith("/signin")):
        page.keyboard.press("Enter")
    assert tab.wait_autofill_settled() == "ended"
    tab.add_credential(saved[0])
    tab_to(page, "#passkey-button")
    page.keyboard.press("Enter")
    tab.wait_for_path("/security-info")
    assert page.locator("text=Keyboard laptop").count() >= 1
