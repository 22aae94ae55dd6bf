"""Directory objects as Graph JSON: every declared property has a value; ``select`` picks which are sent."""

from __future__ import annotations

from typing import Any

from passgate.core.graph.resources import GROUP, USER
from passgate.core.graph.schema import Resource, format_datetime
from passgate.directory.models import SecurityGroup, User


def _pick(resource: Resource, values: dict[str, Any], select: tuple[str, ...], with_type: bool) -> dict[str, Any]:
    out: dict[str, Any] = {"@odata.type": resource.odata_type} if with_type else {}
    out.update((name, values[name]) for name in (select or resource.default_select))
    return out


def user_json(user: User, select: tuple[str, ...] = (), *, with_type: bool = False) -> dict[str, Any]:
    values: dict[str, Any] = {prop.name: [] if prop.name == "businessPhones" else None for prop in USER.props}
    values.update({
        "id": str(user.id), "displayName": user.display_name, "userPrincipalName": user.user_principal_name,
        "accountEnabled": user.account_enabled, "mailNickname": user.mail_nickname or None,
        "createdDateTime": format_datetime(user.created_at),
        "signInSessionsValidFromDateTime": format_datetime(user.sign_in_sessions_valid_from)
        if user.sign_in_sessions_valid_from else None,
    })
    return _pick(USER, values, select, with_type)


def group_json(group: SecurityGroup, select: tuple[str, ...] = ()) -> dict[str, Any]:
    values: dict[str, Any] = {prop.name: None if prop.nullable else [] for prop in GROUP.props}
    values.update({
        "id": str(group.id), "createdDateTime": format_datetime(group.created_at),
        "description": group.description or None, "displayName": group.display_name, "groupTypes": [],
        "mail": None, "mailEnabled": False, "mailNickname": group.mail_nickname or None, "securityEnabled": True,
    })
    return _pick(GROUP, values, select, False)


def entity_context(entity_set: str, select: tuple[str, ...], *, single: bool) -> str:
    """The ``$metadata#…`` fragment: ``users``, ``users(displayName,id)``, ``users/$entity`` …"""
    fragment = entity_set + (f"({','.join(select)})" if select else "")
    return fragment + ("/$entity" if single else "")
