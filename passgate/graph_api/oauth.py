"""``POST /oauth2/v2.0/token`` (and ``/{tenant}/oauth2/v2.0/token``, as Entra's URL has a tenant): the client
credentials grant of RFC 6749 §4.4, with its §5.2 error responses.

Client authentication is client_secret_basic (``Authorization: Basic``, both parts form-urlencoded, §2.3.1) or
client_secret_post, never both. Responses carry ``Cache-Control: no-store`` (§5.1).
"""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from passgate.apps.services import TokenRequestRejected, token_issue, token_refusal_record
from passgate.audit.context import request_context
from passgate.audit.services import RequestContext
from passgate.core.errors import InvalidInput
from passgate.core.oidc import basic_credentials
from passgate.core.text import UnusableText, check_pairs, checks_own_text

NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
BASIC_CHALLENGE = 'Basic realm="passgate"'


class _Refused(Exception):
    def __init__(self, error: str, description: str, *, status: int = 400, basic: bool = False,
                 reason: str | None = None) -> None:
        super().__init__(description)
        self.error, self.description, self.status, self.basic = error, description, status, basic
        self.reason = reason or error


def _context(request: HttpRequest) -> RequestContext:
    return request_context(request.META)


def _basic_credentials(request: HttpRequest) -> tuple[str, str] | None:
    header = str(request.META.get("HTTP_AUTHORIZATION", ""))
    scheme, _, value = header.partition(" ")
    if not header:
        return None
    if scheme.lower() != "basic":
        raise _Refused("invalid_client", "Client authentication must use HTTP Basic or client_secret_post.",
                       status=401, basic=True)
    try:
        return basic_credentials(value)
    except InvalidInput as exc:
        raise _Refused("invalid_client", exc.message, status=401, basic=True) from None


def _check_text(request: HttpRequest) -> None:
    """No NUL or lone surrogate in any parameter (``core.text``): RFC 6749's invalid_request."""
    try:
        for params in (request.POST, request.GET):
            check_pairs(params.lists(), where=lambda name: f"The parameter '{name}'")
    except UnusableText as exc:
        raise _Refused("invalid_request", exc.message, reason=exc.code) from None


def _read(request: HttpRequest) -> tuple[str, str, str, bool]:
    """(client_id, client_secret, scope, used Basic) from a valid request, or _Refused."""
    if request.content_type != "application/x-www-form-urlencoded":
        raise _Refused("invalid_request", "The body must be application/x-www-form-urlencoded.")
    form = request.POST
    _check_text(request)
    for name in form:
        if len(form.getlist(name)) > 1:
            raise _Refused("invalid_request", f"The parameter '{name}' was given more than once.")
    grant_type = form.get("grant_type", "")
    if not grant_type:
        raise _Refused("invalid_request", "The parameter 'grant_type' is required.")
    if grant_type != "client_credentials":
        raise _Refused("unsupported_grant_type", f"The grant type '{grant_type[:64]}' is not supported; use "
                                                 "client_credentials.")
    basic = _basic_credentials(request)
    if basic is not None and "client_secret" in form:
        raise _Refused("invalid_request", "Use one client authentication method: HTTP Basic or client_secret, "
                                          "not both.")
    if basic is not None:
        client_id, secret = basic
        if form.get("client_id", client_id) != client_id:
            raise _Refused("invalid_request", "client_id differs from the client in the Authorization header.")
    else:
        client_id, secret = form.get("client_id", ""), form.get("client_secret", "")
        if not client_id or not secret:
            raise _Refused("invalid_client", "Client authentication failed: give client_id and client_secret, or "
                                             "use HTTP Basic.", status=401)
    scope = form.get("scope", "")
    if not scope:
        raise _Refused("invalid_request", "The parameter 'scope' is required, e.g. "
                                          "https://graph.microsoft.com/.default.")
    return client_id, secret, scope, basic is not None


def _error(error: str, description: str, *, status: int, basic: bool) -> JsonResponse:
    headers = dict(NO_STORE)
    if status == 401 and basic:
        headers["WWW-Authenticate"] = BASIC_CHALLENGE
    return JsonResponse({"error": error, "error_description": description}, status=status, headers=headers)


@checks_own_text  # RFC 6749 §5.2 errors (_read)
@csrf_exempt
def token(request: HttpRequest, tenant: str | None = None) -> JsonResponse:
    if request.method != "POST":
        response = _error("invalid_request", "The token endpoint accepts POST only.", status=405, basic=False)
        response["Allow"] = "POST"
        return response
    context = _context(request)
    try:
        client_id, secret, scope, basic = _read(request)
    except _Refused as refused:
        token_refusal_record(reason=refused.reason, client_id=str(request.POST.get("client_id", "")),
                             context=context)
        return _error(refused.error, refused.description, status=refused.status, basic=refused.basic)
    try:
        issued = token_issue(client_id=client_id, client_secret=secret, scope=scope, context=context)
    except TokenRequestRejected as exc:
        status = 401 if exc.code == "invalid_client" else 400
        return _error(exc.code, exc.message, status=status, basic=basic)
    return JsonResponse({"token_type": "Bearer", "expires_in": issued.expires_in,
                         "ext_expires_in": issued.expires_in, "access_token": issued.access_token},
                        headers=NO_STORE)
