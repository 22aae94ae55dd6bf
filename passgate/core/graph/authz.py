"""Who may call which Graph operation: application permissions for apps, directory roles for signed-in people.

Each operation names the application permissions and the directory roles that allow it, following Microsoft's
least-privilege tables (sources on each rule). A write permission implies the matching read, as in Graph.

Some operations also depend on *whom* they touch. Graph's "Who can update sensitive attributes?" and "Who can
reset passwords?" tables (https://learn.microsoft.com/graph/api/resources/users, "Sensitive actions for users")
let an administrator change a user's ``accountEnabled`` or ``userPrincipalName``, delete a user, or manage their
authentication methods only if the administrator's role outranks every role the target holds; and "in app-only
scenarios, User.ReadWrite.All isn't enough privilege to delete users with privileged administrative roles"
(https://learn.microsoft.com/graph/api/user-delete). ``authorize(..., target_roles=...)`` applies that rule.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum, unique
from types import MappingProxyType

from passgate.core.errors import AccessDenied


@unique
class Permission(StrEnum):
    """Application permissions (Graph ``roles`` claim values) Passgate grants to app registrations."""

    POLICY_READ_ALL = "Policy.Read.All"
    POLICY_READWRITE_AUTHENTICATION_METHOD = "Policy.ReadWrite.AuthenticationMethod"
    POLICY_READWRITE_CONDITIONAL_ACCESS = "Policy.ReadWrite.ConditionalAccess"
    USER_READ_ALL = "User.Read.All"
    USER_READWRITE_ALL = "User.ReadWrite.All"
    USER_REVOKE_SESSIONS_ALL = "User.RevokeSessions.All"
    GROUP_READ_ALL = "Group.Read.All"
    GROUP_READWRITE_ALL = "Group.ReadWrite.All"
    USER_AUTHENTICATION_METHOD_READ_ALL = "UserAuthenticationMethod.Read.All"
    USER_AUTHENTICATION_METHOD_READWRITE_ALL = "UserAuthenticationMethod.ReadWrite.All"
    AUDIT_LOG_READ_ALL = "AuditLog.Read.All"
    APPLICATION_READ_ALL = "Application.Read.All"
    APPLICATION_READWRITE_ALL = "Application.ReadWrite.All"
    DEVICE_READ_ALL = "Device.Read.All"
    DEVICE_READWRITE_ALL = "Device.ReadWrite.All"
    DEVICE_MANAGEMENT_CONFIGURATION_READ_ALL = "DeviceManagementConfiguration.Read.All"
    DEVICE_MANAGEMENT_CONFIGURATION_READWRITE_ALL = "DeviceManagementConfiguration.ReadWrite.All"
    ROLE_MANAGEMENT_READ_DIRECTORY = "RoleManagement.Read.Directory"
    ROLE_MANAGEMENT_READWRITE_DIRECTORY = "RoleManagement.ReadWrite.Directory"
    APP_ROLE_ASSIGNMENT_READWRITE_ALL = "AppRoleAssignment.ReadWrite.All"


@unique
class Role(StrEnum):
    """Directory roles, by Entra ID role template id (the values ``directory.RoleAssignment.role`` stores)."""

    GLOBAL_ADMINISTRATOR = "62e90394-69f5-4237-9190-012177145e10"
    AUTHENTICATION_POLICY_ADMINISTRATOR = "0526716b-113d-4c15-b2c8-68e3c22b9f80"
    AUTHENTICATION_ADMINISTRATOR = "c4e39bd9-1100-46d3-8c65-fb160da0071f"
    USER_ADMINISTRATOR = "fe930be7-5e62-47db-91af-98c3a49a38b1"
    GLOBAL_READER = "f2ef992c-3afb-46b9-b7cf-a126ee74c451"
    CONDITIONAL_ACCESS_ADMINISTRATOR = "b1be1c3e-b65d-4f19-8427-f6fa0d97feb9"
    APPLICATION_ADMINISTRATOR = "9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3"
    CLOUD_APPLICATION_ADMINISTRATOR = "158c047a-c907-4556-b7ef-446551a6b5f7"
    PRIVILEGED_ROLE_ADMINISTRATOR = "e8611ab8-c189-46e8-94e1-60213ab1f814"


ROLE_NAMES: Mapping[Role, str] = MappingProxyType({
    Role.GLOBAL_ADMINISTRATOR: "Global Administrator",
    Role.AUTHENTICATION_POLICY_ADMINISTRATOR: "Authentication Policy Administrator",
    Role.AUTHENTICATION_ADMINISTRATOR: "Authentication Administrator",
    Role.USER_ADMINISTRATOR: "User Administrator",
    Role.GLOBAL_READER: "Global Reader",
    Role.CONDITIONAL_ACCESS_ADMINISTRATOR: "Conditional Access Administrator",
    Role.APPLICATION_ADMINISTRATOR: "Application Administrator",
    Role.CLOUD_APPLICATION_ADMINISTRATOR: "Cloud Application Administrator",
    Role.PRIVILEGED_ROLE_ADMINISTRATOR: "Privileged Role Administrator",
})


@dataclass(frozen=True)
class AppCaller:
    """An application calling with a client-credentials access token."""

    app_id: str  # the client id (Graph's appId)
    object_id: str
    display_name: str
    permissions: frozenset[str]


@dataclass(frozen=True)
class UserCaller:
    """A signed-in person calling with their browser session."""

    user_id: str
    user_principal_name: str
    roles: frozenset[str]


Caller = AppCaller | UserCaller


@dataclass(frozen=True)
class Rule:
    operation: str
    permissions: frozenset[Permission]
    roles: frozenset[Role]
    sources: tuple[str, ...]


_ALL_ADMIN_ROLES = frozenset(Role)
_GRAPH = "https://learn.microsoft.com/graph/api/"


def _rule(operation: str, permissions: Iterable[Permission], roles: Iterable[Role], *sources: str) -> Rule:
    # The Global Administrator can do everything (it holds every directory permission).
    return Rule(operation, frozenset(permissions), frozenset(roles) | {Role.GLOBAL_ADMINISTRATOR}, sources)


OPERATIONS: Mapping[str, Rule] = MappingProxyType({rule.operation: rule for rule in (
    # Graph lets every member read the directory; Passgate keeps the API to administrators: every admin role reads.
    _rule("users.read", [Permission.USER_READ_ALL, Permission.USER_READWRITE_ALL], _ALL_ADMIN_ROLES,
          _GRAPH + "user-list", _GRAPH + "user-get"),
    _rule("users.write", [Permission.USER_READWRITE_ALL], [Role.USER_ADMINISTRATOR],
          _GRAPH + "user-post-users", _GRAPH + "user-update", _GRAPH + "user-delete"),
    # revokeSignInSessions: User.RevokeSessions.All (least privileged) or User.ReadWrite.All. Entra's
    # microsoft.directory/users/invalidateAllRefreshTokens is held by the User, Authentication and Helpdesk
    # Administrators; invalidating refresh tokens is one of Graph's sensitive actions (``target_roles``).
    _rule("users.revokeSessions", [Permission.USER_REVOKE_SESSIONS_ALL, Permission.USER_READWRITE_ALL],
          [Role.USER_ADMINISTRATOR, Role.AUTHENTICATION_ADMINISTRATOR], _GRAPH + "user-revokesigninsessions"),
    _rule("groups.read", [Permission.GROUP_READ_ALL, Permission.GROUP_READWRITE_ALL], _ALL_ADMIN_ROLES,
          _GRAPH + "group-list", _GRAPH + "group-get", _GRAPH + "group-list-members"),
    # Groups Administrator (not a Passgate role) and User Administrator are the least privileged roles.
    _rule("groups.write", [Permission.GROUP_READWRITE_ALL], [Role.USER_ADMINISTRATOR],
          _GRAPH + "group-post-groups", _GRAPH + "group-update", _GRAPH + "group-delete",
          _GRAPH + "group-post-members", _GRAPH + "group-delete-members"),
    _rule("policy.read", [Permission.POLICY_READ_ALL, Permission.POLICY_READWRITE_AUTHENTICATION_METHOD],
          [Role.GLOBAL_READER, Role.AUTHENTICATION_POLICY_ADMINISTRATOR],
          _GRAPH + "authenticationmethodspolicy-get", _GRAPH + "fido2authenticationmethodconfiguration-get"),
    _rule("policy.write", [Permission.POLICY_READWRITE_AUTHENTICATION_METHOD],
          [Role.AUTHENTICATION_POLICY_ADMINISTRATOR],
          _GRAPH + "authenticationmethodspolicy-update", _GRAPH + "fido2authenticationmethodconfiguration-update"),
    _rule("methods.read", [Permission.USER_AUTHENTICATION_METHOD_READ_ALL,
                           Permission.USER_AUTHENTICATION_METHOD_READWRITE_ALL],
          [Role.GLOBAL_READER, Role.AUTHENTICATION_ADMINISTRATOR],
          _GRAPH + "fido2authenticationmethod-list", _GRAPH + "authentication-list-methods"),
    # Entra: microsoft.directory/auditLogs/allProperties/read (Global Reader, Reports Reader, Security roles).
    _rule("audit.read", [Permission.AUDIT_LOG_READ_ALL], [Role.GLOBAL_READER],
          _GRAPH + "directoryaudit-list", _GRAPH + "signin-list"),
    # Conditional Access: Policy.Read.All / Policy.ReadWrite.ConditionalAccess; Conditional Access Administrator
    # (Security Administrator and Security Reader are not Passgate roles).
    _rule("access.read", [Permission.POLICY_READ_ALL, Permission.POLICY_READWRITE_CONDITIONAL_ACCESS],
          [Role.GLOBAL_READER, Role.CONDITIONAL_ACCESS_ADMINISTRATOR],
          _GRAPH + "conditionalaccessroot-list-policies", _GRAPH + "conditionalaccesspolicy-get"),
    _rule("access.write", [Permission.POLICY_READWRITE_CONDITIONAL_ACCESS], [Role.CONDITIONAL_ACCESS_ADMINISTRATOR],
          _GRAPH + "conditionalaccessroot-post-policies", _GRAPH + "conditionalaccesspolicy-update",
          _GRAPH + "conditionalaccesspolicy-delete"),
    # Authentication strengths: Policy.ReadWrite.ConditionalAccess is least privileged, AuthenticationMethod higher.
    _rule("strengths.read", [Permission.POLICY_READ_ALL, Permission.POLICY_READWRITE_CONDITIONAL_ACCESS,
                             Permission.POLICY_READWRITE_AUTHENTICATION_METHOD],
          [Role.GLOBAL_READER, Role.CONDITIONAL_ACCESS_ADMINISTRATOR, Role.AUTHENTICATION_POLICY_ADMINISTRATOR],
          _GRAPH + "authenticationstrengthroot-list-policies", _GRAPH + "authenticationstrengthpolicy-get"),
    _rule("strengths.write", [Permission.POLICY_READWRITE_CONDITIONAL_ACCESS,
                              Permission.POLICY_READWRITE_AUTHENTICATION_METHOD],
          [Role.CONDITIONAL_ACCESS_ADMINISTRATOR, Role.AUTHENTICATION_POLICY_ADMINISTRATOR],
          _GRAPH + "authenticationstrengthroot-post-policies", _GRAPH + "authenticationstrengthpolicy-update",
          _GRAPH + "authenticationstrengthpolicy-delete"),
    _rule("methods.write", [Permission.USER_AUTHENTICATION_METHOD_READWRITE_ALL],
          [Role.AUTHENTICATION_ADMINISTRATOR],
          _GRAPH + "fido2authenticationmethod-delete", _GRAPH + "authentication-post-temporaryaccesspassmethods"),
    # App registrations: Application.Read.All / Application.ReadWrite.All; Application Administrator and Cloud
    # Application Administrator (the same to Passgate: it has no application proxy). Granting Graph permissions is
    # more: see ``can_grant_permissions`` and ``can_add_credential``.
    _rule("applications.read", [Permission.APPLICATION_READ_ALL, Permission.APPLICATION_READWRITE_ALL],
          [Role.GLOBAL_READER, Role.APPLICATION_ADMINISTRATOR, Role.CLOUD_APPLICATION_ADMINISTRATOR],
          _GRAPH + "application-list", _GRAPH + "application-get"),
    _rule("applications.write", [Permission.APPLICATION_READWRITE_ALL],
          [Role.APPLICATION_ADMINISTRATOR, Role.CLOUD_APPLICATION_ADMINISTRATOR],
          _GRAPH + "application-post-applications", _GRAPH + "application-update", _GRAPH + "application-delete",
          _GRAPH + "application-addpassword", _GRAPH + "application-removepassword"),
    # App role assignments of users and groups: reading takes User.Read.All (users) or Group.Read.All (groups), or
    # AppRoleAssignment.ReadWrite.All (Directory.Read.All is not a Passgate permission); writing
    # AppRoleAssignment.ReadWrite.All. Entra's least privileged roles for assigning: the Application and Cloud
    # Application Administrators, the User Administrator and the Privileged Role Administrator.
    _rule("appRoleAssignments.users.read", [Permission.USER_READ_ALL, Permission.USER_READWRITE_ALL,
                                            Permission.APP_ROLE_ASSIGNMENT_READWRITE_ALL], _ALL_ADMIN_ROLES,
          _GRAPH + "user-list-approleassignments"),
    _rule("appRoleAssignments.groups.read", [Permission.GROUP_READ_ALL, Permission.GROUP_READWRITE_ALL,
                                             Permission.APP_ROLE_ASSIGNMENT_READWRITE_ALL], _ALL_ADMIN_ROLES,
          _GRAPH + "group-list-approleassignments"),
    _rule("appRoleAssignments.write", [Permission.APP_ROLE_ASSIGNMENT_READWRITE_ALL],
          [Role.APPLICATION_ADMINISTRATOR, Role.CLOUD_APPLICATION_ADMINISTRATOR, Role.USER_ADMINISTRATOR,
           Role.PRIVILEGED_ROLE_ADMINISTRATOR],
          _GRAPH + "user-post-approleassignments", _GRAPH + "user-delete-approleassignments",
          _GRAPH + "group-post-approleassignments", _GRAPH + "group-delete-approleassignments"),
    # Devices: Device.Read.All / Device.ReadWrite.All. Entra's least privileged role for updating and deleting
    # devices is the Cloud Device Administrator (not a Passgate role yet): the Global Administrator does it.
    _rule("devices.read", [Permission.DEVICE_READ_ALL, Permission.DEVICE_READWRITE_ALL], [Role.GLOBAL_READER],
          _GRAPH + "device-list", _GRAPH + "device-get"),
    _rule("devices.write", [Permission.DEVICE_READWRITE_ALL], [],
          _GRAPH + "device-update", _GRAPH + "device-delete"),
    # Device configuration profiles and the Windows Hello for Business enrollment configuration (Intune):
    # DeviceManagementConfiguration.Read.All / .ReadWrite.All (Graph also takes DeviceManagementServiceConfig.* for
    # enrollment configurations; Passgate does not grant those). Intune Administrator is not a Passgate role: the
    # Global Administrator writes, the Global Reader reads.
    _rule("deviceConfiguration.read", [Permission.DEVICE_MANAGEMENT_CONFIGURATION_READ_ALL,
                                       Permission.DEVICE_MANAGEMENT_CONFIGURATION_READWRITE_ALL],
          [Role.GLOBAL_READER], _GRAPH + "intune-deviceconfig-windows10customconfiguration-get",
          _GRAPH + "intune-deviceconfig-deviceconfigurationassignment-list",
          _GRAPH + "intune-onboarding-deviceenrollmentwindowshelloforbusinessconfiguration-get"),
    _rule("deviceConfiguration.write", [Permission.DEVICE_MANAGEMENT_CONFIGURATION_READWRITE_ALL], [],
          _GRAPH + "intune-deviceconfig-windows10customconfiguration-create",
          _GRAPH + "intune-deviceconfig-windows10customconfiguration-update",
          _GRAPH + "intune-deviceconfig-windows10customconfiguration-delete",
          _GRAPH + "intune-deviceconfig-deviceconfiguration-assign",
          _GRAPH + "intune-onboarding-deviceenrollmentwindowshelloforbusinessconfiguration-update"),
    # Directory roles: RoleManagement.Read.Directory / RoleManagement.ReadWrite.Directory. Graph lets the Directory
    # Readers role read role definitions and assignments; Passgate keeps reading to every admin role. Assigning
    # and removing: "Privileged Role Administrator is the least privileged role supported for this operation".
    _rule("roles.read", [Permission.ROLE_MANAGEMENT_READ_DIRECTORY, Permission.ROLE_MANAGEMENT_READWRITE_DIRECTORY],
          _ALL_ADMIN_ROLES, _GRAPH + "rbacapplication-list-roledefinitions",
          _GRAPH + "rbacapplication-list-roleassignments", _GRAPH + "directoryrole-list"),
    _rule("roles.write", [Permission.ROLE_MANAGEMENT_READWRITE_DIRECTORY], [Role.PRIVILEGED_ROLE_ADMINISTRATOR],
          _GRAPH + "rbacapplication-post-roleassignments", _GRAPH + "unifiedroleassignment-delete",
          _GRAPH + "directoryrole-post-members", _GRAPH + "directoryrole-delete-member"),
)})

# Which target roles each role may act on for sensitive actions ("Who can update sensitive attributes?",
# "Who can reset passwords?"). A user with no admin role is always manageable. Roles those tables do not list
# (Global Reader, Authentication Policy Administrator) are left to the Global Administrator.
MANAGEABLE_TARGET_ROLES: Mapping[Role, frozenset[Role]] = MappingProxyType({
    Role.GLOBAL_ADMINISTRATOR: frozenset(Role),
    Role.USER_ADMINISTRATOR: frozenset({Role.USER_ADMINISTRATOR}),
    Role.AUTHENTICATION_ADMINISTRATOR: frozenset({Role.AUTHENTICATION_ADMINISTRATOR}),
    Role.AUTHENTICATION_POLICY_ADMINISTRATOR: frozenset(),
    Role.GLOBAL_READER: frozenset(),
    Role.CONDITIONAL_ACCESS_ADMINISTRATOR: frozenset(),
    Role.APPLICATION_ADMINISTRATOR: frozenset(),
    Role.CLOUD_APPLICATION_ADMINISTRATOR: frozenset(),
    Role.PRIVILEGED_ROLE_ADMINISTRATOR: frozenset(),
})


class AuthorizationDenied(AccessDenied):
    """The caller lacks the permission or role for the operation (Graph: 403 Authorization_RequestDenied)."""

    code = "authorization_denied"

    def __init__(self, operation: str, message: str = "Insufficient privileges to complete the operation.") -> None:
        super().__init__(message)
        self.operation = operation


def _known_roles(values: Iterable[str]) -> frozenset[Role]:
    known = {role.value for role in Role}
    return frozenset(Role(v) for v in values if v in known)


def allowed(caller: Caller, operation: str) -> bool:
    """Whether the caller's permissions (app) or roles (person) allow the operation. Unknown operations raise."""
    rule = OPERATIONS[operation]
    if isinstance(caller, AppCaller):
        return any(p.value in caller.permissions for p in rule.permissions)
    return bool(_known_roles(caller.roles) & rule.roles)


def can_manage(caller: Caller, target_roles: Iterable[str]) -> bool:
    """Whether the caller may take a sensitive action on a user holding ``target_roles``."""
    targets = _known_roles(target_roles)
    if not targets:
        return True
    if isinstance(caller, AppCaller):
        return False  # an application permission never reaches privileged administrators
    return any(targets <= MANAGEABLE_TARGET_ROLES[role] for role in _known_roles(caller.roles))


def authorize(caller: Caller, operation: str, *, target_roles: Iterable[str] | None = None) -> None:
    """Raise ``AuthorizationDenied`` unless the caller may perform ``operation`` (on a target with those roles)."""
    if not allowed(caller, operation):
        raise AuthorizationDenied(operation)
    if target_roles is not None and not can_manage(caller, target_roles):
        raise AuthorizationDenied(operation)


# --- granting Graph permissions to apps -----------------------------------------------------------------

class PermissionGrantDenied(AuthorizationDenied):
    """The caller may manage app registrations but not hand out (or take over) Graph application permissions."""

    code = "permission_grant_denied"


def _is_global_administrator(caller: Caller) -> bool:
    return isinstance(caller, UserCaller) and Role.GLOBAL_ADMINISTRATOR in _known_roles(caller.roles)


def can_grant_permissions(caller: Caller) -> bool:
    """Whether the caller may set an app's Graph application permissions (``requiredResourceAccess``).

    In Entra, listing a permission on an application only *requests* it; it takes effect when an administrator
    grants admin consent, which for Microsoft Graph's application permissions needs the Privileged Role
    Administrator or the Global Administrator. Passgate has no separate consent step (what an app lists, it holds),
    so listing is granting, and only the Global Administrator may do it. Never an app: with
    Application.ReadWrite.All it could otherwise give itself, or a new app, any permission.
    """
    return _is_global_administrator(caller)


def can_add_credential(caller: Caller, app_permissions: Iterable[str]) -> bool:
    """Whether the caller may give an app a new secret. An app's secret *is* its permissions, so adding one to an
    app holding Graph permissions hands them to the caller: only the Global Administrator may, or an app whose own
    permissions already include all of them (rotating its own secret, for one). An app without Graph permissions
    is anyone's with ``applications.write``."""
    held = frozenset(app_permissions)
    if not held:
        return True
    if isinstance(caller, AppCaller):
        return held <= caller.permissions
    return _is_global_administrator(caller)


def permission_names() -> tuple[str, ...]:
    return tuple(p.value for p in Permission)
