"""The one mapping from core errors to HTTP for the web adapter."""

from __future__ import annotations

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
    Throttled,
)
from passgate.core.text import MALFORMED_JSON, strict_loads
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
    (Throttled, 429),
]


def status_for(exc: PassgateError) -> int:
    return next((status for kind, status in _STATUS if isinstance(exc, kind)), 400)


def refusal_headers(exc: PassgateError) -> dict[str, str]:
    """``Retry-After`` (RFC 9110 §10.2.3) for a back-off refusal."""
    return {"Retry-After": str(exc.retry_after)} if isinstance(exc, Throttled) else {}


def json_error(exc: PassgateError) -> JsonResponse:
    """``{"error": {"code", "message"}}``: the reason code for programs, plain words for people."""
    return JsonResponse({"error": {"code": exc.code, "message": for_person(exc)}}, status=status_for(exc),
                        headers=refusal_headers(exc))


def read_json(request: HttpRequest) -> Mapping[str, Any]:
    """Parse a JSON object body with the core's strict loader (no NUL or lone surrogate in any string: code
    ``invalid_text``), or raise InvalidInput naming what is wrong."""
    if request.content_type != "application/json":
        raise InvalidInput("The request body must be application/json", code="unsupported_media_type")
    length = request.META.get("CONTENT_LENGTH") or "0"
    if not length.isdigit() or int(length) > MAX_JSON_BODY:
        raise InvalidInput(f"The request body must be at most {MAX_JSON_BODY} bytes", code="body_too_large")
    body = strict_loads(request.body)
    if not isinstance(body, dict):
        raise InvalidInput("The request body must be a JSON object", code=MALFORMED_JSON)
    return body


def request_context(request: HttpRequest) -> RequestContext:
    return audit_context.request_context(request.META)
