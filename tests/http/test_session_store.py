"""passgate.web.session_store: Django's database sessions written once per request, with the same guarantees
(a new key at every sign-in, the old one dead, nobody's row overwritten, nothing written by a request that fails)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from django.contrib.sessions.backends.base import UpdateError
from django.contrib.sessions.models import Session
from django.db import connection
from django.test import Client

from passgate.web.session_store import SessionStore
from tests.http.conftest import SESSION_COOKIE, http_sign_in, post_json, session_key

pytestmark = pytest.mark.django_db


@contextmanager
def statements() -> Iterator[list[str]]:
    seen: list[str] = []

    def wrapper(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        seen.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(wrapper):
        yield seen


def test_a_new_session_is_written_once_when_saved() -> None:
    store = SessionStore()
    with statements() as seen:
        store.create()
        store["a"] = 1
    assert seen == []  # the key exists, its row not yet
    assert store.session_key and not Session.objects.filter(session_key=store.session_key).exists()
    with statements() as seen:
        store.save()
    assert [s.split()[0] for s in seen if not s.startswith(("SAVEPOINT", "RELEASE"))] == ["INSERT"]
    assert SessionStore(store.session_key).load() == {"a": 1}


def test_cycling_the_key_writes_the_new_row_and_deletes_the_old_one_at_the_save() -> None:
    store = SessionStore()
    store["who"] = "anonymous"
    store.save()
    old = store.session_key
    store.cycle_key()
    store["who"] = "pat"
    assert Session.objects.filter(session_key=old).exists()  # nothing written yet
    with statements() as seen:
        store.save()
    # one statement moves the row to the new key: the old key stops working in the same instant
    assert [q.split()[0] for q in seen if not q.startswith(("SAVEPOINT", "RELEASE"))] == ["UPDATE"]
    assert store.session_key != old
    assert not Session.objects.filter(session_key=old).exists()
    assert SessionStore(store.session_key).load() == {"who": "pat"}


def test_a_cycle_whose_old_row_is_gone_writes_the_new_row() -> None:
    store = SessionStore()
    store["who"] = "anonymous"
    store.save()
    old = store.session_key
    store.cycle_key()
    Session.objects.filter(session_key=old).delete()  # purged or signed out meanwhile
    store["who"] = "pat"
    store.save()
    assert set(Session.objects.values_list("session_key", flat=True)) == {store.session_key}
    assert SessionStore(store.session_key).load() == {"who": "pat"}


def test_a_cycle_onto_a_key_in_use_takes_another_key_and_keeps_both_sessions(monkeypatch: Any) -> None:
    someone = SessionStore()
    someone["who"] = "someone else"
    someone.save()
    store = SessionStore()
    store["who"] = "anonymous"
    store.save()
    old = store.session_key
    keys = iter([someone.session_key, "m" * 32])
    monkeypatch.setattr(store, "_get_new_session_key", lambda: next(keys))
    store.cycle_key()
    store["who"] = "pat"
    store.save()
    assert store.session_key == "m" * 32
    assert SessionStore(someone.session_key).load() == {"who": "someone else"}
    assert SessionStore("m" * 32).load() == {"who": "pat"}
    assert not Session.objects.filter(session_key=old).exists()


def test_two_cycles_in_one_request_write_only_the_last_key_and_delete_the_first() -> None:
    store = SessionStore()
    store.save()
    first = store.session_key
    store.cycle_key()
    middle = store.session_key
    store.cycle_key()
    store.save()
    assert set(Session.objects.values_list("session_key", flat=True)) == {store.session_key}
    assert store.session_key not in (first, middle)


def test_a_cycle_that_is_never_saved_leaves_the_old_session_as_it_was() -> None:
    store = SessionStore()
    store["who"] = "pat"
    store.save()
    old = store.session_key
    store.cycle_key()  # the request fails before its response saves
    assert SessionStore(old).load() == {"who": "pat"}


def test_flushing_an_unsaved_cycle_deletes_the_old_row_and_writes_nothing() -> None:
    store = SessionStore()
    store.save()
    old = store.session_key
    store.cycle_key()
    store.flush()
    assert store.session_key is None
    assert not Session.objects.exists()
    assert not Session.objects.filter(session_key=old).exists()


def test_a_key_that_exists_already_is_never_overwritten(monkeypatch: Any) -> None:
    someone = SessionStore()
    someone["who"] = "someone else"
    someone.save()
    keys = iter([someone.session_key, "k" * 32])
    store = SessionStore()
    monkeypatch.setattr(store, "_get_new_session_key", lambda: next(keys))
    store["who"] = "pat"
    store.save()
    assert store.session_key == "k" * 32
    assert SessionStore(someone.session_key).load() == {"who": "someone else"}
    assert SessionStore("k" * 32).load() == {"who": "pat"}


def test_saving_a_session_deleted_meanwhile_is_an_update_error() -> None:
    store = SessionStore()
    store.save()
    Session.objects.filter(session_key=store.session_key).delete()  # signed out elsewhere
    store["x"] = 1
    with pytest.raises(UpdateError):
        store.save()


def test_the_sign_in_writes_one_session_row_and_the_pre_sign_in_key_is_dead(client: Client, enrolled: Any) -> None:
    _user, auth, _ = enrolled
    post_json(client, "/signin/passkey/options", {})
    anonymous = session_key(client)
    assert Session.objects.filter(session_key=anonymous).exists()
    assert http_sign_in(client, auth).status_code == 200
    signed_in = session_key(client)
    assert signed_in != anonymous
    assert list(Session.objects.values_list("session_key", flat=True)) == [signed_in]
    stale = Client()
    stale.cookies[SESSION_COOKIE] = anonymous  # the old cookie, replayed
    assert stale.get("/security-info").status_code == 302
