"""core.sessions: whether a session may go on (revocation, deleted methods, lifetime, idle), pure."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from passgate.core.sessions import (
    AccountFacts,
    SessionFacts,
    SessionLimits,
    SessionVerdict,
    evaluate,
    is_recent,
    revoked,
)

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
LIMITS = SessionLimits(idle=timedelta(minutes=60), absolute=timedelta(hours=12))
PASSKEY = "7f4e9b0a-aaaa-4bbb-8ccc-0123456789ab"
PASS = "11111111-2222-4333-8444-555555555555"
US = timedelta(microseconds=1)


def facts(signed_in_at: datetime = NOW - timedelta(hours=1), *, auth_time: datetime | None = None,
          last_seen: datetime | None = None, used: frozenset[str] = frozenset()) -> SessionFacts:
    return SessionFacts(signed_in_at=signed_in_at, auth_time=auth_time or signed_in_at,
                        last_seen=last_seen or NOW - timedelta(minutes=1), methods_used=used)


def account(valid_from: datetime | None = None, present: frozenset[str] = frozenset()) -> AccountFacts:
    return AccountFacts(sessions_valid_from=valid_from, methods_present=present)


def test_a_session_never_revoked_goes_on() -> None:
    assert evaluate(LIMITS, facts(), account(), now=NOW) is SessionVerdict.ACTIVE


def test_revocation_ends_sessions_signed_in_before_it_and_at_the_same_instant() -> None:
    signed_in = NOW - timedelta(hours=1)
    assert evaluate(LIMITS, facts(signed_in), account(signed_in + US), now=NOW) is SessionVerdict.SESSIONS_REVOKED
    # the boundary: a sign-in stamped with the very instant of the revocation existed when it was made
    assert evaluate(LIMITS, facts(signed_in), account(signed_in), now=NOW) is SessionVerdict.SESSIONS_REVOKED
    # one microsecond later is a sign-in after the revocation
    assert evaluate(LIMITS, facts(signed_in), account(signed_in - US), now=NOW) is SessionVerdict.ACTIVE


def test_revocation_counts_from_the_sign_in_not_from_a_later_re_authentication() -> None:
    signed_in = NOW - timedelta(hours=2)
    stepped_up = NOW - timedelta(minutes=5)
    session = facts(signed_in, auth_time=stepped_up)
    assert evaluate(LIMITS, session, account(NOW - timedelta(hours=1)), now=NOW) is SessionVerdict.SESSIONS_REVOKED


def test_revoked_is_the_rule_for_app_authorizations_too() -> None:
    assert revoked(NOW, None) is False
    assert revoked(NOW, NOW) is True
    assert revoked(NOW, NOW + US) is True
    assert revoked(NOW + US, NOW) is False


def test_a_session_ends_when_a_method_it_proved_is_deleted() -> None:
    both = frozenset({PASSKEY, PASS})
    assert evaluate(LIMITS, facts(used=both), account(present=both), now=NOW) is SessionVerdict.ACTIVE
    assert evaluate(LIMITS, facts(used=both), account(present=frozenset({PASS})),
                    now=NOW) is SessionVerdict.METHOD_REMOVED
    assert evaluate(LIMITS, facts(used=frozenset({PASSKEY})), account(present=frozenset()),
                    now=NOW) is SessionVerdict.METHOD_REMOVED
    # a session with no record of its methods (from before they were recorded) is judged on the rest
    assert evaluate(LIMITS, facts(), account(), now=NOW) is SessionVerdict.ACTIVE


@pytest.mark.parametrize(("session", "expected"), [
    (facts(auth_time=NOW - timedelta(hours=12)), SessionVerdict.LIFETIME_EXCEEDED),
    (facts(auth_time=NOW - timedelta(hours=12) + US), SessionVerdict.ACTIVE),
    (facts(last_seen=NOW - timedelta(minutes=60)), SessionVerdict.IDLE_TIMEOUT),
    (facts(last_seen=NOW - timedelta(minutes=60) + US), SessionVerdict.ACTIVE),
])
def test_lifetime_and_idle_limits(session: SessionFacts, expected: SessionVerdict) -> None:
    assert evaluate(LIMITS, session, account(), now=NOW) is expected


def test_revocation_is_the_verdict_before_any_other() -> None:
    old = facts(NOW - timedelta(hours=13), last_seen=NOW - timedelta(hours=2), used=frozenset({PASSKEY}))
    assert evaluate(LIMITS, old, account(NOW), now=NOW) is SessionVerdict.SESSIONS_REVOKED
    assert evaluate(LIMITS, old, account(None), now=NOW) is SessionVerdict.METHOD_REMOVED
    assert evaluate(LIMITS, old, account(None, frozenset({PASSKEY})), now=NOW) is SessionVerdict.LIFETIME_EXCEEDED


def test_recent_sign_in_window() -> None:
    assert is_recent(NOW - timedelta(minutes=9), now=NOW)
    assert not is_recent(NOW - timedelta(minutes=10), now=NOW)
    assert not is_recent(NOW + timedelta(seconds=1), now=NOW)  # from the future: not trusted
