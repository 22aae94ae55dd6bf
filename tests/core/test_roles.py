"""Directory roles (pure): the definitions, assignment ids, and the rules for changing who holds a role."""

from __future__ import annotations

import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st

from passgate.core import roles
from passgate.core.errors import Conflict, InvalidInput, NotFound
from passgate.core.graph.authz import OPERATIONS, ROLE_NAMES, Role, UserCaller, allowed

# Template ids as Microsoft's "Microsoft Entra built-in roles" page lists them (typed here, not read from the code).
ENTRA_TEMPLATE_IDS = {
    "Global Administrator": "62e90394-69f5-4237-9190-012177145e10",
    "Authentication Policy Administrator": "0526716b-113d-4c15-b2c8-68e3c22b9f80",
    "Authentication Administrator": "c4e39bd9-1100-46d3-8c65-fb160da0071f",
    "User Administrator": "fe930be7-5e62-47db-91af-98c3a49a38b1",
    "Global Reader": "f2ef992c-3afb-46b9-b7cf-a126ee74c451",
    "Conditional Access Administrator": "b1be1c3e-b65d-4f19-8427-f6fa0d97feb9",
    "Application Administrator": "9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3",
    "Cloud Application Administrator": "158c047a-c907-4556-b7ef-446551a6b5f7",
    "Privileged Role Administrator": "e8611ab8-c189-46e8-94e1-60213ab1f814",
}
GA = Role.GLOBAL_ADMINISTRATOR.value


def test_definitions_are_entras_built_in_roles_by_name() -> None:
    found = {d.display_name: d.id for d in roles.definitions()}
    assert found == ENTRA_TEMPLATE_IDS
    assert [d.display_name for d in roles.definitions()] == sorted(ENTRA_TEMPLATE_IDS)
    assert all(roles.DESCRIPTIONS[r] for r in Role)


def test_every_operation_names_its_resource_actions() -> None:
    assert set(roles.RESOURCE_ACTIONS) == set(OPERATIONS)
    assert all(a.startswith(("microsoft.directory/", "microsoft.intune/"))
               for actions in roles.RESOURCE_ACTIONS.values() for a in actions)


@pytest.mark.parametrize("role", list(Role), ids=lambda r: ROLE_NAMES[r])
def test_a_definitions_permissions_are_exactly_what_the_role_may_do(role: Role) -> None:
    definition = roles.DEFINITIONS[role]
    caller = UserCaller(user_id="u", user_principal_name="u@contoso.com", roles=frozenset({role.value}))
    expected = {a for op in OPERATIONS if allowed(caller, op) for a in roles.RESOURCE_ACTIONS[op]}
    assert set(definition.allowed_resource_actions) == expected
    assert list(definition.allowed_resource_actions) == sorted(expected)


def test_the_global_administrator_holds_every_action_and_the_reader_only_reads() -> None:
    every = {a for actions in roles.RESOURCE_ACTIONS.values() for a in actions}
    assert set(roles.DEFINITIONS[Role.GLOBAL_ADMINISTRATOR].allowed_resource_actions) == every
    reader = roles.DEFINITIONS[Role.GLOBAL_READER].allowed_resource_actions
    assert all(a.endswith("/read") for a in reader)
    assert "microsoft.directory/roleAssignments/allProperties/allTasks" in (
        roles.DEFINITIONS[Role.PRIVILEGED_ROLE_ADMINISTRATOR].allowed_resource_actions)


@pytest.mark.parametrize("key", ["Global Administrator", "global administrator", "  Global   Administrator ",
                                 GA, GA.upper()])
def test_find_role_by_name_or_template_id(key: str) -> None:
    assert roles.find_role(key).role is Role.GLOBAL_ADMINISTRATOR


@pytest.mark.parametrize("key", ["", "Helpdesk Administrator", "729827e3-9c14-49f7-bb1b-9608f156bbb8", "Global"])
def test_find_role_refuses_what_names_no_role(key: str) -> None:
    with pytest.raises(NotFound) as info:
        roles.find_role(key)
    assert info.value.code == "role_not_found"


def test_role_by_id_takes_template_ids_only() -> None:
    assert roles.role_by_id(GA.upper()) is roles.DEFINITIONS[Role.GLOBAL_ADMINISTRATOR]
    assert roles.role_by_id("Global Administrator") is None
    assert roles.role_by_id(str(uuid.uuid4())) is None


def test_entras_documented_assignment_id_shape() -> None:
    # Graph's "Get unifiedRoleAssignment" example id: the Global Administrator's template id, then a principal.
    role_id, principal = roles.parse_assignment_id("lAPpYvVpN0KRkAEhdxReEJC2sEqbR_9Hr48lds9SGHI-1") or ("", "")
    assert role_id == GA
    assert roles.assignment_id(role_id, principal) == "lAPpYvVpN0KRkAEhdxReEJC2sEqbR_9Hr48lds9SGHI-1"


@given(st.uuids(), st.uuids())
def test_assignment_ids_round_trip(role: uuid.UUID, principal: uuid.UUID) -> None:
    value = roles.assignment_id(str(role), str(principal))
    assert len(value) == 45 and value.endswith("-1")
    assert roles.parse_assignment_id(value) == (str(role), str(principal))


@given(st.text(max_size=60))
def test_parse_assignment_id_never_raises(value: str) -> None:
    parsed = roles.parse_assignment_id(value)
    if parsed is not None:
        assert roles.assignment_id(*parsed) == value


def test_non_canonical_spellings_are_not_ids() -> None:
    value = roles.assignment_id(GA, str(uuid.uuid4()))
    last = value[-3]
    other = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    twin = next(value[:-3] + c + "-1" for c in other if c != last and roles.parse_assignment_id(
        value[:-3] + c + "-1") is None)
    assert roles.parse_assignment_id(twin) is None
    assert roles.parse_assignment_id(value[:-2] + "-2") is None


@given(role=st.sampled_from([r.value for r in Role]), enabled=st.booleans(), others=st.integers(0, 5))
def test_the_last_enabled_global_administrator_keeps_the_role(role: str, enabled: bool, others: int) -> None:
    refused = role == GA and enabled and others == 0
    if refused:
        with pytest.raises(Conflict) as info:
            roles.check_removal(role=role, holder_enabled=enabled, other_enabled_global_admins=others)
        assert info.value.code == "last_global_admin"
    else:
        roles.check_removal(role=role, holder_enabled=enabled, other_enabled_global_admins=others)


@given(role=st.sampled_from([r.value for r in Role]), held=st.sets(st.sampled_from([r.value for r in Role])))
def test_a_role_is_assigned_once(role: str, held: set[str]) -> None:
    if role in held:
        with pytest.raises(Conflict) as info:
            roles.check_assignment(role=role, held=held)
        assert info.value.code == "role_already_assigned"
    else:
        roles.check_assignment(role=role, held=held)


@pytest.mark.parametrize("scope", ["", "/administrativeUnits/1", None, 1, " /", "//"])
def test_only_the_directory_scope(scope: object) -> None:
    with pytest.raises(InvalidInput) as info:
        roles.check_scope(scope)
    assert info.value.code == "unsupported_directory_scope"
    roles.check_scope("/")
