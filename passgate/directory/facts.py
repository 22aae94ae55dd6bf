"""What several layers of one request ask about the signed-in person, read once per request
(:mod:`passgate.freshness.memo`) and always current: a change is seen at the next request."""

from __future__ import annotations

import uuid

from django.db.models import CharField, Value
from django.db.models.functions import Cast

from passgate.directory.models import GroupMembership, RoleAssignment, User
from passgate.freshness.memo import memoized

_GROUP, _ROLE = "g", "r"


def _read(user: User) -> tuple[frozenset[str], frozenset[str]]:
    """Groups and roles in one statement."""
    groups = (GroupMembership.objects.filter(user_id=user.pk).order_by()
              .values_list(Value(_GROUP, output_field=CharField()), Cast("group_id", CharField())))
    roles = (RoleAssignment.objects.filter(user_id=user.pk).order_by()
             .values_list(Value(_ROLE, output_field=CharField()), "role"))
    group_ids: set[str] = set()
    role_ids: set[str] = set()
    for kind, value in groups.union(roles, all=True):
        if kind == _GROUP:
            group_ids.add(str(uuid.UUID(value)))  # SQLite stores a UUID as 32 hex digits
        else:
            role_ids.add(value)
    return frozenset(group_ids), frozenset(role_ids)


def _facts(user: User) -> tuple[frozenset[str], frozenset[str]]:
    return memoized(("directory.person", user.pk), lambda: _read(user))


def user_group_ids(user: User) -> frozenset[str]:
    """The ids of the security groups ``user`` belongs to."""
    return _facts(user)[0]


def user_role_ids(user: User) -> frozenset[str]:
    """The directory roles (role template ids) assigned to ``user``."""
    return _facts(user)[1]


def user_is_admin(user: User) -> bool:
    """Whether ``user`` holds any directory role (the admin centre link)."""
    return bool(user_role_ids(user))
