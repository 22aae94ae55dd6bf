"""The back-off's state in the database (``ThrottleCounter``), shared by every app node; ``core.throttle`` decides.

A guarded attempt runs inside one transaction::

    with transaction.atomic():
        guard = throttle_lock([source_subject(context), subject(Scope.TAP_USER, upn)], now=now)
        if not guard.verdict.allowed: ... refuse (audited), checking nothing
        ... check the secret; guard.failed() or guard.succeeded(Scope.TAP_USER)

``throttle_lock`` creates the subjects' rows if they are missing and locks them (SELECT ... FOR UPDATE, in one
order, so two attempts never deadlock) until the transaction ends: of concurrent guesses against one subject,
on any node, each sees the failures of those before it. On SQLite the IMMEDIATE transactions serialise writers.
The database is the only store (also when ``PASSGATE_REDIS_URL`` is set).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db import connection
from django.db.models import Q
from django.utils import timezone

from passgate.audit.services import RequestContext
from passgate.core import throttle as rules
from passgate.core.throttle import Scope
from passgate.credentials.models import ThrottleCounter

LOCK_TRIES = 3  # a purge may delete a row between its insert and its lock: insert it again


def _secret() -> bytes:
    return hashlib.sha256(b"passgate-throttle\x00" + settings.SECRET_KEY.encode()).digest()


@dataclass(frozen=True, slots=True, order=True)
class Subject:
    scope: Scope
    key: str


def subject(scope: Scope, value: str) -> Subject:
    return Subject(scope=scope, key=rules.subject_key(_secret(), scope, value))


def source_subject(context: RequestContext) -> Subject:
    """The request's source address (IPv6: its /64) as a throttle subject."""
    return subject(Scope.SOURCE, rules.source_of(context.ip_address))


def _counter(row: ThrottleCounter) -> rules.Counter:
    return rules.Counter(failures=row.failures, last_failure_at=row.last_failure_at)


class Guard:
    """The locked counters of one attempt, and the verdict they give at ``now``."""

    def __init__(self, rows: Sequence[ThrottleCounter], *, now: datetime) -> None:
        self.rows = list(rows)
        self.now = now
        self.verdict = rules.check_all([rules.check(rules.RULES[Scope(r.scope)], _counter(r), now=now)
                                        for r in self.rows])

    def failed(self) -> None:
        """The secret was wrong: one more failure for every subject."""
        for row in self.rows:
            counter = rules.failed(rules.RULES[Scope(row.scope)], _counter(row), now=self.now)
            self._store(row, counter)

    def succeeded(self, scope: Scope) -> None:
        """The secret was right: the subjects of ``scope`` (the person, never the address) start from zero."""
        for row in self.rows:
            if row.scope == scope and (row.failures or row.last_failure_at is not None):
                self._store(row, rules.succeeded())

    @staticmethod
    def _store(row: ThrottleCounter, counter: rules.Counter) -> None:
        ThrottleCounter.objects.filter(pk=row.pk).update(failures=counter.failures,
                                                         last_failure_at=counter.last_failure_at)
        row.failures, row.last_failure_at = counter.failures, counter.last_failure_at


def throttle_lock(subjects: Sequence[Subject], *, now: datetime | None = None) -> Guard:
    """Create (if missing) and lock the subjects' counters until the surrounding transaction ends."""
    if not connection.in_atomic_block:
        raise RuntimeError("throttle_lock must run inside transaction.atomic()")
    wanted = sorted(set(subjects))
    match = Q()
    for s in wanted:
        match |= Q(scope=s.scope.value, key=s.key)
    rows: list[ThrottleCounter] = []
    for _ in range(LOCK_TRIES):
        ThrottleCounter.objects.bulk_create([ThrottleCounter(scope=s.scope.value, key=s.key) for s in wanted],
                                            ignore_conflicts=True)
        rows = list(ThrottleCounter.objects.select_for_update().filter(match).order_by("scope", "key"))
        if len(rows) == len(wanted):
            break
    else:
        raise RuntimeError("throttle counters vanished while being locked")
    return Guard(rows, now=now or timezone.now())


def throttle_purge(*, now: datetime | None = None) -> int:
    """Delete the counters with nothing to remember: no failure, or failures their rule has forgotten."""
    now = now or timezone.now()
    stale = Q(last_failure_at__isnull=True)
    for scope, rule in rules.RULES.items():
        stale |= Q(scope=scope.value, last_failure_at__lte=now - rule.forget_after)
    deleted, _ = ThrottleCounter.objects.filter(stale).delete()
    return deleted
