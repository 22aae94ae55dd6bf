"""``passgate apps add/list/remove``, and the whole path a Graph script takes: register an app with the CLI, get a
token from the token endpoint, call the API with ``Authorization: Bearer`` (as msgraph SDKs and requests do)."""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import urlencode

import pytest
from django.test import Client

from passgate.apps.models import AppRegistration
from passgate.cli import main
from tests.graph.conftest import ORIGIN

pytestmark = pytest.mark.django_db(transaction=True)  # main() migrates, as the real command does




def test_apps_add_list_remove(cli: Any) -> None:
    code, out, err = cli("apps", "add", "--name", "Provisioning", "--permission", "User.ReadWrite.All",
                         "--permission", "Group.ReadWrite.All")
    assert (code, err) == (0, "")
    app = AppRegistration.objects.get()
    secret = re.search(r"Client secret:\s+(\S+)", out).group(1)  # type: ignore[union-attr]
    assert f"Application (client) ID:  {app.app_id}" in out
    assert f"Token endpoint:           {ORIGIN}/oauth2/v2.0/token" in out
    assert secret[:3] == app.secret_hint and "shown once" in out

    _, out, _ = cli("apps", "list")
    assert out.split() == ["Provisioning", str(app.app_id), "User.ReadWrite.All,", "Group.ReadWrite.All"]
    _, out, _ = cli("apps", "list", "--json")
    listed = json.loads(out)
    assert listed == [{"id": str(app.id), "appId": str(app.app_id), "displayName": "Provisioning",
                       "permissions": ["User.ReadWrite.All", "Group.ReadWrite.All"],
                       "createdDateTime": listed[0]["createdDateTime"],
                       "passwordCredentials": [{"hint": app.secret_hint}], "createdBy": listed[0]["createdBy"]}]
    assert secret not in out

    code, out, err = cli("apps", "remove", str(app.app_id))
    assert code == 0 and "Removed app Provisioning" in out
    assert cli("apps", "list")[1].strip() == "(no apps)"


def test_apps_add_json_shows_the_secret_once(cli: Any) -> None:
    code, out, _ = cli("apps", "add", "--name", "Reader", "--permission", "User.Read.All", "--json")
    assert code == 0
    data = json.loads(out)
    assert data["clientSecret"] and data["tokenEndpoint"] == f"{ORIGIN}/oauth2/v2.0/token"
    assert data["scope"] == "https://graph.microsoft.com/.default"


@pytest.mark.parametrize(("argv", "fragment"), [
    (("apps", "add", "--name", "X", "--permission", "Directory.ReadWrite.All"),
     "Unknown permission 'Directory.ReadWrite.All'; choose from Policy.Read.All"),
    (("apps", "remove", "00000000-0000-0000-0000-000000000000"), "No app registration"),
    (("apps", "remove", "nonsense"), "No app registration 'nonsense'"),
])
def test_apps_errors_are_one_line(cli: Any, argv: tuple[str, ...], fragment: str) -> None:
    code, out, err = cli(*argv)
    assert code != 0 and out == ""
    assert len(err.splitlines()) == 1 and err.startswith("passgate: error: ") and fragment in err


def test_apps_add_needs_a_permission(cli: Any) -> None:
    with pytest.raises(SystemExit) as info:
        main(["apps", "add", "--name", "X"])
    assert info.value.code == 2


def test_a_graph_script_end_to_end(cli: Any) -> None:
    """What an msgraph SDK (ClientSecretCredential) does: token request, then Bearer calls with Graph's JSON."""
    _, out, _ = cli("apps", "add", "--name", "Onboarding", "--permission", "User.ReadWrite.All",
                    "--permission", "Group.ReadWrite.All", "--json")
    registered = json.loads(out)
    http = Client(enforce_csrf_checks=True)
    token_response = http.post(
        "/contoso.onmicrosoft.com/oauth2/v2.0/token", content_type="application/x-www-form-urlencoded",
        data=urlencode({"grant_type": "client_credentials", "client_id": registered["appId"],
                        "client_secret": registered["clientSecret"], "scope": "https://graph.microsoft.com/.default"}))
    assert token_response.status_code == 200, token_response.content
    bearer = {"HTTP_AUTHORIZATION": f"Bearer {token_response.json()['access_token']}"}

    def call(method: str, path: str, body: Any = None) -> Any:
        kwargs: dict[str, Any] = dict(bearer)
        if body is not None:
            kwargs.update(data=json.dumps(body), content_type="application/json")
        return getattr(http, method)(path, **kwargs)

    user = call("post", "/v1.0/users", {
        "@odata.type": "#microsoft.graph.user", "accountEnabled": True, "displayName": "Adele Vance",
        "mailNickname": "AdeleV", "userPrincipalName": "AdeleV@contoso.com",
        "passwordProfile": {"forceChangePasswordNextSignIn": True, "password": "xWwvJ]6NMw+bWH-d"}}).json()
    group = call("post", "/v1.0/groups", {"displayName": "Passkey pilot", "mailEnabled": False,
                                          "mailNickname": "pilot", "securityEnabled": True}).json()
    added = call("post", f"/v1.0/groups/{group['id']}/members/$ref",
                 {"@odata.id": f"https://graph.microsoft.com/v1.0/directoryObjects/{user['id']}"})
    assert added.status_code == 204
    found = call("get", "/v1.0/users?$filter=userPrincipalName eq 'adelev@contoso.com'&$select=id,displayName")
    assert found.json()["value"] == [{"id": user["id"], "displayName": "Adele Vance"}]
    members = call("get", f"/v1.0/groups/{group['id']}/members?$select=userPrincipalName").json()["value"]
    assert members == [{"@odata.type": "#microsoft.graph.user", "userPrincipalName": "AdeleV@contoso.com"}]
    assert call("patch", f"/v1.0/users/{user['id']}", {"accountEnabled": False}).status_code == 204

    code, _, _ = cli("apps", "remove", registered["appId"])
    assert code == 0
    gone = call("get", "/v1.0/users")
    assert gone.status_code == 401
    assert gone.json()["error"]["message"] == "Access token validation failure. The application no longer exists."


# --- an API the app exposes (identifierUris, api.oauth2PermissionScopes) ------------------------------------------

def test_apps_add_and_update_an_api(cli: Any) -> None:
    code, out, err = cli("apps", "add", "--name", "Files API", "--api-scope", "Files.Read", "--api-admin-scope",
                         "Files.Purge", "--json")
    assert (code, err) == (0, ""), err
    data = json.loads(out)
    app = AppRegistration.objects.get()
    assert data["identifierUris"] == [f"api://{app.app_id}"] == app.identifier_uris
    scopes = data["api"]["oauth2PermissionScopes"]
    assert [(s["value"], s["type"], s["isEnabled"]) for s in scopes] == [("Files.Read", "User", True),
                                                                         ("Files.Purge", "Admin", True)]
    assert data["clientSecret"]  # a resource server introspects with it

    code, out, err = cli("apps", "update", str(app.app_id), "--identifier-uri", "https://files.contoso.test",
                         "--disable-api-scope", "Files.Purge")
    assert code == 0 and "Identifier URI:           https://files.contoso.test" in out, err
    assert "Files.Purge (Admin, disabled)" in out
    code, out, err = cli("apps", "update", str(app.app_id), "--remove-api-scope", "Files.Purge")
    assert code == 0, err
    app.refresh_from_db()
    assert [s["value"] for s in app.api_scopes] == ["Files.Read"]
    assert app.identifier_uris == ["https://files.contoso.test"]


@pytest.mark.parametrize(("argv", "fragment"), [
    (("apps", "add", "--name", "X", "--identifier-uri", "files.contoso.test"), "absolute URI"),
    (("apps", "add", "--name", "X", "--identifier-uri", "api://x#y"), "fragment"),
    (("apps", "add", "--name", "X", "--api-scope", "Files Read"), "scope's name"),
    (("apps", "add", "--name", "X", "--api-scope", "Files.Read", "--api-scope", "files.read"), "Two permission"),
])
def test_apps_add_refuses_a_bad_api_and_registers_nothing(cli: Any, argv: tuple[str, ...], fragment: str) -> None:
    code, out, err = cli(*argv)
    assert code != 0 and out == "" and err.startswith("passgate: error: ") and fragment in err, err
    assert not AppRegistration.objects.exists()


def test_apps_update_refusals(cli: Any) -> None:
    cli("apps", "add", "--name", "A", "--identifier-uri", "api://files", "--api-scope", "Files.Read")
    cli("apps", "add", "--name", "B", "--permission", "User.Read.All")
    a, b = AppRegistration.objects.order_by("created_at")
    for argv, fragment in (
            ((str(b.app_id), "--identifier-uri", "API://FILES"), "already used by another app"),
            ((str(a.app_id), "--remove-api-scope", "Files.Read"), "disable it"),
            ((str(a.app_id), "--disable-api-scope", "Files.Write"), "no API scope 'Files.Write'"),
            ((str(a.app_id),), "Nothing to change")):
        code, out, err = cli("apps", "update", *argv)
        assert code != 0 and out == "" and fragment in err, (argv, err)
    b.refresh_from_db()
    assert b.identifier_uris == [] and len(AppRegistration.objects.get(pk=a.pk).api_scopes) == 1


def test_app_roles_defined_assigned_listed_and_taken_back(cli: Any) -> None:
    from passgate.apps.models import AppRoleAssignment
    from passgate.audit.models import AuditEvent
    from passgate.audit.services import Actor
    from passgate.directory.services import group_create, user_create

    cli("apps", "add", "--name", "Survey", "--redirect-uri", "https://survey.contoso.test/cb")
    app = AppRegistration.objects.get()
    code, _, err = cli("apps", "update", str(app.app_id), "--app-role", "Survey.Admin", "--app-role", "Survey.Read")
    assert (code, err) == (0, "")
    user = user_create(upn="adele@contoso.com", display_name="Adele", actor=Actor.system("test"))
    group_create(display_name="Readers", actor=Actor.system("test"))
    assert cli("apps", "assign-role", str(app.app_id), "Survey.Admin", "--user", "adele@contoso.com")[1] == (
        "adele@contoso.com now holds Survey.Admin of Survey\n")
    assert cli("apps", "assign-role", str(app.app_id), "Survey.Read", "--group", "readers")[0] == 0
    _, out, _ = cli("apps", "roles", str(app.app_id))
    assert [line.split()[:2] + line.split()[3:] for line in out.splitlines()] == [
        ["Survey.Admin", "enabled", "adele@contoso.com"], ["Survey.Read", "enabled", "group:Readers"]]
    listed = json.loads(cli("apps", "roles", str(app.app_id), "--json")[1])
    assert [r["assignedTo"] for r in listed] == [["adele@contoso.com"], ["group:Readers"]]
    assert listed[0]["allowedMemberTypes"] == ["User"] and listed[0]["isEnabled"] is True
    for argv, fragment in (
            (("assign-role", str(app.app_id), "Survey.Admin", "--user", "adele@contoso.com"), "already exists"),
            (("assign-role", str(app.app_id), "Survey.Owner", "--user", "adele@contoso.com"), "no app role"),
            (("assign-role", str(app.app_id), "Survey.Admin"), "--user"),
            (("assign-role", str(app.app_id), "Survey.Admin", "--user", "nobody@contoso.com"), "nobody"),
            (("unassign-role", str(app.app_id), "Survey.Read", "--user", "adele@contoso.com"), "does not hold"),
            (("update", str(app.app_id), "--remove-app-role", "Survey.Admin"), "disable it"),
            (("update", str(app.app_id), "--app-role", "Has space"), "not a valid app role value")):
        code, out, err = cli("apps", *argv)
        assert code != 0 and out == "" and fragment in err, (argv, err)
    assert AppRoleAssignment.objects.count() == 2
    assert cli("apps", "unassign-role", str(app.app_id), "Survey.Admin", "--user", str(user.pk))[0] == 0
    assert cli("apps", "update", str(app.app_id), "--disable-app-role", "Survey.Read")[0] == 0
    assert cli("apps", "update", str(app.app_id), "--remove-app-role", "Survey.Read")[0] == 0
    assert not AppRoleAssignment.objects.exists()
    assert [r["value"] for r in AppRegistration.objects.get().app_roles] == ["Survey.Admin"]
    assert AuditEvent.objects.filter(activity="app.roleAssignment.remove", result="success").count() == 1
    assert set(AuditEvent.objects.filter(activity__startswith="app.roleAssignment", result="failure")
               .values_list("reason", flat=True)) == {"app_role_already_assigned", "app_role_assignment_not_found"}
