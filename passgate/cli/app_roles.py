"""An app's roles on the command line: ``passgate apps roles APP`` lists them with who holds them;
``passgate apps assign-role APP VALUE --user UPN|--group NAME`` and ``unassign-role`` give and take them back;
``passgate apps update APP --app-role VALUE`` (and ``--disable-app-role``, ``--enable-app-role``,
``--remove-app-role``) defines them (Graph's appRoles)."""

from __future__ import annotations

import argparse
import uuid
from dataclasses import replace

from passgate.apps.app_roles import (
    Principal,
    app_role_assign,
    app_role_unassign,
    app_role_unassign_refusal_record,
    role_assignments_of,
    role_assignments_of_app,
)
from passgate.apps.exposed_api import app_roles_of
from passgate.apps.models import AppRegistration
from passgate.apps.services import app_get
from passgate.cli.commands import _emit, _system_actor
from passgate.core.app_roles import AppRole
from passgate.core.errors import InvalidInput, NotFound
from passgate.directory.services import group_get, user_get


def roles_after(app: AppRegistration, args: argparse.Namespace) -> tuple[AppRole, ...] | None:
    """The app's roles after ``apps update``'s role options (None: they change nothing)."""
    changes = {name: set(getattr(args, name, []) or []) for name in ("disable_app_role", "enable_app_role",
                                                                      "remove_app_role")}
    added = list(getattr(args, "app_role", []) or [])
    if not (added or any(changes.values())):
        return None
    current = app_roles_of(app)
    missing = sorted(set().union(*changes.values()) - {role.value for role in current})
    if missing:
        raise InvalidInput(f"The app has no app role {missing[0]!r}", code="app_role_not_found")
    roles = [replace(r, is_enabled=False) if r.value in changes["disable_app_role"] else
             replace(r, is_enabled=True) if r.value in changes["enable_app_role"] else r
             for r in current if r.value not in changes["remove_app_role"]]
    roles += [AppRole(id=str(uuid.uuid4()), value=value, display_name=value,
                      description=f"{value} of {app.display_name}") for value in added]
    return tuple(roles)


def _principal(args: argparse.Namespace) -> Principal:
    if bool(args.user) == bool(args.group):
        raise InvalidInput("Name one user (--user) or one group (--group)", code="principal_required")
    return user_get(upn_or_id=args.user) if args.user else group_get(name_or_id=args.group)


def _role(app: AppRegistration, value: str) -> AppRole:
    role = next((r for r in app_roles_of(app) if r.value == value), None)
    if role is None:
        raise NotFound(f"{app.display_name} has no app role {value!r}", code="app_role_not_found")
    return role


def _name(principal: Principal) -> str:
    return principal.user_principal_name if hasattr(principal, "user_principal_name") else principal.display_name


def cmd_apps_roles(args: argparse.Namespace) -> None:
    app = app_get(key=args.app)
    holders: dict[str, list[str]] = {}
    for a in role_assignments_of_app(app):
        holder = a.user.user_principal_name if a.user is not None else f"group:{a.group.display_name}"  # type: ignore[union-attr]
        holders.setdefault(str(a.app_role_id), []).append(holder)
    roles = app_roles_of(app)
    data = [{**role.as_graph(), "assignedTo": holders.get(role.id, [])} for role in roles]
    _emit(args, data, lambda: [
        f"{role.value or '(no value)':<32} {'enabled ' if role.is_enabled else 'disabled'}  {role.id}  "
        + (", ".join(holders.get(role.id, [])) or "(not assigned)") for role in roles] or ["(no app roles)"])


def cmd_apps_assign_role(args: argparse.Namespace) -> None:
    app, principal = app_get(key=args.app), _principal(args)
    role = _role(app, args.role)
    app_role_assign(app=app, app_role_id=role.id, principal=principal, actor=_system_actor())
    print(f"{_name(principal)} now holds {role.value} of {app.display_name}")


def cmd_apps_unassign_role(args: argparse.Namespace) -> None:
    app, principal = app_get(key=args.app), _principal(args)
    role = _role(app, args.role)
    found = next((a for a in role_assignments_of(principal)
                  if a.app_id == app.pk and str(a.app_role_id) == role.id), None)
    if found is None:
        message = f"{_name(principal)} does not hold {role.value} of {app.display_name}"
        app_role_unassign_refusal_record(principal=principal, reason="app_role_assignment_not_found",
                                         message=message, actor=_system_actor())
        raise NotFound(message, code="app_role_assignment_not_found")
    app_role_unassign(assignment=found, actor=_system_actor())
    print(f"{_name(principal)} no longer holds {role.value} of {app.display_name}")
