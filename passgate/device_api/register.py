"""Registering a security key from a joined computer with a Temporary Access Pass (docs/devices.md).

Begin: the person's user name and pass (``credentials.tap_signin``: throttled, audited, a one-time pass used up),
then registration options whose challenge is bound to this registration and this device. Complete: the new
credential, verified and stored under the methods policy (``credentials.passkey_registration_complete``).
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from passgate.audit.models import Category
from passgate.audit.services import RequestContext, audit_failure, audit_record
from passgate.core.devices import register as rules
from passgate.core.devices.errors import DeviceReason, DeviceRejected
from passgate.credentials.services import (
    CHALLENGE_LIFETIME,
    passkey_registration_begin,
    passkey_registration_complete,
    tap_signin,
)
from passgate.devices.models import Device, DeviceKeyRegistration
from passgate.devices.services import device_actor, device_target


def device_key_register_begin(*, device: Device, body: object, context: RequestContext) -> dict[str, Any]:
    request = rules.read_begin(body)
    signin = tap_signin(upn=request.user_name, tap=request.temporary_access_pass, context=context,
                        activity="tap.deviceKeyRegistration")
    now = timezone.now()
    row = DeviceKeyRegistration.objects.create(device=device, user=signin.user, created_at=now,
                                               expires_at=now + CHALLENGE_LIFETIME)
    return {"registrationId": str(row.id),
            "publicKey": passkey_registration_begin(user=signin.user, session_key=row.binding)}


def device_key_register_complete(*, device: Device, body: object, context: RequestContext) -> dict[str, Any]:
    request = rules.read_complete(body)
    with transaction.atomic():
        taken = DeviceKeyRegistration.objects.filter(
            pk=request.registration_id, device=device, completed_at__isnull=True,
            expires_at__gt=timezone.now()).update(completed_at=timezone.now())
    row = DeviceKeyRegistration.objects.select_related("user").filter(pk=request.registration_id).first()
    if not taken or row is None:
        audit_failure(category=Category.SECURITY_INFO, activity="device.registerKey",
                      reason=DeviceReason.REGISTER_UNKNOWN, actor=device_actor(device), target=device_target(device),
                      context=context)
        raise DeviceRejected(DeviceReason.REGISTER_UNKNOWN, "This registration is unknown, expired or already "
                             "completed: start again with a Temporary Access Pass.")
    passkey = passkey_registration_complete(user=row.user, session_key=row.binding, credential=request.credential,
                                            display_name=request.display_name, context=context)
    audit_record(category=Category.SECURITY_INFO, activity="device.registerKey", actor=device_actor(device),
                 target=device_target(device), context=context,
                 details={"user": row.user.user_principal_name, "passkeyId": str(passkey.pk)})
    return {"passkey": {"id": str(passkey.pk), "displayName": passkey.display_name, "aaGuid": str(passkey.aaguid)},
            "user": {"id": str(row.user.pk), "userPrincipalName": row.user.user_principal_name}}
