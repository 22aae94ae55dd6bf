"""Passkey autofill: the sign-in page's conditional-mediation request signs the user in by itself."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.helpers import audit_rows

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_autofill_signs_in_without_the_button(tab: Any, enroll: Any) -> None:
    user, passkey = enroll(tab, "grace@contoso.com", "Grace Hopper")
    tab.events.clear()

    tab.sign_out()  # the authenticator stays: the autofill request on /signin finds the passkey
    tab.wait_for_path("/security-info")

    assert tab.webauthn_calls("/signin") == ["conditional"]
    assert tab.clicks("passkey-button") == 0
    assert tab.page.locator(".who-upn").text_content() == "grace@contoso.com"
    # A passkey session, not the TAP one it replaced: no TAP notice on the page.
    assert tab.page.locator("text=You signed in with a Temporary Access Pass").count() == 0
    passkey.refresh_from_db()
    assert passkey.last_used_at is not None
    assert audit_rows(activity="passkey.signIn", actor_id=user.pk, target_id=str(passkey.pk)) == [
        ("passkey.signIn", "success", "")]
