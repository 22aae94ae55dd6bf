"""The OpenID Connect provider: authorization code flow with PKCE, refresh tokens, UserInfo, logout, discovery.

Authlib's server components do the protocol (``AuthorizationServer``, ``AuthorizationCodeGrant``,
``RefreshTokenGrant``, ``CodeChallenge``, ``OpenIDCode``, ``JWTBearerClientAssertion``); this module gives them
Passgate's storage, keys and rules, and audits every refusal with a reason code. The web adapter turns an HTTP
request into an :class:`OAuthHttpRequest` and an :class:`OAuthResponse` back into HTTP.

- Issuer: Passgate's public origin, exactly; endpoints under ``/oidc/`` (ADR 0005).
- Authorization codes: 256-bit random, stored as SHA-256, single use, 60 seconds, bound to the client, the
  redirect URI and an S256 PKCE challenge (required from every client). A code presented twice is refused and
  every token issued from it is revoked (RFC 6749 §4.1.2).
- Access tokens: opaque 256-bit random strings, stored as SHA-256, 1 hour, for UserInfo only. Every use is a
  database look-up anyway (they must be revocable), so a signed JWT would add a second validation path and
  nothing else; an opaque token also cannot be mistaken for a Graph API token.
- Refresh tokens: only when ``offline_access`` was granted; rotated on every use; a rotated one presented again
  revokes its whole family (the grant); 14 days each, 90 days at most per grant; bound to the client.
- ID tokens: ES256 by default, RS256 when the client registered it; ``kid`` of the signing key; 1 hour.
- Client authentication: exactly one of client_secret_basic, client_secret_post (SHA-256 of the secret compared in
  constant time), private_key_jwt (RFC 7523, keys from the client's registered JWKS only, ``jti`` single use),
  or none for public clients; the registered method only.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import unquote_plus, urlencode

from authlib.common.urls import add_params_to_uri
from authlib.oauth2 import AuthorizationServer, OAuth2Request
from authlib.oauth2.rfc6749 import (
    AccessDeniedError,
    ClientMixin,
    InvalidClientError,
    InvalidGrantError,
    InvalidRequestError,
    InvalidScopeError,
    OAuth2Error,
    UnsupportedGrantTypeError,
    UnsupportedResponseTypeError,
)
from authlib.oauth2.rfc6749.grants import AuthorizationCodeGrant, RefreshTokenGrant
from authlib.oauth2.rfc6749.requests import OAuth2Payload
from authlib.oauth2.rfc7523 import JWTBearerClientAssertion
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oidc.core import OpenIDCode
from authlib.oidc.core.errors import (
    RegistrationNotSupportedError,
    RequestNotSupportedError,
    RequestURINotSupportedError,
)
from authlib.oidc.core.util import create_half_hash
from django.db import IntegrityError, transaction
from django.utils import timezone
from joserfc import errors as jose_errors
from joserfc import jws, jwt
from joserfc.jwk import KeySet

from passgate.apps import keys
from passgate.apps.models import AppRegistration, AuthorizationCode, ClientAssertionJti, OidcGrant, OidcToken
from passgate.apps.selectors import oidc_endpoint, oidc_issuer
from passgate.apps.services import app_actor, app_target
from passgate.audit.models import Category
from passgate.audit.services import NO_CONTEXT, Actor, RequestContext, audit_failure, audit_record
from passgate.core import oidc as rules
from passgate.core import sessions as session_rules
from passgate.core.access.methods import Authentication, amr
from passgate.core.access.strengths import BUILT_IN_STRENGTHS
from passgate.core.errors import InvalidInput
from passgate.core.keys import key_strength_problem
from passgate.core.text import UnusableText, check_pairs
from passgate.directory.models import User
from passgate.directory.services import actor_for

CODE_LIFETIME = timedelta(seconds=60)
ACCESS_TOKEN_LIFETIME = timedelta(hours=1)
ID_TOKEN_LIFETIME = timedelta(hours=1)
REFRESH_TOKEN_LIFETIME = timedelta(days=14)
GRANT_MAX_LIFETIME = timedelta(days=90)
ASSERTION_MAX_LIFETIME = timedelta(hours=1)
LEEWAY = timedelta(seconds=60)
TOKEN_BYTES = 32
MAX_TOKEN_LENGTH = 8192
MAX_PARAMETER_LENGTH = 4096
MAX_NONCE_LENGTH = 1024
ACCESS_TOKEN_PREFIX = "pgat_"  # noqa: S105 - a prefix, so secret scanners can spot leaked tokens
REFRESH_TOKEN_PREFIX = "pgrt_"  # noqa: S105
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
AUTH_METHODS = ["client_secret_basic", "client_secret_post", "private_key_jwt", "none"]
NO_STORE = [("Cache-Control", "no-store"), ("Pragma", "no-cache")]
CLAIMS_SUPPORTED = ("iss", "sub", "aud", "exp", "iat", "auth_time", "nonce", "acr", "amr", "azp", "sid", "at_hash",
                    "name", "preferred_username", "updated_at", "email", "email_verified")


def _sha256(value: str) -> bytes:
    return hashlib.sha256(value.encode("utf-8", "replace")).digest()


# --- requests and responses as the web adapter gives and takes them ----------------------------------------

@dataclass(frozen=True)
class OAuthHttpRequest:
    """An HTTP request as the OAuth endpoints see it: method, path, the parameters (the query of a GET, the form
    body of a POST), headers, and the URL query of a POST (where credentials must not be)."""

    method: str
    path: str
    params: Mapping[str, Sequence[str]]
    headers: Mapping[str, str] = field(default_factory=dict)
    query: Mapping[str, Sequence[str]] = field(default_factory=dict)
    content_type: str = ""


@dataclass(frozen=True)
class OAuthResponse:
    status: int
    body: dict[str, Any]
    headers: list[tuple[str, str]]


def _tag(error: OAuth2Error, reason: str) -> OAuth2Error:
    error.passgate_reason = reason
    return error


def _reason(error: OAuth2Error) -> str:
    return str(getattr(error, "passgate_reason", None) or error.error or "oauth_error")


class _Payload(OAuth2Payload):  # type: ignore[misc]
    def __init__(self, params: Mapping[str, Sequence[str]]) -> None:
        self._datalist = {key: list(values) for key, values in params.items()}
        self._data = {key: values[0] for key, values in self._datalist.items() if values}

    @property
    def data(self) -> dict[str, str]:
        return self._data

    @property
    def datalist(self) -> dict[str, list[str]]:
        return self._datalist


class _Request(OAuth2Request):  # type: ignore[misc]
    def __init__(self, http: OAuthHttpRequest, context: RequestContext) -> None:
        super().__init__(method=http.method, uri=oidc_issuer() + http.path, headers=dict(http.headers))
        self.payload = _Payload(http.params)
        self.http = http
        self.context = context
        self.facts: dict[str, Any] = {}

    @property
    def args(self) -> dict[str, str]:
        return self.payload.data if self.method == "GET" else {}

    @property
    def form(self) -> dict[str, str]:
        return self.payload.data if self.method == "POST" else {}


# --- Authlib's view of Passgate's models ----------------------------------------------------------------------

class _Client(ClientMixin):  # type: ignore[misc]
    def __init__(self, app: AppRegistration) -> None:
        self.app = app
        self.client_id = str(app.app_id)
        self.token_endpoint_auth_method = app.token_endpoint_auth_method
        self.id_token_signed_response_alg = app.id_token_signed_response_alg

    def get_client_id(self) -> str:
        return self.client_id

    def get_default_redirect_uri(self) -> None:
        return None  # redirect_uri is required (OIDC §3.1.2.1)

    def get_allowed_scope(self, scope: str) -> str:
        return " ".join(rules.granted_scopes(scope, self.app.allowed_scopes))

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return isinstance(redirect_uri, str) and redirect_uri in self.app.redirect_uris  # exact string match

    def check_client_secret(self, client_secret: str) -> bool:
        stored = bytes(self.app.secret_sha256)
        return len(stored) == 32 and hmac.compare_digest(_sha256(client_secret), stored)

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return method == self.app.token_endpoint_auth_method

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code"

    def check_grant_type(self, grant_type: str) -> bool:
        if grant_type == "refresh_token":
            return rules.SCOPE_OFFLINE_ACCESS in self.app.allowed_scopes
        return grant_type == "authorization_code"


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


# --- refusals that end a grant ------------------------------------------------------------------------------

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


SIGN_IN_REVOKED = "sign_in_sessions_revoked"


def _sign_in_revoked(grant: OidcGrant, *, context: RequestContext) -> bool:
    """Whether the person's sign-in sessions were revoked (``revokeSignInSessions``, or disabling the account) at
    or after the sign-in this grant rests on; if so the grant is revoked, with every token issued from it."""
    if not session_rules.revoked(grant.auth_time, grant.user.sign_in_sessions_valid_from):
        return False
    _revoke_grant(grant, reason=SIGN_IN_REVOKED, context=context)
    return True


# --- grants -------------------------------------------------------------------------------------------------

class _CodeGrant(AuthorizationCodeGrant):  # type: ignore[misc]
    TOKEN_ENDPOINT_AUTH_METHODS = AUTH_METHODS
    request: _Request

    @staticmethod
    def validate_no_multiple_request_parameter(request: OAuth2Request) -> None:
        """A repeated client_id, redirect_uri or response_type makes the request untrustworthy (an error page);
        other repeated parameters go back to the client (``_AuthorizeChecks``)."""
        for name in ("client_id", "redirect_uri", "response_type"):
            if len(request.payload.datalist.get(name, [])) > 1:
                raise _tag(InvalidRequestError(f"The parameter '{name}' was given more than once."),
                           "duplicate_parameter")

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
            code_challenge=data["code_challenge"], code_challenge_method=data["code_challenge_method"],
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
        user = authorization_code.row.grant.user
        if not user.account_enabled:
            raise _tag(InvalidGrantError("The user's account is disabled."), "user_disabled")
        return user


class _RefreshGrant(RefreshTokenGrant):  # type: ignore[misc]
    TOKEN_ENDPOINT_AUTH_METHODS = AUTH_METHODS
    INCLUDE_NEW_REFRESH_TOKEN = True
    request: _Request

    def authenticate_refresh_token(self, refresh_token: str) -> _Token | None:
        invalid = "The refresh token is not valid."
        if len(refresh_token) > MAX_TOKEN_LENGTH:
            raise _tag(InvalidGrantError(invalid), "refresh_token_unknown")
        row = (OidcToken.objects.select_related("grant", "grant__user", "grant__app")
               .filter(token_sha256=_sha256(refresh_token), kind=OidcToken.Kind.REFRESH).first())
        if row is None:
            raise _tag(InvalidGrantError(invalid), "refresh_token_unknown")
        client: _Client = self.request.client
        if row.grant.app_id != client.app.pk:
            raise _tag(InvalidGrantError(invalid), "refresh_token_other_client")
        if row.used_at is not None:
            _revoke_grant(row.grant, reason="refresh_token_reused", context=self.request.context)
            raise _tag(InvalidGrantError("The refresh token was already used; its whole family is revoked."),
                       "refresh_token_reused")
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
        user = refresh_token.row.grant.user
        if not user.account_enabled:
            raise _tag(InvalidGrantError("The user's account is disabled."), "user_disabled")
        return user

    def issue_token(self, user: User, refresh_token: _Token) -> dict[str, Any]:
        """Rotate: the presented token is used up by one conditional UPDATE, so of two concurrent refreshes one
        loses, and the loser is treated as a reuse (the family is revoked)."""
        won = OidcToken.objects.filter(pk=refresh_token.row.pk, used_at__isnull=True).update(used_at=timezone.now())
        if won != 1:
            _revoke_grant(refresh_token.row.grant, reason="refresh_token_reused", context=self.request.context)
            raise _tag(InvalidGrantError("The refresh token was already used; its whole family is revoked."),
                       "refresh_token_reused")
        return dict(super().issue_token(user, refresh_token))

    def revoke_old_credential(self, refresh_token: _Token) -> None:
        """Nothing to do: issue_token used it up."""


class _Pkce(CodeChallenge):  # type: ignore[misc]
    """RFC 7636 with S256 only, required from every client at the authorization endpoint."""

    SUPPORTED_CODE_CHALLENGE_METHOD = ["S256"]
    DEFAULT_CODE_CHALLENGE_METHOD = "S256"

    def validate_code_challenge(self, grant: _CodeGrant, redirect_uri: str) -> None:
        data = grant.request.payload.data
        if not data.get("code_challenge"):
            raise _tag(InvalidRequestError("code_challenge is required: Passgate requires PKCE (S256) from every "
                                           "client."), "pkce_missing")
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
                raise _tag(InvalidRequestError(f"The parameter '{_ascii(name, 40)}' was given more than once."),
                           "duplicate_parameter")
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
        client: _Client = request.client
        code: _Code = request.authorization_code
        user: User = request.user
        grant = code.row.grant
        alg = client.app.id_token_signed_response_alg
        kid, key = keys.signing_key_current(alg)
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": oidc_issuer(), "sub": str(user.pk), "aud": client.client_id, "azp": client.client_id,
            "iat": now, "exp": now + int(ID_TOKEN_LIFETIME.total_seconds()),
            "auth_time": int(grant.auth_time.timestamp()), "sid": grant.sid,
        }
        if code.row.nonce:
            claims["nonce"] = code.row.nonce
        if grant.acr:
            claims["acr"] = grant.acr
        if grant.amr:
            claims["amr"] = list(grant.amr)
        at_hash = create_half_hash(token["access_token"], alg)
        if at_hash is not None:
            claims["at_hash"] = at_hash.decode("ascii")
        claims.update(user_claims(user, str(token["scope"])))
        return str(jwt.encode({"alg": alg, "kid": kid, "typ": "JWT"}, claims, key, algorithms=[alg]))


class _PrivateKeyJwt(JWTBearerClientAssertion):  # type: ignore[misc]
    """RFC 7523 client authentication: keys only from the client's registered JWKS (never jku, x5u or jwk from
    the token), audience the token endpoint or the issuer, ``jti`` single use until the assertion expires."""

    CLIENT_AUTH_METHOD = "private_key_jwt"

    def __init__(self) -> None:
        super().__init__(validate_jti=True, leeway=int(LEEWAY.total_seconds()))

    def get_audiences(self) -> list[str]:
        return [oidc_endpoint("token"), oidc_issuer()]

    def resolve_client_public_key(self, client: _Client) -> KeySet:
        registered = KeySet.import_key_set(client.app.jwks or {"keys": []})  # type: ignore[arg-type]
        # A key an older version registered that no longer meets the key rules authenticates nobody.
        return KeySet([key for key in registered.keys if key_strength_problem(key.raw_value) is None])

    def verify_claims(self, claims: Any) -> None:
        exp = claims.get("exp")
        if isinstance(exp, int | float) and exp > time.time() + ASSERTION_MAX_LIFETIME.total_seconds():
            raise InvalidClientError(description="The client assertion lives too long (at most one hour).")
        super().verify_claims(claims)

    def validate_jti(self, claims: Any, jti: object) -> bool:
        if not isinstance(jti, str) or not jti or len(jti) > 256:
            return False
        app = AppRegistration.objects.filter(app_id=uuid.UUID(str(claims["sub"]))).first()
        if app is None:
            return False
        now = timezone.now()
        ClientAssertionJti.objects.filter(app=app, expires_at__lt=now - LEEWAY).delete()
        expires = datetime.fromtimestamp(float(claims["exp"]), tz=now.tzinfo) + LEEWAY
        try:
            with transaction.atomic():
                ClientAssertionJti.objects.create(app=app, jti_sha256=_sha256(jti), expires_at=expires)
        except IntegrityError:  # the unique constraint: this jti was used already
            return False
        return True


class _Server(AuthorizationServer):  # type: ignore[misc]
    def __init__(self) -> None:
        super().__init__(scopes_supported=None)
        self.register_token_generator("default", _generate_tokens)
        self.register_grant(_CodeGrant, [_AuthorizeChecks(), _Pkce(required=True), _OpenIDCode()])
        self.register_grant(_RefreshGrant)
        self._assertion = _PrivateKeyJwt()

    def get_authorization_grant(self, request: _Request) -> Any:
        """Only response_type=code; other types are refused back to the client once it and its redirect URI are
        known, on an error page otherwise (descriptions never echo the request, so they stay valid ASCII)."""
        response_type = request.payload.response_type
        if response_type == "code":
            return super().get_authorization_grant(request)
        client = self.query_client(request.payload.client_id)
        uri = request.payload.redirect_uri
        redirect_uri = uri if client is not None and uri and client.check_redirect_uri(uri) else None
        if not response_type:
            raise _tag(InvalidRequestError("response_type is required (code).", redirect_uri=redirect_uri),
                       "response_type_missing")
        raise _tag(UnsupportedResponseTypeError(_ascii(response_type, 40), "Only response_type=code is supported.",
                                                redirect_uri=redirect_uri), "unsupported_response_type")

    def query_client(self, client_id: object) -> _Client | None:
        if not isinstance(client_id, str):
            return None
        try:
            app_id = uuid.UUID(client_id)
        except ValueError:
            return None
        if str(app_id) != client_id:  # client ids compare exactly (the canonical lower-case form)
            return None
        app = AppRegistration.objects.filter(app_id=app_id).first()
        return _Client(app) if app is not None and app.is_oidc_client else None

    def create_oauth2_request(self, request: Any) -> _Request:
        if not isinstance(request, _Request):
            raise TypeError("expected a passgate.apps.oidc._Request")
        return request

    def handle_response(self, status: int, body: Any, headers: Any) -> OAuthResponse:
        return OAuthResponse(status=status, body=dict(body) if body else {}, headers=list(headers))

    def send_signal(self, name: str, *args: Any, **kwargs: Any) -> None:
        return None

    def save_token(self, token: dict[str, Any], request: _Request) -> None:
        grant: OidcGrant = request.facts["grant"]
        now = timezone.now()
        with transaction.atomic():
            OidcToken.objects.create(token_sha256=_sha256(token["access_token"]), kind=OidcToken.Kind.ACCESS,
                                     grant=grant, created_at=now, expires_at=now + ACCESS_TOKEN_LIFETIME)
            if "refresh_token" in token:
                OidcToken.objects.create(token_sha256=_sha256(token["refresh_token"]), kind=OidcToken.Kind.REFRESH,
                                         grant=grant, created_at=now,
                                         expires_at=min(now + REFRESH_TOKEN_LIFETIME, grant.expires_at))
            audit_record(category=Category.SIGN_IN, activity="oidc.token", actor=actor_for(grant.user),
                         target=app_target(grant.app), context=request.context,
                         details={"grantType": request.payload.grant_type, "grantId": str(grant.pk),
                                  "scope": token["scope"], "refreshToken": "refresh_token" in token,
                                  "clientAuth": request.auth_method})

    # client authentication: exactly one method, and the one the client registered
    def authenticate_client(self, request: _Request, methods: Sequence[str],
                            endpoint: str = "token") -> _Client:
        form = request.form
        used = []
        header = request.headers.get("Authorization") or request.headers.get("authorization")
        if header:
            used.append("client_secret_basic")
        if "client_secret" in form:
            used.append("client_secret_post")
        if "client_assertion" in form or "client_assertion_type" in form:
            used.append("private_key_jwt")
        if len(used) > 1:
            raise _tag(InvalidRequestError("Use exactly one client authentication method."), "multiple_client_auth")
        method = used[0] if used else "none"
        client = self._authenticate(request, method)
        if method not in methods or not client.check_endpoint_auth_method(method, endpoint):
            raise _invalid_client(f"This client must authenticate with {client.app.token_endpoint_auth_method}.",
                                  "client_auth_method_mismatch")
        request.client = client
        request.auth_method = method
        return client

    def _authenticate(self, request: _Request, method: str) -> _Client:
        form = request.form
        if method == "client_secret_basic":
            client_id, secret = _basic_credentials(request.headers)
            if form.get("client_id", client_id) != client_id:
                raise _tag(InvalidRequestError("client_id differs from the client in the Authorization header."),
                           "client_id_mismatch")
            return self._check_secret(client_id, secret)
        if method == "client_secret_post":
            return self._check_secret(form.get("client_id", ""), form.get("client_secret", ""))
        if method == "private_key_jwt":
            if form.get("client_assertion_type") != ASSERTION_TYPE or not form.get("client_assertion"):
                raise _invalid_client("client_assertion_type must be urn:ietf:params:oauth:client-assertion-type:"
                                      "jwt-bearer, with a client_assertion.", "client_assertion_invalid")
            try:
                client = self._assertion(self.query_client, request)
            except OAuth2Error as error:
                raise _invalid_client(_ascii(error.description or "The client assertion is not valid."),
                                      "client_assertion_invalid") from None
            if not isinstance(client, _Client):
                raise _invalid_client("The client assertion is not valid.", "client_assertion_invalid")
            if form.get("client_id", client.client_id) != client.client_id:
                raise _tag(InvalidRequestError("client_id differs from the client assertion's subject."),
                           "client_id_mismatch")
            return client
        client_id = form.get("client_id", "")
        client = self.query_client(client_id)
        if client is None:
            raise _invalid_client("Unknown client.", "unknown_client")
        if client.app.token_endpoint_auth_method != rules.ClientAuthMethod.NONE:
            raise _invalid_client("Client authentication is required for this client.", "client_auth_missing")
        return client

    def _check_secret(self, client_id: str, secret: str) -> _Client:
        """One constant-time comparison and one answer whether the client id names nobody, a client without a
        secret or one with another secret: only the audit row's reason code tells them apart."""
        client = self.query_client(client_id)
        has_secret = client is not None and client.app.has_secret
        stored = bytes(client.app.secret_sha256) if client is not None and has_secret else _NO_SECRET
        ok = hmac.compare_digest(_sha256(secret), stored) and has_secret
        if client is None:
            raise _invalid_client(CLIENT_AUTH_FAILED, "unknown_client")
        if not ok:
            raise _invalid_client(CLIENT_AUTH_FAILED, "invalid_client_secret")
        return client

    def handle_error_response(self, request: _Request, error: OAuth2Error) -> OAuthResponse:
        client = request.client if isinstance(request.client, _Client) else None
        client_id = client.client_id if client else str(request.payload.client_id or "")[:64]
        audit_failure(category=Category.SIGN_IN, activity="oidc.token", reason=_reason(error),
                      actor=app_actor(client.app) if client else None,
                      target=app_target(client.app) if client else None, context=request.context,
                      details={"clientId": client_id, "grantType": str(request.payload.grant_type or "")[:64],
                               "error": error.error})
        status, body, headers = error()
        headers = [(k, v) for k, v in headers if k.lower() != "www-authenticate"]
        if error.error == "invalid_client":
            status = 401
            headers.append(("WWW-Authenticate", 'Basic realm="passgate", error="invalid_client"'))
        return OAuthResponse(status=status, body=dict(body), headers=headers)


_NO_SECRET = hashlib.sha256(b"passgate: no such client").digest()
CLIENT_AUTH_FAILED = "Client authentication failed."


def _ascii(text: str, limit: int = 200) -> str:
    """Text safe for error_description (RFC 6749 §5.2: printable ASCII without quote and backslash)."""
    return "".join(ch for ch in str(text) if 0x20 <= ord(ch) <= 0x7E and ch not in '"\\')[:limit] or "invalid"


def _invalid_client(description: str, reason: str) -> OAuth2Error:
    return _tag(InvalidClientError(description=description, status_code=401), reason)


def _basic_credentials(headers: Mapping[str, str]) -> tuple[str, str]:
    header = headers.get("Authorization") or headers.get("authorization") or ""
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic":
        raise _invalid_client("Client authentication must use HTTP Basic, client_secret_post or a client assertion.",
                              "unsupported_authorization_scheme")
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        raise _invalid_client("The Authorization header is not valid Basic credentials.",
                              "malformed_basic_credentials") from None
    client_id, sep, secret = decoded.partition(":")
    if not sep:
        raise _invalid_client("The Authorization header is not valid Basic credentials.",
                              "malformed_basic_credentials")
    return unquote_plus(client_id), unquote_plus(secret)


def _generate_tokens(grant_type: str, client: _Client, user: User | None = None, *, scope: str | None = None,
                     expires_in: int | None = None, include_refresh_token: bool = True) -> dict[str, Any]:
    token: dict[str, Any] = {
        "token_type": "Bearer", "access_token": ACCESS_TOKEN_PREFIX + secrets.token_urlsafe(TOKEN_BYTES),
        "expires_in": int(ACCESS_TOKEN_LIFETIME.total_seconds()), "scope": scope or "",
    }
    if include_refresh_token and rules.SCOPE_OFFLINE_ACCESS in (scope or "").split():
        token["refresh_token"] = REFRESH_TOKEN_PREFIX + secrets.token_urlsafe(TOKEN_BYTES)
    return token


_server: _Server | None = None


def _the_server() -> _Server:
    global _server  # noqa: PLW0603 - one Authlib server per process, built on first use
    if _server is None:
        _server = _Server()
    return _server


# --- claims -------------------------------------------------------------------------------------------------

def user_claims(user: User, scope: str) -> dict[str, Any]:
    """``sub`` (the user's immutable id) and the claims the granted scopes give (OIDC §5.4).

    ``email`` is the user principal name (Passgate has no separate mail attribute); nobody verified that it receives
    mail, so ``email_verified`` is false.
    """
    scopes = scope.split()
    claims: dict[str, Any] = {"sub": str(user.pk)}
    if "profile" in scopes:
        claims.update(name=user.display_name, preferred_username=user.user_principal_name,
                      updated_at=int(user.updated_at.timestamp()))
    if "email" in scopes:
        claims.update(email=user.user_principal_name, email_verified=False)
    return claims


@dataclass(frozen=True)
class IdTokenHint:
    sub: str
    audiences: tuple[str, ...]
    sid: str | None


def id_token_hint_verify(token: str) -> IdTokenHint | None:
    """An ID token this server signed (any age: expiry is not checked), or None."""
    if not isinstance(token, str) or not token or len(token) > MAX_TOKEN_LENGTH:
        return None
    try:
        header = jws.extract_compact(token.encode("ascii")).headers()
    except (jose_errors.JoseError, ValueError, UnicodeError):
        return None
    alg = header.get("alg")
    key = keys.verification_key(header.get("kid"), alg=str(alg), any_age=True) if alg in keys.ALGORITHMS else None
    if key is None:
        return None
    try:
        claims = jwt.decode(token, key, algorithms=[str(alg)]).claims
    except (jose_errors.JoseError, ValueError):
        return None
    aud = claims.get("aud")
    audiences = (aud,) if isinstance(aud, str) else tuple(a for a in aud if isinstance(a, str)) \
        if isinstance(aud, list) else ()
    sub, sid = claims.get("sub"), claims.get("sid")
    if claims.get("iss") != oidc_issuer() or not isinstance(sub, str) or not audiences:
        return None
    return IdTokenHint(sub=sub, audiences=audiences, sid=sid if isinstance(sid, str) else None)


# --- the authorization endpoint -----------------------------------------------------------------------------

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
        login_hint=data.get("login_hint", "")[:113], acr_values=rules.parse_acr_values(data.get("acr_values")),
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
                        acr: str | None, sid: str, context: RequestContext = NO_CONTEXT) -> str:
    """Issue the code for a signed-in person and answer the redirect back to the client (with ``iss``)."""
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
    location = dict(headers)["Location"]
    return str(add_params_to_uri(location, [("iss", oidc_issuer())]))


# --- the token endpoint -------------------------------------------------------------------------------------

def _token_error(error: OAuth2Error, oauth: _Request) -> OAuthResponse:
    return _the_server().handle_error_response(oauth, error)


def _unusable_parameter(*params: Mapping[str, Sequence[str]]) -> UnusableText | None:
    """The first parameter name or value holding NUL or a lone surrogate (``core.text``), as an error, or None."""
    try:
        for each in params:
            check_pairs(each.items(), where=lambda name: f"The parameter '{name}'")
    except UnusableText as exc:
        return exc
    return None


def _parameter_problem(request: OAuthHttpRequest) -> OAuth2Error | None:
    """A token request parameter holding NUL or a lone surrogate, or given more than once, or None."""
    unusable = _unusable_parameter(request.params, request.query)
    if unusable is not None:
        return _tag(InvalidRequestError(unusable.message), unusable.code)
    for name, values in request.params.items():
        if len(values) > 1:
            return _tag(InvalidRequestError(f"The parameter '{_ascii(name, 40)}' was given more than once."),
                        "duplicate_parameter")
    return None


def _token_precheck(request: OAuthHttpRequest) -> OAuth2Error | None:
    """What is wrong with a token request before any client or grant is looked at, or None."""
    if request.content_type != "application/x-www-form-urlencoded":
        return _tag(InvalidRequestError("The body must be application/x-www-form-urlencoded."),
                    "unsupported_media_type")
    problem = _parameter_problem(request)
    if problem is not None:
        return problem
    if {"client_secret", "client_assertion", "code", "refresh_token", "code_verifier"} & set(request.query):
        return _tag(InvalidRequestError("Credentials belong in the body, never in the URL."), "credentials_in_query")
    grant_type = (request.params.get("grant_type") or [""])[0]
    if not grant_type:
        return _tag(InvalidRequestError("The parameter 'grant_type' is required."), "grant_type_missing")
    if grant_type not in ("authorization_code", "refresh_token"):
        return _tag(UnsupportedGrantTypeError(_ascii(grant_type, 64)), "unsupported_grant_type")
    return None


def token_respond(*, request: OAuthHttpRequest, context: RequestContext = NO_CONTEXT) -> OAuthResponse:
    """RFC 6749 §4.1.3 and §6 with the §5.1/§5.2 responses: authorization_code and refresh_token grants only."""
    oauth = _Request(request, context)
    if request.method != "POST":
        response = _token_error(_tag(InvalidRequestError("The token endpoint accepts POST only."),
                                     "method_not_allowed"), oauth)
        return OAuthResponse(status=405, body=response.body, headers=[*response.headers, ("Allow", "POST")])
    refused = _token_precheck(request)
    if refused is not None:
        return _token_error(refused, oauth)
    response = _the_server().create_token_response(oauth)
    assert isinstance(response, OAuthResponse)  # noqa: S101 - our handle_response makes them
    headers = [(k, v) for k, v in response.headers if k.lower() not in ("cache-control", "pragma")]
    return OAuthResponse(status=response.status, body=response.body, headers=[*headers, *NO_STORE])


# --- UserInfo -----------------------------------------------------------------------------------------------

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
    row = (OidcToken.objects.select_related("grant", "grant__user", "grant__app")
           .filter(token_sha256=_sha256(access_token), kind=OidcToken.Kind.ACCESS).first())
    if row is None:
        raise _bearer_refuse("invalid_token", "The access token is not valid.", 401, "token_unknown", context=context)
    grant = row.grant
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


# --- logout -------------------------------------------------------------------------------------------------

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
    """A redirect after logout needs an ``id_token_hint`` we issued and a post_logout_redirect_uri registered for
    its client; anything else is refused (an error page, never a redirect)."""

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
        client = _the_server().query_client(hint.audiences[0])
        app = client.app if client else None
        client_id = params.get("client_id")
        if client_id and client_id not in hint.audiences:
            raise refuse("client_id does not match the ID token's audience.", "client_id_mismatch")
    if target:
        if hint is None:
            raise refuse("A return address after logout needs the id_token_hint of the app asking for it.",
                         "id_token_hint_missing")
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
    return ended


# --- discovery ----------------------------------------------------------------------------------------------

def discovery_document() -> dict[str, Any]:
    """OpenID Connect Discovery 1.0 §3 / RFC 8414; ``issuer`` is exactly the ``iss`` of every token."""
    return {
        "issuer": oidc_issuer(),
        "authorization_endpoint": oidc_endpoint("authorize"),
        "token_endpoint": oidc_endpoint("token"),
        "userinfo_endpoint": oidc_endpoint("userinfo"),
        "jwks_uri": oidc_endpoint("jwks"),
        "end_session_endpoint": oidc_endpoint("logout"),
        "scopes_supported": list(rules.SUPPORTED_SCOPES),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": list(rules.ID_TOKEN_ALGORITHMS),
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "private_key_jwt",
                                                  "none"],
        "token_endpoint_auth_signing_alg_values_supported": ["RS256", "ES256"],
        "code_challenge_methods_supported": ["S256"],
        "claims_supported": list(CLAIMS_SUPPORTED),
        "claims_parameter_supported": False,
        "acr_values_supported": sorted(BUILT_IN_STRENGTHS),
        "prompt_values_supported": ["none", "login"],
        "display_values_supported": ["page"],
        "request_parameter_supported": False,
        "request_uri_parameter_supported": False,
        "require_request_uri_registration": False,
        "authorization_response_iss_parameter_supported": True,
        "frontchannel_logout_supported": False,
        "backchannel_logout_supported": False,
    }


def oidc_purge(*, older_than: timedelta = timedelta(days=1)) -> int:
    """Delete codes, tokens and grants that ended more than ``older_than`` ago, and spent assertion ids."""
    cutoff = timezone.now() - older_than
    deleted = AuthorizationCode.objects.filter(expires_at__lt=cutoff).delete()[0]
    deleted += OidcToken.objects.filter(expires_at__lt=cutoff).delete()[0]
    deleted += OidcGrant.objects.filter(expires_at__lt=cutoff, tokens__isnull=True).delete()[0]
    deleted += ClientAssertionJti.objects.filter(expires_at__lt=timezone.now()).delete()[0]
    return deleted

