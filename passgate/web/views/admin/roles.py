"""Roles and administrators: the directory roles with how many people hold each; a role's page with its holders,
add by user name, remove after a confirmation. Changes go through the directory's role services (audited; the last
enabled Global Administrator keeps the role), as the Graph API and the command line do."""

from __future__ import annotations

import uuid

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

from passgate.core import roles as rules
from passgate.core.errors import PassgateError
from passgate.directory import services as directory
from passgate.directory.models import User
from passgate.directory.selectors import role_member_counts, role_members
from passgate.web.errors import request_context
from passgate.web.messages import for_person
from passgate.web.views.admin import queries
from passgate.web.views.admin.access import Admin, NotFoundHere, admin_view, flash, render_admin


def _role(role_id: uuid.UUID) -> rules.RoleDefinition:
    role = rules.role_by_id(str(role_id))
    if role is None:
        raise NotFoundHere("role")
    return role


def _role_url(role: rules.RoleDefinition) -> str:
    return f"/admin/roles/{role.id}"


@admin_view(read="roles.read")
def roles_list(request: HttpRequest, admin: Admin) -> HttpResponse:
    counts = role_member_counts()
    rows = [{"role": r, "members": counts.get(r.id, 0), "mine": r.role in admin.roles} for r in rules.definitions()]
    return render_admin(request, admin, "passgate/admin/roles.html", {"rows": rows}, section="roles")


def _role_page(request: HttpRequest, admin: Admin, role: rules.RoleDefinition, *, error: str = "", upn: str = "",
               status: int = 200) -> HttpResponse:
    return render_admin(request, admin, "passgate/admin/role.html", {
        "role": role, "members": role_members(role_id=role.id), "error": error, "upn": upn,
        "permissions": [action.split("/") for action in role.allowed_resource_actions],
    }, section="roles", status=status)


@admin_view(read="roles.read")
def role_detail(request: HttpRequest, admin: Admin, role_id: uuid.UUID) -> HttpResponse:
    return _role_page(request, admin, _role(role_id))


@admin_view(write="roles.write", post_only=True)
def role_member_add(request: HttpRequest, admin: Admin, role_id: uuid.UUID) -> HttpResponse:
    role = _role(role_id)
    upn = request.POST.get("upn", "").strip()[:200]
    if not upn:
        return _role_page(request, admin, role, error="Enter the user name (UPN) of the person to add.", status=400)
    if "@" not in upn:
        return _role_page(request, admin, role, upn=upn, status=400,
                          error=f"“{upn}” isn't a user name; enter one like alias@domain.")
    try:
        user = directory.role_member_add(role=role, upn_or_id=upn, actor=admin.actor,
                                         context=request_context(request)).user
    except PassgateError as exc:
        return _role_page(request, admin, role, error=for_person(exc), upn=upn, status=400)
    flash(request, f"{user.user_principal_name} now holds the role {role.display_name}.")
    return redirect(_role_url(role))


def _user(user_id: uuid.UUID) -> User:
    user = queries.user_by_id(user_id)
    if user is None:
        raise NotFoundHere("user")
    return user


@admin_view(read="roles.write", write="roles.write")
def role_member_remove(request: HttpRequest, admin: Admin, role_id: uuid.UUID, user_id: uuid.UUID) -> HttpResponse:
    role = _role(role_id)
    user = _user(user_id)
    if request.method == "POST":
        try:
            directory.role_assignment_delete(role=role, user=user, actor=admin.actor,
                                             context=request_context(request))
        except PassgateError as exc:
            return _role_page(request, admin, role, error=for_person(exc), status=400)
        flash(request, f"{user.user_principal_name} no longer holds the role {role.display_name}.")
        return redirect(_role_url(role))
    yourself = user.pk == admin.user.pk
    return render_admin(request, admin, "passgate/admin/confirm.html", {
        "title": f"Remove {user.user_principal_name} from {role.display_name}?",
        "lead": (f"{user.display_name} loses what the role allows at their next request. Their account, sign-in "
                 "methods and other roles stay."),
        "warning": ("This is your own role: you lose what it allows as soon as you confirm, and someone who holds "
                    "Privileged Role Administrator or Global Administrator has to give it back.") if yourself else "",
        "button": "Remove role", "cancel": _role_url(role),
    }, section="roles")
