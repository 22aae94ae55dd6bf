"""The security-key sign-in decision (passgate.core.devices.signin_setting): the precedence, examples for each
source, and properties over generated devices and configurations."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from passgate.core.devices.impact import preview_impact
from passgate.core.devices.signin_setting import (
    SECURITY_KEY_OMA_URI,
    AssignmentTarget,
    Configuration,
    DeviceFacts,
    Enablement,
    EnrollmentChange,
    LocalPolicy,
    ProfileSetting,
    Reason,
    Source,
    TargetKind,
    TrustType,
    decide,
    enrollment_in_force,
    is_security_key_uri,
)

T0 = datetime(2026, 1, 1, tzinfo=UTC)
GROUPS = ("00000000-0000-0000-0000-0000000000a1", "00000000-0000-0000-0000-0000000000a2",
          "00000000-0000-0000-0000-0000000000a3")
ALL_DEVICES = AssignmentTarget(TargetKind.ALL_DEVICES)


def device(**changes: object) -> DeviceFacts:
    base = DeviceFacts(device_id="d1", enabled=True, trust_type=TrustType.JOINED, joined_at=T0)
    return replace(base, **changes)  # type: ignore[arg-type]


def profile(pid: str, value: bool | None, *targets: AssignmentTarget) -> ProfileSetting:
    return ProfileSetting(profile_id=pid, display_name=f"Profile {pid}", value=value, targets=targets)


def group(gid: str) -> AssignmentTarget:
    return AssignmentTarget(TargetKind.GROUP, gid)


def excluded(gid: str) -> AssignmentTarget:
    return AssignmentTarget(TargetKind.EXCLUSION_GROUP, gid)


# --- examples, one per step --------------------------------------------------------------------------------------

def test_the_oma_uri_is_compared_without_regard_to_case() -> None:
    assert is_security_key_uri(SECURITY_KEY_OMA_URI)
    assert is_security_key_uri("./device/vendor/msft/passportforwork/securitykey/usesecuritykeyforsignIN")
    assert not is_security_key_uri(SECURITY_KEY_OMA_URI + " ")
    assert not is_security_key_uri("./User/Vendor/MSFT/PassportForWork/SecurityKey/UseSecurityKeyForSignin")


def test_a_disabled_device_is_off_whatever_else_says_on() -> None:
    config = Configuration(profiles=(profile("p", True, ALL_DEVICES),),
                           enrollment_history=(EnrollmentChange(Enablement.ENABLED, T0 - timedelta(days=1)),))
    result = decide(device(enabled=False, provisioning_package=True), config)
    assert (result.enabled, result.source, result.reason) == (False, Source.DEVICE, Reason.DEVICE_DISABLED)


def test_a_profile_assigned_to_a_device_group_decides() -> None:
    config = Configuration(profiles=(profile("p", True, group(GROUPS[0])),))
    result = decide(device(device_group_ids=frozenset({GROUPS[0]})), config)
    assert (result.enabled, result.reason, result.profile_ids) == (True, Reason.PROFILE_ON, ("p",))
    assert "Profile p" in result.explanation


def test_an_exclusion_group_wins_over_an_inclusion() -> None:
    config = Configuration(profiles=(profile("p", True, ALL_DEVICES, excluded(GROUPS[1])),))
    assert decide(device(device_group_ids=frozenset({GROUPS[1]})), config).reason is Reason.NOT_CONFIGURED
    assert decide(device(), config).reason is Reason.PROFILE_ON


def test_conflicting_profiles_turn_it_off_and_say_so() -> None:
    config = Configuration(profiles=(profile("on", True, ALL_DEVICES), profile("off", False, ALL_DEVICES)))
    result = decide(device(), config)
    assert (result.enabled, result.reason, result.conflict) == (False, Reason.PROFILE_CONFLICT, True)
    assert result.profile_ids == ("off", "on")
    assert "Profile off" in result.explanation and "Profile on" in result.explanation


def test_a_profile_without_the_setting_does_not_count() -> None:
    config = Configuration(profiles=(profile("p", None, ALL_DEVICES),))
    assert decide(device(), config).reason is Reason.NOT_CONFIGURED


def test_user_assignments_count_only_once_the_user_is_known() -> None:
    config = Configuration(profiles=(profile("p", True, group(GROUPS[2])),))
    assert decide(device(), config).reason is Reason.NOT_CONFIGURED  # the login screen: no user yet
    assert decide(device(user_group_ids=frozenset({GROUPS[2]})), config).reason is Reason.PROFILE_ON
    licensed = Configuration(profiles=(profile("p", True, AssignmentTarget(TargetKind.ALL_LICENSED_USERS)),))
    assert decide(device(), licensed).reason is Reason.NOT_CONFIGURED
    assert decide(device(user_group_ids=frozenset()), licensed).reason is Reason.PROFILE_ON
    excluding_user = Configuration(profiles=(profile("p", True, ALL_DEVICES, excluded(GROUPS[2])),))
    assert decide(device(user_group_ids=frozenset({GROUPS[2]})), excluding_user).reason is Reason.NOT_CONFIGURED


def test_hybrid_devices_follow_local_group_policy_after_profiles() -> None:
    enrolled = Configuration(enrollment_history=(EnrollmentChange(Enablement.ENABLED, T0 - timedelta(days=1)),))
    hybrid = device(trust_type=TrustType.HYBRID, provisioning_package=True)
    assert decide(replace(hybrid, local_group_policy=LocalPolicy.ENABLED), enrolled).reason is \
        Reason.GROUP_POLICY_ENABLED
    for policy in (LocalPolicy.DISABLED, LocalPolicy.NOT_CONFIGURED, None):
        result = decide(replace(hybrid, local_group_policy=policy), enrolled)
        assert not result.enabled and result.source is Source.LOCAL_GROUP_POLICY
    with_profile = Configuration(profiles=(profile("p", True, ALL_DEVICES),))
    assert decide(replace(hybrid, local_group_policy=LocalPolicy.DISABLED), with_profile).reason is Reason.PROFILE_ON


def test_a_provisioning_package_comes_before_the_enrollment_setting() -> None:
    enrolled = Configuration(enrollment_history=(EnrollmentChange(Enablement.ENABLED, T0 - timedelta(days=1)),))
    result = decide(device(provisioning_package=False), enrolled)
    assert (result.enabled, result.reason) == (False, Reason.PROVISIONING_PACKAGE_OFF)


def test_the_enrollment_setting_applies_to_devices_joined_after_it() -> None:
    history = (EnrollmentChange(Enablement.ENABLED, T0, 2),
               EnrollmentChange(Enablement.DISABLED, T0 + timedelta(hours=1), 3))
    config = Configuration(enrollment_history=history)
    assert decide(device(joined_at=T0 - timedelta(seconds=1)), config).reason is Reason.NOT_CONFIGURED
    early = decide(device(joined_at=T0), config)  # at the instant of the change: in force
    assert (early.reason, early.enrollment_version) == (Reason.ENROLLMENT_ENABLED, 2)
    late = decide(device(joined_at=T0 + timedelta(days=1)), config)
    assert (late.enabled, late.reason, late.enrollment_version) == (False, Reason.ENROLLMENT_DISABLED, 3)


def test_same_instant_changes_are_ordered_by_version() -> None:
    history = (EnrollmentChange(Enablement.DISABLED, T0, 5), EnrollmentChange(Enablement.ENABLED, T0, 4))
    change = enrollment_in_force(history, T0)
    assert change is not None and change.version == 5


# --- properties ----------------------------------------------------------------------------------------------

group_ids = st.frozensets(st.sampled_from(GROUPS), max_size=3)
targets = st.one_of(st.just(ALL_DEVICES), st.just(AssignmentTarget(TargetKind.ALL_LICENSED_USERS)),
                    st.builds(group, st.sampled_from(GROUPS)), st.builds(excluded, st.sampled_from(GROUPS)))
profiles = st.builds(lambda pid, value, chosen: profile(pid, value, *chosen), st.sampled_from(("p1", "p2", "p3", "p4")),
                     st.none() | st.booleans(), st.lists(targets, max_size=4))
times = st.integers(min_value=-1000, max_value=1000).map(lambda m: T0 + timedelta(minutes=m))
changes = st.builds(EnrollmentChange, st.sampled_from(list(Enablement)), times, st.integers(0, 50))
configurations = st.builds(Configuration, st.lists(profiles, max_size=4, unique_by=lambda p: p.profile_id).map(tuple),
                           st.lists(changes, max_size=4).map(tuple))
devices = st.builds(DeviceFacts, device_id=st.sampled_from(("d1", "d2", "d3", "d4")), enabled=st.booleans(),
                    trust_type=st.sampled_from(list(TrustType)), joined_at=times, device_group_ids=group_ids,
                    user_group_ids=st.none() | group_ids, provisioning_package=st.none() | st.booleans(),
                    local_group_policy=st.none() | st.sampled_from(list(LocalPolicy)))


@settings(max_examples=300)
@given(devices, configurations)
def test_the_answer_is_deterministic_and_explained(facts: DeviceFacts, config: Configuration) -> None:
    result = decide(facts, config)
    assert result == decide(facts, config)
    assert result.explanation.endswith(".")
    assert result.conflict == (result.reason is Reason.PROFILE_CONFLICT)
    on_reasons = {Reason.PROFILE_ON, Reason.GROUP_POLICY_ENABLED, Reason.PROVISIONING_PACKAGE_ON,
                  Reason.ENROLLMENT_ENABLED}
    assert result.enabled == (result.reason in on_reasons)


@settings(max_examples=300)
@given(devices, configurations)
def test_a_disabled_device_is_always_off(facts: DeviceFacts, config: Configuration) -> None:
    assert decide(replace(facts, enabled=False), config).reason is Reason.DEVICE_DISABLED


@settings(max_examples=300)
@given(devices, configurations)
def test_profile_order_does_not_matter_and_off_wins(facts: DeviceFacts, config: Configuration) -> None:
    result = decide(facts, config)
    assert result == decide(facts, replace(config, profiles=tuple(reversed(config.profiles))))
    if result.source is Source.PROFILE:
        deciding = [p for p in config.profiles if p.profile_id in result.profile_ids and p.value is not None]
        assert result.enabled == all(p.value for p in deciding)


@settings(max_examples=300)
@given(devices, configurations, changes)
def test_an_enrollment_change_after_the_join_changes_nothing(facts: DeviceFacts, config: Configuration,
                                                              change: EnrollmentChange) -> None:
    later = replace(change, effective_from=facts.joined_at + timedelta(seconds=1))
    changed = replace(config, enrollment_history=(*config.enrollment_history, later))
    assert decide(facts, changed) == decide(facts, config)


@settings(max_examples=300)
@given(devices, configurations)
def test_a_hybrid_device_never_reaches_the_package_or_the_enrollment_setting(facts: DeviceFacts,
                                                                            config: Configuration) -> None:
    result = decide(replace(facts, trust_type=TrustType.HYBRID), config)
    assert result.source in (Source.DEVICE, Source.PROFILE, Source.LOCAL_GROUP_POLICY)


@settings(max_examples=300)
@given(devices, configurations)
def test_adding_an_all_devices_profile_decides_for_every_enabled_device(facts: DeviceFacts,
                                                                       config: Configuration) -> None:
    forced = replace(config, profiles=(*config.profiles, profile("zz", False, ALL_DEVICES)))
    result = decide(facts, forced)
    assert not result.enabled
    if facts.enabled:
        assert result.source is Source.PROFILE and "zz" in result.profile_ids


# --- the impact preview -----------------------------------------------------------------------------------------

@settings(max_examples=200)
@given(st.lists(devices, max_size=6, unique_by=lambda d: d.device_id), configurations, configurations)
def test_the_preview_lists_exactly_the_devices_whose_answer_changes(fleet: list[DeviceFacts], before: Configuration,
                                                                   after: Configuration) -> None:
    impacts = preview_impact(fleet, before, after)
    expected = sorted(d.device_id for d in fleet if decide(d, before).enabled != decide(d, after).enabled)
    assert [i.device_id for i in impacts] == expected
    for impact in impacts:
        assert impact.turns_on == impact.after.enabled
    assert preview_impact(fleet, before, before) == ()
    broader = {i.device_id for i in preview_impact(fleet, before, after, include_reason_changes=True)}
    assert set(expected) <= broader


def test_the_preview_names_devices_switched_by_a_new_profile() -> None:
    fleet = [device(device_id="a", device_group_ids=frozenset({GROUPS[0]})), device(device_id="b")]
    after = Configuration(profiles=(profile("p", True, group(GROUPS[0])),))
    impacts = preview_impact(fleet, Configuration(), after)
    assert [(i.device_id, i.before.reason, i.after.reason, i.turns_on) for i in impacts] == [
        ("a", Reason.NOT_CONFIGURED, Reason.PROFILE_ON, True)]


def test_before_anyone_is_known_only_a_profile_for_people_may_still_turn_it_on() -> None:
    from passgate.core.devices.signin_setting import Configuration, may_turn_on_for_someone

    for_people = Configuration(profiles=(profile("p", True, group("g1")),))
    assert may_turn_on_for_someone(device(), for_people)
    assert may_turn_on_for_someone(device(), Configuration(profiles=(
        profile("p", True, AssignmentTarget(TargetKind.ALL_LICENSED_USERS)),)))
    assert not may_turn_on_for_someone(device(enabled=False), for_people)
    assert not may_turn_on_for_someone(device(), Configuration(profiles=(profile("p", False, group("g1")),)))
    assert not may_turn_on_for_someone(device(), Configuration(profiles=(profile("p", True, ALL_DEVICES),)))
    assert not may_turn_on_for_someone(device(), Configuration())
