"""``jsonschema.violation``: the server's own check of a body against the schema ``/openapi.json`` publishes.

It must agree with a full JSON Schema 2020-12 validator (jsonschema_rs, the one schemathesis uses) on every value,
for every schema the server checks with it, and it must refuse a keyword it cannot enforce rather than pass it.
"""

from __future__ import annotations

from typing import Any

import jsonschema_rs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from passgate.core.devices import configuration as device_configuration
from passgate.core.graph import auditlogs
from passgate.core.graph import jsonschema as js
from passgate.core.graph.applications import (
    ADD_PASSWORD_SCHEMA,
    APPLICATION,
    ApplicationPropertyError,
    application_schema,
    read_application,
)
from passgate.core.graph.errors import GraphError

SCHEMAS: dict[str, js.Schema] = {
    "application.create": application_schema("create"),
    "application.update": application_schema("update"),
    "addPassword": ADD_PASSWORD_SCHEMA,
    **{f"application.{p.name}": dict(p.input_schema or p.schema or {}) for p in APPLICATION.props
       if p.schema is not None},
    **{f"signIn.{p.name}": dict(p.schema) for p in auditlogs.SIGN_IN_BETA.props if p.schema is not None},
    **{f"directoryAudit.{p.name}": dict(p.schema) for p in auditlogs.DIRECTORY_AUDIT.props if p.schema is not None},
    "deviceConfiguration.create": device_configuration.profile_schema("create"),
    "deviceConfiguration.update": device_configuration.profile_schema("update"),
    "deviceConfiguration.assign": device_configuration.ASSIGN_SCHEMA,
    "deviceEnrollmentConfiguration.update": device_configuration.enrollment_schema("update"),
    **{kind: device_configuration.oma_setting_schema(kind, read=False) for kind in device_configuration.OMA_TYPES},
}

_SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-3, 3), st.floats(-2, 2, allow_nan=False),
                     st.sampled_from(["", "Role", "AzureADMyOrg", "https://a.test/cb", "00000003-0000-0000-c000-"
                                      "000000000000", "x", "2026-12-04T10:00:00Z"]), st.text(max_size=4))
# Names the schemas know, so that generated objects reach their nested rules, and a few they don't.
_NAMES = sorted({name for schema in SCHEMAS.values() for name in schema.get("properties", {})}
                | {"redirectUris", "logoutUrl", "homePageUrl", "implicitGrantSettings", "enableIdTokenIssuance",
                   "displayName", "keyId", "resourceAppId", "resourceAccess", "id", "type", "unknown", "@odata.id"})
JSON = st.recursive(_SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(st.sampled_from(_NAMES), inner, max_size=4)), max_leaves=12)


@pytest.mark.parametrize("name", sorted(SCHEMAS))
@settings(max_examples=150, deadline=None)
@given(value=JSON)
def test_the_check_agrees_with_a_full_validator(name: str, value: Any) -> None:
    schema = SCHEMAS[name]
    assert (js.violation(schema, value) is None) == jsonschema_rs.validator_for(schema).is_valid(value), (name, value)


@settings(max_examples=400, deadline=None)
@given(body=st.dictionaries(st.sampled_from(_NAMES), JSON, max_size=5), create=st.booleans())
def test_a_body_the_document_forbids_is_never_taken(body: dict[str, Any], create: bool) -> None:
    schema = application_schema("create" if create else "update")
    try:
        read_application(body, create=create)
    except (ApplicationPropertyError, GraphError):
        return
    assert jsonschema_rs.validator_for(schema).is_valid(body), body


@pytest.mark.parametrize(("body", "target"), [
    ({"displayName": "A", "keyCredentials": {}}, "keyCredentials"),  # was taken as "empty"
    ({"displayName": "A", "keyCredentials": ""}, "keyCredentials"),
    ({"displayName": "A", "spa": {"redirectUris": ""}}, "spa.redirectUris"),  # was taken: "" or [] is []
    ({"displayName": "A", "spa": {"redirectUris": 0}}, "spa.redirectUris"),
    ({"displayName": "A", "web": {"implicitGrantSettings": {"enableIdTokenIssuance": 0}}},
     "web.implicitGrantSettings.enableIdTokenIssuance"),  # 0 == False in Python, not in JSON
    ({"displayName": "A", "requiredResourceAccess": [{"resourceAppId": 3}]}, "requiredResourceAccess[0].resourceAppId"),
    ({"displayName": "A", "displayName@odata.type": "x", "@odata.context": 1}, "displayName@odata.type"),
])
def test_what_the_readers_let_through_the_schema_refuses(body: dict[str, Any], target: str) -> None:
    assert not jsonschema_rs.validator_for(application_schema("create")).is_valid(body)
    with pytest.raises(ApplicationPropertyError) as refused:
        read_application(body, create=True)
    assert refused.value.target == target


def test_a_keyword_it_cannot_enforce_is_an_error_not_a_pass() -> None:
    with pytest.raises(ValueError, match="unsupported keywords"):
        js.violation({"type": "string", "multipleOf": 2}, "x")
    with pytest.raises(ValueError, match=r"\$ref"):
        js.violation({"$ref": "#/components/schemas/user"}, {})


def test_refusals_name_the_place_and_the_rule() -> None:
    schema = js.obj({"a": js.array(js.obj({"b": js.BOOLEAN}, required=("b",)), max_items=2)})
    assert js.violation(schema, {"a": [{"b": True}, {"b": 1}]}) == ("a[1].b", "'a[1].b' must be true or false.")
    assert js.violation(schema, {"a": [{}]}) == ("a[0].b", "'a[0].b' is required.")
    assert js.violation(schema, {"a": [{"b": True}] * 3}) == ("a", "'a' may have at most 2 item(s).")
    assert js.violation(schema, {"c": 1})[0] == "c"  # type: ignore[index]
    assert js.violation(js.string(enum=["ES256", "RS256"]), "HS256") == (
        "", "'the body' must be one of: 'ES256', 'RS256'.")
