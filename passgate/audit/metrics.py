"""Prometheus metrics (``prometheus_client``), served at ``/metrics`` (``passgate.web.ops``).

Most counters move where the event is already recorded once: ``observe_audit`` is called by ``audit_record`` for
every audit row, after its transaction commits (a rolled-back row counted nothing), and maps the row to sign-ins,
refusals, device sign-ins and issued tokens. Nothing else increments those, so nothing is counted twice.

Labels are bounded: methods, results, grant types and status classes are fixed sets; reason codes are Passgate's
own (anything that is not a plain code becomes ``other``). No label ever holds a user, an address or a secret.

Under ``passgate serve`` every gunicorn worker writes its values to files in ``PROMETHEUS_MULTIPROC_DIR`` (set by
``serve`` before anything imports this module: prometheus_client picks its storage at import), and ``/metrics``
on any worker adds them up. Elsewhere (tests, one-off commands) the values live in the process.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from django.db import DatabaseError
from prometheus_client import Counter, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

SIGNINS = Counter("passgate_signins", "Sign-ins to Passgate (a new session), by method and result",
                  ["method", "result"])
REFUSALS = Counter("passgate_refusals", "Refusals (audit rows with result failure), by category and reason code",
                   ["category", "reason"])
DEVICE_SIGNINS = Counter("passgate_device_signins", "Security-key sign-ins to joined computers, by result",
                         ["result"])
TOKENS_ISSUED = Counter("passgate_oauth_tokens_issued", "Token responses issued by the OpenID Connect and OAuth "
                        "token endpoints, by grant type", ["grant"])
GRAPH_REQUESTS = Counter("passgate_graph_requests", "Graph API requests answered, by status class",
                         ["status_class"])
DATABASE_ERRORS = Counter("passgate_database_errors", "Database statements that failed, by error class",
                          ["error"])
CEREMONY_SECONDS = Histogram("passgate_webauthn_verify_seconds", "Time to verify a WebAuthn response (the "
                             "ceremony checks, signature and attestation), by ceremony", ["ceremony"],
                             buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5))

# Audit activities that are sign-ins to Passgate, with their method.
SIGNIN_ACTIVITIES = {"passkey.signIn": "passkey", "tap.signIn": "tap"}
DEVICE_SIGNIN = "device.signIn"
# A device sign-in whose passkey ceremony fails is audited by the ceremony alone (no device.signIn row follows);
# a successful ceremony is followed by device.signIn, which counts it.
DEVICE_CEREMONY = "passkey.deviceSignIn"
CLIENT_CREDENTIALS = "token.issue"  # the Graph API's token endpoint (client credentials)
OIDC_TOKEN_ISSUE = "oidc.token"  # noqa: S105 - an audit activity, not a secret
GRANTS = frozenset({"authorization_code", "refresh_token", "client_credentials"})
_CODE = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]{0,63}\Z")


def reason_label(reason: str) -> str:
    return reason if _CODE.match(reason) else "other"


def observe_audit(*, category: str, activity: str, failed: bool, reason: str,
                  details: Mapping[str, Any]) -> None:
    """Count one audit row (called once per row, after it is committed)."""
    result = "failure" if failed else "success"
    if failed:
        REFUSALS.labels(category=category, reason=reason_label(reason)).inc()
    method = SIGNIN_ACTIVITIES.get(activity)
    if method is not None:
        SIGNINS.labels(method=method, result=result).inc()
    elif activity == DEVICE_SIGNIN or (activity == DEVICE_CEREMONY and failed):
        DEVICE_SIGNINS.labels(result=result).inc()
    elif not failed and activity == CLIENT_CREDENTIALS:
        TOKENS_ISSUED.labels(grant="client_credentials").inc()
    elif not failed and activity == OIDC_TOKEN_ISSUE:
        grant = str(details.get("grantType", ""))
        TOKENS_ISSUED.labels(grant=grant if grant in GRANTS else "other").inc()


def observe_graph_response(status: int) -> None:
    GRAPH_REQUESTS.labels(status_class=f"{status // 100}xx" if 100 <= status < 600 else "other").inc()


def count_database_errors(execute: Callable[..., Any], sql: str, params: Any, many: bool,
                          context: Mapping[str, Any]) -> Any:
    """A database execute wrapper (installed on every connection, ``AuditConfig.ready``)."""
    try:
        return execute(sql, params, many, context)
    except DatabaseError as exc:
        DATABASE_ERRORS.labels(error=type(exc).__name__).inc()
        raise


class ScrapeTimeGauges(Collector):
    """Gauges read from the database when scraped (one value for the whole deployment, not one per worker)."""

    def __init__(self, read: Callable[[], Mapping[str, tuple[str, float | None]]]) -> None:
        self.read = read

    def collect(self) -> Iterator[GaugeMetricFamily]:
        for name, (doc, value) in self.read().items():
            family = GaugeMetricFamily(name, doc)
            if value is not None:
                family.add_metric([], value)
            yield family
