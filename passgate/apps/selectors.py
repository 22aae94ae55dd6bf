from __future__ import annotations

from typing import Any

from django.conf import settings

from passgate.apps.models import AppRegistration
from passgate.core.graph.schema import format_datetime


def app_list() -> list[AppRegistration]:
    return list(AppRegistration.objects.order_by("created_at"))


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
            "idTokenSignedResponseAlg": app.id_token_signed_response_alg,
            "jwks": app.jwks, "discovery": oidc_discovery_url(),
        }
    return data
