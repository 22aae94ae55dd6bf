"""A software WebAuthn authenticator + client for tests (``cryptography`` + ``cbor2``).

It produces responses in the WebAuthn L3 JSON shape (``PublicKeyCredential.toJSON()``), and every
part can be overridden so a negative test is "a valid response with exactly one thing changed".
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import secrets
import uuid
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import cbor2
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.x509.oid import NameOID

from passgate.core.webauthn import EDDSA, ES256, RS256, RelyingParty, StoredCredential

RP_ID = "login.example.com"
ORIGIN = "https://login.example.com"
RP = RelyingParty(id=RP_ID, name="Example", origins=(ORIGIN,))
CHALLENGE = bytes(range(32))
USER_HANDLE = b"\x01" * 32
AAGUID = uuid.UUID("0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0").bytes

UP, UV, BE, BS, AT, ED = 0x01, 0x04, 0x08, 0x10, 0x40, 0x80
ES512 = -36


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


# ---------------------------------------------------------------------------------------------
# Keys
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SoftKey:
    alg: int
    private_key: Any

    def cose(self, *, alg: int | None = None) -> bytes:
        """The COSE_Key (optionally lying about ``alg``)."""
        label = self.alg if alg is None else alg
        public = self.private_key.public_key()
        if isinstance(public, ec.EllipticCurvePublicKey):
            size = (public.curve.key_size + 7) // 8
            numbers = public.public_numbers()
            crv = {256: 1, 384: 2, 521: 3}[public.curve.key_size]
            return cbor2.dumps(
                {1: 2, 3: label, -1: crv, -2: numbers.x.to_bytes(size, "big"), -3: numbers.y.to_bytes(size, "big")}
            )
        if isinstance(public, ed25519.Ed25519PublicKey):
            raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
            return cbor2.dumps({1: 1, 3: label, -1: 6, -2: raw})
        numbers = public.public_numbers()
        n = numbers.n.to_bytes((numbers.n.bit_length() + 7) // 8, "big")
        return cbor2.dumps({1: 3, 3: label, -1: n, -2: numbers.e.to_bytes(3, "big")})

    def sign(self, data: bytes) -> bytes:
        key = self.private_key
        if isinstance(key, ec.EllipticCurvePrivateKey):
            digest = hashes.SHA512() if self.alg == ES512 else hashes.SHA256()
            return bytes(key.sign(data, ec.ECDSA(digest)))
        if isinstance(key, ed25519.Ed25519PrivateKey):
            return bytes(key.sign(data))
        return bytes(key.sign(data, padding.PKCS1v15(), hashes.SHA256()))


@cache
def es256_key() -> SoftKey:
    return SoftKey(ES256, ec.generate_private_key(ec.SECP256R1()))


@cache
def second_es256_key() -> SoftKey:
    return SoftKey(ES256, ec.generate_private_key(ec.SECP256R1()))


@cache
def es512_key() -> SoftKey:
    return SoftKey(ES512, ec.generate_private_key(ec.SECP521R1()))


@cache
def eddsa_key() -> SoftKey:
    return SoftKey(EDDSA, ed25519.Ed25519PrivateKey.generate())


@cache
def rs256_key() -> SoftKey:
    return SoftKey(RS256, rsa.generate_private_key(public_exponent=65537, key_size=2048))


def _probable_prime(bits: int) -> int:
    """A random ``bits``-bit prime (Miller-Rabin, 40 rounds): cryptography refuses to generate RSA keys this small."""
    while True:
        candidate = secrets.randbits(bits) | (3 << (bits - 2)) | 1  # top two bits: p*q has all its bits
        if all(candidate % p for p in (3, 5, 7, 11, 13, 17, 19, 23, 29, 31)) and _miller_rabin(candidate):
            return candidate


def _miller_rabin(n: int) -> bool:
    d, r = n - 1, 0
    while d % 2 == 0:
        d, r = d // 2, r + 1
    for _ in range(40):
        x = pow(secrets.randbelow(n - 3) + 2, d, n)
        if x in (1, n - 1):
            continue
        for _ in range(r - 1):
            x = pow(x, 2, n)
            if x == n - 1:
                break
        else:
            return False
    return True


@cache
def weak_rsa_key(bits: int = 512) -> SoftKey:
    """A real RSA key of ``bits`` bits (512 by default), the kind of key the key rules refuse."""
    e = 65537
    while True:
        p, q = _probable_prime(bits // 2), _probable_prime(bits - bits // 2)
        if p != q and (p - 1) % e and (q - 1) % e:
            break
    d = pow(e, -1, (p - 1) * (q - 1))
    numbers = rsa.RSAPrivateNumbers(p, q, d, d % (p - 1), d % (q - 1), pow(q, -1, p), rsa.RSAPublicNumbers(e, p * q))
    return SoftKey(RS256, numbers.private_key())


# ---------------------------------------------------------------------------------------------
# Byte builders
# ---------------------------------------------------------------------------------------------


def client_data_json(
    *,
    type: str,
    challenge: bytes = CHALLENGE,
    origin: str = ORIGIN,
    **members: Any,
) -> bytes:
    """clientDataJSON; extra ``members`` are added in order (``crossOrigin`` false by default)."""
    data: dict[str, Any] = {"type": type, "challenge": b64(challenge), "origin": origin, "crossOrigin": False}
    data.update(members)
    return json.dumps(data, separators=(",", ":")).encode()


def attested_credential_data(*, credential_id: bytes, cose_key: bytes, aaguid: bytes = AAGUID) -> bytes:
    return aaguid + len(credential_id).to_bytes(2, "big") + credential_id + cose_key


def authenticator_data(
    *,
    rp_id: str = RP_ID,
    flags: int = UP | UV,
    sign_count: int = 0,
    attested: bytes = b"",
    extensions: bytes = b"",
) -> bytes:
    return (
        hashlib.sha256(rp_id.encode()).digest() + bytes([flags]) + sign_count.to_bytes(4, "big") + attested + extensions
    )


def attestation_object(*, fmt: str, auth_data: bytes, att_stmt: dict[str, Any] | None = None) -> bytes:
    return cbor2.dumps({"fmt": fmt, "attStmt": {} if att_stmt is None else att_stmt, "authData": auth_data})


def attestation_certificate(key: SoftKey, *, aaguid: bytes | None = None) -> bytes:
    """A self-issued packed attestation certificate (§8.2.1 subject shape), DER."""
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "SE"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Passgate Tests"),
            x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "Authenticator Attestation"),
            x509.NameAttribute(NameOID.COMMON_NAME, "softauthn"),
        ]
    )
    not_before = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.private_key.public_key())
        .serial_number(1)
        .not_valid_before(not_before)
        .not_valid_after(not_before + dt.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
    )
    if aaguid is not None:
        oid = x509.ObjectIdentifier("1.3.6.1.4.1.45724.1.1.4")
        builder = builder.add_extension(x509.UnrecognizedExtension(oid, b"\x04\x10" + aaguid), critical=False)
    return builder.sign(key.private_key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)


# ---------------------------------------------------------------------------------------------
# Authenticator
# ---------------------------------------------------------------------------------------------


@dataclass
class SoftAuthenticator:
    """One credential on a software authenticator; ``register()`` / ``assert_()`` build responses."""

    key: SoftKey = field(default_factory=es256_key)
    credential_id: bytes = b"\xc0" * 32
    user_handle: bytes = USER_HANDLE
    aaguid: bytes = AAGUID
    backup_eligible: bool = True
    sign_count: int = 0

    def _backup_flags(self) -> int:
        return BE | BS if self.backup_eligible else 0

    def registration_auth_data(self, **overrides: Any) -> bytes:
        attested = attested_credential_data(
            credential_id=overrides.pop("credential_id", self.credential_id),
            cose_key=overrides.pop("cose_key", self.key.cose()),
            aaguid=overrides.pop("aaguid", self.aaguid),
        )
        options: dict[str, Any] = {
            "flags": UP | UV | AT | self._backup_flags(),
            "sign_count": self.sign_count,
            "attested": attested,
        }
        options.update(overrides)
        return authenticator_data(**options)

    def register(
        self,
        *,
        challenge: bytes = CHALLENGE,
        fmt: str = "none",
        client_data: bytes | None = None,
        auth_data: bytes | None = None,
        att_stmt: dict[str, Any] | None = None,
        attestation: bytes | None = None,
        transports: list[str] | None = None,
    ) -> dict[str, Any]:
        """A registration response. ``fmt`` "packed" = self attestation, "packed-x5c" = full."""
        cdj = client_data if client_data is not None else client_data_json(type="webauthn.create", challenge=challenge)
        ad = auth_data if auth_data is not None else self.registration_auth_data()
        if attestation is None:
            statement = att_stmt if att_stmt is not None else self._statement(fmt, ad, cdj)
            attestation = attestation_object(
                fmt="packed" if fmt == "packed-x5c" else fmt, auth_data=ad, att_stmt=statement
            )
        return {
            "id": b64(self.credential_id),
            "rawId": b64(self.credential_id),
            "type": "public-key",
            "response": {
                "clientDataJSON": b64(cdj),
                "attestationObject": b64(attestation),
                "transports": ["internal", "hybrid"] if transports is None else transports,
            },
            "clientExtensionResults": {"credProps": {"rk": True}},
            "authenticatorAttachment": "platform",
        }

    def _statement(self, fmt: str, auth_data: bytes, cdj: bytes) -> dict[str, Any]:
        signed = auth_data + hashlib.sha256(cdj).digest()
        if fmt == "packed":
            return {"alg": self.key.alg, "sig": self.key.sign(signed)}
        if fmt == "packed-x5c":
            attestation_key = attestation_signing_key()
            cert = attestation_certificate(attestation_key, aaguid=self.aaguid)
            return {"alg": attestation_key.alg, "sig": attestation_key.sign(signed), "x5c": [cert]}
        return {}

    def assertion_auth_data(self, **overrides: Any) -> bytes:
        options: dict[str, Any] = {"flags": UP | UV | self._backup_flags(), "sign_count": self.sign_count}
        options.update(overrides)
        return authenticator_data(**options)

    def assert_(
        self,
        *,
        challenge: bytes = CHALLENGE,
        client_data: bytes | None = None,
        auth_data: bytes | None = None,
        signature: bytes | None = None,
        user_handle: bytes | None = None,
        sign_with: SoftKey | None = None,
    ) -> dict[str, Any]:
        """An assertion response, signed over authData || SHA-256(clientDataJSON)."""
        cdj = client_data if client_data is not None else client_data_json(type="webauthn.get", challenge=challenge)
        ad = auth_data if auth_data is not None else self.assertion_auth_data()
        if signature is None:
            signature = (sign_with or self.key).sign(ad + hashlib.sha256(cdj).digest())
        return {
            "id": b64(self.credential_id),
            "rawId": b64(self.credential_id),
            "type": "public-key",
            "response": {
                "clientDataJSON": b64(cdj),
                "authenticatorData": b64(ad),
                "signature": b64(signature),
                "userHandle": b64(self.user_handle if user_handle is None else user_handle),
            },
            "clientExtensionResults": {},
            "authenticatorAttachment": "platform",
        }

    def stored(self, **overrides: Any) -> StoredCredential:
        """The credential record the RP would hold for this authenticator."""
        values: dict[str, Any] = {
            "credential_id": self.credential_id,
            "public_key": self.key.cose(),
            "sign_count": 0,
            "backup_eligible": self.backup_eligible,
            "user_handle": self.user_handle,
        }
        values.update(overrides)
        return StoredCredential(**values)


@cache
def attestation_signing_key() -> SoftKey:
    return SoftKey(ES256, ec.generate_private_key(ec.SECP256R1()))


def with_member(credential: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """``credential`` with one member (``a.b``) replaced, or removed if ``value`` is ``...``."""
    *parents, last = path.split(".")
    target = credential
    for part in parents:
        target = target[part]
    if value is ...:
        del target[last]
    else:
        target[last] = value
    return credential
