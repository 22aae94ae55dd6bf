"""App registrations (Graph API clients and OpenID Connect clients) and the Graph client-credentials token service
(RFC 6749 §4.4; access tokens are RFC 7519 JWTs). The OpenID Connect provider itself is ``passgate.apps.oidc``.

- Client secrets are 32 random bytes (256 bits), shown once, stored as SHA-256 and compared in constant time: a
  slow password hash buys nothing for a secret nobody can guess, and costs every token request.
- Access tokens are ES256 JWTs signed with a key created on first use, ``kid`` = its RFC 7638 thumbprint;
  ``iss`` and ``aud`` are Passgate's public origin; ``roles`` are the app's permissions; 60 minutes.
- Validation accepts ES256 only (``none`` and HMAC tokens are refused before any key is touched), checks the
  signature, ``iss``, ``aud``, ``exp``/``nbf`` with 60 s leeway, and that the app still exists; the roles used are
  the token's, narrowed to what the app holds now, so removing a permission takes effect at once.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from joserfc import errors as jose_errors
from joserfc import jws, jwt
from joserfc.jwk import ECKey, KeySet

from passgate.apps import keys
from passgate.apps.exposed_api import ApiExposure, api_fields, identifier_rows_sync, role_assignments_prune
from passgate.apps.models import AppRegistration
from passgate.audit.models import Category
from passgate.audit.services import (
    NO_CONTEXT,
    Actor,
    RequestContext,
    Target,
    audit_failure,
    audit_record,
    audited_refusals,
)
from passgate.core import oidc as rules
from passgate.core.directory import validate_display_name
from passgate.core.errors import InvalidInput, NotFound, NotSignedIn, PassgateError
from passgate.core.graph.authz import AppCaller, permission_names
from passgate.core.keys import key_strength_problem

ACCESS_TOKEN_LIFETIME = timedelta(minutes=60)
LEEWAY_SECONDS = 60
SECRET_BYTES = 32
MAX_TOKEN_LENGTH = 8192
ALGORITHM = "ES256"
# The resource part of "<resource>/.default": Microsoft Graph by URL or app id, or Passgate's own origin.
GRAPH_RESOURCES = ("https://graph.microsoft.com", "00000003-0000-0000-c000-000000000000")
_NO_SUCH_SECRET = hashlib.sha256(b"passgate: no such client").digest()


class TokenRequestRejected(PassgateError):
    """A token request refused with an RFC 6749 §5.2 error; ``code`` is the wire value (``invalid_client`` …)."""

    def __init__(self, error: str, message: str, *, reason: str) -> None:
        super().__init__(message, code=error)
        self.reason = reason


@dataclass(frozen=True)
class IssuedToken:
    access_token: str
    expires_in: int
    app: AppRegistration


def app_target(app: AppRegistration) -> Target:
    return Target(type="application", id=str(app.app_id), name=app.display_name)


def app_actor(app: AppRegistration) -> Actor:
    return Actor(id=app.id, name=f"app:{app.display_name}")


def _digest(secret: str) -> bytes:
    return hashlib.sha256(secret.encode("utf-8", "replace")).digest()


def validate_permissions(permissions: Iterable[str]) -> list[str]:
    known = permission_names()
    chosen: list[str] = []
    for name in permissions:
        if name not in known:
            raise InvalidInput(f"Unknown permission {name!r}; choose from {', '.join(known)}",
                               code="unknown_permission")
        if name not in chosen:
            chosen.append(name)
    return chosen


# --- app registrations --------------------------------------------------------------------------------

MAX_JWKS_KEYS = 10
_PRIVATE_JWK_MEMBERS = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth", "k"})


def validate_client_jwks(value: object) -> dict[str, Any]:
    """A client's registered public keys for private_key_jwt: a JWK set of 1..10 public RSA, EC or OKP keys."""
    if not isinstance(value, dict) or not isinstance(value.get("keys"), list) or not value["keys"]:
        raise InvalidInput('The JWKS must be a JSON object {"keys": [...]} with at least one public key',
                           code="invalid_jwks")
    if len(value["keys"]) > MAX_JWKS_KEYS:
        raise InvalidInput(f"The JWKS may hold at most {MAX_JWKS_KEYS} keys", code="invalid_jwks")
    for index, item in enumerate(value["keys"]):
        if not isinstance(item, dict):
            raise InvalidInput(f"JWKS key {index} is not a JSON object", code="invalid_jwks")
        if item.get("kty") not in ("RSA", "EC", "OKP"):
            raise InvalidInput(f"JWKS key {index}: kty must be RSA, EC or OKP (symmetric keys are refused)",
                               code="invalid_jwks")
        if _PRIVATE_JWK_MEMBERS & set(item):
            raise InvalidInput(f"JWKS key {index} contains private key material; register the public key only",
                               code="invalid_jwks")
        if item.get("use", "sig") != "sig":
            raise InvalidInput(f"JWKS key {index}: use must be sig", code="invalid_jwks")
    try:
        key_set = KeySet.import_key_set(value)  # type: ignore[arg-type]
    except (jose_errors.JoseError, ValueError, TypeError, KeyError) as exc:
        raise InvalidInput(f"The JWKS is not a valid JWK set: {exc}", code="invalid_jwks") from None
    for index, key in enumerate(key_set.keys):
        problem = key_strength_problem(key.raw_value)
        if problem is not None:  # e.g. a 1024-bit RSA key, an X25519 (not a signature) key
            raise InvalidInput(f"JWKS key {index}: {problem[1]}", code="invalid_jwks")
    return {"keys": [dict(item) for item in value["keys"]]}


@dataclass(frozen=True)
class OidcRegistration:
    """What makes an app an OpenID Connect client (core.oidc checks each value)."""

    redirect_uris: tuple[str, ...] = ()
    post_logout_redirect_uris: tuple[str, ...] = ()
    public: bool = False
    auth_method: str | None = None
    jwks: object = None
    scopes: tuple[str, ...] | None = None
    id_token_alg: str | None = None
    require_pkce: bool = False
    backchannel_logout_uri: str | None = None
    allow_device_code: bool = False  # RFC 8628, the device authorization grant

    def given(self) -> bool:
        return bool(self.redirect_uris or self.post_logout_redirect_uris or self.public or self.scopes
                    or self.require_pkce or self.backchannel_logout_uri or self.allow_device_code
                    or any(value is not None for value in (self.auth_method, self.jwks, self.id_token_alg)))


def _oidc_fields(oidc: OidcRegistration, *, permissions: list[str]) -> dict[str, Any]:
    if not oidc.redirect_uris:
        if oidc.given():
            raise InvalidInput("OpenID Connect settings need at least one redirect URI", code="redirect_uri_required")
        return {}
    redirect_uris = rules.validate_redirect_uris(oidc.redirect_uris)
    post_logout = rules.validate_redirect_uris(oidc.post_logout_redirect_uris, what="Post-logout redirect URI")
    client_type = rules.ClientType.PUBLIC if oidc.public else rules.ClientType.CONFIDENTIAL
    method = rules.validate_client_auth(client_type=client_type, method=oidc.auth_method)
    if client_type is rules.ClientType.PUBLIC and permissions:
        raise InvalidInput("A public client can't hold Graph application permissions (those need a client secret)",
                           code="public_client_permissions")
    jwks: dict[str, Any] | None = None
    if method is rules.ClientAuthMethod.PRIVATE_KEY_JWT:
        if oidc.jwks is None:
            raise InvalidInput("private_key_jwt needs the client's public keys (a JWKS)", code="invalid_jwks")
        jwks = validate_client_jwks(oidc.jwks)
    elif oidc.jwks is not None:
        raise InvalidInput("A JWKS is only used with the private_key_jwt authentication method", code="invalid_jwks")
    scopes = rules.validate_scopes(oidc.scopes if oidc.scopes else rules.SUPPORTED_SCOPES)
    alg = rules.validate_id_token_algorithm(
        rules.DEFAULT_ID_TOKEN_ALGORITHM if oidc.id_token_alg is None else oidc.id_token_alg)
    return {"redirect_uris": redirect_uris, "post_logout_redirect_uris": post_logout,
            "client_type": client_type.value, "token_endpoint_auth_method": method.value, "jwks": jwks,
            "allowed_scopes": scopes, "id_token_signed_response_alg": alg,
            "require_pkce": client_type is rules.ClientType.PUBLIC or oidc.require_pkce,
            "backchannel_logout_uri": rules.validate_redirect_uri(oidc.backchannel_logout_uri,
                                                                  what="Back-channel logout URI")
            if oidc.backchannel_logout_uri else "",
            "allow_device_code": oidc.allow_device_code}


def _needs_secret(fields: dict[str, Any], permissions: list[str]) -> bool:
    """Graph clients always have a secret (client credentials); OpenID Connect clients when they authenticate with
    one, or also hold Graph permissions. Public clients never."""
    if not fields:
        return True
    if fields.get("client_type") == rules.ClientType.PUBLIC.value:
        return False
    method = fields.get("token_endpoint_auth_method")
    return bool(permissions) or method in (rules.ClientAuthMethod.CLIENT_SECRET_BASIC.value,
                                           rules.ClientAuthMethod.CLIENT_SECRET_POST.value)


def _secret_fields(secret: str | None, display_name: str = "") -> dict[str, Any]:
    """The columns of the app's one secret (Graph's passwordCredential), or of none."""
    if secret is None:
        return {"secret_sha256": b"", "secret_hint": "", "secret_key_id": None, "secret_display_name": "",
                "secret_created_at": None}
    return {"secret_sha256": _digest(secret), "secret_hint": secret[:3], "secret_key_id": uuid.uuid4(),
            "secret_display_name": display_name, "secret_created_at": timezone.now()}


def validate_secret_name(value: object) -> str:
    """A secret's description (Graph: passwordCredential.displayName): optional, at most 256 printable characters."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return ""
    return validate_display_name(value, what="The secret's description")


@audited_refusals(category=Category.DIRECTORY, activity="app.add")
@transaction.atomic
def app_create(*, display_name: str, permissions: Iterable[str], actor: Actor,
               oidc: OidcRegistration | None = None, with_secret: bool | None = None, secret_display_name: str = "",
               api: ApiExposure | None = None,
               context: RequestContext = NO_CONTEXT) -> tuple[AppRegistration, str | None]:
    """Register an app: a Graph API client (permissions), an OpenID Connect client (``oidc`` with redirect URIs), or
    both. Returns it and its client secret (None when it has none), which is not stored and cannot be shown again.

    ``with_secret``: None gives the app a secret when it needs one (see ``_needs_secret``); True always (refused for
    a public client); False never (Graph's POST /applications: a secret comes from addPassword). ``api``: the API
    the app exposes (identifier URIs, permission scopes; ``passgate.apps.exposed_api``).
    """
    name = validate_display_name(display_name, what="The app's name")
    granted = validate_permissions(permissions)
    fields = _oidc_fields(oidc or OidcRegistration(), permissions=granted)
    exposed = api_fields(api) if api is not None else {}
    public = fields.get("client_type") == rules.ClientType.PUBLIC.value
    if with_secret and public:
        raise InvalidInput("A public client has no secret: it proves itself with PKCE", code="public_client_secret")
    wanted = _needs_secret(fields, granted) if with_secret is None else with_secret
    secret = secrets.token_urlsafe(SECRET_BYTES) if wanted else None
    app = AppRegistration.objects.create(display_name=name, permissions=granted, created_by=actor.name,
                                         **_secret_fields(secret, validate_secret_name(secret_display_name)),
                                         **fields, **exposed)
    if exposed:
        identifier_rows_sync(app)
    details: dict[str, Any] = {"permissions": granted, "secretHint": app.secret_hint,
                               "secretKeyId": str(app.secret_key_id) if app.secret_key_id else None}
    if fields:
        details.update(redirectUris=app.redirect_uris, postLogoutRedirectUris=app.post_logout_redirect_uris,
                       clientType=app.client_type, tokenEndpointAuthMethod=app.token_endpoint_auth_method,
                       scopes=app.allowed_scopes, idTokenSignedResponseAlg=app.id_token_signed_response_alg,
                       requirePkce=app.require_pkce, allowDeviceCode=app.allow_device_code)
    if exposed:
        details.update(identifierUris=app.identifier_uris, oauth2PermissionScopes=app.api_scopes,
                       appRoles=app.app_roles)
    audit_record(category=Category.DIRECTORY, activity="app.add", actor=actor, target=app_target(app),
                 context=context, details=details)
    return app, secret


@transaction.atomic
def app_remove(*, app: AppRegistration, actor: Actor, context: RequestContext = NO_CONTEXT) -> None:
    """Remove an app: its secret stops working and its access tokens are refused at once."""
    target = app_target(app)
    app.delete()
    audit_record(category=Category.DIRECTORY, activity="app.remove", actor=actor, target=target, context=context)


def registration_of(app: AppRegistration) -> OidcRegistration:
    """The app's OpenID Connect registration as ``app_create`` takes it (empty for a Graph-only client): change a
    field with ``dataclasses.replace`` and give it to ``app_update``."""
    if not app.is_oidc_client:
        return OidcRegistration()
    return OidcRegistration(
        redirect_uris=tuple(app.redirect_uris), post_logout_redirect_uris=tuple(app.post_logout_redirect_uris),
        public=app.client_type == rules.ClientType.PUBLIC.value, auth_method=app.token_endpoint_auth_method,
        jwks=app.jwks, scopes=tuple(app.allowed_scopes), id_token_alg=app.id_token_signed_response_alg,
        require_pkce=app.require_pkce and app.client_type != rules.ClientType.PUBLIC.value,
        backchannel_logout_uri=app.backchannel_logout_uri or None, allow_device_code=app.allow_device_code)


def _not_oidc() -> dict[str, Any]:
    """The columns of an app that is not an OpenID Connect client (the model's defaults)."""
    return {"redirect_uris": [], "post_logout_redirect_uris": [], "client_type": rules.ClientType.CONFIDENTIAL.value,
            "token_endpoint_auth_method": rules.ClientAuthMethod.CLIENT_SECRET_BASIC.value, "jwks": None,
            "allowed_scopes": [], "id_token_signed_response_alg": rules.DEFAULT_ID_TOKEN_ALGORITHM,
            "require_pkce": False, "backchannel_logout_uri": "", "allow_device_code": False}


_AUDITED_FIELDS = {  # column -> the name its old/new values have in the audit row
    "display_name": "displayName", "permissions": "permissions", "redirect_uris": "redirectUris",
    "post_logout_redirect_uris": "postLogoutRedirectUris", "client_type": "clientType",
    "token_endpoint_auth_method": "tokenEndpointAuthMethod", "jwks": "jwks", "allowed_scopes": "scopes",
    "id_token_signed_response_alg": "idTokenSignedResponseAlg", "require_pkce": "requirePkce",
    "backchannel_logout_uri": "backchannelLogoutUri", "identifier_uris": "identifierUris",
    "api_scopes": "oauth2PermissionScopes", "allow_device_code": "allowDeviceCode", "app_roles": "appRoles",
}


def _locked(app: AppRegistration) -> AppRegistration:
    row = AppRegistration.objects.select_for_update().filter(pk=app.pk).first()
    if row is None:
        raise NotFound(f"No app registration {app.app_id}", code="app_not_found")
    return row


def _refusal_audited(activity: str, app: AppRegistration, actor: Actor, context: RequestContext,
                     exc: PassgateError) -> None:
    audit_failure(category=Category.DIRECTORY, activity=activity, reason=exc.code, actor=actor,
                  target=app_target(app), context=context, details={"message": exc.message[:500]})


def app_update(*, app: AppRegistration, actor: Actor, display_name: str | None = None,
               permissions: Iterable[str] | None = None, oidc: OidcRegistration | None = None,
               api: ApiExposure | None = None, context: RequestContext = NO_CONTEXT) -> AppRegistration:
    """Change an app's name, Graph permissions and/or OpenID Connect registration (None: unchanged; ``oidc`` is the
    whole registration, as ``registration_of`` gives it; ``OidcRegistration()`` makes it a Graph-only client;
    ``api`` the whole exposed API, as ``exposure_of`` gives it).

    Checked as ``app_create`` checks them. Refused: a public client that still has a secret (remove it first), and a
    public client holding Graph permissions. The audit row has the old and new value of what changed; a change that
    changes nothing writes none. A refusal is audited with its reason code.
    """
    try:
        with transaction.atomic():
            row = _locked(app)
            name = row.display_name if display_name is None else validate_display_name(display_name,
                                                                                         what="The app's name")
            granted = list(row.permissions) if permissions is None else validate_permissions(permissions)
            fields = _oidc_fields(registration_of(row) if oidc is None else oidc, permissions=granted) or _not_oidc()
            if fields["client_type"] == rules.ClientType.PUBLIC.value and row.has_secret:
                raise InvalidInput("A public client has no secret: remove this app's secret first (removePassword), "
                                   "then make it a public client", code="public_client_secret")
            new = {"display_name": name, "permissions": granted, **fields,
                   **(api_fields(api, app=row) if api is not None else {})}
            changed = {column: value for column, value in new.items() if getattr(row, column) != value}
            if not changed:
                return row
            old = {_AUDITED_FIELDS[c]: getattr(row, c) for c in changed}
            for column, value in changed.items():
                setattr(row, column, value)
            row.save(update_fields=list(changed))
            if "identifier_uris" in changed:
                identifier_rows_sync(row)
            details: dict[str, Any] = {"old": old, "new": {_AUDITED_FIELDS[c]: v for c, v in changed.items()}}
            if "app_roles" in changed:  # a disabled role removed takes its assignments with it
                details["appRoleAssignmentsRemoved"] = role_assignments_prune(row)
            audit_record(category=Category.DIRECTORY, activity="app.update", actor=actor, target=app_target(row),
                         context=context, details=details)
            return row
    except PassgateError as exc:
        _refusal_audited("app.update", app, actor, context, exc)
        raise


def app_secret_add(*, app: AppRegistration, actor: Actor, display_name: str = "",
                   context: RequestContext = NO_CONTEXT) -> tuple[AppRegistration, str]:
    """Give the app a new client secret (Graph: addPassword) and return it; it is not stored and cannot be shown
    again. It *replaces* the app's secret, if it had one (Passgate keeps one per app): the old one stops working at
    once; access tokens already issued with it live until they expire. Refused for a public client."""
    try:
        with transaction.atomic():
            row = _locked(app)
            if row.client_type == rules.ClientType.PUBLIC.value and row.is_oidc_client:
                raise InvalidInput("A public client has no secret: it proves itself with PKCE",
                                   code="public_client_secret")
            name = validate_secret_name(display_name)
            replaced = str(row.secret_key_id) if row.has_secret and row.secret_key_id else None
            secret = secrets.token_urlsafe(SECRET_BYTES)
            for column, value in _secret_fields(secret, name).items():
                setattr(row, column, value)
            row.save(update_fields=list(_secret_fields(None)))
            audit_record(category=Category.DIRECTORY, activity="app.addPassword", actor=actor,
                         target=app_target(row), context=context,
                         details={"keyId": str(row.secret_key_id), "displayName": name, "hint": row.secret_hint,
                                  "replacedKeyId": replaced})
            return row, secret
    except PassgateError as exc:
        _refusal_audited("app.addPassword", app, actor, context, exc)
        raise


def app_secret_remove(*, app: AppRegistration, key_id: str, actor: Actor,
                      context: RequestContext = NO_CONTEXT) -> AppRegistration:
    """Remove the app's client secret (Graph: removePassword), named by its keyId: it stops working at once."""
    try:
        with transaction.atomic():
            row = _locked(app)
            try:
                wanted = uuid.UUID(str(key_id).strip())
            except ValueError:
                raise InvalidInput(f"keyId {str(key_id)[:64]!r} is not a GUID", code="invalid_key_id") from None
            if not row.has_secret or row.secret_key_id != wanted:
                raise NotFound(f"The app has no secret with keyId {wanted}", code="secret_not_found")
            hint = row.secret_hint
            for column, value in _secret_fields(None).items():
                setattr(row, column, value)
            row.save(update_fields=list(_secret_fields(None)))
            audit_record(category=Category.DIRECTORY, activity="app.removePassword", actor=actor,
                         target=app_target(row), context=context, details={"keyId": str(wanted), "hint": hint})
            return row
    except PassgateError as exc:
        _refusal_audited("app.removePassword", app, actor, context, exc)
        raise


def app_get(*, key: str) -> AppRegistration:
    """An app by client id (appId) or object id."""
    try:
        as_uuid = uuid.UUID(key.strip())
    except ValueError:
        as_uuid = None
    found = AppRegistration.objects.filter(Q(app_id=as_uuid) | Q(pk=as_uuid)).first() if as_uuid else None
    if found is None:
        raise NotFound(f"No app registration {key!r}", code="app_not_found")
    return found


# --- signing keys (passgate.apps.keys) ---------------------------------------------------------------

def signing_key_current() -> tuple[str, ECKey]:
    """The ES256 key that signs new access tokens (see ``passgate.apps.keys``)."""
    kid, key = keys.signing_key_current(ALGORITHM)
    assert isinstance(key, ECKey)  # noqa: S101 - keys.signing_key_current("ES256") loads EC keys only
    return kid, key


def _verification_key(kid: object) -> ECKey | None:
    key = keys.verification_key(kid, alg=ALGORITHM)
    return key if isinstance(key, ECKey) else None


# --- tokens -------------------------------------------------------------------------------------------

def _scope_ok(scope: str) -> bool:
    parts = scope.split()
    if len(parts) != 1 or not parts[0].endswith("/.default"):
        return False
    resource = parts[0][: -len("/.default")].rstrip("/")
    return resource in (*GRAPH_RESOURCES, settings.PASSGATE.origin)


def token_issue(*, client_id: str, client_secret: str, scope: str,
                context: RequestContext = NO_CONTEXT) -> IssuedToken:
    """Client credentials grant: authenticate the app, check the scope, sign an access token; audited."""
    try:
        app = AppRegistration.objects.filter(app_id=uuid.UUID(client_id)).first()
    except ValueError:
        app = None
    # One constant-time comparison whatever the client id names (nobody, an app without a secret, an app).
    has_secret = app is not None and app.has_secret
    stored = bytes(app.secret_sha256) if app is not None and has_secret else _NO_SUCH_SECRET
    secret_ok = hmac.compare_digest(_digest(client_secret), stored) and has_secret
    if app is None or not secret_ok:
        reason = "unknown_client" if app is None else "invalid_client_secret"
        audit_failure(category=Category.SIGN_IN, activity="token.issue", reason=reason, context=context,
                      actor=app_actor(app) if app else None, target=app_target(app) if app else None,
                      details={"clientId": client_id[:64]})
        raise TokenRequestRejected("invalid_client", "Client authentication failed: unknown client or wrong secret.",
                                   reason=reason)
    if not _scope_ok(scope):
        audit_failure(category=Category.SIGN_IN, activity="token.issue", reason="invalid_scope", context=context,
                      actor=app_actor(app), target=app_target(app), details={"scope": scope[:200]})
        raise TokenRequestRejected(
            "invalid_scope", "The scope must be one resource followed by /.default, for example "
            "https://graph.microsoft.com/.default.", reason="invalid_scope")
    kid, key = signing_key_current()
    now = timezone.now()
    issued_at = int(now.timestamp())
    lifetime = int(ACCESS_TOKEN_LIFETIME.total_seconds())
    origin = settings.PASSGATE.origin
    claims: dict[str, Any] = {
        "iss": origin, "aud": origin, "iat": issued_at, "nbf": issued_at, "exp": issued_at + lifetime,
        "sub": str(app.id), "oid": str(app.id), "appid": str(app.app_id), "azp": str(app.app_id),
        "idtyp": "app", "roles": list(app.permissions), "jti": secrets.token_urlsafe(16),
    }
    token = jwt.encode({"alg": ALGORITHM, "kid": kid, "typ": "JWT"}, claims, key, algorithms=[ALGORITHM])
    audit_record(category=Category.SIGN_IN, activity="token.issue", actor=app_actor(app), target=app_target(app),
                 context=context, details={"jti": claims["jti"], "roles": claims["roles"], "kid": kid})
    return IssuedToken(access_token=token, expires_in=lifetime, app=app)


def _refuse(message: str, code: str) -> NotSignedIn:
    return NotSignedIn(message, code=code)


def _signed_claims(token: str) -> dict[str, Any]:
    """The claims of a well-formed ES256 JWT whose signature verifies with one of our keys."""
    if not token:
        raise _refuse("Access token is empty.", "token_missing")
    if len(token) > MAX_TOKEN_LENGTH:
        raise _refuse("Access token validation failure. The token is too long.", "token_malformed")
    try:
        header = jws.extract_compact(token.encode("ascii")).headers()
    except (jose_errors.JoseError, ValueError, UnicodeError):
        raise _refuse("Access token validation failure. The token is not a well-formed JWT.",
                      "token_malformed") from None
    if header.get("alg") != ALGORITHM:
        raise _refuse("Access token validation failure. The token's signing algorithm is not accepted.",
                      "token_algorithm")
    key = _verification_key(header.get("kid"))
    if key is None:
        raise _refuse("Access token validation failure. The token was not signed by this server.", "token_unknown_key")
    try:
        return dict(jwt.decode(token, key, algorithms=[ALGORITHM]).claims)
    except jose_errors.JoseError:
        raise _refuse("Access token validation failure. Invalid signature.", "token_signature") from None


_CLAIM_REFUSALS = {
    "nbf": ("Lifetime validation failed, the token is not yet valid.", "token_not_yet_valid"),
    "aud": ("Access token validation failure. Invalid audience.", "token_audience"),
    "iss": ("Access token validation failure. Invalid issuer.", "token_issuer"),
}


def _check_claims(claims: dict[str, Any]) -> None:
    origin = settings.PASSGATE.origin
    registry = jwt.JWTClaimsRegistry(
        leeway=LEEWAY_SECONDS, iss={"essential": True, "value": origin}, aud={"essential": True, "value": origin},
        exp={"essential": True}, appid={"essential": True},
    )
    try:
        registry.validate(claims)
    except jose_errors.ExpiredTokenError:
        raise _refuse("Lifetime validation failed, the token is expired.", "token_expired") from None
    except jose_errors.ClaimError as exc:
        claim = str(getattr(exc, "claim", ""))
        message, code = _CLAIM_REFUSALS.get(
            claim, (f"Access token validation failure. The '{claim}' claim is missing or invalid.", "token_claims"))
        raise _refuse(message, code) from None


def token_authenticate(token: str) -> AppCaller:
    """Verify an access token and return the calling app; raises NotSignedIn with Graph's wording."""
    claims = _signed_claims(token)
    _check_claims(claims)
    try:
        app = AppRegistration.objects.filter(app_id=uuid.UUID(str(claims["appid"]))).first()
    except ValueError:
        app = None
    if app is None:
        raise _refuse("Access token validation failure. The application no longer exists.", "token_app_removed")
    roles = claims.get("roles")
    granted = frozenset(r for r in roles if isinstance(r, str)) if isinstance(roles, list) else frozenset()
    return AppCaller(app_id=str(app.app_id), object_id=str(app.id), display_name=app.display_name,
                     permissions=granted & frozenset(app.permissions))


def token_refusal_record(*, reason: str, client_id: str = "", context: RequestContext = NO_CONTEXT) -> None:
    """Audit a token request refused before the client was looked up (malformed request, unsupported grant)."""
    audit_failure(category=Category.SIGN_IN, activity="token.issue", reason=reason, context=context,
                  details={"clientId": client_id[:64]})
