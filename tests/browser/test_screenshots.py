"""Screenshots for the docs: the sign-in page and Security info with a device-bound and a synced passkey.

The files go to pytest's tmp path; docs/screenshots/ holds copies made by hand from one run:
    pytest tests/browser/test_screenshots.py --basetemp=/tmp/shots  (then copy /tmp/shots/*/…png)
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from passgate.credentials.models import Passkey

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PNG = b"\x89PNG\r\n\x1a\n"


def test_security_info_and_signin_screenshots(new_tab: Any, enroll: Any, tmp_path: Path) -> None:
    tab = new_tab()
    user, _ = enroll(tab, "ada@contoso.com", "Ada Lovelace", passkey_name="YubiKey 5C NFC", transport="usb")
    tab.remove_authenticator()
    tab.add_authenticator(backup_eligible=True)
    tab.add_passkey("iPhone (iCloud Keychain)")
    tab.page.wait_for_selector("text=Passkey “iPhone (iCloud Keychain)” added.")
    tab.sign_out()
    tab.wait_for_path("/security-info")  # signed in with the synced passkey: a passkey session, no TAP notice
    assert [(p.display_name, p.is_synced) for p in Passkey.objects.filter(user=user)] == [
        ("YubiKey 5C NFC", False), ("iPhone (iCloud Keychain)", True)]
    assert tab.page.locator("text=Device-bound").count() == 1
    assert tab.page.locator("td >> text=Synced").count() == 1

    security_info = tmp_path / "security-info.png"
    tab.page.screenshot(path=str(security_info), full_page=True, animations="disabled")

    anonymous = new_tab()  # no authenticator: the sign-in page stays as a person first sees it
    anonymous.goto("/signin")
    anonymous.wait_autofill_settled()
    signin = tmp_path / "signin.png"
    anonymous.page.screenshot(path=str(signin), full_page=True, animations="disabled")

    for shot in (security_info, signin):
        assert shot.read_bytes().startswith(PNG)
