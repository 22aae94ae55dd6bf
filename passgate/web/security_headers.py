"""The response headers every answer carries, set in one place (docs/architecture.md, "Response headers").

- ``Content-Security-Policy``: pages get ``PASSGATE_CSP_PAGE`` (scripts, styles, images and fetches from this
  origin only, no inline code of any kind, no framing, no ``<base>``, no plugins); every other answer (JSON, Graph,
  OpenID Connect, text, static files) ``PASSGATE_CSP_OTHER``. A page's ``form-action`` is ``'self'`` plus the
  origins its forms really end at after their redirects: an app's registered redirect URI when the page continues
  that app's authorization request (its ``next``), a registered post-logout redirect URI (``allow_form_action``).
  Chromium applies ``form-action`` to every redirect that follows a form submission.
- ``Strict-Transport-Security`` (``PASSGATE_HSTS``) when the public origin is https, never on http://localhost.
- ``Cache-Control: no-store`` on every answer except static files (WhiteNoise's caching) and the public documents
  a view marks with :func:`public_cache` (discovery, JWKS: the same for everyone).
- ``Cross-Origin-Resource-Policy: same-origin``; on pages ``Permissions-Policy`` (``PASSGATE_PERMISSIONS_POLICY``).
  ``X-Content-Type-Options: nosniff``, ``Referrer-Policy`` and ``Cross-Origin-Opener-Policy`` come from Django's
  SecurityMiddleware, which runs first. ``X-Frame-Options: DENY`` for browsers without ``frame-ancestors``.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar
from urllib.parse import parse_qs, urlsplit

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.http.request import RawPostDataException
from whitenoise.middleware import WhiteNoiseFileResponse

from passgate.apps.selectors import oidc_redirect_uri_registered

PUBLIC = "_passgate_public_cache"  # set on a response by @public_cache
FORM_TARGETS = "_passgate_form_targets"  # set on a request by allow_form_action
AUTHORIZE_PATH = "/oidc/authorize"
MAX_NEXT_DEPTH = 3  # the deepest real chain: /signin/reauth?next=/signin/add-passkey?next=/oidc/authorize?...
_HOST = re.compile(r"^(?:[a-z0-9.-]+|\[[0-9a-f:.]+\])\Z")

View = TypeVar("View", bound=Callable[..., HttpResponse])


def public_cache(max_age: int) -> Callable[[View], View]:
    """A view whose answer is the same for everyone and holds no secret (discovery, JWKS): cacheable."""

    def wrap(view: View) -> View:
        @functools.wraps(view)
        def handler(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            response = view(request, *args, **kwargs)
            if response.status_code == 200:
                response["Cache-Control"] = f"public, max-age={max_age}"
                setattr(response, PUBLIC, True)
            return response

        return handler  # type: ignore[return-value]

    return wrap


def allow_form_action(request: HttpRequest, uri: str | None) -> None:
    """This page's forms may end at ``uri``'s origin (after redirects): a target the view has validated."""
    source = csp_source(uri) if uri else None
    if source is not None:
        targets: list[str] = getattr(request, FORM_TARGETS, [])
        targets.append(source)
        setattr(request, FORM_TARGETS, targets)


def csp_source(uri: str) -> str | None:
    """The CSP host-source of an http(s) URI's origin (paths are not matched after a redirect anyway)."""
    try:
        parts = urlsplit(uri)
        port = parts.port
    except ValueError:
        return None
    host = (parts.hostname or "").lower()
    if parts.scheme not in ("http", "https") or not _HOST.match(host):
        return None
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"{parts.scheme}://{host}" + (f":{port}" if port is not None else "")


def _local_target(value: object) -> tuple[str, dict[str, list[str]]] | None:
    if not isinstance(value, str) or not value.startswith("/") or value.startswith(("//", "/\\")):
        return None
    parts = urlsplit(value)
    return parts.path, parse_qs(parts.query)


def continuation_targets(next_url: object) -> list[str]:
    """The CSP sources a page's forms end at when they go on to ``next_url``: the registered redirect URI of an
    authorization request it continues, followed through nested ``next`` parameters (the pages in between
    redirect straight on when there is nothing left to do)."""
    for _ in range(MAX_NEXT_DEPTH):
        target = _local_target(next_url)
        if target is None:
            return []
        path, query = target
        if path == AUTHORIZE_PATH:
            client_ids, redirect_uris = query.get("client_id", []), query.get("redirect_uri", [])
            if len(client_ids) != 1 or len(redirect_uris) != 1:
                return []
            if not oidc_redirect_uri_registered(client_id=client_ids[0], redirect_uri=redirect_uris[0]):
                return []
            source = csp_source(redirect_uris[0])
            return [source] if source else []
        nested = query.get("next", [])
        if len(nested) != 1:
            return []
        next_url = nested[0]
    return []


def _next_of(request: HttpRequest) -> object:
    """The page's ``next`` as the views read it (views.signin.safe_next): the form's, else the query's."""
    if request.method == "POST":
        try:
            posted = request.POST.get("next")
        except RawPostDataException:  # the view read the raw stream: not a form
            posted = None
        if posted:
            return posted
    return request.GET.get("next")


def _policy(directives: Mapping[str, Sequence[str]], extra_form_action: Sequence[str] = ()) -> str:
    parts = []
    for name, sources in directives.items():
        values = list(sources)
        if name == "form-action":
            values += [s for s in dict.fromkeys(extra_form_action) if s not in values]
        parts.append(" ".join([name, *values]) if values else name)
    return "; ".join(parts)


def page_policy(request: HttpRequest) -> str:
    extra = [*getattr(request, FORM_TARGETS, []), *continuation_targets(_next_of(request))]
    return _policy(settings.PASSGATE_CSP_PAGE, extra)


def answer_headers(*, page: bool = False) -> dict[str, str]:
    """The headers an answer made outside Django must carry (gunicorn's own refusals, ``cli/server.py``): what this
    middleware and Django's SecurityMiddleware give any non-static answer. ``page``: a page with no script, style,
    form or image of its own, which gets the non-page policy too (it needs nothing more) and X-Frame-Options."""
    headers = {"Content-Security-Policy": _policy(settings.PASSGATE_CSP_OTHER), "Cache-Control": "no-store",
               "Cross-Origin-Resource-Policy": "same-origin", "X-Frame-Options": "DENY",
               "X-Content-Type-Options": "nosniff", "Referrer-Policy": settings.SECURE_REFERRER_POLICY,
               "Cross-Origin-Opener-Policy": settings.SECURE_CROSS_ORIGIN_OPENER_POLICY}
    if page:
        headers["Permissions-Policy"] = settings.PASSGATE_PERMISSIONS_POLICY
    if settings.PASSGATE.origin.startswith("https://"):
        headers["Strict-Transport-Security"] = settings.PASSGATE_HSTS
    return headers


class SecurityHeadersMiddleware:
    """Right after Django's SecurityMiddleware, before WhiteNoise: it sees every answer, static files included."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        static = isinstance(response, WhiteNoiseFileResponse)  # a missing file is an ordinary 404 page
        is_page = not static and response.get("Content-Type", "").startswith("text/html")
        response["Content-Security-Policy"] = (page_policy(request) if is_page
                                               else _policy(settings.PASSGATE_CSP_OTHER))
        if not static and not getattr(response, PUBLIC, False):
            response["Cache-Control"] = "no-store"
        if settings.PASSGATE.origin.startswith("https://"):
            response["Strict-Transport-Security"] = settings.PASSGATE_HSTS
        response["Cross-Origin-Resource-Policy"] = "same-origin"
        response["X-Frame-Options"] = "DENY"  # also on answers made before XFrameOptionsMiddleware ran
        if is_page:
            response["Permissions-Policy"] = settings.PASSGATE_PERMISSIONS_POLICY
        return response
