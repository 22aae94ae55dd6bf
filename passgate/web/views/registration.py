"""The "add a passkey" interrupt (``isRegistrationRequired``): someone signing in to an app without a passkey is
asked to add one first, and may put it off a few times ("Not now") before it becomes a must."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from passgate.core.errors import PassgateError
from passgate.credentials import services
from passgate.credentials.selectors import passkeys_of
from passgate.web import session
from passgate.web.errors import request_context
from passgate.web.messages import for_person
from passgate.web.views.common import signed_in_user
from passgate.web.views.signin import safe_next

PATH = "/signin/add-passkey"
SNOOZED = "pg_registration_snoozed"  # put off in this session: don't ask again until the next sign-in


def prompt_url(next_url: str) -> str:
    return f"{PATH}?{urlencode({'next': next_url})}"


def must_prompt(request: HttpRequest) -> bool:
    """Whether this signed-in person should see the interrupt before going on to an app."""
    if request.session.get(SNOOZED) == request.session.get(session.AUTH_TIME):
        return False
    return services.passkey_registration_prompt(user=signed_in_user(request)).required


@login_required
@require_http_methods(["GET", "POST"])
def page(request: HttpRequest) -> HttpResponse:
    user = signed_in_user(request)
    next_url = safe_next(request, default="/security-info")
    error = ""
    if request.method == "POST":
        try:
            services.passkey_registration_snooze(user=user, context=request_context(request))
        except PassgateError as exc:
            error = for_person(exc)
        else:
            request.session[SNOOZED] = request.session.get(session.AUTH_TIME)
            return redirect(next_url)
    prompt = services.passkey_registration_prompt(user=user)
    if not prompt.required:
        return redirect(next_url)
    return render(request, "passgate/add_passkey_prompt.html", {
        "next": next_url, "prompt": prompt, "error": error, "recent": session.is_recent(request),
        "suspended": [p.display_name for p in passkeys_of(user) if p.possibly_cloned_at is not None],
    }, status=400 if error else 200)
