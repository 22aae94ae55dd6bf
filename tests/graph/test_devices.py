"""/v1.0/devices: joined computers, read and changed through Graph (passgate.graph_api.views.devices)."""

from __future__ import annotations

from typing import Any

import pytest

from passgate.audit.models import AuditEvent
from passgate.core.graph.devices import DEVICE
from passgate.core.graph.schema import Write
from passgate.devices.models import Device
from passgate.directory.models import DirectoryRole
from tests.graph.conftest import error_of
from tests.graph.methods import joined_device as joined

pytestmark = pytest.mark.django_db


def test_devices_read_as_graph_writes_them(app_api: Any) -> None:
    device = joined()
    hybrid = joined("kiosk-1", "hybrid")
    api = app_api("Device.Read.All")
    listing = api.get("/v1.0/devices").json()
    assert listing["@odata.context"].endswith("$metadata#devices")
    by_id = {d["id"]: d for d in listing["value"]}
    assert by_id[str(device.id)] == {
        "@odata.type": "#microsoft.graph.device", "id": str(device.id), "deviceId": str(device.device_id),
        "displayName": "build-07", "accountEnabled": True, "operatingSystem": "Linux",
        "operatingSystemVersion": "Debian 12", "trustType": "AzureAd",
        "registrationDateTime": by_id[str(device.id)]["registrationDateTime"], "approximateLastSignInDateTime": None,
        "isManaged": True, "isCompliant": None,
        # Graph's other properties, which Passgate does not keep
        **{p.name: None if p.nullable else [] for p in DEVICE.props if p.create is Write.UNSUPPORTED}}
    assert by_id[str(hybrid.id)]["trustType"] == "ServerAd"
    one = api.get(f"/v1.0/devices/{device.id}?$select=displayName,trustType").json()
    assert one["displayName"] == "build-07" and "deviceId" not in one
    hybrids = api.get("/v1.0/devices?$filter=trustType eq 'ServerAd'").json()["value"]
    assert [d["id"] for d in hybrids] == [str(hybrid.id)]
    named = api.get("/v1.0/devices?$filter=startswith(displayName,'KIO')").json()["value"]
    assert [d["displayName"] for d in named] == ["kiosk-1"]
    assert api.get("/v1.0/devices?$filter=deviceId eq 'nope'").json()["value"] == []


def test_devices_page(app_api: Any) -> None:
    made = {str(joined(f"pc-{i}").id) for i in range(5)}
    api = app_api("Device.Read.All")
    seen: list[str] = []
    url = "/v1.0/devices?$top=2"
    while url:
        page = api.get(url.replace("https://id.contoso.test", "")).json()
        seen += [d["id"] for d in page["value"]]
        url = page.get("@odata.nextLink", "")
    assert sorted(seen) == sorted(made) and len(seen) == 5


def test_disable_rename_and_delete_are_audited(app_api: Any) -> None:
    device = joined()
    api = app_api("Device.ReadWrite.All")
    assert api.patch(f"/v1.0/devices/{device.id}", {"accountEnabled": False, "displayName": "old pc"}).status_code \
        == 204
    device.refresh_from_db()
    assert not device.account_enabled and device.display_name == "old pc"
    assert AuditEvent.objects.filter(activity="device.disable", target_id=str(device.id)).exists()
    assert api.delete(f"/v1.0/devices/{device.id}").status_code == 204
    assert not Device.objects.exists() and AuditEvent.objects.filter(activity="device.delete").exists()
    assert error_of(api.get(f"/v1.0/devices/{device.id}"))[0] == 404


@pytest.mark.parametrize(("body", "fragment"), [
    ({}, "names no property"),
    ({"accountEnabled": "no"}, "true or false"),
    ({"displayName": ""}, "1 to 256"),
    ({"displayName": "x" * 257}, "at most 256"),
    ({"deviceId": "00000000-0000-0000-0000-000000000000"}, "read-only"),
    ({"operatingSystem": "Windows"}, "read-only"),
    ({"colour": "blue"}, "does not exist"),
])
def test_a_bad_patch_changes_nothing(app_api: Any, body: dict[str, Any], fragment: str) -> None:
    device = joined()
    before = Device.objects.values().get()
    status, _, message = error_of(app_api("Device.ReadWrite.All").patch(f"/v1.0/devices/{device.id}", body))
    assert status == 400 and fragment in message, message
    assert Device.objects.values().get() == before


def test_devices_need_their_permissions(app_api: Any, admin_api: Any) -> None:
    device = joined()
    assert error_of(app_api("User.Read.All").get("/v1.0/devices"))[0] == 403
    assert error_of(app_api("Device.Read.All").patch(f"/v1.0/devices/{device.id}", {"accountEnabled": False}))[0] \
        == 403
    reader = admin_api(DirectoryRole.GLOBAL_READER)
    assert reader.get("/v1.0/devices").status_code == 200
    assert error_of(reader.delete(f"/v1.0/devices/{device.id}"))[0] == 403
    assert Device.objects.filter(account_enabled=True).count() == 1
    assert error_of(app_api("Device.ReadWrite.All").get("/v1.0/devices/not-a-guid"))[0] in (400, 404)
