"""RFC 9068 JWT access tokens for an API an app exposes (identifierUris, api.oauth2PermissionScopes), over HTTP:
issued at the token endpoint (code and refresh), checked by a resource server with the JWKS alone or by
introspection, refused at UserInfo, revocable; every refusal with its reason code."""

from __future__ import annotations

import uuid
from dataclasses import replace
from typing import Any

import jwt as pyjwt
import pytest
from django.test import Client

from passgate.apps.app_roles import app_role_assign
from passgate.apps.exposed_api import ApiExposure, exposure_of
from passgate.apps.models import AppRegistration, OidcToken
from passgate.apps.services import app_create, app_update
from passgate.audit.services import Actor
from passgate.core.app_api import PermissionScope
from passgate.core.app_roles import AppRole
from passgate.directory.services import group_add_member, group_create
from tests.oidc.conftest import ISSUER, RelyingParty, audit, b64url_json, query_of, verify_id_token
from tests.oidc.test_revocation_introspection import introspect, revoke

ACTOR = Actor.system("test")


def scope(value: str, *, enabled: bool = True, kind: str = "User") -> PermissionScope:
    return PermissionScope(id=str(uuid.uuid4()), value=value, admin_consent_display_name=f"Use {value}",
                           admin_consent_description=f"Lets the app use {value}.", is_enabled=enabled, type=kind)


def make_api(name: str, *scopes: PermissionScope) -> tuple[AppRegistration, str, str]:
    """An app exposing an API named api://<appId>: (the app, its identifier URI, its secret)."""
    app, secret = app_create(display_name=name, permissions=(), actor=ACTOR)
    assert secret is not None
    uri = f"api://{app.app_id}"
    app = app_update(app=app, actor=ACTOR, api=ApiExposure(identifier_uris=(uri,), scopes=scopes))
    return app, uri, secret


def disable(api: AppRegistration, value: str) -> None:
    """The API's administrator disables one of its scopes (Graph: PATCH isEnabled false)."""
    current = exposure_of(AppRegistration.objects.get(pk=api.pk))
    app_update(app=api, actor=ACTOR, api=replace(current, scopes=tuple(
        replace(s, is_enabled=False) if s.value == value else s for s in current.scopes)))


def as_rp(app: AppRegistration, secret: str) -> RelyingParty:
    """An API app calling introspection with its own credentials (a resource server)."""
    return RelyingParty(app=app, secret=secret, browser=Client())


@pytest.fixture
def files_api(db: Any) -> tuple[AppRegistration, str, str]:
    return make_api("Files API", scope("Files.Read"), scope("Files.Write", kind="Admin"),
                    scope("Files.Purge", enabled=False))


def jwks_verify(token: str, audience: str) -> dict[str, Any]:
    """What a resource server does with the published keys only (PyJWT, not Passgate's code)."""
    published = Client().get("/oidc/jwks").json()
    header = pyjwt.get_unverified_header(token)
    key = pyjwt.PyJWK(next(k for k in published["keys"] if k["kid"] == header["kid"]))
    return dict(pyjwt.decode(token, key, algorithms=["RS256"], audience=audience, issuer=ISSUER,
                             options={"require": ["exp", "iat", "nbf", "jti", "sub", "client_id"]}))


def test_a_token_for_an_api_is_an_rfc_9068_jwt(rp: RelyingParty, files_api: Any, person: Any) -> None:
    api, uri, _ = files_api
    tokens = rp.tokens(scope=f"openid profile {uri}/Files.Read {uri}/Files.Write")
    access = tokens["access_token"]
    header = b64url_json(access, 0)
    assert header["typ"] == "at+jwt" and header["alg"] == "RS256" and header["kid"]
    claims = jwks_verify(access, uri)
    id_token = b64url_json(tokens["id_token"], 1)
    user, _ = person
    assert claims["sub"] == id_token["sub"] == str(user.pk) and claims["iss"] == ISSUER
    assert claims["aud"] == uri and claims["client_id"] == rp.client_id
    assert claims["scp"] == "Files.Read Files.Write" and claims["exp"] - claims["iat"] == 3600
    assert claims["nbf"] == claims["iat"] and len(claims["jti"]) >= 16
    assert claims["sid"] == id_token["sid"] and claims["auth_time"] == id_token["auth_time"]
    assert claims["amr"] == id_token["amr"]
    assert set(tokens["scope"].split()) == {"openid", "profile", f"{uri}/Files.Read", f"{uri}/Files.Write"}
    row = OidcToken.objects.get(kind="access")
    assert row.resource_id == api.pk and row.audience == uri and row.api_scope == "Files.Read Files.Write"
    assert audit("oidc.token", result="success")[-1].details["audience"] == uri


def test_aud_is_the_identifier_uri_as_the_api_registered_it(rp: RelyingParty, files_api: Any) -> None:
    _, uri, _ = files_api
    access = rp.tokens(scope=f"openid {uri.upper()}/Files.Read")["access_token"]
    assert jwks_verify(access, uri)["aud"] == uri


def test_without_an_api_scope_the_access_token_stays_opaque(rp: RelyingParty, files_api: Any) -> None:
    tokens = rp.tokens(scope="openid profile")
    assert tokens["access_token"].startswith("pgat_")
    assert rp.userinfo(tokens["access_token"]).status_code == 200


def test_userinfo_refuses_a_token_for_an_api(rp: RelyingParty, files_api: Any) -> None:
    _, uri, _ = files_api
    access = rp.tokens(scope=f"openid profile {uri}/Files.Read")["access_token"]
    response = rp.userinfo(access)
    assert response.status_code == 401 and 'error="invalid_token"' in response["WWW-Authenticate"]
    assert audit("oidc.userinfo", reason="token_audience")


def test_introspection_by_the_client_and_by_the_api_itself(rp: RelyingParty, files_api: Any) -> None:
    api, uri, api_secret = files_api
    access = rp.tokens(scope=f"openid {uri}/Files.Read")["access_token"]
    for caller in (rp, as_rp(api, api_secret)):
        body = introspect(caller, access).json()
        assert body["active"] is True and body["aud"] == uri and body["scope"] == "Files.Read", body
        assert body["client_id"] == rp.client_id and body["iss"] == ISSUER


def test_a_token_for_api_a_is_refused_as_one_for_api_b(rp: RelyingParty, files_api: Any) -> None:
    _, uri, _ = files_api
    other, other_uri, other_secret = make_api("Mail API", scope("Mail.Read"))
    access = rp.tokens(scope=f"openid {uri}/Files.Read")["access_token"]
    assert introspect(as_rp(other, other_secret), access).json() == {"active": False}
    assert audit("oidc.introspect", reason="token_other_audience")
    with pytest.raises(pyjwt.InvalidAudienceError):
        jwks_verify(access, other_uri)


def test_a_revoked_token_is_inactive_to_the_api(rp: RelyingParty, files_api: Any) -> None:
    api, uri, api_secret = files_api
    access = rp.tokens(scope=f"openid {uri}/Files.Read")["access_token"]
    assert revoke(rp, access).status_code == 200
    assert introspect(as_rp(api, api_secret), access).json() == {"active": False}
    assert introspect(rp, access).json() == {"active": False}
    assert audit("oidc.revoke", result="success")[-1].details["tokenType"] == "access_token"
    # the API may not revoke what it did not get from the client's grant
    assert revoke(as_rp(api, api_secret), rp.tokens(scope=f"openid {uri}/Files.Read")["access_token"]).json()[
        "error"] == "unauthorized_client"


@pytest.mark.parametrize(("requested", "reason"), [
    ("{uri}/Files.Delete", "api_scope_unknown"),
    ("{uri}/Files.Purge", "api_scope_disabled"),
    ("{uri}/Files.Read api://{other}/Mail.Read", "api_scopes_several_resources"),
    ("api://nobody.contoso.test/Files.Read", "api_resource_unknown"),
    ("{uri}/", "api_scope_unknown"),
])
def test_authorization_requests_for_what_no_api_offers_are_refused(rp: RelyingParty, files_api: Any,
                                                                   requested: str, reason: str) -> None:
    _, uri, _ = files_api
    other, _, _ = make_api("Mail API", scope("Mail.Read"))
    response = rp.authorize(scope="openid " + requested.format(uri=uri, other=other.app_id))
    assert response.status_code == 302
    answer = query_of(response["Location"])
    assert answer["error"] == "invalid_scope" and answer["state"] == rp.state and "code" not in answer
    assert audit("oidc.authorize", reason=reason)


def test_refresh_gives_a_new_jwt_and_checks_the_api_again(make_rp: Any, browser: Client, files_api: Any) -> None:
    api, uri, _ = files_api
    rp = make_rp(browser, scopes=("openid", "offline_access"))
    tokens = rp.tokens(scope=f"openid offline_access {uri}/Files.Read")
    refreshed = rp.token(grant_type="refresh_token", refresh_token=tokens["refresh_token"])
    assert refreshed.status_code == 200, refreshed.content
    again = refreshed.json()
    claims = jwks_verify(again["access_token"], uri)
    assert claims["scp"] == "Files.Read" and claims["jti"] != jwks_verify(tokens["access_token"], uri)["jti"]
    # the API disables the scope: the next refresh is refused, and the refresh token is not used up by it
    disable(api, "Files.Read")
    refused = rp.token(grant_type="refresh_token", refresh_token=again["refresh_token"])
    assert refused.status_code == 400 and refused.json()["error"] == "invalid_scope", refused.content
    assert audit("oidc.token", reason="api_scope_disabled")
    assert introspect(rp, again["refresh_token"]).json()["active"] is True


def test_a_scope_disabled_between_authorization_and_token_is_refused(rp: RelyingParty, files_api: Any) -> None:
    api, uri, _ = files_api
    code = rp.code(scope=f"openid {uri}/Files.Read")
    disable(api, "Files.Read")
    response = rp.redeem(code)
    assert response.status_code == 400 and response.json()["error"] == "invalid_scope"
    assert audit("oidc.token", reason="api_scope_disabled")


def test_a_removed_api_ends_its_tokens(rp: RelyingParty, files_api: Any) -> None:
    api, uri, _ = files_api
    access = rp.tokens(scope=f"openid {uri}/Files.Read")["access_token"]
    api.delete()
    assert introspect(rp, access).json() == {"active": False}


# --- the roles claim (app roles: Graph's appRoles, given with appRoleAssignments) --------------------------------

def give_roles(app: AppRegistration, *roles: AppRole) -> AppRegistration:
    return app_update(app=app, actor=ACTOR, api=replace(exposure_of(app), roles=roles))


def role(value: str, *, enabled: bool = True) -> AppRole:
    return AppRole(id=str(uuid.uuid4()), value=value, display_name=value, is_enabled=enabled)


def test_roles_are_the_apis_enabled_roles_given_to_the_person_or_their_groups(
        rp: RelyingParty, files_api: Any, person: Any) -> None:
    api, uri, _ = files_api
    user, _ = person
    direct, through_group, off, unassigned = (role("Files.Admin"), role("Files.Auditor"),
                                              role("Files.Old", enabled=False), role("Files.Owner"))
    api = give_roles(api, direct, through_group, off, unassigned)
    team = group_create(display_name="Auditors", actor=ACTOR)
    group_add_member(group=team, user=user, actor=ACTOR)
    app_role_assign(app=api, app_role_id=direct.id, principal=user, actor=ACTOR)
    app_role_assign(app=api, app_role_id=through_group.id, principal=team, actor=ACTOR)
    # a role given while enabled, then disabled, is left out
    api = give_roles(api, direct, through_group, replace(off, is_enabled=True), unassigned)
    app_role_assign(app=api, app_role_id=off.id, principal=user, actor=ACTOR)
    api = give_roles(api, direct, through_group, off, unassigned)
    # another API's role, given to the same person, is not this API's
    mail, mail_uri, _ = make_api("Mail API", scope("Mail.Read"))
    mail_role = role("Mail.Admin")
    mail = give_roles(mail, mail_role)
    app_role_assign(app=mail, app_role_id=mail_role.id, principal=user, actor=ACTOR)
    tokens = rp.tokens(scope=f"openid {uri}/Files.Read")
    assert jwks_verify(tokens["access_token"], uri)["roles"] == ["Files.Admin", "Files.Auditor"]
    assert "roles" not in b64url_json(tokens["id_token"], 1)  # the client app has no roles of its own
    mail_claims = jwks_verify(rp.tokens(scope=f"openid {mail_uri}/Mail.Read")["access_token"], mail_uri)
    assert mail_claims["roles"] == ["Mail.Admin"]


def test_no_roles_claim_without_a_role(rp: RelyingParty, files_api: Any, make_user: Any) -> None:
    api, uri, _ = files_api
    admin = role("Files.Admin")
    api = give_roles(api, admin)
    app_role_assign(app=api, app_role_id=admin.id, principal=make_user(), actor=ACTOR)  # someone else
    assert "roles" not in jwks_verify(rp.tokens(scope=f"openid {uri}/Files.Read")["access_token"], uri)


def test_the_id_token_carries_the_client_apps_own_roles(rp: RelyingParty, person: Any) -> None:
    user, _ = person
    reader, writer = role("Wiki.Read"), role("Wiki.Write")
    app = give_roles(rp.app, reader, writer)
    app_role_assign(app=app, app_role_id=writer.id, principal=user, actor=ACTOR)
    tokens = rp.tokens(scope="openid profile")
    assert verify_id_token(tokens["id_token"], audience=rp.client_id)["roles"] == ["Wiki.Write"]
