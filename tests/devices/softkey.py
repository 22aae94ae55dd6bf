"""A software CTAP 2.1 authenticator behind python-fido2's ``CtapDevice`` interface, for tests only.

    key = SoftKey(clock=clock, presence=always_touch)
    ctap = Ctap2(key)                                  # python-fido2's own client classes drive it
    ClientPin(ctap, PinProtocolV2()).set_pin("1234")

It answers CTAPHID_CBOR with the commands of CTAP 2.1 (Proposed Standard, 2021-06-15), each handler citing the
section it follows: authenticatorGetInfo (§6.4), authenticatorMakeCredential (§6.1), authenticatorGetAssertion
and authenticatorGetNextAssertion (§6.2, §6.3), authenticatorClientPIN with PIN/UV auth protocols two and one
(§6.5), authenticatorReset (§6.6), authenticatorBioEnrollment (§6.7) and authenticatorCredentialManagement
(§6.8) in ``tests.devices.management``, authenticatorSelection (§6.9). CTAPHID_PING echoes, CTAPHID_WINK counts.

What the test controls:
- ``presence``: the user's answer to each request for user presence (``always_touch``, ``never_touch``, which
  lets the request time out, ``decline``, or any callable taking a ``PresenceRequest``);
- ``finger``: the finger on the sensor (a label; None for no finger), for enrollment and built-in UV;
- ``clock``: seconds, monotonic (the 10 s reset window, token lifetimes, the getNextAssertion timer);
- ``power_cycle()``: unplug and plug in again;
- ``to_file``/``from_file``: the persistent state as a 0600 JSON file, for another process.

Timeouts of user presence during makeCredential/getAssertion end in CTAP2_ERR_OPERATION_DENIED, as §6.1.2
step 14 and §6.2.2 step 9 say ("If the user declines permission, or the operation times out"); reset and
selection answer CTAP2_ERR_USER_ACTION_TIMEOUT (§6.6, §6.9), as do built-in UV and fingerprint capture.
"""

from __future__ import annotations

import enum
import hashlib
import os
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, replace
from threading import Event
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from fido2 import cbor
from fido2.cose import ES256
from fido2.ctap import STATUS, CtapDevice, CtapError
from fido2.hid import CAPABILITY, CTAPHID

from tests.devices.attestation import AttestationIdentity
from tests.devices.ctap_cbor import (
    choose_algorithm,
    client_data_hash,
    get,
    need,
    parse_descriptors,
    parse_options,
    parse_rp,
    parse_user,
    request_parameters,
    uint32,
)
from tests.devices.keystate import (
    CRED_PROTECT_OPTIONAL,
    MAX_RESIDENT_CREDENTIALS,
    PIN_RETRIES_MAX,
    UV_RETRIES_MAX,
    Credential,
    KeyState,
)
from tests.devices.management import BioEnrollmentCommand, CredentialManagementCommand
from tests.devices.pin_uv import ProtocolOne, ProtocolTwo
from tests.devices.volatile import Continuation, PinUvAuthToken

ERR = CtapError.ERR
DEFAULT_AAGUID = bytes.fromhex("5067a5e0c0de4d5a9a1e50f7c0ffee01")

MAX_MSG_SIZE = 1200
MAX_CREDS_IN_LIST = 8
CREDENTIAL_ID_LENGTH = 48
MIN_PIN_LENGTH = 4
MAX_PIN_BYTES = 63
PADDED_PIN_LENGTH = 64
FIRMWARE_VERSION = 0x020100
RESET_WINDOW = 10.0  # §6.6: reset only within 10 seconds of power-up
NEXT_ASSERTION_WINDOW = 30.0  # §6.3: the getNextAssertion timer
TOKEN_LIFETIME = 600.0  # §6.5.2.1 maxUsageTimePeriod
USER_PRESENT_WINDOW = 30.0  # §6.5.2.1 userPresentTimeLimit
CONSECUTIVE_PIN_FAILURES_MAX = 3  # §6.5.5.5: then a power cycle is needed

FLAG_UP, FLAG_UV, FLAG_AT, FLAG_ED = 0x01, 0x04, 0x40, 0x80

# pinUvAuthToken permissions, §6.5.5.7
PERM_MC, PERM_GA, PERM_CM, PERM_BE, PERM_LBW = 0x01, 0x02, 0x04, 0x08, 0x10
SUPPORTED_PERMISSIONS = PERM_MC | PERM_GA | PERM_CM | PERM_BE


class Cmd(enum.IntEnum):
    """authenticatorAPI command bytes, CTAP 2.1 §6."""

    MAKE_CREDENTIAL = 0x01
    GET_ASSERTION = 0x02
    GET_INFO = 0x04
    CLIENT_PIN = 0x06
    RESET = 0x07
    GET_NEXT_ASSERTION = 0x08
    BIO_ENROLLMENT = 0x09
    CREDENTIAL_MANAGEMENT = 0x0A
    SELECTION = 0x0B
    BIO_ENROLLMENT_PREVIEW = 0x40
    CREDENTIAL_MANAGEMENT_PREVIEW = 0x41


class Presence(enum.Enum):
    TOUCH = "touch"
    DECLINE = "decline"
    TIMEOUT = "timeout"


@dataclass(frozen=True)
class PresenceRequest:
    """What the key asks the user to touch for: the command's name and the RP, if any."""

    command: str
    rp_id: str | None


PresencePolicy = Callable[[PresenceRequest], Presence]


def always_touch(_: PresenceRequest) -> Presence:
    return Presence.TOUCH


def never_touch(_: PresenceRequest) -> Presence:
    return Presence.TIMEOUT


def decline(_: PresenceRequest) -> Presence:
    return Presence.DECLINE


class UvOutcome(enum.Enum):
    MATCH = "match"
    NO_MATCH = "no match"
    TIMEOUT = "timeout"


def authenticator_data(rp_id_hash: bytes, flags: int, counter: int, attested: bytes = b"",
                       extensions: Mapping[str, Any] | None = None) -> bytes:
    """WebAuthn §6.1 authenticator data: rpIdHash, flags, signCount, then attested credential data, extensions."""
    if extensions:
        flags |= FLAG_ED
    data = rp_id_hash + bytes([flags]) + uint32(counter) + attested
    return data + (cbor.encode(dict(extensions)) if extensions else b"")


def sign(key: ec.EllipticCurvePrivateKey, data: bytes) -> bytes:
    return key.sign(data, ec.ECDSA(hashes.SHA256()))


class SoftKey(CtapDevice):
    """A CTAP 2.1 security key in memory (see the module docstring)."""

    def __init__(self, *, aaguid: bytes = DEFAULT_AAGUID, state: KeyState | None = None,
                 clock: Callable[[], float] = time.monotonic, presence: PresencePolicy = always_touch,
                 finger: str | None = None, serial: str = "SOFTKEY-0001") -> None:
        self.state = state or KeyState(aaguid=aaguid, attestation=AttestationIdentity.generate(aaguid))
        self.clock = clock
        self.presence = presence
        self.finger = finger
        self.serial = serial
        self.presence_requests: list[PresenceRequest] = []
        self.winks = 0
        self._protocols: dict[int, ProtocolOne] = {2: ProtocolTwo(), 1: ProtocolOne()}
        self._event: Event | None = None
        self._on_keepalive: Callable[[STATUS], None] | None = None
        self._credential_management = CredentialManagementCommand(self)
        self._bio_enrollment = BioEnrollmentCommand(self)
        self._handlers: dict[int, Callable[[dict[int, Any], Continuation | None], dict[int, Any] | None]] = {
            Cmd.MAKE_CREDENTIAL: self._make_credential,
            Cmd.GET_ASSERTION: self._get_assertion,
            Cmd.GET_INFO: self._get_info,
            Cmd.CLIENT_PIN: self._client_pin,
            Cmd.RESET: self._reset,
            Cmd.GET_NEXT_ASSERTION: self._get_next_assertion,
            Cmd.BIO_ENROLLMENT: self._bio_enrollment,
            Cmd.BIO_ENROLLMENT_PREVIEW: self._bio_enrollment,
            Cmd.CREDENTIAL_MANAGEMENT: self._credential_management,
            Cmd.CREDENTIAL_MANAGEMENT_PREVIEW: self._credential_management,
            Cmd.SELECTION: self._selection,
        }
        self._power_up()

    # --- the CtapDevice interface -------------------------------------------------------------------------

    @property
    def capabilities(self) -> int:
        return CAPABILITY.CBOR | CAPABILITY.WINK | CAPABILITY.NMSG

    @property
    def product_name(self) -> str:
        return "Passgate Softkey"

    @property
    def serial_number(self) -> str:
        return self.serial

    def call(self, cmd: int, data: bytes = b"", event: Event | None = None,
             on_keepalive: Callable[[STATUS], None] | None = None) -> bytes:
        """CTAPHID (§11.2.9): PING echoes, WINK blinks, CBOR runs an authenticatorAPI command; others are
        refused like a HID key's ERROR reply (CTAP1_ERR_INVALID_COMMAND)."""
        if cmd == CTAPHID.PING:
            return bytes(data)
        if cmd == CTAPHID.WINK:
            self.winks += 1
            return b""
        if cmd != CTAPHID.CBOR:
            raise CtapError(ERR.INVALID_COMMAND)
        self._event, self._on_keepalive = event, on_keepalive
        try:
            return self._cbor(bytes(data))
        finally:
            self._event, self._on_keepalive = None, None

    def close(self) -> None:
        """Nothing to release."""

    @classmethod
    def list_devices(cls) -> Iterator[CtapDevice]:
        """A soft key is never discovered: tests make one."""
        return iter(())

    # --- what the test does to the key --------------------------------------------------------------------

    def power_cycle(self) -> None:
        """Unplug and plug in: volatile state goes (§6.5.4 initialize at power-up), persistent state stays."""
        self._power_up()

    def to_file(self, path: str | os.PathLike[str]) -> None:
        self.state.write(path)

    @classmethod
    def from_file(cls, path: str | os.PathLike[str], **kwargs: Any) -> SoftKey:
        """The key saved at ``path``, just plugged in (``kwargs`` as for the constructor)."""
        return cls(state=KeyState.read(path), **kwargs)

    @property
    def credentials(self) -> list[Credential]:
        return list(self.state.credentials)

    def _power_up(self) -> None:
        self.powered_at = self.clock()
        for protocol in self._protocols.values():
            protocol.regenerate()
        self.token: PinUvAuthToken | None = None
        self.consecutive_pin_failures = 0
        self.continuation: Continuation | None = None
        self._bio_enrollment.cancel()

    # --- dispatch -----------------------------------------------------------------------------------------

    def _cbor(self, data: bytes) -> bytes:
        """One CTAPHID_CBOR message: a command byte and its CBOR parameters (§8.1); status byte + CBOR back."""
        if not data:
            return bytes([ERR.INVALID_LENGTH])
        if len(data) > MAX_MSG_SIZE:
            return bytes([ERR.REQUEST_TOO_LARGE])
        handler = self._handlers.get(data[0])
        previous, self.continuation = self.continuation, None
        if handler is None:
            return bytes([ERR.INVALID_COMMAND])
        try:
            result = handler(request_parameters(data[1:]), previous)
        except CtapError as error:
            return bytes([error.code])
        return b"\x00" + (cbor.encode(result) if result else b"")

    @staticmethod
    def _no_parameters(params: Mapping[int, Any]) -> None:
        if params:
            raise CtapError(ERR.INVALID_LENGTH)

    # --- the user ----------------------------------------------------------------------------------------

    def keepalive(self, status: STATUS) -> None:
        if self._event is not None and self._event.is_set():
            raise CtapError(ERR.KEEPALIVE_CANCEL)
        if self._on_keepalive is not None:
            self._on_keepalive(status)

    def ask_presence(self, command: str, rp_id: str | None) -> Presence:
        """Request evidence of user interaction (the test's ``presence`` policy answers)."""
        self.keepalive(STATUS.UPNEEDED)
        request = PresenceRequest(command, rp_id)
        self.presence_requests.append(request)
        answer = self.presence(request)
        self.keepalive(STATUS.PROCESSING)
        return answer

    def require_presence(self, command: str, rp_id: str | None, *, on_timeout: ERR) -> None:
        """User presence or an error: OPERATION_DENIED when declined, ``on_timeout`` when nobody touched."""
        answer = self.ask_presence(command, rp_id)
        if answer is Presence.DECLINE:
            raise CtapError(ERR.OPERATION_DENIED)
        if answer is Presence.TIMEOUT:
            raise CtapError(on_timeout)

    @property
    def uv_enabled(self) -> bool:
        """Built-in UV is configured once a fingerprint is enrolled."""
        return bool(self.state.fingerprints)

    @property
    def pin_set(self) -> bool:
        return self.state.pin_hash is not None

    @property
    def protected(self) -> bool:
        """§6.1.2: "protected by some form of user verification": a PIN set or built-in UV configured."""
        return self.pin_set or self.uv_enabled

    def perform_builtin_uv(self) -> UvOutcome:
        """§6.5.3 performBuiltInUv(): the presented finger against the enrolled templates; uvRetries counted."""
        self.keepalive(STATUS.UPNEEDED)
        if self.finger is None:
            return UvOutcome.TIMEOUT
        if any(template.finger == self.finger for template in self.state.fingerprints):
            self.state.uv_retries = UV_RETRIES_MAX
            return UvOutcome.MATCH
        self.state.uv_retries = max(0, self.state.uv_retries - 1)
        return UvOutcome.NO_MATCH

    def _builtin_uv_for_operation(self) -> None:
        """§6.1.2 step 11.2 / §6.2.2 step 6.2: built-in UV with its errors."""
        if self.state.uv_retries == 0:
            raise CtapError(ERR.PIN_BLOCKED)
        outcome = self.perform_builtin_uv()
        if outcome is UvOutcome.TIMEOUT:
            raise CtapError(ERR.USER_ACTION_TIMEOUT)
        if outcome is UvOutcome.NO_MATCH:
            raise CtapError(ERR.PIN_BLOCKED if self.state.uv_retries == 0 else ERR.OPERATION_DENIED)

    # --- pinUvAuthToken ----------------------------------------------------------------------------------

    def protocol(self, version: int | None) -> ProtocolOne:
        """The PIN/UV auth protocol asked for: MISSING_PARAMETER if absent, INVALID_PARAMETER if unsupported."""
        if version is None:
            raise CtapError(ERR.MISSING_PARAMETER)
        if version not in self._protocols:
            raise CtapError(ERR.INVALID_PARAMETER)
        return self._protocols[version]

    def token_for(self, protocol: ProtocolOne, message: bytes, pin_uv_auth_param: bytes) -> PinUvAuthToken:
        """§6.5.5.7 verify(pinUvAuthToken, message, pinUvAuthParam): the live token, or PIN_AUTH_INVALID."""
        token = self.token
        if token is None or token.protocol != protocol.version:
            raise CtapError(ERR.PIN_AUTH_INVALID)
        if self.clock() - token.issued_at > TOKEN_LIFETIME:
            self.token = None
            raise CtapError(ERR.PIN_AUTH_INVALID)
        if not protocol.verify(token.value, message, pin_uv_auth_param):
            raise CtapError(ERR.PIN_AUTH_INVALID)
        return token

    @staticmethod
    def authorize(token: PinUvAuthToken, permission: int, rp_id: str | None) -> None:
        """The token's permission, its user-verified flag and its RP binding (binding it if unbound)."""
        if not token.permissions & permission or not token.user_verified:
            raise CtapError(ERR.PIN_AUTH_INVALID)
        if rp_id is not None:
            if token.rp_id is not None and token.rp_id != rp_id:
                raise CtapError(ERR.PIN_AUTH_INVALID)
            token.rp_id = rp_id

    def _token_user_present(self) -> bool:
        """§6.5.2.1 getUserPresentFlagValue(), expiring userPresentTimeLimit after issuance."""
        token = self.token
        return bool(token and token.user_present and self.clock() - token.issued_at <= USER_PRESENT_WINDOW)

    def _clear_token_after_presence(self) -> None:
        """clearUserPresentFlag(), clearUserVerifiedFlag(), clearPinUvAuthTokenPermissionsExceptLbw()."""
        if self.token is not None:
            self.token.user_present = self.token.user_verified = False
            self.token.permissions &= PERM_LBW

    def _issue_token(self, protocol: ProtocolOne, permissions: int, rp_id: str | None, *,
                     user_present: bool) -> PinUvAuthToken:
        """resetPinUvAuthToken() then beginUsingPinUvAuthToken(userIsPresent) (§6.5.2.1): one live token."""
        self.token = PinUvAuthToken(protocol=protocol.version, value=os.urandom(32), permissions=permissions,
                                    rp_id=rp_id, issued_at=self.clock(), user_present=user_present)
        return self.token

    def _zero_length_pin_param(self, pin_uv_auth_param: bytes | None, command: str, rp_id: str) -> None:
        """§6.1.2 / §6.2.2 step 1: an empty pinUvAuthParam asks for a touch, then PIN_NOT_SET or PIN_INVALID."""
        if pin_uv_auth_param is None or pin_uv_auth_param:
            return
        self.require_presence(command, rp_id, on_timeout=ERR.OPERATION_DENIED)
        raise CtapError(ERR.PIN_INVALID if self.pin_set else ERR.PIN_NOT_SET)

    def _verify_user(self, protocol: ProtocolOne | None, pin_uv_auth_param: bytes | None, message: bytes, *,
                     permission: int, rp_id: str, uv: bool) -> tuple[bool, bool]:
        """§6.1.2 step 11 / §6.2.2 step 6: (user present, user verified) after the pinUvAuthParam or built-in UV."""
        if protocol is not None and pin_uv_auth_param is not None:
            token = self.token_for(protocol, message, pin_uv_auth_param)
            self.authorize(token, permission, rp_id)
            return False, True
        if uv:
            self._builtin_uv_for_operation()
            return True, True
        return False, False

    def _collect_presence(self, already_present: bool, with_token: bool, command: str, rp_id: str) -> None:
        """§6.1.2 step 14 / §6.2.2 step 9: a touch unless the token or built-in UV already proved presence."""
        needed = not self._token_user_present() if with_token else not already_present
        if needed:
            self.require_presence(command, rp_id, on_timeout=ERR.OPERATION_DENIED)
        self._clear_token_after_presence()

    # --- authenticatorGetInfo (§6.4) -----------------------------------------------------------------------

    def info_options(self) -> dict[str, bool]:
        """§6.4 options: clientPin/uv/bioEnroll present (supported) and true once configured."""
        return {"rk": True, "up": True, "plat": False, "clientPin": self.pin_set, "uv": self.uv_enabled,
                "bioEnroll": self.uv_enabled, "credMgmt": True, "pinUvAuthToken": True}

    def resident_count(self) -> int:
        return sum(1 for credential in self.state.credentials if credential.discoverable)

    def _get_info(self, params: dict[int, Any], _: Continuation | None) -> dict[int, Any]:
        """authenticatorGetInfo (§6.4): versions, extensions, AAGUID, options and limits."""
        self._no_parameters(params)
        return {
            0x01: ["FIDO_2_0", "FIDO_2_1"],
            0x02: ["credProtect"],
            0x03: self.state.aaguid,
            0x04: self.info_options(),
            0x05: MAX_MSG_SIZE,
            0x06: [2, 1],
            0x07: MAX_CREDS_IN_LIST,
            0x08: CREDENTIAL_ID_LENGTH,
            0x09: ["usb"],
            0x0A: [{"alg": ES256.ALGORITHM, "type": "public-key"}],
            0x0C: False,
            0x0D: MIN_PIN_LENGTH,
            0x0E: FIRMWARE_VERSION,
            0x11: 3,  # preferredPlatformUvAttempts
            0x12: 0x02,  # uvModality: USER_VERIFY_FINGERPRINT_INTERNAL
            0x14: MAX_RESIDENT_CREDENTIALS - self.resident_count(),
        }

    # --- authenticatorMakeCredential (§6.1) ---------------------------------------------------------------

    def _make_credential(self, params: dict[int, Any], _: Continuation | None) -> dict[int, Any]:
        """authenticatorMakeCredential (§6.1.2), step by step; packed attestation (§6.1.2 step 19)."""
        data_hash = client_data_hash(params, 0x01)
        rp, user = parse_rp(need(params, 0x02, dict)), parse_user(need(params, 0x03, dict))
        key_params = need(params, 0x04, list)
        exclude = parse_descriptors(get(params, 0x05, list))
        extensions = get(params, 0x06, dict) or {}
        options = parse_options(get(params, 0x07, dict))
        pin_uv_auth_param, version = get(params, 0x08, bytes), get(params, 0x09, int)
        enterprise = get(params, 0x0A, int)

        self._zero_length_pin_param(pin_uv_auth_param, "makeCredential", rp["id"])  # step 1
        protocol = self.protocol(version) if pin_uv_auth_param is not None else None  # step 2
        choose_algorithm(key_params)  # step 3
        uv, rk = self._make_credential_options(options, pin_uv_auth_param)  # step 5
        if self.protected and pin_uv_auth_param is None and not uv:  # step 8 (makeCredUvNotRqd absent)
            raise CtapError(ERR.PUAT_REQUIRED if self.pin_set else ERR.OPERATION_DENIED)
        if enterprise is not None:  # step 9: no enterprise attestation
            raise CtapError(ERR.INVALID_PARAMETER)
        up_flag, uv_flag = self._verify_user(protocol, pin_uv_auth_param, data_hash, permission=PERM_MC,
                                            rp_id=rp["id"], uv=uv)  # step 11
        self._check_exclude_list(exclude, rp["id"], uv_flag)  # step 12
        self._collect_presence(up_flag, pin_uv_auth_param is not None, "makeCredential", rp["id"])  # 13-14
        cred_protect = extensions.get("credProtect")
        level = cred_protect if cred_protect in (1, 2, 3) else CRED_PROTECT_OPTIONAL  # step 15
        credential = self._store_credential(rp, user, rk, level)  # steps 16-17
        outputs = {"credProtect": level} if cred_protect in (1, 2, 3) else {}
        flags = FLAG_UP | FLAG_AT | (FLAG_UV if uv_flag else 0)
        return self._attestation(credential, data_hash, flags, outputs)

    def _make_credential_options(self, options: Mapping[str, bool], pin_uv_auth_param: bytes | None
                                 ) -> tuple[bool, bool]:
        """§6.1.2 step 5: (uv, rk); uv without configured built-in UV and up=false are INVALID_OPTION."""
        uv = options.get("uv", False) and pin_uv_auth_param is None
        if uv and not self.uv_enabled:
            raise CtapError(ERR.INVALID_OPTION)
        if options.get("up") is False:
            raise CtapError(ERR.INVALID_OPTION)
        return uv, options.get("rk", False)

    def find_credential(self, credential_id: bytes) -> Credential | None:
        return next((c for c in self.state.credentials if c.credential_id == credential_id), None)

    def _check_exclude_list(self, exclude: list[bytes], rp_id: str, uv_flag: bool) -> None:
        """§6.1.2 step 12: a listed credential of this RP (visible unless credProtect 3 without UV) is excluded,
        after a touch whatever its outcome."""
        for credential_id in exclude:
            credential = self.find_credential(credential_id)
            if credential is None or credential.rp_id != rp_id:
                continue
            if credential.cred_protect == 3 and not uv_flag:
                continue
            if not self._token_user_present():
                self.ask_presence("makeCredential", rp_id)
            raise CtapError(ERR.CREDENTIAL_EXCLUDED)

    def _store_credential(self, rp: dict[str, Any], user: dict[str, Any], discoverable: bool,
                          cred_protect: int) -> Credential:
        """A new ES256 credential; a discoverable one replaces the RP's credential for the same user id."""
        credentials = self.state.credentials
        if discoverable:
            credentials[:] = [c for c in credentials
                              if not (c.discoverable and c.rp_id == rp["id"] and c.user["id"] == user["id"])]
            if self.resident_count() >= MAX_RESIDENT_CREDENTIALS:
                raise CtapError(ERR.KEY_STORE_FULL)
        credential = Credential(credential_id=os.urandom(CREDENTIAL_ID_LENGTH), rp=rp, user=user,
                                private_key=ec.generate_private_key(ec.SECP256R1()), discoverable=discoverable,
                                cred_protect=cred_protect, sign_count=0, created=self.state.next_sequence())
        credentials.append(credential)
        return credential

    def _attestation(self, credential: Credential, data_hash: bytes, flags: int,
                     extensions: Mapping[str, Any]) -> dict[int, Any]:
        """The attestation object's members (§6.1.2 step 19): fmt "packed" with the batch certificate."""
        credential_id = credential.credential_id
        attested = (self.state.aaguid + len(credential_id).to_bytes(2, "big") + credential_id
                    + cbor.encode(credential.cose_public_key()))
        auth_data = authenticator_data(credential.rp_id_hash, flags, credential.sign_count, attested, extensions)
        signature = self.state.attestation.sign(auth_data + data_hash)
        statement = {"alg": ES256.ALGORITHM, "sig": signature, "x5c": self.state.attestation.x5c()}
        return {0x01: "packed", 0x02: auth_data, 0x03: statement}

    # --- authenticatorGetAssertion / authenticatorGetNextAssertion (§6.2, §6.3) -----------------------------

    def _get_assertion(self, params: dict[int, Any], _: Continuation | None) -> dict[int, Any]:
        """authenticatorGetAssertion (§6.2.2); several discoverable credentials start a getNextAssertion walk."""
        rp_id = need(params, 0x01, str)
        data_hash = client_data_hash(params, 0x02)
        allow = parse_descriptors(get(params, 0x03, list))
        get(params, 0x04, dict)  # extensions: none supported on assertions
        options = parse_options(get(params, 0x05, dict))
        pin_uv_auth_param, version = get(params, 0x06, bytes), get(params, 0x07, int)

        self._zero_length_pin_param(pin_uv_auth_param, "getAssertion", rp_id)  # step 1
        protocol = self.protocol(version) if pin_uv_auth_param is not None else None  # step 2
        up, uv = self._get_assertion_options(options, pin_uv_auth_param)  # step 4
        up_flag, uv_flag = self._verify_user(protocol, pin_uv_auth_param, data_hash, permission=PERM_GA,
                                            rp_id=rp_id, uv=uv)  # step 6
        credentials = self._applicable_credentials(rp_id, allow, uv_flag)  # step 7
        if up:  # step 9
            self._collect_presence(up_flag, pin_uv_auth_param is not None, "getAssertion", rp_id)
            up_flag = True
        flags = (FLAG_UP if up_flag else 0) | (FLAG_UV if uv_flag else 0)
        chosen = credentials[:1] if allow else credentials  # step 11
        response = self._assertion(chosen[0], data_hash, flags, uv_flag)
        if len(chosen) > 1:  # step 12
            response[0x05] = len(chosen)
            self.continuation = Continuation("getNextAssertion", tuple(chosen[1:]),
                                             self.clock() + NEXT_ASSERTION_WINDOW, data_hash, flags, uv_flag)
        return response

    def _get_assertion_options(self, options: Mapping[str, bool], pin_uv_auth_param: bytes | None
                               ) -> tuple[bool, bool]:
        """§6.2.2 step 4: (up, uv); "rk" is UNSUPPORTED_OPTION, uv without built-in UV is INVALID_OPTION."""
        if "rk" in options:
            raise CtapError(ERR.UNSUPPORTED_OPTION)
        uv = options.get("uv", False) and pin_uv_auth_param is None
        if uv and not self.uv_enabled:
            raise CtapError(ERR.INVALID_OPTION)
        return options.get("up", True), uv

    def _applicable_credentials(self, rp_id: str, allow: list[bytes], uv_flag: bool) -> list[Credential]:
        """§6.2.2 step 7 with credProtect (§12.1): the allowList's credentials of this RP, or its discoverable
        credentials newest first; NO_CREDENTIALS when none is left."""
        if allow:
            found = [self.find_credential(credential_id) for credential_id in allow]
            credentials = [c for c in found if c is not None and c.rp_id == rp_id]
        else:
            credentials = sorted((c for c in self.state.credentials if c.discoverable and c.rp_id == rp_id),
                                 key=lambda c: c.created, reverse=True)
        visible = [c for c in credentials
                   if uv_flag or c.cred_protect == 1 or (c.cred_protect == 2 and allow)]
        if not visible:
            raise CtapError(ERR.NO_CREDENTIALS)
        return visible

    def _assertion(self, credential: Credential, data_hash: bytes, flags: int, uv_flag: bool) -> dict[int, Any]:
        """One assertion (§6.2.2 step 13): the counter moves on, then authData || clientDataHash is signed.
        A discoverable credential's user entity comes back, with name and displayName only after UV."""
        credential.sign_count += 1
        auth_data = authenticator_data(credential.rp_id_hash, flags, credential.sign_count)
        response: dict[int, Any] = {
            0x01: {"id": credential.credential_id, "type": "public-key"},
            0x02: auth_data,
            0x03: sign(credential.private_key, auth_data + data_hash),
        }
        if credential.discoverable:
            response[0x04] = dict(credential.user) if uv_flag else {"id": credential.user["id"]}
        return response

    def _get_next_assertion(self, params: dict[int, Any], previous: Continuation | None) -> dict[int, Any]:
        """authenticatorGetNextAssertion (§6.3): the next credential of the walk, only right after
        getAssertion/getNextAssertion and within 30 s; NOT_ALLOWED otherwise."""
        self._no_parameters(params)
        if previous is None or previous.kind != "getNextAssertion" or self.clock() > previous.deadline:
            raise CtapError(ERR.NOT_ALLOWED)
        credential, rest = previous.items[0], previous.items[1:]
        response = self._assertion(credential, previous.client_data_hash, previous.flags, previous.user_verified)
        if rest:
            self.continuation = replace(previous, items=rest, deadline=self.clock() + NEXT_ASSERTION_WINDOW)
        return response

    # --- authenticatorClientPIN (§6.5) -------------------------------------------------------------------

    def _client_pin(self, params: dict[int, Any], _: Continuation | None) -> dict[int, Any] | None:
        """authenticatorClientPIN (§6.5.5): one handler per subCommand."""
        sub_command = need(params, 0x02, int)
        handlers: dict[int, Callable[[dict[int, Any]], dict[int, Any] | None]] = {
            0x01: self._get_pin_retries, 0x02: self._get_key_agreement, 0x03: self._set_pin,
            0x04: self._change_pin, 0x05: self._get_pin_token, 0x06: self._get_token_using_uv,
            0x07: self._get_uv_retries, 0x09: self._get_token_using_pin,
        }
        if sub_command not in handlers:
            raise CtapError(ERR.INVALID_SUBCOMMAND)
        return handlers[sub_command](params)

    def _get_pin_retries(self, _: dict[int, Any]) -> dict[int, Any]:
        """getPINRetries (§6.5.5.2): pinRetries and whether a power cycle is needed before the next try."""
        return {0x03: self.state.pin_retries,
                0x04: self.consecutive_pin_failures >= CONSECUTIVE_PIN_FAILURES_MAX}

    def _get_uv_retries(self, _: dict[int, Any]) -> dict[int, Any]:
        """getUVRetries (§6.5.5.9)."""
        return {0x05: self.state.uv_retries}

    def _get_key_agreement(self, params: dict[int, Any]) -> dict[int, Any]:
        """getKeyAgreement (§6.5.5.3): the protocol's key agreement public key."""
        return {0x01: self.protocol(get(params, 0x01, int)).public_cose()}

    def _shared_secret(self, params: dict[int, Any], *required: int) -> tuple[ProtocolOne, bytes]:
        """The protocol, after checking ``required`` parameters are there, and the decapsulated secret."""
        protocol = self.protocol(get(params, 0x01, int))
        kinds = {0x03: dict, 0x04: bytes, 0x05: bytes, 0x06: bytes, 0x09: int}
        for key in required:
            need(params, key, kinds[key])
        return protocol, protocol.decapsulate(params[0x03])

    def _new_pin(self, protocol: ProtocolOne, shared: bytes, new_pin_enc: bytes) -> bytes:
        """§6.5.5.5/6: decrypt newPinEnc (64 padded bytes, else INVALID_PARAMETER), strip the padding, and hold
        the PIN to the policy (4 to 63 bytes of UTF-8, at least 4 code points, else PIN_POLICY_VIOLATION)."""
        padded = protocol.decrypt(shared, new_pin_enc)
        if len(padded) != PADDED_PIN_LENGTH:
            raise CtapError(ERR.INVALID_PARAMETER)
        pin = padded.rstrip(b"\x00")
        try:
            code_points = len(pin.decode("utf-8"))
        except UnicodeDecodeError:
            raise CtapError(ERR.PIN_POLICY_VIOLATION) from None
        if code_points < MIN_PIN_LENGTH or len(pin) > MAX_PIN_BYTES:
            raise CtapError(ERR.PIN_POLICY_VIOLATION)
        return pin

    def _set_pin(self, params: dict[int, Any]) -> None:
        """setPIN (§6.5.5.5): only while no PIN is set; pinUvAuthParam = authenticate(secret, newPinEnc)."""
        protocol, shared = self._shared_secret(params, 0x03, 0x04, 0x05)
        if self.pin_set:
            raise CtapError(ERR.NOT_ALLOWED)
        if not protocol.verify(shared, params[0x05], params[0x04]):
            raise CtapError(ERR.PIN_AUTH_INVALID)
        pin = self._new_pin(protocol, shared, params[0x05])
        self.state.pin_hash = hashlib.sha256(pin).digest()[:16]
        self.state.pin_retries = PIN_RETRIES_MAX

    def _pin_usable(self) -> None:
        """PIN_NOT_SET, PIN_BLOCKED (pinRetries 0) or PIN_AUTH_BLOCKED (3 wrong since power-up) refuse a try."""
        if not self.pin_set:
            raise CtapError(ERR.PIN_NOT_SET)
        if self.state.pin_retries == 0:
            raise CtapError(ERR.PIN_BLOCKED)
        if self.consecutive_pin_failures >= CONSECUTIVE_PIN_FAILURES_MAX:
            raise CtapError(ERR.PIN_AUTH_BLOCKED)

    def _check_pin_hash(self, protocol: ProtocolOne, shared: bytes, pin_hash_enc: bytes) -> None:
        """§6.5.5.5 verifying pinHashEnc: pinRetries goes down first; a wrong PIN regenerates the key agreement
        key and answers PIN_BLOCKED at 0, PIN_AUTH_BLOCKED at 3 in a row, PIN_INVALID otherwise; a right PIN
        restores pinRetries (and uvRetries)."""
        self.state.pin_retries -= 1
        pin_hash = protocol.decrypt(shared, pin_hash_enc)
        if len(pin_hash) != 16 or pin_hash != self.state.pin_hash:
            protocol.regenerate()
            self.consecutive_pin_failures += 1
            if self.state.pin_retries == 0:
                raise CtapError(ERR.PIN_BLOCKED)
            if self.consecutive_pin_failures >= CONSECUTIVE_PIN_FAILURES_MAX:
                raise CtapError(ERR.PIN_AUTH_BLOCKED)
            raise CtapError(ERR.PIN_INVALID)
        self.consecutive_pin_failures = 0
        self.state.pin_retries = PIN_RETRIES_MAX
        self.state.uv_retries = UV_RETRIES_MAX

    def _change_pin(self, params: dict[int, Any]) -> None:
        """changePIN (§6.5.5.6): pinUvAuthParam = authenticate(secret, newPinEnc || pinHashEnc); the current PIN
        is checked like any PIN try; every token dies."""
        protocol = self.protocol(get(params, 0x01, int))
        for key, kind in ((0x03, dict), (0x04, bytes), (0x05, bytes), (0x06, bytes)):
            need(params, key, kind)
        self._pin_usable()
        shared = protocol.decapsulate(params[0x03])
        if not protocol.verify(shared, params[0x05] + params[0x06], params[0x04]):
            raise CtapError(ERR.PIN_AUTH_INVALID)
        self._check_pin_hash(protocol, shared, params[0x06])
        pin = self._new_pin(protocol, shared, params[0x05])
        self.state.pin_hash = hashlib.sha256(pin).digest()[:16]
        self.token = None

    def _permissions(self, params: dict[int, Any]) -> tuple[int, str | None]:
        """§6.5.5.7: permissions (0 is INVALID_PARAMETER; lbw, acfg and pcmr are UNAUTHORIZED_PERMISSION here)."""
        permissions = need(params, 0x09, int)
        if permissions == 0:
            raise CtapError(ERR.INVALID_PARAMETER)
        if permissions & ~SUPPORTED_PERMISSIONS:
            raise CtapError(ERR.UNAUTHORIZED_PERMISSION)
        return permissions, get(params, 0x0A, str)

    def _get_token_using_pin(self, params: dict[int, Any]) -> dict[int, Any]:
        """getPinUvAuthTokenUsingPinWithPermissions (§6.5.5.7.2)."""
        protocol = self.protocol(get(params, 0x01, int))
        need(params, 0x03, dict)
        need(params, 0x06, bytes)
        permissions, rp_id = self._permissions(params)
        self._pin_usable()
        shared = protocol.decapsulate(params[0x03])
        self._check_pin_hash(protocol, shared, params[0x06])
        token = self._issue_token(protocol, permissions, rp_id, user_present=False)
        return {0x02: protocol.encrypt(shared, token.value)}

    def _get_pin_token(self, params: dict[int, Any]) -> dict[int, Any]:
        """getPinToken (§6.5.5.4, the CTAP 2.0 way): a token with the mc and ga permissions and no RP."""
        if 0x09 in params or 0x0A in params:
            raise CtapError(ERR.INVALID_PARAMETER)
        protocol = self.protocol(get(params, 0x01, int))
        need(params, 0x03, dict)
        need(params, 0x06, bytes)
        self._pin_usable()
        shared = protocol.decapsulate(params[0x03])
        self._check_pin_hash(protocol, shared, params[0x06])
        token = self._issue_token(protocol, PERM_MC | PERM_GA, None, user_present=False)
        return {0x02: protocol.encrypt(shared, token.value)}

    def _get_token_using_uv(self, params: dict[int, Any]) -> dict[int, Any]:
        """getPinUvAuthTokenUsingUvWithPermissions (§6.5.5.7.3): built-in UV, which is also user presence.
        The be permission needs the uvBioEnroll option, which this key does not offer."""
        protocol = self.protocol(get(params, 0x01, int))
        need(params, 0x03, dict)
        permissions, rp_id = self._permissions(params)
        if permissions & PERM_BE:
            raise CtapError(ERR.UNAUTHORIZED_PERMISSION)
        if not self.uv_enabled:
            raise CtapError(ERR.NOT_ALLOWED)
        if self.state.uv_retries == 0:
            raise CtapError(ERR.UV_BLOCKED)
        shared = protocol.decapsulate(params[0x03])
        outcome = self.perform_builtin_uv()
        if outcome is UvOutcome.TIMEOUT:
            raise CtapError(ERR.USER_ACTION_TIMEOUT)
        if outcome is UvOutcome.NO_MATCH:
            raise CtapError(ERR.UV_BLOCKED if self.state.uv_retries == 0 else ERR.UV_INVALID)
        token = self._issue_token(protocol, permissions, rp_id, user_present=True)
        return {0x02: protocol.encrypt(shared, token.value)}

    # --- authenticatorReset (§6.6), authenticatorSelection (§6.9) -----------------------------------------

    def _reset(self, params: dict[int, Any], _: Continuation | None) -> None:
        """authenticatorReset (§6.6): within 10 s of power-up (else NOT_ALLOWED) and with a touch (declined:
        OPERATION_DENIED, none: USER_ACTION_TIMEOUT); every credential, the PIN and the fingerprints go."""
        self._no_parameters(params)
        if self.clock() - self.powered_at > RESET_WINDOW:
            raise CtapError(ERR.NOT_ALLOWED)
        self.require_presence("reset", None, on_timeout=ERR.USER_ACTION_TIMEOUT)
        self.state = self.state.factory_reset()
        self.token = None
        self.consecutive_pin_failures = 0
        self._bio_enrollment.cancel()

    def _selection(self, params: dict[int, Any], _: Continuation | None) -> None:
        """authenticatorSelection (§6.9): a touch says "this key"."""
        self._no_parameters(params)
        self.require_presence("selection", None, on_timeout=ERR.USER_ACTION_TIMEOUT)
