"""/v1.0/groups and members/$ref over HTTP: Microsoft's request bodies, security groups only, 400s and 404s."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from passgate.audit.models import AuditEvent
from passgate.devices.models import DeviceGroupMembership
from passgate.directory.models import GroupMembership, SecurityGroup
from tests.graph.conftest import ORIGIN, Api, error_of
from tests.graph.methods import joined_device

pytestmark = pytest.mark.django_db


def security_group_body(owner: Any, *members: Any) -> dict[str, Any]:
    """Microsoft's "Create group" example 2 (a security group with an owner and members), with our users' ids."""
    return {
        "description": "Group with designated owner and members",
        "displayName": "Operations group",
        "groupTypes": [
        ],
        "mailEnabled": False,
        "mailNickname": "operations2019",
        "securityEnabled": True,
        "owners@odata.bind": [
            f"https://graph.microsoft.com/v1.0/users/{owner.id}",
        ],
        "members@odata.bind": [f"https://graph.microsoft.com/v1.0/users/{m.id}" for m in members],
    }


# Microsoft's "Create group" example 1: a Microsoft 365 group, which Passgate does not have.
MICROSOFT_365_GROUP = {
    "description": "Self help community for library",
    "displayName": "Library Assist",
    "groupTypes": [
        "Unified",
    ],
    "mailEnabled": True,
    "mailNickname": "library",
    "securityEnabled": False,
}
MINIMAL = {"displayName": "Passkey pilot", "mailEnabled": False, "mailNickname": "pilot", "securityEnabled": True}


@pytest.fixture
def api(app_api: Any) -> Api:
    return app_api("Group.ReadWrite.All")


@pytest.fixture
def group(api: Api) -> dict[str, Any]:
    response = api.post("/v1.0/groups", MINIMAL)
    assert response.status_code == 201, response.content
    return dict(response.json())


def ref(user: Any, host: str = "https://graph.microsoft.com") -> dict[str, str]:
    """Microsoft's "Add members" request body."""
    return {"@odata.id": f"{host}/v1.0/directoryObjects/{user.id}"}


def member_ids(group_id: str) -> set[str]:
    return {str(u) for u in GroupMembership.objects.filter(group_id=group_id).values_list("user_id", flat=True)}


def test_create_security_group_with_microsofts_example_body(api: Api, make_user: Any) -> None:
    owner, first, second = make_user(), make_user(), make_user()
    response = api.post("/v1.0/groups", security_group_body(owner, first, second))
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["@odata.context"] == f"{ORIGIN}/v1.0/$metadata#groups/$entity"
    assert {k: body[k] for k in ("displayName", "description", "mailEnabled", "mailNickname", "securityEnabled",
                                 "groupTypes", "mail")} == {
        "displayName": "Operations group", "description": "Group with designated owner and members",
        "mailEnabled": False, "mailNickname": "operations2019", "securityEnabled": True, "groupTypes": [],
        "mail": None}
    assert member_ids(body["id"]) == {str(first.id), str(second.id)}  # the owner is checked, not made a member
    assert AuditEvent.objects.filter(activity="group.addMember").count() == 2


def test_microsoft_365_groups_are_refused_clearly(api: Api) -> None:
    status, code, message = error_of(api.post("/v1.0/groups", MICROSOFT_365_GROUP))
    assert (status, code) == (400, "Request_BadRequest")
    assert "'groupTypes'" in message and "Microsoft 365" in message
    status, code, message = error_of(api.post("/v1.0/groups", {**MINIMAL, "mailEnabled": True}))
    assert "Passgate has no mail-enabled groups: set mailEnabled to false." in message
    assert not SecurityGroup.objects.exists()


@pytest.mark.parametrize(("change", "fragment"), [
    ({"securityEnabled": False}, "security groups: set securityEnabled to true"),
    ({"displayName": None}, "cannot be null"),
    ({"mailNickname": "with.dot"}, "mailNickname must be 1-64 ASCII characters"),
    ({"visibility": "Private"}, "Property 'visibility' is not supported by Passgate"),
    ({"isAssignableToRole": True}, "Property 'isAssignableToRole' is not supported by Passgate"),
    ({"members@odata.bind": ["https://evil.example/v1.0/directoryObjects/" + str(uuid.uuid4())]},
     "Invalid 'members@odata.bind' value"),
])
def test_create_refusals(api: Api, change: dict[str, Any], fragment: str) -> None:
    status, code, message = error_of(api.post("/v1.0/groups", {**MINIMAL, **change}))
    assert (status, code) == (400, "Request_BadRequest") and fragment in message


def test_create_requires_graphs_properties(api: Api) -> None:
    for missing in MINIMAL:
        body = {k: v for k, v in MINIMAL.items() if k != missing}
        assert error_of(api.post("/v1.0/groups", body)) == (
            400, "Request_BadRequest", f"Property '{missing}' is required when creating a group.")


def test_unknown_members_in_a_create_are_404_and_nothing_is_made(api: Api, make_user: Any) -> None:
    ghost = str(uuid.uuid4())
    body = {**MINIMAL, "members@odata.bind": [f"https://graph.microsoft.com/v1.0/directoryObjects/{ghost}"]}
    assert error_of(api.post("/v1.0/groups", body))[:2] == (404, "Request_ResourceNotFound")
    assert not SecurityGroup.objects.exists()


def test_duplicate_names_are_refused(api: Api, group: dict[str, Any]) -> None:
    status, code, message = error_of(api.post("/v1.0/groups", {**MINIMAL, "displayName": "PASSKEY PILOT"}))
    assert (status, code) == (400, "Request_BadRequest") and "already exists" in message


def test_get_list_update_delete(api: Api, group: dict[str, Any], make_user: Any) -> None:
    gid = group["id"]
    assert api.get(f"/v1.0/groups/{gid}").json() == {**group, "@odata.context":
                                                    f"{ORIGIN}/v1.0/$metadata#groups/$entity"}
    api.post("/v1.0/groups", {**MINIMAL, "displayName": "Auditors", "mailNickname": "auditors"})
    listing = api.get("/v1.0/groups?$select=displayName,mailNickname").json()
    assert listing == {"@odata.context": f"{ORIGIN}/v1.0/$metadata#groups(displayName,mailNickname)", "value": [
        {"displayName": "Auditors", "mailNickname": "auditors"},
        {"displayName": "Passkey pilot", "mailNickname": "pilot"}]}
    assert [g["displayName"] for g in api.get("/v1.0/groups?$filter=startswith(displayName,'pass')").json()[
        "value"]] == ["Passkey pilot"]
    assert [g["id"] for g in api.get(f"/v1.0/groups?$filter=id eq '{gid}'").json()["value"]] == [gid]
    assert api.get("/v1.0/groups?$filter=mailNickname eq 'AUDITORS'").json()["value"][0]["displayName"] == "Auditors"

    alice = make_user()
    response = api.patch(f"/v1.0/groups/{gid}", {"displayName": "Passkey pilot 2", "description": "Phase 2",
                                                 "mailNickname": "pilot2", "members@odata.bind": [
                                                     f"{ORIGIN}/v1.0/directoryObjects/{alice.id}"]})
    assert response.status_code == 204
    got = api.get(f"/v1.0/groups/{gid}").json()
    assert (got["displayName"], got["description"], got["mailNickname"]) == ("Passkey pilot 2", "Phase 2", "pilot2")
    assert member_ids(gid) == {str(alice.id)}
    assert api.patch(f"/v1.0/groups/{gid}", {"description": None}).status_code == 204
    assert api.get(f"/v1.0/groups/{gid}").json()["description"] is None
    assert error_of(api.patch(f"/v1.0/groups/{gid}", {"mailEnabled": True}))[:2] == (400, "Request_BadRequest")

    assert api.delete(f"/v1.0/groups/{gid}").status_code == 204
    assert error_of(api.get(f"/v1.0/groups/{gid}"))[:2] == (404, "Request_ResourceNotFound")
    assert AuditEvent.objects.filter(activity="group.delete", target_id=gid).exists()


def test_a_patch_adding_a_member_twice_changes_nothing(api: Api, group: dict[str, Any], make_user: Any) -> None:
    alice, bob = make_user(), make_user()
    api.post(f"/v1.0/groups/{group['id']}/members/$ref", ref(alice))
    body = {"displayName": "Renamed", "members@odata.bind": [
        f"https://graph.microsoft.com/v1.0/directoryObjects/{bob.id}",
        f"https://graph.microsoft.com/v1.0/directoryObjects/{alice.id}"]}
    assert error_of(api.patch(f"/v1.0/groups/{group['id']}", body))[:2] == (400, "Request_BadRequest")
    assert member_ids(group["id"]) == {str(alice.id)}
    assert api.get(f"/v1.0/groups/{group['id']}").json()["displayName"] == "Passkey pilot"


@pytest.mark.parametrize("key", [str(uuid.uuid4()), "Passkey pilot", "not-a-guid"])
def test_groups_are_found_by_id_only(api: Api, group: dict[str, Any], key: str) -> None:
    for response in (api.get(f"/v1.0/groups/{key}"), api.patch(f"/v1.0/groups/{key}", {}),
                     api.delete(f"/v1.0/groups/{key}"), api.get(f"/v1.0/groups/{key}/members"),
                     api.post(f"/v1.0/groups/{key}/members/$ref", {"@odata.id": "x"})):
        assert error_of(response)[:2] == (404, "Request_ResourceNotFound")


# --- members --------------------------------------------------------------------------------------------

def test_add_list_and_remove_members(api: Api, group: dict[str, Any], make_user: Any) -> None:
    gid = group["id"]
    alice, bob = make_user(upn="alice@contoso.com"), make_user(upn="bob@contoso.com")
    assert api.post(f"/v1.0/groups/{gid}/members/$ref", ref(alice)).status_code == 204
    assert api.post(f"/beta/groups/{gid}/members/$ref", ref(bob, ORIGIN)).status_code == 204
    body = api.get(f"/v1.0/groups/{gid}/members?$select=id,userPrincipalName").json()
    assert body == {"@odata.context": f"{ORIGIN}/v1.0/$metadata#directoryObjects", "value": [
        {"@odata.type": "#microsoft.graph.user", "id": str(alice.id), "userPrincipalName": "alice@contoso.com"},
        {"@odata.type": "#microsoft.graph.user", "id": str(bob.id), "userPrincipalName": "bob@contoso.com"}]}
    default = api.get(f"/v1.0/groups/{gid}/members").json()["value"][0]
    assert list(default)[:2] == ["@odata.type", "id"] and "displayName" in default

    again = api.post(f"/v1.0/groups/{gid}/members/$ref", ref(alice))
    assert error_of(again) == (400, "Request_BadRequest", "One or more added object references already exist for "
                                                          "the following modified properties: 'members'.")
    assert api.delete(f"/v1.0/groups/{gid}/members/{alice.id}/$ref").status_code == 204
    assert member_ids(gid) == {str(bob.id)}
    assert error_of(api.delete(f"/v1.0/groups/{gid}/members/{alice.id}/$ref")) == (
        404, "Request_ResourceNotFound", f"Resource '{alice.id}' does not exist or one of its queried "
                                         "reference-property objects are not present.")
    assert AuditEvent.objects.filter(activity="group.removeMember", result="success").count() == 1
    assert AuditEvent.objects.get(activity="group.removeMember", result="failure").reason == "not_member"


@pytest.mark.parametrize(("body", "expected", "fragment"), [
    ({"@odata.id": f"https://graph.microsoft.com/v1.0/directoryObjects/{uuid.UUID(int=7)}"},
     (404, "Request_ResourceNotFound"), str(uuid.UUID(int=7))),
    ({"@odata.id": "https://graph.microsoft.com/v1.0/directoryObjects/nope"}, (400, "Request_BadRequest"),
     "Invalid object identifier 'nope'."),
    ({"@odata.id": "https://evil.example/v1.0/directoryObjects/" + str(uuid.UUID(int=7))},
     (400, "Request_BadRequest"), "Invalid '@odata.id' value"),
    ({}, (400, "Request_BadRequest"), "Property '@odata.id' is required"),
    ({"@odata.id": "x", "extra": 1}, (400, "Request_BadRequest"), "Property 'extra' does not exist"),
    ([], (400, "BadRequest"), "must be a JSON object"),
])
def test_add_member_refusals(api: Api, group: dict[str, Any], body: Any, expected: tuple[int, str],
                             fragment: str) -> None:
    got = error_of(api.post(f"/v1.0/groups/{group['id']}/members/$ref", body))
    assert got[:2] == expected and fragment in got[2]


def test_groups_cannot_be_nested(api: Api, group: dict[str, Any]) -> None:
    other = api.post("/v1.0/groups", {**MINIMAL, "displayName": "Other", "mailNickname": "other"}).json()
    body = {"@odata.id": f"https://graph.microsoft.com/v1.0/directoryObjects/{other['id']}"}
    status, code, message = error_of(api.post(f"/v1.0/groups/{group['id']}/members/$ref", body))
    assert (status, code) == (400, "Request_BadRequest") and "cannot be nested" in message


def test_remove_an_unknown_member(api: Api, group: dict[str, Any]) -> None:
    for key in (str(uuid.uuid4()), "not-a-guid"):
        assert error_of(api.delete(f"/v1.0/groups/{group['id']}/members/{key}/$ref"))[:2] == (
            404, "Request_ResourceNotFound")


def test_members_page(api: Api, group: dict[str, Any], make_user: Any) -> None:
    for n in range(5):
        api.post(f"/v1.0/groups/{group['id']}/members/$ref", ref(make_user(upn=f"m{n}@contoso.com")))
    first = api.get(f"/v1.0/groups/{group['id']}/members?$top=3&$select=userPrincipalName").json()
    assert [m["userPrincipalName"] for m in first["value"]] == ["m0@contoso.com", "m1@contoso.com", "m2@contoso.com"]
    rest = api.get(first["@odata.nextLink"].removeprefix(ORIGIN)).json()
    assert [m["userPrincipalName"] for m in rest["value"]] == ["m3@contoso.com", "m4@contoso.com"]
    assert "@odata.nextLink" not in rest


def test_devices_are_members_of_groups_of_devices(api: Api, group: dict[str, Any], make_user: Any) -> None:
    device, other = joined_device("lab-1"), joined_device("lab-2")
    person = make_user()
    members = f"/v1.0/groups/{group['id']}/members"
    for object_id in (str(person.pk), str(device.pk), str(other.pk)):
        ref = {"@odata.id": f"https://graph.microsoft.com/v1.0/directoryObjects/{object_id}"}
        assert api.post(members + "/$ref", ref).status_code == 204
    again = api.post(members + "/$ref", {"@odata.id": f"https://graph.microsoft.com/v1.0/directoryObjects/{device.pk}"})
    assert error_of(again)[0] == 400 and "already a member" in error_of(again)[2]
    listed = api.get(members).json()["value"]
    assert [m["@odata.type"] for m in listed] == ["#microsoft.graph.user", *["#microsoft.graph.device"] * 2]
    pages, url = [], members + "?$top=2"
    while url:
        page = api.get(url.replace("https://id.contoso.test", "")).json()
        pages.append([m["id"] for m in page["value"]])
        url = page.get("@odata.nextLink", "")
    assert len(pages) == 2
    assert sorted(i for p in pages for i in p) == sorted([str(person.pk), str(device.pk), str(other.pk)])
    assert api.delete(f"{members}/{device.pk}/$ref").status_code == 204
    assert list(DeviceGroupMembership.objects.values_list("device_id", flat=True)) == [other.pk]
    assert error_of(api.delete(f"{members}/{device.pk}/$ref"))[0] == 404
