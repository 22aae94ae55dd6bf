"""The first middleware: gives each request an id and writes one JSON line when it is answered
(``passgate.audit.logs``): method, path (never the query string: it can carry an ID token or a code), status,
duration, the signed-in person's object id and the client's address. Probes and scrapes that succeed are not
logged (an orchestrator's probe every few seconds would drown the rest).

The id is bound for the request (every audit row stores it) and is the Graph API's ``request-id``.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from passgate.audit.context import client_address
from passgate.audit.logs import bind_request_id, log_event, unbind_request_id
from passgate.graph_api.errors import REQUEST_ID

QUIET_WHEN_OK = frozenset({"/healthz", "/readyz", "/metrics"})
MAX_PATH = 200


class RequestLogMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request_id = str(uuid.uuid4())
        setattr(request, REQUEST_ID, request_id)
        token = bind_request_id(request_id)
        started = time.perf_counter()
        try:
            response = self.get_response(request)
            if not (request.path_info in QUIET_WHEN_OK and response.status_code < 400):
                user = getattr(request, "user", None)  # a person; on the Graph API, a Principal (app or person)
                user_id = getattr(user, "pk", None) if getattr(user, "is_authenticated", False) else None
                log_event("request", method=request.method, path=request.path_info[:MAX_PATH],
                          status=response.status_code, durationMs=round((time.perf_counter() - started) * 1000, 1),
                          userId=str(user_id) if user_id else None,
                          clientIp=client_address(request.META))
            return response
        finally:
            unbind_request_id(token)
