"""The client side of security-key sign-in (docs/devices.md, "Signing in with a security key").

``begin`` (``POST /device/v1/signin/begin``) → CTAP2 getAssertion on the key with user verification (the key's
fingerprint when it has one enrolled, else its PIN through clientPIN with a pinUvAuthToken for ``ga`` bound to the
RP id) → with several accounts, the person chooses (never silently) → the assertion as PublicKeyCredential JSON →
``complete`` (``POST /device/v1/signin/complete``). The client data is ``{"type": "webauthn.get", "challenge",
"origin": <Passgate's origin>, "crossOrigin": false}``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from threading import Event
from typing import Any

from fido2.ctap import STATUS, CtapError
from fido2.ctap2.base import Ctap2
from fido2.ctap2.pin import ClientPin
from fido2.webauthn import AuthenticatorData

from passgate.agent.client import PassgateClient
from passgate.agent.errors import AgentError, Unreachable
from passgate.agent.securitykeys import (
    PERMISSION,
    Interaction,
    KeyProvider,
    b64url,
    b64url_decode,
    explain,
    pick_device,
    uv_retries,
)
from passgate.agent.state import State

BEGIN = "/device/v1/signin/begin"
COMPLETE = "/device/v1/signin/complete"
JWKS = "/oidc/jwks"
MAX_PIN_BYTES = 63


def client_data(challenge: str, origin: str) -> bytes:
    return json.dumps({"type": "webauthn.get", "challenge": challenge, "origin": origin, "crossOrigin": False},
                      separators=(",", ":")).encode()


def _request_options(options: object) -> tuple[str, str, list[dict[str, Any]]]:
    """challenge, rpId and the allow list (ids as bytes) from Passgate's ``publicKey``."""
    if not isinstance(options, dict):
        raise AgentError("bad_answer", "Passgate's sign-in options are not a JSON object.")
    challenge, rp_id, allow = options.get("challenge"), options.get("rpId"), options.get("allowCredentials", [])
    if not isinstance(challenge, str) or not challenge or not isinstance(rp_id, str) or not rp_id \
            or not isinstance(allow, list):
        raise AgentError("bad_answer", "Passgate's sign-in options lack a challenge or an rpId.")
    descriptors = []
    try:
        b64url_decode(challenge)
        for item in allow:
            if isinstance(item, dict) and item.get("type", "public-key") == "public-key":
                descriptors.append({"type": "public-key", "id": b64url_decode(str(item["id"]))})
    except (ValueError, KeyError):
        raise AgentError("bad_answer", "Passgate's sign-in options are not base64url where they must be.") from None
    return challenge, rp_id, descriptors


def _account_name(user: dict[str, Any] | None) -> str:
    if not user:
        return "(an account without a name)"
    name, shown = str(user.get("name") or ""), str(user.get("displayName") or "")
    if name and shown and shown != name:
        return f"{name} ({shown})"
    return name or shown or f"(account {b64url(bytes(user.get('id', b'')))})"


class _Verification:
    """How the key verifies the person: built-in UV (fingerprint) or the PIN; what to send getAssertion."""

    def __init__(self, ctap: Ctap2, rp_id: str, interaction: Interaction) -> None:
        self.ctap, self.rp_id, self.interaction = ctap, rp_id, interaction
        options = ctap.info.options
        self.pin_set = bool(options.get("clientPin"))
        self.builtin = bool(options.get("uv"))
        self.token_supported = bool(options.get("pinUvAuthToken"))
        self.client_pin: ClientPin | None = None
        self.token: bytes | None = None
        self.uv_option = False

    def prepare(self) -> None:
        if not self.pin_set and not self.builtin:
            raise AgentError("no_uv", "This security key has no PIN and no fingerprint, so it cannot verify who you "
                             "are: set a PIN (passgate-device key set-pin) and try again.")
        if self.builtin:
            if not self.token_supported:  # CTAP 2.0 with built-in UV: the uv option on getAssertion
                self.uv_option = True
                self.interaction.info("Touch the fingerprint sensor of your security key.")
                return
            self.interaction.info("Touch the fingerprint sensor of your security key.")
            try:
                self.client_pin = ClientPin(self.ctap)
                self.token = self.client_pin.get_uv_token(PERMISSION.GET_ASSERTION, self.rp_id)
                return
            except CtapError as exc:
                if exc.code not in (CtapError.ERR.UV_INVALID, CtapError.ERR.UV_BLOCKED) or not self.pin_set:
                    raise explain(exc, self.ctap) from None
                left = uv_retries(self.ctap)
                self.interaction.info("Fingerprint not recognised" + (f" ({left} tries left)" if left else "") +
                                      ": use the key's PIN.")
        self._pin()

    def _pin(self) -> None:
        pin = self.interaction.pin("PIN of your security key: ")
        if not pin:
            raise AgentError("cancelled", "No PIN was given: sign-in cancelled.")
        if len(pin.encode("utf-8")) > MAX_PIN_BYTES:
            raise AgentError("pin_invalid", "Wrong PIN (longer than any security key PIN).")
        self.client_pin = ClientPin(self.ctap)
        try:
            self.token = self.client_pin.get_pin_token(pin, PERMISSION.GET_ASSERTION, self.rp_id)
        except CtapError as exc:
            raise explain(exc, self.ctap) from None

    def parameters(self, data_hash: bytes) -> dict[str, Any]:
        if self.token is not None and self.client_pin is not None:
            protocol = self.client_pin.protocol
            return {"pin_uv_param": protocol.authenticate(self.token, data_hash),
                    "pin_uv_protocol": protocol.VERSION}
        return {"options": {"uv": True}} if self.uv_option else {}


def collect_assertion(ctap: Ctap2, public_key: object, origin: str, interaction: Interaction, *,
                      event: Event | None = None) -> dict[str, Any]:
    """Run getAssertion for Passgate's request options; the chosen assertion as PublicKeyCredential JSON."""
    challenge, rp_id, allow = _request_options(public_key)
    collected = client_data(challenge, origin)
    data_hash = hashlib.sha256(collected).digest()
    verification = _Verification(ctap, rp_id, interaction)
    verification.prepare()
    asked: list[int] = []

    def keepalive(status: int) -> None:
        if status == STATUS.UPNEEDED and not asked:
            asked.append(status)
            interaction.info("Touch your security key.")

    try:
        found = ctap.get_assertions(rp_id, data_hash, allow or None, None, **verification.parameters(data_hash),
                                    event=event, on_keepalive=keepalive)
    except CtapError as exc:
        raise explain(exc, ctap, doing="signing in") from None
    chosen = found[0]
    if len(found) > 1:
        names = [_account_name(a.user) for a in found]
        chosen = found[interaction.choose("Several accounts are on this security key: which one signs in?", names)]
    if not chosen.auth_data.is_user_verified():
        raise AgentError("no_uv", "The security key did not verify who you are (no PIN or fingerprint check): "
                         "Passgate requires it.")
    user_handle = chosen.user.get("id") if chosen.user else None
    credential_id = bytes(chosen.credential["id"])
    return {"id": b64url(credential_id), "rawId": b64url(credential_id), "type": "public-key",
            "authenticatorAttachment": "cross-platform", "clientExtensionResults": {},
            "response": {"clientDataJSON": b64url(collected), "authenticatorData": b64url(bytes(chosen.auth_data)),
                         "signature": b64url(bytes(chosen.signature)),
                         "userHandle": b64url(bytes(user_handle)) if user_handle is not None else None}}


def _refresh_jwks(state: State, client: PassgateClient, record: str) -> None:
    """Fetch Passgate's keys when the cached set lacks the one the new offline record was signed with."""
    try:
        header = json.loads(b64url_decode(record.split(".", 1)[0]))
    except (ValueError, UnicodeDecodeError):
        return
    if not isinstance(header, dict) or str(header.get("kid")) in state.jwks_keys():
        return
    try:
        jwks = client.call("GET", JWKS, signed=False)
    except AgentError:
        return  # the next sign-in or sync fetches them
    if isinstance(jwks.get("keys"), list):
        state.save_jwks(jwks)


def sign_in(*, state: State, provider: KeyProvider, interaction: Interaction, user: str | None,
            event: Event | None = None, timeout: float = 10.0,
            offline: Callable[[Ctap2], dict[str, Any]] | None = None) -> dict[str, Any]:
    """One online sign-in: the daemon's ``{"result": "success", "user", "posix"}``; AgentError otherwise.

    When Passgate cannot be reached at the start (nothing was refused), ``offline`` (if given) signs in with the key
    plugged in instead. A refusal from Passgate is final: never offline then."""
    record = state.load_device()
    key = state.load_key()
    device = pick_device(provider, interaction)  # before asking Passgate: no key, no sign-in to start
    try:
        client = PassgateClient(record.origin, key=key, device_id=record.deviceId, timeout=timeout)
        try:
            begun = client.call("POST", BEGIN, {"userName": user})
        except Unreachable:
            if offline is None:
                raise
            try:
                return offline(Ctap2(device))
            except OSError as exc:
                raise AgentError("no_security_key", f"Lost the security key: {exc.strerror or exc}.") from None
        sign_in_id = begun.get("signInId")
        if not isinstance(sign_in_id, str):
            raise AgentError("bad_answer", "Passgate's answer to sign-in begin has no signInId.")
        try:
            credential = collect_assertion(Ctap2(device), begun.get("publicKey"), client.origin, interaction,
                                           event=event)
        except OSError as exc:
            raise AgentError("no_security_key", f"Lost the security key: {exc.strerror or exc}.") from None
    finally:
        device.close()
    done = client.call("POST", COMPLETE, {"signInId": sign_in_id, "credential": credential})
    posix, person = done.get("posix"), done.get("user")
    if not isinstance(posix, dict) or not isinstance(person, dict) or not isinstance(posix.get("name"), str):
        raise AgentError("bad_answer", "Passgate's answer to sign-in complete has no user or POSIX account.")
    if user is not None and posix["name"] != user.lower():
        raise AgentError("user_mismatch", f"This key signed in {posix['name']}, not {user}.")
    kept = done.get("offline")
    if isinstance(kept, dict) and isinstance(kept.get("record"), str):
        _, rp_id, _ = _request_options(begun.get("publicKey"))
        counter = AuthenticatorData(b64url_decode(credential["response"]["authenticatorData"])).counter
        state.save_offline(credential["id"], {"record": kept["record"], "expiresDateTime": kept.get("expiresDateTime"),
                                              "rpId": rp_id, "user": person, "posix": posix, "signCount": counter})
        _refresh_jwks(state, client, kept["record"])
    return {"result": "success", "user": person, "posix": posix}
