"""Method uses, sessions, the amr claim, and the session-store JSON."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from passgate.core.access.methods import (
    PASSGATE_MODES,
    Authentication,
    AuthMethodMode,
    MethodUse,
    amr,
    authentication_from_json,
    authentication_to_json,
)
from passgate.core.errors import InvalidInput
from tests.core.access.helpers import ALICE, FEITIAN, NIL, NOW, YUBIKEY_5, passkey, session, use
from tests.core.access.strategies import authentications, json_values, passgate_authentications

GRAPH_MODES = ("password", "voice", "hardwareOath", "softwareOath", "sms", "fido2", "windowsHelloForBusiness",
               "microsoftAuthenticatorPush", "deviceBasedPush", "temporaryAccessPassOneTime",
               "temporaryAccessPassMultiUse", "email", "x509CertificateSingleFactor", "x509CertificateMultiFactor",
               "federatedSingleFactor", "federatedMultiFactor", "qrCodePin")


def test_modes_are_graphs_in_graphs_order() -> None:
    assert tuple(m.value for m in AuthMethodMode) == GRAPH_MODES


def test_passgate_modes() -> None:
    assert {m.value for m in PASSGATE_MODES} == {"fido2", "softwareOath", "temporaryAccessPassOneTime",
                                                   "temporaryAccessPassMultiUse"}


def test_aaguid_is_stored_lower_case() -> None:
    assert passkey(YUBIKEY_5.upper()).aaguid == YUBIKEY_5


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"mode": AuthMethodMode.FIDO2, "at": datetime(2025, 1, 1)}, "timezone-aware"),  # noqa: DTZ001 - the point
    ({"mode": AuthMethodMode.FIDO2, "at": "2025-01-01T00:00:00Z"}, "timezone-aware"),
    ({"mode": "fido3", "at": NOW}, "AuthMethodMode"),
    ({"mode": 5, "at": NOW}, "AuthMethodMode"),
    ({"mode": AuthMethodMode.SOFTWARE_OATH, "at": NOW, "aaguid": YUBIKEY_5}, "passkey"),
    ({"mode": AuthMethodMode.TAP_ONE_TIME, "at": NOW, "device_bound": True}, "passkey"),
    ({"mode": AuthMethodMode.FIDO2, "at": NOW, "aaguid": "yubikey"}, "GUID"),
    ({"mode": AuthMethodMode.FIDO2, "at": NOW, "device_bound": "yes"}, "device_bound"),
    ({"mode": AuthMethodMode.FIDO2, "at": NOW, "method_id": "passkey-1"}, "method_id"),
    ({"mode": AuthMethodMode.TAP_ONE_TIME, "at": NOW, "method_id": 7}, "method_id"),
])
def test_method_use_refuses(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        MethodUse(**kwargs)


def test_values_in_graphs_spelling_and_lists_are_taken() -> None:
    auth = Authentication(user_id=ALICE, methods=[MethodUse("fido2", NOW)])  # type: ignore[arg-type]
    assert auth == session(MethodUse(AuthMethodMode.FIDO2, NOW))
    assert auth.methods[0].mode is AuthMethodMode.FIDO2


def test_authentication_needs_a_method() -> None:
    with pytest.raises(InvalidInput, match="at least one"):
        Authentication(user_id=ALICE, methods=())


def test_authentication_needs_a_user() -> None:
    with pytest.raises(InvalidInput, match="id of the person"):
        Authentication(user_id="", methods=(passkey(),))


def test_authentication_needs_method_uses() -> None:
    with pytest.raises(InvalidInput, match="MethodUse"):
        Authentication(user_id=ALICE, methods=("fido2",))  # type: ignore[arg-type]


def test_auth_time_is_the_latest_use_and_modes_are_a_set() -> None:
    later = NOW + timedelta(minutes=5)
    auth = session(use(AuthMethodMode.TAP_ONE_TIME, later), passkey(at=NOW))
    assert auth.auth_time == later
    assert auth.modes == {AuthMethodMode.TAP_ONE_TIME, AuthMethodMode.FIDO2}


def test_with_method_appends_a_step_up() -> None:
    first = session(use(AuthMethodMode.SOFTWARE_OATH))
    stepped = first.with_method(passkey(at=NOW + timedelta(minutes=1)))
    assert stepped.methods == (*first.methods, passkey(at=NOW + timedelta(minutes=1)))
    assert first.methods == (use(AuthMethodMode.SOFTWARE_OATH),)  # values: the old session is unchanged
    assert stepped.auth_time == NOW + timedelta(minutes=1)


@pytest.mark.parametrize(("uses", "expected"), [
    ((passkey(device_bound=True),), ("hwk", "mfa", "user")),
    ((passkey(device_bound=False),), ("mfa", "swk", "user")),
    ((passkey(device_bound=None),), ("mfa", "swk", "user")),
    ((use(AuthMethodMode.SOFTWARE_OATH),), ("otp",)),
    ((use(AuthMethodMode.TAP_ONE_TIME),), ("mfa", "otp")),  # a pass meets Multifactor authentication (acr …02)
    ((use(AuthMethodMode.TAP_MULTI_USE),), ("mfa", "otp")),
    ((use(AuthMethodMode.TAP_ONE_TIME), use(AuthMethodMode.SOFTWARE_OATH)), ("mfa", "otp")),
    ((use(AuthMethodMode.SOFTWARE_OATH), use(AuthMethodMode.SOFTWARE_OATH)), ("otp",)),
    ((use(AuthMethodMode.TAP_ONE_TIME), passkey(device_bound=True)), ("hwk", "mfa", "otp", "user")),
    ((passkey(device_bound=True), passkey(FEITIAN, device_bound=False)), ("hwk", "mfa", "swk", "user")),
    ((use(AuthMethodMode.PASSWORD),), ()),
    ((use(AuthMethodMode.PASSWORD), use(AuthMethodMode.SMS)), ("mfa",)),
])
def test_amr(uses: tuple[MethodUse, ...], expected: tuple[str, ...]) -> None:
    assert amr(session(*uses)) == expected



def test_session_json_is_json_safe_and_round_trips() -> None:
    auth = session(use(AuthMethodMode.TAP_ONE_TIME),
                   passkey(NIL, device_bound=False, at=datetime(2025, 6, 1, 11, 0, 0, 123456,
                                                                tzinfo=timezone(timedelta(hours=2)))))
    data = authentication_to_json(auth)
    assert data == {"v": 1, "userId": ALICE, "methods": [
        {"mode": "temporaryAccessPassOneTime", "at": "2025-06-01T09:30:00+00:00"},
        {"mode": "fido2", "at": "2025-06-01T09:00:00.123456+00:00", "aaguid": NIL, "deviceBound": False}]}
    assert authentication_from_json(data) == auth


def test_the_methods_a_session_proved_are_kept_by_id() -> None:
    key, tap = "7F4E9B0A-AAAA-4BBB-8CCC-0123456789AB", "11111111-2222-4333-8444-555555555555"
    later = NOW + timedelta(minutes=5)
    auth = session(use(AuthMethodMode.TAP_ONE_TIME, method_id=tap),
                   passkey(at=later, method_id=key), use(AuthMethodMode.SOFTWARE_OATH, at=later))
    assert auth.method_ids == frozenset({tap, key.lower()})
    assert auth.signed_in_at == min(u.at for u in auth.methods) and auth.auth_time == later
    data = authentication_to_json(auth)
    assert [m.get("methodId") for m in data["methods"]] == [tap, key.lower(), None]
    assert authentication_from_json(data) == auth


def test_releasing_a_method_keeps_the_proof_and_drops_the_tie() -> None:
    key, other = "7f4e9b0a-aaaa-4bbb-8ccc-0123456789ab", "11111111-2222-4333-8444-555555555555"
    auth = session(passkey(method_id=key), use(AuthMethodMode.SOFTWARE_OATH, method_id=other))
    released = auth.releasing(key.upper())
    assert released.method_ids == frozenset({other})
    assert released.modes == auth.modes and released.auth_time == auth.auth_time and amr(released) == amr(auth)
    assert auth.releasing("00000000-0000-4000-8000-000000000000") == auth


@pytest.mark.parametrize("data", [
    {"v": 1, "userId": ALICE, "methods": [{"mode": "fido2", "at": "2025-06-01T09:30:00Z", "methodId": 5}]},
    {"v": 1, "userId": ALICE, "methods": [{"mode": "fido2", "at": "2025-06-01T09:30:00Z", "methodId": "key"}]},
    None, [], "x", 1, {}, {"v": 2, "userId": ALICE, "methods": [{"mode": "fido2", "at": "2025-06-01T09:30:00Z"}]},
    {"v": True, "userId": ALICE, "methods": [{"mode": "fido2", "at": "2025-06-01T09:30:00Z"}]},
    {"v": 1, "userId": ALICE, "methods": []},
    {"v": 1, "userId": "", "methods": [{"mode": "fido2", "at": "2025-06-01T09:30:00Z"}]},
    {"v": 1, "userId": 7, "methods": [{"mode": "fido2", "at": "2025-06-01T09:30:00Z"}]},
    {"v": 1, "userId": ALICE, "methods": [{"mode": "fido3", "at": "2025-06-01T09:30:00Z"}]},
    {"v": 1, "userId": ALICE, "methods": [{"mode": "fido2", "at": "2025-06-01T09:30:00"}]},  # naive
    {"v": 1, "userId": ALICE, "methods": [{"mode": "fido2", "at": "yesterday"}]},
    {"v": 1, "userId": ALICE, "methods": [{"mode": "fido2", "at": 1717234200}]},
    {"v": 1, "userId": ALICE, "methods": [{"mode": "fido2", "at": "2025-06-01T09:30:00Z", "aaguid": "x"}]},
    {"v": 1, "userId": ALICE, "methods": [{"mode": "fido2", "at": "2025-06-01T09:30:00Z", "aaguid": 5}]},
    {"v": 1, "userId": ALICE, "methods": [{"mode": "fido2", "at": "2025-06-01T09:30:00Z", "deviceBound": 1}]},
    {"v": 1, "userId": ALICE, "methods": [{"mode": "sms", "at": "2025-06-01T09:30:00Z", "deviceBound": True}]},
    {"v": 1, "userId": ALICE, "methods": [{"mode": "fido2", "at": "2025-06-01T09:30:00Z", "colour": "red"}]},
    {"v": 1, "userId": ALICE, "methods": [{"mode": "fido2", "at": "2025-06-01T09:30:00Z"}, "fido2"]},
    {"v": 1, "userId": ALICE, "methods": {"mode": "fido2", "at": "2025-06-01T09:30:00Z"}},
])
def test_malformed_session_json_reads_as_none(data: object) -> None:
    assert authentication_from_json(data) is None


@given(authentications())
def test_session_json_round_trips(auth: Authentication) -> None:
    assert authentication_from_json(authentication_to_json(auth)) == auth


@given(json_values)
def test_reading_session_json_never_raises(data: object) -> None:
    result = authentication_from_json(data)
    assert result is None or isinstance(result, Authentication)


@given(authentications())
def test_amr_is_sorted_unique_and_consistent(auth: Authentication) -> None:
    values = amr(auth)
    assert list(values) == sorted(set(values))
    alone = {AuthMethodMode.TAP_ONE_TIME, AuthMethodMode.TAP_MULTI_USE, AuthMethodMode.FIDO2,
             AuthMethodMode.WINDOWS_HELLO_FOR_BUSINESS, AuthMethodMode.X509_MULTI_FACTOR,
             AuthMethodMode.DEVICE_BASED_PUSH, AuthMethodMode.FEDERATED_MULTI_FACTOR}
    assert ("mfa" in values) == (bool(auth.modes & alone) or len(auth.modes) >= 2)
    assert ("user" in values) == (AuthMethodMode.FIDO2 in auth.modes)
    assert ("otp" in values) == bool(auth.modes & {AuthMethodMode.SOFTWARE_OATH, AuthMethodMode.TAP_ONE_TIME,
                                                    AuthMethodMode.TAP_MULTI_USE})


@given(authentications(), st.datetimes(timezones=st.just(UTC)))
def test_auth_time_never_goes_back_after_a_step_up(auth: Authentication, when: datetime) -> None:
    stepped = auth.with_method(MethodUse(AuthMethodMode.SOFTWARE_OATH, when))
    assert stepped.auth_time == max(auth.auth_time, when)
    assert stepped.modes >= auth.modes


@given(passgate_authentications)
def test_amr_and_acr_agree(auth: Authentication) -> None:
    """The ID token's two claims say the same thing for every session Passgate can make (its own modes): acr names
    a built-in strength (all of them multifactor) exactly when amr carries mfa (issue 12, item 10)."""
    from passgate.core.access.strengths import BUILT_IN_STRENGTHS, acr_for

    acr, _ = acr_for(auth, requested=(), strengths=BUILT_IN_STRENGTHS)
    assert (acr is not None) == ("mfa" in amr(auth)), (acr, amr(auth), auth.modes)
