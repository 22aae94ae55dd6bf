"""Devices in a real browser: a Global Administrator issues an enrollment token and sees the join command, creates
the security-key profile, assigns it to a group after the impact preview, and disables a device. Every page is
photographed at desktop and phone widths in pytest's tmp path; docs/screenshots/devices-*.png are copies from a run:
    pytest tests/admin/test_browser_devices.py --basetemp=/tmp/shots  (then copy /tmp/shots/*/devices-*.png)
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from passgate.audit.services import RequestContext
from passgate.audit.signins import signin_record
from passgate.core.devices.signin import DEVICE_SIGNIN_APP_ID, DEVICE_SIGNIN_APP_NAME
from passgate.core.devices.signin_setting import SECURITY_KEY_OMA_URI
from passgate.device_config.models import DeviceConfiguration
from passgate.device_config.selectors import assignments_of
from passgate.devices.models import Device, DeviceEnrollmentToken
from passgate.directory.services import group_add_member, group_create
from tests.admin.devices_support import SYSTEM, join
from tests.admin.test_browser_admin import shot, sign_in_as_admin
from tests.browser.helpers import audit_rows
from tests.browser.phone import DESKTOP, PHONE, too_wide

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]



def shots(tab: Any, folder: Path, name: str) -> None:
    """The page at desktop width, then at phone width (and back); the phone page must not scroll sideways."""
    shot(tab, folder / f"devices-{name}.png")
    tab.page.set_viewport_size(PHONE)
    shot(tab, folder / f"devices-{name}-phone.png")
    wide = too_wide(tab.page)
    tab.page.set_viewport_size(DESKTOP)
    assert not wide, f"{name}: {wide}"


def test_an_administrator_joins_configures_and_disables_devices(new_tab: Any, make_user: Any, issue_tap: Any,
                                                                 tmp_path: Path) -> None:
    tab = new_tab()
    tab.page.set_viewport_size(DESKTOP)
    sign_in_as_admin(tab, make_user, issue_tap, "ada@contoso.com", "Ada Lovelace")
    lab = group_create(display_name="Lab computers", actor=SYSTEM)
    pilot = group_create(display_name="Security-key pilot", actor=SYSTEM)
    group_add_member(group=pilot, user=make_user("pat@contoso.com", "Pat Example"), actor=SYSTEM)
    build = join("build-07", groups=(lab,))
    join("lab-hybrid", trust="hybrid", groups=(lab,))
    join("kiosk-1")
    page = tab.page

    # Add a device: the token, once, with the join command
    page.click("nav.admin-nav >> text=Devices")
    tab.wait_for_path("/admin/devices")
    shots(tab, tmp_path, "list")
    page.click("#add-device")
    tab.wait_for_path("/admin/devices/add")
    page.fill("#lifetime", "5")
    page.click("#issue-token")
    page.wait_for_selector("#lifetime-error")
    assert "from 10 to 10080" in page.inner_text("#lifetime-error")
    page.fill("#lifetime", "120")
    page.fill("#uses", "3")
    page.fill("#description", "Build servers")
    page.click("#issue-token")
    page.wait_for_selector("#join-command")
    command = page.inner_text("#join-command").strip()
    token = page.inner_text("#token").strip()
    assert command == f"passgate-device join --passgate {tab.origin} --token {token}" and token.startswith("PGD-")
    assert DeviceEnrollmentToken.objects.get(description="Build servers").uses_allowed == 3
    shots(tab, tmp_path, "token")
    page.click("#done")
    tab.wait_for_path("/admin/devices/add")
    assert token not in page.content() and "Build servers" in page.inner_text("table.tokens")
    shots(tab, tmp_path, "add")

    # The security-key profile, in one click, with a row that doesn't apply on Linux
    page.click("text=Configuration profiles")
    tab.wait_for_path("/admin/devices/configuration")
    page.click("#add-profile")
    tab.wait_for_path("/admin/devices/configuration/new")
    page.fill("#name", "Security keys for the lab")
    page.click("#add-security-key")
    page.wait_for_selector("#row-uri-0")
    assert page.input_value("#row-uri-0") == SECURITY_KEY_OMA_URI and page.input_value("#row-value-0") == "1"
    assert page.input_value("#row-type-0") == "omaSettingInteger"
    page.click("#add-row")
    page.wait_for_selector("#row-uri-1")
    page.fill("#row-name-1", "Wallpaper")
    page.fill("#row-uri-1", "./Vendor/MSFT/Personalization/DesktopImageUrl")
    page.fill("#row-value-1", "https://intranet.contoso.test/wallpaper.png")
    shots(tab, tmp_path, "profile-new")
    page.click("#save-profile")
    page.wait_for_selector("#edit-assignments")
    profile = DeviceConfiguration.objects.get()
    assert "Not applicable on Linux" in page.inner_text("#oma-rows")
    shots(tab, tmp_path, "profile")

    # Assign it to the lab's devices and the pilot's people, after the preview
    page.click("#edit-assignments")
    page.check(f"#include-{lab.pk}")
    page.check(f"#include-{pilot.pk}")
    shots(tab, tmp_path, "assignments")
    page.click("#review")
    page.wait_for_selector("#impact")
    # the lab's two computers for everyone (a profile decides before a hybrid device's group policy), and Pat, in
    # the pilot, on the kiosk
    assert page.inner_text("#impact-on") == "2" and page.inner_text("#impact-off") == "0"
    rows = [line.split("\t")[:3] for line in page.inner_text("#impact-rows tbody").splitlines()]
    assert rows == [["build-07", "Everyone who signs in on it", "Off → On"],
                    ["lab-hybrid", "Everyone who signs in on it", "Off → On"],
                    ["kiosk-1", "pat@contoso.com", "Off → On"]], rows
    shots(tab, tmp_path, "impact")
    page.click("#save")
    page.wait_for_selector("text=Assignments of “Security keys for the lab” saved.")
    assert {a.target.group_id for a in assignments_of(str(profile.pk))} == {str(lab.pk), str(pilot.pk)}
    assert audit_rows(activity="deviceConfiguration.assign") == [("deviceConfiguration.assign", "success", "")]

    # The device's page says who decided; then disable it
    tab.goto(f"/admin/devices/{build.pk}")
    assert page.inner_text("#signin-setting").startswith("Security-key sign-in: On")
    assert "Configuration profile" in page.inner_text("#signin-source")
    shots(tab, tmp_path, "device")
    page.click("#disable-device")
    page.wait_for_selector("#disabled-badge")
    assert not Device.objects.get(pk=build.pk).account_enabled
    assert "it can no longer sign anyone in" in page.inner_text(".flash")
    assert "The device's state" in page.inner_text("#signin-source")
    page.click("#delete-device")
    page.wait_for_selector("#confirm-delete")
    shots(tab, tmp_path, "delete")
    page.click("text=Cancel")

    # The enrollment setting and its history
    page.click("nav.admin-nav >> text=Devices")
    page.click("nav.tabs >> text=Enrollment")
    tab.wait_for_path("/admin/devices/enrollment")
    page.check("#enrollment-enabled")
    page.click("#save-enrollment")
    page.wait_for_selector("text=is now Enabled, for devices that join from now on.")
    assert "ada@contoso.com" in page.inner_text("#enrollment-history")
    shots(tab, tmp_path, "enrollment")
    page.click("nav.tabs >> text=Configuration profiles")
    tab.wait_for_path("/admin/devices/configuration")
    shots(tab, tmp_path, "profiles")

    # A device sign-in in the sign-in logs, found by its app
    signin_record(user_id="", user_principal_name="pat@contoso.com", app_id=DEVICE_SIGNIN_APP_ID,
                  app_display_name=DEVICE_SIGNIN_APP_NAME, context=RequestContext(), succeeded=True,
                  device={"deviceId": str(build.device_id), "displayName": "build-07", "trustType": "AzureAd"})
    page.click("nav.admin-nav >> text=Sign-in logs")
    tab.wait_for_path("/admin/sign-ins")
    page.select_option("#f-app", DEVICE_SIGNIN_APP_ID)
    page.click("#sign-in-filters button[type=submit]")
    page.wait_for_selector("text=Device: build-07 · Joined")
    shots(tab, tmp_path, "sign-ins")
