"""Authentication ceremony: WebAuthn L3 §7.2 "Verifying an Authentication Assertion", RP side.

Every check raises :class:`~passgate.core.errors.CeremonyRejected` with its own reason, in the
order of §7.2. py_webauthn parses authenticator data and COSE keys and verifies the signature;
its top-level ``verify_authentication_response`` is not used.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from passgate.core.errors import CeremonyRejected, InvalidInput, RejectReason
from passgate.core.webauthn._keys import CredentialKey, KeyRejected, check_signature, decode_key
from passgate.core.webauthn._parse import (
    GET,
    b64url_decode,
    check_authenticator_flags,
    check_challenge_argument,
    check_client_data,
    read_authenticator_data,
    read_client_data,
    read_envelope,
    read_raw_id,
    read_response,
    reject,
    required_bytes,
)
from passgate.core.webauthn.types import AssertionHeader, RelyingParty, StoredCredential, VerifiedAssertion

_R = RejectReason


@dataclass(frozen=True, slots=True)
class _AssertionResponse:
    authenticator_data: bytes
    signature: bytes
    user_handle: bytes | None


def _read_user_handle(response: Mapping[str, Any]) -> bytes | None:
    """``userHandle``: absent, null or "" means none (an empty user.id is not a valid handle)."""
    value = response.get("userHandle")
    if value is None or value == "":
        return None
    return b64url_decode(value, what="userHandle", reason=_R.MALFORMED_CREDENTIAL)


def _read_assertion_response(response: Mapping[str, Any]) -> _AssertionResponse:
    """§7.2 step 3: the response must be an AuthenticatorAssertionResponse."""
    return _AssertionResponse(
        authenticator_data=required_bytes(response, "authenticatorData", reason=_R.MALFORMED_CREDENTIAL),
        signature=required_bytes(response, "signature", reason=_R.MALFORMED_CREDENTIAL),
        user_handle=_read_user_handle(response),
    )


def read_assertion_header(credential: Mapping[str, Any]) -> AssertionHeader:
    """Read rawId, the challenge and userHandle, to find the issued challenge and stored records.

    Nothing here is verified yet; call :func:`verify_authentication` with what was found.
    """
    cred, raw_id = read_raw_id(credential)
    response, client_data_json = read_response(cred)
    user_handle = _read_user_handle(response)
    client_data = read_client_data(client_data_json)
    return AssertionHeader(credential_id=raw_id, challenge=client_data.challenge, user_handle=user_handle)


def _identify(
    raw_id: bytes,
    user_handle: bytes | None,
    stored: StoredCredential,
    allowed_credential_ids: Sequence[bytes],
    require_user_handle: bool,
) -> None:
    """§7.2 steps 5-6: allowCredentials, the credential record, and its owner."""
    if allowed_credential_ids and raw_id not in allowed_credential_ids:
        reject(_R.CREDENTIAL_NOT_ALLOWED, "credential was not in allowCredentials")
    if raw_id != stored.credential_id:
        reject(_R.UNKNOWN_CREDENTIAL, "rawId is not the stored credential's id")
    if user_handle is None:
        if require_user_handle:
            reject(_R.USER_HANDLE_MISSING, "userHandle is required for a discoverable credential")
    elif not hmac.compare_digest(user_handle, stored.user_handle):
        reject(_R.USER_HANDLE_MISMATCH, "userHandle is not the credential owner's handle")


# A stored key that no longer meets the key rules (registered before they existed) is refused like a new one.
_KEY_RULES = frozenset({_R.CREDENTIAL_KEY_TOO_WEAK, _R.CREDENTIAL_KEY_INVALID, _R.UNSUPPORTED_CURVE,
                        _R.CREDENTIAL_KEY_ALG_MISMATCH})


def _stored_key(stored: StoredCredential) -> CredentialKey:
    try:
        return decode_key(stored.public_key)
    except KeyRejected as exc:
        if exc.reason in _KEY_RULES:
            raise CeremonyRejected(exc.reason, f"stored credential public key: {exc}") from exc
        raise InvalidInput(f"stored credential public key is unusable: {exc}") from exc


def _check_sign_count(new: int, stored: int) -> None:
    """§7.2 signCount step: if either counter is non-zero the new one must be greater.

    Policy: a regression is treated as a possible cloned authenticator and refused.
    """
    if (new != 0 or stored != 0) and new <= stored:
        reject(_R.SIGN_COUNT_REGRESSION, f"signCount {new} is not greater than the stored {stored}")


def verify_authentication(
    *,
    rp: RelyingParty,
    credential: Mapping[str, Any],
    expected_challenge: bytes,
    stored: StoredCredential,
    allowed_credential_ids: Sequence[bytes] = (),
    require_user_handle: bool = True,
) -> VerifiedAssertion:
    """Verify an assertion (``PublicKeyCredential.toJSON()`` of ``get()``) against ``stored``.

    ``require_user_handle`` is for the discoverable (usernameless) flow, where the userHandle is
    how the account was found. Raises :class:`~passgate.core.errors.CeremonyRejected` on the first
    failed check, :class:`~passgate.core.errors.InvalidInput` for a too-short
    ``expected_challenge`` or an unusable stored public key.
    """
    check_challenge_argument(expected_challenge)
    envelope = read_envelope(credential)
    response = _read_assertion_response(envelope.response)
    _identify(envelope.raw_id, response.user_handle, stored, allowed_credential_ids, require_user_handle)
    client_data = read_client_data(envelope.client_data_json)
    check_client_data(client_data, rp=rp, ceremony_type=GET, expected_challenge=expected_challenge)
    auth_data = read_authenticator_data(response.authenticator_data, reason=_R.MALFORMED_AUTHENTICATOR_DATA)
    check_authenticator_flags(auth_data, rp=rp)
    if auth_data.flags.be != stored.backup_eligible:
        reject(_R.BACKUP_ELIGIBILITY_CHANGED, "backup eligibility differs from the stored credential")
    signed = response.authenticator_data + hashlib.sha256(envelope.client_data_json).digest()
    check_signature(_stored_key(stored), response.signature, signed)
    _check_sign_count(auth_data.sign_count, stored.sign_count)
    return VerifiedAssertion(
        credential_id=envelope.raw_id,
        new_sign_count=auth_data.sign_count,
        backup_eligible=auth_data.flags.be,
        backup_state=auth_data.flags.bs,
        user_verified=auth_data.flags.uv,
    )
