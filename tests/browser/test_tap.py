"""Temporary Access Pass refusals, as the person at the keyboard sees them."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from tests.browser.helpers import audit_rows

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NO_MATCH = "That user name and Temporary Access Pass don't match a valid pass."


def tap_error(tab: Any) -> str:
    error = tab.page.locator("p.error[role=alert]")
    error.wait_for(state="visible")
    assert tab.path() == "/signin/tap"
    return str(error.text_content())


def test_expired_tap_is_refused(tab: Any, make_user: Any, issue_tap: Any) -> None:
    user = make_user("edsger@contoso.com")
    tap = issue_tap(user, lifetime_minutes=60, start_at=timezone.now() - timedelta(minutes=61))
    tab.tap_sign_in(user.user_principal_name, tap)
    assert "expired" in tap_error(tab)
    assert audit_rows(activity="tap.signIn") == [("tap.signIn", "failure", "tap_expired")]


def test_one_time_tap_is_refused_the_second_time(tab: Any, make_user: Any, issue_tap: Any) -> None:
    user = make_user("john@contoso.com")
    tap = issue_tap(user, usable_once=True)
    tab.tap_sign_in(user.user_principal_name, tap)
    tab.wait_for_path("/security-info")
    tab.sign_out()
    tab.tap_sign_in(user.user_principal_name, tap)
    assert "already been used" in tap_error(tab)
    assert audit_rows(activity="tap.signIn") == [("tap.signIn", "success", ""), ("tap.signIn", "failure", "tap_used")]


def test_wrong_tap_and_unknown_user_look_the_same(tab: Any, make_user: Any, issue_tap: Any) -> None:
    user = make_user("margaret@contoso.com")
    real = issue_tap(user)
    wrong = "ABCD-EFGH-JKMN-PQRS" if real != "ABCD-EFGH-JKMN-PQRS" else "BCDE-FGHJ-KMNP-QRST"

    tab.tap_sign_in("margaret@contoso.com", wrong)
    wrong_tap = tap_error(tab), tab.page.locator("section.card").inner_text()
    tab.tap_sign_in("nobody@contoso.com", wrong)
    unknown_user = tap_error(tab), tab.page.locator("section.card").inner_text()

    assert wrong_tap[0] == unknown_user[0] == NO_MATCH
    assert wrong_tap[1] == unknown_user[1]  # the whole card reads the same
    assert audit_rows(activity="tap.signIn") == [("tap.signIn", "failure", "tap_invalid")] * 2
