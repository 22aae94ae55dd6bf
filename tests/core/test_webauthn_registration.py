"""§7.1 registration: one valid response per key type / format, then one change per reason code."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Callable
from typing import Any

import cbor2
import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from passgate.core.errors import CeremonyRejected, InvalidInput, RejectReason
from passgate.core.webauthn import (
    ES256,
    RS256,
    RegisteredCredential,
    RelyingParty,
    read_registration_challenge,
    verify_registration,
)

from .softauthn import (
    AAGUID,
    AT,
    BE,
    BS,
    CHALLENGE,
    ED,
    ES512,
    ORIGIN,
    RP,
    RP_ID,
    UP,
    UV,
    SoftAuthenticator,
    SoftKey,
    attestation_certificate,
    attestation_object,
    attestation_signing_key,
    attested_credential_data,
    authenticator_data,
    b64,
    client_data_json,
    eddsa_key,
    es256_key,
    es512_key,
    rs256_key,
    unb64,
    with_member,
)

R = RejectReason


def register(
    credential: Any,
    *,
    rp: RelyingParty = RP,
    challenge: bytes = CHALLENGE,
    registered: Callable[[bytes], bool] = lambda _id: False,
) -> RegisteredCredential:
    return verify_registration(
        rp=rp, credential=credential, expected_challenge=challenge, credential_id_registered=registered
    )


def rejected(reason: RejectReason, credential: Any, **kwargs: Any) -> CeremonyRejected:
    with pytest.raises(CeremonyRejected) as info:
        register(credential, **kwargs)
    assert info.value.reason is reason, info.value
    assert info.value.code == reason.value
    return info.value


def create_data(**members: Any) -> bytes:
    return client_data_json(type="webauthn.create", **members)


AUTH = SoftAuthenticator()


# ---------------------------------------------------------------------------------------------
# Valid responses
# ---------------------------------------------------------------------------------------------


def test_none_attestation_gives_the_credential_record() -> None:
    cdj = create_data()
    credential = AUTH.register(client_data=cdj, transports=["hybrid", "internal", "carrier-pigeon", 7, "usb", "hybrid"])
    record = register(credential)
    assert record.credential_id == AUTH.credential_id
    assert record.public_key == AUTH.key.cose()
    assert record.algorithm == ES256
    assert record.sign_count == 0
    assert record.aaguid == "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"
    assert record.attestation_format == "none"
    assert record.transports == ("hybrid", "internal", "usb")
    assert (record.backup_eligible, record.backup_state, record.user_verified) == (True, True, True)
    assert record.attestation_object == unb64(credential["response"]["attestationObject"])
    assert record.client_data_json == cdj
    assert record.attestation_certificates == ()


@pytest.mark.parametrize("key", [es256_key, eddsa_key, rs256_key], ids=["ES256", "EdDSA", "RS256"])
@pytest.mark.parametrize("fmt", ["none", "packed"])
def test_each_default_algorithm_registers(key: Callable[[], SoftKey], fmt: str) -> None:
    authenticator = SoftAuthenticator(key=key())
    record = register(authenticator.register(fmt=fmt))
    assert record.algorithm == authenticator.key.alg
    assert record.attestation_format == fmt


def test_packed_full_attestation_returns_the_certificates() -> None:
    credential = AUTH.register(fmt="packed-x5c")
    record = register(credential)
    x5c = cbor2.loads(unb64(credential["response"]["attestationObject"]))["attStmt"]["x5c"]
    assert record.attestation_format == "packed"
    assert record.attestation_certificates == tuple(x5c)
    assert len(x5c) == 1


def test_optional_members_may_be_absent() -> None:
    credential = AUTH.register()
    del credential["clientExtensionResults"], credential["authenticatorAttachment"]
    del credential["response"]["transports"]
    assert register(credential).transports == ()


def test_extension_outputs_with_the_ed_flag_are_accepted() -> None:
    ad = AUTH.registration_auth_data(flags=UP | UV | AT | ED, extensions=cbor2.dumps({"credProtect": 2}))
    assert register(AUTH.register(auth_data=ad)).credential_id == AUTH.credential_id


def test_a_client_data_byte_order_mark_is_stripped() -> None:
    assert register(AUTH.register(client_data=b"\xef\xbb\xbf" + create_data())).credential_id


def test_user_verification_is_not_needed_when_the_rp_does_not_require_it() -> None:
    credential = AUTH.register(auth_data=AUTH.registration_auth_data(flags=UP | AT))
    rp = dataclasses.replace(RP, require_user_verification=False)
    assert register(credential, rp=rp).user_verified is False


def test_a_1023_byte_credential_id_is_accepted() -> None:
    authenticator = SoftAuthenticator(credential_id=b"\x07" * 1023)
    assert len(register(authenticator.register()).credential_id) == 1023


def test_read_registration_challenge() -> None:
    assert read_registration_challenge(AUTH.register(challenge=b"\x42" * 20)) == b"\x42" * 20


def test_a_short_expected_challenge_is_a_caller_error() -> None:
    with pytest.raises(InvalidInput):
        register(AUTH.register(challenge=b"short"), challenge=b"short")


# ---------------------------------------------------------------------------------------------
# Structure (§7.1 steps 3-4)
# ---------------------------------------------------------------------------------------------


def _set(path: str, value: Any) -> dict[str, Any]:
    """A valid response with one member (``a.b``) replaced, or removed if ``value`` is ``...``."""
    return with_member(AUTH.register(), path, value)


@pytest.mark.parametrize(
    ("path", "value"),
    [
        ("rawId", ...),
        ("rawId", 7),
        ("rawId", "not base64url!"),
        ("rawId", "AB=="),  # padding is not used by the WebAuthn JSON encoding
        ("rawId", "wA"[:1]),  # impossible length
        ("rawId", ""),
        ("id", ...),
        ("id", None),
        ("type", ...),
        ("type", ["public-key"]),
        ("response", ...),
        ("response", "{}"),
        ("response.clientDataJSON", ...),
        ("response.clientDataJSON", ""),
        ("response.clientDataJSON", {"type": "webauthn.create"}),
        ("response.clientDataJSON", "e30="),
        ("response.attestationObject", ...),
        ("response.attestationObject", 42),
        ("response.attestationObject", ""),
        ("response.transports", "usb"),
        ("clientExtensionResults", []),
        ("authenticatorAttachment", 1),
    ],
)
def test_malformed_credential(path: str, value: Any) -> None:
    rejected(R.MALFORMED_CREDENTIAL, _set(path, value))


@pytest.mark.parametrize("credential", [None, [], "{}", 3])
def test_a_credential_that_is_not_an_object_is_malformed(credential: Any) -> None:
    rejected(R.MALFORMED_CREDENTIAL, credential)


def test_an_assertion_sent_to_the_registration_endpoint_is_malformed() -> None:
    rejected(R.MALFORMED_CREDENTIAL, AUTH.assert_())


def test_id_must_be_base64url_of_raw_id() -> None:
    rejected(R.ID_MISMATCH, _set("id", b64(b"\xc0" * 31)))


def test_raw_id_must_be_the_credential_id_in_authenticator_data() -> None:
    credential = AUTH.register(auth_data=AUTH.registration_auth_data(credential_id=b"\xc1" * 32))
    rejected(R.ID_MISMATCH, credential)


def test_type_must_be_public_key() -> None:
    rejected(R.WRONG_CREDENTIAL_TYPE, _set("type", "password"))


# ---------------------------------------------------------------------------------------------
# Client data (§7.1 steps 5-11)
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "cdj",
    [
        b"\xff\xfe{}",
        create_data().decode().encode("utf-16"),  # json.loads would accept UTF-16; WebAuthn says UTF-8
        b'{"type":"webauthn.create"',
        b"[]",
        b"null",
        b'{"type":"webauthn.create","challenge":"AA","origin":"https://x","challenge":"AA"}',
        b'{"type":"webauthn.create","challenge":"AA","origin":NaN}',
        b"[" * 100_000,
        json.dumps({"challenge": b64(CHALLENGE), "origin": ORIGIN}).encode(),
        json.dumps({"type": 1, "challenge": b64(CHALLENGE), "origin": ORIGIN}).encode(),
        json.dumps({"type": "webauthn.create", "challenge": None, "origin": ORIGIN}).encode(),
        json.dumps({"type": "webauthn.create", "challenge": "a+b/", "origin": ORIGIN}).encode(),
        json.dumps({"type": "webauthn.create", "challenge": b64(CHALLENGE), "origin": [ORIGIN]}).encode(),
        create_data(crossOrigin="false"),
        create_data(crossOrigin=0),
        create_data(topOrigin=1),
    ],
)
def test_malformed_client_data(cdj: bytes) -> None:
    rejected(R.MALFORMED_CLIENT_DATA, AUTH.register(client_data=cdj))


@pytest.mark.parametrize("ceremony", ["webauthn.get", "payment.get", "WEBAUTHN.CREATE", ""])
def test_client_data_type_must_be_webauthn_create(ceremony: str) -> None:
    cdj = client_data_json(type=ceremony)
    rejected(R.WRONG_CEREMONY_TYPE, AUTH.register(client_data=cdj))


@pytest.mark.parametrize("challenge", [CHALLENGE[:-1], CHALLENGE + b"\x00", bytes(32), b""])
def test_challenge_must_be_the_issued_one(challenge: bytes) -> None:
    rejected(R.CHALLENGE_MISMATCH, AUTH.register(challenge=challenge))


@pytest.mark.parametrize(
    "origin",
    [
        "https://evil.example.com",
        "https://sub.login.example.com",
        "http://login.example.com",
        "https://login.example.com/",
        "https://login.example.com:443",
        "HTTPS://LOGIN.EXAMPLE.COM",
        "",
    ],
)
def test_origin_must_be_on_the_exact_allow_list(origin: str) -> None:
    rejected(R.ORIGIN_NOT_ALLOWED, AUTH.register(client_data=create_data(origin=origin)))


def test_any_allowed_origin_is_accepted() -> None:
    rp = dataclasses.replace(RP, origins=("https://other.example", ORIGIN))
    assert register(AUTH.register(), rp=rp)


CROSS_ORIGIN_RP = dataclasses.replace(RP, allow_cross_origin=True, allowed_top_origins=("https://portal.example",))


def test_cross_origin_is_refused_by_default() -> None:
    rejected(R.CROSS_ORIGIN_NOT_ALLOWED, AUTH.register(client_data=create_data(crossOrigin=True)))


def test_cross_origin_is_accepted_when_the_rp_allows_it() -> None:
    assert register(AUTH.register(client_data=create_data(crossOrigin=True)), rp=CROSS_ORIGIN_RP)


@pytest.mark.parametrize(
    ("rp", "top_origin"),
    [
        (RP, ORIGIN),  # a topOrigin is refused when cross-origin use is not allowed, even our own
        (dataclasses.replace(RP, allowed_top_origins=("https://portal.example",)), "https://portal.example"),
        (CROSS_ORIGIN_RP, "https://evil.example"),
        (dataclasses.replace(CROSS_ORIGIN_RP, allowed_top_origins=()), "https://portal.example"),
    ],
)
def test_top_origin_must_be_expected(rp: RelyingParty, top_origin: str) -> None:
    rejected(R.TOP_ORIGIN_NOT_ALLOWED, AUTH.register(client_data=create_data(topOrigin=top_origin)), rp=rp)


def test_an_expected_top_origin_is_accepted() -> None:
    cdj = create_data(crossOrigin=True, topOrigin="https://portal.example")
    assert register(AUTH.register(client_data=cdj), rp=CROSS_ORIGIN_RP)


@pytest.mark.parametrize(
    "token_binding",
    ["unused", {}, {"status": 1}, {"status": "not-supported"}, {"status": "Present"}, [], True],
)
def test_token_binding_must_be_a_valid_object(token_binding: Any) -> None:
    rejected(R.TOKEN_BINDING_INVALID, AUTH.register(client_data=create_data(tokenBinding=token_binding)))


@pytest.mark.parametrize("token_binding", [{"status": "supported"}, {"status": "present", "id": "AAAA"}, None])
def test_token_binding_present_or_supported_is_accepted(token_binding: Any) -> None:
    assert register(AUTH.register(client_data=create_data(tokenBinding=token_binding)))


# ---------------------------------------------------------------------------------------------
# Attestation object and authenticator data (§7.1 steps 13-20)
# ---------------------------------------------------------------------------------------------


def _attestation_variants() -> list[bytes]:
    ad = AUTH.registration_auth_data()
    valid = attestation_object(fmt="none", auth_data=ad)
    return [
        b"\xff",
        valid[:-1],  # truncated CBOR
        valid[: len(valid) // 2],
        valid + b"\x00",  # bytes after the CBOR map
        cbor2.dumps(["none", {}, ad]),
        cbor2.dumps({"fmt": 1, "attStmt": {}, "authData": ad}),
        cbor2.dumps({"fmt": "none", "authData": ad}),
        cbor2.dumps({"fmt": "none", "attStmt": [], "authData": ad}),
        cbor2.dumps({"fmt": "none", "attStmt": {}}),
        cbor2.dumps({"fmt": "none", "attStmt": {}, "authData": b64(ad)}),
        cbor2.dumps({"fmt": "none", "attStmt": {}, "authData": b""}),
        cbor2.dumps({"fmt": "none", "attStmt": {}, "authData": ad[:36]}),
        cbor2.dumps({"fmt": "none", "attStmt": {}, "authData": ad + b"\x00"}),  # leftover after attested data
        cbor2.dumps({"fmt": "none", "attStmt": {}, "authData": ad[:-1]}),  # truncated COSE key
        cbor2.dumps({"fmt": "none", "attStmt": {}, "authData": ad + cbor2.dumps({"x": 1})}),  # ext. without ED
        # AT clear but attested data present
        cbor2.dumps({"fmt": "none", "attStmt": {}, "authData": AUTH.registration_auth_data(flags=UP | UV)}),
        # AT set but no attested data
        cbor2.dumps({"fmt": "none", "attStmt": {}, "authData": authenticator_data(flags=UP | UV | AT)}),
        # ED set but no extension data
        cbor2.dumps({"fmt": "none", "attStmt": {}, "authData": AUTH.registration_auth_data(flags=UP | UV | AT | ED)}),
    ]


@pytest.mark.parametrize("attestation", _attestation_variants())
def test_malformed_attestation_object(attestation: bytes) -> None:
    rejected(R.MALFORMED_ATTESTATION_OBJECT, AUTH.register(attestation=attestation))


def test_duplicate_map_keys_in_the_attestation_object_are_malformed() -> None:
    ad = AUTH.registration_auth_data()
    items: tuple[object, ...] = ("fmt", "none", "attStmt", {}, "authData", ad, "fmt", "packed")
    body = b"".join(cbor2.dumps(item) for item in items)
    rejected(R.MALFORMED_ATTESTATION_OBJECT, AUTH.register(attestation=b"\xa4" + body))


def test_rp_id_hash_must_match() -> None:
    rejected(R.RP_ID_HASH_MISMATCH, AUTH.register(auth_data=AUTH.registration_auth_data(rp_id="example.com")))


def test_user_presence_is_required() -> None:
    rejected(R.USER_NOT_PRESENT, AUTH.register(auth_data=AUTH.registration_auth_data(flags=UV | AT)))


def test_user_verification_is_required_by_default() -> None:
    rejected(R.USER_NOT_VERIFIED, AUTH.register(auth_data=AUTH.registration_auth_data(flags=UP | AT)))


def test_backup_state_without_backup_eligibility_is_refused() -> None:
    credential = AUTH.register(auth_data=AUTH.registration_auth_data(flags=UP | UV | AT | BS))
    rejected(R.BACKUP_STATE_INCONSISTENT, credential)


def test_backup_eligible_but_not_backed_up_is_accepted() -> None:
    record = register(AUTH.register(auth_data=AUTH.registration_auth_data(flags=UP | UV | AT | BE)))
    assert (record.backup_eligible, record.backup_state) == (True, False)


def test_attested_credential_data_is_required() -> None:
    rejected(R.ATTESTED_DATA_MISSING, AUTH.register(auth_data=authenticator_data(flags=UP | UV)))


def test_an_empty_credential_id_is_missing_attested_data() -> None:
    authenticator = SoftAuthenticator(credential_id=b"")
    credential = authenticator.register()
    credential["id"] = credential["rawId"] = b64(b"\x00")
    rejected(R.ATTESTED_DATA_MISSING, credential)


def test_algorithm_must_be_allowed_by_the_rp() -> None:
    rp = dataclasses.replace(RP, allowed_algorithms=(ES256,))
    rejected(R.ALGORITHM_NOT_ALLOWED, SoftAuthenticator(key=rs256_key()).register(), rp=rp)


def test_a_key_labelled_with_another_algorithm_is_refused() -> None:
    ad = AUTH.registration_auth_data(cose_key=AUTH.key.cose(alg=RS256))
    rejected(R.CREDENTIAL_KEY_ALG_MISMATCH, AUTH.register(auth_data=ad))


def test_an_algorithm_the_library_cannot_verify_is_refused_even_if_allowed() -> None:
    p384 = SoftKey(-35, ec.generate_private_key(ec.SECP384R1()))
    rp = dataclasses.replace(RP, allowed_algorithms=(-35, ES256))
    rejected(R.ALGORITHM_NOT_ALLOWED, SoftAuthenticator(key=p384).register(), rp=rp)


def test_es512_registers_when_allowed() -> None:
    rp = dataclasses.replace(RP, allowed_algorithms=(ES512,))
    assert register(SoftAuthenticator(key=es512_key()).register(fmt="packed"), rp=rp).algorithm == ES512


@pytest.mark.parametrize(
    "cose_key",
    [
        cbor2.dumps({1: 2, 3: "ES256", -1: 1}),
        cbor2.dumps({1: 2, 3: True, -1: 1}),
        cbor2.dumps([1, 2, 3]),
        cbor2.dumps(4),
    ],
)
def test_a_credential_key_that_is_not_a_cose_key_is_malformed(cose_key: bytes) -> None:
    rejected(R.MALFORMED_ATTESTATION_OBJECT, AUTH.register(auth_data=AUTH.registration_auth_data(cose_key=cose_key)))


@pytest.mark.parametrize(
    "cose_key",
    [
        cbor2.dumps({1: 2, 3: ES256}),  # no curve / coordinates
        cbor2.dumps({1: 2, 3: ES256, -1: 1, -2: b"\x01" * 32, -3: b"\x02" * 32}),  # not on the curve
        cbor2.dumps({1: 2, 3: ES256, -1: 1, -2: "x", -3: "y"}),
        cbor2.dumps({3: ES256}),  # no key type
    ],
)
def test_a_cose_key_that_is_no_valid_key_is_invalid(cose_key: bytes) -> None:
    """More cases, and one reason per key rule: tests/core/test_credential_keys.py."""
    rejected(R.CREDENTIAL_KEY_INVALID, AUTH.register(auth_data=AUTH.registration_auth_data(cose_key=cose_key)))


def test_a_key_on_an_unsupported_curve_is_refused() -> None:
    cose_key = cbor2.dumps({1: 2, 3: ES256, -1: 8, -2: b"\x01" * 32, -3: b"\x02" * 32})  # secp256k1
    rejected(R.UNSUPPORTED_CURVE, AUTH.register(auth_data=AUTH.registration_auth_data(cose_key=cose_key)))


# ---------------------------------------------------------------------------------------------
# Attestation statement (§7.1 steps 21-22)
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["Packed", "NONE", "not_real_fmt", "", "packed "])
def test_attestation_format_is_matched_case_sensitively(fmt: str) -> None:
    rejected(R.UNSUPPORTED_ATTESTATION_FORMAT, AUTH.register(fmt=fmt))


def test_none_attestation_must_have_an_empty_statement() -> None:
    rejected(R.ATTESTATION_INVALID, AUTH.register(fmt="none", att_stmt={"sig": b"\x00"}))


def test_packed_self_attestation_with_a_bad_signature_is_refused() -> None:
    rejected(R.ATTESTATION_INVALID, AUTH.register(fmt="packed", att_stmt={"alg": ES256, "sig": b"\x30\x00"}))


def test_packed_self_attestation_signed_by_another_key_is_refused() -> None:
    cdj = create_data()
    ad = AUTH.registration_auth_data()
    sig = eddsa_key().sign(ad + hashlib.sha256(cdj).digest())
    credential = AUTH.register(client_data=cdj, auth_data=ad, fmt="packed", att_stmt={"alg": ES256, "sig": sig})
    rejected(R.ATTESTATION_INVALID, credential)


def test_packed_self_attestation_alg_must_match_the_credential_key() -> None:
    credential = AUTH.register(fmt="packed")
    obj = cbor2.loads(unb64(credential["response"]["attestationObject"]))
    obj["attStmt"]["alg"] = RS256
    credential["response"]["attestationObject"] = b64(cbor2.dumps(obj))
    rejected(R.ATTESTATION_INVALID, credential)


def test_a_tampered_signed_authenticator_data_breaks_packed_attestation() -> None:
    credential = AUTH.register(fmt="packed")
    obj = cbor2.loads(unb64(credential["response"]["attestationObject"]))
    ad = bytearray(obj["authData"])
    ad[33:37] = (5).to_bytes(4, "big")  # signCount, after signing
    obj["authData"] = bytes(ad)
    credential["response"]["attestationObject"] = b64(cbor2.dumps(obj))
    rejected(R.ATTESTATION_INVALID, credential)


def test_packed_certificate_aaguid_must_match_the_authenticator_data() -> None:
    authenticator = SoftAuthenticator()
    cdj = create_data()
    ad = authenticator.registration_auth_data(aaguid=bytes(16))  # certificate says AAGUID
    key = attestation_signing_key()
    statement = {
        "alg": key.alg,
        "sig": key.sign(ad + hashlib.sha256(cdj).digest()),
        "x5c": [attestation_certificate(key, aaguid=AAGUID)],
    }
    credential = authenticator.register(client_data=cdj, auth_data=ad, fmt="packed", att_stmt=statement)
    rejected(R.ATTESTATION_CERTIFICATE_AAGUID, credential)


@pytest.mark.parametrize("fmt", ["fido-u2f", "tpm", "android-key", "android-safetynet", "apple"])
@pytest.mark.parametrize("statement", [{}, {"sig": b"\x00", "x5c": [b"\x00"], "alg": ES256, "ver": "2.0"}])
def test_other_formats_with_garbage_statements_are_invalid(fmt: str, statement: dict[str, Any]) -> None:
    """A certificate that is not one is refused as such (SafetyNet's live in its JWS, absent here)."""
    reason = R.ATTESTATION_CERTIFICATE_MALFORMED if "x5c" in statement and fmt != "android-safetynet" else (
        R.ATTESTATION_INVALID)
    rejected(reason, AUTH.register(fmt=fmt, att_stmt=statement))


# ---------------------------------------------------------------------------------------------
# Credential record (§7.1 steps 25-26)
# ---------------------------------------------------------------------------------------------


def test_a_1024_byte_credential_id_is_too_long() -> None:
    authenticator = SoftAuthenticator(credential_id=b"\x07" * 1024)
    rejected(R.CREDENTIAL_ID_TOO_LONG, authenticator.register())


def test_an_already_registered_credential_id_is_refused() -> None:
    seen: list[bytes] = []

    def registered(credential_id: bytes) -> bool:
        seen.append(credential_id)
        return True

    rejected(R.CREDENTIAL_ALREADY_REGISTERED, AUTH.register(), registered=registered)
    assert seen == [AUTH.credential_id]


def test_the_registered_lookup_is_not_called_for_a_failing_response() -> None:
    def never(_cid: bytes) -> bool:
        raise AssertionError("looked up a credential id before the response verified")

    rejected(R.ATTESTATION_INVALID, AUTH.register(fmt="packed", att_stmt={"alg": ES256, "sig": b"x"}), registered=never)


# ---------------------------------------------------------------------------------------------
# Order of the checks
# ---------------------------------------------------------------------------------------------


def test_checks_run_in_specification_order() -> None:
    """Each fault is reported only once every fault before it (in §7.1 order) is removed."""
    faults: list[tuple[RejectReason, dict[str, Any]]] = [
        (R.WRONG_CREDENTIAL_TYPE, {"type": "x"}),
        (R.WRONG_CEREMONY_TYPE, {"cd_type": "webauthn.get"}),
        (R.CHALLENGE_MISMATCH, {"challenge": b"\x09" * 32}),
        (R.ORIGIN_NOT_ALLOWED, {"origin": "https://evil.example"}),
        (R.CROSS_ORIGIN_NOT_ALLOWED, {"crossOrigin": True}),
        (R.TOKEN_BINDING_INVALID, {"tokenBinding": "unused"}),
        (R.RP_ID_HASH_MISMATCH, {"rp_id": "example.org"}),
        (R.USER_NOT_PRESENT, {"flags": UV | AT | BS}),
        (R.BACKUP_STATE_INCONSISTENT, {"flags": UP | UV | AT | BS}),
        (R.ALGORITHM_NOT_ALLOWED, {"rp": dataclasses.replace(RP, allowed_algorithms=(RS256,))}),
        (R.UNSUPPORTED_ATTESTATION_FORMAT, {"fmt": "nope"}),
    ]
    for index, (expected, _) in enumerate(faults):
        active = dict(pair for _, fault in reversed(faults[index:]) for pair in fault.items())
        rejected(expected, _build(active), rp=active.get("rp", RP))


def _build(fault: dict[str, Any]) -> dict[str, Any]:
    members = {k: v for k, v in fault.items() if k in {"origin", "crossOrigin", "tokenBinding"}}
    cdj = client_data_json(
        type=fault.get("cd_type", "webauthn.create"), challenge=fault.get("challenge", CHALLENGE), **members
    )
    ad = AUTH.registration_auth_data(rp_id=fault.get("rp_id", RP_ID), flags=fault.get("flags", UP | UV | AT | BE | BS))
    credential = AUTH.register(client_data=cdj, auth_data=ad, fmt=fault.get("fmt", "none"))
    credential["type"] = fault.get("type", "public-key")
    return credential


def test_attested_data_helper_builds_what_the_authenticator_sends() -> None:
    cose = AUTH.key.cose()
    assert attested_credential_data(credential_id=b"\x01", cose_key=cose) == AAGUID + b"\x00\x01\x01" + cose
