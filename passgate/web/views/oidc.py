"""The OpenID Connect provider's HTTP endpoints (ADR 0005): discovery, JWKS, authorize, token, UserInfo, logout.

Thin: each view turns the request into ``passgate.apps.oidc`` values, calls one service, and answers. The authorize
view also gathers what the browser session has proven and lets ``core.oidc.authorize_next`` decide what it must
still prove (sign in, step up) before a code is issued.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlencode

from django.contrib.auth import logout as end_django_session
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from passgate.access.selectors import access_decide
from passgate.access.signin_log import record_app_signin
from passgate.apps import keys
from passgate.apps.oidc.adapter import MAX_TOKEN_LENGTH, OAuthHttpRequest, OAuthResponse
from passgate.apps.oidc.authorization import (
    AuthorizationRefused,
    PendingAuthorization,
    authorization_issue,
    authorization_refusal_record,
    authorization_refuse,
    authorization_validate,
)
from passgate.apps.oidc.device_authorization import device_authorization_respond
from passgate.apps.oidc.discovery import discovery_document, graph_tenant_document
from passgate.apps.oidc.introspection import introspection_respond
from passgate.apps.oidc.logout import LogoutRefused, LogoutRequest, logout_location, logout_validate
from passgate.apps.oidc.revocation import revocation_respond
from passgate.apps.oidc.server import token_respond
from passgate.apps.oidc.tokens import session_tokens_revoke
from passgate.apps.oidc.userinfo import BearerRefused, userinfo_claims, userinfo_refusal_record
from passgate.audit.signins import SignInError
from passgate.core import oidc as rules
from passgate.core.access import AccessDecision, Outcome
from passgate.core.access.strengths import acr_for
from passgate.core.text import checks_own_text, first_unusable
from passgate.directory.models import User
from passgate.web import session
from passgate.web.cors import cors_for_spas, cors_public
from passgate.web.errors import request_context
from passgate.web.security_headers import allow_form_action, public_cache
from passgate.web.views import registration
from passgate.web.views.stepup import known_strengths, step_up_url

NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
BEARER_REALM = 'Bearer realm="passgate"'


def _oauth_request(request: HttpRequest) -> OAuthHttpRequest:
    headers = {"Authorization": request.headers["Authorization"]} if "Authorization" in request.headers else {}
    if request.method == "POST":
        params, query = dict(request.POST.lists()), dict(request.GET.lists())
    else:
        params, query = dict(request.GET.lists()), {}
    return OAuthHttpRequest(method=str(request.method), path=request.path, params=params, headers=headers,
                            query=query, content_type=request.content_type or "")


def _go(location: str) -> HttpResponse:
    response = HttpResponseRedirect(location)
    response["Cache-Control"] = "no-store"
    return response


# --- discovery and keys -------------------------------------------------------------------------------------

@cors_public
@require_http_methods(["GET"])
@public_cache(max_age=300)
def discovery(request: HttpRequest) -> HttpResponse:
    return JsonResponse(discovery_document())


@cors_public
@require_http_methods(["GET"])
@public_cache(max_age=300)
def authorization_server_metadata(request: HttpRequest) -> HttpResponse:
    """RFC 8414 §3 (``/.well-known/oauth-authorization-server``): the same document as OpenID discovery."""
    return JsonResponse(discovery_document())


@require_http_methods(["GET"])
@public_cache(max_age=300)
def tenant_discovery(request: HttpRequest, tenant: str) -> HttpResponse:
    """``/{tenant}/v2.0/.well-known/openid-configuration``: where MSAL looks for Graph's token endpoint."""
    return JsonResponse(graph_tenant_document())


@cors_public
@require_http_methods(["GET"])
@public_cache(max_age=300)
def jwks(request: HttpRequest) -> HttpResponse:
    return JsonResponse(keys.jwks())


# --- authorize ----------------------------------------------------------------------------------------------

def _page(request: HttpRequest, template: str, context: dict[str, Any], *, status: int = 200) -> HttpResponse:
    response = render(request, template, context, status=status)
    for name, value in NO_STORE.items():
        response[name] = value
    return response


def _refused_page(request: HttpRequest, description: str, title: str = "") -> HttpResponse:
    return _page(request, "passgate/oidc/error.html", {"description": description, "title": title}, status=400)


@checks_own_text  # RFC 6749 §4.1.2.1: invalid_request back to the client once it is known (apps.oidc)
@csrf_exempt  # an app may POST the request (OIDC §3.1.2.1); it changes nothing a GET could not
@require_http_methods(["GET", "POST"])
def authorize(request: HttpRequest) -> HttpResponse:
    context = request_context(request)
    if request.method == "POST":
        # Continue as a GET with the same parameters: a cross-site POST carries no SameSite=Lax session cookie,
        # and the sign-in round trip needs a URL to come back to.
        if request.content_type != "application/x-www-form-urlencoded":
            authorization_refusal_record(reason="unsupported_media_type", context=context)
            return _refused_page(request, "The request body must be application/x-www-form-urlencoded.")
        return HttpResponseRedirect(f"{request.path}?{request.POST.urlencode()}", status=303)
    try:
        pending = authorization_validate(request=_oauth_request(request), context=context)
    except AuthorizationRefused as refused:
        if refused.location is not None:
            return _go(refused.location)
        return _refused_page(request, refused.description)
    following = _authorize_next(request, pending)
    return _go(following) if isinstance(following, str) else following


def _authorize_next(request: HttpRequest, pending: PendingAuthorization) -> str | HttpResponse:
    """Where an authorization request goes from here: sign-in, step-up, an error for the client, or the code."""
    context = request_context(request)
    auth = session.authentication(request)
    strengths = known_strengths()
    acr, unmet = acr_for(auth, requested=pending.acr_values, strengths=strengths) if auth else (None, ())
    facts = rules.SessionFacts(user_id=auth.user_id if auth else None, auth_time=auth.auth_time if auth else None,
                               signed_in_for_this_request_at=session.oidc_signin_asked_at(request, pending.fingerprint))
    step = rules.authorize_next(pending.params, facts, unmet_strengths=bool(unmet), now=timezone.now())
    here = request.get_full_path()
    user = request.user if isinstance(request.user, User) else None
    if step is rules.AuthorizeNext.SIGN_IN:
        session.oidc_signin_asked(request, pending.fingerprint)
        query = {"next": here}
        if user is not None:
            query["prompt"] = "login"  # signed in, but a new sign-in is needed: show the sign-in page anyway
        if pending.login_hint:
            query["login_hint"] = pending.login_hint
        return "/signin?" + urlencode(query)
    decision: AccessDecision | None = None
    if user is not None and auth is not None and step is rules.AuthorizeNext.ISSUE:
        # Signed in well enough for what the app asked: now the organisation's Conditional Access policies.
        decision = access_decide(user=user, auth=auth, application_id=str(pending.app.app_id))
        if decision.outcome is Outcome.BLOCK:
            record_app_signin(context=context, user=user, app_id=str(pending.app.app_id),
                              app_name=pending.app.display_name, auth=auth, decision=decision,
                              error=SignInError.BLOCKED_BY_CONDITIONAL_ACCESS,
                              failure_reason=decision.message or "", reason_code="conditional_access_blocked",
                              strengths=strengths)
            return _blocked(request, pending, decision, user)
        if decision.outcome is Outcome.STEP_UP:
            unmet = decision.required_strengths
            step = (rules.AuthorizeNext.INTERACTION_REQUIRED if "none" in pending.params.prompt
                    else rules.AuthorizeNext.STEP_UP)
    app_id, app_name = str(pending.app.app_id), pending.app.display_name

    def log(error: SignInError | None, why: str = "", code: str = "", acr: str | None = None) -> None:
        if user is not None:
            record_app_signin(context=context, user=user, app_id=app_id, app_name=app_name, auth=auth,
                              decision=decision, error=error, failure_reason=why, reason_code=code, acr=acr,
                              strengths=strengths)

    if step is rules.AuthorizeNext.STEP_UP:
        log(SignInError.STRONG_AUTHENTICATION_REQUIRED,
            (decision.message or "") if decision is not None else "The app asked for a stronger sign-in (acr_values).",
            "step_up_required")
        return step_up_url([s.id for s in unmet], here)
    if step in (rules.AuthorizeNext.LOGIN_REQUIRED, rules.AuthorizeNext.INTERACTION_REQUIRED):
        login = step is rules.AuthorizeNext.LOGIN_REQUIRED
        description = ("The user must sign in (prompt=none, max_age or id_token_hint)." if login else
                       "The sign-in does not meet the requested authentication strength (acr_values)."
                       if decision is None else (decision.message or "Conditional Access asks for more."))
        log(SignInError.SESSION_REQUIRED if login else SignInError.STRONG_AUTHENTICATION_REQUIRED, description,
            "login_required" if login else "strength_not_met")
        return authorization_refuse(
            pending=pending, error=step.value, reason="login_required" if login else "strength_not_met",
            user=user, context=context, description=description)
    assert auth is not None and user is not None  # noqa: S101 - ISSUE needs a signed-in session
    if "none" not in pending.params.prompt and registration.must_prompt(request):
        return registration.prompt_url(here)  # isRegistrationRequired: add a passkey first (or "Not now")
    session.oidc_signin_done(request)
    if acr is None:  # nothing known was asked for: the strongest built-in strength the session meets
        acr, _ = acr_for(auth, requested=(), strengths=strengths)
    return _issue_code(request, pending, user=user, auth=auth, acr=acr, strengths=strengths, log=log)


def _issue_code(request: HttpRequest, pending: PendingAuthorization, *, user: User, auth: Any, acr: str | None,
                strengths: Mapping[str, Any], log: Callable[..., None]) -> str | HttpResponse:
    """The code for the app, unless the app keeps sending the person back for it (core.oidc.loop_check)."""
    context = request_context(request)
    shape, now = _request_shape(pending), time.time()
    looping, recent = rules.loop_check(session.oidc_issued_times(request, shape), now=now)
    if looping:
        why = (f"The app sent the person back {len(recent)} times in {rules.LOOP_WINDOW_SECONDS} seconds after "
               "getting a sign-in: it may require a stronger sign-in than it asks for.")
        log(SignInError.OTHER, why, "authorize_loop", acr=acr)
        authorization_refusal_record(reason="authorize_loop", context=context)
        return _loop_page(request, pending, acr, strengths)
    location = authorization_issue(pending=pending, user=user, authentication=auth, acr=acr,
                                   sid=session.sid(request), context=context, on_issued=lambda: log(None, acr=acr))
    if "code=" in location:
        session.oidc_issued_record(request, shape, (*recent, now))
    else:
        log(SignInError.USER_DISABLED, "The user can't sign in to this app.", "user_disabled")
    return location


def _request_shape(pending: PendingAuthorization) -> str:
    """What stays the same when a relying party repeats one authorization request (not state, nonce or PKCE)."""
    shape = [str(pending.app.app_id), pending.redirect_uri, pending.scope, list(pending.acr_values),
             sorted(pending.params.prompt), pending.params.max_age]
    return hashlib.sha256(json.dumps(shape).encode()).hexdigest()[:16]


def _loop_page(request: HttpRequest, pending: PendingAuthorization, acr: str | None,
               strengths: Mapping[str, Any]) -> HttpResponse:
    """A relying party keeps sending the person back: say so, and what it asked for against what they met."""
    def name(strength_id: str) -> str:
        found = strengths.get(strength_id)
        return str(found.display_name) if found is not None else strength_id

    return _page(request, "passgate/oidc/loop.html", {
        "app": pending.app, "asked": [name(s) for s in pending.acr_values], "met": name(acr) if acr else None,
        "window": rules.LOOP_WINDOW_SECONDS}, status=400)


def _blocked(request: HttpRequest, pending: PendingAuthorization, decision: AccessDecision,
             user: User) -> HttpResponse:
    """A Conditional Access block: audited; ``prompt=none`` gets ``access_denied`` back at the app, a person a page
    that says which policy blocks them (never a silent redirect)."""
    context = request_context(request)
    message = decision.message or "A Conditional Access policy blocks this sign-in."
    location = authorization_refuse(pending=pending, error="access_denied", description=message,
                                    reason="conditional_access_blocked", user=user, context=context)
    if "none" in pending.params.prompt:
        return _go(location)
    return _page(request, "passgate/blocked.html", {"app_name": pending.app.display_name, "message": message,
                                                    "when": timezone.now()}, status=403)


# --- token --------------------------------------------------------------------------------------------------

def _oauth_json(response: OAuthResponse) -> HttpResponse:
    headers = {k: v for k, v in response.headers if k.lower() != "content-type"}
    return JsonResponse(response.body, status=response.status, headers=headers)


@csrf_exempt  # a back-channel request from the app (or a single-page app's script), its own credentials
@cors_for_spas(methods=("POST",))
@checks_own_text  # RFC 6749 §5.2 invalid_request (apps.oidc.server._token_precheck)
def token(request: HttpRequest) -> HttpResponse:
    return _oauth_json(token_respond(request=_oauth_request(request), context=request_context(request)))


# --- revocation (RFC 7009) and introspection (RFC 7662) -----------------------------------------------------

def _post_only(respond: Callable[..., OAuthResponse], request: HttpRequest) -> HttpResponse:
    """A form-POST endpoint answered by ``respond`` (405 with Allow for any other method)."""
    response = _oauth_json(respond(request=_oauth_request(request), context=request_context(request)))
    if request.method != "POST":
        response.status_code, response["Allow"] = 405, "POST"
    return response


@csrf_exempt  # authenticated by the client's own credentials, never cookies
@cors_for_spas(methods=("POST",))
@checks_own_text  # RFC 6749 §5.2 invalid_request (apps.oidc.revocation)
def revoke(request: HttpRequest) -> HttpResponse:
    return _post_only(revocation_respond, request)


@csrf_exempt  # authenticated by the client's own credentials, never cookies; servers only (no CORS)
@checks_own_text  # RFC 6749 §5.2 invalid_request (apps.oidc.revocation)
def introspect(request: HttpRequest) -> HttpResponse:
    return _post_only(introspection_respond, request)


@csrf_exempt  # authenticated by the client's own credentials (a public client: its client_id), never cookies
@checks_own_text  # RFC 6749 §5.2 invalid_request (apps.oidc.device_authorization)
def device_authorization(request: HttpRequest) -> HttpResponse:
    """RFC 8628 §3.1: a device asks for a device code and a user code (servers and devices only: no CORS)."""
    return _oauth_json(device_authorization_respond(request=_oauth_request(request), context=request_context(request)))


# --- UserInfo -----------------------------------------------------------------------------------------------

def _bearer_error(error: str, description: str, status: int) -> HttpResponse:
    challenge = BEARER_REALM + (f', error="{error}", error_description="{description}"' if error else "")
    body: dict[str, Any] = {"error": error, "error_description": description} if error else {}
    return JsonResponse(body, status=status, headers={**NO_STORE, "WWW-Authenticate": challenge})


class _Malformed(Exception):
    def __init__(self, reason: str, description: str, *, status: int = 400, error: str = "invalid_request") -> None:
        super().__init__(description)
        self.reason, self.description, self.status, self.error = reason, description, status, error


def _presented_token(request: HttpRequest) -> str | None:
    """The access token, sent one way: Authorization: Bearer, or (POST) the form body; never in the URL."""
    if request.method not in ("GET", "POST"):
        raise _Malformed("method_not_allowed", "UserInfo accepts GET and POST.", status=405)
    if "access_token" in request.GET:
        raise _Malformed("token_in_query", "Send the access token in the Authorization header, not the URL.")
    header = request.headers.get("Authorization", "")
    from_header = None
    if header:
        scheme, _, value = header.partition(" ")
        if scheme.lower() != "bearer" or not value.strip() or " " in value.strip():
            raise _Malformed("unsupported_authorization_scheme", "Use Authorization: Bearer <access token>.",
                             status=401, error="invalid_token")
        from_header = value.strip()
    from_body = None
    if request.method == "POST" and request.content_type == "application/x-www-form-urlencoded":
        values = request.POST.getlist("access_token")
        if len(values) > 1:
            raise _Malformed("duplicate_parameter", "The access_token parameter was given more than once.")
        from_body = values[0] if values else None
    if from_header and from_body:
        raise _Malformed("multiple_tokens", "Send the access token one way only (RFC 6750 section 2).")
    presented = from_header or from_body
    if presented and first_unusable(presented) is not None:
        raise _Malformed("invalid_text", "The access token holds a character no token has (NUL or a lone "
                                         "surrogate).", status=401, error="invalid_token")
    return presented


@csrf_exempt  # Bearer-token authenticated, no cookies
@cors_for_spas(methods=("GET", "POST"), expose=("WWW-Authenticate",))
@checks_own_text  # RFC 6750 errors (_presented_token)
def userinfo(request: HttpRequest) -> HttpResponse:
    context = request_context(request)
    try:
        claims = userinfo_claims(access_token=_presented_token(request), context=context)
    except _Malformed as bad:
        userinfo_refusal_record(reason=bad.reason, context=context)
        response = _bearer_error(bad.error, bad.description, bad.status)
        if bad.status == 405:
            response["Allow"] = "GET, POST"
        return response
    except BearerRefused as refused:
        return _bearer_error(refused.error, refused.description, refused.status)
    return JsonResponse(claims, headers=NO_STORE)


# --- RP-initiated logout ------------------------------------------------------------------------------------

LOGOUT_FIELDS = ("id_token_hint", "post_logout_redirect_uri", "state", "client_id")


def _logout_params(request: HttpRequest) -> dict[str, str]:
    source = request.POST if request.method == "POST" else request.GET
    return {name: str(source.get(name, ""))[:MAX_TOKEN_LENGTH] for name in LOGOUT_FIELDS if source.get(name)}


def _end_session(request: HttpRequest, *, reason: str, app: Any = None) -> None:
    user = request.user
    if isinstance(user, User):
        session_tokens_revoke(sid=session.sid(request), user=user, reason=reason, app=app,
                              context=request_context(request), always_audit=True)
    end_django_session(request)  # deletes the server-side session row
    request.session["pg_ended"] = "signed_out"


def _after_logout(logout_request: LogoutRequest) -> HttpResponse:
    location = logout_location(logout_request)
    return _go(location) if location else _go("/signin")


@checks_own_text  # refused in apps.oidc.logout.logout_validate (an error page, never a redirect)
@csrf_exempt  # the app sends the browser here (GET or form POST); nothing ends without a valid hint or a CSRF form
@require_http_methods(["GET", "POST"])
def logout(request: HttpRequest) -> HttpResponse:
    params = _logout_params(request)
    try:
        logout_request = logout_validate(params=params, context=request_context(request))
    except LogoutRefused as refused:
        return _refused_page(request, refused.message, "This sign-out request can't be used")
    user = request.user if isinstance(request.user, User) else None
    if user is None:
        return _after_logout(logout_request)  # nobody is signed in here: nothing to end
    hint = logout_request.hint
    if hint is not None and hint.sub == str(user.pk):
        _end_session(request, reason="rpLogout", app=logout_request.app)
        return _after_logout(logout_request)
    # No proof the app this person uses asked for it: ask them (ASVS 10.6.2, no forced logout). "Sign out" ends at
    # the app's post-logout redirect URI (if any), after a redirect: the page's form-action allows that origin.
    allow_form_action(request, logout_request.post_logout_redirect_uri)
    return _page(request, "passgate/oidc/logout_confirm.html", {"app": logout_request.app, "fields": params})


@require_POST
def logout_confirm(request: HttpRequest) -> HttpResponse:
    params = _logout_params(request)
    try:
        logout_request = logout_validate(params=params, context=request_context(request))
    except LogoutRefused as refused:
        return _refused_page(request, refused.message, "This sign-out request can't be used")
    if request.POST.get("action") != "signout":
        return redirect("/")
    if isinstance(request.user, User):
        _end_session(request, reason="rpLogoutConfirmed", app=logout_request.app)
    return _after_logout(logout_request)
