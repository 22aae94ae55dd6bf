"""/v1.0/users over HTTP with an app token: Microsoft's request bodies, shapes, OData, paging, 400s and 404s."""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest

from passgate.audit.models import AuditEvent
from passgate.directory.models import DirectoryRole, User
from tests.graph.conftest import ORIGIN, Api, error_of

pytestmark = pytest.mark.django_db

# Microsoft's "Create user" example 1 request body, unchanged.
CREATE_USER = {
    "accountEnabled": True,
    "displayName": "Adele Vance",
    "mailNickname": "AdeleV",
    "userPrincipalName": "AdeleV@contoso.onmicrosoft.com",
    "passwordProfile": {
        "forceChangePasswordNextSignIn": True,
        "password": "xWwvJ]6NMw+bWH-d",
    },
}
DEFAULT_PROPERTIES = ["id", "businessPhones", "displayName", "givenName", "jobTitle", "mail", "mobilePhone",
                      "officeLocation", "preferredLanguage", "surname", "userPrincipalName"]


@pytest.fixture
def api(app_api: Any) -> Api:
    return app_api("User.ReadWrite.All")


def test_create_user_with_microsofts_example_body(api: Api) -> None:
    response = api.post("/v1.0/users", CREATE_USER)
    assert response.status_code == 201, response.content
    body = response.json()
    assert list(body) == ["@odata.context", *DEFAULT_PROPERTIES]
    assert body["@odata.context"] == f"{ORIGIN}/v1.0/$metadata#users/$entity"
    assert body["displayName"] == "Adele Vance" and body["userPrincipalName"] == "AdeleV@contoso.onmicrosoft.com"
    assert body["businessPhones"] == [] and body["mail"] is None
    user = User.objects.get(pk=uuid.UUID(body["id"]))
    assert user.mail_nickname == "AdeleV" and user.account_enabled and not user.has_usable_password()
    row = AuditEvent.objects.get(activity="user.add")
    assert row.actor_name == "app:Test app" and "xWwvJ" not in str(row.details)
    assert response["request-id"] and response["client-request-id"] == response["request-id"]


def test_create_a_disabled_user_and_read_it_back_with_select(api: Api) -> None:
    created = api.post("/v1.0/users", {**CREATE_USER, "accountEnabled": False}).json()
    response = api.get(f"/v1.0/users/{created['id']}?$select=displayName,accountEnabled,mailNickname,createdDateTime")
    body = response.json()
    assert body["@odata.context"] == (f"{ORIGIN}/v1.0/$metadata#users(displayName,accountEnabled,mailNickname,"
                                      "createdDateTime)/$entity")
    assert body["accountEnabled"] is False and body["mailNickname"] == "AdeleV"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", body["createdDateTime"])
    assert list(body) == ["@odata.context", "displayName", "accountEnabled", "mailNickname", "createdDateTime"]


def test_get_by_id_or_user_principal_name(api: Api, make_user: Any) -> None:
    user = make_user(upn="pat@contoso.com", display_name="Pat")
    by_id = api.get(f"/v1.0/users/{user.id}").json()
    by_upn = api.get("/v1.0/users/PAT@contoso.com").json()
    assert by_id == by_upn and by_id["displayName"] == "Pat"
    assert api.get(f"/beta/users/{user.id}").json()["@odata.context"] == f"{ORIGIN}/beta/$metadata#users/$entity"


@pytest.mark.parametrize("key", ["nobody@contoso.com", "00000000-0000-0000-0000-000000000000", "not-an-id"])
def test_unknown_users_are_404(api: Api, key: str) -> None:
    for response in (api.get(f"/v1.0/users/{key}"), api.patch(f"/v1.0/users/{key}", {"displayName": "x"}),
                     api.delete(f"/v1.0/users/{key}")):
        assert error_of(response) == (404, "Request_ResourceNotFound", f"Resource '{key}' does not exist or one of "
                                      "its queried reference-property objects are not present.")


def test_update_and_delete(api: Api, make_user: Any) -> None:
    user = make_user(upn="pat@contoso.com", display_name="Pat")
    response = api.patch(f"/v1.0/users/{user.id}", {"displayName": "Pat Example", "accountEnabled": False,
                                                    "userPrincipalName": "pat.example@contoso.com",
                                                    "mailNickname": "patx"})
    assert response.status_code == 204 and response.content == b""
    user.refresh_from_db()
    assert (user.display_name, user.account_enabled, user.user_principal_name, user.mail_nickname) == (
        "Pat Example", False, "pat.example@contoso.com", "patx")
    row = AuditEvent.objects.get(activity="user.update")
    assert row.details["accountEnabled"] == {"old": True, "new": False}
    assert api.patch(f"/v1.0/users/{user.id}", {"displayName": "Pat Example"}).status_code == 204
    assert AuditEvent.objects.filter(activity="user.update").count() == 1  # nothing changed, nothing audited
    assert api.delete("/v1.0/users/pat.example@contoso.com").status_code == 204
    assert not User.objects.filter(pk=user.pk).exists()
    assert AuditEvent.objects.filter(activity="user.delete", target_id=str(user.id)).exists()


@pytest.mark.parametrize(("body", "fragment"), [
    ({**CREATE_USER, "favouriteColour": "red"}, "Property 'favouriteColour' does not exist"),
    ({**CREATE_USER, "surname": "Vance"}, "Property 'surname' is not supported by Passgate."),
    ({**CREATE_USER, "id": str(uuid.uuid4())}, "Property 'id' is read-only"),
    ({**CREATE_USER, "accountEnabled": "true"}, "Invalid value specified for property 'accountEnabled'"),
    ({k: v for k, v in CREATE_USER.items() if k != "accountEnabled"}, "Property 'accountEnabled' is required"),
    ({k: v for k, v in CREATE_USER.items() if k != "userPrincipalName"}, "'userPrincipalName' is required"),
    ({**CREATE_USER, "userPrincipalName": "no-at-sign"}, "'no-at-sign' is not a user principal name"),
    ({**CREATE_USER, "userPrincipalName": "a b@contoso.com"}, "is not a user principal name"),
    ({**CREATE_USER, "displayName": "   "}, "displayName must be a non-empty string"),
    ({**CREATE_USER, "mailNickname": "Adele V"}, "mailNickname must be 1-64 ASCII characters"),
    ({**CREATE_USER, "@odata.type": "#microsoft.graph.group"}, "Invalid '@odata.type'"),
])
def test_create_refusals_name_the_property(api: Api, body: dict[str, Any], fragment: str) -> None:
    status, code, message = error_of(api.post("/v1.0/users", body))
    assert (status, code) == (400, "Request_BadRequest")
    assert fragment in message
    assert not User.objects.exists()


def test_duplicate_upn_is_graphs_400(api: Api) -> None:
    assert api.post("/v1.0/users", CREATE_USER).status_code == 201
    again = {**CREATE_USER, "userPrincipalName": "ADELEV@contoso.onmicrosoft.com"}
    assert error_of(api.post("/v1.0/users", again)) == (
        400, "Request_BadRequest", "Another object with the same value for property userPrincipalName already exists.")


@pytest.mark.parametrize(("body", "fragment"), [
    ({"passwordProfile": {"password": "x"}}, "Passgate has no passwords"),
    ({"displayName": None}, "It cannot be null."),
    ({"accountEnabled": "no"}, "'accountEnabled'"),
    ({"id": "x"}, "read-only"),
    ({"jobTitle": "CEO"}, "not supported by Passgate"),
])
def test_update_refusals(api: Api, make_user: Any, body: dict[str, Any], fragment: str) -> None:
    user = make_user()
    status, code, message = error_of(api.patch(f"/v1.0/users/{user.id}", body))
    assert (status, code) == (400, "Request_BadRequest") and fragment in message


def test_unreadable_bodies(api: Api) -> None:
    assert error_of(api.post("/v1.0/users", "{not json")) == (
        400, "BadRequest", "Unable to read JSON request payload. Please ensure Content-Type header is set and "
                           "payload is of valid JSON format.")
    assert error_of(api.post("/v1.0/users", "[1, 2]"))[:2] == (400, "BadRequest")
    status, code, message = error_of(api.post("/v1.0/users", "a=b", content_type="application/x-www-form-urlencoded"))
    assert (status, code) == (415, "BadRequest") and "application/json" in message
    assert error_of(api.post("/v1.0/users", "[" * 30000 + "]" * 30000))[:2] == (400, "BadRequest")  # too deep
    assert error_of(api.post("/v1.0/users", {**CREATE_USER, "displayName": "x" * 70000})) == (
        413, "BadRequest", "The request body must be at most 65536 bytes.")


# --- OData --------------------------------------------------------------------------------------------

@pytest.fixture
def people(make_user: Any) -> dict[str, Any]:
    made = {
        "adele": make_user(upn="AdeleV@contoso.com", display_name="Adele Vance"),
        "alex": make_user(upn="AlexW@contoso.com", display_name="Alex Wilber"),
        "diego": make_user(upn="DiegoS@contoso.com", display_name="Diego Siciliani"),
    }
    made["diego"].account_enabled = False
    made["diego"].save()
    return made


def names(response: Any) -> list[str]:
    assert response.status_code == 200, response.content
    return [u["displayName"] for u in response.json()["value"]]


@pytest.mark.parametrize(("query", "expected"), [
    ("", ["Adele Vance", "Alex Wilber", "Diego Siciliani"]),
    ("$filter=startswith(displayName,'A')", ["Adele Vance", "Alex Wilber"]),
    ("$filter=startswith(displayName,'a') and accountEnabled eq true", ["Adele Vance", "Alex Wilber"]),
    ("$filter=accountEnabled eq false", ["Diego Siciliani"]),
    ("$filter=userPrincipalName eq 'adelev@CONTOSO.com'", ["Adele Vance"]),
    ("$filter=startswith(userPrincipalName,'al')", ["Alex Wilber"]),
    ("$filter=mailNickname eq 'diegos'", ["Diego Siciliani"]),
    ("$filter=displayName eq 'alex wilber'", ["Alex Wilber"]),
    ("$filter=(startswith(displayName,'A')) and (startswith(mailNickname,'Ad'))", ["Adele Vance"]),
    ("$filter=displayName eq 'Nobody'", []),
])
def test_list_filters(api: Api, people: dict[str, Any], query: str, expected: list[str]) -> None:
    assert names(api.get(f"/v1.0/users?{query}")) == expected


def test_filter_by_id_and_select(api: Api, people: dict[str, Any]) -> None:
    alex = people["alex"]
    body = api.get(f"/v1.0/users?$filter=id eq '{alex.id}'&$select=id,userPrincipalName").json()
    assert body == {"@odata.context": f"{ORIGIN}/v1.0/$metadata#users(id,userPrincipalName)",
                    "value": [{"id": str(alex.id), "userPrincipalName": "AlexW@contoso.com"}]}


@pytest.mark.parametrize(("query", "expected", "fragment"), [
    ("$filter=jobTitle eq 'x'", (400, "Request_UnsupportedQuery"), "property 'jobTitle' of resource 'User'"),
    ("$filter=displayName ne 'x'", (400, "Request_UnsupportedQuery"),
     "Operator 'ne' is not supported because the required parameters might be missing."),
    ("$filter=displayName eq 'x' or accountEnabled eq true", (400, "Request_UnsupportedQuery"), "'or'"),
    ("$filter=accountEnabled eq 'yes'", (400, "BadRequest"), "Invalid filter clause"),
    ("$filter=startswith(displayName,'A'", (400, "BadRequest"), "Invalid filter clause"),
    ("$filter=id eq 'xyz'", (400, "Request_BadRequest"), "Invalid object identifier 'xyz'."),
    ("$top=0", (400, "BadRequest"), "Invalid page size specified: '0'. Must be between 1 and 999 inclusive."),
    ("$top=1000", (400, "BadRequest"), "Must be between 1 and 999 inclusive."),
    ("$top=abc", (400, "BadRequest"), "Invalid page size specified: 'abc'."),
    ("$select=displayName,shoeSize", (400, "BadRequest"), "Could not find a property named 'shoeSize'"),
    ("$orderby=createdDateTime", (400, "Request_UnsupportedQuery"), "Sorting by property 'createdDateTime'"),
    ("$orderby=displayName,userPrincipalName", (400, "Request_UnsupportedQuery"), "one property"),
    ("$orderby=displayName sideways", (400, "BadRequest"), "Invalid $orderby"),
    ("$orderby=displayName&$filter=accountEnabled eq true", (400, "Request_UnsupportedQuery"),
     "Sorting not supported for current query."),
    ("$count=maybe", (400, "BadRequest"), "Invalid $count value 'maybe'"),
    ("$search=\"displayName:adele\"", (400, "Request_UnsupportedQuery"), "'ConsistencyLevel: eventual'"),
    ("$skip=1", (400, "Request_UnsupportedQuery"), "'$skip'"),
    ("$expand=memberOf", (400, "Request_UnsupportedQuery"), "'$expand'"),
    ("$skiptoken=forged", (400, "BadRequest"), "Invalid $skiptoken"),
    ("$frobnicate=1", (400, "BadRequest"), "'$frobnicate'"),
])
def test_bad_queries_name_the_problem(api: Api, people: dict[str, Any], query: str, expected: tuple[int, str],
                                      fragment: str) -> None:
    status, code, message = error_of(api.get(f"/v1.0/users?{query}"))
    assert (status, code) == expected
    assert fragment in message


def test_single_user_refuses_collection_options(api: Api, people: dict[str, Any]) -> None:
    status, code, _ = error_of(api.get(f"/v1.0/users/{people['adele'].id}?$top=1"))
    assert (status, code) == (400, "Request_UnsupportedQuery")


def test_paging_over_25_users_with_top_10(api: Api, make_user: Any) -> None:
    made = {make_user(upn=f"user{n:02d}@contoso.com", display_name=f"Paged {n:02d}").user_principal_name
            for n in range(25)}
    make_user(upn="other@contoso.com", display_name="Not paged")
    seen: list[str] = []
    url: str | None = "/v1.0/users?$filter=startswith(displayName,'Paged')&$top=10&$select=userPrincipalName"
    sizes = []
    while url is not None:
        body = api.get(url).json()
        sizes.append(len(body["value"]))
        seen += [u["userPrincipalName"] for u in body["value"]]
        assert body["@odata.context"] == f"{ORIGIN}/v1.0/$metadata#users(userPrincipalName)"
        link = body.get("@odata.nextLink")
        if link is not None:
            assert link.startswith(f"{ORIGIN}/v1.0/users?")
            assert "$filter=startswith(displayName,'Paged')" in link
            assert "$top=10" in link and "$skiptoken=" in link and "$select=userPrincipalName" in link
            assert list(body)[:2] == ["@odata.context", "@odata.nextLink"]
        url = link.removeprefix(ORIGIN) if link else None
    assert sizes == [10, 10, 5]
    assert seen == sorted(made, key=str.lower) and len(set(seen)) == 25


def test_default_page_size_is_100(api: Api, make_user: Any) -> None:
    for n in range(101):
        User.objects.create(user_principal_name=f"bulk{n:03d}@contoso.com", display_name="Bulk")
    body = api.get("/v1.0/users").json()
    assert len(body["value"]) == 100 and "@odata.nextLink" in body
    rest = api.get(body["@odata.nextLink"].removeprefix(ORIGIN)).json()
    assert len(rest["value"]) == 1 and "@odata.nextLink" not in rest


# --- sensitive actions on administrators ------------------------------------------------------------

def test_apps_cannot_disable_rename_or_delete_administrators(api: Api, make_user: Any) -> None:
    admin = make_user(upn="ga@contoso.com", roles=(DirectoryRole.GLOBAL_ADMINISTRATOR,))
    for response in (api.patch(f"/v1.0/users/{admin.id}", {"accountEnabled": False}),
                     api.patch(f"/v1.0/users/{admin.id}", {"userPrincipalName": "x@contoso.com"}),
                     api.delete(f"/v1.0/users/{admin.id}")):
        assert error_of(response) == (403, "Authorization_RequestDenied",
                                      "Insufficient privileges to complete the operation.")
    assert api.patch(f"/v1.0/users/{admin.id}", {"displayName": "Renamed"}).status_code == 204  # not sensitive
    admin.refresh_from_db()
    assert admin.account_enabled and admin.display_name == "Renamed"
    denied = AuditEvent.objects.filter(activity="graph.users.write", result="failure")
    assert denied.count() == 3 and denied.first().reason == "authorization_denied"


@pytest.mark.parametrize(("caller", "target", "allowed"), [
    (DirectoryRole.USER_ADMINISTRATOR, (), True),
    (DirectoryRole.USER_ADMINISTRATOR, (DirectoryRole.USER_ADMINISTRATOR,), True),
    (DirectoryRole.USER_ADMINISTRATOR, (DirectoryRole.GLOBAL_ADMINISTRATOR,), False),
    (DirectoryRole.USER_ADMINISTRATOR, (DirectoryRole.AUTHENTICATION_ADMINISTRATOR,), False),
    (DirectoryRole.USER_ADMINISTRATOR, (DirectoryRole.GLOBAL_READER,), False),
    (DirectoryRole.GLOBAL_ADMINISTRATOR, (DirectoryRole.GLOBAL_ADMINISTRATOR,), True),
    (DirectoryRole.GLOBAL_ADMINISTRATOR, (DirectoryRole.AUTHENTICATION_POLICY_ADMINISTRATOR,), True),
])
def test_administrators_act_on_whom_their_role_outranks(admin_api: Any, make_user: Any, caller: DirectoryRole,
                                                        target: tuple[DirectoryRole, ...], allowed: bool) -> None:
    victim = make_user(upn="target@contoso.com", roles=target)
    api = admin_api(caller, upn="caller@contoso.com")
    disable = api.patch(f"/v1.0/users/{victim.id}", {"accountEnabled": False})
    delete = api.delete(f"/v1.0/users/{victim.id}")
    if allowed:
        assert (disable.status_code, delete.status_code) == (204, 204)
    else:
        assert error_of(disable)[:2] == error_of(delete)[:2] == (403, "Authorization_RequestDenied")
        assert User.objects.filter(pk=victim.pk, account_enabled=True).exists()


def test_the_last_enabled_global_administrator_stays(admin_api: Any, make_user: Any) -> None:
    api = admin_api(DirectoryRole.GLOBAL_ADMINISTRATOR, upn="only@contoso.com")
    me = User.objects.get(upn_normalized="only@contoso.com")
    for response in (api.patch(f"/v1.0/users/{me.id}", {"accountEnabled": False}), api.delete(f"/v1.0/users/{me.id}")):
        status, code, message = error_of(response)
        assert (status, code) == (400, "Request_BadRequest")
        assert message == ("only@contoso.com is the last enabled Global Administrator: assign the role to someone "
                           "else first")
    assert api.patch(f"/v1.0/users/{me.id}", {"displayName": "Still here"}).status_code == 204
    make_user(upn="second@contoso.com", roles=(DirectoryRole.GLOBAL_ADMINISTRATOR,))
    assert api.patch(f"/v1.0/users/{me.id}", {"accountEnabled": False}).status_code == 204
