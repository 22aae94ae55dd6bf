"""Security info: set up and remove an authenticator app (TOTP)."""

from __future__ import annotations

import uuid

import segno
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_http_methods

from passgate.core.errors import PassgateError
from passgate.credentials import oath
from passgate.credentials.models import SoftwareOathMethod
from passgate.directory.services import actor_for
from passgate.web import session
from passgate.web.errors import request_context
from passgate.web.messages import for_person
from passgate.web.registration_access import require_registration_allowed
from passgate.web.views.common import needs_recent_sign_in, signed_in_user


def _qr_svg(uri: str) -> str:
    return str(segno.make(uri, error="m").svg_inline(scale=5, border=2, dark="#1b1f24",
                                                     title="Authenticator app set-up code"))


@login_required
@require_http_methods(["GET", "POST"])
def add(request: HttpRequest) -> HttpResponse:
    if not session.is_recent(request):
        return needs_recent_sign_in(request)
    user = signed_in_user(request)
    try:
        require_registration_allowed(request, activity="softwareOath.register")
    except PassgateError as exc:
        return render(request, "passgate/error.html", {"title": "You can't add an authenticator app now",
                                                       "message": for_person(exc)}, status=403)
    error = None
    enrolment: oath.Enrolment | None = None
    if request.method == "POST":
        method_id = request.POST.get("method", "")
        try:
            oath.software_oath_enrol_complete(user=user, method_id=method_id, code=request.POST.get("code", "")[:32],
                                              context=request_context(request))
        except PassgateError as exc:
            error = for_person(exc)
            try:
                enrolment = oath.software_oath_enrolment(user=user, method_id=method_id)
            except PassgateError:
                enrolment = None  # expired or unknown: start a new one below, as a GET does
        else:
            request.session["pg_flash"] = "Authenticator app added."
            return redirect("/security-info")
    if enrolment is None:
        try:
            enrolment = oath.software_oath_enrol_begin(user=user)
        except PassgateError as exc:  # e.g. the policy doesn't allow authenticator apps for this person
            return render(request, "passgate/error.html", {"title": "You can't add an authenticator app",
                                                           "message": for_person(exc)}, status=403)
    return render(request, "passgate/authenticator_app_add.html", {
        "enrolment": enrolment, "qr": mark_safe(_qr_svg(enrolment.uri)),  # noqa: S308 - our own SVG
        "error": error,
    }, status=400 if error else 200)


@login_required
@require_http_methods(["GET", "POST"])
def delete(request: HttpRequest, method_id: uuid.UUID) -> HttpResponse:
    user = signed_in_user(request)
    method = SoftwareOathMethod.objects.filter(pk=method_id, user=user, is_verified=True).select_related("user").first()
    if method is None:
        raise Http404("No such authenticator app")
    if not session.is_recent(request):
        return needs_recent_sign_in(request)
    if request.method == "POST":
        method_id = method.pk
        oath.software_oath_delete(method=method, actor=actor_for(user), context=request_context(request))
        session.release_method(request, method_id)
        request.session["pg_flash"] = "Authenticator app deleted."
        return redirect("/security-info")
    others = user.passkeys.count() + SoftwareOathMethod.objects.filter(user=user, is_verified=True).exclude(
        pk=method.pk).count()
    return render(request, "passgate/authenticator_app_delete.html", {"method": method, "is_last": others == 0})
