"""Reading the device registry."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from django.db.models import QuerySet

from passgate.core.devices.signin_setting import DeviceFacts, LocalPolicy, TrustType
from passgate.core.graph.odata import Comparison
from passgate.devices.models import Device, DeviceEnrollmentToken, DeviceGroupMembership
from passgate.directory.models import SecurityGroup, User
from passgate.directory.selectors import graph_conditions


def device_by_object_id(object_id: str) -> Device | None:
    try:
        return Device.objects.filter(id=uuid.UUID(object_id)).first()
    except ValueError:
        return None


def device_find(identifier: str) -> Device | None:
    """By object id, deviceId, or exact display name (when only one device has it)."""
    try:
        wanted = uuid.UUID(identifier.strip())
    except ValueError:
        named = list(Device.objects.filter(display_name=identifier.strip())[:2])
        return named[0] if len(named) == 1 else None
    return Device.objects.filter(id=wanted).first() or Device.objects.filter(device_id=wanted).first()


def devices_all() -> QuerySet[Device]:
    return Device.objects.all()


def enrollment_tokens_all() -> QuerySet[DeviceEnrollmentToken]:
    return DeviceEnrollmentToken.objects.all()


# Graph property -> (eq lookup, startswith lookup)
DEVICE_COLUMNS: Mapping[str, tuple[str, str]] = {
    "id": ("pk", ""),
    "deviceId": ("device_id", ""),
    "displayName": ("display_name__iexact", "display_name__istartswith"),
    "accountEnabled": ("account_enabled", ""),
    "operatingSystem": ("operating_system__iexact", ""),
    "trustType": ("trust_type", ""),
}
_CONVERT: Mapping[str, Callable[[object], object]] = {
    "device_id": lambda value: uuid.UUID(str(value)),
    "trust_type": lambda value: {"azuread": "joined", "serverad": "hybrid"}.get(str(value).lower(), ""),
}


def device_list(*, where: Sequence[Comparison] = (), after: str | None = None,
                limit: int | None = None) -> list[Device]:
    """Devices matching every condition, by object id (Graph's device list has no order), after ``after``."""
    qs = Device.objects.filter(graph_conditions(where, DEVICE_COLUMNS, convert=_CONVERT)).order_by("id")
    if after is not None:
        qs = qs.filter(id__gt=uuid.UUID(after))
    return list(qs[:limit] if limit is not None else qs)


def device_page_key(device: Device) -> str:
    return str(device.id)


# --- what core.devices.signin_setting.decide needs to know of a device --------------------------------------------

def _trust(device: Device) -> TrustType:
    return TrustType.HYBRID if device.trust_type == "hybrid" else TrustType.JOINED


def device_signin_facts(device: Device, user: User | None = None) -> DeviceFacts:
    """A device's facts for the security-key sign-in decision; with ``user``, their groups too (profiles assigned
    to users' groups count once the person is known)."""
    return DeviceFacts(
        device_id=str(device.id), enabled=device.account_enabled, trust_type=_trust(device),
        joined_at=device.registered_at,
        device_group_ids=frozenset(str(g) for g in device.groups.values_list("id", flat=True)),
        user_group_ids=None if user is None else frozenset(
            str(g) for g in user.security_groups.values_list("id", flat=True)),
        **_reported(device))


def _reported(device: Device) -> dict[str, Any]:
    """What the device reported at its last sync (/device/v1/sync): a signed provisioning package's value, and on
    hybrid devices local group policy."""
    return {"provisioning_package": device.reported_package_value,
            "local_group_policy": LocalPolicy(device.reported_group_policy) if device.reported_group_policy else None}


def every_device_signin_facts(*, user_group_ids: frozenset[str] | None = None) -> list[tuple[Device, DeviceFacts]]:
    """Every device with its facts (two queries), for an impact preview; ``user_group_ids`` stands for a person
    signing in on each of them (None: the login screen, nobody known yet)."""
    groups: dict[uuid.UUID, set[str]] = {}
    for device_id, group_id in DeviceGroupMembership.objects.values_list("device_id", "group_id"):
        groups.setdefault(device_id, set()).add(str(group_id))
    return [(device, DeviceFacts(device_id=str(device.id), enabled=device.account_enabled, trust_type=_trust(device),
                                 joined_at=device.registered_at,
                                 device_group_ids=frozenset(groups.get(device.id, ())),
                                 user_group_ids=user_group_ids, **_reported(device)))
            for device in Device.objects.order_by("display_name", "registered_at")]


# --- the admin centre's lists -----------------------------------------------------------------------------------------

def device_search(text: str = "") -> QuerySet[Device]:
    """Devices whose name contains ``text`` (case-insensitive), by name, with their groups prefetched."""
    qs = Device.objects.all()
    if text.strip():
        qs = qs.filter(display_name__icontains=text.strip())
    return qs.prefetch_related("groups").order_by("display_name", "registered_at")


def device_groups(device: Device) -> list[SecurityGroup]:
    return list(device.groups.order_by("name_normalized"))


def enrollment_tokens_active(*, now: datetime) -> list[DeviceEnrollmentToken]:
    """Tokens that can still join a computer (not revoked, joins left, not expired), newest first."""
    rows = DeviceEnrollmentToken.objects.filter(revoked_at__isnull=True, uses_left__gt=0).order_by("-created_at")
    return [row for row in rows if row.created_at + timedelta(minutes=row.lifetime_minutes) > now]


def enrollment_token_by_id(token_id: object) -> DeviceEnrollmentToken | None:
    try:
        return DeviceEnrollmentToken.objects.filter(pk=uuid.UUID(str(token_id))).first()
    except ValueError:
        return None
