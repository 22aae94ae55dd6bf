"""Security-key sign-in to a joined computer: the steps in order, each owned by its app (see docs/devices.md).

Begin: is security-key sign-in on for this device (``device_config``)? Then a WebAuthn challenge bound to this
sign-in (``credentials``). Complete: the assertion (``credentials``: challenge, signature, counter, user
verification, the methods policy), a device-bound passkey, the user asked for, Conditional Access for the app
"Passgate device sign-in" (``access``), the POSIX account (``directory``), an offline record signed with
Passgate's token-signing key (``apps.keys``); one sign-in log row either way, naming the device.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from passgate.access.selectors import access_decide
from passgate.access.signin_log import record_app_signin
from passgate.audit.models import Category
from passgate.audit.services import RequestContext, audit_failure, audit_record
from passgate.audit.signins import SignInError
from passgate.core.access import Authentication, AuthMethodMode, MethodUse, Outcome
from passgate.core.devices import offline
from passgate.core.devices.errors import DeviceReason, DeviceRejected
from passgate.core.devices.signin import (
    DEVICE_SIGNIN_APP_ID,
    DEVICE_SIGNIN_APP_NAME,
    read_begin,
    read_complete,
    require_device_bound,
)
from passgate.core.devices.signin_setting import SigninSetting, may_turn_on_for_someone
from passgate.core.errors import PassgateError
from passgate.credentials.services import CHALLENGE_LIFETIME, passkey_device_signin_begin, passkey_signin_complete
from passgate.device_api.signing import es256_signer
from passgate.device_config.selectors import security_key_signin_setting as signin_setting_for
from passgate.device_config.selectors import signin_configuration
from passgate.devices.models import Device, DeviceSignIn
from passgate.devices.selectors import device_signin_facts
from passgate.devices.services import device_actor, device_target
from passgate.directory.models import User
from passgate.directory.services import user_posix_account


def security_key_signin_setting(*, device: Device, user: User | None = None) -> SigninSetting:
    """Whether security-key sign-in is on for this device (for this person, once known: profiles may be assigned
    to their groups), and which source decided: ``device_config.selectors.security_key_signin_setting``, which the
    admin centre shows too."""
    return signin_setting_for(device_signin_facts(device, user))


def _device_detail(device: Device) -> dict[str, str]:
    return {"deviceId": str(device.device_id), "displayName": device.display_name,
            "trustType": "AzureAd" if device.trust_type == "joined" else "ServerAd"}


def device_signin_begin(*, device: Device, body: object, context: RequestContext) -> dict[str, Any]:
    """The sign-in's id and the WebAuthn request options; refused when security-key sign-in is off here."""
    try:
        user_name = read_begin(body)
        named = User.objects.filter(upn_normalized=user_name).first() if user_name else None
        setting = security_key_signin_setting(device=device, user=named)
        if not setting.enabled and (named is not None or not may_turn_on_for_someone(
                device_signin_facts(device), signin_configuration())):
            raise DeviceRejected(DeviceReason.SIGNIN_OFF, f"Security-key sign-in is not turned on for this device: "
                                 f"{setting.explanation}")
    except PassgateError as exc:
        audit_failure(category=Category.SIGN_IN, activity="device.signIn", reason=exc.code, actor=device_actor(device),
                      target=device_target(device), context=context, details={"message": exc.message[:500]})
        raise
    # A user name that names no one (or someone without passkeys) gets the same answer as any other: no list of
    # who exists. The key then signs in whoever it holds, and complete() refuses anyone but the name asked for.
    user = User.objects.filter(upn_normalized=user_name, account_enabled=True).first() if user_name else None
    if user is not None and not user.passkeys.exists():
        user = None
    now = timezone.now()
    row = DeviceSignIn.objects.create(device=device, requested_user_name=user_name or "", created_at=now,
                                      expires_at=now + CHALLENGE_LIFETIME)
    return {"signInId": str(row.id), "publicKey": passkey_device_signin_begin(binding=row.binding, user=user),
            "source": setting.source.value}


def _refuse(device: Device, user: User, reason: DeviceReason, message: str, *, context: RequestContext,
            auth: Authentication | None = None, **log: Any) -> DeviceRejected:
    record_app_signin(context=context, user=user, app_id=DEVICE_SIGNIN_APP_ID, app_name=DEVICE_SIGNIN_APP_NAME,
                      auth=auth, error=log.pop("error", SignInError.OTHER), failure_reason=message,
                      reason_code=reason.value, device=_device_detail(device), **log)
    audit_failure(category=Category.SIGN_IN, activity="device.signIn", reason=reason.value, actor=device_actor(device),
                  target=device_target(device), context=context, details={"user": user.user_principal_name})
    return DeviceRejected(reason, message)


def _offline_record(device: Device, user: User, passkey: Any, uid: int) -> dict[str, Any]:
    days = settings.PASSGATE.device_offline_days  # PASSGATE_DEVICE_OFFLINE_DAYS, 1 to offline.MAX_DAYS
    kid, key = es256_signer()
    now = timezone.now()
    expires = now + timedelta(days=days)
    record = offline.OfflineRecord(
        issuer=settings.PASSGATE.origin, user_id=str(user.pk), user_principal_name=user.user_principal_name,
        device_id=str(device.device_id), credential_id=bytes(passkey.credential_id),
        credential_public_key=bytes(passkey.public_key), uid=uid, issued_at=int(now.timestamp()),
        expires_at=int(expires.timestamp()))
    return {"record": offline.issue(key, kid, record), "expiresDateTime": expires.strftime("%Y-%m-%dT%H:%M:%SZ")}


def device_signin_complete(*, device: Device, body: object, context: RequestContext) -> dict[str, Any]:
    request = read_complete(body)
    with transaction.atomic():
        taken = DeviceSignIn.objects.filter(pk=request.sign_in_id, device=device, completed_at__isnull=True,
                                            expires_at__gt=timezone.now()).update(completed_at=timezone.now())
    row = DeviceSignIn.objects.filter(pk=request.sign_in_id).first()
    if not taken or row is None:
        audit_failure(category=Category.SIGN_IN, activity="device.signIn", reason=DeviceReason.SIGNIN_UNKNOWN,
                      actor=device_actor(device), target=device_target(device), context=context)
        raise DeviceRejected(DeviceReason.SIGNIN_UNKNOWN, "This sign-in is unknown, expired or already completed: "
                             "start again.")
    signin = passkey_signin_complete(session_key=row.binding, credential=request.credential, context=context,
                                     device_sign_in=True)
    user, passkey = signin.user, signin.passkey
    assert passkey is not None  # noqa: S101 - a passkey sign-in names its passkey
    now = timezone.now()
    use = MethodUse(mode=AuthMethodMode.FIDO2, at=now, aaguid=str(passkey.aaguid),
                    device_bound=not passkey.backup_eligible, method_id=str(passkey.pk))
    auth = Authentication(user_id=str(user.pk), methods=(use,))
    if row.requested_user_name and user.upn_normalized != row.requested_user_name:
        raise _refuse(device, user, DeviceReason.USER_MISMATCH, f"This key signed in {user.user_principal_name}, "
                      f"not {row.requested_user_name}.", context=context, auth=auth)
    try:
        require_device_bound(backup_eligible=passkey.backup_eligible)
        setting = security_key_signin_setting(device=device, user=user)
    except DeviceRejected as exc:
        raise _refuse(device, user, exc.reason, exc.message, context=context, auth=auth) from None
    if not setting.enabled:
        raise _refuse(device, user, DeviceReason.SIGNIN_OFF, "Security-key sign-in is not turned on for this "
                      f"device: {setting.explanation}", context=context, auth=auth)
    decision = access_decide(user=user, auth=auth, application_id=DEVICE_SIGNIN_APP_ID)
    if decision.outcome is not Outcome.ALLOW:
        blocked = decision.outcome is Outcome.BLOCK
        raise _refuse(device, user, DeviceReason.POLICY_BLOCKED,
                      decision.message or "Conditional Access does not allow this sign-in.", context=context,
                      auth=auth, decision=decision, error=SignInError.BLOCKED_BY_CONDITIONAL_ACCESS if blocked
                      else SignInError.STRONG_AUTHENTICATION_REQUIRED)
    posix = user_posix_account(user=user)
    answer = {"user": {"id": str(user.pk), "userPrincipalName": user.user_principal_name,
                       "displayName": user.display_name},
              "posix": posix.as_json(), "offline": _offline_record(device, user, passkey, posix.uid)}
    record_app_signin(context=context, user=user, app_id=DEVICE_SIGNIN_APP_ID, app_name=DEVICE_SIGNIN_APP_NAME,
                      auth=auth, decision=decision, device=_device_detail(device))
    audit_record(category=Category.SIGN_IN, activity="device.signIn", actor=device_actor(device),
                 target=device_target(device), context=context,
                 details={"user": user.user_principal_name, "passkeyId": str(passkey.pk), "uid": posix.uid})
    return answer
