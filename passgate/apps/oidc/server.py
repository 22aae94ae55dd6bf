"""Authlib's ``AuthorizationServer`` wired to Passgate, and the token endpoint it answers (RFC 6749 §3.2, §5).

One server per process, built on first use (``_the_server``): the code grant with its extensions (the
authorization request's checks, PKCE S256, OpenID Connect), the refresh grant, the device code grant (RFC 8628),
Passgate's token generator and storage, client look-up and authentication (``clients``), and the token endpoint's
answers, every refusal audited with its reason code (``oidc.token``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from authlib.oauth2 import AuthorizationServer
from authlib.oauth2.rfc6749 import (
    InvalidRequestError,
    OAuth2Error,
    UnsupportedGrantTypeError,
    UnsupportedResponseTypeError,
)

from passgate.apps.oidc.adapter import (
    OAuthHttpRequest,
    OAuthResponse,
    _ascii,
    _duplicate_parameter,
    _reason,
    _Request,
    _tag,
    _unusable_parameter,
)
from passgate.apps.oidc.clients import _Client, authenticate_client, query_client
from passgate.apps.oidc.device_grant import GRANT_TYPE as DEVICE_CODE
from passgate.apps.oidc.device_grant import _DeviceCodeGrant
from passgate.apps.oidc.grants import _AuthorizeChecks, _CodeGrant, _OpenIDCode, _Pkce, _RefreshGrant
from passgate.apps.oidc.tokens import _generate_tokens, _save_token
from passgate.apps.services import app_actor, app_target
from passgate.audit.models import Category
from passgate.audit.services import NO_CONTEXT, RequestContext, audit_failure

NO_STORE = [("Cache-Control", "no-store"), ("Pragma", "no-cache")]
GRANT_TYPES = ("authorization_code", "refresh_token", DEVICE_CODE)
CREDENTIALS = frozenset({"client_secret", "client_assertion", "code", "refresh_token", "code_verifier", "device_code"})


class _Server(AuthorizationServer):  # type: ignore[misc]
    def __init__(self) -> None:
        super().__init__(scopes_supported=None)
        self.register_token_generator("default", _generate_tokens)
        self.register_grant(_CodeGrant, [_AuthorizeChecks(), _Pkce(required=True), _OpenIDCode()])
        self.register_grant(_RefreshGrant)
        self.register_grant(_DeviceCodeGrant)

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
        return query_client(client_id)

    def create_oauth2_request(self, request: Any) -> _Request:
        if not isinstance(request, _Request):
            raise TypeError("expected a passgate.apps.oidc.adapter._Request")
        return request

    def handle_response(self, status: int, body: Any, headers: Any) -> OAuthResponse:
        return OAuthResponse(status=status, body=dict(body) if body else {}, headers=list(headers))

    def send_signal(self, name: str, *args: Any, **kwargs: Any) -> None:
        return None

    def save_token(self, token: dict[str, Any], request: _Request) -> None:
        _save_token(token, request)

    def authenticate_client(self, request: _Request, methods: Sequence[str], endpoint: str = "token") -> _Client:
        return authenticate_client(request, methods, endpoint)

    def handle_error_response(self, request: _Request, error: OAuth2Error) -> OAuthResponse:
        client = request.client if isinstance(request.client, _Client) else None
        client_id = client.client_id if client else str(request.payload.client_id or "")[:64]
        if _reason(error) != "authorization_pending":  # a device waiting for its person: no refusal, not audited
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


_server: _Server | None = None


def _the_server() -> _Server:
    global _server  # noqa: PLW0603 - one Authlib server per process, built on first use
    if _server is None:
        _server = _Server()
    return _server


# --- the token endpoint -------------------------------------------------------------------------------------

def _token_error(error: OAuth2Error, oauth: _Request) -> OAuthResponse:
    return _the_server().handle_error_response(oauth, error)


def _parameter_problem(request: OAuthHttpRequest) -> OAuth2Error | None:
    """A token request parameter holding NUL or a lone surrogate, or given more than once, or None."""
    unusable = _unusable_parameter(request.params, request.query)
    if unusable is not None:
        return _tag(InvalidRequestError(unusable.message), unusable.code)
    for name, values in request.params.items():
        if len(values) > 1:
            return _duplicate_parameter(name)
    return None


def _token_precheck(request: OAuthHttpRequest) -> OAuth2Error | None:
    """What is wrong with a token request before any client or grant is looked at, or None."""
    if request.content_type != "application/x-www-form-urlencoded":
        return _tag(InvalidRequestError("The body must be application/x-www-form-urlencoded."),
                    "unsupported_media_type")
    problem = _parameter_problem(request)
    if problem is not None:
        return problem
    if CREDENTIALS & set(request.query):
        return _tag(InvalidRequestError("Credentials belong in the body, never in the URL."), "credentials_in_query")
    grant_type = (request.params.get("grant_type") or [""])[0]
    if not grant_type:
        return _tag(InvalidRequestError("The parameter 'grant_type' is required."), "grant_type_missing")
    if grant_type not in GRANT_TYPES:
        return _tag(UnsupportedGrantTypeError(_ascii(grant_type, 64)), "unsupported_grant_type")
    return None


def token_respond(*, request: OAuthHttpRequest, context: RequestContext = NO_CONTEXT) -> OAuthResponse:
    """RFC 6749 §4.1.3 and §6 with the §5.1/§5.2 responses, and RFC 8628 §3.4: authorization_code,
    refresh_token and device_code grants only."""
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
