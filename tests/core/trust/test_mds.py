"""MDS3 BLOB verification: real FIDO BLOBs (tests/fixtures/mds, see PROVENANCE.md) and a throw-away test PKI."""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from fido2.mds3 import parse_blob
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from passgate.core.errors import InvalidInput, PassgateError
from passgate.core.trust import (
    GLOBALSIGN_ROOT_R3_SHA256,
    UNTRUSTED_STATUSES,
    AuthenticatorStatus,
    CertificationLevel,
    MetadataRejected,
    MetadataRejectReason,
    MetadataSnapshot,
    default_root_der,
    verify_blob,
)
from tests.core.trust.test_pki import (
    CHROMIUM_VIRTUAL_AAGUID,
    Pki,
    b64url,
    make_blob,
    make_cert,
    make_crl,
    make_entries,
    make_entry,
    make_pki,
    new_key,
    sign_jws,
)

R = MetadataRejectReason
FIXTURES = Path(__file__).parents[2] / "fixtures" / "mds"


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


NO9 = fixture("mds3-blob-no9-2021-11.jwt")
SPEC_BLOB = fixture("mds3-spec-example-blob.jwt")
GS_ROOT = fixture("globalsign-root-r3.der")
SPEC_ROOT = x509.load_pem_x509_certificate(fixture("mds3-spec-example-root.pem")).public_bytes(
    serialization.Encoding.DER)
R3_CRL = fixture("globalsign-root-r3.crl")
EV_CRL = fixture("globalsign-ev-ca-sha256-g3.crl")

BEFORE_EXPIRY = datetime(2021, 11, 20, 12, 0, tzinfo=UTC)  # signer valid 2021-04-12 .. 2022-05-14; nextUpdate 12-01
AFTER_NEXT_UPDATE = datetime(2021, 12, 15, tzinfo=UTC)
TODAY = datetime(2026, 11, 22, tzinfo=UTC)
TEST_NOW = datetime(2025, 6, 1, tzinfo=UTC)  # inside the test PKI's 2020..2040 validity


def rejected(reason: MetadataRejectReason, blob: bytes, **kwargs: Any) -> MetadataRejected:
    kwargs.setdefault("root_der", GS_ROOT)
    kwargs.setdefault("now", BEFORE_EXPIRY)
    with pytest.raises(MetadataRejected) as info:
        verify_blob(blob, **kwargs)
    assert info.value.reason is reason, str(info.value)
    assert info.value.code == reason.value
    assert isinstance(info.value, PassgateError)
    return info.value


@pytest.fixture(scope="module")
def no9() -> MetadataSnapshot:
    return verify_blob(NO9, root_der=default_root_der(), now=BEFORE_EXPIRY)


@pytest.fixture(scope="module")
def pki() -> Pki:
    return make_pki("ec")


@pytest.fixture(scope="module")
def rsa_pki() -> Pki:
    return make_pki("rsa")


def own(pki: Pki, **kwargs: Any) -> bytes:
    entries = kwargs.pop("entries", [make_entry(aaguid=CHROMIUM_VIRTUAL_AAGUID)])
    return make_blob(entries, pki.signer, pki.x5c, **kwargs)


def raw_jws(header: dict[str, Any], payload: bytes, signature: bytes) -> bytes:
    return b".".join([b64url(json.dumps(header).encode()), b64url(payload), b64url(signature)])


def x5c_of(pki: Pki) -> list[str]:
    return [base64.b64encode(cert.public_bytes(serialization.Encoding.DER)).decode() for cert in pki.x5c]


EMPTY_PAYLOAD = json.dumps({"legalHeader": "", "no": 1, "nextUpdate": "2030-01-01", "entries": []}).encode()


def mutate_payload(blob: bytes, change: Any) -> bytes:
    header, payload, signature = blob.split(b".")
    data = json.loads(base64.urlsafe_b64decode(payload + b"=" * (-len(payload) % 4)))
    change(data)
    return header + b"." + b64url(json.dumps(data).encode()) + b"." + signature


# --- (shipped root) ---------------------------------------------------------------------------------------------


def test_shipped_root_is_globalsign_r3() -> None:
    root = default_root_der()
    assert root == GS_ROOT
    assert hashlib.sha256(root).hexdigest() == GLOBALSIGN_ROOT_R3_SHA256
    cert = x509.load_der_x509_certificate(root)
    assert cert.subject.rfc4514_string() == "CN=GlobalSign,O=GlobalSign,OU=GlobalSign Root CA - R3"
    assert cert.not_valid_after_utc == datetime(2029, 3, 18, 10, 0, tzinfo=UTC)


# --- (a) the real 2021 production BLOB no.9 ----------------------------------------------------------------------


def test_no9_verifies_before_its_signer_expired(no9: MetadataSnapshot) -> None:
    assert no9.no == 9
    assert no9.next_update == date(2021, 12, 1)
    assert not no9.stale
    assert len(no9.entries) == 98
    assert no9.legal_header.startswith("Retrieval and use of this BLOB indicates acceptance")


def test_no9_is_refused_today_as_expired() -> None:
    error = rejected(R.CERTIFICATE_EXPIRED, NO9, now=TODAY)
    assert "CN=mds.fidoalliance.org" in error.message
    assert "2022-05-14T19:57:24+00:00" in error.message
    assert "2026-11-22" in error.message


def test_no9_after_next_update_verifies_but_is_stale() -> None:
    snapshot = verify_blob(NO9, root_der=GS_ROOT, now=AFTER_NEXT_UPDATE)
    assert snapshot.stale
    assert snapshot.no == 9


def test_no9_stale_flag_starts_the_day_after_next_update() -> None:
    on_the_day = datetime(2021, 12, 1, 23, 59, tzinfo=UTC)
    assert not verify_blob(NO9, root_der=GS_ROOT, now=on_the_day).stale
    assert verify_blob(NO9, root_der=GS_ROOT, now=on_the_day + timedelta(minutes=2)).stale


def test_no9_before_its_signer_was_issued_is_not_yet_valid() -> None:
    error = rejected(R.CERTIFICATE_NOT_YET_VALID, NO9, now=datetime(2021, 1, 1, tzinfo=UTC))
    assert "CN=mds.fidoalliance.org" in error.message
    assert "2021-04-12T19:57:24+00:00" in error.message


def test_the_verification_time_may_be_in_any_timezone_and_staleness_uses_utc() -> None:
    paris = ZoneInfo("Europe/Paris")
    assert not verify_blob(NO9, root_der=GS_ROOT, now=datetime(2021, 12, 2, 0, 30, tzinfo=paris)).stale
    assert verify_blob(NO9, root_der=GS_ROOT, now=datetime(2021, 12, 2, 1, 30, tzinfo=paris)).stale


def test_a_naive_verification_time_is_a_caller_error() -> None:
    with pytest.raises(InvalidInput):
        verify_blob(NO9, root_der=GS_ROOT, now=datetime(2021, 11, 20))  # noqa: DTZ001


def test_no9_agrees_with_python_fido2(no9: MetadataSnapshot) -> None:
    reference = parse_blob(NO9, GS_ROOT)
    assert reference.no == no9.no
    assert reference.next_update == no9.next_update
    assert len(reference.entries) == len(no9.entries)
    for theirs, ours in zip(reference.entries, no9.entries, strict=True):
        assert (str(theirs.aaguid) if theirs.aaguid else None) == ours.aaguid
        assert [k.hex() for k in theirs.attestation_certificate_key_identifiers or []] == list(
            ours.attestation_certificate_key_identifiers)
        assert [r.status.value for r in theirs.status_reports] == [r.status.value for r in ours.status_reports]
        assert theirs.metadata_statement is not None
        assert theirs.metadata_statement.description == ours.description
        assert list(theirs.metadata_statement.attestation_root_certificates) == list(
            ours.attestation_root_certificates)


# --- (b) the MDS3 spec example ------------------------------------------------------------------------------------


def test_spec_example_blob_with_its_own_root() -> None:
    snapshot = verify_blob(SPEC_BLOB, root_der=SPEC_ROOT, now=TODAY)
    assert snapshot.no == 15
    assert snapshot.next_update == date(2020, 3, 30)
    assert snapshot.stale
    assert [e.description for e in snapshot.entries] == [
        "FIDO Alliance Sample UAF Authenticator", "FIDO Alliance Sample FIDO2 Authenticator"]
    assert snapshot.entries[0].aaid == "1234#5678"


def test_spec_example_blob_is_not_trusted_under_globalsign() -> None:
    error = rejected(R.UNTRUSTED_CHAIN, SPEC_BLOB, now=TODAY)
    assert "EXAMPLE MDS3 TEST INTERMEDIATE" in error.message


# --- (c) tampering, wrong root -------------------------------------------------------------------------------------


def test_tampered_payload_is_a_bad_signature() -> None:
    def promote(data: dict[str, Any]) -> None:
        data["no"] = 99

    rejected(R.BAD_SIGNATURE, mutate_payload(NO9, promote))


def test_tampered_entry_is_a_bad_signature() -> None:
    def certify(data: dict[str, Any]) -> None:
        data["entries"][0]["statusReports"] = [{"status": "FIDO_CERTIFIED_L3plus", "effectiveDate": "2021-11-01"}]

    rejected(R.BAD_SIGNATURE, mutate_payload(NO9, certify))


def test_tampered_signature_is_a_bad_signature() -> None:
    header, payload, signature = NO9.split(b".")
    raw = bytearray(base64.urlsafe_b64decode(signature + b"=" * (-len(signature) % 4)))
    raw[100] ^= 0x01
    error = rejected(R.BAD_SIGNATURE, b".".join([header, payload, b64url(bytes(raw))]))
    assert "mds.fidoalliance.org" in error.message


def test_wrong_root_is_an_untrusted_chain() -> None:
    error = rejected(R.UNTRUSTED_CHAIN, NO9, root_der=SPEC_ROOT)
    assert "GlobalSign Extended Validation CA" in error.message
    assert "EXAMPLE MDS3 TEST ROOT" in error.message


# --- (d) rollback ---------------------------------------------------------------------------------------------------


def test_rollback_to_a_lower_serial_number_is_refused() -> None:
    error = rejected(R.ROLLBACK, NO9, current_no=10)
    assert "no=9" in error.message
    assert "no=10" in error.message


@pytest.mark.parametrize("current_no", [None, 0, 8, 9])
def test_same_or_higher_serial_number_is_accepted(current_no: int | None) -> None:
    assert verify_blob(NO9, root_der=GS_ROOT, now=BEFORE_EXPIRY, current_no=current_no).no == 9


# --- (e) CRLs -------------------------------------------------------------------------------------------------------


def test_shipped_globalsign_crls_do_not_revoke_the_2021_chain() -> None:
    """Both CRLs date from 2024 and no longer list the 2021 chain; they verify, so they are honoured (and pass)."""
    root = x509.load_der_x509_certificate(GS_ROOT)
    r3, ev = x509.load_der_x509_crl(R3_CRL), x509.load_der_x509_crl(EV_CRL)
    assert r3.is_signature_valid(root.public_key())  # type: ignore[arg-type]
    assert r3.last_update_utc == datetime(2024, 7, 7, tzinfo=UTC)
    assert ev.last_update_utc.date() == date(2024, 8, 31)
    header = json.loads(base64.urlsafe_b64decode(NO9.split(b".")[0] + b"=="))
    chain = [x509.load_der_x509_certificate(base64.b64decode(c)) for c in header["x5c"]]
    assert ev.is_signature_valid(chain[1].public_key())  # type: ignore[arg-type]
    for cert in [*chain, root]:
        assert r3.get_revoked_certificate_by_serial_number(cert.serial_number) is None
        assert ev.get_revoked_certificate_by_serial_number(cert.serial_number) is None
    assert verify_blob(NO9, root_der=GS_ROOT, now=BEFORE_EXPIRY, crls=[R3_CRL, EV_CRL]).no == 9


def test_pem_crls_are_accepted() -> None:
    pem = x509.load_der_x509_crl(EV_CRL).public_bytes(serialization.Encoding.PEM)
    assert verify_blob(NO9, root_der=GS_ROOT, now=BEFORE_EXPIRY, crls=[pem]).no == 9


def test_a_crl_with_a_broken_signature_is_invalid() -> None:
    broken = bytearray(EV_CRL)
    broken[-10] ^= 0x01  # inside the signature value
    error = rejected(R.CRL_INVALID, NO9, crls=[R3_CRL, bytes(broken)])
    assert "CRL #1" in error.message
    assert "GlobalSign Extended Validation CA" in error.message


@pytest.mark.parametrize("garbage", [b"", b"not a crl", EV_CRL[:200], b"-----BEGIN X509 CRL-----\nAAAA\n"])
def test_an_unparseable_crl_is_invalid(garbage: bytes) -> None:
    rejected(R.CRL_INVALID, NO9, crls=[garbage])


def test_crl_revoking_the_signer_refuses_the_blob(pki: Pki) -> None:
    crl = make_crl(pki.intermediate, [(pki.signer.serial, datetime(2024, 1, 1, tzinfo=UTC))])
    error = rejected(R.CERTIFICATE_REVOKED, own(pki), root_der=pki.root.der, now=TEST_NOW, crls=[crl])
    assert "Passgate Test MDS BLOB Signer" in error.message
    assert "2024-01-01" in error.message


def test_crl_revoking_the_intermediate_refuses_the_blob(pki: Pki) -> None:
    crl = make_crl(pki.root, [(pki.intermediate.serial, datetime(2024, 1, 1, tzinfo=UTC))])
    error = rejected(R.CERTIFICATE_REVOKED, own(pki), root_der=pki.root.der, now=TEST_NOW, crls=[crl])
    assert "Passgate Test MDS Intermediate" in error.message


def test_a_revocation_after_the_verification_time_does_not_count(pki: Pki) -> None:
    crl = make_crl(pki.intermediate, [(pki.signer.serial, datetime(2030, 1, 1, tzinfo=UTC))])
    assert verify_blob(own(pki), root_der=pki.root.der, now=TEST_NOW, crls=[crl]).no == 1


def test_a_crl_listing_other_serials_passes(pki: Pki) -> None:
    crl = make_crl(pki.intermediate, [(pki.signer.serial + 1, datetime(2021, 1, 1, tzinfo=UTC))])
    assert verify_blob(own(pki), root_der=pki.root.der, now=TEST_NOW, crls=[crl]).no == 1


def test_a_forged_crl_is_invalid(pki: Pki) -> None:
    forged = make_crl(pki.intermediate, [(pki.signer.serial, datetime(2024, 1, 1, tzinfo=UTC))],
                      signing_key=new_key("ec"))
    rejected(R.CRL_INVALID, own(pki), root_der=pki.root.der, now=TEST_NOW, crls=[forged])


def test_a_crl_of_an_unrelated_ca_is_ignored(pki: Pki) -> None:
    stranger = make_cert("Unrelated CA", ca=True)
    crl = make_crl(stranger, [(pki.signer.serial, datetime(2024, 1, 1, tzinfo=UTC))])
    assert verify_blob(own(pki), root_der=pki.root.der, now=TEST_NOW, crls=[crl, EV_CRL]).no == 1


# --- (e) test PKI: algorithms, chains, dates ----------------------------------------------------------------------


@pytest.mark.parametrize(("key_type", "alg"), [("ec", "ES256"), ("rsa", "RS256"), ("rsa", "PS256")])
def test_own_pki_blob_verifies(key_type: str, alg: str, pki: Pki, rsa_pki: Pki) -> None:
    chosen = pki if key_type == "ec" else rsa_pki
    snapshot = verify_blob(own(chosen, alg=alg, no=7), root_der=chosen.root.der, now=TEST_NOW)
    assert snapshot.no == 7
    assert snapshot.by_aaguid(CHROMIUM_VIRTUAL_AAGUID) is not None


def test_es256_der_signature_is_tolerated(pki: Pki) -> None:
    assert verify_blob(own(pki, es256_der=True), root_der=pki.root.der, now=TEST_NOW).no == 1


def test_rs256_header_on_an_ec_signer_is_a_bad_signature(pki: Pki) -> None:
    blob = raw_jws({"alg": "RS256", "x5c": x5c_of(pki)}, EMPTY_PAYLOAD, b"\x00" * 256)
    error = rejected(R.BAD_SIGNATURE, blob, root_der=pki.root.der, now=TEST_NOW)
    assert "needs an RSA key" in error.message


@pytest.mark.parametrize("alg", ["none", "HS256", "HS512", "RS512", "ES384", "EdDSA", "rs256", ""])
def test_algorithms_outside_the_allow_list_are_refused(alg: str, pki: Pki) -> None:
    header = {"alg": alg, "x5c": x5c_of(pki)}
    if alg in {"none", "HS256"}:  # real unsecured / HMAC JWSs (HS256 keyed with the signer's public DER)
        blob = sign_jws(header, EMPTY_PAYLOAD, pki.signer.der if alg == "HS256" else None)
    else:
        blob = raw_jws(header, EMPTY_PAYLOAD, b"\x01" * 64)
    error = rejected(R.UNSUPPORTED_ALGORITHM, blob, root_der=pki.root.der, now=TEST_NOW)
    assert "RS256" in error.message


def test_missing_alg_is_malformed(pki: Pki) -> None:
    rejected(R.MALFORMED_BLOB, own(pki, header_extra={"alg": None}), root_der=pki.root.der, now=TEST_NOW)


def test_critical_header_extensions_are_refused(pki: Pki) -> None:
    rejected(R.MALFORMED_BLOB, own(pki, header_extra={"crit": ["b64"]}), root_der=pki.root.der, now=TEST_NOW)


def test_root_inside_x5c_is_refused(pki: Pki) -> None:
    blob = make_blob([], pki.signer, [*pki.x5c, pki.root.cert])
    error = rejected(R.UNTRUSTED_CHAIN, blob, root_der=pki.root.der, now=TEST_NOW)
    assert "x5c[2] is the trust root itself" in error.message


def test_missing_x5c_is_an_untrusted_chain(pki: Pki) -> None:
    rejected(R.UNTRUSTED_CHAIN, own(pki, header_extra={"x5c": None}), root_der=pki.root.der, now=TEST_NOW)


def test_x5c_out_of_order_is_an_untrusted_chain(pki: Pki) -> None:
    blob = make_blob([], pki.signer, [pki.intermediate.cert, pki.signer.cert])
    rejected(R.UNTRUSTED_CHAIN, blob, root_der=pki.root.der, now=TEST_NOW)


def test_x5c_without_the_intermediate_is_an_untrusted_chain(pki: Pki) -> None:
    blob = make_blob([], pki.signer, [pki.signer.cert])
    error = rejected(R.UNTRUSTED_CHAIN, blob, root_der=pki.root.der, now=TEST_NOW)
    assert "not by the configured root" in error.message


def test_an_intermediate_that_is_not_a_ca_is_an_untrusted_chain(pki: Pki) -> None:
    not_ca = make_cert("Passgate Test MDS Intermediate", issuer=pki.root, key=pki.intermediate.key, ca=False)
    blob = make_blob([], pki.signer, [pki.signer.cert, not_ca.cert])
    error = rejected(R.UNTRUSTED_CHAIN, blob, root_der=pki.root.der, now=TEST_NOW)
    assert "is not a CA certificate" in error.message


def test_an_intermediate_signed_by_another_key_is_an_untrusted_chain(pki: Pki) -> None:
    impostor_root = make_cert("Passgate Test MDS Root", key=new_key("ec"), ca=True)  # same name, other key
    intermediate = make_cert("Passgate Test MDS Intermediate", issuer=impostor_root, key=pki.intermediate.key,
                             ca=True)
    blob = make_blob([], pki.signer, [pki.signer.cert, intermediate.cert])
    error = rejected(R.UNTRUSTED_CHAIN, blob, root_der=pki.root.der, now=TEST_NOW)
    assert "does not verify with the key of the configured root" in error.message


def test_a_blob_signed_by_another_key_than_the_leaf_is_a_bad_signature(pki: Pki) -> None:
    other = make_pki("ec", cached=False)
    blob = make_blob([], other.signer, pki.x5c)
    rejected(R.BAD_SIGNATURE, blob, root_der=pki.root.der, now=TEST_NOW)


def test_expired_and_future_signers(pki: Pki) -> None:
    expired = make_cert("Old Signer", issuer=pki.intermediate, not_after=datetime(2024, 12, 31, tzinfo=UTC))
    error = rejected(R.CERTIFICATE_EXPIRED, make_blob([], expired, [expired.cert, pki.intermediate.cert]),
                     root_der=pki.root.der, now=TEST_NOW)
    assert "CN=Old Signer" in error.message
    assert "2024-12-31" in error.message
    future = make_cert("Future Signer", issuer=pki.intermediate, not_before=datetime(2026, 1, 1, tzinfo=UTC))
    error = rejected(R.CERTIFICATE_NOT_YET_VALID, make_blob([], future, [future.cert, pki.intermediate.cert]),
                     root_der=pki.root.der, now=TEST_NOW)
    assert "CN=Future Signer" in error.message


def test_an_expired_root_refuses_the_blob(pki: Pki) -> None:
    error = rejected(R.CERTIFICATE_EXPIRED, own(pki), root_der=pki.root.der,
                     now=datetime(2040, 1, 1, 0, 0, 1, tzinfo=UTC))
    assert "Passgate Test MDS BLOB Signer" in error.message  # the leaf is reported first
    late_root = make_cert("Short Root", ca=True, not_after=datetime(2025, 1, 1, tzinfo=UTC))
    signer = make_cert("Signer", issuer=late_root)
    error = rejected(R.CERTIFICATE_EXPIRED, make_blob([], signer, [signer.cert]), root_der=late_root.der,
                     now=TEST_NOW)
    assert "CN=Short Root" in error.message


# --- (f) bad input -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("cut", [0, 1, 10, 100, len(NO9) // 2])
def test_truncated_blobs_are_malformed(cut: int) -> None:
    rejected(R.MALFORMED_BLOB, NO9[:cut])


def test_truncated_signature_is_refused() -> None:
    error = rejected(R.BAD_SIGNATURE, NO9[:-20])
    assert "RS256" in error.message


@pytest.mark.parametrize("blob", [
    b"hello", b"{\"alg\": \"RS256\"}", b"a.b", b"a.b.c.d", b"....", b"a.b.c", b"!!.??.**", b"\xff\xfe.\x00.\x01",
    b"e30.e30.e30", b"W10.e30.", b"bnVsbA.e30.", b"eyJhbGciOiJSUzI1NiJ9.e30.e30",  # {}, [], null, no x5c
    b"eyJhbGciOiJSUzI1NiIsIngiOk5hTn0.e30.",  # NaN is not JSON
])
def test_non_jws_input_is_refused(blob: bytes) -> None:
    with pytest.raises(MetadataRejected) as info:
        verify_blob(blob, root_der=GS_ROOT, now=BEFORE_EXPIRY)
    assert info.value.reason in {R.MALFORMED_BLOB, R.UNTRUSTED_CHAIN}


def test_garbage_parts_are_malformed() -> None:
    rejected(R.MALFORMED_BLOB, b"!!.??.**")
    rejected(R.MALFORMED_BLOB, b"e30.e30.e30")  # {} header: no alg


def test_oversized_blob_is_too_large() -> None:
    error = rejected(R.TOO_LARGE, NO9, max_bytes=1000)
    assert str(len(NO9)) in error.message
    rejected(R.TOO_LARGE, b"x" * (16 * 1024 * 1024 + 1))


def test_trailing_newline_is_tolerated(pki: Pki) -> None:
    assert verify_blob(own(pki) + b"\n", root_der=pki.root.der, now=TEST_NOW).no == 1


@pytest.mark.parametrize("x5c", [["AAAA"], ["not base64!"], [123], ["MIIB"], [""]])
def test_malformed_certificates_in_x5c(x5c: list[Any], pki: Pki) -> None:
    rejected(R.MALFORMED_CERTIFICATE, own(pki, header_extra={"x5c": x5c}), root_der=pki.root.der, now=TEST_NOW)


def test_truncated_certificate_in_x5c(pki: Pki) -> None:
    leaf = pki.signer.der[:-30]
    blob = own(pki, header_extra={"x5c": [base64.b64encode(leaf).decode()]})
    error = rejected(R.MALFORMED_CERTIFICATE, blob, root_der=pki.root.der, now=TEST_NOW)
    assert "x5c[0]" in error.message


@pytest.mark.parametrize("x5c", ["MIIB", {}, []])
def test_x5c_that_is_not_a_list_is_malformed(x5c: Any, pki: Pki) -> None:
    rejected(R.MALFORMED_BLOB, own(pki, header_extra={"x5c": x5c}), root_der=pki.root.der, now=TEST_NOW)


def test_malformed_configured_root(pki: Pki) -> None:
    error = rejected(R.MALFORMED_CERTIFICATE, own(pki), root_der=b"\x30\x03\x02\x01\x00", now=TEST_NOW)
    assert "configured root" in error.message


@pytest.mark.parametrize("payload", [b"not json", b"\xff\xfe", b"[]", b"null", b'{"no": 1'])
def test_non_json_payload_with_a_good_signature_is_malformed(payload: bytes, pki: Pki) -> None:
    rejected(R.MALFORMED_BLOB, own(pki, payload=payload), root_der=pki.root.der, now=TEST_NOW)


@pytest.mark.parametrize("change", [
    {"no": None}, {"no": -1}, {"no": "9"}, {"no": True}, {"nextUpdate": None}, {"nextUpdate": "2021-13-01"},
    {"nextUpdate": "20211201"}, {"legalHeader": None}, {"entries": None}, {"entries": {}},
])
def test_payload_fields_are_checked(change: dict[str, Any], pki: Pki) -> None:
    payload = {"legalHeader": "x", "no": 1, "nextUpdate": "2030-01-01", "entries": []}
    payload.update(change)
    payload = {key: value for key, value in payload.items() if value is not None}
    rejected(R.MALFORMED_BLOB, own(pki, payload=json.dumps(payload).encode()), root_der=pki.root.der,
             now=TEST_NOW)


def _without(entry: dict[str, Any], *path: str) -> dict[str, Any]:
    target = entry
    for key in path[:-1]:
        target = target[key]
    del target[path[-1]]
    return entry


@pytest.mark.parametrize(("mangle", "expected"), [
    (lambda e: _without(e, "statusReports"), "'statusReports' is missing"),
    (lambda e: {**e, "statusReports": []}, "'statusReports' is empty"),
    (lambda e: _without(e, "timeOfLastStatusChange"), "'timeOfLastStatusChange'"),
    (lambda e: {**e, "statusReports": [{"status": "PRETTY_SAFE"}]}, "unknown status 'PRETTY_SAFE'"),
    (lambda e: {**e, "statusReports": [{"status": "REVOKED", "effectiveDate": "soon"}]}, "effectiveDate"),
    (lambda e: {**e, "aaguid": "not-a-uuid"}, "'aaguid' is not a hyphenated UUID"),
    (lambda e: {**e, "attestationCertificateKeyIdentifiers": ["xyz"]}, "attestationCertificateKeyIdentifiers"),
    (lambda e: _without(e, "metadataStatement", "description"), "'description' is missing"),
    (lambda e: _without(e, "metadataStatement", "attestationRootCertificates"), "attestationRootCertificates"),
    (lambda e: {**e, "metadataStatement": {**e["metadataStatement"], "attestationRootCertificates": ["@@"]}},
     "attestationRootCertificates[0] is not base64"),
    (lambda e: {**e, "metadataStatement": {**e["metadataStatement"], "attestationRootCertificates": ["AAAA"]}},
     "attestationRootCertificates[0] is not a DER certificate"),
    (lambda e: {**e, "metadataStatement": {**e["metadataStatement"], "userVerificationDetails": [[{}]]}},
     "userVerificationMethod"),
    (lambda e: {**e, "metadataStatement": {**e["metadataStatement"], "authenticatorVersion": "1"}},
     "'authenticatorVersion' is not an integer"),
    (lambda e: {**e, "metadataStatement": {**e["metadataStatement"],
                                           "aaguid": "00000000-0000-0000-0000-000000000000"}}, "differs"),
    (lambda e: {**e, "metadataStatement": []}, "'metadataStatement' is not an object"),
    (lambda e: [e], "not an object"),
])
def test_entries_missing_required_fields_are_malformed(mangle: Any, expected: str, pki: Pki) -> None:
    good = make_entry(aaguid=CHROMIUM_VIRTUAL_AAGUID, description="Mangled Key")
    entries = [make_entry(aaguid="00000000-0000-4000-8000-000000000001"), mangle(good)]
    error = rejected(R.MALFORMED_ENTRY, own(pki, entries=entries), root_der=pki.root.der, now=TEST_NOW)
    assert error.message.startswith("entries[1]")
    assert expected in error.message


def test_duplicate_aaguids_are_malformed(pki: Pki) -> None:
    entries = [make_entry(aaguid=CHROMIUM_VIRTUAL_AAGUID), make_entry(aaguid=CHROMIUM_VIRTUAL_AAGUID.upper())]
    error = rejected(R.MALFORMED_ENTRY, own(pki, entries=entries), root_der=pki.root.der, now=TEST_NOW)
    assert CHROMIUM_VIRTUAL_AAGUID in error.message


def test_duplicate_key_identifiers_are_malformed(pki: Pki) -> None:
    entries = [make_entry(key_identifiers=["ab" * 20]), make_entry(key_identifiers=["AB" * 20])]
    rejected(R.MALFORMED_ENTRY, own(pki, entries=entries), root_der=pki.root.der, now=TEST_NOW)


# --- (f) hypothesis: nothing but MetadataRejected ---------------------------------------------------------------


def _only_rejections(blob: bytes, root_der: bytes, now: datetime) -> None:
    try:
        verify_blob(blob, root_der=root_der, now=now, max_bytes=1 << 20)
    except MetadataRejected:
        pass


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=2048))
def test_random_bytes_only_ever_raise_metadata_rejected(blob: bytes) -> None:
    _only_rejections(blob, GS_ROOT, BEFORE_EXPIRY)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(alphabet="ABCDEFabcdef0123456789-_=+/!. ", max_size=80), min_size=1, max_size=5))
def test_dotted_base64ish_text_only_raises_metadata_rejected(parts: list[str]) -> None:
    _only_rejections(".".join(parts).encode(), GS_ROOT, BEFORE_EXPIRY)


SMALL_PKI = make_pki("ec")
SMALL_BLOB = make_blob([make_entry(aaguid=CHROMIUM_VIRTUAL_AAGUID, root_certificates=[SMALL_PKI.root.der])],
                       SMALL_PKI.signer, SMALL_PKI.x5c)


@settings(max_examples=300, deadline=None)
@given(st.integers(min_value=0, max_value=len(SMALL_BLOB) - 1))
def test_every_truncation_is_refused(cut: int) -> None:
    with pytest.raises(MetadataRejected) as info:
        verify_blob(SMALL_BLOB[:cut], root_der=SMALL_PKI.root.der, now=TEST_NOW)
    assert info.value.reason in {R.MALFORMED_BLOB, R.BAD_SIGNATURE, R.MALFORMED_CERTIFICATE, R.UNTRUSTED_CHAIN}


@settings(max_examples=300, deadline=None)
@given(st.integers(min_value=0, max_value=len(SMALL_BLOB) - 1), st.integers(min_value=1, max_value=255))
def test_every_byte_flip_is_refused(position: int, xor: int) -> None:
    mutated = bytearray(SMALL_BLOB)
    mutated[position] ^= xor
    try:
        verify_blob(bytes(mutated), root_der=SMALL_PKI.root.der, now=TEST_NOW)
    except MetadataRejected:
        return
    # Only a change that decodes to the same bytes may pass (base64url's unused low bits of a final character).
    original_parts = [base64.urlsafe_b64decode(p + b"=" * (-len(p) % 4)) for p in SMALL_BLOB.split(b".")]
    mutated_parts = [base64.urlsafe_b64decode(p + b"=" * (-len(p) % 4)) for p in bytes(mutated).split(b".")]
    assert original_parts == mutated_parts


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=20,
)
ENTRY_KEYS = st.sampled_from(["aaguid", "aaid", "statusReports", "timeOfLastStatusChange", "metadataStatement",
                              "attestationCertificateKeyIdentifiers"])


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.dictionaries(ENTRY_KEYS, JSON, max_size=6) | JSON, max_size=3), st.integers(0, 10))
def test_signed_random_entries_only_raise_metadata_rejected(entries: list[Any], no: int) -> None:
    blob = make_blob(entries, SMALL_PKI.signer, SMALL_PKI.x5c, no=no)
    try:
        snapshot = verify_blob(blob, root_der=SMALL_PKI.root.der, now=TEST_NOW)
    except MetadataRejected as error:
        assert error.reason is R.MALFORMED_ENTRY
    else:
        assert len(snapshot.entries) == len(entries)


# --- (g) lookups, statuses, certification levels ------------------------------------------------------------------


def test_lookup_yubikey_5_by_aaguid(no9: MetadataSnapshot) -> None:
    entry = no9.by_aaguid("CB69481E-8FF7-4039-93EC-0A2729A154A8")
    assert entry is not None
    assert entry.aaguid == "cb69481e-8ff7-4039-93ec-0a2729a154a8"
    assert entry.description == "YubiKey  5 Series"
    assert entry.status is AuthenticatorStatus.FIDO_CERTIFIED_L1
    assert entry.status_effective_date == date(2020, 5, 12)
    assert entry.certification_level is CertificationLevel.L1
    assert entry.key_protection == ("hardware", "secure_element")
    assert entry.authenticator_version == 50100
    assert entry.icon is not None and entry.icon.startswith("data:image/png;base64,")
    assert len(entry.attestation_root_certificates) == 1
    root = x509.load_der_x509_certificate(entry.attestation_root_certificates[0])
    assert "Yubico U2F Root CA" in root.subject.rfc4514_string()


def test_lookup_by_key_identifier(no9: MetadataSnapshot) -> None:
    entry = no9.by_key_identifier("BF7BCAA0D0C6187A8C6ABBDD16A15640E7C7BDE2")
    assert entry is not None
    assert entry.aaguid is None
    assert entry.description == "YubiKey 5Ci"
    assert "bf7bcaa0d0c6187a8c6abbdd16a15640e7c7bde2" in entry.attestation_certificate_key_identifiers
    assert entry.user_verification_details == (("presence_internal",),)


def test_unknown_lookups_return_none(no9: MetadataSnapshot) -> None:
    assert no9.by_aaguid("00000000-0000-0000-0000-000000000000") is None
    assert no9.by_aaguid("not an aaguid") is None
    assert no9.by_key_identifier("00" * 20) is None


def test_lookup_maps_cover_every_entry(no9: MetadataSnapshot) -> None:
    for entry in no9.entries:
        if entry.aaguid:
            assert no9.by_aaguid(entry.aaguid) is entry
        for key_identifier in entry.attestation_certificate_key_identifiers:
            assert no9.by_key_identifier(key_identifier) is entry
    assert sum(1 for e in no9.entries if e.aaguid) == 46


def test_known_statuses_and_levels_in_no9(no9: MetadataSnapshot) -> None:
    bio = no9.by_aaguid("d8522d9f-575b-4866-88a9-ba99fa02f35b")  # [FIDO_CERTIFIED, L1] on the same day
    assert bio is not None and bio.description == "YubiKey Bio Series"
    assert bio.certification_level is CertificationLevel.L1
    assert ("presence_internal", "fingerprint_internal") in bio.user_verification_details
    preview = no9.by_aaguid("34f5766d-1536-4a24-9033-0e294e510fb0")
    assert preview is not None and preview.status is AuthenticatorStatus.NOT_FIDO_CERTIFIED
    assert preview.certification_level is None
    gotrust = no9.by_aaguid("3b1adb99-0dfe-46fd-90b8-7f7614a4de2a")
    assert gotrust is not None and gotrust.certification_level is CertificationLevel.L2
    assert gotrust.status_effective_date == date(2021, 3, 5)
    assert not any(entry.status in UNTRUSTED_STATUSES for entry in no9.entries)


def test_untrusted_statuses() -> None:
    assert {s.value for s in UNTRUSTED_STATUSES} == {
        "REVOKED", "ATTESTATION_KEY_COMPROMISE", "USER_VERIFICATION_BYPASS", "USER_KEY_REMOTE_COMPROMISE",
        "USER_KEY_PHYSICAL_COMPROMISE"}


def test_latest_status_and_highest_level(pki: Pki) -> None:
    entries = [
        make_entry(aaguid=CHROMIUM_VIRTUAL_AAGUID, root_certificates=[pki.root.der], statuses=[
            ("FIDO_CERTIFIED_L2plus", "2021-06-01"), ("FIDO_CERTIFIED_L1", "2020-01-01"),
            ("REVOKED", "2022-02-02")]),
        make_entry(aaguid="00000000-0000-4000-8000-000000000002", statuses=[
            ("USER_VERIFICATION_BYPASS", "2021-01-01"), ("FIDO_CERTIFIED_L3plus", "2021-01-01")]),
        make_entry(key_identifiers=["0a" * 20], statement=False, statuses=[("FIDO_CERTIFIED", "2019-01-01")]),
    ]
    snapshot = verify_blob(own(pki, entries=entries), root_der=pki.root.der, now=TEST_NOW)
    chromium = snapshot.by_aaguid(CHROMIUM_VIRTUAL_AAGUID)
    assert chromium is not None
    assert chromium.status is AuthenticatorStatus.REVOKED
    assert chromium.status in UNTRUSTED_STATUSES
    assert chromium.status_effective_date == date(2022, 2, 2)
    assert chromium.certification_level is CertificationLevel.L2PLUS
    assert chromium.attestation_root_certificates == (pki.root.der,)
    assert len(chromium.status_reports) == 3
    tie = snapshot.by_aaguid("00000000-0000-4000-8000-000000000002")
    assert tie is not None and tie.status is AuthenticatorStatus.USER_VERIFICATION_BYPASS  # a tie goes to distrust
    assert tie.certification_level is CertificationLevel.L3PLUS
    bare = snapshot.by_key_identifier("0A" * 20)
    assert bare is not None and bare.description is None and bare.icon is None
    assert bare.certification_level is CertificationLevel.L1  # plain FIDO_CERTIFIED means level 1
    assert CertificationLevel.L3PLUS.rank > CertificationLevel.L1.rank


def test_non_data_icons_are_dropped(pki: Pki) -> None:
    entries = [make_entry(aaguid=CHROMIUM_VIRTUAL_AAGUID, icon="https://tracker.example/icon.png")]
    entry = verify_blob(own(pki, entries=entries), root_der=pki.root.der, now=TEST_NOW).entries[0]
    assert entry.icon is None


def test_many_entries(pki: Pki) -> None:
    snapshot = verify_blob(own(pki, entries=make_entries(1000)), root_der=pki.root.der, now=TEST_NOW)
    assert len(snapshot.entries) == 1000
    entry = snapshot.by_aaguid("000003e7-0000-4000-8000-0000000003e7")
    assert entry is not None and entry.description == "Benchmark Authenticator 999"


def test_snapshot_is_frozen(no9: MetadataSnapshot) -> None:
    with pytest.raises(AttributeError):
        no9.no = 10  # type: ignore[misc]
    with pytest.raises(AttributeError):
        no9.entries[0].status = AuthenticatorStatus.REVOKED  # type: ignore[misc]
