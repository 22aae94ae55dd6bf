"""JSON, always, on the APIs (``core.api_paths``): whatever answers a request there — a view, Django before any view
(no route, a wrong method, a bad Host header, a body too large, too many parameters), the CSRF check, or the
error handlers — a program gets the API's own JSON error, never an HTML page.

:class:`ApiErrorsMiddleware` rewrites, in place (headers and cookies kept), any error response on an API path that
is not JSON: Graph's error envelope (with ``request-id``) on the Graph API, an RFC 6749 §5.2 error on the OAuth
and OpenID Connect endpoints programs call. A ``Content-Length`` already set for the replaced body is set again
(an HTTP client reads exactly that many bytes). ``bad_request`` answers Django's ``handler400`` on API paths
(``config/errors.py``), so the API answer can say which of Django's refusals it was.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from django.core.exceptions import SuspiciousOperation
from django.http import HttpRequest, HttpResponse, HttpResponseBase, JsonResponse
from django.utils import timezone
from django.views import defaults

from passgate.core.api_paths import ApiKind, api_kind
from passgate.core.graph import errors as graph_errors
from passgate.core.graph.errors import GraphCode
from passgate.graph_api.errors import add_request_id_headers, request_ids, suspicious

_GRAPH: dict[int, tuple[GraphCode, str]] = {
    400: (GraphCode.BAD_REQUEST, "The request is not valid."),
    401: (GraphCode.INVALID_AUTHENTICATION_TOKEN, "Access token is empty."),
    403: (GraphCode.AUTHORIZATION_REQUEST_DENIED, "The request was refused."),
    405: (GraphCode.REQUEST_BAD_REQUEST, graph_errors.METHOD_NOT_ALLOWED),
    413: (GraphCode.BAD_REQUEST, "The request body is too large."),
}
_OAUTH: dict[int, tuple[str, str]] = {
    401: ("invalid_client", "Authentication is required."),
    403: ("access_denied", "The request was refused."),
    404: ("invalid_request", "There is no such endpoint."),
    405: ("invalid_request", "This HTTP method is not allowed here."),
    413: ("invalid_request", "The request body is too large."),
}


def _graph_body(request: HttpRequest, status: int, message: str | None) -> dict[str, object]:
    if status >= 500:
        code, default = GraphCode.GENERAL_EXCEPTION, "An unspecified error has occurred."
    elif status == 404:
        code, default = GraphCode.RESOURCE_NOT_FOUND, graph_errors.not_found_message(request.path[:200])
    else:
        code, default = _GRAPH.get(status, (GraphCode.BAD_REQUEST, "The request is not valid."))
    request_id, client_request_id = request_ids(request)
    return graph_errors.envelope(code, message or default, date=timezone.now().strftime("%Y-%m-%dT%H:%M:%S"),
                                 request_id=request_id, client_request_id=client_request_id)


def _oauth_body(status: int, message: str | None) -> dict[str, object]:
    if status >= 500:
        error, default = "server_error", "The server could not answer the request."
    else:
        error, default = _OAUTH.get(status, ("invalid_request", "The request is not valid."))
    return {"error": error, "error_description": message or default}


def _fill(request: HttpRequest, response: HttpResponse, kind: ApiKind, message: str | None = None) -> None:
    """Make ``response`` the API's JSON error for its status (in place: headers and cookies stay)."""
    status = response.status_code
    body = _graph_body(request, status, message) if kind is ApiKind.GRAPH else _oauth_body(status, message)
    response.content = json.dumps(body).encode()
    if response.has_header("Content-Length"):  # set for the body replaced (CommonMiddleware, inside this one)
        response["Content-Length"] = str(len(response.content))
    response["Content-Type"] = "application/json"
    if kind is ApiKind.GRAPH:
        add_request_id_headers(request, response)
    else:
        response["Cache-Control"] = "no-store"


def _is_json(response: HttpResponseBase) -> bool:
    return str(response.get("Content-Type", "")).split(";")[0].strip().lower() == "application/json"


class ApiErrorsMiddleware:
    """Placed near the top of ``MIDDLEWARE``, so that it sees the responses of everything inside it."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        kind = api_kind(request.path)
        if (kind is not None and response.status_code >= 400 and not _is_json(response)
                and isinstance(response, HttpResponse)):
            _fill(request, response, kind)
        return response


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """Django's ``handler400`` (a SuspiciousOperation: a bad Host header, a body too large, too many fields)."""
    kind = api_kind(request.path)
    if kind is None:
        return defaults.bad_request(request, exception)  # type: ignore[arg-type]
    status, message = suspicious(exception) if isinstance(exception, SuspiciousOperation) else (400, None)
    response = JsonResponse({}, status=status)
    _fill(request, response, kind, message)
    return response
