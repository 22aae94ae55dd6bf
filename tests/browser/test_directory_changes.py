"""Directory changes made while a user has a passkey: a new UPN, a disabled account."""

from __future__ import annotations

from typing import Any

import pytest

from passgate.audit.services import Actor
from passgate.directory.services import user_set_enabled, user_set_upn
from tests.browser.helpers import audit_rows

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_sign_in_still_works_after_a_upn_change(tab: Any, enroll: Any) -> None:
    user, passkey = enroll(tab, "mary@contoso.com", "Mary Jackson")
    user_set_upn(user=user, upn="mary.jackson@fabrikam.com", actor=Actor.system("test"))
    # The passkey on the authenticator still carries the old user name; sign-in goes by the user handle.
    assert tab.credentials()[0]["userName"] == "mary@contoso.com"

    tab.sign_out()
    tab.wait_for_path("/security-info")
    assert tab.page.locator(".who-upn").text_content() == "mary.jackson@fabrikam.com"
    assert audit_rows(activity="passkey.signIn", target_id=str(passkey.pk)) == [("passkey.signIn", "success", "")]


def test_disabled_user_is_refused_and_their_session_ends(tab: Any, enroll: Any) -> None:
    user, passkey = enroll(tab, "hedy@contoso.com", "Hedy Lamarr")
    tab.sign_out()
    tab.wait_for_path("/security-info")  # signed in with the passkey (autofill)

    user_set_enabled(user=user, enabled=False, actor=Actor.system("test"))
    # The open page's next request is no longer signed in...
    status, answer = tab.post_json("/security-info/passkeys/options", "{}")
    assert (status, answer["error"]["code"]) == (401, "not_signed_in")
    # ...nor is the next page load; on the sign-in page the autofill tries the passkey and is refused.
    tab.goto("/security-info")
    assert tab.path() == "/signin?next=/security-info"
    assert tab.wait_autofill_settled() == "ended"
    error = tab.page.locator("#signin-error")
    error.wait_for(state="visible")
    assert error.text_content() == "Your account is disabled. Contact your administrator."
    assert tab.page.locator("text=Sign out").count() == 0
    assert audit_rows(activity="passkey.signIn", target_id=str(passkey.pk)) == [
        ("passkey.signIn", "success", ""), ("passkey.signIn", "failure", "user_disabled")]
