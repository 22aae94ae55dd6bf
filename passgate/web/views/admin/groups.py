"""Groups: list, create, members (add by user name, remove), delete."""

from __future__ import annotations

import uuid

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

from passgate.core.errors import PassgateError
from passgate.core.policy.model import MethodConfiguration
from passgate.credentials.policy_selectors import current_policy
from passgate.directory import services as directory
from passgate.directory.models import SecurityGroup
from passgate.web.errors import request_context
from passgate.web.messages import for_person, in_form
from passgate.web.views.admin import queries
from passgate.web.views.admin.access import Admin, NotFoundHere, admin_view, flash, pager, render_admin

METHOD_NAMES = {"Fido2": "Passkey (FIDO2)", "SoftwareOath": "Authenticator app",
                "TemporaryAccessPass": "Temporary Access Pass"}


def _group(group_id: uuid.UUID) -> SecurityGroup:
    group = queries.group_by_id(group_id)
    if group is None:
        raise NotFoundHere("group")
    return group


def _group_url(group: SecurityGroup) -> str:
    return f"/admin/groups/{group.pk}"


def policy_uses(group: SecurityGroup) -> list[str]:
    """Where the authentication methods policy names this group ("Passkey (FIDO2): included")."""
    uses = []
    gid = str(group.pk)
    config: MethodConfiguration
    for config in current_policy().configurations:
        name = METHOD_NAMES[config.ID]
        if any(t.id == gid for t in config.include_targets):
            uses.append(f"{name}: included")
        if any(t.id == gid for t in config.exclude_targets):
            uses.append(f"{name}: excluded")
    return uses


@admin_view(read="groups.read")
def groups_list(request: HttpRequest, admin: Admin) -> HttpResponse:
    text = request.GET.get("q", "")[:256]
    page = queries.group_search(text=text, page=request.GET.get("page"))
    return render_admin(request, admin, "passgate/admin/groups.html", {
        "groups": list(page.object_list), "q": text, "pager": pager(request, page),
    }, section="groups")


@admin_view(read="groups.write", write="groups.write")
def group_new(request: HttpRequest, admin: Admin) -> HttpResponse:
    values = {"display_name": "", "description": ""}
    errors: dict[str, str] = {}
    if request.method == "POST":
        values = {"display_name": request.POST.get("display_name", "")[:300],
                  "description": request.POST.get("description", "")[:1100]}
        try:
            group = directory.group_create(display_name=values["display_name"], description=values["description"],
                                           actor=admin.actor, context=request_context(request))
        except PassgateError as exc:
            errors["display_name"] = in_form(exc, "Name")
        else:
            flash(request, f"Group “{group.display_name}” was created. Add its members here.")
            return redirect(_group_url(group))
    return render_admin(request, admin, "passgate/admin/group_new.html", {"values": values, "errors": errors},
                        section="groups", status=400 if errors else 200)


def _group_page(request: HttpRequest, admin: Admin, group: SecurityGroup, *, error: str = "", upn: str = "",
                status: int = 200) -> HttpResponse:
    return render_admin(request, admin, "passgate/admin/group.html", {
        "group": group, "members": queries.group_members(group), "policy_uses": policy_uses(group),
        "error": error, "upn": upn,
    }, section="groups", status=status)


@admin_view(read="groups.read")
def group_detail(request: HttpRequest, admin: Admin, group_id: uuid.UUID) -> HttpResponse:
    return _group_page(request, admin, _group(group_id))


@admin_view(write="groups.write", post_only=True)
def member_add(request: HttpRequest, admin: Admin, group_id: uuid.UUID) -> HttpResponse:
    group = _group(group_id)
    upn = request.POST.get("upn", "").strip()[:200]
    if not upn:
        return _group_page(request, admin, group, error="Enter the user name (UPN) of the person to add.", status=400)
    try:
        user = directory.user_get(upn_or_id=upn) if "@" in upn else None
        if user is None:
            return _group_page(request, admin, group, upn=upn, status=400,
                               error=f"“{upn}” isn't a user name; enter one like alias@domain.")
        directory.group_add_member(group=group, user=user, actor=admin.actor, context=request_context(request))
    except PassgateError as exc:
        return _group_page(request, admin, group, error=for_person(exc), upn=upn, status=400)
    flash(request, f"{user.user_principal_name} was added to “{group.display_name}”.")
    return redirect(_group_url(group))


@admin_view(write="groups.write", post_only=True)
def member_remove(request: HttpRequest, admin: Admin, group_id: uuid.UUID, user_id: uuid.UUID) -> HttpResponse:
    group = _group(group_id)
    user = queries.user_by_id(user_id)
    if user is None:
        raise NotFoundHere("user")
    try:
        directory.group_remove_member(group=group, user=user, actor=admin.actor, context=request_context(request))
    except PassgateError as exc:
        return _group_page(request, admin, group, error=for_person(exc), status=400)
    flash(request, f"{user.user_principal_name} was removed from “{group.display_name}”.")
    return redirect(_group_url(group))


@admin_view(read="groups.write", write="groups.write")
def group_delete(request: HttpRequest, admin: Admin, group_id: uuid.UUID) -> HttpResponse:
    group = _group(group_id)
    if request.method == "POST":
        name = group.display_name
        directory.group_delete(group=group, actor=admin.actor, context=request_context(request))
        flash(request, f"Group “{name}” was deleted.")
        return redirect("/admin/groups")
    uses = policy_uses(group)
    return render_admin(request, admin, "passgate/admin/confirm.html", {
        "title": f"Delete the group “{group.display_name}”?",
        "lead": "Its members stay in the directory; only the group and its memberships are deleted.",
        "warning": ("The authentication methods policy names this group (" + "; ".join(uses) + "). Once it is "
                    "deleted that target matches nobody: change the policy first.") if uses else "",
        "button": "Delete group", "cancel": _group_url(group),
    }, section="groups")
