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


# --- checking a value against a schema built here ---------------------------------------------------------------

_JSON_TYPE_CHECKS: Mapping[str, Any] = {
    "null": lambda v: v is None,
    "boolean": lambda v: isinstance(v, bool),
    "string": lambda v: isinstance(v, str),
    "array": lambda v: isinstance(v, list),
    "object": lambda v: isinstance(v, dict),
    "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
    "integer": lambda v: (isinstance(v, int) and not isinstance(v, bool)) or (isinstance(v, float) and v.is_integer()),
}
_KIND_WORDS: Mapping[str, str] = {"null": "null", "boolean": "true or false", "string": "a string",
                                  "array": "an array", "object": "a JSON object", "number": "a number",
                                  "integer": "a whole number"}
_CHECKED = frozenset({"type", "enum", "const", "properties", "patternProperties", "additionalProperties", "required",
                      "items", "minItems", "maxItems", "uniqueItems", "minLength", "maxLength", "pattern", "minimum",
                      "maximum", "anyOf", "maxProperties", "minProperties"})
_ANNOTATIONS = frozenset({"title", "description", "format", "readOnly", "examples", "default"})


def _same(a: object, b: object) -> bool:
    """JSON equality: true is not 1, and 1 is 1.0."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, int | float) and isinstance(b, int | float):
        return a == b
    return type(a) is type(b) and a == b


def _at(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def violation(schema: Schema, value: object, path: str = "") -> tuple[str, str] | None:
    """The first place where ``value`` breaks ``schema`` (one of this module's schemas, without ``$ref``), as (JSON
    path, why); None when it conforms. The server runs it on a body before reading it, so what the document
    forbids is refused by construction; tests compare it with a full JSON Schema validator."""
    unknown = set(schema) - _CHECKED - _ANNOTATIONS
    if unknown:  # a schema this checker can't enforce must not pass silently
        raise ValueError(f"violation(): unsupported keywords {sorted(unknown)} at {path or 'the body'}")
    where = path or "the body"
    found = _kind_violation(schema, value, path, where)
    if found is None and isinstance(value, str):
        found = _string_violation(schema, value, path, where)
    elif found is None and isinstance(value, int | float) and not isinstance(value, bool):
        found = _number_violation(schema, value, path, where)
    elif found is None and isinstance(value, list):
        found = _array_violation(schema, value, path, where)
    elif found is None and isinstance(value, dict):
        found = _object_violation(schema, value, path, where)
    return found


def _kind_violation(schema: Schema, value: object, path: str, where: str) -> tuple[str, str] | None:
    if "anyOf" in schema and all(violation(branch, value, path) is not None for branch in schema["anyOf"]):
        return path, f"'{where}' is not one of the values it takes."
    kinds = schema.get("type")
    names = [] if kinds is None else kinds if isinstance(kinds, list) else [kinds]
    if names and not any(_JSON_TYPE_CHECKS[k](value) for k in names):
        wanted = " or ".join(_KIND_WORDS[k] for k in names)
        return path, f"'{where}' must be {wanted}."
    if "const" in schema and not _same(schema["const"], value):
        return path, f"'{where}' must be {_show(schema['const'])}."
    if "enum" in schema and not any(_same(option, value) for option in schema["enum"]):
        return path, f"'{where}' must be one of: {', '.join(_show(v) for v in schema['enum'])}."
    return None


def _number_violation(schema: Schema, value: float, path: str, where: str) -> tuple[str, str] | None:
    if "minimum" in schema and value < schema["minimum"]:
        return path, f"'{where}' must be at least {schema['minimum']}."
    if "maximum" in schema and value > schema["maximum"]:
        return path, f"'{where}' must be at most {schema['maximum']}."
    return None


def _show(value: object) -> str:
    return "null" if value is None else "true" if value is True else "false" if value is False else repr(value)


def _string_violation(schema: Schema, value: str, path: str, where: str) -> tuple[str, str] | None:
    if "minLength" in schema and len(value) < schema["minLength"]:
        return path, f"'{where}' must be at least {schema['minLength']} characters long."
    if "maxLength" in schema and len(value) > schema["maxLength"]:
        return path, f"'{where}' may be at most {schema['maxLength']} characters long."
    if "pattern" in schema and re.search(schema["pattern"], value) is None:
        return path, f"'{where}' is not in the form it takes."
    return None


def _array_violation(schema: Schema, value: list[Any], path: str, where: str) -> tuple[str, str] | None:
    if "minItems" in schema and len(value) < schema["minItems"]:
        return path, f"'{where}' must have at least {schema['minItems']} item(s)."
    if "maxItems" in schema and len(value) > schema["maxItems"]:
        return path, (f"'{where}' must be empty." if schema["maxItems"] == 0
                      else f"'{where}' may have at most {schema['maxItems']} item(s).")
    if schema.get("uniqueItems") and any(_same(a, b) for i, a in enumerate(value) for b in value[i + 1:]):
        return path, f"'{where}' must not repeat an item."
    if "items" in schema:
        for index, item in enumerate(value):
            found = violation(schema["items"], item, f"{path}[{index}]")
            if found:
                return found
    return None


def _object_violation(schema: Schema, value: dict[str, Any], path: str, where: str) -> tuple[str, str] | None:
    for name in schema.get("required", ()):
        if name not in value:
            return _at(path, name), f"'{_at(path, name)}' is required."
    if "maxProperties" in schema and len(value) > schema["maxProperties"]:
        return path, f"'{where}' must be empty." if schema["maxProperties"] == 0 else f"'{where}' has too many names."
    if "minProperties" in schema and len(value) < schema["minProperties"]:
        return path, f"'{where}' names no property."
    properties: Mapping[str, Schema] = schema.get("properties", {})
    patterns: Mapping[str, Schema] = schema.get("patternProperties", {})
    extra = schema.get("additionalProperties", True)
    for name, item in value.items():
        matched = [s for p, s in patterns.items() if re.search(p, name)]
        if name in properties:
            matched.append(properties[name])
        if not matched:
            if extra is False:
                known = ", ".join(n for n in properties if not n.startswith("@odata."))
                return _at(path, name), (f"Property '{name}' does not exist on '{where}' or is not supported by "
                                         f"Passgate; it takes {known}." if path else
                                         f"Property '{name}' does not exist as a declared property or extension "
                                         "property.")
            if isinstance(extra, dict):
                matched.append(extra)
        for each in matched:
            found = violation(each, item, _at(path, name))
            if found:
                return found
    return None
