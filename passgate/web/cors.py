"""CORS for the OpenID Connect endpoints a browser script calls (issue 12 item 8).

- Public documents (discovery, RFC 8414 metadata, JWKS): any origin may read them (``*``), never with cookies.
- The token, UserInfo and revocation endpoints: only the origins of registered single-page apps (public clients'
  redirect URIs, ``apps.selectors.spa_origins``), echoed with ``Vary: Origin``; never credentials (these endpoints
  authenticate with the request's own parameters or Bearer token, not cookies). A preflight (OPTIONS) from such an
  origin is answered 204 with the methods and headers allowed; from any other origin, 204 without CORS headers, so
  the browser stops there.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import wraps
from typing import Any

from django.http import HttpRequest, HttpResponse

from passgate.apps.selectors import spa_origins

View = Callable[..., HttpResponse]
PREFLIGHT_MAX_AGE = "600"


def cors_public(view: View) -> View:
    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response = view(request, *args, **kwargs)
        response["Access-Control-Allow-Origin"] = "*"
        return response

    return wrapped


def cors_for_spas(*, methods: Sequence[str], expose: Sequence[str] = ()) -> Callable[[View], View]:
    def decorate(view: View) -> View:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            origin = request.headers.get("Origin", "")
            allowed = bool(origin) and origin.lower() in spa_origins()
            if request.method == "OPTIONS" and "Access-Control-Request-Method" in request.headers:
                response = HttpResponse(status=204)
                if allowed:
                    response["Access-Control-Allow-Methods"] = ", ".join(methods)
                    response["Access-Control-Allow-Headers"] = "Authorization, Content-Type"
                    response["Access-Control-Max-Age"] = PREFLIGHT_MAX_AGE
            else:
                response = view(request, *args, **kwargs)
                if allowed and expose:
                    response["Access-Control-Expose-Headers"] = ", ".join(expose)
            if allowed:
                response["Access-Control-Allow-Origin"] = origin
            response["Vary"] = ", ".join(filter(None, [response.get("Vary", ""), "Origin"]))
            return response

        return wrapped

    return decorate
