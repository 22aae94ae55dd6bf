"""Authenticator-app (software OATH TOTP) services: enrol, verify a code, delete. Every outcome is audited."""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from passgate.audit.models import Category
from passgate.audit.services import NO_CONTEXT, Actor, RequestContext, Target, audit_failure, audit_record
from passgate.core import throttle as throttle_rules
from passgate.core import totp
from passgate.core.errors import NotFound, PassgateError, PolicyDenied
from passgate.core.policy import evaluate as policy_rules
from passgate.core.throttle import Scope
from passgate.credentials import secretbox, throttle
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
        match = totp.verify(_secret(method), code, unix_time=timezone.now().timestamp(), last_used_step=None)
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
    """Check a code against the user's authenticator apps; no code twice.

    Guessing is slowed, never locked out: the person and the request's address each have a back-off counter
    (``core.throttle``); while either makes the guesser wait, the attempt is refused (``totp_throttled``) before
    any code is checked, a correct one included. A wrong or reused code counts as a failure; a correct one clears
    the person's failures. Input that is no code at all counts nothing (no secret was tried).
    """
    refusal: PassgateError | None = None
    verified: SoftwareOathMethod | None = None
    details: dict[str, object] = {}
    try:
        totp.normalise(code)
        if not SoftwareOathMethod.objects.filter(user=user, is_verified=True).exists():
            raise NotFound("You have no authenticator app set up.", code="no_software_oath_method")
    except PassgateError as exc:
        audit_failure(category=Category.SIGN_IN, activity=activity, reason=exc.code, actor=actor_for(user),
                      context=context)
        raise
    with transaction.atomic():
        guard = throttle.throttle_lock([throttle.source_subject(context),
                                        throttle.subject(Scope.TOTP_USER, str(user.pk))])
        if not guard.verdict.allowed:
            refusal = throttle_rules.refusal(guard.verdict, code="totp_throttled")
            details = {"retryAfterSeconds": guard.verdict.retry_after}
        else:
            match = _verify_any(user, code, now=guard.now)
            if isinstance(match, PassgateError):
                guard.failed()
                refusal = match
            else:
                verified = match
                guard.succeeded(Scope.TOTP_USER)
                audit_record(category=Category.SIGN_IN, activity=activity, actor=actor_for(user),
                             target=method_target(match), context=context)
        if refusal is not None:
            audit_failure(category=Category.SIGN_IN, activity=activity, reason=refusal.code, actor=actor_for(user),
                          context=context, details=details)
    if refusal is not None or verified is None:
        raise refusal or RuntimeError("no refusal and no method")
    return verified


def _verify_any(user: User, code: object, *, now: datetime) -> SoftwareOathMethod | PassgateError:
    """The method ``code`` is a fresh code of (its step recorded), else why not. Runs under the person's throttle
    lock, so two submissions of one code are checked one after the other: the second is a reuse."""
    methods = list(SoftwareOathMethod.objects.filter(user=user, is_verified=True).select_related("user"))
    failure: PassgateError | None = None
    for method in methods:
        try:
            match = totp.verify(_secret(method), code, unix_time=now.timestamp(),
                                last_used_step=method.last_used_step)
        except totp.TotpRejected as exc:
            failure = failure if failure and failure.code == "totp_reused" else exc
            continue
        won = SoftwareOathMethod.objects.filter(
            Q(last_used_step__isnull=True) | Q(last_used_step__lt=match.step), pk=method.pk,
        ).update(last_used_step=match.step, last_used_at=now)
        if won != 1:
            return totp.TotpRejected("That code was already used. Wait for the next one.", code="totp_reused")
        return method
    return failure or NotFound("You have no authenticator app set up.", code="no_software_oath_method")


@transaction.atomic
def software_oath_delete(*, method: SoftwareOathMethod, actor: Actor, context: RequestContext = NO_CONTEXT) -> None:
    target = method_target(method)
    owner = method.user.user_principal_name
    method.delete()
    audit_record(category=Category.SECURITY_INFO, activity="softwareOath.delete", actor=actor, target=target,
                 context=context, details={"owner": owner})
