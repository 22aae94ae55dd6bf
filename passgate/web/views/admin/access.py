"""Who is using the admin centre and what their roles allow; the one decorator every admin view goes through.

- Not signed in: to the sign-in page, coming back here afterwards.
- Signed in without a directory role: a 403 page (and an audit row).
- Signed in with a role: the page's operation is checked with ``core.graph.authz.allowed`` (``*.read`` for a
  GET, ``*.write`` for a POST); a refusal is a 403 page and an audit row, as the Graph API does.
- Sensitive actions on a user (their UPN, account state, sign-in methods, revoking their sessions) also need a
  role that may manage the roles the target holds (``authz.can_manage``), exactly as the Graph API checks them.

Temporary Access Pass sessions never get here: ``SessionLifetimeMiddleware`` sends them to Security info.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from passgate.access.selectors import access_decide, strengths
from passgate.access.signin_log import record_app_signin
from passgate.audit.models import Category
from passgate.audit.services import Actor, audit_failure
from passgate.audit.signins import SignInError
from passgate.core.access import ADMIN_CENTRE_APP_ID, BUILT_IN_STRENGTHS, Authentication, Outcome, acr_for
from passgate.core.graph import authz
from passgate.directory.models import User
from passgate.directory.services import actor_for, user_roles
from passgate.web import session
from passgate.web.errors import request_context
from passgate.web.session import AUTH_TIME
from passgate.web.views.common import signed_in_user
from passgate.web.views.stepup import step_up_url

AUDIT_READ = "audit.read"

OPERATIONS = ("users.read", "users.write", "users.revokeSessions", "groups.read", "groups.write", "policy.read",
              "policy.write", "methods.read", "methods.write", AUDIT_READ, "access.read", "access.write",
              "strengths.read", "strengths.write", "applications.read", "applications.write", "devices.read",
              "devices.write", "deviceConfiguration.read", "deviceConfiguration.write", "roles.read", "roles.write")

FLASH = "pg_admin_flash"
ADMIN_SIGNIN_LOGGED = "pg_admin_signin_logged"  # the auth_time of the sign-in last logged for the admin centre
ADMIN_CENTRE_NAME = "Passgate admin centre"


def roles_for(operation: str) -> list[str]:
    """The names of the roles that allow an operation, Global Administrator last."""
    roles = authz.OPERATIONS[operation].roles
    names = sorted(authz.ROLE_NAMES[r] for r in roles if r is not authz.Role.GLOBAL_ADMINISTRATOR)
    return [*names, authz.ROLE_NAMES[authz.Role.GLOBAL_ADMINISTRATOR]]


def _known(values: frozenset[str]) -> frozenset[authz.Role]:
    known = {r.value for r in authz.Role}
    return frozenset(authz.Role(v) for v in values if v in known)


@dataclass(frozen=True)
class Admin:
    """The signed-in administrator: their user, their directory roles, and what those allow."""

    user: User
    roles: frozenset[authz.Role]

    @classmethod
    def of(cls, user: User) -> Admin:
        return cls(user=user, roles=_known(user_roles(user=user)))

    @property
    def caller(self) -> authz.UserCaller:
        return authz.UserCaller(user_id=str(self.user.pk), user_principal_name=self.user.user_principal_name,
                                roles=frozenset(r.value for r in self.roles))

    @property
    def actor(self) -> Actor:
        return actor_for(self.user)

    @property
    def role_names(self) -> list[str]:
        return sorted(authz.ROLE_NAMES[r] for r in self.roles)

    def can(self, operation: str) -> bool:
        return authz.allowed(self.caller, operation)

    @property
    def perms(self) -> dict[str, bool]:
        """``{"users_read": True, ...}`` for templates: what to show, which buttons to offer."""
        return {op.replace(".", "_"): self.can(op) for op in OPERATIONS}

    def may_manage(self, target: User) -> bool:
        """Whether this administrator's roles outrank every role ``target`` holds (Graph's sensitive actions)."""
        return authz.can_manage(self.caller, user_roles(user=target))


class NotFoundHere(Exception):
    """Raised by a view for an id that names nothing: the decorator answers 404 inside the admin layout."""

    def __init__(self, what: str) -> None:
        super().__init__(what)
        self.what = what


class Refused(Exception):
    """Raised by a view when the operation is allowed but not on this target (a role it may not manage)."""

    def __init__(self, operation: str, message: str) -> None:
        super().__init__(message)
        self.operation = operation
        self.message = message


def render_admin(request: HttpRequest, admin: Admin, template: str, context: dict[str, Any] | None = None, *,
                 section: str = "", status: int = 200) -> HttpResponse:
    """Render an admin page with what every admin page needs: who, what they may do, the flash message."""
    page = {"admin": admin, "can": admin.perms, "section": section, "flash": request.session.pop(FLASH, None),
            **(context or {})}
    return render(request, template, page, status=status)


def flash(request: HttpRequest, message: str) -> None:
    request.session[FLASH] = message


def _category(operation: str) -> Category:
    return Category.POLICY if operation.startswith("policy.") else Category.DIRECTORY


def _deny(request: HttpRequest, admin: Admin, operation: str, message: str) -> HttpResponse:
    audit_failure(category=_category(operation), activity=f"adminCentre.{operation}",
                  reason=authz.AuthorizationDenied.code, actor=admin.actor, context=request_context(request),
                  details={"method": request.method, "path": request.path[:200]})
    return render_admin(request, admin, "passgate/admin/forbidden.html", {
        "title": "You can't do this", "message": message, "has_role": bool(admin.roles),
    }, status=403)


def _conditional_access(request: HttpRequest, admin: Admin) -> HttpResponse | None:
    """The admin centre is an app to Conditional Access (``MicrosoftAdminPortals``): a policy may require a stronger
    sign-in (the step-up page, then back here) or block it (a page saying which policy)."""
    auth = session.authentication(request)
    decision = access_decide(user=admin.user, auth=auth, application_id=ADMIN_CENTRE_APP_ID)
    if decision.outcome is Outcome.ALLOW:
        if auth is not None and request.session.get(ADMIN_SIGNIN_LOGGED) != request.session.get(AUTH_TIME):
            # One sign-in log row per sign-in to the admin centre (not per page); a session with no record of
            # how it signed in (from before sign-ins were recorded) has nothing to log.
            record_app_signin(context=request_context(request), user=admin.user, app_id=ADMIN_CENTRE_APP_ID,
                              app_name=ADMIN_CENTRE_NAME, auth=auth, decision=decision, acr=_acr(auth),
                              strengths=strengths())
            request.session[ADMIN_SIGNIN_LOGGED] = request.session.get(AUTH_TIME)
        return None
    blocked = decision.outcome is Outcome.BLOCK
    record_app_signin(context=request_context(request), user=admin.user, app_id=ADMIN_CENTRE_APP_ID,
                      app_name=ADMIN_CENTRE_NAME, auth=auth, decision=decision, strengths=strengths(),
                      error=SignInError.BLOCKED_BY_CONDITIONAL_ACCESS if blocked
                      else SignInError.STRONG_AUTHENTICATION_REQUIRED, failure_reason=decision.message or "",
                      reason_code="conditional_access_blocked" if blocked else "step_up_required")
    audit_failure(category=Category.SIGN_IN, activity="adminCentre.conditionalAccess",
                  reason="conditional_access_blocked" if blocked else "conditional_access_step_up",
                  actor=admin.actor, context=request_context(request),
                  details={"path": request.path[:200], "policies": list(decision.blocking_policy_ids) or [
                      r.policy_id for r in decision.results if r.result == "failure"]})
    if blocked:
        return render_admin(request, admin, "passgate/admin/forbidden.html", {
            "title": "Conditional Access blocks the admin centre for you",
            "message": decision.message or "A Conditional Access policy blocks this sign-in.", "has_role": True,
        }, status=403)
    target = request.get_full_path() if request.method == "GET" else "/admin"
    return redirect(step_up_url([s.id for s in decision.required_strengths], target))


def _acr(auth: Authentication | None) -> str | None:
    return acr_for(auth, requested=(), strengths=BUILT_IN_STRENGTHS)[0] if auth is not None else None


def _refusal(request: HttpRequest, admin: Admin, needed: str | None) -> HttpResponse | None:
    """Why this administrator can't have this page now (no role, Conditional Access, not their role), or None."""
    if not admin.roles:
        return _deny(request, admin, "access", "The admin centre is for administrators, and your account "
                     "holds no administrator role. Ask a Global Administrator if you need one.")
    gate = _conditional_access(request, admin)
    if gate is not None:
        return gate
    if needed is not None and not admin.can(needed):
        verb = "change" if needed.endswith(".write") else "see"
        return _deny(request, admin, needed, f"Your roles don't let you {verb} this. {_needs(needed)}")
    return None


def _needs(operation: str) -> str:
    return f"This needs one of these roles: {', '.join(roles_for(operation))}."


def admin_view(*, read: str | None = None, write: str | None = None,
               post_only: bool = False) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """An admin page: GET needs ``read`` (None: any directory role), POST needs ``write``.

    The view is called as ``view(request, admin, **url_kwargs)``.
    """
    methods = ["POST"] if post_only else ["GET", "HEAD", *(["POST"] if write else [])]

    def wrap(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @require_http_methods(methods)
        @functools.wraps(view)
        def handler(request: HttpRequest, **kwargs: Any) -> HttpResponse:
            if not request.user.is_authenticated:
                # /signin?next=..., as login_required does; a change can't be replayed, so back to the overview
                return redirect_to_login(request.get_full_path() if request.method != "POST" else "/admin")
            admin = Admin.of(signed_in_user(request))
            refusal = _refusal(request, admin, write if request.method == "POST" else read)
            if refusal is not None:
                return refusal
            try:
                return view(request, admin, **kwargs)
            except NotFoundHere as exc:
                return render_admin(request, admin, "passgate/admin/forbidden.html", {
                    "title": "Not found", "message": f"There is no such {exc.what}. It may have been deleted.",
                    "has_role": True,
                }, status=404)
            except Refused as exc:
                return _deny(request, admin, exc.operation, exc.message)

        return handler

    return wrap


def require_manageable(admin: Admin, target: User, operation: str) -> None:
    """Refuse a sensitive action on ``target`` unless the administrator's roles may manage the target's roles."""
    if not admin.may_manage(target):
        raise Refused(operation, f"{target.user_principal_name} holds an administrator role that your roles can't "
                      "manage. Ask a Global Administrator.")


@dataclass(frozen=True)
class Pager:
    """Previous/next links that keep the page's other query parameters, and "21-40 of 83"."""

    first: int
    last: int
    total: int
    previous_url: str | None
    next_url: str | None


def pager(request: HttpRequest, page: Any) -> Pager:
    def url(number: int) -> str:
        params = request.GET.copy()
        params["page"] = str(number)
        return "?" + params.urlencode()

    return Pager(first=page.start_index(), last=page.end_index(), total=page.paginator.count,
                 previous_url=url(page.previous_page_number()) if page.has_previous() else None,
                 next_url=url(page.next_page_number()) if page.has_next() else None)
