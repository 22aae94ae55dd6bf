"""What the fuzzer (tests/fuzz) found about request bodies and parameters, each pinned here in the ordinary suite.

- A PATCH that names no property (``{}``, or no body at all) was answered 204 on every PATCH endpoint although it
  changes nothing: now 400 (``minProperties: 1`` in the document), audited, nothing changed; a missing resource
  is still 404 first.
- ``creationOptions(challengeTimeoutInMinutes=…)`` took anything ``int()`` reads (`` 5``, ``+5``, non-ASCII digits)
  though the document says an integer.
- The document now types every request and response body (no untyped object left).
"""

from __future__ import annotations

from typing import Any

import pytest

import passgate.graph_api.views  # noqa: F401 - registers every endpoint
from passgate.audit.models import AuditEvent
from passgate.graph_api.openapi import build_document
from passgate.graph_api.registry import ENDPOINTS
from tests.graph.conftest import error_of
from tests.graph.methods import joined_device

pytestmark = pytest.mark.django_db

ALL_WRITES = ("User.ReadWrite.All", "Group.ReadWrite.All", "Policy.ReadWrite.AuthenticationMethod",
              "Policy.ReadWrite.ConditionalAccess", "Application.ReadWrite.All", "Policy.Read.All",
              "Device.ReadWrite.All", "DeviceManagementConfiguration.ReadWrite.All")


@pytest.fixture
def api(app_api: Any) -> Any:
    return app_api(*ALL_WRITES)


@pytest.fixture
def targets(api: Any, make_user: Any) -> dict[str, str]:
    """One existing object for each PATCH path, made through the API."""
    user = make_user()
    group = api.post("/v1.0/groups", {"displayName": "G", "mailEnabled": False, "mailNickname": "g",
                                      "securityEnabled": True}).json()
    strength = api.post("/v1.0/policies/authenticationStrengthPolicies",
                        {"displayName": "S", "allowedCombinations": ["fido2"],
                         "combinationConfigurations": [{"appliesToCombinations": ["fido2"],
                                                        "allowedAAGUIDs": ["cb69481e-8ff7-4039-93ec-0a2729a154a8"]}]}
                        ).json()
    policy = api.post("/v1.0/identity/conditionalAccess/policies", {
        "displayName": "P", "state": "disabled", "conditions": {"users": {"includeGroups": [group["id"]]},
                                                                "applications": {"includeApplications": ["All"]}},
        "grantControls": {"operator": "OR", "builtInControls": ["mfa"]}}).json()
    app = api.post("/v1.0/applications", {"displayName": "A"}).json()
    profile = api.post("/v1.0/deviceManagement/deviceConfigurations", {
        "@odata.type": "#microsoft.graph.windows10CustomConfiguration", "displayName": "D"}).json()
    return {"{deviceConfiguration-id}": profile["id"],
            "{deviceEnrollmentConfiguration-id}": "DefaultWindowsHelloForBusiness",
            "{user-id}": str(user.pk), "{group-id}": group["id"], "{authenticationStrengthPolicy-id}": strength["id"],
            "{authenticationCombinationConfiguration-id}": strength["combinationConfigurations"][0]["id"],
            "{conditionalAccessPolicy-id}": policy["id"], "{application-id}": app["id"], "{appId}": app["appId"],
            "{authenticationMethodConfiguration-id}": "Fido2", "{device-id}": str(joined_device().id)}


PATCHES = sorted(e.path for e in ENDPOINTS if e.method == "PATCH")


def _url(path: str, targets: dict[str, str]) -> str:
    for param, value in targets.items():
        path = path.replace(param, value)
    return "/v1.0" + path


@pytest.mark.parametrize("path", PATCHES)
@pytest.mark.parametrize("body", ["{}", ""], ids=["empty-object", "no-body"])
def test_a_patch_that_names_nothing_is_refused_and_audited(api: Any, targets: dict[str, str], path: str,
                                                           body: str) -> None:
    url = _url(path, targets)
    before = api.get(url).json()
    successes = AuditEvent.objects.filter(result="success").count()
    response = api.client.patch(url, data=body, content_type="application/json",
                                HTTP_AUTHORIZATION=f"Bearer {api.token}")
    status, code, message = error_of(response)
    assert (status, code) == (400, "Request_BadRequest")
    assert message.startswith("The request body names no property to change")
    refusal = AuditEvent.objects.filter(result="failure").latest("id")
    assert refusal.reason == "empty_patch_body" and refusal.details["method"] == "PATCH"
    assert AuditEvent.objects.filter(result="success").count() == successes
    after = api.get(url).json()
    assert {k: v for k, v in after.items() if k != "@odata.context"} == {
        k: v for k, v in before.items() if k != "@odata.context"}


def test_an_empty_patch_of_a_missing_object_is_still_not_found(api: Any) -> None:
    response = api.patch("/v1.0/users/00000000-0000-0000-0000-00000000abcd", {})
    assert error_of(response)[:2] == (404, "Request_ResourceNotFound")


def test_a_patch_naming_one_property_still_works(api: Any, targets: dict[str, str]) -> None:
    url = _url("/policies/authenticationMethodsPolicy", targets)
    assert api.patch(url, {"@odata.type": "#microsoft.graph.authenticationMethodsPolicy"}).status_code == 204


def test_the_document_says_minproperties_on_every_patch() -> None:
    document = build_document()
    for path in PATCHES:
        body = document["paths"][path]["patch"]["requestBody"]
        assert body["required"] is True
        assert body["content"]["application/json"]["schema"]["minProperties"] == 1, path


@pytest.mark.parametrize("minutes", [" 5", "+5", "5 ", "\u0665", "1e3", "5.0"])
def test_creation_options_timeout_is_an_integer_as_written(app_api: Any, make_user: Any, minutes: str) -> None:
    user = make_user()
    response = app_api("UserAuthenticationMethod.ReadWrite.All").get(
        f"/v1.0/users/{user.pk}/authentication/fido2Methods/creationOptions(challengeTimeoutInMinutes={minutes})")
    status, _, message = error_of(response)
    assert status == 400 and "challengeTimeoutInMinutes" in message


def _resolve(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema or "allOf" in schema:
        if "allOf" in schema:
            schema = schema["allOf"][0]
            continue
        node: Any = document
        for part in schema["$ref"][2:].split("/"):
            node = node[part]
        schema = node
    return schema


def _untyped(document: dict[str, Any], schema: dict[str, Any], where: str, seen: set[str]) -> list[str]:
    """Places where a body is an object the document doesn't describe (no properties, or any extra allowed)."""
    if "$ref" in schema:
        if schema["$ref"] in seen:
            return []
        seen.add(schema["$ref"])
    schema = _resolve(document, schema)
    found: list[str] = []
    for branch in schema.get("anyOf", []) + schema.get("oneOf", []):
        found += _untyped(document, branch, where, seen)
    kinds = schema.get("type")
    if kinds == "object" or (isinstance(kinds, list) and "object" in kinds):
        described = "properties" in schema or "additionalProperties" in schema or "patternProperties" in schema
        if not described or schema.get("additionalProperties") is True:
            found.append(where)
        for name, prop in schema.get("properties", {}).items():
            found += _untyped(document, prop, f"{where}.{name}", seen)
    if "items" in schema:
        found += _untyped(document, schema["items"], f"{where}[]", seen)
    return found


# Objects the server takes whole on purpose: a credential the WebAuthn verifier reads, a JWK set, the
# passwordProfile Passgate ignores.
OPAQUE = ("publicKeyCredential", "@passgate.jwks", "passwordProfile")

def test_every_body_is_typed() -> None:
    document = build_document()
    untyped: list[str] = []
    for path, item in document["paths"].items():
        for method, op in item.items():
            contents = [("request", op.get("requestBody", {}).get("content", {}))] + [
                (status, r.get("content", {})) for status, r in op["responses"].items()]
            for what, content in contents:
                for media in content.values():
                    untyped += _untyped(document, media["schema"], f"{method.upper()} {path} {what}", set())
    untyped = [u for u in untyped if not u.endswith(OPAQUE)]
    assert not untyped, untyped
