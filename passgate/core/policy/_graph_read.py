"""Reading Graph JSON values for :mod:`passgate.core.policy.graph`: the typed readers, and include and exclude targets.

Each reader takes a value from a PATCH body and its JSON path, and answers the checked value or raises a
:class:`~passgate.core.policy.errors.PolicyValidationError` whose ``target`` is that path and whose message
names it and the value. Where Graph's documentation is silent Passgate decides, as follows:

- ``@odata.type`` is checked when present (with or without the leading ``#``) but not required, not
  even for Fido2 where Graph's documentation says it "must be included": Passgate knows the type from
  the URL, and an empty body is then simply no change. ``@odata.context`` annotations (what a GET
  answered) are ignored, so a GET body can be sent back.
- Booleans must be JSON ``true``/``false`` (OData JSON); the string ``"true"`` in an older version of
  Microsoft's update example is refused, naming the property.
- Enum members are case-sensitive as OData spells them; ``unknownFutureValue`` is refused.
- GUIDs (AAGUIDs, group ids, profile ids) are stored lower-case; repeated ``allowedPasskeyProfiles``
  entries are dropped (Graph echoes duplicates back).
- Passgate only targets groups: ``targetType`` ``user`` is refused with ``notSupported``.
- An include target that keeps an existing id keeps, for each property it leaves out, its current
  value, while a new one gets the defaults (``isRegistrationRequired`` false).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import Any, Final, TypeVar

from passgate.core.policy._graph_write import _ODATA_TYPE
from passgate.core.policy.errors import (
    INVALID_PROPERTY,
    MISSING_PROPERTY,
    NOT_SUPPORTED,
    POLICY_RULE,
    UNKNOWN_PROPERTY,
    PolicyValidationError,
)
from passgate.core.policy.model import (
    ALL_USERS,
    AttestationEnforcement,
    EnforcementType,
    ExcludeTarget,
    MethodState,
    MethodTarget,
    PasskeyTarget,
    TargetType,
    is_guid,
)

_PASSKEY_TARGET_TYPES: Final = ("microsoft.graph.passkeyAuthenticationMethodTarget",
                                "microsoft.graph.authenticationMethodTarget")
_METHOD_TARGET_TYPES: Final = ("microsoft.graph.authenticationMethodTarget",)
_EXCLUDE_TARGET_TYPES: Final = ("microsoft.graph.excludeTarget",)
_PASSKEY_TARGET_KEYS: Final = frozenset({_ODATA_TYPE, "id", "targetType", "isRegistrationRequired",
                                         "allowedPasskeyProfiles"})
_METHOD_TARGET_KEYS: Final = frozenset({_ODATA_TYPE, "id", "targetType", "isRegistrationRequired"})
_EXCLUDE_TARGET_KEYS: Final = frozenset({_ODATA_TYPE, "id", "targetType"})

_E = TypeVar("_E", MethodState, AttestationEnforcement, EnforcementType)
_Target = TypeVar("_Target", MethodTarget, PasskeyTarget)


def _show(value: object) -> str:
    try:
        shown = json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        shown = repr(value)
    return shown if len(shown) <= 80 else shown[:77] + "..."


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _invalid(path: str, value: object, expected: str) -> PolicyValidationError:
    return PolicyValidationError(f"{path}: {_show(value)} is not valid; {expected}", target=path,
                                 code=INVALID_PROPERTY)


def _is_annotation(key: str, allowed: frozenset[str]) -> bool:
    if key == "@odata.context":
        return True
    name, _, annotation = key.partition("@")
    return annotation == "odata.context" and name in allowed


def _object(value: object, path: str, type_name: str, allowed: frozenset[str],
            odata_types: Sequence[str]) -> Mapping[str, object]:
    """A JSON object with only known properties and, if it says, the right ``@odata.type``."""
    if not isinstance(value, Mapping) or not all(isinstance(key, str) for key in value):
        raise PolicyValidationError(f"{path or 'The body'}: {_show(value)} is not valid; a {type_name} object is "
                                    "expected", target=path, code=INVALID_PROPERTY)
    unknown = [key for key in value if key not in allowed and not _is_annotation(key, allowed)]
    if unknown:
        names = ", ".join(repr(key) for key in unknown)
        noun = "property" if len(unknown) == 1 else "properties"
        raise PolicyValidationError(f"{type_name} has no {noun} {names}" + (f" (at {path})" if path else ""),
                                    target=_join(path, unknown[0]), code=UNKNOWN_PROPERTY)
    if _ODATA_TYPE in value:
        given = value[_ODATA_TYPE]
        if not isinstance(given, str) or given.removeprefix("#") not in odata_types:
            raise _invalid(_join(path, _ODATA_TYPE), given, f"expected '#{odata_types[0]}'")
    return value


def _bool(value: object, path: str) -> bool:
    if not isinstance(value, bool):
        raise _invalid(path, value, "expected true or false")
    return value


def _int(value: object, path: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise _invalid(path, value, f"expected a whole number from {low} to {high}")
    return value


def _list(value: object, path: str) -> Sequence[object]:
    if not isinstance(value, list | tuple):
        raise _invalid(path, value, "expected a JSON array")
    return value




def _enum(value: object, path: str, kind: type[_E]) -> _E:
    for member in kind:
        if value == member.value:
            return member
    allowed = ", ".join(repr(m.value) for m in kind)
    raise _invalid(path, value, f"expected one of {allowed}")


def _guid(value: object, path: str, what: str) -> str:
    if not isinstance(value, str) or not is_guid(value):
        raise _invalid(path, value, f"{what} must be a GUID such as '90a3ccdf-635c-4729-a248-9b709135078f'")
    return value.lower()


def _target_id(value: object, path: str, *, all_users_allowed: bool) -> str:
    if isinstance(value, str) and value.lower() == ALL_USERS:
        if all_users_allowed:
            return ALL_USERS
        raise PolicyValidationError(f"{path}: 'all_users' can't be excluded; to stop everyone using the method, set "
                                    "its state to 'disabled'", target=path, code=POLICY_RULE)
    if not isinstance(value, str) or not is_guid(value):
        expected = "'all_users' or a group id (a GUID)" if all_users_allowed else "a group id (a GUID)"
        raise _invalid(path, value, f"expected {expected}")
    return value.lower()


def _target_type(value: object, path: str) -> TargetType:
    if value == "user":
        raise PolicyValidationError(f"{path}: Passgate targets groups only ('user' targets are not supported, and "
                                    "Graph no longer recommends them); put the person in a group and target it",
                                    target=path, code=NOT_SUPPORTED)
    if value != TargetType.GROUP.value:
        raise _invalid(path, value, "expected 'group'")
    return TargetType.GROUP


def _unique_ids(ids: Sequence[str], path: str, what: str) -> None:
    seen: set[str] = set()
    for index, value in enumerate(ids):
        if value in seen:
            raise PolicyValidationError(f"{path}[{index}]: {what} {value!r} is listed twice", target=f"{path}[{index}]",
                                        code=POLICY_RULE)
        seen.add(value)


def _dedupe(values: Sequence[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(values))


# ---------------------------------------------------------------------------------------------- targets


def _exclude_targets_from(value: object, path: str) -> tuple[ExcludeTarget, ...]:
    result: list[ExcludeTarget] = []
    for index, item in enumerate(_list(value, path)):
        here = f"{path}[{index}]"
        obj = _object(item, here, "excludeTarget", _EXCLUDE_TARGET_KEYS, _EXCLUDE_TARGET_TYPES)
        if "id" not in obj:
            raise PolicyValidationError(f"{here}: an exclude target needs an 'id' (a group id)", target=f"{here}.id",
                                        code=MISSING_PROPERTY)
        target_id = _target_id(obj["id"], f"{here}.id", all_users_allowed=False)
        target_type = _target_type(obj["targetType"], f"{here}.targetType") if "targetType" in obj else TargetType.GROUP
        result.append(ExcludeTarget(id=target_id, target_type=target_type))
    _unique_ids([t.id for t in result], path, "group")
    return tuple(result)


def _include_targets_from(value: object, path: str, current: Sequence[_Target], *, type_name: str,
                          keys: frozenset[str], types: tuple[str, ...], new: Callable[[str], _Target],
                          extra: Callable[[Mapping[str, Any], str, _Target], dict[str, Any]]) -> tuple[_Target, ...]:
    """Include targets of either kind: a member that names an existing id keeps what it leaves out."""
    by_id = {t.id: t for t in current}
    result: list[_Target] = []
    for index, item in enumerate(_list(value, path)):
        here = f"{path}[{index}]"
        obj = _object(item, here, type_name, keys, types)
        if "id" not in obj:
            raise PolicyValidationError(f"{here}: an include target needs an 'id' ('all_users' or a group id)",
                                        target=f"{here}.id", code=MISSING_PROPERTY)
        target_id = _target_id(obj["id"], f"{here}.id", all_users_allowed=True)
        base = by_id.get(target_id) or new(target_id)
        changes: dict[str, Any] = {"id": target_id, **extra(obj, here, base)}
        if "targetType" in obj:
            changes["target_type"] = _target_type(obj["targetType"], f"{here}.targetType")
        if "isRegistrationRequired" in obj:
            changes["is_registration_required"] = _bool(obj["isRegistrationRequired"], f"{here}.isRegistrationRequired")
        result.append(replace(base, **changes))
    _unique_ids([t.id for t in result], path, "target")
    return tuple(result)


def _method_targets_from(value: object, path: str, current: Sequence[MethodTarget]) -> tuple[MethodTarget, ...]:
    return _include_targets_from(value, path, current, type_name="authenticationMethodTarget",
                                 keys=_METHOD_TARGET_KEYS, types=_METHOD_TARGET_TYPES,
                                 new=lambda target_id: MethodTarget(id=target_id), extra=lambda obj, here, base: {})


def _allowed_profiles(obj: Mapping[str, Any], here: str, base: PasskeyTarget) -> dict[str, Any]:
    if "allowedPasskeyProfiles" not in obj:
        return {}
    where = f"{here}.allowedPasskeyProfiles"
    return {"allowed_passkey_profiles": _dedupe([_guid(p, f"{where}[{i}]", "a passkey profile id")
                                                 for i, p in enumerate(_list(obj["allowedPasskeyProfiles"], where))])}


def _passkey_targets_from(value: object, path: str, current: Sequence[PasskeyTarget]) -> tuple[PasskeyTarget, ...]:
    return _include_targets_from(value, path, current, type_name="passkeyAuthenticationMethodTarget",
                                 keys=_PASSKEY_TARGET_KEYS, types=_PASSKEY_TARGET_TYPES,
                                 new=lambda target_id: PasskeyTarget(id=target_id), extra=_allowed_profiles)

