"""Authenticator app in a real browser: scan (read the key), confirm a first code, then use a code to confirm
it's you when the sign-in is older than 10 minutes."""

from __future__ import annotations

import base64
import time
from typing import Any

import pytest

from passgate.core import totp
from passgate.credentials.models import SoftwareOathMethod
from tests.browser.helpers import audit_rows
from tests.browser.test_reauthentication import age_sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _seed(page: Any) -> bytes:
    text = page.locator("#oath-secret").inner_text().replace(" ", "")
    return base64.b32decode(text + "=" * (-len(text) % 8))


def test_add_an_authenticator_app_and_confirm_with_a_code(tab: Any, enroll: Any) -> None:
    user, _ = enroll(tab, "katherine@contoso.com", "Katherine Johnson")
    tab.page.click("#add-authenticator-app")
    tab.wait_for_path("/security-info/authenticator-app/new")
    assert tab.page.locator(".qr svg").is_visible()
    seed = _seed(tab.page)

    tab.page.fill("#code", "000000" if totp.code_at(seed, time.time()) != "000000" else "111111")
    tab.page.click("#verify-code")
    tab.page.locator(".error").filter(has_text="That code isn't right").wait_for()
    seed = _seed(tab.page)  # the same pending set-up is shown again
    tab.page.fill("#code", totp.code_at(seed, time.time() - 30))
    tab.page.click("#verify-code")
    tab.page.wait_for_selector("text=Authenticator app added.")
    assert SoftwareOathMethod.objects.filter(user=user, is_verified=True).count() == 1
    assert tab.page.locator("tr[data-oath-id]").count() == 1

    age_sign_in(tab, minutes=11)
    tab.goto("/security-info/authenticator-app/" + str(SoftwareOathMethod.objects.get(user=user).pk) + "/delete")
    tab.page.wait_for_selector("text=Confirm it's you")
    tab.page.fill("#code", totp.code_at(seed, time.time()))
    tab.page.click("#reauth-code-button")
    tab.page.wait_for_selector("text=Delete this authenticator app?")
    tab.page.click("#confirm-delete")
    tab.page.wait_for_selector("text=Authenticator app deleted.")
    assert not SoftwareOathMethod.objects.filter(user=user).exists()
    assert [r[0] for r in audit_rows(activity__startswith="softwareOath", result="success")] == [
        "softwareOath.register", "softwareOath.reauthenticate", "softwareOath.delete"]
