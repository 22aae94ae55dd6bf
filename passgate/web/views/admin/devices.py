"""Devices: the list, a device (its groups, Disable/Enable, Delete, its security-key sign-in setting and which source
decided), and Add a device (enrollment tokens: issue one, shown once with the join command; revoke).

Every change goes through ``passgate.devices.services``; the security-key sign-in setting is the device API's own
answer (``device_config.selectors.security_key_signin_setting``), so the page and the login screen can't disagree.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils import timezone

from passgate.core.devices import enrollment
from passgate.core.devices.signin_setting import SigninSetting, Source
from passgate.core.errors import PassgateError
from passgate.device_config.selectors import profiles, security_key_signin_setting
from passgate.devices import selectors, services
from passgate.devices.models import Device
from passgate.directory.services import user_get
from passgate.web.errors import request_context
from passgate.web.messages import for_person
from passgate.web.views.admin import queries
from passgate.web.views.admin.access import Admin, NotFoundHere, admin_view, flash, pager, render_admin

DEVICES_PER_PAGE = 25
TRUST_TYPES = {"joined": "Joined", "hybrid": "Hybrid joined"}
SOURCES = {Source.DEVICE: "The device's state", Source.PROFILE: "Configuration profile",
           Source.LOCAL_GROUP_POLICY: "Local group policy", Source.PROVISIONING_PACKAGE: "Provisioning package",
           Source.ENROLLMENT_SETTING: "Enrollment setting", Source.NONE: "Not configured"}


def _device(device_id: uuid.UUID) -> Device:
    device = selectors.device_by_object_id(str(device_id))
    if device is None:
        raise NotFoundHere("device")
    return device


def _device_url(device: Device) -> str:
    return f"/admin/devices/{device.pk}"


def setting_view(setting: SigninSetting, profile_names: dict[str, str] | None = None) -> dict[str, Any]:
    """A sign-in setting as the pages show it: on/off, the source in words, the sentence, the deciding profiles."""
    return {"enabled": setting.enabled, "source": SOURCES[setting.source], "explanation": setting.explanation,
            "conflict": setting.conflict, "reason": setting.reason.value,
            "profiles": [(pid, (profile_names or {}).get(pid, pid)) for pid in setting.profile_ids]}


# --- the list ------------------------------------------------------------------------------------------------------

@admin_view(read="devices.read")
def devices_list(request: HttpRequest, admin: Admin) -> HttpResponse:
    text = request.GET.get("q", "")[:256]
    page = Paginator(selectors.device_search(text), DEVICES_PER_PAGE).get_page(request.GET.get("page"))
    return render_admin(request, admin, "passgate/admin/devices.html", {
        "devices": list(page.object_list), "q": text, "pager": pager(request, page), "trust_types": TRUST_TYPES,
        "tab": "devices",
    }, section="devices")


# --- a device ------------------------------------------------------------------------------------------------------

def _device_page(request: HttpRequest, admin: Admin, device: Device, *, error: str = "", status: int = 200,
                 for_user: str = "", user_error: str = "") -> HttpResponse:
    groups = selectors.device_groups(device)
    names = {p.id: p.display_name for p in profiles()} if admin.can("deviceConfiguration.read") else {}
    setting = setting_view(security_key_signin_setting(selectors.device_signin_facts(device)), names)
    user_setting = None
    if for_user and not user_error:
        try:
            person = user_get(upn_or_id=for_user) if "@" in for_user else None
        except PassgateError:
            person = None
        if person is None:
            user_error = f"There is no user “{for_user}”: enter a user name like alias@contoso.com."
        else:
            user_setting = setting_view(security_key_signin_setting(selectors.device_signin_facts(device, person)),
                                        names)
    member_ids = {g.pk for g in groups}
    return render_admin(request, admin, "passgate/admin/device.html", {
        "device": device, "trust_type": TRUST_TYPES.get(device.trust_type, device.trust_type), "groups": groups,
        "other_groups": [g for g in queries.all_groups() if g.pk not in member_ids] if admin.can("devices.write")
        else [], "setting": setting, "for_user": for_user, "user_setting": user_setting, "user_error": user_error,
        "error": error, "token": device.enrollment_token,
    }, section="devices", status=status)


@admin_view(read="devices.read")
def device_detail(request: HttpRequest, admin: Admin, device_id: uuid.UUID) -> HttpResponse:
    device = _device(device_id)
    for_user = request.GET.get("user", "").strip()[:113]
    return _device_page(request, admin, device, for_user=for_user, status=200)


@admin_view(write="devices.write", post_only=True)
def device_account(request: HttpRequest, admin: Admin, device_id: uuid.UUID) -> HttpResponse:
    device = _device(device_id)
    wanted = request.POST.get("enabled", "")
    if wanted not in ("true", "false"):
        return _device_page(request, admin, device, error="Choose to enable or disable the device.", status=400)
    enable = wanted == "true"
    services.device_update(device=device, account_enabled=enable, actor=admin.actor, context=request_context(request))
    flash(request, f"“{device.display_name}” is enabled again: people can sign in on it with a security key, as "
                   "its configuration allows." if enable else
          f"“{device.display_name}” is disabled: it can no longer sign anyone in, and its offline records stop at "
          "its next sync.")
    return redirect(_device_url(device))


@admin_view(write="devices.write", post_only=True)
def device_group_add(request: HttpRequest, admin: Admin, device_id: uuid.UUID) -> HttpResponse:
    device = _device(device_id)
    group = queries.group_by_id(request.POST.get("group", ""))
    if group is None:
        return _device_page(request, admin, device, status=400,
                            error="Choose a group to add the device to. That group may have been deleted.")
    services.device_group_add(device=device, group=group, actor=admin.actor, context=request_context(request))
    flash(request, f"“{device.display_name}” was added to “{group.display_name}”.")
    return redirect(_device_url(device))


@admin_view(write="devices.write", post_only=True)
def device_group_remove(request: HttpRequest, admin: Admin, device_id: uuid.UUID,
                        group_id: uuid.UUID) -> HttpResponse:
    device = _device(device_id)
    group = queries.group_by_id(group_id)
    if group is None:
        raise NotFoundHere("group")
    try:
        services.device_group_remove(device=device, group=group, actor=admin.actor, context=request_context(request))
    except PassgateError as exc:
        return _device_page(request, admin, device, error=for_person(exc), status=400)
    flash(request, f"“{device.display_name}” was removed from “{group.display_name}”.")
    return redirect(_device_url(device))


@admin_view(read="devices.write", write="devices.write")
def device_delete(request: HttpRequest, admin: Admin, device_id: uuid.UUID) -> HttpResponse:
    device = _device(device_id)
    if request.method == "POST":
        name = device.display_name
        services.device_delete(device=device, actor=admin.actor, context=request_context(request))
        flash(request, f"“{name}” was deleted from the directory. It can no longer sign anyone in.")
        return redirect("/admin/devices")
    return render_admin(request, admin, "passgate/admin/confirm.html", {
        "title": f"Delete the device “{device.display_name}”?",
        "lead": "It can no longer sign anyone in: Passgate forgets its key, so every request it signs is refused. "
                "The offline records on it stop at its next sync. To use the computer again, join it again with a "
                "new enrollment token. The audit and sign-in logs keep what it did.",
        "warning": "To stop it for now and keep its record and groups, disable it instead."
        if device.account_enabled else "",
        "button": "Delete device", "cancel": _device_url(device),
    }, section="devices")


# --- Add a device: enrollment tokens ----------------------------------------------------------------------------

def _whole(text: str) -> int | str:
    try:
        return int(text)
    except ValueError:
        return text


def _add_page(request: HttpRequest, admin: Admin, *, values: dict[str, str], errors: dict[str, str],
              status: int = 200) -> HttpResponse:
    return render_admin(request, admin, "passgate/admin/device_add.html", {
        "values": values, "errors": errors,
        "tokens": [{"row": t, "expires_at": t.created_at + timedelta(minutes=t.lifetime_minutes)}
                   for t in selectors.enrollment_tokens_active(now=timezone.now())],
        "limits": {"min": enrollment.MIN_LIFETIME_MINUTES, "max": enrollment.MAX_LIFETIME_MINUTES,
                   "uses": enrollment.MAX_USES},
        "tab": "add",
    }, section="devices", status=status)


TOKEN_FIELDS = {"invalid_description": "description"}


@admin_view(read="devices.read", write="devices.write")
def device_add(request: HttpRequest, admin: Admin) -> HttpResponse:
    """GET: the form and the active tokens. POST: issue a token and show it, once, with the join command."""
    if request.method != "POST":
        return _add_page(request, admin, errors={}, values={
            "lifetime": str(enrollment.DEFAULT_LIFETIME_MINUTES), "uses": "1", "description": ""})
    values = {"lifetime": request.POST.get("lifetime", "").strip()[:12],
              "uses": request.POST.get("uses", "").strip()[:12],
              "description": request.POST.get("description", "").strip()[:300]}
    errors: dict[str, str] = {}
    lifetime, uses = _whole(values["lifetime"]), _whole(values["uses"])
    if not isinstance(lifetime, int):
        errors["lifetime"] = f"The lifetime must be a whole number of minutes, not “{values['lifetime']}”."
    if not isinstance(uses, int):
        errors["uses"] = f"The number of computers must be a whole number, not “{values['uses']}”."
    if not errors:
        try:
            row, plain = services.enrollment_token_issue(actor=admin.actor, lifetime_minutes=lifetime, uses=uses,
                                                         description=values["description"],
                                                         context=request_context(request))
        except PassgateError as exc:
            message = for_person(exc)
            field = TOKEN_FIELDS.get(exc.code) or ("lifetime" if "lifetime" in message else "uses")
            errors[field] = message
        else:
            origin = settings.PASSGATE.origin
            return render_admin(request, admin, "passgate/admin/device_token.html", {
                "token": plain, "row": row, "origin": origin,
                "command": f"passgate-device join --passgate {origin} --token {plain}",
                "expires_at": row.created_at + timedelta(minutes=row.lifetime_minutes),
            }, section="devices")
    return _add_page(request, admin, values=values, errors=errors, status=400)


@admin_view(write="devices.write", post_only=True)
def token_revoke(request: HttpRequest, admin: Admin, token_id: uuid.UUID) -> HttpResponse:
    token = selectors.enrollment_token_by_id(token_id)
    if token is None:
        raise NotFoundHere("enrollment token")
    services.enrollment_token_revoke(token=token, actor=admin.actor, context=request_context(request))
    label = f"“{token.description}”" if token.description else f"issued {token.created_at:%d %b %Y %H:%M} UTC"
    flash(request, f"The enrollment token {label} was revoked: no computer can join with it any more. Computers "
                   "that already joined with it stay joined.")
    return redirect("/admin/devices/add")
