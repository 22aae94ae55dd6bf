"""Attestation certificate requirements, for every attestation format at one place (WebAuthn L3 §8).

:func:`check_attestation_certificates` runs before the format's verifier (py_webauthn) on the certificates of
every statement (``x5c``; for ``android-safetynet`` the JWS header's ``x5c``), and refuses the first rule a
certificate breaks with that rule's :class:`~passgate.core.errors.RejectReason`:

every format
    each certificate parses (DER, nothing after it; the leaf's extensions decode, none twice):
    ``attestation_certificate_malformed``; each certificate's key meets the key rules of
    :func:`~passgate.core.keys.key_strength_problem` (RSA >= 2048 bits, curves >= 256 bits):
    ``attestation_certificate_key_too_weak``.
``packed`` (§8.2.1)
    version 3; subject with C (a two-letter ISO 3166 code), O, OU = "Authenticator Attestation" and CN;
    basic constraints present with CA false; id-fido-gen-ce-aaguid, if present, not critical and holding the
    authenticator data's AAGUID.
``tpm`` (§8.3.1)
    version 3; empty subject; a critical subject alternative name holding tcg-at-tpmManufacturer
    (``id:`` + 8 hex digits), tcg-at-tpmModel and tcg-at-tpmVersion (``id:`` + hex digits); extended key usage
    with tcg-kp-AIKCertificate (2.23.133.8.3); basic constraints with CA false; the AAGUID extension as above.
``android-key`` (§8.4)
    the leaf's key is the credential key; its key description (1.3.6.1.4.1.11129.2.1.17) carries
    attestationChallenge = clientDataHash; no allApplications in either authorization list; the TEE-enforced
    origin is KM_ORIGIN_GENERATED and purpose exactly KM_PURPOSE_SIGN (only TEE-enforced values count, as in
    py_webauthn).
``apple`` (§8.8)
    the nonce extension (1.2.840.113635.100.8.2) is DER ``SEQUENCE { [1] OCTET STRING }`` holding
    SHA-256(authenticatorData || clientDataHash); the leaf's key is the credential key.
``android-safetynet`` (§8.5)
    the leaf is issued to attest.android.com.
``fido-u2f`` (§8.6)
    nothing more (py_webauthn checks the single P-256 certificate).

py_webauthn 3.0.1 checks some of these too (the TPM profile without the AAGUID, android-key and apple); they are
repeated here so that each rule has its own reason code and does not depend on how the library parses (its apple
verifier, for one, skips six bytes of the nonce extension unread). Extensions are read with pyasn1 because
``cryptography`` refuses the whole extension list of some certificates that verify (e.g. an explicitly encoded
default ``cA FALSE``, as Chrome's virtual authenticator once sent).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.types import PublicKeyTypes
from cryptography.x509.oid import NameOID
from pyasn1.codec.ber import decoder as ber_decoder
from pyasn1.codec.der import decoder as der_decoder
from pyasn1.type import char, namedtype, tag, univ
from pyasn1_modules import rfc5280
from webauthn.helpers.asn1.android_key import KeyDescription

from passgate.core.errors import CeremonyRejected, RejectReason
from passgate.core.keys import key_strength_problem

_R = RejectReason

AAGUID_OID = "1.3.6.1.4.1.45724.1.1.4"  # id-fido-gen-ce-aaguid
FORMATS_WITH_AAGUID_EXTENSION = frozenset({"packed", "tpm"})
_BASIC_CONSTRAINTS, _SUBJECT_ALT_NAME, _EXTENDED_KEY_USAGE = "2.5.29.19", "2.5.29.17", "2.5.29.37"
_TCG_KP_AIK_CERTIFICATE = "2.23.133.8.3"
_TPM_MANUFACTURER, _TPM_MODEL, _TPM_VERSION = "2.23.133.2.1", "2.23.133.2.2", "2.23.133.2.3"
_ANDROID_KEY_DESCRIPTION = "1.3.6.1.4.1.11129.2.1.17"
_APPLE_NONCE = "1.2.840.113635.100.8.2"
_PACKED_OU = "Authenticator Attestation"
_SAFETYNET_HOSTNAME = "attest.android.com"
_V3 = 2  # X.509 version field value of a version 3 certificate
_KM_ORIGIN_GENERATED, _KM_PURPOSE_SIGN = 0, 2
_COUNTRY = re.compile(r"[A-Za-z]{2}")
_TPM_IDS: Mapping[str, tuple[str, re.Pattern[str]]] = {
    _TPM_MANUFACTURER: ("tcg-at-tpmManufacturer", re.compile(r"id:[0-9A-Fa-f]{8}")),
    _TPM_MODEL: ("tcg-at-tpmModel", re.compile(r"\S.*", re.DOTALL)),
    _TPM_VERSION: ("tcg-at-tpmVersion", re.compile(r"id:[0-9A-Fa-f]{1,16}")),
}


@dataclass(frozen=True, slots=True)
class StatementCertificates:
    """What the certificate rules read: the format, its certificates (leaf first) and what they must match."""

    fmt: str
    certificates: tuple[bytes, ...]
    aaguid: bytes
    credential_key: PublicKeyTypes
    auth_data: bytes
    client_data_hash: bytes


@dataclass(frozen=True, slots=True)
class _Extension:
    critical: bool
    value: bytes  # the DER inside extnValue


@dataclass(frozen=True, slots=True)
class _Leaf:
    version: int
    extensions: Mapping[str, _Extension]
    cert: x509.Certificate


def _malformed(message: str) -> CeremonyRejected:
    return CeremonyRejected(_R.ATTESTATION_CERTIFICATE_MALFORMED, message)


def _fail(reason: RejectReason, message: str) -> CeremonyRejected:
    return CeremonyRejected(reason, message)


# ---------------------------------------------------------------------------------------------
# Reading
# ---------------------------------------------------------------------------------------------


def certificate_extensions(der: bytes) -> tuple[int, Mapping[str, _Extension]]:
    """The X.509 version field and the extensions (dotted OID -> critical, value) of a DER certificate.

    :class:`ValueError` if it does not decode, has bytes after it, or repeats an extension (RFC 5280 §4.2).
    """
    try:
        certificate, rest = der_decoder.decode(der, asn1Spec=rfc5280.Certificate())
    except Exception as exc:  # pyasn1 raises its own error types, and TypeError/ValueError on odd input
        raise ValueError(f"not a DER X.509 certificate ({exc})") from exc
    if rest:
        raise ValueError("bytes left over after the certificate")
    tbs = certificate["tbsCertificate"]
    found: dict[str, _Extension] = {}
    if tbs["extensions"].isValue:
        for extension in tbs["extensions"]:
            oid = str(extension["extnID"])
            if oid in found:
                raise ValueError(f"extension {oid} appears twice")
            found[oid] = _Extension(bool(extension["critical"]), bytes(extension["extnValue"]))
    return int(tbs["version"]), found


def certificate_aaguid(leaf_der: bytes) -> bytes | None:
    """The raw value (a DER OCTET STRING) of the leaf's id-fido-gen-ce-aaguid extension, if any."""
    extension = certificate_extensions(leaf_der)[1].get(AAGUID_OID)
    return extension.value if extension is not None else None


def _decode(value: bytes, spec: Any, what: str, *, ber: bool = False) -> Any:
    try:
        decoded, rest = (ber_decoder if ber else der_decoder).decode(value, asn1Spec=spec)
    except Exception as exc:
        raise _malformed(f"the attestation certificate's {what} does not decode") from exc
    if rest:
        raise _malformed(f"bytes left over after the attestation certificate's {what}")
    return decoded


def _load(der: bytes, index: int) -> x509.Certificate:
    try:
        cert = x509.load_der_x509_certificate(der)
        _ = cert.subject
    except (ValueError, x509.InvalidVersion) as exc:
        raise _malformed(f"x5c[{index}] is not a usable X.509 certificate") from exc
    return cert


def _public_key(cert: x509.Certificate, index: int) -> PublicKeyTypes:
    try:
        return cert.public_key()
    except Exception as exc:  # ValueError, UnsupportedAlgorithm
        raise CeremonyRejected(_R.ATTESTATION_CERTIFICATE_KEY_TOO_WEAK,
                               f"x5c[{index}] has a public key of a kind WebAuthn does not use") from exc


# ---------------------------------------------------------------------------------------------
# Rules shared by packed and tpm
# ---------------------------------------------------------------------------------------------


def _check_version(leaf: _Leaf, fmt: str) -> None:
    if leaf.version != _V3:
        raise _fail(_R.ATTESTATION_CERTIFICATE_VERSION,
                    f"the {fmt} attestation certificate is X.509 version {leaf.version + 1}, not 3")


def _check_not_ca(leaf: _Leaf, fmt: str) -> None:
    extension = leaf.extensions.get(_BASIC_CONSTRAINTS)
    if extension is None:
        raise _fail(_R.ATTESTATION_CERTIFICATE_CA,
                    f"the {fmt} attestation certificate has no basic constraints extension (CA must be false)")
    constraints = _decode(extension.value, rfc5280.BasicConstraints(), "basic constraints")
    if bool(constraints["cA"]):
        raise _fail(_R.ATTESTATION_CERTIFICATE_CA, f"the {fmt} attestation certificate is a CA certificate (CA=true)")


def _check_aaguid(leaf: _Leaf, fmt: str, aaguid: bytes) -> None:
    extension = leaf.extensions.get(AAGUID_OID)
    if extension is None:
        return
    if extension.critical:
        raise _fail(_R.ATTESTATION_CERTIFICATE_AAGUID,
                    f"the {fmt} attestation certificate's AAGUID extension is marked critical")
    try:
        value, rest = der_decoder.decode(extension.value, asn1Spec=univ.OctetString())
    except Exception as exc:
        raise _fail(_R.ATTESTATION_CERTIFICATE_AAGUID,
                    f"the {fmt} attestation certificate's AAGUID extension is not an OCTET STRING") from exc
    if rest or bytes(value) != aaguid:
        raise _fail(_R.ATTESTATION_CERTIFICATE_AAGUID,
                    f"the {fmt} attestation certificate's AAGUID differs from the authenticator data")


# ---------------------------------------------------------------------------------------------
# Per format
# ---------------------------------------------------------------------------------------------


def _names(cert: x509.Certificate, oid: x509.ObjectIdentifier) -> list[str]:
    return [value for value in (attribute.value for attribute in cert.subject.get_attributes_for_oid(oid))
            if isinstance(value, str)]


def _packed(leaf: _Leaf, ctx: StatementCertificates) -> None:
    _check_version(leaf, "packed")
    missing = [
        label
        for label, ok in (
            ("C (a two-letter ISO 3166 country code)",
             any(_COUNTRY.fullmatch(c) for c in _names(leaf.cert, NameOID.COUNTRY_NAME))),
            ("O", any(o.strip() for o in _names(leaf.cert, NameOID.ORGANIZATION_NAME))),
            (f'OU "{_PACKED_OU}"', _PACKED_OU in _names(leaf.cert, NameOID.ORGANIZATIONAL_UNIT_NAME)),
            ("CN", any(cn.strip() for cn in _names(leaf.cert, NameOID.COMMON_NAME))),
        )
        if not ok
    ]
    if missing:
        raise _fail(_R.ATTESTATION_CERTIFICATE_SUBJECT,
                    f"the packed attestation certificate's subject lacks {', '.join(missing)}")
    _check_not_ca(leaf, "packed")
    _check_aaguid(leaf, "packed", ctx.aaguid)


def _tpm_names(extension: _Extension) -> dict[str, list[str]]:
    """The values of the attributes of every directoryName in a subject alternative name, by attribute OID."""
    names: dict[str, list[str]] = {}
    for general_name in _decode(extension.value, rfc5280.SubjectAltName(), "subject alternative name"):
        if general_name.getName() != "directoryName":
            continue
        for rdn in general_name["directoryName"]["rdnSequence"]:
            for attribute in rdn:
                value = _decode(bytes(attribute["value"]), None, "subject alternative name")
                text = str(value) if isinstance(value, char.AbstractCharacterString) else ""
                names.setdefault(str(attribute["type"]), []).append(text)
    return names


def _tpm(leaf: _Leaf, ctx: StatementCertificates) -> None:
    _check_version(leaf, "tpm")
    if len(leaf.cert.subject) != 0:
        raise _fail(_R.ATTESTATION_CERTIFICATE_SUBJECT, "the TPM attestation (AIK) certificate's subject is not empty")
    san = leaf.extensions.get(_SUBJECT_ALT_NAME)
    if san is None or not san.critical:
        raise _fail(_R.ATTESTATION_CERTIFICATE_SAN,
                    "the TPM attestation certificate needs a critical subject alternative name")
    names = _tpm_names(san)
    for oid, (label, pattern) in _TPM_IDS.items():
        values = names.get(oid, [])
        if len(values) != 1 or not pattern.fullmatch(values[0]):
            raise _fail(_R.ATTESTATION_CERTIFICATE_SAN, f"the TPM attestation certificate's subject alternative "
                        f"name needs exactly one valid {label}, found {values!r}")
    eku = leaf.extensions.get(_EXTENDED_KEY_USAGE)
    usages = [str(oid) for oid in _decode(eku.value, rfc5280.ExtKeyUsageSyntax(), "extended key usage")] if eku else []
    if _TCG_KP_AIK_CERTIFICATE not in usages:
        raise _fail(_R.ATTESTATION_CERTIFICATE_EKU,
                    f"the TPM attestation certificate's extended key usage lacks tcg-kp-AIKCertificate "
                    f"({_TCG_KP_AIK_CERTIFICATE})")
    _check_not_ca(leaf, "tpm")
    _check_aaguid(leaf, "tpm", ctx.aaguid)


def _spki(key: PublicKeyTypes) -> bytes | None:
    try:
        return key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    except Exception:  # noqa: BLE001 - a key type without a SubjectPublicKeyInfo form matches nothing
        return None


def _check_key_is_credential_key(leaf: _Leaf, ctx: StatementCertificates) -> None:
    leaf_key = _spki(_public_key(leaf.cert, 0))
    if leaf_key is None or leaf_key != _spki(ctx.credential_key):
        raise _fail(_R.ATTESTATION_CERTIFICATE_KEY_MISMATCH,
                    f"the {ctx.fmt} attestation certificate's public key is not the credential public key")


def _android_key(leaf: _Leaf, ctx: StatementCertificates) -> None:
    _check_key_is_credential_key(leaf, ctx)
    extension = leaf.extensions.get(_ANDROID_KEY_DESCRIPTION)
    if extension is None:
        raise _fail(_R.ATTESTATION_CHALLENGE_MISMATCH, "the android-key attestation certificate has no key "
                    f"description extension ({_ANDROID_KEY_DESCRIPTION}), so no attestation challenge")
    description = _decode(extension.value, KeyDescription(), "Android key description", ber=True)
    if bytes(description["attestationChallenge"]) != ctx.client_data_hash:
        raise _fail(_R.ATTESTATION_CHALLENGE_MISMATCH,
                    "the android-key attestationChallenge is not the hash of this registration's client data")
    software, tee = description["softwareEnforced"], description["teeEnforced"]
    if software["allApplications"].isValue or tee["allApplications"].isValue:
        raise _fail(_R.ATTESTATION_KEY_AUTHORIZATION,
                    "the Android key may be used by all applications (allApplications), not only by this RP ID")
    origin = int(tee["origin"]) if tee["origin"].isValue else None
    if origin != _KM_ORIGIN_GENERATED:
        raise _fail(_R.ATTESTATION_KEY_AUTHORIZATION,
                    f"the Android key's TEE-enforced origin is {origin}, not generated in the device (0)")
    purposes = sorted(int(purpose) for purpose in tee["purpose"]) if tee["purpose"].isValue else []
    if purposes != [_KM_PURPOSE_SIGN]:
        raise _fail(_R.ATTESTATION_KEY_AUTHORIZATION,
                    f"the Android key's TEE-enforced purpose is {purposes}, not signing only ([2])")


# SEQUENCE { nonce [1] EXPLICIT OCTET STRING }
_APPLE_NONCE_SPEC = univ.Sequence(componentType=namedtype.NamedTypes(
    namedtype.NamedType("nonce", univ.OctetString().subtype(
        explicitTag=tag.Tag(tag.tagClassContext, tag.tagFormatSimple, 1))),
))


def _apple(leaf: _Leaf, ctx: StatementCertificates) -> None:
    extension = leaf.extensions.get(_APPLE_NONCE)
    if extension is None:
        raise _fail(_R.ATTESTATION_CHALLENGE_MISMATCH,
                    f"the apple attestation certificate has no nonce extension ({_APPLE_NONCE})")
    nonce = bytes(_decode(extension.value, _APPLE_NONCE_SPEC.clone(), "nonce extension")["nonce"])
    if nonce != hashlib.sha256(ctx.auth_data + ctx.client_data_hash).digest():
        raise _fail(_R.ATTESTATION_CHALLENGE_MISMATCH,
                    "the apple attestation nonce is not SHA-256 of this registration's authenticator and client data")
    _check_key_is_credential_key(leaf, ctx)


def _android_safetynet(leaf: _Leaf, ctx: StatementCertificates) -> None:
    if _names(leaf.cert, NameOID.COMMON_NAME) != [_SAFETYNET_HOSTNAME]:
        raise _fail(_R.ATTESTATION_CERTIFICATE_SUBJECT,
                    f"the SafetyNet attestation certificate is not issued to {_SAFETYNET_HOSTNAME}")


_FORMAT_RULES: Mapping[str, Callable[[_Leaf, StatementCertificates], None]] = {
    "packed": _packed,
    "tpm": _tpm,
    "android-key": _android_key,
    "apple": _apple,
    "android-safetynet": _android_safetynet,
}


def check_attestation_certificates(ctx: StatementCertificates) -> None:
    """Refuse the first certificate requirement of ``ctx.fmt`` that ``ctx.certificates`` break (none: no-op)."""
    if not ctx.certificates:
        return
    chain = [_load(der, index) for index, der in enumerate(ctx.certificates)]
    try:
        version, extensions = certificate_extensions(ctx.certificates[0])
    except ValueError as exc:
        raise _malformed(f"x5c[0] is not a usable X.509 certificate: {exc}") from exc
    for index, cert in enumerate(chain):
        problem = key_strength_problem(_public_key(cert, index))
        if problem is not None:
            raise _fail(_R.ATTESTATION_CERTIFICATE_KEY_TOO_WEAK, f"x5c[{index}]: {problem[1]}")
    rules = _FORMAT_RULES.get(ctx.fmt)
    if rules is not None:
        try:
            rules(_Leaf(version, extensions, chain[0]), ctx)
        except ValueError as exc:  # cryptography on a subject attribute it cannot read
            raise _malformed(f"the {ctx.fmt} attestation certificate does not decode: {exc}") from exc
