"""The API an application exposes, as Graph's application carries it: ``identifierUris`` and ``api``
(``oauth2PermissionScopes``, ``requestedAccessTokenVersion``). The rules are ``core.app_api``'s; this module reads
bodies into its values and writes them back, naming the property at fault.

``api.requestedAccessTokenVersion`` is always 2 (Passgate's access tokens for an API are RFC 9068 JWTs);
``acceptMappedClaims``, ``knownClientApplications`` and ``preAuthorizedApplications`` are always null or empty
(Passgate has no consent screen to pre-authorize anything away).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Final

from passgate.core import app_api
from passgate.core.app_api import ApiInputError, PermissionScope
from passgate.core.graph import jsonschema as js

_NULLABLE_STRING = js.nullable(js.STRING)
PERMISSION_SCOPE_SCHEMA: Final = js.obj({
    "adminConsentDescription": js.STRING, "adminConsentDisplayName": js.STRING, "id": js.guid(),
    "isEnabled": js.BOOLEAN, "origin": js.string(enum=["Application"]),
    "type": js.string(enum=list(app_api.SCOPE_TYPES)), "userConsentDescription": _NULLABLE_STRING,
    "userConsentDisplayName": _NULLABLE_STRING, "value": js.STRING},
    required=(*app_api.SCOPE_FIELDS, "origin"), title="microsoft.graph.permissionScope")
PERMISSION_SCOPE_INPUT: Final = js.obj({
    "adminConsentDescription": _NULLABLE_STRING, "adminConsentDisplayName": _NULLABLE_STRING, "id": js.STRING,
    "isEnabled": js.nullable(js.BOOLEAN), "origin": _NULLABLE_STRING, "type": _NULLABLE_STRING,
    "userConsentDescription": _NULLABLE_STRING, "userConsentDisplayName": _NULLABLE_STRING, "value": js.STRING},
    title="microsoft.graph.permissionScope")
_EMPTY_LIST = js.array(js.ANY, max_items=0)
API_SCHEMA: Final = js.obj({
    "acceptMappedClaims": {"type": "null"}, "knownClientApplications": _EMPTY_LIST,
    "oauth2PermissionScopes": js.array(PERMISSION_SCOPE_SCHEMA), "preAuthorizedApplications": _EMPTY_LIST,
    "requestedAccessTokenVersion": {"type": "integer", "const": app_api.REQUESTED_ACCESS_TOKEN_VERSION}},
    required=("acceptMappedClaims", "knownClientApplications", "oauth2PermissionScopes", "preAuthorizedApplications",
              "requestedAccessTokenVersion"), title="microsoft.graph.apiApplication")
API_INPUT: Final = js.obj({
    "acceptMappedClaims": {"enum": [None, False]}, "knownClientApplications": js.nullable(_EMPTY_LIST),
    "oauth2PermissionScopes": js.nullable(js.array(PERMISSION_SCOPE_INPUT)),
    "preAuthorizedApplications": js.nullable(_EMPTY_LIST),
    "requestedAccessTokenVersion": {"enum": [None, app_api.REQUESTED_ACCESS_TOKEN_VERSION]}},
    title="microsoft.graph.apiApplication")
IDENTIFIER_URIS_SCHEMA: Final = js.array(js.STRING)
IDENTIFIER_URIS_INPUT: Final = js.nullable(js.array(js.STRING))
_API_MEMBERS: Final = ("acceptMappedClaims", "knownClientApplications", "oauth2PermissionScopes",
                       "preAuthorizedApplications", "requestedAccessTokenVersion")


def api_json(scopes: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """Graph's apiApplication for the stored permission scopes."""
    return {"acceptMappedClaims": None, "knownClientApplications": [],
            "oauth2PermissionScopes": [dict(scope) for scope in scopes], "preAuthorizedApplications": [],
            "requestedAccessTokenVersion": app_api.REQUESTED_ACCESS_TOKEN_VERSION}


def read_identifier_uris(value: object) -> tuple[str, ...]:
    """``identifierUris`` of a body (null: none)."""
    if value is None:
        return ()
    if not isinstance(value, list):
        raise ApiInputError("identifierUris", "'identifierUris' must be an array of URIs.",
                            code="invalid_identifier_uri")
    return app_api.validate_identifier_uris(value)


def read_api(value: object) -> tuple[PermissionScope, ...] | None:
    """``api`` of a body: its permission scopes (None when it leaves them out: unchanged; null or [] for none)."""
    if value is None:
        return ()
    if not isinstance(value, dict):
        raise ApiInputError("api", "'api' must be a JSON object (apiApplication).", code="invalid_api")
    for name, item in value.items():
        if name not in _API_MEMBERS:
            raise ApiInputError(f"api.{name}", f"Property '{name}' of 'api' does not exist or is not supported by "
                                f"Passgate; it takes {', '.join(_API_MEMBERS)}.", code="invalid_api")
        if name in ("knownClientApplications", "preAuthorizedApplications") and item not in (None, []):
            raise ApiInputError(f"api.{name}", f"'api.{name}' must be empty: Passgate has no consent screen, so "
                                "there is nothing to pre-authorize.", code="invalid_api")
    if value.get("acceptMappedClaims") not in (None, False):
        raise ApiInputError("api.acceptMappedClaims", "'api.acceptMappedClaims' must be null or false: Passgate "
                            "has no claims mapping.", code="invalid_api")
    if value.get("requestedAccessTokenVersion") not in (None, app_api.REQUESTED_ACCESS_TOKEN_VERSION):
        raise ApiInputError("api.requestedAccessTokenVersion", "'api.requestedAccessTokenVersion' must be 2 (or "
                            "null): Passgate issues one kind of access token for APIs.", code="invalid_api")
    if "oauth2PermissionScopes" not in value:
        return None
    scopes = value["oauth2PermissionScopes"]
    target = "api.oauth2PermissionScopes"
    if scopes is None:
        return ()
    if not isinstance(scopes, list):
        raise ApiInputError(target, f"'{target}' must be an array of permissionScope objects.",
                            code="invalid_permission_scope")
    read = [app_api.read_permission_scope(item, f"{target}[{i}]") for i, item in enumerate(scopes)]
    return app_api.validate_permission_scopes(read, target=target)
