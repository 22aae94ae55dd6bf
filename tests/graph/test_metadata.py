"""``GET /v1.0/$metadata``: Passgate's CSDL. Public and XML; Graph's own types, unchanged but for navigation
properties, each of which a route follows; every type it names is declared; the container's entity sets are Graph's
and each answers a GET."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from passgate.graph_api.metadata import CONTAINER, served_navigation
from passgate.graph_api.registry import ENDPOINTS
from tests.graph.conftest import Api

pytestmark = pytest.mark.django_db
EDMX = "{http://docs.oasis-open.org/odata/ns/edmx}"
EDM = "{http://docs.oasis-open.org/odata/ns/edm}"
SHIPPED = Path(__file__).resolve().parents[2] / "passgate" / "graph_api" / "data" / "graph-v1.0.csdl"
GRAPH_CONTAINER = {  # Graph v1.0's own EntityContainer, for the names Passgate serves
    "users": "user", "groups": "group", "applications": "application", "devices": "device",
    "directoryRoles": "directoryRole", "directoryRoleTemplates": "directoryRoleTemplate",
    "organization": "organization", "me": "user", "policies": "policyRoot", "identity": "identityContainer",
    "auditLogs": "auditLogRoot", "roleManagement": "roleManagement", "deviceManagement": "deviceManagement",
}


def served(client: Any) -> ET.Element:
    response = client.get("/v1.0/$metadata")  # no token: public, as Graph's is
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/xml" and response["OData-Version"] == "4.0"
    root = ET.fromstring(response.content)  # noqa: S314 - our own answer
    assert root.tag == f"{EDMX}Edmx" and root.get("Version") == "4.0"
    schema = root.find(f"{EDMX}DataServices/{EDM}Schema")
    assert schema is not None and schema.get("Namespace") == "microsoft.graph" and schema.get("Alias") == "graph"
    return schema


def canonical(element: ET.Element) -> str:
    return ET.canonicalize(ET.tostring(element, encoding="unicode"), strip_text=True)


def _name(qualified: str) -> str:
    match = re.match(r"^Collection\((.+)\)$", qualified)
    return (match.group(1) if match else qualified).rsplit(".", 1)[-1]


def test_every_type_named_is_declared(client: Any) -> None:
    schema = served(client)
    declared = {e.get("Name") for e in schema if e.tag != f"{EDM}EntityContainer"}
    named: set[str] = set()
    for element in schema.iter():
        for attribute in ("BaseType", "Type", "EntityType", "UnderlyingType"):
            value = element.get(attribute)
            if value and element.tag not in (f"{EDM}Record", f"{EDM}Annotation"):
                inner = re.sub(r"^Collection\((.+)\)$", r"\1", value)
                if not inner.startswith("Edm."):
                    named.add(_name(value))
    assert named - declared == set()


def test_types_are_graphs_with_only_the_navigation_passgate_serves(client: Any) -> None:
    schema = served(client)
    graph = ET.parse(SHIPPED).getroot().find(f"{EDMX}DataServices/{EDM}Schema")  # noqa: S314
    assert graph is not None
    original = {e.get("Name"): e for e in graph}
    navigations = served_navigation(sorted({e.path for e in ENDPOINTS}), graph)
    kept: set[tuple[str, str]] = set()
    for element in schema:
        if element.tag == f"{EDM}EntityContainer":
            continue
        source = original[element.get("Name")]
        strip = [c for c in source if c.tag != f"{EDM}NavigationProperty"]
        assert [canonical(c) for c in element if c.tag != f"{EDM}NavigationProperty"] == \
            [canonical(c) for c in strip], element.get("Name")
        kept |= {(str(element.get("Name")), str(n.get("Name"))) for n in element.findall(f"{EDM}NavigationProperty")}
    assert kept == navigations
    # the ones the routes follow, by name: a route added or removed shows here
    assert {name for _, name in kept} >= {"authentication", "fido2Methods", "memberOf", "members", "policies",
                                          "conditionalAccess", "authenticationStrength", "combinationConfigurations",
                                          "signIns", "directoryAudits", "directory", "roleAssignments",
                                          "roleDefinitions", "deviceConfigurations", "assignments"}
    assert ("user", "manager") not in kept and ("user", "ownedDevices") not in kept  # Graph's, not served here


def test_the_container_is_graphs_and_each_entity_set_answers(client: Any, app_api: Any) -> None:
    schema = served(client)
    [container] = [e for e in schema if e.tag == f"{EDM}EntityContainer"]
    declared = {e.get("Name"): (e.tag.removeprefix(EDM), _name(e.get("EntityType") or e.get("Type") or ""))
                for e in container}
    assert {name: type_name for name, (_, type_name) in declared.items()} == GRAPH_CONTAINER
    assert {name: kind for name, (kind, _) in declared.items()} == {n: k for n, (k, _) in CONTAINER.items()}
    api: Api = app_api("User.Read.All", "Group.Read.All", "Application.Read.All", "Device.Read.All",
                       "RoleManagement.Read.Directory")
    for name, (kind, _) in declared.items():
        if kind == "EntitySet":
            assert api.get(f"/v1.0/{name}").status_code == 200, name


def test_only_get_and_only_v1(client: Any) -> None:
    assert client.post("/v1.0/$metadata").status_code == 405
    assert client.get("/beta/$metadata").status_code == 401  # not served: /beta's types are not the v1.0 ones
