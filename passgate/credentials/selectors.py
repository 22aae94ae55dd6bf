"""Read-only queries about a person's authentication methods."""

from __future__ import annotations

import base64
import uuid
from collections.abc import Iterable, Mapping
from typing import Any

from django.db.models import Count, F, Q

from passgate.core.access.methods import AuthMethodMode
from passgate.core.redundancy import Fragility, PasskeyKind, fragility
from passgate.credentials.models import Passkey, SoftwareOathMethod, TemporaryAccessPass
from passgate.directory.models import User
from passgate.freshness.memo import memoized

_Table = type[Passkey] | type[TemporaryAccessPass] | type[SoftwareOathMethod]
_TABLES: dict[AuthMethodMode, _Table] = {
    AuthMethodMode.FIDO2: Passkey, AuthMethodMode.TAP_ONE_TIME: TemporaryAccessPass,
    AuthMethodMode.TAP_MULTI_USE: TemporaryAccessPass, AuthMethodMode.SOFTWARE_OATH: SoftwareOathMethod,
}


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


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


def fragile_passkey_holders(*, limit: int = 500) -> tuple[int, list[tuple[User, list[Passkey], Fragility]]]:
    """The people whose passkeys are fragile (``core.redundancy``: one passkey, or all synced by one provider), by
    user principal name: how many in all, and the first ``limit`` with their passkeys. The database narrows by
    counts; ``core.redundancy.fragility`` decides each row shown."""
    candidates = (User.objects.annotate(
        n=Count("passkeys", distinct=True),
        synced=Count("passkeys", filter=Q(passkeys__backup_eligible=True), distinct=True),
        models=Count("passkeys__aaguid", distinct=True))
        .filter(n__gte=1).filter(Q(n=1) | Q(synced=F("n"), models=1)).order_by("upn_normalized"))
    total = candidates.count()
    rows: list[tuple[User, list[Passkey], Fragility]] = []
    for user in candidates.prefetch_related("passkeys")[:limit]:
        passkeys = list(user.passkeys.all())
        found = fragility([PasskeyKind(aaguid=str(p.aaguid), synced=p.backup_eligible) for p in passkeys])
        if found in (Fragility.SINGLE, Fragility.ONE_PROVIDER):
            rows.append((user, passkeys, found))
    return total, rows


def passkey_signals(user: User, *, rp_id: str) -> dict[str, Any]:
    """What the browser's passkey provider should know (WebAuthn Signal API): the credentials Passgate still
    accepts for this person, and their current names. Sent after a sign-in and on Security info; the page's
    script calls ``signalAllAcceptedCredentials`` and ``signalCurrentUserDetails`` where the browser has them."""
    return {"rpId": rp_id, "userId": b64url(bytes(user.webauthn_user_handle)),
            "allAcceptedCredentialIds": [b64url(bytes(p.credential_id)) for p in passkeys_of(user)],
            "name": user.user_principal_name, "displayName": user.display_name}

