"""Answers the machine endpoints (``/healthz``, ``/readyz``) before the rest of the middleware.

Placed right after the response-header middleware: a probe is answered without a session (no cookie read or set),
CSRF, Host validation (load balancers and orchestrators name the node by its address) or the session checks.
Only GET and HEAD; anything else is 405.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed

from passgate.web.views import ops

ENDPOINTS: dict[str, Callable[[HttpRequest], HttpResponse]] = {"/healthz": ops.healthz, "/readyz": ops.readyz}


class OpsEndpointsMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        view = ENDPOINTS.get(request.path_info)
        if view is None:
            return self.get_response(request)
        if request.method not in ("GET", "HEAD"):
            return HttpResponseNotAllowed(["GET", "HEAD"])
        response = view(request)
        if request.method == "HEAD":
            response.content = b""
        return response
