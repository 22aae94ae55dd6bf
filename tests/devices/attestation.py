"""A throw-away attestation PKI for the soft key: a root CA and one batch attestation certificate under it.

The leaf meets the packed attestation certificate requirements of WebAuthn §8.2.1: X.509 version 3; subject
C, O, OU = "Authenticator Attestation" and CN; the id-fido-gen-ce-aaguid extension (1.3.6.1.4.1.45724.1.1.4)
holding the AAGUID as an OCTET STRING, not critical; basicConstraints CA=false.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

AAGUID_OID = x509.ObjectIdentifier("1.3.6.1.4.1.45724.1.1.4")
NOT_BEFORE = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
NOT_AFTER = dt.datetime(2044, 1, 1, tzinfo=dt.UTC)


def _name(common_name: str, unit: str) -> x509.Name:
    return x509.Name([
        x509.NameAttribute(NameOID.COUNTRY_NAME, "SE"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Passgate Test Devices"),
        x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, unit),
        x509.NameAttribute(NameOID.COMMON_NAME, common_name),
    ])


def _certificate(subject: x509.Name, public: ec.EllipticCurvePublicKey, issuer: x509.Name,
                 signer: ec.EllipticCurvePrivateKey, extensions: list[tuple[x509.ExtensionType, bool]]
                 ) -> x509.Certificate:
    builder = (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer).public_key(public)
               .serial_number(x509.random_serial_number()).not_valid_before(NOT_BEFORE).not_valid_after(NOT_AFTER))
    for extension, critical in extensions:
        builder = builder.add_extension(extension, critical=critical)
    return builder.sign(signer, hashes.SHA256())


def aaguid_extension(aaguid: bytes) -> x509.UnrecognizedExtension:
    """The AAGUID extension's value: an OCTET STRING (tag 0x04, length 16) wrapping the 16 AAGUID bytes."""
    return x509.UnrecognizedExtension(AAGUID_OID, b"\x04\x10" + aaguid)


@dataclass(frozen=True)
class AttestationIdentity:
    """The batch attestation key and its chain (leaf first, as packed ``x5c`` wants it; the root is the anchor)."""

    key: ec.EllipticCurvePrivateKey
    leaf: x509.Certificate
    root: x509.Certificate

    @classmethod
    def generate(cls, aaguid: bytes) -> AttestationIdentity:
        root_key = ec.generate_private_key(ec.SECP256R1())
        root_name = _name("Passgate Softkey Test Root", "Test Attestation CA")
        root = _certificate(root_name, root_key.public_key(), root_name, root_key, [
            (x509.BasicConstraints(ca=True, path_length=0), True),
            (x509.KeyUsage(digital_signature=False, content_commitment=False, key_encipherment=False,
                           data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=True,
                           encipher_only=False, decipher_only=False), True),
        ])
        key = ec.generate_private_key(ec.SECP256R1())
        leaf = _certificate(_name("Passgate Softkey Batch 1", "Authenticator Attestation"), key.public_key(),
                            root_name, root_key, [
                                (x509.BasicConstraints(ca=False, path_length=None), True),
                                (aaguid_extension(aaguid), False),
                            ])
        return cls(key=key, leaf=leaf, root=root)

    def sign(self, data: bytes) -> bytes:
        return self.key.sign(data, ec.ECDSA(hashes.SHA256()))

    def x5c(self) -> list[bytes]:
        return [self.leaf.public_bytes(serialization.Encoding.DER)]

    def to_json(self) -> dict[str, Any]:
        pem = serialization.Encoding.PEM
        return {
            "key": self.key.private_bytes(pem, serialization.PrivateFormat.PKCS8,
                                          serialization.NoEncryption()).decode(),
            "leaf": self.leaf.public_bytes(pem).decode(),
            "root": self.root.public_bytes(pem).decode(),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> AttestationIdentity:
        key = serialization.load_pem_private_key(data["key"].encode(), password=None)
        if not isinstance(key, ec.EllipticCurvePrivateKey):
            raise ValueError("the attestation key is not an EC key")
        return cls(key=key, leaf=x509.load_pem_x509_certificate(data["leaf"].encode()),
                   root=x509.load_pem_x509_certificate(data["root"].encode()))
