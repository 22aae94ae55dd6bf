"""Reading the device registry."""

from __future__ import annotations

import uuid

from django.db.models import QuerySet

from passgate.devices.models import Device, DeviceEnrollmentToken


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
