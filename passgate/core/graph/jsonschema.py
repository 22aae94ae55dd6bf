"""Small builders of JSON Schema (2020-12, as OpenAPI 3.1 uses it) for the Graph resources' bodies.

The modules that read and write a resource's JSON build its schema with these, next to their parser and from the
same constants (property-name sets, enums, bounds), so ``GET /openapi.json`` says what the parser does: a
property the parser refuses is not in the schema (``additionalProperties: false``), a value it refuses is outside
the schema's type, enum, pattern or bounds. Rules that span properties stay in the descriptions.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

Schema = dict[str, Any]

GUID_PATTERN = "^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$"
DATETIME: Schema = {"type": "string", "format": "date-time"}
BOOLEAN: Schema = {"type": "boolean"}
STRING: Schema = {"type": "string"}
ANY: Schema = {}
EMPTY_REF = "#/components/schemas/emptyValue"
# What the parsers call empty (``_json.is_empty``): null, "", [], or an object whose values are all empty.
EMPTY_VALUE: Schema = {
    "title": "emptyValue", "description": "null, \"\", [], or an object whose every value is empty",
    "anyOf": [{"type": "null"}, {"const": ""}, {"type": "array", "maxItems": 0},
              {"type": "object", "patternProperties": {"^@": ANY}, "additionalProperties": {"$ref": EMPTY_REF}}]}


def ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def nullable(schema: Schema) -> Schema:
    """``schema`` or null."""
    if "$ref" in schema or "anyOf" in schema or "type" not in schema:
        return {"anyOf": [schema, {"type": "null"}]}
    out = dict(schema)
    kinds = out["type"] if isinstance(out["type"], list) else [out["type"]]
    out["type"] = [*kinds, "null"]
    if "enum" in out and None not in out["enum"]:
        out["enum"] = [*out["enum"], None]
    return out


def string(*, max_length: int | None = None, min_length: int | None = None, pattern: str | None = None,
           enum: Sequence[str] | None = None, fmt: str | None = None, description: str = "") -> Schema:
    out: Schema = {"type": "string"}
    if min_length is not None:
        out["minLength"] = min_length
    if max_length is not None:
        out["maxLength"] = max_length
    if pattern is not None:
        out["pattern"] = pattern
    if enum is not None:
        out["enum"] = list(enum)
    if fmt is not None:
        out["format"] = fmt
    if description:
        out["description"] = description
    return out


def guid(description: str = "") -> Schema:
    """A GUID in either case (the parsers store it lower-case)."""
    return string(pattern=GUID_PATTERN, description=description)


def any_case(words: Iterable[str]) -> str:
    """A pattern matching exactly one of ``words``, in any letter case (the parsers fold case for these)."""
    def letters(word: str) -> str:
        return "".join(f"[{c.upper()}{c.lower()}]" if c.isalpha() else re.escape(c) for c in word)
    return "^(" + "|".join(letters(w) for w in words) + ")$"


def integer(minimum: int | None = None, maximum: int | None = None) -> Schema:
    out: Schema = {"type": "integer"}
    if minimum is not None:
        out["minimum"] = minimum
    if maximum is not None:
        out["maximum"] = maximum
    return out


def array(items: Schema, *, unique: bool = False, min_items: int | None = None, max_items: int | None = None,
          description: str = "") -> Schema:
    out: Schema = {"type": "array", "items": items}
    if unique:
        out["uniqueItems"] = True
    if min_items is not None:
        out["minItems"] = min_items
    if max_items is not None:
        out["maxItems"] = max_items
    if description:
        out["description"] = description
    return out


def obj(properties: Mapping[str, Schema], *, required: Iterable[str] = (), title: str = "", description: str = "",
        context_annotations: bool = False, odata_types: Sequence[str] = ()) -> Schema:
    """An object with exactly these properties (``additionalProperties: false``).

    ``odata_types``: the ``@odata.type`` values it takes (with or without ``#``), when it takes one.
    ``context_annotations``: ``@odata.context`` and ``<property>@odata.context`` are accepted and ignored, as
    the parsers do, so a GET body can be sent back.
    """
    props: Schema = {}
    if odata_types:
        props["@odata.type"] = string(enum=[f"{p}{t}" for t in odata_types for p in ("#", "")])
    props.update(properties)
    out: Schema = {"type": "object"}
    if title:
        out["title"] = title
    if description:
        out["description"] = description
    if context_annotations:
        props["@odata.context"] = ANY
        names = "|".join(re.escape(name) for name in properties)
        out["patternProperties"] = {f"^({names})@odata\\.context$": ANY}
    out["properties"] = props
    out["additionalProperties"] = False
    required = list(required)
    if required:
        out["required"] = required
    return out


def one_of(names: Iterable[str], *, title: str, description: str = "") -> Schema:
    """One of the named component schemas (a polymorphic value: each names its own ``@odata.type``). ``anyOf``,
    not ``oneOf``: a PATCH body such as ``{"state": "enabled"}`` fits several."""
    out: Schema = {"title": title, "anyOf": [ref(name) for name in names]}
    if description:
        out["description"] = description
    return out
