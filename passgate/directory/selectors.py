"""Directory reads: users, groups and members, filtered by Graph conditions and paged by sort key.

Conditions come from ``passgate.core.graph.odata`` and name Graph properties; the maps below say which column
each one reads. Strings compare case-insensitively, as Graph's directory does.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import TypeVar

from django.db.models import Count, Model, Q, QuerySet

from passgate.core.graph.odata import Comparison
from passgate.directory.models import RoleAssignment, SecurityGroup, User

# Graph property -> (eq lookup, startswith lookup)
USER_COLUMNS: Mapping[str, tuple[str, str]] = {
    "id": ("pk", ""),
    "userPrincipalName": ("upn_normalized", "upn_normalized__startswith"),
    "displayName": ("display_name__iexact", "display_name__istartswith"),
    "mailNickname": ("mail_nickname__iexact", "mail_nickname__istartswith"),
    "accountEnabled": ("account_enabled", ""),
}
GROUP_COLUMNS: Mapping[str, tuple[str, str]] = {
    "id": ("pk", ""),
    "displayName": ("name_normalized", "name_normalized__startswith"),
    "mailNickname": ("mail_nickname__iexact", "mail_nickname__istartswith"),
}
_LOWERED = {"upn_normalized", "name_normalized", "upn_normalized__startswith", "name_normalized__startswith"}

M = TypeVar("M", bound=Model)


def graph_conditions(conditions: Sequence[Comparison], columns: Mapping[str, tuple[str, str]], *,
                     convert: Mapping[str, Callable[[object], object]] | None = None) -> Q:
    """Graph ``$filter`` conditions as a query on the columns ``columns`` names. ``convert`` turns a value into
    what a lookup compares (a GUID, an enum member); a value it refuses (ValueError) matches nothing."""
    q = Q()
    converters = {"pk": _guid, **(convert or {})}
    for c in conditions:
        eq, startswith = columns[c.property]
        lookup = startswith if c.operator == "startswith" else eq
        if not lookup:
            raise ValueError(f"{c.operator} is not available for {c.property}")
        value: object = c.value
        if lookup in converters:
            try:
                value = converters[lookup](value)
            except ValueError:
                return Q(pk__in=[])
        elif lookup in _LOWERED and isinstance(value, str):
            value = value.lower()
        q &= Q(**{lookup: value})
    return q


def _guid(value: object) -> uuid.UUID:
    return uuid.UUID(str(value))


def _page(qs: QuerySet[M], key: str, *, after: str | None, limit: int | None) -> list[M]:
    qs = qs.order_by(key)
    if after is not None:
        qs = qs.filter(**{f"{key}__gt": after})
    return list(qs[:limit] if limit is not None else qs)


def user_list(*, where: Sequence[Comparison] = (), after: str | None = None, limit: int | None = None) -> list[User]:
    """Users matching every condition, by normalised UPN, after the key ``after``, at most ``limit`` of them."""
    return _page(User.objects.filter(graph_conditions(where, USER_COLUMNS)), "upn_normalized", after=after, limit=limit)


def user_page_key(user: User) -> str:
    return user.upn_normalized


def group_list(*, where: Sequence[Comparison] = (), after: str | None = None,
               limit: int | None = None) -> list[SecurityGroup]:
    return _page(SecurityGroup.objects.filter(graph_conditions(where, GROUP_COLUMNS)), "name_normalized", after=after,
                 limit=limit)


def group_page_key(group: SecurityGroup) -> str:
    return group.name_normalized


def group_member_list(*, group: SecurityGroup, where: Sequence[Comparison] = (), after: str | None = None,
                      limit: int | None = None) -> list[User]:
    members = User.objects.filter(groupmembership__group=group).filter(graph_conditions(where, USER_COLUMNS))
    return _page(members, "upn_normalized", after=after, limit=limit)


def user_by_id(*, object_id: str) -> User | None:
    try:
        return User.objects.filter(pk=uuid.UUID(object_id)).first()
    except ValueError:
        return None


def group_by_id(*, object_id: str) -> SecurityGroup | None:
    try:
        return SecurityGroup.objects.filter(pk=uuid.UUID(object_id)).first()
    except ValueError:
        return None


# --- directory roles ------------------------------------------------------------------------------------

def role_assignment_list(*, role_id: str | None = None, principal_id: str | None = None) -> list[RoleAssignment]:
    """Role assignments (with their users), by role then user name; optionally of one role and/or one person."""
    qs = RoleAssignment.objects.select_related("user")
    if role_id is not None:
        qs = qs.filter(role=role_id.lower())
    if principal_id is not None:
        try:
            qs = qs.filter(user_id=uuid.UUID(principal_id))
        except ValueError:
            return []
    return list(qs.order_by("role", "user__upn_normalized"))


def role_assignment_get(*, role_id: str, principal_id: str) -> RoleAssignment | None:
    found = role_assignment_list(role_id=role_id, principal_id=principal_id)
    return found[0] if found else None


def role_member_counts() -> dict[str, int]:
    """How many people hold each role (template id -> count); roles nobody holds are absent."""
    return dict(RoleAssignment.objects.values("role").annotate(n=Count("id")).values_list("role", "n"))


def role_members(*, role_id: str) -> list[User]:
    """The people holding a role, by user name."""
    return list(User.objects.filter(role_assignments__role=role_id.lower()).order_by("upn_normalized"))
