"""Small pieces the web views share: the JSON endpoint wrapper and the recent-sign-in gate."""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlencode

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from passgate.audit.models import Category
from passgate.audit.services import Actor, audit_failure
from passgate.core.errors import AccessDenied, NotSignedIn, PassgateError
from passgate.directory.models import User
from passgate.web import session
from passgate.web.errors import json_error, read_json, request_context

JsonView = Callable[[HttpRequest, Mapping[str, Any]], dict[str, Any]]


def json_endpoint(*, category: Category, activity: str, signed_in: bool = False,
                  recent: bool = False) -> Callable[[JsonView], Callable[[HttpRequest], HttpResponse]]:
    """POST-only JSON endpoint: parse the body, map every PassgateError to a JSON 400/403/404.

    Bad bodies are refused (and audited) here, before any service runs, so nothing changes.
    """

    def wrap(view: JsonView) -> Callable[[HttpRequest], HttpResponse]:
        @require_POST
        @functools.wraps(view)
        def handler(request: HttpRequest) -> HttpResponse:
            user = request.user if request.user.is_authenticated else None
            actor = Actor(id=user.pk, name=user.get_username()) if user is not None else None
            try:
                if signed_in and user is None:
                    raise NotSignedIn("Sign in first.")
                if recent and not session.is_recent(request):
                    raise AccessDenied("Confirm it's you first: sign in again.", code="reauthentication_required")
                body = read_json(request)
            except PassgateError as exc:  # refused before any service ran: audit it here
                audit_failure(category=category, activity=activity, reason=exc.code, actor=actor,
                              context=request_context(request))
                return json_error(exc)
            try:
                return JsonResponse(view(request, body))
            except PassgateError as exc:  # services audited it already
                return json_error(exc)

        return handler

    return wrap


def needs_recent_sign_in(request: HttpRequest) -> HttpResponse:
    return redirect("/signin/reauth?" + urlencode({"next": request.get_full_path()}))


def signed_in_user(request: HttpRequest) -> User:
    """The signed-in directory user (views using it are behind login_required or signed_in=True)."""
    user = request.user
    if not isinstance(user, User):
        raise PermissionDenied
    return user
