"""Registration ceremony: WebAuthn L3 §7.1 "Registering a New Credential", relying-party side.

Every check raises :class:`~passgate.core.errors.CeremonyRejected` with its own reason, in the
order of §7.1. py_webauthn parses CBOR / authenticator data / COSE keys and verifies the
attestation statement formats; its top-level ``verify_registration_response`` is not used.
Attestation trust is not decided here (see :mod:`passgate.core.webauthn._attestation`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from webauthn.helpers import aaguid_to_string
from webauthn.helpers.structs import AttestedCredentialData, AuthenticatorData

from passgate.core.errors import RejectReason
from passgate.core.webauthn._attestation import (
    SUPPORTED_FORMATS,
    AttestationObject,
    certificates,
    read_attestation_object,
    verify_statement,
)
from passgate.core.webauthn._keys import load_credential_key
from passgate.core.webauthn._parse import (
    CREATE,
    as_mapping,
    check_authenticator_flags,
    check_challenge_argument,
    check_client_data,
    read_client_data,
    read_envelope,
    read_response,
    reject,
    required_bytes,
)
from passgate.core.webauthn.types import MAX_CREDENTIAL_ID_LENGTH, RegisteredCredential, RelyingParty

_R = RejectReason

# AuthenticatorTransport values of WebAuthn L3 §5.8.4; anything else the client reports is dropped.
KNOWN_TRANSPORTS = ("usb", "nfc", "ble", "smart-card", "hybrid", "internal")


def _read_transports(response: Mapping[str, Any]) -> tuple[str, ...]:
    transports = response.get("transports")
    if transports is None:
        return ()
    if not isinstance(transports, list):
        reject(_R.MALFORMED_CREDENTIAL, "response.transports is not a list")
    # Informational only: keep the known strings, in the client's order, once each.
    return tuple(dict.fromkeys(t for t in transports if isinstance(t, str) and t in KNOWN_TRANSPORTS))


# ---------------------------------------------------------------------------------------------
# Checks
# ---------------------------------------------------------------------------------------------


def _attested_data(auth_data: AuthenticatorData, raw_id: bytes) -> AttestedCredentialData:
    acd = auth_data.attested_credential_data
    if not auth_data.flags.at or acd is None or not acd.credential_id:
        reject(_R.ATTESTED_DATA_MISSING, "authenticator data carries no attested credential data")
    if acd.credential_id != raw_id:
        reject(_R.ID_MISMATCH, "rawId is not the credential id in the authenticator data")
    return acd


def _check_credential_record(credential_id: bytes, registered: Callable[[bytes], bool]) -> None:
    if len(credential_id) > MAX_CREDENTIAL_ID_LENGTH:
        reject(_R.CREDENTIAL_ID_TOO_LONG, f"credential id is longer than {MAX_CREDENTIAL_ID_LENGTH} bytes")
    if registered(credential_id):
        reject(_R.CREDENTIAL_ALREADY_REGISTERED, "credential id is already registered")


def read_registration_challenge(credential: Mapping[str, Any]) -> bytes:
    """The challenge in a registration response's clientDataJSON, to find the issued one.

    Nothing is verified yet; call :func:`verify_registration` with the challenge found.
    """
    cred = as_mapping(credential, what="credential", reason=_R.MALFORMED_CREDENTIAL)
    _response, client_data_json = read_response(cred)
    return read_client_data(client_data_json).challenge


def verify_registration(
    *,
    rp: RelyingParty,
    credential: Mapping[str, Any],
    expected_challenge: bytes,
    credential_id_registered: Callable[[bytes], bool],
) -> RegisteredCredential:
    """Verify a registration response (``PublicKeyCredential.toJSON()`` of ``create()``).

    Raises :class:`~passgate.core.errors.CeremonyRejected` on the first failed check, and
    :class:`~passgate.core.errors.InvalidInput` if ``expected_challenge`` is shorter than 16 bytes.
    """
    check_challenge_argument(expected_challenge)
    envelope = read_envelope(credential)
    attestation_object = required_bytes(envelope.response, "attestationObject", reason=_R.MALFORMED_CREDENTIAL)
    transports = _read_transports(envelope.response)
    client_data = read_client_data(envelope.client_data_json)
    check_client_data(client_data, rp=rp, ceremony_type=CREATE, expected_challenge=expected_challenge)
    obj = read_attestation_object(attestation_object)
    check_authenticator_flags(obj.auth_data, rp=rp)
    acd = _attested_data(obj.auth_data, envelope.raw_id)
    key = load_credential_key(acd.credential_public_key, rp.allowed_algorithms)
    if obj.fmt not in SUPPORTED_FORMATS:
        reject(_R.UNSUPPORTED_ATTESTATION_FORMAT, f"attestation format {obj.fmt!r} is not supported")
    verify_statement(obj, envelope.client_data_json, acd, key)
    _check_credential_record(acd.credential_id, credential_id_registered)
    return _record(obj, acd, key.algorithm, transports, envelope.client_data_json)


def _record(
    obj: AttestationObject,
    acd: AttestedCredentialData,
    algorithm: int,
    transports: tuple[str, ...],
    cdj: bytes,
) -> RegisteredCredential:
    flags = obj.auth_data.flags
    return RegisteredCredential(
        credential_id=acd.credential_id,
        public_key=acd.credential_public_key,
        algorithm=algorithm,
        sign_count=obj.auth_data.sign_count,
        aaguid=aaguid_to_string(acd.aaguid),
        attestation_format=obj.fmt,
        transports=transports,
        backup_eligible=flags.be,
        backup_state=flags.bs,
        user_verified=flags.uv,
        attestation_object=obj.raw,
        client_data_json=cdj,
        attestation_certificates=certificates(obj.statement),
    )


__all__ = ["KNOWN_TRANSPORTS", "SUPPORTED_FORMATS", "read_registration_challenge", "verify_registration"]
