"""The requests and responses the web adapter gives and takes, and Authlib's view of them (RFC 6749 §3).

The web adapter turns an HTTP request into an :class:`OAuthHttpRequest` and an :class:`OAuthResponse` back into
HTTP; ``_Request`` is that request as Authlib's server reads it, with the request context (for the audit) and the
facts the grants gather on the way. An Authlib error carries the reason code it is audited with (``_tag``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from authlib.oauth2 import OAuth2Request
from authlib.oauth2.rfc6749 import InvalidRequestError, OAuth2Error
from authlib.oauth2.rfc6749.requests import OAuth2Payload

from passgate.apps.selectors import oidc_issuer
from passgate.audit.services import RequestContext
from passgate.core.text import UnusableText, check_pairs

TOKEN_BYTES = 32
MAX_TOKEN_LENGTH = 8192
MAX_PARAMETER_LENGTH = 4096


def _sha256(value: str) -> bytes:
    return hashlib.sha256(value.encode("utf-8", "replace")).digest()


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


def _ascii(text: str, limit: int = 200) -> str:
    """Text safe for error_description (RFC 6749 §5.2: printable ASCII without quote and backslash)."""
    return "".join(ch for ch in str(text) if 0x20 <= ord(ch) <= 0x7E and ch not in '"\\')[:limit] or "invalid"


def _duplicate_parameter(name: str) -> OAuth2Error:
    return _tag(InvalidRequestError(f"The parameter '{_ascii(name, 40)}' was given more than once."),
                "duplicate_parameter")


def _unusable_parameter(*params: Mapping[str, Sequence[str]]) -> UnusableText | None:
    """The first parameter name or value holding NUL or a lone surrogate (``core.text``), as an error, or None."""
    try:
        for each in params:
            check_pairs(each.items(), where=lambda name: f"The parameter '{name}'")
    except UnusableText as exc:
        return exc
    return None


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
