"""Enforce idle timeout and absolute lifetime on every request of a signed-in session."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from passgate.core import sessions as rules
from passgate.web import session

TOUCH_EVERY = timedelta(seconds=60)  # write last-seen at most once a minute


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
            elif last_seen and now - last_seen >= TOUCH_EVERY:
                request.session[session.LAST_SEEN] = now.isoformat()
        return self.get_response(request)
