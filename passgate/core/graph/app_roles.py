"""App roles as Graph carries them: an application's ``appRoles`` (``core.app_roles``'s rules, read from bodies
naming the property at fault), and ``appRoleAssignment``, a role of an app given to a user or a group
(``/users/{id}/appRoleAssignments``, ``/groups/{id}/appRoleAssignments``).

Passgate has no service principals: an assignment's ``resourceId`` is the application's object id.
"""

from __future__ import annotations

from typing import Any, Final

from passgate.core import app_roles
from passgate.core.app_api import ApiInputError
from passgate.core.app_roles import AppRole
from passgate.core.graph import jsonschema as js
from passgate.core.graph.errors import GraphError
from passgate.core.graph.schema import Kind, Prop, Resource, Write

_NULLABLE_STRING = js.nullable(js.STRING)
APP_ROLE_SCHEMA: Final = js.obj({
    "allowedMemberTypes": js.array(js.string(enum=list(app_roles.MEMBER_TYPES))), "description": _NULLABLE_STRING,
    "displayName": js.STRING, "id": js.guid(), "isEnabled": js.BOOLEAN, "origin": js.string(enum=["Application"]),
    "value": _NULLABLE_STRING}, required=app_roles.ROLE_FIELDS, title="microsoft.graph.appRole")
APP_ROLE_INPUT: Final = js.obj({
    "allowedMemberTypes": js.array(js.STRING), "description": _NULLABLE_STRING, "displayName": js.STRING,
    "id": js.STRING, "isEnabled": js.nullable(js.BOOLEAN), "origin": _NULLABLE_STRING, "value": _NULLABLE_STRING},
    title="microsoft.graph.appRole")
APP_ROLES_SCHEMA: Final = js.array(APP_ROLE_SCHEMA)
APP_ROLES_INPUT: Final = js.nullable(js.array(APP_ROLE_INPUT))


def read_app_roles(value: object) -> tuple[AppRole, ...]:
    """``appRoles`` of a body (null: none)."""
    if value is None:
        return ()
    if not isinstance(value, list):
        raise ApiInputError("appRoles", "'appRoles' must be an array of appRole objects.", code=app_roles.CODE)
    read = [app_roles.read_app_role(item, f"appRoles[{i}]") for i, item in enumerate(value)]
    return app_roles.validate_app_roles(read)


PRINCIPAL_TYPES: Final = ("User", "Group")
APP_ROLE_ASSIGNMENT = Resource(
    type_name="microsoft.graph.appRoleAssignment", entity="AppRoleAssignment", entity_set="appRoleAssignments",
    description="An app role given to a user or a group. Passgate has no service principals: resourceId is the "
                "application's object id.",
    props=(
        Prop("id", Kind.STRING, "The assignment's id."),
        Prop("appRoleId", Kind.GUID, "The id of the app role (one of the resource application's appRoles).",
             create=Write.REQUIRED),
        Prop("principalId", Kind.GUID, "The user's or group's object id (the one in the URL).",
             create=Write.REQUIRED),
        Prop("principalType", Kind.STRING, "User or Group.", allowed=PRINCIPAL_TYPES),
        Prop("principalDisplayName", Kind.STRING, "The user's or group's display name.", nullable=True),
        Prop("resourceId", Kind.GUID, "The object id of the application that defines the role.",
             create=Write.REQUIRED),
        Prop("resourceDisplayName", Kind.STRING, "The application's display name.", nullable=True),
        Prop("createdDateTime", Kind.DATETIME, "When the role was assigned (UTC)."),
        Prop("deletedDateTime", Kind.DATETIME, "Always null.", nullable=True),
    ),
)
_BODY_FIELDS: Final = ("appRoleId", "principalId", "resourceId")
_READ_ONLY: Final = ("id", "principalType", "principalDisplayName", "resourceDisplayName", "createdDateTime",
                     "deletedDateTime")
ASSIGNMENT_INPUT: Final = {
    "type": "object", "title": "microsoft.graph.appRoleAssignment", "required": list(_BODY_FIELDS),
    "properties": {**{name: js.STRING for name in _BODY_FIELDS}, "@odata.type": js.STRING,
                   **{name: js.ANY for name in _READ_ONLY}},
    "additionalProperties": False,
}


def read_assignment(body: object, *, principal_id: str) -> tuple[str, str]:
    """A POST body: (``resourceId``, ``appRoleId``), both GUIDs; ``principalId`` must be ``principal_id``, the
    user's or group's id in the URL. 400 naming the property otherwise."""
    if not isinstance(body, dict):
        raise GraphError.malformed("The request body must be a JSON object.")
    for name, value in body.items():
        if name == "@odata.type":
            if value not in (APP_ROLE_ASSIGNMENT.odata_type, APP_ROLE_ASSIGNMENT.type_name):
                raise GraphError.bad_request(f"Invalid '@odata.type' value {str(value)[:80]!r}: this request takes "
                                             f"'{APP_ROLE_ASSIGNMENT.odata_type}'.")
        elif name in _READ_ONLY:
            if value is not None:
                raise GraphError.bad_request(f"Property '{name}' is read-only and cannot be set.")
        elif name not in _BODY_FIELDS:
            raise GraphError.bad_request(f"Property '{name[:80]}' does not exist as a declared property or extension "
                                         f"property. An appRoleAssignment takes {', '.join(_BODY_FIELDS)}.")
    found = {}
    for name in _BODY_FIELDS:
        if name not in body:
            raise GraphError.bad_request(f"Property '{name}' is required when creating an appRoleAssignment.")
        value = app_roles.guid(body[name])
        if value is None:
            raise GraphError.bad_request(f"Invalid value specified for property '{name}': it must be a GUID.")
        found[name] = value
    if found["principalId"] != principal_id.lower():
        raise GraphError.bad_request("Invalid value specified for property 'principalId': it must be the id of the "
                                     "user or group in the URL.")
    return found["resourceId"], found["appRoleId"]


def assignment_schema() -> dict[str, Any]:
    """The read schema, every property always sent."""
    return APP_ROLE_ASSIGNMENT.json_schema("read", closed=True)
