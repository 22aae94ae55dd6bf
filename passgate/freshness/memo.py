"""A per-request memo: what several layers of one request read (a person's groups, roles, passkeys; the
configuration's generation) is read once.

A value is kept from its first read until the request ends or the request writes anything (any INSERT, UPDATE or
DELETE sent on the request's connection clears the memo; the configuration's generation, which only writes to the
tables it watches can move, stays unless the statement names one of them), and nothing is memoized inside a
transaction, where a read may be meant to see the transaction's own writes or to take part in its locking. Outside
a request (the CLI, tests calling services) nothing is memoized.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Hashable, Iterator
from contextvars import ContextVar
from typing import Any, TypeVar

from django.db import connection

T = TypeVar("T")
_WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE", "TRUNCATE")
MISSING: Any = object()
# Kept across writes that name none of ``_kept_unless``'s tables (passgate.freshness.generation registers its own).
_kept: dict[Hashable, tuple[str, ...]] = {}

_memo: ContextVar[dict[Hashable, Any] | None] = ContextVar("passgate_request_memo", default=None)


def memoized(key: Hashable, compute: Callable[[], T]) -> T:
    store = _memo.get()
    if store is None or connection.in_atomic_block:
        return compute()
    if key in store:
        return store[key]  # type: ignore[no-any-return]
    value = compute()
    if not connection.in_atomic_block:
        store[key] = value
    return value


def peek(key: Hashable) -> Any:
    """The memoized value, or ``MISSING``; also inside a transaction (then it is what was read before it)."""
    store = _memo.get()
    return MISSING if store is None else store.get(key, MISSING)


def keep_across_writes(key: Hashable, *, unless_naming: tuple[str, ...]) -> None:
    """Keep ``key`` when the request writes, unless the write statement names one of these tables."""
    _kept[key] = unless_naming


def forget(sql: str = "") -> None:
    store = _memo.get()
    if not store:
        return
    for key in list(store):
        tables = _kept.get(key)
        if tables is None or not sql or any(table in sql for table in tables):
            del store[key]


def _forget_on_write(execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any) -> Any:
    if sql.lstrip()[:8].upper().startswith(_WRITES):
        forget(sql)
    return execute(sql, params, many, context)


@contextlib.contextmanager
def request_scope() -> Iterator[None]:
    token = _memo.set({})
    try:
        with connection.execute_wrapper(_forget_on_write):
            yield
    finally:
        _memo.reset(token)


class RequestMemoMiddleware:
    """Opens the memo for the request (every layer below it shares it)."""

    def __init__(self, get_response: Callable[[Any], Any]) -> None:
        self.get_response = get_response

    def __call__(self, request: Any) -> Any:
        with request_scope():
            return self.get_response(request)
