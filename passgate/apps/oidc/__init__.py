"""The OpenID Connect provider: authorization code flow with PKCE, refresh tokens, UserInfo, logout, discovery.

Authlib's server components do the protocol (``AuthorizationServer``, ``AuthorizationCodeGrant``,
``RefreshTokenGrant``, ``CodeChallenge``, ``OpenIDCode``, ``JWTBearerClientAssertion``); this package gives them
Passgate's storage, keys and rules, and audits every refusal with a reason code. The issuer is Passgate's public
origin, exactly; the endpoints are under ``/oidc/`` (ADR 0005, ``docs/oidc.md``). Import each name from the module
that holds it (this package re-exports nothing); names with a leading underscore are private to the package.

- ``adapter``: the request and response the web adapter gives and takes (``OAuthHttpRequest``,
  ``OAuthResponse``), the same request as Authlib reads it, reason codes on Authlib's errors, input limits.
- ``clients``: registered apps as Authlib's clients (``query_client``) and client authentication at the token
  endpoint: client_secret_basic, client_secret_post, private_key_jwt (``jti`` single use), none.
- ``backchannel``: OpenID Back-Channel Logout 1.0 (``backchannel_logout``, ``logout_token``).
- ``access_tokens``: RFC 9068 JWT access tokens for an API an app exposes (``api_request``, ``api_token_sign``).
- ``tokens``: lifetimes; access and refresh tokens issued and stored (SHA-256 only); grant revocation (code
  replay, refresh-token reuse, revoked sign-in sessions); ``session_tokens_revoke``; ``oidc_purge``.
- ``claims``: the claims about a person (``user_claims``) and ``id_token_hint_verify``.
- ``grants``: the authorization code grant with its checks, PKCE S256 and the ID token; the refresh grant.
- ``device_grant``: the device code grant (RFC 8628 §3.4-3.5): polling, ``slow_down``, single use.
- ``server``: the Authlib server wired together, and the token endpoint (``token_respond``).
- ``authorization``: the authorization endpoint (``authorization_validate``, ``authorization_issue``,
  ``authorization_refuse``, ``authorization_refusal_record``).
- ``userinfo``: ``userinfo_claims``, ``userinfo_refusal_record``.
- ``logout``: RP-initiated logout (``logout_validate``, ``logout_location``).
- ``device_authorization``: RFC 8628's device authorization endpoint (``device_authorization_respond``) and the
  verification page's decisions (``device_authorization_find``, ``device_authorization_approve``,
  ``device_authorization_deny``).
- ``discovery``: ``discovery_document``.

Each module imports only those above it in this list, never one below.
"""
