"""OpenID Connect Discovery 1.0 §3 / RFC 8414: what the provider supports, at ``/.well-known/openid-configuration``."""

from __future__ import annotations

from typing import Any

from passgate.apps.oidc.clients import AUTH_METHODS
from passgate.apps.selectors import oidc_endpoint, oidc_issuer, token_endpoint
from passgate.core import oidc as rules
from passgate.core.access.strengths import BUILT_IN_STRENGTHS

CLAIMS_SUPPORTED = ("iss", "sub", "aud", "exp", "iat", "auth_time", "nonce", "acr", "amr", "azp", "sid", "at_hash",
                    "name", "preferred_username", "updated_at", "email", "email_verified")


def discovery_document() -> dict[str, Any]:
    """OpenID Connect Discovery 1.0 §3 / RFC 8414; ``issuer`` is exactly the ``iss`` of every token."""
    return {
        "issuer": oidc_issuer(),
        "authorization_endpoint": oidc_endpoint("authorize"),
        "token_endpoint": oidc_endpoint("token"),
        "userinfo_endpoint": oidc_endpoint("userinfo"),
        "jwks_uri": oidc_endpoint("jwks"),
        "end_session_endpoint": oidc_endpoint("logout"),
        "revocation_endpoint": oidc_endpoint("revoke"),
        "revocation_endpoint_auth_methods_supported": list(AUTH_METHODS),
        "device_authorization_endpoint": oidc_endpoint("device_authorization"),  # RFC 8628 §4
        "introspection_endpoint": oidc_endpoint("introspect"),
        "introspection_endpoint_auth_methods_supported": list(AUTH_METHODS),
        "scopes_supported": list(rules.SUPPORTED_SCOPES),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token", rules.DEVICE_CODE_GRANT_TYPE],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": list(rules.ID_TOKEN_ALGORITHMS),
        "token_endpoint_auth_methods_supported": list(AUTH_METHODS),
        "token_endpoint_auth_signing_alg_values_supported": ["RS256", "ES256"],
        "code_challenge_methods_supported": ["S256"],
        "claims_supported": list(CLAIMS_SUPPORTED),
        "claims_parameter_supported": True,  # for id_token.acr (OIDC Core §5.5.1.1); other claims are ignored
        "acr_values_supported": sorted(BUILT_IN_STRENGTHS),
        "prompt_values_supported": ["none", "login"],
        "display_values_supported": ["page"],
        "request_parameter_supported": False,
        "request_uri_parameter_supported": False,
        "require_request_uri_registration": False,
        "authorization_response_iss_parameter_supported": True,
        "frontchannel_logout_supported": False,
        "backchannel_logout_supported": True,
        "backchannel_logout_session_supported": True,
    }


def graph_tenant_document() -> dict[str, Any]:
    """What MSAL (and so azure-identity's ``ClientSecretCredential``) reads from
    ``{authority}/v2.0/.well-known/openid-configuration`` before a client-credentials request: Entra's tenant
    document, for Graph's token endpoint (any tenant: Passgate is one). MSAL needs ``authorization_endpoint`` and
    ``token_endpoint``; ``issuer`` is the ``iss`` of Passgate's tokens."""
    return {
        "issuer": oidc_issuer(),
        "authorization_endpoint": oidc_endpoint("authorize"),
        "token_endpoint": token_endpoint(),
        "jwks_uri": oidc_endpoint("jwks"),
        "grant_types_supported": ["client_credentials"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": list(rules.ID_TOKEN_ALGORITHMS),
    }
