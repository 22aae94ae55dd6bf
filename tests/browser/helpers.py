"""Small database-side assertions the browser tests share."""

from __future__ import annotations

from typing import Any

from passgate.audit.models import AuditEvent


def audit_rows(**filters: Any) -> list[tuple[str, str, str]]:
    """(activity, result, reason) of the audit rows matching ``filters``, oldest first."""
    return list(AuditEvent.objects.filter(**filters).order_by("occurred_at").values_list(
        "activity", "result", "reason"))


def signed_out(tab: Any) -> bool:
    """Whether the tab's browser session is anonymous: Security info redirects it to the sign-in page.

    Asked with the context's cookies but outside the page, so no sign-in page (and no autofill) loads.
    """
    response = tab.context.request.get(tab.origin + "/security-info", max_redirects=0)
    return response.status == 302 and response.headers["location"].startswith("/signin")
