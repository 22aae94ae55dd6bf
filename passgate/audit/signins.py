"""Sign-in logs: one ``SignInEvent`` per attempt to sign in to an app, and the reads Graph and the admin centre need.

``signin_record`` is called on every sign-in attempt to an app (the OpenID Connect authorize endpoint, the
Conditional Access step), so it is one INSERT and nothing else. It checks its input strictly and raises
``ValueError`` for a programming mistake (an unknown key in a detail or policy dict, a value outside Graph's
enumerations); it never stores secrets: only the keys below are kept, and the request context contributes its IP
address and User-Agent only.
"""

from __future__ import annotations

import ipaddress
import uuid
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from enum import IntEnum
from types import MappingProxyType
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from passgate.audit.logs import log_event
from passgate.audit.models import SignInEvent
from passgate.audit.services import RequestContext, fit
from passgate.core.graph.auditlogs import (
    APPLIED_POLICY_RESULTS,
    AUTHENTICATION_REQUIREMENTS,
    CA_STATUSES,
)
from passgate.core.graph.odata import Comparison
from passgate.core.graph.schema import format_datetime


class SignInError(IntEnum):
    """Entra ID's error codes (AADSTS numbers) for the failures Passgate has; ``status.errorCode`` in Graph.
    Pass one as ``error_code`` when ``succeeded`` is false."""

    INVALID_CREDENTIALS = 50126  # the passkey or pass was refused (wrong, unknown, expired)
    USER_NOT_FOUND = 50034
    ACCOUNT_LOCKED = 50053  # too many wrong passes
    USER_DISABLED = 50057
    STRONG_AUTHENTICATION_REQUIRED = 50074  # Conditional Access asks for more (a step-up)
    BLOCKED_BY_CONDITIONAL_ACCESS = 53003
    REDIRECT_URI_MISMATCH = 50011
    APPLICATION_NOT_FOUND = 700016
    CONSENT_REQUIRED = 65001
    SESSION_REQUIRED = 50058  # prompt=none without a usable session (OpenID Connect login_required)
    OTHER = 1  # Passgate's own: a failure Entra has no number for; reason_code and failure_reason say what


DETAIL_KEYS = frozenset({"authenticationMethod", "authenticationMethodDetail", "authenticationStepDateTime",
                         "authenticationStepRequirement", "authenticationStepResultDetail", "succeeded"})
POLICY_KEYS = frozenset({"id", "displayName", "enforcedGrantControls", "enforcedSessionControls", "result", "reason"})
ZERO_AAGUID = uuid.UUID(int=0)
MAX_STEPS = 16
MAX_POLICIES = 200


def _text(value: object, limit: int, what: str) -> str:
    if not isinstance(value, str):
        raise ValueError(f"{what} must be a string, not {type(value).__name__}")
    return value[:limit]


def _strings(values: object, what: str, *, limit: int = 64, count: int = 16) -> list[str]:
    if isinstance(values, str) or not isinstance(values, Sequence):
        raise ValueError(f"{what} must be a list of strings")
    return [_text(v, limit, what) for v in list(values)[:count]]


def _step(detail: Mapping[str, Any]) -> dict[str, Any]:
    unknown = set(detail) - DETAIL_KEYS
    if unknown:
        raise ValueError(f"authentication_details: unknown key(s) {sorted(unknown)}; allowed: {sorted(DETAIL_KEYS)}")
    step: dict[str, Any] = {}
    for key in ("authenticationMethod", "authenticationMethodDetail", "authenticationStepRequirement",
                "authenticationStepResultDetail"):
        value = detail.get(key)
        step[key] = None if value is None else _text(value, 256, f"authentication_details.{key}")
    when = detail.get("authenticationStepDateTime")
    if isinstance(when, datetime):
        if when.tzinfo is None:
            raise ValueError("authentication_details.authenticationStepDateTime must be timezone-aware")
        step["authenticationStepDateTime"] = format_datetime(when)
    else:
        step["authenticationStepDateTime"] = None if when is None else _text(when, 40, "authenticationStepDateTime")
    succeeded = detail.get("succeeded")
    if not isinstance(succeeded, bool):
        raise ValueError("authentication_details.succeeded must be true or false")
    step["succeeded"] = succeeded
    return step


def _policy(policy: Mapping[str, Any]) -> dict[str, Any]:
    unknown = set(policy) - POLICY_KEYS
    if unknown:
        raise ValueError(f"applied_policies: unknown key(s) {sorted(unknown)}; allowed: {sorted(POLICY_KEYS)}")
    result = policy.get("result")
    if result not in APPLIED_POLICY_RESULTS:
        raise ValueError(f"applied_policies.result {result!r} is not one of {APPLIED_POLICY_RESULTS}")
    reason = policy.get("reason")
    return {
        "id": _text(policy.get("id", ""), 64, "applied_policies.id"),
        "displayName": _text(policy.get("displayName", ""), 256, "applied_policies.displayName"),
        "enforcedGrantControls": _strings(policy.get("enforcedGrantControls", ()), "enforcedGrantControls"),
        "enforcedSessionControls": _strings(policy.get("enforcedSessionControls", ()), "enforcedSessionControls"),
        "result": result,
        "reason": None if reason is None else _text(reason, 512, "applied_policies.reason"),
    }


def _ip(value: str | None) -> str | None:
    if not value:
        return None
    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError:
        return None


def signin_record(*, user_id: str | None, user_principal_name: str, user_display_name: str = "",
                  app_id: str, app_display_name: str, context: RequestContext,
                  succeeded: bool, error_code: int = 0, failure_reason: str = "", reason_code: str = "",
                  authentication_details: Sequence[Mapping[str, Any]] = (),
                  authentication_requirement: str = "singleFactorAuthentication",
                  authentication_strength: Mapping[str, str] | None = None,
                  acr: str | None = None, amr: Sequence[str] = (), aaguid: str | None = None,
                  applied_policies: Sequence[Mapping[str, Any]] = (),
                  conditional_access_status: str = "notApplied",
                  correlation_id: str | None = None, is_interactive: bool = True,
                  resource_display_name: str = "", resource_id: str = "",
                  device: Mapping[str, str] | None = None) -> SignInEvent:
    """Record one sign-in attempt to an app (one INSERT; the caller's transaction, if any, applies).

    ``succeeded`` and ``error_code`` must agree: 0 for a success, a ``SignInError`` (or another Entra code) for a
    failure. ``authentication_details`` are Graph's beta ``authenticationDetail`` dicts (authenticationMethod,
    authenticationMethodDetail, authenticationStepDateTime (an aware datetime or Graph's string),
    authenticationStepRequirement, authenticationStepResultDetail, succeeded); ``applied_policies`` Graph's
    ``appliedConditionalAccessPolicy`` dicts (id, displayName, enforcedGrantControls, enforcedSessionControls,
    result incl. the reportOnly* values) plus Passgate's ``reason`` (a sentence for a failure, or None).
    ``aaguid`` is the passkey's AAGUID when a passkey was used (the all-zero AAGUID is kept as unknown).
    ``device`` is the computer signed in to (``deviceId``, ``displayName``, ``trustType`` as Graph's
    deviceDetail says them), for sign-ins through the device API.
    """
    if succeeded != (error_code == 0):
        raise ValueError("succeeded=True needs error_code 0; a failure needs a non-zero error_code (SignInError)")
    if conditional_access_status not in CA_STATUSES:
        raise ValueError(f"conditional_access_status {conditional_access_status!r} is not one of {CA_STATUSES}")
    if authentication_requirement not in AUTHENTICATION_REQUIREMENTS:
        raise ValueError(f"authentication_requirement {authentication_requirement!r} is not one of "
                         f"{AUTHENTICATION_REQUIREMENTS}")
    if not app_id:
        raise ValueError("app_id is required")
    strength: dict[str, str] | None = None
    if authentication_strength is not None:
        if set(authentication_strength) - {"id", "displayName"} or "id" not in authentication_strength:
            raise ValueError("authentication_strength takes 'id' and 'displayName' only")
        strength = {"id": _text(authentication_strength["id"], 64, "authentication_strength.id"),
                    "displayName": _text(authentication_strength.get("displayName", ""), 256,
                                         "authentication_strength.displayName")}
    model: uuid.UUID | None = uuid.UUID(aaguid) if aaguid else None
    upn = user_principal_name.strip()
    row = SignInEvent.objects.create(**fit(SignInEvent, {
        "created_at": timezone.now(),
        "user_id": uuid.UUID(user_id) if user_id else None,
        "user_principal_name": upn,
        "upn_normalized": upn.lower(),
        "user_display_name": user_display_name,
        "app_id": app_id,
        "app_display_name": app_display_name,
        "resource_id": resource_id,
        "resource_display_name": resource_display_name,
        "ip_address": context.ip_address,
        "user_agent": context.user_agent,
        "correlation_id": correlation_id or "",
        "is_interactive": is_interactive,
        "error_code": error_code,
        "failure_reason": failure_reason,
        "reason_code": reason_code,
        "conditional_access_status": conditional_access_status,
        "authentication_requirement": authentication_requirement,
        "authentication_details": [_step(d) for d in list(authentication_details)[:MAX_STEPS]],
        "authentication_strength": strength,
        "applied_policies": [_policy(p) for p in list(applied_policies)[:MAX_POLICIES]],
        "acr": acr or "",
        "amr": _strings(amr, "amr", limit=32),
        "aaguid": None if model == ZERO_AAGUID else model,
        "device_id": (device or {}).get("deviceId", ""),
        "device_display_name": (device or {}).get("displayName", ""),
        "device_trust_type": (device or {}).get("trustType", ""),
    }))
    transaction.on_commit(lambda: log_event(
        "signIn", result="success" if row.succeeded else "failure", userId=str(row.user_id) if row.user_id else None,
        app=row.app_id, reason=row.reason_code, errorCode=row.error_code or None, clientIp=row.ip_address,
        deviceId=row.device_id), robust=True)
    return row


def methods_used(event: SignInEvent) -> list[str]:
    """Graph's beta ``authenticationMethodsUsed``: the methods of the successful steps, each once, in order."""
    return list(dict.fromkeys(step["authenticationMethod"] for step in event.authentication_details
                              if step.get("succeeded") and step.get("authenticationMethod")))


# --- reads ------------------------------------------------------------------------------------------------------

def _uuid(value: object) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


NOTHING = Q(pk__in=[])


def instant_q(c: Comparison, column: str) -> Q:
    """Times are shown to the second: ``eq`` means that second, ``le`` includes it."""
    when = c.value
    if not isinstance(when, datetime):
        raise TypeError(f"{c.property} compares with a datetime")
    whole = when.microsecond == 0
    if c.operator == "ge":
        return Q(**{f"{column}__gte": when})
    if c.operator == "le":
        return Q(**{f"{column}__lt": when + timedelta(seconds=1)}) if whole else Q(**{f"{column}__lte": when})
    if whole:
        return Q(**{f"{column}__gte": when, f"{column}__lt": when + timedelta(seconds=1)})
    return Q(**{column: when})


def uuid_q(column: str) -> Callable[[Comparison], Q]:
    def condition(c: Comparison) -> Q:
        found = _uuid(c.value)
        return Q(**{column: found}) if found else NOTHING

    return condition


def text_q(column: str, *, lowered: bool = False) -> Callable[[Comparison], Q]:
    """eq / startswith on a string column, case-insensitive (``lowered``: the column holds lower-case text)."""

    def condition(c: Comparison) -> Q:
        value = str(c.value)
        if lowered:
            return Q(**{f"{column}__startswith" if c.operator == "startswith" else column: value.lower()})
        return Q(**{f"{column}__istartswith" if c.operator == "startswith" else f"{column}__iexact": value})

    return condition


def _ip_q(c: Comparison) -> Q:
    if c.operator == "startswith":
        return Q(ip_address__startswith=str(c.value))
    address = _ip(str(c.value))
    return Q(ip_address=address) if address else NOTHING


SIGNIN_CONDITIONS: Mapping[str, Callable[[Comparison], Q]] = MappingProxyType({
    "id": uuid_q("pk"),
    "createdDateTime": lambda c: instant_q(c, "created_at"),
    "userId": uuid_q("user_id"),
    "userPrincipalName": text_q("upn_normalized", lowered=True),
    "userDisplayName": text_q("user_display_name"),
    "appId": text_q("app_id"),
    "appDisplayName": text_q("app_display_name"),
    "ipAddress": _ip_q,
    "correlationId": lambda c: Q(correlation_id=str(c.value)),
    "conditionalAccessStatus": lambda c: Q(conditional_access_status=str(c.value)),
    "isInteractive": lambda c: Q(is_interactive=c.value),
    "status/errorCode": lambda c: Q(error_code=c.value),
})


def signin_page_key(event: SignInEvent) -> str:
    return f"{event.created_at.isoformat()}|{event.pk}"


def after_key(key: str | None, column: str) -> Q:
    """Rows after ``key`` (``"<iso datetime>|<uuid>"``) in newest-first order."""
    if key is None:
        return Q()
    when_text, _, id_text = key.partition("|")
    try:
        when, row_id = datetime.fromisoformat(when_text), uuid.UUID(id_text)
    except ValueError:
        return NOTHING
    return Q(**{f"{column}__lt": when}) | Q(**{column: when, "pk__lt": row_id})


def signin_list(*, where: Sequence[Comparison] = (), after: str | None = None, limit: int | None = None,
                succeeded: bool | None = None) -> list[SignInEvent]:
    """Sign-in events matching every condition (and ``succeeded``, if given), newest first, after the page key
    ``after``."""
    q = Q() if succeeded is None else Q(error_code=0) if succeeded else ~Q(error_code=0)
    for condition in where:
        q &= SIGNIN_CONDITIONS[condition.property](condition)
    qs = SignInEvent.objects.filter(q).filter(after_key(after, "created_at")).order_by("-created_at", "-id")
    return list(qs[:limit] if limit is not None else qs)


def signin_get(*, event_id: str) -> SignInEvent | None:
    found = _uuid(event_id)
    return SignInEvent.objects.filter(pk=found).first() if found else None


def signin_purge(*, older_than_days: int, now: datetime | None = None) -> int:
    """Delete sign-in events older than ``older_than_days`` days; how many went. (The caller audits it.)"""
    if older_than_days < 1:
        raise ValueError("older_than_days must be at least 1")
    cutoff = (now or timezone.now()) - timedelta(days=older_than_days)
    deleted, _ = SignInEvent.objects.filter(created_at__lt=cutoff).delete()
    return deleted


def signin_as_dict(event: SignInEvent) -> dict[str, Any]:
    """A plain, complete view of a row (the CLI's ``--json``); Graph's JSON is built in ``passgate.graph_api``."""
    return {
        "id": str(event.pk), "createdDateTime": event.created_at.isoformat(),
        "userId": str(event.user_id) if event.user_id else None, "userPrincipalName": event.user_principal_name,
        "userDisplayName": event.user_display_name, "appId": event.app_id, "appDisplayName": event.app_display_name,
        "ipAddress": event.ip_address, "userAgent": event.user_agent, "correlationId": event.correlation_id or None,
        "isInteractive": event.is_interactive, "succeeded": event.succeeded, "errorCode": event.error_code,
        "failureReason": event.failure_reason, "reasonCode": event.reason_code,
        "conditionalAccessStatus": event.conditional_access_status,
        "authenticationRequirement": event.authentication_requirement,
        "authenticationDetails": event.authentication_details, "authenticationMethodsUsed": methods_used(event),
        "authenticationStrength": event.authentication_strength, "appliedConditionalAccessPolicies":
            event.applied_policies, "acr": event.acr or None, "amr": event.amr,
        "aaguid": str(event.aaguid) if event.aaguid else None,
    }
