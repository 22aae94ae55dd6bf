"""The one mapping from core errors to HTTP for the web adapter."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from django.http import HttpRequest, JsonResponse

from passgate.audit import context as audit_context
from passgate.audit.services import RequestContext
from passgate.core.errors import (
    AccessDenied,
    CeremonyRejected,
    Conflict,
    InvalidInput,
    NotFound,
    NotSignedIn,
    PassgateError,
    TemporaryAccessPassRejected,
)
from passgate.web.messages import for_person

MAX_JSON_BODY = 64 * 1024

_STATUS: list[tuple[type[PassgateError], int]] = [
    (CeremonyRejected, 400),
    (InvalidInput, 400),
    (TemporaryAccessPassRejected, 400),
    (NotSignedIn, 401),
    (AccessDenied, 403),
    (NotFound, 404),
    (Conflict, 409),
]


def status_for(exc: PassgateError) -> int:
    return next((status for kind, status in _STATUS if isinstance(exc, kind)), 400)


def json_error(exc: PassgateError) -> JsonResponse:
    """``{"error": {"code", "message"}}``: the reason code for programs, plain words for people."""
    return JsonResponse({"error": {"code": exc.code, "message": for_person(exc)}}, status=status_for(exc))


def read_json(request: HttpRequest) -> Mapping[str, Any]:
    """Parse a JSON object body, or raise InvalidInput naming what is wrong."""
    if request.content_type != "application/json":
        raise InvalidInput("The request body must be application/json", code="unsupported_media_type")
    length = request.META.get("CONTENT_LENGTH") or "0"
    if not length.isdigit() or int(length) > MAX_JSON_BODY:
        raise InvalidInput(f"The request body must be at most {MAX_JSON_BODY} bytes", code="body_too_large")
    try:
        body = json.loads(request.body.decode("utf-8"))
    except RecursionError:
        raise InvalidInput("The request body is nested too deeply", code="malformed_json") from None
    except ValueError as exc:  # JSONDecodeError, UnicodeDecodeError, integers too long to convert
        raise InvalidInput(f"The request body is not valid JSON: {exc}", code="malformed_json") from None
    if not isinstance(body, dict):
        raise InvalidInput("The request body must be a JSON object", code="malformed_json")
    return body


def request_context(request: HttpRequest) -> RequestContext:
    return audit_context.request_context(request.META)
