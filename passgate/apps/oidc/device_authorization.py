"""The device authorization grant's first and middle steps (RFC 8628 §3.1-3.3): the device asks for codes, and the
person approves or denies on the verification page. The polling at the token endpoint is ``device_grant``.

- ``device_authorization_respond``: ``POST /oidc/device_authorization``. The client authenticates as at the token
  endpoint (a public client names itself with ``client_id``); its registration must allow the grant
  (``allow_device_code``) and the scope must hold ``openid``. The answer: a device code (256 random bits, stored
  as SHA-256), a user code (``core.device_code``, stored as SHA-256 of its normalised form), the verification URI
  (with and without the code), ``expires_in`` 600 and ``interval`` 5. Audited as ``oidc.deviceAuthorization``.
  An app holds at most ``MAX_PENDING_PER_APP`` undecided, unexpired device codes: past that, 429 ``slow_down``
  (reason ``device_codes_limit``), so a client (or whoever has its id, for a public one) cannot fill the table.
- ``device_authorization_find``: the pending, unexpired request a user code names, for the signed-in person; a
  code that names none is audited (``oidc.deviceVerify``, ``user_code_unknown`` or ``user_code_malformed``). The
  web adapter throttles the look-ups (``core.throttle``, ``device.user`` and ``source``).
- ``device_authorization_approve`` / ``device_authorization_deny``: the person's decision, once (a conditional
  UPDATE of a pending row), audited as ``oidc.deviceVerify``. Approval makes the grant the tokens come from.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable

from authlib.oauth2.rfc6749 import InvalidScopeError, OAuth2Error, UnauthorizedClientError
from django.db import IntegrityError, transaction
from django.utils import timezone

from passgate.apps.models import DeviceAuthorization, OidcGrant
from passgate.apps.oidc.adapter import TOKEN_BYTES, OAuthHttpRequest, OAuthResponse, _Request, _sha256, _tag
from passgate.apps.oidc.clients import _Client
from passgate.apps.oidc.revocation import _authenticated_request, _error_response
from passgate.apps.oidc.server import NO_STORE
from passgate.apps.oidc.tokens import ACCESS_TOKEN_LIFETIME, GRANT_MAX_LIFETIME
from passgate.apps.selectors import oidc_issuer
from passgate.apps.services import app_actor, app_target
from passgate.audit.models import Category
from passgate.audit.services import NO_CONTEXT, RequestContext, audit_failure, audit_record
from passgate.core import device_code as device_rules
from passgate.core import oidc as rules
from passgate.core.access.methods import Authentication, amr
from passgate.directory.models import User
from passgate.directory.services import actor_for

VERIFY = "oidc.deviceVerify"
VERIFICATION_PATH = "/device"
CODE_TRIES = 5  # a new user code equal to a stored one (2^-34 each) is drawn again
MAX_PENDING_PER_APP = 1000  # undecided, unexpired device codes an app may hold at once


class DeviceCodesLimitError(OAuth2Error):  # type: ignore[misc]
    """Too many device codes waiting for this app: try again later (RFC 8628's slow_down, answered 429)."""
    error = "slow_down"
    status_code = 429


def verification_uri() -> str:
    return oidc_issuer() + VERIFICATION_PATH


def _client_of(request: OAuthHttpRequest, context: RequestContext) -> tuple[_Request, _Client]:
    oauth, client = _authenticated_request(request, context, endpoint="device_authorization")
    if not client.check_grant_type(rules.DEVICE_CODE_GRANT_TYPE):
        raise _tag(UnauthorizedClientError("This app is not registered for the device authorization grant."),
                   "device_code_not_allowed")
    return oauth, client


def _store(client: _Client, scope: str) -> tuple[str, str, DeviceAuthorization]:
    now = timezone.now()
    device_code = secrets.token_urlsafe(TOKEN_BYTES)
    for _ in range(CODE_TRIES):
        user_code = device_rules.user_code_new()
        try:
            with transaction.atomic():
                row = DeviceAuthorization.objects.create(
                    device_code_sha256=_sha256(device_code), user_code_sha256=_sha256(user_code), app=client.app,
                    scope=scope, interval=device_rules.INTERVAL_SECONDS, created_at=now,
                    expires_at=now + device_rules.EXPIRES_IN)
            return device_code, user_code, row
        except IntegrityError:
            continue
    raise RuntimeError("no free user code after several draws")


def device_authorization_respond(*, request: OAuthHttpRequest,
                                 context: RequestContext = NO_CONTEXT) -> OAuthResponse:
    """RFC 8628 §3.1-3.2: codes for a device, or the §3.2/RFC 6749 §5.2 error (audited)."""
    activity = "oidc.deviceAuthorization"
    client = None
    try:
        oauth, client = _client_of(request, context)
        requested = oauth.form.get("scope", "")
        if rules.SCOPE_OPENID not in requested.split():
            raise _tag(InvalidScopeError("The scope must include openid: this is an OpenID Connect provider."),
                       "openid_scope_missing")
        pending = DeviceAuthorization.objects.filter(app=client.app, status=DeviceAuthorization.Status.PENDING,
                                                     expires_at__gt=timezone.now())
        if pending.count() >= MAX_PENDING_PER_APP:
            raise _tag(DeviceCodesLimitError(f"This app already has {MAX_PENDING_PER_APP} device codes waiting to be "
                                             "used: try again in a few minutes."), "device_codes_limit")
    except OAuth2Error as error:
        response = _error_response(error, activity=activity, context=context, client=client)
        if request.method != "POST":
            return OAuthResponse(status=405, body=response.body, headers=[*response.headers, ("Allow", "POST")])
        return response
    scope = " ".join(rules.granted_scopes(requested, client.app.allowed_scopes))
    device_code, user_code, row = _store(client, scope)
    shown = device_rules.user_code_display(user_code)
    audit_record(category=Category.SIGN_IN, activity=activity, actor=app_actor(client.app),
                 target=app_target(client.app), context=context,
                 details={"clientId": client.client_id, "deviceAuthorizationId": row.pk, "scope": scope,
                          "clientAuth": oauth.auth_method})
    body = {"device_code": device_code, "user_code": shown, "verification_uri": verification_uri(),
            "verification_uri_complete": f"{verification_uri()}?user_code={shown}",
            "expires_in": int(device_rules.EXPIRES_IN.total_seconds()), "interval": device_rules.INTERVAL_SECONDS}
    return OAuthResponse(status=200, body=body, headers=list(NO_STORE))


def device_authorization_find(*, user_code: object, user: User,
                              context: RequestContext = NO_CONTEXT) -> DeviceAuthorization | None:
    """The pending, unexpired device authorization ``user_code`` names, or None (audited with the reason)."""
    normalised = device_rules.user_code_normalise(user_code)
    row = None
    if normalised is not None:
        row = (DeviceAuthorization.objects.select_related("app")
               .filter(user_code_sha256=_sha256(normalised), status=DeviceAuthorization.Status.PENDING,
                       expires_at__gt=timezone.now()).first())
    if row is None:
        audit_failure(category=Category.SIGN_IN, activity=VERIFY, context=context, actor=actor_for(user),
                      reason="user_code_malformed" if normalised is None else "user_code_unknown")
    return row


def _decide(row: DeviceAuthorization, *, status: DeviceAuthorization.Status, grant: OidcGrant | None = None) -> bool:
    now = timezone.now()
    return DeviceAuthorization.objects.filter(pk=row.pk, status=DeviceAuthorization.Status.PENDING,
                                              expires_at__gt=now).update(status=status, grant=grant,
                                                                         decided_at=now) == 1


def device_authorization_approve(*, row: DeviceAuthorization, user: User, authentication: Authentication,
                                 acr: str | None, sid: str, context: RequestContext = NO_CONTEXT,
                                 on_approved: Callable[[], None] | None = None) -> bool:
    """The person approves: the grant (who, ``auth_time``, ``acr``, ``amr``, ``sid``) is bound to the device code.
    False (audited) when it was decided or expired meanwhile, or the account can't sign in. ``on_approved`` runs in
    the same transaction (the sign-in log's entry)."""
    reason = None
    if not user.account_enabled or authentication.user_id != str(user.pk):
        reason = "user_disabled"
    else:
        now = timezone.now()
        offline = rules.SCOPE_OFFLINE_ACCESS in row.scope.split()
        with transaction.atomic():
            grant = OidcGrant.objects.create(
                app=row.app, user=user, scope=row.scope, sid=sid, auth_time=authentication.auth_time,
                acr=acr or "", amr=amr(authentication), created_at=now,
                expires_at=now + (GRANT_MAX_LIFETIME if offline else ACCESS_TOKEN_LIFETIME))
            if _decide(row, status=DeviceAuthorization.Status.APPROVED, grant=grant):
                audit_record(category=Category.SIGN_IN, activity=VERIFY, actor=actor_for(user),
                             target=app_target(row.app), context=context,
                             details={"clientId": str(row.app.app_id), "decision": "approved", "grantId": str(grant.pk),
                                      "deviceAuthorizationId": row.pk, "scope": grant.scope, "acr": grant.acr,
                                      "amr": grant.amr})
                if on_approved is not None:
                    on_approved()
                return True
            transaction.set_rollback(True)
        reason = "device_authorization_decided"
    audit_failure(category=Category.SIGN_IN, activity=VERIFY, reason=reason, actor=actor_for(user),
                  target=app_target(row.app), context=context,
                  details={"clientId": str(row.app.app_id), "deviceAuthorizationId": row.pk})
    return False


def device_authorization_deny(*, row: DeviceAuthorization, user: User, reason: str,
                              context: RequestContext = NO_CONTEXT) -> bool:
    """The person denies (``user_denied``), or Conditional Access blocks them (``conditional_access_blocked``): the
    device's next poll gets ``access_denied``. Audited as a refusal with the reason; False when already decided."""
    denied = _decide(row, status=DeviceAuthorization.Status.DENIED)
    audit_failure(category=Category.SIGN_IN, activity=VERIFY,
                  reason=reason if denied else "device_authorization_decided",
                  actor=actor_for(user), target=app_target(row.app), context=context,
                  details={"clientId": str(row.app.app_id), "deviceAuthorizationId": row.pk})
    return denied
