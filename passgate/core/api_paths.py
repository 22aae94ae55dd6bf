"""Which request paths are APIs for programs rather than pages for people.

A program calling one of them must always get JSON back: never an HTML page and never a redirect to one, whatever
goes wrong (no route, wrong method, a bad request Django refuses before any view, a crash, a session that cannot
be used). The Graph API answers in Graph's error envelope (``core.graph.errors.envelope``); the OAuth and OpenID
Connect endpoints programs call answer RFC 6749 §5.2 errors (``{"error", "error_description"}``).
"""

from __future__ import annotations

import re
from enum import StrEnum, unique

GRAPH_VERSIONS = ("v1.0", "beta")
_GRAPH = re.compile(r"^/(?:v1\.0|beta)(?:/|\Z)|^/openapi\.json(?:/|\Z)")
# The client-credentials token endpoint (also under Entra's /{tenant}/ prefix), and the OpenID Connect endpoints
# that programs call (the authorization and logout endpoints are pages for people).
# The device API (``/device/v1``, joined computers' agents) answers in the same shape.
_OAUTH = re.compile(r"^/(?:[^/]+/)?oauth2(?:/|\Z)|^/oidc/(?:token|userinfo|jwks)/?\Z|^/\.well-known/"
                    r"|^/device/v1(?:/|\Z)")


@unique
class ApiKind(StrEnum):
    GRAPH = "graph"
    OAUTH = "oauth"


def api_kind(path: str) -> ApiKind | None:
    """The API a request path belongs to, or None for a page."""
    if _GRAPH.match(path):
        return ApiKind.GRAPH
    if _OAUTH.match(path):
        return ApiKind.OAUTH
    return None
