"""The first-run story in a real browser: TAP, add a passkey, sign out, sign back in with the passkey alone."""

from __future__ import annotations

from typing import Any

import pytest

from passgate.credentials.models import Passkey
from tests.browser.helpers import audit_rows

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_tap_register_signout_and_username_less_sign_in(tab: Any, make_user: Any, issue_tap: Any) -> None:
    user = make_user("admin@contoso.com", "Ada Admin")
    tap = issue_tap(user)
    tab.add_authenticator()
    tab.tap_sign_in(user.user_principal_name, tap)
    tab.wait_for_path("/security-info")
    tab.add_passkey("Work laptop")
    tab.page.wait_for_selector("text=Passkey “Work laptop” added.")
    passkey = Passkey.objects.get(user=user)
    assert passkey.display_name == "Work laptop"
    assert passkey.backup_eligible is False

    # Take the passkey off the authenticator while signing out, so the page's autofill request finds nothing
    # and ends; only then give it back. The sign-in that follows can only come from the button.
    tab.sign_out_and_back_in_with_the_button()

    assert tab.webauthn_calls("/signin") == ["conditional", ""]  # the ended autofill, then the button's request
    assert tab.clicks("passkey-button") == 1
    assert tab.page.locator(".who-upn").text_content() == "admin@contoso.com"
    passkey.refresh_from_db()
    assert passkey.last_used_at is not None
    assert audit_rows(activity="passkey.signIn", actor_id=user.pk) == [("passkey.signIn", "success", "")]
