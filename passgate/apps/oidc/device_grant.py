"""The device code grant at the token endpoint (RFC 8628 §3.4-3.5): the device polls with its device code.

While the person has not decided: ``authorization_pending`` (not audited: it is no refusal, and a device asks
every few seconds); sooner than the interval after the previous poll: ``slow_down``, and the interval grows by 5 s
(``core.device_code.poll_check``); after a denial (by the person, or a Conditional Access block):
``access_denied``; after ``expires_in``: ``expired_token``. Once approved, the first poll takes the tokens (the
same set as the code flow: access token, ID token with the approval's ``auth_time``, ``acr``, ``amr``, ``sid``,
and a refresh token with ``offline_access``) by one conditional UPDATE, so of two concurrent polls exactly one
gets them; any later one, like an unknown code or another client's, is ``invalid_grant``.
"""

from __future__ import annotations

from typing import Any

from authlib.oauth2.rfc6749 import (
    AccessDeniedError,
    InvalidGrantError,
    InvalidRequestError,
    OAuth2Error,
    UnauthorizedClientError,
)
from authlib.oauth2.rfc8628 import DeviceCodeGrant
from authlib.oauth2.rfc8628.errors import AuthorizationPendingError, ExpiredTokenError, SlowDownError
from django.db.models import F
from django.utils import timezone

from passgate.apps.models import DeviceAuthorization
from passgate.apps.oidc.adapter import MAX_TOKEN_LENGTH, _Request, _sha256, _tag
from passgate.apps.oidc.clients import AUTH_METHODS, _Client
from passgate.apps.oidc.grants import _enabled_user, _id_token
from passgate.apps.oidc.tokens import SIGN_IN_REVOKED, _sign_in_revoked
from passgate.core import device_code as device_rules
from passgate.core import oidc as rules
from passgate.directory.models import User

GRANT_TYPE = rules.DEVICE_CODE_GRANT_TYPE
INVALID = "The device code is not valid."


def _device_row(device_code: str) -> DeviceAuthorization | None:
    if len(device_code) > MAX_TOKEN_LENGTH:
        return None
    return (DeviceAuthorization.objects.select_related("app", "grant", "grant__user", "grant__app")
            .filter(device_code_sha256=_sha256(device_code)).first())


def _still_pending(row: DeviceAuthorization) -> OAuth2Error:
    """``slow_down`` when this poll comes too soon (the interval grows by 5 s), else ``authorization_pending``."""
    now = timezone.now()
    poll = device_rules.poll_check(last_polled_at=row.last_polled_at, interval=row.interval, now=now)
    won = DeviceAuthorization.objects.filter(pk=row.pk, last_polled_at=row.last_polled_at).update(
        last_polled_at=now, interval=poll.interval)
    if poll.slow_down:
        return _tag(SlowDownError(), "slow_down")
    if won != 1:  # another poll of this code came in at the same moment: that is polling too fast too
        DeviceAuthorization.objects.filter(pk=row.pk).update(interval=F("interval") + device_rules.SLOW_DOWN_SECONDS)
        return _tag(SlowDownError(), "slow_down")
    return _tag(AuthorizationPendingError(), "authorization_pending")


class _DeviceCodeGrant(DeviceCodeGrant):  # type: ignore[misc]
    GRANT_TYPE = GRANT_TYPE
    TOKEN_ENDPOINT_AUTH_METHODS = AUTH_METHODS
    request: _Request

    def validate_token_request(self) -> None:
        device_code = self.request.form.get("device_code")
        if not device_code:
            raise _tag(InvalidRequestError("The parameter 'device_code' is required."), "device_code_missing")
        client: _Client = self.authenticate_token_endpoint_client()
        if not client.check_grant_type(GRANT_TYPE):
            raise _tag(UnauthorizedClientError("This app is not registered for the device authorization grant."),
                       "device_code_not_allowed")
        row = _device_row(device_code)
        if row is None:
            raise _tag(InvalidGrantError(INVALID), "device_code_unknown")
        if row.app_id != client.app.pk:
            raise _tag(InvalidGrantError(INVALID), "device_code_other_client")
        if row.used_at is not None:
            raise _tag(InvalidGrantError("The device code was already used."), "device_code_used")
        if row.expires_at <= timezone.now():
            raise _tag(ExpiredTokenError(), "device_code_expired")
        if row.status == DeviceAuthorization.Status.DENIED:
            raise _tag(AccessDeniedError("The request was denied."), "device_authorization_denied")
        if row.status == DeviceAuthorization.Status.PENDING or row.grant is None:
            raise _still_pending(row)
        won = DeviceAuthorization.objects.filter(pk=row.pk, used_at__isnull=True).update(used_at=timezone.now())
        if won != 1:
            raise _tag(InvalidGrantError("The device code was already used."), "device_code_used")
        grant = row.grant
        if grant.revoked_at is not None:
            raise _tag(InvalidGrantError("The authorization was revoked."), "grant_revoked")
        if _sign_in_revoked(grant, context=self.request.context):
            raise _tag(InvalidGrantError("The authorization was revoked: the user's sessions were revoked."),
                       SIGN_IN_REVOKED)
        self.request.user = _enabled_user(grant)
        self.request.credential = row
        self.request.facts["grant"] = grant

    def create_token_response(self) -> tuple[int, dict[str, Any], list[tuple[str, str]]]:
        grant = self.request.facts["grant"]
        user: User = self.request.user
        token = dict(self.generate_token(user=user, scope=grant.scope, include_refresh_token=True))
        if rules.SCOPE_OPENID in grant.scope.split():
            token["id_token"] = _id_token(grant=grant, client=self.request.client, user=user, scope=grant.scope,
                                          access_token=token["access_token"], nonce=None)
        self.save_token(token)
        return 200, token, self.TOKEN_RESPONSE_HEADER
