"""Authenticator-app (software OATH TOTP) services: enrol, verify a code, delete. Every outcome is audited."""

from __future__ import annotations

import secrets
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from passgate.audit.models import Category
from passgate.audit.services import NO_CONTEXT, Actor, RequestContext, Target, audit_failure, audit_record
from passgate.core import totp
from passgate.core.errors import NotFound, PassgateError, PolicyDenied
from passgate.core.policy import evaluate as policy_rules
from passgate.credentials import secretbox
from passgate.credentials.models import SoftwareOathMethod
from passgate.credentials.policy_selectors import current_policy, user_group_ids
from passgate.directory.models import User
from passgate.directory.services import actor_for

PURPOSE = b"software-oath-seed"
PENDING_LIFETIME = timedelta(minutes=15)
ISSUER = "Passgate"


@dataclass(frozen=True)
class Enrolment:
    method: SoftwareOathMethod
    secret_text: str  # base32, grouped, to type into an app
    uri: str  # otpauth:// for the QR code


def _associated(method_id: object, user: User) -> bytes:
    return f"{method_id}:{user.pk}".encode()


def _secret(method: SoftwareOathMethod) -> bytes:
    return secretbox.open_sealed(bytes(method.sealed_secret), purpose=PURPOSE,
                                 associated=_associated(method.id, method.user))


def method_target(method: SoftwareOathMethod) -> Target:
    return Target(type="softwareOathMethod", id=str(method.id), name="Authenticator app")


def software_oath_allowed(*, user: User) -> bool:
    return policy_rules.method_allowed(current_policy().software_oath,
                                       policy_rules.UserFacts(group_ids=user_group_ids(user)))


def software_oath_enrol_begin(*, user: User) -> Enrolment:
    """A pending method with a fresh seed (older pending ones of this user are dropped), if the policy allows."""
    if not software_oath_allowed(user=user):
        exc = PolicyDenied("Your organisation's policy doesn't allow authenticator apps for you.",
                           code="policy_method_not_allowed")
        audit_failure(category=Category.SECURITY_INFO, activity="softwareOath.register", reason=exc.code,
                      actor=actor_for(user))
        raise exc
    seed = totp.new_secret(secrets.token_bytes(totp.SECRET_BYTES))
    with transaction.atomic():
        SoftwareOathMethod.objects.filter(user=user, is_verified=False).delete()
        method = SoftwareOathMethod(user=user, created_at=timezone.now())
        method.sealed_secret = secretbox.seal(seed, purpose=PURPOSE, associated=_associated(method.id, user))
        method.save()
    return Enrolment(method=method, secret_text=totp.secret_base32(seed),
                     uri=totp.provisioning_uri(seed, account=user.user_principal_name, issuer=ISSUER))


def software_oath_enrolment(*, user: User, method_id: object) -> Enrolment:
    """The pending enrolment again (to redisplay its QR code after a wrong first code)."""
    method = _pending(user, method_id)
    seed = _secret(method)
    return Enrolment(method=method, secret_text=totp.secret_base32(seed),
                     uri=totp.provisioning_uri(seed, account=user.user_principal_name, issuer=ISSUER))


def _pending(user: User, method_id: object) -> SoftwareOathMethod:
    key = _as_uuid(method_id)
    method = SoftwareOathMethod.objects.filter(
        pk=key, user=user, is_verified=False, created_at__gt=timezone.now() - PENDING_LIFETIME).first() \
        if key else None
    if method is None:
        raise NotFound("This set-up has expired. Start again.", code="enrolment_not_found")
    return method


def _as_uuid(value: object) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


def software_oath_enrol_complete(*, user: User, method_id: object, code: object,
                                 context: RequestContext = NO_CONTEXT) -> SoftwareOathMethod:
    try:
        method = _pending(user, method_id)
        match = totp.verify(_secret(method), code, unix_time=time.time(), last_used_step=None)
        with transaction.atomic():
            method.is_verified, method.last_used_step, method.last_used_at = True, match.step, timezone.now()
            method.save(update_fields=["is_verified", "last_used_step", "last_used_at"])
            audit_record(category=Category.SECURITY_INFO, activity="softwareOath.register", actor=actor_for(user),
                         target=method_target(method), context=context)
    except PassgateError as exc:
        audit_failure(category=Category.SECURITY_INFO, activity="softwareOath.register", reason=exc.code,
                      actor=actor_for(user), context=context)
        raise
    return method


def software_oath_verify(*, user: User, code: object, context: RequestContext = NO_CONTEXT,
                         activity: str = "softwareOath.verify") -> SoftwareOathMethod:
    """Check a code against the user's authenticator apps. Locked after repeated failures; no code twice."""
    now = timezone.now()
    methods = list(SoftwareOathMethod.objects.filter(user=user, is_verified=True).select_related("user"))
    try:
        if not methods:
            raise NotFound("You have no authenticator app set up.", code="no_software_oath_method")
        if any(m.locked_until and m.locked_until > now for m in methods):
            raise totp.TotpRejected("Too many wrong codes. Wait five minutes and try again.", code="totp_locked")
        failure: PassgateError | None = None
        for method in methods:
            try:
                match = totp.verify(_secret(method), code, unix_time=time.time(),
                                    last_used_step=method.last_used_step)
            except totp.TotpRejected as exc:
                failure = failure if failure and failure.code == "totp_reused" else exc
                continue
            with transaction.atomic():
                won = SoftwareOathMethod.objects.filter(
                    Q(last_used_step__isnull=True) | Q(last_used_step__lt=match.step), pk=method.pk,
                ).update(last_used_step=match.step, last_used_at=now, failed_attempts=0, locked_until=None)
                if won != 1:  # the same code submitted twice at once
                    raise totp.TotpRejected("That code was already used. Wait for the next one.", code="totp_reused")
                audit_record(category=Category.SIGN_IN, activity=activity, actor=actor_for(user),
                             target=method_target(method), context=context)
            return method
        _count_failure(user, now)
        assert failure is not None  # noqa: S101 - at least one method was tried
        raise failure
    except PassgateError as exc:
        audit_failure(category=Category.SIGN_IN, activity=activity, reason=exc.code, actor=actor_for(user),
                      context=context)
        raise


def _count_failure(user: User, now: datetime) -> None:
    rows = SoftwareOathMethod.objects.filter(user=user, is_verified=True)
    rows.update(failed_attempts=F("failed_attempts") + 1)
    rows.filter(failed_attempts__gte=totp.MAX_FAILED_ATTEMPTS).update(
        locked_until=now + timedelta(seconds=totp.LOCK_SECONDS), failed_attempts=0)


@transaction.atomic
def software_oath_delete(*, method: SoftwareOathMethod, actor: Actor, context: RequestContext = NO_CONTEXT) -> None:
    target = method_target(method)
    owner = method.user.user_principal_name
    method.delete()
    audit_record(category=Category.SECURITY_INFO, activity="softwareOath.delete", actor=actor, target=target,
                 context=context, details={"owner": owner})
