"""Microsoft Graph's v1.0 metadata (the subset in passgate/graph_api/data, see its README.md), and a checker of
JSON values against it: names, JSON types per CSDL type, enum members, nullability, ``@odata.type`` and
completeness. Every mismatch is reported with its JSON path; nothing stops at the first.
"""

from __future__ import annotations

import base64
import binascii
import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import Any

CSDL = Path(__file__).resolve().parents[2] / "passgate" / "graph_api" / "data" / "graph-v1.0.csdl"
EDM = "{http://docs.oasis-open.org/odata/ns/edm}"
GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
# Properties Graph documents on v1.0 that the CSDL lacks (the documentation pages decide where the two disagree).
EXTRA: Mapping[str, set[str]] = {
    "userIdentity": {"ipAddress"},  # "the client IP address ... (audit log only)", userIdentity v1.0 page
}
# Instance annotations an answer may carry: OData's control information and Passgate's own.
ANNOTATION_NAMESPACES = ("odata.", "passgate.")


@dataclass(frozen=True)
class Property:
    type: str  # "Edm.String", "graph.signInStatus", "Collection(graph.keyValue)"
    nullable: bool
    navigation: bool


@dataclass
class StructuredType:
    name: str
    base: str | None
    abstract: bool
    open: bool
    own: dict[str, Property] = field(default_factory=dict)


@dataclass(frozen=True)
class Metadata:
    types: Mapping[str, StructuredType]
    enums: Mapping[str, tuple[frozenset[str], bool]]  # members, IsFlags

    def properties(self, name: str) -> dict[str, Property]:
        """A type's properties with its base types'."""
        found = self.types[name]
        return {**(self.properties(found.base) if found.base else {}), **found.own}

    def derives_from(self, name: str, ancestor: str) -> bool:
        current: str | None = name
        while current is not None:
            if current == ancestor:
                return True
            current = self.types[current].base if current in self.types else None
        return False


def _short(name: str) -> str:
    return name.removeprefix("#").removeprefix("microsoft.graph.").removeprefix("graph.")


@cache
def metadata() -> Metadata:
    root = ET.parse(CSDL).getroot()  # noqa: S314 - a fixture of ours
    types: dict[str, StructuredType] = {}
    for kind in ("EntityType", "ComplexType"):
        for element in root.iter(f"{EDM}{kind}"):
            base = element.get("BaseType")
            found = StructuredType(element.get("Name", ""), _short(base) if base else None,
                                   element.get("Abstract") == "true", element.get("OpenType") == "true")
            for p in element:
                if p.tag in (f"{EDM}Property", f"{EDM}NavigationProperty"):
                    found.own[p.get("Name", "")] = Property(p.get("Type", ""), p.get("Nullable") != "false",
                                                            p.tag == f"{EDM}NavigationProperty")
            types[found.name] = found
    enums = {e.get("Name", ""): (frozenset(m.get("Name", "") for m in e.iter(f"{EDM}Member")),
                                 e.get("IsFlags") == "true") for e in root.iter(f"{EDM}EnumType")}
    return Metadata(types, enums)


def _is_datetime(value: str) -> bool:
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).tzinfo is not None
    except ValueError:
        return False


def _is_date(value: str) -> bool:
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return len(value) == 10


def _is_base64(value: str) -> bool:
    try:
        base64.b64decode(value + "=" * (-len(value) % 4), altchars=b"-_" if "-" in value or "_" in value else None,
                         validate=True)
    except (binascii.Error, ValueError):
        return False
    return True


_INTEGERS = {"Edm.Int16", "Edm.Int32", "Edm.Int64", "Edm.Byte", "Edm.SByte"}
_NUMBERS = {"Edm.Double", "Edm.Single", "Edm.Decimal"}


@dataclass
class Checker:
    """Checks JSON against Graph types. ``extra``: properties Graph documents on v1.0 that the CSDL lacks;
    ``may_omit``: properties an answer may leave out (each with its reason, kept by the caller); ``default_only``:
    types Graph itself answers with a default set of properties (without ``$select``), the set given."""

    extra: Mapping[str, set[str]] = field(default_factory=dict)
    may_omit: Mapping[str, set[str]] = field(default_factory=dict)
    default_only: Mapping[str, set[str]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)

    def fail(self, path: str, message: str) -> None:
        self.errors.append(f"{path or '$'}: {message}")

    def value(self, value: Any, type_name: str, path: str, *, nullable: bool = True) -> None:
        """``nullable``: the CSDL's Nullable; on a collection it is about the items (OData CSDL 4.0, 7.2.1): the
        collection itself is an array, [] when empty, never null."""
        if type_name.startswith("Collection("):
            if not isinstance(value, list):
                self.fail(path, f"{'null' if value is None else type(value).__name__}, not an array ({type_name})")
                return
            inner = type_name.removeprefix("Collection(").removesuffix(")")
            for i, item in enumerate(value):
                self.value(item, inner, f"{path}[{i}]", nullable=nullable)
            return
        if value is None:
            if not nullable:
                self.fail(path, f"null, but Graph's {type_name} is Nullable=\"false\" here")
            return
        if type_name.startswith("Edm."):
            self._primitive(value, type_name, path)
            return
        name = _short(type_name)
        found = metadata()
        if name in found.enums:
            members, flags = found.enums[name]
            values = value.split(",") if flags and isinstance(value, str) else [value]
            if not isinstance(value, str) or not all(v.strip() in members for v in values):
                self.fail(path, f"{value!r} is not a member of Graph's enum {name} {sorted(members)}")
            return
        if name not in found.types:
            self.fail(path, f"Graph type {name} is not in the CSDL subset (add it to make_subset.py's ROOTS)")
            return
        self.structured(value, name, path)

    def _primitive(self, value: Any, edm: str, path: str) -> None:
        ok: bool
        if edm in _INTEGERS:
            ok = isinstance(value, int) and not isinstance(value, bool)
        elif edm in _NUMBERS:
            ok = (isinstance(value, (int, float)) and not isinstance(value, bool)) or value in ("NaN", "INF", "-INF")
        elif edm == "Edm.Boolean":
            ok = isinstance(value, bool)
        elif edm == "Edm.Guid":
            ok = isinstance(value, str) and GUID.match(value) is not None
        elif edm == "Edm.DateTimeOffset":
            ok = isinstance(value, str) and _is_datetime(value)
        elif edm == "Edm.Date":
            ok = isinstance(value, str) and _is_date(value)
        elif edm == "Edm.Binary":
            ok = isinstance(value, str) and _is_base64(value)
        elif edm in ("Edm.String", "Edm.Duration", "Edm.TimeOfDay"):
            ok = isinstance(value, str)
        else:
            ok = True  # Edm.Stream, Edm.Untyped
        if not ok:
            self.fail(path, f"{value!r} is not a JSON value of {edm}")

    def _actual_type(self, value: dict[str, Any], name: str, path: str) -> str | None:
        """The type ``@odata.type`` names (``name`` or derived from it), or ``name`` itself; None if wrong."""
        found = metadata()
        odata_type = value.get("@odata.type")
        if odata_type is None:
            if found.types[name].abstract:
                self.fail(path, f"Graph's {name} is abstract: the value must say its type in @odata.type")
            return name
        named = _short(str(odata_type))
        if not str(odata_type).startswith("#microsoft.graph.") or named not in found.types:
            self.fail(f"{path}.@odata.type", f"{odata_type!r} names no Graph type (#microsoft.graph.<type>)")
            return None
        if not found.derives_from(named, name):
            self.fail(f"{path}.@odata.type", f"{odata_type!r} is not {name} or a type derived from it")
            return None
        return named

    def _annotation(self, key: str, props: Mapping[str, Property], actual: str, where: str) -> None:
        annotated, _, term = key.partition("@")
        if not term.startswith(ANNOTATION_NAMESPACES):
            self.fail(where, "an instance annotation outside @odata.* and @passgate.*")
        elif annotated and annotated not in props:
            self.fail(where, f"annotates {annotated}, not a property of Graph's {actual}")

    def structured(self, value: Any, name: str, path: str) -> None:
        if not isinstance(value, dict):
            self.fail(path, f"{type(value).__name__}, not an object ({name})")
            return
        actual = self._actual_type(value, name, path)
        if actual is None:
            return
        found = metadata()
        props = found.properties(actual)
        # an open type with no declared property is a bag of dynamic properties (webauthn extensions)
        bag = found.types[actual].open and not props
        for key, item in value.items():
            where = f"{path}.{key}" if path else key
            if "@" in key:
                self._annotation(key, props, actual, where)
            elif key in props:
                self.value(item, props[key].type, where, nullable=props[key].nullable)
            elif not bag and key not in self.extra.get(actual, set()):
                self.fail(where, f"not a property of Graph's v1.0 {actual}")
        wanted = self.default_only.get(actual)
        if wanted is None:
            # a stream (application.logo) is media, never in the JSON
            wanted = {k for k, p in props.items() if not p.navigation and p.type != "Edm.Stream"}
        missing = sorted(wanted - set(value) - self.may_omit.get(actual, set()))
        if missing:
            self.fail(path, f"Graph's {actual} properties missing: {', '.join(missing)}")
