"""Enforce idle timeout, absolute lifetime and the TAP-session scope on every signed-in request."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils import timezone

from passgate.core import sessions as rules
from passgate.web import session

TOUCH_EVERY = timedelta(seconds=60)  # write last-seen at most once a minute
# A Temporary Access Pass session reaches these only (security info, and the ways in and out).
TAP_SESSION_PATHS = ("/security-info", "/signin", "/signout", "/static/", "/healthz")
# ... and an app sign-in: a TAP sign-in is a real sign-in, and the app's required strength decides (the
# authorization endpoint checks it), plus the app's way out (RP-initiated logout).
TAP_SESSION_APP_PATHS = frozenset({"/oidc/authorize", "/oidc/logout", "/oidc/logout/confirm"})


class SessionLifetimeMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated:
            now = timezone.now()
            auth_time, last_seen = session.auth_time(request), session.last_seen(request)
            verdict = (
                rules.evaluate(session.limits(), auth_time=auth_time, last_seen=last_seen, now=now)
                if auth_time and last_seen else rules.SessionVerdict.LIFETIME_EXCEEDED
            )
            if verdict is not rules.SessionVerdict.ACTIVE:
                logout(request)
                request.session["pg_ended"] = verdict.value
            else:
                if last_seen and now - last_seen >= TOUCH_EVERY:
                    request.session[session.LAST_SEEN] = now.isoformat()
                if (session.is_tap_session(request) and not request.path.startswith(TAP_SESSION_PATHS)
                        and request.path not in TAP_SESSION_APP_PATHS):
                    return redirect("/security-info")
        return self.get_response(request)
