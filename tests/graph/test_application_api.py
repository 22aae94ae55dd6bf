"""/v1.0/applications: the API an app exposes (identifierUris, api.oauth2PermissionScopes,
api.requestedAccessTokenVersion), created, read back, changed; bad input named in ``error.target`` and changing
nothing."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from passgate.apps.models import AppIdentifierUri, AppRegistration
from passgate.audit.models import AuditEvent
from tests.graph.conftest import Api
from tests.graph.test_applications import problem

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(app_api: Any) -> Api:
    return app_api("Application.ReadWrite.All")


def permission_scope(value: str, **fields: Any) -> dict[str, Any]:
    return {"id": str(uuid.uuid4()), "value": value, "adminConsentDisplayName": f"Use {value}",
            "adminConsentDescription": f"Lets the app use {value}.", "type": "User", "isEnabled": True, **fields}


def create(api: Api, name: str = "Files API", uris: tuple[str, ...] = ("https://files.contoso.test",),
           *scopes: dict[str, Any]) -> Any:
    return api.post("/v1.0/applications", {"displayName": name, "identifierUris": list(uris),
                                           "api": {"oauth2PermissionScopes": list(scopes)}})


def test_an_api_is_created_and_read_back_as_graph_shows_it(api: Api) -> None:
    read = permission_scope("Files.Read", userConsentDisplayName="Read your files",
                            userConsentDescription="Lets the app read your files.")
    response = create(api, "Files API", ("https://files.contoso.test", "api://files"), read,
                      permission_scope("Files.Write", type="Admin"))
    assert response.status_code == 201, response.content
    body = api.get(f"/v1.0/applications/{response.json()['id']}").json()
    assert body["identifierUris"] == ["https://files.contoso.test", "api://files"]
    assert body["api"]["requestedAccessTokenVersion"] == 2 and body["api"]["preAuthorizedApplications"] == []
    assert body["api"]["acceptMappedClaims"] is None and body["api"]["knownClientApplications"] == []
    first, second = body["api"]["oauth2PermissionScopes"]
    assert first == {**read, "origin": "Application"}
    assert second["value"] == "Files.Write" and second["type"] == "Admin" and second["userConsentDisplayName"] is None
    assert sorted(AppIdentifierUri.objects.values_list("uri", flat=True)) == ["api://files",
                                                                             "https://files.contoso.test"]
    plain = api.post("/v1.0/applications", {"displayName": "Plain"}).json()
    assert plain["identifierUris"] == [] and plain["api"]["oauth2PermissionScopes"] == []


def test_a_document_read_back_can_be_sent_again(api: Api) -> None:
    made = create(api, "Files API", ("api://files",), permission_scope("Files.Read")).json()
    body = api.get(f"/v1.0/applications/{made['id']}").json()
    for read_only in ("@odata.context", "id", "appId", "createdDateTime", "passwordCredentials"):
        body.pop(read_only)
    before = AuditEvent.objects.count()
    assert api.patch(f"/v1.0/applications/{made['id']}", body).status_code == 204
    assert AuditEvent.objects.count() == before


def test_patch_disables_then_removes_a_scope_and_moves_the_uri(api: Api) -> None:
    read, write = permission_scope("Files.Read"), permission_scope("Files.Write")
    made = create(api, "Files API", ("api://files",), read, write).json()
    path = f"/v1.0/applications/{made['id']}"
    refused = api.patch(path, {"api": {"oauth2PermissionScopes": [read]}})
    assert problem(refused)[:3] == (400, "Request_BadRequest", "api.oauth2PermissionScopes")
    assert "disable it" in problem(refused)[3]
    assert api.patch(path, {"api": {"oauth2PermissionScopes": [read, {**write, "isEnabled": False}]}}).status_code \
        == 204
    assert api.patch(path, {"api": {"oauth2PermissionScopes": [read]}, "identifierUris": ["api://files2"]}) \
        .status_code == 204
    app = AppRegistration.objects.get(pk=made["id"])
    assert [s["value"] for s in app.api_scopes] == ["Files.Read"] and app.identifier_uris == ["api://files2"]
    assert list(AppIdentifierUri.objects.values_list("uri", flat=True)) == ["api://files2"]
    assert api.patch(path, {"api": {}}).status_code == 204  # leaves the scopes as they are
    assert len(AppRegistration.objects.get(pk=made["id"]).api_scopes) == 1
    # the URI it gave up is free for another app
    assert create(api, "Other", ("API://Files",)).status_code == 201


@pytest.mark.parametrize(("body", "target", "fragment"), [
    ({"identifierUris": ["api://files", "api://Files"]}, "identifierUris[1]", "listed twice"),
    ({"identifierUris": ["api://files/"]}, "identifierUris[0]", "ends with '/'"),
    ({"identifierUris": ["http://files.contoso.test"]}, "identifierUris[0]", "absolute URI"),
    ({"identifierUris": ["https://user@files.contoso.test"]}, "identifierUris[0]", "user name"),
    ({"identifierUris": ["api://files/*"]}, "identifierUris[0]", "wildcard"),
    ({"identifierUris": [7]}, "identifierUris[0]", "absolute URI"),
    ({"identifierUris": [], "api": {"oauth2PermissionScopes": [permission_scope("Files.Read")]}}, "identifierUris",
     "needs an identifier URI"),
    ({"identifierUris": ["api://files"], "api": {"oauth2PermissionScopes": [
        permission_scope("Files.Read"), permission_scope("files.read")]}},
     "api.oauth2PermissionScopes[1].value", "Two permission scopes"),
    ({"identifierUris": ["api://files"], "api": {"oauth2PermissionScopes": [
        permission_scope("Files Read")]}}, "api.oauth2PermissionScopes[0].value", "scope's name"),
    ({"identifierUris": ["api://files"], "api": {"oauth2PermissionScopes": [
        permission_scope("Files.Read", type="Everyone")]}}, "api.oauth2PermissionScopes[0].type", "User or Admin"),
    ({"identifierUris": ["api://files"], "api": {"oauth2PermissionScopes": [
        permission_scope("Files.Read", isEnabled="yes")]}}, "api.oauth2PermissionScopes[0].isEnabled", "true or false"),
    ({"identifierUris": ["api://files"], "api": {"oauth2PermissionScopes": [
        permission_scope("Files.Read", adminConsentDisplayName=None)]}},
     "api.oauth2PermissionScopes[0].adminConsentDisplayName", "required"),
    ({"identifierUris": ["api://files"], "api": {"oauth2PermissionScopes": [
        permission_scope("Files.Read", colour="blue")]}}, "api.oauth2PermissionScopes[0].colour", "does not exist"),
    ({"api": {"oauth2PermissionScopes": {"value": "Files.Read"}}}, "api.oauth2PermissionScopes", "array"),
    ({"api": {"acceptMappedClaims": True}}, "api.acceptMappedClaims", "claims mapping"),
    ({"api": "Files.Read"}, "api", "JSON object"),
])
def test_bad_api_values_are_named_and_change_nothing(api: Api, body: dict[str, Any], target: str,
                                                     fragment: str) -> None:
    before = AppRegistration.objects.count()
    status, code, named, message = problem(api.post("/v1.0/applications", {"displayName": "A", **body}))
    assert (status, code, named) == (400, "Request_BadRequest", target), message
    assert fragment in message
    assert AppRegistration.objects.count() == before


def test_an_identifier_uri_is_unique_across_apps(api: Api) -> None:
    first = create(api, "Files API", ("api://files",)).json()
    second = api.post("/v1.0/applications", {"displayName": "Plain"}).json()
    before = AppRegistration.objects.count()
    for refused, target in ((create(api, "Copy", ("api://other", "API://FILES")), "identifierUris[1]"),
                            (api.patch(f"/v1.0/applications/{second['id']}", {"identifierUris": ["api://files"]}),
                             "identifierUris[0]")):
        status, _, named, message = problem(refused)
        assert (status, named) == (400, target) and "already used by another app" in message, message
    assert AppRegistration.objects.count() == before
    assert AppRegistration.objects.get(pk=second["id"]).identifier_uris == []
    assert list(AppIdentifierUri.objects.values_list("app_id", flat=True)) == [uuid.UUID(first["id"])]


def test_changing_an_app_keeps_its_back_channel_logout_uri(api: Api) -> None:
    from passgate.apps.services import OidcRegistration, app_create, app_update
    from passgate.audit.services import Actor

    app, _ = app_create(display_name="Wiki", permissions=[], actor=Actor.system("test"), oidc=OidcRegistration(
        redirect_uris=("https://wiki.contoso.test/cb",), backchannel_logout_uri="https://wiki.contoso.test/bcl"))
    app_update(app=app, actor=Actor.system("test"), display_name="Wiki 2")
    assert api.patch(f"/v1.0/applications/{app.id}", {"web": {"redirectUris": ["https://wiki.contoso.test/cb2"]},
                                                      "identifierUris": ["api://wiki"]}).status_code == 204
    app.refresh_from_db()
    assert app.backchannel_logout_uri == "https://wiki.contoso.test/bcl" and app.display_name == "Wiki 2"
