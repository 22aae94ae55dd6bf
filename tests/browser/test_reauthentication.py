"""Changing security info needs a sign-in within the last 10 minutes; a passkey confirms it's you."""

from __future__ import annotations

from datetime import timedelta
from importlib import import_module
from typing import Any

import pytest
from django.conf import settings
from django.utils import timezone

from passgate.credentials.models import Passkey
from tests.browser.helpers import audit_rows

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def age_sign_in(tab: Any, minutes: int) -> None:
    """Move the session's sign-in time (pg_auth_time) into the past, straight in the session store."""
    store = import_module(settings.SESSION_ENGINE).SessionStore(session_key=tab.session_key())
    assert store.get("pg_auth_time"), "not a signed-in session"
    store["pg_auth_time"] = (timezone.now() - timedelta(minutes=minutes)).isoformat()
    store.save()


def test_adding_a_passkey_after_ten_minutes_needs_reauthentication(tab: Any, enroll: Any) -> None:
    user, first = enroll(tab, "radia@contoso.com", "Radia Perlman", passkey_name="Laptop")
    tab.sign_out()
    tab.wait_for_path("/security-info")  # signed in with the passkey (autofill)
    assert tab.page.locator("#add-passkey-form").is_visible()

    # The page was opened while the sign-in was recent; by the time the person adds a passkey it is 11 minutes
    # old. The server refuses the ceremony and the page sends them to "Confirm it's you".
    age_sign_in(tab, minutes=11)
    tab.page.fill("#passkey-name", "Phone")
    tab.page.click("#add-passkey")
    tab.wait_for_path("/signin/reauth?next=/security-info")
    assert tab.page.locator("h1").text_content() == "Confirm it's you"
    assert tab.webauthn_calls("/security-info") == []  # refused before the authenticator was asked

    # A reload of Security info now offers only the way through "Confirm it's you".
    tab.goto("/security-info")
    assert tab.page.locator("#add-passkey-form").count() == 0
    tab.page.click("#add-passkey")
    tab.wait_for_path("/signin/reauth?next=/security-info")

    tab.page.click("#reauth-button")
    tab.wait_for_path("/security-info")
    assert audit_rows(activity="passkey.reauthenticate", target_id=str(first.pk)) == [
        ("passkey.reauthenticate", "success", "")]

    # Recent again: a second passkey, on a second (synced) authenticator, can be added.
    tab.remove_authenticator()
    tab.add_authenticator(backup_eligible=True)
    tab.add_passkey("Phone")
    tab.page.wait_for_selector("text=Passkey “Phone” added.")
    assert list(Passkey.objects.filter(user=user).values_list("display_name", "backup_eligible")) == [
        ("Laptop", False), ("Phone", True)]
    assert audit_rows(activity="passkey.register", actor_id=user.pk) == [
        ("passkey.register", "success", ""),
        ("passkey.register", "failure", "reauthentication_required"),  # the stale page's attempt
        ("passkey.register", "success", ""),
    ]
