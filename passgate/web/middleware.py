"""On every signed-in request: end a session that may not go on (``core.sessions.evaluate``: revoked, a method it
proved deleted, lifetime, idle), and keep Temporary Access Pass sessions to Security info."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils import timezone

from passgate.apps.oidc.tokens import session_tokens_revoke
from passgate.audit.models import Category
from passgate.audit.services import audit_failure
from passgate.core import sessions as rules
from passgate.core.api_paths import api_kind
from passgate.credentials.selectors import methods_registered
from passgate.directory.models import User
from passgate.directory.services import actor_for
from passgate.web import session
from passgate.web.errors import request_context

TOUCH_EVERY = timedelta(seconds=60)  # write last-seen at most once a minute
# A Temporary Access Pass session reaches these only (security info, and the ways in and out).
TAP_SESSION_PATHS = ("/security-info", "/signin", "/signout", "/static/", "/healthz")
# ... and an app sign-in: a TAP sign-in is a real sign-in, and the app's required strength decides (the
# authorization endpoint checks it), plus the app's way out (RP-initiated logout).
TAP_SESSION_APP_PATHS = frozenset({"/oidc/authorize", "/oidc/logout", "/oidc/logout/confirm", "/device"})
# Verdicts that end a session because of something done to the person or their methods (audited, and what apps
# got from the session is revoked as at sign-out), rather than because time ran out.
_REVOKING = frozenset({rules.SessionVerdict.SESSIONS_REVOKED, rules.SessionVerdict.METHOD_REMOVED})


def _verdict(request: HttpRequest, user: User) -> rules.SessionVerdict:
    signed_in_at, auth_time, last_seen = session.signed_in_at(request), session.auth_time(request), \
        session.last_seen(request)
    if signed_in_at is None or auth_time is None or last_seen is None:
        return rules.SessionVerdict.LIFETIME_EXCEEDED
    used = session.methods_used(request)
    facts = rules.SessionFacts(signed_in_at=signed_in_at, auth_time=auth_time, last_seen=last_seen,
                               methods_used=frozenset().union(*used.values()))
    account = rules.AccountFacts(sessions_valid_from=user.sign_in_sessions_valid_from,
                                 methods_present=methods_registered(user=user, method_ids=used))
    return rules.evaluate(session.limits(), facts, account, now=timezone.now())


class SessionLifetimeMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if user.is_authenticated and isinstance(user, User):
            verdict = _verdict(request, user)
            if verdict is not rules.SessionVerdict.ACTIVE:
                if verdict in _REVOKING:
                    context = request_context(request)
                    audit_failure(category=Category.SIGN_IN, activity="session.end", reason=verdict.value,
                                  actor=actor_for(user), context=context, details={"path": request.path[:200]})
                    session_tokens_revoke(sid=session.sid(request), user=user, reason=verdict.value,
                                          context=context)
                logout(request)
                request.session["pg_ended"] = verdict.value
            else:
                now, last_seen = timezone.now(), session.last_seen(request)
                if last_seen and now - last_seen >= TOUCH_EVERY:
                    request.session[session.LAST_SEEN] = now.isoformat()
                # APIs are for programs: they authenticate their callers themselves and refuse a pass session in
                # their own JSON (the Graph API: 401 in Graph's envelope); a redirect to a page would break them.
                if (session.is_tap_session(request) and not request.path.startswith(TAP_SESSION_PATHS)
                        and request.path not in TAP_SESSION_APP_PATHS and api_kind(request.path) is None):
                    return redirect("/security-info")
        return self.get_response(request)
