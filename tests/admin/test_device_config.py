"""Device configuration in the admin centre: custom profiles (OMA-URI rows, the one-click security-key row, rows
not applicable on Linux shown and kept), edit and assignments each previewed for the devices they would switch and
for whom, delete; the enrollment setting with its history. Roles, CSRF, and refusals that change nothing."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from passgate.audit.models import AuditEvent
from passgate.core.devices.signin_setting import SECURITY_KEY_OMA_URI
from passgate.device_config.models import ConfigurationAssignment, DeviceConfiguration, EnrollmentSettingChange
from passgate.device_config.selectors import assignments_of, enrollment_configuration, profile_get
from tests.admin.conftest import GA, GR, as_post, form_fields, post_forms, text_of
from tests.admin.devices_support import SYSTEM, join, security_key_profile

pytestmark = pytest.mark.django_db

NOT_APPLICABLE_ROW = {"@odata.type": "#microsoft.graph.omaSettingString", "displayName": "Wallpaper",
                      "omaUri": "./Vendor/MSFT/Personalization/DesktopImageUrl", "value": "https://x.test/a.png"}


def _rows(*rows: tuple[str, str, str, str]) -> dict[str, list[str]]:
    return {"row_name": [r[0] for r in rows], "row_description": ["" for _ in rows],
            "row_uri": [r[1] for r in rows], "row_type": [r[2] for r in rows], "row_value": [r[3] for r in rows],
            "row_file": ["" for _ in rows]}


KEY_ROW = ("Use security keys for sign-in", SECURITY_KEY_OMA_URI, "omaSettingInteger", "1")
WALLPAPER_ROW = ("Wallpaper", "./Vendor/MSFT/Personalization/DesktopImageUrl", "omaSettingString", "https://x.test/a")


def test_create_the_security_key_profile_in_one_click(admin_as: Any) -> None:
    client, admin = admin_as(GA)
    start = client.get("/admin/devices/configuration/new?start=security-key")
    fields = form_fields(start, "profile-form")
    assert ("row_uri", SECURITY_KEY_OMA_URI) in fields and ("row_type", "omaSettingInteger") in fields
    assert ("row_value", "1") in fields and ("row_name", "Use security keys for sign-in") in fields
    # the same row from the button on an empty form
    again = client.post("/admin/devices/configuration/new", {"name": "Keys", "action": "add-security-key"})
    assert ("row_uri", SECURITY_KEY_OMA_URI) in form_fields(again, "profile-form")
    assert b'id="add-security-key"' not in again.content  # once per profile
    response = client.post("/admin/devices/configuration/new", {**as_post(fields), "action": "save"})
    profile = DeviceConfiguration.objects.get()
    assert response["Location"] == f"/admin/devices/configuration/{profile.pk}"
    page = text_of(client.get(response["Location"]))
    assert "It applies to no device until you assign it" in page and "security-key sign-in On" in page
    assert AuditEvent.objects.filter(actor_id=admin.pk, activity="deviceConfiguration.create").exists()


def test_rows_not_applicable_on_linux_are_kept_and_shown(admin_as: Any) -> None:
    client, _ = admin_as(GA)
    response = client.post("/admin/devices/configuration/new", {
        "name": "Mixed", "description": "Keys and a wallpaper", **_rows(KEY_ROW, WALLPAPER_ROW), "action": "save"})
    assert response.status_code == 302
    profile = profile_get(str(DeviceConfiguration.objects.get().pk))
    assert [s.oma_uri for s in profile.oma_settings] == [SECURITY_KEY_OMA_URI, WALLPAPER_ROW[1]]
    page = text_of(client.get(response["Location"]))
    assert "Use security keys for sign-in" in page and "Applies" in page
    assert "Wallpaper ./Vendor/MSFT/Personalization/DesktopImageUrl String https://x.test/a Not applicable on Linux" \
        in page
    listing = text_of(client.get("/admin/devices/configuration"))
    assert "Mixed" in listing and "1 not applicable" in listing and "Not assigned" in listing


def test_add_and_remove_rows_without_saving(admin_as: Any) -> None:
    client, _ = admin_as(GA)
    added = client.post("/admin/devices/configuration/new", {"name": "P", **_rows(KEY_ROW), "action": "add-row"})
    assert added.content.count(b'name="row_uri"') == 2
    removed = client.post("/admin/devices/configuration/new", {"name": "P", **_rows(KEY_ROW, WALLPAPER_ROW),
                                                               "remove": "0"})
    assert [v for k, v in form_fields(removed, "profile-form") if k == "row_uri"] == [WALLPAPER_ROW[1]]
    assert not DeviceConfiguration.objects.exists()


@pytest.mark.parametrize(("data", "message"), [
    ({"name": "  ", **_rows(KEY_ROW)}, "Enter a name for the profile."),
    ({"name": "P", **_rows(("Keys", SECURITY_KEY_OMA_URI, "omaSettingInteger", "on"))},
     "Row 1: an Integer value is a whole number, like 1, not “on”."),
    ({"name": "P", **_rows(("Keys", SECURITY_KEY_OMA_URI, "omaSettingInteger", "2"))},
     "Row 1 (value): ./Device/Vendor/MSFT/PassportForWork/SecurityKey/UseSecurityKeyForSignin takes 1 (security-key "
     "sign-in on) or 0 (off), not 2."),
    ({"name": "P", **_rows(("Keys", SECURITY_KEY_OMA_URI, "omaSettingString", "1"))},
     "is an Integer setting: send it as #microsoft.graph.omaSettingInteger"),
    ({"name": "P", **_rows(KEY_ROW, ("Again", SECURITY_KEY_OMA_URI.upper(), "omaSettingInteger", "0"))},
     "Row 2 (OMA-URI): The OMA-URI"),
    ({"name": "P", **_rows(("Flag", "./Vendor/X", "omaSettingBoolean", "yes"))},
     "Row 1: a Boolean value is True or False, not “yes”."),
    ({"name": "P", **_rows(("When", "./Vendor/X", "omaSettingDateTime", "tomorrow"))}, "Row 1 (value):"),
    ({"name": "P", **_rows(("", "./Vendor/X", "omaSettingString", "x"))}, "Row 1"),
    ({"name": "P", **_rows(("Kind", "./Vendor/X", "omaSettingNothing", "x"))}, "Row 1: choose a data type."),
])
def test_a_refused_profile_changes_nothing_and_says_why(data: dict[str, Any], message: str, admin_as: Any) -> None:
    client, _ = admin_as(GA)
    response = client.post("/admin/devices/configuration/new", {**data, "action": "save"})
    assert response.status_code == 400 and message in text_of(response)
    assert not DeviceConfiguration.objects.exists()


def test_edit_a_value_with_the_impact_preview(world: Any, admin_as: Any) -> None:
    device = join("build-07", groups=(world["group"],))
    profile = security_key_profile(groups=(world["group"],))
    client, admin = admin_as(GA)
    form = client.get(f"/admin/devices/configuration/{profile.id}?edit=1")
    fields = [(k, "0" if k == "row_value" else v) for k, v in form_fields(form, "profile-form")]
    preview = client.post(f"/admin/devices/configuration/{profile.id}", {**as_post(fields), "action": "save"})
    page = text_of(preview)
    assert preview.status_code == 200 and "Review before saving" in page
    assert preview.content.decode().count('id="impact-off">1<') == 1
    assert "build-07 Everyone who signs in on it On → Off" in page
    assert f"{SECURITY_KEY_OMA_URI} = 1 (Integer)" in page and f"{SECURITY_KEY_OMA_URI} = 0 (Integer)" in page
    assert profile_get(profile.id).version == 1  # nothing saved yet
    saved = client.post(f"/admin/devices/configuration/{profile.id}",
                        as_post(form_fields(preview, "save-form")) | {"confirm": ["1"]})
    assert saved.status_code == 302 and profile_get(profile.id).oma_settings[0].value == 0
    assert "saved (version 2)" in text_of(client.get(saved["Location"]))
    assert AuditEvent.objects.filter(actor_id=admin.pk, activity="deviceConfiguration.update").count() == 1
    assert "Security-key sign-in: Off" in text_of(client.get(f"/admin/devices/{device.pk}"))


def test_a_save_after_someone_else_changed_the_profile_previews_again(world: Any, admin_as: Any) -> None:
    from passgate.device_config.services import device_configuration_update
    profile = security_key_profile()
    client, _ = admin_as(GA)
    form = client.get(f"/admin/devices/configuration/{profile.id}?edit=1")
    preview = client.post(f"/admin/devices/configuration/{profile.id}",
                          {**as_post(form_fields(form, "profile-form")), "name": ["Renamed"], "action": "save"})
    device_configuration_update(configuration_id=profile.id, body={"description": "by Graph"}, actor=SYSTEM)
    again = client.post(f"/admin/devices/configuration/{profile.id}",
                        as_post(form_fields(preview, "save-form")) | {"confirm": ["1"]})
    assert again.status_code == 200 and "Someone changed this profile after your preview." in text_of(again)
    assert profile_get(profile.id).display_name == "Security keys on"


def test_assign_to_a_group_with_the_impact_preview_for_devices_and_people(world: Any, admin_as: Any) -> None:
    from passgate.directory.services import group_create

    lab = group_create(display_name="Lab computers", actor=SYSTEM)
    join("build-07", groups=(lab,))
    join("kiosk-1")
    profile = security_key_profile()
    client, admin = admin_as(GA)
    form = client.get(f"/admin/devices/configuration/{profile.id}/assignments")
    assert form.status_code == 200
    preview = client.post(f"/admin/devices/configuration/{profile.id}/assignments",
                          {"include": [str(lab.pk), str(world["group"].pk)]})
    page = text_of(preview)
    assert 'id="impact-on">1<' in preview.content.decode()
    assert "build-07 Everyone who signs in on it Off → On" in page
    # Pilot is a group of people: Pat (its member) gets security-key sign-in on kiosk-1 once known
    assert "kiosk-1 pat@contoso.com Off → On" in page
    assert "Included — Lab computers, Pilot" in page
    assert not ConfigurationAssignment.objects.exists()
    saved = client.post(f"/admin/devices/configuration/{profile.id}/assignments",
                        as_post(form_fields(preview, "save-form")) | {"confirm": ["1"]})
    assert saved.status_code == 302
    assert {a.target.group_id for a in assignments_of(profile.id)} == {str(lab.pk), str(world["group"].pk)}
    assert "Lab computers, Pilot" in text_of(client.get(saved["Location"]))
    assert AuditEvent.objects.filter(actor_id=admin.pk, activity="deviceConfiguration.assign").count() == 1


def test_assign_to_all_devices_and_exclude_a_group(world: Any, admin_as: Any) -> None:
    join("build-07", groups=(world["group"],))
    join("kiosk-1")
    profile = security_key_profile()
    client, _ = admin_as(GA)
    preview = client.post(f"/admin/devices/configuration/{profile.id}/assignments",
                          {"all_devices": "1", "exclude": [str(world["group"].pk)]})
    page = text_of(preview)
    assert "kiosk-1 Everyone who signs in on it Off → On" in page and "build-07 Everyone" not in page
    client.post(f"/admin/devices/configuration/{profile.id}/assignments",
                as_post(form_fields(preview, "save-form")) | {"confirm": ["1"]})
    assert [a.target.kind.value for a in assignments_of(profile.id)] == ["allDevicesAssignmentTarget",
                                                                          "exclusionGroupAssignmentTarget"]


@pytest.mark.parametrize("group", ["not-a-guid", "7c0b7a4e-0000-4000-8000-000000000000"])
def test_assigning_to_a_group_that_is_not_there_changes_nothing(group: str, world: Any, admin_as: Any) -> None:
    profile = security_key_profile()
    client, _ = admin_as(GA)
    for data in ({"include": [group]}, {"include": [group], "confirm": "1"}):
        response = client.post(f"/admin/devices/configuration/{profile.id}/assignments", data)
        assert response.status_code == 400 and text_of(response).count("Assignments") >= 1
        assert b'id="assign-error"' in response.content
    assert not ConfigurationAssignment.objects.exists()


def test_delete_a_profile_says_what_it_would_switch(world: Any, admin_as: Any) -> None:
    join("build-07", groups=(world["group"],))
    profile = security_key_profile(groups=(world["group"],))
    client, admin = admin_as(GA)
    page = text_of(client.get(f"/admin/devices/configuration/{profile.id}/delete"))
    assert "Delete the profile “Security keys on”?" in page
    assert "switches security-key sign-in on 1 device sign-in: “build-07” (Everyone who signs in on it: off)" in page
    response = client.post(f"/admin/devices/configuration/{profile.id}/delete")
    assert response["Location"] == "/admin/devices/configuration" and not DeviceConfiguration.objects.exists()
    assert AuditEvent.objects.filter(actor_id=admin.pk, activity="deviceConfiguration.delete").exists()


def test_the_reader_sees_profiles_with_no_forms(world: Any, admin_as: Any) -> None:
    profile = security_key_profile(extra=(NOT_APPLICABLE_ROW,), groups=(world["group"],))
    client, _ = admin_as(GR)
    for path in ("/admin/devices/configuration", f"/admin/devices/configuration/{profile.id}",
                 f"/admin/devices/configuration/{profile.id}/assignments", "/admin/devices/enrollment"):
        response = client.get(path)
        assert response.status_code == 200 and post_forms(response.content) == 1, path
    assert "Pilot" in text_of(client.get(f"/admin/devices/configuration/{profile.id}/assignments"))
    assert "Not applicable on Linux" in text_of(client.get(f"/admin/devices/configuration/{profile.id}"))
    for method, path in (("get", "/admin/devices/configuration/new"),
                         ("post", f"/admin/devices/configuration/{profile.id}"),
                         ("post", f"/admin/devices/configuration/{profile.id}/assignments"),
                         ("get", f"/admin/devices/configuration/{profile.id}/delete"),
                         ("post", "/admin/devices/enrollment")):
        response = getattr(client, method)(path, {"security_key_for_sign_in": "enabled", "include": []}
                                           if method == "post" else None)
        assert response.status_code == 403, path
    assert DeviceConfiguration.objects.count() == 1 and EnrollmentSettingChange.objects.count() <= 1


def test_change_the_enrollment_setting_and_see_its_history(admin_as: Any) -> None:
    client, admin = admin_as(GA)
    page = text_of(client.get("/admin/devices/enrollment"))
    assert "Applies to devices that join after the change." in page
    assert "Not configured passgate (system) 1" in page
    response = client.post("/admin/devices/enrollment", {"security_key_for_sign_in": "enabled"})
    assert response["Location"] == "/admin/devices/enrollment"
    page = text_of(client.get("/admin/devices/enrollment"))
    assert "“Use security keys for sign-in” is now Enabled, for devices that join from now on." in page
    assert f"Enabled {admin.user_principal_name} 2" in page
    assert enrollment_configuration().security_key_for_sign_in.value == "enabled"
    assert AuditEvent.objects.filter(actor_id=admin.pk, activity="deviceEnrollmentConfiguration.update").exists()
    same = client.post("/admin/devices/enrollment", {"security_key_for_sign_in": "enabled"})
    assert "was already Enabled" in text_of(client.get(same["Location"]))
    assert EnrollmentSettingChange.objects.count() == 2


@pytest.mark.parametrize("value", ["", "on", "Enabled"])
def test_a_bad_enrollment_value_changes_nothing(value: str, admin_as: Any) -> None:
    client, _ = admin_as(GA)
    response = client.post("/admin/devices/enrollment", {"security_key_for_sign_in": value})
    assert response.status_code == 400 and "Choose Enabled, Disabled or Not configured." in text_of(response)
    assert enrollment_configuration().version == 1


def test_configuration_changes_need_the_csrf_token(world: Any, admin_as: Any) -> None:
    profile = security_key_profile()
    client, _ = admin_as(GA, client=Client(enforce_csrf_checks=True))
    for path, data in (("/admin/devices/enrollment", {"security_key_for_sign_in": "enabled"}),
                       ("/admin/devices/configuration/new", {"name": "X", "action": "save"}),
                       (f"/admin/devices/configuration/{profile.id}/assignments", {"all_devices": "1",
                                                                                   "confirm": "1"}),
                       (f"/admin/devices/configuration/{profile.id}/delete", {})):
        assert client.post(path, data).status_code == 403, path
    assert DeviceConfiguration.objects.count() == 1 and not ConfigurationAssignment.objects.exists()
    assert enrollment_configuration().version == 1
