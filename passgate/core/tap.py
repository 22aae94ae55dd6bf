"""Temporary Access Pass: format, hashing and the decision whether a given pass is usable.

A pass is shown once and stored only as a keyed hash (HMAC-SHA-256 with a server key): passes are
high-entropy, so a fast keyed hash is right (no password-style stretching), and comparisons are
constant-time. Randomness and the clock come in as arguments.

Wrong guesses do not lock a pass (a stranger who knows the user name could lock it): ``core.throttle`` makes
guessers wait instead, and the guess space (``GUESS_SPACE``, about 2**78) keeps guessing hopeless at the rate it
allows (docs/security.md, "Guessable secrets").
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum, unique

from passgate.core.errors import InvalidInput, TemporaryAccessPassRejected

MIN_LIFETIME_MINUTES = 10
MAX_LIFETIME_MINUTES = 43_200
DEFAULT_LIFETIME_MINUTES = 60
# Crockford-style alphabet without look-alikes (0/O, 1/I/L, U).
ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"
TAP_LENGTH = 16  # 16 symbols of 30 -> ~78 bits
RANDOM_BYTES_NEEDED = TAP_LENGTH * 2
GUESS_SPACE = len(ALPHABET) ** TAP_LENGTH  # 30**16 = 4.3e23 passes a guesser must choose from


@unique
class TapState(StrEnum):
    USABLE = "usable"
    NOT_YET_VALID = "not_yet_valid"
    EXPIRED = "expired"
    USED = "used"
    REVOKED = "revoked"


TAP_MESSAGES = {
    TapState.NOT_YET_VALID: "This Temporary Access Pass is not valid yet.",
    TapState.EXPIRED: "This Temporary Access Pass has expired. Ask your administrator for a new one.",
    TapState.USED: "This Temporary Access Pass has already been used. Ask your administrator for a new one.",
    TapState.REVOKED: "This Temporary Access Pass was revoked.",
}


@dataclass(frozen=True, slots=True)
class TapRecord:
    """What is stored about a pass (never the pass itself)."""

    start: datetime
    lifetime_minutes: int
    is_usable_once: bool
    used: bool
    revoked: bool

    @property
    def expires(self) -> datetime:
        return self.start + timedelta(minutes=self.lifetime_minutes)


def validate_lifetime(minutes: int) -> int:
    if isinstance(minutes, bool) or not isinstance(minutes, int):
        raise InvalidInput("lifetimeInMinutes must be a whole number", code="invalid_tap_lifetime",
                           rule="whole_number")
    if not MIN_LIFETIME_MINUTES <= minutes <= MAX_LIFETIME_MINUTES:
        raise InvalidInput(
            f"lifetimeInMinutes must be between {MIN_LIFETIME_MINUTES} and {MAX_LIFETIME_MINUTES}",
            code="invalid_tap_lifetime", rule="range",
        )
    return minutes


def generate(random_bytes: bytes) -> str:
    """Turn ``RANDOM_BYTES_NEEDED`` random bytes into a pass, by rejection-free modulo over 16-bit words."""
    if len(random_bytes) < RANDOM_BYTES_NEEDED:
        raise InvalidInput("not enough random bytes for a Temporary Access Pass")
    symbols = []
    for i in range(TAP_LENGTH):
        word = int.from_bytes(random_bytes[2 * i : 2 * i + 2], "big")
        symbols.append(ALPHABET[word % len(ALPHABET)])
    return "".join(symbols)


def normalise(given: str) -> str:
    """What a person typed, made comparable: case, spaces and dashes do not matter."""
    return "".join(ch for ch in given.upper() if ch not in " -\t")


def digest(secret_key: bytes, tap: str) -> bytes:
    # Characters UTF-8 cannot carry (lone surrogates) become "?", which no pass contains.
    return hmac.new(secret_key, normalise(tap).encode("utf-8", "replace"), hashlib.sha256).digest()


NO_DIGEST = bytes(32)  # compared against when there is nothing to compare against: the same work either way


def find_match(given_digest: bytes, stored_digests: Sequence[bytes]) -> int | None:
    """The index of the stored digest equal to ``given_digest``, comparing (in constant time) against every one of
    them, and against a dummy when there are none, so the work does not depend on which matches or how many exist.
    """
    found = None
    for index, stored in enumerate(stored_digests or [NO_DIGEST]):
        if hmac.compare_digest(given_digest, stored) and stored_digests:
            found = index
    return found


def state(record: TapRecord, *, now: datetime) -> TapState:
    if record.revoked:
        return TapState.REVOKED
    if record.is_usable_once and record.used:
        return TapState.USED
    if now < record.start:
        return TapState.NOT_YET_VALID
    if now >= record.expires:
        return TapState.EXPIRED
    return TapState.USABLE


def require_usable(record: TapRecord, *, now: datetime) -> None:
    current = state(record, now=now)
    if current is not TapState.USABLE:
        raise TemporaryAccessPassRejected(TAP_MESSAGES[current], code=f"tap_{current.value}")


def display(tap: str) -> str:
    """Group in fours for reading aloud: ABCD-EFGH-JKMN-PQRS."""
    return "-".join(tap[i : i + 4] for i in range(0, len(tap), 4))
