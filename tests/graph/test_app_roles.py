"""/v1.0/applications appRoles and /v1.0/{users,groups}/{id}/appRoleAssignments: roles defined, read back, given to
users and groups and taken back; bad input named and changing nothing; every change and refusal audited."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from passgate.apps.models import AppRegistration, AppRoleAssignment
from passgate.audit.models import AuditEvent
from passgate.audit.services import Actor
from passgate.directory.services import group_create
from tests.graph.conftest import ORIGIN, Api
from tests.graph.test_applications import problem

pytestmark = pytest.mark.django_db

ROLES = ("Application.ReadWrite.All", "AppRoleAssignment.ReadWrite.All", "User.Read.All", "Group.Read.All")


@pytest.fixture
def api(app_api: Any) -> Api:
    return app_api(*ROLES)


def app_role(value: str | None, **fields: Any) -> dict[str, Any]:
    return {"id": str(uuid.uuid4()), "value": value, "displayName": f"Role {value}", "description": f"Can {value}.",
            "allowedMemberTypes": ["User"], "isEnabled": True, **fields}


def make_app(api: Api, *roles: dict[str, Any], name: str = "Survey") -> dict[str, Any]:
    response = api.post("/v1.0/applications", {"displayName": name, "appRoles": list(roles)})
    assert response.status_code == 201, response.content
    return dict(response.json())


def assign(api: Api, kind: str, principal: str, app: dict[str, Any], role_id: str) -> Any:
    return api.post(f"/v1.0/{kind}/{principal}/appRoleAssignments",
                    {"principalId": principal, "resourceId": app["id"], "appRoleId": role_id})


def refusals(activity: str) -> list[str]:
    return list(AuditEvent.objects.filter(activity=activity, result="failure").values_list("reason", flat=True))


def test_app_roles_are_created_read_back_and_sent_again(api: Api) -> None:
    admin, reader = app_role("Survey.Admin"), app_role(None, isEnabled=False)
    made = make_app(api, admin, reader)
    assert made["appRoles"] == [{**admin, "origin": "Application"}, {**reader, "origin": "Application"}]
    body = api.get(f"/v1.0/applications/{made['id']}").json()
    assert body["appRoles"] == made["appRoles"]
    assert api.patch(f"/v1.0/applications/{made['id']}", {"appRoles": body["appRoles"]}).status_code == 204
    assert AppRegistration.objects.get(pk=made["id"]).app_roles == made["appRoles"]


@pytest.mark.parametrize(("role", "target", "fragment"), [
    ({"value": "A"}, "appRoles[0].id", "GUID"),
    (app_role("A", id="not-a-guid"), "appRoles[0].id", "GUID"),
    (app_role("A", allowedMemberTypes=["Application"]), "appRoles[0].allowedMemberTypes", "not supported"),
    (app_role("A", allowedMemberTypes=["User", "Application"]), "appRoles[0].allowedMemberTypes", "not supported"),
    (app_role("A", allowedMemberTypes=[]), "appRoles[0].allowedMemberTypes", "User"),
    (app_role("Has space"), "appRoles[0].value", "no spaces"),
    (app_role(".Dot"), "appRoles[0].value", "not starting with '.'"),
    (app_role("A", displayName=""), "appRoles[0].displayName", "non-empty"),
    (app_role("A", isEnabled="yes"), "appRoles[0].isEnabled", "true or false"),
    (app_role("A", origin="ServicePrincipal"), "appRoles[0].origin", "set by Passgate"),
    (app_role("A", colour="red"), "appRoles[0].colour", "does not exist"),
    (app_role(7), "appRoles[0].value", "string"),
])
def test_bad_app_roles_are_refused_naming_the_property(api: Api, role: dict[str, Any], target: str,
                                                        fragment: str) -> None:
    response = api.post("/v1.0/applications", {"displayName": "Bad", "appRoles": [role]})
    assert problem(response)[:3] == (400, "Request_BadRequest", target), response.content
    assert fragment in problem(response)[3]
    assert not AppRegistration.objects.filter(display_name="Bad").exists()


def test_role_values_and_ids_are_unique_in_an_app(api: Api) -> None:
    first = app_role("Survey.Admin")
    twice = api.post("/v1.0/applications", {"displayName": "Bad", "appRoles": [first, app_role("survey.admin")]})
    assert problem(twice)[:3] == (400, "Request_BadRequest", "appRoles[1].value")
    same_id = api.post("/v1.0/applications", {"displayName": "Bad", "appRoles": [first, {**app_role("B"),
                                                                                          "id": first["id"]}]})
    assert problem(same_id)[:3] == (400, "Request_BadRequest", "appRoles[1].id")
    assert api.post("/v1.0/applications", {"displayName": "Bad", "appRoles": "x"}).status_code == 400


def test_an_enabled_role_is_disabled_before_it_is_removed(api: Api, make_user: Any) -> None:
    admin = app_role("Survey.Admin")
    app = make_app(api, admin, app_role("Survey.Read"))
    user = make_user()
    assert assign(api, "users", str(user.pk), app, admin["id"]).status_code == 201
    path = f"/v1.0/applications/{app['id']}"
    removed = api.patch(path, {"appRoles": [app["appRoles"][1]]})
    assert problem(removed)[:3] == (400, "Request_BadRequest", "appRoles")
    assert "disable it" in problem(removed)[3]
    renamed = api.patch(path, {"appRoles": [{**app["appRoles"][0], "value": "Survey.Owner"}, app["appRoles"][1]]})
    assert problem(renamed)[:2] == (400, "Request_BadRequest")
    assert AppRegistration.objects.get(pk=app["id"]).app_roles == app["appRoles"]
    assert "app_role_enabled" in refusals("app.update")
    disabled = [{**app["appRoles"][0], "isEnabled": False}, app["appRoles"][1]]
    assert api.patch(path, {"appRoles": disabled}).status_code == 204
    assert api.patch(path, {"appRoles": [app["appRoles"][1]]}).status_code == 204
    assert not AppRoleAssignment.objects.exists()  # the removed role's assignments went with it
    event = AuditEvent.objects.filter(activity="app.update", result="success").latest("occurred_at")
    assert event.details["appRoleAssignmentsRemoved"] == 1


def test_a_role_is_given_to_a_user_listed_and_taken_back(api: Api, make_user: Any) -> None:
    admin = app_role("Survey.Admin")
    app = make_app(api, admin)
    user = make_user(display_name="Adele Vance")
    created = assign(api, "users", str(user.pk), app, admin["id"])
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["@odata.context"] == f"{ORIGIN}/v1.0/$metadata#users('{user.pk}')/appRoleAssignments/$entity"
    assert {k: body[k] for k in ("appRoleId", "principalId", "principalType", "principalDisplayName", "resourceId",
                                 "resourceDisplayName", "deletedDateTime")} == {
        "appRoleId": admin["id"], "principalId": str(user.pk), "principalType": "User",
        "principalDisplayName": "Adele Vance", "resourceId": app["id"], "resourceDisplayName": "Survey",
        "deletedDateTime": None}
    listed = api.get(f"/v1.0/users/{user.user_principal_name}/appRoleAssignments").json()
    assert [a["id"] for a in listed["value"]] == [body["id"]]
    selected = api.get(f"/v1.0/users/{user.pk}/appRoleAssignments?$select=appRoleId").json()
    assert selected["value"] == [{"appRoleId": admin["id"]}]
    assert api.get(f"/v1.0/users/{user.pk}/appRoleAssignments?$top=1").status_code == 400
    event = AuditEvent.objects.get(activity="app.roleAssignment.add", result="success")
    assert event.details["appRoleValue"] == "Survey.Admin" and event.target_id == str(user.pk)
    assert api.delete(f"/v1.0/users/{user.pk}/appRoleAssignments/{body['id']}").status_code == 204
    assert not AppRoleAssignment.objects.exists()
    assert AuditEvent.objects.filter(activity="app.roleAssignment.remove", result="success").count() == 1
    again = api.delete(f"/v1.0/users/{user.pk}/appRoleAssignments/{body['id']}")
    assert problem(again)[:2] == (404, "Request_ResourceNotFound")
    assert refusals("app.roleAssignment.remove") == ["app_role_assignment_not_found"]


def test_a_role_is_given_to_a_group(api: Api) -> None:
    admin = app_role("Survey.Admin")
    app = make_app(api, admin)
    group = group_create(display_name="Survey team", actor=Actor.system("test"))
    created = assign(api, "groups", str(group.pk), app, admin["id"])
    assert created.status_code == 201, created.content
    assert created.json()["principalType"] == "Group" and created.json()["principalDisplayName"] == "Survey team"
    listed = api.get(f"/v1.0/groups/{group.pk}/appRoleAssignments").json()["value"]
    assert [a["id"] for a in listed] == [created.json()["id"]]
    # another principal's assignment is not found under this one
    other = group_create(display_name="Others", actor=Actor.system("test"))
    assert api.delete(f"/v1.0/groups/{other.pk}/appRoleAssignments/{listed[0]['id']}").status_code == 404
    assert api.delete(f"/v1.0/groups/{group.pk}/appRoleAssignments/{listed[0]['id']}").status_code == 204


def test_bad_assignments_are_refused_and_audited(api: Api, make_user: Any) -> None:
    admin, off = app_role("Survey.Admin"), app_role("Survey.Old", isEnabled=False)
    app = make_app(api, admin, off)
    other = make_app(api, app_role("Other.Role"), name="Other")
    user = make_user()
    uid = str(user.pk)
    base = f"/v1.0/users/{uid}/appRoleAssignments"

    def refused(body: Any) -> tuple[int, str, str, str]:
        return problem(api.post(base, body))

    good = {"principalId": uid, "resourceId": app["id"], "appRoleId": admin["id"]}
    assert refused({**good, "appRoleId": str(uuid.uuid4()), })[:2] == (400, "Request_BadRequest")
    assert "disabled" in refused({**good, "appRoleId": off["id"]})[3]
    assert refused({**good, "appRoleId": other["appRoles"][0]["id"]})[0] == 400  # a role of another app
    assert refused({**good, "resourceId": str(uuid.uuid4())})[:2] == (404, "Request_ResourceNotFound")
    assert refused({**good, "principalId": str(uuid.uuid4())})[0] == 400  # not the user in the URL
    for name in ("appRoleId", "resourceId", "principalId"):
        assert "GUID" in refused({**good, name: "nope"})[3]
        assert "required" in refused({k: v for k, v in good.items() if k != name})[3]
    assert refused({**good, "colour": "red"})[0] == 400
    assert refused({**good, "id": "x"})[0] == 400
    assert refused([good])[0] == 400
    assert not AppRoleAssignment.objects.exists()
    reasons = refusals("app.roleAssignment.add") + refusals("graph.appRoleAssignments.write")
    assert {"app_role_not_found", "app_role_disabled", "app_not_found"} <= set(reasons)
    assert api.post(base, good).status_code == 201
    duplicate = api.post(base, {**good, "@odata.type": "#microsoft.graph.appRoleAssignment"})
    # Graph answers a duplicate with 400 Request_BadRequest and these words (as Passgate answers every duplicate)
    assert problem(duplicate) == (400, "Request_BadRequest", "", "Permission being assigned already exists on the "
                                                                 "object.")
    assert "app_role_already_assigned" in refusals("app.roleAssignment.add")
    assert AppRoleAssignment.objects.count() == 1


def test_a_principal_that_does_not_exist_is_404(api: Api) -> None:
    admin = app_role("Survey.Admin")
    app = make_app(api, admin)
    nobody = str(uuid.uuid4())
    for kind in ("users", "groups"):
        assert problem(assign(api, kind, nobody, app, admin["id"]))[0] == 404
        assert api.get(f"/v1.0/{kind}/{nobody}/appRoleAssignments").status_code == 404
        assert api.delete(f"/v1.0/{kind}/{nobody}/appRoleAssignments/{uuid.uuid4()}").status_code == 404
        assert api.delete(f"/v1.0/{kind}/{nobody}/appRoleAssignments/not-a-guid").status_code == 404
    assert api.get("/v1.0/groups/not-a-guid/appRoleAssignments").status_code == 404
    assert refusals("graph.appRoleAssignments.write").count("principal_not_found") == 4


def test_assigning_needs_app_role_assignment_permission(app_api: Any, api: Api, make_user: Any) -> None:
    admin = app_role("Survey.Admin")
    app = make_app(api, admin)
    user = make_user()
    reader = app_api("User.Read.All", "Application.ReadWrite.All")
    assert reader.get(f"/v1.0/users/{user.pk}/appRoleAssignments").status_code == 200
    assert assign(reader, "users", str(user.pk), app, admin["id"]).status_code == 403
    assert not AppRoleAssignment.objects.exists()
