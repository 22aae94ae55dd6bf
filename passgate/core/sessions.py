"""Session decisions: whether a signed-in session may go on, and the recent sign-in sensitive actions need.

A session ends when any of these holds, checked on every request (the first that applies is the verdict):

1. its sign-in was revoked: the person's sessions were revoked at or after the moment it signed in (Graph's
   ``signInSessionsValidFromDateTime``; :func:`revoked`);
2. an authentication method it proved (to sign in, re-authenticate or step up) has been deleted since, by anyone
   but the session itself (a session deleting a method it proved keeps its proof, no longer tied to the method:
   ``Authentication.releasing``);
3. its absolute lifetime, counted from its latest sign-in or re-authentication, is over;
4. it has been idle for too long.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum, unique

RECENT_SIGN_IN = timedelta(minutes=10)
# The session keys holding the time of the last sign-in or re-authentication (ISO 8601) and what the session
# proved (core.access.methods.authentication_to_json), shared by the web and Graph adapters.
AUTH_TIME_SESSION_KEY = "pg_auth_time"
AUTHENTICATION_SESSION_KEY = "pg_authn"


@unique
class SessionVerdict(StrEnum):
    ACTIVE = "active"
    IDLE_TIMEOUT = "idle_timeout"
    LIFETIME_EXCEEDED = "lifetime_exceeded"
    SESSIONS_REVOKED = "sessions_revoked"
    METHOD_REMOVED = "method_removed"


@dataclass(frozen=True, slots=True)
class SessionLimits:
    idle: timedelta
    absolute: timedelta


@dataclass(frozen=True, slots=True)
class SessionFacts:
    """What a session recorded about itself (times timezone-aware)."""

    signed_in_at: datetime  # the sign-in that opened it
    auth_time: datetime  # its latest sign-in or re-authentication
    last_seen: datetime
    methods_used: frozenset[str] = frozenset()  # ids of the authentication methods it proved


@dataclass(frozen=True, slots=True)
class AccountFacts:
    """What the directory holds about the session's person now."""

    sessions_valid_from: datetime | None  # Graph's signInSessionsValidFromDateTime; None: never revoked
    methods_present: frozenset[str] = frozenset()  # those of the session's ``methods_used`` still registered


def revoked(signed_in_at: datetime, valid_from: datetime | None) -> bool:
    """Whether a sign-in made at ``signed_in_at`` (a browser session, or the authorization an app's tokens rest on)
    was revoked by a revocation at ``valid_from``.

    Graph invalidates whatever was issued before ``signInSessionsValidFromDateTime``; Passgate also ends a
    sign-in stamped with that very instant, so nothing that existed when the revocation was made outlives it.
    """
    return valid_from is not None and signed_in_at <= valid_from


def evaluate(limits: SessionLimits, session: SessionFacts, account: AccountFacts, *, now: datetime) -> SessionVerdict:
    if revoked(session.signed_in_at, account.sessions_valid_from):
        return SessionVerdict.SESSIONS_REVOKED
    if session.methods_used - account.methods_present:
        return SessionVerdict.METHOD_REMOVED
    if now - session.auth_time >= limits.absolute:
        return SessionVerdict.LIFETIME_EXCEEDED
    if now - session.last_seen >= limits.idle:
        return SessionVerdict.IDLE_TIMEOUT
    return SessionVerdict.ACTIVE


def is_recent(auth_time: datetime, *, now: datetime, window: timedelta = RECENT_SIGN_IN) -> bool:
    return timedelta(0) <= now - auth_time < window
