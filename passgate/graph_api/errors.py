"""The one exception handler of the Graph API: every failure, DRF's own included, in Graph's error envelope."""

from __future__ import annotations

import logging
import uuid
from typing import Any

from django.core.exceptions import RequestDataTooBig, SuspiciousOperation, TooManyFieldsSent, TooManyFilesSent
from django.http import HttpRequest
from django.utils import timezone
from rest_framework import exceptions
from rest_framework.response import Response

from passgate.core.errors import PassgateError
from passgate.core.graph import errors as graph_errors
from passgate.core.graph.errors import GraphCode

log = logging.getLogger(__name__)

REQUEST_ID = "_graph_request_id"
CLIENT_REQUEST_ID_HEADER = "HTTP_CLIENT_REQUEST_ID"
BEARER_REALM = 'Bearer realm="passgate"'


def request_ids(request: HttpRequest) -> tuple[str, str]:
    """(request-id, client-request-id) of a request: a fresh id, and the client's own (echoed) or the same id."""
    request_id = getattr(request, REQUEST_ID, None)
    if request_id is None:
        request_id = str(uuid.uuid4())
        setattr(request, REQUEST_ID, request_id)
    client = str(request.META.get(CLIENT_REQUEST_ID_HEADER, ""))[:64].strip()
    return request_id, client or request_id


def add_request_id_headers(request: HttpRequest, response: Any) -> None:
    request_id, client_request_id = request_ids(request)
    response["request-id"] = request_id
    response["client-request-id"] = client_request_id


def error_response(request: HttpRequest, status: int, code: GraphCode | str, message: str, *,
                   headers: dict[str, str] | None = None, target: str = "") -> Response:
    request_id, client_request_id = request_ids(request)
    body = graph_errors.envelope(code, message, date=timezone.now().strftime("%Y-%m-%dT%H:%M:%S"),
                                 request_id=request_id, client_request_id=client_request_id, target=target)
    return Response(body, status=status, headers=headers)


# DRF's own exceptions -> (status, Graph code, message or None to use the exception's detail, headers)
_DRF: list[tuple[type[exceptions.APIException], int, GraphCode, str | None, dict[str, str]]] = [
    (exceptions.NotAuthenticated, 401, GraphCode.INVALID_AUTHENTICATION_TOKEN, "Access token is empty.",
     {"WWW-Authenticate": BEARER_REALM}),
    (exceptions.AuthenticationFailed, 401, GraphCode.INVALID_AUTHENTICATION_TOKEN, None,
     {"WWW-Authenticate": f'{BEARER_REALM}, error="invalid_token"'}),
    (exceptions.NotFound, 404, GraphCode.RESOURCE_NOT_FOUND, None, {}),
    (exceptions.MethodNotAllowed, 405, GraphCode.REQUEST_BAD_REQUEST, graph_errors.METHOD_NOT_ALLOWED, {}),
    (exceptions.ParseError, 400, GraphCode.BAD_REQUEST, graph_errors.UNREADABLE_JSON, {}),
]


def suspicious(exc: SuspiciousOperation) -> tuple[int, str]:
    """What Django refuses as a bad request (before or while reading it), as (status, message) for a program."""
    if isinstance(exc, RequestDataTooBig):
        return 413, "The request body is too large."
    if isinstance(exc, (TooManyFieldsSent, TooManyFilesSent)):
        return 400, "The request has too many parameters."
    return 400, "The request is not valid."


def _classify(exc: Exception) -> tuple[int, GraphCode, str, dict[str, str]]:  # noqa: PLR0911 - one per kind
    if isinstance(exc, SuspiciousOperation):  # too large, too many parameters: Django's own refusals
        status, message = suspicious(exc)
        return status, GraphCode.BAD_REQUEST, message, {}
    if isinstance(exc, PassgateError):
        status, code, message = graph_errors.classify(exc)
        return status, code, message, {}
    if isinstance(exc, exceptions.PermissionDenied):  # a missing permission, or DRF's CSRF check
        detail = str(exc.detail)
        message = detail if detail.startswith("CSRF Failed") else graph_errors.INSUFFICIENT_PRIVILEGES
        return 403, GraphCode.AUTHORIZATION_REQUEST_DENIED, message, {}
    for kind, status, code, fixed, headers in _DRF:
        if isinstance(exc, kind):
            return status, code, fixed or str(exc.detail), dict(headers)
    if isinstance(exc, exceptions.UnsupportedMediaType):
        return 415, GraphCode.BAD_REQUEST, f"{exc.detail} Send the body as application/json.", {}
    if isinstance(exc, exceptions.APIException):
        code = GraphCode.BAD_REQUEST if exc.status_code < 500 else GraphCode.GENERAL_EXCEPTION
        return exc.status_code, code, str(exc.detail), {}
    return 500, GraphCode.GENERAL_EXCEPTION, "An unspecified error has occurred.", {}


def graph_exception_handler(exc: Exception, context: dict[str, Any]) -> Response:
    """DRF ``EXCEPTION_HANDLER``: Graph's ``{"error": {"code", "message", "innerError"}}`` for every failure."""
    request = context["request"]
    status, code, message, headers = _classify(exc)
    if status >= 500:
        log.error("Graph API: unhandled error on %s %s", request.method, request.path, exc_info=exc)
    target = getattr(exc, "target", "")  # e.g. core.policy's PolicyValidationError: the offending JSON path
    return error_response(request._request if hasattr(request, "_request") else request, status, code, message,
                          headers=headers, target=target if isinstance(target, str) else "")
