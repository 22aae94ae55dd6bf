"""Attestation objects and statements (WebAuthn L3 §6.5, §8), for the registration ceremony.

Attestation *trust* (trust anchors, certificate validity at a given time, MDS, revocation,
SafetyNet freshness) is not decided here: the format verifiers get empty root lists and
SafetyNet's timestamp check is off. Caveat: py_webauthn's ``apple``, ``android-key`` and
``android-safetynet`` verifiers always add their vendor roots (Apple WebAuthn CA, Google hardware
attestation roots, GlobalSign R2) and validate the chain with OpenSSL at the current time, so for
those three formats the library does anchor trust and does read the clock.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import cbor2
from pyasn1.codec.der import decoder as der_decoder
from pyasn1.type import univ
from pyasn1_modules import rfc5280
from webauthn.helpers import parse_attestation_object
from webauthn.helpers.structs import AttestationStatement, AttestedCredentialData, AuthenticatorData
from webauthn.registration.formats.android_key import verify_android_key
from webauthn.registration.formats.android_safetynet import verify_android_safetynet
from webauthn.registration.formats.apple import verify_apple
from webauthn.registration.formats.fido_u2f import verify_fido_u2f
from webauthn.registration.formats.packed import verify_packed
from webauthn.registration.formats.tpm import verify_tpm

from passgate.core.errors import CeremonyRejected, RejectReason
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


# id-fido-gen-ce-aaguid (§8.2.1, §8.3.1): if the attestation certificate has it, it must hold the
# authData AAGUID. py_webauthn 3.0.1 does not compare it (its TPM check is commented out). Read with
# pyasn1 (a py_webauthn dependency) because cryptography refuses the whole extension list of some
# certificates that py_webauthn otherwise accepts (e.g. an explicitly encoded default cA=FALSE).
_AAGUID_EXTENSION = univ.ObjectIdentifier("1.3.6.1.4.1.45724.1.1.4")
FORMATS_WITH_AAGUID_EXTENSION = frozenset({"packed", "tpm"})


def certificate_aaguid(leaf_der: bytes) -> bytes | None:
    """The raw value (a DER OCTET STRING) of the leaf's id-fido-gen-ce-aaguid extension, if any."""
    certificate, rest = der_decoder.decode(leaf_der, asn1Spec=rfc5280.Certificate())
    if rest:
        raise ValueError("bytes left over after the attestation certificate")
    extensions = certificate["tbsCertificate"]["extensions"]
    if not extensions.isValue:
        return None
    for extension in extensions:
        if extension["extnID"] == _AAGUID_EXTENSION:
            return bytes(extension["extnValue"])
    return None


def _check_aaguid_extension(obj: AttestationObject, acd: AttestedCredentialData) -> None:
    x5c = obj.statement.x5c
    if obj.fmt not in FORMATS_WITH_AAGUID_EXTENSION or not x5c:
        return
    try:
        aaguid_in_certificate = certificate_aaguid(x5c[0])
    except Exception as exc:
        raise CeremonyRejected(_R.ATTESTATION_INVALID, "attestation certificate does not parse") from exc
    # The extension value is a DER OCTET STRING of the 16-byte AAGUID.
    if aaguid_in_certificate is not None and aaguid_in_certificate != b"\x04\x10" + acd.aaguid:
        reject(_R.ATTESTATION_INVALID, "attestation certificate AAGUID differs from the authenticator data")


def verify_statement(obj: AttestationObject, cdj: bytes, acd: AttestedCredentialData) -> None:
    if obj.fmt == NONE_FORMAT:
        if obj.att_stmt:
            reject(_R.ATTESTATION_INVALID, "'none' attestation must have an empty attStmt")
        return
    try:
        verified = _VERIFIERS[obj.fmt](obj, cdj, acd)
    except Exception as exc:  # py_webauthn raises many types (its own, cryptography, asn1, KeyError)
        raise CeremonyRejected(_R.ATTESTATION_INVALID, f"{obj.fmt} attestation did not verify") from exc
    if verified is not True:
        reject(_R.ATTESTATION_INVALID, f"{obj.fmt} attestation did not verify")
    _check_aaguid_extension(obj, acd)


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
    return AttestationObject(raw, fmt, att_stmt, parsed.att_stmt, parsed.auth_data)


def certificates(statement: AttestationStatement) -> tuple[bytes, ...]:
    x5c = statement.x5c
    if isinstance(x5c, list) and all(isinstance(cert, bytes) for cert in x5c):
        return tuple(x5c)
    return ()
