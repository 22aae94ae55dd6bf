"""Every endpoint times every caller: each application permission alone, each directory role alone, no permission,
no role, anonymous, and broken tokens. 401 and 403 exactly where Microsoft's tables put them, success elsewhere.

The expectations are written here from the Graph pages (not read from ``authz.OPERATIONS``), and the test also
checks that this list covers every registered endpoint, so a new endpoint cannot skip the matrix.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from passgate.access.services import ca_policy_create, strength_create
from passgate.apps.app_roles import app_role_assign
from passgate.apps.exposed_api import ApiExposure
from passgate.apps.services import OidcRegistration, app_create, app_update
from passgate.audit.models import Category
from passgate.audit.services import Actor, RequestContext, audit_record
from passgate.audit.signins import signin_record
from passgate.core.app_roles import AppRole
from passgate.core.graph.authz import Permission
from passgate.core.graph.organization import tenant_id
from passgate.core.roles import assignment_id
from passgate.credentials.services import tap_issue
from passgate.device_config.services import device_configuration_create
from passgate.directory.models import DirectoryRole
from passgate.directory.services import group_add_member, group_create
from tests.graph.conftest import ORIGIN, Api, error_of, issue_token, sign_in_session
from tests.graph.methods import joined_device, stored_oath, stored_passkey
from tests.graph.tokens import bad_tokens

pytestmark = pytest.mark.django_db

ALL_ROLES = set(DirectoryRole)
READ_USERS = ({"User.Read.All", "User.ReadWrite.All"}, ALL_ROLES)
WRITE_USERS = ({"User.ReadWrite.All"}, {DirectoryRole.GLOBAL_ADMINISTRATOR, DirectoryRole.USER_ADMINISTRATOR})
# user-revokesigninsessions: User.RevokeSessions.All, or User.ReadWrite.All; roles holding
# microsoft.directory/users/invalidateAllRefreshTokens (User, Authentication Administrator).
REVOKE_SESSIONS = ({"User.RevokeSessions.All", "User.ReadWrite.All"},
                   {DirectoryRole.GLOBAL_ADMINISTRATOR, DirectoryRole.USER_ADMINISTRATOR,
                    DirectoryRole.AUTHENTICATION_ADMINISTRATOR})
READ_GROUPS = ({"Group.Read.All", "Group.ReadWrite.All"}, ALL_ROLES)
WRITE_GROUPS = ({"Group.ReadWrite.All"}, {DirectoryRole.GLOBAL_ADMINISTRATOR, DirectoryRole.USER_ADMINISTRATOR})
READ_POLICY = ({"Policy.Read.All", "Policy.ReadWrite.AuthenticationMethod"},
               {DirectoryRole.GLOBAL_ADMINISTRATOR, DirectoryRole.GLOBAL_READER,
                DirectoryRole.AUTHENTICATION_POLICY_ADMINISTRATOR})
WRITE_POLICY = ({"Policy.ReadWrite.AuthenticationMethod"},
                {DirectoryRole.GLOBAL_ADMINISTRATOR, DirectoryRole.AUTHENTICATION_POLICY_ADMINISTRATOR})
READ_METHODS = ({"UserAuthenticationMethod.Read.All", "UserAuthenticationMethod.ReadWrite.All"},
                {DirectoryRole.GLOBAL_ADMINISTRATOR, DirectoryRole.GLOBAL_READER,
                 DirectoryRole.AUTHENTICATION_ADMINISTRATOR})
WRITE_METHODS = ({"UserAuthenticationMethod.ReadWrite.All"},
                 {DirectoryRole.GLOBAL_ADMINISTRATOR, DirectoryRole.AUTHENTICATION_ADMINISTRATOR})
GA, GR = DirectoryRole.GLOBAL_ADMINISTRATOR, DirectoryRole.GLOBAL_READER
CAA, APA = DirectoryRole.CONDITIONAL_ACCESS_ADMINISTRATOR, DirectoryRole.AUTHENTICATION_POLICY_ADMINISTRATOR
READ_STRENGTHS = ({"Policy.Read.All", "Policy.ReadWrite.ConditionalAccess", "Policy.ReadWrite.AuthenticationMethod"},
                  {GA, GR, CAA, APA})
WRITE_STRENGTHS = ({"Policy.ReadWrite.ConditionalAccess", "Policy.ReadWrite.AuthenticationMethod"}, {GA, CAA, APA})
READ_CA = ({"Policy.Read.All", "Policy.ReadWrite.ConditionalAccess"}, {GA, GR, CAA})
READ_AUDIT = ({"AuditLog.Read.All"}, {GA, GR})
WRITE_CA = ({"Policy.ReadWrite.ConditionalAccess"}, {GA, CAA})
APP_ADMINS = {DirectoryRole.APPLICATION_ADMINISTRATOR, DirectoryRole.CLOUD_APPLICATION_ADMINISTRATOR}
READ_APPS = ({"Application.Read.All", "Application.ReadWrite.All"}, {GA, GR, *APP_ADMINS})
WRITE_APPS = ({"Application.ReadWrite.All"}, {GA, *APP_ADMINS})
# device-list / device-get: Device.Read.All; device-update / device-delete: Device.ReadWrite.All (Cloud Device
# Administrator is not a Passgate role).
READ_DEVICES = ({"Device.Read.All", "Device.ReadWrite.All"}, {GA, GR})
WRITE_DEVICES = ({"Device.ReadWrite.All"}, {GA})
# Intune device configuration: DeviceManagementConfiguration.Read.All / .ReadWrite.All; the Global Reader reads, only
# the Global Administrator writes (Intune Administrator is not a Passgate role).
READ_DEVICE_CONFIG = ({"DeviceManagementConfiguration.Read.All", "DeviceManagementConfiguration.ReadWrite.All"},
                      {GA, GR})
WRITE_DEVICE_CONFIG = ({"DeviceManagementConfiguration.ReadWrite.All"}, {GA})
DEVICE_CONFIGS = "/v1.0/deviceManagement/deviceConfigurations"
ENROLLMENT_CONFIGS = "/v1.0/deviceManagement/deviceEnrollmentConfigurations"
SECURITY_KEY_SETTING = {"@odata.type": "#microsoft.graph.omaSettingInteger", "displayName": "Security keys",
                        "omaUri": "./Device/Vendor/MSFT/PassportForWork/SecurityKey/UseSecurityKeyForSignin",
                        "value": 1}
# Directory roles: RoleManagement.Read.Directory / RoleManagement.ReadWrite.Directory; reading is every admin role
# (Passgate keeps the API to administrators), writing the Privileged Role Administrator ("the least privileged role
# supported for this operation", rbacapplication-post-roleassignments) and the Global Administrator.
READ_ROLES = ({"RoleManagement.Read.Directory", "RoleManagement.ReadWrite.Directory"}, ALL_ROLES)
WRITE_ROLES = ({"RoleManagement.ReadWrite.Directory"}, {GA, DirectoryRole.PRIVILEGED_ROLE_ADMINISTRATOR})
# App role assignments: user-list-approleassignments (User.Read.All), group-list-approleassignments
# (Group.Read.All), or AppRoleAssignment.ReadWrite.All; writing AppRoleAssignment.ReadWrite.All, or the Application,
# Cloud Application, User and Privileged Role Administrators (user-post-approleassignments).
ASSIGN_APP_ROLES = "AppRoleAssignment.ReadWrite.All"
READ_USER_APP_ROLES = ({"User.Read.All", "User.ReadWrite.All", ASSIGN_APP_ROLES}, ALL_ROLES)
READ_GROUP_APP_ROLES = ({"Group.Read.All", "Group.ReadWrite.All", ASSIGN_APP_ROLES}, ALL_ROLES)
WRITE_APP_ROLES = ({ASSIGN_APP_ROLES}, {GA, *APP_ADMINS, DirectoryRole.USER_ADMINISTRATOR,
                                        DirectoryRole.PRIVILEGED_ROLE_ADMINISTRATOR})
ROLE_DEFINITIONS = "/v1.0/roleManagement/directory/roleDefinitions"
ROLE_ASSIGNMENTS = "/v1.0/roleManagement/directory/roleAssignments"
# /me: any signed-in person (session), whatever their roles; an app token gets 400 (delegated flow only).
ME = (set(), set())
# /organization: any caller with a token or a session (Graph lets every signed-in user read their organization)
OPEN: tuple[set[str], set[DirectoryRole]] = (set(), set())


@dataclass(frozen=True)
class Case:
    method: str
    path: str  # with {user}, {group}, {member} placeholders
    body: Callable[[dict[str, str]], Any] | None
    success: int
    allowed: tuple[set[str], set[DirectoryRole]]

    @property
    def route(self) -> str:
        return (self.path.replace("{user}", "{user-id}").replace("{tapuser}", "{user-id}")
                .replace("{group}", "{group-id}").replace("{member}", "{directoryObject-id}")
                .replace("{passkey}", "{fido2AuthenticationMethod-id}")
                .replace("{oath}", "{softwareOathAuthenticationMethod-id}")
                .replace("{tap}", "{temporaryAccessPassAuthenticationMethod-id}")
                .replace("{config}", "{authenticationMethodConfiguration-id}")
                .replace("{strength}", "{authenticationStrengthPolicy-id}")
                .replace("{cstrength}", "{authenticationStrengthPolicy-id}")
                .replace("{cfg}", "{authenticationCombinationConfiguration-id}")
                .replace("{capolicy}", "{conditionalAccessPolicy-id}")
                .replace("{signin}", "{signIn-id}").replace("{audit}", "{directoryAudit-id}")
                .replace("{app}", "{application-id}").replace("{appid}", "{appId}")
                .replace("{device}", "{device-id}").replace("{org}", "{organization-id}")
                .replace("{roledef}", "{unifiedRoleDefinition-id}")
                .replace("{roleassign}", "{unifiedRoleAssignment-id}")
                .replace("{dirrole}", "{directoryRole-id}").replace("{roletemplate}", "{directoryRoleTemplate-id}")
                .replace("{holder}", "{directoryObject-id}")
                .replace("{devconfig}", "{deviceConfiguration-id}")
                .replace("{enrollconfig}", "{deviceEnrollmentConfiguration-id}")
                .replace("{userassign}", "{appRoleAssignment-id}").replace("{groupassign}", "{appRoleAssignment-id}")
                .replace("(challengeTimeoutInMinutes=30)", "(challengeTimeoutInMinutes={challengeTimeoutInMinutes})")
                .removeprefix("/v1.0"))

    @property
    def is_me(self) -> bool:
        return self.allowed is ME

    @property
    def is_open(self) -> bool:
        return self.allowed is OPEN


def _new_user(ids: dict[str, str]) -> dict[str, Any]:
    return {"accountEnabled": True, "displayName": "New", "mailNickname": "new",
            "userPrincipalName": f"new{uuid.uuid4().hex[:8]}@contoso.com", "passwordProfile": {"password": "x"}}


CASES = [
    Case("GET", "/v1.0/users", None, 200, READ_USERS),
    Case("GET", "/v1.0/users/{user}", None, 200, READ_USERS),
    Case("POST", "/v1.0/users", _new_user, 201, WRITE_USERS),
    Case("PATCH", "/v1.0/users/{user}", lambda ids: {"displayName": "Renamed", "accountEnabled": False}, 204,
         WRITE_USERS),
    Case("DELETE", "/v1.0/users/{user}", None, 204, WRITE_USERS),
    Case("POST", "/v1.0/users/{user}/revokeSignInSessions", None, 200, REVOKE_SESSIONS),
    Case("GET", "/v1.0/groups", None, 200, READ_GROUPS),
    Case("GET", "/v1.0/groups/{group}", None, 200, READ_GROUPS),
    Case("POST", "/v1.0/groups", lambda ids: {"displayName": f"G {uuid.uuid4().hex[:6]}", "mailEnabled": False,
                                              "mailNickname": "g", "securityEnabled": True}, 201, WRITE_GROUPS),
    Case("PATCH", "/v1.0/groups/{group}", lambda ids: {"description": "changed"}, 204, WRITE_GROUPS),
    Case("DELETE", "/v1.0/groups/{group}", None, 204, WRITE_GROUPS),
    Case("GET", "/v1.0/groups/{group}/members", None, 200, READ_GROUPS),
    Case("POST", "/v1.0/groups/{group}/members/$ref",
         lambda ids: {"@odata.id": f"https://graph.microsoft.com/v1.0/directoryObjects/{ids['user']}"}, 204,
         WRITE_GROUPS),
    Case("DELETE", "/v1.0/groups/{group}/members/{member}/$ref", None, 204, WRITE_GROUPS),
    Case("GET", "/v1.0/policies/authenticationMethodsPolicy", None, 200, READ_POLICY),
    Case("PATCH", "/v1.0/policies/authenticationMethodsPolicy",
         lambda ids: {"@odata.type": "#microsoft.graph.authenticationMethodsPolicy"}, 204, WRITE_POLICY),
    Case("GET", "/v1.0/policies/authenticationMethodsPolicy/authenticationMethodConfigurations", None, 200,
         READ_POLICY),
    Case("GET", "/v1.0/policies/authenticationMethodsPolicy/authenticationMethodConfigurations/{config}", None, 200,
         READ_POLICY),
    Case("PATCH", "/v1.0/policies/authenticationMethodsPolicy/authenticationMethodConfigurations/{config}",
         lambda ids: {"isSelfServiceRegistrationAllowed": False}, 204, WRITE_POLICY),
    Case("GET", "/v1.0/users/{user}/authentication/methods", None, 200, READ_METHODS),
    Case("GET", "/v1.0/users/{user}/authentication/fido2Methods", None, 200, READ_METHODS),
    Case("GET", "/v1.0/users/{user}/authentication/fido2Methods/{passkey}", None, 200, READ_METHODS),
    Case("DELETE", "/v1.0/users/{user}/authentication/fido2Methods/{passkey}", None, 204, WRITE_METHODS),
    Case("GET", "/v1.0/users/{user}/authentication/fido2Methods/creationOptions(challengeTimeoutInMinutes=30)",
         None, 200, WRITE_METHODS),
    Case("GET", "/v1.0/users/{user}/authentication/fido2Methods/creationOptions", None, 200, WRITE_METHODS),
    # an authorised caller gets past authorization to the ceremony, which refuses this empty credential
    Case("POST", "/v1.0/users/{user}/authentication/fido2Methods",
         lambda ids: {"displayName": "Key", "publicKeyCredential": {"id": "AAAA", "response": {}}}, 400,
         WRITE_METHODS),
    Case("GET", "/v1.0/users/{user}/authentication/softwareOathMethods", None, 200, READ_METHODS),
    Case("GET", "/v1.0/users/{user}/authentication/softwareOathMethods/{oath}", None, 200, READ_METHODS),
    Case("DELETE", "/v1.0/users/{user}/authentication/softwareOathMethods/{oath}", None, 204, WRITE_METHODS),
    Case("GET", "/v1.0/users/{tapuser}/authentication/temporaryAccessPassMethods", None, 200, READ_METHODS),
    Case("GET", "/v1.0/users/{tapuser}/authentication/temporaryAccessPassMethods/{tap}", None, 200, READ_METHODS),
    Case("POST", "/v1.0/users/{user}/authentication/temporaryAccessPassMethods",
         lambda ids: {"lifetimeInMinutes": 60}, 201, WRITE_METHODS),
    Case("DELETE", "/v1.0/users/{tapuser}/authentication/temporaryAccessPassMethods/{tap}", None, 204,
         WRITE_METHODS),
    Case("GET", "/v1.0/me/authentication/methods", None, 200, ME),
    Case("GET", "/v1.0/me/authentication/fido2Methods", None, 200, ME),
    Case("GET", "/v1.0/me/authentication/fido2Methods/{passkey}", None, 404, ME),  # someone else's passkey
    Case("DELETE", "/v1.0/me/authentication/fido2Methods/{passkey}", None, 404, ME),
    Case("GET", "/v1.0/me/authentication/softwareOathMethods", None, 200, ME),
    Case("DELETE", "/v1.0/me/authentication/softwareOathMethods/{oath}", None, 404, ME),
    Case("GET", "/v1.0/me/authentication/temporaryAccessPassMethods", None, 200, ME),
    Case("POST", "/v1.0/me/revokeSignInSessions", None, 200, ME),
    Case("GET", "/v1.0/me", None, 200, ME),
    Case("GET", "/v1.0/users/{user}/memberOf", None, 200, READ_USERS),
    Case("GET", "/v1.0/organization", None, 200, OPEN),
    Case("GET", "/v1.0/organization/{org}", None, 200, OPEN),
    *[case for prefix in ("/v1.0/policies/authenticationStrengthPolicies",
                          "/v1.0/identity/conditionalAccess/authenticationStrength/policies") for case in (
        Case("GET", prefix, None, 200, READ_STRENGTHS),
        Case("POST", prefix, lambda ids: {"displayName": f"S {uuid.uuid4().hex[:6]}", "allowedCombinations": ["fido2"]},
             201, WRITE_STRENGTHS),
        Case("GET", prefix + "/{strength}", None, 200, READ_STRENGTHS),
        Case("PATCH", prefix + "/{strength}", lambda ids: {"description": "changed"}, 204, WRITE_STRENGTHS),
        Case("DELETE", prefix + "/{strength}", None, 204, WRITE_STRENGTHS),
        Case("GET", prefix + "/{strength}/combinationConfigurations", None, 200, READ_STRENGTHS),
        Case("POST", prefix + "/{strength}/combinationConfigurations", lambda ids: {
            "@odata.type": "#microsoft.graph.fido2CombinationConfiguration", "appliesToCombinations": ["fido2"],
            "allowedAAGUIDs": ["cb69481e-8ff7-4039-93ec-0a2729a154a8"]}, 201, WRITE_STRENGTHS),
        Case("GET", prefix + "/{cstrength}/combinationConfigurations/{cfg}", None, 200, READ_STRENGTHS),
        Case("PATCH", prefix + "/{cstrength}/combinationConfigurations/{cfg}", lambda ids: {
            "allowedAAGUIDs": ["ee882879-721c-4913-9775-3dfcce97072a"]}, 204, WRITE_STRENGTHS),
        Case("DELETE", prefix + "/{cstrength}/combinationConfigurations/{cfg}", None, 204, WRITE_STRENGTHS),
        Case("POST", prefix + "/{strength}/updateAllowedCombinations",
             lambda ids: {"allowedCombinations": ["fido2", "temporaryAccessPassOneTime"]}, 200, WRITE_STRENGTHS),
    )],
    Case("GET", "/v1.0/policies/authenticationStrengthPolicies/{strength}/usage()", None, 200, READ_CA),
    Case("GET", "/v1.0/policies/authenticationStrengthPolicies/{strength}/usage", None, 200, READ_CA),
    Case("GET", "/v1.0/identity/conditionalAccess/policies", None, 200, READ_CA),
    Case("POST", "/v1.0/identity/conditionalAccess/policies", lambda ids: {
        "displayName": "Require a passkey", "state": "disabled",
        "conditions": {"users": {"includeUsers": ["All"]}, "applications": {"includeApplications": ["All"]}},
        "grantControls": {"operator": "OR", "builtInControls": ["mfa"]}}, 201, WRITE_CA),
    Case("GET", "/v1.0/identity/conditionalAccess/policies/{capolicy}", None, 200, READ_CA),
    Case("PATCH", "/v1.0/identity/conditionalAccess/policies/{capolicy}", lambda ids: {"displayName": "Renamed"},
         204, WRITE_CA),
    Case("DELETE", "/v1.0/identity/conditionalAccess/policies/{capolicy}", None, 204, WRITE_CA),
    Case("GET", "/v1.0/auditLogs/signIns", None, 200, READ_AUDIT),
    Case("GET", "/v1.0/auditLogs/signIns/{signin}", None, 200, READ_AUDIT),
    Case("GET", "/v1.0/auditLogs/directoryAudits", None, 200, READ_AUDIT),
    Case("GET", "/v1.0/auditLogs/directoryAudits/{audit}", None, 200, READ_AUDIT),
    Case("GET", "/v1.0/applications", None, 200, READ_APPS),
    Case("POST", "/v1.0/applications", lambda ids: {"displayName": "New app"}, 201, WRITE_APPS),
    *[case for prefix in ("/v1.0/applications/{app}", "/v1.0/applications(appId='{appid}')") for case in (
        Case("GET", prefix, None, 200, READ_APPS),
        Case("PATCH", prefix, lambda ids: {"displayName": "Renamed"}, 204, WRITE_APPS),
        Case("DELETE", prefix, None, 204, WRITE_APPS),
        Case("POST", prefix + "/addPassword", lambda ids: {"passwordCredential": {"displayName": "Rotated"}}, 200,
             WRITE_APPS),
        Case("POST", prefix + "/removePassword", lambda ids: {"keyId": ids["appkey"]}, 204, WRITE_APPS),
    )],
    *[case for kind, principal, read in (("users", "user", READ_USER_APP_ROLES),
                                         ("groups", "group", READ_GROUP_APP_ROLES)) for case in (
        Case("GET", f"/v1.0/{kind}/{{{principal}}}/appRoleAssignments", None, 200, read),
        Case("POST", f"/v1.0/{kind}/{{{principal}}}/appRoleAssignments", lambda ids, p=principal: {
            "principalId": ids[p], "resourceId": ids["app"], "appRoleId": ids["approle2"]}, 201, WRITE_APP_ROLES),
        Case("DELETE", f"/v1.0/{kind}/{{{principal}}}/appRoleAssignments/{{{principal}assign}}", None, 204,
             WRITE_APP_ROLES),
    )],
    Case("GET", "/v1.0/devices", None, 200, READ_DEVICES),
    Case("GET", "/v1.0/devices/{device}", None, 200, READ_DEVICES),
    Case("PATCH", "/v1.0/devices/{device}", lambda ids: {"accountEnabled": False}, 204, WRITE_DEVICES),
    Case("DELETE", "/v1.0/devices/{device}", None, 204, WRITE_DEVICES),
    Case("GET", DEVICE_CONFIGS, None, 200, READ_DEVICE_CONFIG),
    Case("POST", DEVICE_CONFIGS, lambda ids: {"@odata.type": "#microsoft.graph.windows10CustomConfiguration",
                                              "displayName": "Keys on", "omaSettings": [SECURITY_KEY_SETTING]},
         201, WRITE_DEVICE_CONFIG),
    Case("GET", DEVICE_CONFIGS + "/{devconfig}", None, 200, READ_DEVICE_CONFIG),
    Case("PATCH", DEVICE_CONFIGS + "/{devconfig}", lambda ids: {"displayName": "Renamed"}, 200, WRITE_DEVICE_CONFIG),
    Case("DELETE", DEVICE_CONFIGS + "/{devconfig}", None, 204, WRITE_DEVICE_CONFIG),
    Case("POST", DEVICE_CONFIGS + "/{devconfig}/assign", lambda ids: {"assignments": [
        {"target": {"@odata.type": "#microsoft.graph.groupAssignmentTarget", "groupId": ids["group"]}}]}, 200,
         WRITE_DEVICE_CONFIG),
    Case("GET", DEVICE_CONFIGS + "/{devconfig}/assignments", None, 200, READ_DEVICE_CONFIG),
    Case("GET", ENROLLMENT_CONFIGS, None, 200, READ_DEVICE_CONFIG),
    Case("GET", ENROLLMENT_CONFIGS + "/{enrollconfig}", None, 200, READ_DEVICE_CONFIG),
    Case("PATCH", ENROLLMENT_CONFIGS + "/{enrollconfig}", lambda ids: {"securityKeyForSignIn": "enabled"}, 200,
         WRITE_DEVICE_CONFIG),
    Case("GET", ROLE_DEFINITIONS, None, 200, READ_ROLES),
    Case("GET", ROLE_DEFINITIONS + "/{roledef}", None, 200, READ_ROLES),
    Case("GET", ROLE_ASSIGNMENTS, None, 200, READ_ROLES),
    Case("POST", ROLE_ASSIGNMENTS, lambda ids: {"principalId": ids["member"], "roleDefinitionId": ids["roledef"],
                                                "directoryScopeId": "/"}, 201, WRITE_ROLES),
    Case("GET", ROLE_ASSIGNMENTS + "/{roleassign}", None, 200, READ_ROLES),
    Case("DELETE", ROLE_ASSIGNMENTS + "/{roleassign}", None, 204, WRITE_ROLES),
    Case("GET", "/v1.0/directoryRoles", None, 200, READ_ROLES),
    Case("GET", "/v1.0/directoryRoles/{dirrole}", None, 200, READ_ROLES),
    Case("GET", "/v1.0/directoryRoles/{dirrole}/members", None, 200, READ_ROLES),
    Case("POST", "/v1.0/directoryRoles/{dirrole}/members/$ref",
         lambda ids: {"@odata.id": f"https://graph.microsoft.com/v1.0/directoryObjects/{ids['member']}"}, 204,
         WRITE_ROLES),
    Case("DELETE", "/v1.0/directoryRoles/{dirrole}/members/{holder}/$ref", None, 204, WRITE_ROLES),
    Case("GET", "/v1.0/directoryRoleTemplates", None, 200, READ_ROLES),
    Case("GET", "/v1.0/directoryRoleTemplates/{roletemplate}", None, 200, READ_ROLES),
]

PERMISSIONS = [p.value for p in Permission]
BROKEN = ["expired", "forged", "wrong-audience", "alg-none", "wrong-issuer", "tampered", "garbage"]
CALLERS = ([f"app:{p}" for p in PERMISSIONS] + ["app:(none)"] + [f"role:{r.name}" for r in DirectoryRole]
           + ["role:(none)", "anonymous"] + [f"token:{kind}" for kind in BROKEN])


def test_the_matrix_covers_every_registered_endpoint() -> None:
    from passgate.graph_api.registry import ENDPOINTS, graph_urlpatterns

    graph_urlpatterns()
    assert {(c.method, c.route) for c in CASES} == {(e.method, e.path) for e in ENDPOINTS}


def _objects(make_user: Any) -> dict[str, str]:
    target = make_user(display_name="Target")
    member = make_user(display_name="Member")
    group = group_create(display_name=f"Group {uuid.uuid4().hex[:6]}", actor=Actor.system("test"))
    group_add_member(group=group, user=member, actor=Actor.system("test"))
    tap_user = make_user(display_name="Has a pass")
    tap, _ = tap_issue(user=tap_user, actor=Actor.system("test"))
    strength = strength_create(body={"displayName": f"Keys {uuid.uuid4().hex[:6]}", "allowedCombinations": ["fido2"]},
                               actor=Actor.system("test"))
    configured = strength_create(body={
        "displayName": f"Configured {uuid.uuid4().hex[:6]}", "allowedCombinations": ["fido2"],
        "combinationConfigurations": [{"appliesToCombinations": ["fido2"],
                                       "allowedAAGUIDs": ["cb69481e-8ff7-4039-93ec-0a2729a154a8"]}]},
        actor=Actor.system("test"))
    assert configured.fido2_configuration is not None
    policy = ca_policy_create(body={
        "displayName": "Phishing-resistant for all", "state": "disabled",
        "conditions": {"users": {"includeUsers": ["All"]}, "applications": {"includeApplications": ["All"]}},
        "grantControls": {"operator": "OR", "authenticationStrength": {"id": "00000000-0000-0000-0000-000000000004"}}},
        actor=Actor.system("test"))
    signin = signin_record(user_id=str(target.id), user_principal_name=target.user_principal_name,
                           app_id=str(uuid.uuid4()), app_display_name="Payroll", context=RequestContext(),
                           succeeded=True)
    audit = audit_record(category=Category.SYSTEM, activity="test.event")
    app, _ = app_create(display_name="Wiki", permissions=[], actor=Actor.system("test"),
                        oidc=OidcRegistration(redirect_uris=("https://wiki.contoso.test/cb",)))
    profile = device_configuration_create(body={"@odata.type": "#microsoft.graph.windows10CustomConfiguration",
                                                "displayName": "Keys", "omaSettings": [SECURITY_KEY_SETTING]},
                                          actor=Actor.system("test"))
    holder = make_user(display_name="Holds a role", roles=(GR,))
    roles = (AppRole(id=str(uuid.uuid4()), value="Wiki.Edit", display_name="Editors"),
             AppRole(id=str(uuid.uuid4()), value="Wiki.Admin", display_name="Administrators"))
    app = app_update(app=app, actor=Actor.system("test"), api=ApiExposure(roles=roles))
    user_assign = app_role_assign(app=app, app_role_id=roles[0].id, principal=target, actor=Actor.system("test"))
    group_assign = app_role_assign(app=app, app_role_id=roles[0].id, principal=group, actor=Actor.system("test"))
    return {"org": tenant_id(ORIGIN), "device": str(joined_device().id),
            "holder": str(holder.id), "roledef": GR.value, "dirrole": GR.value,
            "roletemplate": GR.value, "roleassign": assignment_id(GR.value, str(holder.id)),
            "user": str(target.id), "group": str(group.id), "member": str(member.id), "tapuser": str(tap_user.id),
            "tap": str(tap.id), "passkey": str(stored_passkey(target).id), "oath": str(stored_oath(target).id),
            "config": "Fido2", "strength": strength.id, "cstrength": configured.id,
            "cfg": configured.fido2_configuration.id, "capolicy": policy.id, "signin": str(signin.id),
            "audit": str(audit.id), "app": str(app.id), "appid": str(app.app_id), "appkey": str(app.secret_key_id),
            "devconfig": profile.id, "enrollconfig": "DefaultWindowsHelloForBusiness", "approle2": roles[1].id,
            "userassign": str(user_assign.id), "groupassign": str(group_assign.id)}


def _api(caller: str, client: Any, make_user: Any) -> Api:
    kind, _, name = caller.partition(":")
    if kind == "app":
        return Api(client, issue_token(*([] if name == "(none)" else [name])))
    if kind == "role":
        roles = () if name == "(none)" else (DirectoryRole[name],)
        sign_in_session(client, make_user(display_name="Caller", roles=roles))
        return Api(client)
    if kind == "token":
        app, _ = app_create(display_name="Everything", permissions=PERMISSIONS, actor=Actor.system("test"))
        return Api(client, bad_tokens(app)[name])
    return Api(client)


def _expected(case: Case, caller: str) -> int:
    kind, _, name = caller.partition(":")
    permissions, roles = case.allowed
    if kind in ("anonymous", "token"):
        return 401
    if case.is_me:
        return 400 if kind == "app" else case.success
    if case.is_open:
        return case.success
    if kind == "app":
        return case.success if name in permissions else 403
    return case.success if name != "(none)" and DirectoryRole[name] in roles else 403


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c.method} {c.route}")
def test_matrix(client: Any, make_user: Any, case: Case, caller: str) -> None:
    ids = _objects(make_user)
    api = _api(caller, client, make_user)
    path = case.path.format(**ids)
    response = api.request(case.method, path, case.body(ids) if case.body else None)
    expected = _expected(case, caller)
    if case.is_me and caller.startswith("app:"):
        assert error_of(response)[:2] == (400, "BadRequest")  # as Graph answers /me with an app token
    elif expected == 401:
        assert error_of(response)[:2] == (401, "InvalidAuthenticationToken")
        assert response["WWW-Authenticate"].startswith('Bearer realm="passgate"')
    elif expected == 403:
        assert error_of(response) == (403, "Authorization_RequestDenied",
                                      "Insufficient privileges to complete the operation.")
    else:
        assert response.status_code == expected, response.content


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c.method} {c.route}")
def test_every_endpoint_is_served_under_beta_too(app_api: Any, make_user: Any, case: Case) -> None:
    ids = _objects(make_user)
    api = app_api(*PERMISSIONS)
    path = case.path.replace("/v1.0/", "/beta/").format(**ids)
    response = api.request(case.method, path, case.body(ids) if case.body else None)
    # /me is served under beta too; an app token reaches it and is told to use a delegated flow
    assert response.status_code == (400 if case.is_me else case.success), response.content
