"""GET /openapi.json: generated from the endpoint registry, complete, and internally consistent."""

from __future__ import annotations

import re
from typing import Any

import pytest

from passgate.core.graph import authz
from passgate.graph_api.registry import ENDPOINTS
from tests.graph.conftest import ORIGIN

pytestmark = pytest.mark.django_db


@pytest.fixture
def document(client: Any) -> dict[str, Any]:
    response = client.get("/openapi.json")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    return dict(response.json())


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        return [v for k, v in node.items() if k == "$ref"] + [r for v in node.values() for r in _refs(v)]
    if isinstance(node, list):
        return [r for v in node for r in _refs(v)]
    return []


def _resolve(document: dict[str, Any], ref: str) -> Any:
    assert ref.startswith("#/"), ref
    node: Any = document
    for part in ref[2:].split("/"):
        node = node[part]
    return node


def test_document_basics(document: dict[str, Any]) -> None:
    assert document["openapi"] == "3.1.0"
    assert document["servers"] == [{"url": f"{ORIGIN}/v1.0"}, {"url": f"{ORIGIN}/beta"}]
    flows = document["components"]["securitySchemes"]["oauth2"]["flows"]["clientCredentials"]
    assert flows["tokenUrl"] == f"{ORIGIN}/oauth2/v2.0/token"
    assert set(flows["scopes"]) == {p.value for p in authz.Permission}
    assert "/oauth2/v2.0/token" in document["paths"]


def test_every_endpoint_is_documented_once_with_its_authorization(document: dict[str, Any]) -> None:
    operation_ids = []
    for found in ENDPOINTS:
        op = document["paths"][found.path][found.method.lower()]
        operation_ids.append(op["operationId"])
        params = [p["name"] for p in op.get("parameters", []) if "name" in p]
        assert params == re.findall(r"\{([^}]+)\}", found.path)
        if found.any_caller:  # /organization: any app token or session
            assert found.path.startswith("/organization") and op["security"] == [{"oauth2": []}, {"session": []}]
            continue
        if found.operation is None:  # /me endpoints: a signed-in person, no permission or role
            assert (found.path == "/me" or found.path.startswith("/me/")) and op["security"] == [{"session": []}]
            assert ("403" in op["responses"]) == (found.method != "GET")  # changing needs a recent sign-in
            assert "400" in op["responses"]  # an app token: "/me request is only valid with delegated …"
            continue
        rule = authz.OPERATIONS[found.operation]
        assert op["x-passgate-operation"] == found.operation
        assert {s for entry in op["security"] for s in entry.get("oauth2", [])} == {p.value for p in rule.permissions}
        assert {"session": []} in op["security"]
        assert set(op["x-passgate-roles"]) == {authz.ROLE_NAMES[r] for r in rule.roles}
        for status in ("401", "403"):
            assert op["responses"][status]["content"]["application/json"]["schema"] == {
                "$ref": "#/components/schemas/ODataError"}
        success = [s for s in op["responses"] if s.startswith("2")]
        assert [int(s) for s in success] == list(found.responses)
    assert len(operation_ids) == len(set(operation_ids))
    documented = {(path, method) for path, item in document["paths"].items() for method in item}
    assert documented == {(e.path, e.method.lower()) for e in ENDPOINTS} | {("/oauth2/v2.0/token", "post")}


def test_every_reference_resolves(document: dict[str, Any]) -> None:
    refs = _refs(document)
    assert len(refs) > 30
    for ref in refs:
        assert _resolve(document, ref) is not None


def test_bodies_come_from_the_resource_declarations(document: dict[str, Any]) -> None:
    create_user = document["paths"]["/users"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    schema = _resolve(document, create_user["$ref"])
    assert set(schema["required"]) == {"accountEnabled", "displayName", "mailNickname", "userPrincipalName"}
    assert "passwordProfile" in schema["properties"] and schema["additionalProperties"] is False
    group = _resolve(document, "#/components/schemas/group.create")
    assert group["properties"]["mailEnabled"]["enum"] == [False]
    assert "members@odata.bind" in group["properties"]
    user = _resolve(document, "#/components/schemas/user")
    assert user["properties"]["createdDateTime"]["format"] == "date-time"
    list_users = document["paths"]["/users"]["get"]
    assert [p["$ref"] for p in list_users["parameters"]] == [
        "#/components/parameters/select", "#/components/parameters/filter", "#/components/parameters/top",
        "#/components/parameters/skiptoken", "#/components/parameters/orderby", "#/components/parameters/count",
        "#/components/parameters/search"]
