"""Read-only queries about a person's authentication methods."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping

from passgate.core.access.methods import AuthMethodMode
from passgate.credentials.models import Passkey, SoftwareOathMethod, TemporaryAccessPass
from passgate.directory.models import User
from passgate.freshness.memo import memoized

_Table = type[Passkey] | type[TemporaryAccessPass] | type[SoftwareOathMethod]
_TABLES: dict[AuthMethodMode, _Table] = {
    AuthMethodMode.FIDO2: Passkey, AuthMethodMode.TAP_ONE_TIME: TemporaryAccessPass,
    AuthMethodMode.TAP_MULTI_USE: TemporaryAccessPass, AuthMethodMode.SOFTWARE_OATH: SoftwareOathMethod,
}


def passkeys_of(user: User) -> tuple[Passkey, ...]:
    """``user``'s passkeys, oldest first (read once per request: the session check, the page and the policy's
    questions share it). For reading: a ceremony loads the passkey it changes itself."""
    return memoized(("credentials.passkeys", user.pk), lambda: tuple(user.passkeys.all()))


def methods_registered(*, user: User, method_ids: Mapping[AuthMethodMode, Iterable[str]]) -> frozenset[str]:
    """Which of the method ids (by the mode they were used as) are still registered to ``user``: one query per kind
    of method (a session has proved one kind or two), none for nothing."""
    wanted: dict[_Table, list[uuid.UUID]] = {}
    for mode, ids in method_ids.items():
        table = _TABLES.get(mode)
        for value in ids:
            try:
                key = uuid.UUID(value)
            except (ValueError, TypeError, AttributeError):
                continue
            if table is not None:
                wanted.setdefault(table, []).append(key)
    found: set[str] = set()
    passkey_ids = wanted.pop(Passkey, None)
    if passkey_ids is not None:
        present = {p.pk for p in passkeys_of(user)}
        found.update(str(pk) for pk in passkey_ids if pk in present)
    for table, keys in wanted.items():
        found.update(str(pk) for pk in table.objects.filter(user=user, pk__in=keys).order_by()
                     .values_list("pk", flat=True))
    return frozenset(found)
