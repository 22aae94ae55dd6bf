"""Resource schemas (pure): body validation and the JSON Schemas the OpenAPI document is built from; the error
envelope and the mapping of Passgate errors to Graph codes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from passgate.core.errors import AccessDenied, Conflict, InvalidInput, NotFound, NotSignedIn, PassgateError
from passgate.core.graph.errors import GraphCode, GraphError, classify, envelope
from passgate.core.graph.resources import GROUP, USER
from passgate.core.graph.schema import format_datetime

# Microsoft's own request bodies (Create user example 1; Create group example 2; Create group example 1).
CREATE_USER = {
    "accountEnabled": True,
    "displayName": "Adele Vance",
    "mailNickname": "AdeleV",
    "userPrincipalName": "AdeleV@contoso.onmicrosoft.com",
    "passwordProfile": {"forceChangePasswordNextSignIn": True, "password": "xWwvJ]6NMw+bWH-d"},
}
CREATE_SECURITY_GROUP = {
    "description": "Group with designated owner and members",
    "displayName": "Operations group",
    "groupTypes": [],
    "mailEnabled": False,
    "mailNickname": "operations2019",
    "securityEnabled": True,
    "owners@odata.bind": ["https://graph.microsoft.com/v1.0/users/26be1845-4119-4801-a799-aea79d09f1a2"],
    "members@odata.bind": [
        "https://graph.microsoft.com/v1.0/users/ff7cb387-6688-423c-8188-3da9532a73cc",
        "https://graph.microsoft.com/v1.0/users/69456242-0067-49d3-ba96-9de6f2728e14",
    ],
}
CREATE_M365_GROUP = {
    "description": "Self help community for library",
    "displayName": "Library Assist",
    "groupTypes": ["Unified"],
    "mailEnabled": True,
    "mailNickname": "library",
    "securityEnabled": False,
}


def bad(resource: Any, body: object, mode: str = "create") -> str:
    with pytest.raises(GraphError) as info:
        resource.validate(body, mode=mode)
    assert info.value.status == 400
    return info.value.message


def test_microsofts_create_user_body_is_accepted_and_the_password_dropped() -> None:
    assert USER.validate(CREATE_USER, mode="create") == {
        "accountEnabled": True, "displayName": "Adele Vance", "mailNickname": "AdeleV",
        "userPrincipalName": "AdeleV@contoso.onmicrosoft.com"}
    without_password = {k: v for k, v in CREATE_USER.items() if k != "passwordProfile"}
    assert USER.validate(without_password, mode="create")["displayName"] == "Adele Vance"
    assert USER.validate({**CREATE_USER, "@odata.type": "#microsoft.graph.user"}, mode="create")


def test_microsofts_security_group_body_is_accepted() -> None:
    data = GROUP.validate(CREATE_SECURITY_GROUP, mode="create")
    assert data["members@odata.bind"] == CREATE_SECURITY_GROUP["members@odata.bind"]
    assert data["mailEnabled"] is False and data["securityEnabled"] is True


@pytest.mark.parametrize(("body", "mode", "message"), [
    ({**CREATE_USER, "favouriteColour": "red"}, "create",
     "Property 'favouriteColour' does not exist as a declared property or extension property."),
    ({**CREATE_USER, "DisplayName": "x"}, "create", "Did you mean 'displayName'?"),
    ({**CREATE_USER, "givenName": "Adele"}, "create", "Property 'givenName' is not supported by Passgate."),
    ({**CREATE_USER, "id": "x"}, "create", "Property 'id' is read-only and cannot be set."),
    ({**CREATE_USER, "createdDateTime": "2020-01-01T00:00:00Z"}, "create", "'createdDateTime' is read-only"),
    ({**CREATE_USER, "accountEnabled": "yes"}, "create",
     "Invalid value specified for property 'accountEnabled' of resource 'User'. It must be true or false."),
    ({**CREATE_USER, "accountEnabled": 1}, "create", "'accountEnabled'"),
    ({**CREATE_USER, "displayName": None}, "create", "It cannot be null."),
    ({**CREATE_USER, "displayName": 7}, "create", "It must be a string."),
    ({**CREATE_USER, "mailNickname": "x" * 65}, "create", "at most 64 characters"),
    ({**CREATE_USER, "passwordProfile": "hunter2"}, "create", "'passwordProfile'"),
    ({k: v for k, v in CREATE_USER.items() if k != "mailNickname"}, "create",
     "Property 'mailNickname' is required when creating a user."),
    ({**CREATE_USER, "@odata.type": "#microsoft.graph.group"}, "create", "Invalid '@odata.type'"),
    ({"passwordProfile": {"password": "x"}}, "update", "Passgate has no passwords"),
    ({"createdDateTime": "x"}, "update", "read-only"),
    ([CREATE_USER], "create", "must be a JSON object"),
    ("text", "update", "must be a JSON object"),
])
def test_user_bodies_refused_naming_the_property(body: object, mode: str, message: str) -> None:
    assert message in bad(USER, body, mode)


@pytest.mark.parametrize(("change", "message"), [
    ({"mailEnabled": True}, "Passgate has no mail-enabled groups"),
    ({"securityEnabled": False}, "Passgate groups are security groups"),
    ({"groupTypes": ["Unified"]}, "'Unified' (Microsoft 365)"),
    ({"groupTypes": ["DynamicMembership"]}, "'DynamicMembership'"),
    ({"groupTypes": "Unified"}, "array of strings"),
    ({"visibility": "Private"}, "not supported by Passgate"),
    ({"allowExternalSenders": True}, "does not exist"),
    ({"members@odata.bind": "https://graph.microsoft.com/v1.0/directoryObjects/x"}, "must be an array"),
    ({"members@odata.bind": ["https://graph.microsoft.com/v1.0/directoryObjects/x"] * 21}, "at most 20"),
    ({"mail": "x@contoso.com"}, "not supported by Passgate"),
])
def test_group_bodies_refused_naming_the_property(change: dict[str, Any], message: str) -> None:
    assert message in bad(GROUP, {**CREATE_SECURITY_GROUP, **change})


def test_microsoft_365_group_body_is_refused_clearly() -> None:
    assert "'groupTypes'" in bad(GROUP, CREATE_M365_GROUP)


def test_group_updates() -> None:
    assert GROUP.validate({"description": None, "mailEnabled": False}, mode="update") == {
        "description": None, "mailEnabled": False}
    assert "owners@odata.bind" in bad(GROUP, {"owners@odata.bind": []}, "update")
    assert GROUP.validate({}, mode="update") == {}


def test_json_schemas_follow_the_declarations() -> None:
    read = USER.json_schema("read")
    assert read["properties"]["accountEnabled"] == {
        "type": "boolean", "description": "Whether the user may sign in. Returned only on $select."}
    assert read["properties"]["id"]["readOnly"] is True
    assert read["properties"]["mail"]["type"] == ["string", "null"]
    create = USER.json_schema("create")
    assert create["required"] == ["displayName", "userPrincipalName", "accountEnabled", "mailNickname"]
    assert "id" not in create["properties"] and "passwordProfile" in create["properties"]
    assert create["additionalProperties"] is False
    update = USER.json_schema("update")
    assert "required" not in update and "passwordProfile" not in update["properties"]
    assert GROUP.json_schema("create")["properties"]["mailEnabled"]["enum"] == [False]
    assert "members@odata.bind" in GROUP.json_schema("update")["properties"]


def test_default_properties_are_graphs() -> None:
    assert USER.default_select == ("id", "businessPhones", "displayName", "givenName", "jobTitle", "mail",
                                   "mobilePhone", "officeLocation", "preferredLanguage", "surname",
                                   "userPrincipalName")


# --- errors -------------------------------------------------------------------------------------------

def test_envelope_shape() -> None:
    assert envelope(GraphCode.RESOURCE_NOT_FOUND, "m", date="2026-01-02T03:04:05", request_id="r",
                    client_request_id="c") == {"error": {"code": "Request_ResourceNotFound", "message": "m",
                                                         "innerError": {"date": "2026-01-02T03:04:05",
                                                                        "request-id": "r",
                                                                        "client-request-id": "c"}}}
    with_target = envelope("Request_BadRequest", "m", date="d", request_id="r", client_request_id="c",
                           target="passkeyProfiles[1].name")
    assert list(with_target["error"]) == ["code", "message", "target", "innerError"]


@pytest.mark.parametrize(("error", "expected"), [
    (NotSignedIn("Access token is empty."), (401, GraphCode.INVALID_AUTHENTICATION_TOKEN, "Access token is empty.")),
    (AccessDenied("nope"), (403, GraphCode.AUTHORIZATION_REQUEST_DENIED, "nope")),
    (AccessDenied("nope", code="authorization_denied"),
     (403, GraphCode.AUTHORIZATION_REQUEST_DENIED, "Insufficient privileges to complete the operation.")),
    (NotFound("No user"), (404, GraphCode.RESOURCE_NOT_FOUND, "No user")),
    (Conflict("dup", code="upn_in_use"), (400, GraphCode.REQUEST_BAD_REQUEST,
                                          "Another object with the same value for property userPrincipalName "
                                          "already exists.")),
    (Conflict("dup", code="already_member"), (400, GraphCode.REQUEST_BAD_REQUEST,
                                              "One or more added object references already exist for the "
                                              "following modified properties: 'members'.")),
    (InvalidInput("displayName must be a non-empty string"),
     (400, GraphCode.REQUEST_BAD_REQUEST, "displayName must be a non-empty string")),
    (PassgateError("other"), (400, GraphCode.REQUEST_BAD_REQUEST, "other")),
    (GraphError.not_found("x"), (404, GraphCode.RESOURCE_NOT_FOUND, "Resource 'x' does not exist or one of its "
                                                                    "queried reference-property objects are not "
                                                                    "present.")),
])
def test_classify(error: PassgateError, expected: tuple[int, GraphCode, str]) -> None:
    assert classify(error) == expected


def test_datetimes_are_utc_whole_seconds_with_z() -> None:
    local = datetime(2021, 9, 21, 9, 9, 14, 999, tzinfo=timezone(timedelta(hours=2)))
    assert format_datetime(local) == "2021-09-21T07:09:14Z"
    assert format_datetime(datetime(2021, 1, 1, tzinfo=UTC)) == "2021-01-01T00:00:00Z"
