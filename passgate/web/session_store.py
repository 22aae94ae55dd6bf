"""Django's database sessions, written once per request (``SESSION_ENGINE``; issue 11).

Same table, same rows, same cookie, same revocation as ``django.contrib.sessions.backends.db``; what changes is
when the rows are written:

- A new session (an anonymous ceremony binding its challenge, a sign-in) gets its key in memory; the row is
  INSERTed once, when the response saves the session. Django's store first asks whether a random key exists
  (a SELECT), INSERTs at once, then UPDATEs the same row at the response.
- ``cycle_key()`` (every sign-in, re-authentication and step-up: no session fixation) also keeps the new key in
  memory; the response's save INSERTs the new row and DELETEs the old one in one transaction. Django's store does
  the existence SELECT, an INSERT in its own transaction, a SELECT and a DELETE of the old row, then an UPDATE.
- Deleting a row is one DELETE (Django's store SELECTs it first).

Keys are 32 characters over [a-z0-9] (about 165 bits), as Django makes them; an INSERT that collides with an
existing row fails on the primary key and is retried with another key, never overwriting anyone's session. If the
response never saves (an exception, an empty session), nothing was written and the old row stays valid, exactly as
if the request had not happened.
"""

from __future__ import annotations

from typing import Any

from django.contrib.sessions.backends.base import VALID_KEY_CHARS, CreateError, UpdateError
from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore
from django.db import DatabaseError, IntegrityError, router, transaction
from django.utils.crypto import get_random_string

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
        try:
            with transaction.atomic(using=using):
                obj.save(force_insert=insert, force_update=not insert, using=using)
                if self._replaces and self._replaces != self.session_key:
                    self.model.objects.using(using).filter(session_key=self._replaces).delete()
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

    def exists(self, session_key: Any) -> bool:
        if session_key == self.session_key and self._unsaved:
            return True
        return bool(super().exists(session_key))
