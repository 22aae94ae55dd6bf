"""UserInfo (OIDC Core §5.3): the claims for a valid access token, or an RFC 6750 §3.1 refusal, audited."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from passgate.apps.models import OidcGrant, OidcToken
from passgate.apps.oidc.adapter import MAX_TOKEN_LENGTH
from passgate.apps.oidc.claims import user_claims
from passgate.apps.oidc.tokens import SIGN_IN_REVOKED, _sign_in_revoked, _token_row
from passgate.apps.services import app_target
from passgate.audit.models import Category
from passgate.audit.services import NO_CONTEXT, RequestContext, audit_failure
from passgate.core import oidc as rules
from passgate.directory.services import actor_for


class BearerRefused(Exception):
    """RFC 6750 §3.1: ``error`` (empty when no token was given at all), HTTP status, description."""

    def __init__(self, *, error: str, description: str, status: int, reason: str) -> None:
        super().__init__(description)
        self.error, self.description, self.status, self.reason = error, description, status, reason


def _bearer_refuse(error: str, description: str, status: int, reason: str, *, context: RequestContext,
                   grant: OidcGrant | None = None) -> BearerRefused:
    audit_failure(category=Category.SIGN_IN, activity="oidc.userinfo", reason=reason, context=context,
                  actor=actor_for(grant.user) if grant else None, target=app_target(grant.app) if grant else None)
    return BearerRefused(error=error, description=description, status=status, reason=reason)


def userinfo_claims(*, access_token: str | None, context: RequestContext = NO_CONTEXT) -> dict[str, Any]:
    """The claims for a valid access token (``sub`` identical to the ID token's), or :class:`BearerRefused`."""
    if not access_token:
        raise _bearer_refuse("", "An access token is required.", 401, "token_missing", context=context)
    if len(access_token) > MAX_TOKEN_LENGTH:
        raise _bearer_refuse("invalid_token", "The access token is not valid.", 401, "token_malformed",
                             context=context)
    row = _token_row(access_token, OidcToken.Kind.ACCESS)
    if row is None:
        raise _bearer_refuse("invalid_token", "The access token is not valid.", 401, "token_unknown", context=context)
    grant = row.grant
    if row.resource_id is not None:  # an RFC 9068 token: its audience is an API, not this provider
        raise _bearer_refuse("invalid_token", "The access token is for an API, not for UserInfo.", 401,
                             "token_audience", context=context, grant=grant)
    if row.revoked_at is not None or grant.revoked_at is not None:
        raise _bearer_refuse("invalid_token", "The access token was revoked.", 401, "token_revoked",
                             context=context, grant=grant)
    if _sign_in_revoked(grant, context=context):
        raise _bearer_refuse("invalid_token", "The access token was revoked: the user's sessions were revoked.", 401,
                             SIGN_IN_REVOKED, context=context, grant=grant)
    if row.expires_at <= timezone.now():
        raise _bearer_refuse("invalid_token", "The access token has expired.", 401, "token_expired",
                             context=context, grant=grant)
    if not grant.user.account_enabled:
        raise _bearer_refuse("invalid_token", "The user's account is disabled.", 401, "user_disabled",
                             context=context, grant=grant)
    if rules.SCOPE_OPENID not in grant.scope.split():
        raise _bearer_refuse("insufficient_scope", "The access token was not granted the openid scope.", 403,
                             "insufficient_scope", context=context, grant=grant)
    return user_claims(grant.user, grant.scope)


def userinfo_refusal_record(*, reason: str, context: RequestContext = NO_CONTEXT) -> None:
    """Audit a UserInfo request refused before any token was looked up (two ways of sending one, ...)."""
    audit_failure(category=Category.SIGN_IN, activity="oidc.userinfo", reason=reason, context=context)
