"""/applications: app registrations (Graph's ``application`` resource, the properties Passgate uses; see
``passgate.core.graph.applications``), by object id or by Graph's alternate key ``(appId='…')``.

Two rules beyond Graph's permission check (``core.graph.authz``): only a Global Administrator may give an app Graph
permissions (``requiredResourceAccess``: in Passgate listing is granting, there is no separate admin consent), and
only a Global Administrator, or an app that already holds all of them, may add a secret to an app holding Graph
permissions. Both refusals are 403 ``Authorization_RequestDenied``, audited.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar

from rest_framework.response import Response

from passgate.apps.exposed_api import ApiExposure, exposure_of
from passgate.apps.models import AppRegistration
from passgate.apps.selectors import app_by_app_id, app_by_object_id, app_page, app_page_key
from passgate.apps.services import (
    OidcRegistration,
    app_create,
    app_remove,
    app_secret_add,
    app_secret_remove,
    app_update,
    registration_of,
)
from passgate.audit.models import Category
from passgate.audit.services import audit_failure
from passgate.core import oidc as rules
from passgate.core.errors import InvalidInput
from passgate.core.graph import authz
from passgate.core.graph.application_api import api_json
from passgate.core.graph.applications import (
    ADD_PASSWORD_SCHEMA,
    APPLICATION,
    AUTH_METHOD,
    ID_TOKEN_ALG,
    JWKS,
    PASSWORD_CREDENTIAL_SCHEMA,
    POST_LOGOUT,
    REQUIRE_PKCE,
    SCOPES,
    SIGN_IN_AUDIENCE,
    UNSUPPORTED,
    ApplicationInput,
    ApplicationPropertyError,
    application_schema,
    read_application,
    read_key_id,
    read_password_credential,
    required_resource_access,
)
from passgate.core.graph.applications_empty import empty_value
from passgate.core.graph.errors import GraphError
from passgate.core.graph.schema import format_datetime
from passgate.graph_api.registry import Call, endpoint, register_resource, register_schema
from passgate.graph_api.representations import entity_context

T = TypeVar("T")
BY_ID = "/applications/{application-id}"
BY_APP_ID = "/applications(appId='{appId}')"
WRITE = "applications.write"
NO_STORE = {"Cache-Control": "no-store"}

register_resource(APPLICATION, "application")
for _mode in ("read", "create", "update"):
    register_schema("application" if _mode == "read" else f"application.{_mode}", application_schema(_mode))
register_schema("passwordCredential", {**PASSWORD_CREDENTIAL_SCHEMA, "properties": {
    "@odata.context": {"type": "string"}, **PASSWORD_CREDENTIAL_SCHEMA["properties"]}})  # addPassword's answer
register_schema("addPassword", ADD_PASSWORD_SCHEMA)
register_schema("removePassword", {
    "type": "object", "title": "removePassword", "additionalProperties": False, "required": ["keyId"],
    "properties": {"keyId": {"type": "string", "format": "uuid"}}})


# --- JSON ---------------------------------------------------------------------------------------------------------

def credential_json(app: AppRegistration, secret: str | None = None) -> dict[str, Any]:
    """The app's secret as Graph's passwordCredential; ``secretText`` only when just made."""
    started = app.secret_created_at or app.created_at
    return {"customKeyIdentifier": None, "displayName": app.secret_display_name or None, "endDateTime": None,
            "hint": app.secret_hint, "keyId": str(app.secret_key_id) if app.secret_key_id else None,
            "secretText": secret, "startDateTime": format_datetime(started)}


def application_json(app: AppRegistration, select: tuple[str, ...] = (), *,
                     secret: str | None = None) -> dict[str, Any]:
    """Graph's application; Passgate's OpenID Connect annotations too unless ``$select`` names what to send."""
    public = app.is_oidc_client and app.client_type == rules.ClientType.PUBLIC.value
    confidential_oidc = app.is_oidc_client and not public
    values: dict[str, Any] = {
        "id": str(app.id), "appId": str(app.app_id), "displayName": app.display_name,
        "createdDateTime": format_datetime(app.created_at), "signInAudience": SIGN_IN_AUDIENCE,
        "isFallbackPublicClient": public,
        "web": {"homePageUrl": None, "logoutUrl": None,
                "redirectUris": list(app.redirect_uris) if confidential_oidc else [],
                "implicitGrantSettings": {"enableAccessTokenIssuance": False, "enableIdTokenIssuance": False},
                "redirectUriSettings": []},
        "spa": {"redirectUris": []},
        "publicClient": {"redirectUris": list(app.redirect_uris) if public else []},
        "passwordCredentials": [credential_json(app, secret)] if app.has_secret else [],
        "keyCredentials": [],
        "requiredResourceAccess": required_resource_access(app.permissions),
        "identifierUris": list(app.identifier_uris),
        "api": api_json(app.api_scopes),
        "appRoles": list(app.app_roles),
        **{name: empty_value(name) for name in sorted(UNSUPPORTED)},  # Graph's empty values
    }
    out = {name: values[name] for name in (select or APPLICATION.default_select)}
    if not select:
        oidc = app.is_oidc_client
        out.update({
            POST_LOGOUT: list(app.post_logout_redirect_uris),
            AUTH_METHOD: app.token_endpoint_auth_method if oidc else None,
            JWKS: app.jwks if oidc else None,
            SCOPES: list(app.allowed_scopes) if oidc else [],
            ID_TOKEN_ALG: app.id_token_signed_response_alg if oidc else None,
            REQUIRE_PKCE: app.require_pkce if oidc else None,
        })
    return out


# --- from a body to the services ------------------------------------------------------------------------------------

# Where a service's refusal points in the body (its reason code -> the property's JSON path).
_TARGETS: Mapping[str, str] = {
    "invalid_display_name": "displayName", "unknown_permission": "requiredResourceAccess",
    "public_client_permissions": "requiredResourceAccess", "public_client_secret": "isFallbackPublicClient",
    "redirect_uri_required": "web.redirectUris", "invalid_redirect_uri": POST_LOGOUT,
    "too_many_redirect_uris": POST_LOGOUT, "invalid_jwks": JWKS, "invalid_auth_method": AUTH_METHOD,
    "unknown_scope": SCOPES, "unknown_algorithm": ID_TOKEN_ALG,
}


def _targeted(work: Callable[[], T], overrides: Mapping[str, str] | None = None) -> T:
    """Run a service; a refused value becomes a 400 naming the property it came from (``overrides``: reason code
    -> property, where this request differs from ``_TARGETS``)."""
    try:
        return work()
    except InvalidInput as exc:
        target = getattr(exc, "target", "") or (overrides or {}).get(exc.code, _TARGETS.get(exc.code, ""))
        raise ApplicationPropertyError(target, exc.message) from None


def _registration(current: OidcRegistration, data: ApplicationInput) -> OidcRegistration | None:
    """The OpenID Connect registration after this body (None: the body changes none of it).

    The redirect URIs say the client type: ``web`` a confidential client, ``publicClient`` a public one. What the
    body leaves out is kept, except what a change of client type makes meaningless (the authentication method and
    the JWKS); an app left without redirect URIs is a Graph API client only.
    """
    if not data.gives("web_redirect_uris", "public_redirect_uris", "is_fallback_public_client",
                      "post_logout_redirect_uris", "auth_method", "jwks", "scopes", "id_token_alg", "require_pkce"):
        return None
    was_public = current.public and bool(current.redirect_uris)
    web = data.web_redirect_uris if data.gives("web_redirect_uris") else (() if was_public else current.redirect_uris)
    pub = data.public_redirect_uris if data.gives("public_redirect_uris") else (
        current.redirect_uris if was_public else ())
    web, pub = web or (), pub or ()
    if web and pub:
        raise ApplicationPropertyError("publicClient.redirectUris", "An app is a web app (web.redirectUris, "
                                       "confidential) or a public client (publicClient.redirectUris), not both: "
                                       "Passgate keeps one client type per app.")
    fallback = data.is_fallback_public_client if data.gives("is_fallback_public_client") else None
    public = fallback if fallback is not None else (bool(pub) if web or pub else was_public)
    if public and web:
        raise ApplicationPropertyError("isFallbackPublicClient", "A public client's redirect URIs go in "
                                       "publicClient.redirectUris, not web.redirectUris.")
    if not public and pub:
        raise ApplicationPropertyError("isFallbackPublicClient", "publicClient.redirectUris make the app a public "
                                       "client: isFallbackPublicClient can't be false with them.")
    uris = pub if public else web
    keep = bool(uris) and bool(current.redirect_uris)  # still an OpenID Connect client: keep what isn't given
    same_type = keep and public == was_public

    def pick(name: str, current_value: Any, carried: bool) -> Any:
        return getattr(data, name) if data.gives(name) else (current_value if carried else None)

    method = pick("auth_method", current.auth_method, same_type)
    registration = OidcRegistration(
        redirect_uris=uris, post_logout_redirect_uris=pick("post_logout_redirect_uris",
                                                           current.post_logout_redirect_uris, keep) or (),
        public=(public and bool(uris)) or bool(fallback), auth_method=method,
        jwks=pick("jwks", current.jwks, same_type and method == rules.ClientAuthMethod.PRIVATE_KEY_JWT.value),
        scopes=pick("scopes", current.scopes, keep), id_token_alg=pick("id_token_alg", current.id_token_alg, keep),
        require_pkce=bool(pick("require_pkce", current.require_pkce, same_type)),
        # not in Graph's application resource: kept while the app stays an OpenID Connect client
        backchannel_logout_uri=current.backchannel_logout_uri if keep else None,
        allow_device_code=current.allow_device_code and keep)
    if not uris and not registration.given():
        return OidcRegistration()
    return registration


def _exposure(current: ApiExposure, data: ApplicationInput) -> ApiExposure | None:
    """The exposed API after this body (None: the body changes none of it); what it leaves out is kept."""
    if not data.gives("identifier_uris", "api_scopes", "app_roles"):
        return None
    return ApiExposure(
        identifier_uris=data.identifier_uris if data.identifier_uris is not None else current.identifier_uris,
        scopes=data.api_scopes if data.api_scopes is not None else current.scopes, roles=data.app_roles)


def _uris_of(oidc: OidcRegistration | None) -> str:
    return "publicClient.redirectUris" if oidc is not None and oidc.public else "web.redirectUris"


def _refuse(call: Call, message: str, details: dict[str, Any]) -> authz.PermissionGrantDenied:
    audit_failure(category=Category.DIRECTORY, activity=f"graph.{WRITE}", reason=authz.PermissionGrantDenied.code,
                  actor=call.actor, context=call.context,
                  details={"method": call.request.method, "path": call.request.path[:200], **details})
    return authz.PermissionGrantDenied(WRITE, message)


def _check_grant(call: Call, wanted: Iterable[str], current: Iterable[str]) -> None:
    added = sorted(set(wanted) - set(current))
    if added and not authz.can_grant_permissions(call.caller):
        raise _refuse(call, "Only a Global Administrator can give an app Graph permissions (requiredResourceAccess): "
                      "in Passgate, listing a permission grants it. Adding: " + ", ".join(added) + ".",
                      {"permissions": added})


# --- endpoints ------------------------------------------------------------------------------------------------------

@endpoint("GET", "/applications", operation="applications.read", tag="applications", summary="List applications",
          responses={200: "application.collection"}, query=("$select", "$filter", "$top", "$skiptoken"))
def applications_list(call: Call) -> Response:
    """Oldest first; ``$filter`` takes ``eq`` on id, appId and displayName and ``startswith()`` on displayName."""
    query = call.query(APPLICATION, collection=True)
    rows, next_link = call.page(query, app_page, app_page_key)
    body: dict[str, Any] = {"@odata.context": call.metadata(entity_context("applications", query.select,
                                                                           single=False))}
    if next_link:
        body["@odata.nextLink"] = next_link
    body["value"] = [application_json(a, query.select) for a in rows]
    return Response(body)


@endpoint("POST", "/applications", operation=WRITE, tag="applications", summary="Create an application",
          request="application.create", responses={201: "application"})
def applications_create(call: Call) -> Response:
    """``displayName`` is required. ``web.redirectUris`` makes an OpenID Connect web app (confidential),
    ``publicClient.redirectUris`` a public client (PKCE, no secret); neither, a Graph API client. Like Graph, the
    app has no secret unless the body has ``passwordCredentials: [{"displayName": …}]``: then this answer (only)
    carries its ``secretText``. ``requiredResourceAccess`` needs a Global Administrator."""
    data = read_application(call.body, create=True)
    _check_grant(call, data.permissions or (), ())
    oidc = _registration(OidcRegistration(), data) or OidcRegistration()
    app, secret = _targeted(lambda: app_create(
        display_name=data.display_name or "", permissions=data.permissions or (), actor=call.actor, oidc=oidc,
        with_secret=data.secret_display_name is not None, secret_display_name=data.secret_display_name or "",
        api=_exposure(ApiExposure(), data), context=call.context),
        {"public_client_secret": "passwordCredentials", "redirect_uri_required": _uris_of(oidc)})
    return Response({"@odata.context": call.metadata("applications/$entity"), **application_json(app, secret=secret)},
                    status=201, headers=NO_STORE if secret else None)


def _get(call: Call, app: AppRegistration) -> Response:
    query = call.query(APPLICATION, collection=False)
    return Response({"@odata.context": call.metadata(entity_context("applications", query.select, single=True)),
                     **application_json(app, query.select)})


def _patch(call: Call, app: AppRegistration) -> Response:
    data = read_application(call.body, create=False)
    if data.gives("permissions"):
        _check_grant(call, data.permissions or (), app.permissions)
    current = registration_of(app)
    oidc = _registration(current, data)
    _targeted(lambda: app_update(
        app=app, actor=call.actor, display_name=data.display_name if data.gives("display_name") else None,
        permissions=data.permissions if data.gives("permissions") else None, oidc=oidc,
        api=_exposure(exposure_of(app), data), context=call.context),
        {"redirect_uri_required": _uris_of(oidc)})
    return Response(status=204)


def _delete(call: Call, app: AppRegistration) -> Response:
    app_remove(app=app, actor=call.actor, context=call.context)
    return Response(status=204)


def _add_password(call: Call, app: AppRegistration) -> Response:
    name = read_password_credential(call.body)
    if not authz.can_add_credential(call.caller, app.permissions):
        raise _refuse(call, f"“{app.display_name}” holds Graph permissions ({', '.join(app.permissions)}); its secret "
                      "carries them, so only a Global Administrator (or an app holding all of them) can give it a "
                      "new one.", {"appId": str(app.app_id)})
    row, secret = _targeted(lambda: app_secret_add(app=app, actor=call.actor, display_name=name,
                                                   context=call.context),
                            {"invalid_display_name": "passwordCredential.displayName"})
    return Response({"@odata.context": call.metadata("microsoft.graph.passwordCredential"),
                     **credential_json(row, secret)}, headers=NO_STORE)


def _remove_password(call: Call, app: AppRegistration) -> Response:
    key_id = read_key_id(call.body)
    _targeted(lambda: app_secret_remove(app=app, key_id=key_id, actor=call.actor, context=call.context),
              {"invalid_key_id": "keyId"})
    return Response(status=204)


def _loaded(load: Callable[[str], AppRegistration | None], work: Callable[[Call, AppRegistration], Response],
            param: str) -> Callable[..., Response]:
    def handler(call: Call, **kwargs: str) -> Response:
        key = kwargs[param]
        app = load(key)
        if app is None:
            raise GraphError.not_found(key)
        return work(call, app)

    handler.__doc__ = work.__doc__
    return handler


_ACTIONS: list[tuple[str, str, str, str, str | None, dict[int, str | None], Callable[[Call, AppRegistration],
                                                                                       Response]]] = [
    # method, path suffix, operation, summary, request schema, responses, work
    ("GET", "", "applications.read", "Get an application", None, {200: "application"}, _get),
    ("PATCH", "", WRITE, "Update an application", "application.update", {204: None}, _patch),
    ("DELETE", "", WRITE, "Delete an application", None, {204: None}, _delete),
    ("POST", "/addPassword", WRITE, "Give an application a new secret (replacing its secret)", "addPassword",
     {200: "passwordCredential"}, _add_password),
    ("POST", "/removePassword", WRITE, "Remove an application's secret", "removePassword", {204: None},
     _remove_password),
]
_DESCRIPTIONS = {
    "PATCH": "Names only what changes. Moving the redirect URIs between web and publicClient changes the client "
             "type (a public client must have no secret first). Adding requiredResourceAccess permissions needs a "
             "Global Administrator; passwordCredentials change only through addPassword and removePassword.",
    "/addPassword": "Body ``{\"passwordCredential\": {\"displayName\": …}}`` (optional). Passgate keeps one secret "
                    "per app: the new one replaces the old, which stops working at once. The answer is the only "
                    "time ``secretText`` is shown. An app holding Graph permissions needs a Global Administrator.",
    "/removePassword": "Body ``{\"keyId\": …}``: the keyId of the app's secret (404 if it has no such secret).",
}

for _prefix, _param, _load, _tag in ((BY_ID, "application_id", app_by_object_id, "by id"),
                                     (BY_APP_ID, "app_id", app_by_app_id, "by appId")):
    for _method, _suffix, _operation, _summary, _request, _responses, _work in _ACTIONS:
        endpoint(_method, _prefix + _suffix, operation=_operation, tag="applications", summary=f"{_summary} ({_tag})",
                 request=_request, responses=_responses, query=("$select",) if _method == "GET" else (),
                 description=_DESCRIPTIONS.get(_suffix or _method, ""), body_required=_suffix != "/addPassword",
                 operation_id=f"applications.{_tag.replace(' ', '.')}.{_method.lower()}{_suffix.replace('/', '.')}",
                 )(_loaded(_load, _work, _param))
