from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.db.models import Q

from passgate.apps.models import AppRegistration
from passgate.core.graph.odata import Comparison
from passgate.core.graph.schema import format_datetime
from passgate.core.oidc import ClientType
from passgate.freshness.generation import cached


def app_list() -> list[AppRegistration]:
    return list(AppRegistration.objects.order_by("created_at"))


# Graph property -> (eq lookup, startswith lookup), for GET /applications?$filter=…
APP_COLUMNS: Mapping[str, tuple[str, str]] = {
    "id": ("pk", ""),
    "appId": ("app_id", ""),
    "displayName": ("display_name__iexact", "display_name__istartswith"),
}


def app_page(*, where: Sequence[Comparison] = (), after: str | None = None,
             limit: int | None = None) -> list[AppRegistration]:
    """Apps matching every condition, oldest first, after the key ``after`` (``app_page_key``), at most ``limit``."""
    q = Q()
    for c in where:
        eq, startswith = APP_COLUMNS[c.property]
        lookup = startswith if c.operator == "startswith" else eq
        if not lookup:
            raise ValueError(f"{c.operator} is not available for {c.property}")
        q &= Q(**{lookup: uuid.UUID(str(c.value)) if lookup in ("pk", "app_id") else c.value})
    rows = AppRegistration.objects.filter(q).order_by("created_at", "id")
    if after is not None:
        when, _, last_id = after.partition("|")
        try:
            at, pk = datetime.fromisoformat(when), uuid.UUID(last_id)
        except ValueError:
            at, pk = None, None
        if at is not None:
            rows = rows.filter(Q(created_at__gt=at) | Q(created_at=at, id__gt=pk))
    return list(rows[:limit] if limit is not None else rows)


def app_page_key(app: AppRegistration) -> str:
    return f"{app.created_at.isoformat()}|{app.id}"


def _uuid(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value.strip())
    except ValueError:
        return None


def app_by_object_id(object_id: str) -> AppRegistration | None:
    key = _uuid(object_id)
    return AppRegistration.objects.filter(pk=key).first() if key else None


def app_by_app_id(app_id: str) -> AppRegistration | None:
    key = _uuid(app_id)
    return AppRegistration.objects.filter(app_id=key).first() if key else None


def token_endpoint() -> str:
    return f"{settings.PASSGATE.origin}/oauth2/v2.0/token"


def oidc_issuer() -> str:
    """The OpenID Connect issuer: Passgate's public origin, exactly (discovery, ``iss`` of every token)."""
    return str(settings.PASSGATE.origin)


def oidc_endpoint(name: str) -> str:
    """``authorize``, ``token``, ``userinfo``, ``jwks``, ``logout`` under ``/oidc/`` of the issuer."""
    return f"{oidc_issuer()}/oidc/{name}"


def oidc_discovery_url() -> str:
    return f"{oidc_issuer()}/.well-known/openid-configuration"


def app_as_dict(app: AppRegistration) -> dict[str, Any]:
    """Named as Graph's application resource names them (appId, displayName, passwordCredentials[].hint);
    an OpenID Connect client also gets ``openIdConnect`` with its registration (public keys only, no secret)."""
    data: dict[str, Any] = {
        "id": str(app.id), "appId": str(app.app_id), "displayName": app.display_name,
        "permissions": list(app.permissions), "createdDateTime": format_datetime(app.created_at),
        "passwordCredentials": [{"hint": app.secret_hint}] if app.has_secret else [], "createdBy": app.created_by,
    }
    if app.is_oidc_client:
        data["openIdConnect"] = {
            "clientType": app.client_type, "redirectUris": list(app.redirect_uris),
            "postLogoutRedirectUris": list(app.post_logout_redirect_uris),
            "tokenEndpointAuthMethod": app.token_endpoint_auth_method, "scopes": list(app.allowed_scopes),
            "idTokenSignedResponseAlg": app.id_token_signed_response_alg, "requirePkce": app.require_pkce,
            "allowDeviceCode": app.allow_device_code,
            "jwks": app.jwks, "discovery": oidc_discovery_url(),
        }
    if app.identifier_uris or app.api_scopes:  # an API it exposes, named as Graph's application names it
        data.update(identifierUris=list(app.identifier_uris),
                    api={"oauth2PermissionScopes": [dict(scope) for scope in app.api_scopes]})
    return data


def oidc_redirect_uri_registered(*, client_id: str, redirect_uri: str) -> bool:
    """Whether ``redirect_uri`` is registered, exactly, for the OpenID Connect client ``client_id`` (canonical)."""
    key = _uuid(client_id)
    if key is None or str(key) != client_id:
        return False
    app = app_for_sign_in(key)
    return app is not None and redirect_uri in app.redirect_uris


def app_for_sign_in(app_id: uuid.UUID) -> AppRegistration | None:
    """The app registration with this appId, for the sign-in path (authorization, token, the sign-in page's
    form-action): kept per process while the configuration's generation stands (every write to an app registration
    moves it, on any node). Read only: services that change an app load and lock their own row."""
    # Only registrations that exist are kept: client ids anyone can send must not grow the cache.
    return cached(f"apps.registration.{app_id}", lambda: AppRegistration.objects.filter(app_id=app_id).first(),
                  keep=lambda app: app is not None)


def spa_origins() -> frozenset[str]:
    """The origins of public clients' redirect URIs: the single-page apps whose scripts may call the token,
    UserInfo and revocation endpoints from a browser (CORS). Kept while the configuration's generation stands."""
    def load() -> frozenset[str]:
        found = set()
        public = AppRegistration.objects.filter(client_type=ClientType.PUBLIC)
        for uris in public.values_list("redirect_uris", flat=True):
            for uri in uris or ():
                parts = urlsplit(str(uri))
                if parts.scheme in ("https", "http") and parts.netloc:
                    found.add(f"{parts.scheme}://{parts.netloc}".lower())
        return frozenset(found)

    return cached("apps.spa_origins", load)

