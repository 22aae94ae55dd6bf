"""What a passkey sign-in costs the database, per request, through Django's whole stack (issue 11): statements
and commits may only go down. Budgets are the figures as measured; lower them when a change saves work.

Commits: outermost atomic blocks that commit, plus writes run in autocommit (each its own transaction)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.db import connection
from django.test import Client

from tests.http.conftest import post_json
from tests.services.support import challenge_of

pytestmark = pytest.mark.django_db(transaction=True)  # real commits, as in production


@dataclass
class Cost:
    statements: list[str] = field(default_factory=list)
    commits: int = 0


@contextmanager
def cost() -> Iterator[Cost]:
    seen = Cost()

    def wrapper(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        seen.statements.append(sql)
        if sql.lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE")) and connection.get_autocommit() \
                and not connection.in_atomic_block:
            seen.commits += 1
        return execute(sql, params, many, context)

    real = connection._commit

    def counting() -> Any:
        seen.commits += 1
        return real()

    connection._commit = counting  # type: ignore[method-assign]
    try:
        with connection.execute_wrapper(wrapper):
            yield seen
    finally:
        connection._commit = real  # type: ignore[method-assign]


# (statements, commits) at most, per request of the sign-in (the HTTP driver's four requests)
BUDGET = {"page": (0, 0), "options": (2, 2), "verify": (9, 2), "signed-in page": (5, 0)}


def test_a_passkey_sign_in_stays_within_its_database_budget(enrolled: Any) -> None:
    _user, auth, _ = enrolled
    client = Client(enforce_csrf_checks=False)
    with cost() as page:
        assert client.get("/signin").status_code == 200
    with cost() as options:
        answer = post_json(client, "/signin/passkey/options", {})
    assert answer.status_code == 200
    auth.sign_count += 1
    with cost() as verify:
        done = post_json(client, "/signin/passkey/verify",
                         {"credential": auth.assert_(challenge=challenge_of(answer.json()))})
    assert done.status_code == 200, done.content
    assert client.get(done.json()["redirect"]).status_code == 200  # fills this process's caches (a new epoch)
    with cost() as signed_in:  # as every later request finds them
        assert client.get(done.json()["redirect"]).status_code == 200
    for name, seen in (("page", page), ("options", options), ("verify", verify), ("signed-in page", signed_in)):
        statements, commits = BUDGET[name]
        assert len(seen.statements) <= statements, (name, seen.statements)
        assert seen.commits <= commits, (name, seen.commits, seen.statements)


def test_a_connection_made_inside_an_execute_wrapper_leaves_the_wrapper_stack_as_it_was() -> None:
    """The database-error counter (passgate.audit.metrics) joins each new connection's wrappers; a connection
    opened inside a ``connection.execute_wrapper`` block must not make that block's exit remove the counter and
    leave the block's wrapper installed (every later statement was counted twice)."""
    from passgate.audit.metrics import count_database_errors

    connection.close()
    while count_database_errors in connection.execute_wrappers:  # as on a thread's first connection
        connection.execute_wrappers.remove(count_database_errors)
    seen: list[str] = []

    def wrapper(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        seen.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(wrapper):
        connection.ensure_connection()  # connection_created fires here, inside the block
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    assert wrapper not in connection.execute_wrappers
    assert count_database_errors in connection.execute_wrappers
    with connection.cursor() as cursor:
        cursor.execute("SELECT 2")
    assert seen == ["SELECT 1"]
