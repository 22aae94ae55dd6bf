"""Directory roles: the built-in role definitions Passgate knows, role assignment ids, and the rules for changing
who holds a role.

- A role is one of ``authz.Role`` (Entra ID's role template ids, which are also the role definitions' ids, as in
  Graph for built-in roles). Its ``rolePermissions`` are derived from ``authz.OPERATIONS``: the Entra resource
  actions of every Graph operation the role allows in Passgate, so the definition shown never says more or less
  than what Passgate enforces.
- An assignment is one role held by one user at the directory scope ``/``. Its id is Entra's shape: the role's and
  the principal's GUIDs (little-endian bytes) in unpadded base64url, then ``-1``; so it is stable and needs no
  column of its own.
- Who may assign: ``roles.write`` (Privileged Role Administrator, Global Administrator, or an app with
  RoleManagement.ReadWrite.Directory). The last enabled Global Administrator's assignment cannot be removed
  (``check_removal``): nobody would be left to administer Passgate.
"""

from __future__ import annotations

import base64
import binascii
import re
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final

from passgate.core.errors import Conflict, InvalidInput, NotFound
from passgate.core.graph.authz import OPERATIONS, ROLE_NAMES, Role

DIRECTORY_SCOPE: Final = "/"
LAST_GLOBAL_ADMIN: Final = "last_global_admin"
ROLE_NOT_FOUND: Final = "role_not_found"
ALREADY_ASSIGNED: Final = "role_already_assigned"
NOT_ASSIGNED: Final = "role_not_assigned"
UNSUPPORTED_SCOPE: Final = "unsupported_directory_scope"

# Entra's descriptions of the built-in roles ("Microsoft Entra built-in roles", the All roles table).
DESCRIPTIONS: Mapping[Role, str] = MappingProxyType({
    Role.GLOBAL_ADMINISTRATOR: "Can manage all aspects of Microsoft Entra ID and Microsoft services that use "
                               "Microsoft Entra identities.",
    Role.AUTHENTICATION_POLICY_ADMINISTRATOR: "Can create and manage the authentication methods policy, "
                                              "tenant-wide MFA settings, password protection policy, and "
                                              "verifiable credentials.",
    Role.AUTHENTICATION_ADMINISTRATOR: "Can access to view, set and reset authentication method information for "
                                       "any non-admin user.",
    Role.USER_ADMINISTRATOR: "Can manage all aspects of users and groups, including resetting passwords for "
                             "limited admins.",
    Role.GLOBAL_READER: "Can read everything that a Global Administrator can, but not update anything.",
    Role.CONDITIONAL_ACCESS_ADMINISTRATOR: "Can manage Conditional Access capabilities.",
    Role.APPLICATION_ADMINISTRATOR: "Can create and manage all aspects of app registrations and enterprise apps.",
    Role.CLOUD_APPLICATION_ADMINISTRATOR: "Can create and manage all aspects of app registrations and enterprise "
                                          "apps except App Proxy.",
    Role.PRIVILEGED_ROLE_ADMINISTRATOR: "Can manage role assignments in Microsoft Entra ID, and all aspects of "
                                        "Privileged Identity Management.",
})

_D = "microsoft.directory/"
# The Entra resource actions ("Microsoft Entra built-in roles", each role's Actions) of each Graph operation.
RESOURCE_ACTIONS: Mapping[str, tuple[str, ...]] = MappingProxyType({
    "users.read": (_D + "users/standard/read",),
    "users.write": (_D + "users/create", _D + "users/delete", _D + "users/basic/update", _D + "users/enable",
                    _D + "users/disable", _D + "users/userPrincipalName/update"),
    "users.revokeSessions": (_D + "users/invalidateAllRefreshTokens",),
    "groups.read": (_D + "groups/standard/read", _D + "groups/members/read"),
    "groups.write": (_D + "groups/create", _D + "groups/delete", _D + "groups/basic/update",
                     _D + "groups/members/update"),
    "policy.read": (_D + "authenticationMethodPolicies/standard/read",),
    "policy.write": (_D + "authenticationMethodPolicies/basic/update",),
    "methods.read": (_D + "users/authenticationMethods/standard/read",),
    "methods.write": (_D + "users/authenticationMethods/create", _D + "users/authenticationMethods/delete",
                      _D + "users/authenticationMethods/basic/update"),
    "audit.read": (_D + "auditLogs/allProperties/read", _D + "signInReports/allProperties/read"),
    "access.read": (_D + "conditionalAccessPolicies/standard/read",),
    "access.write": (_D + "conditionalAccessPolicies/create", _D + "conditionalAccessPolicies/delete",
                     _D + "conditionalAccessPolicies/basic/update"),
    "strengths.read": (_D + "authenticationStrengthPolicies/standard/read",),
    "strengths.write": (_D + "authenticationStrengthPolicies/create", _D + "authenticationStrengthPolicies/delete",
                        _D + "authenticationStrengthPolicies/basic/update"),
    "applications.read": (_D + "applications/standard/read",),
    "applications.write": (_D + "applications/create", _D + "applications/delete", _D + "applications/basic/update",
                           _D + "applications/credentials/update"),
    "devices.read": (_D + "devices/standard/read",),
    "devices.write": (_D + "devices/basic/update", _D + "devices/delete", _D + "devices/disable",
                      _D + "devices/enable"),
    "deviceConfiguration.read": ("microsoft.intune/allEntities/read",),
    "deviceConfiguration.write": ("microsoft.intune/allEntities/allTasks",),
    "appRoleAssignments.users.read": (_D + "users/appRoleAssignments/read",),
    "appRoleAssignments.groups.read": (_D + "groups/appRoleAssignments/read",),
    "appRoleAssignments.write": (_D + "servicePrincipals/appRoleAssignedTo/update",
                                 _D + "users/appRoleAssignments/update", _D + "groups/appRoleAssignments/update"),
    "roles.read": (_D + "roleDefinitions/standard/read", _D + "roleAssignments/standard/read"),
    "roles.write": (_D + "roleAssignments/allProperties/allTasks",),
})


@dataclass(frozen=True)
class RoleDefinition:
    """A built-in role as Graph's ``unifiedRoleDefinition`` describes it."""

    role: Role
    display_name: str
    description: str
    allowed_resource_actions: tuple[str, ...]

    @property
    def id(self) -> str:
        return self.role.value


def _actions(role: Role) -> tuple[str, ...]:
    return tuple(sorted({action for operation, rule in OPERATIONS.items() if role in rule.roles
                         for action in RESOURCE_ACTIONS[operation]}))


def _definitions() -> Mapping[Role, RoleDefinition]:
    ordered = sorted(Role, key=lambda r: ROLE_NAMES[r])
    return MappingProxyType({role: RoleDefinition(role=role, display_name=ROLE_NAMES[role],
                                                  description=DESCRIPTIONS[role],
                                                  allowed_resource_actions=_actions(role)) for role in ordered})


DEFINITIONS: Final = _definitions()


def definitions() -> tuple[RoleDefinition, ...]:
    """Every role Passgate knows, by display name."""
    return tuple(DEFINITIONS.values())


def find_role(key: str) -> RoleDefinition:
    """A role by template id or display name (both case-insensitive); ``NotFound`` (``role_not_found``)."""
    wanted = " ".join(key.split()).lower()
    for definition in DEFINITIONS.values():
        if wanted in (definition.id, definition.display_name.lower()):
            return definition
    raise NotFound(f"No directory role {key[:64]!r}: give a role's name or template id", code=ROLE_NOT_FOUND)


def role_by_id(value: str) -> RoleDefinition | None:
    """A role by its id (the template id, case-insensitive), or None."""
    try:
        return DEFINITIONS.get(Role(str(uuid.UUID(value))))
    except ValueError:
        return None


def check_scope(directory_scope_id: object) -> None:
    """Passgate's roles apply to the whole directory: ``/`` is the only scope (administrative units and
    app scopes are not supported)."""
    if directory_scope_id != DIRECTORY_SCOPE:
        raise InvalidInput("directoryScopeId must be '/': Passgate assigns roles for the whole directory only",
                           code=UNSUPPORTED_SCOPE)


def check_removal(*, role: str, holder_enabled: bool, other_enabled_global_admins: int) -> None:
    """Refuse taking the Global Administrator role from the last enabled account that holds it."""
    if role == Role.GLOBAL_ADMINISTRATOR.value and holder_enabled and other_enabled_global_admins <= 0:
        raise Conflict("This is the last enabled Global Administrator: assign the role to someone else first, so "
                       "that somebody can still administer Passgate.", code=LAST_GLOBAL_ADMIN)


def check_assignment(*, role: str, held: Iterable[str]) -> None:
    """Refuse assigning a role the person already holds (Graph: 400, "a conflicting object")."""
    if role in set(held):
        raise Conflict("This person already holds the role.", code=ALREADY_ASSIGNED)


# --- assignment ids --------------------------------------------------------------------------------------

_ASSIGNMENT_ID = re.compile(r"[A-Za-z0-9_-]{43}-1")


def assignment_id(role_id: str, principal_id: str) -> str:
    """Entra's id of a directory-scope role assignment: base64url(role GUID + principal GUID, little-endian) + -1."""
    raw = uuid.UUID(role_id).bytes_le + uuid.UUID(principal_id).bytes_le
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=") + "-1"


def parse_assignment_id(value: str) -> tuple[str, str] | None:
    """(role template id, principal id) of an assignment id, or None for a value that is not one."""
    if not _ASSIGNMENT_ID.fullmatch(value):
        return None
    try:
        raw = base64.urlsafe_b64decode(value[:-2] + "=")
    except (binascii.Error, ValueError):
        return None
    if len(raw) != 32:
        return None
    role_id, principal_id = str(uuid.UUID(bytes_le=raw[:16])), str(uuid.UUID(bytes_le=raw[16:]))
    if assignment_id(role_id, principal_id) != value:  # a non-canonical spelling of the same bytes
        return None
    return role_id, principal_id
