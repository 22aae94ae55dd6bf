"""User verification is required: passkeys without it are refused at registration and at sign-in."""

from __future__ import annotations

from typing import Any

import pytest

from passgate.credentials.models import Passkey
from tests.browser.helpers import audit_rows, signed_out

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CANCELLED = ("No passkey was used: the request was cancelled or timed out, or this authenticator can't verify you "
             "with a PIN, fingerprint or face. Try again.")


def test_registration_without_user_verification_is_refused(tab: Any, make_user: Any, issue_tap: Any) -> None:
    user = make_user("linus@contoso.com", "Linus")
    tab.add_authenticator(user_verification=False)
    tab.tap_sign_in(user.user_principal_name, issue_tap(user))
    tab.wait_for_path("/security-info")

    # The options say userVerification "required": Chromium will not even create a credential on an
    # authenticator that cannot verify the user, so nothing reaches the server.
    tab.add_passkey("No PIN key")
    error = tab.page.locator("#add-error")
    error.wait_for(state="visible")
    assert error.text_content() == CANCELLED
    assert tab.credentials() == []
    assert audit_rows(activity="passkey.register") == []

    # An authenticator that claims UV but answers with UV=0: the server's own check refuses it.
    tab.remove_authenticator()
    tab.add_authenticator()
    tab.set_response_override_bits(isBadUV=True)
    tab.add_passkey("Bad UV key")
    tab.page.locator("#add-error").filter(has_text="didn't verify you with a PIN, fingerprint or face").wait_for()
    assert tab.path() == "/security-info"
    assert not Passkey.objects.filter(user=user).exists()
    assert audit_rows(activity="passkey.register", actor_id=user.pk) == [
        ("passkey.register", "failure", "user_not_verified")]


def test_sign_in_without_user_verification_is_refused(tab: Any, enroll: Any) -> None:
    _, passkey = enroll(tab, "barbara@contoso.com", "Barbara Liskov")
    assert passkey.uv_initialized is True

    # The person can no longer be verified (no PIN, no biometric): the browser itself refuses the request.
    tab.set_user_verified(False)
    tab.sign_out()
    assert tab.wait_autofill_settled() == "ended"  # autofill gave up silently
    assert tab.page.locator("#signin-error").is_hidden()
    tab.page.click("#passkey-button")
    tab.page.locator("#signin-error").filter(has_text=CANCELLED).wait_for()
    assert audit_rows(activity="passkey.signIn") == []

    # The authenticator answers without the UV flag: the server refuses it and says so.
    tab.set_user_verified(True)
    tab.set_response_override_bits(isBadUV=True)
    tab.page.click("#passkey-button")
    tab.page.locator("#signin-error").filter(has_text="didn't verify you with a PIN, fingerprint or face").wait_for()
    assert tab.path() == "/signin"
    assert signed_out(tab)
    assert audit_rows(activity="passkey.signIn", target_id=str(passkey.pk)) == [
        ("passkey.signIn", "failure", "user_not_verified")]
    assert Passkey.objects.get(pk=passkey.pk).last_used_at is None

