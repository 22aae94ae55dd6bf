"""``POST /device/v1/sync``: the device reports its local sources of the security-key setting and the offline
records it holds; Passgate answers its record, the setting in force with its source, which offline records are
still good, and its token-signing keys (to check offline records and packages offline).

Body: ``{"provisioningPackage": "<the package file's text>" | null, "localGroupPolicy": "enabled" | "disabled" |
"notConfigured" | null, "offlineCredentials": ["<credential id, base64url>", …]}`` (at most 100).
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from passgate.apps.keys import jwks
from passgate.audit.models import Category
from passgate.audit.services import RequestContext, audit_record
from passgate.core.devices.errors import DeviceReason, DeviceRejected
from passgate.core.devices.keys import b64url_decode
from passgate.core.devices.signin_setting import LocalPolicy
from passgate.credentials.models import Passkey
from passgate.device_api.packages import provisioning_package_read
from passgate.device_api.signin import security_key_signin_setting
from passgate.devices.models import Device
from passgate.devices.services import device_actor, device_target

MAX_OFFLINE_CREDENTIALS = 100
_MEMBERS = frozenset({"provisioningPackage", "localGroupPolicy", "offlineCredentials"})


def _bad(message: str) -> DeviceRejected:
    return DeviceRejected(DeviceReason.SYNC_REQUEST_INVALID, message)


def _credential_ids(value: object) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or len(value) > MAX_OFFLINE_CREDENTIALS:
        raise _bad(f"'offlineCredentials' must be a list of at most {MAX_OFFLINE_CREDENTIALS} credential ids.")
    for item in value:
        try:
            if not isinstance(item, str) or not 0 < len(item) <= 1400:
                raise ValueError
            b64url_decode(item)
        except ValueError:
            raise _bad("Each offline credential id must be base64url.") from None
    return list(dict.fromkeys(value))


def _still_good(device: Device, ids: list[str]) -> tuple[list[str], list[str]]:
    """Offline records whose passkey still exists, is not suspended, and whose user is enabled, on an enabled
    device: the rest are to be forgotten."""
    wanted = {b64url_decode(i): i for i in ids}
    good = {bytes(p.credential_id) for p in Passkey.objects.select_related("user").filter(
        credential_id__in=list(wanted), possibly_cloned_at__isnull=True, user__account_enabled=True)}
    valid = [text for raw, text in wanted.items() if raw in good and device.account_enabled]
    return valid, [text for text in ids if text not in valid]


def device_sync(*, device: Device, body: object, context: RequestContext) -> dict[str, Any]:
    if not isinstance(body, dict) or set(body) - _MEMBERS:
        raise _bad(f"The body takes {', '.join(sorted(_MEMBERS))}.")
    policy = body.get("localGroupPolicy")
    if policy is not None and policy not in {p.value for p in LocalPolicy}:
        raise _bad("'localGroupPolicy' must be enabled, disabled, notConfigured or null.")
    package = body.get("provisioningPackage")
    applied = provisioning_package_read(package) if package is not None else None
    ids = _credential_ids(body.get("offlineCredentials"))
    before = (device.reported_package_value, device.reported_package_id, device.reported_group_policy)
    device.reported_package_value = applied.security_key_sign_in if applied else None
    device.reported_package_id = applied.package_id if applied else ""
    device.reported_group_policy = policy or ""
    device.reported_at = timezone.now()
    with transaction.atomic():
        device.save(update_fields=["reported_package_value", "reported_package_id", "reported_group_policy",
                                   "reported_at"])
        after = (device.reported_package_value, device.reported_package_id, device.reported_group_policy)
        if after != before:
            audit_record(category=Category.DIRECTORY, activity="device.reportSources", actor=device_actor(device),
                         target=device_target(device), context=context,
                         details={"provisioningPackage": {"old": before[1] or None, "new": after[1] or None},
                                  "localGroupPolicy": {"old": before[2] or None, "new": after[2] or None}})
    setting = security_key_signin_setting(device=device)
    valid, revoked = _still_good(device, ids)
    return {"device": {"id": str(device.id), "deviceId": str(device.device_id), "displayName": device.display_name,
                       "accountEnabled": device.account_enabled},
            "securityKeySignIn": {"enabled": setting.enabled, "source": setting.source.value,
                                  "reason": setting.reason.value, "explanation": setting.explanation},
            "offlineCredentials": {"valid": valid, "revoked": revoked},
            "jwks": jwks()}
