"""Does a person have a passkey to fall back on? (issue 14 item 14: the redundancy nudge and its report)

Losing the only passkey, or the one account every passkey is synced in, is a helpdesk call. A person's passkeys
are *fragile* when there is exactly one, or when every one of them is synced (backup eligible) by the same
provider, as its AAGUID tells (an iCloud Keychain, a Google Password Manager account). Device-bound passkeys are
each on their own device, whatever their model: two security keys of one model are two keys.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum


class Fragility(StrEnum):
    NONE = "none"  # no passkey at all: another question (registration campaigns), not this one
    SINGLE = "single"
    ONE_PROVIDER = "one_provider"
    REDUNDANT = "redundant"


@dataclass(frozen=True, slots=True)
class PasskeyKind:
    aaguid: str
    synced: bool


def fragility(passkeys: Sequence[PasskeyKind]) -> Fragility:
    if not passkeys:
        return Fragility.NONE
    if len(passkeys) == 1:
        return Fragility.SINGLE
    if all(p.synced for p in passkeys) and len({p.aaguid.lower() for p in passkeys}) == 1:
        return Fragility.ONE_PROVIDER
    return Fragility.REDUNDANT


NUDGE_INTERVAL = timedelta(days=30)  # "Not now" quiets the nudge this long


def nudge_due(found: Fragility, *, dismissed_at: datetime | None, now: datetime) -> bool:
    """Whether Security info should ask this person to add a second passkey now."""
    if found not in (Fragility.SINGLE, Fragility.ONE_PROVIDER):
        return False
    return dismissed_at is None or now - dismissed_at >= NUDGE_INTERVAL

