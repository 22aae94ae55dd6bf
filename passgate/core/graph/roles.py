"""Graph's directory role resources as Passgate serves them: ``unifiedRoleDefinition``, ``unifiedRoleAssignment``
(``/roleManagement/directory``) and the older ``directoryRole`` and ``directoryRoleTemplate``.

Properties follow the v1.0 metadata (passgate/graph_api/data/graph-v1.0.csdl). Passgate's roles are the built-in
ones (``core.roles``); ``id`` and ``templateId`` of a definition are its template id, as in Graph, and a
``directoryRole``'s ``id`` is its template id too (Graph gives activated roles an object id of their own and also
finds them by template id). Assignments are at the directory scope ``/`` only.
"""

from __future__ import annotations

from typing import Final

from passgate.core.graph import jsonschema as js
from passgate.core.graph.schema import Kind, Prop, Resource, Write

EQ = frozenset({"eq"})

ROLE_PERMISSION: Final = js.obj({
    "allowedResourceActions": js.array(js.STRING), "condition": js.nullable(js.STRING),
    "excludedResourceActions": js.array(js.STRING)},
    required=("allowedResourceActions", "condition", "excludedResourceActions"),
    title="microsoft.graph.unifiedRolePermission")

ROLE_DEFINITION = Resource(
    type_name="microsoft.graph.unifiedRoleDefinition", entity="UnifiedRoleDefinition",
    entity_set="roleManagement/directory/roleDefinitions",
    description="A built-in directory role. Its permissions are what the role may do in Passgate, as Entra "
                "resource actions.",
    props=(
        Prop("id", Kind.STRING, "The role's template id (built-in roles have the same id everywhere).", filter=EQ),
        Prop("description", Kind.STRING, "What the role is for (Entra's description)."),
        Prop("displayName", Kind.STRING, "The role's name.", filter=EQ),
        Prop("isBuiltIn", Kind.BOOLEAN, "Always true: Passgate has no custom roles."),
        Prop("isEnabled", Kind.BOOLEAN, "Always true."),
        Prop("resourceScopes", Kind.STRING_LIST, "Always [\"/\"]: the whole directory."),
        Prop("rolePermissions", Kind.OBJECT_LIST, "What the role allows, as Entra resource actions.",
             schema=js.array(ROLE_PERMISSION)),
        Prop("templateId", Kind.STRING, "The role template id (Entra's, e.g. 62e90394-… for Global Administrator).",
             filter=EQ),
        Prop("version", Kind.STRING, "Always null.", nullable=True),
    ),
)

ROLE_ASSIGNMENT = Resource(
    type_name="microsoft.graph.unifiedRoleAssignment", entity="UnifiedRoleAssignment",
    entity_set="roleManagement/directory/roleAssignments",
    description="A directory role held by a user, at the directory scope '/'.",
    props=(
        Prop("id", Kind.STRING, "The assignment's id (Entra's shape: derived from the role and the principal)."),
        Prop("principalId", Kind.STRING, "The object id of the user who holds the role.", create=Write.REQUIRED,
             filter=EQ),
        Prop("roleDefinitionId", Kind.STRING, "The role's id (its template id).", create=Write.REQUIRED,
             filter=EQ),
        Prop("directoryScopeId", Kind.STRING, "Always '/': Passgate assigns roles for the whole directory.",
             create=Write.REQUIRED, allowed=("/",),
             refusal="Passgate assigns roles for the whole directory only: directoryScopeId must be '/'."),
        Prop("appScopeId", Kind.STRING, "Always null: no app scopes.", create=Write.OPTIONAL, nullable=True,
             allowed=(None,), refusal="Passgate has no app-specific scopes: leave appScopeId out or null."),
        Prop("condition", Kind.STRING, "Always null: no conditions.", create=Write.OPTIONAL, nullable=True,
             allowed=(None,), refusal="Passgate's role assignments have no conditions: leave condition out or null."),
        Prop("principalOrganizationId", Kind.STRING, "Always null. Returned only on $select.", default=False,
             nullable=True),
    ),
)

DIRECTORY_ROLE = Resource(
    type_name="microsoft.graph.directoryRole", entity="DirectoryRole", entity_set="directoryRoles",
    description="A directory role (the older API; the same roles as roleDefinitions). Every Passgate role is "
                "activated; its id is its template id.",
    props=(
        Prop("id", Kind.STRING, "The role's id (its template id)."),
        Prop("deletedDateTime", Kind.DATETIME, "Always null.", nullable=True),
        Prop("description", Kind.STRING, "What the role is for."),
        Prop("displayName", Kind.STRING, "The role's name."),
        Prop("roleTemplateId", Kind.STRING, "The role template id."),
    ),
)

DIRECTORY_ROLE_TEMPLATE = Resource(
    type_name="microsoft.graph.directoryRoleTemplate", entity="DirectoryRoleTemplate",
    entity_set="directoryRoleTemplates", description="A built-in role's template.",
    props=(
        Prop("id", Kind.STRING, "The template id."),
        Prop("deletedDateTime", Kind.DATETIME, "Always null.", nullable=True),
        Prop("description", Kind.STRING, "What the role is for."),
        Prop("displayName", Kind.STRING, "The role's name."),
    ),
)
