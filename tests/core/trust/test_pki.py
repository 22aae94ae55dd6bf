"""A throw-away PKI and an MDS3 BLOB builder for tests and benchmarks (no test functions here).

    pki = make_pki("ec")                      # root -> intermediate -> signer, valid 2020..2040
    blob = make_blob([make_entry(aaguid=CHROMIUM_VIRTUAL_AAGUID, root_certificates=[batch_der])],
                     signer=pki.signer, chain=pki.x5c, alg="ES256", no=3, next_update=date(2030, 1, 1))
    verify_blob(blob, root_der=pki.root.der, now=...)

``make_entries(10_000)`` gives a large, valid entry list cheaply (one signature for the whole BLOB).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.x509.oid import NameOID

PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey
KeyType = Literal["rsa", "ec"]

CHROMIUM_VIRTUAL_AAGUID = "01020304-0506-0708-0102-030405060708"
NOT_BEFORE = datetime(2020, 1, 1, tzinfo=UTC)
NOT_AFTER = datetime(2040, 1, 1, tzinfo=UTC)
LEGAL_HEADER = "Passgate test BLOB: not FIDO Alliance data."

_KEYS: dict[tuple[KeyType, int], PrivateKey] = {}


def new_key(key_type: KeyType = "ec", slot: int | None = None) -> PrivateKey:
    """A fresh key, or with ``slot`` one cached for the session (RSA generation costs ~50 ms)."""
    if slot is not None and (key_type, slot) in _KEYS:
        return _KEYS[key_type, slot]
    key: PrivateKey = (rsa.generate_private_key(public_exponent=65537, key_size=2048) if key_type == "rsa"
                       else ec.generate_private_key(ec.SECP256R1()))
    if slot is not None:
        _KEYS[key_type, slot] = key
    return key


@dataclass(frozen=True)
class Issued:
    """A certificate with its private key."""

    cert: x509.Certificate
    key: PrivateKey

    @property
    def der(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.DER)

    @property
    def serial(self) -> int:
        return self.cert.serial_number


def make_cert(
    common_name: str,
    *,
    issuer: Issued | None = None,
    key: PrivateKey | None = None,
    ca: bool = False,
    not_before: datetime = NOT_BEFORE,
    not_after: datetime = NOT_AFTER,
    serial: int | None = None,
    basic_constraints: bool = True,
) -> Issued:
    """A certificate for ``common_name`` signed by ``issuer`` (self-signed when ``issuer`` is None)."""
    key = key or new_key("ec")
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Passgate Test PKI")])
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(issuer.cert.subject if issuer else name)
        .public_key(key.public_key())
        .serial_number(serial or x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
    )
    if basic_constraints:
        builder = builder.add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    signing_key = issuer.key if issuer else key
    return Issued(builder.sign(signing_key, hashes.SHA256()), key)


@dataclass(frozen=True)
class Pki:
    root: Issued
    intermediate: Issued
    signer: Issued

    @property
    def x5c(self) -> list[x509.Certificate]:
        """The chain a BLOB carries: signer, intermediate (never the root)."""
        return [self.signer.cert, self.intermediate.cert]


def make_pki(
    key_type: KeyType = "ec",
    *,
    signer_not_before: datetime = NOT_BEFORE,
    signer_not_after: datetime = NOT_AFTER,
    name: str = "Passgate Test",
    cached: bool = True,
) -> Pki:
    """Root -> intermediate -> BLOB signer. ``key_type`` is the signer's key (CA keys are EC P-256)."""
    slot = 0 if cached else None
    root = make_cert(f"{name} MDS Root", key=new_key("ec", slot), ca=True)
    intermediate = make_cert(f"{name} MDS Intermediate", issuer=root, key=new_key("ec", None if slot is None else 1),
                             ca=True)
    signer = make_cert(f"{name} MDS BLOB Signer", issuer=intermediate,
                       key=new_key(key_type, None if slot is None else 2),
                       not_before=signer_not_before, not_after=signer_not_after)
    return Pki(root, intermediate, signer)


def make_crl(
    issuer: Issued,
    revoked: Iterable[tuple[int, datetime]] = (),
    *,
    last_update: datetime = datetime(2021, 1, 1, tzinfo=UTC),
    next_update: datetime | None = None,
    signing_key: PrivateKey | None = None,
) -> bytes:
    """A DER CRL of ``issuer`` revoking ``(serial, revocation_time)`` pairs; ``signing_key`` to forge one."""
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(issuer.cert.subject)
        .last_update(last_update)
        .next_update(next_update or last_update + timedelta(days=30))
    )
    for serial, when in revoked:
        builder = builder.add_revoked_certificate(
            x509.RevokedCertificateBuilder().serial_number(serial).revocation_date(when).build())
    crl = builder.sign(signing_key or issuer.key, hashes.SHA256())
    return crl.public_bytes(serialization.Encoding.DER)


def make_entry(
    *,
    aaguid: str | None = None,
    key_identifiers: Sequence[str] | None = None,
    description: str = "Passgate Test Authenticator",
    statuses: Sequence[tuple[str, str]] = (("FIDO_CERTIFIED_L1", "2021-01-01"),),
    root_certificates: Sequence[bytes] = (),
    key_protection: Sequence[str] = ("hardware", "secure_element"),
    authenticator_version: int = 1,
    icon: str | None = "data:image/png;base64,iVBORw0KGgo=",
    statement: bool = True,
) -> dict[str, Any]:
    """One MDS3 payload entry; ``statuses`` are ``(status, effectiveDate)`` pairs."""
    entry: dict[str, Any] = {
        "statusReports": [{"status": status, "effectiveDate": when} for status, when in statuses],
        "timeOfLastStatusChange": max((when for _, when in statuses), default="2021-01-01"),
    }
    if aaguid is not None:
        entry["aaguid"] = aaguid
    if key_identifiers is not None:
        entry["attestationCertificateKeyIdentifiers"] = list(key_identifiers)
    if statement:
        ms: dict[str, Any] = {
            "legalHeader": LEGAL_HEADER,
            "description": description,
            "authenticatorVersion": authenticator_version,
            "protocolFamily": "fido2" if aaguid else "u2f",
            "schema": 3,
            "upv": [{"major": 1, "minor": 0}],
            "authenticationAlgorithms": ["secp256r1_ecdsa_sha256_raw"],
            "publicKeyAlgAndEncodings": ["cose"],
            "attestationTypes": ["basic_full"],
            "userVerificationDetails": [[{"userVerificationMethod": "presence_internal"}],
                                        [{"userVerificationMethod": "passcode_external"},
                                         {"userVerificationMethod": "presence_internal"}]],
            "keyProtection": list(key_protection),
            "matcherProtection": ["on_chip"],
            "attachmentHint": ["external", "wired"],
            "tcDisplay": [],
            "attestationRootCertificates": [base64.b64encode(der).decode() for der in root_certificates],
        }
        if aaguid is not None:
            ms["aaguid"] = aaguid
        if key_identifiers is not None:
            ms["attestationCertificateKeyIdentifiers"] = list(key_identifiers)
        if icon is not None:
            ms["icon"] = icon
        entry["metadataStatement"] = ms
    return entry


def make_entries(count: int, *, root_certificates: Sequence[bytes] = ()) -> list[dict[str, Any]]:
    """``count`` distinct AAGUID entries (AAGUIDs derived from the index), for benchmarks."""
    return [
        make_entry(aaguid=f"{index:08x}-0000-4000-8000-{index:012x}", description=f"Benchmark Authenticator {index}",
                   root_certificates=root_certificates)
        for index in range(count)
    ]


def b64url(data: bytes) -> bytes:
    return base64.urlsafe_b64encode(data).rstrip(b"=")


def sign_jws(
    header: Mapping[str, Any],
    payload: bytes,
    key: PrivateKey | bytes | None,
    *,
    es256_der: bool = False,
    sign_as: str | None = None,
) -> bytes:
    """Compact JWS over raw ``payload`` bytes with ``header['alg']`` (or ``sign_as``, to lie in the header):
    RS256, PS256, ES256, HS256 (``key`` bytes, or a fixed test secret), none (empty signature).
    ES256 signatures are raw r||s as RFC 7518 says, DER with ``es256_der``."""
    signing_input = b64url(json.dumps(header).encode()) + b"." + b64url(payload)
    alg = sign_as or header.get("alg")
    signature: bytes
    if alg == "none":
        signature = b""
    elif alg == "HS256":
        secret = key if isinstance(key, bytes) else b"passgate-test-secret"
        signature = hmac.new(secret, signing_input, hashlib.sha256).digest()
    elif alg in {"RS256", "PS256"}:
        assert isinstance(key, rsa.RSAPrivateKey)
        pad: padding.AsymmetricPadding = (padding.PKCS1v15() if alg == "RS256"
                                          else padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32))
        signature = key.sign(signing_input, pad, hashes.SHA256())
    elif alg == "ES256":
        assert isinstance(key, ec.EllipticCurvePrivateKey)
        der = key.sign(signing_input, ec.ECDSA(hashes.SHA256()))
        if es256_der:
            signature = der
        else:
            r, s = decode_dss_signature(der)
            signature = r.to_bytes(32, "big") + s.to_bytes(32, "big")
    else:
        raise ValueError(f"test helper cannot sign {alg!r}")
    return signing_input + b"." + b64url(signature)


def default_alg(signer: Issued) -> str:
    return "RS256" if isinstance(signer.key, rsa.RSAPrivateKey) else "ES256"


def make_blob(
    entries: Sequence[Mapping[str, Any]],
    signer: Issued,
    chain: Sequence[x509.Certificate],
    *,
    alg: str | None = None,
    no: int = 1,
    next_update: date = date(2030, 1, 1),
    legal_header: str = LEGAL_HEADER,
    header_extra: Mapping[str, Any] | None = None,
    payload: bytes | None = None,
    es256_der: bool = False,
) -> bytes:
    """An MDS3 BLOB of ``entries`` signed by ``signer`` with ``chain`` as x5c (leaf first).

    ``alg`` defaults to RS256 for an RSA signer and ES256 for an EC one; ``payload`` replaces the JSON payload
    bytes (to test malformed payloads with a good signature); ``header_extra`` adds/overrides header fields
    (a ``None`` value removes the field) while the signature is still made with ``alg``.
    """
    alg = alg or default_alg(signer)
    header: dict[str, Any] = {
        "alg": alg,
        "typ": "JWT",
        "x5c": [base64.b64encode(cert.public_bytes(serialization.Encoding.DER)).decode() for cert in chain],
    }
    for name, value in (header_extra or {}).items():
        if value is None:
            header.pop(name, None)
        else:
            header[name] = value
    if payload is None:
        payload = json.dumps({"legalHeader": legal_header, "no": no, "nextUpdate": next_update.isoformat(),
                              "entries": list(entries)}).encode()
    return sign_jws(header, payload, signer.key, es256_der=es256_der, sign_as=alg)
