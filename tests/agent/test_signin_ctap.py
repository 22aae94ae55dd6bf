"""The CTAP side of security-key sign-in (passgate.agent.signin.collect_assertion) against the soft key: what the
key is asked, what the person is asked, and the PublicKeyCredential JSON Passgate gets."""

from __future__ import annotations

import hashlib
import json
import os
from typing import Any

import pytest
from fido2.cose import CoseKey
from fido2.ctap2 import ClientPin, Ctap2
from fido2.webauthn import AuthenticatorData

from passgate.agent.errors import AgentError
from passgate.agent.securitykeys import b64url, b64url_decode, pick_device
from passgate.agent.signin import collect_assertion
from tests.agent.support import PIN, RP_ID, Person, SoftKeys, make_passkey, with_pin
from tests.devices.conftest import Clock
from tests.devices.softkey import SoftKey, decline, never_touch

ORIGIN = "http://localhost:8000"


def options(*allowed: bytes) -> dict[str, Any]:
    found: dict[str, Any] = {"challenge": b64url(os.urandom(32)), "rpId": RP_ID, "userVerification": "required",
                             "timeout": 60000}
    if allowed:
        found["allowCredentials"] = [{"type": "public-key", "id": b64url(i)} for i in allowed]
    return found


def check(credential: dict[str, Any], request: dict[str, Any], made: Any) -> dict[str, Any]:
    """The assertion verifies with the credential's public key over what WebAuthn says, with UP and UV."""
    response = credential["response"]
    client_data = b64url_decode(response["clientDataJSON"])
    assert json.loads(client_data) == {"type": "webauthn.get", "challenge": request["challenge"], "origin": ORIGIN,
                                       "crossOrigin": False}
    auth_data = AuthenticatorData(b64url_decode(response["authenticatorData"]))
    assert auth_data.rp_id_hash == hashlib.sha256(RP_ID.encode()).digest()
    assert auth_data.is_user_present() and auth_data.is_user_verified()
    CoseKey.parse(made.public_key).verify(bytes(auth_data) + hashlib.sha256(client_data).digest(),
                                          b64url_decode(response["signature"]))
    assert credential["id"] == credential["rawId"] == b64url(made.credential_id)
    assert credential["type"] == "public-key"
    return credential


def test_one_account_with_the_pin(key: SoftKey) -> None:
    with_pin(key)
    made = make_passkey(key, "alice@contoso.com")
    person = Person(pins=[PIN])
    request = options()
    credential = check(collect_assertion(Ctap2(key), request, ORIGIN, person), request, made)
    assert credential["response"]["userHandle"] == b64url(b"alice@contoso.com")
    assert [kind for kind, _ in person.asked] == ["pin"]  # one account: no choice to make
    assert "Touch your security key." in person.said
    assert key.presence_requests[-1].command == "getAssertion"


def test_the_allow_list_passgate_sends_is_used(key: SoftKey) -> None:
    with_pin(key)
    make_passkey(key, "alice@contoso.com")
    bob = make_passkey(key, "bob@contoso.com")
    person = Person(pins=[PIN])
    request = options(bob.credential_id)
    credential = check(collect_assertion(Ctap2(key), request, ORIGIN, person), request, bob)
    assert credential["response"]["userHandle"] == b64url(b"bob@contoso.com")
    assert not any(kind == "choose" for kind, _ in person.asked)


@pytest.mark.parametrize("pick", [0, 1])
def test_two_accounts_the_person_chooses(key: SoftKey, pick: int) -> None:
    with_pin(key)
    made = {n: make_passkey(key, n) for n in ("alice@contoso.com", "bob@contoso.com")}
    person = Person(pins=[PIN], choices=[pick])
    request = options()
    credential = collect_assertion(Ctap2(key), request, ORIGIN, person)
    choose = [value for kind, value in person.asked if kind == "choose"]
    assert choose == [["bob@contoso.com (Bob)", "alice@contoso.com (Alice)"]]  # the key's order, newest first
    chosen = ["bob@contoso.com", "alice@contoso.com"][pick]
    check(credential, request, made[chosen])
    assert credential["response"]["userHandle"] == b64url(chosen.encode())


def test_a_wrong_pin_is_refused_and_counted_by_the_key(key: SoftKey) -> None:
    with_pin(key)
    make_passkey(key, "alice@contoso.com")
    with pytest.raises(AgentError) as wrong:
        collect_assertion(Ctap2(key), options(), ORIGIN, Person(pins=["0000"]))
    assert wrong.value.code == "pin_invalid"
    assert wrong.value.message == "Wrong PIN (7 tries left before the key locks its PIN)."
    assert ClientPin(Ctap2(key)).get_pin_retries()[0] == 7
    assert not [r for r in key.presence_requests if r.command == "getAssertion"]  # never got as far as the key
    with pytest.raises(AgentError) as again:
        collect_assertion(Ctap2(key), options(), ORIGIN, Person(pins=["1111"]))
    assert again.value.code == "pin_invalid" and "6 tries left" in again.value.message
    with pytest.raises(AgentError) as third:
        collect_assertion(Ctap2(key), options(), ORIGIN, Person(pins=["2222"]))
    assert third.value.code == "pin_auth_blocked" and "unplug the security key" in third.value.message
    key.power_cycle()
    collect_assertion(Ctap2(key), options(), ORIGIN, Person(pins=[PIN]))  # a right PIN after a power cycle
    assert ClientPin(Ctap2(key)).get_pin_retries()[0] == 8


def test_a_blocked_pin_says_only_a_reset_helps(key: SoftKey) -> None:
    with_pin(key)
    make_passkey(key, "alice@contoso.com")
    key.state.pin_retries = 1
    with pytest.raises(AgentError) as blocked:
        collect_assertion(Ctap2(key), options(), ORIGIN, Person(pins=["0000"]))
    assert blocked.value.code == "pin_blocked" and "passgate-device key reset" in blocked.value.message


def test_a_key_without_pin_or_fingerprint_cannot_verify_the_user(key: SoftKey) -> None:
    ctap = Ctap2(key)
    ctap.make_credential(os.urandom(32), {"id": RP_ID, "name": "P"}, {"id": b"u", "name": "u"},
                         [{"type": "public-key", "alg": -7}], options={"rk": True})
    person = Person()
    with pytest.raises(AgentError) as refused:
        collect_assertion(Ctap2(key), options(), ORIGIN, person)
    assert refused.value.code == "no_uv" and "set a PIN" in refused.value.message
    assert person.asked == [] and key.presence_requests[-1].command == "makeCredential"


def test_the_fingerprint_verifies_without_a_pin(key: SoftKey) -> None:
    from fido2.ctap2.bio import FPBioEnrollment
    from fido2.ctap2.pin import PinProtocolV2

    with_pin(key)
    made = make_passkey(key, "alice@contoso.com")
    ctap = Ctap2(key)
    token = ClientPin(ctap, PinProtocolV2()).get_pin_token(PIN, ClientPin.PERMISSION.BIO_ENROLL)
    bio = FPBioEnrollment(ctap, PinProtocolV2(), token)
    key.finger = "right-index"
    context = bio.enroll()
    while context.capture() is None:
        pass
    person = Person()
    request = options()
    check(collect_assertion(Ctap2(key), request, ORIGIN, person), request, made)
    assert person.asked == [] and "Touch the fingerprint sensor of your security key." in person.said
    # a finger the key does not know: the PIN instead, and the person is told why
    key.finger = "nose"
    person = Person(pins=[PIN])
    again = options()
    check(collect_assertion(Ctap2(key), again, ORIGIN, person), again, made)
    assert [kind for kind, _ in person.asked] == ["pin"]
    assert any(s.startswith("Fingerprint not recognised") for s in person.said)


@pytest.mark.parametrize(("presence", "words"), [(never_touch, "not touched in time"), (decline, "declined")])
def test_no_touch_is_a_clear_refusal(key: SoftKey, presence: Any, words: str) -> None:
    with_pin(key)
    make_passkey(key, "alice@contoso.com")
    key.presence = presence
    with pytest.raises(AgentError) as refused:
        collect_assertion(Ctap2(key), options(), ORIGIN, Person(pins=[PIN]))
    assert refused.value.code == "presence_timeout" and words in refused.value.message


def test_a_key_without_a_passkey_for_passgate(key: SoftKey) -> None:
    with_pin(key)
    make_passkey(key, "alice@contoso.com", rp_id="other.example")
    with pytest.raises(AgentError) as refused:
        collect_assertion(Ctap2(key), options(), ORIGIN, Person(pins=[PIN]))
    assert refused.value.code == "no_credential"


def test_no_key_plugged_in_and_several_keys(clock: Clock) -> None:
    with pytest.raises(AgentError) as none:
        pick_device(SoftKeys(), Person())
    assert none.value.code == "no_security_key" and "insert your key" in none.value.message
    first, second = SoftKey(clock=clock, serial="A-1"), SoftKey(clock=clock, serial="B-2")
    person = Person(choices=[1])
    assert pick_device(SoftKeys(first, second), person) is second
    assert person.asked == [("choose", ["1: Passgate Softkey (A-1)", "2: Passgate Softkey (B-2)"])]
    with pytest.raises(AgentError) as several:
        pick_device(SoftKeys(first, second))
    assert several.value.code == "several_security_keys"


@pytest.mark.parametrize("bad", [None, [], {"rpId": RP_ID}, {"challenge": "x", "rpId": ""},
                                 {"challenge": "not base64!", "rpId": RP_ID},
                                 {"challenge": "AAAA", "rpId": RP_ID, "allowCredentials": [{"id": "%%"}]}])
def test_options_passgate_would_never_send_are_refused_before_the_key(key: SoftKey, bad: Any) -> None:
    with pytest.raises(AgentError) as refused:
        collect_assertion(Ctap2(key), bad, ORIGIN, Person())
    assert refused.value.code == "bad_answer"
    assert key.presence_requests == []
