"""What the web adapter keeps in a signed-in session, and the one place that starts one."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import login
from django.http import HttpRequest
from django.utils import timezone

from passgate.core import sessions as rules
from passgate.credentials.services import SignIn

AUTH_TIME = rules.AUTH_TIME_SESSION_KEY
LAST_SEEN = "pg_last_seen"
METHOD = "pg_method"


def start(request: HttpRequest, signin: SignIn) -> None:
    """A new session id at every sign-in (login() cycles the key), then the facts we enforce later."""
    login(request, signin.user, backend="passgate.directory.backends.DirectoryBackend")
    now = timezone.now().isoformat()
    request.session[AUTH_TIME] = now
    request.session[LAST_SEEN] = now
    request.session[METHOD] = signin.method


def mark_reauthenticated(request: HttpRequest) -> None:
    request.session.cycle_key()
    request.session[AUTH_TIME] = timezone.now().isoformat()


def _time(request: HttpRequest, key: str) -> datetime | None:
    raw = request.session.get(key)
    try:
        return datetime.fromisoformat(raw) if isinstance(raw, str) else None
    except ValueError:
        return None


def auth_time(request: HttpRequest) -> datetime | None:
    return _time(request, AUTH_TIME)


def last_seen(request: HttpRequest) -> datetime | None:
    return _time(request, LAST_SEEN)


def is_tap_session(request: HttpRequest) -> bool:
    return request.session.get(METHOD) == "tap"


def is_recent(request: HttpRequest) -> bool:
    at = auth_time(request)
    return at is not None and rules.is_recent(at, now=timezone.now())


def limits() -> rules.SessionLimits:
    conf = settings.PASSGATE
    return rules.SessionLimits(idle=timedelta(minutes=conf.session_idle_minutes),
                               absolute=timedelta(hours=conf.session_max_hours))


def ensure_key(request: HttpRequest) -> str:
    """Anonymous ceremonies bind their challenge to the browser session, so make sure one exists."""
    if not request.session.session_key:
        request.session.save()
    return str(request.session.session_key)
