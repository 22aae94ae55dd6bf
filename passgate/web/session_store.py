"""Django's database sessions, written once per request (``SESSION_ENGINE``; issue 11).

Same table, same rows, same cookie, same revocation as ``django.contrib.sessions.backends.db``; what changes is
when the rows are written:

- A new session (an anonymous ceremony binding its challenge, a sign-in) gets its key in memory; the row is
  INSERTed once, when the response saves the session. Django's store first asks whether a random key exists
  (a SELECT), INSERTs at once, then UPDATEs the same row at the response.
- ``cycle_key()`` (every sign-in, re-authentication and step-up: no session fixation) also keeps the new key in
  memory; the response's save moves the row to the new key with one UPDATE (key, data and expiry), so the old key
  stops working in the same statement (an INSERT of the new row if the old one is already gone). Django's store
  does the existence SELECT, an INSERT in its own transaction, a SELECT and a DELETE of the old row, then an UPDATE.
- Loading a session also reads the configuration's generation in the same statement (two scalar subqueries):
  the request's later "has the policy changed?" costs nothing more (:mod:`passgate.freshness.generation`).
- Each save is a single statement; in autocommit it runs without a transaction around it (no BEGIN/COMMIT pair).
- Deleting a row is one DELETE (Django's store SELECTs it first).

Keys are 32 characters over [a-z0-9] (about 165 bits), as Django makes them; an INSERT that collides with an
existing row fails on the primary key and is retried with another key, never overwriting anyone's session. If the
response never saves (an exception, an empty session), nothing was written and the old row stays valid, exactly as
if the request had not happened.
"""

from __future__ import annotations

import contextlib
from typing import Any

from django.contrib.sessions.backends.base import VALID_KEY_CHARS, CreateError, UpdateError
from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore
from django.db import DatabaseError, IntegrityError, connection, router, transaction
from django.utils import timezone
from django.utils.crypto import get_random_string

from passgate.freshness import generation as freshness
from passgate.freshness.models import Generation

CREATE_ATTEMPTS = 5


class SessionStore(DatabaseSessionStore):
    def __init__(self, session_key: str | None = None) -> None:
        super().__init__(session_key)
        self._unsaved = False  # the key is new: its row is INSERTed at the next save
        self._replaces: str | None = None  # the row that save deletes (the key before cycle_key)

    def _get_new_session_key(self) -> str:
        return get_random_string(32, VALID_KEY_CHARS)  # no existence query: the INSERT's primary key decides

    def create(self) -> None:
        """A new key, in memory; the row comes with the response's save."""
        if not hasattr(self, "_session_cache"):  # a key without a row: loading it would find nothing, drop the key
            self._session_cache: dict[str, Any] = {}
        self._session_key = self._get_new_session_key()
        self._unsaved = True
        self.modified = True

    def cycle_key(self) -> None:
        data = self._session  # type: ignore[attr-defined]  # SessionBase's own, not in django-stubs
        previous = self.session_key
        self.create()
        self._session_cache = data
        if previous and not self._replaces:
            self._replaces = previous  # a key made and cycled within one request was never written

    def save(self, must_create: bool = False) -> None:
        if self.session_key is None:
            self.create()
        if not (must_create or self._unsaved):
            self._write(insert=False)
            return
        for _ in range(CREATE_ATTEMPTS):
            try:
                self._write(insert=True)
            except CreateError:
                if must_create and not self._unsaved:
                    raise  # Django's contract for a caller that chose the key
                self._session_key = self._get_new_session_key()
                continue
            return
        raise CreateError

    def _write(self, *, insert: bool) -> None:
        data = self._get_session(no_load=insert)  # type: ignore[attr-defined]  # as above
        obj = self.create_model_instance(data)
        using = router.db_for_write(self.model, instance=obj)
        # One statement needs no transaction in autocommit; inside one (a test's), a savepoint keeps a collision
        # from breaking it.
        guard = transaction.atomic(using=using) if transaction.get_connection(using).in_atomic_block \
            else contextlib.nullcontext()
        try:
            with guard:
                moved = 0
                if insert and self._replaces and self._replaces != self.session_key:
                    moved = self.model.objects.using(using).filter(session_key=self._replaces).update(
                        session_key=obj.session_key, session_data=obj.session_data, expire_date=obj.expire_date)
                if not moved:
                    obj.save(force_insert=insert, force_update=not insert, using=using)
        except IntegrityError:
            if insert:
                raise CreateError from None
            raise
        except DatabaseError:
            if not insert:
                raise UpdateError from None
            raise
        self._unsaved = False
        self._replaces = None

    def delete(self, session_key: str | None = None) -> None:
        if session_key is None:
            if self.session_key is None:
                return
            session_key = self.session_key
        if session_key == self.session_key and self._unsaved:
            if self._replaces:
                self.model.objects.filter(session_key=self._replaces).delete()
                self._replaces = None
            self._unsaved = False
            return  # never written
        self.model.objects.filter(session_key=session_key).delete()

    def flush(self) -> None:
        super().flush()  # clear(), delete() (this key and the one it replaces), then no key
        self._unsaved = False
        self._replaces = None

    def load(self) -> dict[str, Any]:
        if self._unsaved:
            return {}  # its row is not written yet (the cache was dropped by clear())
        return dict(super().load())

    def _get_session_from_db(self) -> Any:
        """The row, with the configuration's generation read in the same statement. Written by hand: every request
        with a cookie runs it, and the ORM's annotated query costs more to build than to answer."""
        q = connection.ops.quote_name
        table, generation = q(self.model._meta.db_table), q(Generation._meta.db_table)
        # identifiers from the models' metadata, quoted; the key and the time are parameters
        sql = (f"SELECT {q('session_data')}, (SELECT {q('epoch')} FROM {generation} WHERE {q('id')} = 1), "  # noqa: S608
               f"(SELECT {q('value')} FROM {generation} WHERE {q('id')} = 1) FROM {table} "
               f"WHERE {q('session_key')} = %s AND {q('expire_date')} > %s")
        now = self.model._meta.get_field("expire_date").get_db_prep_value(timezone.now(), connection)
        with connection.cursor() as cursor:
            cursor.execute(sql, [self.session_key, now])
            row = cursor.fetchone()
        if row is None:
            self._session_key = None
            return None
        data, epoch, value = row
        if epoch is not None:
            freshness.prime((epoch, int(value)))
        return self.model(session_key=str(self.session_key), session_data=data)
