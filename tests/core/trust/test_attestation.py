"""Attestation trust decisions (passgate.core.trust.attestation) over a throw-away attestation PKI."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import json
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import cbor2
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from pyasn1.codec.der import decoder
from pyasn1_modules import rfc5280

from passgate.core.errors import InvalidInput
from passgate.core.trust.attestation import (
    AttestationLevel,
    AttestationReason,
    accepted_models_hint,
    assess_attestation,
    attestation_required_refusal,
    known_vendor_roots,
)
from passgate.core.trust.blob import verify_blob
from passgate.core.trust.mds import AuthenticatorStatus, CertificationLevel, MetadataSnapshot
from passgate.core.webauthn import RegisteredCredential, verify_registration
from tests.core.softauthn import CHALLENGE, RP, SoftAuthenticator, client_data_json, weak_rsa_key
from tests.core.trust.test_pki import CHROMIUM_VIRTUAL_AAGUID, Issued, make_blob, make_cert, make_entry, make_pki

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
AAGUID_BYTES = uuid.UUID(CHROMIUM_VIRTUAL_AAGUID).bytes
OTHER_AAGUID = "11111111-2222-4333-8444-555555555555"
R = AttestationReason


# --- builders ---------------------------------------------------------------------------------------------------


def attestation_ca(name: str = "Passgate Test Attestation") -> tuple[Issued, Issued]:
    root = make_cert(f"{name} Root", ca=True)
    return root, make_cert(f"{name} Intermediate", issuer=root, ca=True)


def attestation_leaf(
    issuer: Issued,
    *,
    aaguid: bytes | None = AAGUID_BYTES,
    not_before: datetime = datetime(2024, 1, 1, tzinfo=UTC),
    not_after: datetime = datetime(2036, 1, 1, tzinfo=UTC),
) -> Issued:
    """A packed attestation certificate (§8.2.1 subject, CA=false, id-fido-gen-ce-aaguid) issued by ``issuer``."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "SE"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Passgate Tests"),
            x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "Authenticator Attestation"),
            x509.NameAttribute(NameOID.COMMON_NAME, "softauthn batch"),
        ]
    )
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(issuer.cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
    )
    if aaguid is not None:
        oid = x509.ObjectIdentifier("1.3.6.1.4.1.45724.1.1.4")
        builder = builder.add_extension(x509.UnrecognizedExtension(oid, b"\x04\x10" + aaguid), critical=False)
    return Issued(builder.sign(issuer.key, hashes.SHA256()), key)


def register(*, fmt: str = "packed-x5c", x5c: list[Issued] | None = None) -> RegisteredCredential:
    """verify_registration of a SoftAuthenticator response; for packed-x5c the statement is signed by x5c[0]."""
    authenticator = SoftAuthenticator(aaguid=AAGUID_BYTES)
    auth_data = authenticator.registration_auth_data()
    cdj = client_data_json(type="webauthn.create")
    att_stmt: dict[str, Any] | None = None
    if fmt == "packed-x5c":
        assert x5c
        leaf_key = x5c[0].key
        assert isinstance(leaf_key, ec.EllipticCurvePrivateKey)
        signature = leaf_key.sign(auth_data + hashlib.sha256(cdj).digest(), ec.ECDSA(hashes.SHA256()))
        att_stmt = {"alg": -7, "sig": signature, "x5c": [cert.der for cert in x5c]}
    response = authenticator.register(
        fmt="packed" if fmt == "packed-x5c" else fmt, client_data=cdj, auth_data=auth_data, att_stmt=att_stmt
    )
    result = verify_registration(
        rp=RP, credential=response, expected_challenge=CHALLENGE, credential_id_registered=lambda _cid: False
    )
    assert isinstance(result, RegisteredCredential)
    return result


def snapshot(*entries: dict[str, Any]) -> MetadataSnapshot:
    pki = make_pki()
    blob = make_blob(list(entries), signer=pki.signer, chain=pki.x5c, next_update=date(2027, 1, 1))
    return verify_blob(blob, root_der=pki.root.der, now=NOW)


def entry_for(root: Issued, **overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "aaguid": CHROMIUM_VIRTUAL_AAGUID,
        "description": "Passgate Virtual Key",
        "root_certificates": [root.der],
        "statuses": (("FIDO_CERTIFIED_L2", "2024-01-01"),),
    }
    values.update(overrides)
    return make_entry(**values)


def sha1_upper(der: bytes) -> str:
    return hashlib.sha1(der, usedforsecurity=False).hexdigest().upper()


# --- packed full ------------------------------------------------------------------------------------------------


def test_packed_full_chaining_to_the_entry_root_is_attested() -> None:
    root, intermediate = attestation_ca()
    leaf = attestation_leaf(intermediate)
    credential = register(x5c=[leaf, intermediate])
    result = assess_attestation(credential=credential, snapshot=snapshot(entry_for(root)), now=NOW)
    assert (result.level, result.reason) == (AttestationLevel.ATTESTED, R.ATTESTED), result.message
    assert result.attested and result.fmt == "packed"
    assert result.model == "Passgate Virtual Key"
    assert result.certification_level is CertificationLevel.L2
    assert result.status is AuthenticatorStatus.FIDO_CERTIFIED_L2
    assert result.thumbprints == (sha1_upper(leaf.der), sha1_upper(intermediate.der))
    assert result.accepted_models_hint == ""


def test_an_intermediate_listed_as_root_anchors_the_chain() -> None:
    root, intermediate = attestation_ca()
    leaf = attestation_leaf(intermediate)
    snap = snapshot(entry_for(root, root_certificates=[intermediate.der]))
    assert assess_attestation(credential=register(x5c=[leaf]), snapshot=snap, now=NOW).attested
    assert assess_attestation(credential=register(x5c=[leaf, intermediate]), snapshot=snap, now=NOW).attested


def test_no_entry_for_the_aaguid_is_no_metadata() -> None:
    root, intermediate = attestation_ca()
    credential = register(x5c=[attestation_leaf(intermediate), intermediate])
    result = assess_attestation(credential=credential, snapshot=snapshot(entry_for(root, aaguid=OTHER_AAGUID)), now=NOW)
    assert (result.level, result.reason) == (AttestationLevel.NOT_ATTESTED, R.NO_METADATA)
    assert CHROMIUM_VIRTUAL_AAGUID in result.message and result.entry is None
    assert "such as Passgate Virtual Key" in result.accepted_models_hint
    no_snapshot = assess_attestation(credential=credential, snapshot=None, now=NOW)
    assert no_snapshot.reason is R.NO_METADATA and "no FIDO metadata is loaded" in no_snapshot.accepted_models_hint


@pytest.mark.parametrize(
    "status",
    [
        "REVOKED",
        "ATTESTATION_KEY_COMPROMISE",
        "USER_VERIFICATION_BYPASS",
        "USER_KEY_REMOTE_COMPROMISE",
        "USER_KEY_PHYSICAL_COMPROMISE",
    ],
)
def test_an_untrusted_latest_status_is_refused_and_named(status: str) -> None:
    root, intermediate = attestation_ca()
    credential = register(x5c=[attestation_leaf(intermediate), intermediate])
    entry = entry_for(root, statuses=(("FIDO_CERTIFIED_L1", "2021-01-01"), (status, "2025-06-01")))
    result = assess_attestation(credential=credential, snapshot=snapshot(entry), now=NOW)
    assert result.reason is R.UNTRUSTED_STATUS and not result.attested
    assert status in result.message and "2025-06-01" in result.message
    assert result.status == AuthenticatorStatus(status) and result.model == "Passgate Virtual Key"


def test_an_update_available_status_is_not_untrusted() -> None:
    root, intermediate = attestation_ca()
    credential = register(x5c=[attestation_leaf(intermediate), intermediate])
    entry = entry_for(root, statuses=(("FIDO_CERTIFIED_L1", "2021-01-01"), ("UPDATE_AVAILABLE", "2025-06-01")))
    assert assess_attestation(credential=credential, snapshot=snapshot(entry), now=NOW).attested


def test_expired_and_not_yet_valid_leaves_are_refused_at_now() -> None:
    root, intermediate = attestation_ca()
    snap = snapshot(entry_for(root))
    expired = attestation_leaf(intermediate, not_after=datetime(2026, 1, 1, tzinfo=UTC))
    result = assess_attestation(credential=register(x5c=[expired, intermediate]), snapshot=snap, now=NOW)
    assert result.reason is R.CERTIFICATE_EXPIRED and "2026-01-01" in result.message
    # the same certificate, evaluated while it was valid
    earlier = NOW.replace(year=2025)
    assert assess_attestation(credential=register(x5c=[expired, intermediate]), snapshot=snap, now=earlier).attested
    future = attestation_leaf(intermediate, not_before=datetime(2027, 1, 1, tzinfo=UTC))
    result = assess_attestation(credential=register(x5c=[future, intermediate]), snapshot=snap, now=NOW)
    assert result.reason is R.CERTIFICATE_NOT_YET_VALID


def test_an_expired_root_is_refused() -> None:
    root = make_cert("Old Attestation Root", ca=True, not_after=datetime(2026, 6, 1, tzinfo=UTC))
    leaf = attestation_leaf(root, not_after=datetime(2030, 1, 1, tzinfo=UTC))  # outlives its root
    credential, snap = register(x5c=[leaf]), snapshot(entry_for(root))
    assert assess_attestation(credential=credential, snapshot=snap, now=datetime(2026, 5, 15, tzinfo=UTC)).attested
    later = assess_attestation(credential=credential, snapshot=snap, now=datetime(2026, 7, 1, tzinfo=UTC))
    assert later.reason is R.CERTIFICATE_EXPIRED and "the attestation root" in later.message


def test_x5c_that_includes_its_root_is_refused() -> None:
    """Disputed upstream (python-fido2 accepts); passgate follows FIDO conformance Resp-5 F-10."""
    root, intermediate = attestation_ca()
    credential = register(x5c=[attestation_leaf(intermediate), intermediate, root])
    result = assess_attestation(credential=credential, snapshot=snapshot(entry_for(root)), now=NOW)
    assert result.reason is R.ROOT_IN_X5C and "x5c[2]" in result.message


def test_a_chain_to_another_root_is_untrusted() -> None:
    root, _ = attestation_ca()
    _, other_intermediate = attestation_ca("Someone Else")
    credential = register(x5c=[attestation_leaf(other_intermediate), other_intermediate])
    result = assess_attestation(credential=credential, snapshot=snapshot(entry_for(root)), now=NOW)
    assert result.reason is R.CHAIN_UNTRUSTED and "Passgate Test Attestation Root" in result.message


def test_a_forged_intermediate_with_the_right_name_is_untrusted() -> None:
    root, _ = attestation_ca()
    forged = make_cert(
        "Passgate Test Attestation Intermediate", ca=True, issuer=make_cert("Passgate Test Attestation Root", ca=True)
    )
    credential = register(x5c=[attestation_leaf(forged), forged])
    result = assess_attestation(credential=credential, snapshot=snapshot(entry_for(root)), now=NOW)
    assert result.reason is R.CHAIN_UNTRUSTED


def test_a_non_ca_intermediate_breaks_the_chain() -> None:
    root = make_cert("Passgate Test Attestation Root", ca=True)
    not_ca = make_cert("Not A CA", issuer=root, ca=False)
    credential = register(x5c=[attestation_leaf(not_ca), not_ca])
    result = assess_attestation(credential=credential, snapshot=snapshot(entry_for(root)), now=NOW)
    assert result.reason is R.CHAIN_UNTRUSTED


def test_a_root_with_a_weak_key_anchors_nothing() -> None:
    """A 1024-bit RSA root listed by the metadata could be factored to issue attestation certificates at will."""
    weak_root = make_cert("Weak Attestation Root", key=weak_rsa_key(1024).private_key, ca=True)
    credential = register(x5c=[attestation_leaf(weak_root)])
    result = assess_attestation(credential=credential, snapshot=snapshot(entry_for(weak_root)), now=NOW)
    assert result.reason is R.CHAIN_UNTRUSTED and "no usable attestation root" in result.message


def test_aaguid_extension_must_match_the_authenticator_data() -> None:
    root, intermediate = attestation_ca()
    credential = register(x5c=[attestation_leaf(intermediate), intermediate])
    other = dataclasses.replace(credential, aaguid=OTHER_AAGUID)  # authData claiming another model
    result = assess_attestation(credential=other, snapshot=snapshot(entry_for(root, aaguid=OTHER_AAGUID)), now=NOW)
    assert result.reason is R.AAGUID_MISMATCH


# --- none, self, refusal message --------------------------------------------------------------------------------


def test_none_and_self_attestation_are_not_attested_with_a_reason() -> None:
    root, _ = attestation_ca()
    snap = snapshot(
        entry_for(root),
        make_entry(aaguid=OTHER_AAGUID, description="Other Certified Key", root_certificates=[root.der]),
    )
    none = assess_attestation(credential=register(fmt="none"), snapshot=snap, now=NOW)
    assert (none.level, none.reason, none.thumbprints) == (AttestationLevel.NOT_ATTESTED, R.NO_ATTESTATION, ())
    self_ = assess_attestation(credential=register(fmt="packed"), snapshot=snap, now=NOW)
    assert self_.reason is R.SELF_ATTESTATION and "self attestation" in self_.message
    # L2 before L1, at most three names
    assert none.accepted_models_hint == (
        "security keys listed in the FIDO Metadata Service with attestation, such "
        "as Passgate Virtual Key or Other Certified Key"
    )
    message = attestation_required_refusal(none)
    assert "without attestation" in message and "Passgate Virtual Key" in message
    assert "self attestation" in attestation_required_refusal(self_)


def test_refusal_message_is_only_for_refusals() -> None:
    root, intermediate = attestation_ca()
    attested = assess_attestation(
        credential=register(x5c=[attestation_leaf(intermediate), intermediate]),
        snapshot=snapshot(entry_for(root)),
        now=NOW,
    )
    with pytest.raises(InvalidInput):
        attestation_required_refusal(attested)


def test_hint_names_at_most_three_trusted_certified_models() -> None:
    root, _ = attestation_ca()
    entries = [
        make_entry(aaguid=f"{n:08x}-0000-4000-8000-000000000000", description=f"Key {n}", root_certificates=[root.der])
        for n in range(5)
    ]
    entries.append(
        make_entry(
            aaguid="99999999-0000-4000-8000-000000000000",
            description="Revoked Key",
            root_certificates=[root.der],
            statuses=(("REVOKED", "2022-01-01"),),
        )
    )
    hint = accepted_models_hint(snapshot(*entries))
    assert hint.endswith("such as Key 0, Key 1 or Key 2") and "Revoked" not in hint


def test_naive_time_is_a_caller_error() -> None:
    with pytest.raises(InvalidInput):
        assess_attestation(credential=register(fmt="none"), snapshot=None, now=datetime(2026, 1, 1))  # noqa: DTZ001


# --- fido-u2f: key identifier -----------------------------------------------------------------------------------


def key_identifier(der: bytes) -> str:
    spki = (
        x509.load_der_x509_certificate(der)
        .public_key()
        .public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    info, _ = decoder.decode(spki, asn1Spec=rfc5280.SubjectPublicKeyInfo())
    return hashlib.sha1(info["subjectPublicKey"].asOctets(), usedforsecurity=False).hexdigest()


def test_fido_u2f_finds_its_entry_by_key_identifier() -> None:
    root, intermediate = attestation_ca()
    leaf = attestation_leaf(intermediate, aaguid=None)
    u2f = dataclasses.replace(
        register(fmt="none"),
        attestation_format="fido-u2f",
        aaguid="00000000-0000-0000-0000-000000000000",
        attestation_certificates=(leaf.der, intermediate.der),
    )
    entry = make_entry(
        key_identifiers=[key_identifier(leaf.der)], description="Passgate U2F Key", root_certificates=[root.der]
    )
    result = assess_attestation(credential=u2f, snapshot=snapshot(entry), now=NOW)
    assert result.attested and result.model == "Passgate U2F Key", result.message
    other = make_entry(key_identifiers=["00" * 20], root_certificates=[root.der])
    assert assess_attestation(credential=u2f, snapshot=snapshot(other), now=NOW).reason is R.NO_METADATA


# --- vendor formats ---------------------------------------------------------------------------------------------


def test_known_vendor_roots_come_from_py_webauthn() -> None:
    apple = known_vendor_roots("apple")
    assert len(apple) == 1
    assert "Apple WebAuthn Root CA" in x509.load_der_x509_certificate(apple[0]).subject.rfc4514_string()
    assert len(known_vendor_roots("android-key")) >= 4
    assert known_vendor_roots("android-safetynet")
    assert known_vendor_roots("packed") == () == known_vendor_roots("none")


def test_vendor_formats_anchor_in_extra_roots_without_an_entry() -> None:
    root, intermediate = attestation_ca()
    leaf = attestation_leaf(intermediate, aaguid=None)
    packed = register(x5c=[attestation_leaf(intermediate), intermediate])
    apple = dataclasses.replace(
        packed, attestation_format="apple", attestation_certificates=(leaf.der, intermediate.der)
    )
    result = assess_attestation(credential=apple, snapshot=None, now=NOW, extra_roots=[root.der])
    assert result.attested and result.entry is None, result.message
    assert assess_attestation(credential=apple, snapshot=None, now=NOW).reason is R.NO_METADATA
    # extra roots are vendor roots: they do not stand in for MDS for other formats
    assert assess_attestation(credential=packed, snapshot=None, now=NOW, extra_roots=[root.der]).reason is (
        R.NO_METADATA
    )


def safetynet_credential(
    leaf: Issued, chain: list[Issued], *, timestamp: datetime, cts: bool = True
) -> RegisteredCredential:
    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    header = {"alg": "ES256", "x5c": [base64.b64encode(cert.der).decode() for cert in [leaf, *chain]]}
    payload = {
        "nonce": "n",
        "timestampMs": int(timestamp.timestamp() * 1000),
        "ctsProfileMatch": cts,
        "basicIntegrity": True,
    }
    jws = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(payload).encode())}.{b64(b'sig')}".encode()
    attestation = cbor2.dumps({"fmt": "android-safetynet", "attStmt": {"ver": "1", "response": jws}, "authData": b""})
    return dataclasses.replace(
        register(fmt="none"),
        attestation_format="android-safetynet",
        attestation_object=attestation,
        attestation_certificates=(),
    )


def test_safetynet_timestamp_window_and_cts_profile() -> None:
    root, intermediate = attestation_ca()
    leaf = attestation_leaf(intermediate, aaguid=None)

    def assess(delta: timedelta, *, cts: bool = True, require: bool = True) -> Any:
        credential = safetynet_credential(leaf, [intermediate], timestamp=NOW + delta, cts=cts)
        return assess_attestation(
            credential=credential, snapshot=None, now=NOW, extra_roots=[root.der], require_cts_profile_match=require
        )

    fresh = assess(timedelta(seconds=-30))
    assert fresh.attested and fresh.thumbprints == (sha1_upper(leaf.der), sha1_upper(intermediate.der))
    assert assess(timedelta(seconds=59)).attested
    assert assess(timedelta(seconds=-61)).reason is R.SAFETYNET_STALE
    assert assess(timedelta(seconds=61)).reason is R.SAFETYNET_STALE
    assert assess(timedelta(0), cts=False).reason is R.SAFETYNET_CTS_PROFILE_MISMATCH
    assert assess(timedelta(0), cts=False, require=False).attested


def test_unparseable_safetynet_response_is_unsupported() -> None:
    broken = dataclasses.replace(
        register(fmt="none"),
        attestation_format="android-safetynet",
        attestation_object=cbor2.dumps({"fmt": "android-safetynet", "attStmt": {}}),
    )
    assert assess_attestation(credential=broken, snapshot=None, now=NOW).reason is R.UNSUPPORTED
