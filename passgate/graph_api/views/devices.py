"""/devices: computers joined to the directory (Graph's ``device``; ``passgate.core.graph.devices``).

Devices join through the agent (``/device/v1/join``), not through Graph: there is no POST here, as Graph's own
``POST /devices`` is for registering devices Entra does not manage.
"""

from __future__ import annotations

from typing import Any

from rest_framework.response import Response

from passgate.core.graph.devices import DEVICE
from passgate.core.graph.errors import GraphError
from passgate.core.graph.schema import format_datetime
from passgate.devices.models import Device
from passgate.devices.selectors import device_by_object_id, device_list, device_page_key
from passgate.devices.services import device_delete, device_update
from passgate.graph_api.registry import Call, endpoint, register_resource
from passgate.graph_api.representations import entity_context

register_resource(DEVICE, "device")
BY_ID = "/devices/{device-id}"


def device_json(device: Device, select: tuple[str, ...] = ()) -> dict[str, Any]:
    values: dict[str, Any] = {prop.name: None if prop.nullable else [] for prop in DEVICE.props}
    values.update({
        "id": str(device.id), "deviceId": str(device.device_id), "displayName": device.display_name,
        "accountEnabled": device.account_enabled, "operatingSystem": device.operating_system,
        "operatingSystemVersion": device.operating_system_version,
        "trustType": "AzureAd" if device.trust_type == "joined" else "ServerAd",
        "registrationDateTime": format_datetime(device.registered_at),
        "approximateLastSignInDateTime": format_datetime(device.last_seen_at) if device.last_seen_at else None,
        "isManaged": True, "isCompliant": None,
    })
    return {"@odata.type": DEVICE.odata_type, **{name: values[name] for name in (select or DEVICE.default_select)}}


def _load(device_id: str) -> Device:
    device = device_by_object_id(device_id)
    if device is None:
        raise GraphError.not_found(device_id)
    return device


@endpoint("GET", "/devices", operation="devices.read", tag="devices", summary="List devices",
          responses={200: "device.collection"}, query=("$select", "$filter", "$top", "$skiptoken"))
def devices_list(call: Call) -> Response:
    """``$filter`` takes ``eq`` on id, deviceId, accountEnabled, operatingSystem and trustType, and ``eq`` and
    ``startswith()`` on displayName."""
    query = call.query(DEVICE, collection=True)
    rows, next_link = call.page(query, device_list, device_page_key)
    body: dict[str, Any] = {"@odata.context": call.metadata(entity_context("devices", query.select, single=False))}
    if next_link:
        body["@odata.nextLink"] = next_link
    body["value"] = [device_json(d, query.select) for d in rows]
    return Response(body)


@endpoint("GET", BY_ID, operation="devices.read", tag="devices", summary="Get a device",
          responses={200: "device"}, query=("$select",))
def devices_get(call: Call, device_id: str) -> Response:
    query = call.query(DEVICE, collection=False)
    return Response({"@odata.context": call.metadata(entity_context("devices", query.select, single=True)),
                     **device_json(_load(device_id), query.select)})


@endpoint("PATCH", BY_ID, operation="devices.write", tag="devices", summary="Update a device",
          request="device.update", responses={204: None})
def devices_update(call: Call, device_id: str) -> Response:
    """``accountEnabled: false`` disables the device: it can sign no one in, and its own requests are refused."""
    device = _load(device_id)
    data = DEVICE.validate(call.body, mode="update")
    device_update(device=device, actor=call.actor, display_name=data.get("displayName"),
                  account_enabled=data.get("accountEnabled"), context=call.context)
    return Response(status=204)


@endpoint("DELETE", BY_ID, operation="devices.write", tag="devices", summary="Delete a device",
          responses={204: None})
def devices_delete(call: Call, device_id: str) -> Response:
    device_delete(device=_load(device_id), actor=call.actor, context=call.context)
    return Response(status=204)
