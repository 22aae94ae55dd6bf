"""Session lifetime decisions: idle timeout, absolute lifetime, recent sign-in for sensitive actions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum, unique

RECENT_SIGN_IN = timedelta(minutes=10)
# The session key holding the time of the last sign-in or re-authentication (ISO 8601), shared by the web and
# Graph adapters.
AUTH_TIME_SESSION_KEY = "pg_auth_time"


@unique
class SessionVerdict(StrEnum):
    ACTIVE = "active"
    IDLE_TIMEOUT = "idle_timeout"
    LIFETIME_EXCEEDED = "lifetime_exceeded"


@dataclass(frozen=True, slots=True)
class SessionLimits:
    idle: timedelta
    absolute: timedelta


def evaluate(limits: SessionLimits, *, auth_time: datetime, last_seen: datetime, now: datetime) -> SessionVerdict:
    if now - auth_time >= limits.absolute:
        return SessionVerdict.LIFETIME_EXCEEDED
    if now - last_seen >= limits.idle:
        return SessionVerdict.IDLE_TIMEOUT
    return SessionVerdict.ACTIVE


def is_recent(auth_time: datetime, *, now: datetime, window: timedelta = RECENT_SIGN_IN) -> bool:
    return timedelta(0) <= now - auth_time < window
