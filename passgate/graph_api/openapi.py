"""``GET /openapi.json``: an OpenAPI 3.1 document generated from the endpoint registry and resource schemas."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from typing import Any

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_GET

from passgate.core.graph import authz
from passgate.core.graph.errors import GraphCode
from passgate.core.graph.schema import PATCH_MIN_PROPERTIES
from passgate.graph_api.registry import ENDPOINTS, MAX_BODY_BYTES, SCHEMAS, Endpoint, kwarg_name

_QUERY_PARAMETERS: dict[str, dict[str, Any]] = {
    "$select": {"description": "Comma-separated properties to return.", "schema": {"type": "string"}},
    "$filter": {"description": "eq and startswith() conditions joined with and (in and ne where the endpoint's "
                              "documentation says), e.g. startswith(displayName,'A') and accountEnabled eq true.",
                "schema": {"type": "string"}},
    "$top": {"description": "Page size, 1-999 (default 100).",
             "schema": {"type": "integer", "minimum": 1, "maximum": 999}},
    "$skiptoken": {"description": "Continues a listing: use @odata.nextLink unchanged.", "schema": {"type": "string"}},
    "$orderby": {"description": "One property, then asc or desc, e.g. displayName desc.",
                 "schema": {"type": "string"}},
    "$count": {"description": "true: add @odata.count, the number of matches (on users only with the "
                             "ConsistencyLevel: eventual header, as in Graph).", "schema": {"type": "boolean"}},
    "$search": {"description": 'Quoted "property:text" clauses joined with AND (word prefixes); needs the '
                              "ConsistencyLevel: eventual header.", "schema": {"type": "string"}},
    "$skip": {"description": "Rows to leave out before the page.",
              "schema": {"type": "integer", "minimum": 0, "maximum": 100000}},
    "$expand": {"description": "principal: each role assignment with the user who holds the role.",
                "schema": {"type": "string", "enum": ["principal"]}},
}
_STATUS_TEXT = {200: "OK", 201: "Created", 204: "No Content"}
# Graph's error envelope, exactly as passgate.core.graph.errors.envelope writes it.
_ODATA_ERROR: dict[str, Any] = {
    "type": "object", "required": ["error"], "additionalProperties": False, "properties": {"error": {
        "type": "object", "required": ["code", "message", "innerError"], "additionalProperties": False,
        "properties": {
            "code": {"type": "string", "enum": [c.value for c in GraphCode]},
            "message": {"type": "string"},
            "target": {"type": "string", "minLength": 1, "description": "The offending property's JSON path."},
            "innerError": {"type": "object", "required": ["date", "request-id", "client-request-id"],
                           "additionalProperties": False, "properties": {
                               "date": {"type": "string", "pattern": r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$",
                                        "description": "UTC, without a zone suffix (as Graph writes it)"},
                               "request-id": {"type": "string", "format": "uuid"},
                               "client-request-id": {"type": "string", "maxLength": 64}}}}}}}


def _version() -> str:
    try:
        return version("passgate")
    except PackageNotFoundError:
        return "0"


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _error(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": _ref("ODataError")}}}


def _request_body(found: Endpoint) -> dict[str, Any]:
    schema: dict[str, Any] = _ref(str(found.request))
    if found.method == "PATCH":  # the registry refuses a PATCH that names no property (schema.require_properties)
        schema = {"allOf": [schema], "minProperties": PATCH_MIN_PROPERTIES}
    return {"required": found.body_required, "content": {"application/json": {"schema": schema}}}


def _operation(found: Endpoint) -> dict[str, Any]:
    op: dict[str, Any] = {"operationId": found.operation_id, "summary": found.summary, "tags": [found.tag]}
    if found.description:
        op["description"] = found.description
    parameters: list[dict[str, Any]] = [
        {"name": p, "in": "path", "required": True, "schema": found.params.get(p, {"type": "string"}),
         "x-passgate-argument": kwarg_name(p)} for p in found.path_params]
    parameters += [{"$ref": f"#/components/parameters/{q.lstrip('$')}"} for q in found.query]
    if parameters:
        op["parameters"] = parameters
    if found.request:
        op["requestBody"] = _request_body(found)
    responses: dict[str, Any] = {}
    for status, schema in found.responses.items():
        entry: dict[str, Any] = {"description": _STATUS_TEXT.get(status, str(status))}
        if schema:
            entry["content"] = {"application/json": {"schema": _ref(schema)}}
        responses[str(status)] = entry
    # 400: whatever the caller sends can be wrong (a body, a query, an id), and /me needs a signed-in person.
    if found.request or found.query or found.path_params or found.operation is None:
        responses["400"] = _error("Request_BadRequest, BadRequest or Request_UnsupportedQuery, naming the problem")
    responses["401"] = _error("InvalidAuthenticationToken: no token, or one that fails validation")
    if found.operation is not None or found.method != "GET":
        responses["403"] = _error("Authorization_RequestDenied: the permission or role is missing, or (/me) no "
                                  "recent sign-in")
    if found.path_params:
        responses["404"] = _error("Request_ResourceNotFound")
        # An empty id makes another endpoint's path (…/deviceConfigurations//assign is …/deviceConfigurations/assign,
        # the profile "assign"), which may not take this method.
        responses["405"] = _error("Request_BadRequest: an empty id makes the path another endpoint's, which does "
                                  "not take this method")
    if found.request:
        responses["413"] = _error(f"BadRequest: the body is longer than {MAX_BODY_BYTES} bytes")
        responses["415"] = _error("BadRequest: the body is not application/json")
    op["responses"] = responses
    if found.operation is not None:
        rule = authz.OPERATIONS[found.operation]
        op["security"] = [{"oauth2": [p.value]} for p in sorted(rule.permissions)] + [{"session": []}]
        op["x-passgate-operation"] = found.operation
        op["x-passgate-roles"] = sorted(authz.ROLE_NAMES[r] for r in rule.roles)
    elif found.any_caller:  # /organization: any app token (no permission needed) or session
        op["security"] = [{"oauth2": []}, {"session": []}]
    else:  # /me: the signed-in person themself, with their browser session (Graph's delegated flow)
        op["security"] = [{"session": []}]
    return op


def _token_endpoint() -> dict[str, Any]:
    form = {"type": "object", "required": ["grant_type", "scope"], "properties": {
        "grant_type": {"type": "string", "const": "client_credentials"},
        "scope": {"type": "string", "examples": ["https://graph.microsoft.com/.default"]},
        "client_id": {"type": "string", "format": "uuid"},
        "client_secret": {"type": "string"},
    }}
    oauth_error = {"type": "object", "required": ["error"], "properties": {
        "error": {"type": "string", "enum": ["invalid_request", "invalid_client", "unsupported_grant_type",
                                             "invalid_scope"]},
        "error_description": {"type": "string"}}}
    token = {"type": "object", "required": ["access_token", "token_type", "expires_in"], "properties": {
        "token_type": {"type": "string", "const": "Bearer"}, "expires_in": {"type": "integer"},
        "ext_expires_in": {"type": "integer"}, "access_token": {"type": "string"}}}
    return {"post": {
        "operationId": "oauth2.token", "tags": ["oauth2"], "summary": "Client credentials token (RFC 6749 §4.4)",
        "description": "Client authentication by client_secret_basic (Authorization: Basic) or client_secret_post. "
                       "Also served at /{tenant}/oauth2/v2.0/token.",
        "servers": [{"url": settings.PASSGATE.origin}],
        "security": [{}],
        "requestBody": {"required": True, "content": {"application/x-www-form-urlencoded": {"schema": form}}},
        "responses": {
            "200": {"description": "OK", "content": {"application/json": {"schema": token}}},
            "400": {"description": "invalid_request, unsupported_grant_type, invalid_scope",
                    "content": {"application/json": {"schema": oauth_error}}},
            "401": {"description": "invalid_client", "content": {"application/json": {"schema": oauth_error}}},
        },
    }}


def build_document() -> dict[str, Any]:
    import passgate.graph_api.views  # noqa: F401, PLC0415 - every endpoint registered (they import the registry)

    origin = settings.PASSGATE.origin
    paths: dict[str, dict[str, Any]] = {}
    for found in ENDPOINTS:
        paths.setdefault(found.path, {})[found.method.lower()] = _operation(found)
    paths["/oauth2/v2.0/token"] = _token_endpoint()
    schemas: dict[str, Any] = {"ODataError": _ODATA_ERROR}
    schemas.update(SCHEMAS)
    return {
        "openapi": "3.1.0",
        "info": {"title": "Passgate Graph-compatible API", "version": _version(),
                 "description": "The Microsoft Graph v1.0 subset Passgate serves (same paths and JSON). "
                                "Calls need an access token (client credentials) or, for signed-in "
                                "administrators, the browser session with an X-CSRFToken header on writes."},
        "servers": [{"url": f"{origin}/v1.0"}, {"url": f"{origin}/beta"}],
        "paths": paths,
        "components": {
            "schemas": schemas,
            "parameters": {name.lstrip("$"): {"name": name, "in": "query", "required": False, **spec}
                           for name, spec in _QUERY_PARAMETERS.items()},
            "securitySchemes": {
                "oauth2": {"type": "oauth2", "flows": {"clientCredentials": {
                    "tokenUrl": f"{origin}/oauth2/v2.0/token",
                    "scopes": {p.value: f"Application permission {p.value}" for p in authz.Permission}}}},
                "session": {"type": "apiKey", "in": "cookie", "name": settings.SESSION_COOKIE_NAME,
                            "description": "A signed-in administrator's session; writes also need X-CSRFToken."},
            },
        },
    }


@require_GET
def openapi_json(request: HttpRequest) -> JsonResponse:
    return JsonResponse(build_document(), json_dumps_params={"indent": 1})
