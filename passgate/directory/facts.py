"""What several layers of one request ask about the signed-in person, read once per request
(:mod:`passgate.freshness.memo`) and always current: a change is seen at the next request."""

from __future__ import annotations

import uuid
from typing import Any

from django.db import connection

from passgate.directory.models import GroupMembership, RoleAssignment, User
from passgate.freshness.memo import memoized

_GROUP, _ROLE = "g", "r"


def _sql() -> str:
    """Groups and roles in one statement, written by hand: on every signed-in request, and the ORM's union with a
    cast costs more to build than the database takes to answer (issue 11's profile)."""
    q = connection.ops.quote_name
    membership, assignment = GroupMembership._meta, RoleAssignment._meta

    def column(meta: Any, name: str) -> str:
        return q(str(meta.get_field(name).column))

    # identifiers from the models' metadata, quoted; the user id is a parameter
    return (f"SELECT '{_GROUP}', CAST({column(membership, 'group')} AS varchar(36)) "  # noqa: S608
            f"FROM {q(membership.db_table)} WHERE {column(membership, 'user')} = %s "
            f"UNION ALL SELECT '{_ROLE}', {column(assignment, 'role')} FROM {q(assignment.db_table)} "
            f"WHERE {column(assignment, 'user')} = %s")


def _read(user: User) -> tuple[frozenset[str], frozenset[str]]:
    key = GroupMembership._meta.get_field("user").get_db_prep_value(user.pk, connection)
    group_ids: set[str] = set()
    role_ids: set[str] = set()
    with connection.cursor() as cursor:
        cursor.execute(_sql(), [key, key])
        for kind, value in cursor.fetchall():
            if kind == _GROUP:
                group_ids.add(str(uuid.UUID(value)))  # SQLite keeps 32 hex digits, PostgreSQL the dashed form
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
