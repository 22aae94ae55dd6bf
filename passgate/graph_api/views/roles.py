"""Directory roles: ``/roleManagement/directory/roleDefinitions`` and ``roleAssignments`` (Graph's unified RBAC
API), and the older ``/directoryRoles`` (members, ``$ref``) and ``/directoryRoleTemplates``.

Reading needs ``roles.read`` (RoleManagement.Read.Directory, or any admin role); assigning and removing
``roles.write`` (RoleManagement.ReadWrite.Directory, Privileged Role Administrator, Global Administrator). The last
enabled Global Administrator keeps the role: removing it is 400 ``Request_BadRequest`` (reason
``last_global_admin``), as removing or disabling that person already is.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NoReturn

from rest_framework.response import Response

from passgate.core import roles as rules
from passgate.core.errors import NotFound
from passgate.core.graph import jsonschema as js
from passgate.core.graph.errors import GraphError
from passgate.core.graph.odata import Comparison, Query, parse_object_ref
from passgate.core.graph.resources import USER
from passgate.core.graph.roles import DIRECTORY_ROLE, DIRECTORY_ROLE_TEMPLATE, ROLE_ASSIGNMENT, ROLE_DEFINITION
from passgate.core.graph.schema import Resource
from passgate.directory.models import RoleAssignment, User
from passgate.directory.selectors import role_assignment_list, role_members, user_by_id
from passgate.directory.services import role_assignment_create, role_assignment_delete
from passgate.graph_api.registry import Call, endpoint, register_resource, register_schema
from passgate.graph_api.representations import entity_context, user_json

DEFINITIONS = "/roleManagement/directory/roleDefinitions"
ASSIGNMENTS = "/roleManagement/directory/roleAssignments"
TAG = "roleManagement"

register_resource(ROLE_DEFINITION, "unifiedRoleDefinition")
register_resource(ROLE_ASSIGNMENT, "unifiedRoleAssignment")
register_resource(DIRECTORY_ROLE, "directoryRole")
register_resource(DIRECTORY_ROLE_TEMPLATE, "directoryRoleTemplate")
register_schema("user.members", {
    "type": "object", "title": "Collection(microsoft.graph.directoryObject)",
    "properties": {"@odata.context": {"type": "string"}, "value": {"type": "array", "items": js.ref("user")}},
    "required": ["value"],
})


# --- role definitions ------------------------------------------------------------------------------------

def definition_json(role: rules.RoleDefinition, select: tuple[str, ...] = ()) -> dict[str, Any]:
    values: dict[str, Any] = {
        "id": role.id, "description": role.description, "displayName": role.display_name, "isBuiltIn": True,
        "isEnabled": True, "resourceScopes": [rules.DIRECTORY_SCOPE],
        "rolePermissions": [{"allowedResourceActions": list(role.allowed_resource_actions), "condition": None,
                             "excludedResourceActions": []}],
        "templateId": role.id, "version": None,
    }
    return {name: values[name] for name in (select or ROLE_DEFINITION.default_select)}


def _load_definition(key: str) -> rules.RoleDefinition:
    role = rules.role_by_id(key)
    if role is None:
        raise GraphError.not_found(key)
    return role


def _matches(role: rules.RoleDefinition, where: Sequence[Comparison]) -> bool:
    values = {"id": role.id, "templateId": role.id, "displayName": role.display_name}
    return all(str(values[c.property]).lower() == str(c.value).lower() for c in where)


@endpoint("GET", DEFINITIONS, operation="roles.read", tag=TAG, summary="List role definitions",
          responses={200: "unifiedRoleDefinition.collection"}, query=("$select", "$filter"))
def role_definitions_list(call: Call) -> Response:
    """The built-in roles Passgate knows, by name. ``$filter`` takes ``eq`` on id, templateId and displayName."""
    query = call.query(ROLE_DEFINITION, collection=True)
    if query.top is not None or query.after is not None:
        raise GraphError.unsupported_query("Role definitions come in one page: $top and $skiptoken are not supported.")
    where = query.filter.clauses if query.filter else ()
    return Response({"@odata.context": call.metadata(entity_context(ROLE_DEFINITION.entity_set, query.select,
                                                                    single=False)),
                     "value": [definition_json(r, query.select) for r in rules.definitions() if _matches(r, where)]})


@endpoint("GET", DEFINITIONS + "/{unifiedRoleDefinition-id}", operation="roles.read", tag=TAG,
          summary="Get a role definition", responses={200: "unifiedRoleDefinition"}, query=("$select",))
def role_definitions_get(call: Call, unified_role_definition_id: str) -> Response:
    query = call.query(ROLE_DEFINITION, collection=False)
    role = _load_definition(unified_role_definition_id)
    return Response({"@odata.context": call.metadata(entity_context(ROLE_DEFINITION.entity_set, query.select,
                                                                    single=True)),
                     **definition_json(role, query.select)})


# --- role assignments ------------------------------------------------------------------------------------

def assignment_json(assignment: RoleAssignment, select: tuple[str, ...] = (), *,
                    expand: bool = False) -> dict[str, Any]:
    values: dict[str, Any] = {
        "id": rules.assignment_id(assignment.role, str(assignment.user_id)), "principalId": str(assignment.user_id),
        "roleDefinitionId": assignment.role, "directoryScopeId": rules.DIRECTORY_SCOPE, "appScopeId": None,
        "condition": None, "principalOrganizationId": None,
    }
    out = {name: values[name] for name in (select or ROLE_ASSIGNMENT.default_select)}
    if expand:
        out["principal"] = user_json(assignment.user, with_type=True)
    return out


def _expand(call: Call) -> bool:
    """``$expand=principal`` (the person, as a user); anything else is 400."""
    values = [v for k, vs in call.request.query_params.lists() if k.lower() == "$expand" for v in vs]
    if not values:
        return False
    if len(values) == 1 and values[0].strip() == "principal":
        return True
    raise GraphError.unsupported_query("Only $expand=principal is supported on role assignments.")


def _query(call: Call, *, collection: bool) -> Query:
    return call.query(ROLE_ASSIGNMENT, collection=collection, handled=("$expand",))


def _assignments(*, where: Sequence[Comparison] = (), after: str | None = None,
                 limit: int | None = None) -> list[RoleAssignment]:
    """Assignments matching ``eq`` on principalId and roleDefinitionId, ordered by id, after the id ``after``."""
    wanted = {c.property: str(c.value).lower() for c in where}
    if len(wanted) < len(where):  # the same property twice: both must hold
        values = [(c.property, str(c.value).lower()) for c in where]
        if any(wanted[p] != v for p, v in values):
            return []
    rows = role_assignment_list(role_id=wanted.get("roleDefinitionId"), principal_id=wanted.get("principalId"))
    keyed = sorted(((rules.assignment_id(a.role, str(a.user_id)), a) for a in rows), key=lambda pair: pair[0])
    out = [a for key, a in keyed if after is None or key > after]
    return out[:limit] if limit is not None else out


def _assignment_key(assignment: RoleAssignment) -> str:
    return rules.assignment_id(assignment.role, str(assignment.user_id))


def _load_assignment(key: str) -> RoleAssignment:
    parsed = rules.parse_assignment_id(key)
    if parsed is None:
        raise GraphError.not_found(key)
    found = role_assignment_list(role_id=parsed[0], principal_id=parsed[1])
    if not found:
        raise GraphError.not_found(key)
    return found[0]


@endpoint("GET", ASSIGNMENTS, operation="roles.read", tag=TAG, summary="List role assignments",
          responses={200: "unifiedRoleAssignment.collection"},
          query=("$select", "$filter", "$top", "$skiptoken", "$expand"))
def role_assignments_list(call: Call) -> Response:
    """``$filter`` takes ``eq`` on principalId and roleDefinitionId, joined with ``and``; ``$expand=principal``
    adds the user."""
    expand = _expand(call)
    query = _query(call, collection=True)
    rows, next_link = call.page(query, _assignments, _assignment_key)
    body: dict[str, Any] = {"@odata.context": call.metadata(entity_context(ROLE_ASSIGNMENT.entity_set, query.select,
                                                                          single=False))}
    if next_link:
        body["@odata.nextLink"] = next_link
    body["value"] = [assignment_json(a, query.select, expand=expand) for a in rows]
    return Response(body)


@endpoint("GET", ASSIGNMENTS + "/{unifiedRoleAssignment-id}", operation="roles.read", tag=TAG,
          summary="Get a role assignment", responses={200: "unifiedRoleAssignment"}, query=("$select", "$expand"))
def role_assignments_get(call: Call, unified_role_assignment_id: str) -> Response:
    expand = _expand(call)
    query = _query(call, collection=False)
    assignment = _load_assignment(unified_role_assignment_id)
    return Response({"@odata.context": call.metadata(entity_context(ROLE_ASSIGNMENT.entity_set, query.select,
                                                                    single=True)),
                     **assignment_json(assignment, query.select, expand=expand)})


def _refuse(call: Call, error: GraphError, reason: str) -> NoReturn:
    """Refuse a body naming a role or person that does not exist; audited with ``reason``."""
    error.code = reason
    call.refused(error, where="body")
    raise error


def _principal(call: Call, object_id: str, what: str) -> User:
    user = user_by_id(object_id=object_id)
    if user is None:
        _refuse(call, GraphError.bad_request(f"Invalid value specified for property '{what}': no user "
                                             f"'{object_id[:64]}'. Passgate assigns roles to users."),
                "user_not_found")
    return user


@endpoint("POST", ASSIGNMENTS, operation="roles.write", tag=TAG, summary="Assign a role",
          request="unifiedRoleAssignment.create", responses={201: "unifiedRoleAssignment"})
def role_assignments_create(call: Call) -> Response:
    """Body: ``principalId`` (a user's id), ``roleDefinitionId`` (a role's template id) and ``directoryScopeId``
    ``/``. 400 for another scope, an unknown role or principal, or a role the user already holds."""
    try:
        data = ROLE_ASSIGNMENT.validate(call.body, mode="create")
    except GraphError as exc:
        call.refused(exc, where="body")  # a role change refused for its body is audited too
        raise
    role = rules.role_by_id(str(data["roleDefinitionId"]))
    if role is None:
        _refuse(call, GraphError.bad_request(f"Invalid value specified for property 'roleDefinitionId': no role "
                                             f"definition '{str(data['roleDefinitionId'])[:64]}'."), "role_not_found")
    user = _principal(call, str(data["principalId"]), "principalId")
    assignment = role_assignment_create(role=role, user=user, directory_scope_id=data["directoryScopeId"],
                                        actor=call.actor, context=call.context)
    return Response({"@odata.context": call.metadata(ROLE_ASSIGNMENT.entity_set + "/$entity"),
                     **assignment_json(assignment)}, status=201)


@endpoint("DELETE", ASSIGNMENTS + "/{unifiedRoleAssignment-id}", operation="roles.write", tag=TAG,
          summary="Remove a role assignment", responses={204: None})
def role_assignments_delete(call: Call, unified_role_assignment_id: str) -> Response:
    """400 for the last enabled Global Administrator's assignment."""
    assignment = _load_assignment(unified_role_assignment_id)
    role_assignment_delete(role=_load_definition(assignment.role), user=assignment.user, actor=call.actor,
                           context=call.context)
    return Response(status=204)


# --- the older directoryRoles API ------------------------------------------------------------------------

def directory_role_json(role: rules.RoleDefinition, select: tuple[str, ...] = (), *,
                        template: bool = False) -> dict[str, Any]:
    resource = DIRECTORY_ROLE_TEMPLATE if template else DIRECTORY_ROLE
    values: dict[str, Any] = {"id": role.id, "deletedDateTime": None, "description": role.description,
                              "displayName": role.display_name, "roleTemplateId": role.id}
    return {"@odata.type": resource.odata_type, **{name: values[name] for name in (select or resource.default_select)}}


def _select(call: Call, resource: Resource) -> tuple[str, ...]:
    """``$select`` only: the roles come in one page, unfiltered."""
    return call.query(resource, collection=False).select


@endpoint("GET", "/directoryRoles", operation="roles.read", tag=TAG, summary="List directory roles",
          responses={200: "directoryRole.collection"}, query=("$select",))
def directory_roles_list(call: Call) -> Response:
    """Every role Passgate knows (all are activated); the id is the template id."""
    select = _select(call, DIRECTORY_ROLE)
    return Response({"@odata.context": call.metadata(entity_context("directoryRoles", select, single=False)),
                     "value": [directory_role_json(r, select) for r in rules.definitions()]})


@endpoint("GET", "/directoryRoles/{directoryRole-id}", operation="roles.read", tag=TAG,
          summary="Get a directory role", responses={200: "directoryRole"}, query=("$select",))
def directory_roles_get(call: Call, directory_role_id: str) -> Response:
    select = _select(call, DIRECTORY_ROLE)
    return Response({"@odata.context": call.metadata(entity_context("directoryRoles", select, single=True)),
                     **directory_role_json(_load_definition(directory_role_id), select)})


@endpoint("GET", "/directoryRoles/{directoryRole-id}/members", operation="roles.read", tag=TAG,
          summary="List a directory role's members", responses={200: "user.members"}, query=("$select",))
def directory_roles_members(call: Call, directory_role_id: str) -> Response:
    role = _load_definition(directory_role_id)
    query = call.query(USER, collection=False)
    return Response({"@odata.context": call.metadata("directoryObjects"),
                     "value": [user_json(u, query.select, with_type=True) for u in role_members(role_id=role.id)]})


def _referenced_id(call: Call) -> str:
    body = call.body
    if not isinstance(body, dict):
        raise GraphError.malformed("The request body must be a JSON object.")
    unknown = [name for name in body if name != "@odata.id"]
    if unknown:
        raise GraphError.bad_request(f"Property '{unknown[0]}' does not exist as a declared property or extension "
                                     "property. Send only '@odata.id'.")
    if "@odata.id" not in body:
        raise GraphError.bad_request("Property '@odata.id' is required: the URL of the user to add.")
    return parse_object_ref(body["@odata.id"], hosts=call.hosts)


@endpoint("POST", "/directoryRoles/{directoryRole-id}/members/$ref", operation="roles.write", tag=TAG,
          summary="Add a directory role member", request="reference.create", responses={204: None},
          operation_id="directoryRoles.members.ref.add")
def directory_roles_member_add(call: Call, directory_role_id: str) -> Response:
    """Body ``{"@odata.id": "https://graph.microsoft.com/v1.0/directoryObjects/{id}"}``: a user."""
    role = _load_definition(directory_role_id)
    try:
        object_id = _referenced_id(call)
    except GraphError as exc:
        call.refused(exc, where="body")
        raise
    user = _principal(call, object_id, "@odata.id")
    role_assignment_create(role=role, user=user, actor=call.actor, context=call.context)
    return Response(status=204)


@endpoint("DELETE", "/directoryRoles/{directoryRole-id}/members/{directoryObject-id}/$ref", operation="roles.write",
          tag=TAG, summary="Remove a directory role member", responses={204: None},
          operation_id="directoryRoles.members.ref.remove")
def directory_roles_member_remove(call: Call, directory_role_id: str, directory_object_id: str) -> Response:
    role = _load_definition(directory_role_id)
    user = user_by_id(object_id=directory_object_id)
    if user is None:
        raise GraphError.not_found(directory_object_id)
    try:
        role_assignment_delete(role=role, user=user, actor=call.actor, context=call.context)
    except NotFound:
        raise GraphError.not_found(directory_object_id) from None
    return Response(status=204)


@endpoint("GET", "/directoryRoleTemplates", operation="roles.read", tag=TAG, summary="List directory role templates",
          responses={200: "directoryRoleTemplate.collection"}, query=("$select",))
def directory_role_templates_list(call: Call) -> Response:
    select = _select(call, DIRECTORY_ROLE_TEMPLATE)
    return Response({"@odata.context": call.metadata(entity_context("directoryRoleTemplates", select, single=False)),
                     "value": [directory_role_json(r, select, template=True) for r in rules.definitions()]})


@endpoint("GET", "/directoryRoleTemplates/{directoryRoleTemplate-id}", operation="roles.read", tag=TAG,
          summary="Get a directory role template", responses={200: "directoryRoleTemplate"}, query=("$select",))
def directory_role_templates_get(call: Call, directory_role_template_id: str) -> Response:
    select = _select(call, DIRECTORY_ROLE_TEMPLATE)
    return Response({"@odata.context": call.metadata(entity_context("directoryRoleTemplates", select, single=True)),
                     **directory_role_json(_load_definition(directory_role_template_id), select, template=True)})
