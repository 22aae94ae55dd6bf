"""FIDO Metadata Service v3: verify a metadata BLOB and turn it into an immutable, indexed snapshot.

A BLOB is accepted only when (in this order, the first failure is the reason given):

1. it is at most ``max_bytes`` long and is a compact JWS (three base64url parts, JSON header);
2. its header ``alg`` is RS256, ES256 or PS256 (``none``, ``HS*`` and everything else are refused);
3. its ``x5c`` certificates parse, do not include the configured root, and chain to it: each certificate
   names the next one (the root last) as issuer, is signed by its key, and every issuer is a CA;
4. the JWS signature verifies with the key of ``x5c[0]``;
5. every chain certificate, the root included, is within its validity dates at ``now``;
6. no supplied CRL revokes a chain certificate (a CRL counts when its issuer name matches a chain
   certificate and its signature verifies with that certificate's key; an unparseable CRL, or one whose
   signature does not verify, is itself a refusal);
7. the payload parses, its serial number ``no`` is not lower than ``current_no`` (no rollback), and every
   entry has the fields MDS3 requires, with no AAGUID or key identifier listed twice.

A BLOB past its ``nextUpdate`` is not refused: the snapshot says ``stale=True`` and the caller decides.

python-fido2's ``fido2.mds3.parse_blob`` is not used, on purpose: it checks neither names nor CA flags
along the chain, it verifies ES256 only with DER signatures (JWS uses raw ``r||s``), its PS256 key swaps the
RSA modulus and exponent, it raises bare library exceptions, and its typed payload parser spends ~2.5 ms per
entry (25 s for a 10,000-entry BLOB). The checks are short enough to own; tests cross-check the result
against ``parse_blob`` on the real production BLOB.

Pure: no clock (the verification time is an argument), no I/O except reading the shipped root.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from enum import StrEnum, unique
from importlib import resources
from itertools import pairwise
from types import MappingProxyType
from typing import Final, NoReturn

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from passgate.core.errors import InvalidInput
from passgate.core.text import map_strings, may_hold_unusable, replace_unusable
from passgate.core.trust.errors import MetadataRejected, MetadataRejectReason

_R = MetadataRejectReason

DEFAULT_MAX_BYTES: Final = 16 * 1024 * 1024
ALLOWED_ALGORITHMS: Final = frozenset({"RS256", "ES256", "PS256"})
MAX_CHAIN_LENGTH: Final = 8
GLOBALSIGN_ROOT_R3_SHA256: Final = "cbb522d7b7f127ad6a0113865bdf1cd4102e7d0759af635a7cf4720dc963c53b"


@unique
class AuthenticatorStatus(StrEnum):
    """FIDO MDS3 ``AuthenticatorStatus`` values (FIDO Metadata Service v3 §3.1.4)."""

    NOT_FIDO_CERTIFIED = "NOT_FIDO_CERTIFIED"
    FIDO_CERTIFIED = "FIDO_CERTIFIED"
    USER_VERIFICATION_BYPASS = "USER_VERIFICATION_BYPASS"
    ATTESTATION_KEY_COMPROMISE = "ATTESTATION_KEY_COMPROMISE"
    USER_KEY_REMOTE_COMPROMISE = "USER_KEY_REMOTE_COMPROMISE"
    USER_KEY_PHYSICAL_COMPROMISE = "USER_KEY_PHYSICAL_COMPROMISE"
    UPDATE_AVAILABLE = "UPDATE_AVAILABLE"
    REVOKED = "REVOKED"
    SELF_ASSERTION_SUBMITTED = "SELF_ASSERTION_SUBMITTED"
    RETIRED = "RETIRED"
    FIDO_CERTIFIED_L1 = "FIDO_CERTIFIED_L1"
    FIDO_CERTIFIED_L1PLUS = "FIDO_CERTIFIED_L1plus"
    FIDO_CERTIFIED_L2 = "FIDO_CERTIFIED_L2"
    FIDO_CERTIFIED_L2PLUS = "FIDO_CERTIFIED_L2plus"
    FIDO_CERTIFIED_L3 = "FIDO_CERTIFIED_L3"
    FIDO_CERTIFIED_L3PLUS = "FIDO_CERTIFIED_L3plus"
    FIPS140_CERTIFIED_L1 = "FIPS140_CERTIFIED_L1"
    FIPS140_CERTIFIED_L2 = "FIPS140_CERTIFIED_L2"
    FIPS140_CERTIFIED_L3 = "FIPS140_CERTIFIED_L3"
    FIPS140_CERTIFIED_L4 = "FIPS140_CERTIFIED_L4"


_S = AuthenticatorStatus

UNTRUSTED_STATUSES: Final = frozenset({
    _S.REVOKED,
    _S.ATTESTATION_KEY_COMPROMISE,
    _S.USER_VERIFICATION_BYPASS,
    _S.USER_KEY_REMOTE_COMPROMISE,
    _S.USER_KEY_PHYSICAL_COMPROMISE,
})


@unique
class CertificationLevel(StrEnum):
    """FIDO Authenticator Certification level, lowest first (values are the matching status names)."""

    L1 = "FIDO_CERTIFIED_L1"
    L1PLUS = "FIDO_CERTIFIED_L1plus"
    L2 = "FIDO_CERTIFIED_L2"
    L2PLUS = "FIDO_CERTIFIED_L2plus"
    L3 = "FIDO_CERTIFIED_L3"
    L3PLUS = "FIDO_CERTIFIED_L3plus"

    @property
    def rank(self) -> int:
        """0 for L1 ... 5 for L3+: compare levels with this."""
        return _LEVEL_ORDER.index(self)


_LEVEL_ORDER: Final = tuple(CertificationLevel)
# The deprecated plain FIDO_CERTIFIED status means level 1 (MDS3 §3.1.4).
_STATUS_LEVEL: Final[Mapping[AuthenticatorStatus, CertificationLevel]] = MappingProxyType(
    {_S.FIDO_CERTIFIED: CertificationLevel.L1} | {_S(level.value): level for level in CertificationLevel}
)


@dataclass(frozen=True, slots=True)
class StatusReport:
    """One ``statusReports`` element of an entry."""

    status: AuthenticatorStatus
    effective_date: date | None = None
    authenticator_version: int | None = None
    certificate_number: str | None = None
    url: str | None = None


@dataclass(frozen=True, slots=True)
class MetadataEntry:
    """One authenticator model of the BLOB, reduced to what trust and display decisions use.

    ``status`` is the status report with the latest ``effectiveDate`` (on a tie, an untrusted status wins,
    then the later one in the list). ``certification_level`` is the highest FIDO certification level any
    report grants (plain ``FIDO_CERTIFIED`` counts as L1), or ``None``; it is not withdrawn by a later
    REVOKED report: check ``status`` against ``UNTRUSTED_STATUSES`` for that.
    ``user_verification_details`` is the statement's OR-list of AND-combinations of method names.
    """

    aaguid: str | None
    aaid: str | None
    attestation_certificate_key_identifiers: tuple[str, ...]
    description: str | None
    icon: str | None
    status: AuthenticatorStatus
    status_effective_date: date | None
    status_reports: tuple[StatusReport, ...]
    time_of_last_status_change: date
    certification_level: CertificationLevel | None
    attestation_root_certificates: tuple[bytes, ...] = ()
    key_protection: tuple[str, ...] = ()
    user_verification_details: tuple[tuple[str, ...], ...] = ()
    authenticator_version: int | None = None


@dataclass(frozen=True)
class MetadataSnapshot:
    """A verified BLOB. Lookups are dictionary reads on maps built once, at construction."""

    no: int
    next_update: date
    legal_header: str
    stale: bool
    entries: tuple[MetadataEntry, ...]
    _by_aaguid: Mapping[str, MetadataEntry] = field(init=False, repr=False, compare=False)
    _by_key_identifier: Mapping[str, MetadataEntry] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        by_aaguid: dict[str, MetadataEntry] = {}
        by_key_identifier: dict[str, MetadataEntry] = {}
        for entry in self.entries:
            if entry.aaguid is not None:
                by_aaguid.setdefault(entry.aaguid, entry)
            for key_identifier in entry.attestation_certificate_key_identifiers:
                by_key_identifier.setdefault(key_identifier, entry)
        object.__setattr__(self, "_by_aaguid", MappingProxyType(by_aaguid))
        object.__setattr__(self, "_by_key_identifier", MappingProxyType(by_key_identifier))

    def by_aaguid(self, aaguid: str) -> MetadataEntry | None:
        """The entry for an AAGUID in any letter case (``None`` if absent or not an AAGUID)."""
        return self._by_aaguid.get(aaguid.lower())

    def by_key_identifier(self, key_identifier: str) -> MetadataEntry | None:
        """The entry listing this attestation certificate key identifier (hex SHA-1 of the public key)."""
        return self._by_key_identifier.get(key_identifier.lower())


def default_root_der() -> bytes:
    """GlobalSign Root CA - R3, the root of the FIDO production MDS3 BLOB, shipped with the package."""
    return resources.files("passgate.core.trust").joinpath("roots", "globalsign-root-r3.der").read_bytes()


def verify_blob(
    blob: bytes,
    *,
    root_der: bytes,
    now: datetime,
    crls: Sequence[bytes] = (),
    current_no: int | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> MetadataSnapshot:
    """Verify an MDS3 BLOB against ``root_der`` at time ``now``; raise ``MetadataRejected`` saying why not.

    ``crls`` are DER or PEM CRLs (those whose issuer is not in the chain are ignored). ``current_no`` is the
    serial number of the snapshot in force, if any. ``now`` must be timezone-aware.
    """
    if now.tzinfo is None or now.utcoffset() is None:
        raise InvalidInput("the verification time must be timezone-aware")
    now = now.astimezone(UTC)
    data = bytes(blob)
    if len(data) > max_bytes:
        _reject(_R.TOO_LARGE, f"the BLOB is {len(data)} bytes, more than the limit of {max_bytes}")
    data = data.strip()
    parts = data.split(b".")
    if len(parts) != 3:
        _reject(_R.MALFORMED_BLOB, f"not a compact JWS: {len(parts)} dot-separated part(s), expected 3")
    header_b64, payload_b64, signature_b64 = parts
    header = _json_object(_b64url(header_b64, "header"), "header")
    payload_bytes = _b64url(payload_b64, "payload")
    signature = _b64url(signature_b64, "signature")

    alg = _algorithm(header)
    chain = _x5c(header)
    root = _load_root(root_der)
    _verify_chain(chain, root)
    _verify_signature(alg, header_b64 + b"." + payload_b64, signature, chain[0])
    full_chain = [*chain, root]
    _check_validity(full_chain, now)
    _check_crls(full_chain, crls, now)

    payload = _json_object(payload_bytes, "payload")
    no, next_update, legal_header, raw_entries = _payload_fields(payload)
    if current_no is not None and no < current_no:
        _reject(_R.ROLLBACK, f"the BLOB's serial number no={no} is lower than the one in force, no={current_no}")
    entries = tuple(_entry(index, raw) for index, raw in enumerate(raw_entries))
    _check_duplicates(entries)
    return MetadataSnapshot(
        no=no,
        next_update=next_update,
        legal_header=legal_header,
        stale=now.date() > next_update,
        entries=entries,
    )


# --- JWS structure ---------------------------------------------------------------------------------------------

_B64URL: Final = re.compile(rb"[A-Za-z0-9_-]*")


def _reject(reason: MetadataRejectReason, message: str) -> NoReturn:
    raise MetadataRejected(reason, message)


def _b64url(part: bytes, what: str) -> bytes:
    if _B64URL.fullmatch(part) is None or len(part) % 4 == 1:
        _reject(_R.MALFORMED_BLOB, f"the JWS {what} is not base64url (truncated or corrupted?)")
    return base64.urlsafe_b64decode(part + b"=" * (-len(part) % 4))


def _refuse_constant(name: str) -> NoReturn:
    raise ValueError(f"{name} is not JSON")


def _json_object(raw: bytes, what: str) -> dict[str, object]:
    try:
        # The signature covers the bytes; NUL and lone surrogates in the text become U+FFFD so that what is stored
        # from it (the legal header, a passkey's model name) can be (core.text).
        text = raw.decode("utf-8")
        value: object = json.loads(text, parse_constant=_refuse_constant)
        if may_hold_unusable(text):
            value = map_strings(value, replace_unusable)
    except (ValueError, RecursionError) as exc:
        _reject(_R.MALFORMED_BLOB, f"the JWS {what} is not UTF-8 JSON: {_short(exc)}")
    if not isinstance(value, dict):
        _reject(_R.MALFORMED_BLOB, f"the JWS {what} is JSON but not an object")
    return value


def _algorithm(header: Mapping[str, object]) -> str:
    alg = header.get("alg")
    if not isinstance(alg, str):
        _reject(_R.MALFORMED_BLOB, "the JWS header has no string 'alg'")
    if alg not in ALLOWED_ALGORITHMS:
        _reject(_R.UNSUPPORTED_ALGORITHM,
                f"JWS alg {_short(alg)!r} is not accepted (only {', '.join(sorted(ALLOWED_ALGORITHMS))})")
    if "crit" in header:
        _reject(_R.MALFORMED_BLOB, "the JWS header has a 'crit' parameter; no critical extension is supported")
    return alg


def _x5c(header: Mapping[str, object]) -> list[x509.Certificate]:
    x5c = header.get("x5c")
    if x5c is None:
        _reject(_R.UNTRUSTED_CHAIN, "the JWS header has no x5c certificate chain")
    if not isinstance(x5c, list) or not x5c:
        _reject(_R.MALFORMED_BLOB, "the JWS header's x5c is not a non-empty list")
    if len(x5c) > MAX_CHAIN_LENGTH:
        _reject(_R.UNTRUSTED_CHAIN, f"x5c has {len(x5c)} certificates, more than {MAX_CHAIN_LENGTH}")
    chain = []
    for index, item in enumerate(x5c):
        if not isinstance(item, str):
            _reject(_R.MALFORMED_CERTIFICATE, f"x5c[{index}] is not a string")
        try:
            der = base64.b64decode(item, validate=True)
        except (binascii.Error, ValueError):
            _reject(_R.MALFORMED_CERTIFICATE, f"x5c[{index}] is not base64 (x5c uses standard base64, RFC 7515)")
        chain.append(_load_certificate(der, f"x5c[{index}]"))
    return chain


def _load_certificate(der: bytes, what: str) -> x509.Certificate:
    try:
        cert = x509.load_der_x509_certificate(der)
        cert.subject.rfc4514_string()  # names and dates parse lazily: force them here
        cert.issuer.rfc4514_string()
        _ = cert.not_valid_before_utc, cert.not_valid_after_utc
        cert.public_key()
    except (ValueError, UnsupportedAlgorithm, x509.InvalidVersion) as exc:
        _reject(_R.MALFORMED_CERTIFICATE, f"{what} is not a usable DER X.509 certificate: {_short(exc)}")
    return cert


def _load_root(root_der: bytes) -> x509.Certificate:
    return _load_certificate(root_der, "the configured root")


# --- chain, signature, dates, CRLs -----------------------------------------------------------------------------


def _subject(cert: x509.Certificate) -> str:
    return cert.subject.rfc4514_string()


def _verify_chain(chain: Sequence[x509.Certificate], root: x509.Certificate) -> None:
    for index, cert in enumerate(chain):
        if cert == root or (cert.subject == root.subject and cert.public_key() == root.public_key()):
            _reject(_R.UNTRUSTED_CHAIN,
                    f"x5c[{index}] is the trust root itself ({_subject(root)}): the root must come from "
                    "configuration, never from the BLOB")
    certs = [*chain, root]
    for index, (child, issuer) in enumerate(pairwise(certs)):
        issuer_name = "the configured root" if issuer is root else f"x5c[{index + 1}]"
        if child.issuer != issuer.subject:
            _reject(_R.UNTRUSTED_CHAIN,
                    f"x5c[{index}] ({_subject(child)}) is issued by {child.issuer.rfc4514_string()}, "
                    f"not by {issuer_name} ({_subject(issuer)})")
        if not _is_ca(issuer, issuer_name):
            _reject(_R.UNTRUSTED_CHAIN, f"{issuer_name} ({_subject(issuer)}) is not a CA certificate")
        try:
            child.verify_directly_issued_by(issuer)
        except (InvalidSignature, ValueError, TypeError, UnsupportedAlgorithm) as exc:
            _reject(_R.UNTRUSTED_CHAIN,
                    f"the signature on x5c[{index}] ({_subject(child)}) does not verify with the key of "
                    f"{issuer_name} ({_subject(issuer)}): {_short(exc) or 'invalid signature'}")


def _is_ca(cert: x509.Certificate, what: str) -> bool:
    try:
        constraints = cert.extensions.get_extension_for_class(x509.BasicConstraints).value
    except x509.ExtensionNotFound:
        return False
    except ValueError as exc:
        _reject(_R.MALFORMED_CERTIFICATE, f"{what} ({_subject(cert)}) has malformed extensions: {_short(exc)}")
    return constraints.ca


def _verify_signature(alg: str, signing_input: bytes, signature: bytes, leaf: x509.Certificate) -> None:
    key = leaf.public_key()
    try:
        if alg in {"RS256", "PS256"}:
            if not isinstance(key, rsa.RSAPublicKey):
                _reject(_R.BAD_SIGNATURE, f"JWS alg {alg} needs an RSA key; {_subject(leaf)} has another kind")
            pad: padding.AsymmetricPadding = (
                padding.PKCS1v15() if alg == "RS256"
                else padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32)  # RFC 7518 §3.5
            )
            key.verify(signature, signing_input, pad, hashes.SHA256())
        else:  # ES256
            if not isinstance(key, ec.EllipticCurvePublicKey) or not isinstance(key.curve, ec.SECP256R1):
                _reject(_R.BAD_SIGNATURE, f"JWS alg ES256 needs a P-256 key; {_subject(leaf)} has another kind")
            key.verify(_ecdsa_der(signature), signing_input, ec.ECDSA(hashes.SHA256()))
    except (InvalidSignature, ValueError) as exc:
        _reject(_R.BAD_SIGNATURE,
                f"the {alg} JWS signature does not verify with the key of {_subject(leaf)}"
                + (f": {_short(exc)}" if str(exc) else ""))


def _ecdsa_der(signature: bytes) -> bytes:
    """JWS ES256 signatures are raw ``r || s`` (RFC 7518 §3.4). Other lengths are taken as DER, the encoding
    python-fido2 and the MDS3 spec example use: both encode the same (r, s), so this loosens nothing."""
    if len(signature) == 64:
        return encode_dss_signature(int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big"))
    return signature


def _check_validity(chain: Sequence[x509.Certificate], now: datetime) -> None:
    for cert in chain:
        not_before, not_after = cert.not_valid_before_utc, cert.not_valid_after_utc
        if now < not_before:
            _reject(_R.CERTIFICATE_NOT_YET_VALID,
                    f"certificate {_subject(cert)} is not valid before {not_before.isoformat()} "
                    f"(verification time {now.isoformat()})")
        if now > not_after:
            _reject(_R.CERTIFICATE_EXPIRED,
                    f"certificate {_subject(cert)} expired on {not_after.isoformat()} "
                    f"(verification time {now.isoformat()})")


def _load_crl(raw: bytes, index: int) -> x509.CertificateRevocationList:
    try:
        if raw.lstrip().startswith(b"-----BEGIN"):
            return x509.load_pem_x509_crl(raw)
        return x509.load_der_x509_crl(raw)
    except ValueError as exc:
        _reject(_R.CRL_INVALID, f"CRL #{index} is not a DER or PEM X.509 CRL: {_short(exc)}")


def _check_crls(chain: Sequence[x509.Certificate], crls: Sequence[bytes], now: datetime) -> None:
    for index, raw in enumerate(crls):
        crl = _load_crl(bytes(raw), index)
        try:
            issuer = next((cert for cert in chain if cert.subject == crl.issuer), None)
            if issuer is None:
                continue  # a CRL of some other CA says nothing about this chain
            try:
                signed = crl.is_signature_valid(issuer.public_key())  # type: ignore[arg-type]
            except (TypeError, UnsupportedAlgorithm):
                signed = False
            if not signed:
                _reject(_R.CRL_INVALID,
                        f"CRL #{index} names {_subject(issuer)} as issuer but is not signed by its key")
            for cert in chain:
                if cert.issuer != crl.issuer:
                    continue
                revoked = crl.get_revoked_certificate_by_serial_number(cert.serial_number)
                if revoked is not None and revoked.revocation_date_utc <= now:
                    _reject(_R.CERTIFICATE_REVOKED,
                            f"certificate {_subject(cert)} (serial {cert.serial_number:x}) is revoked since "
                            f"{revoked.revocation_date_utc.isoformat()} by the CRL of {_subject(issuer)} "
                            f"(CRL #{index})")
        except ValueError as exc:
            _reject(_R.CRL_INVALID, f"CRL #{index} is malformed: {_short(exc)}")


# --- payload ---------------------------------------------------------------------------------------------------

_DATE: Final = re.compile(r"\d{4}-\d{2}-\d{2}")
_AAGUID: Final = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_HEX: Final = re.compile(r"(?:[0-9a-fA-F]{2})+")


class _Bad(Exception):
    """An entry field problem; turned into MALFORMED_ENTRY with the entry's position."""


def _payload_fields(payload: Mapping[str, object]) -> tuple[int, date, str, list[object]]:
    no = payload.get("no")
    if not isinstance(no, int) or isinstance(no, bool) or no < 0:
        _reject(_R.MALFORMED_BLOB, "the payload's 'no' is missing or not a non-negative integer")
    try:
        next_update = _date(payload.get("nextUpdate"), "nextUpdate", required=True)
    except _Bad as exc:
        _reject(_R.MALFORMED_BLOB, f"the payload's {exc}")
    assert next_update is not None  # noqa: S101 - required=True
    legal_header = payload.get("legalHeader")
    if not isinstance(legal_header, str):
        _reject(_R.MALFORMED_BLOB, "the payload's 'legalHeader' is missing or not a string")
    entries = payload.get("entries")
    if not isinstance(entries, list):
        _reject(_R.MALFORMED_BLOB, "the payload's 'entries' is missing or not a list")
    return no, next_update, legal_header, entries


def _date(value: object, name: str, *, required: bool = False) -> date | None:
    if value is None and not required:
        return None
    if not isinstance(value, str) or _DATE.fullmatch(value) is None:
        raise _Bad(f"'{name}' is missing or not a YYYY-MM-DD date")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise _Bad(f"'{name}' is not a real date: {value!r}") from None


def _opt_str(obj: Mapping[str, object], name: str) -> str | None:
    value = obj.get(name)
    if value is not None and not isinstance(value, str):
        raise _Bad(f"'{name}' is not a string")
    return value


def _opt_int(obj: Mapping[str, object], name: str) -> int | None:
    value = obj.get(name)
    if value is not None and (not isinstance(value, int) or isinstance(value, bool)):
        raise _Bad(f"'{name}' is not an integer")
    return value


def _list(obj: Mapping[str, object], name: str, *, required: bool = False) -> list[object]:
    value = obj.get(name)
    if value is None and not required:
        return []
    if not isinstance(value, list):
        raise _Bad(f"'{name}' is missing or not a list")
    return value


def _str_tuple(obj: Mapping[str, object], name: str) -> tuple[str, ...]:
    items = _list(obj, name)
    if not all(isinstance(item, str) for item in items):
        raise _Bad(f"'{name}' is not a list of strings")
    return tuple(str(item) for item in items)


def _aaguid(value: object, where: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or _AAGUID.fullmatch(value) is None:
        raise _Bad(f"{where} 'aaguid' is not a hyphenated UUID")
    return value.lower()


def _key_identifiers(obj: Mapping[str, object]) -> tuple[str, ...]:
    items = _list(obj, "attestationCertificateKeyIdentifiers")
    if not all(isinstance(item, str) and _HEX.fullmatch(item) for item in items):
        raise _Bad("'attestationCertificateKeyIdentifiers' is not a list of hex strings")
    return tuple(str(item).lower() for item in items)


def _status_report(raw: object, index: int) -> StatusReport:
    if not isinstance(raw, dict):
        raise _Bad(f"statusReports[{index}] is not an object")
    status = raw.get("status")
    try:
        if not isinstance(status, str):
            raise ValueError(status)
        parsed = AuthenticatorStatus(status)
    except ValueError:
        raise _Bad(f"statusReports[{index}] has unknown status {_short(status)!r}") from None
    try:
        return StatusReport(
            status=parsed,
            effective_date=_date(raw.get("effectiveDate"), "effectiveDate"),
            authenticator_version=_opt_int(raw, "authenticatorVersion"),
            certificate_number=_opt_str(raw, "certificateNumber"),
            url=_opt_str(raw, "url"),
        )
    except _Bad as exc:
        raise _Bad(f"statusReports[{index}]: {exc}") from None


def _latest(reports: Sequence[StatusReport]) -> StatusReport:
    return max(
        enumerate(reports),
        key=lambda item: (item[1].effective_date or date.min, item[1].status in UNTRUSTED_STATUSES, item[0]),
    )[1]


def _certification_level(reports: Sequence[StatusReport]) -> CertificationLevel | None:
    levels = [_STATUS_LEVEL[r.status] for r in reports if r.status in _STATUS_LEVEL]
    return max(levels, key=lambda level: level.rank) if levels else None


def _root_certificates(statement: Mapping[str, object]) -> tuple[bytes, ...]:
    ders = []
    for index, item in enumerate(_list(statement, "attestationRootCertificates", required=True)):
        try:
            if not isinstance(item, str):
                raise ValueError("not a string")
            # Real BLOBs wrap some of these in spaces/newlines (PEM habits): whitespace is not data.
            der = base64.b64decode("".join(item.split()), validate=True)
        except (binascii.Error, ValueError) as exc:
            raise _Bad(f"attestationRootCertificates[{index}] is not base64: {_short(exc)}") from None
        # Only the outer DER SEQUENCE is checked here: a vendor certificate that a stricter cryptography release
        # refuses (no.9 carries one with a non-positive serial) must fail that vendor's attestation, not the BLOB.
        if der[:1] != b"\x30":
            raise _Bad(f"attestationRootCertificates[{index}] is not a DER certificate")
        ders.append(der)
    return tuple(ders)


def _user_verification_details(statement: Mapping[str, object]) -> tuple[tuple[str, ...], ...]:
    combinations = []
    for combination in _list(statement, "userVerificationDetails"):
        if not isinstance(combination, list):
            raise _Bad("'userVerificationDetails' is not a list of lists")
        methods = []
        for descriptor in combination:
            method = descriptor.get("userVerificationMethod") if isinstance(descriptor, dict) else None
            if not isinstance(method, str):
                raise _Bad("a 'userVerificationDetails' descriptor has no string 'userVerificationMethod'")
            methods.append(method)
        combinations.append(tuple(methods))
    return tuple(combinations)


def _entry(index: int, raw: object) -> MetadataEntry:
    label = f"entries[{index}]"
    try:
        if not isinstance(raw, dict):
            raise _Bad("not an object")
        statement = raw.get("metadataStatement")
        if statement is not None and not isinstance(statement, dict):
            raise _Bad("'metadataStatement' is not an object")
        aaguid = _aaguid(raw.get("aaguid"), "the entry's")
        if statement is not None:
            label = f"entries[{index}] ({_short(statement.get('description'))})"
            statement_aaguid = _aaguid(statement.get("aaguid"), "the statement's")
            if aaguid is not None and statement_aaguid is not None and aaguid != statement_aaguid:
                raise _Bad(f"entry aaguid {aaguid} differs from statement aaguid {statement_aaguid}")
            aaguid = aaguid or statement_aaguid
        elif aaguid is not None:
            label = f"entries[{index}] ({aaguid})"
        reports_raw = _list(raw, "statusReports", required=True)
        if not reports_raw:
            raise _Bad("'statusReports' is empty")
        reports = tuple(_status_report(report, i) for i, report in enumerate(reports_raw))
        last_change = _date(raw.get("timeOfLastStatusChange"), "timeOfLastStatusChange", required=True)
        assert last_change is not None  # noqa: S101 - required=True
        key_identifiers = _key_identifiers(raw)
        latest = _latest(reports)
        description: str | None = None
        icon: str | None = None
        roots: tuple[bytes, ...] = ()
        key_protection: tuple[str, ...] = ()
        user_verification: tuple[tuple[str, ...], ...] = ()
        version: int | None = None
        if statement is not None:
            description = statement.get("description")
            if not isinstance(description, str):
                raise _Bad("the statement's 'description' is missing or not a string")
            icon = _opt_str(statement, "icon")
            icon = icon if icon is not None and icon.startswith("data:") else None
            key_identifiers = key_identifiers or _key_identifiers(statement)
            roots = _root_certificates(statement)
            key_protection = _str_tuple(statement, "keyProtection")
            user_verification = _user_verification_details(statement)
            version = _opt_int(statement, "authenticatorVersion")
        return MetadataEntry(
            aaguid=aaguid,
            aaid=_opt_str(raw, "aaid"),
            attestation_certificate_key_identifiers=key_identifiers,
            description=description,
            icon=icon,
            status=latest.status,
            status_effective_date=latest.effective_date,
            status_reports=reports,
            time_of_last_status_change=last_change,
            certification_level=_certification_level(reports),
            attestation_root_certificates=roots,
            key_protection=key_protection,
            user_verification_details=user_verification,
            authenticator_version=version,
        )
    except _Bad as exc:
        _reject(_R.MALFORMED_ENTRY, f"{label}: {exc}")


def _check_duplicates(entries: Sequence[MetadataEntry]) -> None:
    aaguids = Counter(entry.aaguid for entry in entries if entry.aaguid is not None)
    key_ids = Counter(key for entry in entries for key in entry.attestation_certificate_key_identifiers)
    for what, counts in (("AAGUID", aaguids), ("attestation key identifier", key_ids)):
        duplicates = sorted(value for value, count in counts.items() if count > 1)
        if duplicates:
            _reject(_R.MALFORMED_ENTRY, f"{what} listed by more than one entry: {', '.join(duplicates[:5])}")


def _short(value: object, limit: int = 120) -> str:
    text = str(value)
    return text if len(text) <= limit else text[:limit] + "..."
