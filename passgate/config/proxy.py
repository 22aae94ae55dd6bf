"""The scheme a trusted proxy reports, so that ``request.is_secure()`` is right behind a TLS-terminating load
balancer (Django's SecurityMiddleware and CSRF's https Referer check rely on it).

Only the peers in ``PASSGATE_TRUSTED_PROXIES`` are believed (``passgate.core.net.forwarded_scheme``). Django's own
``SECURE_PROXY_SSL_HEADER`` is not set: it believes the header from anyone. gunicorn's equivalent
(``forwarded_allow_ips``) is switched off by ``passgate serve`` for the same reason.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponseBase

from passgate.audit.context import forwarded_scheme


class TrustedProxyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        scheme = forwarded_scheme(request.META)
        if scheme is not None:
            request.META["wsgi.url_scheme"] = scheme  # what WSGIRequest.scheme (and so is_secure) reads
        return self.get_response(request)
