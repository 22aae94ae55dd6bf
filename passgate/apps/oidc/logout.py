"""RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0 §2-3): a logout request checked, and where it goes.

Ending the session and the access tokens it gave to apps is ``tokens.session_tokens_revoke`` (the web adapter
calls it once the person is known).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from authlib.common.urls import add_params_to_uri

from passgate.apps.models import AppRegistration
from passgate.apps.oidc.adapter import MAX_PARAMETER_LENGTH, _unusable_parameter
from passgate.apps.oidc.claims import IdTokenHint, id_token_hint_verify
from passgate.apps.oidc.clients import query_client
from passgate.audit.models import Category
from passgate.audit.services import NO_CONTEXT, RequestContext, audit_failure


@dataclass(frozen=True)
class LogoutRequest:
    """A checked RP-initiated logout request (OpenID Connect RP-Initiated Logout 1.0 §2-3)."""

    hint: IdTokenHint | None
    app: AppRegistration | None
    post_logout_redirect_uri: str | None  # registered for the hint's client
    state: str | None


class LogoutRefused(Exception):
    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message)
        self.message, self.reason = message, reason


def logout_validate(*, params: Mapping[str, str], context: RequestContext = NO_CONTEXT) -> LogoutRequest:
    """A redirect after logout needs a post_logout_redirect_uri registered for the client that asks: named by an
    ``id_token_hint`` we issued, or by ``client_id`` alone (RP-Initiated Logout 1.0 §2; the person is then asked,
    since nothing proves which session the app means). Anything else is refused (an error page, never a
    redirect)."""

    def refuse(message: str, reason: str) -> LogoutRefused:
        audit_failure(category=Category.SIGN_IN, activity="oidc.logout", reason=reason, context=context,
                      details={"clientId": str(params.get("client_id", ""))[:64]})
        return LogoutRefused(message, reason)

    unusable = _unusable_parameter({name: [value] for name, value in params.items()})
    if unusable is not None:
        raise refuse(unusable.message, unusable.code)
    raw_hint, target = params.get("id_token_hint", ""), params.get("post_logout_redirect_uri", "")
    hint = id_token_hint_verify(raw_hint) if raw_hint else None
    if raw_hint and hint is None:
        raise refuse("The logout request carries an ID token this server did not issue.", "id_token_hint_invalid")
    app = None
    if hint is not None:
        client = query_client(hint.audiences[0])
        app = client.app if client else None
        client_id = params.get("client_id")
        if client_id and client_id not in hint.audiences:
            raise refuse("client_id does not match the ID token's audience.", "client_id_mismatch")
    if target:
        if hint is None:
            client_id = params.get("client_id")
            if not client_id:
                raise refuse("A return address after logout needs the app that asks for it: its client_id or "
                             "an id_token_hint.", "id_token_hint_missing")
            client = query_client(client_id)
            app = client.app if client else None
        if app is None or target not in app.post_logout_redirect_uris:
            raise refuse("This return address is not registered for the app.", "post_logout_redirect_uri_invalid")
    state = params.get("state") or None
    return LogoutRequest(hint=hint, app=app, post_logout_redirect_uri=target or None,
                         state=state[:MAX_PARAMETER_LENGTH] if state else None)


def logout_location(request: LogoutRequest) -> str | None:
    if request.post_logout_redirect_uri is None:
        return None
    params = [("state", request.state)] if request.state else []
    return str(add_params_to_uri(request.post_logout_redirect_uri, params)) if params \
        else request.post_logout_redirect_uri
