"""Endpoints for the machines that run Passgate: ``/healthz`` (the process answers) and ``/readyz`` (it can serve:
``passgate.web.health``). ``passgate.web.ops.OpsEndpointsMiddleware`` answers them before the session, CSRF,
host and authentication middleware: a probe sends no cookie, gets none, and may name the node by its address."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse

from passgate.web.health import failing, readiness


def healthz(request: HttpRequest) -> HttpResponse:
    """The process is alive: no database, no check."""
    return HttpResponse("ok", content_type="text/plain")


def readyz(request: HttpRequest) -> HttpResponse:
    """200 with each check's result, or 503 naming the checks that fail (``passgate.web.health``)."""
    checks = readiness()
    failed = failing(checks)
    body = {"status": "unavailable" if failed else "ready", "failing": failed,
            "checks": {c.name: c.detail for c in checks}}
    return JsonResponse(body, status=503 if failed else 200)
