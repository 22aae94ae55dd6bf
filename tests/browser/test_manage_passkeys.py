"""Security info: rename and delete passkeys; a deleted passkey no longer signs in."""

from __future__ import annotations

from typing import Any

import pytest

from passgate.credentials.models import Passkey
from tests.browser.helpers import audit_rows, signed_out

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def row(tab: Any, passkey: Any) -> Any:
    return tab.page.locator(f"tr[data-passkey-id='{passkey.pk}']")


def delete(tab: Any, passkey: Any) -> Any:
    """Open the delete page of ``passkey``; return its card."""
    row(tab, passkey).locator("text=Delete").click()
    tab.wait_for_path(f"/security-info/passkeys/{passkey.pk}/delete")
    card = tab.page.locator("section.card")
    assert tab.page.locator("h1").text_content() == f"Delete “{passkey.display_name}”?"
    return card


def test_rename_and_delete_passkeys(tab: Any, enroll: Any) -> None:
    user, laptop = enroll(tab, "frances@contoso.com", "Frances Allen", passkey_name="Laptop")
    laptop_credential = tab.credentials()[0]
    tab.remove_authenticator()
    tab.add_authenticator(backup_eligible=True)
    tab.add_passkey("Phone")
    tab.page.wait_for_selector("text=Passkey “Phone” added.")
    phone = Passkey.objects.get(user=user, display_name="Phone")

    # Rename: the form opens from the row's "Rename" disclosure
    name_input = row(tab, laptop).locator("input[name=name]")
    assert not name_input.is_visible()
    row(tab, laptop).locator("summary:has-text('Rename')").click()
    name_input.fill("Old laptop")
    row(tab, laptop).locator("button:has-text('Save')").click()
    tab.page.wait_for_selector("text=Passkey renamed to “Old laptop”.")
    laptop.refresh_from_db()
    assert laptop.display_name == "Old laptop"
    assert row(tab, laptop).locator(".passkey-name").inner_text() == "Old laptop"

    # Delete one of two: a confirmation page, no last-method warning; Cancel keeps it.
    card = delete(tab, phone)
    assert card.locator(".warning").count() == 0
    assert "You will no longer be able to sign in with this passkey." in card.inner_text()
    card.locator("text=Cancel").click()
    tab.wait_for_path("/security-info")
    assert Passkey.objects.filter(pk=phone.pk).exists()
    delete(tab, phone)
    tab.page.click("#confirm-delete")
    tab.page.wait_for_selector("text=Passkey “Phone” deleted.")
    assert row(tab, phone).count() == 0

    # Delete the last one: the page warns that it is the last sign-in method.
    card = delete(tab, laptop)
    assert "This is your last sign-in method." in card.locator(".warning[role=alert]").inner_text()
    tab.page.click("#confirm-delete")
    tab.page.wait_for_selector("text=Passkey “Old laptop” deleted.")
    assert tab.page.locator("text=No passkey yet.").is_visible()
    assert not Passkey.objects.filter(user=user).exists()
    assert audit_rows(activity__in=["passkey.rename", "passkey.delete"], actor_id=user.pk) == [
        ("passkey.rename", "success", ""), ("passkey.delete", "success", ""), ("passkey.delete", "success", "")]

    # Security info told the browser's passkey provider which passkeys Passgate still accepts (none: the WebAuthn
    # Signal API), so the phone's authenticator no longer offers the deleted "Phone" passkey at all.
    assert tab.credentials() == []
    tab.sign_out()
    assert tab.wait_autofill_settled() == "ended"
    assert tab.page.locator("#signin-error").is_hidden()
    # A provider without the Signal API still holds a deleted passkey: it is refused as unknown.
    tab.remove_authenticator()
    tab.add_authenticator()
    tab.add_credential(laptop_credential)
    tab.goto("/signin")
    assert_refused_as_unknown(tab)
    assert audit_rows(activity="passkey.signIn") == [("passkey.signIn", "failure", "unknown_credential")]


def assert_refused_as_unknown(tab: Any) -> None:
    assert tab.wait_autofill_settled() == "ended"
    tab.page.locator("#signin-error").filter(has_text="This passkey isn't registered here.").wait_for()
    assert signed_out(tab)
