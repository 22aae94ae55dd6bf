"""core.app_roles: what an app role's value may be, which removals need the role disabled first, and which values
the roles claim carries."""

from __future__ import annotations

import uuid

import pytest

from passgate.core.app_api import ApiInputError
from passgate.core.app_roles import (
    AppRole,
    assignable_role,
    read_app_role,
    removed_enabled_roles,
    role_values,
    validate_app_roles,
)


def role(value: str | None, *, enabled: bool = True) -> AppRole:
    return AppRole(id=str(uuid.uuid4()), value=value, display_name=value or "No value", is_enabled=enabled)


@pytest.mark.parametrize("value", ["Survey.Admin", "a", "x" * 120, "Task:Write!#$%&'()*+,-/;<=>?@[]^_`{|}~",
                                   "a.b.c", "9lives"])
def test_values_graph_allows(value: str) -> None:
    assert validate_app_roles([role(value)])[0].value == value


@pytest.mark.parametrize("value", ["", " ", "has space", ".dot", "x" * 121, "tab\tin", "é", 'quote"', "back\\slash"])
def test_values_graph_refuses(value: str) -> None:
    with pytest.raises(ApiInputError) as refused:
        validate_app_roles([role(value)])
    assert refused.value.target == "appRoles[0].value"


def test_a_body_role_reads_with_canonical_ids_and_defaults() -> None:
    read = read_app_role({"id": "4B3C2D1E-0000-4000-8000-00000000000A", "displayName": "Admins",
                          "allowedMemberTypes": ["User"], "value": "A"}, "appRoles[0]")
    assert read == AppRole(id="4b3c2d1e-0000-4000-8000-00000000000a", display_name="Admins", value="A")
    assert read.as_graph()["origin"] == "Application" and read.as_graph()["allowedMemberTypes"] == ["User"]


def test_enabled_roles_are_not_removed_or_revalued() -> None:
    kept, off, live = role("Keep"), role("Off", enabled=False), role("Live")
    assert removed_enabled_roles([kept, off, live], [kept]) == ("Live",)
    assert removed_enabled_roles([kept, off], [kept]) == ()
    assert removed_enabled_roles([kept], [AppRole(id=kept.id, value="Other", display_name="x")]) == ("Keep",)
    assert removed_enabled_roles([kept], [AppRole(id=kept.id, value="Keep", display_name="Renamed")]) == ()


def test_only_enabled_roles_with_a_value_make_the_claim() -> None:
    admin, off, silent, other = role("Admin"), role("Off", enabled=False), role(None), role("Other")
    roles = [admin, off, silent, other]
    assert role_values(roles, [off.id, silent.id, admin.id, str(uuid.uuid4())]) == ("Admin",)
    assert role_values(roles, []) == ()


def test_assignable_means_defined_and_enabled() -> None:
    admin, off = role("Admin"), role("Off", enabled=False)
    assert assignable_role([admin, off], admin.id) is admin
    for wanted, code in ((off.id, "app_role_disabled"), (str(uuid.uuid4()), "app_role_not_found")):
        with pytest.raises(ApiInputError) as refused:
            assignable_role([admin, off], wanted)
        assert refused.value.code == code
