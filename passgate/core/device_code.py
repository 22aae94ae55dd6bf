"""The device authorization grant's rules (RFC 8628): user codes, and how fast a device may poll.

- A user code is 8 letters from an alphabet without vowels (no words) and without letters that look alike
  (RFC 8628 §6.1's example alphabet ``BCDFGHJKLMNPQRSTVWXZ``), shown as ``XXXX-XXXX``: 20^8 (about 2^34.6)
  codes, and with a few live at a time and the entry throttled (``core.throttle``, ``device.user``) an online
  guess is hopeless. What a person types is read case-insensitively, with or without the dash and spaces.
- The device code is the device's secret: 256 random bits, stored as SHA-256 only (like authorization codes).
- Polling (§3.5): a poll sooner than ``interval`` seconds after the previous one is answered ``slow_down`` and
  the interval grows by 5 seconds for that one and every later poll.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

USER_CODE_ALPHABET = "BCDFGHJKLMNPQRSTVWXZ"
USER_CODE_LENGTH = 8
EXPIRES_IN = timedelta(minutes=10)
INTERVAL_SECONDS = 5
SLOW_DOWN_SECONDS = 5  # RFC 8628 §3.5: "increased by 5 seconds for this and all subsequent requests"
MAX_TYPED_LENGTH = 64  # what a person may type (spaces, dashes) before it is not a code at all


def user_code_new() -> str:
    """A fresh user code in its normalised form (8 letters, no dash)."""
    return "".join(secrets.choice(USER_CODE_ALPHABET) for _ in range(USER_CODE_LENGTH))


def user_code_display(code: str) -> str:
    """``BCDFGHJK`` as people read it: ``BCDF-GHJK``."""
    half = USER_CODE_LENGTH // 2
    return f"{code[:half]}-{code[half:]}"


def user_code_normalise(typed: object) -> str | None:
    """What a person typed as a user code (case, dashes and spaces ignored), or None when it can't be one."""
    if not isinstance(typed, str) or len(typed) > MAX_TYPED_LENGTH:
        return None
    letters = "".join(ch for ch in typed.upper() if ch not in "- \t")
    if len(letters) != USER_CODE_LENGTH or any(ch not in USER_CODE_ALPHABET for ch in letters):
        return None
    return letters


@dataclass(frozen=True, slots=True)
class Poll:
    slow_down: bool  # the device polled sooner than its interval
    interval: int  # the interval from now on (seconds)


def poll_check(*, last_polled_at: datetime | None, interval: int, now: datetime) -> Poll:
    """Whether this poll comes too soon after the previous one, and the interval from now on."""
    if last_polled_at is not None and now - last_polled_at < timedelta(seconds=interval):
        return Poll(slow_down=True, interval=interval + SLOW_DOWN_SECONDS)
    return Poll(slow_down=False, interval=interval)
