"""The configuration's generation, and per-process caches kept while it is unchanged.

Every request that needs the methods policy, strengths, Conditional Access policies, the FIDO metadata catalogue
or app registrations reads one small row (once per request: :mod:`passgate.freshness.memo`) instead of one query
per kind. Triggers bump it in the writing transaction (:data:`WATCHED`), so a change committed on any node is seen
by every node at its next request, whatever wrote it (a service, the Graph API, the CLI, a migration, SQL by hand).

The read order makes the cache safe without locks between nodes: the generation is read first, then the data; data
read after seeing generation G is at least as new as G. A transaction that wrote to a watched table neither reads
nor fills the cache (its reads may see its own uncommitted writes, which a rollback would take back).
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from django.db import IntegrityError, connection

from passgate.freshness.memo import MISSING, keep_across_writes, memoized, peek
from passgate.freshness.models import Generation

T = TypeVar("T")

# The tables whose writes change what a request decides with (db_table names, created by their apps' migrations).
WATCHED = (
    "credentials_policyversion",
    "access_strengthpolicy",
    "access_accesspolicy",
    "trust_store_metadatablob",
    "apps_appregistration",
    "apps_signingkey",
)

_lock = threading.Lock()
_cache: dict[str, tuple[tuple[str, int], Any]] = {}
_KEY = ("freshness.generation",)
keep_across_writes(_KEY, unless_naming=WATCHED)  # only a write to a watched table can move it


def _read() -> tuple[str, int] | None:
    row = Generation.objects.filter(pk=1).values_list("epoch", "value").first()
    if row is not None:
        return (row[0], row[1])
    # The row is gone (a test flushed the database): a new epoch, so nothing cached before can match.
    try:
        Generation.objects.create(pk=1, epoch=secrets.token_hex(16), value=0)
    except IntegrityError:
        pass  # another process made it first
    return None


def prime(generation: tuple[str, int]) -> None:
    """The generation as another statement of this request read it (the session's load): no read of its own."""
    memoized(_KEY, lambda: generation)


def current() -> tuple[str, int] | None:
    """(epoch, value) now; None when unknown (then nothing is cached)."""
    return memoized(_KEY, _read)


def cached(kind: str, load: Callable[[], T], *, keep: Callable[[T], bool] | None = None) -> T:
    """``load()``'s value, computed again only when the configuration's generation moved.

    Inside a transaction, only at the generation this request read before it, and only while the request has not
    written to a watched table since (such a write forgets it): what the transaction reads then is committed data
    at least as new as that generation, never its own writes, which a rollback could take back."""
    if connection.in_atomic_block:
        before = peek(_KEY)
        generation = None if before is MISSING else before
    else:
        generation = current()
    if generation is None:
        return load()
    with _lock:
        hit = _cache.get(kind)
    if hit is not None and hit[0] == generation:
        return hit[1]  # type: ignore[no-any-return]
    value = load()
    if keep is None or keep(value):  # keep: what may be stored (never what a caller's input alone can vary)
        with _lock:
            _cache[kind] = (generation, value)
    return value


def clear_process_cache() -> None:
    with _lock:
        _cache.clear()
