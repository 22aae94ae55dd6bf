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
    message = str(error.text_content())
    assert "suspended" in message and "may have been copied" in message and "Temporary Access Pass" in message
    assert signed_out(original)
    assert audit_rows(activity="passkey.signIn", result="failure", reason="credential_suspended",
                      actor_id=user.pk) == [("passkey.signIn", "failure", "credential_suspended")]
    assert Passkey.objects.get(pk=passkey.pk).sign_count == passkey.sign_count  # the refused use is not recorded


def test_the_whole_way_back_from_a_suspended_passkey(new_tab: Any, enroll: Any, issue_tap: Any,
                                                     tmp_path: Any) -> None:
    """Issue 14 item 4: what happened, a pass to get in, the suspended passkey removed, a new one added, and the
    person signs in with it."""
    from django.utils import timezone

    tab = new_tab()
    user, passkey = enroll(tab, "alan@contoso.com", "Alan Turing", passkey_name="Old key")
    Passkey.objects.filter(pk=passkey.pk).update(possibly_cloned_at=timezone.now())  # as a clone's sign-in does
    tab.sign_out()
    assert tab.wait_autofill_settled() == "ended"
    tab.page.locator("#signin-error").wait_for(state="visible")
    assert "Temporary Access Pass" in str(tab.page.locator("#signin-error").text_content())

    tab.tap_sign_in("alan@contoso.com", issue_tap(user))  # from the administrator, as the message says
    tab.wait_for_path("/security-info")
    situation = tab.page.locator("#situation")
    assert situation.get_attribute("data-situation") == "tap-replace-suspended"
    assert "“Old key” was suspended" in str(situation.text_content())
    assert "sign back in with your passkey" not in tab.page.inner_text("main")
    tab.page.screenshot(path=str(tmp_path / "suspended-after.png"), full_page=True, animations="disabled")

    tab.page.click(f'tr[data-passkey-id="{passkey.pk}"] >> text=Delete')
    tab.page.click("#confirm-delete")
    tab.page.wait_for_selector("text=Passkey “Old key” deleted.")
    tab.remove_authenticator()
    tab.add_authenticator()
    tab.add_passkey("New key")
    tab.page.wait_for_selector("text=Passkey “New key” added.")
    tab.sign_out_and_back_in_with_the_button()
    assert [p.display_name for p in Passkey.objects.filter(user=user)] == ["New key"]



def test_on_the_way_to_an_app_a_suspended_passkey_leads_back_to_the_app(new_tab: Any, enroll: Any, issue_tap: Any,
                                                                         demo: Any, tmp_path: Any) -> None:
    """Issue 14 item 3: the person was going to an app when their passkey was refused as suspended; the pass page
    keeps where they were going, the add-a-passkey page says what happened (a suspended passkey does not count as
    one), and once a new passkey is added the person lands in the app signed in."""
    from django.utils import timezone

    base_url, _ = demo
    tab = new_tab()
    user, passkey = enroll(tab, "alan@contoso.com", "Alan Turing", passkey_name="Old key")
    Passkey.objects.filter(pk=passkey.pk).update(possibly_cloned_at=timezone.now())
    tab.sign_out()
    assert tab.wait_autofill_settled() == "ended"

    tab.page.goto(base_url + "/")
    tab.page.click("#login")
    tab.page.wait_for_url(lambda url: "/signin" in url and "next=" in url)
    assert tab.wait_autofill_settled() == "ended"
    tab.page.locator("#signin-error").wait_for(state="visible")
    assert "suspended" in str(tab.page.locator("#signin-error").text_content())

    tab.page.click("#tap-link")
    if tab.page.locator("#upn").is_editable():
        tab.page.fill("#upn", "alan@contoso.com")
    tab.page.fill("#tap", issue_tap(user))
    tab.page.click("button[type=submit]")
    tab.page.wait_for_url(lambda url: "/signin/add-passkey" in url)  # the pass alone does not replace the passkey
    intro = str(tab.page.locator("#suspended-passkeys").text_content())
    assert "“Old key”" in intro and "suspended" in intro and "may have been copied" in intro
    tab.page.screenshot(path=str(tmp_path / "item3-interrupt.png"), full_page=True, animations="disabled")

    tab.remove_authenticator()
    tab.add_authenticator()  # the copied key is not used again: a new authenticator
    tab.page.fill("#passkey-name", "New key")
    tab.page.click("#add-passkey")
    tab.page.wait_for_selector("#welcome")  # back at the app, signed in
    assert tab.page.url.startswith(base_url)
    assert "Alan Turing" in tab.page.inner_text("#welcome")
    assert Passkey.objects.filter(user=user, display_name="New key", possibly_cloned_at__isnull=True).exists()
