"""The first-run story in a real browser: TAP, add a passkey, sign out, sign back in with the passkey alone."""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_tap_register_signout_and_username_less_sign_in(tab: Any, make_user: Any, issue_tap: Any) -> None:
    from passgate.credentials.models import Passkey

    user = make_user("admin@contoso.com", "Ada Admin")
    tap = issue_tap(user)
    tab.add_authenticator()
    tab.tap_sign_in(user.user_principal_name, tap)
    tab.page.wait_for_url("**/security-info")
    tab.add_passkey("Work laptop")
    tab.page.wait_for_selector("text=Passkey “Work laptop” added.")
    passkey = Passkey.objects.get(user=user)
    assert passkey.display_name == "Work laptop"
    assert passkey.backup_eligible is False

    saved = tab.credentials()
    tab.remove_authenticator()
    tab.sign_out()
    tab.page.wait_for_timeout(300)
    print("autofill state:", tab.page.evaluate("document.body.dataset.autofill"))
    tab.add_authenticator()
    tab.add_credential(saved[0])
    tab.page.click("#passkey-button")
    tab.page.wait_for_url("**/security-info")
    passkey.refresh_from_db()
    assert passkey.last_used_at is not None
