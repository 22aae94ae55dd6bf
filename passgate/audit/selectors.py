from __future__ import annotations

from django.db.models import QuerySet

from passgate.audit.models import AuditEvent


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
