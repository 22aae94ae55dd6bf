"""Sign-in: passkey (autofill or button, username-less), Temporary Access Pass, re-authentication, sign-out.

Every sign-in and re-authentication records the method it used in the session (``session.start``,
``session.mark_reauthenticated``): what OpenID Connect reports as ``amr``/``acr`` and strengths are checked against.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST

from passgate.apps.oidc.tokens import session_tokens_revoke
from passgate.audit.models import Category
from passgate.audit.services import audit_record
from passgate.core.access.methods import AuthMethodMode, MethodUse
from passgate.core.errors import PassgateError, Throttled
from passgate.credentials import oath, services
from passgate.directory.services import actor_for
from passgate.web import session
from passgate.web.errors import refusal_headers, request_context
from passgate.web.messages import for_person
from passgate.web.views.common import json_endpoint, signed_in_user

ENDED_MESSAGES = {
    "idle_timeout": "You were signed out after a period of inactivity.",
    "lifetime_exceeded": "Your session reached its maximum lifetime. Sign in again.",
    "signed_out": "You have signed out.",
    "sessions_revoked": "You were signed out everywhere: your sessions were revoked. Sign in again.",
    "method_removed": "You were signed out because a sign-in method this session used was deleted. Sign in again.",
}


DEFAULT_NEXT = "/security-info"


def safe_next(request: HttpRequest, default: str = DEFAULT_NEXT) -> str:
    """``next`` when it is a path on this site (query kept whole), else ``default``: never an open redirect."""
    return local_path(request, request.POST.get("next") or request.GET.get("next") or "", default)


def local_path(request: HttpRequest, target: object, default: str = DEFAULT_NEXT) -> str:
    """``target`` when it is a path on this site, else ``default``."""
    if not isinstance(target, str):
        return default
    ok = url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                         require_https=request.is_secure())
    return target if ok and target.startswith("/") and not target.startswith("//") else default




def home(request: HttpRequest) -> HttpResponse:
    return redirect("/security-info" if request.user.is_authenticated else "/signin")


def _with_next(path: str, next_url: str, **extra: str) -> str:
    query = {**{k: v for k, v in extra.items() if v}, **({"next": next_url} if next_url != DEFAULT_NEXT else {})}
    return f"{path}?{urlencode(query)}" if query else path


@require_http_methods(["GET"])
def signin_page(request: HttpRequest) -> HttpResponse:
    """The sign-in page. A signed-in person goes straight on, unless ``prompt=login`` (an app asked for a fresh
    sign-in). ``login_hint`` pre-fills the user name."""
    next_url = safe_next(request)
    if request.user.is_authenticated and request.GET.get("prompt") != "login":
        return redirect(next_url)
    ended = request.session.pop("pg_ended", None)
    hint = request.GET.get("login_hint", "")[:113]
    return render(request, "passgate/signin.html", {
        "notice": ENDED_MESSAGES.get(ended or ""), "next": next_url, "login_hint": hint,
        "tap_url": _with_next("/signin/tap", next_url, upn=hint),
    })


@json_endpoint(category=Category.SIGN_IN, activity="passkey.signIn")
def passkey_options(request: HttpRequest, body: Mapping[str, Any]) -> dict[str, Any]:
    return {"publicKey": services.passkey_signin_begin(session_key=session.ensure_key(request))}


@json_endpoint(category=Category.SIGN_IN, activity="passkey.signIn")
def passkey_verify(request: HttpRequest, body: Mapping[str, Any]) -> dict[str, Any]:
    result = services.passkey_signin_complete(session_key=session.ensure_key(request),
                                              credential=body.get("credential"),  # type: ignore[arg-type]
                                              context=request_context(request))
    session.start(request, result)
    return {"redirect": safe_next(request)}


def _refused_page(request: HttpRequest, template: str, context: dict[str, Any], exc: PassgateError) -> HttpResponse:
    """A form page again with the refusal in people's words: 429 with Retry-After for a back-off, else 400."""
    response = render(request, template, {**context, "error": for_person(exc)},
                      status=429 if isinstance(exc, Throttled) else 400)
    for name, value in refusal_headers(exc).items():
        response[name] = value
    return response


@require_http_methods(["GET", "POST"])
def tap_page(request: HttpRequest) -> HttpResponse:
    upn = request.GET.get("upn", "")[:113]
    next_url = safe_next(request)
    page = {"upn": upn, "next": next_url if next_url != DEFAULT_NEXT else "",
            "signin_url": _with_next("/signin", next_url)}
    if request.method == "POST":
        page["upn"] = request.POST.get("upn", "")[:113]
        try:
            result = services.tap_signin(upn=page["upn"], tap=request.POST.get("tap", "")[:64],
                                         context=request_context(request))
        except PassgateError as exc:
            return _refused_page(request, "passgate/tap.html", page, exc)
        session.start(request, result)
        return redirect(next_url)
    return render(request, "passgate/tap.html", page)


def _reauth_context(request: HttpRequest, **extra: Any) -> dict[str, Any]:
    user = signed_in_user(request)
    return {"next": safe_next(request), "has_passkeys": user.passkeys.exists(),
            "has_authenticator_app": user.software_oath_methods.filter(is_verified=True).exists(), **extra}


@login_required
@require_http_methods(["GET"])
def reauth_page(request: HttpRequest) -> HttpResponse:
    return render(request, "passgate/reauth.html", _reauth_context(request))


@login_required
@require_POST
def reauth_code(request: HttpRequest) -> HttpResponse:
    """Confirm it's you with an authenticator-app code on top of the existing session (two factors)."""
    try:
        method = oath.software_oath_verify(user=signed_in_user(request), code=request.POST.get("code", "")[:32],
                                           context=request_context(request), activity="softwareOath.reauthenticate")
    except PassgateError as exc:
        return _refused_page(request, "passgate/reauth.html", _reauth_context(request), exc)
    session.mark_reauthenticated(request, MethodUse(mode=AuthMethodMode.SOFTWARE_OATH, at=timezone.now(),
                                                    method_id=str(method.pk)))
    return redirect(safe_next(request))


@json_endpoint(category=Category.SIGN_IN, activity="passkey.reauthenticate", signed_in=True)
def reauth_options(request: HttpRequest, body: Mapping[str, Any]) -> dict[str, Any]:
    return {"publicKey": services.passkey_reauth_begin(user=signed_in_user(request),
                                                       session_key=session.ensure_key(request))}


@json_endpoint(category=Category.SIGN_IN, activity="passkey.reauthenticate", signed_in=True)
def reauth_verify(request: HttpRequest, body: Mapping[str, Any]) -> dict[str, Any]:
    result = services.passkey_signin_complete(session_key=session.ensure_key(request),
                                              credential=body.get("credential"),  # type: ignore[arg-type]
                                              context=request_context(request),
                                              reauth_user=signed_in_user(request))
    session.mark_reauthenticated(request, session.method_use(result, timezone.now()))
    return {"redirect": safe_next(request)}


@login_required
@require_POST
def reauth_tap(request: HttpRequest) -> HttpResponse:
    try:
        result = services.tap_signin(upn=request.user.get_username(), tap=request.POST.get("tap", "")[:64],
                                     context=request_context(request), activity="tap.reauthenticate")
    except PassgateError as exc:
        return _refused_page(request, "passgate/reauth.html", _reauth_context(request), exc)
    session.mark_reauthenticated(request, session.method_use(result, timezone.now()))
    return redirect(safe_next(request))


@require_POST
def signout(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        user = signed_in_user(request)
        audit_record(category=Category.SIGN_IN, activity="signOut", actor=actor_for(user),
                     context=request_context(request))
        # what apps got from this session stops working (access tokens; offline refresh tokens live on)
        session_tokens_revoke(sid=session.sid(request), user=user, reason="signOut",
                              context=request_context(request))
    logout(request)  # deletes the server-side session row
    request.session["pg_ended"] = "signed_out"
    return redirect("/signin")
