"""OpenID Connect provider rules that need no framework: registration values, authorization parameters, and what
an authorization request needs from the browser session before a code may be issued.

The Authlib wiring, storage and HTTP live in ``passgate.apps.oidc`` and ``passgate.web.views.oidc``; this module
decides, from plain values, and never reads a clock or a request.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum, unique
from typing import Final
from urllib.parse import unquote_plus, urlsplit

from passgate.core.errors import InvalidInput

SCOPE_OPENID: Final = "openid"
SCOPE_OFFLINE_ACCESS: Final = "offline_access"
DEVICE_CODE_GRANT_TYPE: Final = "urn:ietf:params:oauth:grant-type:device_code"  # RFC 8628 §3.4
SUPPORTED_SCOPES: Final = ("openid", "profile", "email", "offline_access")
ID_TOKEN_ALGORITHMS: Final = ("ES256", "RS256")
DEFAULT_ID_TOKEN_ALGORITHM: Final = "ES256"  # noqa: S105 - an algorithm name
MAX_URI_LENGTH: Final = 2000
MAX_URIS: Final = 20
LOOPBACK_HOSTS: Final = frozenset({"localhost", "127.0.0.1", "::1"})


@unique
class ClientType(StrEnum):
    CONFIDENTIAL = "confidential"
    PUBLIC = "public"


@unique
class ClientAuthMethod(StrEnum):
    """RFC 7591 ``token_endpoint_auth_method`` values Passgate accepts."""

    CLIENT_SECRET_BASIC = "client_secret_basic"  # noqa: S105 - method names, not secrets
    CLIENT_SECRET_POST = "client_secret_post"  # noqa: S105
    PRIVATE_KEY_JWT = "private_key_jwt"
    NONE = "none"  # public clients only


CONFIDENTIAL_AUTH_METHODS: Final = (ClientAuthMethod.CLIENT_SECRET_BASIC, ClientAuthMethod.CLIENT_SECRET_POST,
                                    ClientAuthMethod.PRIVATE_KEY_JWT)


# --- registration values ------------------------------------------------------------------------------------

def validate_redirect_uri(value: object, *, what: str = "Redirect URI") -> str:
    """A redirect URI as registered and later compared character for character (RFC 9700 §2.1, OIDC §3.1.2.1).

    Absolute, https (http only for the loopback hosts localhost, 127.0.0.1 and [::1], RFC 8252 §7.3), no
    fragment, no user name or password, printable ASCII, at most 2000 characters. Returned unchanged.
    """
    if not isinstance(value, str) or not value:
        raise InvalidInput(f"{what}: give an absolute https URI", code="invalid_redirect_uri")
    shown = value if len(value) <= 100 else value[:97] + "..."
    if len(value) > MAX_URI_LENGTH:
        raise InvalidInput(f"{what} {shown!r} is longer than {MAX_URI_LENGTH} characters",
                           code="invalid_redirect_uri")
    if any(not 0x21 <= ord(ch) <= 0x7E for ch in value):
        raise InvalidInput(f"{what} {shown!r} has spaces, control or non-ASCII characters; percent-encode them",
                           code="invalid_redirect_uri")
    if "#" in value:
        raise InvalidInput(f"{what} {shown!r} has a fragment (#...); redirect URIs can't have one",
                           code="invalid_redirect_uri")
    try:
        parts = urlsplit(value)
        host = parts.hostname
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError:
        raise InvalidInput(f"{what} {shown!r} is not a valid URI", code="invalid_redirect_uri") from None
    if parts.scheme not in ("https", "http") or not host or not parts.netloc:
        raise InvalidInput(f"{what} {shown!r} must be an absolute https:// URI (http:// only for localhost)",
                           code="invalid_redirect_uri")
    if parts.username is not None or parts.password is not None:
        raise InvalidInput(f"{what} {shown!r} must not contain a user name or password", code="invalid_redirect_uri")
    if "*" in host:
        raise InvalidInput(f"{what} {shown!r} has a wildcard; register each exact URI", code="invalid_redirect_uri")
    if parts.scheme == "http" and not is_loopback_host(host):
        raise InvalidInput(f"{what} {shown!r} uses http; only https is allowed, except for the loopback hosts "
                           "localhost, 127.0.0.1 and [::1]", code="invalid_redirect_uri")
    return value


def is_loopback_host(host: str) -> bool:
    if host.lower() in LOOPBACK_HOSTS:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def validate_redirect_uris(values: Iterable[object], *, what: str = "Redirect URI") -> list[str]:
    """Each URI checked, duplicates dropped, order kept."""
    chosen: list[str] = []
    for value in values:
        uri = validate_redirect_uri(value, what=what)
        if uri not in chosen:
            chosen.append(uri)
    if len(chosen) > MAX_URIS:
        raise InvalidInput(f"At most {MAX_URIS} values of {what} can be registered", code="too_many_redirect_uris")
    return chosen


def validate_scopes(values: Iterable[object]) -> list[str]:
    """The scopes a client may ask for: a subset of :data:`SUPPORTED_SCOPES` that includes ``openid``."""
    chosen: list[str] = []
    for value in values:
        if not isinstance(value, str) or value not in SUPPORTED_SCOPES:
            raise InvalidInput(f"Unknown scope {value!r}; choose from {', '.join(SUPPORTED_SCOPES)}",
                               code="unknown_scope")
        if value not in chosen:
            chosen.append(value)
    if SCOPE_OPENID not in chosen:
        raise InvalidInput("The allowed scopes must include openid", code="unknown_scope")
    return [scope for scope in SUPPORTED_SCOPES if scope in chosen]


def validate_id_token_algorithm(value: object) -> str:
    if value not in ID_TOKEN_ALGORITHMS:
        raise InvalidInput(f"Unknown ID token signing algorithm {value!r}; choose {' or '.join(ID_TOKEN_ALGORITHMS)}",
                           code="unknown_algorithm")
    return str(value)


def validate_client_auth(*, client_type: ClientType, method: str | None) -> ClientAuthMethod:
    """The token endpoint authentication a client registers: ``none`` for a public client, one of
    :data:`CONFIDENTIAL_AUTH_METHODS` for a confidential one (``client_secret_basic`` when not given)."""
    if client_type is ClientType.PUBLIC:
        if method not in (None, ClientAuthMethod.NONE.value):
            raise InvalidInput(f"A public client has no secret or key, so it can't use {method}; leave out the "
                               "authentication method", code="invalid_auth_method")
        return ClientAuthMethod.NONE
    if method is None:
        return ClientAuthMethod.CLIENT_SECRET_BASIC
    if method not in {m.value for m in CONFIDENTIAL_AUTH_METHODS}:
        raise InvalidInput(f"Unknown token endpoint authentication method {method!r}; choose from "
                           f"{', '.join(m.value for m in CONFIDENTIAL_AUTH_METHODS)}", code="invalid_auth_method")
    return ClientAuthMethod(method)


def pkce_refusal(*, client_type: ClientType, require_pkce: bool, code_challenge: str | None,
                 nonce: str | None) -> str | None:
    """RFC 9700 §2.1.1 at the authorization endpoint: the reason code for refusing a request without PKCE, or None.

    A request with a ``code_challenge`` goes on (its method and form are checked next, S256 only). Without one:
    a public client is refused (PKCE is its only proof); a confidential client whose app requires PKCE too; any
    other confidential client must send a ``nonce`` (an OpenID request: the ID token's ``nonce`` binds the code to
    the browser that started, which is what PKCE would do), as Apache mod_auth_openidc does by default."""
    if code_challenge:
        return None
    if client_type is ClientType.PUBLIC:
        return "pkce_missing"
    if require_pkce:
        return "pkce_required_for_app"
    if not nonce:
        return "pkce_or_nonce_missing"
    return None


PKCE_REFUSALS = {
    "pkce_missing": "code_challenge is required: a public client must use PKCE (S256).",
    "pkce_required_for_app": "code_challenge is required: this app's registration requires PKCE (S256).",
    "pkce_or_nonce_missing": "Send PKCE (code_challenge with S256) or a nonce: a confidential client needs one of "
                             "them (RFC 9700 section 2.1.1).",
}


# --- authorization request parameters ---------------------------------------------------------------------

def parse_prompt(raw: str | None) -> frozenset[str]:
    """OIDC §3.1.2.1 ``prompt``: space-separated values; ``none`` with any other value is an invalid request.

    Values Passgate has no screen for (``consent``, ``select_account``, ``create``) are accepted and have no
    effect: apps are registered by administrators, so there is no consent screen, and a session holds one person.
    """
    values = frozenset((raw or "").split())
    if "none" in values and len(values) > 1:
        raise InvalidInput("prompt=none can't be combined with other prompt values", code="invalid_prompt")
    return values


def parse_max_age(raw: str | None) -> int | None:
    """``max_age``: a whole number of seconds, 0 or more (absent: no limit)."""
    if raw is None or raw == "":
        return None
    if not raw.isascii() or not raw.isdigit() or len(raw) > 10:
        raise InvalidInput("max_age must be a whole number of seconds", code="invalid_max_age")
    return int(raw)


def parse_acr_values(raw: str | None, claims: str | None = None) -> tuple[str, ...]:
    """The ``acr`` the client asks for, in preference order, duplicates dropped: the ``claims`` parameter's
    ``id_token.acr`` (OIDC Core §5.5.1.1, ``value`` or ``values``; essential or voluntary alike, since an unmet
    request leads to the step-up page either way), then ``acr_values`` (space-separated). ``claims`` must be
    checked with :func:`parse_claims_acr` first."""
    seen: list[str] = []
    for value in (*parse_claims_acr(claims), *(raw or "").split()):
        if value not in seen:
            seen.append(value)
    return tuple(seen[:20])


def parse_claims_acr(raw: str | None) -> tuple[str, ...]:
    """The acr values an OIDC ``claims`` request parameter asks for in the ID token (§5.5, §5.5.1.1); other
    claims are ignored (Passgate returns the scope claims). InvalidInput (``claims_invalid``) when the parameter
    is not the JSON object the specification defines."""
    if not raw:
        return ()
    try:
        document = json.loads(raw)
    except ValueError:
        raise InvalidInput("The claims parameter is not JSON", code="claims_invalid") from None
    if not isinstance(document, dict) or not all(isinstance(document.get(member, {}), dict)
                                                 for member in ("id_token", "userinfo")):
        raise InvalidInput("The claims parameter must be a JSON object with id_token and userinfo objects",
                           code="claims_invalid")
    request = document.get("id_token", {}).get("acr")
    if request is None:
        return ()
    if not isinstance(request, dict):
        raise InvalidInput("claims id_token.acr must be null or an object", code="claims_invalid")
    values: list[object] = []
    if "value" in request:
        values.append(request["value"])
    if "values" in request:
        if not isinstance(request["values"], list):
            raise InvalidInput("claims id_token.acr.values must be an array", code="claims_invalid")
        values.extend(request["values"])
    if "essential" in request and not isinstance(request["essential"], bool):
        raise InvalidInput("claims id_token.acr.essential must be true or false", code="claims_invalid")
    if not all(isinstance(value, str) and value and len(value) <= 200 for value in values):
        raise InvalidInput("claims id_token.acr values must be strings", code="claims_invalid")
    return tuple(str(value) for value in values)


def granted_scopes(requested: str | None, allowed: Sequence[str]) -> tuple[str, ...]:
    """What is granted: the requested scopes the client may have, in Passgate's order; unknown ones are dropped
    (RFC 6749 §3.3 lets the server grant less). ``openid`` must be among them (checked by the caller)."""
    wanted = set((requested or "").split())
    return tuple(scope for scope in SUPPORTED_SCOPES if scope in wanted and scope in allowed)


# --- what the session must prove before a code is issued ----------------------------------------------------

@unique
class AuthorizeNext(StrEnum):
    ISSUE = "issue"  # issue the code now
    SIGN_IN = "sign_in"  # send the person to sign in, then come back
    STEP_UP = "step_up"  # send the person to the step-up page, then come back
    LOGIN_REQUIRED = "login_required"  # prompt=none: tell the client a sign-in is needed
    INTERACTION_REQUIRED = "interaction_required"  # prompt=none: tell the client a step-up is needed


@dataclass(frozen=True)
class SessionFacts:
    """The browser session as an authorization request sees it."""

    user_id: str | None  # who is signed in with a usable authentication record; None: nobody
    auth_time: datetime | None  # the latest method use
    signed_in_for_this_request_at: datetime | None  # when this very request sent the person to sign in, if it did


@dataclass(frozen=True)
class AuthorizeParameters:
    prompt: frozenset[str]
    max_age: int | None
    hint_subject: str | None  # the ``sub`` of a verified id_token_hint


def authorize_next(params: AuthorizeParameters, session: SessionFacts, *, unmet_strengths: bool,
                   now: datetime) -> AuthorizeNext:
    """OIDC §3.1.2.3: authenticate when nobody is signed in, when ``prompt=login`` asks for it, when the sign-in is
    older than ``max_age``, and when the signed-in person is not the ``id_token_hint``'s; with ``prompt=none``
    each of those is an error for the client instead. A sign-in done for this request satisfies ``prompt=login``
    and ``max_age`` (so the round trip cannot loop); a person who then still differs from the hint is refused.
    Unmet requested strengths (``acr_values``) lead to the step-up page, or ``interaction_required``."""
    silent = "none" in params.prompt
    sign_in = AuthorizeNext.LOGIN_REQUIRED if silent else AuthorizeNext.SIGN_IN
    if session.user_id is None or session.auth_time is None:
        return sign_in
    wrong_person = params.hint_subject is not None and params.hint_subject != session.user_id
    asked_at = session.signed_in_for_this_request_at
    if asked_at is not None and session.auth_time >= asked_at:
        if wrong_person:
            return AuthorizeNext.LOGIN_REQUIRED
    else:
        too_old = params.max_age is not None and now - session.auth_time > timedelta(seconds=params.max_age)
        if "login" in params.prompt or too_old or wrong_person:
            return sign_in
    if unmet_strengths:
        return AuthorizeNext.INTERACTION_REQUIRED if silent else AuthorizeNext.STEP_UP
    return AuthorizeNext.ISSUE


def basic_credentials(value: str) -> tuple[str, str]:
    """RFC 6749 §2.3.1: the client id and secret in an HTTP Basic ``Authorization`` value (what follows "Basic "):
    base64 of the form-urlencoded id, a colon and the form-urlencoded secret. ``InvalidInput``
    (``malformed_basic_credentials``) for anything else."""
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        raise InvalidInput("The Authorization header is not valid Basic credentials.",
                           code="malformed_basic_credentials") from None
    client_id, sep, secret = decoded.partition(":")
    if not sep:
        raise InvalidInput("The Authorization header is not valid Basic credentials.",
                           code="malformed_basic_credentials")
    return unquote_plus(client_id), unquote_plus(secret)


# --- redirect loops -----------------------------------------------------------------------------------------------

LOOP_WINDOW_SECONDS: Final = 10
# codes for the same request shape within the window; the next one is a loop. A relying party caught in a loop
# sends about 14 requests a second (mod_auth_openidc, measured); a person restoring a window full of the same app's
# tabs stays under it.
LOOP_LIMIT: Final = 10


def loop_check(issued: Sequence[object], *, now: float) -> tuple[bool, tuple[float, ...]]:
    """(is this a loop, the times to keep) for one authorization request shape, given when codes were issued for
    it in this browser session: a relying party that rejects what it got (e.g. an ``acr`` it checks but never
    asked for) sends the person straight back, and each round trip would issue a code again. ``LOOP_LIMIT`` codes
    within ``LOOP_WINDOW_SECONDS`` make the next request a loop; only times inside the window are kept, and a
    clock that went back forgets the rest."""
    recent = tuple(float(t) for t in issued if isinstance(t, int | float) and not isinstance(t, bool)
                   and 0 <= now - t < LOOP_WINDOW_SECONDS)
    return len(recent) >= LOOP_LIMIT, recent
