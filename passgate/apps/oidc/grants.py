"""The grants: the authorization code (RFC 6749 §4.1) with PKCE (RFC 7636) and OpenID Connect, and refresh.

- Authorization codes: 256-bit random, stored as SHA-256, single use, 60 seconds, bound to the client, the
  redirect URI and an S256 PKCE challenge (required from every client). A code presented twice is refused and
  every token issued from it is revoked (RFC 6749 §4.1.2).
- Refresh tokens: rotated on every use; a rotated one presented again revokes its whole family (the grant); bound
  to the client (RFC 6749 §6, RFC 9700 §4.14.2).
- ID tokens: ES256 by default, RS256 when the client registered it; ``kid`` of the signing key; 1 hour.
- The authorization request's own parameters (request objects, ``prompt``, ``max_age``, ``id_token_hint``...)
  are checked once the client and redirect URI are known, so that refusals go back to the client.
"""

from __future__ import annotations

import secrets
import time
from typing import Any

from authlib.oauth2 import OAuth2Request
from authlib.oauth2.rfc6749 import InvalidGrantError, InvalidRequestError, InvalidScopeError, OAuth2Error
from authlib.oauth2.rfc6749.grants import AuthorizationCodeGrant, RefreshTokenGrant
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oidc.core import OpenIDCode
from authlib.oidc.core.errors import (
    RegistrationNotSupportedError,
    RequestNotSupportedError,
    RequestURINotSupportedError,
)
from authlib.oidc.core.util import create_half_hash
from django.utils import timezone
from joserfc import jwt

from passgate.apps import keys
from passgate.apps.app_roles import role_values_for
from passgate.apps.models import AuthorizationCode, OidcGrant, OidcToken
from passgate.apps.oidc.access_tokens import api_request, api_token_sign
from passgate.apps.oidc.adapter import (
    MAX_PARAMETER_LENGTH,
    MAX_TOKEN_LENGTH,
    TOKEN_BYTES,
    _ascii,
    _duplicate_parameter,
    _Request,
    _sha256,
    _tag,
    _unusable_parameter,
)
from passgate.apps.oidc.claims import id_token_hint_verify, user_claims
from passgate.apps.oidc.clients import AUTH_METHODS, _Client
from passgate.apps.oidc.tokens import (
    ACCESS_TOKEN_LIFETIME,
    CODE_LIFETIME,
    GRANT_MAX_LIFETIME,
    ID_TOKEN_LIFETIME,
    SIGN_IN_REVOKED,
    _revoke_grant,
    _sign_in_revoked,
    _token_row,
)
from passgate.apps.selectors import oidc_issuer
from passgate.audit.services import RequestContext
from passgate.core import oidc as rules
from passgate.core.errors import InvalidInput
from passgate.directory.models import User

MAX_NONCE_LENGTH = 1024


class _Code:
    """An AuthorizationCode row as Authlib's grant and its extensions read it."""

    def __init__(self, row: AuthorizationCode) -> None:
        self.row = row
        self.code_challenge = row.code_challenge
        self.code_challenge_method = row.code_challenge_method

    def get_redirect_uri(self) -> str:
        return self.row.redirect_uri

    def get_scope(self) -> str:
        return self.row.grant.scope

    def get_nonce(self) -> str | None:
        return self.row.nonce or None

    def get_auth_time(self) -> int:
        return int(self.row.grant.auth_time.timestamp())

    def get_acr(self) -> str | None:
        return self.row.grant.acr or None

    def get_amr(self) -> list[str]:
        return list(self.row.grant.amr)


class _Token:
    """An OidcToken row (a refresh token) as the refresh grant reads it."""

    def __init__(self, row: OidcToken) -> None:
        self.row = row

    def check_client(self, client: _Client) -> bool:
        return self.row.grant.app_id == client.app.pk

    def get_scope(self) -> str:
        return self.row.grant.scope


def _enabled_user(grant: OidcGrant) -> User:
    """The grant's user, unless their account was disabled since."""
    user = grant.user
    if not user.account_enabled:
        raise _tag(InvalidGrantError("The user's account is disabled."), "user_disabled")
    return user


def _refresh_token_reused(grant: OidcGrant, context: RequestContext) -> OAuth2Error:
    """A rotated refresh token presented again: its whole family (the grant) is revoked."""
    _revoke_grant(grant, reason="refresh_token_reused", context=context)
    return _tag(InvalidGrantError("The refresh token was already used; its whole family is revoked."),
                "refresh_token_reused")


class _IssuesApiTokens:
    """Both grants: a token asked for an API's scopes gets an RFC 9068 JWT access token (``access_tokens``), the API
    and its scopes checked again at issue time."""

    request: _Request

    def generate_token(self, user: User | None = None, scope: str | None = None, grant_type: str | None = None,
                       expires_in: int | None = None, include_refresh_token: bool = True) -> dict[str, Any]:
        token: dict[str, Any] = super().generate_token(  # type: ignore[misc]
            user=user, scope=scope, grant_type=grant_type, expires_in=expires_in,
            include_refresh_token=include_refresh_token)
        facts = self.request.facts
        api = facts["api"] if "api" in facts else api_request(scope)
        if api is not None:
            signed = api_token_sign(api=api, grant=facts["grant"], client_id=self.request.client.client_id,
                                    lifetime=int(ACCESS_TOKEN_LIFETIME.total_seconds()))
            token["access_token"] = signed.token
            facts["api_token"] = signed
        return token


class _CodeGrant(_IssuesApiTokens, AuthorizationCodeGrant):  # type: ignore[misc]
    TOKEN_ENDPOINT_AUTH_METHODS = AUTH_METHODS
    request: _Request

    @staticmethod
    def validate_no_multiple_request_parameter(request: OAuth2Request) -> None:
        """A repeated client_id, redirect_uri or response_type makes the request untrustworthy (an error page);
        other repeated parameters go back to the client (``_AuthorizeChecks``)."""
        for name in ("client_id", "redirect_uri", "response_type"):
            if len(request.payload.datalist.get(name, [])) > 1:
                raise _duplicate_parameter(name)

    @staticmethod
    def validate_authorization_redirect_uri(request: OAuth2Request, client: _Client) -> str:
        """redirect_uri is required and must be registered, exactly (its refusals never redirect)."""
        uri = request.payload.redirect_uri
        if not uri:
            raise _tag(InvalidRequestError("redirect_uri is required."), "redirect_uri_missing")
        if not client.check_redirect_uri(uri):
            raise _tag(InvalidRequestError("redirect_uri is not registered for this client (exact match)."),
                       "redirect_uri_not_registered")
        return str(uri)

    def generate_authorization_code(self) -> str:
        return secrets.token_urlsafe(TOKEN_BYTES)

    def validate_requested_scope(self) -> None:
        scope = self.request.payload.scope or ""
        if rules.SCOPE_OPENID not in scope.split():
            raise _tag(InvalidScopeError("The scope must include openid: this is an OpenID Connect provider."),
                       "openid_scope_missing")
        self.request.facts["api"] = api_request(scope)

    def save_authorization_code(self, code: str, request: _Request) -> None:
        facts = request.facts
        client: _Client = request.client
        user: User = request.user
        now = timezone.now()
        offline = rules.SCOPE_OFFLINE_ACCESS in str(request.scope).split()
        grant = OidcGrant.objects.create(
            app=client.app, user=user, scope=str(request.scope), sid=facts["sid"], auth_time=facts["auth_time"],
            acr=facts["acr"] or "", amr=list(facts["amr"]), created_at=now,
            expires_at=now + (GRANT_MAX_LIFETIME if offline else ACCESS_TOKEN_LIFETIME))
        data = request.payload.data
        AuthorizationCode.objects.create(
            code_sha256=_sha256(code), grant=grant, redirect_uri=data["redirect_uri"], nonce=data.get("nonce", ""),
            code_challenge=data.get("code_challenge") or "",
            code_challenge_method=data.get("code_challenge_method") or "",  # "" when none: RFC 9700 allowed it
            created_at=now, expires_at=now + CODE_LIFETIME)
        facts["grant"] = grant

    def query_authorization_code(self, code: str, client: _Client) -> _Code:
        if len(code) > MAX_TOKEN_LENGTH:
            raise _tag(InvalidGrantError("The authorization code is not valid."), "code_unknown")
        row = (AuthorizationCode.objects.select_related("grant", "grant__user", "grant__app")
               .filter(code_sha256=_sha256(code)).first())
        if row is None or row.grant.app_id != client.app.pk:
            raise _tag(InvalidGrantError("The authorization code is not valid."), "code_unknown")
        now = timezone.now()
        won = AuthorizationCode.objects.filter(pk=row.pk, used_at__isnull=True).update(used_at=now)
        if won != 1:
            _revoke_grant(row.grant, reason="code_replayed", context=self.request.context)
            raise _tag(InvalidGrantError("The authorization code was already used; every token issued from it is "
                                         "revoked."), "code_replayed")
        if row.expires_at <= now:
            raise _tag(InvalidGrantError("The authorization code has expired."), "code_expired")
        if row.grant.revoked_at is not None:
            raise _tag(InvalidGrantError("The authorization was revoked."), "grant_revoked")
        if _sign_in_revoked(row.grant, context=self.request.context):
            raise _tag(InvalidGrantError("The authorization was revoked: the user's sessions were revoked."),
                       SIGN_IN_REVOKED)
        self.request.facts["grant"] = row.grant
        return _Code(row)

    def delete_authorization_code(self, authorization_code: _Code) -> None:
        """Nothing to do: the code was consumed, atomically, when it was looked up."""

    def authenticate_user(self, authorization_code: _Code) -> User:
        return _enabled_user(authorization_code.row.grant)


class _RefreshGrant(_IssuesApiTokens, RefreshTokenGrant):  # type: ignore[misc]
    TOKEN_ENDPOINT_AUTH_METHODS = AUTH_METHODS
    INCLUDE_NEW_REFRESH_TOKEN = True
    request: _Request

    def authenticate_refresh_token(self, refresh_token: str) -> _Token | None:
        invalid = "The refresh token is not valid."
        if len(refresh_token) > MAX_TOKEN_LENGTH:
            raise _tag(InvalidGrantError(invalid), "refresh_token_unknown")
        row = _token_row(refresh_token, OidcToken.Kind.REFRESH)
        if row is None:
            raise _tag(InvalidGrantError(invalid), "refresh_token_unknown")
        client: _Client = self.request.client
        if row.grant.app_id != client.app.pk:
            raise _tag(InvalidGrantError(invalid), "refresh_token_other_client")
        if row.used_at is not None:
            raise _refresh_token_reused(row.grant, self.request.context)
        now = timezone.now()
        if row.grant.revoked_at is not None or row.revoked_at is not None:
            raise _tag(InvalidGrantError("The refresh token was revoked."), "refresh_token_revoked")
        if _sign_in_revoked(row.grant, context=self.request.context):
            raise _tag(InvalidGrantError("The refresh token was revoked: the user's sessions were revoked. Sign the "
                                         "user in again."), SIGN_IN_REVOKED)
        if row.expires_at <= now or row.grant.expires_at <= now:
            raise _tag(InvalidGrantError("The refresh token has expired."), "refresh_token_expired")
        self.request.facts["grant"] = row.grant
        return _Token(row)

    def authenticate_user(self, refresh_token: _Token) -> User:
        return _enabled_user(refresh_token.row.grant)

    def issue_token(self, user: User, refresh_token: _Token) -> dict[str, Any]:
        """Rotate: the presented token is used up by one conditional UPDATE, so of two concurrent refreshes one
        loses, and the loser is treated as a reuse (the family is revoked). An API the scope names is checked
        first, so a refusal (a scope disabled since) leaves the refresh token usable."""
        self.request.facts["api"] = api_request(self.request.payload.scope or refresh_token.get_scope())
        won = OidcToken.objects.filter(pk=refresh_token.row.pk, used_at__isnull=True).update(used_at=timezone.now())
        if won != 1:
            raise _refresh_token_reused(refresh_token.row.grant, self.request.context)
        token = dict(super().issue_token(user, refresh_token))
        grant = refresh_token.row.grant
        scope = str(token.get("scope") or grant.scope)
        if rules.SCOPE_OPENID in scope.split():
            # a fresh ID token too, so the app keeps a valid id_token_hint for logout (OIDC Core §12.2)
            token["id_token"] = _id_token(grant=grant, client=self.request.client, user=user, scope=scope,
                                          access_token=token["access_token"], nonce=None)
        return token

    def revoke_old_credential(self, refresh_token: _Token) -> None:
        """Nothing to do: issue_token used it up."""


class _Pkce(CodeChallenge):  # type: ignore[misc]
    """RFC 7636 with S256 only; required as RFC 9700 §2.1.1 says (core.oidc.pkce_refusal): from public clients,
    and from confidential ones that send no nonce or whose registration requires it. A code issued with a
    challenge is redeemed only with its verifier; one issued without, only without a verifier."""

    SUPPORTED_CODE_CHALLENGE_METHOD = ["S256"]
    DEFAULT_CODE_CHALLENGE_METHOD = "S256"

    def validate_code_challenge(self, grant: _CodeGrant, redirect_uri: str) -> None:
        data = grant.request.payload.data
        app = grant.request.client.app
        refusal = rules.pkce_refusal(client_type=rules.ClientType(app.client_type), require_pkce=app.require_pkce,
                                     code_challenge=data.get("code_challenge"), nonce=data.get("nonce"))
        if refusal is not None:
            raise _tag(InvalidRequestError(rules.PKCE_REFUSALS[refusal]), refusal)
        if not data.get("code_challenge"):
            if data.get("code_challenge_method"):
                raise _tag(InvalidRequestError("code_challenge_method without code_challenge."),
                           "pkce_invalid_challenge")
            return
        if data.get("code_challenge_method") != "S256":
            raise _tag(InvalidRequestError("code_challenge_method must be S256 (plain is not accepted)."),
                       "pkce_method_not_s256")
        try:
            super().validate_code_challenge(grant, redirect_uri)
        except OAuth2Error as error:
            raise _tag(error, "pkce_invalid_challenge") from None

    def validate_code_verifier(self, grant: _CodeGrant, result: object) -> None:
        try:
            super().validate_code_verifier(grant, result)
        except OAuth2Error as error:
            missing = not grant.request.form.get("code_verifier")
            if not grant.request.authorization_code.code_challenge and not missing:
                raise _tag(error, "pkce_verifier_unexpected") from None  # RFC 9700 §4.8
            raise _tag(error, "pkce_verifier_missing" if missing else "pkce_verifier_mismatch") from None


class _AuthorizeChecks:
    """Authorization request parameters checked once the client and redirect URI are known (so refusals go back to
    the client): unsupported request objects, response modes, ``prompt``, ``max_age``, ``id_token_hint``."""

    def __call__(self, grant: _CodeGrant) -> None:
        grant.register_hook("before_validate_authorization_request_payload", self.check)

    def check(self, grant: _CodeGrant, redirect_uri: str) -> None:
        request = grant.request
        data, datalist = request.payload.data, request.payload.datalist
        unusable = _unusable_parameter(datalist)
        if unusable is not None:
            raise _tag(InvalidRequestError(unusable.message), unusable.code)
        if "request" in data:
            raise _tag(RequestNotSupportedError("Request objects are not supported; send plain parameters."),
                       "request_not_supported")
        if "request_uri" in data:
            raise _tag(RequestURINotSupportedError("request_uri is not supported; send plain parameters."),
                       "request_uri_not_supported")
        if "registration" in data:
            raise _tag(RegistrationNotSupportedError("The registration parameter is not supported."),
                       "registration_not_supported")
        for name, values in datalist.items():
            if len(values) > 1:
                raise _duplicate_parameter(name)
            if len(values[0]) > MAX_PARAMETER_LENGTH:
                raise _tag(InvalidRequestError(f"The parameter '{_ascii(name, 40)}' is too long."),
                           "parameter_too_long")
        if len(data.get("nonce", "")) > MAX_NONCE_LENGTH:
            raise _tag(InvalidRequestError("The nonce is too long."), "parameter_too_long")
        if data.get("response_mode", "query") != "query":
            raise _tag(InvalidRequestError("Only response_mode=query is supported."), "response_mode_not_supported")
        try:
            request.facts["prompt"] = rules.parse_prompt(data.get("prompt"))
            request.facts["max_age"] = rules.parse_max_age(data.get("max_age"))
            rules.parse_claims_acr(data.get("claims"))
        except InvalidInput as exc:
            raise _tag(InvalidRequestError(exc.message), exc.code) from None
        hint = data.get("id_token_hint")
        request.facts["hint"] = None
        if hint:
            verified = id_token_hint_verify(hint)
            if verified is None:
                raise _tag(InvalidRequestError("id_token_hint is not an ID token this server issued."),
                           "id_token_hint_invalid")
            request.facts["hint"] = verified


class _OpenIDCode(OpenIDCode):  # type: ignore[misc]
    """OpenID Connect on the code grant: the ID token at the token endpoint (prompt is decided by the adapter)."""

    def __init__(self) -> None:
        super().__init__(require_nonce=False)

    def exists_nonce(self, nonce: str, request: OAuth2Request) -> bool:
        return False  # nonces are the client's to check; a code is single use anyway

    def __call__(self, grant: _CodeGrant) -> None:
        grant.register_hook("after_create_token_response", self.process_token)

    def encode_id_token(self, token: dict[str, Any], request: _Request) -> str:
        code: _Code = request.authorization_code
        return _id_token(grant=code.row.grant, client=request.client, user=request.user, scope=str(token["scope"]),
                         access_token=token["access_token"], nonce=code.row.nonce or None)


def _id_token(*, grant: OidcGrant, client: _Client, user: User, scope: str, access_token: str,
              nonce: str | None) -> str:
    """An ID token for this grant: at the code exchange (with the request's nonce) and at each refresh (OIDC Core
    §12.2: the same iss, sub, aud, azp and auth_time, a new iat; no nonce, as the specification's errata allow)."""
    alg = client.app.id_token_signed_response_alg
    kid, key = keys.signing_key_current(alg)
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": oidc_issuer(), "sub": str(user.pk), "aud": client.client_id, "azp": client.client_id,
        "iat": now, "exp": now + int(ID_TOKEN_LIFETIME.total_seconds()),
        "auth_time": int(grant.auth_time.timestamp()), "sid": grant.sid,
    }
    if nonce:
        claims["nonce"] = nonce
    if grant.acr:
        claims["acr"] = grant.acr
    if grant.amr:
        claims["amr"] = list(grant.amr)
    at_hash = create_half_hash(access_token, alg)
    if at_hash is not None:
        claims["at_hash"] = at_hash.decode("ascii")
    claims.update(user_claims(user, scope))
    roles = role_values_for(user=user, app=client.app)  # the client app's own roles, as Entra's ID tokens carry
    if roles:
        claims["roles"] = list(roles)
    return str(jwt.encode({"alg": alg, "kid": kid, "typ": "JWT"}, claims, key, algorithms=[alg]))
