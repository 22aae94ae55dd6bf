"""The back-off for guessable secrets: waits grow and are capped, nothing locks for good, no schedule of attempts
beats the documented bound, and the guess spaces stay out of reach at the rates the rules allow."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from passgate.core import tap, totp
from passgate.core import throttle as t
from passgate.core.errors import Throttled

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
SMALL = t.Rule(free_failures=3, first_wait=timedelta(seconds=2), max_wait=timedelta(seconds=30),
               forget_after=timedelta(minutes=10))

rules = st.builds(
    lambda free, first, doublings, forget: t.Rule(
        free_failures=free, first_wait=timedelta(seconds=first),
        max_wait=timedelta(seconds=first * 2 ** doublings),
        forget_after=timedelta(seconds=first * 2 ** doublings + forget)),
    st.integers(0, 8), st.integers(1, 60), st.integers(0, 8), st.integers(1, 20_000))
gaps = st.lists(st.integers(0, 4_000), min_size=1, max_size=120)  # seconds between attempts


def fail_n(rule: t.Rule, n: int, *, at: datetime = T0) -> t.Counter:
    counter = t.Counter()
    for _ in range(n):
        counter = t.failed(rule, counter, now=at)
    return counter


def test_free_failures_cost_nothing_then_the_wait_doubles_up_to_the_cap() -> None:
    waits = [SMALL.wait_after(n).total_seconds() for n in range(9)]
    assert waits == [0, 0, 0, 0, 2, 4, 8, 16, 30]
    assert SMALL.wait_after(10_000) == SMALL.max_wait
    assert SMALL.ramp == 4  # 2, 4, 8, 16 s are below the cap


def test_a_refusal_says_exactly_when_to_come_back() -> None:
    counter = fail_n(SMALL, 5)  # wait 4 s after the fifth
    assert t.check(SMALL, counter, now=T0) == t.Verdict(allowed=False, retry_after=4)
    assert t.check(SMALL, counter, now=T0 + timedelta(seconds=3.5)) == t.Verdict(allowed=False, retry_after=1)
    assert t.check(SMALL, counter, now=T0 + timedelta(seconds=4)).allowed


def test_refused_attempts_change_nothing_and_the_wait_is_never_longer_than_the_cap() -> None:
    counter = fail_n(SMALL, 50)
    assert t.check(SMALL, counter, now=T0 + SMALL.max_wait - timedelta(seconds=1)).retry_after == 1
    assert t.check(SMALL, counter, now=T0 + SMALL.max_wait).allowed


def test_a_quiet_subject_is_forgotten_and_a_success_forgets_at_once() -> None:
    counter = fail_n(SMALL, 9)
    assert t.current(SMALL, counter, now=T0 + SMALL.forget_after - timedelta(seconds=1)) == counter
    assert t.current(SMALL, counter, now=T0 + SMALL.forget_after) == t.Counter()
    assert t.failed(SMALL, counter, now=T0 + SMALL.forget_after).failures == 1
    assert t.check(SMALL, t.succeeded(), now=T0).allowed


def test_several_subjects_wait_for_the_slowest() -> None:
    assert t.check_all([t.ALLOWED, t.Verdict(False, 3), t.Verdict(False, 9)]) == t.Verdict(False, 9)
    assert t.check_all([t.ALLOWED, t.ALLOWED]) is t.ALLOWED
    assert t.check_all([]) is t.ALLOWED


def test_the_refusal_error_carries_the_wait() -> None:
    error = t.refusal(t.Verdict(False, 42), code="tap_throttled")
    assert isinstance(error, Throttled) and (error.code, error.retry_after) == ("tap_throttled", 42)


@pytest.mark.parametrize("kwargs", [
    {"free_failures": -1}, {"first_wait": timedelta(0)}, {"max_wait": timedelta(seconds=1)},
    {"forget_after": timedelta(seconds=30)},
])
def test_rules_that_would_lock_or_never_wait_are_refused(kwargs: dict[str, object]) -> None:
    values: dict[str, object] = {"free_failures": 3, "first_wait": timedelta(seconds=2),
                                 "max_wait": timedelta(seconds=30), "forget_after": timedelta(minutes=10), **kwargs}
    with pytest.raises(ValueError, match="throttle rule"):
        t.Rule(**values)  # type: ignore[arg-type]


@given(rules, gaps)
def test_no_schedule_of_attempts_gets_more_failures_checked_than_the_bound(rule: t.Rule, schedule: list[int]) -> None:
    counter, now, checked, first = t.Counter(), T0, 0, None
    for gap in schedule:
        now += timedelta(seconds=gap)
        if t.check(rule, counter, now=now).allowed:
            counter = t.failed(rule, counter, now=now)
            checked += 1
            first = first or now
    assert first is not None  # the first attempt is always checked
    assert checked <= t.max_failures(rule, now - first)


@given(rules, gaps)
def test_whatever_happened_before_an_attempt_is_checked_again_within_the_cap(rule: t.Rule, schedule: list[int]) -> None:
    counter, now = t.Counter(), T0
    for gap in schedule:
        now += timedelta(seconds=gap)
        verdict = t.check(rule, counter, now=now)
        if verdict.allowed:
            counter = t.failed(rule, counter, now=now)
        else:
            assert 1 <= verdict.retry_after <= rule.max_wait.total_seconds()
            assert t.check(rule, counter, now=now + timedelta(seconds=verdict.retry_after)).allowed
    assert t.check(rule, counter, now=now + rule.max_wait).allowed


@given(rules)
def test_an_attacker_who_guesses_as_soon_as_allowed_reaches_the_steady_rate(rule: t.Rule) -> None:
    """The bound is not loose for the greedy attacker: after the ramp, one guess per ``max_wait``."""
    duration = rule.forget_after * 3
    counter, now, checked = t.Counter(), T0, 0
    while now - T0 <= duration:
        verdict = t.check(rule, counter, now=now)
        if verdict.allowed:
            counter, checked = t.failed(rule, counter, now=now), checked + 1
        else:
            now += timedelta(seconds=verdict.retry_after)
    assert checked >= duration // rule.max_wait - rule.ramp
    assert checked <= t.max_failures(rule, duration)


def test_keys_are_keyed_hashes_of_scope_and_value() -> None:
    a = t.subject_key(b"k" * 32, t.Scope.TAP_USER, "alice@contoso.com")
    assert len(a) == 64 and int(a, 16) >= 0
    assert a == t.subject_key(b"k" * 32, t.Scope.TAP_USER, "alice@contoso.com")
    assert a != t.subject_key(b"k" * 32, t.Scope.TOTP_USER, "alice@contoso.com")
    assert a != t.subject_key(b"j" * 32, t.Scope.TAP_USER, "alice@contoso.com")
    assert "alice" not in a
    assert t.subject_key(b"k", t.Scope.TAP_USER, "\ud800") != a  # any string, even a lone surrogate


@pytest.mark.parametrize(("address", "source"), [
    ("203.0.113.9", "203.0.113.9"),
    ("2001:db8:1:2:aaaa::1", "2001:db8:1:2::/64"),
    ("2001:db8:1:2:ffff:ffff:ffff:ffff", "2001:db8:1:2::/64"),
    ("::ffff:198.51.100.4", "198.51.100.4"),
    (None, "unknown"), ("", "unknown"), ("not an address", "unknown"),
])
def test_a_source_is_an_ipv4_address_or_an_ipv6_64(address: str | None, source: str) -> None:
    assert t.source_of(address) == source


# --- the figures in docs/security.md, "Guessable secrets" ---------------------------------------------------

def test_the_rules_allow_the_documented_rates() -> None:
    assert t.max_failures(t.RULES[t.Scope.TAP_USER], timedelta(days=30)) == 43_572
    assert t.max_failures(t.RULES[t.Scope.SOURCE], timedelta(days=1)) == 871
    assert t.max_failures(t.RULES[t.Scope.TOTP_USER], timedelta(hours=12)) == 18
    assert t.max_failures(t.RULES[t.Scope.TOTP_USER], timedelta(days=30)) == 66
    assert t.max_failures(t.RULES[t.Scope.DEVICE_USER], timedelta(minutes=10)) == 16
    assert t.max_failures(t.RULES[t.Scope.DEVICE_USER], timedelta(days=1)) == 128


def test_guessing_a_pass_within_its_longest_lifetime_is_hopeless() -> None:
    lifetime = timedelta(minutes=tap.MAX_LIFETIME_MINUTES)
    guesses = t.max_failures(t.RULES[t.Scope.TAP_USER], lifetime)
    assert tap.GUESS_SPACE == 30 ** 16
    assert guesses / tap.GUESS_SPACE < 1e-18  # the chance for one person's pass, whatever the number of addresses


def test_guessing_an_authenticator_code_within_a_session_is_unlikely() -> None:
    codes_valid_at_once = 2 * totp.DRIFT_STEPS + 1
    guesses = t.max_failures(t.RULES[t.Scope.TOTP_USER], timedelta(hours=12))
    assert guesses * codes_valid_at_once / 10 ** totp.DIGITS < 1e-4
