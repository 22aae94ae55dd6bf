"""Device registry services: issue enrollment tokens, join, authenticate a device's request, change, delete.

Each keyword-only service loads, asks ``passgate.core.devices``, persists in one transaction and writes an audit
row; every refusal is audited with its reason code (``audited_refusals``).
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from passgate.audit.models import Category
from passgate.audit.services import NO_CONTEXT, Actor, RequestContext, Target, audit_record, audited_refusals
from passgate.core.devices import enrollment
from passgate.core.devices.errors import DeviceReason, DeviceRejected
from passgate.core.devices.join import read_join_request
from passgate.core.devices.keys import jwk_of, public_key_from_jwk, thumbprint
from passgate.core.devices.proof import MAX_AGE_SECONDS, SCHEME, ProofRequest, read_proof, verify_proof
from passgate.core.errors import InvalidInput, NotFound
from passgate.devices.models import Device, DeviceEnrollmentToken, DeviceGroupMembership, DeviceProofUse
from passgate.directory.models import SecurityGroup

LAST_SEEN_RESOLUTION = timedelta(minutes=5)  # last_seen_at is written at most this often per device


def device_target(device: Device) -> Target:
    return Target(type="device", id=str(device.id), name=device.display_name)


def device_actor(device: Device) -> Actor:
    return Actor(id=device.id, name=f"device:{device.display_name}")


def _token_key() -> bytes:
    return hashlib.sha256(b"passgate-device-enrollment\x00" + settings.SECRET_KEY.encode()).digest()


def _token_record(row: DeviceEnrollmentToken) -> enrollment.TokenRecord:
    return enrollment.TokenRecord(created_at=row.created_at, lifetime_minutes=row.lifetime_minutes,
                                  uses_left=row.uses_left, revoked=row.revoked_at is not None)


@audited_refusals(category=Category.DIRECTORY, activity="device.enrollmentToken.issue")
def enrollment_token_issue(*, actor: Actor, lifetime_minutes: object = enrollment.DEFAULT_LIFETIME_MINUTES,
                           uses: object = 1, description: str = "",
                           context: RequestContext = NO_CONTEXT) -> tuple[DeviceEnrollmentToken, str]:
    """A new token; the plain token is returned once, here, and never stored."""
    lifetime, count = enrollment.validate_issue(lifetime_minutes=lifetime_minutes, uses=uses)
    if len(description) > DeviceEnrollmentToken._meta.get_field("description").max_length:  # type: ignore[operator]
        raise InvalidInput("The description may be at most 256 characters long.", code="invalid_description")
    plain = enrollment.generate(secrets.token_bytes(enrollment.RANDOM_BYTES))
    with transaction.atomic():
        row = DeviceEnrollmentToken.objects.create(
            digest=enrollment.digest(_token_key(), plain), description=description, created_at=timezone.now(),
            lifetime_minutes=lifetime, uses_allowed=count, uses_left=count, created_by=actor.name)
        audit_record(category=Category.DIRECTORY, activity="device.enrollmentToken.issue", actor=actor,
                     target=Target(type="deviceEnrollmentToken", id=str(row.id), name=description),
                     context=context, details={"lifetimeInMinutes": lifetime, "uses": count})
    return row, plain


@transaction.atomic
def enrollment_token_revoke(*, token: DeviceEnrollmentToken, actor: Actor,
                            context: RequestContext = NO_CONTEXT) -> None:
    token.revoked_at = token.revoked_at or timezone.now()
    token.save(update_fields=["revoked_at"])
    audit_record(category=Category.DIRECTORY, activity="device.enrollmentToken.revoke", actor=actor,
                 target=Target(type="deviceEnrollmentToken", id=str(token.id), name=token.description),
                 context=context)


@audited_refusals(category=Category.DIRECTORY, activity="device.join")
def device_join(*, body: object, context: RequestContext = NO_CONTEXT) -> Device:
    """Join a computer with an enrollment token and the public key it made; the token loses one use."""
    request = read_join_request(body)
    key_id = thumbprint(request.public_key)
    now = timezone.now()
    with transaction.atomic():
        token = (DeviceEnrollmentToken.objects.select_for_update()
                 .filter(digest=enrollment.digest(_token_key(), request.enrollment_token)).first())
        enrollment.require_usable(None if token is None else _token_record(token), now=now)
        assert token is not None  # noqa: S101 - require_usable refused None
        if Device.objects.filter(key_thumbprint=key_id).exists():
            raise DeviceRejected(DeviceReason.KEY_ALREADY_JOINED, "A device with this key is already joined: make "
                                 "a new key pair for a new join.")
        device = Device.objects.create(
            display_name=request.display_name, operating_system=request.operating_system,
            operating_system_version=request.operating_system_version, trust_type=request.trust_type.value,
            public_key=jwk_of(request.public_key), key_thumbprint=key_id, registered_at=now,
            enrollment_token=token, token_issued_by=token.created_by)
        token.uses_left -= 1
        token.save(update_fields=["uses_left"])
        audit_record(category=Category.DIRECTORY, activity="device.join", actor=device_actor(device),
                     target=device_target(device), context=context,
                     details={"trustType": device.trust_type, "operatingSystem": device.operating_system,
                              "operatingSystemVersion": device.operating_system_version,
                              "enrollmentTokenId": str(token.id), "tokenIssuedBy": token.created_by,
                              "keyThumbprint": key_id})
    return device


def device_proof_scheme_value(authorization: str) -> str | None:
    """The proof in an ``Authorization: PassgateDevice <proof>`` header; None for any other header."""
    scheme, _, value = authorization.partition(" ")
    return value.strip() if scheme == SCHEME and value.strip() else None


@audited_refusals(category=Category.DIRECTORY, activity="device.proof")
def device_authenticate(*, authorization: str, request: ProofRequest, now: datetime | None = None,
                        context: RequestContext = NO_CONTEXT) -> Device:
    """The device that signed this request's proof, once: checks the signature with its registered key, the
    binding to this request, freshness and single use, and that the device is enabled."""
    value = device_proof_scheme_value(authorization)
    if value is None:
        raise DeviceRejected(DeviceReason.PROOF_MALFORMED, f"Send the device proof as 'Authorization: {SCHEME} "
                             "<proof>'.")
    proof = read_proof(value)
    moment = now or timezone.now()
    device_id = _uuid_or_none(proof.device_id)
    device = None if device_id is None else Device.objects.filter(device_id=device_id).first()
    if device is None:
        raise DeviceRejected(DeviceReason.DEVICE_UNKNOWN, "This device is not joined (or was deleted): join it again.")
    verify_proof(proof, key=public_key_from_jwk(device.public_key), request=request, now=int(moment.timestamp()))
    if not device.account_enabled:
        raise DeviceRejected(DeviceReason.DEVICE_DISABLED, "This device is disabled in the directory.")
    try:
        with transaction.atomic():
            DeviceProofUse.objects.create(device=device, jti=proof.jti,
                                          expires_at=moment + timedelta(seconds=2 * MAX_AGE_SECONDS))
    except IntegrityError:
        raise DeviceRejected(DeviceReason.PROOF_REPLAYED, "This device proof was already used.") from None
    if device.last_seen_at is None or moment - device.last_seen_at >= LAST_SEEN_RESOLUTION:
        Device.objects.filter(pk=device.pk).update(last_seen_at=moment)
        device.last_seen_at = moment
    return device


def _uuid_or_none(text: str) -> str | None:
    try:
        return str(uuid.UUID(text))
    except ValueError:
        return None


def device_proofs_purge(*, now: datetime | None = None) -> int:
    """Forget proof ids too old to be accepted anyway (daily, with ``passgate devices purge``)."""
    deleted, _ = DeviceProofUse.objects.filter(expires_at__lt=now or timezone.now()).delete()
    return deleted


@audited_refusals(category=Category.DIRECTORY, activity="device.update", target=lambda kw: device_target(kw["device"]))
def device_update(*, device: Device, actor: Actor, display_name: str | None = None,
                  account_enabled: bool | None = None, context: RequestContext = NO_CONTEXT) -> Device:
    changes: dict[str, dict[str, object]] = {}
    if display_name is not None:
        name = display_name.strip()
        if not name or len(name) > Device._meta.get_field("display_name").max_length:  # type: ignore[operator]
            raise InvalidInput("A device's display name must be 1 to 256 characters.", code="invalid_display_name")
        if name != device.display_name:
            changes["displayName"] = {"old": device.display_name, "new": name}
            device.display_name = name
    if account_enabled is not None and account_enabled != device.account_enabled:
        changes["accountEnabled"] = {"old": device.account_enabled, "new": account_enabled}
        device.account_enabled = account_enabled
    if changes:
        with transaction.atomic():
            device.save(update_fields=["display_name", "account_enabled"])
            activity = ("device.disable" if changes.get("accountEnabled", {}).get("new") is False
                        else "device.enable" if "accountEnabled" in changes else "device.update")
            audit_record(category=Category.DIRECTORY, activity=activity, actor=actor, target=device_target(device),
                         context=context, details=changes)
    return device


@transaction.atomic
def device_delete(*, device: Device, actor: Actor, context: RequestContext = NO_CONTEXT) -> None:
    """Remove a device from the directory: it can no longer sign anyone in (its key is forgotten)."""
    target = device_target(device)
    device_id = str(device.device_id)
    device.delete()
    audit_record(category=Category.DIRECTORY, activity="device.delete", actor=actor, target=target, context=context,
                 details={"deviceId": device_id})


@transaction.atomic
def device_group_add(*, device: Device, group: SecurityGroup, actor: Actor,
                     context: RequestContext = NO_CONTEXT) -> None:
    """Make the device a member of a security group (configuration profiles may be assigned to groups of devices)."""
    _, made = DeviceGroupMembership.objects.get_or_create(device=device, group=group)
    if made:
        audit_record(category=Category.DIRECTORY, activity="group.addMember", actor=actor,
                     target=Target(type="group", id=str(group.id), name=group.display_name), context=context,
                     details={"device": str(device.id), "deviceName": device.display_name})


@transaction.atomic
def device_group_remove(*, device: Device, group: SecurityGroup, actor: Actor,
                        context: RequestContext = NO_CONTEXT) -> None:
    deleted, _ = DeviceGroupMembership.objects.filter(device=device, group=group).delete()
    if not deleted:
        raise NotFound(f"{device.display_name} is not a member of {group.display_name}.")
    audit_record(category=Category.DIRECTORY, activity="group.removeMember", actor=actor,
                 target=Target(type="group", id=str(group.id), name=group.display_name), context=context,
                 details={"device": str(device.id), "deviceName": device.display_name})
