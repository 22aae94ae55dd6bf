"""FIDO2 security keys through python-fido2: finding them, talking to the person about them, managing them.

``KeyProvider`` is the seam between the agent and the hardware: production uses :class:`HidKeyProvider` (USB HID
keys, ``CtapHidDevice.list_devices()``). There is no configuration or environment switch to another provider:
``passgate-device``'s ``main()`` takes a provider argument that defaults to the HID one, and only a program that
calls ``main()`` itself (a test launcher) can hand it another.

``Interaction`` is how the agent asks the person something: a terminal for the CLI, the daemon's socket (and so
the PAM conversation) for sign-in. PINs pass through it and nowhere else: never logged, never stored.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Protocol

from fido2.ctap import CtapDevice, CtapError
from fido2.ctap2.base import Ctap2
from fido2.ctap2.bio import CaptureError, FPBioEnrollment
from fido2.ctap2.credman import CredentialManagement
from fido2.ctap2.pin import ClientPin
from fido2.hid import CAPABILITY, CtapHidDevice
from fido2.webauthn import PublicKeyCredentialDescriptor, PublicKeyCredentialType

from passgate.agent.errors import AgentError

ERR = CtapError.ERR
PERMISSION = ClientPin.PERMISSION
MAX_PIN_BYTES = 63


class KeyProvider(Protocol):
    """Where the agent finds security keys."""

    def devices(self) -> Sequence[CtapDevice]:
        """The keys plugged in now (CTAP2-capable or not)."""
        ...


class HidKeyProvider:
    """USB HID security keys (the only provider a production install has)."""

    def devices(self) -> Sequence[CtapDevice]:
        try:
            return list(CtapHidDevice.list_devices())
        except OSError as exc:
            raise AgentError("no_security_key", f"Cannot list USB security keys: {exc.strerror or exc} (does the "
                             "agent run with access to /dev/hidraw*?).") from None


class Interaction(Protocol):
    """How the agent asks the person: a PIN (never echoed), a choice, a line of information."""

    def pin(self, text: str) -> str:
        ...

    def choose(self, text: str, choices: list[str]) -> int:
        """The index of the choice made."""
        ...

    def info(self, text: str) -> None:
        ...


def describe(device: CtapDevice) -> str:
    name = getattr(device, "product_name", None) or "Security key"
    serial = getattr(device, "serial_number", None)
    return f"{name} ({serial})" if serial else str(name)


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    if any(c not in _B64URL for c in text):
        raise ValueError("not base64url")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


_B64URL = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


# --- choosing the key -----------------------------------------------------------------------------------------

def pick_device(provider: KeyProvider, interaction: Interaction | None = None) -> CtapDevice:
    """The one key plugged in; with several, the person chooses (or, without a way to ask, is told to unplug)."""
    found = [d for d in provider.devices() if _ctap2(d)]
    if not found:
        raise AgentError("no_security_key", "No FIDO2 security key is plugged in: insert your key and try again.")
    if len(found) == 1:
        return found[0]
    if interaction is None:
        raise AgentError("several_security_keys", "Several security keys are plugged in: leave only the one to "
                         "use plugged in.")
    names = [f"{i}: {describe(d)}" for i, d in enumerate(found, 1)]
    return found[interaction.choose("Several security keys are plugged in: which one?", names)]


def _ctap2(device: CtapDevice) -> bool:
    return bool(device.capabilities & CAPABILITY.CBOR)


@contextmanager
def opened(provider: KeyProvider, interaction: Interaction | None = None) -> Iterator[Ctap2]:
    device = pick_device(provider, interaction)
    try:
        yield Ctap2(device)
    except OSError as exc:  # the key was pulled out, or its device node went away
        raise AgentError("no_security_key", f"Lost the security key: {exc.strerror or exc}.") from None
    finally:
        device.close()


# --- what the key's refusals mean ---------------------------------------------------------------------------

def pin_retries(ctap: Ctap2) -> int | None:
    try:
        return ClientPin(ctap).get_pin_retries()[0]
    except (CtapError, ValueError, OSError):
        return None


def uv_retries(ctap: Ctap2) -> int | None:
    try:
        return ClientPin(ctap).get_uv_retries()
    except (CtapError, ValueError, OSError):
        return None


def _tries(count: int | None) -> str:
    if count is None:
        return ""
    return f" ({count} tr{'y' if count == 1 else 'ies'} left before the key locks its PIN)"


def explain(error: CtapError, ctap: Ctap2 | None = None, *, doing: str = "") -> AgentError:  # noqa: PLR0911
    """A CTAP refusal as the agent's reason code and a message a person can act on."""
    code = error.code
    if code == ERR.PIN_INVALID:
        return AgentError("pin_invalid", f"Wrong PIN{_tries(pin_retries(ctap) if ctap else None)}.")
    if code == ERR.PIN_AUTH_BLOCKED:
        return AgentError("pin_auth_blocked", "Three wrong PINs in a row: unplug the security key, plug it in "
                          f"again and retry{_tries(pin_retries(ctap) if ctap else None)}.")
    if code == ERR.PIN_BLOCKED:
        return AgentError("pin_blocked", "The security key's PIN is blocked after too many wrong PINs: only a "
                          "reset (passgate-device key reset) makes it usable again, and that erases every passkey "
                          "on it.")
    if code == ERR.PIN_NOT_SET:
        return AgentError("pin_not_set", "The security key has no PIN: set one with passgate-device key set-pin.")
    if code == ERR.PIN_POLICY_VIOLATION:
        return AgentError("pin_policy", "The security key does not accept that PIN (too short, too long or too "
                          "simple for it).")
    if code == ERR.UV_INVALID:
        count = uv_retries(ctap) if ctap else None
        left = f" ({count} tries left)" if count is not None else ""
        return AgentError("uv_invalid", f"Fingerprint not recognised{left}.")
    if code == ERR.UV_BLOCKED:
        return AgentError("uv_blocked", "The key's fingerprint check is blocked after too many failed attempts: "
                          "use its PIN (a right PIN unblocks it).")
    if code in (ERR.OPERATION_DENIED, ERR.USER_ACTION_TIMEOUT, ERR.ACTION_TIMEOUT):
        return AgentError("presence_timeout", "The security key was not touched in time (or the request was "
                          "declined on it).")
    if code == ERR.KEEPALIVE_CANCEL:
        return AgentError("cancelled", "The request to the security key was cancelled.")
    if code == ERR.NO_CREDENTIALS:
        return AgentError("no_credential", "This security key holds no passkey for this Passgate: register it "
                          "first (My sign-ins, Security info).")
    if code == ERR.PUAT_REQUIRED:
        return AgentError("uv_required", "The security key needs its PIN for this.")
    what = f" while {doing}" if doing else ""
    return AgentError("security_key_error", f"The security key refused{what}: {error}.")


# --- key management -----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class KeyInfo:
    name: str
    aaguid: str
    versions: list[str]
    pin_set: bool
    pin_retries: int | None
    fingerprints: bool | None  # None: no fingerprint sensor
    uv_retries: int | None
    credential_management: bool
    remaining_discoverable_credentials: int | None
    min_pin_length: int
    firmware_version: int

    def as_json(self) -> dict[str, Any]:
        return {"name": self.name, "aaguid": self.aaguid, "versions": self.versions, "pinSet": self.pin_set,
                "pinRetries": self.pin_retries, "fingerprintsEnrolled": self.fingerprints,
                "uvRetries": self.uv_retries, "credentialManagement": self.credential_management,
                "remainingDiscoverableCredentials": self.remaining_discoverable_credentials,
                "minPinLength": self.min_pin_length, "firmwareVersion": self.firmware_version}


def key_info(ctap: Ctap2) -> KeyInfo:
    info = ctap.info
    options = info.options
    pin_set = bool(options.get("clientPin"))
    bio = options.get("bioEnroll")
    return KeyInfo(name=describe(ctap.device), aaguid=str(info.aaguid), versions=list(info.versions),
                   pin_set=pin_set, pin_retries=pin_retries(ctap) if pin_set else None,
                   fingerprints=None if bio is None else bool(bio),
                   uv_retries=uv_retries(ctap) if bio else None,
                   credential_management=bool(options.get("credMgmt") or options.get("credentialMgmtPreview")),
                   remaining_discoverable_credentials=info.remaining_disc_creds,
                   min_pin_length=info.min_pin_length, firmware_version=info.firmware_version)


def check_new_pin(ctap: Ctap2, pin: str, again: str) -> None:
    if pin != again:
        raise AgentError("pin_mismatch", "The two PINs differ: nothing was changed.")
    minimum = ctap.info.min_pin_length
    if len(pin) < minimum:
        raise AgentError("pin_policy", f"The PIN must be at least {minimum} characters long.")
    if len(pin.encode("utf-8")) > MAX_PIN_BYTES:
        raise AgentError("pin_policy", f"The PIN may be at most {MAX_PIN_BYTES} bytes long.")


def set_pin(ctap: Ctap2, pin: str, again: str) -> None:
    if ctap.info.options.get("clientPin"):
        raise AgentError("pin_already_set", "The security key already has a PIN: use passgate-device key "
                         "change-pin.")
    check_new_pin(ctap, pin, again)
    try:
        ClientPin(ctap).set_pin(pin)
    except CtapError as exc:
        raise explain(exc, ctap, doing="setting the PIN") from None


def change_pin(ctap: Ctap2, old: str, pin: str, again: str) -> None:
    if not ctap.info.options.get("clientPin"):
        raise AgentError("pin_not_set", "The security key has no PIN yet: use passgate-device key set-pin.")
    check_new_pin(ctap, pin, again)
    try:
        ClientPin(ctap).change_pin(old, pin)
    except CtapError as exc:
        raise explain(exc, ctap, doing="changing the PIN") from None


def token(ctap: Ctap2, pin: str, permission: ClientPin.PERMISSION, rp_id: str | None = None) -> tuple[
        ClientPin, bytes]:
    if not ctap.info.options.get("clientPin"):
        raise AgentError("pin_not_set", "The security key has no PIN: set one first (passgate-device key set-pin).")
    client_pin = ClientPin(ctap)
    try:
        return client_pin, client_pin.get_pin_token(pin, permission, rp_id)
    except CtapError as exc:
        raise explain(exc, ctap) from None


@dataclass(frozen=True)
class StoredCredential:
    rp_id: str
    credential_id: str  # base64url
    user_name: str
    user_display_name: str
    user_id: str  # base64url

    def as_json(self) -> dict[str, str]:
        return {"rpId": self.rp_id, "credentialId": self.credential_id, "userName": self.user_name,
                "userDisplayName": self.user_display_name, "userId": self.user_id}


def _credential_manager(ctap: Ctap2, pin: str) -> CredentialManagement:
    if not CredentialManagement.is_supported(ctap.info):
        raise AgentError("not_supported", "This security key cannot list or delete its passkeys (no "
                         "credential management).")
    client_pin, pin_token = token(ctap, pin, PERMISSION.CREDENTIAL_MGMT)
    return CredentialManagement(ctap, client_pin.protocol, pin_token)


def credentials(ctap: Ctap2, pin: str) -> list[StoredCredential]:
    manager = _credential_manager(ctap, pin)
    result = CredentialManagement.RESULT
    found: list[StoredCredential] = []
    try:
        if not manager.get_metadata().get(result.EXISTING_CRED_COUNT):
            return []
        for rp in manager.enumerate_rps():
            rp_id = str(rp[result.RP].get("id", ""))
            for credential in manager.enumerate_creds(rp[result.RP_ID_HASH]):
                user = credential[result.USER]
                found.append(StoredCredential(rp_id=rp_id, credential_id=b64url(credential[result.CREDENTIAL_ID]["id"]),
                                              user_name=str(user.get("name", "")),
                                              user_display_name=str(user.get("displayName", "")),
                                              user_id=b64url(user["id"])))
    except CtapError as exc:
        raise explain(exc, ctap, doing="listing passkeys") from None
    return found


def delete_credential(ctap: Ctap2, pin: str, credential_id: str) -> StoredCredential:
    try:
        wanted = b64url_decode(credential_id)
    except ValueError:
        raise AgentError("bad_credential_id", "Give the credential id as passgate-device key credentials shows "
                         "it (base64url).") from None
    match = next((c for c in credentials(ctap, pin) if b64url_decode(c.credential_id) == wanted), None)
    if match is None:
        raise AgentError("no_credential", f"No passkey on this key has the id {credential_id}.")
    manager = _credential_manager(ctap, pin)
    try:
        manager.delete_cred(PublicKeyCredentialDescriptor(type=PublicKeyCredentialType.PUBLIC_KEY, id=wanted))
    except CtapError as exc:
        raise explain(exc, ctap, doing="deleting the passkey") from None
    return match


def _bio(ctap: Ctap2, pin: str) -> FPBioEnrollment:
    if not FPBioEnrollment.is_supported(ctap.info):
        raise AgentError("not_supported", "This security key has no fingerprint sensor.")
    client_pin, pin_token = token(ctap, pin, PERMISSION.BIO_ENROLL)
    return FPBioEnrollment(ctap, client_pin.protocol, pin_token)


def fingerprints(ctap: Ctap2, pin: str) -> dict[str, str]:
    """Template id (hex) → name."""
    try:
        return {bytes(t).hex(): name or "" for t, name in _bio(ctap, pin).enumerate_enrollments().items()}
    except CtapError as exc:
        if exc.code == ERR.INVALID_OPTION:  # nothing enrolled, on some keys
            return {}
        raise explain(exc, ctap, doing="listing fingerprints") from None


def enroll_fingerprint(ctap: Ctap2, pin: str, name: str | None, say: Callable[[str], None]) -> str:
    bio = _bio(ctap, pin)
    try:
        context = bio.enroll()
        template = None
        while template is None:
            say("Touch the fingerprint sensor." if context.remaining is None else
                f"Touch the sensor again ({context.remaining} more).")
            try:
                template = context.capture()
            except CaptureError as exc:
                say(f"That sample did not take ({exc}): lift the finger and touch again.")
        if name:
            bio.set_name(template, name)
    except CtapError as exc:
        raise explain(exc, ctap, doing="enrolling a fingerprint") from None
    return bytes(template).hex()


def _template(template_id: str) -> bytes:
    try:
        return bytes.fromhex(template_id)
    except ValueError:
        raise AgentError("bad_template_id", "Give the fingerprint's id as passgate-device key fingerprints list "
                         "shows it (hex).") from None


def rename_fingerprint(ctap: Ctap2, pin: str, template_id: str, name: str) -> None:
    try:
        _bio(ctap, pin).set_name(_template(template_id), name)
    except CtapError as exc:
        raise explain(exc, ctap, doing="renaming the fingerprint") from None


def remove_fingerprint(ctap: Ctap2, pin: str, template_id: str) -> None:
    try:
        _bio(ctap, pin).remove_enrollment(_template(template_id))
    except CtapError as exc:
        if exc.code == ERR.INVALID_PARAMETER:
            raise AgentError("bad_template_id", f"No fingerprint on this key has the id {template_id}.") from None
        raise explain(exc, ctap, doing="removing the fingerprint") from None


def reset(ctap: Ctap2) -> None:
    try:
        ctap.reset()
    except CtapError as exc:
        if exc.code == ERR.NOT_ALLOWED:
            raise AgentError("reset_not_allowed", "The security key refuses to reset: a key resets only within "
                             "10 seconds of being plugged in. Unplug it, plug it in again, run this command at once "
                             "and touch the key when it blinks.") from None
        if exc.code in (ERR.USER_ACTION_TIMEOUT, ERR.OPERATION_DENIED):
            raise AgentError("presence_timeout", "The security key was not touched in time (or the reset was "
                             "declined on it): nothing was erased.") from None
        raise explain(exc, ctap, doing="resetting") from None
