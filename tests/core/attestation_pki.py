"""Attestation statements of every format on a throw-away PKI, for negative vectors (no test functions here).

Each builder makes a registration response that satisfies the format's certificate requirements (WebAuthn L3 §8)
and, where py_webauthn does not pin vendor roots (packed, tpm, fido-u2f), verifies end to end; every part can
be replaced so that a negative vector is "a valid response with exactly one thing changed":

    auth = SoftAuthenticator()
    response = packed_response(auth, leaf=packed_leaf(subject=subject(ou=None)))   # no OU=Authenticator Attestation

``resign`` edits a certificate below what ``cryptography`` can build (X.509 version, repeated extensions) and signs
it again with its issuer's key.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509.oid import NameOID
from pyasn1.codec.der import decoder as der_decoder
from pyasn1.codec.der import encoder as der_encoder
from pyasn1.type import univ
from pyasn1_modules import rfc5280
from webauthn.helpers.asn1.android_key import KeyDescription

from tests.core.softauthn import AAGUID, CHALLENGE, SoftAuthenticator, b64, client_data_json
from tests.core.trust.test_pki import Issued, PrivateKey, make_cert

NOT_BEFORE = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
NOT_AFTER = dt.datetime(2036, 1, 1, tzinfo=dt.UTC)
AAGUID_OID = x509.ObjectIdentifier("1.3.6.1.4.1.45724.1.1.4")
ANDROID_KEY_DESCRIPTION = x509.ObjectIdentifier("1.3.6.1.4.1.11129.2.1.17")
APPLE_NONCE = x509.ObjectIdentifier("1.2.840.113635.100.8.2")
TCG_KP_AIK_CERTIFICATE = x509.ObjectIdentifier("2.23.133.8.3")
TPM_MANUFACTURER = x509.ObjectIdentifier("2.23.133.2.1")
TPM_MODEL = x509.ObjectIdentifier("2.23.133.2.2")
TPM_VERSION = x509.ObjectIdentifier("2.23.133.2.3")
NUVOTON = "id:4E544300"  # a TCG-registered manufacturer id, which py_webauthn's TPM verifier requires

Extension = tuple[x509.ExtensionType, bool]  # (value, critical)


@cache
def attestation_ca() -> tuple[Issued, Issued]:
    """A root and an intermediate (EC P-256) that issue every attestation certificate here."""
    root = make_cert("Passgate Attestation Test Root", ca=True)
    return root, make_cert("Passgate Attestation Test Intermediate", issuer=root, ca=True)


def issuer() -> Issued:
    return attestation_ca()[1]


def new_ec_key(curve: ec.EllipticCurve | None = None) -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(curve or ec.SECP256R1())


def subject(*, c: str | None = "SE", o: str | None = "Passgate Tests", ou: str | None = "Authenticator Attestation",
            cn: str | None = "Passgate test authenticator") -> x509.Name:
    """A packed attestation subject (§8.2.1); ``None`` leaves an attribute out."""
    pairs = ((NameOID.COUNTRY_NAME, c), (NameOID.ORGANIZATION_NAME, o), (NameOID.ORGANIZATIONAL_UNIT_NAME, ou),
             (NameOID.COMMON_NAME, cn))
    return x509.Name([x509.NameAttribute(oid, value, _validate=False) for oid, value in pairs if value is not None])


def certificate(name: x509.Name, public_key: Any, *, extensions: Sequence[Extension] = (),
                signed_by: Issued | None = None) -> bytes:
    """A DER certificate for ``public_key`` with exactly ``extensions``, issued by ``signed_by`` (the intermediate)."""
    by = signed_by or issuer()
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(by.cert.subject)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOT_BEFORE)
        .not_valid_after(NOT_AFTER)
    )
    for value, critical in extensions:
        builder = builder.add_extension(value, critical=critical)
    return builder.sign(by.key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)


def resign(der: bytes, change: Callable[[Any], None], signed_by: Issued | None = None) -> bytes:
    """``der`` with its TBSCertificate changed by ``change`` (a pyasn1 object), signed again by its (EC) issuer."""
    key = (signed_by or issuer()).key
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    cert, _ = der_decoder.decode(der, asn1Spec=rfc5280.Certificate())
    change(cert["tbsCertificate"])
    signature = key.sign(der_encoder.encode(cert["tbsCertificate"]), ec.ECDSA(hashes.SHA256()))
    cert["signature"] = univ.BitString.fromOctetString(signature)
    return bytes(der_encoder.encode(cert))


def as_version_1(tbs: Any) -> None:
    tbs["version"] = 0
    tbs["extensions"] = univ.noValue


def with_extension_twice(oid: str) -> Callable[[Any], None]:
    def change(tbs: Any) -> None:
        extensions = tbs["extensions"]
        for extension in list(extensions):
            if str(extension["extnID"]) == oid:
                extensions.append(extension)
                return
        raise AssertionError(f"no extension {oid} to repeat")
    return change


def aaguid_extension(value: bytes = AAGUID, *, critical: bool = False, raw: bytes | None = None) -> Extension:
    """id-fido-gen-ce-aaguid: the DER OCTET STRING of ``value`` (or ``raw`` bytes as they are)."""
    return x509.UnrecognizedExtension(AAGUID_OID, raw if raw is not None else b"\x04\x10" + value), critical


def not_ca(ca: bool = False) -> Extension:
    return x509.BasicConstraints(ca=ca, path_length=None), True


# ---------------------------------------------------------------------------------------------
# Signing a statement
# ---------------------------------------------------------------------------------------------


def sign(key: PrivateKey, data: bytes) -> tuple[int, bytes]:
    """(COSE alg, signature) of ``data`` with an EC key (ES256) or an RSA key (RS256)."""
    if isinstance(key, ec.EllipticCurvePrivateKey):
        return -7, key.sign(data, ec.ECDSA(hashes.SHA256()))
    assert isinstance(key, rsa.RSAPrivateKey)
    return -257, key.sign(data, padding.PKCS1v15(), hashes.SHA256())


@dataclass(frozen=True)
class Ceremony:
    """The bytes a statement signs: authenticator data and client data of one registration."""

    auth: SoftAuthenticator
    auth_data: bytes
    client_data: bytes

    @property
    def client_data_hash(self) -> bytes:
        return hashlib.sha256(self.client_data).digest()

    def response(self, fmt: str, statement: dict[str, Any]) -> dict[str, Any]:
        return self.auth.register(fmt=fmt, client_data=self.client_data, auth_data=self.auth_data,
                                  att_stmt=statement)


def ceremony(auth: SoftAuthenticator | None = None, *, aaguid: bytes = AAGUID,
             challenge: bytes = CHALLENGE) -> Ceremony:
    authenticator = auth or SoftAuthenticator(aaguid=aaguid)
    return Ceremony(authenticator, authenticator.registration_auth_data(),
                    client_data_json(type="webauthn.create", challenge=challenge))


# ---------------------------------------------------------------------------------------------
# packed (§8.2)
# ---------------------------------------------------------------------------------------------


def packed_leaf(*, name: x509.Name | None = None, key: PrivateKey | None = None,
                extensions: Sequence[Extension] | None = None) -> tuple[bytes, PrivateKey]:
    """A §8.2.1 packed attestation certificate (and its key): C/O/OU/CN, CA=false, the AAGUID extension."""
    key = key or new_ec_key()
    exts = [not_ca(), aaguid_extension()] if extensions is None else list(extensions)
    return certificate(name or subject(), key.public_key(), extensions=exts), key


def packed_response(c: Ceremony, leaf: tuple[bytes, PrivateKey] | None = None,
                    chain: Sequence[bytes] | None = None) -> dict[str, Any]:
    der, key = leaf or packed_leaf()
    alg, sig = sign(key, c.auth_data + c.client_data_hash)
    x5c = [der, *(chain if chain is not None else [issuer().der])]
    return c.response("packed", {"alg": alg, "sig": sig, "x5c": x5c})


# ---------------------------------------------------------------------------------------------
# tpm (§8.3): a TPMT_PUBLIC for the credential's P-256 key, a TPMS_ATTEST certifying it, an AIK certificate
# ---------------------------------------------------------------------------------------------


def tpm_names(manufacturer: str | None = NUVOTON, model: str | None = "NPCT75x",
              version: str | None = "id:00070002") -> x509.GeneralName:
    attributes = [x509.NameAttribute(oid, value) for oid, value in
                  ((TPM_MANUFACTURER, manufacturer), (TPM_MODEL, model), (TPM_VERSION, version)) if value is not None]
    return x509.DirectoryName(x509.Name([x509.RelativeDistinguishedName(attributes)] if attributes else []))


def tpm_aik(*, name: x509.Name | None = None, key: PrivateKey | None = None,
            extensions: Sequence[Extension] | None = None) -> tuple[bytes, PrivateKey]:
    """A §8.3.1 AIK certificate: empty subject, critical SAN with the TPM names, AIK EKU, CA=false."""
    key = key or new_ec_key()
    exts = [
        (x509.SubjectAlternativeName([tpm_names()]), True),
        (x509.ExtendedKeyUsage([TCG_KP_AIK_CERTIFICATE]), False),
        not_ca(),
    ] if extensions is None else list(extensions)
    return certificate(name or x509.Name([]), key.public_key(), extensions=exts), key


def _tpm2b(data: bytes) -> bytes:
    return len(data).to_bytes(2, "big") + data


def tpm_pub_area(auth: SoftAuthenticator) -> bytes:
    numbers = auth.key.private_key.public_key().public_numbers()
    return b"".join([
        b"\x00\x23",  # type TPM_ALG_ECC
        b"\x00\x0b",  # nameAlg TPM_ALG_SHA256
        (0x00060472).to_bytes(4, "big"),  # objectAttributes: fixedTPM, fixedParent, sensitiveDataOrigin, sign, ...
        _tpm2b(b""),  # authPolicy
        b"\x00\x10\x00\x10\x00\x03\x00\x10",  # symmetric NULL, scheme NULL, curve NIST P-256, kdf NULL
        _tpm2b(numbers.x.to_bytes(32, "big")) + _tpm2b(numbers.y.to_bytes(32, "big")),
    ])


def tpm_cert_info(pub_area: bytes, extra_data: bytes) -> bytes:
    return b"".join([
        b"\xff\x54\x43\x47",  # TPM_GENERATED_VALUE
        b"\x80\x17",  # TPM_ST_ATTEST_CERTIFY
        _tpm2b(b"\x00\x0b" + bytes(32)),  # qualifiedSigner
        _tpm2b(extra_data),
        bytes(8) + (1).to_bytes(4, "big") + (1).to_bytes(4, "big") + b"\x01",  # clockInfo
        bytes(8),  # firmwareVersion
        _tpm2b(b"\x00\x0b" + hashlib.sha256(pub_area).digest()),  # attested.name
        _tpm2b(b""),  # attested.qualifiedName
    ])


def tpm_response(c: Ceremony, aik: tuple[bytes, PrivateKey] | None = None,
                 chain: Sequence[bytes] | None = None) -> dict[str, Any]:
    der, key = aik or tpm_aik()
    pub_area = tpm_pub_area(c.auth)
    cert_info = tpm_cert_info(pub_area, hashlib.sha256(c.auth_data + c.client_data_hash).digest())
    alg, sig = sign(key, cert_info)
    x5c = [der, *(chain if chain is not None else [issuer().der])]
    return c.response("tpm", {"ver": "2.0", "alg": alg, "x5c": x5c, "sig": sig, "certInfo": cert_info,
                              "pubArea": pub_area})


# ---------------------------------------------------------------------------------------------
# android-key (§8.4)
# ---------------------------------------------------------------------------------------------


def key_description(challenge: bytes, *, origin: int | None = 0, purposes: Sequence[int] | None = (2,),
                    all_applications: str = "", software_origin_and_purpose: bool = False) -> bytes:
    """A KeyDescription (Android Keystore attestation extension); ``all_applications`` "tee"/"software" adds it."""
    description = KeyDescription()
    description["attestationVersion"] = 3
    description["attestationSecurityLevel"] = 1
    description["keymasterVersion"] = 4
    description["keymasterSecurityLevel"] = 1
    description["attestationChallenge"] = challenge
    description["uniqueId"] = b""
    software, tee = description["softwareEnforced"], description["teeEnforced"]
    target = software if software_origin_and_purpose else tee
    if purposes is not None:
        target["purpose"].extend(list(purposes))
    if origin is not None:
        target["origin"] = origin
    if all_applications:
        (tee if all_applications == "tee" else software)["allApplications"] = ""
    return bytes(der_encoder.encode(description))


def android_leaf(c: Ceremony, *, description: bytes | None = None, public_key: Any = None,
                 extensions: Sequence[Extension] | None = None) -> bytes:
    """An Android Keystore attestation certificate for the credential key, carrying the key description."""
    value = description if description is not None else key_description(c.client_data_hash)
    exts = [(x509.UnrecognizedExtension(ANDROID_KEY_DESCRIPTION, value), False)] if extensions is None else extensions
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Android Keystore Key")])
    return certificate(name, public_key or c.auth.key.private_key.public_key(), extensions=exts)


def android_key_response(c: Ceremony, leaf: bytes | None = None) -> dict[str, Any]:
    """Signed by the credential key; x5c ends in the root, as Android Keystore sends it."""
    root, intermediate = attestation_ca()
    alg, sig = sign(c.auth.key.private_key, c.auth_data + c.client_data_hash)
    x5c = [leaf or android_leaf(c), intermediate.der, root.der]
    return c.response("android-key", {"alg": alg, "sig": sig, "x5c": x5c})


# ---------------------------------------------------------------------------------------------
# apple (§8.8)
# ---------------------------------------------------------------------------------------------


def apple_nonce(c: Ceremony) -> bytes:
    return hashlib.sha256(c.auth_data + c.client_data_hash).digest()


def apple_nonce_extension(nonce: bytes) -> bytes:
    """DER SEQUENCE { [1] EXPLICIT OCTET STRING nonce }."""
    inner = b"\x04" + bytes([len(nonce)]) + nonce
    tagged = b"\xa1" + bytes([len(inner)]) + inner
    return b"\x30" + bytes([len(tagged)]) + tagged


def apple_leaf(c: Ceremony, *, extension: bytes | None = None, public_key: Any = None) -> bytes:
    value = extension if extension is not None else apple_nonce_extension(apple_nonce(c))
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "passgate-test-credential"),
                      x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "AAA Certification")])
    return certificate(name, public_key or c.auth.key.private_key.public_key(),
                       extensions=[not_ca(), (x509.UnrecognizedExtension(APPLE_NONCE, value), False)])


def apple_response(c: Ceremony, leaf: bytes | None = None) -> dict[str, Any]:
    return c.response("apple", {"alg": -7, "x5c": [leaf or apple_leaf(c), issuer().der]})


# ---------------------------------------------------------------------------------------------
# fido-u2f (§8.6) and android-safetynet (§8.5)
# ---------------------------------------------------------------------------------------------


def u2f_response(c: Ceremony, leaf: tuple[bytes, PrivateKey]) -> dict[str, Any]:
    der, key = leaf
    numbers = c.auth.key.private_key.public_key().public_numbers()
    point = b"\x04" + numbers.x.to_bytes(32, "big") + numbers.y.to_bytes(32, "big")
    signed = b"\x00" + c.auth_data[:32] + c.client_data_hash + c.auth.credential_id + point
    _, sig = sign(key, signed)
    return c.response("fido-u2f", {"sig": sig, "x5c": [der]})


def safetynet_response(c: Ceremony, x5c: Sequence[bytes]) -> dict[str, Any]:
    """A SafetyNet JWS carrying ``x5c`` in its header (the signature is not meant to verify)."""
    def part(data: dict[str, Any]) -> str:
        return b64(json.dumps(data).encode())

    nonce = base64.b64encode(hashlib.sha256(c.auth_data + c.client_data_hash).digest()).decode()
    header = part({"alg": "RS256", "x5c": [base64.b64encode(der).decode() for der in x5c]})
    payload = part({"nonce": nonce, "timestampMs": 1_700_000_000_000, "ctsProfileMatch": True,
                    "basicIntegrity": True})
    return c.response("android-safetynet", {"ver": "1", "response": f"{header}.{payload}.{b64(b'sig')}".encode()})

