"""Where a request came from, for audit rows and sign-in events: the one place that reads the client's address.

Behind a load balancer the TCP peer (``REMOTE_ADDR``) is the balancer; the client's address comes from the
forwarding headers of the peers listed in ``PASSGATE_TRUSTED_PROXIES`` only (``passgate.core.net``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.conf import settings

from passgate.audit.services import RequestContext
from passgate.core import net


def client_address(meta: Mapping[str, Any]) -> str | None:
    """The client's IP address for a request's WSGI environ (``request.META``)."""
    return net.client_address(meta.get("REMOTE_ADDR"), trusted=settings.PASSGATE.trusted_proxies,
                              x_forwarded_for=meta.get("HTTP_X_FORWARDED_FOR"), forwarded=meta.get("HTTP_FORWARDED"))


def forwarded_scheme(meta: Mapping[str, Any]) -> str | None:
    """``"https"``/``"http"`` as a trusted proxy in front says the request reached it; None: no such word."""
    return net.forwarded_scheme(meta.get("REMOTE_ADDR"), trusted=settings.PASSGATE.trusted_proxies,
                                x_forwarded_proto=meta.get("HTTP_X_FORWARDED_PROTO"),
                                forwarded=meta.get("HTTP_FORWARDED"))


def request_context(meta: Mapping[str, Any]) -> RequestContext:
    """The RequestContext of a request (every adapter builds it here)."""
    return RequestContext(ip_address=client_address(meta), user_agent=str(meta.get("HTTP_USER_AGENT", ""))[:256])
