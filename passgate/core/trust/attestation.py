"""Attestation trust: does a registered credential prove its make and model (WebAuthn L3 §7.1 steps
``reg-ceremony-assess-trust``), and what to record about it.

``verify_registration`` has already checked the attestation *statement* (signatures, nonces, the format's
certificate requirements). This module decides *trust*, at a verification time given by the caller:

1. ``none`` attestation and packed self attestation (no ``x5c``) prove nothing: ``notAttested``.
2. The certificates (``x5c``, leaf first; for ``android-safetynet`` the JWS header's ``x5c``) must parse, hold no
   self-signed root (FIDO conformance Resp-5 F-10: the root comes from metadata, never from the authenticator;
   Android Keystore, which always returns its whole chain, may include the Google root that is also a trust
   anchor; a lone self-signed attestation certificate is accepted only when the metadata lists that very
   certificate as a root), carry the authenticator data's AAGUID in id-fido-gen-ce-aaguid when present
   (packed, tpm), and be within their validity dates at ``now``.
3. SafetyNet responses must be fresh (``timestampMs`` within ±60 s of ``now``) and, unless the caller says
   otherwise, report ``ctsProfileMatch``.
4. Trust anchors: the FIDO MDS entry for the AAGUID (for ``fido-u2f``, and for an all-zero AAGUID, the entry
   listing the leaf's key identifier: hex SHA-1 of its public key bits). For ``apple``, ``android-key`` and
   ``android-safetynet`` the caller's ``extra_roots`` (see :func:`known_vendor_roots`) are anchors too, and
   without an MDS entry a chain to them is enough (platform authenticators are rarely in MDS). An anchor whose
   key breaks the key rules of :mod:`passgate.core.keys` (e.g. RSA under 2048 bits) is ignored.
5. The chain must verify from the leaf through the ``x5c`` intermediates to an anchor, every issuer a CA and
   every certificate on the path (the anchor included) valid at ``now``. An anchor may be an intermediate
   (MDS lists some): the path stops at the first certificate that is, or is issued by, an anchor.
6. The MDS entry's latest status must not be one of ``UNTRUSTED_STATUSES``.

Pure: no clock (``now`` is an argument), no I/O. Every outcome is an :class:`AttestationAssessment`; nothing
here raises on untrusted input.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum, unique
from typing import Final

import cbor2
from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from webauthn.helpers import known_root_certs

from passgate.core.errors import InvalidInput
from passgate.core.keys import key_strength_problem
from passgate.core.trust.mds import (
    UNTRUSTED_STATUSES,
    AuthenticatorStatus,
    CertificationLevel,
    MetadataEntry,
    MetadataSnapshot,
)
from passgate.core.webauthn._certificates import FORMATS_WITH_AAGUID_EXTENSION, certificate_aaguid
from passgate.core.webauthn.types import RegisteredCredential

SAFETYNET_WINDOW: Final = timedelta(seconds=60)
MAX_CHAIN_LENGTH: Final = 8
VENDOR_ROOT_FORMATS: Final = frozenset({"apple", "android-key", "android-safetynet"})
ZERO_AAGUID: Final = "00000000-0000-0000-0000-000000000000"
HINT_MODELS: Final = 3

_VENDOR_ROOT_NAMES: Final[Mapping[str, tuple[str, ...]]] = {
    "apple": ("apple_webauthn_root_ca",),
    "android-key": tuple(f"google_hardware_attestation_root_{n}" for n in range(1, 10)),
    "android-safetynet": ("globalsign_root_ca", "globalsign_r2"),
}


@unique
class AttestationLevel(StrEnum):
    """What is recorded per credential (the Graph ``attestationLevel`` values)."""

    ATTESTED = "attested"
    NOT_ATTESTED = "notAttested"


@unique
class AttestationReason(StrEnum):
    """Why an assessment came out as it did (``attested`` is the only trusted one)."""

    ATTESTED = "attested"
    NO_ATTESTATION = "no_attestation"  # fmt "none"
    SELF_ATTESTATION = "self_attestation"  # packed without x5c
    NO_METADATA = "no_metadata"  # no snapshot, or no entry for the AAGUID / U2F key identifier
    UNTRUSTED_STATUS = "untrusted_status"  # the entry's latest status is in UNTRUSTED_STATUSES
    CHAIN_UNTRUSTED = "chain_untrusted"  # x5c does not chain to any acceptable root
    CERTIFICATE_EXPIRED = "certificate_expired"
    CERTIFICATE_NOT_YET_VALID = "certificate_not_yet_valid"
    ROOT_IN_X5C = "root_in_x5c"
    AAGUID_MISMATCH = "aaguid_mismatch"  # id-fido-gen-ce-aaguid differs from authData (packed, tpm)
    SAFETYNET_STALE = "safetynet_stale"  # timestampMs outside now ± 60 s
    SAFETYNET_CTS_PROFILE_MISMATCH = "safetynet_cts_profile_mismatch"  # ctsProfileMatch false
    UNSUPPORTED = "unsupported"  # unknown format, missing or unparseable certificates


@dataclass(frozen=True, slots=True)
class AttestationAssessment:
    """The trust decision for one registration, and what to record with the credential.

    ``thumbprints`` are the upper-case hex SHA-1 of each attestation certificate, leaf first (as Microsoft
    Graph shows them). ``entry`` is the MDS entry found for the authenticator (also when the decision is a
    refusal), for the model name, certification level and status at registration. ``accepted_models_hint``
    is set on refusals: a short description of which keys would be accepted.
    """

    fmt: str
    level: AttestationLevel
    reason: AttestationReason
    message: str
    entry: MetadataEntry | None = None
    thumbprints: tuple[str, ...] = ()
    accepted_models_hint: str = ""

    @property
    def attested(self) -> bool:
        return self.level is AttestationLevel.ATTESTED

    @property
    def model(self) -> str | None:
        """The MDS description of the authenticator model, if an entry was found."""
        return self.entry.description if self.entry is not None else None

    @property
    def certification_level(self) -> CertificationLevel | None:
        return self.entry.certification_level if self.entry is not None else None

    @property
    def status(self) -> AuthenticatorStatus | None:
        """The entry's latest status at registration time."""
        return self.entry.status if self.entry is not None else None


def known_vendor_roots(fmt: str) -> tuple[bytes, ...]:
    """DER vendor roots for ``apple`` / ``android-key`` / ``android-safetynet`` as py_webauthn ships them
    (``webauthn.helpers.known_root_certs``); empty for any other format."""
    ders = []
    for name in _VENDOR_ROOT_NAMES.get(fmt, ()):
        pem = getattr(known_root_certs, name, None)
        if isinstance(pem, str | bytes):
            text = pem.encode() if isinstance(pem, str) else pem
            ders.append(x509.load_pem_x509_certificate(text).public_bytes(serialization.Encoding.DER))
    return tuple(ders)


class _Refusal(Exception):
    def __init__(self, reason: AttestationReason, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


def assess_attestation(
    *,
    credential: RegisteredCredential,
    snapshot: MetadataSnapshot | None,
    now: datetime,
    extra_roots: Sequence[bytes] = (),
    require_cts_profile_match: bool = True,
) -> AttestationAssessment:
    """Decide whether ``credential``'s attestation is trusted at ``now`` (timezone-aware).

    ``snapshot`` is the verified MDS snapshot in force (``None`` if none is loaded). ``extra_roots`` (DER) are
    additional anchors for the vendor formats apple, android-key and android-safetynet only; pass
    ``known_vendor_roots(fmt)`` to use the public vendor roots. ``require_cts_profile_match`` is the SafetyNet
    policy knob (on by default).
    """
    if now.tzinfo is None or now.utcoffset() is None:
        raise InvalidInput("the verification time must be timezone-aware")
    now = now.astimezone(UTC)
    fmt = credential.attestation_format
    hint = accepted_models_hint(snapshot)
    entry: MetadataEntry | None = None
    thumbprints: tuple[str, ...] = ()

    def refused(reason: AttestationReason, message: str) -> AttestationAssessment:
        return AttestationAssessment(fmt, AttestationLevel.NOT_ATTESTED, reason, message, entry, thumbprints, hint)

    if fmt == "none":
        return refused(
            AttestationReason.NO_ATTESTATION,
            "the authenticator gave no attestation (format 'none'), so its make and model are unknown",
        )
    try:
        safetynet = _safetynet(credential.attestation_object) if fmt == "android-safetynet" else None
        ders = safetynet.x5c if safetynet is not None else tuple(credential.attestation_certificates)
        thumbprints = tuple(hashlib.sha1(der, usedforsecurity=False).hexdigest().upper() for der in ders)
        if not ders:
            if fmt == "packed":
                return refused(
                    AttestationReason.SELF_ATTESTATION,
                    "the key attested itself (packed self attestation): that proves nothing about its make or model",
                )
            raise _Refusal(AttestationReason.UNSUPPORTED, f"{fmt} attestation without certificates")
        if len(ders) > MAX_CHAIN_LENGTH:
            raise _Refusal(
                AttestationReason.UNSUPPORTED, f"{len(ders)} attestation certificates, more than {MAX_CHAIN_LENGTH}"
            )
        chain = [_load(der, f"x5c[{index}]") for index, der in enumerate(ders)]
        entry = _find_entry(fmt, credential.aaguid, chain[0], snapshot)
        anchors = [
            *(entry.attestation_root_certificates if entry is not None else ()),
            *(extra_roots if fmt in VENDOR_ROOT_FORMATS else ()),
        ]
        anchor_certs = [cert for cert in (_load_anchor(der) for der in anchors) if cert is not None]
        _check_no_root(fmt, chain, anchor_certs)
        if fmt in FORMATS_WITH_AAGUID_EXTENSION:
            _check_aaguid(ders[0], credential.aaguid)
        _check_dates(chain, now)
        if safetynet is not None:
            _check_safetynet(safetynet, now, require_cts_profile_match=require_cts_profile_match)
        if not anchor_certs:
            if entry is None:
                raise _Refusal(AttestationReason.NO_METADATA, _no_metadata_message(fmt, credential, snapshot))
            raise _Refusal(
                AttestationReason.CHAIN_UNTRUSTED,
                f"the metadata entry for {_name(entry)} lists no usable attestation root certificate",
            )
        path_anchor = _build_path(chain, anchor_certs, now)
        if entry is not None and entry.status in UNTRUSTED_STATUSES:
            raise _Refusal(
                AttestationReason.UNTRUSTED_STATUS,
                f"{_name(entry)} has FIDO metadata status {entry.status.value}"
                + (f" since {entry.status_effective_date.isoformat()}" if entry.status_effective_date else "")
                + ": keys of this model are no longer trusted",
            )
    except _Refusal as refusal:
        return refused(refusal.reason, refusal.message)
    what = _name(entry) if entry is not None else f"a {fmt} authenticator"
    return AttestationAssessment(
        fmt,
        AttestationLevel.ATTESTED,
        AttestationReason.ATTESTED,
        f"attested: {what}, certificate chain verified to {_subject(path_anchor)} at {now.isoformat()}",
        entry,
        thumbprints,
    )


def accepted_models_hint(snapshot: MetadataSnapshot | None) -> str:
    """Which keys an attestation-enforcing policy accepts, naming up to three certified models."""
    base = "security keys listed in the FIDO Metadata Service with attestation"
    if snapshot is None:
        return base + " (no FIDO metadata is loaded at the moment, so no key can be accepted yet)"
    candidates = [
        entry
        for entry in snapshot.entries
        if entry.description
        and entry.attestation_root_certificates
        and entry.certification_level is not None
        and entry.status not in UNTRUSTED_STATUSES
    ]
    candidates.sort(key=lambda e: (-(e.certification_level.rank if e.certification_level else 0), e.description or ""))
    names = list(dict.fromkeys(entry.description for entry in candidates if entry.description))[:HINT_MODELS]
    if not names:
        return base
    listed = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]
    return f"{base}, such as {listed}"


_REFUSAL_WHY: Final[Mapping[AttestationReason, str]] = {
    AttestationReason.NO_ATTESTATION: "this passkey was created without attestation, so it does not say which "
    "device holds it (synced passkeys and many browsers never attest)",
    AttestationReason.SELF_ATTESTATION: "this key signed its own attestation (self attestation), which does not "
    "prove its make or model",
    AttestationReason.NO_METADATA: "this key's model is not in the FIDO Metadata Service, so its attestation "
    "cannot be checked",
    AttestationReason.UNTRUSTED_STATUS: "the FIDO Metadata Service reports a security problem with this model",
    AttestationReason.CHAIN_UNTRUSTED: "this key's attestation certificate is not issued by its maker's "
    "registered attestation root",
    AttestationReason.CERTIFICATE_EXPIRED: "this key's attestation certificate has expired",
    AttestationReason.CERTIFICATE_NOT_YET_VALID: "this key's attestation certificate is not valid yet (check "
    "the server clock)",
    AttestationReason.ROOT_IN_X5C: "this key sent its own trust root with its attestation, which is refused",
    AttestationReason.AAGUID_MISMATCH: "this key's attestation certificate names a different model than the key",
    AttestationReason.SAFETYNET_STALE: "this device's SafetyNet attestation is not fresh",
    AttestationReason.SAFETYNET_CTS_PROFILE_MISMATCH: "this device failed Android's compatibility (CTS) check",
    AttestationReason.UNSUPPORTED: "this key's attestation cannot be checked",
}


def attestation_required_refusal(assessment: AttestationAssessment) -> str:
    """The message shown when a profile with ``attestationEnforcement: registrationOnly`` refuses a key."""
    if assessment.attested:
        raise InvalidInput("an attested credential is not refused for lack of attestation")
    why = _REFUSAL_WHY.get(assessment.reason, "this key's attestation cannot be checked")
    accepted = assessment.accepted_models_hint or accepted_models_hint(None)
    # The technical detail (certificate names, chain errors) goes to the audit log, not to the person.
    return f"Your organisation only accepts security keys that prove their make and model, and {why}. " \
           f"Accepted: {accepted}."


# --- internals -------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _SafetyNet:
    x5c: tuple[bytes, ...]
    timestamp_ms: int | None
    cts_profile_match: bool


def _b64any(text: str) -> bytes:
    cleaned = "".join(text.split()).replace("-", "+").replace("_", "/")
    return base64.b64decode(cleaned + "=" * (-len(cleaned) % 4), validate=True)


def _safetynet(attestation_object: bytes) -> _SafetyNet:
    try:
        top = cbor2.loads(attestation_object)
        response = top["attStmt"]["response"]
        header_b64, payload_b64, _ = bytes(response).decode("ascii").split(".")
        header = json.loads(_b64any(header_b64))
        payload = json.loads(_b64any(payload_b64))
        x5c = tuple(_b64any(item) for item in header["x5c"])
    except (KeyError, TypeError, ValueError, binascii.Error, cbor2.CBORDecodeError) as exc:
        raise _Refusal(AttestationReason.UNSUPPORTED, f"the SafetyNet response does not parse: {exc}") from None
    timestamp = payload.get("timestampMs") if isinstance(payload, dict) else None
    cts = payload.get("ctsProfileMatch") if isinstance(payload, dict) else None
    return _SafetyNet(
        x5c, timestamp if isinstance(timestamp, int) and not isinstance(timestamp, bool) else None, cts is True
    )


def _check_safetynet(safetynet: _SafetyNet, now: datetime, *, require_cts_profile_match: bool) -> None:
    if safetynet.timestamp_ms is None:
        raise _Refusal(AttestationReason.SAFETYNET_STALE, "the SafetyNet response has no timestampMs")
    issued = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=safetynet.timestamp_ms)
    if abs(now - issued) > SAFETYNET_WINDOW:
        raise _Refusal(
            AttestationReason.SAFETYNET_STALE,
            f"the SafetyNet response was issued at {issued.isoformat()}, more than "
            f"{int(SAFETYNET_WINDOW.total_seconds())} s from the verification time {now.isoformat()}",
        )
    if require_cts_profile_match and not safetynet.cts_profile_match:
        raise _Refusal(
            AttestationReason.SAFETYNET_CTS_PROFILE_MISMATCH,
            "the SafetyNet response says ctsProfileMatch is false (device not CTS-compatible)",
        )


def _subject(cert: x509.Certificate) -> str:
    try:
        return cert.subject.rfc4514_string()
    except ValueError:
        return "(unreadable subject)"


def _load(der: bytes, what: str) -> x509.Certificate:
    try:
        cert = x509.load_der_x509_certificate(der)
        _ = cert.subject, cert.issuer, cert.not_valid_before_utc, cert.not_valid_after_utc
        cert.public_key()
    except (ValueError, UnsupportedAlgorithm, x509.InvalidVersion) as exc:
        raise _Refusal(AttestationReason.UNSUPPORTED, f"{what} is not a usable X.509 certificate: {exc}") from None
    return cert


def _load_anchor(der: bytes) -> x509.Certificate | None:
    """A trust anchor, or None if it is unusable: unreadable, or its key breaks the key rules (a weak root's key
    could be factored to issue attestation certificates at will). That fails that vendor's attestation only."""
    try:
        cert = _load(bytes(der), "trust anchor")
    except _Refusal:
        return None
    return cert if key_strength_problem(cert.public_key()) is None else None


def _key_identifier(cert: x509.Certificate) -> str:
    """Hex SHA-1 of the subjectPublicKey bits (RFC 5280 §4.2.1.2 method 1), as MDS3 lists U2F keys."""
    key = cert.public_key()
    if isinstance(key, ec.EllipticCurvePublicKey):
        bits = key.public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    elif isinstance(key, rsa.RSAPublicKey):
        bits = key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.PKCS1)
    else:
        bits = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha1(bits, usedforsecurity=False).hexdigest()


def _find_entry(
    fmt: str, aaguid: str, leaf: x509.Certificate, snapshot: MetadataSnapshot | None
) -> MetadataEntry | None:
    if snapshot is None:
        return None
    if fmt != "fido-u2f" and aaguid.lower() != ZERO_AAGUID:
        return snapshot.by_aaguid(aaguid)
    try:
        return snapshot.by_key_identifier(_key_identifier(leaf))
    except (ValueError, TypeError, UnsupportedAlgorithm):
        return None


def _self_signed(cert: x509.Certificate) -> bool:
    if cert.issuer != cert.subject:
        return False
    try:
        cert.verify_directly_issued_by(cert)
    except (InvalidSignature, ValueError, TypeError, UnsupportedAlgorithm):
        return False
    return True


def _same(a: x509.Certificate, b: x509.Certificate) -> bool:
    return a == b or (a.subject == b.subject and a.public_key() == b.public_key())


def _check_no_root(fmt: str, chain: Sequence[x509.Certificate], anchors: Sequence[x509.Certificate]) -> None:
    for index, cert in enumerate(chain):
        if not _self_signed(cert):
            continue
        # Android Keystore returns its whole chain, root included; accept that root only if it is an anchor.
        if fmt == "android-key" and index == len(chain) - 1 and any(_same(cert, a) for a in anchors):
            continue
        # A self-signed attestation certificate alone, listed itself as a root by the metadata (some vendors
        # list their batch certificate): the anchor comes from metadata, the authenticator only repeats it.
        if len(chain) == 1 and any(_same(cert, a) for a in anchors):
            continue
        raise _Refusal(
            AttestationReason.ROOT_IN_X5C,
            f"x5c[{index}] ({_subject(cert)}) is a self-signed root: the trust root must come from "
            "metadata, never from the authenticator",
        )


def _check_aaguid(leaf_der: bytes, aaguid: str) -> None:
    try:
        value = certificate_aaguid(leaf_der)
    except Exception as exc:  # noqa: BLE001 - pyasn1 raises many types on malformed DER
        raise _Refusal(AttestationReason.UNSUPPORTED, f"the attestation certificate does not parse: {exc}") from None
    if value is not None and value != b"\x04\x10" + uuid.UUID(aaguid).bytes:
        raise _Refusal(
            AttestationReason.AAGUID_MISMATCH,
            f"the attestation certificate's AAGUID extension differs from the authenticator's AAGUID {aaguid}",
        )


def _check_dates(certs: Sequence[x509.Certificate], now: datetime, what: Callable[[int], str] | None = None) -> None:
    for index, cert in enumerate(certs):
        label = what(index) if what else f"x5c[{index}]"
        if now < cert.not_valid_before_utc:
            raise _Refusal(
                AttestationReason.CERTIFICATE_NOT_YET_VALID,
                f"{label} ({_subject(cert)}) is not valid before "
                f"{cert.not_valid_before_utc.isoformat()} (verification time {now.isoformat()})",
            )
        if now > cert.not_valid_after_utc:
            raise _Refusal(
                AttestationReason.CERTIFICATE_EXPIRED,
                f"{label} ({_subject(cert)}) expired on {cert.not_valid_after_utc.isoformat()} "
                f"(verification time {now.isoformat()})",
            )


def _issued_by(child: x509.Certificate, issuer: x509.Certificate) -> bool:
    if child.issuer != issuer.subject:
        return False
    try:
        child.verify_directly_issued_by(issuer)
    except (InvalidSignature, ValueError, TypeError, UnsupportedAlgorithm):
        return False
    return True


def _is_ca(cert: x509.Certificate) -> bool:
    try:
        return bool(cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca)
    except (x509.ExtensionNotFound, ValueError):
        return False


def _build_path(
    chain: Sequence[x509.Certificate], anchors: Sequence[x509.Certificate], now: datetime
) -> x509.Certificate:
    """The anchor the chain verifies to; the path is chain[0..k] (+ the anchor when it is not chain[k])."""
    expired: _Refusal | None = None
    for index, cert in enumerate(chain):
        if index > 0 and not (_issued_by(chain[index - 1], cert) and _is_ca(cert)):
            break
        for anchor in anchors:
            if _same(cert, anchor):
                return anchor  # x5c carries the anchor itself (an intermediate listed as root)
            if _issued_by(cert, anchor):
                try:
                    _check_dates([anchor], now, lambda _i: "the attestation root")
                except _Refusal as refusal:
                    expired = expired or refusal
                    continue
                return anchor
    if expired is not None:
        raise expired
    roots = ", ".join(sorted({_subject(anchor) for anchor in anchors}))
    raise _Refusal(
        AttestationReason.CHAIN_UNTRUSTED,
        f"the attestation certificate chain ({' <- '.join(_subject(c) for c in reversed(chain))}) "
        f"does not verify to an accepted root ({roots})",
    )


def _name(entry: MetadataEntry) -> str:
    return entry.description or entry.aaguid or ", ".join(entry.attestation_certificate_key_identifiers) or "?"


def _no_metadata_message(fmt: str, credential: RegisteredCredential, snapshot: MetadataSnapshot | None) -> str:
    if snapshot is None:
        return "no FIDO metadata is loaded, so the attestation cannot be anchored"
    if fmt == "fido-u2f" or credential.aaguid.lower() == ZERO_AAGUID:
        return "the FIDO metadata has no entry for this key's attestation certificate key identifier"
    return f"the FIDO metadata has no entry for AAGUID {credential.aaguid}"


__all__ = [
    "SAFETYNET_WINDOW",
    "VENDOR_ROOT_FORMATS",
    "AttestationAssessment",
    "AttestationLevel",
    "AttestationReason",
    "accepted_models_hint",
    "assess_attestation",
    "attestation_required_refusal",
    "known_vendor_roots",
]
