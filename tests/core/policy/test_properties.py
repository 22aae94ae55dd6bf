"""Properties over random policies, people and passkeys."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from passgate.core.policy.evaluate import (
    AdminFacts,
    PasskeyFacts,
    Phase,
    PolicyReason,
    UserFacts,
    admins_locked_out,
    evaluate_passkey,
    profiles_in_scope,
    registration_required,
)
from passgate.core.policy.graph import apply_patch, policy_from_document, to_graph
from passgate.core.policy.model import (
    ALL_USERS,
    MAX_REGISTRATION_SNOOZES,
    AttestationEnforcement,
    EnforcementType,
    Fido2Configuration,
    MethodState,
    PasskeyProfile,
    PasskeyType,
    default_policy,
)
from tests.core.policy.helpers import no_new_id
from tests.core.policy.strategies import (
    fido2_configurations,
    passkeys,
    phases,
    software_oath_configurations,
    tap_configurations,
    users,
)

FAST = settings(max_examples=100, deadline=None)


def _excluded(config: Fido2Configuration, user: UserFacts) -> bool:
    return any(t.id in user.group_ids for t in config.exclude_targets)


def _scope_ids(config: Fido2Configuration, user: UserFacts) -> set[str]:
    return {p for t in config.include_targets if t.id == ALL_USERS or t.id in user.group_ids
            for p in t.allowed_passkey_profiles}


def _admits_type_and_aaguid(profile: PasskeyProfile, passkey: PasskeyFacts) -> bool:
    kind = PasskeyType.SYNCED if passkey.backup_eligible else PasskeyType.DEVICE_BOUND
    restrictions = profile.key_restrictions
    listed = passkey.aaguid in restrictions.aa_guids
    model_ok = (not restrictions.is_enforced
                or (listed if restrictions.enforcement_type is EnforcementType.ALLOW else not listed))
    return bool(kind & profile.passkey_types) and model_ok


def _oracle(config: Fido2Configuration, user: UserFacts, passkey: PasskeyFacts, phase: Phase) -> bool:
    """The rules, written out again independently of evaluate.py."""
    if config.state is not MethodState.ENABLED or _excluded(config, user):
        return False
    for profile in config.passkey_profiles:
        if profile.id not in _scope_ids(config, user) or not _admits_type_and_aaguid(profile, passkey):
            continue
        needs_attestation = (phase is Phase.REGISTRATION
                             and profile.attestation_enforcement is AttestationEnforcement.REGISTRATION_ONLY)
        if not needs_attestation or passkey.attestation_verified:
            return True
    return False


@FAST
@given(fido2_configurations(), users, passkeys, phases)
def test_excluded_is_never_allowed(config: Fido2Configuration, user: UserFacts, passkey: PasskeyFacts,
                                   phase: Phase) -> None:
    if _excluded(config, user):
        decision = evaluate_passkey(config, user, passkey, phase)
        assert not decision.allowed
        assert decision.reason in (PolicyReason.METHOD_DISABLED, PolicyReason.USER_EXCLUDED)
        assert profiles_in_scope(config, user) == ()


@FAST
@given(fido2_configurations(), users, passkeys, phases)
def test_disabled_is_never_allowed(config: Fido2Configuration, user: UserFacts, passkey: PasskeyFacts,
                                   phase: Phase) -> None:
    decision = evaluate_passkey(replace(config, state=MethodState.DISABLED), user, passkey, phase)
    assert (decision.allowed, decision.reason) == (False, PolicyReason.METHOD_DISABLED)


@FAST
@given(fido2_configurations(), users, passkeys, phases)
def test_allowed_means_an_in_scope_profile_admits_the_type_and_aaguid(config: Fido2Configuration, user: UserFacts,
                                                                      passkey: PasskeyFacts, phase: Phase) -> None:
    decision = evaluate_passkey(config, user, passkey, phase)
    assert decision.allowed == _oracle(config, user, passkey, phase)
    assert decision.message
    if decision.allowed:
        assert decision.reason == PolicyReason.ALLOWED
        profile = config.profile(decision.profile_id or "")
        assert profile is not None
        assert profile in profiles_in_scope(config, user)
        assert profile.id in _scope_ids(config, user)
        assert _admits_type_and_aaguid(profile, passkey)
    else:
        assert decision.profile_id is None
        if decision.failures:
            assert [f.profile_id for f in decision.failures] == [p.id for p in profiles_in_scope(config, user)]
            assert all(f.profile_name in decision.message for f in decision.failures)


@FAST
@given(fido2_configurations(), users, passkeys)
def test_attestation_never_matters_at_sign_in(config: Fido2Configuration, user: UserFacts,
                                              passkey: PasskeyFacts) -> None:
    verified = evaluate_passkey(config, user, replace(passkey, attestation_verified=True), Phase.SIGN_IN)
    unverified = evaluate_passkey(config, user, replace(passkey, attestation_verified=False), Phase.SIGN_IN)
    assert verified == unverified
    assert verified.reason != PolicyReason.ATTESTATION_REQUIRED


@FAST
@given(fido2_configurations(), users, passkeys)
def test_registration_is_never_more_permissive_than_sign_in(config: Fido2Configuration, user: UserFacts,
                                                            passkey: PasskeyFacts) -> None:
    if evaluate_passkey(config, user, passkey, Phase.REGISTRATION).allowed:
        assert evaluate_passkey(config, user, passkey, Phase.SIGN_IN).allowed


@FAST
@given(fido2_configurations(), users, st.booleans(), st.integers(0, 6))
def test_registration_prompt_is_consistent(config: Fido2Configuration, user: UserFacts, has_passkey: bool,
                                           snoozes_used: int) -> None:
    prompt = registration_required(config, user, has_passkey=has_passkey, snoozes_used=snoozes_used)
    assert 0 <= prompt.snoozes_left <= MAX_REGISTRATION_SNOOZES
    assert prompt.may_snooze == (prompt.snoozes_left > 0)
    if prompt.may_snooze:
        assert prompt.required
    if prompt.required:
        assert not has_passkey
        assert config.state is MethodState.ENABLED and not _excluded(config, user)
        assert config.is_self_service_registration_allowed
        assert prompt.snoozes_left == max(0, MAX_REGISTRATION_SNOOZES - snoozes_used)


@settings(max_examples=100, deadline=None)
@given(fido2_configurations(), st.lists(st.tuples(users, st.lists(passkeys, max_size=2), st.booleans()), max_size=3))
def test_an_admin_is_locked_out_exactly_when_no_passkey_and_no_other_way_works(
        config: Fido2Configuration, raw: list[tuple[UserFacts, list[PasskeyFacts], bool]]) -> None:
    admins = [AdminFacts(user_id=str(i), upn=f"admin{i}@contoso.com", group_ids=user.group_ids,
                         passkeys=tuple(keys), has_other_sign_in=other) for i, (user, keys, other) in enumerate(raw)]
    expected = [a for a in admins if not a.has_other_sign_in
                and not any(_oracle(config, UserFacts(a.group_ids), p, Phase.SIGN_IN) for p in a.passkeys)]
    assert admins_locked_out(config, admins) == expected


def _round_trips(config: Any) -> None:
    assert apply_patch(config, {}, new_id=no_new_id) == config
    graph = to_graph(config)
    assert apply_patch(config, graph, new_id=no_new_id) == config
    assert apply_patch(config, json.loads(json.dumps(graph)), new_id=no_new_id) == config


@FAST
@given(fido2_configurations())
def test_fido2_empty_patch_is_identity_and_get_body_round_trips(config: Fido2Configuration) -> None:
    _round_trips(config)
    got = to_graph(config)
    assert got["isAttestationEnforced"] == (
        config.default_profile.attestation_enforcement is AttestationEnforcement.REGISTRATION_ONLY)
    assert got["keyRestrictions"] == next(p["keyRestrictions"] for p in got["passkeyProfiles"]
                                          if p["id"] == got["defaultPasskeyProfile"])


@settings(max_examples=100, deadline=None)
@given(software_oath_configurations, tap_configurations())
def test_other_methods_empty_patch_is_identity_and_get_body_round_trips(oath: Any, tap: Any) -> None:
    _round_trips(oath)
    _round_trips(tap)


@settings(max_examples=100, deadline=None)
@given(fido2_configurations(), fido2_configurations())
def test_a_get_body_of_one_configuration_can_be_applied_to_another_when_it_only_names_known_profiles(
        a: Fido2Configuration, b: Fido2Configuration) -> None:
    """Sending b's GET body to a gives b, or a refusal: never a half-applied mixture."""
    try:
        result = apply_patch(a, to_graph(b), new_id=no_new_id)
    except Exception as error:  # noqa: BLE001 - the assertion below says which kind
        from passgate.core.policy.errors import PolicyValidationError

        assert isinstance(error, PolicyValidationError)
    else:
        assert result == b


@settings(max_examples=100, deadline=None)
@given(fido2_configurations(), software_oath_configurations, tap_configurations())
def test_stored_documents_read_back_as_the_policy(fido2: Fido2Configuration, oath: Any, tap: Any) -> None:
    policy = replace(default_policy(), fido2=fido2, software_oath=oath, temporary_access_pass=tap)
    assert policy_from_document(json.loads(json.dumps(to_graph(policy)))) == policy
