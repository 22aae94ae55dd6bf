"""Answers the machine endpoints (``/healthz``, ``/readyz``, ``/metrics``) before the rest of the middleware, and
counts the Graph API's answers by status class (``passgate.audit.metrics``).

Placed right after the response-header middleware: a probe or scraper is answered without a session (no cookie
read or set), CSRF, Host validation (load balancers and orchestrators name the node by its address) or the session
checks. Only GET and HEAD; anything else is 405.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed

from passgate.audit.metrics import observe_graph_response
from passgate.core.api_paths import ApiKind, api_kind
from passgate.web.views import ops

ENDPOINTS: dict[str, Callable[[HttpRequest], HttpResponse]] = {
    "/healthz": ops.healthz, "/readyz": ops.readyz, "/metrics": ops.metrics}


class OpsEndpointsMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        view = ENDPOINTS.get(request.path_info)
        if view is None:
            response = self.get_response(request)
            if api_kind(request.path_info) is ApiKind.GRAPH:
                observe_graph_response(response.status_code)
            return response
        if request.method not in ("GET", "HEAD"):
            return HttpResponseNotAllowed(["GET", "HEAD"])
        response = view(request)
        if request.method == "HEAD":
            response.content = b""
        return response
