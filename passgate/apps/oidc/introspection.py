"""RFC 7662 token introspection at ``/oidc/introspect``: is this token live, and what does it carry?

The client authenticates as at the token endpoint and may introspect the tokens it was issued; an app that exposes
an API (a resource server) may also introspect the access tokens issued for its API (RFC 7662 §2.1: the token's
audience). The answer is ``{"active": false}`` for anything else (unknown, expired, revoked, a used refresh token,
a revoked sign-in, a disabled account, another client's token, a token for another API), so a caller learns
nothing about tokens that are not its own; the audit row (``oidc.introspect``) keeps the reason code.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from authlib.oauth2.rfc6749 import OAuth2Error
from django.utils import timezone

from passgate.apps.models import OidcToken
from passgate.apps.oidc.adapter import OAuthHttpRequest, OAuthResponse
from passgate.apps.oidc.revocation import _authenticated_request, _error_response, _find, _presented
from passgate.apps.oidc.server import NO_STORE
from passgate.apps.oidc.tokens import _sign_in_revoked
from passgate.apps.selectors import oidc_issuer
from passgate.apps.services import app_actor, app_target
from passgate.audit.models import Category
from passgate.audit.services import NO_CONTEXT, RequestContext, audit_failure, audit_record

ACTIVITY = "oidc.introspect"


def _inactive_reason(row: OidcToken | None, client_pk: object, *, context: RequestContext) -> str | None:
    """Why the token is not active for this client, or None when it is (the first reason that applies)."""
    if row is None:
        return "token_unknown"
    grant = row.grant
    checks: tuple[tuple[str, Callable[[], bool]], ...] = (
        ("token_other_audience" if row.resource_id else "token_other_client",
         lambda: client_pk not in (grant.app_id, row.resource_id)),
        ("token_revoked", lambda: row.revoked_at is not None or grant.revoked_at is not None),
        ("token_used", lambda: row.used_at is not None),
        ("token_expired", lambda: row.expires_at <= timezone.now()),
        ("user_disabled", lambda: not grant.user.account_enabled),
        ("sign_in_sessions_revoked", lambda: _sign_in_revoked(grant, context=context)),  # revokes the grant too
    )
    return next((reason for reason, applies in checks if applies()), None)


def _claims(row: OidcToken) -> dict[str, Any]:
    grant = row.grant
    found: dict[str, Any] = {
        "active": True, "scope": grant.scope, "client_id": str(grant.app.app_id), "sub": str(grant.user_id),
        "username": grant.user.user_principal_name, "aud": row.audience or str(grant.app.app_id),
        "iss": oidc_issuer(),
        "iat": int(row.created_at.timestamp()), "exp": int(row.expires_at.timestamp()),
        "auth_time": int(grant.auth_time.timestamp()),
    }
    if row.kind == OidcToken.Kind.ACCESS:
        found["token_type"] = "Bearer"  # noqa: S105 - RFC 6749 §7.1's token type, not a secret
    if row.resource_id is not None:  # the API's scope values, as the token's scp claim carries them
        found["scope"] = row.api_scope
    if grant.acr:
        found["acr"] = grant.acr
    return found


def introspection_respond(*, request: OAuthHttpRequest, context: RequestContext = NO_CONTEXT) -> OAuthResponse:
    client = None
    try:
        oauth, client = _authenticated_request(request, context)
        token, hint = _presented(oauth)
    except OAuth2Error as error:
        return _error_response(error, activity=ACTIVITY, context=context, client=client)
    row = _find(token, hint)
    reason = _inactive_reason(row, client.app.pk, context=context)
    details = {"clientId": client.client_id}
    if reason is not None:
        audit_failure(category=Category.SIGN_IN, activity=ACTIVITY, reason=reason, context=context,
                      actor=app_actor(client.app), target=app_target(client.app), details=details)
        return OAuthResponse(status=200, body={"active": False}, headers=list(NO_STORE))
    assert row is not None  # noqa: S101 - _inactive_reason answers token_unknown for None
    audit_record(category=Category.SIGN_IN, activity=ACTIVITY, actor=app_actor(client.app),
                 target=app_target(client.app), context=context,
                 details={**details, "grantId": str(row.grant_id), "tokenType": row.kind})
    return OAuthResponse(status=200, body=_claims(row), headers=list(NO_STORE))
