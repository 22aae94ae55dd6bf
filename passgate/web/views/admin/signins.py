"""Sign-in logs: every sign-in to an app, with filters, and one sign-in's steps and Conditional Access results."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import Max, QuerySet
from django.http import HttpRequest, HttpResponse

from passgate.audit.models import SignInEvent
from passgate.audit.signins import methods_used
from passgate.core.devices.signin import DEVICE_SIGNIN_APP_ID, DEVICE_SIGNIN_APP_NAME
from passgate.core.graph.auditlogs import CA_STATUSES, browser_of, operating_system_of
from passgate.devices.models import Device
from passgate.directory.models import User
from passgate.trust_store.selectors import model_name
from passgate.web.views.admin.access import AUDIT_READ, Admin, NotFoundHere, admin_view, pager, render_admin
from passgate.web.views.admin.audit import _date
from passgate.web.views.admin.queries import _start_of

SIGN_INS_PER_PAGE = 50
STATUSES = (("success", "Success"), ("failure", "Failure"))
CA_LABELS = {"success": ("Success", "ok"), "failure": ("Failure", "danger"), "notApplied": ("Not applied", "neutral")}
CONTROL_LABELS = {"block": "Block access", "Mfa": "Require multifactor authentication",
                  "RequireAuthenticationStrength": "Require authentication strength"}
# What a report-only policy would have done, by its grant control.
# Graph's deviceDetail.trustType as Entra shows it (the admin centre's device pages say the same).
TRUST_TYPES = {"AzureAd": "Joined", "ServerAd": "Hybrid joined"}
WOULD_HAVE = {"block": "blocked access", "Mfa": "required multifactor authentication",
              "RequireAuthenticationStrength": "required an authentication strength"}


@dataclass(frozen=True)
class SignInFilters:
    user: str = ""
    app: str = ""
    status: str = ""
    ca: str = ""
    date_from: date | None = None
    date_to: date | None = None


def sign_in_search(filters: SignInFilters, *, page: str | None) -> Page[SignInEvent]:
    """Sign-ins matching every filter (the user filter is "contains", case-insensitive), newest first."""
    qs: QuerySet[SignInEvent] = SignInEvent.objects.all()
    if filters.user:
        qs = qs.filter(upn_normalized__contains=filters.user.lower())
    if filters.app:
        qs = qs.filter(app_id=filters.app)
    if filters.status:
        qs = qs.filter(error_code=0) if filters.status == "success" else qs.exclude(error_code=0)
    if filters.ca:
        qs = qs.filter(conditional_access_status=filters.ca)
    if filters.date_from:
        qs = qs.filter(created_at__gte=_start_of(filters.date_from))
    if filters.date_to:
        qs = qs.filter(created_at__lt=_start_of(filters.date_to + timedelta(days=1)))
    return Paginator(qs.order_by("-created_at", "-id"), SIGN_INS_PER_PAGE).get_page(page)


def apps_seen() -> list[tuple[str, str]]:
    """(app id, latest name) of every app that has sign-ins, and Passgate device sign-in always, by name."""
    rows = SignInEvent.objects.values("app_id").annotate(name=Max("app_display_name")).order_by()
    seen = {r["app_id"]: r["name"] or r["app_id"] for r in rows}
    seen.setdefault(DEVICE_SIGNIN_APP_ID, DEVICE_SIGNIN_APP_NAME)
    return sorted(seen.items(), key=lambda item: item[1].lower())


# Graph's operatingSystem spellings, as people write them.
SYSTEM_NAMES = {"Windows10": "Windows 10", "MacOs": "macOS", "Ios": "iOS", "ChromeOs": "ChromeOS"}


def _system(user_agent: str) -> str:
    system = operating_system_of(user_agent)
    return SYSTEM_NAMES.get(system, system)


def _method(event: SignInEvent) -> dict[str, str]:
    """The methods that worked (or, when none did, the ones tried) and the passkey model's name."""
    tried = dict.fromkeys(step.get("authenticationMethod") for step in event.authentication_details)
    return {"methods": ", ".join(methods_used(event)), "attempted": ", ".join(m for m in tried if m),
            "model": model_name(event.aaguid) if event.aaguid else ""}


def _row(event: SignInEvent) -> dict[str, Any]:
    label, tone = CA_LABELS.get(event.conditional_access_status, (event.conditional_access_status, "neutral"))
    return {"event": event, **_method(event), "ca_label": label, "ca_tone": tone,
            "strength": (event.authentication_strength or {}).get("displayName", ""),
            "trust_type": TRUST_TYPES.get(event.device_trust_type, event.device_trust_type)}


@admin_view(read=AUDIT_READ)
def sign_ins(request: HttpRequest, admin: Admin) -> HttpResponse:
    get = request.GET
    values = {name: get.get(name, "").strip()[:256] for name in ("user", "app", "status", "ca", "from", "to")}
    errors: dict[str, str] = {}
    if values["status"] and values["status"] not in dict(STATUSES):
        errors["status"] = f"“{values['status']}” isn't a status; choose success or failure."
    if values["ca"] and values["ca"] not in CA_STATUSES:
        errors["ca"] = f"“{values['ca']}” isn't a Conditional Access result; choose success, failure or notApplied."
    date_from = _date(values["from"], "from", errors)
    date_to = _date(values["to"], "to", errors)
    if date_from and date_to and date_from > date_to:
        errors["to"] = "The end date is before the start date."
    rows: list[dict[str, Any]] = []
    page_pager = None
    if not errors:
        filters = SignInFilters(user=values["user"], app=values["app"], status=values["status"], ca=values["ca"],
                                date_from=date_from, date_to=date_to)
        page = sign_in_search(filters, page=get.get("page"))
        page_pager = pager(request, page)
        rows = [_row(e) for e in page.object_list]
    apps = apps_seen()
    if values["app"] and values["app"] not in dict(apps):
        apps.append((values["app"], values["app"]))
    return render_admin(request, admin, "passgate/admin/sign_ins.html", {
        "values": values, "errors": errors, "rows": rows, "pager": page_pager, "apps": apps,
        "statuses": STATUSES, "ca_statuses": [(value, CA_LABELS[value][0]) for value in CA_STATUSES],
        "filtered": any(values.values()),
    }, section="sign-ins", status=400 if errors else 200)


def policy_label(policy: dict[str, Any]) -> tuple[str, str]:
    """(what the policy did, badge tone) for one applied policy, report-only ones as "would have"."""
    result = policy.get("result", "")
    controls = policy.get("enforcedGrantControls") or []
    if result == "reportOnlyFailure":
        wanted = [WOULD_HAVE.get(c, c) for c in controls] or ["stopped this sign-in"]
        return "Report-only: would have " + " and ".join(wanted), "warn"
    if result == "reportOnlyInterrupted":
        return "Report-only: would have asked for more", "warn"
    return {
        "success": ("Granted", "ok"),
        "failure": ("Blocked" if "block" in controls else "Not met", "danger"),
        "notApplied": ("Doesn't apply", "neutral"), "notEnabled": ("Off", "neutral"),
        "reportOnlySuccess": ("Report-only: would have granted", "neutral"),
        "reportOnlyNotApplied": ("Report-only: doesn't apply", "neutral"),
    }.get(result, (result or "Unknown", "neutral"))


@admin_view(read=AUDIT_READ)
def sign_in_detail(request: HttpRequest, admin: Admin, signin_id: uuid.UUID) -> HttpResponse:
    event = SignInEvent.objects.filter(pk=signin_id).first()
    if event is None:
        raise NotFoundHere("sign-in")
    label, tone = CA_LABELS.get(event.conditional_access_status, (event.conditional_access_status, "neutral"))
    policies = [{**p, "label": policy_label(p)[0], "tone": policy_label(p)[1],
                 "controls": [CONTROL_LABELS.get(c, c) for c in p.get("enforcedGrantControls") or []]}
                for p in event.applied_policies] if admin.can("access.read") else []
    user_exists = event.user_id is not None and User.objects.filter(pk=event.user_id).exists()
    device = (Device.objects.filter(device_id=event.device_id).first()
              if event.device_id and admin.can("devices.read") else None)
    return render_admin(request, admin, "passgate/admin/sign_in.html", {
        "event": event, **_method(event), "ca_label": label, "ca_tone": tone, "policies": policies,
        "policies_hidden": not admin.can("access.read") and bool(event.applied_policies),
        "steps": event.authentication_details, "browser": browser_of(event.user_agent),
        "operating_system": _system(event.user_agent), "user_link": user_exists, "device": device,
        "trust_type": TRUST_TYPES.get(event.device_trust_type, event.device_trust_type),
    }, section="sign-ins")
