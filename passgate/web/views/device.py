"""The device verification page (RFC 8628 §3.3), ``/device``: the person types the code a device shows, sees which
app asks and for what, and approves or denies.

Nobody is asked for a code before they are signed in (a visitor who is not is sent to sign in, and nothing is
looked up), so the page tells strangers nothing about which codes are live. Each look-up is throttled per person
and per address (``core.throttle``: ``device.user``, ``source``); a wrong code is audited (``oidc.deviceVerify``).
The app's Conditional Access policies and authentication strengths are decided as at ``/oidc/authorize``
(``access_decide``, ``acr_for``): a block denies the device's request and shows the blocked page, a strength the
sign-in doesn't meet sends the person to the step-up page and back here. Both the page shown before the decision
and the decision itself check again, so what counts is the session at the moment of approval.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from passgate.access.selectors import access_decide
from passgate.access.signin_log import record_app_signin
from passgate.apps.models import DeviceAuthorization
from passgate.apps.oidc.device_authorization import (
    VERIFICATION_PATH,
    VERIFY,
    device_authorization_approve,
    device_authorization_deny,
    device_authorization_find,
)
from passgate.audit.models import Category
from passgate.audit.services import audit_failure
from passgate.audit.signins import SignInError
from passgate.core import device_code as device_rules
from passgate.core import throttle as throttle_rules
from passgate.core.access import AccessDecision, Outcome
from passgate.core.access.methods import Authentication
from passgate.core.access.strengths import acr_for
from passgate.core.throttle import Scope
from passgate.credentials import throttle
from passgate.directory.models import User
from passgate.directory.services import actor_for
from passgate.web import session
from passgate.web.errors import refusal_headers, request_context
from passgate.web.messages import for_person
from passgate.web.views import registration
from passgate.web.views.stepup import known_strengths, step_up_url

NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
SCOPE_WORDS = {"openid": "Sign you in and know who you are", "profile": "See your name and user name",
               "email": "See your email address (your user name)",
               "offline_access": "Stay signed in for you (a refresh token) until you sign out of it"}
WRONG_CODE = "That code isn't valid. Check the code your device shows and type it again; codes last 10 minutes."


def _page(request: HttpRequest, template: str, context: dict[str, Any], *, status: int = 200) -> HttpResponse:
    response = render(request, f"passgate/oidc/{template}", context, status=status)
    for name, value in NO_STORE.items():
        response[name] = value
    return response


def _here(code: str) -> str:
    return VERIFICATION_PATH + (f"?{urlencode({'user_code': code})}" if code else "")


def _shown(typed: object) -> str:
    """The code as the form shows it again: normalised when it is one, else what was typed (shortened)."""
    normalised = device_rules.user_code_normalise(typed)
    if normalised is not None:
        return device_rules.user_code_display(normalised)
    return typed[:device_rules.MAX_TYPED_LENGTH] if isinstance(typed, str) else ""


@require_http_methods(["GET", "POST"])
def page(request: HttpRequest) -> HttpResponse:
    typed = request.POST.get("user_code") if request.method == "POST" else request.GET.get("user_code")
    code = _shown(typed)
    auth = session.authentication(request)
    user = request.user if isinstance(request.user, User) else None
    if user is None or auth is None:  # sign in first; nothing is looked up for a visitor
        query = {"next": _here(code)} | ({"prompt": "login"} if user is not None else {})
        return HttpResponseRedirect("/signin?" + urlencode(query))
    if request.method == "GET":
        return _page(request, "device.html", {"user_code": code})
    found = _look_up(request, user, typed)
    return found if isinstance(found, HttpResponse) else _decide(request, user, auth, found, code)


def _decide(request: HttpRequest, user: User, auth: Authentication, row: DeviceAuthorization,
            code: str) -> HttpResponse:
    """What the person asked for with a code that names a pending request: to see it, approve it or deny it."""
    action = request.POST.get("action", "continue")
    if action == "deny":
        device_authorization_deny(row=row, user=user, reason="user_denied", context=request_context(request))
        _log(request, user, auth, row, error=SignInError.OTHER, why="The person denied the device's request.",
             code="user_denied")
        return _page(request, "device_done.html", {"app": row.app, "approved": False})
    acr, decision, stop = _access(request, user, auth, row, code)
    if stop is not None:
        return stop
    if action != "approve":
        if registration.must_prompt(request):
            return HttpResponseRedirect(registration.prompt_url(_here(code)))
        scopes = [SCOPE_WORDS[s] for s in row.scope.split() if s in SCOPE_WORDS]
        return _page(request, "device_confirm.html", {"app": row.app, "scopes": scopes, "user_code": code})
    approved = device_authorization_approve(
        row=row, user=user, authentication=auth, acr=acr, sid=session.sid(request), context=request_context(request),
        on_approved=lambda: _log(request, user, auth, row, acr=acr, decision=decision))
    if not approved:
        return _page(request, "device.html", {"user_code": "", "error": WRONG_CODE}, status=400)
    return _page(request, "device_done.html", {"app": row.app, "approved": True})


def _look_up(request: HttpRequest, user: User, typed: object) -> DeviceAuthorization | HttpResponse:
    """The pending request the code names, under the person's and the address's back-off counters."""
    context = request_context(request)
    with transaction.atomic():
        guard = throttle.throttle_lock([throttle.source_subject(context),
                                        throttle.subject(Scope.DEVICE_USER, str(user.pk))])
        if not guard.verdict.allowed:
            exc = throttle_rules.refusal(guard.verdict, code="user_code_throttled")
            audit_failure(category=Category.SIGN_IN, activity=VERIFY, reason=exc.code, context=context,
                          actor=actor_for(user), details={"retryAfterSeconds": guard.verdict.retry_after})
            response = _page(request, "device.html", {"user_code": _shown(typed), "error": for_person(exc)},
                             status=429)
            for name, value in refusal_headers(exc).items():
                response[name] = value
            return response
        row = device_authorization_find(user_code=typed, user=user, context=context)
        if row is None:
            guard.failed()
        else:
            guard.succeeded(Scope.DEVICE_USER)
    if row is None:
        return _page(request, "device.html", {"user_code": _shown(typed), "error": WRONG_CODE}, status=400)
    return row


def _log(request: HttpRequest, user: User, auth: Authentication, row: DeviceAuthorization, *,
         error: SignInError | None = None, why: str = "", code: str = "", acr: str | None = None,
         decision: AccessDecision | None = None) -> None:
    record_app_signin(context=request_context(request), user=user, app_id=str(row.app.app_id),
                      app_name=row.app.display_name, auth=auth, decision=decision, error=error, failure_reason=why,
                      reason_code=code, acr=acr, strengths=known_strengths())


def _access(request: HttpRequest, user: User, auth: Authentication, row: DeviceAuthorization,
            code: str) -> tuple[str | None, AccessDecision | None, HttpResponse | None]:
    """The ``acr`` this sign-in gives the app, or where the person goes instead: Conditional Access as at
    ``/oidc/authorize`` (a block denies the device's request; a strength not met is a step-up, then back here)."""
    decision = access_decide(user=user, auth=auth, application_id=str(row.app.app_id))
    if decision.outcome is Outcome.BLOCK:
        message = decision.message or "A Conditional Access policy blocks this sign-in."
        _log(request, user, auth, row, error=SignInError.BLOCKED_BY_CONDITIONAL_ACCESS, why=message,
             code="conditional_access_blocked", decision=decision)
        device_authorization_deny(row=row, user=user, reason="conditional_access_blocked",
                                  context=request_context(request))
        return None, decision, _page_blocked(request, row, message)
    if decision.outcome is Outcome.STEP_UP:
        _log(request, user, auth, row, error=SignInError.STRONG_AUTHENTICATION_REQUIRED, why=decision.message or "",
             code="step_up_required", decision=decision)
        return None, decision, HttpResponseRedirect(step_up_url([s.id for s in decision.required_strengths],
                                                                _here(code)))
    acr, _ = acr_for(auth, requested=(), strengths=known_strengths())
    return acr, decision, None


def _page_blocked(request: HttpRequest, row: DeviceAuthorization, message: str) -> HttpResponse:
    response = render(request, "passgate/blocked.html", {"app_name": row.app.display_name, "message": message,
                                                         "when": timezone.now()}, status=403)
    for name, value in NO_STORE.items():
        response[name] = value
    return response
