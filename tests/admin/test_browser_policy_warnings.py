"""Warnings before harm, in a real browser (issue 14 item 1): the passkey policy's review says, before Save, that
requiring attestation with no FIDO metadata loaded would refuse every new passkey, and that a change would lock
out every Global Administrator, with how to avoid each. Screenshots (1280 and 390 px) in pytest's tmp path:
    pytest tests/admin/test_browser_policy_warnings.py --basetemp=/tmp/shots"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from passgate.credentials.models import PolicyVersion
from tests.admin.test_browser_admin import shot, sign_in_as_admin
from tests.browser.phone import PHONE, too_wide

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_review_warns_before_save(new_tab: Any, make_user: Any, issue_tap: Any, tmp_path: Path) -> None:
    tab = new_tab()
    sign_in_as_admin(tab, make_user, issue_tap, "ada@contoso.com", "Ada Lovelace")
    page = tab.page
    versions = PolicyVersion.objects.count()

    # Attestation required, no metadata loaded
    tab.goto("/admin/methods/passkey?tab=configure")
    page.click("#add-profile summary")
    page.fill("#new-name", "Attested keys")
    page.select_option("#new-types", "deviceBound")
    page.select_option("#new-attestation", "registrationOnly")
    page.click("#review")
    warning = page.locator("[data-warning]").filter(has_text="No FIDO metadata is loaded")
    warning.wait_for()
    assert "every new passkey would be refused" in warning.inner_text()
    assert "passgate mds import FILE" in warning.inner_text()
    shot(tab, tmp_path / "item1-attestation-after.png")
    page.set_viewport_size(PHONE)
    shot(tab, tmp_path / "item1-attestation-after-390.png")
    assert not too_wide(page)
    page.set_viewport_size({"width": 1280, "height": 800})

    # Passkeys turned off for everyone: Ada, the only Global Administrator, could not sign in
    tab.goto("/admin/methods/passkey?tab=target")
    page.uncheck("#state")
    page.click("#review")
    lockout = page.locator("[data-warning]").filter(has_text="no enabled Global Administrator could sign in")
    lockout.wait_for()
    assert "Save will refuse this change" in lockout.inner_text()
    shot(tab, tmp_path / "item1-lockout-after.png")
    assert PolicyVersion.objects.count() == versions  # a review changes nothing
