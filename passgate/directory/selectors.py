"""Directory reads: users, groups and members, filtered by Graph conditions and paged by sort key.

Conditions come from ``passgate.core.graph.odata`` and name Graph properties; the maps below say which column
each one reads. Strings compare case-insensitively, as Graph's directory does.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import TypeVar

from django.db.models import Count, F, Model, Q, QuerySet, Value
from django.db.models.functions import Lower

from passgate.core.graph.errors import GraphError
from passgate.core.graph.odata import SEARCH_SEPARATORS, Comparison, OrderBy
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
    what a lookup compares (a GUID, an enum member); a value it refuses (ValueError) matches nothing (for ``ne``:
    everything). ``in`` is any of its values; ``ne`` the negation of ``eq`` (a null column is "not equal")."""
    q = Q()
    for c in conditions:
        eq, startswith = columns[c.property]
        lookup = startswith if c.operator == "startswith" else eq
        if not lookup:
            raise ValueError(f"{c.operator} is not available for {c.property}")
        if c.operator == "in":
            assert isinstance(c.value, tuple)  # noqa: S101 - the parser makes "in" values tuples
            any_of = Q(pk__in=[])
            for value in c.value:
                any_of |= _condition(lookup, value, convert)
            q &= any_of
        elif c.operator == "ne":
            column = lookup.split("__")[0]
            q &= ~_condition(lookup, c.value, convert) | Q(**{f"{column}__isnull": True})
        else:
            q &= _condition(lookup, c.value, convert)
    return q


def _condition(lookup: str, value: object, convert: Mapping[str, Callable[[object], object]] | None) -> Q:
    converters = {"pk": _guid, **(convert or {})}
    if lookup in converters:
        try:
            value = converters[lookup](value)
        except ValueError:
            return Q(pk__in=[])
    elif lookup in _LOWERED and isinstance(value, str):
        value = value.lower()
    return Q(**{lookup: value})


# $search: the value, or a part of it after a separator, starts with the term (odata.search_matches)
USER_SEARCH_COLUMNS: Mapping[str, str] = {
    "displayName": "display_name", "userPrincipalName": "upn_normalized", "mailNickname": "mail_nickname",
}


def graph_search(clauses: Sequence[Comparison], columns: Mapping[str, str]) -> Q:
    q = Q()
    for c in clauses:
        column, term = columns[c.property], str(c.value)
        one = Q(**{f"{column}__istartswith": term})
        for sep in SEARCH_SEPARATORS:
            one |= Q(**{f"{column}__icontains": sep + term})
        q &= one
    return q


def _guid(value: object) -> uuid.UUID:
    return uuid.UUID(str(value))


def _page(qs: QuerySet[M], key: str, *, after: str | None, limit: int | None) -> list[M]:
    qs = qs.order_by(key)
    if after is not None:
        qs = qs.filter(**{f"{key}__gt": after})
    return list(qs[:limit] if limit is not None else qs)


# $orderby on users: Graph property -> the expression sorted by (ties broken by the normalised UPN)
_USER_ORDER = {"displayName": Lower("display_name"), "userPrincipalName": F("upn_normalized")}


def _users(where: Sequence[Comparison], search: Sequence[Comparison]) -> QuerySet[User]:
    return User.objects.filter(graph_conditions(where, USER_COLUMNS)).filter(graph_search(search, USER_SEARCH_COLUMNS))


def user_list(*, where: Sequence[Comparison] = (), after: str | None = None, limit: int | None = None,
              order: Sequence[OrderBy] = (), search: Sequence[Comparison] = ()) -> list[User]:
    """Users matching every condition and search clause, by normalised UPN (or ``order``: one property, ties by
    UPN), after the key ``after`` (``user_page_key``), at most ``limit`` of them."""
    qs = _users(where, search)
    if not order or order[0].property == "userPrincipalName":
        descending = bool(order) and order[0].descending
        qs = qs.order_by("-upn_normalized" if descending else "upn_normalized")
        if after is not None and after.startswith("["):  # a display-name order's token (no UPN starts with "[")
            raise GraphError.malformed("Invalid $skiptoken: it belongs to a listing in another order.")
        if after is not None:
            qs = qs.filter(**{"upn_normalized__lt" if descending else "upn_normalized__gt": after})
        return list(qs[:limit] if limit is not None else qs)
    by, descending = order[0].property, order[0].descending
    qs = qs.annotate(sort_key=_USER_ORDER[by])
    qs = qs.order_by(*(("-sort_key", "-upn_normalized") if descending else ("sort_key", "upn_normalized")))
    if after is not None:
        try:
            sort_value, upn = json.loads(after)
        except (ValueError, TypeError):
            raise GraphError.malformed("Invalid $skiptoken: it belongs to a listing in another order.") from None
        beyond = "lt" if descending else "gt"
        # lowered by the database, as the sort key is (SQLite's lower() and Python's differ beyond ASCII)
        lowered = Lower(Value(str(sort_value)))
        qs = qs.filter(Q(**{f"sort_key__{beyond}": lowered})
                       | Q(sort_key=lowered, **{f"upn_normalized__{beyond}": upn}))
    return list(qs[:limit] if limit is not None else qs)


def user_count(*, where: Sequence[Comparison] = (), search: Sequence[Comparison] = ()) -> int:
    return _users(where, search).count()


def user_page_key(user: User, order: Sequence[OrderBy] = ()) -> str:
    if not order or order[0].property == "userPrincipalName":
        return user.upn_normalized
    return json.dumps([user.display_name, user.upn_normalized])


def user_groups(*, user: User) -> list[SecurityGroup]:
    """The groups a user is a direct member of, by name."""
    return list(SecurityGroup.objects.filter(groupmembership__user=user).order_by("name_normalized"))


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
