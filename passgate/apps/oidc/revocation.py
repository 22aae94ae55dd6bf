"""RFC 7009 token revocation at ``/oidc/revoke``, and what it shares with introspection (RFC 7662).

A client authenticates as at the token endpoint (its registered method; a public client names itself with
``client_id``) and presents a token it was issued:

- a refresh token ends its whole grant (every access and refresh token issued from the same code, §2.1);
- an access token ends that token alone;
- a token Passgate does not know (expired and purged, mistyped, or already revoked) is answered 200 as the RFC
  says, and changes nothing;
- another client's token is refused (400 ``unauthorized_client``) and changes nothing.

Every answer is audited (``oidc.revoke``): what was revoked, or the reason code of the refusal.
"""

from __future__ import annotations

from authlib.oauth2.rfc6749 import InvalidRequestError, OAuth2Error, UnauthorizedClientError
from django.utils import timezone

from passgate.apps.models import OidcToken
from passgate.apps.oidc.adapter import (
    MAX_TOKEN_LENGTH,
    OAuthHttpRequest,
    OAuthResponse,
    _reason,
    _Request,
    _tag,
)
from passgate.apps.oidc.clients import AUTH_METHODS, _Client, authenticate_client
from passgate.apps.oidc.server import NO_STORE, _parameter_problem
from passgate.apps.oidc.tokens import (
    ACCESS_TOKEN_PREFIX,
    REFRESH_TOKEN_PREFIX,
    _revoke_grant,
    _token_row,
)
from passgate.apps.services import app_actor, app_target
from passgate.audit.models import Category
from passgate.audit.services import NO_CONTEXT, RequestContext, audit_failure, audit_record

HINTS = {"access_token": OidcToken.Kind.ACCESS, "refresh_token": OidcToken.Kind.REFRESH}


def _error_response(error: OAuth2Error, *, activity: str, context: RequestContext,
                    client: _Client | None = None) -> OAuthResponse:
    audit_failure(category=Category.SIGN_IN, activity=activity, reason=_reason(error), context=context,
                  actor=app_actor(client.app) if client else None, target=app_target(client.app) if client else None,
                  details={"clientId": client.client_id if client else ""})
    headers = list(NO_STORE)
    if error.status_code == 401:
        headers.append(("WWW-Authenticate", 'Basic realm="passgate", error="invalid_client"'))
    body = {"error": error.error, "error_description": error.description or ""}
    return OAuthResponse(status=error.status_code or 400, body=body, headers=headers)


def _authenticated_request(request: OAuthHttpRequest, context: RequestContext, *,
                           endpoint: str = "revocation") -> tuple[_Request, _Client]:
    """The request as Authlib reads it and its authenticated client, or the OAuth error to answer with (revocation,
    introspection and device authorization: a form POST, no token or credential in the URL)."""
    if request.method != "POST":
        raise _tag(InvalidRequestError("This endpoint accepts POST only."), "method_not_allowed")
    if request.content_type != "application/x-www-form-urlencoded":
        raise _tag(InvalidRequestError("The body must be application/x-www-form-urlencoded."),
                   "unsupported_media_type")
    problem = _parameter_problem(request)
    if problem is not None:
        raise problem
    if {"token", "client_secret", "client_assertion"} & set(request.query):
        raise _tag(InvalidRequestError("Tokens and credentials belong in the body, never in the URL."),
                   "credentials_in_query")
    oauth = _Request(request, context)
    client = authenticate_client(oauth, AUTH_METHODS, endpoint=endpoint)
    return oauth, client


def _presented(oauth: _Request) -> tuple[str, str]:
    """The token and its hint ("" when none or one Passgate does not know: RFC 7009 §2.1 lets it be ignored)."""
    token = oauth.form.get("token", "")
    if not token:
        raise _tag(InvalidRequestError("The parameter 'token' is required."), "token_missing")
    hint = oauth.form.get("token_type_hint", "")
    return token, hint if hint in HINTS else ""


def _find(token: str, hint: str) -> OidcToken | None:
    """The stored token, looked up by its hint's kind first, then the other (the hint may be wrong)."""
    jwt_shaped = token.startswith("ey") and token.count(".") == 2  # an access token for an API (RFC 9068)
    if len(token) > MAX_TOKEN_LENGTH or not (jwt_shaped or token.startswith((ACCESS_TOKEN_PREFIX,
                                                                             REFRESH_TOKEN_PREFIX))):
        return None
    kinds = [HINTS[hint]] if hint else []
    kinds += [k for k in (OidcToken.Kind.ACCESS, OidcToken.Kind.REFRESH) if k not in kinds]
    for kind in kinds:
        row = _token_row(token, kind)
        if row is not None:
            return row
    return None


def revocation_respond(*, request: OAuthHttpRequest, context: RequestContext = NO_CONTEXT) -> OAuthResponse:
    activity = "oidc.revoke"
    client = None
    try:
        oauth, client = _authenticated_request(request, context)
        token, hint = _presented(oauth)
        row = _find(token, hint)
        if row is not None and row.grant.app_id != client.app.pk:
            raise _tag(UnauthorizedClientError("This token was not issued to this client."), "token_other_client")
    except OAuth2Error as error:
        return _error_response(error, activity=activity, context=context, client=client)
    if row is None:
        audit_failure(category=Category.SIGN_IN, activity=activity, reason="token_unknown", context=context,
                      actor=app_actor(client.app), target=app_target(client.app),
                      details={"clientId": client.client_id})
        return OAuthResponse(status=200, body={}, headers=list(NO_STORE))
    if row.kind == OidcToken.Kind.REFRESH:
        ended = _revoke_grant(row.grant, reason="client_revoked", context=context)
        details = {"tokenType": "refresh_token", "grantId": str(row.grant_id), "tokensRevoked": ended}
    else:
        ended = OidcToken.objects.filter(pk=row.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
        details = {"tokenType": "access_token", "grantId": str(row.grant_id), "tokensRevoked": ended}
    audit_record(category=Category.SIGN_IN, activity=activity, actor=app_actor(client.app),
                 target=app_target(client.app), context=context, details={"clientId": client.client_id, **details})
    return OAuthResponse(status=200, body={}, headers=list(NO_STORE))
