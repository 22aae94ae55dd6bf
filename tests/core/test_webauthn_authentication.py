"""§7.2 authentication: valid assertions per key type, then one change per reason code."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Sequence
from typing import Any

import cbor2
import pytest

from passgate.core.errors import CeremonyRejected, InvalidInput, RejectReason
from passgate.core.webauthn import (
    RelyingParty,
    StoredCredential,
    VerifiedAssertion,
    read_assertion_header,
    verify_authentication,
)

from .softauthn import (
    AT,
    BE,
    BS,
    CHALLENGE,
    ED,
    ES512,
    ORIGIN,
    RP,
    UP,
    USER_HANDLE,
    UV,
    SoftAuthenticator,
    SoftKey,
    b64,
    client_data_json,
    eddsa_key,
    es256_key,
    es512_key,
    rs256_key,
    second_es256_key,
    with_member,
)

R = RejectReason
AUTH = SoftAuthenticator()


def authenticate(
    credential: Any,
    *,
    rp: RelyingParty = RP,
    challenge: bytes = CHALLENGE,
    stored: StoredCredential | None = None,
    allowed: Sequence[bytes] = (),
    require_user_handle: bool = True,
) -> VerifiedAssertion:
    return verify_authentication(
        rp=rp,
        credential=credential,
        expected_challenge=challenge,
        stored=AUTH.stored() if stored is None else stored,
        allowed_credential_ids=allowed,
        require_user_handle=require_user_handle,
    )


def rejected(reason: RejectReason, credential: Any, **kwargs: Any) -> CeremonyRejected:
    with pytest.raises(CeremonyRejected) as info:
        authenticate(credential, **kwargs)
    assert info.value.reason is reason, info.value
    return info.value


def get_data(**members: Any) -> bytes:
    return client_data_json(type="webauthn.get", **members)


# ---------------------------------------------------------------------------------------------
# Valid assertions
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("key", [es256_key, eddsa_key, rs256_key], ids=["ES256", "EdDSA", "RS256"])
def test_each_default_algorithm_authenticates(key: Callable[[], SoftKey]) -> None:
    authenticator = SoftAuthenticator(key=key())
    result = authenticate(authenticator.assert_(), stored=authenticator.stored())
    assert result == VerifiedAssertion(
        credential_id=authenticator.credential_id,
        new_sign_count=0,
        backup_eligible=True,
        backup_state=True,
        user_verified=True,
    )


def test_es512_authenticates() -> None:
    authenticator = SoftAuthenticator(key=es512_key())
    assert authenticate(authenticator.assert_(), stored=authenticator.stored()).credential_id
    assert authenticator.key.alg == ES512


def test_the_new_sign_count_and_flags_are_returned() -> None:
    authenticator = SoftAuthenticator(backup_eligible=False)
    credential = authenticator.assert_(auth_data=authenticator.assertion_auth_data(flags=UP, sign_count=8))
    rp = dataclasses.replace(RP, require_user_verification=False)
    result = authenticate(credential, rp=rp, stored=authenticator.stored(sign_count=7))
    assert (result.new_sign_count, result.backup_eligible, result.backup_state, result.user_verified) == (
        8,
        False,
        False,
        False,
    )


def test_allow_credentials_containing_the_credential_is_accepted() -> None:
    assert authenticate(AUTH.assert_(), allowed=[b"other", AUTH.credential_id])


def test_a_missing_user_handle_is_fine_when_the_user_was_identified_first() -> None:
    credential = AUTH.assert_()
    del credential["response"]["userHandle"]
    assert authenticate(credential, require_user_handle=False)
    credential["response"]["userHandle"] = None
    assert authenticate(credential, require_user_handle=False)


def test_extension_outputs_are_accepted() -> None:
    ad = AUTH.assertion_auth_data(flags=UP | UV | BE | BS | ED, extensions=cbor2.dumps({"credProtect": 2}))
    assert authenticate(AUTH.assert_(auth_data=ad))


def test_read_assertion_header() -> None:
    header = read_assertion_header(AUTH.assert_(challenge=b"\x33" * 16))
    assert (header.credential_id, header.challenge, header.user_handle) == (
        AUTH.credential_id,
        b"\x33" * 16,
        USER_HANDLE,
    )
    credential = AUTH.assert_()
    del credential["response"]["userHandle"]
    assert read_assertion_header(credential).user_handle is None


@pytest.mark.parametrize(
    ("credential", "reason"),
    [
        (None, R.MALFORMED_CREDENTIAL),
        ({"rawId": "!!"}, R.MALFORMED_CREDENTIAL),
        ({"rawId": "AAAA"}, R.MALFORMED_CREDENTIAL),
        ({"rawId": "AAAA", "response": {"clientDataJSON": "AAAA"}}, R.MALFORMED_CLIENT_DATA),
        ({"rawId": "AAAA", "response": {"clientDataJSON": b64(b"{}")}}, R.MALFORMED_CLIENT_DATA),
        ({"rawId": "AAAA", "response": {"clientDataJSON": b64(get_data()), "userHandle": 5}}, R.MALFORMED_CREDENTIAL),
    ],
)
def test_read_assertion_header_rejects_malformed_input(credential: Any, reason: RejectReason) -> None:
    with pytest.raises(CeremonyRejected) as info:
        read_assertion_header(credential)
    assert info.value.reason is reason


def test_a_short_expected_challenge_is_a_caller_error() -> None:
    with pytest.raises(InvalidInput):
        authenticate(AUTH.assert_(challenge=b""), challenge=b"")


def test_an_unusable_stored_key_is_a_caller_error() -> None:
    with pytest.raises(InvalidInput):
        authenticate(AUTH.assert_(), stored=AUTH.stored(public_key=b"\xa0"))


# ---------------------------------------------------------------------------------------------
# Structure (§7.2 step 3)
# ---------------------------------------------------------------------------------------------


def _set(path: str, value: Any) -> dict[str, Any]:
    """A valid response with one member (``a.b``) replaced, or removed if ``value`` is ``...``."""
    return with_member(AUTH.assert_(), path, value)


@pytest.mark.parametrize(
    ("path", "value"),
    [
        ("rawId", ...),
        ("rawId", "a b"),
        ("id", 1),
        ("type", None),
        ("response", None),
        ("response.clientDataJSON", ...),
        ("response.authenticatorData", ...),
        ("response.authenticatorData", ""),
        ("response.authenticatorData", "****"),
        ("response.signature", ...),
        ("response.signature", ["AAAA"]),
        ("response.userHandle", 12),
        ("response.userHandle", "@@"),
        ("clientExtensionResults", "none"),
    ],
)
def test_malformed_credential(path: str, value: Any) -> None:
    rejected(R.MALFORMED_CREDENTIAL, _set(path, value))


def test_an_attestation_sent_to_the_login_endpoint_is_malformed() -> None:
    rejected(R.MALFORMED_CREDENTIAL, AUTH.register())


def test_id_must_be_base64url_of_raw_id() -> None:
    rejected(R.ID_MISMATCH, _set("id", "AAAA"))


def test_type_must_be_public_key() -> None:
    rejected(R.WRONG_CREDENTIAL_TYPE, _set("type", "public_key"))


# ---------------------------------------------------------------------------------------------
# Credential and user (§7.2 steps 5-6)
# ---------------------------------------------------------------------------------------------


def test_credential_must_be_in_allow_credentials() -> None:
    rejected(R.CREDENTIAL_NOT_ALLOWED, AUTH.assert_(), allowed=[b"another credential"])


def test_raw_id_must_be_the_stored_credential() -> None:
    rejected(R.UNKNOWN_CREDENTIAL, AUTH.assert_(), stored=AUTH.stored(credential_id=b"\xc1" * 32))


@pytest.mark.parametrize("user_handle", [..., None, ""])
def test_user_handle_is_required_in_the_discoverable_flow(user_handle: Any) -> None:
    rejected(R.USER_HANDLE_MISSING, _set("response.userHandle", user_handle))


def test_user_handle_must_be_the_owner() -> None:
    rejected(R.USER_HANDLE_MISMATCH, AUTH.assert_(user_handle=b"\x02" * 32))


def test_a_present_user_handle_is_checked_even_when_not_required() -> None:
    rejected(R.USER_HANDLE_MISMATCH, AUTH.assert_(user_handle=b"\x02" * 32), require_user_handle=False)


# ---------------------------------------------------------------------------------------------
# Client data (§7.2 steps 8-14)
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "cdj",
    [b"\x80", b"not json", b"{}", b'"webauthn.get"', get_data(crossOrigin="true"), get_data(challenge=b"")[:-2]],
)
def test_malformed_client_data(cdj: bytes) -> None:
    rejected(R.MALFORMED_CLIENT_DATA, AUTH.assert_(client_data=cdj))


@pytest.mark.parametrize("ceremony", ["webauthn.create", "payment.get"])
def test_client_data_type_must_be_webauthn_get(ceremony: str) -> None:
    rejected(R.WRONG_CEREMONY_TYPE, AUTH.assert_(client_data=client_data_json(type=ceremony)))


def test_challenge_must_be_the_issued_one() -> None:
    rejected(R.CHALLENGE_MISMATCH, AUTH.assert_(challenge=b"\x01" * 32))


@pytest.mark.parametrize("origin", ["https://evil.example", "http://login.example.com", ORIGIN + "."])
def test_origin_must_be_allowed(origin: str) -> None:
    rejected(R.ORIGIN_NOT_ALLOWED, AUTH.assert_(client_data=get_data(origin=origin)))


def test_cross_origin_is_refused_by_default() -> None:
    rejected(R.CROSS_ORIGIN_NOT_ALLOWED, AUTH.assert_(client_data=get_data(crossOrigin=True)))


def test_top_origin_must_be_expected() -> None:
    rp = dataclasses.replace(RP, allow_cross_origin=True, allowed_top_origins=("https://portal.example",))
    cdj = get_data(crossOrigin=True, topOrigin="https://elsewhere.example")
    rejected(R.TOP_ORIGIN_NOT_ALLOWED, AUTH.assert_(client_data=cdj), rp=rp)
    assert authenticate(AUTH.assert_(client_data=get_data(crossOrigin=True, topOrigin="https://portal.example")), rp=rp)


@pytest.mark.parametrize("token_binding", [{"status": "not-supported"}, "present", {"id": "x"}])
def test_token_binding_must_be_valid(token_binding: Any) -> None:
    rejected(R.TOKEN_BINDING_INVALID, AUTH.assert_(client_data=get_data(tokenBinding=token_binding)))


# ---------------------------------------------------------------------------------------------
# Authenticator data (§7.2 steps 15-19)
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "auth_data",
    [
        b"\x00" * 36,  # shorter than rpIdHash + flags + signCount
        AUTH.assertion_auth_data() + b"\x00",  # leftover byte
        AUTH.assertion_auth_data(flags=UP | UV | BE | BS | ED),  # ED set, no extensions
        AUTH.assertion_auth_data(flags=UP | UV | BE | BS | ED, extensions=b"\xa1"),  # truncated extensions
        AUTH.assertion_auth_data(flags=UP | UV | BE | BS | ED, extensions=cbor2.dumps({}) + b"\x00"),
        AUTH.assertion_auth_data(flags=UP | UV | BE | BS | AT),  # AT set, no attested data
    ],
)
def test_malformed_authenticator_data(auth_data: bytes) -> None:
    rejected(R.MALFORMED_AUTHENTICATOR_DATA, AUTH.assert_(auth_data=auth_data))


def test_rp_id_hash_must_match() -> None:
    rejected(R.RP_ID_HASH_MISMATCH, AUTH.assert_(auth_data=AUTH.assertion_auth_data(rp_id="example.com")))


def test_user_presence_is_required() -> None:
    rejected(R.USER_NOT_PRESENT, AUTH.assert_(auth_data=AUTH.assertion_auth_data(flags=UV | BE | BS)))


def test_user_verification_is_required_when_the_rp_requires_it() -> None:
    credential = AUTH.assert_(auth_data=AUTH.assertion_auth_data(flags=UP | BE | BS))
    rejected(R.USER_NOT_VERIFIED, credential)
    assert authenticate(credential, rp=dataclasses.replace(RP, require_user_verification=False))


def test_backup_state_without_backup_eligibility_is_refused() -> None:
    authenticator = SoftAuthenticator(backup_eligible=False)
    credential = authenticator.assert_(auth_data=authenticator.assertion_auth_data(flags=UP | UV | BS))
    rejected(R.BACKUP_STATE_INCONSISTENT, credential, stored=authenticator.stored())


@pytest.mark.parametrize(("flags", "stored_be"), [(UP | UV, True), (UP | UV | BE, False), (UP | UV | BE | BS, False)])
def test_backup_eligibility_must_not_change(flags: int, stored_be: bool) -> None:
    credential = AUTH.assert_(auth_data=AUTH.assertion_auth_data(flags=flags))
    rejected(R.BACKUP_ELIGIBILITY_CHANGED, credential, stored=AUTH.stored(backup_eligible=stored_be))


def test_backup_state_may_change() -> None:
    result = authenticate(AUTH.assert_(auth_data=AUTH.assertion_auth_data(flags=UP | UV | BE)))
    assert (result.backup_eligible, result.backup_state) == (True, False)


# ---------------------------------------------------------------------------------------------
# Signature and counter (§7.2 steps 20-22)
# ---------------------------------------------------------------------------------------------


def test_signature_by_another_key_is_invalid() -> None:
    rejected(R.SIGNATURE_INVALID, AUTH.assert_(sign_with=second_es256_key()))


@pytest.mark.parametrize("signature", [b"\x30\x00", b"\x00" * 64, b"\x01"])
def test_garbage_signature_is_invalid(signature: bytes) -> None:
    rejected(R.SIGNATURE_INVALID, AUTH.assert_(signature=signature))


def test_signature_covers_the_authenticator_data() -> None:
    credential = AUTH.assert_()
    signed_over_other_data = AUTH.assert_(auth_data=AUTH.assertion_auth_data(sign_count=9))
    credential["response"]["signature"] = signed_over_other_data["response"]["signature"]
    rejected(R.SIGNATURE_INVALID, credential)


def test_signature_covers_the_client_data() -> None:
    credential = AUTH.assert_()
    other = AUTH.assert_(client_data=get_data(extra="x"))
    credential["response"]["clientDataJSON"] = other["response"]["clientDataJSON"]
    rejected(R.SIGNATURE_INVALID, credential)


def test_stored_key_of_another_type_is_invalid() -> None:
    rejected(R.SIGNATURE_INVALID, AUTH.assert_(), stored=AUTH.stored(public_key=rs256_key().cose()))


@pytest.mark.parametrize(("new", "stored"), [(5, 5), (4, 5), (0, 5)])
def test_sign_count_must_increase(new: int, stored: int) -> None:
    credential = AUTH.assert_(auth_data=AUTH.assertion_auth_data(sign_count=new))
    rejected(R.SIGN_COUNT_REGRESSION, credential, stored=AUTH.stored(sign_count=stored))


@pytest.mark.parametrize(("new", "stored"), [(0, 0), (1, 0), (6, 5), (2**32 - 1, 2**32 - 2)])
def test_sign_count_accepted(new: int, stored: int) -> None:
    credential = AUTH.assert_(auth_data=AUTH.assertion_auth_data(sign_count=new))
    assert authenticate(credential, stored=AUTH.stored(sign_count=stored)).new_sign_count == new


def test_sign_count_is_only_judged_after_the_signature() -> None:
    """An unsigned (forged) response must never be able to raise the clone alarm."""
    credential = AUTH.assert_(auth_data=AUTH.assertion_auth_data(sign_count=1), signature=b"\x30\x00")
    rejected(R.SIGNATURE_INVALID, credential, stored=AUTH.stored(sign_count=5))


# ---------------------------------------------------------------------------------------------
# Order of the checks
# ---------------------------------------------------------------------------------------------


def test_checks_run_in_specification_order() -> None:
    """Each fault is reported only once every earlier fault (§7.2 order) is removed."""
    faults: list[tuple[RejectReason, dict[str, Any]]] = [
        (R.WRONG_CREDENTIAL_TYPE, {"type": "x"}),
        (R.CREDENTIAL_NOT_ALLOWED, {"allowed": [b"z"]}),
        (R.USER_HANDLE_MISMATCH, {"user_handle": b"\x05"}),
        (R.WRONG_CEREMONY_TYPE, {"cd_type": "webauthn.create"}),
        (R.CHALLENGE_MISMATCH, {"challenge": b"\x09" * 32}),
        (R.ORIGIN_NOT_ALLOWED, {"origin": "https://evil.example"}),
        (R.RP_ID_HASH_MISMATCH, {"rp_id": "example.org"}),
        (R.USER_NOT_PRESENT, {"flags": UV}),
        (R.USER_NOT_VERIFIED, {"flags": UP}),
        (R.BACKUP_ELIGIBILITY_CHANGED, {"flags": UP | UV | BE}),
        (R.SIGNATURE_INVALID, {"signature": b"\x30\x00"}),
        (R.SIGN_COUNT_REGRESSION, {"sign_count": 3}),
    ]
    for index, (expected, _) in enumerate(faults):
        active = dict(pair for _, fault in reversed(faults[index:]) for pair in fault.items())
        cdj = client_data_json(
            type=active.get("cd_type", "webauthn.get"),
            challenge=active.get("challenge", CHALLENGE),
            origin=active.get("origin", ORIGIN),
        )
        ad = AUTH.assertion_auth_data(
            rp_id=active.get("rp_id", RP.id), flags=active.get("flags", UP | UV), sign_count=active.get("sign_count", 9)
        )
        credential = AUTH.assert_(
            client_data=cdj, auth_data=ad, signature=active.get("signature"), user_handle=active.get("user_handle")
        )
        credential["type"] = active.get("type", "public-key")
        stored = AUTH.stored(backup_eligible=False, sign_count=5)
        rejected(expected, credential, stored=stored, allowed=active.get("allowed", ()))


def test_a_valid_assertion_round_trips_through_json() -> None:
    credential = json.loads(json.dumps(AUTH.assert_()))
    assert authenticate(credential).credential_id == AUTH.credential_id
