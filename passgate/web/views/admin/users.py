"""Users: search, add, a user's account, sessions and sign-in methods, a passkey's details, Temporary Access
Passes."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any
from urllib.parse import quote

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

from passgate.core.errors import PassgateError
from passgate.core.policy import evaluate as policy_rules
from passgate.core.policy.errors import PolicyValidationError
from passgate.credentials import oath, services
from passgate.credentials.policy_selectors import current_policy, user_group_ids
from passgate.directory import services as directory
from passgate.directory.models import User
from passgate.web import session
from passgate.web.errors import request_context
from passgate.web.messages import for_person, in_form, labelled
from passgate.web.views.admin import queries
from passgate.web.views.admin.access import (
    Admin,
    NotFoundHere,
    admin_view,
    flash,
    pager,
    render_admin,
    require_manageable,
)

COSE_ALGORITHMS = {-7: "ES256 (ECDSA P-256, SHA-256)", -8: "EdDSA (Ed25519)", -257: "RS256 (RSA PKCS#1, SHA-256)"}
TAP_FIELD_BY_TARGET = {"lifetimeInMinutes": "lifetime", "isUsableOnce": "once"}
USER_FIELD_BY_CODE = {"invalid_upn": "upn", "upn_in_use": "upn", "invalid_display_name": "display_name"}
USER_LABELS = {"upn": "User name", "display_name": "Display name"}  # as the forms label them
TAP_LABELS = (("lifetimeInMinutes", "Lifetime"), ("isUsableOnce", "One-time"))


def _user(user_id: uuid.UUID) -> User:
    user = queries.user_by_id(user_id)
    if user is None:
        raise NotFoundHere("user")
    return user


def _user_url(user: User) -> str:
    return f"/admin/users/{user.pk}"


# --- list and add --------------------------------------------------------------------------------------------------

@admin_view(read="users.read")
def users_list(request: HttpRequest, admin: Admin) -> HttpResponse:
    text = request.GET.get("q", "")[:113]
    page = queries.user_search(text=text, page=request.GET.get("page"))
    roles = queries.role_names_by_user(page.object_list)
    rows = [{"person": u, "roles": roles.get(u.pk, [])} for u in page.object_list]
    return render_admin(request, admin, "passgate/admin/users.html", {
        "rows": rows, "q": text, "pager": pager(request, page),
    }, section="users")


@admin_view(read="users.write", write="users.write")
def user_new(request: HttpRequest, admin: Admin) -> HttpResponse:
    values = {"upn": "", "display_name": "", "enabled": True}
    errors: dict[str, str] = {}
    if request.method == "POST":
        values = {"upn": request.POST.get("upn", "")[:200], "display_name": request.POST.get("display_name", "")[:300],
                  "enabled": "enabled" in request.POST}
        try:
            user = directory.user_create(upn=str(values["upn"]), display_name=str(values["display_name"]),
                                         account_enabled=bool(values["enabled"]), actor=admin.actor,
                                         context=request_context(request))
        except PassgateError as exc:
            field = USER_FIELD_BY_CODE.get(exc.code, "form")
            errors[field] = in_form(exc, USER_LABELS[field]) if field in USER_LABELS else for_person(exc)
        else:
            flash(request, f"{user.user_principal_name} was added. Issue a Temporary Access Pass so they can add "
                           "their first passkey.")
            return redirect(_user_url(user))
    return render_admin(request, admin, "passgate/admin/user_new.html", {"values": values, "errors": errors},
                        section="users", status=400 if errors else 200)


# --- a user --------------------------------------------------------------------------------------------------------

def _passkey_rows(user: User) -> list[dict[str, Any]]:
    return [{"passkey": p, "decision": services.passkey_policy_decision(user=user, passkey=p)}
            for p in queries.user_passkeys(user)]


def _user_page(request: HttpRequest, admin: Admin, user: User, *, errors: dict[str, str] | None = None,
               upn_value: str | None = None, status: int = 200) -> HttpResponse:
    manageable = admin.may_manage(user)
    show_methods = admin.can("methods.read")
    return render_admin(request, admin, "passgate/admin/user.html", {
        "person": user,
        "roles": sorted(queries.role_names_by_user([user]).get(user.pk, [])),
        "groups": queries.user_groups(user),
        "manageable": manageable,
        "could_change": admin.can("users.write") or admin.can("methods.write"),
        "is_self": user.pk == admin.user.pk,
        "can_change_account": admin.can("users.write") and manageable,
        "can_revoke_sessions": admin.can("users.revokeSessions") and manageable,
        "can_change_methods": admin.can("methods.write") and manageable,
        "show_methods": show_methods,
        "passkeys": _passkey_rows(user) if show_methods else [],
        "apps": queries.user_authenticator_apps(user) if show_methods else [],
        "passes": queries.user_passes(user) if show_methods else [],
        "errors": errors or {},
        "upn_value": user.user_principal_name if upn_value is None else upn_value,
    }, section="users", status=status)


@admin_view(read="users.read")
def user_detail(request: HttpRequest, admin: Admin, user_id: uuid.UUID) -> HttpResponse:
    return _user_page(request, admin, _user(user_id))


@admin_view(write="users.write", post_only=True)
def user_upn(request: HttpRequest, admin: Admin, user_id: uuid.UUID) -> HttpResponse:
    user = _user(user_id)
    require_manageable(admin, user, "users.write")
    new = request.POST.get("upn", "")[:200]
    if new.strip() == user.user_principal_name:
        flash(request, "The user name is unchanged.")
        return redirect(_user_url(user))
    old = user.user_principal_name
    try:
        directory.user_set_upn(user=user, upn=new, actor=admin.actor, context=request_context(request))
    except PassgateError as exc:
        user.refresh_from_db()
        return _user_page(request, admin, user, errors={"upn": in_form(exc, "User name")}, upn_value=new, status=400)
    flash(request, f"User name changed from {old} to {user.user_principal_name}. Their passkeys keep working.")
    return redirect(_user_url(user))


@admin_view(write="users.write", post_only=True)
def user_account(request: HttpRequest, admin: Admin, user_id: uuid.UUID) -> HttpResponse:
    user = _user(user_id)
    require_manageable(admin, user, "users.write")
    wanted = request.POST.get("enabled", "")
    if wanted not in ("true", "false"):
        return _user_page(request, admin, user, errors={"account": "Choose to enable or disable the account."},
                          status=400)
    enable = wanted == "true"
    if not enable and user.pk == admin.user.pk:
        return _user_page(request, admin, user, errors={
            "account": "You can't disable your own account: you would be signed out at once and couldn't sign "
                       "back in. Ask another administrator if it must be disabled."}, status=400)
    directory.user_set_enabled(user=user, enabled=enable, actor=admin.actor, context=request_context(request))
    flash(request, f"{user.user_principal_name} is enabled again." if enable else
          f"{user.user_principal_name} is disabled: their sessions and apps' refresh tokens were revoked, and they "
          "can't sign in.")
    return redirect(_user_url(user))


@admin_view(read="users.revokeSessions", write="users.revokeSessions")
def user_revoke_sessions(request: HttpRequest, admin: Admin, user_id: uuid.UUID) -> HttpResponse:
    """Revoke sessions: every browser session of the person and every app authorization (refresh tokens) end."""
    user = _user(user_id)
    require_manageable(admin, user, "users.revokeSessions")
    if request.method == "POST":
        directory.user_revoke_sign_in_sessions(user=user, actor=admin.actor, context=request_context(request))
        flash(request, f"{user.user_principal_name} is signed out everywhere: their sessions and the apps' refresh "
                       "tokens were revoked.")
        return redirect(_user_url(user))
    return render_admin(request, admin, "passgate/admin/confirm.html", {
        "title": f"Revoke the sessions of {user.user_principal_name}?",
        "lead": "Every browser session they have open ends, and apps they signed in to through Passgate lose their "
                "refresh and access tokens. Their passkeys keep working: they sign in again. Do this when a device "
                "was lost or stolen, or an account may be misused.",
        "warning": "This includes your own session: you will be signed out." if user.pk == admin.user.pk else "",
        "button": "Revoke sessions", "cancel": _user_url(user),
    }, section="users")


@admin_view(read="users.write", write="users.write")
def user_delete(request: HttpRequest, admin: Admin, user_id: uuid.UUID) -> HttpResponse:
    user = _user(user_id)
    require_manageable(admin, user, "users.write")
    if user.pk == admin.user.pk:
        return _user_page(request, admin, user, errors={
            "account": "You can't delete your own account. Ask another administrator."}, status=400)
    if request.method == "POST":
        upn = user.user_principal_name
        directory.user_delete(user=user, actor=admin.actor, context=request_context(request))
        flash(request, f"{upn} was deleted, with their passkeys and passes.")
        return redirect("/admin/users")
    return render_admin(request, admin, "passgate/admin/confirm.html", {
        "title": f"Delete {user.user_principal_name}?",
        "lead": "The user is deleted for good, with their passkeys, authenticator apps, passes, group memberships "
                "and roles. The audit log keeps what they did. To stop them signing in for now, disable the "
                "account instead.",
        "button": "Delete user", "cancel": _user_url(user),
    }, section="users")


# --- sign-in methods -------------------------------------------------------------------------------------------------

def _passkey(user: User, passkey_id: uuid.UUID) -> Any:
    passkey = queries.user_passkey(user, passkey_id)
    if passkey is None:
        raise NotFoundHere("passkey")
    return passkey


@admin_view(read="methods.read")
def passkey_detail(request: HttpRequest, admin: Admin, user_id: uuid.UUID, passkey_id: uuid.UUID) -> HttpResponse:
    user = _user(user_id)
    passkey = _passkey(user, passkey_id)
    return render_admin(request, admin, "passgate/admin/passkey.html", {
        "person": user, "passkey": passkey,
        "decision": services.passkey_policy_decision(user=user, passkey=passkey),
        "algorithm": COSE_ALGORITHMS.get(passkey.algorithm, f"COSE algorithm {passkey.algorithm}"),
        "can_delete": admin.can("methods.write") and admin.may_manage(user),
    }, section="users")


@admin_view(read="methods.write", write="methods.write")
def passkey_delete(request: HttpRequest, admin: Admin, user_id: uuid.UUID, passkey_id: uuid.UUID) -> HttpResponse:
    user = _user(user_id)
    passkey = _passkey(user, passkey_id)
    require_manageable(admin, user, "methods.write")
    if request.method == "POST":
        name, method_id = passkey.display_name, passkey.pk
        services.passkey_delete(passkey=passkey, actor=admin.actor, context=request_context(request))
        session.release_method(request, method_id)  # an administrator deleting their own: this session goes on
        flash(request, f"Passkey “{name}” of {user.user_principal_name} was deleted. It can't sign in any more.")
        return redirect(_user_url(user))
    others = len(queries.user_passkeys(user)) - 1 + len(queries.user_authenticator_apps(user))
    return render_admin(request, admin, "passgate/admin/confirm.html", {
        "title": f"Delete the passkey “{passkey.display_name}”?",
        "lead": f"{user.user_principal_name} will no longer be able to sign in with this passkey, and the sessions "
                "that signed in or confirmed with it end. If it was lost or stolen, also revoke their sessions, so "
                "that apps they signed in to with it lose their refresh tokens.",
        "warning": "" if others else "This is their last sign-in method: they will need a Temporary Access Pass to "
                                     "add a new passkey.",
        "button": "Delete passkey", "cancel": f"{_user_url(user)}/passkeys/{passkey.pk}",
    }, section="users")


@admin_view(read="methods.write", write="methods.write")
def authenticator_app_delete(request: HttpRequest, admin: Admin, user_id: uuid.UUID,
                             method_id: uuid.UUID) -> HttpResponse:
    user = _user(user_id)
    method = queries.user_authenticator_app(user, method_id)
    if method is None:
        raise NotFoundHere("authenticator app")
    require_manageable(admin, user, "methods.write")
    if request.method == "POST":
        method_id = method.pk
        oath.software_oath_delete(method=method, actor=admin.actor, context=request_context(request))
        session.release_method(request, method_id)
        flash(request, f"The authenticator app of {user.user_principal_name} was deleted.")
        return redirect(_user_url(user))
    return render_admin(request, admin, "passgate/admin/confirm.html", {
        "title": f"Delete the authenticator app of {user.user_principal_name}?",
        "lead": "Codes from this app will no longer be accepted.",
        "button": "Delete authenticator app", "cancel": _user_url(user),
    }, section="users")


# --- Temporary Access Pass -------------------------------------------------------------------------------------------

def _tap_form(request: HttpRequest, admin: Admin, user: User, *, lifetime: str, once: bool,
              errors: dict[str, str], status: int = 200) -> HttpResponse:
    config = current_policy().temporary_access_pass
    in_policy = policy_rules.method_allowed(config, policy_rules.UserFacts(group_ids=user_group_ids(user)))
    return render_admin(request, admin, "passgate/admin/tap_issue.html", {
        "person": user, "config": config, "in_policy": in_policy, "lifetime": lifetime, "once": once,
        "errors": errors,
    }, section="users", status=status)


@admin_view(read="methods.write", write="methods.write")
def tap_issue(request: HttpRequest, admin: Admin, user_id: uuid.UUID) -> HttpResponse:
    user = _user(user_id)
    require_manageable(admin, user, "methods.write")
    if request.method == "GET":
        config = current_policy().temporary_access_pass
        return _tap_form(request, admin, user, lifetime=str(config.default_lifetime_in_minutes), once=True,
                         errors={})
    lifetime_text = request.POST.get("lifetime", "").strip()[:12]
    once = "once" in request.POST
    try:
        lifetime = int(lifetime_text)
    except ValueError:
        return _tap_form(request, admin, user, lifetime=lifetime_text, once=once, status=400,
                         errors={"lifetime": f"Lifetime must be a whole number of minutes, not “{lifetime_text}”."})
    try:
        row, plain = services.tap_issue(user=user, actor=admin.actor, lifetime_minutes=lifetime, usable_once=once,
                                        context=request_context(request))
    except PassgateError as exc:
        target = exc.target if isinstance(exc, PolicyValidationError) else ""
        field = TAP_FIELD_BY_TARGET.get(target) or ("lifetime" if exc.code == "invalid_tap_lifetime" else "form")
        message = labelled(exc, TAP_LABELS) if isinstance(exc, PolicyValidationError) else in_form(exc, "Lifetime")
        return _tap_form(request, admin, user, lifetime=lifetime_text, once=once, errors={field: message},
                         status=400)
    origin = str(settings.PASSGATE.origin)
    response = render_admin(request, admin, "passgate/admin/tap_issued.html", {
        "person": user, "pass_row": row, "plain": plain,
        "signin_url": f"{origin}/signin/tap?upn={quote(user.user_principal_name, safe='@')}",
        "expires_at": row.start_at + timedelta(minutes=row.lifetime_minutes),
    }, section="users")
    response["Cache-Control"] = "no-store"  # the pass is shown once: never from a cache or the back button
    return response
