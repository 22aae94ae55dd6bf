"""Back-off for guessable secrets (Temporary Access Passes, authenticator-app codes): may this attempt be checked now?

Failed guesses are counted per *subject*: a source address, or the person a secret belongs to. Each kind of
subject has a :class:`Rule`: a number of failures that cost nothing (typing mistakes), then a wait after each
further failure that doubles from ``first_wait`` up to ``max_wait``, and a quiet period after which the failures
are forgotten. While a wait runs, attempts are refused before the secret is looked at, so a correct secret is
refused too (otherwise the refusal would tell a guesser which guess was right); the wait never grows past
``max_wait``, so nobody is locked out for good. A correct secret forgets the person's failures (not the address's:
one account's success must not buy an address more guesses at others).

Pure: the counters and the time come in, the decision and the new counter go out. :func:`max_failures` is the
most failures any sequence of attempts can have checked within a duration (the figure behind docs/security.md,
"Guessable secrets").
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum, unique

from passgate.core.errors import Throttled

MAX_DOUBLINGS = 40  # 2**40 times first_wait is past any max_wait that makes sense; keeps the arithmetic small
IPV6_PREFIX = 64  # one IPv6 site usually holds a whole /64: count it as one source


@unique
class Scope(StrEnum):
    """What a counter counts the failures of."""

    SOURCE = "source"  # one client address (IPv6: its /64), whatever it guesses at
    TAP_USER = "tap.user"  # one user name (existing or not) at Temporary Access Pass sign-in and re-authentication
    TOTP_USER = "totp.user"  # one person's authenticator-app codes
    DEVICE_USER = "device.user"  # one signed-in person's user codes on the device verification page (RFC 8628)


@dataclass(frozen=True, slots=True)
class Rule:
    free_failures: int  # failures that cost no wait
    first_wait: timedelta  # the wait after the first failure past the free ones; it doubles after each further one
    max_wait: timedelta  # the wait never grows past this
    forget_after: timedelta  # a subject without a failure for this long starts again from zero

    def __post_init__(self) -> None:
        if self.free_failures < 0 or self.first_wait <= timedelta(0) or self.max_wait < self.first_wait:
            raise ValueError("a throttle rule needs free_failures >= 0 and 0 < first_wait <= max_wait")
        if self.forget_after <= self.max_wait:
            raise ValueError("a throttle rule must forget only after its longest wait")

    def wait_after(self, failures: int) -> timedelta:
        """The wait that ``failures`` consecutive failures impose after the last of them."""
        past = failures - self.free_failures
        if past <= 0:
            return timedelta(0)
        return min(self.first_wait * (1 << min(past - 1, MAX_DOUBLINGS)), self.max_wait)

    @property
    def ramp(self) -> int:
        """How many failures past the free ones impose a wait shorter than ``max_wait``."""
        steps = 0
        while self.first_wait * (1 << steps) < self.max_wait:
            steps += 1
        return steps


# The rules. docs/security.md ("Guessable secrets") derives the guess rates from them: change both together.
RULES: dict[Scope, Rule] = {
    # An address: a few people behind one NAT may mistype; an attacker's address slows to one guess in 15 minutes.
    Scope.SOURCE: Rule(free_failures=20, first_wait=timedelta(seconds=1), max_wait=timedelta(minutes=15),
                       forget_after=timedelta(hours=1)),
    # A user name: a stranger can make its owner wait at most a minute after their last wrong guess.
    Scope.TAP_USER: Rule(free_failures=5, first_wait=timedelta(seconds=1), max_wait=timedelta(minutes=1),
                         forget_after=timedelta(days=1)),
    # Authenticator-app codes (10^6 of them): only someone holding the person's session can guess, so the wait may
    # grow to a day; a correct code (or 30 quiet days) forgets the failures.
    Scope.TOTP_USER: Rule(free_failures=5, first_wait=timedelta(seconds=30), max_wait=timedelta(days=1),
                          forget_after=timedelta(days=30)),
    # Device user codes (20^8 of them, a few live at once): only a signed-in person can guess; a right code forgets.
    Scope.DEVICE_USER: Rule(free_failures=5, first_wait=timedelta(seconds=1), max_wait=timedelta(minutes=15),
                            forget_after=timedelta(days=1)),
}


@dataclass(frozen=True, slots=True)
class Counter:
    """What is stored per subject."""

    failures: int = 0
    last_failure_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Verdict:
    allowed: bool
    retry_after: int = 0  # whole seconds until an attempt is checked again (0 when allowed)


ALLOWED = Verdict(allowed=True)


def refusal(verdict: Verdict, *, code: str) -> Throttled:
    """The error for a refused attempt (people read ``web.messages``' words for it, with the wait)."""
    return Throttled(f"Too many failed attempts: refused without checking; retry after {verdict.retry_after} s.",
                     retry_after=verdict.retry_after, code=code)


def current(rule: Rule, counter: Counter, *, now: datetime) -> Counter:
    """The counter as it stands at ``now``: forgotten after ``forget_after`` without a failure."""
    if counter.last_failure_at is None or now - counter.last_failure_at >= rule.forget_after:
        return Counter()
    return counter


def check(rule: Rule, counter: Counter, *, now: datetime) -> Verdict:
    """May an attempt be checked at ``now``?"""
    counter = current(rule, counter, now=now)
    if counter.last_failure_at is None:
        return ALLOWED
    until = counter.last_failure_at + rule.wait_after(counter.failures)
    if now >= until:
        return ALLOWED
    return Verdict(allowed=False, retry_after=max(1, math.ceil((until - now).total_seconds())))


def check_all(verdicts: list[Verdict]) -> Verdict:
    """Several subjects at once (an address and a user name): allowed when every one allows; else the longest wait."""
    refused = [v for v in verdicts if not v.allowed]
    return max(refused, key=lambda v: v.retry_after) if refused else ALLOWED


def failed(rule: Rule, counter: Counter, *, now: datetime) -> Counter:
    """The counter after a checked attempt failed at ``now``."""
    return Counter(failures=current(rule, counter, now=now).failures + 1, last_failure_at=now)


def succeeded() -> Counter:
    """The counter after the subject's own secret was given: nothing to remember."""
    return Counter()


def max_failures(rule: Rule, duration: timedelta) -> int:
    """An upper bound on the failures any sequence of attempts can have checked within ``duration``.

    Split the failures into runs separated by quiet gaps of at least ``forget_after`` (each forgets the count):
    there are at most ``duration // forget_after + 1`` runs. Within a run, the failures after the first
    ``free_failures + ramp + 1`` each come at least ``max_wait`` after the one before, and the runs' lengths add
    up to at most ``duration``.
    """
    runs = duration // rule.forget_after + 1
    return runs * (rule.free_failures + rule.ramp + 1) + duration // rule.max_wait


def subject_key(secret: bytes, scope: Scope, value: str) -> str:
    """A counter's key: a keyed hash, so the table names no address or user name, and every name (existing or not)
    gets a row of the same shape."""
    return hmac.new(secret, f"{scope.value}\x00{value}".encode("utf-8", "replace"), hashlib.sha256).hexdigest()


def source_of(address: str | None) -> str:
    """The source an address counts as: IPv4 as it is, IPv6 by its /64, IPv4-mapped IPv6 as IPv4; anything
    unreadable (or no address: the CLI, tests) is one shared source."""
    try:
        parsed = ipaddress.ip_address((address or "").strip())
    except ValueError:
        return "unknown"
    if isinstance(parsed, ipaddress.IPv6Address):
        if parsed.ipv4_mapped is not None:
            return str(parsed.ipv4_mapped)
        return str(ipaddress.IPv6Network((parsed, IPV6_PREFIX), strict=False))
    return str(parsed)
