"""App registrations: list, register (an OpenID Connect web app or public client; a Graph API client for a Global
Administrator), the client secret shown once, edit the name and redirect URIs, a new secret, delete.

Graph permissions are granted by a Global Administrator only, and only a Global Administrator gives a new secret to
an app that holds them (``core.graph.authz.can_grant_permissions`` / ``can_add_credential``: an app's secret carries
its permissions). The Graph API answers the same.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

from passgate.access.selectors import ca_policies
from passgate.apps.models import AppRegistration
from passgate.apps.selectors import app_by_object_id, app_list, oidc_discovery_url, token_endpoint
from passgate.apps.services import (
    OidcRegistration,
    app_create,
    app_remove,
    app_secret_add,
    app_secret_remove,
    app_update,
    registration_of,
)
from passgate.core import oidc as rules
from passgate.core.errors import InvalidInput, PassgateError
from passgate.core.graph import authz
from passgate.web.errors import request_context
from passgate.web.messages import for_person, in_form
from passgate.web.views.admin.access import Admin, NotFoundHere, Refused, admin_view, flash, render_admin

READ, WRITE = "applications.read", "applications.write"
KIND_LABELS = {"web": "OpenID Connect web app", "public": "Public client", "graph": "Graph API client"}
PERMISSION_TEXT: Mapping[str, str] = {
    "User.Read.All": "Read all users", "User.ReadWrite.All": "Read and write all users",
    "User.RevokeSessions.All": "Sign anyone out everywhere (revoke their sessions)",
    "Group.Read.All": "Read all groups", "Group.ReadWrite.All": "Read and write all groups",
    "Policy.Read.All": "Read the authentication methods and Conditional Access policies",
    "Policy.ReadWrite.AuthenticationMethod": "Change the authentication methods policy",
    "Policy.ReadWrite.ConditionalAccess": "Change Conditional Access policies and authentication strengths",
    "UserAuthenticationMethod.Read.All": "Read everyone's sign-in methods",
    "UserAuthenticationMethod.ReadWrite.All": "Manage everyone's sign-in methods (passkeys, passes)",
    "AuditLog.Read.All": "Read the audit and sign-in logs",
    "Application.Read.All": "Read app registrations",
    "Application.ReadWrite.All": "Register and change apps (not their Graph permissions)",
    "DeviceManagementConfiguration.Read.All": "Read device configuration profiles and the enrollment setting",
    "DeviceManagementConfiguration.ReadWrite.All": "Change device configuration profiles, their assignments and "
                                                   "the enrollment setting",
    "Device.Read.All": "Read joined devices", "Device.ReadWrite.All": "Read, enable and disable joined devices",
    "RoleManagement.Read.Directory": "Read directory roles and who holds them",
    "RoleManagement.ReadWrite.Directory": "Give and take directory roles (administrators)",
    "AppRoleAssignment.ReadWrite.All": "Give and take apps' roles to people and groups",
}
# A refusal's reason code -> the form field it belongs next to.
FIELD_BY_CODE = {"invalid_display_name": "name", "unknown_permission": "permissions",
                 "public_client_permissions": "permissions", "redirect_uri_required": "redirect_uris"}


def kind_of(app: AppRegistration) -> str:
    if not app.is_oidc_client:
        return "graph"
    return "public" if app.client_type == rules.ClientType.PUBLIC.value else "web"


def _app(app_id: uuid.UUID) -> AppRegistration:
    app = app_by_object_id(str(app_id))
    if app is None:
        raise NotFoundHere("app registration")
    return app


def _url(app: AppRegistration) -> str:
    return f"/admin/apps/{app.pk}"


def _permission_rows(chosen: list[str]) -> list[dict[str, Any]]:
    return [{"name": name, "text": PERMISSION_TEXT.get(name, ""), "checked": name in chosen}
            for name in authz.permission_names()]


def _policies_naming(app: AppRegistration) -> list[str]:
    key = str(app.app_id)
    return [p.display_name for p in ca_policies() if key in p.include_applications or key in p.exclude_applications]


# --- the form -------------------------------------------------------------------------------------------------------

@dataclass
class AppForm:
    name: str = ""
    kind: str = "web"
    redirect_uris: str = ""
    post_logout_redirect_uris: str = ""
    permissions: list[str] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, app: AppRegistration) -> AppForm:
        return cls(name=app.display_name, kind=kind_of(app), redirect_uris="\n".join(app.redirect_uris),
                   post_logout_redirect_uris="\n".join(app.post_logout_redirect_uris),
                   permissions=list(app.permissions))

    @classmethod
    def posted(cls, request: HttpRequest, *, kind: str | None = None) -> AppForm:
        post = request.POST
        return cls(name=post.get("name", "")[:300], kind=kind or post.get("kind", "web")[:10],
                   redirect_uris=post.get("redirect_uris", "")[:50_000],
                   post_logout_redirect_uris=post.get("post_logout_redirect_uris", "")[:50_000],
                   permissions=[p[:64] for p in post.getlist("permissions")][:50])

    def uris(self, name: str, what: str) -> tuple[str, ...]:
        """The URIs of one text box (one a line), each checked by the OpenID Connect rules; an error is placed on
        the box, naming the line."""
        lines = [line.strip() for line in str(getattr(self, name)).splitlines() if line.strip()]
        for number, line in enumerate(lines, 1):
            try:
                rules.validate_redirect_uri(line, what=what)
            except InvalidInput as exc:
                self.errors.setdefault(name, f"Line {number}: {exc.message}.")
                return ()
        try:
            return tuple(rules.validate_redirect_uris(lines, what=what))
        except InvalidInput as exc:
            self.errors.setdefault(name, exc.message + ".")
            return ()

    def registration(self) -> OidcRegistration | None:
        """The OpenID Connect registration the form asks for (None for a Graph API client); errors are recorded."""
        if self.kind == "graph":
            return None
        redirect_uris = self.uris("redirect_uris", "Redirect URI")
        post_logout = self.uris("post_logout_redirect_uris", "Post-logout redirect URI")
        if not redirect_uris and "redirect_uris" not in self.errors:
            self.errors["redirect_uris"] = ("Enter at least one redirect URI: where Passgate sends people back after "
                                            "they sign in.")
        return OidcRegistration(redirect_uris=redirect_uris, post_logout_redirect_uris=post_logout,
                                public=self.kind == "public")

    def refused(self, exc: PassgateError) -> None:
        field = FIELD_BY_CODE.get(exc.code, "form")
        self.errors[field] = in_form(exc, "Name") if field == "name" else for_person(exc)


def _check_grant(admin: Admin, wanted: list[str], current: list[str]) -> None:
    if set(wanted) - set(current) and not authz.can_grant_permissions(admin.caller):
        raise Refused(WRITE, "Only a Global Administrator can give an app Graph permissions: in Passgate, listing a "
                      "permission grants it.")


# --- list and register ----------------------------------------------------------------------------------------------

@admin_view(read=READ)
def apps_list(request: HttpRequest, admin: Admin) -> HttpResponse:
    rows = [{"app": a, "kind": KIND_LABELS[kind_of(a)]} for a in app_list()]
    return render_admin(request, admin, "passgate/admin/apps.html", {"rows": rows}, section="apps")


def _new_page(request: HttpRequest, admin: Admin, form: AppForm, *, status: int = 200) -> HttpResponse:
    may_grant = authz.can_grant_permissions(admin.caller)
    kinds = [("web", "Web app", "Signs people in with OpenID Connect; a server that keeps a client secret "
              "(client_secret_basic)."),
             ("public", "Public client", "Signs people in with OpenID Connect from a device or command line that "
              "can't keep a secret: PKCE, no secret.")]
    if may_grant:
        kinds.append(("graph", "Graph API client", "A script or service calling the Graph API with its own "
                      "permissions (client credentials); nobody signs in to it."))
    return render_admin(request, admin, "passgate/admin/app_new.html", {
        "form": form, "kinds": kinds, "may_grant": may_grant, "permissions": _permission_rows(form.permissions),
    }, section="apps", status=status)


@admin_view(read=WRITE, write=WRITE)
def app_new(request: HttpRequest, admin: Admin) -> HttpResponse:
    if request.method == "GET":
        return _new_page(request, admin, AppForm())
    form = AppForm.posted(request)
    if form.kind not in KIND_LABELS:
        form.kind, form.errors["kind"] = "web", "Choose what kind of app this is."
    _check_grant(admin, form.permissions, [])
    if form.kind == "graph" and not authz.can_grant_permissions(admin.caller):
        raise Refused(WRITE, "Only a Global Administrator can register a Graph API client: its permissions are "
                      "granted when it is registered.")
    oidc = form.registration()
    if not form.errors:
        try:
            app, secret = app_create(display_name=form.name, permissions=form.permissions, actor=admin.actor,
                                     oidc=oidc, context=request_context(request))
        except PassgateError as exc:
            form.refused(exc)
        else:
            return _secret_page(request, admin, app, secret, created=True)
    return _new_page(request, admin, form, status=400)


def _secret_page(request: HttpRequest, admin: Admin, app: AppRegistration, secret: str | None, *,
                 created: bool) -> HttpResponse:
    response = render_admin(request, admin, "passgate/admin/app_created.html", {
        "app": app, "secret": secret, "created": created, "kind": kind_of(app), "kind_label": KIND_LABELS[kind_of(app)],
        "discovery": oidc_discovery_url(), "token_endpoint": token_endpoint(),
    }, section="apps")
    response["Cache-Control"] = "no-store"  # the secret is shown once: never from a cache or the back button
    return response


# --- one app --------------------------------------------------------------------------------------------------------

def _role_rows(app: AppRegistration) -> list[dict[str, Any]]:
    """The app's roles with the people and groups given each (one query for all assignments)."""
    holders: dict[str, list[str]] = {}
    for given in app.role_assignments.select_related("user", "group").order_by("created_at"):
        name = given.user.user_principal_name if given.user else given.group.display_name if given.group else "?"
        holders.setdefault(str(given.app_role_id), []).append(name)
    return [{**role, "holders": holders.get(str(role.get("id")), [])} for role in app.app_roles]


def _app_page(request: HttpRequest, admin: Admin, app: AppRegistration, form: AppForm, *,
              status: int = 200) -> HttpResponse:
    can_write = admin.can(WRITE)
    return render_admin(request, admin, "passgate/admin/app.html", {
        "app": app, "form": form, "kind": kind_of(app), "kind_label": KIND_LABELS[kind_of(app)],
        "can_write": can_write, "may_grant": authz.can_grant_permissions(admin.caller),
        "may_add_secret": can_write and authz.can_add_credential(admin.caller, app.permissions),
        "permissions": _permission_rows(form.permissions), "policies": _policies_naming(app),
        "discovery": oidc_discovery_url(), "token_endpoint": token_endpoint(), "roles": _role_rows(app),
    }, section="apps", status=status)


@admin_view(read=READ, write=WRITE)
def app_detail(request: HttpRequest, admin: Admin, app_id: uuid.UUID) -> HttpResponse:
    app = _app(app_id)
    if request.method == "GET":
        return _app_page(request, admin, app, AppForm.of(app))
    form = AppForm.posted(request, kind=kind_of(app))
    if not authz.can_grant_permissions(admin.caller) and "permissions" not in request.POST:
        form.permissions = list(app.permissions)  # not on their form: unchanged
    _check_grant(admin, form.permissions, list(app.permissions))  # removing is anyone's, adding the GA's
    oidc = form.registration()
    if oidc is not None:  # the kind stays; what the form doesn't show (scopes, keys …) is kept
        oidc = dataclasses.replace(registration_of(app), redirect_uris=oidc.redirect_uris,
                                   post_logout_redirect_uris=oidc.post_logout_redirect_uris)
    if not form.errors:
        try:
            app = app_update(app=app, actor=admin.actor, display_name=form.name, permissions=form.permissions,
                             oidc=oidc, context=request_context(request))
        except PassgateError as exc:
            form.refused(exc)
        else:
            flash(request, f"“{app.display_name}” was saved.")
            return redirect(_url(app))
    return _app_page(request, admin, app, form, status=400)


@admin_view(read=WRITE, write=WRITE)
def app_secret_new(request: HttpRequest, admin: Admin, app_id: uuid.UUID) -> HttpResponse:
    app = _app(app_id)
    if kind_of(app) == "public":
        form = AppForm.of(app)
        form.errors["credential"] = "A public client has no secret: it proves itself with PKCE."
        return _app_page(request, admin, app, form, status=400)
    if not authz.can_add_credential(admin.caller, app.permissions):
        raise Refused(WRITE, f"“{app.display_name}” holds Graph permissions, and its secret carries them: only a "
                      "Global Administrator can give it a new one.")
    if request.method == "POST":
        try:
            app, secret = app_secret_add(app=app, actor=admin.actor, context=request_context(request))
        except PassgateError as exc:
            form = AppForm.of(app)
            form.errors["credential"] = for_person(exc)
            return _app_page(request, admin, app, form, status=400)
        return _secret_page(request, admin, app, secret, created=False)
    return render_admin(request, admin, "passgate/admin/confirm.html", {
        "title": f"Give “{app.display_name}” a new client secret?",
        "lead": (f"Its current secret ({app.secret_hint}…) stops working as soon as the new one is made: have the "
                 "app's configuration ready to change. Passgate keeps one secret per app.") if app.has_secret else
                "The new secret is shown once, on the next page.",
        "button": "Make a new secret" if app.has_secret else "Make a secret", "cancel": _url(app),
    }, section="apps")


@admin_view(read=WRITE, write=WRITE)
def app_secret_delete(request: HttpRequest, admin: Admin, app_id: uuid.UUID) -> HttpResponse:
    app = _app(app_id)
    if not app.has_secret or app.secret_key_id is None:
        flash(request, f"“{app.display_name}” has no client secret.")
        return redirect(_url(app))
    if request.method == "POST":
        app_secret_remove(app=app, key_id=str(app.secret_key_id), actor=admin.actor, context=request_context(request))
        flash(request, f"The client secret of “{app.display_name}” was removed: it no longer works.")
        return redirect(_url(app))
    return render_admin(request, admin, "passgate/admin/confirm.html", {
        "title": f"Remove the client secret of “{app.display_name}”?",
        "lead": f"The secret {app.secret_hint}… stops working at once, and the app can't get new tokens until it is "
                "given a new one.",
        "button": "Remove secret", "cancel": _url(app),
    }, section="apps")


@admin_view(read=WRITE, write=WRITE)
def app_delete(request: HttpRequest, admin: Admin, app_id: uuid.UUID) -> HttpResponse:
    app = _app(app_id)
    if request.method == "POST":
        name = app.display_name
        app_remove(app=app, actor=admin.actor, context=request_context(request))
        flash(request, f"App registration “{name}” was deleted.")
        return redirect("/admin/apps")
    policies = _policies_naming(app)
    return render_admin(request, admin, "passgate/admin/confirm.html", {
        "title": f"Delete the app registration “{app.display_name}”?",
        "lead": "Its client secret and its tokens stop working at once, and nobody can sign in to it through "
                "Passgate any more. This can't be undone: registering it again gives it a new client id.",
        "warning": ("Conditional Access policies name this app (" + "; ".join(policies) + "); once it is deleted "
                    "they name an app that no longer exists.") if policies else "",
        "button": "Delete app registration", "cancel": _url(app),
    }, section="apps")
