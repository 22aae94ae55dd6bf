"""The soft key driven only through python-fido2's own classes (Ctap2, ClientPin, CredentialManagement,
FPBioEnrollment, Fido2Client) and checked by python-fido2's Fido2Server; raw CTAPHID_CBOR bytes only where the
point is input python-fido2 would never send."""

from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Mapping
from pathlib import Path
from threading import Event
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from fido2 import cbor
from fido2.attestation import AttestationVerifier, verify_x509_chain
from fido2.client import ClientError, DefaultClientDataCollector, Fido2Client, UserInteraction
from fido2.cose import CoseKey
from fido2.ctap import STATUS, CtapError
from fido2.ctap2 import ClientPin, CredentialManagement, Ctap2
from fido2.ctap2.bio import CaptureError, FPBioEnrollment
from fido2.ctap2.pin import PinProtocolV1, PinProtocolV2
from fido2.hid import CTAPHID
from fido2.server import Fido2Server
from fido2.webauthn import (
    AttestedCredentialData,
    AuthenticatorData,
    PublicKeyCredentialRpEntity,
    PublicKeyCredentialUserEntity,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.devices.attestation import AAGUID_OID
from tests.devices.conftest import Clock
from tests.devices.softkey import DEFAULT_AAGUID, Presence, PresenceRequest, SoftKey, decline, never_touch

ERR = CtapError.ERR
P = ClientPin.PERMISSION
RP = {"id": "example.com", "name": "Example"}
ORIGIN = "https://example.com"
ES256_PARAMS = [{"type": "public-key", "alg": -7}]
PIN = "4711"


# --- helpers ------------------------------------------------------------------------------------------------

def with_pin(key: SoftKey, pin: str = PIN) -> Ctap2:
    ctap = Ctap2(key)
    ClientPin(ctap, PinProtocolV2()).set_pin(pin)
    return Ctap2(key)  # fresh getInfo: clientPin is now true


def pin_token(ctap: Ctap2, permissions: P, rp_id: str | None = RP["id"], pin: str = PIN) -> bytes:
    return ClientPin(ctap, PinProtocolV2()).get_pin_token(pin, permissions, rp_id)


def register(ctap: Ctap2, user_id: bytes, name: str, *, token: bytes | None = None, rp: Mapping[str, Any] = RP,
             rk: bool = True, **kwargs: Any) -> AttestedCredentialData:
    data_hash = os.urandom(32)
    auth = {}
    if token is not None:
        auth = {"pin_uv_param": PinProtocolV2().authenticate(token, data_hash), "pin_uv_protocol": 2}
    response = ctap.make_credential(data_hash, rp, {"id": user_id, "name": name, "displayName": name.title()},
                                    ES256_PARAMS, options={"rk": rk}, **auth, **kwargs)
    assert response.auth_data.credential_data is not None
    return response.auth_data.credential_data


def assertions(ctap: Ctap2, *, token: bytes | None = None, data_hash: bytes = b"\x01" * 32,
               rp_id: str = RP["id"], **kwargs: Any) -> list[Any]:
    auth = {}
    if token is not None:
        auth = {"pin_uv_param": PinProtocolV2().authenticate(token, data_hash), "pin_uv_protocol": 2}
    return ctap.get_assertions(rp_id, data_hash, **auth, **kwargs)


def raw(key: SoftKey, command: int, params: Any = None, *, payload: bytes | None = None) -> int:
    """The status byte for a hand-made CTAPHID_CBOR message."""
    body = payload if payload is not None else (cbor.encode(params) if params is not None else b"")
    return key.call(CTAPHID.CBOR, bytes([command]) + body)[0]


def fails(code: ERR) -> Any:
    return pytest.raises(CtapError, match=f"0x{code.value:02X} - {code.name}")


class PinEntry(UserInteraction):
    def __init__(self, pin: str) -> None:
        self.pin = pin

    def request_pin(self, permissions: P, rp_id: str | None) -> str | None:
        return self.pin


class SoftKeyRoot(AttestationVerifier):
    """Trusts the soft key's own test root."""

    def __init__(self, key: SoftKey) -> None:
        super().__init__()
        self.root = key.state.attestation.root.public_bytes(Encoding.DER)

    def ca_lookup(self, attestation_result: Any, auth_data: AuthenticatorData) -> bytes | None:
        return self.root


def server_for(key: SoftKey) -> Fido2Server:
    return Fido2Server(PublicKeyCredentialRpEntity(**RP), attestation="direct", verify_attestation=SoftKeyRoot(key))


def client(key: SoftKey, pin: str | None = None) -> Fido2Client:
    return Fido2Client(key, DefaultClientDataCollector(ORIGIN), user_interaction=PinEntry(pin or ""))


def fingerprint_enroll(ctap: Ctap2, key: SoftKey, finger: str) -> bytes:
    bio = FPBioEnrollment(ctap, PinProtocolV2(), pin_token(ctap, P.BIO_ENROLL, None))
    key.finger = finger
    context = bio.enroll()
    template_id = None
    while template_id is None:
        template_id = context.capture()
    return template_id


# --- getInfo, the device interface --------------------------------------------------------------------------

def test_get_info_describes_a_ctap21_key(clock: Clock) -> None:
    aaguid = bytes.fromhex("00112233445566778899aabbccddeeff")
    info = Ctap2(SoftKey(aaguid=aaguid, clock=clock)).info
    assert info.versions == ["FIDO_2_0", "FIDO_2_1"]
    assert bytes(info.aaguid) == aaguid
    assert info.extensions == ["credProtect"]
    assert info.pin_uv_protocols == [2, 1]
    assert info.algorithms == [{"alg": -7, "type": "public-key"}]
    assert info.min_pin_length == 4
    assert info.options == {"rk": True, "up": True, "plat": False, "clientPin": False, "uv": False,
                            "bioEnroll": False, "credMgmt": True, "pinUvAuthToken": True}
    assert info.max_creds_in_list > 0
    assert info.remaining_disc_creds == 25


def test_device_interface(key: SoftKey) -> None:
    assert key.call(CTAPHID.PING, b"hello") == b"hello"
    key.call(CTAPHID.WINK)
    assert key.winks == 1
    with fails(ERR.INVALID_COMMAND):
        key.call(CTAPHID.MSG, b"\x00\x01")  # no U2F
    assert list(SoftKey.list_devices()) == []
    assert key.product_name == "Passgate Softkey"
    assert key.serial_number
    with key:
        pass


# --- the full WebAuthn round trip ----------------------------------------------------------------------------

def test_register_and_sign_in_through_fido2_client_and_server(key: SoftKey) -> None:
    with_pin(key)
    server, webauthn = server_for(key), client(key, PIN)
    user = PublicKeyCredentialUserEntity(id=b"user-1", name="alice", display_name="Alice")
    options, state = server.register_begin(user, resident_key_requirement="required",
                                           user_verification="required")
    registration = webauthn.make_credential(options.public_key)
    auth_data = server.register_complete(state, registration)  # packed attestation checked up to the root
    assert auth_data.is_user_present() and auth_data.is_user_verified()
    assert auth_data.credential_data is not None
    assert bytes(auth_data.credential_data.aaguid) == DEFAULT_AAGUID
    credentials = [auth_data.credential_data]

    request, state = server.authenticate_begin(credentials, user_verification="required")
    response = webauthn.get_assertion(request.public_key).get_response(0)
    assert server.authenticate_complete(state, credentials, response) == credentials[0]
    signed = response.response.authenticator_data
    assert signed.is_user_present() and signed.is_user_verified()
    assert signed.counter == 2  # the client's silent probe of the allowList (up=false) was an assertion too


def test_discoverable_sign_in_without_user_verification_on_a_key_without_pin(key: SoftKey) -> None:
    server, webauthn = server_for(key), client(key)
    user = PublicKeyCredentialUserEntity(id=b"user-2", name="bob", display_name="Bob")
    options, state = server.register_begin(user, resident_key_requirement="required",
                                           user_verification="discouraged")
    auth_data = server.register_complete(state, webauthn.make_credential(options.public_key))
    assert auth_data.is_user_present() and not auth_data.is_user_verified()
    request, state = server.authenticate_begin(user_verification="discouraged")  # no allowList
    response = webauthn.get_assertion(request.public_key).get_response(0)
    assert response.response.user_handle == b"user-2"
    server.authenticate_complete(state, [auth_data.credential_data], response)


def test_attestation_certificate_meets_webauthn_8_2_1(key: SoftKey) -> None:
    leaf, root = key.state.attestation.leaf, key.state.attestation.root
    assert leaf.version == x509.Version.v3
    subject = {attribute.oid._name: attribute.value for attribute in leaf.subject}
    assert subject["organizationalUnitName"] == "Authenticator Attestation"
    assert {"countryName", "organizationName", "commonName"} <= subject.keys()
    aaguid = leaf.extensions.get_extension_for_oid(AAGUID_OID)
    assert not aaguid.critical and aaguid.value.value == b"\x04\x10" + DEFAULT_AAGUID
    assert leaf.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is False
    verify_x509_chain([cert.public_bytes(Encoding.DER) for cert in (leaf, root)])


# --- clientPIN -----------------------------------------------------------------------------------------------

def test_set_and_change_pin(key: SoftKey) -> None:
    ctap = with_pin(key)
    pins = ClientPin(ctap, PinProtocolV2())
    assert ctap.info.options["clientPin"] is True
    assert pins.get_pin_retries() == (8, False)
    with fails(ERR.NOT_ALLOWED):
        pins.set_pin("9999")
    pins.change_pin(PIN, "0815")
    with fails(ERR.PIN_INVALID):
        pins.get_pin_token(PIN, P.GET_ASSERTION, RP["id"])
    assert len(pins.get_pin_token("0815", P.GET_ASSERTION, RP["id"])) == 32
    assert pins.get_pin_retries() == (8, False)  # a right PIN restores the count


def test_pin_protocol_one_works_too(key: SoftKey) -> None:
    ctap = Ctap2(key)
    ClientPin(ctap, PinProtocolV1()).set_pin(PIN)
    token = ClientPin(Ctap2(key), PinProtocolV1()).get_pin_token(PIN, P.MAKE_CREDENTIAL, RP["id"])
    data_hash = os.urandom(32)
    made = Ctap2(key).make_credential(data_hash, RP, {"id": b"u", "name": "u"}, ES256_PARAMS,
                                      pin_uv_param=PinProtocolV1().authenticate(token, data_hash),
                                      pin_uv_protocol=1)
    assert made.auth_data.is_user_verified()


def test_wrong_pins_block_after_three_until_power_cycle_and_for_good_after_eight(key: SoftKey) -> None:
    ctap = with_pin(key)
    pins = ClientPin(ctap, PinProtocolV2())
    for expected in (ERR.PIN_INVALID, ERR.PIN_INVALID, ERR.PIN_AUTH_BLOCKED):
        with fails(expected):
            pins.get_pin_token("0000", P.GET_ASSERTION, RP["id"])
    with fails(ERR.PIN_AUTH_BLOCKED):  # even the right PIN, and no retry is spent
        pins.get_pin_token(PIN, P.GET_ASSERTION, RP["id"])
    assert pins.get_pin_retries() == (5, True)
    key.power_cycle()
    assert pins.get_pin_retries() == (5, False)
    pins.get_pin_token(PIN, P.GET_ASSERTION, RP["id"])
    assert pins.get_pin_retries() == (8, False)

    for round_ in range(3):
        for _ in range(3):
            with pytest.raises(CtapError) as wrong:
                pins.change_pin("0000", "1111")
        key.power_cycle()
        if round_ == 1:
            assert pins.get_pin_retries() == (2, False)
    assert wrong.value.code == ERR.PIN_BLOCKED  # the 8th wrong PIN in all
    assert pins.get_pin_retries()[0] == 0
    with fails(ERR.PIN_BLOCKED):
        pins.get_pin_token(PIN, P.GET_ASSERTION, RP["id"])


def test_pin_policy_and_pin_requests_python_fido2_would_not_send(key: SoftKey) -> None:
    ctap = Ctap2(key)
    protocol = PinProtocolV2()

    def set_padded(padded: bytes) -> int:
        agreement = ctap.client_pin(2, ClientPin.CMD.GET_KEY_AGREEMENT)[1]
        platform_key, shared = protocol.encapsulate(agreement)
        new_pin_enc = protocol.encrypt(shared, padded)
        params = {1: 2, 2: ClientPin.CMD.SET_PIN, 3: platform_key, 4: protocol.authenticate(shared, new_pin_enc),
                  5: new_pin_enc}
        return raw(key, Ctap2.CMD.CLIENT_PIN, params)

    assert set_padded(b"123".ljust(64, b"\0")) == ERR.PIN_POLICY_VIOLATION  # 3 code points
    assert set_padded(b"1234".ljust(48, b"\0")) == ERR.INVALID_PARAMETER  # not 64 padded bytes
    assert set_padded(("ü" * 32).encode()) == ERR.PIN_POLICY_VIOLATION  # 64 bytes: over 63
    assert set_padded("äöüß".encode().ljust(64, b"\0")) == 0  # 4 code points in 8 bytes is fine
    assert raw(key, Ctap2.CMD.CLIENT_PIN, {1: 2, 2: 0x42}) == ERR.INVALID_SUBCOMMAND
    assert raw(key, Ctap2.CMD.CLIENT_PIN, {1: 7, 2: ClientPin.CMD.GET_KEY_AGREEMENT}) == ERR.INVALID_PARAMETER
    assert raw(key, Ctap2.CMD.CLIENT_PIN, {2: ClientPin.CMD.GET_KEY_AGREEMENT}) == ERR.MISSING_PARAMETER
    off_curve = {1: 2, 3: -25, -1: 1, -2: b"\x01" * 32, -3: b"\x02" * 32}
    assert raw(key, Ctap2.CMD.CLIENT_PIN, {1: 2, 2: ClientPin.CMD.GET_TOKEN_USING_PIN, 3: off_curve,
                                           6: b"\0" * 32, 9: P.GET_ASSERTION}) == ERR.INVALID_PARAMETER
    pins = ClientPin(Ctap2(key), protocol)
    with fails(ERR.INVALID_PARAMETER):
        pins.get_pin_token("äöüß", P(0))
    with fails(ERR.UNAUTHORIZED_PERMISSION):
        pins.get_pin_token("äöüß", P.LARGE_BLOB_WRITE)


def test_tokens_are_bound_to_their_permissions_and_rp(key: SoftKey) -> None:
    ctap = with_pin(key)
    with fails(ERR.PUAT_REQUIRED):
        register(ctap, b"u", "u")
    with fails(ERR.PIN_AUTH_INVALID):  # a token for another RP
        register(ctap, b"u", "u", token=pin_token(ctap, P.MAKE_CREDENTIAL, "other.example"))
    with fails(ERR.PIN_AUTH_INVALID):  # a token without the mc permission
        register(ctap, b"u", "u", token=pin_token(ctap, P.GET_ASSERTION))
    token = pin_token(ctap, P.MAKE_CREDENTIAL)
    register(ctap, b"u", "u", token=token)
    with fails(ERR.PIN_AUTH_INVALID):  # its permissions went with the touch
        register(ctap, b"v", "v", token=token)
    with fails(ERR.PIN_INVALID):  # zero-length pinUvAuthParam: "touch me", PIN set
        ctap.make_credential(os.urandom(32), RP, {"id": b"u", "name": "u"}, ES256_PARAMS,
                             pin_uv_param=b"", pin_uv_protocol=2)


# --- makeCredential, getAssertion, getNextAssertion ---------------------------------------------------------

def test_two_accounts_on_one_key_for_one_rp(key: SoftKey, clock: Clock) -> None:
    ctap = with_pin(key)
    alice = register(ctap, b"alice", "alice", token=pin_token(ctap, P.MAKE_CREDENTIAL))
    bob = register(ctap, b"bob", "bob", token=pin_token(ctap, P.MAKE_CREDENTIAL))
    found = assertions(ctap, token=pin_token(ctap, P.GET_ASSERTION))
    assert found[0].number_of_credentials == 2
    assert [a.user["id"] for a in found] == [b"bob", b"alice"]  # newest first
    assert found[0].user == {"id": b"bob", "name": "bob", "displayName": "Bob"}  # verified: names too
    for assertion, credential in zip(found, (bob, alice), strict=True):
        assert assertion.credential["id"] == credential.credential_id
        assertion.verify(b"\x01" * 32, CoseKey.parse(credential.public_key))
        assert assertion.auth_data.is_user_verified() and assertion.auth_data.counter == 1
    with fails(ERR.NOT_ALLOWED):  # the walk is over
        ctap.get_next_assertion()

    data_hash = os.urandom(32)
    token = pin_token(ctap, P.GET_ASSERTION)
    ctap.get_assertion(RP["id"], data_hash, pin_uv_param=PinProtocolV2().authenticate(token, data_hash),
                       pin_uv_protocol=2)
    clock.advance(31)
    with fails(ERR.NOT_ALLOWED):  # the 30 s getNextAssertion timer
        ctap.get_next_assertion()


def test_get_next_assertion_only_right_after_get_assertion(key: SoftKey) -> None:
    ctap = Ctap2(key)
    register(ctap, b"a", "a")
    register(ctap, b"b", "b")
    first = ctap.get_assertion(RP["id"], os.urandom(32))
    assert first.number_of_credentials == 2
    assert first.user == {"id": b"b"}  # no UV: the user handle only
    assert not first.auth_data.is_user_verified() and first.auth_data.is_user_present()
    ctap.get_info()
    with fails(ERR.NOT_ALLOWED):
        ctap.get_next_assertion()


def test_both_accounts_reachable_through_fido2_client(key: SoftKey) -> None:
    with_pin(key)
    server, webauthn = server_for(key), client(key, PIN)
    registered = []
    for name in ("carol", "dave"):
        user = PublicKeyCredentialUserEntity(id=name.encode(), name=name, display_name=name.title())
        options, state = server.register_begin(user, resident_key_requirement="required")
        registered.append(server.register_complete(state, webauthn.make_credential(options.public_key))
                          .credential_data)
    request, state = server.authenticate_begin(user_verification="required")
    selection = webauthn.get_assertion(request.public_key)
    assert len(selection.get_assertions()) == 2
    for index in range(2):
        response = selection.get_response(index)
        server.authenticate_complete(state, registered, response)
    assert {selection.get_response(i).response.user_handle for i in range(2)} == {b"carol", b"dave"}


def test_same_user_again_replaces_the_discoverable_credential(key: SoftKey) -> None:
    ctap = Ctap2(key)
    register(ctap, b"same", "first")
    second = register(ctap, b"same", "second")
    assert [c.credential_id for c in key.credentials] == [second.credential_id]
    assert Ctap2(key).info.remaining_disc_creds == 24


def test_exclude_list_and_allow_list(key: SoftKey) -> None:
    ctap = Ctap2(key)
    made = register(ctap, b"u", "u", rk=False)
    descriptor = {"type": "public-key", "id": made.credential_id}
    with fails(ERR.CREDENTIAL_EXCLUDED):
        register(ctap, b"u", "u", exclude_list=[descriptor])
    with fails(ERR.NO_CREDENTIALS):  # not discoverable: found only through the allowList
        ctap.get_assertion(RP["id"], os.urandom(32))
    with fails(ERR.NO_CREDENTIALS):  # another RP's credential
        ctap.get_assertion("other.example", os.urandom(32), allow_list=[descriptor])
    found = ctap.get_assertion(RP["id"], os.urandom(32), allow_list=[{"type": "public-key", "id": b"nope"},
                                                                     descriptor])
    assert found.credential["id"] == made.credential_id and found.user is None
    assert found.number_of_credentials is None
    silent = ctap.get_assertion(RP["id"], os.urandom(32), allow_list=[descriptor], options={"up": False})
    assert not silent.auth_data.is_user_present()
    assert silent.auth_data.counter == 2


def test_cred_protect_hides_credentials_without_uv(key: SoftKey) -> None:
    ctap = Ctap2(key)
    made = ctap.make_credential(os.urandom(32), RP, {"id": b"p", "name": "p"}, ES256_PARAMS,
                                options={"rk": True}, extensions={"credProtect": 2})
    assert made.auth_data.extensions == {"credProtect": 2}
    with fails(ERR.NO_CREDENTIALS):
        ctap.get_assertion(RP["id"], os.urandom(32))
    assert made.auth_data.credential_data is not None
    ctap.get_assertion(RP["id"], os.urandom(32),
                       allow_list=[{"type": "public-key", "id": made.auth_data.credential_data.credential_id}])


# --- user presence ------------------------------------------------------------------------------------------

def test_user_presence_refused(key: SoftKey) -> None:
    ctap = Ctap2(key)
    register(ctap, b"u", "u")
    seen: list[STATUS] = []
    key.presence = never_touch
    with fails(ERR.OPERATION_DENIED):  # §6.1.2 step 14: a timeout ends makeCredential with OPERATION_DENIED
        ctap.make_credential(os.urandom(32), RP, {"id": b"v", "name": "v"}, ES256_PARAMS,
                             on_keepalive=seen.append)
    assert STATUS.UPNEEDED in seen
    with fails(ERR.OPERATION_DENIED):
        ctap.get_assertion(RP["id"], os.urandom(32))
    with fails(ERR.USER_ACTION_TIMEOUT):
        ctap.selection()
    key.presence = decline
    with fails(ERR.OPERATION_DENIED):
        ctap.selection()
    assert [r.command for r in key.presence_requests] == [
        "makeCredential", "makeCredential", "getAssertion", "selection", "selection"]
    assert len(key.credentials) == 1
    with pytest.raises(ClientError):
        client(key).make_credential({
            "rp": RP, "user": {"id": b"w", "name": "w"}, "challenge": os.urandom(32),
            "pubKeyCredParams": ES256_PARAMS, "authenticatorSelection": {"userVerification": "discouraged"}})


def test_presence_callback_and_cancel(key: SoftKey) -> None:
    asked: list[PresenceRequest] = []

    def touch_for_example(request: PresenceRequest) -> Presence:
        asked.append(request)
        return Presence.TOUCH if request.rp_id == "example.com" else Presence.DECLINE

    key.presence = touch_for_example
    ctap = Ctap2(key)
    register(ctap, b"u", "u")
    with fails(ERR.OPERATION_DENIED):
        register(ctap, b"u", "u", rp={"id": "other.example"})
    assert [r.rp_id for r in asked] == ["example.com", "other.example"]
    cancelled = Event()
    cancelled.set()
    with fails(ERR.KEEPALIVE_CANCEL):
        ctap.get_assertion(RP["id"], os.urandom(32), event=cancelled)


# --- authenticatorReset -------------------------------------------------------------------------------------

def test_reset_only_within_ten_seconds_of_power_up(key: SoftKey, clock: Clock) -> None:
    ctap = with_pin(key)
    register(ctap, b"u", "u", token=pin_token(ctap, P.MAKE_CREDENTIAL))
    clock.advance(10.5)
    with fails(ERR.NOT_ALLOWED):
        ctap.reset()
    key.power_cycle()
    clock.advance(9.5)
    key.presence = never_touch
    with fails(ERR.USER_ACTION_TIMEOUT):
        ctap.reset()
    key.presence = decline
    with fails(ERR.OPERATION_DENIED):
        ctap.reset()
    assert len(key.credentials) == 1
    key.presence = lambda _: Presence.TOUCH
    ctap.reset()
    assert key.credentials == []
    info = Ctap2(key).info
    assert info.options["clientPin"] is False and info.remaining_disc_creds == 25
    assert ClientPin(Ctap2(key), PinProtocolV2()).get_pin_retries()[0] == 8


# --- authenticatorCredentialManagement ----------------------------------------------------------------------

def test_credential_management_enumerates_updates_and_deletes(key: SoftKey) -> None:
    ctap = with_pin(key)
    for rp, user in ((RP, b"alice"), (RP, b"bob"), ({"id": "other.example", "name": "Other"}, b"carol")):
        register(ctap, user, user.decode(), rp=rp, token=pin_token(ctap, P.MAKE_CREDENTIAL, rp["id"]))
    manager = CredentialManagement(ctap, PinProtocolV2(), pin_token(ctap, P.CREDENTIAL_MGMT, None))
    R = CredentialManagement.RESULT
    assert manager.get_metadata() == {R.EXISTING_CRED_COUNT: 3, R.MAX_REMAINING_COUNT: 22}
    rps = manager.enumerate_rps()
    assert sorted(rp[R.RP]["id"] for rp in rps) == ["example.com", "other.example"]
    example = next(rp for rp in rps if rp[R.RP]["id"] == "example.com")
    assert example[R.RP_ID_HASH] == hashlib.sha256(b"example.com").digest()
    credentials = manager.enumerate_creds(example[R.RP_ID_HASH])
    assert sorted(c[R.USER]["id"] for c in credentials) == [b"alice", b"bob"]
    alice = next(c for c in credentials if c[R.USER]["id"] == b"alice")
    manager.update_user_info(alice[R.CREDENTIAL_ID], {"id": b"alice", "name": "alice@example.com"})
    manager.delete_cred(next(c for c in credentials if c[R.USER]["id"] == b"bob")[R.CREDENTIAL_ID])
    remaining = manager.enumerate_creds(example[R.RP_ID_HASH])
    assert [c[R.USER] for c in remaining] == [{"id": b"alice", "name": "alice@example.com"}]
    assert manager.get_metadata()[R.EXISTING_CRED_COUNT] == 2
    with fails(ERR.NO_CREDENTIALS):
        manager.delete_cred(alice[R.CREDENTIAL_ID] | {"id": b"gone"})
    with fails(ERR.INVALID_PARAMETER):
        manager.update_user_info(alice[R.CREDENTIAL_ID], {"id": b"mallory", "name": "m"})
    found = assertions(ctap, token=pin_token(ctap, P.GET_ASSERTION))
    assert [a.user["id"] for a in found] == [b"alice"]
    with fails(ERR.PIN_AUTH_INVALID):  # one live token: the new one replaced the cm token
        manager.get_metadata()


def test_credential_management_needs_an_unbound_cm_token(key: SoftKey) -> None:
    ctap = with_pin(key)
    register(ctap, b"u", "u", token=pin_token(ctap, P.MAKE_CREDENTIAL))
    with fails(ERR.PIN_AUTH_INVALID):  # no cm permission
        CredentialManagement(ctap, PinProtocolV2(), pin_token(ctap, P.GET_ASSERTION)).get_metadata()
    bound = CredentialManagement(ctap, PinProtocolV2(), pin_token(ctap, P.CREDENTIAL_MGMT, "other.example"))
    with fails(ERR.PIN_AUTH_INVALID):  # bound to one RP: no overview of all
        bound.get_metadata()
    with fails(ERR.PIN_AUTH_INVALID):  # nor another RP's credentials
        bound.enumerate_creds(hashlib.sha256(b"example.com").digest())
    with fails(ERR.NOT_ALLOWED):
        bound.enumerate_rps_next()
    assert raw(key, Ctap2.CMD.CREDENTIAL_MGMT, {1: 1}) == ERR.PUAT_REQUIRED
    assert raw(key, Ctap2.CMD.CREDENTIAL_MGMT, {1: 0x33, 3: 2, 4: b"\0" * 32}) == ERR.INVALID_SUBCOMMAND
    assert raw(key, Ctap2.CMD.CREDENTIAL_MGMT_PRE, {1: 1}) == ERR.PUAT_REQUIRED  # the preview alias


# --- authenticatorBioEnrollment and built-in UV ----------------------------------------------------------------

def test_fingerprint_enrollment_and_management(key: SoftKey) -> None:
    ctap = with_pin(key)
    bio = FPBioEnrollment(ctap, PinProtocolV2(), pin_token(ctap, P.BIO_ENROLL, None))
    sensor = bio.get_fingerprint_sensor_info()
    assert sensor[FPBioEnrollment.RESULT.MAX_SAMPLES_REQUIRED] == 3
    assert bio.enumerate_enrollments() == {}
    key.finger = None
    with fails(ERR.USER_ACTION_TIMEOUT):
        bio.enroll().capture()
    key.finger = "right-index"
    context = bio.enroll()
    assert context.capture() is None and context.remaining == 2
    key.finger = "left-thumb"
    with pytest.raises(CaptureError) as merge:
        context.capture()
    assert merge.value.code == FPBioEnrollment.FEEDBACK.FP_MERGE_FAILURE
    key.finger = "right-index"
    assert context.capture() is None
    template_id = context.capture()
    assert template_id is not None
    assert bio.enumerate_enrollments() == {template_id: ""}
    with pytest.raises(CaptureError) as exists:
        bio.enroll().capture()
    assert exists.value.code == FPBioEnrollment.FEEDBACK.FP_EXISTS
    bio.set_name(template_id, "right index")
    assert bio.enumerate_enrollments() == {template_id: "right index"}
    assert Ctap2(key).info.options["uv"] is True and Ctap2(key).info.options["bioEnroll"] is True
    with fails(ERR.INVALID_PARAMETER):
        bio.remove_enrollment(b"\xff\xff")
    bio.remove_enrollment(template_id)
    assert Ctap2(key).info.options["uv"] is False
    with fails(ERR.PIN_AUTH_INVALID):  # be permission required
        FPBioEnrollment(ctap, PinProtocolV2(), pin_token(ctap, P.CREDENTIAL_MGMT, None)).enumerate_enrollments()


def test_built_in_uv_with_the_enrolled_finger(key: SoftKey) -> None:
    ctap = with_pin(key)
    fingerprint_enroll(ctap, key, "right-index")
    ctap = Ctap2(key)
    made = ctap.make_credential(os.urandom(32), RP, {"id": b"u", "name": "u"}, ES256_PARAMS,
                                options={"rk": True, "uv": True})
    assert made.auth_data.is_user_verified() and made.auth_data.is_user_present()
    found = ctap.get_assertion(RP["id"], os.urandom(32), options={"uv": True})
    assert found.auth_data.is_user_verified() and found.user == {"id": b"u", "name": "u"}
    pins = ClientPin(ctap, PinProtocolV2())
    key.finger = "left-thumb"
    with fails(ERR.OPERATION_DENIED):
        ctap.get_assertion(RP["id"], os.urandom(32), options={"uv": True})
    with fails(ERR.UV_INVALID):
        pins.get_uv_token(P.GET_ASSERTION, RP["id"])
    assert pins.get_uv_retries() == 6
    key.finger = None
    with fails(ERR.USER_ACTION_TIMEOUT):
        pins.get_uv_token(P.GET_ASSERTION, RP["id"])
    key.finger = "right-index"
    token = pins.get_uv_token(P.GET_ASSERTION, RP["id"])
    assert pins.get_uv_retries() == 8
    assert assertions(ctap, token=token)[0].auth_data.is_user_verified()
    with fails(ERR.UNAUTHORIZED_PERMISSION):  # be through UV needs uvBioEnroll
        pins.get_uv_token(P.BIO_ENROLL)


def test_uv_blocks_after_eight_wrong_fingers_and_a_pin_unblocks(key: SoftKey) -> None:
    ctap = with_pin(key)
    fingerprint_enroll(ctap, key, "right-index")
    pins = ClientPin(Ctap2(key), PinProtocolV2())
    key.finger = "nose"
    for _ in range(7):
        with fails(ERR.UV_INVALID):
            pins.get_uv_token(P.GET_ASSERTION, RP["id"])
    with fails(ERR.UV_BLOCKED):
        pins.get_uv_token(P.GET_ASSERTION, RP["id"])
    with fails(ERR.PIN_BLOCKED):  # §6.2.2 step 6.2 with uvRetries at 0
        ctap.get_assertion(RP["id"], os.urandom(32), options={"uv": True})
    pin_token(ctap, P.GET_ASSERTION)
    assert pins.get_uv_retries() == 8


def test_fido2_client_prefers_the_fingerprint(key: SoftKey) -> None:
    ctap = with_pin(key)
    fingerprint_enroll(ctap, key, "right-index")
    server, webauthn = server_for(key), client(key)  # no PIN to give: UV must come from the finger
    user = PublicKeyCredentialUserEntity(id=b"finger", name="erin", display_name="Erin")
    options, state = server.register_begin(user, resident_key_requirement="required", user_verification="required")
    auth_data = server.register_complete(state, webauthn.make_credential(options.public_key))
    assert auth_data.is_user_verified()
    request, state = server.authenticate_begin([auth_data.credential_data], user_verification="required")
    server.authenticate_complete(state, [auth_data.credential_data],
                                 webauthn.get_assertion(request.public_key).get_response(0))


# --- persistence --------------------------------------------------------------------------------------------

def test_state_file_carries_the_key_to_another_process(key: SoftKey, clock: Clock, tmp_path: Any) -> None:
    ctap = with_pin(key)
    made = register(ctap, b"u", "u", token=pin_token(ctap, P.MAKE_CREDENTIAL))
    fingerprint_enroll(ctap, key, "right-index")
    assertions(ctap, token=pin_token(ctap, P.GET_ASSERTION))
    path = tmp_path / "softkey.json"
    key.to_file(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600

    again = SoftKey.from_file(path, clock=clock, finger="right-index")
    assert again.state.attestation.root == key.state.attestation.root
    ctap = Ctap2(again)
    assert ctap.info.options["clientPin"] is True and ctap.info.options["uv"] is True
    found = ctap.get_assertion(RP["id"], os.urandom(32), options={"uv": True})
    assert found.credential["id"] == made.credential_id
    assert found.auth_data.counter == 2  # the counter went on
    with fails(ERR.PIN_INVALID):
        pin_token(ctap, P.GET_ASSERTION, pin="0000")


# --- malformed input ----------------------------------------------------------------------------------------

MC = Ctap2.CMD.MAKE_CREDENTIAL
GA = Ctap2.CMD.GET_ASSERTION
GOOD_MC = {1: b"\0" * 32, 2: RP, 3: {"id": b"u", "name": "u"}, 4: ES256_PARAMS}


def mc(**changes: Any) -> dict[int, Any]:
    params = dict(GOOD_MC)
    for name, value in changes.items():
        number = int(name.removeprefix("p"))
        if value is None:
            params.pop(number)
        else:
            params[number] = value
    return params


@pytest.mark.parametrize(("message", "expected"), [
    (b"", ERR.INVALID_LENGTH),
    (b"\x55", ERR.INVALID_COMMAND),
    (bytes([MC]) + b"\xa1\x01", ERR.INVALID_CBOR),  # truncated map
    (bytes([MC]) + b"\xa1\x01\x58\x20" + b"\0" * 8, ERR.INVALID_CBOR),  # truncated byte string
    (bytes([MC]) + b"\xa1\x01\xfb" + b"\0" * 8, ERR.INVALID_CBOR),  # a float
    (bytes([MC]) + b"\xa1\x01\xf6", ERR.INVALID_CBOR),  # null
    (bytes([MC]) + b"\xa1\x01\xc2\x41\x00", ERR.INVALID_CBOR),  # a tag
    (bytes([MC]) + b"\xbf\x01\x01\xff", ERR.INVALID_CBOR),  # indefinite-length map
    (bytes([MC]) + b"\xa2\x01\x01\x01\x02", ERR.INVALID_CBOR),  # a key twice
    (bytes([MC]) + b"\xa1\x01\x62\xc3\x28", ERR.INVALID_CBOR),  # text that is not UTF-8
    (bytes([MC]) + b"\xa0\x00", ERR.INVALID_CBOR),  # trailing bytes
    (bytes([MC]) + b"\x81\x01", ERR.CBOR_UNEXPECTED_TYPE),  # an array, not a map
    (bytes([Ctap2.CMD.GET_INFO]) + b"\xa0\x00", ERR.INVALID_CBOR),
    (bytes([Ctap2.CMD.GET_INFO]) + cbor.encode({1: 1}), ERR.INVALID_LENGTH),  # getInfo takes nothing
    (bytes([MC]) + cbor.encode({1: b"x" * 1300}), ERR.REQUEST_TOO_LARGE),
])
def test_malformed_messages(key: SoftKey, message: bytes, expected: ERR) -> None:
    assert key.call(CTAPHID.CBOR, message)[0] == expected


@pytest.mark.parametrize(("params", "expected"), [
    (mc(p1=None), ERR.MISSING_PARAMETER),
    (mc(p2=None), ERR.MISSING_PARAMETER),
    (mc(p1=b"\0" * 31), ERR.INVALID_LENGTH),
    (mc(p1="not bytes"), ERR.CBOR_UNEXPECTED_TYPE),
    (mc(p2="example.com"), ERR.CBOR_UNEXPECTED_TYPE),
    (mc(p2={"name": "no id"}), ERR.MISSING_PARAMETER),
    (mc(p3={"id": b"x" * 65}), ERR.INVALID_LENGTH),
    (mc(p3={"id": "text id"}), ERR.CBOR_UNEXPECTED_TYPE),
    (mc(p4=[{"type": "public-key", "alg": -257}, {"type": "public-key", "alg": -8}]),
     ERR.UNSUPPORTED_ALGORITHM),
    (mc(p4=[{"type": "public-key"}]), ERR.MISSING_PARAMETER),
    (mc(p4=[{"type": "public-key", "alg": "ES256"}]), ERR.CBOR_UNEXPECTED_TYPE),
    (mc(p4=[]), ERR.UNSUPPORTED_ALGORITHM),
    (mc(p5=[{"id": b"x"}]), ERR.MISSING_PARAMETER),
    (mc(p7={"up": False}), ERR.INVALID_OPTION),
    (mc(p7={"uv": True}), ERR.INVALID_OPTION),  # no built-in UV configured
    (mc(p7={"rk": "yes"}), ERR.CBOR_UNEXPECTED_TYPE),
    (mc(p8=b"\0" * 32), ERR.MISSING_PARAMETER),  # pinUvAuthParam without pinUvAuthProtocol
    (mc(p8=b"\0" * 32, p9=3), ERR.INVALID_PARAMETER),
    (mc(p8=b"\0" * 32, p9=2), ERR.PIN_AUTH_INVALID),  # no token was ever issued
    (mc(p8=b""), ERR.PIN_NOT_SET),
    (mc(p10=1), ERR.INVALID_PARAMETER),  # no enterprise attestation
])
def test_make_credential_refusals(key: SoftKey, params: dict[int, Any], expected: ERR) -> None:
    assert raw(key, MC, params) == expected
    assert key.credentials == []


@pytest.mark.parametrize(("params", "expected"), [
    ({2: b"\0" * 32}, ERR.MISSING_PARAMETER),
    ({1: RP["id"], 2: b"\0" * 33}, ERR.INVALID_LENGTH),
    ({1: RP["id"], 2: b"\0" * 32, 5: {"rk": True}}, ERR.UNSUPPORTED_OPTION),
    ({1: RP["id"], 2: b"\0" * 32, 5: {"uv": True}}, ERR.INVALID_OPTION),
    ({1: RP["id"], 2: b"\0" * 32, 3: {"type": "public-key"}}, ERR.CBOR_UNEXPECTED_TYPE),
    ({1: RP["id"], 2: b"\0" * 32}, ERR.NO_CREDENTIALS),
    ({1: RP["id"], 2: b"\0" * 32, 6: b"\0" * 32, 7: 2}, ERR.PIN_AUTH_INVALID),
])
def test_get_assertion_refusals(key: SoftKey, params: dict[int, Any], expected: ERR) -> None:
    assert raw(key, GA, params) == expected


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(command=st.sampled_from([*Ctap2.CMD, 0x00, 0x55]), payload=st.binary(max_size=200))
def test_any_bytes_get_a_status_byte_never_an_exception(key: SoftKey, command: int, payload: bytes) -> None:
    key.presence = never_touch  # nothing arbitrary input does may end in a new credential or a reset
    answer = key.call(CTAPHID.CBOR, bytes([command]) + payload)
    assert answer[0] == 0 or answer[0] in {code.value for code in ERR}
    assert key.credentials == []


CBOR_VALUES = st.recursive(
    st.integers(-(2**63), 2**63) | st.binary(max_size=40) | st.text(max_size=12) | st.booleans()
    | st.sampled_from(["public-key", "id", "name", "alg", "type", "up", "uv", "rk", -7, 2, b"\0" * 32]),
    lambda inner: st.lists(inner, max_size=4)
    | st.dictionaries(st.integers(-3, 12) | st.sampled_from(["id", "name", "type", "alg", "up", "uv", "rk"]),
                      inner, max_size=5),
    max_leaves=12)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(command=st.sampled_from(list(Ctap2.CMD)),
       params=st.dictionaries(st.integers(1, 12), CBOR_VALUES, max_size=8))
def test_any_well_formed_parameters_get_a_status_byte(key: SoftKey, command: int, params: dict[int, Any]) -> None:
    key.presence = never_touch
    answer = key.call(CTAPHID.CBOR, bytes([command]) + cbor.encode(params))
    assert answer[0] == 0 or answer[0] in {code.value for code in ERR}
    assert key.credentials == []


def test_set_pin_with_a_bad_mac(key: SoftKey) -> None:
    ctap, protocol = Ctap2(key), PinProtocolV2()
    platform_key, shared = protocol.encapsulate(ctap.client_pin(2, ClientPin.CMD.GET_KEY_AGREEMENT)[1])
    new_pin_enc = protocol.encrypt(shared, b"1234".ljust(64, b"\0"))
    params = {1: 2, 2: ClientPin.CMD.SET_PIN, 3: platform_key, 4: b"\0" * 32, 5: new_pin_enc}
    assert raw(key, Ctap2.CMD.CLIENT_PIN, params) == ERR.PIN_AUTH_INVALID
    assert raw(key, Ctap2.CMD.CLIENT_PIN, {1: 2, 2: ClientPin.CMD.SET_PIN, 3: platform_key}) == ERR.MISSING_PARAMETER
    assert Ctap2(key).info.options["clientPin"] is False


def test_the_soft_key_is_no_part_of_the_package() -> None:
    """A production install cannot switch the soft key on: nothing under passgate/ refers to it."""
    package = Path(__file__).resolve().parents[2] / "passgate"
    for source in package.rglob("*.py"):
        text = source.read_text(encoding="utf-8")
        assert "tests.devices" not in text and "SoftKey" not in text, source
