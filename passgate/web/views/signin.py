"""Sign-in: passkey (autofill or button, username-less), Temporary Access Pass, re-authentication, sign-out."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST

from passgate.audit.models import Category
from passgate.audit.services import audit_record
from passgate.core.errors import PassgateError
from passgate.credentials import oath, services
from passgate.directory.services import actor_for
from passgate.web import session
from passgate.web.errors import request_context
from passgate.web.views.common import json_endpoint, signed_in_user

ENDED_MESSAGES = {
    "idle_timeout": "You were signed out after a period of inactivity.",
    "lifetime_exceeded": "Your session reached its maximum lifetime. Sign in again.",
    "signed_out": "You have signed out.",
}


def _safe_next(request: HttpRequest, default: str = "/security-info") -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    ok = url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                         require_https=request.is_secure())
    return target if ok and target.startswith("/") else default


def home(request: HttpRequest) -> HttpResponse:
    return redirect("/security-info" if request.user.is_authenticated else "/signin")


@require_http_methods(["GET"])
def signin_page(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect(_safe_next(request))
    ended = request.session.pop("pg_ended", None)
    return render(request, "passgate/signin.html", {
        "notice": ENDED_MESSAGES.get(ended or ""), "next": _safe_next(request),
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
    return {"redirect": _safe_next(request)}


@require_http_methods(["GET", "POST"])
def tap_page(request: HttpRequest) -> HttpResponse:
    error = None
    upn = request.GET.get("upn", "")[:113]
    if request.method == "POST":
        upn = request.POST.get("upn", "")[:113]
        try:
            result = services.tap_signin(upn=upn, tap=request.POST.get("tap", "")[:64],
                                         context=request_context(request))
        except PassgateError as exc:
            error = exc.message
        else:
            session.start(request, result)
            return redirect("/security-info")
    return render(request, "passgate/tap.html", {"error": error, "upn": upn}, status=400 if error else 200)


def _reauth_context(request: HttpRequest, **extra: Any) -> dict[str, Any]:
    user = signed_in_user(request)
    return {"next": _safe_next(request), "has_passkeys": user.passkeys.exists(),
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
        oath.software_oath_verify(user=signed_in_user(request), code=request.POST.get("code", "")[:32],
                                  context=request_context(request), activity="softwareOath.reauthenticate")
    except PassgateError as exc:
        return render(request, "passgate/reauth.html", _reauth_context(request, error=exc.message), status=400)
    session.mark_reauthenticated(request)
    return redirect(_safe_next(request))


@json_endpoint(category=Category.SIGN_IN, activity="passkey.reauthenticate", signed_in=True)
def reauth_options(request: HttpRequest, body: Mapping[str, Any]) -> dict[str, Any]:
    return {"publicKey": services.passkey_reauth_begin(user=signed_in_user(request),
                                                       session_key=session.ensure_key(request))}


@json_endpoint(category=Category.SIGN_IN, activity="passkey.reauthenticate", signed_in=True)
def reauth_verify(request: HttpRequest, body: Mapping[str, Any]) -> dict[str, Any]:
    services.passkey_signin_complete(session_key=session.ensure_key(request),
                                     credential=body.get("credential"),  # type: ignore[arg-type]
                                     context=request_context(request),
                                     reauth_user=signed_in_user(request))
    session.mark_reauthenticated(request)
    return {"redirect": _safe_next(request)}


@login_required
@require_POST
def reauth_tap(request: HttpRequest) -> HttpResponse:
    try:
        services.tap_signin(upn=request.user.get_username(), tap=request.POST.get("tap", "")[:64],
                            context=request_context(request))
    except PassgateError as exc:
        return render(request, "passgate/reauth.html", _reauth_context(request, error=exc.message), status=400)
    session.mark_reauthenticated(request)
    return redirect(_safe_next(request))


@require_POST
def signout(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        audit_record(category=Category.SIGN_IN, activity="signOut", actor=actor_for(signed_in_user(request)),
                     context=request_context(request))
    logout(request)  # deletes the server-side session row
    request.session["pg_ended"] = "signed_out"
    return redirect("/signin")
