"""The step-up page: the signed-in person must prove more to continue (an app's ``acr_values``; later Conditional
Access). It says plainly what is required and why the session falls short, offers a passkey (the re-authentication
ceremony), records the passkey in what the session has proven, and continues.

Callers send people to :func:`step_up_url` with the ids of the required authentication strengths, as
alternatives (any one satisfied is enough), and where to continue. Ids are validated against the known strengths;
an unknown id makes the page refuse the request rather than guess.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from passgate.access.selectors import model_name_of, strengths
from passgate.audit.models import Category
from passgate.audit.services import audit_failure
from passgate.core.access.methods import Authentication
from passgate.core.access.strengths import (
    AuthenticationStrength,
    find_strength,
    passkey_may_satisfy,
    strength_check,
)
from passgate.core.errors import AccessDenied, InvalidInput
from passgate.credentials import services
from passgate.credentials.selectors import passkeys_of
from passgate.directory.services import actor_for
from passgate.web import session
from passgate.web.errors import request_context
from passgate.web.views.common import json_endpoint, signed_in_user
from passgate.web.views.signin import safe_next

MAX_STRENGTHS = 10


def known_strengths() -> Mapping[str, AuthenticationStrength]:
    """The strengths an id may name: the built-ins and the tenant's custom ones."""
    return strengths()


def step_up_url(strength_ids: Iterable[str], next_url: str) -> str:
    """Where to send someone who must satisfy one of ``strength_ids`` before continuing to ``next_url``."""
    return "/signin/step-up?" + urlencode([*(("strength", s) for s in strength_ids), ("next", next_url)])


def _requested(request: HttpRequest) -> list[AuthenticationStrength]:
    ids = request.GET.getlist("strength")
    if not ids or len(ids) > MAX_STRENGTHS:
        raise InvalidInput("The step-up request names no authentication strength.", code="step_up_invalid")
    found: list[AuthenticationStrength] = []
    for value in ids:
        strength = find_strength(value, known_strengths())
        if strength is None:
            raise InvalidInput("The step-up request names an authentication strength Passgate doesn't know.",
                               code="step_up_unknown_strength")
        if strength not in found:
            found.append(strength)
    return found


def _unmet(strengths: list[AuthenticationStrength], auth: Authentication | None) -> list[dict[str, Any]]:
    """Each required strength with why the session falls short; empty when one of them is satisfied."""
    if auth is None:
        return [{"strength": s, "reason": None} for s in strengths]
    checks = [(s, strength_check(s, auth, name_of=model_name_of)) for s in strengths]
    if any(check.satisfied for _, check in checks):
        return []
    return [{"strength": s, "reason": check.reason} for s, check in checks]


@login_required
@require_http_methods(["GET"])
def page(request: HttpRequest) -> HttpResponse:
    try:
        strengths = _requested(request)
    except InvalidInput as exc:
        audit_failure(category=Category.SIGN_IN, activity="stepUp", reason=exc.code,
                      actor=actor_for(signed_in_user(request)), context=request_context(request))
        return render(request, "passgate/error.html", {"title": "This request can't be used",
                                                       "message": exc.message}, status=400)
    unmet = _unmet(strengths, session.authentication(request))
    next_url = safe_next(request, default="/")
    if not unmet:
        return redirect(next_url)
    user = signed_in_user(request)
    aaguids = [str(p.aaguid) for p in passkeys_of(user)]
    return render(request, "passgate/stepup.html", {
        "unmet": unmet, "next": next_url, "has_passkeys": bool(aaguids),
        # whether one of the person's passkeys could meet a requirement: else no "Use my passkey" that cannot work
        "passkey_may_do": any(passkey_may_satisfy(s, aaguids) for s in strengths),
        "add_url": "/security-info?" + urlencode({"next": request.get_full_path()}),  # and back here afterwards
        "verify_url": "/signin/step-up/verify?" + urlencode([("strength", s.id) for s in strengths]),
    })


@json_endpoint(category=Category.SIGN_IN, activity="passkey.stepUp", signed_in=True)
def passkey_options(request: HttpRequest, body: Mapping[str, Any]) -> dict[str, Any]:
    return {"publicKey": services.passkey_reauth_begin(user=signed_in_user(request),
                                                       session_key=session.ensure_key(request))}


@json_endpoint(category=Category.SIGN_IN, activity="passkey.stepUp", signed_in=True)
def passkey_verify(request: HttpRequest, body: Mapping[str, Any]) -> dict[str, Any]:
    """The re-authentication ceremony; the passkey is appended to what the session has proven, then the required
    strengths are checked again: met, continue; not met, say why (the person stays on the page)."""
    strengths = _requested(request)
    user = signed_in_user(request)
    result = services.passkey_signin_complete(session_key=session.ensure_key(request),
                                              credential=body.get("credential"),  # type: ignore[arg-type]
                                              context=request_context(request), reauth_user=user)
    session.mark_reauthenticated(request, session.method_use(result, timezone.now()))
    unmet = _unmet(strengths, session.authentication(request))
    if unmet:
        reasons = " ".join(f"{item['strength'].display_name}: {item['reason']}" for item in unmet)
        audit_failure(category=Category.SIGN_IN, activity="stepUp", reason="strength_not_met",
                      actor=actor_for(user), context=request_context(request),
                      details={"strengths": [item["strength"].id for item in unmet]})
        raise AccessDenied(f"This passkey isn't enough. {reasons}", code="strength_not_met")
    return {"redirect": safe_next(request, default="/")}
