"""Writing audit rows. Every service that changes something, and every refusal, calls ``audit_record``."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from django.utils import timezone

from passgate.audit.models import AuditEvent, Category, Result


@dataclass(frozen=True)
class Actor:
    """Who acted: a directory user (id + UPN), or the system/CLI (id None)."""

    id: uuid.UUID | None
    name: str

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
    return AuditEvent.objects.create(
        occurred_at=timezone.now(),
        category=category,
        activity=activity,
        result=result,
        reason=reason[:64],
        actor_id=actor.id if actor else None,
        actor_name=(actor.name if actor else "")[:256],
        target_type=target.type if target else "",
        target_id=target.id if target else "",
        target_name=(target.name if target else "")[:256],
        ip_address=context.ip_address,
        user_agent=context.user_agent[:256],
        details=details or {},
    )


def audit_failure(*, category: Category, activity: str, reason: str, **kwargs: Any) -> AuditEvent:
    return audit_record(category=category, activity=activity, result=Result.FAILURE, reason=reason, **kwargs)
