"""Endpoints for the machines that run Passgate: ``/healthz`` (the process answers), ``/readyz`` (it can serve:
``passgate.web.health``) and ``/metrics`` (Prometheus, ``passgate.audit.metrics``).
``passgate.web.ops.OpsEndpointsMiddleware`` answers them before the session, CSRF, host and authentication
middleware: a probe or a scraper sends no cookie, gets none, and may name the node by its address."""

from __future__ import annotations

import hmac
import logging
import os
from collections.abc import Mapping

from django.conf import settings
from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from prometheus_client import REGISTRY, CollectorRegistry, generate_latest, multiprocess
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from passgate.audit.context import client_address
from passgate.audit.metrics import ScrapeTimeGauges
from passgate.trust_store.selectors import current_blob
from passgate.web.health import failing, readiness

log = logging.getLogger(__name__)


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


def _mds_gauges() -> Mapping[str, tuple[str, float | None]]:
    try:
        blob = current_blob()
    except DatabaseError:
        blob = None
    age = (timezone.now() - blob.imported_at).total_seconds() if blob else None
    return {"passgate_mds_age_seconds": ("Seconds since the FIDO metadata BLOB in force was imported "
                                         "(absent: none imported)", age)}


_gauges = ScrapeTimeGauges(_mds_gauges)


def _bearer_matches(request: HttpRequest, expected: str) -> bool:
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    # one constant-time comparison whatever was sent (a wrong scheme compares an empty token)
    given_bytes = given.strip().encode("utf-8", "replace") if scheme.lower() == "bearer" else b""
    return hmac.compare_digest(given_bytes, expected.encode()) and bool(given_bytes)


def metrics(request: HttpRequest) -> HttpResponse:
    """Prometheus exposition, for ``Authorization: Bearer <PASSGATE_METRICS_TOKEN>`` only; 404 when no token is
    configured. Under ``serve`` the values of every worker, added up (multiprocess mode)."""
    token = settings.PASSGATE.metrics_token
    if token is None:
        return HttpResponse("Not Found", status=404, content_type="text/plain")
    if not _bearer_matches(request, token):
        log.warning("metrics: refused a scrape from %s: %s token", client_address(request.META) or "?",
                    "no" if "Authorization" not in request.headers else "a wrong")
        response = HttpResponse("Unauthorized", status=401, content_type="text/plain")
        response["WWW-Authenticate"] = 'Bearer realm="passgate-metrics"'
        return response
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        body = generate_latest(registry)
    else:
        body = generate_latest(REGISTRY)
    own = CollectorRegistry()
    own.register(_gauges)
    return HttpResponse(body + generate_latest(own), content_type=CONTENT_TYPE_LATEST)
