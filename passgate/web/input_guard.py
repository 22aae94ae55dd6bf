"""Refuse NUL and lone surrogates in every web request's address, query string, form fields and headers.

PostgreSQL refuses NUL in text and UTF-8 has no lone surrogates (``passgate.core.text``), so such a value reaching a
query or a row is a 500. Form and query values can carry NUL (``%00``); Django already turns undecodable bytes into
U+FFFD. This middleware checks them all in one place, after the URL is resolved and before the view runs: a 400
(a page naming the field, or ``{"error": {"code": "invalid_text", ...}}`` for JSON requests), audited with reason
code ``invalid_text``. JSON bodies are checked by ``passgate.web.errors.read_json`` (the core's strict loader).

Views marked with ``core.text.CHECKS_OWN_TEXT`` answer in their own protocol's words and are left alone: the Graph
API (its envelope, ``graph_api.registry``), the OAuth and OpenID Connect endpoints (RFC 6749 errors).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from passgate.audit.models import Category
from passgate.audit.services import Actor, audit_failure
from passgate.core.text import CHECKS_OWN_TEXT, UnusableText, check_pairs, check_text
from passgate.web.errors import request_context

FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def _headers(request: HttpRequest) -> Iterator[tuple[str, list[str]]]:
    for key, value in request.META.items():
        if key.startswith("HTTP_") and isinstance(value, str):
            yield key[5:].replace("_", "-").title(), [value]


def find_unusable(request: HttpRequest) -> UnusableText | None:
    """The first NUL or lone surrogate in the request's path, query string, form fields or headers."""
    try:
        check_text(request.path, "The address")
        check_pairs(request.GET.lists(), where=lambda name: f"The query parameter '{name}'")
        if request.method == "POST" and request.content_type in FORM_TYPES:
            check_pairs(request.POST.lists(), where=lambda name: f"The form field '{name}'")
        check_pairs(_headers(request), where=lambda name: f"The header '{name}'")
    except UnusableText as exc:
        return exc
    return None


class UnusableTextMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(self, request: HttpRequest, view: Callable[..., HttpResponse], args: Any,
                     kwargs: Any) -> HttpResponse | None:
        if getattr(view, CHECKS_OWN_TEXT, False):
            return None
        problem = find_unusable(request)
        if problem is None:
            return None
        user = getattr(request, "user", None)
        actor = Actor(id=user.pk, name=user.get_username()) if user is not None and user.is_authenticated else None
        audit_failure(category=Category.SYSTEM, activity="request.refuse", reason=problem.code, actor=actor,
                      context=request_context(request),
                      details={"method": request.method, "path": request.path, "message": problem.message})
        if request.content_type == "application/json" or "application/json" in request.headers.get("Accept", ""):
            return JsonResponse({"error": {"code": problem.code, "message": problem.message}}, status=400)
        return render(request, "passgate/error.html", {"title": "Something you sent can't be used",
                                                       "message": problem.message}, status=400)
