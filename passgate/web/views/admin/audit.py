"""The overview page and the audit log with its filters."""

from __future__ import annotations

import json
from datetime import date

from django.http import HttpRequest, HttpResponse

from passgate.audit.models import Category, Result
from passgate.credentials.policy_selectors import current_version
from passgate.web.views.admin import queries
from passgate.web.views.admin.access import AUDIT_READ, Admin, admin_view, pager, render_admin


@admin_view()
def overview(request: HttpRequest, admin: Admin) -> HttpResponse:
    return render_admin(request, admin, "passgate/admin/overview.html", {
        "counts": queries.counts(), "policy_version": current_version(),
    }, section="overview")


def _date(text: str, label: str, errors: dict[str, str]) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        errors[label] = f"“{text}” isn't a date; use the form 2026-01-31."
        return None


@admin_view(read=AUDIT_READ)
def audit_log(request: HttpRequest, admin: Admin) -> HttpResponse:
    get = request.GET
    values = {name: get.get(name, "").strip()[:256] for name in
              ("category", "result", "activity", "actor", "target", "from", "to")}
    errors: dict[str, str] = {}
    if values["category"] and values["category"] not in Category.values:
        errors["category"] = f"“{values['category']}” isn't a category."
    if values["result"] and values["result"] not in Result.values:
        errors["result"] = f"“{values['result']}” isn't a result; choose success or failure."
    date_from = _date(values["from"], "from", errors)
    date_to = _date(values["to"], "to", errors)
    if date_from and date_to and date_from > date_to:
        errors["to"] = "The end date is before the start date."
    events: list[dict[str, object]] = []
    page_pager = None
    if not errors:
        filters = queries.AuditFilters(category=values["category"], result=values["result"],
                                       activity=values["activity"], actor=values["actor"], target=values["target"],
                                       date_from=date_from, date_to=date_to)
        page = queries.audit_search(filters, page=get.get("page"))
        page_pager = pager(request, page)
        events = [{"event": e, "details": json.dumps(e.details, indent=2, sort_keys=True, ensure_ascii=False)
                   if e.details else ""} for e in page.object_list]
    return render_admin(request, admin, "passgate/admin/audit.html", {
        "values": values, "errors": errors, "events": events, "pager": page_pager,
        "categories": Category.choices, "results": Result.choices,
        "filtered": any(values.values()),
    }, section="audit", status=400 if errors else 200)
