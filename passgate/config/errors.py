"""Django's ``handler400``: the API's JSON error on an API path, Passgate's 400 page elsewhere (the web and the
Graph adapters are independent layers, so the choice is made here)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse

from passgate.core.api_paths import api_kind
from passgate.graph_api import api_errors
from passgate.web.views import errors as web_errors


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if api_kind(request.path) is not None:
        return api_errors.bad_request(request, exception)
    return web_errors.bad_request(request, exception)
