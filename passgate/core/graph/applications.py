"""Graph's ``application`` resource as Passgate keeps it, and reading a POST or PATCH body into plain values.

An app registration here is Entra's application and service principal in one. The Graph properties Passgate uses:

- ``id`` (object id), ``appId`` (client id), ``displayName``, ``createdDateTime``; ``signInAudience`` is always
  ``AzureADMyOrg`` (single tenant).
- A confidential OpenID Connect client keeps its redirect URIs in ``web.redirectUris``; a public client (PKCE, no
  secret) in ``publicClient.redirectUris``, with ``isFallbackPublicClient: true``. An app has one client type:
  both lists filled is refused. ``spa.redirectUris`` is always [] (Passgate's token endpoint has no CORS);
  ``web.logoutUrl`` (front-channel logout) and ``web.homePageUrl`` are always null.
- ``passwordCredentials``: the app's one secret (``keyId``, ``displayName``, ``hint``, ``startDateTime``;
  ``endDateTime`` null: secrets don't expire; ``secretText`` null except in the answer that made it).
- ``keyCredentials``: always []. Graph's are X.509 certificates; a ``private_key_jwt`` client registers its
  public keys as a JWK set, ``@passgate.jwks``.
- ``requiredResourceAccess``: the Graph application permissions the app holds, as Microsoft Graph's app-role ids
  (``GRAPH_APP_ROLE_IDS``) under resourceAppId ``00000003-0000-0000-c000-000000000000``, type ``Role``. In Entra
  this is a request that takes effect with admin consent; in Passgate what is listed is held.
- OpenID Connect settings Graph has no property for are OData instance annotations (``ANNOTATIONS``), which a plain
  Graph client ignores: ``@passgate.postLogoutRedirectUris`` (RP-initiated logout targets; Entra keeps these as
  redirect URIs too), ``@passgate.tokenEndpointAuthMethod``, ``@passgate.jwks``, ``@passgate.allowedScopes``,
  ``@passgate.idTokenSignedResponseAlg``, ``@passgate.requirePkce`` (a confidential client must use PKCE too;
  without it, PKCE or a nonce: ``core.oidc.pkce_refusal``).

- An API the app exposes: ``identifierUris`` and ``api.oauth2PermissionScopes`` (``core.graph.application_api``);
  clients ask for ``<identifierUri>/<scope value>`` and get an RFC 9068 JWT access token. ``appRoles``
  (``core.graph.app_roles``): their values assigned to a person make the tokens' ``roles`` claim.

Refusals name the property in the error's ``target`` (``web.redirectUris[1]``). Graph properties Passgate does not
keep (``tags``, ``api`` …) are accepted when null or empty and refused otherwise.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Final, Literal

from passgate.core import oidc as rules
from passgate.core.app_api import ApiInputError, PermissionScope
from passgate.core.app_roles import AppRole
from passgate.core.errors import InvalidInput
from passgate.core.graph import jsonschema as js
from passgate.core.graph.app_roles import APP_ROLES_INPUT, APP_ROLES_SCHEMA, read_app_roles
from passgate.core.graph.application_api import (
    API_INPUT,
    API_SCHEMA,
    IDENTIFIER_URIS_INPUT,
    IDENTIFIER_URIS_SCHEMA,
    read_api,
    read_identifier_uris,
)
from passgate.core.graph.applications_empty import empty_prop, empty_schema, empty_value
from passgate.core.graph.authz import Permission
from passgate.core.graph.errors import GraphCode, GraphError
from passgate.core.graph.graph_permissions import GRAPH_APP_ROLE_IDS, PERMISSION_BY_ROLE_ID
from passgate.core.graph.schema import Kind, Prop, Resource, Write

GRAPH_RESOURCE_APP_ID: Final = "00000003-0000-0000-c000-000000000000"
SIGN_IN_AUDIENCE: Final = "AzureADMyOrg"


POST_LOGOUT = "@passgate.postLogoutRedirectUris"
AUTH_METHOD = "@passgate.tokenEndpointAuthMethod"
JWKS = "@passgate.jwks"
SCOPES = "@passgate.allowedScopes"
ID_TOKEN_ALG = "@passgate.idTokenSignedResponseAlg"  # noqa: S105 - an annotation name
REQUIRE_PKCE = "@passgate.requirePkce"
ANNOTATIONS: Final = (POST_LOGOUT, AUTH_METHOD, JWKS, SCOPES, ID_TOKEN_ALG, REQUIRE_PKCE)

# Graph application properties Passgate does not keep: accepted when null or empty, refused otherwise.
UNSUPPORTED: Final = frozenset({
    "addIns", "applicationTemplateId", "authenticationBehaviors", "certification",
    "defaultRedirectUri", "deletedDateTime", "description", "disabledByMicrosoftStatus", "groupMembershipClaims",
    "info", "isDeviceOnlyAuthSupported", "nativeAuthenticationApisEnabled", "notes",
    "oauth2RequirePostResponse", "optionalClaims", "parentalControlSettings", "publisherDomain",
    "requestSignatureVerification", "samlMetadataUrl", "serviceManagementReference",
    "servicePrincipalLockConfiguration", "tags", "tokenEncryptionKeyId", "uniqueName", "verifiedPublisher",
    "createdByAppId", "isDisabled", "managerApplications",
})
EQ = frozenset({"eq"})
CREDENTIAL_SET_BY_PASSGATE: Final = ("endDateTime", "startDateTime", "keyId", "hint", "secretText",
                                     "customKeyIdentifier")

# --- the complex values, as answers carry them and as bodies may send them (the readers below check bodies
# against the input schemas first, so the document and the server agree by construction) --------------------------

_NULL = {"type": "null"}
_URIS = js.array(js.STRING)
_FALSE_OR_NULL = {"enum": [False, None]}
_GRANTS = ("enableAccessTokenIssuance", "enableIdTokenIssuance")
WEB_SCHEMA = js.obj({
    "homePageUrl": _NULL, "logoutUrl": _NULL, "redirectUris": _URIS,
    "implicitGrantSettings": js.obj({name: {"type": "boolean", "const": False} for name in _GRANTS},
                                    required=_GRANTS, title="microsoft.graph.implicitGrantSettings"),
    "redirectUriSettings": js.array(js.ANY, max_items=0)},
    required=("homePageUrl", "logoutUrl", "redirectUris", "implicitGrantSettings", "redirectUriSettings"),
    title="microsoft.graph.webApplication")
WEB_INPUT = js.obj({
    "homePageUrl": _NULL, "logoutUrl": _NULL, "redirectUris": js.nullable(_URIS),
    "redirectUriSettings": js.nullable(js.array(js.ANY, max_items=0)),
    "implicitGrantSettings": js.nullable(js.obj({name: _FALSE_OR_NULL for name in _GRANTS},
                                                title="microsoft.graph.implicitGrantSettings"))},
    title="microsoft.graph.webApplication")
SPA_SCHEMA = js.obj({"redirectUris": js.array(js.STRING, max_items=0)}, required=("redirectUris",),
                    title="microsoft.graph.spaApplication")
SPA_INPUT = js.obj({"redirectUris": js.nullable(js.array(js.STRING, max_items=0))},
                   title="microsoft.graph.spaApplication")
PUBLIC_CLIENT_SCHEMA = js.obj({"redirectUris": _URIS}, required=("redirectUris",),
                              title="microsoft.graph.publicClientApplication")
PUBLIC_CLIENT_INPUT = js.obj({"redirectUris": js.nullable(_URIS)}, title="microsoft.graph.publicClientApplication")
PASSWORD_CREDENTIAL_SCHEMA = js.obj({
    "customKeyIdentifier": _NULL, "displayName": js.nullable(js.STRING),
    "endDateTime": {"type": "null", "description": "Passgate's secrets don't expire."},
    "hint": js.STRING, "keyId": js.guid(),
    "secretText": js.nullable(js.string(description="Only in the answer that made the secret.")),
    "startDateTime": js.DATETIME},
    required=("customKeyIdentifier", "displayName", "endDateTime", "hint", "keyId", "secretText", "startDateTime"),
    title="microsoft.graph.passwordCredential")
# What a client may send of a passwordCredential: its displayName; what Passgate sets only as null.
PASSWORD_CREDENTIAL_INPUT = js.obj({"displayName": js.nullable(js.STRING),
                                    **{name: {"type": "null", "description": "Set by Passgate."}
                                       for name in CREDENTIAL_SET_BY_PASSGATE}},
                                   title="microsoft.graph.passwordCredential")
RESOURCE_ACCESS_SCHEMA = js.obj({
    "resourceAppId": js.string(enum=[GRAPH_RESOURCE_APP_ID]),
    "resourceAccess": js.array(js.obj({"id": js.guid(), "type": js.string(enum=["Role"])}, required=("id", "type"),
                                      title="microsoft.graph.resourceAccess"))},
    required=("resourceAppId", "resourceAccess"), title="microsoft.graph.requiredResourceAccess")
RESOURCE_ACCESS_INPUT = js.obj({
    "resourceAppId": js.STRING,
    "resourceAccess": js.array(js.obj({"id": js.STRING, "type": js.STRING}, title="microsoft.graph.resourceAccess"))},
    title="microsoft.graph.requiredResourceAccess")
# keyCredentials: always [] in answers; a body may send [] (or null), nothing else.
KEY_CREDENTIALS_INPUT = js.nullable(js.array(js.obj({}, title="microsoft.graph.keyCredential"), max_items=0))

APPLICATION = Resource(
    type_name="microsoft.graph.application", entity="Application", entity_set="applications",
    description="An app registration: a Graph API client (application permissions), an OpenID Connect client, or "
                "both. Passgate's OpenID Connect settings that Graph has no property for are instance annotations: "
                + ", ".join(ANNOTATIONS) + ".",
    props=(
        Prop("id", Kind.GUID, "The object id.", filter=EQ),
        Prop("appId", Kind.GUID, "The application (client) id.", filter=EQ),
        Prop("displayName", Kind.STRING, "The app's name.", create=Write.REQUIRED, update=True, max_length=256,
             filter=frozenset({"eq", "startswith"})),
        Prop("createdDateTime", Kind.DATETIME, "When the app was registered (UTC)."),
        Prop("signInAudience", Kind.STRING, "Always AzureADMyOrg: people of this Passgate only.",
             create=Write.OPTIONAL, update=True, allowed=(SIGN_IN_AUDIENCE,)),
        Prop("isFallbackPublicClient", Kind.BOOLEAN, "True for a public client (PKCE, no secret).",
             create=Write.OPTIONAL, update=True, nullable=True),
        Prop("web", Kind.OBJECT, "A confidential client's redirectUris; logoutUrl and homePageUrl are always null, "
             "implicitGrantSettings always false.", create=Write.OPTIONAL, update=True, nullable=True,
             schema=WEB_SCHEMA, input_schema=WEB_INPUT),
        Prop("spa", Kind.OBJECT, "Always {\"redirectUris\": []}: register a single-page app as a public client.",
             create=Write.OPTIONAL, update=True, nullable=True, schema=SPA_SCHEMA, input_schema=SPA_INPUT),
        Prop("publicClient", Kind.OBJECT, "A public client's redirectUris.", create=Write.OPTIONAL, update=True,
             nullable=True, schema=PUBLIC_CLIENT_SCHEMA, input_schema=PUBLIC_CLIENT_INPUT),
        Prop("passwordCredentials", Kind.OBJECT_LIST, "The app's one secret: keyId, displayName, hint, "
             "startDateTime (secretText only in the answer that made it). On create, [{\"displayName\": …}] makes "
             "one; afterwards use addPassword and removePassword.", create=Write.OPTIONAL,
             schema=js.array(PASSWORD_CREDENTIAL_SCHEMA, max_items=1),
             input_schema=js.nullable(js.array(PASSWORD_CREDENTIAL_INPUT, max_items=1))),
        Prop("keyCredentials", Kind.OBJECT_LIST, "Always []: private_key_jwt keys are @passgate.jwks.",
             create=Write.OPTIONAL, update=True, schema=js.array(js.obj({}), max_items=0),
             input_schema=KEY_CREDENTIALS_INPUT),
        Prop("requiredResourceAccess", Kind.OBJECT_LIST, "The Graph application permissions the app holds "
             "(resourceAppId 00000003-0000-0000-c000-000000000000, type Role). Setting them needs a Global "
             "Administrator.", create=Write.OPTIONAL, update=True, schema=js.array(RESOURCE_ACCESS_SCHEMA, max_items=1),
             input_schema=js.nullable(js.array(RESOURCE_ACCESS_INPUT))),
        Prop("identifierUris", Kind.STRING_LIST, "The URIs that name the API the app exposes (api://<appId>, "
             "https://…, urn:…); unique across apps. Clients ask for <identifierUri>/<scope value>.",
             create=Write.OPTIONAL, update=True, schema=IDENTIFIER_URIS_SCHEMA, input_schema=IDENTIFIER_URIS_INPUT),
        Prop("api", Kind.OBJECT, "The API the app exposes: oauth2PermissionScopes (delegated permissions clients "
             "ask for); requestedAccessTokenVersion is always 2.", create=Write.OPTIONAL, update=True,
             nullable=True, schema=API_SCHEMA, input_schema=API_INPUT),
        Prop("appRoles", Kind.OBJECT_LIST, "The app's roles (allowedMemberTypes [\"User\"]), given to users and "
             "groups with appRoleAssignments; tokens for the app carry the assigned values as the roles claim. An "
             "enabled role can't be removed: disable it first.", create=Write.OPTIONAL, update=True,
             schema=APP_ROLES_SCHEMA, input_schema=APP_ROLES_INPUT),
        *[empty_prop(name) for name in sorted(UNSUPPORTED)],
    ),
)


# Passgate's OpenID Connect annotations, as answers carry them and as bodies may send them.
ANNOTATION_SCHEMAS: Mapping[str, Mapping[str, Any]] = MappingProxyType({
    POST_LOGOUT: js.array(js.string(fmt="uri"), description="Where the app may send people after RP-initiated "
                                                            "logout (OpenID Connect)."),
    AUTH_METHOD: js.nullable(js.string(enum=[m.value for m in rules.ClientAuthMethod],
                                       description="How the OpenID Connect client authenticates at the token "
                                                   "endpoint.")),
    JWKS: js.nullable({"type": "object", "description": "The client's public keys (a JWK set), for "
                                                        "private_key_jwt."}),
    SCOPES: js.array(js.string(enum=list(rules.SUPPORTED_SCOPES)),
                     description="The scopes the client may ask for (openid required)."),
    ID_TOKEN_ALG: js.nullable(js.string(enum=list(rules.ID_TOKEN_ALGORITHMS),
                                        description="How its ID tokens are signed.")),
    REQUIRE_PKCE: js.nullable({"type": "boolean", "description": "Whether the client must use PKCE (S256) at "
                               "every authorization request; a public client always does. Without it, a "
                               "confidential client sends PKCE or a nonce (RFC 9700 section 2.1.1)."}),
})
# What the readers take besides the declared properties: null for what is optional, Graph properties Passgate does
# not keep when empty, and OData control information of a GET body sent back (ignored).
_EMPTY = {"anyOf": [{"type": "null"}, {"const": ""}, js.array(js.ANY, max_items=0), js.obj({})],
          "description": "Not kept by Passgate: accepted only when null, empty, or as a GET answers it."}


def application_schema(mode: Literal["read", "create", "update"]) -> js.Schema:
    """The application's JSON Schema for answers (``read``) or bodies; ``read_application`` checks bodies with it."""
    schema = APPLICATION.json_schema(mode)
    if mode == "read":
        schema["properties"].update({name: dict(value) for name, value in ANNOTATION_SCHEMAS.items()})
        return schema
    props = schema["properties"]
    props["signInAudience"] = js.nullable(props["signInAudience"])
    props.update({name: dict(value) for name, value in ANNOTATION_SCHEMAS.items()})
    for name in (POST_LOGOUT, SCOPES):
        props[name] = js.nullable(props[name])
    # any name here: the OpenID Connect rules (the service) refuse the ones they don't know, with their reason code
    for name in (AUTH_METHOD, ID_TOKEN_ALG):
        props[name] = js.nullable(js.string(description=props[name]["description"]))
    props[SCOPES]["items"] = js.STRING
    props.update({name: {"anyOf": [dict(_EMPTY), empty_schema(name)], "description": _EMPTY["description"]}
                  for name in sorted(UNSUPPORTED)})
    schema["patternProperties"] = {r"^@odata\.": js.ANY}
    return schema


_INPUT_SCHEMAS: Final = {mode: application_schema(mode) for mode in ("create", "update")}


def required_resource_access(permissions: Iterable[str]) -> list[dict[str, Any]]:
    """Graph's ``requiredResourceAccess`` for the permissions an app holds ([] for none)."""
    access = [{"id": GRAPH_APP_ROLE_IDS[Permission(name)], "type": "Role"} for name in permissions]
    return [{"resourceAppId": GRAPH_RESOURCE_APP_ID, "resourceAccess": access}] if access else []


class ApplicationPropertyError(GraphError):
    """400 Request_BadRequest about one property; ``target`` is its JSON path (``web.redirectUris[1]``)."""

    def __init__(self, target: str, message: str) -> None:
        super().__init__(400, GraphCode.REQUEST_BAD_REQUEST, message)
        self.target = target


@dataclass(frozen=True)
class ApplicationInput:
    """What a POST or PATCH body says. ``given`` names the fields the body set (a field not given is None)."""

    display_name: str | None = None
    permissions: tuple[str, ...] | None = None
    web_redirect_uris: tuple[str, ...] | None = None
    public_redirect_uris: tuple[str, ...] | None = None
    is_fallback_public_client: bool | None = None
    post_logout_redirect_uris: tuple[str, ...] | None = None
    auth_method: str | None = None
    jwks: object = None
    scopes: tuple[str, ...] | None = None
    id_token_alg: str | None = None
    require_pkce: bool | None = None
    secret_display_name: str | None = None  # create: passwordCredentials [{"displayName": …}] (None: no secret)
    identifier_uris: tuple[str, ...] | None = None
    api_scopes: tuple[PermissionScope, ...] | None = None
    app_roles: tuple[AppRole, ...] | None = None
    given: frozenset[str] = field(default_factory=frozenset)

    def gives(self, *names: str) -> bool:
        return any(name in self.given for name in names)


OIDC_FIELDS: Final = ("web_redirect_uris", "public_redirect_uris", "is_fallback_public_client",
                      "post_logout_redirect_uris", "auth_method", "jwks", "scopes", "id_token_alg", "require_pkce")


# --- reading values -------------------------------------------------------------------------------------------

def _bad(target: str, message: str) -> ApplicationPropertyError:
    return ApplicationPropertyError(target, message)


def _object(value: object, target: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _bad(target, f"'{target}' must be a JSON object.")
    return value


def _strings(value: object, target: str) -> list[str]:
    if not isinstance(value, list):
        raise _bad(target, f"'{target}' must be an array of strings.")
    for index, item in enumerate(value):
        if not isinstance(item, str):
            raise _bad(f"{target}[{index}]", f"'{target}[{index}]' must be a string.")
    return list(value)


def _uris(value: object, target: str, what: str) -> tuple[str, ...]:
    """Redirect URIs checked one by one with the OpenID Connect rules, so the error names the one at fault."""
    values = [] if value is None else _strings(value, target)
    for index, uri in enumerate(values):
        try:
            rules.validate_redirect_uri(uri, what=what)
        except InvalidInput as exc:
            raise _bad(f"{target}[{index}]", exc.message) from None
    try:
        return tuple(rules.validate_redirect_uris(values, what=what))
    except InvalidInput as exc:
        raise _bad(target, exc.message) from None


def _only_null(obj: Mapping[str, Any], name: str, target: str, why: str) -> None:
    if obj.get(name) is not None:
        raise _bad(f"{target}.{name}", f"'{target}.{name}' must be null: {why}")


def _unknown(target: str, name: str, known: tuple[str, ...]) -> ApplicationPropertyError:
    return _bad(f"{target}.{name}", f"Property '{name}' of '{target}' does not exist or is not supported by Passgate; "
                f"it takes {', '.join(known)}.")


def _web(value: object) -> tuple[str, ...]:
    obj = _object(value, "web")
    known = ("redirectUris", "logoutUrl", "homePageUrl", "implicitGrantSettings", "redirectUriSettings")
    for name in obj:
        if name not in known:
            raise _unknown("web", name, known)
    if obj.get("redirectUriSettings") not in (None, []):
        raise _bad("web.redirectUriSettings", "'web.redirectUriSettings' must be empty: Passgate keeps redirect "
                   "URIs in web.redirectUris only.")
    _only_null(obj, "logoutUrl", "web", "Passgate has no front-channel logout. Where apps may send people after "
               f"signing out are {POST_LOGOUT}.")
    _only_null(obj, "homePageUrl", "web", "Passgate does not keep a home page for apps.")
    grants = obj.get("implicitGrantSettings")
    if grants is not None:
        grants = _object(grants, "web.implicitGrantSettings")
        for name, flag in grants.items():
            target = f"web.implicitGrantSettings.{name}"
            if name not in ("enableAccessTokenIssuance", "enableIdTokenIssuance"):
                raise _unknown("web.implicitGrantSettings", name,
                               ("enableAccessTokenIssuance", "enableIdTokenIssuance"))
            if flag not in (None, False):
                raise _bad(target, f"'{target}' must be false: Passgate has no implicit flow (tokens in the front "
                           "channel); apps use the authorization code flow with PKCE.")
    return _uris(obj.get("redirectUris"), "web.redirectUris", "Redirect URI")


def _spa(value: object) -> dict[str, Any]:
    obj = _object(value, "spa")
    for name in obj:
        if name != "redirectUris":
            raise _unknown("spa", name, ("redirectUris",))
    if _strings(obj.get("redirectUris") or [], "spa.redirectUris"):
        raise _bad("spa.redirectUris", "Passgate has no single-page-app platform (its token endpoint sends no CORS "
                   "headers): register the app as a public client with publicClient.redirectUris.")
    return {}


def _public_client(value: object) -> tuple[str, ...]:
    obj = _object(value, "publicClient")
    for name in obj:
        if name != "redirectUris":
            raise _unknown("publicClient", name, ("redirectUris",))
    return _uris(obj.get("redirectUris"), "publicClient.redirectUris", "Redirect URI")


def _permissions(value: object) -> tuple[str, ...]:
    target = "requiredResourceAccess"
    if not isinstance(value, list):
        raise _bad(target, f"'{target}' must be an array of requiredResourceAccess objects.")
    chosen: list[str] = []
    for i, item in enumerate(value):
        entry = _object(item, f"{target}[{i}]")
        for name in entry:
            if name not in ("resourceAppId", "resourceAccess"):
                raise _unknown(f"{target}[{i}]", name, ("resourceAppId", "resourceAccess"))
        if str(entry.get("resourceAppId", "")).lower() != GRAPH_RESOURCE_APP_ID:
            raise _bad(f"{target}[{i}].resourceAppId", "Passgate serves Microsoft Graph only: resourceAppId must be "
                       f"{GRAPH_RESOURCE_APP_ID}.")
        accesses = entry.get("resourceAccess", [])
        if not isinstance(accesses, list):
            raise _bad(f"{target}[{i}].resourceAccess", "'resourceAccess' must be an array of {id, type} objects.")
        for j, access_item in enumerate(accesses):
            here = f"{target}[{i}].resourceAccess[{j}]"
            access = _object(access_item, here)
            for name in access:
                if name not in ("id", "type"):
                    raise _unknown(here, name, ("id", "type"))
            if access.get("type") != "Role":
                raise _bad(f"{here}.type", "Passgate grants application permissions only (type 'Role'); delegated "
                           "permissions ('Scope') are not supported: apps call Graph with their own token.")
            role_id = str(access.get("id", "")).lower()
            permission = PERMISSION_BY_ROLE_ID.get(role_id)
            if permission is None:
                raise _bad(f"{here}.id", f"'{access.get('id')}' is not a Microsoft Graph application permission "
                           "Passgate grants. It grants: " + ", ".join(
                               f"{p.value} ({r})" for p, r in GRAPH_APP_ROLE_IDS.items()) + ".")
            if permission not in chosen:
                chosen.append(permission)
    return tuple(chosen)


def _secret_name(value: object) -> str:
    target = "passwordCredentials"
    if not isinstance(value, list):
        raise _bad(target, f"'{target}' must be an array.")
    if len(value) > 1:
        raise _bad(target, "Passgate keeps one secret per app: send at most one passwordCredential.")
    return _credential_name(value[0], f"{target}[0]") if value else ""


def _credential_name(value: object, target: str) -> str:
    """A passwordCredential a client may send: its displayName, and nothing Passgate sets itself."""
    credential = _object(value, target)
    for name, item in credential.items():
        if name == "displayName":
            if item is not None and not isinstance(item, str):
                raise _bad(f"{target}.displayName", "'displayName' must be a string.")
        elif name in CREDENTIAL_SET_BY_PASSGATE:
            if item is not None:
                raise _bad(f"{target}.{name}", f"'{name}' is set by Passgate (secrets don't expire, and the secret "
                           "is generated): send only displayName.")
        else:
            raise _unknown(target, name, ("displayName",))
    return str(credential.get("displayName") or "")


def _empty(value: object) -> bool:
    return value is None or value in ([], {}, "")


ADD_PASSWORD_SCHEMA: Final = js.obj({"passwordCredential": js.nullable(PASSWORD_CREDENTIAL_INPUT)},
                                    title="addPassword")


def read_password_credential(body: object) -> str:
    """addPassword's body, ``{"passwordCredential": {"displayName": …}}`` (optional: no body at all arrives as
    ``{}``): the secret's description. A JSON ``null`` is not an object and is refused."""
    if body == {}:
        return ""
    obj = _object(body, "body")
    found = js.violation(ADD_PASSWORD_SCHEMA, obj)
    if found is not None:
        raise _bad(*found)
    for name in obj:
        if name != "passwordCredential":
            raise _bad(name, f"Property '{name}' does not exist for addPassword; send passwordCredential.")
    credential = obj.get("passwordCredential")
    if credential is None:
        return ""
    return _credential_name(credential, "passwordCredential").strip()


def read_key_id(body: object) -> str:
    """removePassword's body, ``{"keyId": "…"}``."""
    obj = _object(body, "body")
    for name in obj:
        if name != "keyId":
            raise _bad(name, f"Property '{name}' does not exist for removePassword; send keyId.")
    key_id = obj.get("keyId")
    if not isinstance(key_id, str) or not key_id:
        raise _bad("keyId", "keyId is required: the keyId of the passwordCredential to remove.")
    return key_id


def _display_name(value: object, create: bool) -> dict[str, Any]:
    if not isinstance(value, str):
        raise _bad("displayName", "'displayName' must be a string.")
    return {"display_name": value}


def _audience(value: object, create: bool) -> dict[str, Any]:
    if value is not None and value != SIGN_IN_AUDIENCE:
        raise _bad("signInAudience", f"Passgate apps are for this directory only: signInAudience must be "
                   f"{SIGN_IN_AUDIENCE}.")
    return {}


def _fallback(value: object, create: bool) -> dict[str, Any]:
    if value is not None and not isinstance(value, bool):
        raise _bad("isFallbackPublicClient", "'isFallbackPublicClient' must be true, false or null.")
    return {"is_fallback_public_client": value}


def _password_credentials(value: object, create: bool) -> dict[str, Any]:
    if not create:
        raise _bad("passwordCredentials", "passwordCredentials can't be changed with PATCH: use POST "
                   "/applications/{id}/addPassword and /removePassword.")
    return {} if value is None or value == [] else {"secret_display_name": _secret_name(value)}


def _key_credentials(value: object, create: bool) -> dict[str, Any]:
    if not _empty(value):
        raise _bad("keyCredentials", "Passgate does not take certificates: a private_key_jwt client registers its "
                   f"public keys as a JWK set in {JWKS}.")
    return {}


def _optional_string(name: str, field_name: str, expected: str) -> Callable[[object, bool], dict[str, Any]]:
    def read(value: object, create: bool) -> dict[str, Any]:
        if value is not None and not isinstance(value, str):
            raise _bad(name, f"'{name}' must be a string: {expected}.")
        return {field_name: value}

    return read


def _optional_boolean(name: str, field_name: str) -> Callable[[object, bool], dict[str, Any]]:
    def read(value: object, create: bool) -> dict[str, Any]:
        if value is not None and not isinstance(value, bool):
            raise _bad(name, f"'{name}' must be true or false.")
        return {field_name: value}

    return read


_READ_ONLY: Final = ("id", "appId", "createdDateTime")
_READERS: Mapping[str, Callable[[object, bool], dict[str, Any]]] = MappingProxyType({
    "displayName": _display_name,
    "signInAudience": _audience,
    "isFallbackPublicClient": _fallback,
    "web": lambda value, create: {"web_redirect_uris": () if value is None else _web(value)},
    "spa": lambda value, create: _spa(value) if value is not None else {},
    "publicClient": lambda value, create: {"public_redirect_uris": () if value is None else _public_client(value)},
    "passwordCredentials": _password_credentials,
    "keyCredentials": _key_credentials,
    "requiredResourceAccess": lambda value, create: {"permissions": () if value is None else _permissions(value)},
    "identifierUris": lambda value, create: {"identifier_uris": read_identifier_uris(value)},
    "api": lambda value, create: {} if (scopes := read_api(value)) is None else {"api_scopes": scopes},
    "appRoles": lambda value, create: {"app_roles": read_app_roles(value)},
    POST_LOGOUT: lambda value, create: {
        "post_logout_redirect_uris": _uris(value, POST_LOGOUT, "Post-logout redirect URI")},
    AUTH_METHOD: _optional_string(AUTH_METHOD, "auth_method",
                                  "client_secret_basic, client_secret_post, private_key_jwt or none"),
    JWKS: lambda value, create: {"jwks": value},
    SCOPES: lambda value, create: {"scopes": None if value is None else tuple(_strings(value, SCOPES))},
    ID_TOKEN_ALG: _optional_string(ID_TOKEN_ALG, "id_token_alg", "ES256 or RS256"),
    REQUIRE_PKCE: _optional_boolean(REQUIRE_PKCE, "require_pkce"),
})


def _other(name: str, value: object) -> None:
    """A name without a reader: OData control information, a Graph property Passgate does not keep (when empty),
    or a refusal that says why."""
    if name == "@odata.type":
        if value not in (APPLICATION.odata_type, APPLICATION.type_name):
            raise _bad(name, f"Invalid '@odata.type' value {value!r}: this request takes "
                       f"'{APPLICATION.odata_type}'.")
    elif name.startswith("@odata."):
        return  # @odata.context, @odata.id … of a document read back: ignored
    elif name in _READ_ONLY:
        raise _bad(name, f"Property '{name}' is read-only and cannot be set.")
    elif name in UNSUPPORTED:
        if not _empty(value) and value != empty_value(name):  # null, empty, or as a GET answers it
            raise _bad(name, f"Property '{name}' is not supported by Passgate (send null or leave it out).")
    elif name.startswith("@passgate."):
        raise _bad(name, f"Unknown annotation '{name}'; Passgate's are {', '.join(ANNOTATIONS)}.")
    else:
        hint = next((p.name for p in APPLICATION.props if p.name.lower() == name.lower()), None)
        raise _bad(name, f"Property '{name}' does not exist as a declared property or extension property."
                   + (f" Did you mean '{hint}'?" if hint else ""))


def read_application(body: object, *, create: bool) -> ApplicationInput:
    """A POST (``create``) or PATCH body, checked; raises ``ApplicationPropertyError`` naming the first problem.

    Each property's reader says what is wrong in its own words; then the whole body must fit the schema that
    ``/openapi.json`` publishes for it (``application_schema``), so nothing the document forbids is taken."""
    if not isinstance(body, dict):
        raise GraphError.malformed("The request body must be a JSON object.")
    values: dict[str, Any] = {}
    for name, value in body.items():
        reader = _READERS.get(name)
        if reader is not None:
            try:
                values.update(reader(value, create))
            except ApiInputError as exc:
                raise _bad(exc.target, exc.message) from None
        else:
            _other(name, value)
    found = js.violation(_INPUT_SCHEMAS["create" if create else "update"], body)
    if found is not None:
        raise _bad(*found)
    if create and "display_name" not in values:
        raise _bad("displayName", "Property 'displayName' is required when creating an application.")
    return ApplicationInput(**values, given=frozenset(values))
