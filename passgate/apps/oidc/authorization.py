"""The authorization endpoint (RFC 6749 §4.1.1-2, OIDC Core §3.1.2): a request checked, refused or answered with
a code.

The web adapter checks the request (:func:`authorization_validate`), lets the session prove what it must
(``core.oidc.authorize_next``), then issues the code (:func:`authorization_issue`) or sends an error back to the
client (:func:`authorization_refuse`). ``iss`` is in every authorization response (RFC 9207), errors included.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import urlencode

from authlib.common.urls import add_params_to_uri
from authlib.oauth2.rfc6749 import AccessDeniedError, InvalidClientError, OAuth2Error
from authlib.oauth2.rfc6749.requests import OAuth2Payload
from django.db import transaction

from passgate.apps.models import AppRegistration, OidcGrant
from passgate.apps.oidc.adapter import OAuthHttpRequest, _ascii, _reason, _Request
from passgate.apps.oidc.claims import IdTokenHint
from passgate.apps.oidc.grants import _CodeGrant
from passgate.apps.oidc.server import _the_server
from passgate.apps.selectors import oidc_issuer
from passgate.apps.services import app_actor, app_target
from passgate.audit.models import Category
from passgate.audit.services import NO_CONTEXT, RequestContext, audit_failure, audit_record
from passgate.core import oidc as rules
from passgate.core.access.methods import Authentication, amr
from passgate.directory.models import User
from passgate.directory.services import actor_for


class AuthorizationRefused(Exception):
    """A refused authorization request. With ``location`` the browser goes back to the client with an OAuth error
    (state and iss included); without, the client or redirect URI can't be trusted: show an error page."""

    def __init__(self, *, error: str, description: str, reason: str, location: str | None) -> None:
        super().__init__(f"{error}: {description}")
        self.error, self.description, self.reason, self.location = error, description, reason, location


@dataclass(frozen=True)
class PendingAuthorization:
    """A valid authorization request, waiting for the session to be good enough."""

    app: AppRegistration
    redirect_uri: str
    state: str | None
    scope: str
    params: rules.AuthorizeParameters
    login_hint: str
    acr_values: tuple[str, ...]
    fingerprint: str
    grant: _CodeGrant


def _error_location(redirect_uri: str, *, error: str, description: str, state: str | None) -> str:
    params = [("error", error), ("error_description", description)]
    if state:
        params.append(("state", state))
    params.append(("iss", oidc_issuer()))
    return str(add_params_to_uri(redirect_uri, params))


def _fingerprint(params: Mapping[str, Sequence[str]]) -> str:
    canonical = urlencode(sorted((k, v) for k, values in params.items() for v in values))
    return hashlib.sha256(canonical.encode()).hexdigest()[:32]


def _page_reason(error: OAuth2Error, payload: OAuth2Payload) -> str:
    tagged = getattr(error, "passgate_reason", None)
    if tagged:
        return str(tagged)
    if isinstance(error, InvalidClientError):
        return "unknown_client" if payload.client_id else "client_id_missing"
    if (error.description or "").startswith("Multiple"):
        return "duplicate_parameter"
    return str(error.error)


def authorization_validate(*, request: OAuthHttpRequest, context: RequestContext = NO_CONTEXT) -> PendingAuthorization:
    """Check an authorization request (RFC 6749 §4.1.1, OIDC §3.1.2.1-2), or raise :class:`AuthorizationRefused`
    (audited): with an error page when the client or redirect URI is unknown, else back to the client."""
    oauth = _Request(request, context)
    server = _the_server()
    try:
        grant = server.get_consent_grant(request=oauth, end_user=None)
    except OAuth2Error as error:
        redirect_uri = error.redirect_uri
        reason = _page_reason(error, oauth.payload) if not redirect_uri else _reason(error)
        client = server.query_client(oauth.payload.client_id)
        audit_failure(category=Category.SIGN_IN, activity="oidc.authorize", reason=reason, context=context,
                      actor=app_actor(client.app) if client else None,
                      target=app_target(client.app) if client else None,
                      details={"clientId": str(oauth.payload.client_id or "")[:64], "error": error.error,
                               "redirectUri": str(oauth.payload.redirect_uri or "")[:256]})
        description = _ascii(error.get_error_description() or str(error.error))
        location = _error_location(redirect_uri, error=str(error.error), description=description,
                                   state=oauth.payload.state) if redirect_uri else None
        raise AuthorizationRefused(error=str(error.error), description=description, reason=reason,
                                   location=location) from None
    assert isinstance(grant, _CodeGrant)  # noqa: S101 - the only authorization grant registered
    data = oauth.payload.data
    hint: IdTokenHint | None = oauth.facts["hint"]
    return PendingAuthorization(
        app=grant.client.app, redirect_uri=str(grant.redirect_uri), state=oauth.payload.state,
        scope=str(oauth.scope),
        params=rules.AuthorizeParameters(prompt=oauth.facts["prompt"], max_age=oauth.facts["max_age"],
                                         hint_subject=hint.sub if hint else None),
        login_hint=data.get("login_hint", "")[:113],
        acr_values=rules.parse_acr_values(data.get("acr_values"), data.get("claims")),
        fingerprint=_fingerprint(request.params), grant=grant)


def authorization_refusal_record(*, reason: str, context: RequestContext = NO_CONTEXT) -> None:
    """Audit an authorization request refused before it could be read (a POST body that is not a form)."""
    audit_failure(category=Category.SIGN_IN, activity="oidc.authorize", reason=reason, context=context)


def authorization_refuse(*, pending: PendingAuthorization, error: str, description: str, reason: str,
                         user: User | None = None, context: RequestContext = NO_CONTEXT) -> str:
    """Send an OAuth error back to the client (``login_required``, ``interaction_required``, ``access_denied``)."""
    audit_failure(category=Category.SIGN_IN, activity="oidc.authorize", reason=reason, context=context,
                  actor=actor_for(user) if user else app_actor(pending.app), target=app_target(pending.app),
                  details={"clientId": str(pending.app.app_id), "error": error})
    return _error_location(pending.redirect_uri, error=error, description=description, state=pending.state)


def authorization_issue(*, pending: PendingAuthorization, user: User, authentication: Authentication,
                        acr: str | None, sid: str, context: RequestContext = NO_CONTEXT,
                        on_issued: Callable[[], None] | None = None) -> str:
    """Issue the code for a signed-in person and answer the redirect back to the client (with ``iss``).

    ``on_issued`` runs inside the transaction that stores the code and its audit row (the sign-in log's entry):
    one commit for all of it, and no code without its log entry."""
    if not user.account_enabled or authentication.user_id != str(user.pk):
        return authorization_refuse(pending=pending, error=AccessDeniedError.error,
                                    description="The user can't sign in to this app.", reason="user_disabled",
                                    user=user, context=context)
    grant = pending.grant
    grant.request.facts.update(sid=sid, auth_time=authentication.auth_time, acr=acr, amr=amr(authentication))
    with transaction.atomic():
        _status, _body, headers = grant.create_authorization_response(grant.redirect_uri, user)
        made: OidcGrant = grant.request.facts["grant"]
        audit_record(category=Category.SIGN_IN, activity="oidc.authorize", actor=actor_for(user),
                     target=app_target(pending.app), context=context,
                     details={"clientId": str(pending.app.app_id), "grantId": str(made.pk), "scope": made.scope,
                              "acr": made.acr, "amr": made.amr})
        if on_issued is not None:
            on_issued()
    location = dict(headers)["Location"]
    return str(add_params_to_uri(location, [("iss", oidc_issuer())]))
