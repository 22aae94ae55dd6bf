"""Devices in the admin centre: the list and its filter, a device (groups, Disable/Enable, Delete, its security-key
sign-in setting and the source that decided), Add a device (enrollment tokens shown once with the join command,
revoked); roles (Global Administrator writes, Global Reader reads pages with no forms, others are refused) and
CSRF; every refusal shows a message and changes nothing."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from django.conf import settings
from django.test import Client

from passgate.audit.models import AuditEvent
from passgate.device_config.services import enrollment_configuration_update
from passgate.devices.models import Device, DeviceEnrollmentToken, DeviceGroupMembership
from passgate.devices.services import device_update
from tests.admin.conftest import GA, GR, UA, post_forms, start_session, text_of
from tests.admin.devices_support import SYSTEM, join, security_key_profile

pytestmark = pytest.mark.django_db


@pytest.fixture
def fleet(world: dict[str, Any]) -> dict[str, Any]:
    """build-07 (joined, in Pilot), lab-hybrid (hybrid joined), kiosk-1 (joined, disabled)."""
    build = join("build-07", groups=(world["group"],))
    hybrid = join("lab-hybrid", trust="hybrid")
    kiosk = join("kiosk-1")
    device_update(device=kiosk, account_enabled=False, actor=SYSTEM)
    return {**world, "build": build, "hybrid": hybrid, "kiosk": kiosk}


def test_the_list_shows_every_device_and_filters_by_name(fleet: Any, admin_as: Any) -> None:
    client, _ = admin_as(GR)
    response = client.get("/admin/devices")
    page = text_of(response)
    assert response.status_code == 200 and response.content.count(b"data-device-id") == 3
    for words in ("build-07 Joined Linux Ubuntu 24.04 Yes", "lab-hybrid Hybrid joined", "kiosk-1 Joined Linux "
                  "Ubuntu 24.04 No", "Pilot", "Never"):
        assert words in page, words
    assert "Add a device" not in page  # the Global Reader can't issue tokens
    found = client.get("/admin/devices?q=BUILD")
    assert found.content.count(b"data-device-id") == 1 and b"build-07" in found.content
    assert "No device's name contains “nothing”." in text_of(client.get("/admin/devices?q=nothing"))


def test_a_device_page_for_a_reader_has_no_forms(fleet: Any, admin_as: Any) -> None:
    client, _ = admin_as(GR)
    response = client.get(f"/admin/devices/{fleet['build'].pk}")
    page = text_of(response)
    assert response.status_code == 200
    assert post_forms(response.content) == 1  # the header's sign-out only
    assert "Security-key sign-in: Off Decided by: Not configured." in page
    assert "Join type Hybrid joined" not in page and "Join type Joined" in page
    assert "Pilot" in page and str(fleet["build"].device_id) in page
    assert b"disable-device" not in response.content and b"delete-device" not in response.content


def test_the_sign_in_setting_names_the_source_the_device_api_uses(fleet: Any, admin_as: Any) -> None:
    from passgate.device_config.selectors import security_key_signin_setting
    from passgate.devices.selectors import device_signin_facts

    client, _ = admin_as(GA)
    profile = security_key_profile(groups=(fleet["group"],))
    page = text_of(client.get(f"/admin/devices/{fleet['build'].pk}"))
    assert "Security-key sign-in: On Decided by: Configuration profile." in page
    assert "The configuration profile “Security keys on” assigned to this device turns security-key sign-in on." in page
    assert f'href="/admin/devices/configuration/{profile.id}"' in client.get(
        f"/admin/devices/{fleet['build'].pk}").content.decode()
    hybrid = text_of(client.get(f"/admin/devices/{fleet['hybrid'].pk}"))
    assert "Security-key sign-in: Off Decided by: Local group policy." in hybrid
    assert "Decided by: The device's state." in text_of(client.get(f"/admin/devices/{fleet['kiosk'].pk}"))
    answer = security_key_signin_setting(device_signin_facts(fleet["build"]))
    assert answer.enabled and answer.profile_ids == (profile.id,)


def test_the_sign_in_setting_for_a_person(fleet: Any, admin_as: Any) -> None:
    """A profile assigned to the Pilot users turns sign-in on for Pat on any device, not at the login screen."""
    client, _ = admin_as(GR)
    security_key_profile(groups=(fleet["group"],))
    device = fleet["kiosk"]
    device_update(device=device, account_enabled=True, actor=SYSTEM)
    page = text_of(client.get(f"/admin/devices/{device.pk}?user=pat@contoso.com"))
    assert "Security-key sign-in: Off" in page and "For pat@contoso.com: On (Configuration profile)." in page
    assert "There is no user “nobody@contoso.com”" in text_of(
        client.get(f"/admin/devices/{device.pk}?user=nobody@contoso.com"))


def test_the_enrollment_setting_in_force_at_the_join_decides(world: Any, admin_as: Any) -> None:
    enrollment_configuration_update(body={"securityKeyForSignIn": "enabled"}, actor=SYSTEM)
    device = join("new-laptop")
    client, _ = admin_as(GR)
    page = text_of(client.get(f"/admin/devices/{device.pk}"))
    assert "Security-key sign-in: On Decided by: Enrollment setting." in page
    assert "was enabled when this device joined" in page


def test_disable_and_enable_a_device(fleet: Any, admin_as: Any) -> None:
    client, admin = admin_as(GA)
    device = fleet["build"]
    response = client.post(f"/admin/devices/{device.pk}/account", {"enabled": "false"})
    assert response.status_code == 302 and not Device.objects.get(pk=device.pk).account_enabled
    page = text_of(client.get(response["Location"]))
    assert "“build-07” is disabled: it can no longer sign anyone in, and its offline records stop at its next sync." \
        in page
    assert "Security-key sign-in: Off Decided by: The device's state." in page
    client.post(f"/admin/devices/{device.pk}/account", {"enabled": "true"})
    assert Device.objects.get(pk=device.pk).account_enabled
    assert list(AuditEvent.objects.filter(actor_id=admin.pk).order_by("occurred_at").values_list(
        "activity", flat=True)) == ["device.disable", "device.enable"]


def test_a_bad_enable_value_changes_nothing(fleet: Any, admin_as: Any) -> None:
    client, _ = admin_as(GA)
    response = client.post(f"/admin/devices/{fleet['build'].pk}/account", {"enabled": "maybe"})
    assert response.status_code == 400 and "Choose to enable or disable the device." in text_of(response)
    assert Device.objects.get(pk=fleet["build"].pk).account_enabled


def test_add_a_device_to_a_group_and_remove_it(fleet: Any, admin_as: Any) -> None:
    from passgate.directory.services import group_create

    lab = group_create(display_name="Lab computers", actor=SYSTEM)
    client, admin = admin_as(GA)
    device = fleet["hybrid"]
    page = client.get(f"/admin/devices/{device.pk}").content.decode()
    assert f'<option value="{lab.pk}">Lab computers</option>' in page
    response = client.post(f"/admin/devices/{device.pk}/groups", {"group": str(lab.pk)})
    assert response.status_code == 302 and DeviceGroupMembership.objects.filter(device=device, group=lab).exists()
    assert "“lab-hybrid” was added to “Lab computers”." in text_of(client.get(response["Location"]))
    response = client.post(f"/admin/devices/{device.pk}/groups/{lab.pk}/remove")
    assert response.status_code == 302 and not DeviceGroupMembership.objects.filter(device=device).exists()
    assert list(AuditEvent.objects.filter(actor_id=admin.pk).order_by("occurred_at").values_list(
        "activity", flat=True)) == ["group.addMember", "group.removeMember"]


@pytest.mark.parametrize("group", ["", "not-a-uuid", "7c0b7a4e-0000-4000-8000-000000000000"])
def test_adding_to_no_group_changes_nothing(group: str, fleet: Any, admin_as: Any) -> None:
    client, _ = admin_as(GA)
    response = client.post(f"/admin/devices/{fleet['hybrid'].pk}/groups", {"group": group})
    assert response.status_code == 400 and "Choose a group to add the device to." in text_of(response)
    assert DeviceGroupMembership.objects.count() == 1


def test_removing_a_device_from_a_group_it_is_not_in(fleet: Any, admin_as: Any) -> None:
    client, _ = admin_as(GA)
    response = client.post(f"/admin/devices/{fleet['hybrid'].pk}/groups/{fleet['group'].pk}/remove")
    assert response.status_code == 400 and "lab-hybrid is not a member of Pilot." in text_of(response)


def test_delete_a_device_after_the_confirmation(fleet: Any, admin_as: Any) -> None:
    client, admin = admin_as(GA)
    device = fleet["build"]
    page = text_of(client.get(f"/admin/devices/{device.pk}/delete"))
    assert "Delete the device “build-07”?" in page
    assert "It can no longer sign anyone in" in page and "offline records on it stop at its next sync" in page
    response = client.post(f"/admin/devices/{device.pk}/delete")
    assert response["Location"] == "/admin/devices" and not Device.objects.filter(pk=device.pk).exists()
    assert "“build-07” was deleted from the directory." in text_of(client.get("/admin/devices"))
    assert AuditEvent.objects.filter(actor_id=admin.pk, activity="device.delete").count() == 1
    assert client.get(f"/admin/devices/{device.pk}").status_code == 404


def test_issue_an_enrollment_token_shown_once_with_the_join_command(admin_as: Any) -> None:
    client, admin = admin_as(GA)
    form = client.get("/admin/devices/add")
    assert form.status_code == 200 and 'value="60"' in form.content.decode()
    response = client.post("/admin/devices/add", {"lifetime": "120", "uses": "5", "description": "Build servers"})
    page = text_of(response)
    token = DeviceEnrollmentToken.objects.get()
    plain = response.content.decode().split('id="token">')[1].split("<")[0]
    assert plain.startswith("PGD-") and len(plain) == 36
    assert f"passgate-device join --passgate {settings.PASSGATE.origin} --token {plain}" in page
    assert "Shown only this once." in page and "Up to 5 computers" in page
    assert (token.lifetime_minutes, token.uses_allowed, token.description, token.created_by) == (
        120, 5, "Build servers", admin.user_principal_name)
    assert plain.encode() not in bytes(token.digest)
    listing = client.get("/admin/devices/add")
    assert plain not in listing.content.decode() and "Build servers" in text_of(listing)
    assert "5 of 5" in text_of(listing)


@pytest.mark.parametrize(("values", "message"), [
    ({"lifetime": "an hour", "uses": "1"}, "The lifetime must be a whole number of minutes, not “an hour”."),
    ({"lifetime": "5", "uses": "1"}, "The lifetime in minutes must be a whole number from 10 to 10080."),
    ({"lifetime": "60", "uses": "0"}, "The number of joins must be a whole number from 1 to 1000."),
    ({"lifetime": "60", "uses": "many"}, "The number of computers must be a whole number, not “many”."),
    ({"lifetime": "60", "uses": "1", "description": "x" * 280}, "The description may be at most 256 characters"),
])
def test_issuing_a_token_with_bad_input_changes_nothing(values: dict[str, str], message: str,
                                                        admin_as: Any) -> None:
    client, _ = admin_as(GA)
    response = client.post("/admin/devices/add", values)
    assert response.status_code == 400 and message in text_of(response)
    assert not DeviceEnrollmentToken.objects.exists() and b"PGD-" not in response.content


def test_revoke_a_token(admin_as: Any) -> None:
    from passgate.devices.services import enrollment_token_issue

    token, _ = enrollment_token_issue(actor=SYSTEM, description="Spare")
    client, admin = admin_as(GA)
    response = client.post(f"/admin/devices/tokens/{token.pk}/revoke")
    assert response["Location"] == "/admin/devices/add"
    token.refresh_from_db()
    assert token.revoked_at is not None
    page = text_of(client.get("/admin/devices/add"))
    assert "The enrollment token “Spare” was revoked" in page and "No enrollment token can join a computer now." in page
    assert AuditEvent.objects.filter(actor_id=admin.pk, activity="device.enrollmentToken.revoke").exists()


def test_the_reader_sees_tokens_but_no_form(admin_as: Any) -> None:
    from passgate.devices.services import enrollment_token_issue

    enrollment_token_issue(actor=SYSTEM, description="Spare")
    client, _ = admin_as(GR)
    response = client.get("/admin/devices/add")
    assert response.status_code == 200 and post_forms(response.content) == 1
    assert "Spare" in text_of(response) and "Issue an enrollment token" not in text_of(response)


@pytest.mark.parametrize(("method", "path"), [
    ("post", "/admin/devices/add"), ("post", "/admin/devices/{device}/account"),
    ("post", "/admin/devices/{device}/groups"), ("post", "/admin/devices/{device}/delete"),
    ("get", "/admin/devices/{device}/delete"), ("post", "/admin/devices/tokens/{token}/revoke"),
])
def test_the_global_reader_changes_nothing(method: str, path: str, fleet: Any, admin_as: Any) -> None:
    token = DeviceEnrollmentToken.objects.first()
    client, _ = admin_as(GR)
    url = path.format(device=fleet["build"].pk, token=token.pk if token else "")
    response = getattr(client, method)(url, {"enabled": "false", "group": str(fleet["group"].pk), "lifetime": "60",
                                             "uses": "1"} if method == "post" else None)
    assert response.status_code == 403 and "Your roles don't let you" in text_of(response)
    assert "Global Administrator" in text_of(response)
    assert Device.objects.filter(account_enabled=True).count() == 2 and Device.objects.count() == 3
    assert DeviceEnrollmentToken.objects.filter(revoked_at__isnull=False).count() == 0


@pytest.mark.parametrize("path", ["/admin/devices", "/admin/devices/add", "/admin/devices/configuration",
                                  "/admin/devices/enrollment"])
def test_other_roles_are_not_allowed(path: str, admin_as: Any) -> None:
    client, _ = admin_as(UA)
    response = client.get(path)
    assert response.status_code == 403 and "Your roles don't let you see this." in text_of(response)
    assert b'href="/admin/devices"' not in response.content  # no Devices in their navigation


def test_no_role_no_admin_centre(make_user: Any) -> None:
    client = start_session(Client(), make_user(upn="nobody@contoso.com"))
    assert client.get("/admin/devices").status_code == 403


def test_a_change_without_the_csrf_token_is_refused(fleet: Any, admin_as: Any) -> None:
    client, admin = admin_as(GA, client=Client(enforce_csrf_checks=True))
    device = fleet["build"]
    for path, data in ((f"/admin/devices/{device.pk}/account", {"enabled": "false"}),
                       (f"/admin/devices/{device.pk}/delete", {}), ("/admin/devices/add", {"lifetime": "60"})):
        assert client.post(path, data).status_code == 403
    assert Device.objects.get(pk=device.pk).account_enabled
    assert not DeviceEnrollmentToken.objects.filter(created_by=admin.user_principal_name).exists()


def test_sign_in_logs_name_the_device_and_filter_by_the_device_app(fleet: Any, admin_as: Any) -> None:
    from passgate.audit.services import RequestContext
    from passgate.audit.signins import signin_record
    from passgate.core.devices.signin import DEVICE_SIGNIN_APP_ID

    pat, device = fleet["pat"], fleet["hybrid"]
    on_device = signin_record(user_id=str(pat.pk), user_principal_name=pat.user_principal_name,
                              app_id=DEVICE_SIGNIN_APP_ID, app_display_name="Passgate device sign-in",
                              context=RequestContext(), succeeded=True,
                              device={"deviceId": str(device.device_id), "displayName": "lab-hybrid",
                                      "trustType": "ServerAd"})
    signin_record(user_id=str(pat.pk), user_principal_name=pat.user_principal_name, app_id=str(uuid.uuid4()),
                  app_display_name="Wiki", context=RequestContext(), succeeded=True)
    client, _ = admin_as(GR)
    listing = client.get("/admin/sign-ins")
    assert listing.content.count(b"data-sign-in-id=") == 2
    assert "Passgate device sign-in Device: lab-hybrid · Hybrid joined" in text_of(listing)
    assert f'<option value="{DEVICE_SIGNIN_APP_ID}">Passgate device sign-in</option>' in listing.content.decode()
    only = client.get(f"/admin/sign-ins?app={DEVICE_SIGNIN_APP_ID}")
    assert only.content.count(b"data-sign-in-id=") == 1 and b"lab-hybrid" in only.content
    detail = client.get(f"/admin/sign-ins/{on_device.pk}")
    assert "Device lab-hybrid · Hybrid joined" in text_of(detail)
    assert f'href="/admin/devices/{device.pk}"' in detail.content.decode()


def test_the_device_app_is_offered_before_any_device_sign_in(admin_as: Any) -> None:
    from passgate.core.devices.signin import DEVICE_SIGNIN_APP_ID

    client, _ = admin_as(GR)
    response = client.get("/admin/sign-ins")
    assert f'<option value="{DEVICE_SIGNIN_APP_ID}">Passgate device sign-in</option>' in response.content.decode()
    assert "No sign-ins match these filters." in text_of(client.get(f"/admin/sign-ins?app={DEVICE_SIGNIN_APP_ID}"))
