"""GET /me, GET /users/{id}/memberOf and /organization; and what Graph answers for duplicates (400, not 409)."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from passgate.audit.services import Actor
from passgate.core.graph.organization import tenant_id
from passgate.directory.models import DirectoryRole
from passgate.directory.services import group_add_member, group_create
from tests.graph.conftest import HOST, ORIGIN, Api, error_of, sign_in_session

pytestmark = pytest.mark.django_db


def test_me_is_the_signed_in_person(client: Any, make_user: Any) -> None:
    person = make_user(upn="meganb@contoso.com", display_name="Megan Bowen")
    sign_in_session(client, person)
    api = Api(client)
    body = api.get("/v1.0/me").json()
    assert body["@odata.context"] == f"{ORIGIN}/v1.0/$metadata#users/$entity"
    assert (body["id"], body["userPrincipalName"], body["displayName"]) == (
        str(person.id), "meganb@contoso.com", "Megan Bowen")
    selected = api.get("/v1.0/me?$select=displayName,accountEnabled").json()
    assert selected == {"@odata.context": f"{ORIGIN}/v1.0/$metadata#users(displayName,accountEnabled)/$entity",
                        "displayName": "Megan Bowen", "accountEnabled": True}
    assert error_of(api.get("/v1.0/me?$select=shoeSize"))[:2] == (400, "BadRequest")
    assert error_of(api.get("/v1.0/me?$top=1"))[:2] == (400, "Request_UnsupportedQuery")


def test_me_with_an_app_token_is_graphs_400_and_audited(app_api: Any) -> None:
    from passgate.audit.models import AuditEvent

    api = app_api("User.Read.All")
    before = set(AuditEvent.objects.values_list("pk", flat=True))
    assert error_of(api.get("/v1.0/me")) == (
        400, "BadRequest", "/me request is only valid with delegated authentication flow.")
    assert [(e.activity, e.reason, e.details["where"]) for e in AuditEvent.objects.exclude(pk__in=before)] == [
        ("graph.me.get", "graph_BadRequest", "/me")]


def test_me_without_a_caller_is_401(client: Any) -> None:
    assert error_of(Api(client).get("/v1.0/me"))[:2] == (401, "InvalidAuthenticationToken")


def test_member_of_lists_groups_then_roles_with_their_types(app_api: Any, make_user: Any) -> None:
    person = make_user(display_name="Isaiah Langer", roles=(DirectoryRole.USER_ADMINISTRATOR,))
    pilots = group_create(display_name="Passkey pilots", actor=Actor.system("test"))
    admins = group_create(display_name="Admins", actor=Actor.system("test"))
    group_create(display_name="Not a member", actor=Actor.system("test"))
    for group in (pilots, admins):
        group_add_member(group=group, user=person, actor=Actor.system("test"))
    api = app_api("User.Read.All")
    body = api.get(f"/v1.0/users/{person.user_principal_name}/memberOf").json()
    assert body["@odata.context"] == f"{ORIGIN}/v1.0/$metadata#directoryObjects"
    assert [(o["@odata.type"], o["displayName"]) for o in body["value"]] == [
        ("#microsoft.graph.group", "Admins"), ("#microsoft.graph.group", "Passkey pilots"),
        ("#microsoft.graph.directoryRole", "User Administrator")]
    group = body["value"][1]
    assert group["id"] == str(pilots.id) and group["securityEnabled"] is True and group["mailEnabled"] is False
    role = body["value"][2]
    assert role["id"] == role["roleTemplateId"] == DirectoryRole.USER_ADMINISTRATOR.value
    loner = make_user(display_name="Nobody's member")
    assert api.get(f"/v1.0/users/{loner.id}/memberOf").json()["value"] == []


def test_member_of_refuses_query_options_and_unknown_users(app_api: Any, make_user: Any) -> None:
    api = app_api("User.Read.All")
    person = make_user()
    for query in ("$top=1", "$filter=displayName eq 'x'", "$select=id", "$count=true"):
        assert error_of(api.get(f"/v1.0/users/{person.id}/memberOf?{query}"))[:2] == (400, "Request_UnsupportedQuery")
    assert error_of(api.get(f"/v1.0/users/{uuid.uuid4()}/memberOf"))[:2] == (404, "Request_ResourceNotFound")
    assert error_of(app_api("Group.Read.All").get(f"/v1.0/users/{person.id}/memberOf"))[0] == 403


def test_organization_is_the_one_tenant(app_api: Any, settings: Any) -> None:
    api = app_api()  # any token may read it
    body = api.get("/v1.0/organization").json()
    assert body["@odata.context"] == f"{ORIGIN}/v1.0/$metadata#organization"
    (org,) = body["value"]
    assert org["@odata.type"] == "#microsoft.graph.organization"
    assert org["id"] == tenant_id(ORIGIN) == str(uuid.uuid5(uuid.NAMESPACE_URL, ORIGIN))
    assert org["displayName"] == settings.PASSGATE.rp_name
    assert org["verifiedDomains"] == [{"capabilities": "None", "isDefault": True, "isInitial": True, "name": HOST,
                                       "type": "Managed"}]
    assert org["businessPhones"] == [] and org["city"] is None and org["mobileDeviceManagementAuthority"] == "unknown"
    got = api.get(f"/v1.0/organization/{org['id'].upper()}").json()
    assert got["@odata.context"] == f"{ORIGIN}/v1.0/$metadata#organization/$entity" and got["id"] == org["id"]
    selected = api.get("/v1.0/organization?$select=id,displayName").json()["value"]
    assert selected == [{"@odata.type": "#microsoft.graph.organization", "id": org["id"],
                         "displayName": settings.PASSGATE.rp_name}]


def test_organization_refusals(app_api: Any, client: Any) -> None:
    api = app_api()
    assert error_of(api.get(f"/v1.0/organization/{uuid.uuid4()}"))[:2] == (404, "Request_ResourceNotFound")
    assert error_of(api.get("/v1.0/organization/not-a-guid"))[:2] == (404, "Request_ResourceNotFound")
    assert error_of(api.get("/v1.0/organization?$filter=displayName eq 'x'"))[:2] == (400, "Request_UnsupportedQuery")
    assert error_of(api.get("/v1.0/organization?$select=shoeSize"))[:2] == (400, "BadRequest")
    assert error_of(Api(client).get("/v1.0/organization"))[:2] == (401, "InvalidAuthenticationToken")


# --- duplicates: Graph answers 400 Request_BadRequest, not 409 -------------------------------------------

def test_duplicates_are_graphs_400_not_409(app_api: Any, make_user: Any) -> None:
    """Graph reports an existing userPrincipalName on create and a member added twice as 400 Request_BadRequest,
    not 409 (the first quoted from Graph in microsoftgraph/microsoft-graph-docs#1508, code ObjectConflict in its
    details; the second is what public Graph clients test for: status 400 and this message), so Passgate answers
    the same."""
    api = app_api("User.ReadWrite.All", "Group.ReadWrite.All")
    taken = make_user(upn="taken@contoso.com")
    again = api.post("/v1.0/users", {"accountEnabled": True, "displayName": "Again", "mailNickname": "again",
                                     "userPrincipalName": "TAKEN@contoso.com"})
    assert error_of(again) == (
        400, "Request_BadRequest", "Another object with the same value for property userPrincipalName already exists.")
    group = group_create(display_name="Twice", actor=Actor.system("test"))
    ref = {"@odata.id": f"https://graph.microsoft.com/v1.0/directoryObjects/{taken.id}"}
    assert api.post(f"/v1.0/groups/{group.id}/members/$ref", ref).status_code == 204
    assert error_of(api.post(f"/v1.0/groups/{group.id}/members/$ref", ref)) == (
        400, "Request_BadRequest",
        "One or more added object references already exist for the following modified properties: 'members'.")
