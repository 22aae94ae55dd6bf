"""Clients (registered apps) as Authlib sees them, and how they authenticate at the token endpoint.

Exactly one of client_secret_basic, client_secret_post (SHA-256 of the secret compared in constant time),
private_key_jwt (RFC 7523, keys from the client's registered JWKS only, ``jti`` single use), or none for public
clients; the registered method (RFC 6749 §2.3, OIDC Core §9), except that a client with a secret may send it by
either of the two secret methods.
"""

from __future__ import annotations

import hashlib
import hmac
import time
import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from authlib.oauth2.rfc6749 import ClientMixin, InvalidClientError, InvalidRequestError, OAuth2Error
from authlib.oauth2.rfc7523 import JWTBearerClientAssertion
from django.db import IntegrityError, transaction
from django.utils import timezone
from joserfc.jwk import KeySet

from passgate.apps.models import AppRegistration, ClientAssertionJti
from passgate.apps.oidc.adapter import _ascii, _Request, _sha256, _tag
from passgate.apps.selectors import app_for_sign_in, oidc_endpoint, oidc_issuer
from passgate.core import app_api
from passgate.core import oidc as rules
from passgate.core.errors import InvalidInput
from passgate.core.keys import key_strength_problem

ASSERTION_MAX_LIFETIME = timedelta(hours=1)
LEEWAY = timedelta(seconds=60)
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
AUTH_METHODS = ["client_secret_basic", "client_secret_post", "private_key_jwt", "none"]
SECRET_METHODS = frozenset({"client_secret_basic", "client_secret_post"})
_NO_SECRET = hashlib.sha256(b"passgate: no such client").digest()
CLIENT_AUTH_FAILED = "Client authentication failed."


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

    def get_allowed_scope(self, scope: str) -> str | None:
        """The OpenID Connect scopes the client may have, and the API scopes asked (``access_tokens.api_request``
        checked them first)."""
        try:
            wanted = app_api.split_requested(scope, oidc_scopes=rules.SUPPORTED_SCOPES)
        except InvalidInput:
            return None
        api = [f"{wanted.resource}/{value}" for value in wanted.values] if wanted.resource else []
        return " ".join([*rules.granted_scopes(scope, self.app.allowed_scopes), *api])

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return isinstance(redirect_uri, str) and redirect_uri in self.app.redirect_uris  # exact string match

    def check_client_secret(self, client_secret: str) -> bool:
        stored = bytes(self.app.secret_sha256)
        return len(stored) == 32 and hmac.compare_digest(_sha256(client_secret), stored)

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        """The registered method; a client with a secret may send it either way (basic or post: the same secret,
        and discovery offers both, so a relying party that picks the other one still signs in)."""
        registered = self.app.token_endpoint_auth_method
        return method == registered or (method in SECRET_METHODS and registered in SECRET_METHODS)

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code"

    def check_grant_type(self, grant_type: str) -> bool:
        if grant_type == "refresh_token":
            return rules.SCOPE_OFFLINE_ACCESS in self.app.allowed_scopes
        if grant_type == rules.DEVICE_CODE_GRANT_TYPE:
            return bool(self.app.allow_device_code)
        return grant_type == "authorization_code"


def query_client(client_id: object) -> _Client | None:
    """The OpenID Connect client with exactly this id (the canonical lower-case form of its UUID), or None."""
    if not isinstance(client_id, str):
        return None
    try:
        app_id = uuid.UUID(client_id)
    except ValueError:
        return None
    if str(app_id) != client_id:  # client ids compare exactly (the canonical lower-case form)
        return None
    app = app_for_sign_in(app_id)
    # an app that exposes an API is a client too: as a resource server it introspects the tokens for it
    return _Client(app) if app is not None and (app.is_oidc_client or app.identifier_uris) else None


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
        app = app_for_sign_in(uuid.UUID(str(claims["sub"])))
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


_PRIVATE_KEY_JWT = _PrivateKeyJwt()


def authenticate_client(request: _Request, methods: Sequence[str], endpoint: str = "token") -> _Client:
    """The client of a token request: exactly one authentication method, and the one the client registered."""
    form = request.form
    used = []
    if _authorization_header(request.headers):
        used.append("client_secret_basic")
    if "client_secret" in form:
        used.append("client_secret_post")
    if "client_assertion" in form or "client_assertion_type" in form:
        used.append("private_key_jwt")
    if len(used) > 1:
        raise _tag(InvalidRequestError("Use exactly one client authentication method."), "multiple_client_auth")
    method = used[0] if used else "none"
    client = _authenticate(request, method)
    if method not in methods or not client.check_endpoint_auth_method(method, endpoint):
        raise _invalid_client(f"This client must authenticate with {client.app.token_endpoint_auth_method}.",
                              "client_auth_method_mismatch")
    request.client = client
    request.auth_method = method
    return client


def _authenticate(request: _Request, method: str) -> _Client:
    form = request.form
    if method == "client_secret_basic":
        client_id, secret = _basic_credentials(request.headers)
        if form.get("client_id", client_id) != client_id:
            raise _tag(InvalidRequestError("client_id differs from the client in the Authorization header."),
                       "client_id_mismatch")
        return _check_secret(client_id, secret)
    if method == "client_secret_post":
        return _check_secret(form.get("client_id", ""), form.get("client_secret", ""))
    if method == "private_key_jwt":
        if form.get("client_assertion_type") != ASSERTION_TYPE or not form.get("client_assertion"):
            raise _invalid_client("client_assertion_type must be urn:ietf:params:oauth:client-assertion-type:"
                                  "jwt-bearer, with a client_assertion.", "client_assertion_invalid")
        try:
            client = _PRIVATE_KEY_JWT(query_client, request)
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
    client = query_client(client_id)
    if client is None:
        raise _invalid_client("Unknown client.", "unknown_client")
    if client.app.token_endpoint_auth_method != rules.ClientAuthMethod.NONE:
        raise _invalid_client("Client authentication is required for this client.", "client_auth_missing")
    return client


def _check_secret(client_id: str, secret: str) -> _Client:
    """One constant-time comparison and one answer whether the client id names nobody, a client without a
    secret or one with another secret: only the audit row's reason code tells them apart."""
    client = query_client(client_id)
    has_secret = client is not None and client.app.has_secret
    stored = bytes(client.app.secret_sha256) if client is not None and has_secret else _NO_SECRET
    ok = hmac.compare_digest(_sha256(secret), stored) and has_secret
    if client is None:
        raise _invalid_client(CLIENT_AUTH_FAILED, "unknown_client")
    if not ok:
        raise _invalid_client(CLIENT_AUTH_FAILED, "invalid_client_secret")
    return client


def _invalid_client(description: str, reason: str) -> OAuth2Error:
    return _tag(InvalidClientError(description=description, status_code=401), reason)


def _authorization_header(headers: Mapping[str, str]) -> str:
    return headers.get("Authorization") or headers.get("authorization") or ""


def _basic_credentials(headers: Mapping[str, str]) -> tuple[str, str]:
    scheme, _, value = _authorization_header(headers).partition(" ")
    if scheme.lower() != "basic":
        raise _invalid_client("Client authentication must use HTTP Basic, client_secret_post or a client assertion.",
                              "unsupported_authorization_scheme")
    try:
        return rules.basic_credentials(value)
    except InvalidInput as exc:
        raise _invalid_client(exc.message, exc.code) from None
