"""Reading once, knowing cheaply what changed (issue 11; ``passgate.freshness``).

The guarantees that must not change: a policy, strength, Conditional Access, metadata or app-registration change
is in force at the very next request, on every node, whoever wrote it; a memo never outlives the request or a
write; nothing is cached from inside a transaction."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test import Client

from passgate.audit.services import Actor
from passgate.credentials.policy import policy_update
from passgate.directory.services import group_add_member, group_create
from passgate.freshness import generation as freshness
from passgate.freshness.memo import memoized, request_scope
from passgate.freshness.models import Generation
from tests.http.conftest import http_sign_in

pytestmark = pytest.mark.django_db(transaction=True)  # real commits: the caches only fill outside transactions


@pytest.fixture(autouse=True)
def generation_row() -> None:
    """A test before this one may have flushed the database (and the row with it): reading makes it again."""
    freshness.current()


def value() -> int:
    return int(Generation.objects.get(pk=1).value)


def now_generation() -> tuple[str, int]:
    row = Generation.objects.get(pk=1)
    return (row.epoch, row.value)


# (table, a write that changes one of its rows without the ORM: triggers catch every writer)
RAW_WRITES = [
    ("credentials_policyversion",
     "INSERT INTO credentials_policyversion (version, document, changes, created_at, actor_name) "
     "VALUES (99, '{}', '[]', '2026-01-01 00:00:00+00:00', 'sql')"),
    ("access_strengthpolicy",
     "INSERT INTO access_strengthpolicy (id, display_name, name_key, document, created_at, modified_at) "
     "VALUES ('0b0b0b0b0b0b4b0b8b0b0b0b0b0b0b0b', 'x', 'x', '{}', '2026-01-01 00:00:00+00:00', "
     "'2026-01-01 00:00:00+00:00')"),
    ("access_accesspolicy",
     "INSERT INTO access_accesspolicy (id, display_name, document, created_at, modified_at) "
     "VALUES ('0c0c0c0c0c0c4c0c8c0c0c0c0c0c0c0c', 'x', '{}', '2026-01-01 00:00:00+00:00', "
     "'2026-01-01 00:00:00+00:00')"),
]


@pytest.mark.parametrize(("table", "insert"), RAW_WRITES, ids=[t for t, _ in RAW_WRITES])
def test_every_write_to_a_watched_table_moves_the_generation_whoever_writes(table: str, insert: str) -> None:
    if connection.vendor == "postgresql":
        insert = insert.replace("'0b0b0b0b0b0b4b0b8b0b0b0b0b0b0b0b'", "'0b0b0b0b-0b0b-4b0b-8b0b-0b0b0b0b0b0b'") \
            .replace("'0c0c0c0c0c0c4c0c8c0c0c0c0c0c0c0c'", "'0c0c0c0c-0c0c-4c0c-8c0c-0c0c0c0c0c0c'")
    with connection.cursor() as cursor:
        before = value()
        cursor.execute(insert)
        inserted = value()
        cursor.execute(f"UPDATE {table} SET created_at = created_at")  # noqa: S608 - a name from RAW_WRITES
        updated = value()
        cursor.execute(f"DELETE FROM {table}")  # noqa: S608 - a name from RAW_WRITES
        deleted = value()
    assert before < inserted < updated < deleted


def test_every_watched_table_has_its_trigger() -> None:
    """The migration installs one trigger (PostgreSQL) or three (SQLite) per table in WATCHED."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT DISTINCT event_object_table FROM information_schema.triggers "
                           "WHERE trigger_name LIKE 'passgate_generation_%%'")
        else:
            cursor.execute("SELECT DISTINCT tbl_name FROM sqlite_master WHERE type = 'trigger' "
                           "AND name LIKE 'passgate_generation_%'")
        tables = {row[0] for row in cursor.fetchall()}
    assert tables == set(freshness.WATCHED)


def test_reads_and_unrelated_writes_leave_the_generation_alone(enrolled: Any) -> None:
    before = value()
    client = Client()
    assert http_sign_in(client, enrolled[1]).status_code == 200  # writes a challenge, a counter, an audit row
    assert client.get("/security-info").status_code == 200
    assert value() == before


def test_a_policy_change_is_in_force_at_the_next_request_after_the_cache_filled(enrolled: Any) -> None:
    _user, auth, _ = enrolled
    client = Client()
    assert http_sign_in(client, auth).status_code == 200  # the policy is now cached in this process
    generation = now_generation()
    policy_update(method_id="Fido2", actor=Actor.system("test"), body={"state": "disabled"})
    assert now_generation() != generation
    refused = http_sign_in(Client(), auth)
    assert refused.status_code == 403, refused.content
    assert refused.json()["error"]["code"] == "policy_method_disabled"


def test_a_flushed_generation_row_starts_a_new_epoch_and_misses_every_cache() -> None:
    old = now_generation()
    hits: list[int] = []
    freshness.cached("test.kind", lambda: hits.append(1) or "first")
    Generation.objects.all().delete()  # as a test's flush does
    assert freshness.current() is None  # unknown now: nothing is cached from it
    row = Generation.objects.get(pk=1)
    assert row.epoch != old[0] and row.value == 0
    assert freshness.cached("test.kind", lambda: "second") == "second"


def test_a_cached_value_is_reused_while_the_generation_stands_and_reloaded_when_it_moves() -> None:
    loads: list[str] = []

    def load() -> str:
        loads.append("x")
        return f"load {len(loads)}"

    freshness.clear_process_cache()
    assert freshness.cached("test.kind", load) == "load 1"
    assert freshness.cached("test.kind", load) == "load 1"
    Generation.objects.filter(pk=1).update(value=value() + 1)  # another node's commit
    assert freshness.cached("test.kind", load) == "load 2"


def test_a_transaction_uses_the_cache_only_until_it_writes_to_a_watched_table() -> None:
    from django.db import transaction

    from passgate.audit.models import AuditEvent

    freshness.clear_process_cache()
    with transaction.atomic():  # no request read the generation before: nothing to go by
        assert freshness.cached("test.kind", lambda: "inside") == "inside"
    assert freshness.cached("test.kind", lambda: "outside") == "outside"
    freshness.clear_process_cache()
    with request_scope():
        assert freshness.cached("test.kind", lambda: "filled") == "filled"
        with transaction.atomic():
            AuditEvent.objects.all().delete()  # a write to a table nobody caches from
            assert freshness.cached("test.kind", lambda: "reloaded") == "filled"
            policy_update(method_id="Fido2", actor=Actor.system("test"), body={"state": "disabled"})
            # the transaction's own, uncommitted policy: never from the cache, never into it
            assert freshness.cached("test.kind", lambda: "own write") == "own write"
            transaction.set_rollback(True)
        assert freshness.cached("test.kind", lambda: "after the rollback") == "filled"


def test_the_memo_lives_for_one_request_and_ends_at_a_write() -> None:
    calls: list[int] = []

    def compute() -> int:
        calls.append(1)
        return len(calls)

    assert memoized("k", compute) == 1 and memoized("k", compute) == 2  # no request: no memo
    with request_scope():
        assert memoized("k", compute) == 3
        assert memoized("k", compute) == 3
        Generation.objects.filter(pk=1).update(value=value())  # any write on the connection
        assert memoized("k", compute) == 4
    with request_scope():
        assert memoized("k", compute) == 5  # a new request starts empty


def test_a_group_change_is_seen_at_the_next_request(enrolled: Any) -> None:
    """Group membership is per request, never per process: a person added to an excluded group is refused at
    their next sign-in."""
    user, auth, _ = enrolled
    assert http_sign_in(Client(), auth).status_code == 200
    group = group_create(display_name="No passkeys", actor=Actor.system("test"))
    policy_update(method_id="Fido2", actor=Actor.system("test"),
                  body={"excludeTargets": [{"id": str(group.pk), "targetType": "group"}]})
    assert http_sign_in(Client(), auth).status_code == 200  # not a member yet
    group_add_member(group=group, user=user, actor=Actor.system("test"))
    refused = http_sign_in(Client(), auth)
    assert refused.status_code == 403, refused.content
    assert refused.json()["error"]["code"] == "policy_user_excluded"


def test_unknown_client_ids_never_grow_the_process_cache(client: Client) -> None:
    """Anyone can send a client_id: only app registrations that exist are cached."""
    import uuid as uuid_module

    freshness.clear_process_cache()
    for _ in range(20):
        client.get(f"/oidc/authorize?client_id={uuid_module.uuid4()}&response_type=code")
    assert not [kind for kind in freshness._cache if kind.startswith("apps.registration.")]
