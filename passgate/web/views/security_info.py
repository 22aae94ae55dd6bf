"""Self-service security info: list, add, rename and delete one's own authentication methods."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from passgate.audit.models import Category
from passgate.core.access import AccessDecision, Outcome
from passgate.core.errors import PassgateError
from passgate.core.redundancy import Fragility
from passgate.credentials import oath, redundancy, services
from passgate.credentials.models import Passkey
from passgate.credentials.selectors import passkeys_of
from passgate.directory.services import actor_for, user_revoke_sign_in_sessions
from passgate.trust_store.selectors import model_name
from passgate.web import session
from passgate.web.errors import request_context
from passgate.web.registration_access import registration_decision, require_registration_allowed, step_up_link
from passgate.web.views.common import json_endpoint, needs_recent_sign_in, signed_in_user
from passgate.web.views.signin import local_path


def _own_passkey(request: HttpRequest, passkey_id: uuid.UUID) -> Passkey:
    passkey = Passkey.objects.filter(pk=passkey_id, user=signed_in_user(request)).select_related("user").first()
    if passkey is None:
        raise Http404("No such passkey")
    return passkey


class Situation(StrEnum):
    """Where a person stands on Security info: the page shows the one message of the one situation that applies."""

    REGISTRATION_BLOCKED = "registration-blocked"  # a Conditional Access policy blocks registering security info
    REGISTRATION_STEP_UP = "registration-step-up"  # ... asks for a stronger sign-in first
    PASSKEY_NOT_ALLOWED = "passkey-not-allowed"  # the passkey policy leaves them out or self-service is off
    PASSKEY_REQUIRED = "passkey-required"  # the policy requires a passkey and they have none
    TAP_ADD_PASSKEY = "tap-add-passkey"  # signed in with a pass, no passkey yet
    TAP_SIGN_BACK_IN = "tap-sign-back-in"  # signed in with a pass, has a passkey
    TAP_REPLACE_SUSPENDED = "tap-replace-suspended"  # signed in with a pass; their passkeys are all suspended
    ADD_SECOND_PASSKEY = "add-second-passkey"  # one passkey, or all with one provider: a second one (dismissible)
    READY = "ready"  # nothing to say


@dataclass(frozen=True, slots=True)
class Banner:
    situation: Situation
    message: str = ""
    step_up_link: str = ""

    @property
    def dismissible(self) -> bool:
        return self.situation is Situation.ADD_SECOND_PASSKEY

    @property
    def may_add_passkey(self) -> bool:
        return self.situation not in _NO_ADDING

    @property
    def may_register(self) -> bool:
        return self.situation not in (Situation.REGISTRATION_BLOCKED, Situation.REGISTRATION_STEP_UP)


_NO_ADDING = frozenset({Situation.REGISTRATION_BLOCKED, Situation.REGISTRATION_STEP_UP, Situation.PASSKEY_NOT_ALLOWED})
_TAP = "You signed in with a Temporary Access Pass, which opens this page only."


def security_info_banner(*, registration: AccessDecision, step_up: str,  # noqa: PLR0911 - one per situation
                         passkey_refusal: str | None, passkey_required: bool, tap_session: bool,
                         has_passkey: bool, fragile: Fragility | None = None, provider: str = "",
                         suspended: tuple[str, ...] = ()) -> Banner:
    """The one situation (and its one message) Security info shows, most pressing first: Conditional Access on
    registering, then the passkey policy, then what a pass session should do next. ``passkey_refusal`` is the
    policy's reason when the person may not add a passkey, None when they may."""
    fallback = "A Conditional Access policy doesn't allow adding security info now."
    if registration.outcome is Outcome.BLOCK:
        return Banner(Situation.REGISTRATION_BLOCKED, registration.message or fallback)
    if registration.outcome is Outcome.STEP_UP:
        return Banner(Situation.REGISTRATION_STEP_UP, registration.message or fallback, step_up)
    if passkey_refusal is not None:
        return Banner(Situation.PASSKEY_NOT_ALLOWED, passkey_refusal)
    if tap_session and suspended and not has_passkey:  # before "requires a passkey": it says why there is none
        names = ", ".join(f"“{name}”" for name in suspended)
        return Banner(Situation.TAP_REPLACE_SUSPENDED,
                      f"{_TAP} Your passkey {names} was suspended because it may have been copied: it can't sign in "
                      "any more. Remove it below, then add a new passkey.")
    if passkey_required:
        return Banner(Situation.PASSKEY_REQUIRED, "Your organisation requires a passkey. Add one now: from then on "
                                                  "you sign in with it, without a Temporary Access Pass.")
    if not tap_session:
        if fragile is Fragility.SINGLE:
            return Banner(Situation.ADD_SECOND_PASSKEY, "You have one passkey. If you lose it, only your "
                                                        "administrator can let you back in: add a second one, on "
                                                        "another device or a security key.")
        if fragile is Fragility.ONE_PROVIDER:
            return Banner(Situation.ADD_SECOND_PASSKEY, f"All your passkeys are saved in {provider or 'one place'}. "
                                                        "If you lose access to it, only your administrator can let "
                                                        "you back in: add a passkey on a security key or another "
                                                        "device.")
        return Banner(Situation.READY)
    if has_passkey:
        return Banner(Situation.TAP_SIGN_BACK_IN, f"{_TAP} Sign out and sign back in with your passkey.")
    return Banner(Situation.TAP_ADD_PASSKEY, f"{_TAP} Add a passkey now.")


@login_required
@require_http_methods(["GET"])
def page(request: HttpRequest) -> HttpResponse:
    user = signed_in_user(request)
    may_add = services.may_add_passkey(user=user)
    access = registration_decision(request)
    passkeys = list(passkeys_of(user))
    banner = security_info_banner(
        registration=access, step_up=step_up_link(access) if access.outcome is Outcome.STEP_UP else "",
        passkey_refusal=None if may_add.allowed else may_add.message,
        passkey_required=services.passkey_registration_prompt(user=user).required,
        tap_session=session.is_tap_session(request),
        has_passkey=any(p.possibly_cloned_at is None for p in passkeys),
        suspended=tuple(p.display_name for p in passkeys if p.possibly_cloned_at is not None),
        fragile=redundancy.passkey_redundancy_nudge_due(user=user),
        provider=model_name(passkeys[0].aaguid, passkeys[0].model_name) if passkeys else "")
    return render(request, "passgate/security_info.html", {
        "banner": banner,
        "may_add_authenticator_app": oath.software_oath_allowed(user=user),
        "passkeys": passkeys,
        "oath_methods": list(user.software_oath_methods.filter(is_verified=True)),
        "recent": session.is_recent(request),
        # a detour (step-up, an app's requirement) returns there once a passkey is added; only paths on this site
        "next": local_path(request, request.GET.get("next"), default=""),
        "flash": request.session.pop("pg_flash", None),
    })


@json_endpoint(category=Category.SECURITY_INFO, activity="passkey.register", signed_in=True, recent=True)
def passkey_options(request: HttpRequest, body: Mapping[str, Any]) -> dict[str, Any]:
    require_registration_allowed(request, activity="passkey.register")
    return {"publicKey": services.passkey_registration_begin(user=signed_in_user(request),
                                                             session_key=session.ensure_key(request))}


@json_endpoint(category=Category.SECURITY_INFO, activity="passkey.register", signed_in=True, recent=True)
def passkey_verify(request: HttpRequest, body: Mapping[str, Any]) -> dict[str, Any]:
    require_registration_allowed(request, activity="passkey.register")
    passkey = services.passkey_registration_complete(
        user=signed_in_user(request),
        session_key=session.ensure_key(request), credential=body.get("credential"),  # type: ignore[arg-type]
        display_name=body.get("name"),  # type: ignore[arg-type]
        context=request_context(request),
    )
    request.session["pg_flash"] = f"Passkey “{passkey.display_name}” added."
    # Back to where the add-a-passkey interrupt was going (an app), or Security info.
    return {"id": str(passkey.id), "name": passkey.display_name, "redirect": local_path(request, body.get("next"))}


@login_required
@require_POST
def passkey_rename(request: HttpRequest, passkey_id: uuid.UUID) -> HttpResponse:
    passkey = _own_passkey(request, passkey_id)
    try:
        services.passkey_rename(passkey=passkey, display_name=request.POST.get("name", ""),
                                actor=actor_for(signed_in_user(request)),
                                context=request_context(request))
    except PassgateError as exc:
        request.session["pg_flash"] = exc.message
    else:
        request.session["pg_flash"] = f"Passkey renamed to “{passkey.display_name}”."
    return redirect("/security-info")


@login_required
@require_http_methods(["GET", "POST"])
def passkey_delete(request: HttpRequest, passkey_id: uuid.UUID) -> HttpResponse:
    passkey = _own_passkey(request, passkey_id)
    if not session.is_recent(request):
        return needs_recent_sign_in(request)
    if request.method == "POST":
        name, method_id = passkey.display_name, passkey.pk
        services.passkey_delete(passkey=passkey, actor=actor_for(signed_in_user(request)),
                                context=request_context(request))
        session.release_method(request, method_id)
        request.session["pg_flash"] = f"Passkey “{name}” deleted."
        return redirect("/security-info")
    remaining = Passkey.objects.filter(user=signed_in_user(request)).exclude(pk=passkey.pk).count()
    return render(request, "passgate/passkey_delete.html", {"passkey": passkey, "is_last": remaining == 0})


@login_required
@require_POST
def redundancy_nudge_dismiss(request: HttpRequest) -> HttpResponse:
    """"Not now" to adding a second passkey (asked again after core.redundancy.NUDGE_INTERVAL)."""
    redundancy.passkey_redundancy_nudge_dismiss(user=signed_in_user(request), context=request_context(request))
    return redirect("/security-info")


@login_required
@require_http_methods(["GET", "POST"])
def sign_out_everywhere(request: HttpRequest) -> HttpResponse:
    """Revoke one's own sign-in sessions (Graph's /me/revokeSignInSessions): every browser, this one included, and
    every app one signed in to through Passgate."""
    if request.method == "POST":
        user = signed_in_user(request)
        user_revoke_sign_in_sessions(user=user, actor=actor_for(user), context=request_context(request))
        logout(request)  # this session ends now rather than at its next request
        request.session["pg_ended"] = "sessions_revoked"
        return redirect("/signin")
    return render(request, "passgate/sign_out_everywhere.html")
