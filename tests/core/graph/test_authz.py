"""The authorization matrix (pure), checked against Microsoft's least-privilege tables as written down here.

The expected sets below are typed from the Graph API pages (permissions tables and "least privileged roles"),
independently of ``authz.OPERATIONS``, so a change to either shows up as a failure.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from itertools import chain, combinations
from pathlib import Path

import pytest

import passgate.core.graph
from passgate.core.graph.authz import (
    MANAGEABLE_TARGET_ROLES,
    OPERATIONS,
    AppCaller,
    AuthorizationDenied,
    Permission,
    Role,
    UserCaller,
    allowed,
    authorize,
    can_add_credential,
    can_grant_permissions,
    can_manage,
)

GA, APA, AA, UA, GR = (Role.GLOBAL_ADMINISTRATOR, Role.AUTHENTICATION_POLICY_ADMINISTRATOR,
                       Role.AUTHENTICATION_ADMINISTRATOR, Role.USER_ADMINISTRATOR, Role.GLOBAL_READER)
CAA = Role.CONDITIONAL_ACCESS_ADMINISTRATOR
APPA, CAPPA = Role.APPLICATION_ADMINISTRATOR, Role.CLOUD_APPLICATION_ADMINISTRATOR
PRA = Role.PRIVILEGED_ROLE_ADMINISTRATOR
ALL_ROLES = {GA, APA, AA, UA, GR, CAA, APPA, CAPPA, PRA}

EXPECTED_PERMISSIONS = {
    "users.read": {"User.Read.All", "User.ReadWrite.All"},
    "users.write": {"User.ReadWrite.All"},
    # user-revokesigninsessions: User.RevokeSessions.All least privileged, User.ReadWrite.All higher
    # (Directory.ReadWrite.All is not a Passgate permission).
    "users.revokeSessions": {"User.RevokeSessions.All", "User.ReadWrite.All"},
    "groups.read": {"Group.Read.All", "Group.ReadWrite.All"},
    "groups.write": {"Group.ReadWrite.All"},
    "policy.read": {"Policy.Read.All", "Policy.ReadWrite.AuthenticationMethod"},
    "policy.write": {"Policy.ReadWrite.AuthenticationMethod"},
    "methods.read": {"UserAuthenticationMethod.Read.All", "UserAuthenticationMethod.ReadWrite.All"},
    "methods.write": {"UserAuthenticationMethod.ReadWrite.All"},
    "audit.read": {"AuditLog.Read.All"},
    "access.read": {"Policy.Read.All", "Policy.ReadWrite.ConditionalAccess"},
    "access.write": {"Policy.ReadWrite.ConditionalAccess"},
    "strengths.read": {"Policy.Read.All", "Policy.ReadWrite.ConditionalAccess",
                       "Policy.ReadWrite.AuthenticationMethod"},
    "strengths.write": {"Policy.ReadWrite.ConditionalAccess", "Policy.ReadWrite.AuthenticationMethod"},
    # application-list/-get: Application.Read.All least privileged; post, update, delete, addPassword,
    # removePassword: Application.ReadWrite.All (Application.ReadWrite.OwnedBy is not a Passgate permission).
    "applications.read": {"Application.Read.All", "Application.ReadWrite.All"},
    "applications.write": {"Application.ReadWrite.All"},
    "devices.read": {"Device.Read.All", "Device.ReadWrite.All"},
    "devices.write": {"Device.ReadWrite.All"},
    "deviceConfiguration.read": {"DeviceManagementConfiguration.Read.All",
                                 "DeviceManagementConfiguration.ReadWrite.All"},
    "deviceConfiguration.write": {"DeviceManagementConfiguration.ReadWrite.All"},
    # rbacapplication-list-roledefinitions/-roleassignments: RoleManagement.Read.Directory least privileged;
    # rbacapplication-post-roleassignments, unifiedroleassignment-delete: RoleManagement.ReadWrite.Directory.
    "roles.read": {"RoleManagement.Read.Directory", "RoleManagement.ReadWrite.Directory"},
    "roles.write": {"RoleManagement.ReadWrite.Directory"},
    # user-list-approleassignments: User.Read.All; group-list-approleassignments: Group.Read.All; both also
    # AppRoleAssignment.ReadWrite.All (Directory.Read.All is not a Passgate permission); user-/group-post- and
    # -delete-approleassignments: AppRoleAssignment.ReadWrite.All.
    "appRoleAssignments.users.read": {"User.Read.All", "User.ReadWrite.All", "AppRoleAssignment.ReadWrite.All"},
    "appRoleAssignments.groups.read": {"Group.Read.All", "Group.ReadWrite.All", "AppRoleAssignment.ReadWrite.All"},
    "appRoleAssignments.write": {"AppRoleAssignment.ReadWrite.All"},
}
EXPECTED_ROLES = {
    "users.read": ALL_ROLES,
    "users.write": {GA, UA},
    # microsoft.directory/users/invalidateAllRefreshTokens: User, Authentication (and Helpdesk) Administrators
    "users.revokeSessions": {GA, UA, AA},
    "groups.read": ALL_ROLES,
    "groups.write": {GA, UA},
    "policy.read": {GA, GR, APA},
    "policy.write": {GA, APA},
    "methods.read": {GA, GR, AA},
    "methods.write": {GA, AA},
    "audit.read": {GA, GR},
    "access.read": {GA, GR, CAA},
    "access.write": {GA, CAA},
    "strengths.read": {GA, GR, CAA, APA},
    "strengths.write": {GA, CAA, APA},
    "applications.read": {GA, GR, APPA, CAPPA},
    "applications.write": {GA, APPA, CAPPA},
    "devices.read": {GA, GR},
    "devices.write": {GA},
    "deviceConfiguration.read": {GA, GR},
    "deviceConfiguration.write": {GA},
    "roles.read": ALL_ROLES,
    # "Privileged Role Administrator is the least privileged role supported for this operation."
    "roles.write": {GA, PRA},
    "appRoleAssignments.users.read": ALL_ROLES,
    "appRoleAssignments.groups.read": ALL_ROLES,
    "appRoleAssignments.write": {GA, APPA, CAPPA, UA, PRA},
}


def app(*permissions: str) -> AppCaller:
    return AppCaller(app_id="a", object_id="o", display_name="App", permissions=frozenset(permissions))


def person(*roles: Role) -> UserCaller:
    return UserCaller(user_id="u", user_principal_name="u@contoso.com", roles=frozenset(r.value for r in roles))


def test_the_registry_covers_exactly_the_expected_operations() -> None:
    assert set(OPERATIONS) == set(EXPECTED_PERMISSIONS) == set(EXPECTED_ROLES)
    for rule in OPERATIONS.values():
        assert rule.sources and all(s.startswith("https://learn.microsoft.com/") for s in rule.sources)


@pytest.mark.parametrize("operation", sorted(EXPECTED_PERMISSIONS))
@pytest.mark.parametrize("permission", [p.value for p in Permission])
def test_each_permission_alone(operation: str, permission: str) -> None:
    assert allowed(app(permission), operation) == (permission in EXPECTED_PERMISSIONS[operation])


@pytest.mark.parametrize("operation", sorted(EXPECTED_ROLES))
@pytest.mark.parametrize("role", list(Role), ids=lambda r: r.name)
def test_each_role_alone(operation: str, role: Role) -> None:
    assert allowed(person(role), operation) == (role in EXPECTED_ROLES[operation])


@pytest.mark.parametrize("operation", sorted(OPERATIONS))
def test_nothing_without_a_permission_or_role(operation: str) -> None:
    assert not allowed(app(), operation)
    assert not allowed(person(), operation)
    assert not allowed(app("Directory.ReadWrite.All", "Not.A.Permission"), operation)
    assert not allowed(UserCaller("u", "u@x", frozenset({"00000000-0000-0000-0000-000000000000"})), operation)
    with pytest.raises(AuthorizationDenied) as info:
        authorize(person(), operation)
    assert info.value.code == "authorization_denied" and info.value.operation == operation


@pytest.mark.parametrize("area", ["users", "groups", "policy", "methods", "access", "strengths", "applications",
                                  "deviceConfiguration", "roles"])
def test_write_implies_read(area: str) -> None:
    read, write = OPERATIONS[f"{area}.read"], OPERATIONS[f"{area}.write"]
    assert write.permissions <= read.permissions
    assert write.roles <= read.roles


def test_global_reader_reads_everything_and_writes_nothing() -> None:
    for name in OPERATIONS:
        assert allowed(person(GR), name) == name.endswith(".read")


def test_unknown_operations_are_a_programming_error() -> None:
    with pytest.raises(KeyError):
        allowed(app("User.Read.All"), "users.explode")


# --- sensitive actions on privileged targets ---------------------------------------------------------

def _role_sets() -> list[frozenset[Role]]:
    roles = list(Role)
    return [frozenset(c) for c in chain.from_iterable(combinations(roles, n) for n in range(3))]


# "Who can update sensitive attributes?" (Graph users overview): columns Auth Admin, User Admin, Global Admin.
SENSITIVE_TABLE = {
    AA: {AA},
    UA: {UA},
    GA: ALL_ROLES,
    APA: set(),
    GR: set(),
    CAA: set(),
    APPA: set(),
    CAPPA: set(),
    PRA: set(),
}


@pytest.mark.parametrize("target", _role_sets(), ids=lambda s: "+".join(sorted(r.name for r in s)) or "no-role")
def test_who_may_act_on_whom(target: frozenset[Role]) -> None:
    values = [r.value for r in target]
    assert can_manage(app("User.ReadWrite.All"), values) == (not target)  # apps never reach administrators
    for role in Role:
        assert can_manage(person(role), values) == (target <= SENSITIVE_TABLE[role]), role
    assert can_manage(person(), values) == (not target)
    assert MANAGEABLE_TARGET_ROLES[GA] == frozenset(Role)


def test_authorize_checks_the_target_only_when_asked() -> None:
    authorize(person(UA), "users.write")
    authorize(person(UA), "users.write", target_roles=frozenset())
    authorize(person(UA), "users.write", target_roles=frozenset({UA.value}))
    with pytest.raises(AuthorizationDenied):
        authorize(person(UA), "users.write", target_roles=frozenset({GA.value}))
    with pytest.raises(AuthorizationDenied):
        authorize(app("User.ReadWrite.All"), "users.write", target_roles=frozenset({GR.value}))
    authorize(person(GA), "users.write", target_roles=frozenset({GA.value, AA.value}))
    # unknown role ids on the target are not privileged roles
    authorize(app("User.ReadWrite.All"), "users.write", target_roles=frozenset({"not-a-role"}))


# --- granting Graph permissions to apps ---------------------------------------------------------------

def test_only_the_global_administrator_grants_graph_permissions() -> None:
    assert can_grant_permissions(person(GA))
    for role in Role:
        if role is not GA:
            assert not can_grant_permissions(person(role)), role
    # an app never, whatever it holds: it could give itself anything
    assert not can_grant_permissions(app(*(p.value for p in Permission)))


def test_who_may_give_an_app_a_new_secret() -> None:
    assert can_add_credential(person(APPA), [])  # an app without Graph permissions: anyone managing apps
    assert can_add_credential(app("Application.ReadWrite.All"), [])
    assert not can_add_credential(person(APPA), ["User.Read.All"])
    assert not can_add_credential(person(CAPPA), ["User.Read.All"])
    assert can_add_credential(person(GA), ["User.ReadWrite.All", "Application.ReadWrite.All"])
    # an app may rotate the secret of an app holding nothing it doesn't hold itself (its own, for one)
    assert can_add_credential(app("Application.ReadWrite.All", "User.Read.All"), ["User.Read.All"])
    assert can_add_credential(app("Application.ReadWrite.All"), ["Application.ReadWrite.All"])
    assert not can_add_credential(app("Application.ReadWrite.All"), ["Application.ReadWrite.All", "User.Read.All"])


def test_role_ids_match_the_directory_roles_django_stores() -> None:
    models = Path(passgate.core.graph.__file__).parents[2] / "directory" / "models.py"
    text = models.read_text(encoding="utf-8")
    for role in Role:
        assert f'"{role.value}"' in text, role


# --- purity -------------------------------------------------------------------------------------------

PACKAGE = Path(passgate.core.graph.__file__).parent
IMPURE = {"django", "rest_framework", "joserfc", "authlib", "time", "datetime", "random", "secrets", "os", "socket",
          "requests", "logging"}


@pytest.mark.parametrize("module", sorted(PACKAGE.glob("*.py")), ids=lambda p: p.name)
def test_module_imports_nothing_impure(module: Path) -> None:
    roots: set[str] = set()
    for node in ast.walk(ast.parse(module.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module == "datetime" and {a.name for a in node.names} <= {"UTC", "datetime"}:
                continue  # the type and the UTC constant for formatting values passed in; never the clock
            roots.add(node.module.split(".")[0])
    assert not roots & IMPURE


def test_importing_the_graph_core_does_not_import_django() -> None:
    code = ("import sys\nimport passgate.core.graph.authz, passgate.core.graph.odata, passgate.core.graph.resources\n"
            "import passgate.core.graph.errors, passgate.core.graph.schema\n"
            "assert not [m for m in sys.modules if m.split('.')[0] in ('django', 'rest_framework')]\n")
    subprocess.run([sys.executable, "-c", code], cwd=Path(__file__).resolve().parents[3], check=True, timeout=60)
