from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from types import MappingProxyType

from django.db.models import Q, QuerySet

from passgate.audit.models import AuditEvent
from passgate.audit.signins import NOTHING, after_key, instant_q, text_q, uuid_q
from passgate.core.graph.auditlogs import LOGGED_BY_SERVICE, categories_for
from passgate.core.graph.odata import Comparison


def audit_events(*, limit: int = 50, category: str | None = None, result: str | None = None,
                 actor_id: str | None = None) -> QuerySet[AuditEvent]:
    qs = AuditEvent.objects.all()
    if category:
        qs = qs.filter(category=category)
    if result:
        qs = qs.filter(result=result)
    if actor_id:
        qs = qs.filter(actor_id=actor_id)
    return qs.order_by("-occurred_at")[:limit]


def audit_event_as_dict(event: AuditEvent) -> dict[str, object]:
    return {
        "id": str(event.id),
        "occurredDateTime": event.occurred_at.isoformat(),
        "category": event.category,
        "activity": event.activity,
        "result": event.result,
        "reason": event.reason,
        "actor": {"id": str(event.actor_id) if event.actor_id else None, "name": event.actor_name},
        "target": {"type": event.target_type, "id": event.target_id, "name": event.target_name},
        "ipAddress": event.ip_address,
        "details": event.details,
    }


# --- Graph's directoryAudits ----------------------------------------------------------------------------------

APP_ACTOR_PREFIX = "app:"  # how passgate.graph_api names an application that acted (Actor.name)


def _category_q(c: Comparison) -> Q:
    q = NOTHING
    for category, targets, taken in categories_for(str(c.value)):
        if targets is not None:
            q |= Q(category=category, target_type__in=targets)
        else:
            q |= Q(category=category) & ~Q(target_type__in=taken)
    return q


def _person(condition: Callable[[Comparison], Q]) -> Callable[[Comparison], Q]:
    """A condition on the person who acted (not an app, not Passgate itself)."""
    return lambda c: Q(actor_id__isnull=False) & ~Q(actor_name__startswith=APP_ACTOR_PREFIX) & condition(c)


AUDIT_CONDITIONS: Mapping[str, Callable[[Comparison], Q]] = MappingProxyType({
    "id": uuid_q("pk"),
    "category": _category_q,
    "result": lambda c: Q(result=str(c.value).lower()),
    "activityDisplayName": text_q("activity"),
    "activityDateTime": lambda c: instant_q(c, "occurred_at"),
    "loggedByService": lambda c: Q() if str(c.value).lower() == LOGGED_BY_SERVICE.lower() else NOTHING,
    "initiatedBy/user/id": _person(uuid_q("actor_id")),
    "initiatedBy/user/userPrincipalName": _person(text_q("actor_name")),
})


def audit_page_key(event: AuditEvent) -> str:
    return f"{event.occurred_at.isoformat()}|{event.pk}"


def audit_list(*, where: Sequence[Comparison] = (), after: str | None = None,
               limit: int | None = None) -> list[AuditEvent]:
    """Audit events matching every Graph condition, newest first, after the page key ``after``."""
    q = Q()
    for condition in where:
        q &= AUDIT_CONDITIONS[condition.property](condition)
    qs = AuditEvent.objects.filter(q).filter(after_key(after, "occurred_at")).order_by("-occurred_at", "-id")
    return list(qs[:limit] if limit is not None else qs)


def audit_get(*, event_id: str) -> AuditEvent | None:
    try:
        found = uuid.UUID(event_id)
    except ValueError:
        return None
    return AuditEvent.objects.filter(pk=found).first()
