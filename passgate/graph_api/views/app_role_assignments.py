"""``/users/{id}/appRoleAssignments`` and ``/groups/{id}/appRoleAssignments``: an app's roles given to people and
groups (Graph's appRoleAssignment; ``passgate.apps.app_roles``). Tokens for the app carry the values of the
enabled roles a person holds, directly or through a group, as their ``roles`` claim.

Reading needs User.Read.All (users) or Group.Read.All (groups), or AppRoleAssignment.ReadWrite.All, or an admin
role; writing AppRoleAssignment.ReadWrite.All, or the Application, Cloud Application, User or Privileged Role
Administrator. Passgate has no service principals: ``resourceId`` is the application's object id.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NoReturn

from rest_framework.response import Response

from passgate.apps.app_roles import (
    Principal,
    app_role_assign,
    app_role_unassign,
    app_role_unassign_refusal_record,
    role_assignment_of,
    role_assignments_of,
)
from passgate.apps.models import AppRoleAssignment
from passgate.apps.selectors import app_by_object_id
from passgate.core.app_api import ApiInputError
from passgate.core.graph.app_roles import APP_ROLE_ASSIGNMENT, ASSIGNMENT_INPUT, read_assignment
from passgate.core.graph.errors import GraphError
from passgate.core.graph.schema import format_datetime
from passgate.graph_api.registry import Call, endpoint, register_resource, register_schema
from passgate.graph_api.views.groups import load_group
from passgate.graph_api.views.users import load_user

register_resource(APP_ROLE_ASSIGNMENT, "appRoleAssignment")
register_schema("appRoleAssignment.create", ASSIGNMENT_INPUT)
WRITE = "appRoleAssignments.write"


def assignment_json(assignment: AppRoleAssignment, select: tuple[str, ...] = ()) -> dict[str, Any]:
    user = assignment.user
    values: dict[str, Any] = {
        "id": str(assignment.pk), "appRoleId": str(assignment.app_role_id),
        "principalId": str(assignment.user_id or assignment.group_id),
        "principalType": "User" if user is not None else "Group",
        "principalDisplayName": user.display_name if user is not None else (
            assignment.group.display_name if assignment.group is not None else None),
        "resourceId": str(assignment.app_id), "resourceDisplayName": assignment.app.display_name,
        "createdDateTime": format_datetime(assignment.created_at), "deletedDateTime": None,
    }
    return {name: values[name] for name in (select or APP_ROLE_ASSIGNMENT.default_select)}


def _context(call: Call, kind: str, principal: Principal, *, single: bool, select: tuple[str, ...] = ()) -> str:
    fragment = f"{kind}('{principal.pk}')/appRoleAssignments" + (f"({','.join(select)})" if select else "")
    return call.metadata(fragment + ("/$entity" if single else ""))


def _refuse(call: Call, error: GraphError, reason: str, where: str = "body") -> NoReturn:
    error.code = reason
    call.refused(error, where=where)
    raise error


def _written(call: Call, load: Callable[[str], Principal], key: str) -> Principal:
    """The user or group a write names; one that does not exist is Graph's 404, audited (``principal_not_found``)."""
    try:
        return load(key)
    except GraphError as exc:
        _refuse(call, exc, "principal_not_found", "path")


def _list(call: Call, kind: str, principal: Principal) -> Response:
    query = call.query(APP_ROLE_ASSIGNMENT, collection=True, supported=("$select",))
    return Response({"@odata.context": _context(call, kind, principal, single=False, select=query.select),
                     "value": [assignment_json(a, query.select) for a in role_assignments_of(principal)]})


def _create(call: Call, kind: str, principal: Principal) -> Response:
    try:
        resource_id, role_id = read_assignment(call.body, principal_id=str(principal.pk))
    except GraphError as exc:
        call.refused(exc, where="body")
        raise
    app = app_by_object_id(resource_id)
    if app is None:
        _refuse(call, GraphError.not_found(resource_id), "app_not_found")
    try:
        assignment = app_role_assign(app=app, app_role_id=role_id, principal=principal, actor=call.actor,
                                     context=call.context)
    except ApiInputError as exc:
        raise GraphError.bad_request(f"Invalid value specified for property 'appRoleId': {exc.message}") from None
    return Response({"@odata.context": _context(call, kind, principal, single=True),
                     **assignment_json(assignment)}, status=201)


def _delete(call: Call, principal: Principal, assignment_id: str) -> Response:
    assignment = role_assignment_of(principal, assignment_id)
    if assignment is None:
        app_role_unassign_refusal_record(principal=principal, reason="app_role_assignment_not_found",
                                         message=f"No assignment {assignment_id[:64]}", actor=call.actor,
                                         context=call.context)
        raise GraphError.not_found(assignment_id)
    app_role_unassign(assignment=assignment, actor=call.actor, context=call.context)
    return Response(status=204)


USERS = "/users/{user-id}/appRoleAssignments"
GROUPS = "/groups/{group-id}/appRoleAssignments"
TAG = "appRoleAssignments"
_CREATE_DOC = ("Body ``principalId`` (the id in the URL), ``resourceId`` (the application's object id: Passgate has "
               "no service principals) and ``appRoleId`` (one of its enabled appRoles). 400 for a role the "
               "application does not define or has disabled, and for a role already given (Graph's words: "
               "\"Permission being assigned already exists on the object.\"); 404 for an unknown resourceId.")


@endpoint("GET", USERS, operation="appRoleAssignments.users.read", tag=TAG, query=("$select",),
          summary="List the app roles given to a user", responses={200: "appRoleAssignment.collection"},
          operation_id="users.appRoleAssignments.list")
def user_app_roles_list(call: Call, user_id: str) -> Response:
    """The roles given to the user directly (not through groups), oldest first."""
    return _list(call, "users", load_user(user_id))


@endpoint("POST", USERS, operation=WRITE, tag=TAG, request="appRoleAssignment.create",
          summary="Give a user an app role", responses={201: "appRoleAssignment"}, description=_CREATE_DOC,
          operation_id="users.appRoleAssignments.create")
def user_app_roles_add(call: Call, user_id: str) -> Response:
    return _create(call, "users", _written(call, load_user, user_id))


@endpoint("DELETE", USERS + "/{appRoleAssignment-id}", operation=WRITE, tag=TAG,
          summary="Take an app role back from a user", responses={204: None},
          operation_id="users.appRoleAssignments.delete")
def user_app_roles_remove(call: Call, user_id: str, app_role_assignment_id: str) -> Response:
    """404 when the user has no such assignment."""
    return _delete(call, _written(call, load_user, user_id), app_role_assignment_id)


@endpoint("GET", GROUPS, operation="appRoleAssignments.groups.read", tag=TAG, query=("$select",),
          summary="List the app roles given to a group", responses={200: "appRoleAssignment.collection"},
          operation_id="groups.appRoleAssignments.list")
def group_app_roles_list(call: Call, group_id: str) -> Response:
    """The roles given to the group (its members hold them), oldest first."""
    return _list(call, "groups", load_group(group_id))


@endpoint("POST", GROUPS, operation=WRITE, tag=TAG, request="appRoleAssignment.create",
          summary="Give a group an app role", responses={201: "appRoleAssignment"}, description=_CREATE_DOC,
          operation_id="groups.appRoleAssignments.create")
def group_app_roles_add(call: Call, group_id: str) -> Response:
    return _create(call, "groups", _written(call, load_group, group_id))


@endpoint("DELETE", GROUPS + "/{appRoleAssignment-id}", operation=WRITE, tag=TAG,
          summary="Take an app role back from a group", responses={204: None},
          operation_id="groups.appRoleAssignments.delete")
def group_app_roles_remove(call: Call, group_id: str, app_role_assignment_id: str) -> Response:
    """404 when the group has no such assignment."""
    return _delete(call, _written(call, load_group, group_id), app_role_assignment_id)
