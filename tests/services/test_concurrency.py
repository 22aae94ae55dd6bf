"""Twenty simultaneous completions of ONE assertion: exactly one may sign in.

The PostgreSQL test checks everything (one success, 19 challenge_consumed, the counter advanced once,
one success audit row, the passkey NOT flagged as cloned), over a few rounds. The any-database variant
runs on SQLite too, but SQLite serialises writers, so it only checks that exactly one completion
succeeded. The last test replays the losing interleaving deterministically, on any database.
"""

from __future__ import annotations

import os
import threading
from typing import Any

import pytest
from django.db import connection

from passgate.core.errors import PassgateError
from passgate.credentials import services
from passgate.credentials.models import Passkey
from tests.conftest import IN_CI, loud_skip
from tests.services.support import SIGNIN_SESSION, assertion, audit_rows, authenticator_for, register

THREADS = 20


def race(credential: dict[str, Any]) -> tuple[list[Any], list[BaseException]]:
    from django.db import connections

    barrier = threading.Barrier(THREADS)
    successes: list[Any] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def worker() -> None:
        try:
            barrier.wait(timeout=30)
            result = services.passkey_signin_complete(session_key=SIGNIN_SESSION, credential=credential)
            with lock:
                successes.append(result)
        except BaseException as exc:  # noqa: BLE001 - every outcome is collected and checked
            with lock:
                errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not any(t.is_alive() for t in threads), "a worker hung"
    return successes, errors


def require_postgresql() -> None:
    """Skip loudly on another database. scripts/test runs the suite on SQLite first, then with
    PASSGATE_TEST_ON_POSTGRES=1 on PostgreSQL: under CI the SQLite pass skips quietly (the PostgreSQL pass
    runs it), and the PostgreSQL pass on a non-PostgreSQL database fails."""
    if connection.vendor == "postgresql":
        return
    why = f"the database is {connection.vendor}, not postgresql (set PASSGATE_DATABASE_URL=postgresql://...)"
    if os.environ.get("PASSGATE_TEST_ON_POSTGRES"):
        pytest.fail(f"PostgreSQL pass, but {why}", pytrace=False)
    if IN_CI:
        pytest.skip(f"runs in the PostgreSQL pass: {why}")
    loud_skip("POSTGRESQL CONCURRENCY TEST", why)


@pytest.fixture
def enrolled(make_user: Any) -> tuple[Any, Any]:
    user = make_user()
    auth = authenticator_for(user, sign_count=100)
    return register(user, auth), auth


ROUNDS = 3  # the race is timing-dependent: a few rounds make a lost race very likely to show


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_same_assertion_twenty_times_at_once_postgresql(enrolled: Any) -> None:
    require_postgresql()
    passkey, auth = enrolled
    for round_no in range(1, ROUNDS + 1):
        credential = assertion(auth)  # counter 100 + round_no
        successes, errors = race(credential)

        assert len(successes) == 1, errors
        assert len(errors) == THREADS - 1
        assert all(isinstance(e, PassgateError) for e in errors), errors
        codes = sorted(getattr(e, "code", repr(e)) for e in errors)
        assert codes == ["challenge_consumed"] * (THREADS - 1), f"round {round_no}: {codes}"
        stored = Passkey.objects.get(pk=passkey.pk)
        assert stored.sign_count == 100 + round_no
        # Losing a race is not evidence of a cloned authenticator: the passkey must stay usable.
        assert stored.possibly_cloned_at is None, f"round {round_no}: passkey suspended by a lost race"
        assert audit_rows(activity="passkey.possibleClone") == []
        assert len(audit_rows(activity="passkey.signIn", result="success")) == round_no
        assert len(audit_rows(activity="passkey.signIn", result="failure",
                              reason="challenge_consumed")) == (THREADS - 1) * round_no


@pytest.mark.django_db(transaction=True)
def test_same_assertion_twenty_times_at_once_any_database(enrolled: Any) -> None:
    _passkey, auth = enrolled
    successes, errors = race(assertion(auth))
    assert len(successes) == 1, errors


@pytest.mark.django_db
def test_lost_race_is_not_taken_for_a_clone_deterministic(enrolled: Any) -> None:
    """The same interleaving as above, made deterministic on any database.

    Completion B is paused just before it loads the passkey record; completion A of the SAME response
    runs to the end in that gap; then B continues. B must be refused as a replay (challenge_consumed)
    and must not flag the passkey as possibly cloned.
    """
    passkey, auth = enrolled
    credential = assertion(auth)  # counter 101
    outcomes: dict[str, Any] = {}
    fired = False

    def interleave(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        nonlocal fired
        if not fired and 'FROM "credentials_passkey"' in sql and "credential_id" in sql:
            fired = True
            try:
                outcomes["A"] = services.passkey_signin_complete(session_key=SIGNIN_SESSION, credential=credential)
            except PassgateError as exc:
                outcomes["A"] = exc
        return execute(sql, params, many, context)

    with connection.execute_wrapper(interleave):
        try:
            outcomes["B"] = services.passkey_signin_complete(session_key=SIGNIN_SESSION, credential=credential)
        except PassgateError as exc:
            outcomes["B"] = exc

    assert fired
    results = sorted(getattr(o, "code", "success") for o in outcomes.values())
    assert results == ["challenge_consumed", "success"], outcomes
    stored = Passkey.objects.get(pk=passkey.pk)
    assert stored.sign_count == 101
    assert stored.possibly_cloned_at is None, "a replayed (double-submitted) response suspended the passkey"
    assert audit_rows(activity="passkey.possibleClone") == []
