"""What the provider issues and how long it lives; tokens stored and looked up (SHA-256 only); grants revoked.

- Access tokens: opaque 256-bit random strings (``pgat_``), 1 hour, for UserInfo only. Every use is a database
  look-up anyway (they must be revocable), so a signed JWT would add a second validation path and nothing else;
  an opaque token also cannot be mistaken for a Graph API token. A token for an API an app exposes is an RFC 9068
  JWT instead (``access_tokens``), stored the same way, with its API (``resource``), audience and scope values.
- Refresh tokens (``pgrt_``): only when ``offline_access`` was granted; 14 days each, 90 days at most per grant.
- Revocation ends a grant (every token issued from one code): a code replayed, a rotated refresh token used again,
  the person's sign-in sessions revoked (``revokeSignInSessions``, a disabled account). A session that ends
  (logout, sign-out) ends the access tokens its sign-ins gave to apps.
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from passgate.apps.models import (
    AppRegistration,
    AuthorizationCode,
    ClientAssertionJti,
    DeviceAuthorization,
    OidcGrant,
    OidcToken,
)
from passgate.apps.oidc.access_tokens import ApiToken
from passgate.apps.oidc.adapter import TOKEN_BYTES, _Request, _sha256
from passgate.apps.oidc.backchannel import backchannel_logout
from passgate.apps.oidc.clients import _Client
from passgate.apps.services import app_target
from passgate.audit.models import Category
from passgate.audit.services import NO_CONTEXT, Actor, RequestContext, audit_record
from passgate.core import oidc as rules
from passgate.core import sessions as session_rules
from passgate.directory.models import User
from passgate.directory.services import actor_for

CODE_LIFETIME = timedelta(seconds=60)
ACCESS_TOKEN_LIFETIME = timedelta(hours=1)
ID_TOKEN_LIFETIME = timedelta(hours=1)
REFRESH_TOKEN_LIFETIME = timedelta(days=14)
GRANT_MAX_LIFETIME = timedelta(days=90)
ACCESS_TOKEN_PREFIX = "pgat_"  # noqa: S105 - a prefix, so secret scanners can spot leaked tokens
REFRESH_TOKEN_PREFIX = "pgrt_"  # noqa: S105
SIGN_IN_REVOKED = "sign_in_sessions_revoked"


# --- issuance and storage -----------------------------------------------------------------------------------

def _generate_tokens(grant_type: str, client: _Client, user: User | None = None, *, scope: str | None = None,
                     expires_in: int | None = None, include_refresh_token: bool = True) -> dict[str, Any]:
    token: dict[str, Any] = {
        "token_type": "Bearer", "access_token": ACCESS_TOKEN_PREFIX + secrets.token_urlsafe(TOKEN_BYTES),
        "expires_in": int(ACCESS_TOKEN_LIFETIME.total_seconds()), "scope": scope or "",
    }
    if include_refresh_token and rules.SCOPE_OFFLINE_ACCESS in (scope or "").split():
        token["refresh_token"] = REFRESH_TOKEN_PREFIX + secrets.token_urlsafe(TOKEN_BYTES)
    return token


def _save_token(token: dict[str, Any], request: _Request) -> None:
    """Store the tokens just issued from the request's grant (their SHA-256 only), and audit the issue."""
    grant: OidcGrant = request.facts["grant"]
    api: ApiToken | None = request.facts.get("api_token")
    now = timezone.now()
    for_api = {"resource": api.request.resource, "audience": api.request.audience,
               "api_scope": " ".join(api.request.values)} if api is not None else {}
    with transaction.atomic():
        OidcToken.objects.create(token_sha256=_sha256(token["access_token"]), kind=OidcToken.Kind.ACCESS,
                                 grant=grant, created_at=now, expires_at=now + ACCESS_TOKEN_LIFETIME, **for_api)
        if "refresh_token" in token:
            OidcToken.objects.create(token_sha256=_sha256(token["refresh_token"]), kind=OidcToken.Kind.REFRESH,
                                     grant=grant, created_at=now,
                                     expires_at=min(now + REFRESH_TOKEN_LIFETIME, grant.expires_at))
        audit_record(category=Category.SIGN_IN, activity="oidc.token", actor=actor_for(grant.user),
                     target=app_target(grant.app), context=request.context,
                     details={"grantType": request.payload.grant_type, "grantId": str(grant.pk),
                              "scope": token["scope"], "refreshToken": "refresh_token" in token,
                              "clientAuth": request.auth_method,
                              **({"audience": api.request.audience, "jti": api.jti} if api is not None else {})})


def _token_row(token: str, kind: OidcToken.Kind) -> OidcToken | None:
    """The stored token of this kind (with its grant, user and app), or None."""
    return (OidcToken.objects.select_related("grant", "grant__user", "grant__app")
            .filter(token_sha256=_sha256(token), kind=kind).first())


# --- revocation ---------------------------------------------------------------------------------------------

def _revoke_grant(grant: OidcGrant, *, reason: str, context: RequestContext) -> int:
    """Revoke a grant (every token issued from its code); returns how many live tokens that ended."""
    now = timezone.now()
    with transaction.atomic():
        first = OidcGrant.objects.filter(pk=grant.pk, revoked_at__isnull=True).update(revoked_at=now,
                                                                                       revoked_reason=reason)
        ended = OidcToken.objects.filter(grant=grant, revoked_at__isnull=True, expires_at__gt=now).update(
            revoked_at=now)
        if first:
            audit_record(category=Category.SIGN_IN, activity="oidc.grantRevoke", actor=Actor.system(),
                         target=app_target(grant.app), context=context,
                         details={"grantId": str(grant.pk), "reason": reason, "tokensRevoked": ended,
                                  "user": str(grant.user_id)})
    return ended


def _sign_in_revoked(grant: OidcGrant, *, context: RequestContext) -> bool:
    """Whether the person's sign-in sessions were revoked (``revokeSignInSessions``, or disabling the account) at
    or after the sign-in this grant rests on; if so the grant is revoked, with every token issued from it."""
    if not session_rules.revoked(grant.auth_time, grant.user.sign_in_sessions_valid_from):
        return False
    _revoke_grant(grant, reason=SIGN_IN_REVOKED, context=context)
    return True


def session_tokens_revoke(*, sid: str, user: User, reason: str, app: AppRegistration | None = None,
                          always_audit: bool = False, context: RequestContext = NO_CONTEXT) -> int:
    """A session ended: revoke the access tokens issued from its sign-ins (refresh tokens of ``offline_access``
    grants live on: that is what offline access is, OIDC §11). Audited as ``oidc.logout`` (always for an
    RP-initiated logout, else only when something was revoked)."""
    now = timezone.now()
    with transaction.atomic():
        ended = OidcToken.objects.filter(grant__sid=sid, grant__user=user, kind=OidcToken.Kind.ACCESS,
                                         revoked_at__isnull=True, expires_at__gt=now).update(revoked_at=now)
        if ended or always_audit:
            audit_record(category=Category.SIGN_IN, activity="oidc.logout", actor=actor_for(user),
                         target=app_target(app) if app else None, context=context,
                         details={"reason": reason, "accessTokensRevoked": ended,
                                  "clientId": str(app.app_id) if app else ""})
    if reason != session_rules.SessionVerdict.SESSIONS_REVOKED.value:  # those apps were told at the revocation
        backchannel_logout(user=user, sid=sid, reason=reason, context=context)
    return ended


# --- purge --------------------------------------------------------------------------------------------------

def oidc_purge(*, older_than: timedelta = timedelta(days=1)) -> int:
    """Delete codes (device codes too), tokens and grants that ended more than ``older_than`` ago, and spent
    assertion ids."""
    cutoff = timezone.now() - older_than
    deleted = AuthorizationCode.objects.filter(expires_at__lt=cutoff).delete()[0]
    deleted += DeviceAuthorization.objects.filter(expires_at__lt=cutoff).delete()[0]
    deleted += OidcToken.objects.filter(expires_at__lt=cutoff).delete()[0]
    deleted += OidcGrant.objects.filter(expires_at__lt=cutoff, tokens__isnull=True).delete()[0]
    deleted += ClientAssertionJti.objects.filter(expires_at__lt=timezone.now()).delete()[0]
    return deleted
