"""``GET /v1.0/$metadata``: a CSDL of what Passgate serves, for OData tools and code generators.

Graph's own v1.0 types (``data/graph-v1.0.csdl``: Graph's elements copied unchanged, see ``data/README.md``), with
two changes that make the document describe Passgate rather than Graph:

- a navigation property is kept only where a Passgate route follows it (found by walking each registered route's
  segments from its entity set or singleton through the types' navigation properties); Graph's hundreds of others
  would promise paths that answer 404 here;
- an ``EntityContainer`` lists the entity sets and singletons a route starts from, with Graph's names and types.

Actions and functions (``addPassword``, ``usage()``, ``revokeSignInSessions`` ...) are not declared: their paths are
in ``/openapi.json``. Public, as Graph's is: it says what the service is, nothing about its data. Built once per
process (the routes and the file do not change while it runs).
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from functools import cache
from importlib import resources
from typing import Final

from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_GET

EDMX: Final = "http://docs.oasis-open.org/odata/ns/edmx"
EDM: Final = "http://docs.oasis-open.org/odata/ns/edm"
NAMESPACE: Final = "microsoft.graph"
# Graph's entity sets and singletons (name -> (element, type)), as Graph's own EntityContainer declares them.
CONTAINER: Final = {
    "users": ("EntitySet", "user"), "groups": ("EntitySet", "group"), "applications": ("EntitySet", "application"),
    "devices": ("EntitySet", "device"), "directoryRoles": ("EntitySet", "directoryRole"),
    "directoryRoleTemplates": ("EntitySet", "directoryRoleTemplate"),
    "organization": ("EntitySet", "organization"), "me": ("Singleton", "user"),
    "policies": ("Singleton", "policyRoot"), "identity": ("Singleton", "identityContainer"),
    "auditLogs": ("Singleton", "auditLogRoot"), "roleManagement": ("Singleton", "roleManagement"),
    "deviceManagement": ("Singleton", "deviceManagement"),
}
_COLLECTION: Final = re.compile(r"^Collection\((.+)\)$")


def _type_name(qualified: str) -> str:
    """``graph.user`` / ``Collection(microsoft.graph.user)`` -> ``user``."""
    match = _COLLECTION.match(qualified)
    return (match.group(1) if match else qualified).rsplit(".", 1)[-1]


def _schema() -> ET.Element:
    text = resources.files("passgate.graph_api").joinpath("data/graph-v1.0.csdl").read_text(encoding="utf-8")
    root = ET.fromstring(text)  # noqa: S314 - the package's own file
    schema = root.find(f"{{{EDMX}}}DataServices/{{{EDM}}}Schema")
    if schema is None:
        raise RuntimeError("data/graph-v1.0.csdl has no Schema element")
    return schema


def served_navigation(paths: Iterable[str], schema: ET.Element) -> set[tuple[str, str]]:
    """(declaring type, navigation property) for each navigation a route follows."""
    types = {e.get("Name", ""): e for e in schema if e.tag == f"{{{EDM}}}EntityType"}

    def navigation(type_name: str, name: str) -> tuple[str, str] | None:
        while type_name in types:
            element = types[type_name]
            for nav in element.findall(f"{{{EDM}}}NavigationProperty"):
                if nav.get("Name") == name:
                    return type_name, nav.get("Type", "")
            type_name = _type_name(element.get("BaseType", ""))
        return None

    served: set[tuple[str, str]] = set()
    for path in paths:
        first, *rest = path.strip("/").split("/")
        start = CONTAINER.get(first.split("(", 1)[0])
        if start is None:
            continue
        current = start[1]
        for segment in rest:
            if segment.startswith("{") or segment.startswith("$"):
                continue  # a key, or $ref
            found = navigation(current, segment)
            if found is None:
                break  # an action or a function: nothing further is a navigation
            served.add((found[0], segment))
            current = _type_name(found[1])
    return served


def _container(paths: Iterable[str]) -> ET.Element:
    container = ET.Element(f"{{{EDM}}}EntityContainer", {"Name": "GraphService"})
    starts = {path.strip("/").split("/", 1)[0].split("(", 1)[0] for path in paths}
    for name, (element, type_name) in CONTAINER.items():
        if name in starts:
            key = "EntityType" if element == "EntitySet" else "Type"
            ET.SubElement(container, f"{{{EDM}}}{element}", {"Name": name, key: f"{NAMESPACE}.{type_name}"})
    return container


@cache
def metadata_document() -> bytes:
    from passgate.graph_api.registry import ENDPOINTS, graph_urlpatterns  # noqa: PLC0415 - routes register late

    graph_urlpatterns()  # the views register their endpoints on import
    paths = sorted({endpoint.path for endpoint in ENDPOINTS})
    schema = _schema()
    served = served_navigation(paths, schema)
    for element in schema:
        for nav in element.findall(f"{{{EDM}}}NavigationProperty"):
            if (element.get("Name"), nav.get("Name")) not in served:
                element.remove(nav)
    schema.set("Alias", "graph")
    schema.append(_container(paths))
    ET.register_namespace("edmx", EDMX)
    ET.register_namespace("", EDM)
    edmx = ET.Element(f"{{{EDMX}}}Edmx", {"Version": "4.0"})
    services = ET.SubElement(edmx, f"{{{EDMX}}}DataServices")
    services.append(schema)
    ET.indent(edmx, space=" ")
    body: bytes = ET.tostring(edmx, encoding="utf-8", xml_declaration=False)
    return b'<?xml version="1.0" encoding="utf-8"?>\n' + body


@require_GET
def metadata_xml(request: HttpRequest) -> HttpResponse:
    response = HttpResponse(metadata_document(), content_type="application/xml")
    response["OData-Version"] = "4.0"
    response["Cache-Control"] = "public, max-age=3600"
    return response
