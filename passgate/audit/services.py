"""Writing audit rows. Every service that changes something, and every refusal, calls ``audit_record``.

A refusal must be recordable whatever the refused input was, so ``fit`` bounds every value to its column before
the INSERT (the same rule for the sign-in log): text is cut to the column's ``max_length`` and NUL and lone
surrogates become U+FFFD (PostgreSQL and UTF-8 refuse them), JSON is cleaned the same way at every depth, and an IP
address that is not one is left out.
"""

from __future__ import annotations

import functools
import ipaddress
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from django.db import models, transaction
from django.utils import timezone

from passgate.audit import metrics
from passgate.audit.logs import current_request_id, log_event
from passgate.audit.models import AuditEvent, Category, Result
from passgate.core.errors import PassgateError
from passgate.core.text import map_strings, replace_unusable

F = TypeVar("F", bound=Callable[..., Any])
APP_TARGET = "application"  # an audit row's target_type for an app registration (apps.services.app_target)


@dataclass(frozen=True)
class Actor:
    """Who acted: a directory user (id + UPN), an app ("app:<name>"), or the system/CLI (id None).

    The name is recorded wherever someone acted (audit rows, policy versions, a pass's creator): it is cut to the
    audit log's column, and every other such column is at least as long (a test says so)."""

    id: uuid.UUID | None
    name: str

    def __post_init__(self) -> None:
        limit = AuditEvent._meta.get_field("actor_name").max_length
        object.__setattr__(self, "name", replace_unusable(self.name)[:limit])

    @classmethod
    def system(cls, name: str = "passgate (system)") -> Actor:
        return cls(id=None, name=name)


@dataclass(frozen=True)
class RequestContext:
    """Where a request came from (filled by the web adapter, empty from the CLI)."""

    ip_address: str | None = None
    user_agent: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


NO_CONTEXT = RequestContext()


@dataclass(frozen=True)
class Target:
    type: str
    id: str
    name: str = ""


def audit_record(
    *,
    category: Category,
    activity: str,
    result: Result = Result.SUCCESS,
    reason: str = "",
    actor: Actor | None = None,
    target: Target | None = None,
    context: RequestContext = NO_CONTEXT,
    details: dict[str, Any] | None = None,
) -> AuditEvent:
    row = AuditEvent.objects.create(**fit(AuditEvent, {
        "occurred_at": timezone.now(),
        "category": category,
        "activity": activity,
        "result": result,
        "reason": reason,
        "actor_id": actor.id if actor else None,
        "actor_name": actor.name if actor else "",
        "target_type": target.type if target else "",
        "target_id": target.id if target else "",
        "target_name": target.name if target else "",
        "ip_address": context.ip_address,
        "user_agent": context.user_agent,
        "details": details or {},
        "request_id": current_request_id(),
    }))
    # Counted and logged once it is committed (at once outside a transaction); never fails the caller.
    transaction.on_commit(lambda: _committed(row), robust=True)
    return row


def _committed(row: AuditEvent) -> None:
    metrics.observe_audit(category=row.category, activity=row.activity, failed=row.result == Result.FAILURE,
                          reason=row.reason, details=row.details)
    log_event("audit", category=row.category, activity=row.activity, result=row.result, reason=row.reason,
              userId=str(row.actor_id) if row.actor_id else None,
              app=row.target_id if row.target_type == APP_TARGET else None, clientIp=row.ip_address)


def audit_failure(*, category: Category, activity: str, reason: str, **kwargs: Any) -> AuditEvent:
    return audit_record(category=category, activity=activity, result=Result.FAILURE, reason=reason, **kwargs)


def audited_refusals(*, category: Category, activity: str | Callable[[Mapping[str, Any]], str],
                     target: Callable[[Mapping[str, Any]], Target | None] = lambda kwargs: None) -> Callable[[F], F]:
    """Decorate a keyword-only service so that a refusal (a PassgateError) is audited with its reason code, the
    service's ``actor`` and ``context``, then re-raised. Put it outside ``@transaction.atomic``: the row must
    outlive the rollback."""

    def wrap(service: F) -> F:
        @functools.wraps(service)
        def run(*args: Any, **kwargs: Any) -> Any:
            try:
                return service(*args, **kwargs)
            except PassgateError as exc:
                audit_failure(category=category, activity=activity if isinstance(activity, str) else activity(kwargs),
                              reason=exc.code, actor=kwargs.get("actor"), target=target(kwargs),
                              context=kwargs.get("context", NO_CONTEXT),
                              details={"message": exc.message[:500], **({"detail": exc.detail[:500]}
                                                                       if exc.detail else {})})
                raise

        return run  # type: ignore[return-value]

    return wrap


def fit(model: type[models.Model], values: Mapping[str, Any]) -> dict[str, Any]:
    """``values`` for a row of ``model``, each bounded by its field: text to ``max_length`` (from the model, so a
    changed column changes the bound) with NUL and lone surrogates replaced, JSON cleaned at every depth, and an
    invalid IP address as None. Values of other fields pass unchanged."""
    fields = {f.name: f for f in model._meta.concrete_fields}
    return {name: _fit_value(fields[name], value) for name, value in values.items()}


def _fit_value(column: models.Field[Any, Any], value: Any) -> Any:
    if isinstance(column, models.GenericIPAddressField):
        return _ip_or_none(value)
    if isinstance(column, models.CharField | models.TextField) and isinstance(value, str):
        text = replace_unusable(value)
        return text if column.max_length is None else text[:column.max_length]
    if isinstance(column, models.JSONField):
        return map_strings(value, replace_unusable)
    return value


def _ip_or_none(value: object) -> str | None:
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError:
        return None
