"""Directory roles over HTTP: /roleManagement/directory/roleDefinitions and roleAssignments, /directoryRoles and
/directoryRoleTemplates. Answers carry Graph's v1.0 properties only (checked against the CSDL subset), every change
and every refusal is audited, and the last enabled Global Administrator keeps the role."""

from __future__ import annotations

import uuid
import xml.etree.ElementTree as ET
from typing import Any

import pytest

from passgate.audit.models import AuditEvent
from passgate.core.roles import assignment_id
from passgate.directory.models import DirectoryRole, RoleAssignment
from tests.graph.conftest import Api, error_of
from tests.graph.test_openapi_csdl import CSDL, EDM

pytestmark = pytest.mark.django_db

DEFINITIONS = "/v1.0/roleManagement/directory/roleDefinitions"
ASSIGNMENTS = "/v1.0/roleManagement/directory/roleAssignments"
GA, GR, UA = (DirectoryRole.GLOBAL_ADMINISTRATOR, DirectoryRole.GLOBAL_READER, DirectoryRole.USER_ADMINISTRATOR)
PRA = DirectoryRole.PRIVILEGED_ROLE_ADMINISTRATOR


def _csdl_properties(type_name: str) -> set[str]:
    root = ET.parse(CSDL).getroot()  # noqa: S314 - a fixture of ours
    types = {e.get("Name"): e for kind in ("EntityType", "ComplexType") for e in root.iter(f"{EDM}{kind}")}
    names: set[str] = set()
    current: str | None = type_name
    while current:
        element = types[current]
        names |= {p.get("Name", "") for p in element if p.tag in (f"{EDM}Property", f"{EDM}NavigationProperty")}
        base = element.get("BaseType")
        current = base.removeprefix("graph.") if base else None
    return names


def assert_graph_shape(value: dict[str, Any], type_name: str) -> None:
    """Every property the answer carries is a property of Graph's v1.0 type (``@odata.*`` aside)."""
    unknown = {k for k in value if not k.startswith("@")} - _csdl_properties(type_name)
    assert not unknown, f"not properties of {type_name}: {unknown}"


@pytest.fixture
def api(app_api: Any) -> Api:
    return app_api("RoleManagement.ReadWrite.Directory")


@pytest.fixture
def admins(make_user: Any) -> list[Any]:
    return [make_user(upn="ada@contoso.com", display_name="Ada", roles=(GA,))]


def _assign(api: Api, user: Any, role: str = GR, scope: object = "/") -> Any:
    return api.post(ASSIGNMENTS, {"principalId": str(user.id), "roleDefinitionId": role, "directoryScopeId": scope})


def _audits(activity: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(activity=activity).order_by("occurred_at"))


# --- role definitions ------------------------------------------------------------------------------------

def test_role_definitions_are_the_built_in_roles(api: Api) -> None:
    response = api.get(DEFINITIONS)
    assert response.status_code == 200
    body = response.json()
    assert body["@odata.context"].endswith("/v1.0/$metadata#roleManagement/directory/roleDefinitions")
    by_name = {d["displayName"]: d for d in body["value"]}
    assert set(by_name) == {label for _, label in DirectoryRole.choices}
    ga = by_name["Global Administrator"]
    assert ga["id"] == ga["templateId"] == "62e90394-69f5-4237-9190-012177145e10"
    assert ga["isBuiltIn"] is True and ga["isEnabled"] is True and ga["resourceScopes"] == ["/"]
    assert ga["description"].startswith("Can manage all aspects")
    (permission,) = ga["rolePermissions"]
    assert permission["condition"] is None and permission["excludedResourceActions"] == []
    assert "microsoft.directory/roleAssignments/allProperties/allTasks" in permission["allowedResourceActions"]
    for definition in body["value"]:
        assert_graph_shape(definition, "unifiedRoleDefinition")
        assert_graph_shape(definition["rolePermissions"][0], "unifiedRolePermission")
    reader = by_name["Global Reader"]["rolePermissions"][0]["allowedResourceActions"]
    assert reader and all(a.endswith("/read") for a in reader)


def test_get_one_role_definition_and_select(api: Api) -> None:
    response = api.get(f"{DEFINITIONS}/{PRA.value}?$select=displayName,templateId")
    assert response.status_code == 200
    assert {k: v for k, v in response.json().items() if not k.startswith("@")} == {
        "displayName": "Privileged Role Administrator", "templateId": "e8611ab8-c189-46e8-94e1-60213ab1f814"}
    assert response.json()["@odata.context"].endswith("roleDefinitions(displayName,templateId)/$entity")


def test_filter_role_definitions(api: Api) -> None:
    response = api.get(f"{DEFINITIONS}?$filter=displayName eq 'user administrator'")
    assert [d["id"] for d in response.json()["value"]] == [UA.value]
    response = api.get(f"{DEFINITIONS}?$filter=templateId eq '{GA.value}'")
    assert [d["displayName"] for d in response.json()["value"]] == ["Global Administrator"]


@pytest.mark.parametrize("query", ["$filter=isBuiltIn eq true", "$filter=startswith(displayName,'G')", "$top=2",
                                   "$orderby=displayName"])
def test_role_definition_queries_passgate_does_not_take(api: Api, query: str) -> None:
    status, code, _ = error_of(api.get(f"{DEFINITIONS}?{query}"))
    assert status == 400 and code in ("Request_UnsupportedQuery", "BadRequest")


@pytest.mark.parametrize("key", [str(uuid.uuid4()), "729827e3-9c14-49f7-bb1b-9608f156bbb8", "Global Administrator"])
def test_unknown_role_definition_is_404(api: Api, key: str) -> None:
    assert error_of(api.get(f"{DEFINITIONS}/{key}"))[:2] == (404, "Request_ResourceNotFound")


# --- role assignments ------------------------------------------------------------------------------------

def test_assign_list_get_and_remove(api: Api, admins: list[Any], make_user: Any) -> None:
    bob = make_user(upn="bob@contoso.com", display_name="Bob")
    response = _assign(api, bob, UA)
    assert response.status_code == 201, response.content
    created = response.json()
    expected_id = assignment_id(UA.value, str(bob.id))
    assert created == {"@odata.context": "https://id.contoso.test/v1.0/$metadata#roleManagement/directory/"
                                         "roleAssignments/$entity",
                       "id": expected_id, "principalId": str(bob.id), "roleDefinitionId": UA.value,
                       "directoryScopeId": "/", "appScopeId": None, "condition": None}
    assert_graph_shape(created, "unifiedRoleAssignment")
    assert RoleAssignment.objects.filter(user=bob, role=UA).exists()
    (row,) = _audits("role.addMember")
    assert row.result == "success" and row.target_id == UA.value and row.target_name == "User Administrator"
    assert row.details["member"] == {"id": str(bob.id), "userPrincipalName": "bob@contoso.com"}

    listed = api.get(ASSIGNMENTS).json()
    assert {(a["principalId"], a["roleDefinitionId"]) for a in listed["value"]} == {
        (str(admins[0].id), GA.value), (str(bob.id), UA.value)}
    assert [a["id"] for a in listed["value"]] == sorted(a["id"] for a in listed["value"])
    got = api.get(f"{ASSIGNMENTS}/{expected_id}")
    assert got.status_code == 200 and got.json()["principalId"] == str(bob.id)

    assert api.delete(f"{ASSIGNMENTS}/{expected_id}").status_code == 204
    assert not RoleAssignment.objects.filter(user=bob, role=UA).exists()
    (removed,) = _audits("role.removeMember")
    assert removed.result == "success" and removed.details["member"]["id"] == str(bob.id)
    assert error_of(api.get(f"{ASSIGNMENTS}/{expected_id}"))[:2] == (404, "Request_ResourceNotFound")
    assert error_of(api.delete(f"{ASSIGNMENTS}/{expected_id}"))[:2] == (404, "Request_ResourceNotFound")


def test_filter_and_expand_assignments(api: Api, admins: list[Any], make_user: Any) -> None:
    bob, eve = make_user(display_name="Bob"), make_user(display_name="Eve")
    for user, role in ((bob, GR), (bob, UA), (eve, GR)):
        assert _assign(api, user, role).status_code == 201
    by_principal = api.get(f"{ASSIGNMENTS}?$filter=principalId eq '{bob.id}'").json()["value"]
    assert {a["roleDefinitionId"] for a in by_principal} == {GR.value, UA.value}
    by_role = api.get(f"{ASSIGNMENTS}?$filter=roleDefinitionId eq '{GR.value}'").json()["value"]
    assert {a["principalId"] for a in by_role} == {str(bob.id), str(eve.id)}
    both = api.get(f"{ASSIGNMENTS}?$filter=roleDefinitionId eq '{GR.value}' and principalId eq '{eve.id}'")
    assert [a["principalId"] for a in both.json()["value"]] == [str(eve.id)]
    nobody = api.get(f"{ASSIGNMENTS}?$filter=principalId eq 'not-a-guid'")
    assert nobody.status_code == 200 and nobody.json()["value"] == []
    expanded = api.get(f"{ASSIGNMENTS}?$filter=principalId eq '{eve.id}'&$expand=principal").json()["value"]
    assert expanded[0]["principal"]["@odata.type"] == "#microsoft.graph.user"
    assert expanded[0]["principal"]["id"] == str(eve.id)
    assert_graph_shape(expanded[0], "unifiedRoleAssignment")
    one = api.get(f"{ASSIGNMENTS}/{assignment_id(GR.value, str(eve.id))}?$expand=principal").json()
    assert one["principal"]["displayName"] == "Eve"
    page = api.get(f"{ASSIGNMENTS}?$top=2").json()
    assert len(page["value"]) == 2 and "$skiptoken" in page["@odata.nextLink"]
    rest = api.get(page["@odata.nextLink"].removeprefix("https://id.contoso.test")).json()
    assert len(rest["value"]) == 2 and "@odata.nextLink" not in rest  # four assignments, Ada's included


@pytest.mark.parametrize(("query", "code"), [
    ("$filter=directoryScopeId eq '/'", "Request_UnsupportedQuery"),
    ("$filter=startswith(principalId,'a')", "Request_UnsupportedQuery"),
    (f"$filter=principalId eq '{uuid.uuid4()}' or roleDefinitionId eq '{GA.value}'", "Request_UnsupportedQuery"),
    ("$expand=roleDefinition", "Request_UnsupportedQuery"),
    ("$orderby=id", "Request_UnsupportedQuery"),
])
def test_assignment_queries_passgate_does_not_take(api: Api, query: str, code: str) -> None:
    status, got, _ = error_of(api.get(f"{ASSIGNMENTS}?{query}"))
    assert (status, got) == (400, code) or (status, got) == (400, "BadRequest")


@pytest.mark.parametrize(("body", "target"), [
    ({"roleDefinitionId": GR.value, "directoryScopeId": "/"}, "principalId"),
    ({"principalId": "{bob}", "directoryScopeId": "/"}, "roleDefinitionId"),
    ({"principalId": "{bob}", "roleDefinitionId": GR.value}, "directoryScopeId"),
    ({"principalId": "{bob}", "roleDefinitionId": GR.value, "directoryScopeId": "/administrativeUnits/x"},
     "directoryScopeId"),
    ({"principalId": "{bob}", "roleDefinitionId": GR.value, "directoryScopeId": "/", "appScopeId": "/x"},
     "appScopeId"),
    ({"principalId": "{bob}", "roleDefinitionId": GR.value, "directoryScopeId": "/", "condition": "x"}, "condition"),
    ({"principalId": "{bob}", "roleDefinitionId": str(uuid.uuid4()), "directoryScopeId": "/"}, "roleDefinitionId"),
    ({"principalId": str(uuid.uuid4()), "roleDefinitionId": GR.value, "directoryScopeId": "/"}, "principalId"),
    ({"principalId": "{bob}", "roleDefinitionId": GR.value, "directoryScopeId": "/", "principal": {}}, "principal"),
])
def test_bad_assignments_change_nothing(api: Api, make_user: Any, body: dict[str, Any], target: str) -> None:
    bob = make_user(display_name="Bob")
    sent = {k: (str(bob.id) if v == "{bob}" else v) for k, v in body.items()}
    status, code, message = error_of(api.post(ASSIGNMENTS, sent))
    assert (status, code) == (400, "Request_BadRequest")
    assert target in message
    assert not RoleAssignment.objects.filter(user=bob).exists()
    assert not AuditEvent.objects.filter(activity="role.addMember", result="success").exists()
    refusal = AuditEvent.objects.filter(result="failure").exclude(reason="").latest("occurred_at")
    assert refusal.activity in ("graph.roles.write", "role.addMember"), refusal.activity


def test_assigning_a_role_twice_is_refused_and_audited(api: Api, make_user: Any) -> None:
    bob = make_user(display_name="Bob")
    assert _assign(api, bob, GR).status_code == 201
    status, code, message = error_of(_assign(api, bob, GR))
    assert (status, code) == (400, "Request_BadRequest") and "conflicting object" in message
    assert RoleAssignment.objects.filter(user=bob).count() == 1
    refusal = AuditEvent.objects.get(activity="role.addMember", result="failure")
    assert refusal.reason == "role_already_assigned"


def test_the_last_enabled_global_administrator_keeps_the_role(api: Api, admins: list[Any], make_user: Any) -> None:
    ada = admins[0]
    status, code, message = error_of(api.delete(f"{ASSIGNMENTS}/{assignment_id(GA.value, str(ada.id))}"))
    assert (status, code) == (400, "Request_BadRequest")
    assert "last enabled Global Administrator" in message
    assert RoleAssignment.objects.filter(user=ada, role=GA).exists()
    refusal = AuditEvent.objects.get(activity="role.removeMember", result="failure")
    assert refusal.reason == "last_global_admin" and refusal.target_id == GA.value
    # with a second enabled Global Administrator, the first may go
    bob = make_user(display_name="Bob", roles=(GA,))
    assert api.delete(f"{ASSIGNMENTS}/{assignment_id(GA.value, str(ada.id))}").status_code == 204
    # ... and a disabled one does not count as "someone left"
    disabled = make_user(display_name="Off", roles=(GA,), account_enabled=False)
    assert error_of(api.delete(f"{ASSIGNMENTS}/{assignment_id(GA.value, str(bob.id))}"))[0] == 400
    assert api.delete(f"{ASSIGNMENTS}/{assignment_id(GA.value, str(disabled.id))}").status_code == 204


@pytest.mark.parametrize("key", ["x", "lAPpYvVpN0KRkAEhdxReEJC2sEqbR_9Hr48lds9SGHI-2", "a" * 200, str(uuid.uuid4())])
def test_malformed_assignment_ids_are_404(api: Api, key: str) -> None:
    assert error_of(api.get(f"{ASSIGNMENTS}/{key}"))[:2] == (404, "Request_ResourceNotFound")
    assert error_of(api.delete(f"{ASSIGNMENTS}/{key}"))[:2] == (404, "Request_ResourceNotFound")


def test_privileged_role_administrator_assigns_and_user_administrator_may_not(
        admin_api: Any, make_user: Any, admins: list[Any]) -> None:
    bob = make_user(display_name="Bob")
    denied = admin_api(UA)
    assert error_of(_assign(denied, bob, GR))[:2] == (403, "Authorization_RequestDenied")
    assert AuditEvent.objects.filter(activity="graph.roles.write", reason="authorization_denied").exists()
    allowed = admin_api(PRA)
    assert _assign(allowed, bob, GA).status_code == 201  # Entra's Privileged Role Administrator may assign any role
    row = AuditEvent.objects.get(activity="role.addMember", result="success")
    assert row.actor_name.startswith("user")


def test_a_role_given_works_at_the_next_request(admin_api: Any, api: Api, make_user: Any, client: Any) -> None:
    from tests.graph.conftest import sign_in_session

    carol = make_user(display_name="Carol")
    sign_in_session(client, carol)
    session = Api(client)
    assert error_of(session.get("/v1.0/users"))[0] == 403
    assert _assign(api, carol, GR).status_code == 201
    assert session.get("/v1.0/users").status_code == 200
    assert api.delete(f"{ASSIGNMENTS}/{assignment_id(GR.value, str(carol.id))}").status_code == 204
    assert error_of(session.get("/v1.0/users"))[0] == 403


# --- the older directoryRoles API ------------------------------------------------------------------------

def test_directory_roles_and_templates(api: Api, admins: list[Any]) -> None:
    roles = api.get("/v1.0/directoryRoles").json()["value"]
    ga = next(r for r in roles if r["displayName"] == "Global Administrator")
    assert ga == {"@odata.type": "#microsoft.graph.directoryRole", "id": GA.value, "deletedDateTime": None,
                  "description": ga["description"], "displayName": "Global Administrator", "roleTemplateId": GA.value}
    for role in roles:
        assert_graph_shape(role, "directoryRole")
    assert api.get(f"/v1.0/directoryRoles/{GA.value}").json()["displayName"] == "Global Administrator"
    templates = api.get("/v1.0/directoryRoleTemplates").json()["value"]
    assert {t["id"] for t in templates} == {r["id"] for r in roles}
    for template in templates:
        assert_graph_shape(template, "directoryRoleTemplate")
    assert api.get(f"/v1.0/directoryRoleTemplates/{UA.value}").json()["displayName"] == "User Administrator"
    assert error_of(api.get(f"/v1.0/directoryRoles/{uuid.uuid4()}"))[0] == 404
    members = api.get(f"/v1.0/directoryRoles/{GA.value}/members").json()["value"]
    assert [(m["@odata.type"], m["id"]) for m in members] == [("#microsoft.graph.user", str(admins[0].id))]


def test_directory_role_members_ref(api: Api, admins: list[Any], make_user: Any) -> None:
    bob = make_user(display_name="Bob")
    ref = {"@odata.id": f"https://graph.microsoft.com/v1.0/directoryObjects/{bob.id}"}
    assert api.post(f"/v1.0/directoryRoles/{UA.value}/members/$ref", ref).status_code == 204
    assert RoleAssignment.objects.filter(user=bob, role=UA).exists()
    assert error_of(api.post(f"/v1.0/directoryRoles/{UA.value}/members/$ref", ref))[0] == 400  # already holds it
    assert error_of(api.post(f"/v1.0/directoryRoles/{UA.value}/members/$ref", {"@odata.id": "nonsense"}))[0] == 400
    assert error_of(api.post(f"/v1.0/directoryRoles/{UA.value}/members/$ref", {**ref, "x": 1}))[0] == 400
    assert error_of(api.post(f"/v1.0/directoryRoles/{UA.value}/members/$ref", {}))[0] == 400
    gone = {"@odata.id": f"https://graph.microsoft.com/v1.0/directoryObjects/{uuid.uuid4()}"}
    assert error_of(api.post(f"/v1.0/directoryRoles/{UA.value}/members/$ref", gone))[0] == 400
    assert api.delete(f"/v1.0/directoryRoles/{UA.value}/members/{bob.id}/$ref").status_code == 204
    assert error_of(api.delete(f"/v1.0/directoryRoles/{UA.value}/members/{bob.id}/$ref"))[0] == 404
    assert error_of(api.delete(f"/v1.0/directoryRoles/{UA.value}/members/{uuid.uuid4()}/$ref"))[0] == 404
    ada = admins[0]
    assert error_of(api.delete(f"/v1.0/directoryRoles/{GA.value}/members/{ada.id}/$ref"))[0] == 400
    assert RoleAssignment.objects.filter(user=ada, role=GA).exists()
    assert [e.result for e in _audits("role.addMember")] == ["success", "failure"]
    assert [(e.result, e.reason) for e in _audits("role.removeMember")] == [
        ("success", ""), ("failure", "role_not_assigned"), ("failure", "last_global_admin")]


def test_reading_is_enough_to_read_not_to_write(app_api: Any, make_user: Any) -> None:
    reader = app_api("RoleManagement.Read.Directory")
    assert reader.get(ASSIGNMENTS).status_code == 200
    assert error_of(_assign(reader, make_user()))[:2] == (403, "Authorization_RequestDenied")


def test_directory_roles_select_and_nothing_else(api: Api) -> None:
    body = api.get("/v1.0/directoryRoles?$select=displayName,roleTemplateId").json()
    assert body["@odata.context"].endswith("$metadata#directoryRoles(displayName,roleTemplateId)")
    assert set(body["value"][0]) == {"@odata.type", "displayName", "roleTemplateId"}
    one = api.get(f"/v1.0/directoryRoleTemplates/{GA.value}?$select=id").json()
    assert {k: v for k, v in one.items() if not k.startswith("@odata.c")} == {
        "@odata.type": "#microsoft.graph.directoryRoleTemplate", "id": GA.value}
    for query in ("$top=1", "$filter=displayName eq 'Global Reader'", "$select=nonsense"):
        assert error_of(api.get(f"/v1.0/directoryRoles?{query}"))[0] == 400
