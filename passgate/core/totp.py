"""Authenticator-app codes: TOTP (RFC 6238) over HOTP (RFC 4226), SHA-1, 6 digits, 30-second steps.

Pure: the secret's random bytes and the current time come in as arguments. A code verifies within one step of
drift either side; the step it matched is returned so the caller can refuse any code of that step or an
earlier one afterwards (RFC 6238 §5.2: "the verifier MUST NOT accept the second attempt of the same OTP").
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import struct
from dataclasses import dataclass
from urllib.parse import quote, urlencode

from passgate.core.errors import InvalidInput, PassgateError

STEP_SECONDS = 30
DIGITS = 6
DRIFT_STEPS = 1
SECRET_BYTES = 20  # 160 bits, RFC 4226 §4 recommends this length


class TotpRejected(PassgateError):
    code = "totp_invalid"


@dataclass(frozen=True, slots=True)
class TotpMatch:
    step: int


def new_secret(random_bytes: bytes) -> bytes:
    if len(random_bytes) < SECRET_BYTES:
        raise InvalidInput(f"an authenticator-app secret needs {SECRET_BYTES} random bytes")
    return random_bytes[:SECRET_BYTES]


def secret_base32(secret: bytes) -> str:
    """How people type it into an app: base32 without padding, in groups of four."""
    text = base64.b32encode(secret).decode().rstrip("=")
    return " ".join(text[i : i + 4] for i in range(0, len(text), 4))


def provisioning_uri(secret: bytes, *, account: str, issuer: str) -> str:
    """``otpauth://totp/Issuer:account?secret=…&issuer=…`` (Google Authenticator key-URI format)."""
    label = quote(f"{issuer}:{account}", safe="@:")
    query = urlencode({"secret": base64.b32encode(secret).decode().rstrip("="), "issuer": issuer,
                       "algorithm": "SHA1", "digits": DIGITS, "period": STEP_SECONDS})
    return f"otpauth://totp/{label}?{query}"


def hotp(secret: bytes, counter: int) -> str:
    digest = hmac.new(secret, struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    value = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
    return str(value % 10**DIGITS).zfill(DIGITS)


def step_at(unix_time: float) -> int:
    return int(unix_time // STEP_SECONDS)


def code_at(secret: bytes, unix_time: float) -> str:
    return hotp(secret, step_at(unix_time))


def normalise(code: object) -> str:
    if not isinstance(code, str):
        raise TotpRejected("Enter the 6-digit code from your authenticator app.", code="totp_malformed")
    digits = "".join(ch for ch in code if not ch.isspace())
    if len(digits) != DIGITS or not digits.isascii() or not digits.isdigit():
        raise TotpRejected("Enter the 6-digit code from your authenticator app.", code="totp_malformed")
    return digits


def verify(secret: bytes, code: object, *, unix_time: float, last_used_step: int | None) -> TotpMatch:
    """The step ``code`` belongs to, within ±1 step; refuses reuse of that step or an earlier one."""
    given = normalise(code)
    now = step_at(unix_time)
    matched: int | None = None
    for step in range(max(0, now - DRIFT_STEPS), now + DRIFT_STEPS + 1):
        if hmac.compare_digest(hotp(secret, step), given):  # check all steps: same work whatever matches
            matched = step
    if matched is None:
        raise TotpRejected("That code isn't right. Check your authenticator app and try again.")
    if last_used_step is not None and matched <= last_used_step:
        raise TotpRejected("That code was already used. Wait for the next one.", code="totp_reused")
    return TotpMatch(step=matched)
