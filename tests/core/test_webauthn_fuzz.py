"""Property tests: whatever a client sends, the verifiers answer with CeremonyRejected or a result.

No other exception may escape (a bare KeyError/ValueError/TypeError from a library would be a 500
and an untyped audit row). Where the input cannot possibly be a valid response, the answer must
be a rejection.
"""

from __future__ import annotations

import copy
import dataclasses
import json
from collections.abc import Callable
from typing import Any

import cbor2
from hypothesis import given, settings
from hypothesis import strategies as st

from passgate.core.errors import CeremonyRejected, RejectReason
from passgate.core.webauthn import (
    read_assertion_header,
    read_registration_challenge,
    verify_authentication,
    verify_registration,
)

from .softauthn import CHALLENGE, RP, SoftAuthenticator, b64, eddsa_key, rs256_key, unb64

FUZZ = settings(max_examples=120, deadline=None, database=None)
R = RejectReason

AUTHENTICATORS = [SoftAuthenticator(), SoftAuthenticator(key=eddsa_key()), SoftAuthenticator(key=rs256_key())]
RP_ANY_UV = dataclasses.replace(RP, require_user_verification=False)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=12,
)
b64_blobs = st.binary(max_size=200).map(b64)
field_values = json_values | b64_blobs
cbor_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20) | st.binary(max_size=80),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.text(max_size=8) | st.integers() | st.binary(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)

REGISTRATION_FIELDS = [
    (),
    ("id",),
    ("rawId",),
    ("type",),
    ("response",),
    ("clientExtensionResults",),
    ("authenticatorAttachment",),
    ("response", "clientDataJSON"),
    ("response", "attestationObject"),
    ("response", "transports"),
]
ASSERTION_FIELDS = [
    (),
    ("id",),
    ("rawId",),
    ("type",),
    ("response",),
    ("clientExtensionResults",),
    ("response", "clientDataJSON"),
    ("response", "authenticatorData"),
    ("response", "signature"),
    ("response", "userHandle"),
]


def replaced(credential: dict[str, Any], path: tuple[str, ...], value: Any) -> Any:
    if not path:
        return value
    result = copy.deepcopy(credential)
    target = result
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = value
    return result


def outcome(call: Callable[[], object]) -> object:
    """The result, or the CeremonyRejected raised; any other exception fails the test."""
    try:
        return call()
    except CeremonyRejected as exc:
        return exc


def register(credential: Any, *, rp: Any = RP_ANY_UV) -> object:
    return outcome(
        lambda: verify_registration(
            rp=rp, credential=credential, expected_challenge=CHALLENGE, credential_id_registered=lambda _: False
        )
    )


def authenticate(credential: Any, authenticator: SoftAuthenticator) -> object:
    return outcome(
        lambda: verify_authentication(
            rp=RP_ANY_UV, credential=credential, expected_challenge=CHALLENGE, stored=authenticator.stored()
        )
    )


def with_response_bytes(credential: dict[str, Any], key: str, data: bytes) -> dict[str, Any]:
    changed: dict[str, Any] = replaced(credential, ("response", key), b64(data))
    return changed


def position(data: Any, length: int, *, start: int = 0) -> int:
    """A drawn index in [start, length): drawn independently of ``length`` (signatures vary in size)."""
    drawn: int = data.draw(st.integers(min_value=0, max_value=2**16))
    return start + drawn % (length - start)


def rejected_with(result: object, *reasons: RejectReason) -> bool:
    return isinstance(result, CeremonyRejected) and (not reasons or result.reason in reasons)


# ---------------------------------------------------------------------------------------------
# Registration
# ---------------------------------------------------------------------------------------------


@FUZZ
@given(st.sampled_from(REGISTRATION_FIELDS), field_values)
def test_registration_any_json_in_any_field(path: tuple[str, ...], value: Any) -> None:
    register(replaced(AUTHENTICATORS[0].register(), path, value))
    outcome(lambda: read_registration_challenge(replaced(AUTHENTICATORS[0].register(), path, value)))


@FUZZ
@given(st.sampled_from(["clientDataJSON", "attestationObject"]), st.binary(max_size=600))
def test_registration_random_bytes_are_rejected(key: str, data: bytes) -> None:
    assert rejected_with(register(with_response_bytes(AUTHENTICATORS[0].register(), key, data)))


@FUZZ
@given(st.sampled_from(AUTHENTICATORS), st.sampled_from(["none", "packed"]), st.data())
def test_truncated_attestation_object_is_malformed(authenticator: SoftAuthenticator, fmt: str, data: Any) -> None:
    credential = authenticator.register(fmt=fmt)
    raw = unb64(credential["response"]["attestationObject"])
    cut = position(data, len(raw), start=1)
    result = register(with_response_bytes(credential, "attestationObject", raw[:cut]))
    assert rejected_with(result, R.MALFORMED_ATTESTATION_OBJECT)


@FUZZ
@given(st.sampled_from(AUTHENTICATORS), st.data())
def test_truncated_or_extended_client_data_is_rejected(authenticator: SoftAuthenticator, data: Any) -> None:
    cdj = unb64(authenticator.register()["response"]["clientDataJSON"])
    cut = position(data, len(cdj), start=1)
    changed = data.draw(st.sampled_from([cdj[:cut], cdj + cdj[:cut]]))
    result = register(authenticator.register(client_data=changed))
    assert rejected_with(result, R.MALFORMED_CLIENT_DATA)


@FUZZ
@given(st.sampled_from(AUTHENTICATORS), st.sampled_from(["none", "packed", "packed-x5c"]), st.data())
def test_flipped_attestation_object_bytes_never_escape(authenticator: SoftAuthenticator, fmt: str, data: Any) -> None:
    credential = authenticator.register(fmt=fmt)
    raw = bytearray(unb64(credential["response"]["attestationObject"]))
    for _ in range(data.draw(st.integers(min_value=1, max_value=3))):
        raw[position(data, len(raw))] ^= data.draw(st.integers(min_value=1, max_value=255))
    register(with_response_bytes(credential, "attestationObject", bytes(raw)))


@FUZZ
@given(cbor_values)
def test_random_cbor_attestation_object_is_rejected(value: Any) -> None:
    credential = AUTHENTICATORS[0].register(attestation=cbor2.dumps(value))
    assert rejected_with(register(credential))


@FUZZ
@given(
    st.sampled_from(["packed", "tpm", "android-key", "android-safetynet", "fido-u2f", "apple", "none"]),
    st.dictionaries(
        st.sampled_from(["alg", "sig", "x5c", "ver", "certInfo", "pubArea", "response"]), cbor_values, min_size=1
    ),
)
def test_random_attestation_statements_are_invalid(fmt: str, statement: dict[str, Any]) -> None:
    result = register(AUTHENTICATORS[0].register(fmt=fmt, att_stmt=statement))
    assert rejected_with(result, R.ATTESTATION_INVALID, R.ATTESTATION_CERTIFICATE_MALFORMED)


@FUZZ
@given(st.dictionaries(st.sampled_from([-3, -2, -1, 1, 2, 3, 4]), cbor_values, max_size=6))
def test_random_credential_public_keys_are_rejected(cose_key: dict[int, Any]) -> None:
    authenticator = AUTHENTICATORS[0]
    auth_data = authenticator.registration_auth_data(cose_key=cbor2.dumps(cose_key))
    result = register(authenticator.register(auth_data=auth_data))
    assert rejected_with(result, R.MALFORMED_ATTESTATION_OBJECT, R.ALGORITHM_NOT_ALLOWED, R.ATTESTATION_INVALID,
                         R.CREDENTIAL_KEY_INVALID, R.UNSUPPORTED_CURVE, R.CREDENTIAL_KEY_ALG_MISMATCH,
                         R.CREDENTIAL_KEY_TOO_WEAK)


# ---------------------------------------------------------------------------------------------
# Authentication
# ---------------------------------------------------------------------------------------------


@FUZZ
@given(st.sampled_from(AUTHENTICATORS), st.sampled_from(ASSERTION_FIELDS), field_values)
def test_authentication_any_json_in_any_field(
    authenticator: SoftAuthenticator, path: tuple[str, ...], value: Any
) -> None:
    credential = replaced(authenticator.assert_(), path, value)
    authenticate(credential, authenticator)
    outcome(lambda: read_assertion_header(credential))


@FUZZ
@given(
    st.sampled_from(AUTHENTICATORS),
    st.sampled_from(["clientDataJSON", "authenticatorData", "signature", "userHandle"]),
    st.binary(max_size=600),
)
def test_authentication_random_bytes_are_rejected(authenticator: SoftAuthenticator, key: str, data: bytes) -> None:
    result = authenticate(with_response_bytes(authenticator.assert_(), key, data), authenticator)
    assert rejected_with(result) or (key == "userHandle" and data in {b"", authenticator.user_handle})


@FUZZ
@given(st.sampled_from(AUTHENTICATORS), st.data())
def test_truncated_authenticator_data_is_rejected(authenticator: SoftAuthenticator, data: Any) -> None:
    credential = authenticator.assert_()
    raw = unb64(credential["response"]["authenticatorData"])
    cut = position(data, len(raw), start=1)
    result = authenticate(with_response_bytes(credential, "authenticatorData", raw[:cut]), authenticator)
    assert rejected_with(result, R.MALFORMED_AUTHENTICATOR_DATA)


@FUZZ
@given(st.sampled_from(AUTHENTICATORS), st.binary(min_size=1, max_size=80))
def test_bytes_after_authenticator_data_are_rejected(authenticator: SoftAuthenticator, extra: bytes) -> None:
    auth_data = authenticator.assertion_auth_data() + extra
    result = authenticate(authenticator.assert_(auth_data=auth_data), authenticator)
    assert rejected_with(result, R.MALFORMED_AUTHENTICATOR_DATA)


@FUZZ
@given(
    st.sampled_from(AUTHENTICATORS), st.sampled_from(["authenticatorData", "signature", "clientDataJSON"]), st.data()
)
def test_flipped_assertion_bytes_are_rejected(authenticator: SoftAuthenticator, key: str, data: Any) -> None:
    credential = authenticator.assert_()
    raw = bytearray(unb64(credential["response"][key]))
    raw[position(data, len(raw))] ^= data.draw(st.integers(min_value=1, max_value=255))
    result = authenticate(with_response_bytes(credential, key, bytes(raw)), authenticator)
    assert rejected_with(result)


@FUZZ
@given(st.sampled_from(AUTHENTICATORS), json_values)
def test_random_client_data_json_is_rejected(authenticator: SoftAuthenticator, value: Any) -> None:
    cdj = json.dumps(value).encode()
    assert rejected_with(authenticate(authenticator.assert_(client_data=cdj), authenticator))
    assert rejected_with(register(authenticator.register(client_data=cdj)))
