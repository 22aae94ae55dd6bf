"""An API an app registration exposes (``core.app_api``): its identifier URIs and permission scopes stored, kept
unique across apps, and found again from a requested scope; and its app roles (``core.app_roles``). ``app_create``
and ``app_update`` call these."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction

from passgate.apps.models import AppIdentifierUri, AppRegistration, AppRoleAssignment
from passgate.core import app_api, app_roles
from passgate.core.app_api import ApiInputError, PermissionScope
from passgate.core.app_roles import AppRole


@dataclass(frozen=True)
class ApiExposure:
    """What an app exposes: the URIs that name its API, the scopes clients may ask for, and its app roles (None:
    unchanged)."""

    identifier_uris: tuple[str, ...] = ()
    scopes: tuple[PermissionScope, ...] = ()
    roles: tuple[AppRole, ...] | None = None


def exposure_of(app: AppRegistration) -> ApiExposure:
    return ApiExposure(identifier_uris=tuple(app.identifier_uris),
                       scopes=tuple(app_api.scope_from_stored(s) for s in app.api_scopes), roles=app_roles_of(app))


def app_roles_of(app: AppRegistration) -> tuple[AppRole, ...]:
    return tuple(app_roles.role_from_stored(r) for r in app.app_roles)


def _roles_fields(roles: tuple[AppRole, ...] | None, app: AppRegistration | None) -> dict[str, Any]:
    """The ``app_roles`` column for ``roles`` (none when None), checked: valid, unique, and no enabled role of
    ``app`` removed or given another value (Entra: disable it first)."""
    if roles is None:
        return {}
    checked = app_roles.validate_app_roles(roles)
    if app is not None:
        dropped = app_roles.removed_enabled_roles(app_roles_of(app), checked)
        if dropped:
            raise ApiInputError("appRoles", f"The app role {dropped[0]!r} is enabled: disable it (isEnabled false) "
                                "before removing it or changing its value.", code="app_role_enabled")
    return {"app_roles": [role.as_graph() for role in checked]}


def role_assignments_prune(app: AppRegistration) -> int:
    """Remove the assignments of roles ``app`` no longer defines (in the caller's transaction); how many."""
    kept = [r["id"] for r in app.app_roles]
    removed, _ = AppRoleAssignment.objects.filter(app=app).exclude(app_role_id__in=kept).delete()
    return int(removed)


def api_fields(api: ApiExposure, *, app: AppRegistration | None = None) -> dict[str, Any]:
    """The columns for ``api``, checked: URIs valid and used by no other app; scopes valid and unique; an enabled
    scope of ``app`` is not removed or renamed (Entra: disable it first)."""
    uris = app_api.validate_identifier_uris(api.identifier_uris)
    scopes = app_api.validate_permission_scopes(api.scopes)
    if scopes and not uris:
        raise ApiInputError("identifierUris", "An app that exposes scopes needs an identifier URI (e.g. "
                            "api://<appId>): clients ask for <identifierUri>/<scope value>.",
                            code="identifier_uri_required")
    taken = AppIdentifierUri.objects.filter(uri__in=[u.lower() for u in uris])
    if app is not None:
        taken = taken.exclude(app=app)
        dropped = app_api.removed_enabled_scopes(exposure_of(app).scopes, scopes)
        if dropped:
            raise ApiInputError("api.oauth2PermissionScopes", f"The scope {dropped[0]!r} is enabled: disable it "
                                "(isEnabled false) before removing or renaming it.", code="permission_scope_enabled")
    clash = taken.values_list("uri", flat=True).first()
    if clash is not None:
        raise _taken(uris, clash)
    return {"identifier_uris": list(uris), "api_scopes": [scope.as_graph() for scope in scopes],
            **_roles_fields(api.roles, app)}


def _taken(uris: tuple[str, ...], clash: str) -> ApiInputError:
    index = next((i for i, uri in enumerate(uris) if uri.lower() == clash), 0)
    return ApiInputError(f"identifierUris[{index}]", f"Identifier URI {uris[index]!r} is already used by another "
                         "app: identifier URIs are unique across apps.", code="identifier_uri_taken")


def identifier_rows_sync(app: AppRegistration) -> None:
    """Make the look-up rows match ``app.identifier_uris`` (in the caller's transaction); a URI another app took
    meanwhile is refused as ``api_fields`` refuses it."""
    wanted = [uri.lower() for uri in app.identifier_uris]
    AppIdentifierUri.objects.filter(app=app).exclude(uri__in=wanted).delete()
    have = set(AppIdentifierUri.objects.filter(app=app).values_list("uri", flat=True))
    for uri in wanted:
        if uri in have:
            continue
        try:
            with transaction.atomic():
                AppIdentifierUri.objects.create(app=app, uri=uri)
        except IntegrityError:
            raise _taken(tuple(app.identifier_uris), uri) from None


def api_by_identifier_uri(uri: str) -> AppRegistration | None:
    """The app whose API this identifier URI names (compared case-insensitively), or None."""
    if not uri or len(uri) > app_api.MAX_URI_LENGTH:
        return None
    row = AppIdentifierUri.objects.select_related("app").filter(uri=uri.lower()).first()
    return row.app if row is not None else None


def api_scopes_of(app: AppRegistration) -> tuple[PermissionScope, ...]:
    return tuple(app_api.scope_from_stored(s) for s in app.api_scopes)
