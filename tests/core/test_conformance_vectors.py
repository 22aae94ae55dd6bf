"""Third-party WebAuthn vectors (tests/fixtures/conformance, see PROVENANCE.md) through our verifiers.

Every vector runs. Registration vectors whose expected outcome depends on attestation *trust* (trust
anchors, certificate validity at a given time, MDS, SafetyNet ctsProfileMatch/timestamp) run
``verify_registration`` and then ``passgate.core.trust.attestation.assess_attestation`` with the vector's
trust anchors at its pinned ``verification_time`` (the real current time for the ``at-wallclock-expired``
variants and where the vector pins none): expected ``verify-ok`` <=> ``attested``. Anchors of the vendor
formats (apple, android-key, android-safetynet) are given as ``extra_roots``; the others as the roots of a
one-entry MDS snapshot for the vector's AAGUID (U2F: key identifier). py_webauthn validates vendor chains with
OpenSSL at the current time; its documented test hook ``_generate_new_cert_store`` is pinned to the same
instant. Where py_webauthn cannot handle a vector for a library reason the test is ``xfail(strict=True)``,
so it starts failing the day the library catches up. Where passgate deliberately decides differently from
the upstream expectation the override is listed in ``POLICY`` with the reason.

Disputed: an ``x5c`` that carries its self-signed root (FIDO conformance Resp-5 F-10 wants an error,
python-fido2 accepts). passgate refuses it (``root_in_x5c``): the root must come from metadata. The
derived vector is not in this copy of the fixtures; tests/core/trust/test_attestation.py covers it.
"""

from __future__ import annotations

import base64
import hashlib
import importlib
import json
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from OpenSSL.crypto import X509Store
from webauthn.helpers.cose import COSEAlgorithmIdentifier

from passgate.core.errors import CeremonyRejected, InvalidInput, RejectReason
from passgate.core.trust.attestation import (
    VENDOR_ROOT_FORMATS,
    AttestationAssessment,
    AttestationReason,
    assess_attestation,
)
from passgate.core.trust.mds import AuthenticatorStatus, CertificationLevel, MetadataEntry, MetadataSnapshot
from passgate.core.webauthn import (
    RegisteredCredential,
    RelyingParty,
    StoredCredential,
    verify_authentication,
    verify_registration,
)

R = RejectReason
FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "conformance"
FILES = (
    "w3c-webauthn-l3-spec.json",
    "duo-labs-py_webauthn.json",
    "masterkale-simplewebauthn.json",
    "passwordless-lib-fido2-net-lib.json",
)

# Every algorithm py_webauthn 3.0.1 knows, for vectors whose source did not restrict algorithms.
LIBRARY_ALGORITHMS = tuple(int(alg) for alg in COSEAlgorithmIdentifier)
COSE_IDS = {
    "ES256": -7, "EdDSA": -8, "ES384": -35, "ES512": -36, "PS256": -37, "PS384": -38, "PS512": -39,
    "RS256": -257, "RS384": -258, "RS512": -259, "RS1": -65535, "Ed448": -53,
    "ML-DSA-44": -48, "ML-DSA-65": -49, "ML-DSA-87": -50,
}  # fmt: skip

# --- Registration vectors whose outcome depends on attestation trust (later issue) -------------
TRUST_DEPENDENT = {
    "py_webauthn.reg.raises_when_root_cert_invalid_for_response": "fails only because the chain does not "
    "reach the source test's trust anchor (GlobalSign R2)",
    "simplewebauthn.reg.should_enforce_cts_check_by_default": "fails only on SafetyNet ctsProfileMatch policy",
}
WALL_CLOCK = "certificate validity at the real current time"
# py_webauthn's verifiers for VENDOR_ROOT_FORMATS always add built-in vendor roots (Apple WebAuthn CA,
# Google hardware attestation roots, GlobalSign) and validate the chain with OpenSSL at the current
# time, even with empty root lists: their outcome depends on trust anchors and the clock.

# The trust decision each refused trust vector must end with (when verify_registration accepts it).
TRUST_REASON = {
    "py_webauthn.reg.raises_when_root_cert_invalid_for_response": AttestationReason.CHAIN_UNTRUSTED,
    "simplewebauthn.reg.should_enforce_cts_check_by_default": AttestationReason.SAFETYNET_CTS_PROFILE_MISMATCH,
}  # every other refused trust vector is an at-wallclock-expired one: CERTIFICATE_EXPIRED
# Refused trust vectors that verify_registration already refuses, so assess_attestation never sees them.
_VENDOR_CLOCK = "py_webauthn's vendor-root chain validation (OpenSSL at the current time) refuses the expired chain"
REFUSED_BEFORE_TRUST = {
    **{
        vid: _VENDOR_CLOCK
        for vid in (
            "py_webauthn.reg_android_key.verify_attestation_android_key_hardware_authority.at-wallclock-expired",
            "py_webauthn.reg_apple.verify_attestation_apple_passkey.at-wallclock-expired",
            "py_webauthn.reg_android_safetynet.verify_attestation_android_safetynet.at-wallclock-expired",
            "simplewebauthn.reg.should_skip_cts_check_when_enforcement_option_is_false.at-wallclock-expired",
            "simplewebauthn.verifyAttestationAndroidKey.should_verify_android_keystore_response_from_a_pixel_8a_in_"
            "january_2025.at-wallclock-expired",
            "simplewebauthn.verifyAttestationAndroidKey.should_verify_android_keystore_response_from_a_samsung_"
            "galaxy_s9_running_android.at-wallclock-expired",
        )
    },
    **{
        vid: "the capture itself is a library limit (TPM manufacturer id / strict ASN.1), see LIBRARY_LIMITS"
        for vid in (
            "simplewebauthn.reg.should_validate_tpm_rsa_response_sha256.at-wallclock-expired",
            "simplewebauthn.reg.should_validate_tpm_rsa_response_sha1.at-wallclock-expired",
            "simplewebauthn.verifyAttestationTPM.should_verify_tpm_response.at-wallclock-expired",
            "simplewebauthn.verifyAttestationTPM.should_verify_sha1_tpm_response.at-wallclock-expired",
            "simplewebauthn.verifyAttestationTPM.should_verify_sha256_tpm_response.at-wallclock-expired",
            "fido2-net-lib.reg.attestationTPMSHA256Response.at-wallclock-expired",
            "fido2-net-lib.reg.attestationTPMSHA1Response.at-wallclock-expired",
        )
    },
    "fido2-net-lib.reg.attestationAppleResponse.at-wallclock-expired": "rawId differs from the credential id "
    "(see POLICY for the same capture)",
}

# --- Not applicable to passgate's API ---------------------------------------------------------
NOT_APPLICABLE = {
    vid: "SimpleWebAuthn's expectedType option: the RP expected a non-WebAuthn clientData.type; passgate's "
    "expected type is fixed to webauthn.create (covered by test_client_data_type_must_be_webauthn_create)"
    for vid in (
        "simplewebauthn.reg.should_throw_when_response_type_is_not_expected_value",
        "simplewebauthn.reg.should_throw_when_response_type_is_not_in_list_of_expected_types",
    )
}

# --- Library limitations: xfail(strict=True) --------------------------------------------------
_NO_ES384 = "py_webauthn 3.0.1 has no ES384 (COSE -35): it cannot verify P-384 signatures"
_NO_ED448 = "py_webauthn 3.0.1 has no Ed448 (COSE -53) keys"
_TPM_VENDOR = (
    "py_webauthn's TPM verifier only accepts TCG-registered TPM manufacturer ids; this capture's AIK "
    "certificate names a test manufacturer ({})"
)
_STRICT_ASN1 = (
    "cryptography 50 refuses the FIDO-conformance TPM AIK certificate (malformed UserNotice policy "
    "qualifier) that py_webauthn's TPM verifier parses"
)
_VENDOR_ONLY = (
    "py_webauthn's {} verifier always anchors the chain to its built-in vendor roots; this chain ends in {} "
    "and cannot verify there"
)
_GOOGLE_ROOT_1 = (
    "the chain ends in Google Hardware Attestation Root 1 (expired 2026-05-24), which py_webauthn 3.0.1 no longer "
    "ships, so its android-key verifier refuses the chain{}"
)
LIBRARY_LIMITS = {
    "w3c.apple-es256.registration": _VENDOR_ONLY.format("apple", "the W3C test-vector CA"),
    "simplewebauthn.verifyAttestationAndroidKey.should_verify_android_keystore_response_from_fido_conformance_in_"
    "2020": _VENDOR_ONLY.format("android-key", "the FIDO conformance tool's FAKE root"),
    "simplewebauthn.verifyAttestationAndroidKey.should_verify_android_keystore_response_from_a_samsung_galaxy_s9_"
    "running_android": _GOOGLE_ROOT_1.format(""),
    "simplewebauthn.reg.should_validate_android_key_response": _GOOGLE_ROOT_1.format(
        " (the vector pins no time, so it is evaluated now)"
    ),
    "fido2-net-lib.reg.attestationAndroidKeyResponse": _GOOGLE_ROOT_1.format(
        " (the vector pins no time, so it is evaluated now)"
    ),
    "w3c.packed-es384.registration": _NO_ES384,
    "w3c.packed-es384.authentication": _NO_ES384,
    "w3c.packed-ed448.registration": _NO_ED448,
    "w3c.packed-ed448.authentication": _NO_ED448,
    "w3c.tpm-es256.registration": _TPM_VENDOR.format("id:00000000"),
    "w3c.fido-u2f-es256.registration": "py_webauthn requires an all-zero AAGUID for fido-u2f (FIDO conformance "
    "Resp-8 F-1); the synthetic W3C vector carries a random AAGUID",
    "simplewebauthn.reg.should_validate_tpm_rsa_response_sha256": _TPM_VENDOR.format("id:FFFFF1D0"),
    "simplewebauthn.reg.should_validate_tpm_rsa_response_sha1": _TPM_VENDOR.format("id:FFFFF1D0"),
    "simplewebauthn.verifyAttestationTPM.should_verify_tpm_response": _TPM_VENDOR.format("id:FFFFF1D0"),
    "simplewebauthn.verifyAttestationTPM.should_succeed_if_id_fido_gen_ce_aaguid_extension_is_present_and_"
    "matches_aaguid_": _TPM_VENDOR.format("id:FFFFF1D0"),
    "simplewebauthn.verifyAttestationTPM.should_verify_sha1_tpm_response": _STRICT_ASN1,
    "simplewebauthn.verifyAttestationTPM.should_verify_sha256_tpm_response": _STRICT_ASN1,
    "fido2-net-lib.reg.attestationTPMSHA256Response": _STRICT_ASN1,
    "fido2-net-lib.reg.attestationTPMSHA1Response": _STRICT_ASN1,
}

# --- passgate policy that differs from the upstream expectation -------------------------------
POLICY: dict[str, tuple[RejectReason, str]] = {
    "py_webauthn.reg_fido_u2f.verify_attestation_with_unsupported_token_binding": (
        R.TOKEN_BINDING_INVALID,
        "clientData.tokenBinding is the string 'unused' (pre-standard draft): passgate requires an object "
        "(FIDO conformance Resp-2 F-15); py_webauthn ignores non-object values",
    ),
    "w3c.android-key-es256.registration": (
        R.ATTESTATION_KEY_AUTHORIZATION,
        "the key's origin and purpose are only software-enforced (the synthetic vector has an empty teeEnforced "
        "list): passgate, like py_webauthn, accepts only TEE-enforced values (WebAuthn §8.4.2 lets the RP choose); "
        "py_webauthn would also refuse the chain, which ends in the W3C test-vector CA, not a Google root",
    ),
    "fido2-net-lib.reg.attestationAppleResponse": (
        R.ID_MISMATCH,
        "rawId differs from the credential id in authenticator data (the capture pairs two responses); "
        "passgate refuses that, the other libraries do not compare them",
    ),
}

# --- Upstream placeholders repaired before running --------------------------------------------
PLACEHOLDER_IDS = {
    "simplewebauthn.reg.should_verify_packed_ec2_attestation",
    "simplewebauthn.reg.should_verify_packed_x5c_attestation",
}  # the source test passes id/rawId "aaa"/"bbb"; we use the credential id from authenticator data

# --- Expected rejection reason of each vector that must fail ----------------------------------
EXPECTED_REASON = {
    "w3c.none-es256-crossOrigin.registration.policy-same-origin-only": R.CROSS_ORIGIN_NOT_ALLOWED,
    "w3c.none-es256-topOrigin.registration.policy-same-origin-only": R.CROSS_ORIGIN_NOT_ALLOWED,
    "py_webauthn.auth.raises_exception_on_incorrect_public_key": R.SIGNATURE_INVALID,
    "py_webauthn.auth.raises_exception_on_uv_required_but_false": R.USER_NOT_VERIFIED,
    "py_webauthn.reg.raises_useful_error_on_bad_attestation_object": R.MALFORMED_CREDENTIAL,  # empty string
    "py_webauthn.reg_fido_u2f.verify_attestation_with_unsupported_token_binding_status": R.TOKEN_BINDING_INVALID,
    "py_webauthn.reg.raises_exception_on_unsupported_attestation_type": R.UNSUPPORTED_ATTESTATION_FORMAT,
    "simplewebauthn.reg.should_throw_when_response_challenge_is_not_expected_value": R.CHALLENGE_MISMATCH,
    "simplewebauthn.reg.should_throw_when_response_origin_is_not_expected_value": R.ORIGIN_NOT_ALLOWED,
    "simplewebauthn.reg.should_throw_an_error_if_origin_not_in_list_of_expected_origins": R.ORIGIN_NOT_ALLOWED,
    "simplewebauthn.reg.should_throw_an_error_if_rp_id_not_in_list_of_possible_rp_ids": R.RP_ID_HASH_MISMATCH,
    "simplewebauthn.auth.should_throw_when_response_challenge_is_not_expected_value": R.CHALLENGE_MISMATCH,
    "simplewebauthn.auth.should_throw_when_response_origin_is_not_expected_value": R.ORIGIN_NOT_ALLOWED,
    "simplewebauthn.auth.should_throw_error_if_previous_counter_value_is_not_less_than_in_response": (
        R.SIGN_COUNT_REGRESSION
    ),
    "simplewebauthn.auth.should_throw_an_error_if_origin_not_in_list_of_expected_origins": R.ORIGIN_NOT_ALLOWED,
    "simplewebauthn.auth.should_throw_an_error_if_rp_id_not_in_list_of_possible_rp_ids": R.RP_ID_HASH_MISMATCH,
    # Upstream these test a custom expectedType; the response's type is a correct webauthn.get, and the
    # vector's RP ID ("localhost") is not the one the authenticator data was made for.
    "simplewebauthn.auth.should_throw_an_error_if_type_not_the_expected_type": R.RP_ID_HASH_MISMATCH,
    "simplewebauthn.auth.should_throw_an_error_if_type_not_in_list_of_expected_types": R.RP_ID_HASH_MISMATCH,
    "simplewebauthn.auth.should_return_authenticator_extension_output": R.SIGNATURE_INVALID,
    "simplewebauthn.verifyAttestationPacked.should_fail_if_id_fido_gen_ce_aaguid_extension_is_present_and_"
    "does_not_match_aag": R.ATTESTATION_CERTIFICATE_AAGUID,
    # The certificate requirements run before py_webauthn's TPM verifier (which would refuse this capture's test
    # manufacturer id anyway).
    "simplewebauthn.verifyAttestationTPM.should_fail_if_id_fido_gen_ce_aaguid_extension_is_present_and_"
    "does_not_match_aag": R.ATTESTATION_CERTIFICATE_AAGUID,
}


@dataclass(frozen=True)
class Plan:
    action: str  # "run" | "skip" | "xfail"
    why: str = ""
    expect_ok: bool = True
    reason: RejectReason | None = None
    trust: bool = False  # run assess_attestation after verify_registration


def load_vectors() -> list[dict[str, Any]]:
    vectors: list[dict[str, Any]] = []
    for name in FILES:
        vectors.extend(json.loads((FIXTURES / name).read_text(encoding="utf-8"))["vectors"])
    return vectors


def trust_dependence(vector: Mapping[str, Any]) -> str | None:
    """Why a registration vector's expected outcome depends on attestation trust, or None."""
    vid, fmt = vector["id"], vector.get("attestation_format")
    if vector["ceremony"] != "registration":
        return None
    if vid.endswith(".at-wallclock-expired"):
        return WALL_CLOCK
    if vid in TRUST_DEPENDENT:
        return TRUST_DEPENDENT[vid]
    if fmt in VENDOR_ROOT_FORMATS:
        return f"py_webauthn's {fmt} verifier anchors the chain to built-in vendor roots at the current time"
    return None


def plan_for(vector: Mapping[str, Any]) -> Plan:
    vid = vector["id"]
    expect_ok = vector["expected"]["outcome"] == "verify-ok"
    trust = trust_dependence(vector)
    if vid in POLICY:
        reason, why = POLICY[vid]
        plan = Plan("run", f"passgate policy: {why}", expect_ok=False, reason=reason)
    elif vid in NOT_APPLICABLE:
        plan = Plan("skip", f"not applicable: {NOT_APPLICABLE[vid]}")
    elif vid in LIBRARY_LIMITS:
        plan = Plan("xfail", LIBRARY_LIMITS[vid], expect_ok=expect_ok, trust=trust is not None)
    elif trust is not None:
        plan = Plan("run", f"attestation trust: {trust}", expect_ok=expect_ok, trust=True)
    else:
        plan = Plan("run", expect_ok=expect_ok, reason=None if expect_ok else EXPECTED_REASON[vid])
    return plan


VECTORS = load_vectors()
PLANS = {vector["id"]: plan_for(vector) for vector in VECTORS}


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def allowed_algorithms(rp: Mapping[str, Any]) -> tuple[int, ...]:
    if "allowed_algs" in rp:  # COSE names
        return tuple(COSE_IDS[name] for name in rp["allowed_algs"])
    if "allowed_algs_from_options" in rp:  # the pubKeyCredParams of the source's options (ids)
        return tuple(rp["allowed_algs_from_options"])
    if "allowed_algs_note" in rp:  # py_webauthn supported_pub_key_algs, e.g. "COSEAlgorithmIdentifier.ML_DSA_44"
        return tuple(int(COSEAlgorithmIdentifier[note.split(".")[-1]]) for note in rp["allowed_algs_note"])
    return LIBRARY_ALGORITHMS


def relying_party(rp: Mapping[str, Any]) -> RelyingParty:
    return RelyingParty(
        id=rp["expected_rp_id"],
        name="conformance",
        origins=tuple(rp["expected_origin"]),
        allowed_algorithms=allowed_algorithms(rp),
        require_user_verification=rp["require_user_verification"],
        allow_cross_origin=rp["allow_cross_origin"],
        allowed_top_origins=tuple(rp["expected_top_origins"]),
    )


def credential_for(vector: Mapping[str, Any]) -> dict[str, Any]:
    credential: dict[str, Any] = json.loads(json.dumps(vector["credential"]))
    if vector["id"] in PLACEHOLDER_IDS:
        credential["id"] = credential["rawId"] = vector["decoded"]["auth_data"]["credential_id_b64url"]
    return credential


def verify(vector: Mapping[str, Any], credential: Mapping[str, Any]) -> object:
    rp = vector["rp"]
    challenge = unb64(rp["expected_challenge_b64url"])
    if vector["ceremony"] == "registration":
        return verify_registration(
            rp=relying_party(rp), credential=credential, expected_challenge=challenge,
            credential_id_registered=lambda _cid: False,
        )  # fmt: skip
    user_handle = credential["response"].get("userHandle")
    stored = StoredCredential(
        credential_id=unb64(credential["rawId"]),
        public_key=unb64(rp["credential_public_key_cose_b64url"]),
        sign_count=rp["stored_sign_count"],
        # Vectors carry no stored BE: take the assertion's, so only the other checks decide.
        backup_eligible=vector["decoded"]["auth_data"]["flags"]["BE"],
        user_handle=unb64(user_handle) if user_handle else b"",
    )
    # The upstream tests identify the user first (non-discoverable flow): userHandle optional.
    return verify_authentication(
        rp=relying_party(rp), credential=credential, expected_challenge=challenge, stored=stored,
        require_user_handle=False,
    )  # fmt: skip


# --- attestation trust -----------------------------------------------------------------------

ANCHORS: dict[str, dict[str, str]] = {}  # vector id -> its file's trust_anchors


def _load_anchors() -> None:
    for name in FILES:
        data = json.loads((FIXTURES / name).read_text(encoding="utf-8"))
        for vector in data["vectors"]:
            ANCHORS[vector["id"]] = data["trust_anchors"]


_load_anchors()


def verification_time(vector: Mapping[str, Any]) -> datetime:
    """When the vector's certificates are evaluated.

    The real current time for ``at-wallclock-expired`` variants and where the vector pins none. SafetyNet
    captures whose source disabled the timestamp check are evaluated at their own ``timestampMs`` (inside the
    chain's validity), so the ±60 s freshness window can hold.
    """
    rp = vector["rp"]
    if vector["id"].endswith(".at-wallclock-expired") or not rp.get("verification_time"):
        return datetime.now(UTC)
    if vector.get("attestation_format") == "android-safetynet":
        timestamp_ms = vector["decoded"]["attestation"]["safetynet"]["timestampMs"]
        return datetime.fromtimestamp(timestamp_ms / 1000, UTC)
    return datetime.fromisoformat(rp["verification_time"].replace("Z", "+00:00"))


def anchor_ders(vector: Mapping[str, Any]) -> tuple[bytes, ...]:
    pems = ANCHORS[vector["id"]]
    return tuple(
        x509.load_pem_x509_certificate(pems[ref].encode()).public_bytes(serialization.Encoding.DER)
        for ref in vector["rp"].get("trust_anchor_refs") or ()
    )


def key_identifier(der: bytes) -> str:
    """Hex SHA-1 of the leaf's public key bits (an independent computation, for the test snapshot)."""
    spki = x509.load_der_x509_certificate(der).public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    from pyasn1.codec.der import decoder
    from pyasn1_modules import rfc5280

    info, _ = decoder.decode(spki, asn1Spec=rfc5280.SubjectPublicKeyInfo())
    return hashlib.sha1(info["subjectPublicKey"].asOctets(), usedforsecurity=False).hexdigest()


def one_entry_snapshot(credential: RegisteredCredential, roots: tuple[bytes, ...]) -> MetadataSnapshot:
    u2f = credential.attestation_format == "fido-u2f" or set(credential.aaguid) <= {"0", "-"}
    entry = MetadataEntry(
        aaguid=None if u2f else credential.aaguid,
        aaid=None,
        attestation_certificate_key_identifiers=(
            (key_identifier(credential.attestation_certificates[0]),) if u2f and credential.attestation_certificates
            else ()
        ),
        description="conformance vector authenticator",
        icon=None,
        status=AuthenticatorStatus.FIDO_CERTIFIED_L1,
        status_effective_date=None,
        status_reports=(),
        time_of_last_status_change=date(2021, 1, 1),
        certification_level=CertificationLevel.L1,
        attestation_root_certificates=roots,
    )
    return MetadataSnapshot(no=1, next_update=date(2030, 1, 1), legal_header="", stale=False, entries=(entry,))


def assess(vector: Mapping[str, Any], credential: RegisteredCredential, now: datetime) -> AttestationAssessment:
    roots = anchor_ders(vector)
    require_cts = vector["rp"].get("safetynet_require_cts_profile_match") is not False
    if credential.attestation_format in VENDOR_ROOT_FORMATS:
        return assess_attestation(
            credential=credential, snapshot=None, now=now, extra_roots=roots, require_cts_profile_match=require_cts
        )
    return assess_attestation(credential=credential, snapshot=one_entry_snapshot(credential, roots), now=now)


def pin_library_clock(monkeypatch: pytest.MonkeyPatch, now: datetime) -> None:
    """py_webauthn's documented test hook: the X509Store its vendor-root chain validation uses."""

    def store() -> X509Store:
        pinned = X509Store()
        pinned.set_time(now.astimezone(UTC).replace(tzinfo=None))
        return pinned

    module = importlib.import_module("webauthn.helpers.validate_certificate_chain")
    monkeypatch.setattr(module, "_generate_new_cert_store", store)


def _param(vector: dict[str, Any]) -> Any:
    plan = PLANS[vector["id"]]
    marks: list[Any] = []
    if plan.action == "skip":
        marks.append(pytest.mark.skip(reason=plan.why))
    elif plan.action == "xfail":
        marks.append(
            pytest.mark.xfail(strict=True, reason=f"library: {plan.why}", raises=(AssertionError, InvalidInput))
        )
    return pytest.param(vector, marks=marks, id=vector["id"])


@pytest.mark.parametrize("vector", [_param(v) for v in VECTORS])
def test_vector(vector: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    plan = PLANS[vector["id"]]
    if plan.trust:
        check_trust_vector(vector, plan, monkeypatch)
        return
    try:
        result: object = verify(vector, credential_for(vector))
    except CeremonyRejected as exc:
        result = exc
    ok = not isinstance(result, CeremonyRejected)
    assert ok == plan.expect_ok, (
        f"{vector['id']}: expected {'success' if plan.expect_ok else 'rejection'}, got {result!r}"
    )
    if isinstance(result, CeremonyRejected) and plan.reason is not None:
        assert result.reason is plan.reason, f"{vector['id']}: {result}"


def check_trust_vector(vector: dict[str, Any], plan: Plan, monkeypatch: pytest.MonkeyPatch) -> None:
    vid = vector["id"]
    now = verification_time(vector)
    pin_library_clock(monkeypatch, now)
    try:
        credential = verify(vector, credential_for(vector))
    except CeremonyRejected as exc:
        assert not plan.expect_ok, f"{vid}: expected success, verify_registration refused: {exc!r} ({exc.__cause__!r})"
        assert vid in REFUSED_BEFORE_TRUST, f"{vid}: refused by verify_registration, not by the trust decision: {exc}"
        return
    assert vid not in REFUSED_BEFORE_TRUST, f"{vid}: verify_registration accepts it now; update REFUSED_BEFORE_TRUST"
    assert isinstance(credential, RegisteredCredential)
    assessment = assess(vector, credential, now)
    assert assessment.attested == plan.expect_ok, f"{vid}: {assessment.reason}: {assessment.message}"
    if plan.expect_ok:
        assert assessment.thumbprints
    else:
        expected = TRUST_REASON.get(vid, AttestationReason.CERTIFICATE_EXPIRED)
        assert assessment.reason is expected, f"{vid}: {assessment.reason}: {assessment.message}"


def test_placeholder_ids_are_rejected_as_given() -> None:
    """Unrepaired, SimpleWebAuthn's "aaa"/"bbb" ids are not canonical base64url of any rawId."""
    for vector in VECTORS:
        if vector["id"] in PLACEHOLDER_IDS:
            with pytest.raises(CeremonyRejected) as info:
                verify(vector, vector["credential"])
            assert info.value.reason is R.MALFORMED_CREDENTIAL


def inventory() -> Counter[str]:
    counts: Counter[str] = Counter()
    for vector in VECTORS:
        plan = PLANS[vector["id"]]
        counts[plan.action] += 1
        counts[f"{plan.action}:{vector['ceremony']}"] += 1
        if plan.action == "skip":
            counts["skip:" + plan.why.split(":")[0]] += 1
        if vector["id"] in POLICY:
            counts["policy"] += 1
    return counts


def test_vector_inventory() -> None:
    """Pin how many vectors run, so a reclassification is a visible change."""
    counts = inventory()
    assert len(VECTORS) == 151
    assert counts["run:authentication"] + counts["xfail:authentication"] == 42  # every authentication vector
    assert counts["skip:authentication"] == 0
    assert (counts["run"], counts["skip"], counts["xfail"]) == (130, 2, 19)
    assert counts["skip:not applicable"] == 2
    # the 32 vectors once skipped as "attestation trust": 26 run, 5 xfail (library), 1 passgate policy (android-key
    # origin/purpose only software-enforced), which runs verify_registration alone
    assert sum(plan.trust for plan in PLANS.values()) == 31
    assert sum(plan.trust and plan.action == "xfail" for plan in PLANS.values()) == 5
    # every table entry names a real vector
    ids = {vector["id"] for vector in VECTORS}
    tables: list[Callable[[], Any]] = [
        TRUST_DEPENDENT.keys, NOT_APPLICABLE.keys, LIBRARY_LIMITS.keys, POLICY.keys, EXPECTED_REASON.keys,
        TRUST_REASON.keys, REFUSED_BEFORE_TRUST.keys,
    ]  # fmt: skip
    for keys in tables:
        assert set(keys()) <= ids
    assert PLACEHOLDER_IDS <= ids
