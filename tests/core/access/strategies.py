"""Hypothesis strategies: random but valid sessions, strengths, policies and requests, over small id pools."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from itertools import combinations

from hypothesis import strategies as st

from passgate.core.access.conditional_access import (
    ADMIN_CENTRE_APP_ID,
    REGISTER_SECURITY_INFO,
    AccessRequest,
    ConditionalAccessPolicy,
    GrantControls,
    PolicyState,
)
from passgate.core.access.methods import PASSGATE_MODES, Authentication, AuthMethodMode, MethodUse
from passgate.core.access.strengths import (
    BUILT_IN_STRENGTHS,
    CUSTOM,
    FIDO2_COMBINATION,
    REQUIREMENT_MFA,
    REQUIREMENT_NONE,
    AuthenticationStrength,
    Fido2CombinationConfiguration,
    canonical_combination,
    combination_modes,
    fido2_configuration_id,
    is_multifactor,
)
from tests.core.access.helpers import (
    ALICE,
    BOB,
    CONTRACTORS,
    ENGINEERING,
    FEITIAN,
    GLOBAL_ADMIN_ROLE,
    HELPDESK_ROLE,
    ICLOUD,
    NIL,
    NOW,
    OTHER_STRENGTH_ID,
    PAYROLL_APP,
    STRENGTH_ID,
    WIKI_APP,
    YUBIKEY_5,
)

CAROL = "6a1c4b0e-0a51-4c6e-9a0d-0c1b6e1e2a03"
SALES = "0d6d2c8a-6a9e-4a5b-8c41-7f1f7b6b0003"
OTHER_APP = "4f8a3a52-7d1e-4b5f-9a33-1c2b3d4e5f62"
USERS = (ALICE, BOB, CAROL)
GROUPS = (ENGINEERING, CONTRACTORS, SALES)
ROLES = (GLOBAL_ADMIN_ROLE, HELPDESK_ROLE)
APPS = (PAYROLL_APP, WIKI_APP, ADMIN_CENTRE_APP_ID)
AAGUIDS = (YUBIKEY_5, FEITIAN, ICLOUD)
POLICY_IDS = tuple(f"9c1d2e3f-4a5b-4c6d-8e7f-0011223344{n:02d}" for n in range(10))
PASSGATE_COMBINATIONS = tuple(canonical_combination(c) for size in range(1, 5)
                              for c in combinations(sorted(PASSGATE_MODES), size))

aware_datetimes = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1),  # noqa: DTZ001
                               timezones=st.sampled_from([UTC, timezone(timedelta(hours=2)),
                                                          timezone(timedelta(hours=-5, minutes=-30))]))
names = st.text(st.characters(min_codepoint=32, max_codepoint=0x2FF, exclude_categories=("Cc", "Cs", "Zs")),
                min_size=1, max_size=40)


@st.composite
def method_uses(draw: st.DrawFn, modes: tuple[AuthMethodMode, ...] = tuple(AuthMethodMode)) -> MethodUse:
    mode = draw(st.sampled_from(modes))
    at = draw(aware_datetimes)
    method_id = draw(st.one_of(st.none(), st.uuids().map(str)))
    if mode is AuthMethodMode.FIDO2:
        return MethodUse(mode, at, aaguid=draw(st.sampled_from((*AAGUIDS, NIL, None))),
                         device_bound=draw(st.sampled_from((True, False, None))), method_id=method_id)
    return MethodUse(mode, at, method_id=method_id)


def authentications(modes: tuple[AuthMethodMode, ...] = tuple(AuthMethodMode)) -> st.SearchStrategy[Authentication]:
    return st.builds(Authentication, user_id=st.sampled_from(USERS),
                     methods=st.lists(method_uses(modes), min_size=1, max_size=4).map(tuple))


passgate_authentications = authentications(tuple(sorted(PASSGATE_MODES)))


@st.composite
def custom_strengths(draw: st.DrawFn, strength_id: str | None = None) -> AuthenticationStrength:
    chosen_id = strength_id or draw(st.sampled_from((STRENGTH_ID, OTHER_STRENGTH_ID)))
    combos = tuple(draw(st.lists(st.sampled_from(PASSGATE_COMBINATIONS), min_size=1, max_size=4, unique=True)))
    configs: tuple[Fido2CombinationConfiguration, ...] = ()
    if FIDO2_COMBINATION in combos and draw(st.booleans()):
        aaguids = draw(st.lists(st.sampled_from(AAGUIDS), min_size=1, max_size=3, unique=True))
        configs = (Fido2CombinationConfiguration(id=fido2_configuration_id(chosen_id), allowed_aaguids=tuple(aaguids)),)
    multifactor = all(is_multifactor(combination_modes(c)) for c in combos)
    return AuthenticationStrength(
        id=chosen_id, display_name=draw(names), description=draw(st.text(max_size=30)), policy_type=CUSTOM,
        requirements_satisfied=REQUIREMENT_MFA if multifactor else REQUIREMENT_NONE, allowed_combinations=combos,
        combination_configurations=configs, created=draw(aware_datetimes), modified=draw(aware_datetimes))


any_strengths = st.one_of(st.sampled_from(list(BUILT_IN_STRENGTHS.values())), custom_strengths())


@st.composite
def strength_maps(draw: st.DrawFn) -> dict[str, AuthenticationStrength]:
    """Two custom strengths, by id (what a tenant's store holds)."""
    return {STRENGTH_ID: draw(custom_strengths(STRENGTH_ID)),
            OTHER_STRENGTH_ID: draw(custom_strengths(OTHER_STRENGTH_ID))}


def _subset(pool: tuple[str, ...], max_size: int = 2, min_size: int = 0) -> st.SearchStrategy[tuple[str, ...]]:
    return st.lists(st.sampled_from(pool), min_size=min_size, max_size=max_size, unique=True).map(tuple)


grant_controls = st.one_of(
    st.builds(GrantControls, operator=st.sampled_from(("AND", "OR")), built_in_controls=st.just(("block",)),
              authentication_strength_id=st.none()),
    st.builds(GrantControls, operator=st.sampled_from(("AND", "OR")), built_in_controls=st.just(("mfa",)),
              authentication_strength_id=st.none()),
    st.builds(GrantControls, operator=st.sampled_from(("AND", "OR")), built_in_controls=st.just(()),
              authentication_strength_id=st.sampled_from((*BUILT_IN_STRENGTHS, STRENGTH_ID, OTHER_STRENGTH_ID))),
)


@st.composite
def ca_policies(draw: st.DrawFn, *, policy_id: str | None = None) -> ConditionalAccessPolicy:
    include_users = draw(st.one_of(st.just(()), st.just(("All",)), st.just(("None",)), _subset(USERS, min_size=1)))
    include_groups, include_roles = draw(_subset(GROUPS)), draw(_subset(ROLES, 1))
    if not (include_users or include_groups or include_roles):
        include_users = ("All",)
    if draw(st.booleans()):
        include_apps: tuple[str, ...] = draw(st.one_of(
            st.just(("All",)), st.just(("None",)),
            _subset((*APPS, "MicrosoftAdminPortals"), min_size=1)))
        exclude_apps = draw(_subset((*APPS, "MicrosoftAdminPortals"), 1))
        actions: tuple[str, ...] = ()
    else:
        include_apps, exclude_apps, actions = (), (), (REGISTER_SECURITY_INFO,)
    return ConditionalAccessPolicy(
        id=policy_id or draw(st.sampled_from(POLICY_IDS)), display_name=draw(names),
        state=draw(st.sampled_from(PolicyState)),
        include_users=include_users, exclude_users=draw(_subset(USERS, 1)),
        include_groups=include_groups, exclude_groups=draw(_subset(GROUPS, 1)),
        include_roles=include_roles, exclude_roles=draw(_subset(ROLES, 1)),
        include_applications=include_apps, exclude_applications=exclude_apps, include_user_actions=actions,
        grant_controls=draw(grant_controls), created=draw(aware_datetimes), modified=draw(aware_datetimes))


policy_lists = st.lists(ca_policies(), max_size=5, unique_by=lambda p: p.id)

requests = st.builds(
    AccessRequest, user_id=st.sampled_from(USERS), group_ids=st.frozensets(st.sampled_from(GROUPS), max_size=2),
    role_template_ids=st.frozensets(st.sampled_from(ROLES), max_size=1),
    application_id=st.sampled_from((None, *APPS, OTHER_APP)),
    user_action=st.sampled_from((None, None, REGISTER_SECURITY_INFO)))

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20)
    | st.sampled_from(("fido2", "All", "None", "mfa", "block", "enabled", NOW.isoformat(), YUBIKEY_5, STRENGTH_ID)),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
        st.sampled_from(("displayName", "state", "conditions", "users", "applications", "includeUsers",
                         "includeApplications", "grantControls", "operator", "builtInControls", "allowedCombinations",
                         "combinationConfigurations", "allowedAAGUIDs", "appliesToCombinations", "id", "v",
                         "userId", "methods", "mode", "at", "aaguid", "@odata.type", "x")) | st.text(max_size=8),
        inner, max_size=5),
    max_leaves=20)
