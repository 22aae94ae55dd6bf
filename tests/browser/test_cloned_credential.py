"""A cloned passkey (same key, lower signature counter) is refused, flagged, and suspended for everyone."""

from __future__ import annotations

from typing import Any

import pytest

from passgate.credentials.models import Passkey
from tests.browser.helpers import audit_rows, signed_out

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_cloned_credential_with_lower_counter_is_refused_and_flagged(new_tab: Any, enroll: Any) -> None:
    original = new_tab()
    user, passkey = enroll(original, "alan@contoso.com", "Alan Turing")
    # Each sign-out lands on /signin, whose autofill signs straight back in with the passkey.
    for _ in range(2):
        original.sign_out()
        original.wait_for_path("/security-info")
    passkey.refresh_from_db()
    [credential] = original.credentials()
    assert passkey.sign_count == credential["signCount"] >= 3  # 1 at registration, +1 per sign-in

    # The same private key in another browser, its counter back at 0: the attacker's copy.
    clone = new_tab()
    clone.add_authenticator()
    clone.add_credential({**credential, "signCount": 0})
    clone.goto("/signin")
    assert clone.wait_autofill_settled() == "ended"
    clone_error = clone.page.locator("#signin-error")
    clone_error.wait_for(state="visible")
    assert clone_error.text_content()
    assert signed_out(clone)
    passkey.refresh_from_db()
    assert passkey.possibly_cloned_at is not None
    assert audit_rows(activity="passkey.possibleClone", target_id=str(passkey.pk)) == [
        ("passkey.possibleClone", "failure", "sign_count_regression")]
    assert audit_rows(activity="passkey.signIn", result="failure") == [
        ("passkey.signIn", "failure", "sign_count_regression")]

    # Policy: which copy is the real one cannot be told apart, so the credential is suspended for both.
    original.sign_out()
    assert original.wait_autofill_settled() == "ended"
    error = original.page.locator("#signin-error")
    error.wait_for(state="visible")
    assert "suspended because it may have been copied" in str(error.text_content())
    assert signed_out(original)
    assert audit_rows(activity="passkey.signIn", result="failure", reason="credential_suspended",
                      actor_id=user.pk) == [("passkey.signIn", "failure", "credential_suspended")]
    assert Passkey.objects.get(pk=passkey.pk).sign_count == passkey.sign_count  # the refused use is not recorded
