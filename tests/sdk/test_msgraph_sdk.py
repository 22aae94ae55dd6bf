"""The official Microsoft Graph Python SDK (``msgraph-sdk``) against a live ``passgate serve``.

An app registered with ``passgate apps add`` gets tokens from Passgate's token endpoint through a small async
``TokenCredential`` (azure-identity's ``ClientSecretCredential`` insists on an https authority, and ``serve`` here
is plain http on localhost). The SDK's own ``AzureIdentityAuthenticationProvider`` asks it for
``https://graph.microsoft.com/.default`` (kiota sends tokens over http to localhost only) and the request adapter's
``base_url`` is Passgate's ``/v1.0``. Everything else is the SDK's generated request builders and models, so
Graph's JSON shapes are checked by the SDK's own (de)serialisers.
"""

from __future__ import annotations

import asyncio
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from azure.core.credentials import AccessToken
from msgraph import GraphServiceClient
from msgraph.generated.device_management.device_configurations.item.assign.assign_post_request_body import (
    AssignPostRequestBody,
)
from msgraph.generated.models.device import Device
from msgraph.generated.models.device_configuration_assignment import DeviceConfigurationAssignment
from msgraph.generated.models.group import Group
from msgraph.generated.models.group_assignment_target import GroupAssignmentTarget
from msgraph.generated.models.oma_setting_integer import OmaSettingInteger
from msgraph.generated.models.windows10_custom_configuration import Windows10CustomConfiguration

from tests.processes import joined_device_over_http, serving

SCOPE = "https://graph.microsoft.com/.default"
SECURITY_KEY_URI = "./Device/Vendor/MSFT/PassportForWork/SecurityKey/UseSecurityKeyForSignin"

# the SDK's generated request builders warn about their own deprecated configuration classes on every call
pytestmark = [pytest.mark.filterwarnings("ignore:This class is deprecated:DeprecationWarning"),
              pytest.mark.filterwarnings("ignore:GetQueryParameters is deprecated:DeprecationWarning")]


@pytest.fixture
def server(tmp_path: Path) -> Iterator[dict[str, Any]]:
    """A real ``passgate serve`` (two workers) on a database of its own, reaped whatever happens."""
    with serving(tmp_path, "sdk") as running:
        yield running


def _cli(server: dict[str, Any], *args: str) -> str:
    done = subprocess.run([sys.executable, "-m", "passgate.cli", *args], env=server["env"], capture_output=True,
                          text=True, check=False, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout


def _joined_device(server: dict[str, Any]) -> str:
    return joined_device_over_http(server["origin"], server["env"], "sdk-pc")


class PassgateClientSecretCredential:
    """An ``AsyncTokenCredential`` doing what ``ClientSecretCredential`` does (client_credentials with a secret)
    against Passgate's ``/{tenant}/oauth2/v2.0/token``; records the scopes it was asked for."""

    def __init__(self, token_endpoint: str, client_id: str, secret: str) -> None:
        self.token_endpoint, self.client_id, self.secret = token_endpoint, client_id, secret
        self.scopes_asked: list[tuple[str, ...]] = []

    async def get_token(self, *scopes: str, **_: Any) -> AccessToken:
        self.scopes_asked.append(scopes)
        async with httpx.AsyncClient() as http:
            answer = await http.post(self.token_endpoint, data={
                "grant_type": "client_credentials", "client_id": self.client_id, "client_secret": self.secret,
                "scope": " ".join(scopes)})
        assert answer.status_code == 200, answer.text
        body = answer.json()
        return AccessToken(body["access_token"], int(time.time()) + int(body["expires_in"]))

    async def close(self) -> None:
        return None

    async def __aenter__(self) -> PassgateClientSecretCredential:
        return self

    async def __aexit__(self, *_: object) -> None:
        return None


def _sdk_client(server: dict[str, Any]) -> tuple[GraphServiceClient, PassgateClientSecretCredential]:
    return _app_client(server, "SDK", "DeviceManagementConfiguration.ReadWrite.All", "Device.ReadWrite.All",
                       "Group.ReadWrite.All")


async def _exercise(client: GraphServiceClient, device_id: str) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    group = await client.groups.post(Group(display_name="Linux sign-in", mail_nickname="linux-signin",
                                           mail_enabled=False, security_enabled=True, group_types=[]))
    assert group is not None and group.id
    seen["group"] = group

    profile = await client.device_management.device_configurations.post(Windows10CustomConfiguration(
        display_name="Security keys for sign-in", description="Linux sign-in",
        oma_settings=[OmaSettingInteger(display_name="Use security keys for sign-in", oma_uri=SECURITY_KEY_URI,
                                        value=1)]))
    seen["profile"] = profile
    assert profile is not None and profile.id

    by_id = client.device_management.device_configurations.by_device_configuration_id(profile.id)
    assigned = await by_id.assign.post(AssignPostRequestBody(assignments=[
        DeviceConfigurationAssignment(target=GroupAssignmentTarget(group_id=group.id))]))
    seen["assigned"] = assigned
    seen["assignments"] = await by_id.assignments.get()
    seen["profile_again"] = await by_id.get()

    seen["devices"] = await client.devices.get()
    patched = await client.devices.by_device_id(device_id).patch(Device(account_enabled=False))
    seen["patched"] = patched
    seen["device"] = await client.devices.by_device_id(device_id).get()
    seen["enrollment"] = await client.device_management.device_enrollment_configurations.get()
    return seen


def _app_client(server: dict[str, Any], name: str,
                *permissions: str) -> tuple[GraphServiceClient, PassgateClientSecretCredential]:
    """The SDK, as an app registered with ``passgate apps add`` holding ``permissions``, and its credential."""
    args = [arg for permission in permissions for arg in ("--permission", permission)]
    out = _cli(server, "apps", "add", "--name", name, *args)
    app_id = re.search(r"Application \(client\) ID:\s+(\S+)", out)
    secret = re.search(r"Client secret:\s+(\S+)", out)
    assert app_id and secret, out
    credential = PassgateClientSecretCredential(f"{server['origin']}/contoso.onmicrosoft.com/oauth2/v2.0/token",
                                                app_id.group(1), secret.group(1))
    client = GraphServiceClient(credentials=credential, scopes=[SCOPE])
    client.request_adapter.base_url = f"{server['origin']}/v1.0"
    return client, credential


def _in_own_loop(coroutine: Any) -> Any:
    """Run the SDK's coroutine on a thread of its own: after the browser tests, Playwright's event loop is the
    running one on this thread, and asyncio.run() refuses to start another here."""
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["value"] = asyncio.run(coroutine)
        except BaseException as exc:  # noqa: BLE001 - re-raised on the test's thread
            outcome["error"] = exc

    worker = threading.Thread(target=run, name="msgraph-sdk")
    worker.start()
    worker.join(timeout=300)
    assert not worker.is_alive(), "the SDK calls did not finish within 300 s"
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


def test_the_official_graph_sdk_manages_device_configuration(server: dict[str, Any]) -> None:
    device_id = _joined_device(server)
    client, credential = _sdk_client(server)
    seen = _in_own_loop(_exercise(client, device_id))

    assert credential.scopes_asked and set(credential.scopes_asked) == {(SCOPE,)}
    group, profile = seen["group"], seen["profile"]
    assert isinstance(profile, Windows10CustomConfiguration)
    assert (profile.display_name, profile.description, profile.version) == (
        "Security keys for sign-in", "Linux sign-in", 1)
    [setting] = profile.oma_settings or []
    assert isinstance(setting, OmaSettingInteger)
    assert (setting.oma_uri, setting.value, setting.display_name) == (SECURITY_KEY_URI, 1,
                                                                     "Use security keys for sign-in")
    assert setting.additional_data.get("@passgate.applicability") == "applicable"
    assert isinstance(seen["profile_again"], Windows10CustomConfiguration)
    assert seen["profile_again"].id == profile.id

    for answer in (seen["assigned"], seen["assignments"]):
        [assignment] = answer.value
        assert isinstance(assignment, DeviceConfigurationAssignment) and assignment.id
        assert isinstance(assignment.target, GroupAssignmentTarget)
        assert assignment.target.group_id == group.id

    devices = seen["devices"].value
    assert [(d.id, d.display_name, d.operating_system) for d in devices] == [(device_id, "sdk-pc", "Linux")]
    assert devices[0].account_enabled is True
    assert seen["device"].account_enabled is False
    assert seen["patched"] is None  # Graph's 204

    [enrollment] = seen["enrollment"].value
    assert enrollment.odata_type == "#microsoft.graph.deviceEnrollmentWindowsHelloForBusinessConfiguration"
    assert enrollment.priority == 0 and enrollment.id
    assert "@passgate.securityKeyForSignIn" in enrollment.additional_data

    # every property Passgate answered is one the SDK's model knows (else it lands in additional_data), and the
    # timestamps parse as the SDK's datetimes
    for key, answer in seen.items():
        for item in (answer.value if hasattr(answer, "value") and isinstance(answer.value, list) else [answer]):
            if item is not None:
                assert all(k == "@odata.context" or k.startswith("@passgate.") for k in item.additional_data), (
                    key, item.additional_data)
    assert isinstance(profile.created_date_time, datetime) and profile.created_date_time.tzinfo is not None
    assert isinstance(devices[0].registration_date_time, datetime)
    assert isinstance(enrollment.last_modified_date_time, datetime)


# --- directory roles ------------------------------------------------------------------------------------

GLOBAL_READER = "f2ef992c-3afb-46b9-b7cf-a126ee74c451"


async def _roles(client: GraphServiceClient, user_id: str) -> dict[str, Any]:
    from kiota_abstractions.base_request_configuration import RequestConfiguration
    from msgraph.generated.models.unified_role_assignment import UnifiedRoleAssignment
    from msgraph.generated.role_management.directory.role_assignments.role_assignments_request_builder import (
        RoleAssignmentsRequestBuilder,
    )

    directory = client.role_management.directory
    seen: dict[str, Any] = {"definitions": await directory.role_definitions.get()}
    seen["created"] = await directory.role_assignments.post(UnifiedRoleAssignment(
        principal_id=user_id, role_definition_id=GLOBAL_READER, directory_scope_id="/"))
    query = RoleAssignmentsRequestBuilder.RoleAssignmentsRequestBuilderGetQueryParameters(
        filter=f"principalId eq '{user_id}'", expand=["principal"])
    seen["filtered"] = await directory.role_assignments.get(RequestConfiguration(query_parameters=query))
    seen["members"] = await client.directory_roles.by_directory_role_id(GLOBAL_READER).members.get()
    assert seen["created"] is not None and seen["created"].id
    await directory.role_assignments.by_unified_role_assignment_id(seen["created"].id).delete()
    seen["after"] = await directory.role_assignments.get(RequestConfiguration(query_parameters=query))
    return seen


def test_the_official_graph_sdk_assigns_and_removes_a_role(server: dict[str, Any]) -> None:
    import json

    from msgraph.generated.models.unified_role_assignment import UnifiedRoleAssignment
    from msgraph.generated.models.unified_role_definition import UnifiedRoleDefinition
    from msgraph.generated.models.user import User

    user_id = json.loads(_cli(server, "users", "add", "reader@contoso.test", "--json"))["id"]
    client, _ = _app_client(server, "Roles", "RoleManagement.ReadWrite.Directory")
    seen = _in_own_loop(_roles(client, user_id))

    definitions = seen["definitions"].value
    assert all(isinstance(d, UnifiedRoleDefinition) and d.is_built_in for d in definitions)
    reader = next(d for d in definitions if d.template_id == GLOBAL_READER)
    assert reader.display_name == "Global Reader" and reader.role_permissions[0].allowed_resource_actions
    created = seen["created"]
    assert isinstance(created, UnifiedRoleAssignment)
    assert (created.principal_id, created.role_definition_id, created.directory_scope_id) == (
        user_id, GLOBAL_READER, "/")
    [found] = seen["filtered"].value
    assert found.id == created.id and isinstance(found.principal, User) and found.principal.id == user_id
    assert [m.id for m in seen["members"].value] == [user_id]
    assert seen["after"].value == []
    for item in [*definitions, created, found]:
        assert all(k == "@odata.context" for k in item.additional_data), item.additional_data
    shown = json.loads(_cli(server, "users", "show", user_id, "--json"))
    assert shown["roles"] == []


# --- query options ------------------------------------------------------------------------------------

async def _queries(client: GraphServiceClient) -> dict[str, Any]:
    from kiota_abstractions.api_error import APIError
    from kiota_abstractions.base_request_configuration import RequestConfiguration
    from msgraph.generated.identity.conditional_access.policies.policies_request_builder import PoliciesRequestBuilder
    from msgraph.generated.policies.authentication_strength_policies.authentication_strength_policies_request_builder import (  # noqa: E501
        AuthenticationStrengthPoliciesRequestBuilder,
    )
    from msgraph.generated.users.users_request_builder import UsersRequestBuilder

    def users(eventual: bool, **options: Any) -> RequestConfiguration[Any]:
        config = RequestConfiguration(query_parameters=UsersRequestBuilder.UsersRequestBuilderGetQueryParameters(
            **options))
        if eventual:
            config.headers.add("ConsistencyLevel", "eventual")
        return config

    seen: dict[str, Any] = {
        "ordered": await client.users.get(users(True, count=True, orderby=["displayName desc"],
                                                select=["displayName", "userPrincipalName"])),
        "searched": await client.users.get(users(True, search='"displayName:van"', count=True)),
        "in": await client.users.get(users(False, filter="userPrincipalName in ('adele@contoso.test')")),
        "organization": await client.organization.get(),
        "strengths": await client.policies.authentication_strength_policies.get(RequestConfiguration(
            query_parameters=AuthenticationStrengthPoliciesRequestBuilder
            .AuthenticationStrengthPoliciesRequestBuilderGetQueryParameters(filter="policyType eq 'builtIn'"))),
        "policies": await client.identity.conditional_access.policies.get(RequestConfiguration(
            query_parameters=PoliciesRequestBuilder.PoliciesRequestBuilderGetQueryParameters(
                filter="state eq 'disabled'", top=5, count=True))),
    }
    for name, config in (("ne without the header", users(False, filter="accountEnabled ne false")),
                         ("search without the header", users(False, search='"displayName:van"'))):
        try:
            await client.users.get(config)
        except APIError as exc:
            seen[name] = (exc.response_status_code, exc.error.code if exc.error else None)
    return seen


def test_the_official_graph_sdk_sends_query_options(server: dict[str, Any]) -> None:
    for upn, name in (("adele@contoso.test", "Adele Vance"), ("zoe@contoso.test", "Zoe van Dijk"),
                      ("bob@contoso.test", "Bob Kelly")):
        _cli(server, "users", "add", upn, "--display-name", name)
    client, _ = _app_client(server, "Queries", "User.Read.All", "Policy.Read.All")
    seen = _in_own_loop(_queries(client))

    ordered = seen["ordered"]
    # the server's first administrator is there too
    assert [u.display_name for u in ordered.value] == ["Zoe van Dijk", "Bob Kelly", "Administrator", "Adele Vance"]
    assert ordered.odata_count == 4
    assert [u.display_name for u in seen["searched"].value] == ["Adele Vance", "Zoe van Dijk"]
    assert seen["searched"].odata_count == 2
    assert [u.user_principal_name for u in seen["in"].value] == ["adele@contoso.test"]
    [org] = seen["organization"].value
    assert org.verified_domains[0].name == "localhost" and org.verified_domains[0].is_default is True
    assert {s.display_name for s in seen["strengths"].value} == {
        "Multifactor authentication", "Passwordless MFA", "Phishing-resistant MFA"}
    assert seen["policies"].value == [] and seen["policies"].odata_count == 0
    assert seen["ne without the header"] == (400, "Request_UnsupportedQuery")
    assert seen["search without the header"] == (400, "Request_UnsupportedQuery")


# --- authentication strengths: combination configurations, updateAllowedCombinations, usage() ----------

YUBIKEY_5 = "cb69481e-8ff7-4039-93ec-0a2729a154a8"
FEITIAN = "ee882879-721c-4913-9775-3dfcce97072a"


async def _strength_parts(client: GraphServiceClient) -> dict[str, Any]:
    from msgraph.generated.models.authentication_method_modes import AuthenticationMethodModes
    from msgraph.generated.models.authentication_strength_policy import AuthenticationStrengthPolicy
    from msgraph.generated.models.conditional_access_applications import ConditionalAccessApplications
    from msgraph.generated.models.conditional_access_condition_set import ConditionalAccessConditionSet
    from msgraph.generated.models.conditional_access_grant_controls import ConditionalAccessGrantControls
    from msgraph.generated.models.conditional_access_policy import ConditionalAccessPolicy
    from msgraph.generated.models.conditional_access_policy_state import ConditionalAccessPolicyState
    from msgraph.generated.models.conditional_access_users import ConditionalAccessUsers
    from msgraph.generated.models.fido2_combination_configuration import Fido2CombinationConfiguration
    from msgraph.generated.policies.authentication_strength_policies.item.update_allowed_combinations.update_allowed_combinations_post_request_body import (  # noqa: E501
        UpdateAllowedCombinationsPostRequestBody,
    )

    seen: dict[str, Any] = {}
    strength = await client.policies.authentication_strength_policies.post(AuthenticationStrengthPolicy(
        display_name="Security keys", allowed_combinations=[AuthenticationMethodModes.Fido2]))
    assert strength is not None and strength.id
    by_id = client.policies.authentication_strength_policies.by_authentication_strength_policy_id(strength.id)
    configurations = by_id.combination_configurations
    created = await configurations.post(Fido2CombinationConfiguration(
        allowed_a_a_g_u_i_ds=[YUBIKEY_5], applies_to_combinations=[AuthenticationMethodModes.Fido2]))
    assert created is not None and created.id
    seen["created"] = created
    one = configurations.by_authentication_combination_configuration_id(created.id)
    seen["got"] = await one.get()
    await one.patch(Fido2CombinationConfiguration(allowed_a_a_g_u_i_ds=[YUBIKEY_5, FEITIAN]))
    seen["listed"] = await configurations.get()

    await client.identity.conditional_access.policies.post(ConditionalAccessPolicy(
        display_name="Admin portal needs a security key",
        state=ConditionalAccessPolicyState.EnabledForReportingButNotEnforced,
        conditions=ConditionalAccessConditionSet(users=ConditionalAccessUsers(include_users=["All"]),
                                                 applications=ConditionalAccessApplications(
                                                     include_applications=["All"])),
        grant_controls=ConditionalAccessGrantControls(operator="OR", authentication_strength=strength)))
    seen["usage"] = await by_id.usage.get()
    seen["updated"] = await by_id.update_allowed_combinations.post(UpdateAllowedCombinationsPostRequestBody(
        allowed_combinations=[AuthenticationMethodModes.Fido2, AuthenticationMethodModes.TemporaryAccessPassOneTime]))
    await one.delete()
    seen["after_delete"] = await configurations.get()
    seen["strength"] = await by_id.get()
    return seen


def test_the_official_graph_sdk_manages_a_strengths_combination_configurations(server: dict[str, Any]) -> None:
    client, _ = _app_client(server, "Strengths", "Policy.ReadWrite.ConditionalAccess", "Policy.Read.All")
    seen = _in_own_loop(_strength_parts(client))

    from msgraph.generated.models.fido2_combination_configuration import Fido2CombinationConfiguration

    created, got = seen["created"], seen["got"]
    assert isinstance(created, Fido2CombinationConfiguration) and isinstance(got, Fido2CombinationConfiguration)
    assert got.id == created.id and got.allowed_a_a_g_u_i_ds == [YUBIKEY_5]
    [listed] = seen["listed"].value
    assert listed.id == created.id and listed.allowed_a_a_g_u_i_ds == [YUBIKEY_5, FEITIAN]
    assert [p.display_name for p in seen["usage"].mfa] == ["Admin portal needs a security key"]
    assert seen["usage"].none_ == []
    updated = seen["updated"]
    assert [m.value for m in updated.previous_combinations] == ["fido2"]
    assert [m.value for m in updated.current_combinations] == ["fido2", "temporaryAccessPassOneTime"]
    assert len(updated.conditional_access_references) == 1
    assert seen["after_delete"].value == []
    assert [m.value for m in seen["strength"].allowed_combinations] == ["fido2", "temporaryAccessPassOneTime"]
    assert seen["strength"].combination_configurations in (None, [])
