"""``passgate apps add`` and ``passgate apps update``: an app's Graph permissions, OpenID Connect registration, and
the API it exposes (``--identifier-uri``, ``--api-scope``; Graph's identifierUris and api.oauth2PermissionScopes).

An app given API scopes without an identifier URI gets ``api://<appId>``, as Entra's portal proposes.
"""

from __future__ import annotations

import argparse
import uuid
from dataclasses import replace

from django.db import transaction

from passgate.apps.exposed_api import ApiExposure, exposure_of
from passgate.apps.models import AppRegistration
from passgate.apps.selectors import app_as_dict, token_endpoint
from passgate.apps.services import OidcRegistration, app_create, app_get, app_update, registration_of
from passgate.cli.app_roles import roles_after
from passgate.cli.commands import _app_lines, _emit, _read_jwks, _system_actor
from passgate.core.app_api import PermissionScope
from passgate.core.errors import InvalidInput


def _new_scope(value: str, kind: str, api_name: str) -> PermissionScope:
    what = f"{value} of {api_name}"
    user_text = f"Lets the app use {what} for you." if kind == "User" else None
    return PermissionScope(id=str(uuid.uuid4()), value=value, admin_consent_display_name=what,
                           admin_consent_description=f"Lets the app use {what} for the signed-in person.",
                           user_consent_display_name=what if user_text else None,
                           user_consent_description=user_text, type=kind)


def _exposure(app: AppRegistration, args: argparse.Namespace) -> ApiExposure | None:
    """The API after the options (None: they change nothing)."""
    current = exposure_of(app)
    added = [(value, "User") for value in args.api_scope] + [(value, "Admin") for value in args.api_admin_scope]
    changes = {name: set(getattr(args, name, []) or []) for name in ("disable_api_scope", "enable_api_scope",
                                                                      "remove_api_scope")}
    if not (args.identifier_uri or added or any(changes.values())):
        return None
    known = {scope.value for scope in current.scopes}
    missing = sorted(set().union(*changes.values()) - known)
    if missing:
        raise InvalidInput(f"The app has no API scope {missing[0]!r}", code="api_scope_unknown")
    scopes = [replace(scope, is_enabled=False) if scope.value in changes["disable_api_scope"] else
              replace(scope, is_enabled=True) if scope.value in changes["enable_api_scope"] else scope
              for scope in current.scopes if scope.value not in changes["remove_api_scope"]]
    scopes += [_new_scope(value, kind, app.display_name) for value, kind in added]
    uris = tuple(args.identifier_uri) or current.identifier_uris or ((f"api://{app.app_id}",) if scopes else ())
    return ApiExposure(identifier_uris=uris, scopes=tuple(scopes))


def cmd_apps_add(args: argparse.Namespace) -> None:
    oidc = OidcRegistration(
        redirect_uris=tuple(args.redirect_uri), post_logout_redirect_uris=tuple(args.post_logout_redirect_uri),
        public=args.public, auth_method=args.auth_method, jwks=_read_jwks(args.jwks),
        scopes=tuple(args.scope) or None, id_token_alg=args.id_token_alg, require_pkce=args.require_pkce,
        backchannel_logout_uri=args.backchannel_logout_uri, allow_device_code=args.allow_device_code)
    with transaction.atomic():  # an API refused leaves no app behind
        app, secret = app_create(display_name=args.name, permissions=args.permission, actor=_system_actor(),
                                 oidc=oidc)
        api = _exposure(app, args)
        if api is not None:
            app = app_update(app=app, actor=_system_actor(), api=api)
    data = {**app_as_dict(app), "clientSecret": secret}
    if app.permissions:
        data.update(tokenEndpoint=token_endpoint(), scope="https://graph.microsoft.com/.default")
    _emit(args, data, lambda: [f"Registered app {app.display_name}", *_app_lines(app, secret)])


def cmd_apps_update(args: argparse.Namespace) -> None:
    app = app_get(key=args.app)
    api = _exposure(app, args)
    roles = roles_after(app, args)
    if roles is not None:
        api = replace(api or exposure_of(app), roles=roles)
    oidc = None
    if args.allow_device_code is not None:
        if not app.is_oidc_client:
            raise InvalidInput("The device authorization grant is for OpenID Connect clients (with a redirect URI)",
                               code="redirect_uri_required")
        oidc = replace(registration_of(app), allow_device_code=args.allow_device_code)
    if api is None and args.name is None and oidc is None:
        raise InvalidInput("Nothing to change: give --name, --identifier-uri, an API scope or app role option or "
                           "--[no-]allow-device-code", code="nothing_to_change")
    with transaction.atomic():  # all the options or none
        app = app_update(app=app, actor=_system_actor(), display_name=args.name, api=api, oidc=oidc)
    _emit(args, app_as_dict(app), lambda: [f"Updated app {app.display_name}", *_app_lines(app)])
