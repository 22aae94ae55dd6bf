"""The authenticator's side of CTAP2 message encoding (CTAP 2.1 §8 "Message Encoding").

``decode`` reads the CBOR subset CTAP2 uses (unsigned and negative integers, byte and text strings, arrays,
maps, true and false) and refuses everything else with CTAP2_ERR_INVALID_CBOR: truncated items, trailing bytes,
indefinite lengths, tags, floats, null, duplicate map keys and nesting deeper than ``MAX_DEPTH``. Key order is
not checked (CTAP 2.1 §8 lets an authenticator accept non-canonical input).

The ``need``/``get`` helpers read a command's parameters with the spec's error codes: an absent required
parameter is CTAP2_ERR_MISSING_PARAMETER, a value of the wrong CBOR type CTAP2_ERR_CBOR_UNEXPECTED_TYPE.
"""

from __future__ import annotations

import struct
from collections.abc import Mapping
from typing import Any, TypeVar

from fido2.ctap import CtapError

ERR = CtapError.ERR
ES256_ALGORITHM = -7
USER_ID_MAX = 64  # WebAuthn: a user handle is at most 64 bytes
MAX_DEPTH = 8  # CTAP 2.1 §8: authenticators must accept nesting of at least 4

T = TypeVar("T")


def decode(data: bytes) -> Any:
    """One whole CBOR item, or CtapError(INVALID_CBOR)."""
    value, offset = _item(data, 0, 0)
    if offset != len(data):
        raise CtapError(ERR.INVALID_CBOR)
    return value


def _argument(data: bytes, offset: int, info: int) -> tuple[int, int]:
    if info < 24:
        return info, offset
    sizes = {24: 1, 25: 2, 26: 4, 27: 8}
    if info not in sizes:  # 28-30 reserved, 31 indefinite length: neither is CTAP2
        raise CtapError(ERR.INVALID_CBOR)
    size = sizes[info]
    if offset + size > len(data):
        raise CtapError(ERR.INVALID_CBOR)
    return int.from_bytes(data[offset:offset + size], "big"), offset + size


def _item(data: bytes, offset: int, depth: int) -> tuple[Any, int]:
    if depth > MAX_DEPTH or offset >= len(data):
        raise CtapError(ERR.INVALID_CBOR)
    major, info = data[offset] >> 5, data[offset] & 0x1F
    offset += 1
    if major == 7:
        if info in (20, 21):
            return info == 21, offset
        raise CtapError(ERR.INVALID_CBOR)  # null, undefined, floats, simple values, break
    if major == 6:
        raise CtapError(ERR.INVALID_CBOR)  # tags
    argument, offset = _argument(data, offset, info)
    if major == 0:
        return argument, offset
    if major == 1:
        return -1 - argument, offset
    if major in (2, 3):
        return _string(data, offset, argument, text=major == 3)
    if major == 4:
        return _array(data, offset, argument, depth)
    return _map(data, offset, argument, depth)


def _string(data: bytes, offset: int, length: int, *, text: bool) -> tuple[bytes | str, int]:
    end = offset + length
    if end > len(data):
        raise CtapError(ERR.INVALID_CBOR)
    raw = data[offset:end]
    if not text:
        return raw, end
    try:
        return raw.decode("utf-8"), end
    except UnicodeDecodeError:
        raise CtapError(ERR.INVALID_CBOR) from None


def _array(data: bytes, offset: int, count: int, depth: int) -> tuple[list[Any], int]:
    values = []
    for _ in range(count):
        value, offset = _item(data, offset, depth + 1)
        values.append(value)
    return values, offset


def _map(data: bytes, offset: int, count: int, depth: int) -> tuple[dict[Any, Any], int]:
    values: dict[Any, Any] = {}
    for _ in range(count):
        key, offset = _item(data, offset, depth + 1)
        if not isinstance(key, int | str) or key in values:
            raise CtapError(ERR.INVALID_CBOR)
        values[key], offset = _item(data, offset, depth + 1)
    return values, offset


def request_parameters(payload: bytes) -> dict[int, Any]:
    """A command's parameter map (CTAP 2.1 §6: a CBOR map with unsigned integer keys); empty if there is none."""
    if not payload:
        return {}
    params = decode(payload)
    if not isinstance(params, dict):
        raise CtapError(ERR.CBOR_UNEXPECTED_TYPE)
    if not all(isinstance(key, int) for key in params):
        raise CtapError(ERR.CBOR_UNEXPECTED_TYPE)
    return params


def _is(value: Any, kind: type) -> bool:
    if kind is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if kind is dict:
        return isinstance(value, Mapping)
    return isinstance(value, kind)


def get(params: Mapping[Any, Any], key: Any, kind: type[T]) -> T | None:
    """An optional parameter: None when absent, CBOR_UNEXPECTED_TYPE when of another type."""
    value = params.get(key)
    if value is None:
        return None
    if not _is(value, kind):
        raise CtapError(ERR.CBOR_UNEXPECTED_TYPE)
    return value  # type: ignore[no-any-return]


def need(params: Mapping[Any, Any], key: Any, kind: type[T]) -> T:
    """A required parameter: MISSING_PARAMETER when absent, CBOR_UNEXPECTED_TYPE when of another type."""
    value = get(params, key, kind)
    if value is None:
        raise CtapError(ERR.MISSING_PARAMETER)
    return value


def client_data_hash(params: Mapping[int, Any], key: int) -> bytes:
    value = need(params, key, bytes)
    if len(value) != 32:
        raise CtapError(ERR.INVALID_LENGTH)
    return value


def parse_rp(value: Mapping[str, Any]) -> dict[str, Any]:
    """PublicKeyCredentialRpEntity (§6.1.1): id required, name optional; other members dropped."""
    rp: dict[str, Any] = {"id": need(value, "id", str)}
    name = get(value, "name", str)
    if name is not None:
        rp["name"] = name
    return rp


def parse_user(value: Mapping[str, Any]) -> dict[str, Any]:
    """PublicKeyCredentialUserEntity (§6.1.1): id (at most 64 bytes) required, name and displayName optional."""
    user_id = need(value, "id", bytes)
    if not 0 < len(user_id) <= USER_ID_MAX:
        raise CtapError(ERR.INVALID_LENGTH)
    user: dict[str, Any] = {"id": user_id}
    for member in ("name", "displayName"):
        text = get(value, member, str)
        if text:
            user[member] = text
    return user


def parse_descriptors(value: list[Any] | None) -> list[bytes]:
    """The ids of a list of PublicKeyCredentialDescriptors; descriptors of other types are ignored (§6.1.1)."""
    ids = []
    for item in value or []:
        if not isinstance(item, Mapping):
            raise CtapError(ERR.CBOR_UNEXPECTED_TYPE)
        kind, credential_id = need(item, "type", str), need(item, "id", bytes)
        if kind == "public-key":
            ids.append(credential_id)
    return ids


def choose_algorithm(value: list[Any]) -> int:
    """§6.1.2 step 3: the first supported algorithm of pubKeyCredParams (only ES256 here)."""
    chosen = None
    for item in value:
        if not isinstance(item, Mapping):
            raise CtapError(ERR.CBOR_UNEXPECTED_TYPE)
        alg, kind = need(item, "alg", int), need(item, "type", str)
        if chosen is None and kind == "public-key" and alg == ES256_ALGORITHM:
            chosen = alg
    if chosen is None:
        raise CtapError(ERR.UNSUPPORTED_ALGORITHM)
    return chosen


def parse_options(value: Mapping[str, Any] | None) -> dict[str, bool]:
    """The options map: each value a boolean; keys not understood are kept and ignored by the callers."""
    options = {}
    for key, option in (value or {}).items():
        if not isinstance(option, bool):
            raise CtapError(ERR.CBOR_UNEXPECTED_TYPE)
        options[key] = option
    return options


def uint32(value: int) -> bytes:
    return struct.pack(">I", value)
