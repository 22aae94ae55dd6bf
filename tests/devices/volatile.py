"""What a soft key forgets at power-up (CTAP 2.1 §6.5.4 "at power-up"): the pinUvAuthToken and the state a
follow-up command may continue."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass
class PinUvAuthToken:
    """The one live pinUvAuthToken and its state (§6.5.2.1)."""

    protocol: int
    value: bytes
    permissions: int
    rp_id: str | None
    issued_at: float
    user_present: bool
    user_verified: bool = True


@dataclass(frozen=True)
class Continuation:
    """State a follow-up command may pick up, only as the very next command: getNextAssertion (§6.3),
    enumerateRPsGetNextRP (§6.8.3), enumerateCredentialsGetNextCredential (§6.8.4)."""

    kind: str
    items: tuple[Any, ...]
    deadline: float
    client_data_hash: bytes = b""
    flags: int = 0
    user_verified: bool = False
