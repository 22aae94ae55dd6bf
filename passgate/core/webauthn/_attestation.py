"""Attestation objects and statements (WebAuthn L3 §6.5, §8), for the registration ceremony.

Attestation *trust* (trust anchors, certificate validity at a given time, MDS, revocation,
SafetyNet freshness) is not decided here: the format verifiers get empty root lists and
SafetyNet's timestamp check is off. Caveat: py_webauthn's ``apple``, ``android-key`` and
``android-safetynet`` verifiers always add their vendor roots (Apple WebAuthn CA, Google hardware
attestation roots, GlobalSign R2) and validate the chain with OpenSSL at the current time, so for
those three formats the library does anchor trust and does read the clock.

Before a format's verifier runs, its certificates go through the certificate requirements of
:mod:`passgate.core.webauthn._certificates`, one place for every format.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import cbor2
from webauthn.helpers import parse_attestation_object
from webauthn.helpers.structs import AttestationStatement, AttestedCredentialData, AuthenticatorData
from webauthn.registration.formats.android_key import verify_android_key
from webauthn.registration.formats.android_safetynet import verify_android_safetynet
from webauthn.registration.formats.apple import verify_apple
from webauthn.registration.formats.fido_u2f import verify_fido_u2f
from webauthn.registration.formats.packed import verify_packed
from webauthn.registration.formats.tpm import verify_tpm

from passgate.core.errors import CeremonyRejected, RejectReason
from passgate.core.webauthn._certificates import StatementCertificates, check_attestation_certificates
from passgate.core.webauthn._keys import CredentialKey
from passgate.core.webauthn._parse import as_mapping, reject

_R = RejectReason
NONE_FORMAT = "none"


@dataclass(frozen=True, slots=True)
class AttestationObject:
    raw: bytes
    fmt: str
    att_stmt: Mapping[Any, Any]  # as decoded, to check "none" has an empty map
    statement: AttestationStatement
    auth_data: AuthenticatorData
    auth_data_raw: bytes


# ---------------------------------------------------------------------------------------------
# Attestation statement formats (§8)
# ---------------------------------------------------------------------------------------------

_Verifier = Callable[[AttestationObject, bytes, AttestedCredentialData], bool]


def _over_credential_key(verify: Callable[..., bool]) -> _Verifier:
    """packed, tpm, android-key and apple verify the statement against the credential public key alike.

    No trust roots yet: anchoring the chain (FIDO MDS) is the attestation-trust issue.
    """

    def run(obj: AttestationObject, cdj: bytes, acd: AttestedCredentialData) -> bool:
        return verify(
            attestation_statement=obj.statement,
            attestation_object=obj.raw,
            client_data_json=cdj,
            credential_public_key=acd.credential_public_key,
            pem_root_certs_bytes=[],
        )

    return run


def _android_safetynet(obj: AttestationObject, cdj: bytes, acd: AttestedCredentialData) -> bool:
    # timestampMs freshness is attestation trust (later issue) and would read the clock.
    return verify_android_safetynet(
        attestation_statement=obj.statement,
        attestation_object=obj.raw,
        client_data_json=cdj,
        pem_root_certs_bytes=[],
        verify_timestamp_ms=False,
    )


def _fido_u2f(obj: AttestationObject, cdj: bytes, acd: AttestedCredentialData) -> bool:
    return verify_fido_u2f(
        attestation_statement=obj.statement,
        client_data_json=cdj,
        rp_id_hash=obj.auth_data.rp_id_hash,
        credential_id=acd.credential_id,
        credential_public_key=acd.credential_public_key,
        aaguid=acd.aaguid,
        pem_root_certs_bytes=[],
    )


# Matched case-sensitively (§7.1 "reg-ceremony-verify-attestation" preceding step).
_VERIFIERS: Mapping[str, _Verifier] = {
    "packed": _over_credential_key(verify_packed),
    "tpm": _over_credential_key(verify_tpm),
    "android-key": _over_credential_key(verify_android_key),
    "android-safetynet": _android_safetynet,
    "fido-u2f": _fido_u2f,
    "apple": _over_credential_key(verify_apple),
}
SUPPORTED_FORMATS = frozenset({NONE_FORMAT, *_VERIFIERS})


def _jws_certificates(response: bytes | None) -> tuple[bytes, ...]:
    """The x5c of an android-safetynet response's JWS header ((): unreadable, left to the format's verifier)."""
    if not isinstance(response, bytes):
        return ()
    try:
        header_b64 = response.split(b".")[0].decode("ascii")
        header = json.loads(base64.urlsafe_b64decode(header_b64 + "=" * (-len(header_b64) % 4)))
        return tuple(base64.b64decode(item.replace("-", "+").replace("_", "/") + "=" * (-len(item) % 4))
                     for item in header["x5c"])
    except Exception:  # noqa: BLE001 - any malformation: the SafetyNet verifier refuses the statement
        return ()


def statement_certificates(obj: AttestationObject) -> tuple[bytes, ...]:
    """The attestation certificates of any format, leaf first: ``x5c``, or the SafetyNet JWS header's."""
    if obj.fmt == "android-safetynet":
        return _jws_certificates(obj.statement.response)
    return certificates(obj.statement)


def verify_statement(obj: AttestationObject, cdj: bytes, acd: AttestedCredentialData, key: CredentialKey) -> None:
    """§7.1 step 21: the format's certificate requirements (one place for all formats), then its verifier."""
    if obj.fmt == NONE_FORMAT:
        if obj.att_stmt:
            reject(_R.ATTESTATION_INVALID, "'none' attestation must have an empty attStmt")
        return
    check_attestation_certificates(StatementCertificates(
        fmt=obj.fmt, certificates=statement_certificates(obj), aaguid=acd.aaguid, credential_key=key.public_key,
        auth_data=obj.auth_data_raw, client_data_hash=hashlib.sha256(cdj).digest(),
    ))
    try:
        verified = _VERIFIERS[obj.fmt](obj, cdj, acd)
    except Exception as exc:  # py_webauthn raises many types (its own, cryptography, asn1, KeyError)
        raise CeremonyRejected(_R.ATTESTATION_INVALID, f"{obj.fmt} attestation did not verify") from exc
    if verified is not True:
        reject(_R.ATTESTATION_INVALID, f"{obj.fmt} attestation did not verify")


# ---------------------------------------------------------------------------------------------
# Parsing
# ---------------------------------------------------------------------------------------------


def _decode_cbor_exactly(raw: bytes) -> object:
    """One CBOR item, no duplicate map keys, and nothing after it."""
    stream = io.BytesIO(raw)
    try:
        value = cbor2.CBORDecoder(stream, read_size=1, allow_duplicate_keys=False).decode()
    except Exception as exc:
        raise CeremonyRejected(_R.MALFORMED_ATTESTATION_OBJECT, "attestationObject is not CBOR") from exc
    if stream.tell() != len(raw):
        reject(_R.MALFORMED_ATTESTATION_OBJECT, "bytes left over after the attestationObject")
    return value


def read_attestation_object(raw: bytes) -> AttestationObject:
    top = as_mapping(_decode_cbor_exactly(raw), what="attestationObject", reason=_R.MALFORMED_ATTESTATION_OBJECT)
    fmt, att_stmt, auth_data = top.get("fmt"), top.get("attStmt"), top.get("authData")
    if not isinstance(fmt, str) or not isinstance(att_stmt, Mapping) or not isinstance(auth_data, bytes):
        reject(_R.MALFORMED_ATTESTATION_OBJECT, "attestationObject needs fmt (text), attStmt (map), authData")
    try:
        parsed = parse_attestation_object(raw)  # also refuses leftover bytes inside authData
    except Exception as exc:
        raise CeremonyRejected(_R.MALFORMED_ATTESTATION_OBJECT, "authenticator data is malformed") from exc
    return AttestationObject(raw, fmt, att_stmt, parsed.att_stmt, parsed.auth_data, auth_data)


def certificates(statement: AttestationStatement) -> tuple[bytes, ...]:
    x5c = statement.x5c
    if isinstance(x5c, list) and all(isinstance(cert, bytes) for cert in x5c):
        return tuple(x5c)
    return ()
