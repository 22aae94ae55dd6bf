"""Shared, strict reading of the client's JSON and the checks both ceremonies run on it.

Everything a client sends is untrusted: each reader checks JSON types itself and turns every
failure (including unexpected exceptions from the libraries it calls) into
:class:`~passgate.core.errors.CeremonyRejected` with a ``MALFORMED_*`` reason, so nothing else
ever escapes.

Why clientDataJSON is not read with ``webauthn.helpers.parse_client_data_json``: that helper hands
the bytes to ``json.loads``, which also accepts UTF-16/UTF-32 (WebAuthn says UTF-8), it coerces
``crossOrigin`` with ``bool()`` (so the string ``"false"`` would read as ``True``), decodes the
challenge with a lenient base64 decoder that skips invalid characters, and silently drops a
``tokenBinding`` it cannot read, which would hide ``TOKEN_BINDING_INVALID``. We parse it ourselves
with the same base64url helpers, after a strict alphabet/canonical-form check.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, NoReturn

from webauthn.helpers import base64url_to_bytes, bytes_to_base64url, parse_authenticator_data
from webauthn.helpers.structs import AuthenticatorData

from passgate.core.errors import CeremonyRejected, InvalidInput, RejectReason
from passgate.core.webauthn.types import MIN_CHALLENGE_LENGTH, RelyingParty

_R = RejectReason
_B64URL_ALPHABET = re.compile(r"[A-Za-z0-9_-]*")
PUBLIC_KEY = "public-key"
CREATE = "webauthn.create"
GET = "webauthn.get"

# Token binding (WebAuthn L2 §5.8.1, dropped from the L3 verification steps). DECISION: when a
# client sends ``tokenBinding`` it must be an object whose ``status`` is "present" or "supported"
# (the L2 ``TokenBindingStatus`` enum, and what py_webauthn enforces). "not-supported" is refused:
# it is not a value of that enum (a client without token binding simply omits the member), no
# shipping browser sends it, and a value outside the enum means a non-conforming or hand-made
# client. A non-object ``tokenBinding`` (pre-standard drafts sent a string such as "unused") is
# refused too, as FIDO conformance Resp-2 F-15 expects. passgate never uses token binding, so the
# ``id`` of a "present" binding is not compared with anything.
TOKEN_BINDING_STATUSES = frozenset({"present", "supported"})


def reject(reason: RejectReason, message: str) -> NoReturn:
    raise CeremonyRejected(reason, message)


# ---------------------------------------------------------------------------------------------
# base64url and JSON shapes
# ---------------------------------------------------------------------------------------------


def b64url_encode(data: bytes) -> str:
    """base64url without padding (the WebAuthn JSON encoding)."""
    return bytes_to_base64url(data)


def b64url_decode(value: object, *, what: str, reason: RejectReason) -> bytes:
    """Decode unpadded base64url strictly: right alphabet, valid length, canonical trailing bits."""
    if not isinstance(value, str):
        reject(reason, f"{what} is not a string")
    if not _B64URL_ALPHABET.fullmatch(value) or len(value) % 4 == 1:
        reject(reason, f"{what} is not base64url")
    data = base64url_to_bytes(value)
    if bytes_to_base64url(data) != value:
        reject(reason, f"{what} is not canonical base64url")
    return data


def as_mapping(value: object, *, what: str, reason: RejectReason) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        reject(reason, f"{what} is not a JSON object")
    return value


def required_bytes(obj: Mapping[str, Any], key: str, *, reason: RejectReason) -> bytes:
    """A required, non-empty base64url member of ``obj``."""
    if key not in obj:
        reject(reason, f"{key} is missing")
    data = b64url_decode(obj[key], what=key, reason=reason)
    if not data:
        reject(reason, f"{key} is empty")
    return data


def check_challenge_argument(expected_challenge: bytes) -> None:
    """A caller error (not a ceremony rejection): an empty challenge would match an empty one."""
    if not isinstance(expected_challenge, bytes) or len(expected_challenge) < MIN_CHALLENGE_LENGTH:
        raise InvalidInput(f"expected_challenge must be at least {MIN_CHALLENGE_LENGTH} bytes")


# ---------------------------------------------------------------------------------------------
# The PublicKeyCredential envelope (WebAuthn L3 JSON: PublicKeyCredential.toJSON())
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Envelope:
    raw_id: bytes
    response: Mapping[str, Any]
    client_data_json: bytes


def read_raw_id(credential: object) -> tuple[Mapping[str, Any], bytes]:
    """The credential object and its rawId (``id`` is checked by :func:`read_envelope`)."""
    cred = as_mapping(credential, what="credential", reason=_R.MALFORMED_CREDENTIAL)
    return cred, required_bytes(cred, "rawId", reason=_R.MALFORMED_CREDENTIAL)


def read_response(cred: Mapping[str, Any]) -> tuple[Mapping[str, Any], bytes]:
    """``response`` and its decoded ``clientDataJSON``."""
    if "response" not in cred:
        reject(_R.MALFORMED_CREDENTIAL, "response is missing")
    response = as_mapping(cred["response"], what="response", reason=_R.MALFORMED_CREDENTIAL)
    return response, required_bytes(response, "clientDataJSON", reason=_R.MALFORMED_CREDENTIAL)


def read_envelope(credential: object) -> Envelope:
    """Structure and types of the credential (§7.1 steps 3-4, §7.2 steps 3-4).

    Checks ``id == base64url(rawId)`` and ``type == "public-key"``; optional members, when present,
    must have their JSON types.
    """
    cred, raw_id = read_raw_id(credential)
    cred_id = cred.get("id")
    if not isinstance(cred_id, str):
        reject(_R.MALFORMED_CREDENTIAL, "id is missing or not a string")
    if cred_id != b64url_encode(raw_id):
        reject(_R.ID_MISMATCH, "id is not base64url(rawId)")
    cred_type = cred.get("type")
    if not isinstance(cred_type, str):
        reject(_R.MALFORMED_CREDENTIAL, "type is missing or not a string")
    if cred_type != PUBLIC_KEY:
        reject(_R.WRONG_CREDENTIAL_TYPE, f"type is {cred_type!r}, expected 'public-key'")
    if "clientExtensionResults" in cred:
        as_mapping(cred["clientExtensionResults"], what="clientExtensionResults", reason=_R.MALFORMED_CREDENTIAL)
    attachment = cred.get("authenticatorAttachment")
    if attachment is not None and not isinstance(attachment, str):
        reject(_R.MALFORMED_CREDENTIAL, "authenticatorAttachment is not a string")
    response, client_data_json = read_response(cred)
    return Envelope(raw_id=raw_id, response=response, client_data_json=client_data_json)


# ---------------------------------------------------------------------------------------------
# CollectedClientData (§7.1 steps 5-11, §7.2 steps 8-14)
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ClientData:
    type: str
    challenge: bytes
    origin: str
    cross_origin: bool
    top_origin: str | None
    token_binding: object  # raw JSON value; ``None`` when the member is absent


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        raise ValueError("duplicate key in clientDataJSON")
    return obj


def _no_constants(name: str) -> NoReturn:
    raise ValueError(f"{name} is not JSON")


def _load_client_data_json(raw: bytes) -> object:
    try:
        # "UTF-8 decode" (Encoding standard) drops one leading BOM; utf-8-sig does exactly that.
        text = raw.decode("utf-8-sig")
        return json.loads(text, object_pairs_hook=_no_duplicate_keys, parse_constant=_no_constants)
    except Exception as exc:  # UnicodeDecodeError, ValueError, RecursionError on deep nesting
        raise CeremonyRejected(_R.MALFORMED_CLIENT_DATA, "clientDataJSON is not UTF-8 JSON") from exc


def _optional_member(data: Mapping[str, Any], key: str, kind: type) -> Any:
    value = data.get(key)
    if value is not None and not isinstance(value, kind):
        reject(_R.MALFORMED_CLIENT_DATA, f"clientData.{key} has the wrong JSON type")
    return value


def parse_client_data(raw: bytes) -> ClientData:
    """UTF-8 decode and parse clientDataJSON, checking the JSON type of every member we use."""
    data = as_mapping(_load_client_data_json(raw), what="clientDataJSON", reason=_R.MALFORMED_CLIENT_DATA)
    for key in ("type", "challenge", "origin"):
        if not isinstance(data.get(key), str):
            reject(_R.MALFORMED_CLIENT_DATA, f"clientData.{key} is missing or not a string")
    challenge = b64url_decode(data["challenge"], what="clientData.challenge", reason=_R.MALFORMED_CLIENT_DATA)
    if "crossOrigin" in data and not isinstance(data["crossOrigin"], bool):
        reject(_R.MALFORMED_CLIENT_DATA, "clientData.crossOrigin is not a boolean")
    return ClientData(
        type=data["type"],
        challenge=challenge,
        origin=data["origin"],
        cross_origin=data.get("crossOrigin") is True,
        top_origin=_optional_member(data, "topOrigin", str),
        token_binding=data.get("tokenBinding"),
    )


def read_client_data(raw: bytes) -> ClientData:
    """:func:`parse_client_data` with any stray exception mapped to MALFORMED_CLIENT_DATA."""
    try:
        return parse_client_data(raw)
    except CeremonyRejected:
        raise
    except Exception as exc:
        raise CeremonyRejected(_R.MALFORMED_CLIENT_DATA, "clientDataJSON could not be read") from exc


def _check_token_binding(token_binding: object) -> None:
    if token_binding is None:
        return
    if not isinstance(token_binding, Mapping):
        reject(_R.TOKEN_BINDING_INVALID, "clientData.tokenBinding is not an object")
    status = token_binding.get("status")
    if not isinstance(status, str) or status not in TOKEN_BINDING_STATUSES:
        reject(_R.TOKEN_BINDING_INVALID, "clientData.tokenBinding.status is not 'present' or 'supported'")


def _check_framing(client_data: ClientData, rp: RelyingParty) -> None:
    """crossOrigin / topOrigin: refused unless the RP expects to be framed by that top origin."""
    if client_data.cross_origin and not rp.allow_cross_origin:
        reject(_R.CROSS_ORIGIN_NOT_ALLOWED, "ceremony ran in a cross-origin iframe")
    if client_data.top_origin is not None and (
        not rp.allow_cross_origin or client_data.top_origin not in rp.allowed_top_origins
    ):
        reject(_R.TOP_ORIGIN_NOT_ALLOWED, "clientData.topOrigin is not an expected top-level origin")


def check_client_data(
    client_data: ClientData, *, rp: RelyingParty, ceremony_type: str, expected_challenge: bytes
) -> None:
    """C.type, C.challenge (constant time), C.origin (exact allow-list), framing, tokenBinding."""
    if client_data.type != ceremony_type:
        reject(_R.WRONG_CEREMONY_TYPE, f"clientData.type is {client_data.type!r}, expected {ceremony_type!r}")
    if not hmac.compare_digest(client_data.challenge, expected_challenge):
        reject(_R.CHALLENGE_MISMATCH, "clientData.challenge is not the issued challenge")
    if client_data.origin not in rp.origins:
        reject(_R.ORIGIN_NOT_ALLOWED, f"origin {client_data.origin!r} is not allowed")
    _check_framing(client_data, rp)
    _check_token_binding(client_data.token_binding)


# ---------------------------------------------------------------------------------------------
# Authenticator data (§7.1 steps 14-17, §7.2 steps 15-18)
# ---------------------------------------------------------------------------------------------


def read_authenticator_data(raw: bytes, *, reason: RejectReason) -> AuthenticatorData:
    """Parse authenticator data with py_webauthn (which refuses leftover bytes)."""
    try:
        return parse_authenticator_data(raw)
    except Exception as exc:
        raise CeremonyRejected(reason, "authenticator data is malformed") from exc


def check_authenticator_flags(auth_data: AuthenticatorData, *, rp: RelyingParty) -> None:
    """rpIdHash, UP, UV (when the RP requires it) and BE/BS consistency."""
    expected_hash = hashlib.sha256(rp.id.encode("utf-8")).digest()
    if not hmac.compare_digest(auth_data.rp_id_hash, expected_hash):
        reject(_R.RP_ID_HASH_MISMATCH, "authenticator data is not for this RP ID")
    if not auth_data.flags.up:
        reject(_R.USER_NOT_PRESENT, "user presence flag is not set")
    if rp.require_user_verification and not auth_data.flags.uv:
        reject(_R.USER_NOT_VERIFIED, "user verification is required but the flag is not set")
    if auth_data.flags.bs and not auth_data.flags.be:
        reject(_R.BACKUP_STATE_INCONSISTENT, "backup state set on a credential that is not backup eligible")
