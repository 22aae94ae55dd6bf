"""Offline unlock (docs/devices.md, "Offline unlock"): the daemon's sign-in when Passgate cannot be reached.

It takes the offline records kept after online sign-ins on this device (for the PAM user, when one is given),
checks each with ``passgate.core.devices.offline.verify`` against the cached JWKS (issuer: the joined origin;
device: this device's deviceId; now: the clock), then runs getAssertion with user verification (the same PIN or
fingerprint prompts as online) on its own random challenge with the good records' credential ids as the allow
list, and verifies the assertion locally: client data built with the same origin rule as online, rpIdHash the
SHA-256 of the relying party id the credential was made for (the ``rpId`` Passgate's sign-in options named, kept
with the record), UP and UV set, the signature under the record's COSE public key, and the signature counter
moving forward from the last one seen here for that credential (Passgate's online rule, ADR 0003; a regression drops
the record). The answer is the POSIX account the online sign-in returned, with ``"offline": true``.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Callable, Mapping
from threading import Event
from typing import Any
from urllib.parse import urlsplit

from cryptography.exceptions import InvalidSignature
from fido2 import cbor
from fido2.cose import CoseKey
from fido2.ctap2.base import Ctap2
from fido2.webauthn import AuthenticatorData

from passgate.agent.client import normalise_origin
from passgate.agent.errors import AgentError
from passgate.agent.securitykeys import Interaction, b64url, b64url_decode
from passgate.agent.signin import collect_assertion
from passgate.agent.state import DeviceRecord, State
from passgate.core.devices import offline
from passgate.core.devices.errors import DeviceReason, DeviceRejected

NO_RECORD = "offline_no_record"
SIGNATURE_INVALID = "offline_signature_invalid"
SIGN_COUNT_REGRESSION = "offline_sign_count_regression"


def _no_record(user: str | None) -> AgentError:
    who = f" for {user}" if user else ""
    return AgentError(NO_RECORD, f"Passgate cannot be reached and there is no offline sign-in{who} here: never "
                      "signed in online with this key on this device. Connect to the network and sign in once "
                      "online.")


def _rp_id(entry: dict[str, Any], origin: str) -> str:
    given = entry.get("rpId")
    return given if isinstance(given, str) and given else str(urlsplit(origin).hostname)


def usable_records(state: State, device: DeviceRecord, user: str | None,
                   now: int) -> list[tuple[offline.OfflineRecord, dict[str, Any]]]:
    """The kept records for ``user`` (any, if None) that Passgate signed for this device and that have not
    expired, each with what the online sign-in answered next to it; AgentError naming the first problem if none."""
    wanted = user.lower() if user else None
    candidates = [entry for _, entry in state.offline_entries()
                  if wanted is None or (isinstance(entry.get("posix"), dict) and entry["posix"].get("name") == wanted)]
    if not candidates:
        raise _no_record(user)
    keys = state.jwks_keys()
    good: list[tuple[offline.OfflineRecord, dict[str, Any]]] = []
    problems: list[DeviceRejected] = []
    for entry in candidates:
        try:
            record = offline.verify(str(entry.get("record", "")), keys=keys, issuer=device.origin,
                                    device_id=device.deviceId, now=now)
            posix = entry.get("posix")
            if not isinstance(posix, dict) or posix.get("name") != record.user_principal_name.lower() \
                    or posix.get("uid") != record.uid:
                raise DeviceRejected(DeviceReason.OFFLINE_RECORD_INVALID, "The offline sign-in record is "
                                     "not usable: the account kept next to it is not the one Passgate signed.")
        except DeviceRejected as exc:
            problems.append(exc)
            continue
        good.append((record, entry))
    if not good:
        first = next((p for p in problems if p.reason is DeviceReason.OFFLINE_RECORD_EXPIRED), problems[0])
        raise AgentError(first.reason.value, first.message)
    return good


def check_assertion(credential: dict[str, Any], record: offline.OfflineRecord, *, rp_id: str, origin: str,
                    challenge: bytes) -> None:
    """The assertion was made by the record's credential for ``rp_id`` over our challenge, with UP and UV."""
    response = credential["response"]
    client_data = b64url_decode(response["clientDataJSON"])
    auth_data_raw = b64url_decode(response["authenticatorData"])
    auth_data = AuthenticatorData(auth_data_raw)
    expected = {"type": "webauthn.get", "challenge": b64url(challenge), "origin": origin, "crossOrigin": False}
    if _json(client_data) != expected or b64url_decode(credential["rawId"]) != record.credential_id:
        raise AgentError(SIGNATURE_INVALID, "The security key's answer is not for this offline sign-in.")
    if auth_data.rp_id_hash != hashlib.sha256(rp_id.encode()).digest():
        raise AgentError(SIGNATURE_INVALID, "The security key signed for another relying party.")
    if not auth_data.is_user_present() or not auth_data.is_user_verified():
        raise AgentError("no_uv", "The security key did not verify who you are (PIN or fingerprint, and touch): "
                         "offline sign-in requires it.")
    try:
        cose = cbor.decode(record.credential_public_key)
        if not isinstance(cose, Mapping):
            raise ValueError("not a COSE key")
        CoseKey.parse(cose).verify(
            auth_data_raw + hashlib.sha256(client_data).digest(), b64url_decode(response["signature"]))
    except (InvalidSignature, ValueError, KeyError, TypeError):
        raise AgentError(SIGNATURE_INVALID, "The security key's signature does not verify with the key Passgate "
                         "recorded for this credential: offline sign-in refused.") from None


def sign_count_after(entry: Mapping[str, Any], counter: int) -> int:
    """The counter to keep after an assertion reporting ``counter``; AgentError if it did not move forward.

    The same rule Passgate applies online (ADR 0003): an authenticator that counts must report more than the
    last count seen for the credential here (kept at the online sign-in, then at each offline one); less or the
    same means two authenticators hold the credential. Keys that always report 0 are unaffected."""
    kept = entry.get("signCount")
    last = kept if isinstance(kept, int) and not isinstance(kept, bool) and kept >= 0 else 0
    if (counter or last) and counter <= last:
        raise AgentError(SIGN_COUNT_REGRESSION, "This security key's signature counter went backwards: the passkey "
                         "may have been copied to another key. Offline sign-in with it is refused on this "
                         "computer until you sign in online; tell your administrator.")
    return counter


def _json(raw: bytes) -> object:
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return None


def offline_sign_in(*, state: State, ctap: Ctap2, interaction: Interaction, user: str | None,
                    event: Event | None = None, clock: Callable[[], float] = time.time) -> dict[str, Any]:
    """The daemon's ``{"result": "success", "user", "posix", "offline": true}`` from a kept record."""
    device = state.load_device()
    good = usable_records(state, device, user, int(clock()))
    rp_id = _rp_id(good[0][1], device.origin)
    good = [(r, e) for r, e in good if _rp_id(e, device.origin) == rp_id]
    origin = normalise_origin(device.origin)
    challenge = os.urandom(32)
    options = {"challenge": b64url(challenge), "rpId": rp_id,
               "allowCredentials": [{"type": "public-key", "id": b64url(r.credential_id)} for r, _ in good]}
    interaction.info("Passgate cannot be reached: signing in offline.")
    try:
        credential = collect_assertion(ctap, options, origin, interaction, event=event)
    except AgentError as exc:
        if exc.code == "no_credential":
            raise _no_record(user) from None
        raise
    raw_id = b64url_decode(credential["rawId"])
    match = next(((r, e) for r, e in good if r.credential_id == raw_id), None)
    if match is None:
        raise _no_record(user)
    record, entry = match
    check_assertion(credential, record, rp_id=rp_id, origin=origin, challenge=challenge)
    credential_id = b64url(record.credential_id)
    counter = AuthenticatorData(b64url_decode(credential["response"]["authenticatorData"])).counter
    try:
        count = sign_count_after(entry, counter)
    except AgentError:
        state.drop_offline(credential_id)  # a possible clone: only an online sign-in may keep a record again
        raise
    state.save_offline(credential_id, {**entry, "signCount": count})
    person = entry.get("user") if isinstance(entry.get("user"), dict) else {
        "id": record.user_id, "userPrincipalName": record.user_principal_name, "displayName": ""}
    return {"result": "success", "user": person, "posix": entry["posix"], "offline": True}
