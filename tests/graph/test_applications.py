"""/v1.0/applications over HTTP: Graph's application shape (the properties Passgate uses), create, update, delete,
addPassword/removePassword (a secret is shown once), the (appId='…') alternate key, bad input named in
``error.target``, and who may grant Graph permissions or take over an app's secret."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from passgate.apps.models import AppRegistration
from passgate.apps.services import OidcRegistration, TokenRequestRejected, app_create, token_issue
from passgate.audit.models import AuditEvent
from passgate.audit.services import Actor
from passgate.core.graph.applications import GRAPH_APP_ROLE_IDS, GRAPH_RESOURCE_APP_ID
from passgate.core.graph.applications_empty import EMPTY_VALUES
from passgate.core.graph.authz import Permission
from passgate.directory.models import DirectoryRole
from tests.graph.conftest import ORIGIN, Api, error_of

pytestmark = pytest.mark.django_db

ACTOR = Actor.system("test")
GRAPH_SCOPE = "https://graph.microsoft.com/.default"
USER_READ_ALL = "df021288-bdef-4463-88db-98f22de89214"
GROUP_READ_ALL = "5b567255-7703-4780-807c-7be8301ae99b"
APP_KEYS = {"id", "appId", "displayName", "createdDateTime", "signInAudience", "isFallbackPublicClient", "web", "spa",
            "publicClient", "passwordCredentials", "keyCredentials", "requiredResourceAccess", "identifierUris", "api",
            "appRoles",
            "@passgate.postLogoutRedirectUris", "@passgate.tokenEndpointAuthMethod", "@passgate.jwks",
            "@passgate.allowedScopes", "@passgate.idTokenSignedResponseAlg", "@passgate.requirePkce",
            *EMPTY_VALUES}


@pytest.fixture
def api(app_api: Any) -> Api:
    return app_api("Application.ReadWrite.All")


def problem(response: Any) -> tuple[int, str, str, str]:
    """(status, Graph code, error.target, message) of a Graph error that may name its property."""
    error = response.json()["error"]
    assert set(error) <= {"code", "message", "target", "innerError"}, error
    return response.status_code, error["code"], error.get("target", ""), error["message"]


def authenticates(app: AppRegistration, secret: str) -> bool:
    try:
        token_issue(client_id=str(app.app_id), client_secret=secret, scope=GRAPH_SCOPE)
    except TokenRequestRejected:
        return False
    return True


def web_app(**kwargs: Any) -> tuple[AppRegistration, str | None]:
    return app_create(display_name=kwargs.pop("name", "Wiki"), permissions=kwargs.pop("permissions", []),
                      actor=ACTOR, oidc=OidcRegistration(redirect_uris=("https://wiki.contoso.test/cb",), **kwargs))


# --- shapes ---------------------------------------------------------------------------------------------------------

def test_a_confidential_web_app_as_graph_shows_it(api: Api) -> None:
    app, secret = web_app(post_logout_redirect_uris=("https://wiki.contoso.test/",))
    assert secret
    response = api.get(f"/v1.0/applications/{app.id}")
    assert response.status_code == 200
    body = response.json()
    assert body["@odata.context"] == f"{ORIGIN}/v1.0/$metadata#applications/$entity"
    assert set(body) - {"@odata.context"} == APP_KEYS
    assert body["id"] == str(app.id) and body["appId"] == str(app.app_id) and body["displayName"] == "Wiki"
    assert body["signInAudience"] == "AzureADMyOrg" and body["isFallbackPublicClient"] is False
    assert body["web"] == {"homePageUrl": None, "logoutUrl": None, "redirectUris": ["https://wiki.contoso.test/cb"],
                           "implicitGrantSettings": {"enableAccessTokenIssuance": False,
                                                     "enableIdTokenIssuance": False}, "redirectUriSettings": []}
    assert body["identifierUris"] == [] and body["api"]["oauth2PermissionScopes"] == [] and body["tags"] == []
    assert body["info"]["logoUrl"] is None and body["oauth2RequirePostResponse"] is False
    assert body["spa"] == {"redirectUris": []} and body["publicClient"] == {"redirectUris": []}
    assert body["passwordCredentials"] == [{
        "customKeyIdentifier": None, "displayName": None, "endDateTime": None, "hint": secret[:3],
        "keyId": str(app.secret_key_id), "secretText": None, "startDateTime": body["passwordCredentials"][0][
            "startDateTime"]}]
    assert body["keyCredentials"] == [] and body["requiredResourceAccess"] == []
    assert body["@passgate.postLogoutRedirectUris"] == ["https://wiki.contoso.test/"]
    assert body["@passgate.tokenEndpointAuthMethod"] == "client_secret_basic"
    assert body["@passgate.allowedScopes"] == ["openid", "profile", "email", "offline_access"]
    assert body["@passgate.idTokenSignedResponseAlg"] == "ES256" and body["@passgate.jwks"] is None
    assert body["@passgate.requirePkce"] is False  # PKCE or a nonce (RFC 9700)
    assert secret not in response.content.decode()


def test_a_public_client_and_a_graph_client(api: Api) -> None:
    public, secret = app_create(display_name="CLI tool", permissions=[], actor=ACTOR,
                                oidc=OidcRegistration(redirect_uris=("http://127.0.0.1:8765/cb",), public=True))
    assert secret is None
    body = api.get(f"/v1.0/applications/{public.id}").json()
    assert body["isFallbackPublicClient"] is True and body["publicClient"] == {"redirectUris": [
        "http://127.0.0.1:8765/cb"]}
    assert body["web"]["redirectUris"] == [] and body["passwordCredentials"] == []
    assert body["@passgate.tokenEndpointAuthMethod"] == "none"

    graph, _ = app_create(display_name="Onboarding", permissions=["User.Read.All", "Group.Read.All"], actor=ACTOR)
    body = api.get(f"/v1.0/applications/{graph.id}").json()
    assert body["requiredResourceAccess"] == [{"resourceAppId": GRAPH_RESOURCE_APP_ID, "resourceAccess": [
        {"id": USER_READ_ALL, "type": "Role"}, {"id": GROUP_READ_ALL, "type": "Role"}]}]
    assert body["web"]["redirectUris"] == [] and body["isFallbackPublicClient"] is False
    assert body["@passgate.tokenEndpointAuthMethod"] is None and body["@passgate.allowedScopes"] == []


def test_every_permission_passgate_grants_has_its_graph_app_role_id() -> None:
    assert set(GRAPH_APP_ROLE_IDS) == set(Permission)
    assert len(set(GRAPH_APP_ROLE_IDS.values())) == len(Permission)
    for role_id in GRAPH_APP_ROLE_IDS.values():
        assert str(uuid.UUID(role_id)) == role_id


def test_select_picks_properties_and_leaves_out_the_annotations(api: Api) -> None:
    app, _ = web_app()
    body = api.get(f"/v1.0/applications/{app.id}?$select=appId,displayName").json()
    assert body == {"@odata.context": f"{ORIGIN}/v1.0/$metadata#applications(appId,displayName)/$entity",
                    "appId": str(app.app_id), "displayName": "Wiki"}
    assert error_of(api.get(f"/v1.0/applications/{app.id}?$select=secretText"))[:2] == (400, "BadRequest")


def test_list_filter_and_pages(api: Api) -> None:
    apps = [app_create(display_name=f"Payroll {n}", permissions=[], actor=ACTOR)[0] for n in range(3)]
    other, _ = web_app(name="Wiki")
    body = api.get("/v1.0/applications?$filter=startswith(displayName,'payroll')&$top=2").json()
    assert [a["displayName"] for a in body["value"]] == ["Payroll 0", "Payroll 1"]
    assert body["@odata.nextLink"].startswith(f"{ORIGIN}/v1.0/applications?")
    rest = api.get(body["@odata.nextLink"].removeprefix(ORIGIN)).json()
    assert [a["displayName"] for a in rest["value"]] == ["Payroll 2"] and "@odata.nextLink" not in rest
    found = api.get(f"/v1.0/applications?$filter=appId eq '{other.app_id}'").json()["value"]
    assert [a["id"] for a in found] == [str(other.id)]
    found = api.get(f"/v1.0/applications?$filter=id eq '{apps[1].id}'&$select=displayName").json()["value"]
    assert found == [{"displayName": "Payroll 1"}]
    assert api.get("/v1.0/applications?$filter=displayName eq 'WIKI'").json()["value"][0]["id"] == str(other.id)
    status, code, _ = error_of(api.get("/v1.0/applications?$filter=startswith(appId,'1')"))
    assert (status, code) == (400, "Request_UnsupportedQuery")
    assert error_of(api.get("/v1.0/applications?$orderby=displayName"))[:2] == (400, "Request_UnsupportedQuery")


def test_the_appid_alternate_key(api: Api) -> None:
    app, _ = web_app()
    response = api.get(f"/v1.0/applications(appId='{app.app_id}')")
    assert response.status_code == 200 and response.json()["id"] == str(app.id)
    assert api.get(f"/v1.0/applications(appId=%27{app.app_id}%27)").json()["id"] == str(app.id)
    assert api.patch(f"/v1.0/applications(appId='{app.app_id}')", {"displayName": "Wiki 2"}).status_code == 204
    app.refresh_from_db()
    assert app.display_name == "Wiki 2"
    # the object id is not an appId, and the appId is not an object id
    assert error_of(api.get(f"/v1.0/applications(appId='{app.id}')"))[:2] == (404, "Request_ResourceNotFound")
    assert error_of(api.get(f"/v1.0/applications/{app.app_id}"))[:2] == (404, "Request_ResourceNotFound")
    assert error_of(api.get("/v1.0/applications/not-a-guid"))[:2] == (404, "Request_ResourceNotFound")
    assert api.delete(f"/v1.0/applications(appId='{app.app_id}')").status_code == 204
    assert not AppRegistration.objects.filter(pk=app.pk).exists()


# --- create ---------------------------------------------------------------------------------------------------------

def test_create_as_graph_documents_it_without_a_secret(api: Api) -> None:
    response = api.post("/v1.0/applications", {"displayName": "Display name"})  # Microsoft's example
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["@odata.context"] == f"{ORIGIN}/v1.0/$metadata#applications/$entity"
    assert body["displayName"] == "Display name" and body["passwordCredentials"] == []
    assert body["web"]["redirectUris"] == [] and body["requiredResourceAccess"] == []
    app = AppRegistration.objects.get(pk=body["id"])
    assert not app.has_secret and not app.is_oidc_client and app.created_by.startswith("app:")
    event = AuditEvent.objects.get(activity="app.add", target_id=str(app.app_id))
    assert event.actor_id == uuid.UUID(api.get("/v1.0/applications?$filter=displayName eq 'Test app'").json()[
        "value"][0]["id"])


def test_create_a_web_app_with_a_secret_shown_once(api: Api) -> None:
    response = api.post("/v1.0/applications", {
        "displayName": "Wiki", "signInAudience": "AzureADMyOrg",
        "web": {"redirectUris": ["https://wiki.contoso.test/cb"], "logoutUrl": None},
        "passwordCredentials": [{"displayName": "deploy"}],
        "@passgate.postLogoutRedirectUris": ["https://wiki.contoso.test/"]})
    assert response.status_code == 201, response.content
    assert response["Cache-Control"] == "no-store"
    body = response.json()
    (credential,) = body["passwordCredentials"]
    secret = credential["secretText"]
    assert secret and credential["hint"] == secret[:3] and credential["displayName"] == "deploy"
    assert credential["endDateTime"] is None
    app = AppRegistration.objects.get(pk=body["id"])
    assert app.is_oidc_client and app.client_type == "confidential" and authenticates(app, secret)
    assert app.post_logout_redirect_uris == ["https://wiki.contoso.test/"]
    # never again: not in a GET, a list, or the audit log
    for path in (f"/v1.0/applications/{app.id}", "/v1.0/applications"):
        text = api.get(path).content.decode()
        assert secret not in text and '"secretText": null' in text.replace('":null', '": null')
    assert not [e for e in AuditEvent.objects.all() if secret in str(e.details)]


def test_create_a_public_client(api: Api) -> None:
    response = api.post("/v1.0/applications", {
        "displayName": "CLI tool", "isFallbackPublicClient": True,
        "publicClient": {"redirectUris": ["http://127.0.0.1:8765/cb"]}})
    assert response.status_code == 201, response.content
    app = AppRegistration.objects.get(pk=response.json()["id"])
    assert app.client_type == "public" and app.token_endpoint_auth_method == "none" and not app.has_secret
    refused = api.post("/v1.0/applications", {
        "displayName": "CLI tool", "publicClient": {"redirectUris": ["http://127.0.0.1:8765/cb"]},
        "passwordCredentials": [{"displayName": "x"}]})
    assert problem(refused)[:3] == (400, "Request_BadRequest", "passwordCredentials")


@pytest.mark.parametrize(("body", "target", "fragment"), [
    ({}, "displayName", "required"),
    ({"displayName": ""}, "displayName", "non-empty"),
    ({"displayName": 7}, "displayName", "must be a string"),
    ({"displayName": "A", "appRoles": [{"value": "Reader"}]}, "appRoles[0].id", "GUID"),
    ({"displayName": "A", "tags": ["x"]}, "tags", "not supported by Passgate"),
    ({"displayName": "A", "identifierUris": ["api://a", "files.test"]}, "identifierUris[1]", "absolute URI"),
    ({"displayName": "A", "identifierUris": ["api://a#b"]}, "identifierUris[0]", "fragment"),
    ({"displayName": "A", "identifierUris": ["api://a", "API://A"]}, "identifierUris[1]", "listed twice"),
    ({"displayName": "A", "identifierUris": "api://a"}, "identifierUris", "array"),
    ({"displayName": "A", "api": {"oauth2PermissionScopes": [{"value": "Files.Read"}]}},
     "api.oauth2PermissionScopes[0].id", "GUID"),
    ({"displayName": "A", "api": {"requestedAccessTokenVersion": 1}}, "api.requestedAccessTokenVersion", "2"),
    ({"displayName": "A", "api": {"preAuthorizedApplications": [{"appId": "x"}]}}, "api.preAuthorizedApplications",
     "consent"),
    ({"displayName": "A", "colour": "blue"}, "colour", "does not exist"),
    ({"displayName": "A", "displayname": "B"}, "displayname", "Did you mean 'displayName'"),
    ({"displayName": "A", "id": str(uuid.uuid4())}, "id", "read-only"),
    ({"displayName": "A", "appId": str(uuid.uuid4())}, "appId", "read-only"),
    ({"displayName": "A", "signInAudience": "AzureADMultipleOrgs"}, "signInAudience", "AzureADMyOrg"),
    ({"displayName": "A", "web": {"redirectUris": ["https://a.test/cb", "http://a.test/cb"]}},
     "web.redirectUris[1]", "uses http"),
    ({"displayName": "A", "web": {"redirectUris": ["https://a.test/cb#x"]}}, "web.redirectUris[0]", "fragment"),
    ({"displayName": "A", "web": {"redirectUris": "https://a.test/cb"}}, "web.redirectUris", "array of strings"),
    ({"displayName": "A", "web": {"redirectUris": ["https://a.test/cb"], "logoutUrl": "https://a.test/lo"}},
     "web.logoutUrl", "front-channel"),
    ({"displayName": "A", "web": {"redirectUris": ["https://a.test/cb"],
                                  "implicitGrantSettings": {"enableIdTokenIssuance": True}}},
     "web.implicitGrantSettings.enableIdTokenIssuance", "implicit flow"),
    ({"displayName": "A", "web": {"redirectUriSettings": [{"uri": "https://a.test/cb"}]}}, "web.redirectUriSettings",
     "must be empty"),
    ({"displayName": "A", "web": {"redirectUriSetting": []}}, "web.redirectUriSetting", "does not exist"),
    ({"displayName": "A", "info": {"logoUrl": "https://a.test/logo.png"}}, "info", "not supported"),
    ({"displayName": "A", "spa": {"redirectUris": ["https://a.test/"]}}, "spa.redirectUris", "public client"),
    ({"displayName": "A", "web": {"redirectUris": ["https://a.test/cb"]},
      "publicClient": {"redirectUris": ["http://localhost/cb"]}}, "publicClient.redirectUris", "not both"),
    ({"displayName": "A", "web": {"redirectUris": ["https://a.test/cb"]}, "isFallbackPublicClient": True},
     "isFallbackPublicClient", "publicClient.redirectUris"),
    ({"displayName": "A", "isFallbackPublicClient": True}, "publicClient.redirectUris", "at least one redirect URI"),
    ({"displayName": "A", "keyCredentials": [{"type": "AsymmetricX509Cert"}]}, "keyCredentials", "@passgate.jwks"),
    ({"displayName": "A", "passwordCredentials": [{"displayName": "a"}, {"displayName": "b"}]},
     "passwordCredentials", "one secret"),
    ({"displayName": "A", "passwordCredentials": [{"endDateTime": "2030-01-01T00:00:00Z"}]},
     "passwordCredentials[0].endDateTime", "don't expire"),
    ({"displayName": "A", "requiredResourceAccess": [{"resourceAppId": "00000002-0000-0000-c000-000000000000",
                                                     "resourceAccess": []}]},
     "requiredResourceAccess[0].resourceAppId", "Microsoft Graph only"),
    ({"displayName": "A", "@passgate.postLogoutRedirectUris": ["ftp://a.test/"]},
     "@passgate.postLogoutRedirectUris[0]", "https"),
    ({"displayName": "A", "@passgate.postLogoutRedirectUris": ["https://a.test/"]}, "web.redirectUris",
     "at least one redirect URI"),
    ({"displayName": "A", "web": {"redirectUris": ["https://a.test/cb"]},
      "@passgate.tokenEndpointAuthMethod": "client_secret_jwt"}, "@passgate.tokenEndpointAuthMethod", "choose from"),
    ({"displayName": "A", "web": {"redirectUris": ["https://a.test/cb"]},
      "@passgate.tokenEndpointAuthMethod": "private_key_jwt"}, "@passgate.jwks", "JWKS"),
    ({"displayName": "A", "web": {"redirectUris": ["https://a.test/cb"]}, "@passgate.allowedScopes": ["profile"]},
     "@passgate.allowedScopes", "openid"),
    ({"displayName": "A", "web": {"redirectUris": ["https://a.test/cb"]},
      "@passgate.idTokenSignedResponseAlg": "HS256"}, "@passgate.idTokenSignedResponseAlg", "ES256 or RS256"),
    ({"displayName": "A", "@passgate.colour": "blue"}, "@passgate.colour", "Unknown annotation"),
    ({"displayName": "A", "web": {"redirectUris": ["https://a.test/cb"]}, "@passgate.requirePkce": "yes"},
     "@passgate.requirePkce", "true or false"),
    ({"displayName": "A", "@odata.type": "#microsoft.graph.user"}, "@odata.type", "microsoft.graph.application"),
    # taken before the body had to fit its schema in /openapi.json (Python's "empty" and 0 == False)
    ({"displayName": "A", "keyCredentials": {}}, "keyCredentials", "must be an array or null"),
    ({"displayName": "A", "spa": {"redirectUris": ""}}, "spa.redirectUris", "must be an array or null"),
    ({"displayName": "A", "web": {"implicitGrantSettings": {"enableIdTokenIssuance": 0}}},
     "web.implicitGrantSettings.enableIdTokenIssuance", "must be one of: false, null"),
])
def test_bad_input_is_named(admin_api: Any, body: dict[str, Any], target: str, fragment: str) -> None:
    api = admin_api(DirectoryRole.GLOBAL_ADMINISTRATOR)
    before = AppRegistration.objects.count()
    status, code, named, message = problem(api.post("/v1.0/applications", body))
    assert (status, code, named) == (400, "Request_BadRequest", target), message
    assert fragment in message
    assert AppRegistration.objects.count() == before


def test_unsupported_graph_properties_are_accepted_when_empty(api: Api) -> None:
    response = api.post("/v1.0/applications", {"displayName": "Round trip", "tags": [], "identifierUris": [],
                                               "api": None, "spa": {"redirectUris": []}, "keyCredentials": [],
                                               "@odata.type": "#microsoft.graph.application"})
    assert response.status_code == 201, response.content


def test_a_document_read_back_can_be_sent_again(api: Api) -> None:
    app, _ = web_app(post_logout_redirect_uris=("https://wiki.contoso.test/",))
    body = api.get(f"/v1.0/applications/{app.id}").json()
    for read_only in ("@odata.context", "id", "appId", "createdDateTime", "passwordCredentials"):
        body.pop(read_only)
    before = AuditEvent.objects.count()
    assert api.patch(f"/v1.0/applications/{app.id}", body).status_code == 204
    assert AuditEvent.objects.count() == before  # nothing changed, nothing written


# --- update ---------------------------------------------------------------------------------------------------------

def test_patch_changes_what_it_names(api: Api) -> None:
    app, secret = web_app(post_logout_redirect_uris=("https://wiki.contoso.test/",))
    response = api.patch(f"/v1.0/applications/{app.id}", {
        "displayName": "Team wiki", "web": {"redirectUris": ["https://wiki.contoso.test/cb",
                                                            "https://wiki.contoso.test/cb2"]}})
    assert response.status_code == 204, response.content
    app.refresh_from_db()
    assert app.display_name == "Team wiki"
    assert app.redirect_uris == ["https://wiki.contoso.test/cb", "https://wiki.contoso.test/cb2"]
    assert app.post_logout_redirect_uris == ["https://wiki.contoso.test/"]  # not named: kept
    assert secret and authenticates(app, secret)
    event = AuditEvent.objects.get(activity="app.update")
    assert event.details == {"old": {"displayName": "Wiki", "redirectUris": ["https://wiki.contoso.test/cb"]},
                             "new": {"displayName": "Team wiki", "redirectUris": [
                                 "https://wiki.contoso.test/cb", "https://wiki.contoso.test/cb2"]}}
    # removing every redirect URI leaves a Graph API client
    assert api.patch(f"/v1.0/applications/{app.id}", {"web": {"redirectUris": []}}).status_code == 204
    app.refresh_from_db()
    assert not app.is_oidc_client and app.post_logout_redirect_uris == []


def test_patch_keeps_what_graph_has_no_property_for(api: Api) -> None:
    """The device code grant and the back-channel logout URI are not in Graph's application: a PATCH keeps them
    while the app stays an OpenID Connect client (before, the logout URI made the PATCH fail)."""
    app, _ = web_app(allow_device_code=True, backchannel_logout_uri="https://wiki.contoso.test/bcl")
    response = api.patch(f"/v1.0/applications/{app.id}", {"web": {"redirectUris": ["https://wiki.contoso.test/cb2"]}})
    assert response.status_code == 204, response.content
    app.refresh_from_db()
    assert app.allow_device_code and app.backchannel_logout_uri == "https://wiki.contoso.test/bcl"
    assert api.patch(f"/v1.0/applications/{app.id}", {"web": {"redirectUris": []}}).status_code == 204
    app.refresh_from_db()
    assert not app.allow_device_code and app.backchannel_logout_uri == ""  # a Graph API client only


@pytest.mark.parametrize("oidc", [False, True], ids=["graph-only", "web-app"])
@pytest.mark.parametrize("name", ["@passgate.tokenEndpointAuthMethod", "@passgate.idTokenSignedResponseAlg"])
def test_an_empty_string_is_not_a_choice(api: Api, name: str, oidc: bool) -> None:
    """Found by schemathesis: an empty string for an enumerated annotation was taken as "not given" (204, nothing
    changed) instead of being refused like any other value outside the list."""
    app = web_app()[0] if oidc else app_create(display_name="Reports", permissions=[], actor=ACTOR)[0]
    before = AppRegistration.objects.values().get(pk=app.pk)
    response = api.patch(f"/v1.0/applications/{app.id}", {name: ""})
    assert response.status_code == 400, response.content
    # a Graph-only client is told what any OpenID Connect setting needs first
    assert problem(response)[2] == (name if oidc else "web.redirectUris")
    assert AppRegistration.objects.values().get(pk=app.pk) == before
    assert AuditEvent.objects.filter(activity="app.update", result="failure").exists()


def test_patch_to_private_key_jwt(api: Api) -> None:
    from cryptography.hazmat.primitives.asymmetric import ec
    from joserfc.jwk import ECKey

    app, _ = web_app()
    public_jwk = ECKey.import_key(ec.generate_private_key(ec.SECP256R1())).as_dict(private=False)
    response = api.patch(f"/v1.0/applications/{app.id}", {"@passgate.tokenEndpointAuthMethod": "private_key_jwt",
                                                          "@passgate.jwks": {"keys": [public_jwk]}})
    assert response.status_code == 204, response.content
    body = api.get(f"/v1.0/applications/{app.id}").json()
    assert body["@passgate.tokenEndpointAuthMethod"] == "private_key_jwt"
    assert body["@passgate.jwks"]["keys"][0]["x"] == public_jwk["x"]
    leaked = {**public_jwk, "d": "AAAA"}
    status, _, target, message = problem(api.patch(f"/v1.0/applications/{app.id}", {
        "@passgate.jwks": {"keys": [leaked]}}))
    assert (status, target) == (400, "@passgate.jwks") and "private key material" in message


def test_becoming_a_public_client_needs_the_secret_removed_first(api: Api) -> None:
    app, _ = web_app()
    move = {"web": {"redirectUris": []}, "publicClient": {"redirectUris": ["http://localhost:8765/cb"]}}
    status, _, target, message = problem(api.patch(f"/v1.0/applications/{app.id}", move))
    assert (status, target) == (400, "isFallbackPublicClient") and "remove this app's secret first" in message
    assert AuditEvent.objects.filter(activity="app.update", result="failure", reason="public_client_secret").exists()
    assert api.post(f"/v1.0/applications/{app.id}/removePassword",
                    {"keyId": str(app.secret_key_id)}).status_code == 204
    assert api.patch(f"/v1.0/applications/{app.id}", move).status_code == 204
    app.refresh_from_db()
    assert app.client_type == "public" and app.token_endpoint_auth_method == "none"
    assert app.redirect_uris == ["http://localhost:8765/cb"]
    # half a move is refused, naming the list that would clash
    assert problem(api.patch(f"/v1.0/applications/{app.id}", {"web": {"redirectUris": ["https://a.test/cb"]}}))[
        :3] == (400, "Request_BadRequest", "publicClient.redirectUris")


def test_patch_refuses_secrets_and_names_the_property(api: Api) -> None:
    app, _ = web_app()
    assert problem(api.patch(f"/v1.0/applications/{app.id}", {"passwordCredentials": []}))[2] == "passwordCredentials"
    assert problem(api.patch(f"/v1.0/applications/{app.id}", {"displayName": " "}))[2] == "displayName"
    assert problem(api.patch(f"/v1.0/applications/{app.id}", {"id": str(app.id)}))[2] == "id"
    assert error_of(api.patch(f"/v1.0/applications/{uuid.uuid4()}", {"displayName": "x"}))[0] == 404


# --- Graph permissions: only the Global Administrator grants them ---------------------------------------------------

def _with_permissions(*role_ids: str) -> dict[str, Any]:
    return {"resourceAppId": GRAPH_RESOURCE_APP_ID,
            "resourceAccess": [{"id": role_id, "type": "Role"} for role_id in role_ids]}


def test_a_global_administrator_grants_graph_permissions(admin_api: Any) -> None:
    api = admin_api(DirectoryRole.GLOBAL_ADMINISTRATOR)
    response = api.post("/v1.0/applications", {"displayName": "Reporting",
                                               "requiredResourceAccess": [_with_permissions(USER_READ_ALL)],
                                               "passwordCredentials": [{}]})
    assert response.status_code == 201, response.content
    app = AppRegistration.objects.get(pk=response.json()["id"])
    assert app.permissions == ["User.Read.All"]
    secret = response.json()["passwordCredentials"][0]["secretText"]
    token = token_issue(client_id=str(app.app_id), client_secret=secret, scope=GRAPH_SCOPE)
    assert token.app.permissions == ["User.Read.All"]
    assert api.patch(f"/v1.0/applications/{app.id}", {"requiredResourceAccess": [
        _with_permissions(USER_READ_ALL, GROUP_READ_ALL)]}).status_code == 204
    app.refresh_from_db()
    assert app.permissions == ["User.Read.All", "Group.Read.All"]


@pytest.mark.parametrize("caller", ["app", DirectoryRole.APPLICATION_ADMINISTRATOR,
                                    DirectoryRole.CLOUD_APPLICATION_ADMINISTRATOR])
def test_no_one_else_grants_graph_permissions(app_api: Any, admin_api: Any, caller: Any) -> None:
    api = app_api("Application.ReadWrite.All") if caller == "app" else admin_api(caller)
    grab = {"displayName": "Sneaky", "requiredResourceAccess": [_with_permissions(
        GRAPH_APP_ROLE_IDS[Permission.USER_READWRITE_ALL])]}
    status, code, message = error_of(api.post("/v1.0/applications", grab))
    assert (status, code) == (403, "Authorization_RequestDenied") and "Global Administrator" in message
    assert not AppRegistration.objects.filter(display_name="Sneaky").exists()
    refusal = AuditEvent.objects.get(activity="graph.applications.write", reason="permission_grant_denied")
    assert refusal.details["permissions"] == ["User.ReadWrite.All"]
    # adding one to an existing app is refused too; removing, or sending the same set back, is not
    held, _ = app_create(display_name="Reader", permissions=["User.Read.All", "Group.Read.All"], actor=ACTOR)
    assert error_of(api.patch(f"/v1.0/applications/{held.id}", {"requiredResourceAccess": [_with_permissions(
        USER_READ_ALL, GROUP_READ_ALL, GRAPH_APP_ROLE_IDS[Permission.AUDIT_LOG_READ_ALL])]}))[0] == 403
    assert api.patch(f"/v1.0/applications/{held.id}", {"requiredResourceAccess": [_with_permissions(
        GROUP_READ_ALL, USER_READ_ALL)]}).status_code == 204
    assert api.patch(f"/v1.0/applications/{held.id}", {"requiredResourceAccess": [_with_permissions(
        USER_READ_ALL)]}).status_code == 204
    held.refresh_from_db()
    assert held.permissions == ["User.Read.All"]


@pytest.mark.parametrize(("access", "target", "fragment"), [
    ({"id": USER_READ_ALL, "type": "Scope"}, "requiredResourceAccess[0].resourceAccess[0].type", "delegated"),
    ({"id": str(uuid.uuid4()), "type": "Role"}, "requiredResourceAccess[0].resourceAccess[0].id",
     "not a Microsoft Graph application permission Passgate grants"),
    ({"id": USER_READ_ALL, "type": "Role", "extra": 1}, "requiredResourceAccess[0].resourceAccess[0].extra",
     "does not exist"),
])
def test_bad_required_resource_access_is_named(admin_api: Any, access: dict[str, Any], target: str,
                                               fragment: str) -> None:
    api = admin_api(DirectoryRole.GLOBAL_ADMINISTRATOR)
    body = {"displayName": "A", "requiredResourceAccess": [{"resourceAppId": GRAPH_RESOURCE_APP_ID,
                                                            "resourceAccess": [access]}]}
    status, _, named, message = problem(api.post("/v1.0/applications", body))
    assert (status, named) == (400, target) and fragment in message


def test_a_public_client_cannot_hold_graph_permissions(admin_api: Any) -> None:
    api = admin_api(DirectoryRole.GLOBAL_ADMINISTRATOR)
    status, _, target, _ = problem(api.post("/v1.0/applications", {
        "displayName": "A", "publicClient": {"redirectUris": ["http://localhost/cb"]},
        "requiredResourceAccess": [_with_permissions(USER_READ_ALL)]}))
    assert (status, target) == (400, "requiredResourceAccess")


# --- secrets --------------------------------------------------------------------------------------------------------

def test_add_password_replaces_the_secret_and_shows_it_once(api: Api) -> None:
    app, old = web_app()
    assert old
    old_key = app.secret_key_id
    response = api.post(f"/v1.0/applications/{app.id}/addPassword",
                        {"passwordCredential": {"displayName": "Password friendly name"}})  # Microsoft's example
    assert response.status_code == 200, response.content
    assert response["Cache-Control"] == "no-store"
    body = response.json()
    assert body["@odata.context"] == f"{ORIGIN}/v1.0/$metadata#microsoft.graph.passwordCredential"
    assert set(body) == {"@odata.context", "customKeyIdentifier", "displayName", "endDateTime", "hint", "keyId",
                         "secretText", "startDateTime"}
    new = body["secretText"]
    assert body["displayName"] == "Password friendly name" and body["hint"] == new[:3] and new != old
    app.refresh_from_db()
    assert str(app.secret_key_id) == body["keyId"] != str(old_key)
    assert authenticates(app, new) and not authenticates(app, old)
    shown = api.get(f"/v1.0/applications/{app.id}").json()["passwordCredentials"]
    assert shown == [{**{k: v for k, v in body.items() if k != "@odata.context"}, "secretText": None}]
    event = AuditEvent.objects.get(activity="app.addPassword")
    assert event.details == {"keyId": body["keyId"], "displayName": "Password friendly name", "hint": new[:3],
                             "replacedKeyId": str(old_key)}
    assert new not in str(event.details) and old not in str(event.details)
    assert api.post(f"/v1.0/applications/{app.id}/addPassword").status_code == 200  # the body is optional
    assert api.post(f"/v1.0/applications/{app.id}/addPassword", "null").status_code == 400  # JSON null: not an object


def test_add_password_refusals(api: Api) -> None:
    app, _ = web_app()
    assert problem(api.post(f"/v1.0/applications/{app.id}/addPassword", {"passwordCredential": {
        "endDateTime": "2030-01-01T00:00:00Z"}}))[:3] == (400, "Request_BadRequest", "passwordCredential.endDateTime")
    assert problem(api.post(f"/v1.0/applications/{app.id}/addPassword", {"secret": "mine"}))[2] == "secret"
    public, _ = app_create(display_name="CLI", permissions=[], actor=ACTOR,
                           oidc=OidcRegistration(redirect_uris=("http://localhost/cb",), public=True))
    status, _, _, message = problem(api.post(f"/v1.0/applications/{public.id}/addPassword"))
    assert status == 400 and "public client" in message
    assert AuditEvent.objects.filter(activity="app.addPassword", result="failure",
                                     reason="public_client_secret").exists()


@pytest.mark.parametrize("caller", ["app", DirectoryRole.APPLICATION_ADMINISTRATOR])
def test_the_secret_of_an_app_holding_graph_permissions_is_the_global_administrators(
        app_api: Any, admin_api: Any, caller: Any) -> None:
    api = app_api("Application.ReadWrite.All") if caller == "app" else admin_api(caller)
    powerful, _ = app_create(display_name="Provisioning", permissions=["User.ReadWrite.All"], actor=ACTOR)
    before = powerful.secret_key_id
    status, code, message = error_of(api.post(f"/v1.0/applications/{powerful.id}/addPassword"))
    assert (status, code) == (403, "Authorization_RequestDenied") and "Global Administrator" in message
    powerful.refresh_from_db()
    assert powerful.secret_key_id == before
    assert AuditEvent.objects.filter(activity="graph.applications.write", reason="permission_grant_denied").exists()
    # removing its secret takes nothing from anyone
    assert api.post(f"/v1.0/applications/{powerful.id}/removePassword",
                    {"keyId": str(before)}).status_code == 204


def test_an_app_may_rotate_its_own_secret_and_a_global_administrator_any(client: Any, admin_api: Any) -> None:
    me, secret = app_create(display_name="Self", permissions=["Application.ReadWrite.All", "User.Read.All"],
                            actor=ACTOR)
    assert secret
    token = token_issue(client_id=str(me.app_id), client_secret=secret, scope=GRAPH_SCOPE).access_token
    response = Api(client, token).post(f"/v1.0/applications/{me.id}/addPassword")
    assert response.status_code == 200
    me.refresh_from_db()
    assert authenticates(me, response.json()["secretText"]) and not authenticates(me, secret)
    ga = admin_api(DirectoryRole.GLOBAL_ADMINISTRATOR)
    assert ga.post(f"/v1.0/applications/{me.id}/addPassword").status_code == 200


def test_remove_password(api: Api) -> None:
    app, secret = web_app()
    assert secret
    assert problem(api.post(f"/v1.0/applications/{app.id}/removePassword", {}))[:3] == (
        400, "Request_BadRequest", "keyId")
    assert problem(api.post(f"/v1.0/applications/{app.id}/removePassword", {"keyId": "nope"}))[:3] == (
        400, "Request_BadRequest", "keyId")
    wrong = api.post(f"/v1.0/applications/{app.id}/removePassword", {"keyId": str(uuid.uuid4())})
    assert error_of(wrong)[:2] == (404, "Request_ResourceNotFound")
    assert authenticates(app, secret)
    response = api.post(f"/v1.0/applications(appId='{app.app_id}')/removePassword", {"keyId": str(app.secret_key_id)})
    assert response.status_code == 204
    app.refresh_from_db()
    assert not app.has_secret and not authenticates(app, secret)
    assert api.get(f"/v1.0/applications/{app.id}").json()["passwordCredentials"] == []
    assert AuditEvent.objects.filter(activity="app.removePassword", result="success").count() == 1


# --- delete ---------------------------------------------------------------------------------------------------------

def test_delete_ends_the_app_and_its_tokens(api: Api, client: Any) -> None:
    victim, secret = app_create(display_name="Old", permissions=["Application.Read.All"], actor=ACTOR)
    assert secret
    token = token_issue(client_id=str(victim.app_id), client_secret=secret, scope=GRAPH_SCOPE).access_token
    assert Api(client, token).get("/v1.0/applications").status_code == 200
    assert api.delete(f"/v1.0/applications/{victim.id}").status_code == 204
    assert error_of(api.get(f"/v1.0/applications/{victim.id}"))[0] == 404
    assert error_of(Api(client, token).get("/v1.0/applications"))[0] == 401
    assert AuditEvent.objects.filter(activity="app.remove", target_id=str(victim.app_id)).exists()


def test_an_app_can_be_told_to_require_pkce(api: Api) -> None:
    app = web_app()[0]
    assert app.require_pkce is False
    assert api.patch(f"/v1.0/applications/{app.id}", {"@passgate.requirePkce": True}).status_code == 204
    app.refresh_from_db()
    assert app.require_pkce is True
    assert api.get(f"/v1.0/applications/{app.id}").json()["@passgate.requirePkce"] is True
    changed = AuditEvent.objects.filter(activity="app.update", result="success").latest("occurred_at")
    assert changed.details["old"]["requirePkce"] is False and changed.details["new"]["requirePkce"] is True
    # other changes keep it
    assert api.patch(f"/v1.0/applications/{app.id}", {"displayName": "Renamed"}).status_code == 204
    app.refresh_from_db()
    assert app.require_pkce is True
