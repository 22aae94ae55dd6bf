"""What the web adapter keeps in a signed-in session, and the one place that starts one.

Session keys:

- ``pg_auth_time``, ``pg_last_seen``, ``pg_method`` (``passkey`` | ``tap``): the sign-in, enforced by the
  middleware (idle and absolute limits, the TAP-session scope) and the recent-sign-in gate.
- ``pg_authn``: what the session has proven (:class:`passgate.core.access.methods.Authentication` as JSON): the
  sign-in's method, then every re-authentication and step-up appended, each with the id of the passkey, pass or
  authenticator app used. OpenID Connect's ``auth_time``, ``amr`` and ``acr`` come from it; the middleware ends
  the session when one of those methods is deleted, or when the person's sessions are revoked.
- ``pg_sid``: the OpenID Connect session id (``sid`` in ID tokens), random, made at sign-in; never the session key.
- ``pg_oidc_signin``: ``{"for": <authorization request fingerprint>, "at": <ISO time>}``, written when an
  authorization request sends the person to sign in, so that request knows, when it comes back, that the sign-in
  it asked for happened (``prompt=login`` and ``max_age`` cannot loop). Kept across the sign-in.
- ``pg_oidc_issued``: ``{<request shape>: [<epoch seconds>, …]}``, when codes were issued for an authorization
  request shape in the last seconds (``core.oidc.loop_check``: a relying party that keeps sending the person back
  is stopped with a page that says why). At most ``MAX_SHAPES`` shapes.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import login
from django.http import HttpRequest
from django.utils import timezone

from passgate.core import sessions as rules
from passgate.core.access.methods import (
    Authentication,
    AuthMethodMode,
    MethodUse,
    authentication_from_json,
    authentication_to_json,
)
from passgate.credentials.services import SignIn

AUTH_TIME = rules.AUTH_TIME_SESSION_KEY
LAST_SEEN = "pg_last_seen"
METHOD = "pg_method"
AUTHENTICATION = rules.AUTHENTICATION_SESSION_KEY
SID = "pg_sid"
OIDC_SIGNIN = "pg_oidc_signin"
OIDC_ISSUED = "pg_oidc_issued"
MAX_SHAPES = 8


def method_use(signin: SignIn, at: datetime) -> MethodUse:
    """The method a sign-in (or re-authentication) used, as an authentication method mode."""
    if signin.method == "passkey" and signin.passkey is not None:
        return MethodUse(mode=AuthMethodMode.FIDO2, at=at, aaguid=str(signin.passkey.aaguid),
                         device_bound=not signin.passkey.backup_eligible, method_id=str(signin.passkey.pk))
    if signin.method == "tap":
        once = signin.tap_usable_once is True
        return MethodUse(mode=AuthMethodMode.TAP_ONE_TIME if once else AuthMethodMode.TAP_MULTI_USE, at=at,
                         method_id=str(signin.tap_id) if signin.tap_id is not None else None)
    raise ValueError(f"unknown sign-in method {signin.method!r}")


def start(request: HttpRequest, signin: SignIn) -> None:
    """A new session id at every sign-in (login() cycles the key), then the facts we enforce later."""
    carried = request.session.get(OIDC_SIGNIN)  # login() flushes the session when another person signs in
    login(request, signin.user, backend="passgate.directory.backends.DirectoryBackend")
    now = timezone.now()
    request.session[AUTH_TIME] = now.isoformat()
    request.session[LAST_SEEN] = now.isoformat()
    request.session[METHOD] = signin.method
    request.session[SID] = secrets.token_urlsafe(24)
    request.session[AUTHENTICATION] = authentication_to_json(
        Authentication(user_id=str(signin.user.pk), methods=(method_use(signin, now),)))
    if carried is not None:
        request.session[OIDC_SIGNIN] = carried


def mark_reauthenticated(request: HttpRequest, use: MethodUse | None = None) -> None:
    """A re-authentication or step-up: a new session id, a fresh ``auth_time``, and the method appended."""
    request.session.cycle_key()
    request.session[AUTH_TIME] = timezone.now().isoformat()
    if use is not None:
        record(request, use)


def record(request: HttpRequest, use: MethodUse) -> None:
    """Append a method use to what the session has proven (a record that is missing or another person's is
    replaced: a session belongs to one person)."""
    current = authentication(request)
    user_id = str(request.user.pk)
    updated = current.with_method(use) if current is not None else Authentication(user_id=user_id, methods=(use,))
    request.session[AUTHENTICATION] = authentication_to_json(updated)


def release_method(request: HttpRequest, method_id: object) -> None:
    """This session deleted a method it proved: it goes on (the person just proved who they are), its record no
    longer tied to that method. Other sessions that proved it end (the middleware)."""
    current = authentication(request)
    if current is not None:
        request.session[AUTHENTICATION] = authentication_to_json(current.releasing(str(method_id)))


def authentication(request: HttpRequest) -> Authentication | None:
    """What this session has proven, or None (nobody signed in, or a session from before it was recorded)."""
    if not request.user.is_authenticated:
        return None
    auth = authentication_from_json(request.session.get(AUTHENTICATION))
    return auth if auth is not None and auth.user_id == str(request.user.pk) else None


def sid(request: HttpRequest) -> str:
    """The OpenID Connect session id (made on first use for a session that predates it)."""
    value = request.session.get(SID)
    if not isinstance(value, str) or not value:
        value = request.session[SID] = secrets.token_urlsafe(24)
    return value


def oidc_signin_asked(request: HttpRequest, fingerprint: str) -> None:
    """An authorization request is sending the person to sign in now."""
    request.session[OIDC_SIGNIN] = {"for": fingerprint, "at": timezone.now().isoformat()}


def oidc_signin_asked_at(request: HttpRequest, fingerprint: str) -> datetime | None:
    marker = request.session.get(OIDC_SIGNIN)
    if not isinstance(marker, dict) or marker.get("for") != fingerprint or not isinstance(marker.get("at"), str):
        return None
    try:
        return datetime.fromisoformat(marker["at"])
    except ValueError:
        return None


def oidc_signin_done(request: HttpRequest) -> None:
    request.session.pop(OIDC_SIGNIN, None)


def oidc_issued_times(request: HttpRequest, shape: str) -> list[object]:
    """When codes were issued for this authorization request shape (as kept; core.oidc.loop_check reads them)."""
    kept = request.session.get(OIDC_ISSUED)
    times = kept.get(shape) if isinstance(kept, dict) else None
    return list(times) if isinstance(times, list) else []


def oidc_issued_record(request: HttpRequest, shape: str, times: tuple[float, ...]) -> None:
    kept = request.session.get(OIDC_ISSUED)
    shapes = {k: v for k, v in kept.items() if isinstance(v, list) and v} if isinstance(kept, dict) else {}
    shapes.pop(shape, None)
    shapes[shape] = [round(t, 3) for t in times]
    request.session[OIDC_ISSUED] = dict(list(shapes.items())[-MAX_SHAPES:])  # the most recent shapes


def _time(request: HttpRequest, key: str) -> datetime | None:
    raw = request.session.get(key)
    try:
        return datetime.fromisoformat(raw) if isinstance(raw, str) else None
    except ValueError:
        return None


def auth_time(request: HttpRequest) -> datetime | None:
    return _time(request, AUTH_TIME)


def signed_in_at(request: HttpRequest) -> datetime | None:
    """When this session signed in: its first recorded method use (re-authentication moves ``auth_time`` on, not
    this), or ``auth_time`` for a session with no record of what it proved."""
    auth = authentication(request)
    return auth.signed_in_at if auth is not None else auth_time(request)


def methods_used(request: HttpRequest) -> dict[AuthMethodMode, frozenset[str]]:
    """The ids of the passkeys, passes and authenticator apps this session proved, by the mode each was used as."""
    auth = authentication(request)
    return auth.method_ids_by_mode if auth is not None else {}


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
    """Anonymous ceremonies bind their challenge to the browser session, so make sure one exists (its key now;
    its row when the response saves it: passgate.web.session_store)."""
    if not request.session.session_key:
        request.session.create()
    return str(request.session.session_key)
