"""An API an app registration exposes (Entra's application model): the identifier URIs that name it, the permission
scopes clients may ask for, and how a requested scope string finds them. Plain values in and out.

- ``identifierUris``: absolute URIs (``api://<appId>``, ``https://api.example.com``, ``urn:...``), printable ASCII,
  no fragment, no wildcard, no user name, not ending in ``/``; unique across apps (checked by the service, which
  has the other apps).
- ``api.oauth2PermissionScopes``: Graph's permissionScope objects: ``id`` (a GUID), ``value`` (the scope name, e.g.
  ``Files.Read``; unique in the app, case-insensitively, as Entra compares them), the consent texts, ``isEnabled``,
  ``type`` (``User`` or ``Admin``). Passgate has no consent screen (administrators register every client), so the
  texts and the type are kept and shown, and decide nothing.
- A client asks for ``<identifierUri>/<scope value>`` (``api://<appId>/Files.Read``) next to ``openid`` and the
  other OpenID Connect scopes; every API scope of one request names the same API (Entra's rule).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import urlsplit

from passgate.core.errors import InvalidInput

MAX_IDENTIFIER_URIS: Final = 20
MAX_URI_LENGTH: Final = 2000
MAX_SCOPES: Final = 100
MAX_TEXT: Final = 1000
URI_SCHEMES: Final = ("api", "https", "urn")
SCOPE_TYPES: Final = ("User", "Admin")
REQUESTED_ACCESS_TOKEN_VERSION: Final = 2
SCOPE_VALUE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,119}$")
SCOPE_FIELDS: Final = ("id", "value", "adminConsentDisplayName", "adminConsentDescription",
                       "userConsentDisplayName", "userConsentDescription", "isEnabled", "type")
_TEXT_FIELDS: Final = ("adminConsentDisplayName", "adminConsentDescription", "userConsentDisplayName",
                       "userConsentDescription")


class ApiInputError(InvalidInput):
    """A refused API value; ``target`` is its JSON path in Graph's application (``api.oauth2PermissionScopes[1]``)."""

    def __init__(self, target: str, message: str, *, code: str) -> None:
        super().__init__(message, code=code)
        self.target = target


def _shown(value: str) -> str:
    return value if len(value) <= 100 else value[:97] + "..."


def validate_identifier_uri(value: object, *, target: str = "identifierUris") -> str:
    """One identifier URI, returned unchanged (see the module's rules)."""
    if not isinstance(value, str) or not value:
        raise ApiInputError(target, f"'{target}' must be an absolute URI such as api://<appId>.",
                            code="invalid_identifier_uri")
    shown = _shown(value)
    if len(value) > MAX_URI_LENGTH:
        raise ApiInputError(target, f"Identifier URI {shown!r} is longer than {MAX_URI_LENGTH} characters.",
                            code="invalid_identifier_uri")
    if any(not 0x21 <= ord(ch) <= 0x7E for ch in value):
        raise ApiInputError(target, f"Identifier URI {shown!r} has spaces, control or non-ASCII characters.",
                            code="invalid_identifier_uri")
    problem = _uri_problem(value)
    if problem:
        raise ApiInputError(target, f"Identifier URI {shown!r} {problem}.", code="invalid_identifier_uri")
    return value


def _uri_problem(value: str) -> str:
    """What is wrong with an identifier URI ("" when nothing)."""
    simple = (("#" in value, "has a fragment (#...); identifier URIs can't have one"),
              ("*" in value, "has a wildcard; identifier URIs name one API exactly"),
              (value.endswith("/"), "ends with '/'; clients ask for <identifierUri>/<scope value>, so leave the "
                                    "slash out"))
    found = next((problem for applies, problem in simple if applies), "")
    if found:
        return found
    try:
        parts = urlsplit(value)
    except ValueError:
        return "is not a valid URI"
    scheme = parts.scheme.lower()
    if scheme not in URI_SCHEMES:
        return "must be an absolute URI: api://..., https://... or urn:..."
    if scheme == "urn":
        valid = re.fullmatch(r"urn:[A-Za-z0-9][A-Za-z0-9-]{0,31}:\S+", value, re.IGNORECASE)
        return "" if valid else "is not a valid urn: URI"
    if not parts.netloc or "@" in parts.netloc:
        return "must name an authority (api://<appId>, https://host/...) and no user name"
    return "must not have a query (?...)" if parts.query else ""


def validate_identifier_uris(values: Iterable[object], *, target: str = "identifierUris") -> tuple[str, ...]:
    """Each URI checked; the same URI twice is refused (compared case-insensitively, as Entra does)."""
    chosen: list[str] = []
    for index, value in enumerate(values):
        uri = validate_identifier_uri(value, target=f"{target}[{index}]")
        if uri.lower() in (c.lower() for c in chosen):
            raise ApiInputError(f"{target}[{index}]", f"Identifier URI {_shown(uri)!r} is listed twice.",
                                code="duplicate_identifier_uri")
        chosen.append(uri)
    if len(chosen) > MAX_IDENTIFIER_URIS:
        raise ApiInputError(target, f"At most {MAX_IDENTIFIER_URIS} identifier URIs.", code="invalid_identifier_uri")
    return tuple(chosen)


@dataclass(frozen=True)
class PermissionScope:
    """Graph's permissionScope."""

    id: str
    value: str
    admin_consent_display_name: str
    admin_consent_description: str
    user_consent_display_name: str | None = None
    user_consent_description: str | None = None
    is_enabled: bool = True
    type: str = "User"

    def as_graph(self) -> dict[str, Any]:
        return {"adminConsentDescription": self.admin_consent_description,
                "adminConsentDisplayName": self.admin_consent_display_name, "id": self.id,
                "isEnabled": self.is_enabled, "origin": "Application", "type": self.type,
                "userConsentDescription": self.user_consent_description,
                "userConsentDisplayName": self.user_consent_display_name, "value": self.value}


def scope_from_stored(stored: Mapping[str, Any]) -> PermissionScope:
    """A permission scope as ``PermissionScope.as_graph`` stored it."""
    return PermissionScope(
        id=str(stored["id"]), value=str(stored["value"]),
        admin_consent_display_name=str(stored.get("adminConsentDisplayName") or ""),
        admin_consent_description=str(stored.get("adminConsentDescription") or ""),
        user_consent_display_name=stored.get("userConsentDisplayName"),
        user_consent_description=stored.get("userConsentDescription"),
        is_enabled=bool(stored.get("isEnabled", True)), type=str(stored.get("type") or "User"))


def _text(obj: Mapping[str, Any], name: str, target: str, *, required: bool) -> str | None:
    value = obj.get(name)
    if value is None:
        if required:
            raise ApiInputError(f"{target}.{name}", f"'{target}.{name}' is required.", code="invalid_permission_scope")
        return None
    if not isinstance(value, str):
        raise ApiInputError(f"{target}.{name}", f"'{target}.{name}' must be a string.", code="invalid_permission_scope")
    if len(value) > MAX_TEXT or any(ord(ch) < 0x20 for ch in value):
        raise ApiInputError(f"{target}.{name}", f"'{target}.{name}' must be at most {MAX_TEXT} characters, without "
                            "control characters.", code="invalid_permission_scope")
    if required and not value.strip():
        raise ApiInputError(f"{target}.{name}", f"'{target}.{name}' must not be empty.",
                            code="invalid_permission_scope")
    return value


def read_permission_scope(value: object, target: str) -> PermissionScope:
    """One permissionScope object as a Graph body sends it."""
    if not isinstance(value, dict):
        raise ApiInputError(target, f"'{target}' must be a permissionScope object.", code="invalid_permission_scope")
    for name in value:
        if name not in (*SCOPE_FIELDS, "origin"):
            raise ApiInputError(f"{target}.{name}", f"Property '{name}' of '{target}' does not exist; a "
                                f"permissionScope takes {', '.join(SCOPE_FIELDS)}.", code="invalid_permission_scope")
    if value.get("origin") not in (None, "Application"):
        raise ApiInputError(f"{target}.origin", f"'{target}.origin' is set by Passgate (Application).",
                            code="invalid_permission_scope")
    raw_id = value.get("id")
    try:
        scope_id = str(uuid.UUID(raw_id)) if isinstance(raw_id, str) and len(raw_id) == 36 else None
    except ValueError:
        scope_id = None
    if scope_id is None:
        raise ApiInputError(f"{target}.id", f"'{target}.id' is required: a GUID of your choosing that names the "
                            "scope for good.", code="invalid_permission_scope")
    scope_value = value.get("value")
    if not isinstance(scope_value, str) or not SCOPE_VALUE.match(scope_value):
        raise ApiInputError(f"{target}.value", f"'{target}.value' must be the scope's name, e.g. Files.Read: 1 to 120 "
                            "letters, digits and . _ : - (starting with a letter or digit).",
                            code="invalid_permission_scope")
    enabled = value.get("isEnabled", True)
    if enabled is not None and not isinstance(enabled, bool):
        raise ApiInputError(f"{target}.isEnabled", f"'{target}.isEnabled' must be true or false.",
                            code="invalid_permission_scope")
    kind = value.get("type") or "User"
    if kind not in SCOPE_TYPES:
        raise ApiInputError(f"{target}.type", f"'{target}.type' must be User or Admin.",
                            code="invalid_permission_scope")
    texts = {name: _text(value, name, target, required=name.startswith("admin")) for name in _TEXT_FIELDS}
    return PermissionScope(
        id=scope_id, value=scope_value, admin_consent_display_name=texts["adminConsentDisplayName"] or "",
        admin_consent_description=texts["adminConsentDescription"] or "",
        user_consent_display_name=texts["userConsentDisplayName"],
        user_consent_description=texts["userConsentDescription"], is_enabled=enabled is not False, type=kind)


def _check_scope(scope: PermissionScope, target: str) -> None:
    """What ``read_permission_scope`` checks, for a scope made elsewhere (the command line)."""
    if not SCOPE_VALUE.match(scope.value):
        raise ApiInputError(f"{target}.value", f"{scope.value[:120]!r} is not a valid scope's name (e.g. Files.Read): "
                            "1 to 120 letters, digits and . _ : - (starting with a letter or digit).",
                            code="invalid_permission_scope")
    if scope.type not in SCOPE_TYPES:
        raise ApiInputError(f"{target}.type", f"'{target}.type' must be User or Admin.",
                            code="invalid_permission_scope")
    try:
        uuid.UUID(scope.id)
    except ValueError:
        raise ApiInputError(f"{target}.id", f"'{target}.id' must be a GUID.", code="invalid_permission_scope") from None


def validate_permission_scopes(scopes: Sequence[PermissionScope], *,
                               target: str = "api.oauth2PermissionScopes") -> tuple[PermissionScope, ...]:
    """Ids and values unique in the app (values compared case-insensitively)."""
    if len(scopes) > MAX_SCOPES:
        raise ApiInputError(target, f"At most {MAX_SCOPES} permission scopes.", code="invalid_permission_scope")
    ids: set[str] = set()
    values: set[str] = set()
    for index, scope in enumerate(scopes):
        _check_scope(scope, f"{target}[{index}]")
        if scope.id in ids:
            raise ApiInputError(f"{target}[{index}].id", f"Two permission scopes have the id {scope.id}.",
                                code="duplicate_permission_scope")
        if scope.value.lower() in values:
            raise ApiInputError(f"{target}[{index}].value", f"Two permission scopes have the value {scope.value!r}.",
                                code="duplicate_permission_scope")
        ids.add(scope.id)
        values.add(scope.value.lower())
    return tuple(scopes)


def removed_enabled_scopes(old: Sequence[PermissionScope], new: Sequence[PermissionScope]) -> tuple[str, ...]:
    """The values of enabled scopes that ``new`` drops or renames: Entra refuses that (disable a scope first, then
    remove it), so tokens already issued never carry a scope the API no longer knows while it is live."""
    kept = {scope.id: scope.value for scope in new}
    return tuple(scope.value for scope in old if scope.is_enabled and kept.get(scope.id) != scope.value)


# --- requested scopes ------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ScopeRequest:
    """A requested scope string split: the OpenID Connect scopes, and the API it names with the scope values asked
    (``resource`` "" when none)."""

    oidc: tuple[str, ...]
    resource: str
    values: tuple[str, ...]


def split_requested(scope: str | None, *, oidc_scopes: Iterable[str]) -> ScopeRequest:
    """Split a scope parameter. A scope that is not an OpenID Connect one and holds a '/' is an API scope
    (``<identifierUri>/<value>``); others are left with the OpenID Connect scopes (the caller drops unknown ones).
    Two APIs in one request: ``InvalidInput`` (``api_scopes_several_resources``)."""
    known = frozenset(oidc_scopes)
    plain: list[str] = []
    resource = ""
    values: list[str] = []
    for item in (scope or "").split():
        if item in known or "/" not in item:
            plain.append(item)
            continue
        uri, _, value = item.rpartition("/")
        if resource and uri != resource:
            raise InvalidInput("The scopes name two APIs; ask for one API's scopes per request (then get a token "
                               "for the other API with another request).", code="api_scopes_several_resources")
        resource = uri
        if value not in values:
            values.append(value)
    return ScopeRequest(oidc=tuple(plain), resource=resource, values=tuple(values))


def granted_api_values(requested: Sequence[str], scopes: Sequence[PermissionScope]) -> tuple[str, ...]:
    """The requested scope values of an API, as the API defines them (exact value); ``InvalidInput`` for one it
    does not define (``api_scope_unknown``) or has disabled (``api_scope_disabled``)."""
    by_value = {scope.value: scope for scope in scopes}
    for value in requested:
        scope = by_value.get(value)
        if scope is None:
            raise InvalidInput(f"The API has no scope {value[:120]!r}.", code="api_scope_unknown")
        if not scope.is_enabled:
            raise InvalidInput(f"The API's scope {value[:120]!r} is disabled.", code="api_scope_disabled")
    if not requested:
        raise InvalidInput("Name the API's scopes: <identifierUri>/<scope value>.", code="api_scope_unknown")
    return tuple(requested)
