"""The OpenAPI schemas of Graph resources name Graph's own properties, with Graph's types.

Checked against Microsoft Graph's v1.0 metadata (a subset, passgate/graph_api/data/graph-v1.0.csdl, see the
README.md there): every property a schema declares (read, create or update), at every level listed below, exists on
the Graph type or its base types, and its JSON type matches the CSDL type. Passgate's own instance annotations
(``@passgate.*``) and OData control information (``@odata.*``) are not Graph properties.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from passgate.graph_api.openapi import build_document
from tests.graph.csdl import EXTRA

pytestmark = pytest.mark.django_db

CSDL = Path(__file__).resolve().parents[2] / "passgate" / "graph_api" / "data" / "graph-v1.0.csdl"
EDM = "{http://docs.oasis-open.org/odata/ns/edm}"
JSON_TYPES = {"Edm.String": "string", "Edm.Guid": "string", "Edm.DateTimeOffset": "string", "Edm.Boolean": "boolean",
              "Edm.Int32": "integer", "Edm.Int64": "integer", "Edm.Binary": "string"}

# Graph beta properties in the schemas: a method's last use (answered on /beta; /v1.0 answers carry
# @passgate.lastUsedDateTime instead), and Conditional Access conditions the parser accepts only when empty so that a
# beta client's GET body can be sent back.
BETA_ONLY = {"fido2AuthenticationMethod": {"lastUsedDateTime"},
             "softwareOathAuthenticationMethod": {"lastUsedDateTime"},
             "conditionalAccessConditionSet": {"agentIdRiskLevels", "deviceStates", "times"},
             "conditionalAccessApplications": {"globalSecureAccess", "networkAccess"},
             "conditionalAccessPolicy": {"partialEnablementStrategy"},
             # beta: the steps of a sign-in and what they came to
             "signIn": {"authenticationDetails", "authenticationRequirement", "authenticationMethodsUsed"},
             # beta: "Use security keys for sign-in" (ADR 0007; on /v1.0 answers carry @passgate.securityKeyForSignIn)
             "deviceEnrollmentWindowsHelloForBusinessConfiguration": {"securityKeyForSignIn"},
             **EXTRA}

# (component schema, JSON path inside it, Graph type)
CHECKS = [
    ("organization", (), "organization"),
    ("organization", ("verifiedDomains", "items"), "verifiedDomain"),
    ("organization", ("assignedPlans", "items"), "assignedPlan"),
    ("organization", ("provisionedPlans", "items"), "provisionedPlan"),
    *[(name, (), "fido2AuthenticationMethod") for name in ("fido2AuthenticationMethod",
                                                            "fido2AuthenticationMethod.create")],
    ("softwareOathAuthenticationMethod", (), "softwareOathAuthenticationMethod"),
    *[(name, (), "temporaryAccessPassAuthenticationMethod") for name in (
        "temporaryAccessPassAuthenticationMethod", "temporaryAccessPassAuthenticationMethod.create")],
    ("webauthnCredentialCreationOptions", (), "webauthnCredentialCreationOptions"),
    *[(f"{kind}AuthenticationMethodConfiguration{mode}", (), f"{kind}AuthenticationMethodConfiguration")
      for kind in ("fido2", "softwareOath", "temporaryAccessPass") for mode in ("", ".update")],
    *[(f"fido2AuthenticationMethodConfiguration{mode}", path, graph_type) for mode in ("", ".update")
      for path, graph_type in ((("passkeyProfiles", "items"), "passkeyProfile"),
                               (("keyRestrictions",), "fido2KeyRestrictions"),
                               (("includeTargets", "items"), "passkeyAuthenticationMethodTarget"),
                               (("excludeTargets", "items"), "excludeTarget"))],
    *[(f"softwareOathAuthenticationMethodConfiguration{mode}", ("includeTargets", "items"),
       "authenticationMethodTarget") for mode in ("", ".update")],
    *[(f"authenticationMethodsPolicy{mode}", (), "authenticationMethodsPolicy") for mode in ("", ".update")],
    *[(f"authenticationStrengthPolicy{mode}", path, graph_type) for mode in ("", ".create", ".update")
      for path, graph_type in (((), "authenticationStrengthPolicy"),
                               (("combinationConfigurations", "items"), "fido2CombinationConfiguration"))],
    ("authenticationStrengthUsage", (), "authenticationStrengthUsage"),
    *[(f"conditionalAccessPolicy{mode}", path, graph_type) for mode in ("", ".create", ".update")
      for path, graph_type in (((), "conditionalAccessPolicy"), (("conditions",), "conditionalAccessConditionSet"),
                               (("conditions", "users"), "conditionalAccessUsers"),
                               (("conditions", "applications"), "conditionalAccessApplications"),
                               (("grantControls",), "conditionalAccessGrantControls"))],
    *[(f"application{mode}", path, graph_type) for mode in ("", ".create", ".update")
      for path, graph_type in (((), "application"), (("web",), "webApplication"),
                               (("web", "implicitGrantSettings"), "implicitGrantSettings"),
                               (("spa",), "spaApplication"), (("publicClient",), "publicClientApplication"),
                               (("requiredResourceAccess", "items"), "requiredResourceAccess"),
                               (("requiredResourceAccess", "items", "resourceAccess", "items"), "resourceAccess"))],
    *[(f"application{mode}", ("passwordCredentials", "items"), "passwordCredential") for mode in ("", ".create")],
    ("passwordCredential", (), "passwordCredential"),
    ("addPassword", ("passwordCredential",), "passwordCredential"),
    *[("signIn", path, graph_type) for path, graph_type in (
        ((), "signIn"), (("status",), "signInStatus"), (("deviceDetail",), "deviceDetail"),
        (("location",), "signInLocation"), (("appliedConditionalAccessPolicies", "items"),
                                            "appliedConditionalAccessPolicy"))],
    *[("directoryAudit", path, graph_type) for path, graph_type in (
        ((), "directoryAudit"), (("initiatedBy",), "auditActivityInitiator"), (("initiatedBy", "user"), "userIdentity"),
        (("initiatedBy", "app"), "appIdentity"), (("targetResources", "items"), "targetResource"),
        (("targetResources", "items", "modifiedProperties", "items"), "modifiedProperty"),
        (("additionalDetails", "items"), "keyValue"))],
    *[(f"device{mode}", (), "device") for mode in ("", ".update")],
    *[(f"deviceConfiguration{mode}", path, graph_type) for mode in ("", ".create", ".update")
      for path, graph_type in (((), "windows10CustomConfiguration"), (("omaSettings", "items"), "omaSettingBase64"))],
    *[(kind, (), kind) for kind in ("omaSettingBase64", "omaSettingBoolean", "omaSettingDateTime",
                                    "omaSettingFloatingPoint", "omaSettingInteger", "omaSettingString",
                                    "omaSettingStringXml")],
    ("deviceConfigurationAssignment", (), "deviceConfigurationAssignment"),
    ("deviceConfigurationAssignment", ("target",), "groupAssignmentTarget"),
    ("deviceConfiguration.assign", ("assignments", "items"), "deviceConfigurationAssignment"),
    ("deviceConfiguration.assign", ("assignments", "items", "target"), "groupAssignmentTarget"),
    *[(kind, (), kind) for kind in ("groupAssignmentTarget", "exclusionGroupAssignmentTarget")],
    *[(f"deviceEnrollmentConfiguration{mode}", (), "deviceEnrollmentWindowsHelloForBusinessConfiguration")
      for mode in ("", ".update")],
    ("unifiedRoleDefinition", (), "unifiedRoleDefinition"),
    ("unifiedRoleDefinition", ("rolePermissions", "items"), "unifiedRolePermission"),
    *[(f"unifiedRoleAssignment{mode}", (), "unifiedRoleAssignment") for mode in ("", ".create")],
    ("directoryRole", (), "directoryRole"),
    ("directoryRoleTemplate", (), "directoryRoleTemplate"),
]


def _graph_types() -> dict[str, tuple[str | None, dict[str, str]]]:
    root = ET.parse(CSDL).getroot()  # noqa: S314 - a fixture of ours
    types: dict[str, tuple[str | None, dict[str, str]]] = {}
    for kind in ("EntityType", "ComplexType"):
        for element in root.iter(f"{EDM}{kind}"):
            props = {p.get("Name", ""): p.get("Type", "") for p in element
                     if p.tag in (f"{EDM}Property", f"{EDM}NavigationProperty")}
            base = element.get("BaseType")
            types[element.get("Name", "")] = (base.removeprefix("graph.").removeprefix("microsoft.graph.")
                                              if base else None, props)
    return types


def _properties(types: dict[str, tuple[str | None, dict[str, str]]], name: str | None) -> dict[str, str]:
    if name is None:
        return {}
    base, props = types[name]
    return {**_properties(types, base), **props}


def _unwrap(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    """The object schema behind a $ref, a nullable anyOf or an allOf."""
    while True:
        if "$ref" in schema:
            node: Any = document
            for part in schema["$ref"][2:].split("/"):
                node = node[part]
            schema = node
        elif "allOf" in schema:
            schema = schema["allOf"][0]
        elif "anyOf" in schema and not schema.get("properties"):
            schema = next(s for s in schema["anyOf"] if s.get("type") != "null")
        else:
            return schema


def _json_kind(schema: dict[str, Any]) -> set[str]:
    kinds = schema.get("type")
    if kinds is None:
        return set()
    return {k for k in (kinds if isinstance(kinds, list) else [kinds]) if k != "null"}


@pytest.mark.parametrize(("schema_name", "path", "graph_type"), CHECKS)
def test_schemas_name_graph_properties_with_graph_types(client: Any, schema_name: str, path: tuple[str, ...],
                                                        graph_type: str) -> None:
    document = build_document()
    schema = _unwrap(document, document["components"]["schemas"][schema_name])
    for step in path:
        schema = _unwrap(document, schema["items"] if step == "items" else schema["properties"][step])
    graph = _properties(_graph_types(), graph_type)
    declared = {name: prop for name, prop in schema["properties"].items() if not name.startswith("@")}
    assert declared, schema_name
    unknown = sorted(set(declared) - set(graph) - BETA_ONLY.get(graph_type, set()))
    assert not unknown, f"{schema_name} {'/'.join(path)}: not properties of Graph's {graph_type}: {unknown}"
    for name, prop in declared.items():
        if name not in graph:
            continue
        csdl = graph[name]
        item = csdl.removeprefix("Collection(").removesuffix(")")
        inner = _unwrap(document, prop)
        if csdl.startswith("Collection("):
            assert _json_kind(inner) <= {"array"}, (schema_name, name, csdl)
            inner = _unwrap(document, inner.get("items", {})) if "items" in inner else inner
        if item in JSON_TYPES and _json_kind(inner):
            assert _json_kind(inner) == {JSON_TYPES[item]}, (schema_name, name, csdl, inner)
