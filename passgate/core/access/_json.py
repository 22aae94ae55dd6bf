"""Small readers of Graph JSON shared by the strength and Conditional Access parsers (private to the package).

Every refusal is a :class:`~passgate.core.policy.errors.PolicyValidationError` whose ``target`` is the JSON
path of the offending property and whose message names it and, where there is one, the value.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from passgate.core.policy.errors import (
    INVALID_PROPERTY,
    MISSING_PROPERTY,
    POLICY_RULE,
    READ_ONLY_PROPERTY,
    UNKNOWN_PROPERTY,
    PolicyValidationError,
)
from passgate.core.policy.model import is_guid
from passgate.core.text import first_unusable

JsonObject = dict[str, Any]
ODATA_TYPE = "@odata.type"


def show(value: object) -> str:
    """A value as JSON, shortened to 80 characters, for an error message."""
    try:
        shown = json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        shown = repr(value)
    return shown if len(shown) <= 80 else shown[:77] + "..."


def join(path: str, name: str | int) -> str:
    if isinstance(name, int):
        return f"{path}[{name}]"
    return f"{path}.{name}" if path else name


def invalid(path: str, value: object, expected: str) -> PolicyValidationError:
    detail = f"{show(value)} is not valid; {expected}"
    return PolicyValidationError(f"{path or 'The body'}: {detail}", target=path, code=INVALID_PROPERTY,
                                 detail=detail)


def rule(path: str, message: str) -> PolicyValidationError:
    return PolicyValidationError(f"{path}: {message}" if path else message, target=path, code=POLICY_RULE,
                                 detail=message)


def missing(path: str, message: str) -> PolicyValidationError:
    return PolicyValidationError(f"{path}: {message}", target=path, code=MISSING_PROPERTY, detail=message)


def _is_annotation(key: str, allowed: frozenset[str]) -> bool:
    """``@odata.context`` and ``name@odata.context`` (what a GET answers) are ignored: a GET body can be sent back."""
    if key == "@odata.context":
        return True
    name, _, annotation = key.partition("@")
    return annotation == "odata.context" and name in allowed


def obj(value: object, path: str, type_name: str, allowed: frozenset[str],
        odata_types: Sequence[str] = ()) -> Mapping[str, object]:
    """A JSON object with only known properties and, when it says, the right ``@odata.type`` (``#`` optional)."""
    if not isinstance(value, Mapping) or not all(isinstance(key, str) for key in value):
        raise PolicyValidationError(f"{path or 'The body'}: {show(value)} is not valid; a {type_name} object is "
                                    "expected", target=path, code=INVALID_PROPERTY)
    unknown = [key for key in value if key not in allowed and key != ODATA_TYPE and not _is_annotation(key, allowed)]
    if unknown:
        names = ", ".join(repr(key) for key in unknown)
        noun = "property" if len(unknown) == 1 else "properties"
        raise PolicyValidationError(f"{type_name} has no {noun} {names}" + (f" (at {path})" if path else ""),
                                    target=join(path, unknown[0]), code=UNKNOWN_PROPERTY)
    if ODATA_TYPE in value:
        given = value[ODATA_TYPE]
        if not isinstance(given, str) or given.removeprefix("#") not in odata_types:
            expected = f"expected '#{odata_types[0]}'" if odata_types else "this object has no derived types"
            raise invalid(join(path, ODATA_TYPE), given, expected)
    return value


def string_list(value: object, path: str) -> list[str]:
    if not isinstance(value, list | tuple):
        raise invalid(path, value, "expected a JSON array of strings")
    for index, item in enumerate(value):
        if not isinstance(item, str):
            raise invalid(join(path, index), item, "expected a string")
    return list(value)


def guid(value: str, path: str, what: str) -> str:
    if not is_guid(value):
        raise invalid(path, value, f"{what} must be a GUID such as '90a3ccdf-635c-4729-a248-9b709135078f'")
    return value.lower()


def unique(values: Sequence[str], path: str, what: str, *, fold: bool = False) -> None:
    seen: set[str] = set()
    for index, value in enumerate(values):
        key = value.casefold() if fold else value
        if key in seen:
            raise rule(join(path, index), f"{what} {value!r} is listed twice")
        seen.add(key)


def display_name(value: object, path: str, maximum: int) -> str:
    """1..``maximum`` printable characters, surrounding white space removed."""
    name = value.strip() if isinstance(value, str) else ""
    if (not name or len(name) > maximum or any(ord(ch) < 32 or 127 <= ord(ch) < 160 for ch in name)
            or first_unusable(name)):
        wrong = invalid(path, value, f"a display name is 1 to {maximum} printable characters")
        raise PolicyValidationError(wrong.message, target=path, code=INVALID_PROPERTY,
                                    detail=f"enter 1 to {maximum} characters, without control characters.")
    return name


def graph_datetime(value: datetime | None) -> str | None:
    """ISO 8601 in UTC with a ``Z``, as Graph writes ``DateTimeOffset`` values."""
    return None if value is None else value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def parse_datetime(value: object, path: str) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            parsed = None
        if parsed is not None and parsed.utcoffset() is not None:
            return parsed
    raise invalid(path, value, "expected a date and time with a time zone, such as '2025-01-31T09:30:00Z'")


def read_only(body: Mapping[str, object], name: str, expected: object, *, patch: bool,
              hint: str = "") -> None:
    """Refuse a read-only property: on PATCH whenever present, on POST when it differs from what Passgate sets
    (null counts as absent on POST)."""
    if name not in body:
        return
    given = body[name]
    if not patch and given is None:
        return
    if not patch:
        if name.endswith("DateTime") and isinstance(expected, datetime):
            try:
                same = parse_datetime(given, name) == expected
            except PolicyValidationError:
                same = False
        elif isinstance(given, str) and isinstance(expected, str):
            same = given.casefold() == expected.casefold()
        else:
            same = given == expected
        if same:
            return
    raise PolicyValidationError(f"{name} is read-only{hint}; leave it out of the body", target=name,
                                code=READ_ONLY_PROPERTY)


def is_empty(value: object) -> bool:
    """null, an empty string, array or object, or an object whose every value is empty (what a GET answers)."""
    if value is None or value in ("", [], ()):
        return True
    if isinstance(value, Mapping):
        return all((isinstance(key, str) and key.startswith("@")) or is_empty(item) for key, item in value.items())
    return False


def merge(base: Mapping[str, Any], patch: Mapping[str, Any]) -> JsonObject:
    """OData PATCH of complex values: an object merges into an object, anything else (arrays too) replaces."""
    result: JsonObject = dict(base)
    for key, value in patch.items():
        current = result.get(key)
        if isinstance(value, Mapping) and isinstance(current, Mapping):
            result[key] = merge(current, value)
        else:
            result[key] = value
    return result
