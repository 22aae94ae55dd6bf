"""Device enrollment tokens: what an administrator hands to the person (or the script) that joins a computer.

A token is ``PGD-`` and 32 base32 characters (160 random bits), shown once and stored only as a keyed hash
(HMAC-SHA-256, compared in constant time), as Temporary Access Passes are. It is valid for a bounded time
(``MIN_LIFETIME_MINUTES``..``MAX_LIFETIME_MINUTES``) and for a number of joins (1 by default; up to ``MAX_USES``
for a batch of computers). Randomness and the clock come in as arguments.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta

from passgate.core.devices.errors import DeviceReason, DeviceRejected
from passgate.core.errors import InvalidInput

PREFIX = "PGD-"
RANDOM_BYTES = 20  # 160 bits
TOKEN_LENGTH = len(PREFIX) + 32
MIN_LIFETIME_MINUTES = 10
DEFAULT_LIFETIME_MINUTES = 60
MAX_LIFETIME_MINUTES = 7 * 24 * 60
MAX_USES = 1000


def generate(random_bytes: bytes) -> str:
    if len(random_bytes) != RANDOM_BYTES:
        raise InvalidInput(f"a device enrollment token needs {RANDOM_BYTES} random bytes")
    return PREFIX + base64.b32encode(random_bytes).decode("ascii")


def normalise(given: str) -> str:
    """Case and surrounding white space don't matter; anything not shaped like a token becomes ``""``."""
    text = given.strip().upper()
    body = text.removeprefix(PREFIX)
    if len(text) != TOKEN_LENGTH or not text.startswith(PREFIX) or any(c not in _B32 for c in body):
        return ""
    return text


_B32 = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")


def digest(secret_key: bytes, token: str) -> bytes:
    """The stored form. A malformed token gets the digest of ``""``, which no stored token has."""
    return hmac.new(secret_key, normalise(token).encode("ascii"), hashlib.sha256).digest()


def _whole(value: object, name: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise InvalidInput(f"The {name} must be a whole number from {low} to {high}.",
                           code="invalid_enrollment_token_settings")
    return value


def validate_issue(*, lifetime_minutes: object, uses: object) -> tuple[int, int]:
    return (_whole(lifetime_minutes, "lifetime in minutes", MIN_LIFETIME_MINUTES, MAX_LIFETIME_MINUTES),
            _whole(uses, "number of joins", 1, MAX_USES))


@dataclass(frozen=True, slots=True)
class TokenRecord:
    """What is stored about a token (never the token)."""

    created_at: datetime
    lifetime_minutes: int
    uses_left: int
    revoked: bool

    @property
    def expires_at(self) -> datetime:
        return self.created_at + timedelta(minutes=self.lifetime_minutes)


def require_usable(record: TokenRecord | None, *, now: datetime) -> None:
    """Refuse a token that matched nothing, was revoked, has expired or has no join left."""
    if record is None or record.revoked:
        raise DeviceRejected(DeviceReason.ENROLLMENT_TOKEN_INVALID, "That device enrollment token is not valid.")
    if now >= record.expires_at:
        raise DeviceRejected(DeviceReason.ENROLLMENT_TOKEN_EXPIRED, "That device enrollment token has expired: "
                             "ask your administrator for a new one.")
    if record.uses_left <= 0:
        raise DeviceRejected(DeviceReason.ENROLLMENT_TOKEN_USED, "That device enrollment token has been used for "
                             "as many computers as it allows: ask your administrator for a new one.")
