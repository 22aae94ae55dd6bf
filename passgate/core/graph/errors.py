"""Graph's error envelope and the one mapping from Passgate errors to Graph status codes and error codes.

Graph answers every failure with ``{"error": {"code", "message", "innerError": {"date", "request-id",
"client-request-id"}}}`` (https://learn.microsoft.com/graph/errors). The codes below are the ones Microsoft Graph
uses for directory objects (users, groups), seen in its documentation and its answers:

- 400 ``Request_BadRequest``: a body property is unknown, read-only, of the wrong type or value; a duplicate.
- 400 ``BadRequest``: the request itself cannot be read (malformed JSON, ``$filter`` syntax, unknown segment).
- 400 ``Request_UnsupportedQuery``: a well-formed query Graph/Passgate does not support for that property.
- 401 ``InvalidAuthenticationToken``: no token, or one that fails validation.
- 403 ``Authorization_RequestDenied``: "Insufficient privileges to complete the operation."
- 404 ``Request_ResourceNotFound``: "Resource '…' does not exist or one of its queried reference-property objects
  are not present."
"""

from __future__ import annotations

from enum import StrEnum, unique
from typing import Any

from passgate.core.errors import (
    AccessDenied,
    CeremonyRejected,
    Conflict,
    InvalidInput,
    NotFound,
    NotSignedIn,
    PassgateError,
    PolicyDenied,
    TemporaryAccessPassRejected,
)


@unique
class GraphCode(StrEnum):
    REQUEST_BAD_REQUEST = "Request_BadRequest"
    BAD_REQUEST = "BadRequest"
    UNSUPPORTED_QUERY = "Request_UnsupportedQuery"
    INVALID_AUTHENTICATION_TOKEN = "InvalidAuthenticationToken"  # noqa: S105 - an error code, not a secret
    AUTHORIZATION_REQUEST_DENIED = "Authorization_RequestDenied"
    RESOURCE_NOT_FOUND = "Request_ResourceNotFound"
    GENERAL_EXCEPTION = "generalException"


INSUFFICIENT_PRIVILEGES = "Insufficient privileges to complete the operation."
METHOD_NOT_ALLOWED = "Specified HTTP method is not allowed for the request target."
# Graph's answer to /me with an app-only token: 400 "BadRequest" (as Graph answers it, e.g. msgraph-sdk-php #1163)
ME_NEEDS_DELEGATION = "/me request is only valid with delegated authentication flow."
UNREADABLE_JSON = ("Unable to read JSON request payload. Please ensure Content-Type header is set and payload is "
                   "of valid JSON format.")


def not_found_message(key: str) -> str:
    return f"Resource '{key}' does not exist or one of its queried reference-property objects are not present."


class GraphError(PassgateError):
    """A refusal with its Graph status and error code (raised by the OData parser, schemas and the adapter)."""

    code = "graph_error"

    def __init__(self, status: int, graph_code: GraphCode, message: str) -> None:
        super().__init__(message, code=f"graph_{graph_code.value}")
        self.status = status
        self.graph_code = graph_code

    @classmethod
    def bad_request(cls, message: str) -> GraphError:
        """A body property or value is wrong: 400 Request_BadRequest."""
        return cls(400, GraphCode.REQUEST_BAD_REQUEST, message)

    @classmethod
    def malformed(cls, message: str) -> GraphError:
        """The request cannot be read (syntax): 400 BadRequest."""
        return cls(400, GraphCode.BAD_REQUEST, message)

    @classmethod
    def unsupported_query(cls, message: str) -> GraphError:
        return cls(400, GraphCode.UNSUPPORTED_QUERY, message)

    @classmethod
    def not_found(cls, key: str) -> GraphError:
        return cls(404, GraphCode.RESOURCE_NOT_FOUND, not_found_message(key))


# Passgate's own refusals (services, core) → Graph. Messages Graph words differently are replaced by its words.
_STATUS: list[tuple[type[PassgateError], int, GraphCode]] = [
    (NotSignedIn, 401, GraphCode.INVALID_AUTHENTICATION_TOKEN),
    (PolicyDenied, 400, GraphCode.REQUEST_BAD_REQUEST),  # the methods policy refuses this passkey or pass
    (AccessDenied, 403, GraphCode.AUTHORIZATION_REQUEST_DENIED),
    (NotFound, 404, GraphCode.RESOURCE_NOT_FOUND),
    (Conflict, 400, GraphCode.REQUEST_BAD_REQUEST),  # Graph reports duplicates as 400 Request_BadRequest
    (InvalidInput, 400, GraphCode.REQUEST_BAD_REQUEST),
    (CeremonyRejected, 400, GraphCode.REQUEST_BAD_REQUEST),
    (TemporaryAccessPassRejected, 400, GraphCode.REQUEST_BAD_REQUEST),
]

GRAPH_MESSAGES: dict[str, str] = {
    "upn_in_use": "Another object with the same value for property userPrincipalName already exists.",
    "already_member": ("One or more added object references already exist for the following modified "
                       "properties: 'members'."),
    "authorization_denied": INSUFFICIENT_PRIVILEGES,
    "app_role_already_assigned": "Permission being assigned already exists on the object.",
    "role_already_assigned": ("A conflicting object with one or more of the specified property values is present in "
                              "the directory."),
}


def classify(exc: PassgateError) -> tuple[int, GraphCode, str]:
    """(HTTP status, Graph error code, message) for any Passgate error."""
    if isinstance(exc, GraphError):
        return exc.status, exc.graph_code, exc.message
    for kind, status, code in _STATUS:
        if isinstance(exc, kind):
            return status, code, GRAPH_MESSAGES.get(exc.code, exc.message)
    return 400, GraphCode.REQUEST_BAD_REQUEST, exc.message


def envelope(code: GraphCode | str, message: str, *, date: str, request_id: str, client_request_id: str,
             target: str = "") -> dict[str, Any]:
    """Graph's error body. ``date`` is UTC ``YYYY-MM-DDTHH:MM:SS`` (Graph writes it without a zone suffix).
    ``target`` (OData's optional error target) names the offending property path when an error carries one."""
    error: dict[str, Any] = {"code": str(code), "message": message}
    if target:
        error["target"] = target
    error["innerError"] = {"date": date, "request-id": request_id, "client-request-id": client_request_id}
    return {"error": error}
