"""Resource schemas: one declaration per Graph resource drives body validation, ``$select``/``$filter`` and the
OpenAPI document, so the three cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum, unique
from typing import Any, Literal

from passgate.core.graph import jsonschema as js
from passgate.core.graph.errors import GraphError
from passgate.core.graph.odata import FilterKind, FilterProp, QuerySpec

MAX_BIND = 20  # Graph adds at most 20 members through one "members@odata.bind"
# A PATCH body names at least this many properties: an empty one (or none at all) changes nothing and is refused,
# so a client that lost its changes on the way hears about it. The OpenAPI document says it as ``minProperties``.
PATCH_MIN_PROPERTIES = 1
EMPTY_PATCH = "empty_patch_body"


def require_properties(body: object) -> None:
    """Refuse a PATCH body with no property (``{}``, or no body at all): 400 naming the rule."""
    if isinstance(body, dict) and len(body) < PATCH_MIN_PROPERTIES:
        error = GraphError.bad_request("The request body names no property to change: send a JSON object with the "
                                       "properties to update.")
        error.code = EMPTY_PATCH
        raise error


def parse_datetime(value: str) -> datetime | None:
    """A DateTimeOffset as Graph takes it (``2026-11-22T10:00:00Z``, or with an offset); None if it isn't one."""
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


def format_datetime(value: datetime) -> str:
    """Graph's DateTimeOffset as it writes them: UTC, whole seconds, ``Z`` (e.g. ``2021-09-21T07:09:14Z``)."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@unique
class Kind(StrEnum):
    STRING = "string"
    BOOLEAN = "boolean"
    GUID = "guid"
    DATETIME = "datetime"
    STRING_LIST = "string_list"
    OBJECT = "object"
    OBJECT_LIST = "object_list"  # read-only collections of complex values (signIn.appliedConditionalAccessPolicies)
    INTEGER = "integer"


@unique
class Write(StrEnum):
    READ_ONLY = "read_only"  # assigned by the server
    UNSUPPORTED = "unsupported"  # a Graph property Passgate does not keep (always null or empty)
    OPTIONAL = "optional"
    REQUIRED = "required"


_JSON_TYPES: dict[Kind, dict[str, Any]] = {
    Kind.STRING: {"type": "string"},
    Kind.BOOLEAN: {"type": "boolean"},
    Kind.GUID: {"type": "string", "format": "uuid"},
    Kind.DATETIME: {"type": "string", "format": "date-time"},
    Kind.STRING_LIST: {"type": "array", "items": {"type": "string"}},
    Kind.OBJECT: {"type": "object"},
    Kind.OBJECT_LIST: {"type": "array", "items": {"type": "object"}},
    Kind.INTEGER: {"type": "integer"},
}


@dataclass(frozen=True)
class Prop:
    name: str
    kind: Kind
    description: str
    default: bool = True  # returned when the request has no $select
    create: Write = Write.READ_ONLY
    update: bool = False
    max_length: int | None = None
    allowed: tuple[object, ...] | None = None  # the only values Passgate accepts
    refusal: str = ""  # why other values are refused
    nullable: bool = False
    filter: frozenset[str] = frozenset()
    ignored_on_create: bool = False  # accepted on create and dropped (passwordProfile)
    update_refusal: str = ""  # why the property cannot be changed with PATCH
    # A complex value's own JSON Schema (jsonschema.py builders), as answers carry it and as bodies may send it
    # (``input_schema``, when that differs); without one, an OBJECT is any object (an opaque value).
    schema: Mapping[str, Any] | None = None
    input_schema: Mapping[str, Any] | None = None

    def json_schema(self, *, write: bool = False) -> dict[str, Any]:
        declared = (self.input_schema or self.schema) if write else self.schema
        base = dict(declared) if declared is not None else dict(_JSON_TYPES[self.kind])
        if self.max_length is not None:
            base["maxLength"] = self.max_length
        if self.allowed is not None and self.kind is not Kind.STRING_LIST:
            base["enum"] = list(self.allowed)
        if self.nullable:
            base = js.nullable(base)
        base["description"] = self.description + (f" {self.refusal}" if self.refusal else "")
        if self.create is Write.READ_ONLY or self.create is Write.UNSUPPORTED:
            base["readOnly"] = True
        return base


Mode = Literal["create", "update"]


@dataclass(frozen=True)
class Resource:
    type_name: str  # "microsoft.graph.user"
    entity: str  # "User"
    entity_set: str  # "users"
    description: str
    props: tuple[Prop, ...]
    binds_on_create: tuple[str, ...] = ()  # e.g. "members@odata.bind"
    binds_on_update: tuple[str, ...] = ()
    # $filter on nested properties Graph allows (``status/errorCode``, ``initiatedBy/user/id``)
    nested_filters: tuple[tuple[str, FilterProp], ...] = ()
    orderable: tuple[str, ...] = ()  # $orderby
    searchable: tuple[str, ...] = ()  # $search
    directory: bool = False  # a directory object: Graph's advanced-query rules apply (odata.QuerySpec)
    _by_name: dict[str, Prop] = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._by_name.update({p.name: p for p in self.props})

    @property
    def odata_type(self) -> str:
        return f"#{self.type_name}"

    def prop(self, name: str) -> Prop:
        return self._by_name[name]

    @property
    def default_select(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.props if p.default)

    @property
    def query_spec(self) -> QuerySpec:
        kinds = {Kind.BOOLEAN: FilterKind.BOOLEAN, Kind.GUID: FilterKind.GUID, Kind.DATETIME: FilterKind.DATETIME,
                 Kind.INTEGER: FilterKind.INTEGER}
        return QuerySpec(
            type_name=self.type_name, entity=self.entity,
            selectable=tuple(p.name for p in self.props),
            filterable={**{p.name: FilterProp(kinds.get(p.kind, FilterKind.STRING), p.filter)
                           for p in self.props if p.filter}, **dict(self.nested_filters)},
            orderable=self.orderable, searchable=self.searchable, directory=self.directory,
        )

    # --- validation -----------------------------------------------------------------------------

    def _invalid_value(self, name: str, why: str = "") -> GraphError:
        return GraphError.bad_request(
            f"Invalid value specified for property '{name}' of resource '{self.entity}'." + (f" {why}" if why else ""))

    def _check(self, prop: Prop, value: object) -> object:
        if value is None:
            if prop.nullable:
                return None
            raise self._invalid_value(prop.name, "It cannot be null.")
        if prop.kind is Kind.BOOLEAN and not isinstance(value, bool):
            raise self._invalid_value(prop.name, "It must be true or false.")
        if prop.kind in (Kind.STRING, Kind.GUID) and not isinstance(value, str):
            raise self._invalid_value(prop.name, "It must be a string.")
        if prop.kind is Kind.STRING_LIST and not (isinstance(value, list) and all(isinstance(v, str) for v in value)):
            raise self._invalid_value(prop.name, "It must be an array of strings.")
        if prop.kind in (Kind.OBJECT, Kind.OBJECT_LIST):
            self._check_complex(prop, value)
        if prop.kind is Kind.INTEGER and (isinstance(value, bool) or not isinstance(value, int)):
            raise self._invalid_value(prop.name, "It must be a whole number.")
        if prop.kind is Kind.DATETIME and not (isinstance(value, str) and parse_datetime(value) is not None):
            raise self._invalid_value(prop.name, "It must be a date and time with a time zone, like "
                                                 "2026-11-22T10:00:00Z.")
        if prop.max_length is not None and isinstance(value, str) and len(value) > prop.max_length:
            raise self._invalid_value(prop.name, f"It may be at most {prop.max_length} characters long.")
        if prop.allowed is not None:
            accepted = (all(v in prop.allowed for v in value) if isinstance(value, list)
                        else any(value is v or (not isinstance(v, bool) and value == v) for v in prop.allowed))
            if not accepted:
                raise self._invalid_value(prop.name, prop.refusal)
        return value

    def _check_complex(self, prop: Prop, value: object) -> None:
        if prop.kind is Kind.OBJECT and not isinstance(value, dict):
            raise self._invalid_value(prop.name, "It must be an object.")
        if prop.kind is Kind.OBJECT_LIST and not (isinstance(value, list) and all(isinstance(v, dict) for v in value)):
            raise self._invalid_value(prop.name, "It must be an array of objects.")
        declared = prop.input_schema or prop.schema
        found = None if declared is None else js.violation(dict(declared), value, prop.name)
        if found is not None:
            raise self._invalid_value(prop.name, found[1])

    def _check_bind(self, name: str, value: object) -> list[str]:
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise GraphError.bad_request(f"'{name}' must be an array of URLs like "
                                         "https://graph.microsoft.com/v1.0/directoryObjects/{id}.")
        if len(value) > MAX_BIND:
            raise GraphError.bad_request(f"'{name}' may add at most {MAX_BIND} objects in one request.")
        return list(value)

    def _declared(self, name: str, value: object, mode: Mode) -> tuple[Prop, object]:
        prop = self._by_name.get(name)
        if prop is None:
            hint = next((p.name for p in self.props if p.name.lower() == name.lower()), None)
            raise GraphError.bad_request(
                f"Property '{name}' does not exist as a declared property or extension property."
                + (f" Did you mean '{hint}'?" if hint else ""))
        if prop.create is Write.UNSUPPORTED:
            raise GraphError.bad_request(f"Property '{name}' is not supported by Passgate.")
        if prop.create is Write.READ_ONLY:
            raise GraphError.bad_request(f"Property '{name}' is read-only and cannot be set.")
        if mode == "update" and not prop.update:
            raise GraphError.bad_request(prop.update_refusal or f"Property '{name}' cannot be changed.")
        return prop, self._check(prop, value)

    def validate(self, body: object, *, mode: Mode) -> dict[str, Any]:
        """The declared properties of a POST (create) or PATCH (update) body, checked; raises 400 naming the first
        offending property or value. Ignored properties are dropped; ``…@odata.bind`` lists are kept as given."""
        if not isinstance(body, dict):
            raise GraphError.malformed("The request body must be a JSON object.")
        binds = self.binds_on_create if mode == "create" else self.binds_on_update
        out: dict[str, Any] = {}
        for name, value in body.items():
            if name == "@odata.type":
                if value not in (self.odata_type, self.type_name):
                    raise GraphError.bad_request(
                        f"Invalid '@odata.type' value {value!r}: this request takes '{self.odata_type}'.")
            elif name in binds:
                out[name] = self._check_bind(name, value)
            else:
                prop, checked = self._declared(name, value, mode)
                if not (mode == "create" and prop.ignored_on_create):
                    out[name] = checked
        if mode == "create":
            for prop in self.props:
                if prop.create is Write.REQUIRED and prop.name not in body:
                    raise GraphError.bad_request(
                        f"Property '{prop.name}' is required when creating a {self.entity.lower()}.")
        return out

    # --- OpenAPI --------------------------------------------------------------------------------

    def json_schema(self, mode: Literal["read", "create", "update"] = "read", *,
                    closed: bool = False) -> dict[str, Any]:
        """``closed`` (read): every property returned by default is always sent, and nothing else (a resource
        without ``$select``; the others are POST-only)."""
        if mode == "read":
            props: dict[str, Any] = {p.name: p.json_schema() for p in self.props if p.default or not closed}
            read: dict[str, Any] = {"type": "object", "title": self.type_name, "description": self.description,
                                    "properties": {"@odata.type": {"type": "string", "const": self.odata_type},
                                                   **props}}
            if closed:
                read["properties"] = {"@odata.context": {"type": "string"}, **read["properties"]}
                read["required"] = ["@odata.type", *props]
                read["additionalProperties"] = False
            return read
        writable = [p for p in self.props if p.create in (Write.OPTIONAL, Write.REQUIRED)
                    and (mode == "create" or p.update)]
        schema_props: dict[str, Any] = {"@odata.type": {"type": "string", "enum": [self.odata_type, self.type_name]}}
        for p in writable:
            entry = p.json_schema(write=True)
            entry.pop("readOnly", None)
            schema_props[p.name] = entry
        for bind in (self.binds_on_create if mode == "create" else self.binds_on_update):
            schema_props[bind] = {"type": "array", "maxItems": MAX_BIND, "items": {"type": "string", "format": "uri"},
                                  "description": "Directory objects to add, as .../v1.0/directoryObjects/{id} URLs."}
        schema: dict[str, Any] = {"type": "object", "title": f"{self.type_name} ({mode})",
                                  "properties": schema_props, "additionalProperties": False}
        required = [p.name for p in writable if p.create is Write.REQUIRED]
        if mode == "create" and required:
            schema["required"] = required
        return schema
