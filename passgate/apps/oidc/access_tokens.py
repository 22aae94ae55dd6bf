"""Access tokens for an API an app exposes: RFC 9068 JWTs (``typ`` ``at+jwt``).

A client asks for ``<identifierUri>/<scope value>`` (``api://<appId>/Files.Read``) next to ``openid`` and the other
OpenID Connect scopes, one API per request (Entra's rule). The API, its scopes and that they are enabled are
checked at the authorization request and again at every token issued (a scope disabled since, or an API removed,
is refused with ``invalid_scope``). Without an API scope the access token stays opaque (``pgat_``, for UserInfo).

The JWT is signed RS256 with the provider's current key (the JWKS that verifies ID tokens; RFC 9068 §2.1 names
RS256 as the algorithm every resource server supports). Claims: ``iss``, ``sub`` (the ID token's), ``aud`` (the
identifier URI the client asked for), ``client_id``, ``azp``, ``iat``, ``nbf``, ``exp`` (1 hour), ``jti``,
``scp`` (the API's scope values, space-separated, without the URI), ``roles`` (the values of the API's enabled app
roles given to the person, directly or through a group; left out when none, as Entra does), ``auth_time``,
``acr``, ``amr``, ``sid``. Its
SHA-256 is stored like an opaque token's (``OidcToken`` with its ``resource``), so introspection, revocation and
logout treat it as they treat the others.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from typing import Any, Final

from authlib.oauth2.rfc6749 import InvalidScopeError, OAuth2Error
from joserfc import jwt

from passgate.apps import keys
from passgate.apps.app_roles import role_values_for
from passgate.apps.exposed_api import api_by_identifier_uri, api_scopes_of
from passgate.apps.models import AppRegistration, OidcGrant
from passgate.apps.oidc.adapter import _tag
from passgate.apps.selectors import oidc_issuer
from passgate.core import app_api
from passgate.core import oidc as rules
from passgate.core.errors import InvalidInput

ALGORITHM: Final = "RS256"
TOKEN_TYPE: Final = "at+jwt"  # noqa: S105 - RFC 9068 §2.1's media type, not a secret
MAX_GRANTED_SCOPE: Final = 2000  # OidcGrant.scope


@dataclass(frozen=True)
class ApiRequest:
    """The API a scope string names: the app, the identifier URI asked for as the API registered it (the token's
    ``aud``), the scope values."""

    resource: AppRegistration
    audience: str
    values: tuple[str, ...]

    @property
    def scopes(self) -> tuple[str, ...]:
        """The values as the client asked for them (``<identifierUri>/<value>``)."""
        return tuple(f"{self.audience}/{value}" for value in self.values)


def _refused(message: str, reason: str) -> OAuth2Error:
    return _tag(InvalidScopeError(message), reason)


def api_request(scope: str | None) -> ApiRequest | None:
    """The API a requested scope names (None when it names none), checked; ``invalid_scope`` with a reason code
    (``api_scopes_several_resources``, ``api_resource_unknown``, ``api_scope_unknown``, ``api_scope_disabled``)."""
    try:
        wanted = app_api.split_requested(scope, oidc_scopes=rules.SUPPORTED_SCOPES)
    except InvalidInput as exc:
        raise _refused(exc.message, exc.code) from None
    if not wanted.resource:
        return None
    resource = api_by_identifier_uri(wanted.resource)
    if resource is None:
        raise _refused("No app exposes an API with this identifier URI.", "api_resource_unknown")
    try:
        values = app_api.granted_api_values(wanted.values, api_scopes_of(resource))
    except InvalidInput as exc:
        raise _refused(exc.message, exc.code) from None
    # the URI as the API registered it (they compare case-insensitively), so the API finds its own spelling in aud
    audience = next((uri for uri in resource.identifier_uris if uri.lower() == wanted.resource.lower()),
                    wanted.resource)
    found = ApiRequest(resource=resource, audience=audience, values=values)
    if len(" ".join((*rules.SUPPORTED_SCOPES, *found.scopes))) > MAX_GRANTED_SCOPE:
        raise _refused("Too many scopes in one request.", "api_scope_too_long")
    return found


@dataclass(frozen=True)
class ApiToken:
    """An access token just signed for an API, and what its ``OidcToken`` row keeps."""

    token: str
    request: ApiRequest
    jti: str


def api_token_sign(*, api: ApiRequest, grant: OidcGrant, client_id: str, lifetime: int) -> ApiToken:
    """An RFC 9068 access token for this grant's person and client, for ``api``."""
    kid, key = keys.signing_key_current(ALGORITHM)
    now = int(time.time())
    jti = secrets.token_urlsafe(16)
    claims: dict[str, Any] = {
        "iss": oidc_issuer(), "sub": str(grant.user_id), "aud": api.audience, "client_id": client_id,
        "azp": client_id, "iat": now, "nbf": now, "exp": now + lifetime, "jti": jti, "scp": " ".join(api.values),
        "auth_time": int(grant.auth_time.timestamp()), "sid": grant.sid,
    }
    if grant.acr:
        claims["acr"] = grant.acr
    if grant.amr:
        claims["amr"] = list(grant.amr)
    roles = role_values_for(user=grant.user, app=api.resource) if api.resource.app_roles else ()
    if roles:
        claims["roles"] = list(roles)
    token = jwt.encode({"alg": ALGORITHM, "kid": kid, "typ": TOKEN_TYPE}, claims, key, algorithms=[ALGORITHM])
    return ApiToken(token=str(token), request=api, jti=jti)
