"""Third-party WebAuthn vectors (tests/fixtures/conformance, see PROVENANCE.md) through our verifiers.

Every authentication vector runs. Registration vectors run unless their expected outcome depends
on attestation *trust* (trust anchors, certificate validity at a given time, MDS, CRLs, SafetyNet
ctsProfileMatch/timestamp): that is a later issue, and those are skipped with the reason. A vector
that fails for a relying-party check (origin, challenge, type, rpIdHash, UV, counter, unknown fmt,
crossOrigin, BE/BS, ...) always runs. Where py_webauthn cannot handle a vector for a library
reason the test is ``xfail(strict=True)``, so it starts failing the day the library catches up.
Where passgate deliberately decides differently from the upstream expectation the override is
listed in ``POLICY`` with the reason.
"""

from __future__ import annotations

import base64
import json
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from webauthn.helpers.cose import COSEAlgorithmIdentifier

from passgate.core.errors import CeremonyRejected, InvalidInput, RejectReason
from passgate.core.webauthn import RelyingParty, StoredCredential, verify_authentication, verify_registration

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
WALL_CLOCK = "certificate validity at the real current time (attestation trust: pinned clock, later issue)"
# py_webauthn's verifiers for these formats always add built-in vendor roots (Apple WebAuthn CA,
# Google hardware attestation roots, GlobalSign R2) and validate the chain with OpenSSL at the current
# time, even with empty root lists: their outcome depends on trust anchors and the clock.
VENDOR_ROOT_FORMATS = {"apple", "android-key", "android-safetynet"}

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
LIBRARY_LIMITS = {
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
    "does_not_match_aag": R.ATTESTATION_INVALID,
    # Fails as expected, but inside py_webauthn's TPM manufacturer check, before the AAGUID comparison.
    "simplewebauthn.verifyAttestationTPM.should_fail_if_id_fido_gen_ce_aaguid_extension_is_present_and_"
    "does_not_match_aag": R.ATTESTATION_INVALID,
}


@dataclass(frozen=True)
class Plan:
    action: str  # "run" | "skip" | "xfail"
    why: str = ""
    expect_ok: bool = True
    reason: RejectReason | None = None


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
    elif trust is not None:
        plan = Plan("skip", f"attestation trust: {trust}")
    elif vid in LIBRARY_LIMITS:
        plan = Plan("xfail", LIBRARY_LIMITS[vid], expect_ok=expect_ok)
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
def test_vector(vector: dict[str, Any]) -> None:
    plan = PLANS[vector["id"]]
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
    assert (counts["run"], counts["skip"], counts["xfail"]) == (103, 34, 14)
    # every table entry names a real vector
    ids = {vector["id"] for vector in VECTORS}
    tables: list[Callable[[], Any]] = [
        TRUST_DEPENDENT.keys, NOT_APPLICABLE.keys, LIBRARY_LIMITS.keys, POLICY.keys, EXPECTED_REASON.keys,
    ]  # fmt: skip
    for keys in tables:
        assert set(keys()) <= ids
    assert PLACEHOLDER_IDS <= ids
