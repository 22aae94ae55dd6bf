"""Attestation certificate requirements (issue 9, finding 2; WebAuthn L3 §8.2.1, §8.3.1, §8.4, §8.5, §8.8).

One valid statement per format on a throw-away PKI (tests/core/attestation_pki.py), then one negative vector per
rule: the same statement with exactly one thing about a certificate changed, refused with that rule's reason.
packed, tpm and fido-u2f statements verify end to end here; py_webauthn pins the android-key and apple chains to
the vendors' roots, so those positives end in its ``attestation_invalid`` (the certificate rules passed first).
Real devices' statements are in tests/core/test_conformance_vectors.py.
"""

from __future__ import annotations

import copy
import hashlib
import uuid
from collections.abc import Callable
from functools import cache
from typing import Any

import cbor2
import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from hypothesis import given, settings
from hypothesis import strategies as st

from passgate.core.errors import CeremonyRejected, RejectReason
from passgate.core.trust.attestation import assess_attestation
from passgate.core.webauthn import RegisteredCredential, verify_registration
from passgate.core.webauthn._certificates import StatementCertificates, check_attestation_certificates

from .attestation_pki import (
    AAGUID_OID,
    ANDROID_KEY_DESCRIPTION,
    TCG_KP_AIK_CERTIFICATE,
    Ceremony,
    aaguid_extension,
    android_key_response,
    android_leaf,
    apple_leaf,
    apple_nonce,
    apple_nonce_extension,
    apple_response,
    as_version_1,
    attestation_ca,
    ceremony,
    certificate,
    issuer,
    key_description,
    new_ec_key,
    not_ca,
    packed_leaf,
    packed_response,
    resign,
    safetynet_response,
    subject,
    tpm_aik,
    tpm_names,
    tpm_response,
    u2f_response,
    with_extension_twice,
)
from .softauthn import AAGUID, CHALLENGE, RP, b64, unb64, weak_rsa_key

R = RejectReason


def register(response: dict[str, Any]) -> RegisteredCredential:
    return verify_registration(rp=RP, credential=response, expected_challenge=CHALLENGE,
                               credential_id_registered=lambda _cid: False)


def refused(reason: RejectReason, response: dict[str, Any], *, says: str = "") -> CeremonyRejected:
    with pytest.raises(CeremonyRejected) as info:
        register(response)
    assert info.value.reason is reason, info.value
    assert says in info.value.message, info.value.message
    return info.value


# --- packed (§8.2.1) --------------------------------------------------------------------------------------------


def test_a_conforming_packed_chain_registers() -> None:
    registered = register(packed_response(ceremony()))
    assert registered.attestation_format == "packed" and len(registered.attestation_certificates) == 2


def test_a_packed_leaf_without_the_aaguid_extension_registers() -> None:
    """The extension is needed only when the root serves several models; the RP cannot tell, so it is optional."""
    register(packed_response(ceremony(), packed_leaf(extensions=[not_ca()])))


def test_a_packed_leaf_that_is_a_ca_is_refused() -> None:
    """The reviewed case: a CA certificate as the attestation certificate."""
    refused(R.ATTESTATION_CERTIFICATE_CA, packed_response(ceremony(), packed_leaf(
        extensions=[not_ca(ca=True), aaguid_extension()])), says="CA=true")


def test_a_packed_leaf_without_basic_constraints_is_refused() -> None:
    refused(R.ATTESTATION_CERTIFICATE_CA, packed_response(ceremony(), packed_leaf(extensions=[aaguid_extension()])),
            says="no basic constraints")


@pytest.mark.parametrize(("name", "lacks"), [
    (subject(ou=None), 'OU "Authenticator Attestation"'),  # the reviewed case
    (subject(ou="Authenticator"), 'OU "Authenticator Attestation"'),
    (subject(c=None), "C"),
    (subject(c="SWE"), "C"),
    (subject(c="1E"), "C"),
    (subject(o=None), "O"),
    (subject(o=" "), "O"),
    (subject(cn=None), "CN"),
    (x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Batch Certificate")]), "C"),
])
def test_a_packed_subject_needs_c_o_ou_and_cn(name: x509.Name, lacks: str) -> None:
    refused(R.ATTESTATION_CERTIFICATE_SUBJECT, packed_response(ceremony(), packed_leaf(name=name)), says=lacks)


def test_extra_subject_attributes_and_any_two_letter_country_are_accepted() -> None:
    """Vendors add L, ST, e-mail (eWBM does); the W3C vectors use the user-assigned code AA."""
    name = x509.Name([*subject(c="AA"), x509.NameAttribute(NameOID.LOCALITY_NAME, "Gangnam-Gu"),
                      x509.NameAttribute(NameOID.EMAIL_ADDRESS, "info@example.com")])
    register(packed_response(ceremony(), packed_leaf(name=name)))


def test_a_version_1_packed_certificate_is_refused() -> None:
    der, key = packed_leaf()
    refused(R.ATTESTATION_CERTIFICATE_VERSION, packed_response(ceremony(), (resign(der, as_version_1), key)),
            says="version 1")


def test_a_critical_aaguid_extension_is_refused() -> None:
    leaf = packed_leaf(extensions=[not_ca(), aaguid_extension(critical=True)])
    refused(R.ATTESTATION_CERTIFICATE_AAGUID, packed_response(ceremony(), leaf), says="critical")


@pytest.mark.parametrize("raw", [b"\x04\x10" + bytes(16), b"\x04\x0f" + AAGUID[:15], AAGUID, b"\x05\x00"])
def test_the_aaguid_extension_must_hold_the_authenticator_data_aaguid(raw: bytes) -> None:
    """Another AAGUID, 15 bytes, the bare 16 bytes without their OCTET STRING, not an OCTET STRING."""
    leaf = packed_leaf(extensions=[not_ca(), aaguid_extension(raw=raw)])
    refused(R.ATTESTATION_CERTIFICATE_AAGUID, packed_response(ceremony(), leaf))


def test_a_repeated_extension_is_malformed() -> None:
    der, key = packed_leaf()
    refused(R.ATTESTATION_CERTIFICATE_MALFORMED,
            packed_response(ceremony(), (resign(der, with_extension_twice(AAGUID_OID.dotted_string)), key)),
            says="twice")


def test_bytes_after_a_certificate_are_malformed() -> None:
    der, key = packed_leaf()
    refused(R.ATTESTATION_CERTIFICATE_MALFORMED, packed_response(ceremony(), (der + b"\x00", key)))


# --- certificate keys, every format (finding 7 for certificates) ---------------------------------------------


def test_a_packed_leaf_with_a_512_bit_rsa_key_is_refused() -> None:
    """The statement is signed by that key and verifies: only the key rule refuses it."""
    weak = weak_rsa_key(512).private_key
    refused(R.ATTESTATION_CERTIFICATE_KEY_TOO_WEAK, packed_response(ceremony(), packed_leaf(key=weak)),
            says="x5c[0]: 512-bit RSA key")


def test_a_weak_intermediate_key_is_refused() -> None:
    """A 1024-bit RSA intermediate could be factored to issue leaves at will."""
    weak = weak_rsa_key(1024).private_key
    intermediate = certificate(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Weak CA")]), weak.public_key(),
                               extensions=[not_ca(ca=True)], signed_by=attestation_ca()[0])
    refused(R.ATTESTATION_CERTIFICATE_KEY_TOO_WEAK, packed_response(ceremony(), chain=[intermediate]),
            says="x5c[1]: 1024-bit RSA key")


def test_a_leaf_on_a_small_curve_is_refused() -> None:
    refused(R.ATTESTATION_CERTIFICATE_KEY_TOO_WEAK,
            packed_response(ceremony(), packed_leaf(key=new_ec_key(ec.SECP224R1()))), says="secp224r1")


def test_a_fido_u2f_certificate_goes_through_the_same_key_rules() -> None:
    c = ceremony(aaguid=bytes(16))
    assert register(u2f_response(c, packed_leaf())).attestation_format == "fido-u2f"
    refused(R.ATTESTATION_CERTIFICATE_KEY_TOO_WEAK, u2f_response(c, packed_leaf(key=new_ec_key(ec.SECP224R1()))))


def test_safetynet_certificates_in_the_jws_go_through_the_same_place() -> None:
    c = ceremony()
    google = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "attest.android.com")])
    weak = weak_rsa_key(1024).private_key
    refused(R.ATTESTATION_CERTIFICATE_KEY_TOO_WEAK,
            safetynet_response(c, [certificate(google, weak.public_key()), issuer().der]), says="x5c[0]")
    other = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "attest.example.com")])
    refused(R.ATTESTATION_CERTIFICATE_SUBJECT,
            safetynet_response(c, [certificate(other, new_ec_key().public_key()), issuer().der]),
            says="attest.android.com")
    # the rules pass for the right host; the library then refuses this unsigned JWS
    refused(R.ATTESTATION_INVALID, safetynet_response(c, [certificate(google, new_ec_key().public_key())]))


# --- tpm (§8.3.1) -----------------------------------------------------------------------------------------------


def test_a_conforming_tpm_statement_registers() -> None:
    assert register(tpm_response(ceremony())).attestation_format == "tpm"


def _aik_with(**changes: Any) -> list[tuple[x509.ExtensionType, bool]]:
    """The AIK extensions with one replaced (value, critical) or removed (None)."""
    extensions: dict[str, tuple[x509.ExtensionType, bool] | None] = {
        "san": (x509.SubjectAlternativeName([tpm_names()]), True),
        "eku": (x509.ExtendedKeyUsage([TCG_KP_AIK_CERTIFICATE]), False),
        "bc": not_ca(),
    }
    extensions.update(changes)
    return [value for value in extensions.values() if value is not None]


def test_a_tpm_aik_certificate_with_a_subject_is_refused() -> None:
    refused(R.ATTESTATION_CERTIFICATE_SUBJECT, tpm_response(ceremony(), tpm_aik(name=subject())), says="not empty")


@pytest.mark.parametrize("san", [
    None,
    (x509.SubjectAlternativeName([tpm_names()]), False),  # not critical, with an empty subject (RFC 5280 §4.2.1.6)
    (x509.SubjectAlternativeName([tpm_names(manufacturer=None)]), True),
    (x509.SubjectAlternativeName([tpm_names(manufacturer="Nuvoton")]), True),
    (x509.SubjectAlternativeName([tpm_names(manufacturer="id:4E5443")]), True),
    (x509.SubjectAlternativeName([tpm_names(model=None)]), True),
    (x509.SubjectAlternativeName([tpm_names(version=None)]), True),
    (x509.SubjectAlternativeName([tpm_names(version="7.2")]), True),
    (x509.SubjectAlternativeName([tpm_names(), tpm_names()]), True),  # each name exactly once
    (x509.SubjectAlternativeName([x509.DNSName("tpm.example.com")]), True),
], ids=["missing", "not critical", "no manufacturer", "manufacturer not an id", "short manufacturer id",
        "no model", "no version", "version not an id", "names twice", "no directory name"])
def test_a_tpm_aik_certificate_needs_the_tpm_names_in_a_critical_san(san: Any) -> None:
    refused(R.ATTESTATION_CERTIFICATE_SAN, tpm_response(ceremony(), tpm_aik(extensions=_aik_with(san=san))))


def test_names_split_over_several_rdns_are_accepted() -> None:
    """The layout real TPMs use besides one multi-valued RDN (SimpleWebAuthn's 'non-spec-compliant' capture)."""
    names = x509.DirectoryName(x509.Name([
        x509.RelativeDistinguishedName([x509.NameAttribute(oid, value)])
        for oid, value in ((x509.ObjectIdentifier("2.23.133.2.1"), "id:4E544300"),
                           (x509.ObjectIdentifier("2.23.133.2.2"), "NPCT75x"),
                           (x509.ObjectIdentifier("2.23.133.2.3"), "id:72"))
    ]))
    register(tpm_response(ceremony(), tpm_aik(extensions=_aik_with(
        san=(x509.SubjectAlternativeName([names]), True)))))


@pytest.mark.parametrize("eku", [None, (x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), False)],
                         ids=["missing", "serverAuth only"])
def test_a_tpm_aik_certificate_needs_the_aik_extended_key_usage(eku: Any) -> None:
    refused(R.ATTESTATION_CERTIFICATE_EKU, tpm_response(ceremony(), tpm_aik(extensions=_aik_with(eku=eku))),
            says="2.23.133.8.3")


def test_the_aik_usage_may_come_with_others() -> None:
    """§8.3.1 says the EKU must *contain* the AIK usage: the certificate rules accept this one (py_webauthn then
    refuses it, as it reads only the first usage)."""
    eku = (x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH, TCG_KP_AIK_CERTIFICATE]), False)
    refused(R.ATTESTATION_INVALID, tpm_response(ceremony(), tpm_aik(extensions=_aik_with(eku=eku))),
            says="tpm attestation did not verify")


@pytest.mark.parametrize("bc", [None, not_ca(ca=True)], ids=["missing", "CA=true"])
def test_a_tpm_aik_certificate_must_not_be_a_ca(bc: Any) -> None:
    refused(R.ATTESTATION_CERTIFICATE_CA, tpm_response(ceremony(), tpm_aik(extensions=_aik_with(bc=bc))))


def test_a_version_1_aik_certificate_is_refused() -> None:
    der, key = tpm_aik()
    refused(R.ATTESTATION_CERTIFICATE_VERSION, tpm_response(ceremony(), (resign(der, as_version_1), key)))


@pytest.mark.parametrize(("extension", "says"), [
    (aaguid_extension(bytes(16)), "differs"), (aaguid_extension(critical=True), "critical")])
def test_the_aik_aaguid_extension_is_checked_like_packed(extension: Any, says: str) -> None:
    """py_webauthn 3.0.1 leaves this TPM check commented out."""
    refused(R.ATTESTATION_CERTIFICATE_AAGUID,
            tpm_response(ceremony(), tpm_aik(extensions=[*_aik_with(), extension])), says=says)
    register(tpm_response(ceremony(), tpm_aik(extensions=[*_aik_with(), aaguid_extension()])))


def test_a_weak_aik_key_is_refused() -> None:
    refused(R.ATTESTATION_CERTIFICATE_KEY_TOO_WEAK, tpm_response(ceremony(), tpm_aik(key=weak_rsa_key(1024)
                                                                                   .private_key)))


# --- android-key (§8.4) -----------------------------------------------------------------------------------------


def test_a_conforming_android_key_statement_passes_the_certificate_rules() -> None:
    """Then py_webauthn refuses the chain: it ends in the test root, not a Google hardware attestation root."""
    refused(R.ATTESTATION_INVALID, android_key_response(ceremony()), says="android-key attestation did not verify")


def test_the_android_key_leaf_must_hold_the_credential_key() -> None:
    c = ceremony()
    other = new_ec_key().public_key()
    refused(R.ATTESTATION_CERTIFICATE_KEY_MISMATCH, android_key_response(c, android_leaf(c, public_key=other)))


@pytest.mark.parametrize(("description", "reason"), [
    (lambda c: key_description(hashlib.sha256(b"another registration").digest()), R.ATTESTATION_CHALLENGE_MISMATCH),
    (lambda c: key_description(c.client_data_hash, all_applications="software"), R.ATTESTATION_KEY_AUTHORIZATION),
    (lambda c: key_description(c.client_data_hash, all_applications="tee"), R.ATTESTATION_KEY_AUTHORIZATION),
    (lambda c: key_description(c.client_data_hash, origin=2), R.ATTESTATION_KEY_AUTHORIZATION),  # imported
    (lambda c: key_description(c.client_data_hash, origin=None), R.ATTESTATION_KEY_AUTHORIZATION),
    (lambda c: key_description(c.client_data_hash, purposes=(2, 3)), R.ATTESTATION_KEY_AUTHORIZATION),  # + verify
    (lambda c: key_description(c.client_data_hash, purposes=(0,)), R.ATTESTATION_KEY_AUTHORIZATION),  # encrypt
    (lambda c: key_description(c.client_data_hash, purposes=None), R.ATTESTATION_KEY_AUTHORIZATION),
    (lambda c: key_description(c.client_data_hash, software_origin_and_purpose=True), R.ATTESTATION_KEY_AUTHORIZATION),
    (lambda c: b"\x30\x03\x02\x01\x03", R.ATTESTATION_CERTIFICATE_MALFORMED),
], ids=["other challenge", "allApplications software", "allApplications tee", "imported", "no origin",
        "sign and verify", "encrypt", "no purpose", "software-enforced only", "undecodable"])
def test_the_android_key_description_is_checked(description: Callable[[Ceremony], bytes],
                                                reason: RejectReason) -> None:
    c = ceremony()
    refused(reason, android_key_response(c, android_leaf(c, description=description(c))))


def test_an_android_key_leaf_without_a_key_description_is_refused() -> None:
    c = ceremony()
    refused(R.ATTESTATION_CHALLENGE_MISMATCH, android_key_response(c, android_leaf(c, extensions=[])),
            says=ANDROID_KEY_DESCRIPTION.dotted_string)


# --- apple (§8.8) -----------------------------------------------------------------------------------------------


def test_a_conforming_apple_statement_passes_the_certificate_rules() -> None:
    """Then py_webauthn refuses the chain: it ends in the test root, not Apple's WebAuthn root."""
    refused(R.ATTESTATION_INVALID, apple_response(ceremony()), says="apple attestation did not verify")


def test_the_apple_nonce_must_be_this_registrations() -> None:
    c = ceremony()
    other = apple_nonce_extension(hashlib.sha256(b"another registration").digest())
    refused(R.ATTESTATION_CHALLENGE_MISMATCH, apple_response(c, apple_leaf(c, extension=other)))


def test_the_apple_nonce_extension_is_read_strictly() -> None:
    """py_webauthn drops the first six bytes unread: here they are not the DER header, and the nonce is right."""
    c = ceremony()
    refused(R.ATTESTATION_CERTIFICATE_MALFORMED,
            apple_response(c, apple_leaf(c, extension=b"\x04\x24\x04\x22\x04\x20" + apple_nonce(c))))


def test_an_apple_leaf_without_the_nonce_extension_is_refused() -> None:
    c = ceremony()
    leaf = certificate(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "no nonce")]),
                       c.auth.key.private_key.public_key(), extensions=[not_ca()])
    refused(R.ATTESTATION_CHALLENGE_MISMATCH, apple_response(c, leaf), says="nonce")


def test_the_apple_leaf_must_hold_the_credential_key() -> None:
    c = ceremony()
    refused(R.ATTESTATION_CERTIFICATE_KEY_MISMATCH,
            apple_response(c, apple_leaf(c, public_key=new_ec_key().public_key())))


# --- what the trust decision sees ------------------------------------------------------------------------------


@pytest.mark.parametrize(("leaf", "reason"), [
    (lambda: packed_leaf(extensions=[not_ca(ca=True), aaguid_extension()]), R.ATTESTATION_CERTIFICATE_CA),
    (lambda: packed_leaf(name=subject(ou=None)), R.ATTESTATION_CERTIFICATE_SUBJECT),
], ids=["CA leaf", "no OU"])
def test_a_non_conforming_leaf_chaining_to_the_metadata_root_is_refused_not_attested(
        leaf: Callable[[], Any], reason: RejectReason) -> None:
    """The reviewed cases: such chains used to register and be rated 'attested' by the metadata's root."""
    from tests.core.trust.test_attestation import NOW, entry_for, snapshot

    snap = snapshot(entry_for(attestation_ca()[0], aaguid=str(uuid.UUID(bytes=AAGUID))))
    conforming = register(packed_response(ceremony()))
    assert assess_attestation(credential=conforming, snapshot=snap, now=NOW).attested  # the same chain, conforming
    refused(reason, packed_response(ceremony(), leaf()))


# --- properties ---------------------------------------------------------------------------------------------------

CERTIFICATE_PROPERTIES = settings(max_examples=200, deadline=None, database=None)


@cache
def valid_response(fmt: str) -> dict[str, Any]:
    c = ceremony(aaguid=bytes(16) if fmt == "fido-u2f" else AAGUID)
    builders: dict[str, Callable[[], dict[str, Any]]] = {
        "packed": lambda: packed_response(c), "tpm": lambda: tpm_response(c),
        "android-key": lambda: android_key_response(c), "apple": lambda: apple_response(c),
        "fido-u2f": lambda: u2f_response(c, packed_leaf()),
    }
    return builders[fmt]()


@CERTIFICATE_PROPERTIES
@given(st.sampled_from(["packed", "tpm", "android-key", "apple", "fido-u2f"]), st.data())
def test_changed_certificate_bytes_are_refused_with_a_reason(fmt: str, data: Any) -> None:
    """Any byte of any x5c certificate changed (or cut short): a CeremonyRejected, never another exception."""
    response = copy.deepcopy(valid_response(fmt))
    obj = cbor2.loads(unb64(response["response"]["attestationObject"]))
    x5c = obj["attStmt"]["x5c"]
    index = data.draw(st.integers(min_value=0, max_value=len(x5c) - 1))
    der = bytearray(x5c[index])
    if data.draw(st.booleans()):
        for _ in range(data.draw(st.integers(min_value=1, max_value=4))):
            der[data.draw(st.integers(min_value=0, max_value=len(der) - 1))] ^= data.draw(st.integers(1, 255))
    else:
        der = der[: data.draw(st.integers(min_value=0, max_value=len(der) - 1))]
    x5c[index] = bytes(der)
    response["response"]["attestationObject"] = b64(cbor2.dumps(obj))
    try:
        register(response)
    except CeremonyRejected:
        pass


@CERTIFICATE_PROPERTIES
@given(st.sampled_from(["packed", "tpm", "android-key", "apple", "fido-u2f", "android-safetynet", "unknown"]),
       st.lists(st.binary(max_size=300), min_size=1, max_size=3))
def test_any_bytes_as_certificates_are_refused_as_malformed(fmt: str, certificates: list[bytes]) -> None:
    c = ceremony()
    with pytest.raises(CeremonyRejected) as info:
        check_attestation_certificates(StatementCertificates(
            fmt=fmt, certificates=tuple(certificates), aaguid=AAGUID,
            credential_key=c.auth.key.private_key.public_key(), auth_data=c.auth_data,
            client_data_hash=c.client_data_hash))
    assert info.value.reason is R.ATTESTATION_CERTIFICATE_MALFORMED
