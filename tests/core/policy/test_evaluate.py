"""Decisions: may this person add or use this passkey, must they add one, is a method on for them, lock-out."""

from __future__ import annotations

from dataclasses import replace

import pytest

from passgate.core.policy.errors import ADMIN_LOCKOUT, POLICY_RULE, PolicyValidationError
from passgate.core.policy.evaluate import (
    AdminFacts,
    PasskeyFacts,
    Phase,
    PolicyReason,
    UserFacts,
    admins_locked_out,
    attestation_conveyance,
    evaluate_passkey,
    may_self_register,
    method_allowed,
    profiles_in_scope,
    registration_required,
    require_an_admin_can_sign_in,
    tap_issue_settings,
)
from passgate.core.policy.graph import apply_patch
from passgate.core.policy.model import (
    ALL_USERS,
    DEFAULT_PASSKEY_PROFILE,
    DEFAULT_POLICY,
    AttestationEnforcement,
    EnforcementType,
    ExcludeTarget,
    Fido2Configuration,
    KeyRestrictions,
    MethodState,
    MethodTarget,
    PasskeyTarget,
    PasskeyType,
)
from tests.core.policy.helpers import (
    ADMINS,
    CONTRACTORS,
    DEFAULT_ID,
    ENGINEERING,
    GOOGLE_PASSWORD_MANAGER,
    ICLOUD_KEYCHAIN,
    SECURITY_KEYS,
    SECURITY_KEYS_ID,
    SYNCED_ID,
    SYNCED_ONLY,
    THREE_PROFILES,
    YUBIKEY_5_NFC,
    fido2,
)
from tests.core.policy.samples import MS_AUTHENTICATOR_ANDROID, MS_AUTHENTICATOR_IOS

EVERYONE = UserFacts()
ENGINEER = UserFacts(frozenset({ENGINEERING}))
CONTRACTOR_ENGINEER = UserFacts(frozenset({ENGINEERING, CONTRACTORS}))
YUBIKEY = PasskeyFacts(aaguid=YUBIKEY_5_NFC, backup_eligible=False, attestation_verified=True)
YUBIKEY_UNATTESTED = replace(YUBIKEY, attestation_verified=False)
GOOGLE = PasskeyFacts(aaguid=GOOGLE_PASSWORD_MANAGER, backup_eligible=True)
KEYS_ONLY = fido2(profiles=(DEFAULT_PASSKEY_PROFILE, SECURITY_KEYS),
                  include=(PasskeyTarget(ENGINEERING, allowed_passkey_profiles=(SECURITY_KEYS_ID,)),))


def test_default_policy_allows_every_passkey_for_everyone() -> None:
    for passkey in (YUBIKEY, YUBIKEY_UNATTESTED, GOOGLE):
        for phase in Phase:
            decision = evaluate_passkey(DEFAULT_POLICY, EVERYONE, passkey, phase)
            assert decision.allowed and decision.reason == "allowed"
            assert decision.profile_id == DEFAULT_ID
            assert "'Default passkey profile' profile" in decision.message


def test_the_issue_example_message_for_a_synced_passkey_under_a_device_bound_profile() -> None:
    decision = evaluate_passkey(KEYS_ONLY, ENGINEER, GOOGLE, Phase.SIGN_IN)
    assert not decision.allowed
    assert decision.reason == PolicyReason.PASSKEY_TYPE_NOT_ALLOWED == "passkey_type_not_allowed"
    assert decision.message == ("Your organisation's passkey policy ('Security keys only' profile) allows only "
                                "device-bound passkeys; this passkey is synced.")
    assert decision.profile_id is None
    assert [f.profile_id for f in decision.failures] == [SECURITY_KEYS_ID]


def test_a_device_bound_passkey_under_a_synced_only_profile() -> None:
    config = fido2(profiles=(DEFAULT_PASSKEY_PROFILE, SYNCED_ONLY),
                   include=(PasskeyTarget(ALL_USERS, allowed_passkey_profiles=(SYNCED_ID,)),))
    decision = evaluate_passkey(config, EVERYONE, YUBIKEY, Phase.REGISTRATION)
    assert decision.message.endswith("('Synced' profile) allows only synced passkeys; this passkey is device-bound.")


def test_allow_list_admits_only_listed_models_at_registration_and_sign_in() -> None:
    authenticator = PasskeyFacts(aaguid=MS_AUTHENTICATOR_IOS.upper(), backup_eligible=False)
    restricted = replace(DEFAULT_PASSKEY_PROFILE, key_restrictions=KeyRestrictions(
        True, EnforcementType.ALLOW, (MS_AUTHENTICATOR_IOS, MS_AUTHENTICATOR_ANDROID)))
    config = fido2(profiles=(restricted,))
    for phase in Phase:
        assert evaluate_passkey(config, EVERYONE, authenticator, phase).allowed
        refused = evaluate_passkey(config, EVERYONE, YUBIKEY, phase)
        assert refused.reason == PolicyReason.AAGUID_NOT_ALLOWED
        assert refused.message == ("Your organisation's passkey policy ('Default passkey profile' profile) allows "
                                   f"only specific passkey models; this one (AAGUID {YUBIKEY_5_NFC}) isn't one of "
                                   "them.")


def test_block_list_refuses_the_listed_models() -> None:
    blocking = replace(DEFAULT_PASSKEY_PROFILE, key_restrictions=KeyRestrictions(
        True, EnforcementType.BLOCK, (GOOGLE_PASSWORD_MANAGER,)))
    config = fido2(profiles=(blocking,))
    refused = evaluate_passkey(config, EVERYONE, GOOGLE, Phase.SIGN_IN)
    assert refused.reason == PolicyReason.AAGUID_NOT_ALLOWED
    assert f"blocks this passkey's model (AAGUID {GOOGLE_PASSWORD_MANAGER})" in refused.message
    assert evaluate_passkey(config, EVERYONE, YUBIKEY, Phase.SIGN_IN).allowed


def test_restrictions_not_enforced_are_ignored() -> None:
    loose = replace(DEFAULT_PASSKEY_PROFILE, key_restrictions=KeyRestrictions(
        False, EnforcementType.ALLOW, (MS_AUTHENTICATOR_IOS,)))
    assert evaluate_passkey(fido2(profiles=(loose,)), EVERYONE, YUBIKEY, Phase.SIGN_IN).allowed


def test_attestation_applies_at_registration_only() -> None:
    registering = evaluate_passkey(KEYS_ONLY, ENGINEER, YUBIKEY_UNATTESTED, Phase.REGISTRATION)
    assert registering.reason == PolicyReason.ATTESTATION_REQUIRED == "attestation_required"
    assert "(attestation)" in registering.message
    assert evaluate_passkey(KEYS_ONLY, ENGINEER, YUBIKEY, Phase.REGISTRATION).allowed
    assert evaluate_passkey(KEYS_ONLY, ENGINEER, YUBIKEY_UNATTESTED, Phase.SIGN_IN).allowed


def test_registration_only_profile_with_synced_types_admits_synced_only_at_sign_in() -> None:
    attested_default = replace(DEFAULT_PASSKEY_PROFILE,
                               attestation_enforcement=AttestationEnforcement.REGISTRATION_ONLY)
    config = fido2(profiles=(attested_default,))
    assert not evaluate_passkey(config, EVERYONE, GOOGLE, Phase.REGISTRATION).allowed
    assert evaluate_passkey(config, EVERYONE, GOOGLE, Phase.SIGN_IN).allowed


def test_disabled_method_refuses_everything_first() -> None:
    config = replace(THREE_PROFILES, state=MethodState.DISABLED)
    decision = evaluate_passkey(config, CONTRACTOR_ENGINEER, YUBIKEY, Phase.REGISTRATION)
    assert (decision.allowed, decision.reason) == (False, PolicyReason.METHOD_DISABLED)
    assert decision.message == ("Passkeys are turned off in your organisation's authentication methods policy, so "
                                "you can't add a passkey.")
    assert profiles_in_scope(config, ENGINEER) == ()


def test_exclusion_beats_every_inclusion() -> None:
    decision = evaluate_passkey(THREE_PROFILES, CONTRACTOR_ENGINEER, YUBIKEY, Phase.SIGN_IN)
    assert decision.reason == PolicyReason.USER_EXCLUDED
    assert decision.message == ("Your organisation's passkey policy excludes a group you're in, so you can't sign in "
                                "with a passkey.")
    assert profiles_in_scope(THREE_PROFILES, CONTRACTOR_ENGINEER) == ()


def test_someone_no_target_covers_is_not_targeted() -> None:
    decision = evaluate_passkey(KEYS_ONLY, EVERYONE, YUBIKEY, Phase.SIGN_IN)
    assert decision.reason == PolicyReason.USER_NOT_TARGETED
    assert "doesn't include you" in decision.message


def test_group_ids_match_case_insensitively() -> None:
    shouting = UserFacts(frozenset({ENGINEERING.upper()}))
    assert evaluate_passkey(KEYS_ONLY, shouting, YUBIKEY, Phase.SIGN_IN).allowed
    assert profiles_in_scope(KEYS_ONLY, shouting) == (SECURITY_KEYS,)


def test_scope_is_the_union_of_covering_targets_in_policy_order() -> None:
    assert profiles_in_scope(THREE_PROFILES, EVERYONE) == (DEFAULT_PASSKEY_PROFILE,)
    assert profiles_in_scope(THREE_PROFILES, ENGINEER) == THREE_PROFILES.passkey_profiles


def test_one_satisfied_profile_is_enough_and_is_named() -> None:
    config = fido2(profiles=(DEFAULT_PASSKEY_PROFILE, SECURITY_KEYS, SYNCED_ONLY),
                   include=(PasskeyTarget(ENGINEERING, allowed_passkey_profiles=(SECURITY_KEYS_ID, SYNCED_ID)),))
    assert evaluate_passkey(config, ENGINEER, GOOGLE, Phase.SIGN_IN).profile_id == SYNCED_ID
    assert evaluate_passkey(config, ENGINEER, YUBIKEY, Phase.SIGN_IN).profile_id == SECURITY_KEYS_ID


def test_several_profiles_none_satisfied_says_why_for_each() -> None:
    icloud_only = replace(SYNCED_ONLY, key_restrictions=KeyRestrictions(True, EnforcementType.ALLOW,
                                                                        (ICLOUD_KEYCHAIN,)))
    config = fido2(profiles=(DEFAULT_PASSKEY_PROFILE, SECURITY_KEYS, icloud_only),
                   include=(PasskeyTarget(ENGINEERING, allowed_passkey_profiles=(SECURITY_KEYS_ID, SYNCED_ID)),))
    decision = evaluate_passkey(config, ENGINEER, GOOGLE, Phase.SIGN_IN)
    assert decision.reason == PolicyReason.NO_PROFILE_SATISFIED
    assert decision.message == (
        "Your organisation's passkey policy has several profiles for you, and none allows this passkey: "
        "'Security keys only' allows only device-bound passkeys (this one is synced); "
        f"'Synced' allows only specific passkey models (AAGUID {GOOGLE_PASSWORD_MANAGER} isn't on its list).")
    assert [f.reason for f in decision.failures] == [PolicyReason.PASSKEY_TYPE_NOT_ALLOWED,
                                                     PolicyReason.AAGUID_NOT_ALLOWED]


def test_several_profiles_failing_the_same_way_keep_that_reason() -> None:
    config = fido2(profiles=(DEFAULT_PASSKEY_PROFILE, SECURITY_KEYS, replace(SYNCED_ONLY, passkey_types=(
        PasskeyType.DEVICE_BOUND))),
                   include=(PasskeyTarget(ENGINEERING, allowed_passkey_profiles=(SECURITY_KEYS_ID, SYNCED_ID)),))
    assert evaluate_passkey(config, ENGINEER, GOOGLE, Phase.SIGN_IN).reason == PolicyReason.PASSKEY_TYPE_NOT_ALLOWED


def test_may_self_register() -> None:
    assert may_self_register(DEFAULT_POLICY, EVERYONE).allowed
    assert may_self_register(replace(KEYS_ONLY, is_self_service_registration_allowed=False),
                             ENGINEER).reason == PolicyReason.SELF_SERVICE_DISABLED == "self_service_disabled"
    assert may_self_register(KEYS_ONLY, EVERYONE).reason == PolicyReason.USER_NOT_TARGETED
    assert may_self_register(THREE_PROFILES, CONTRACTOR_ENGINEER).reason == PolicyReason.USER_EXCLUDED
    assert may_self_register(replace(KEYS_ONLY, state=MethodState.DISABLED),
                             ENGINEER).reason == PolicyReason.METHOD_DISABLED
    message = may_self_register(replace(KEYS_ONLY, is_self_service_registration_allowed=False), ENGINEER).message
    assert "Ask your administrator to add one for you" in message


@pytest.mark.parametrize(("snoozes_used", "may_snooze", "left"), [(0, True, 3), (1, True, 2), (2, True, 1),
                                                                  (3, False, 0), (9, False, 0)])
def test_registration_required_allows_three_snoozes(snoozes_used: int, may_snooze: bool, left: int) -> None:
    prompt = registration_required(DEFAULT_POLICY, EVERYONE, has_passkey=False, snoozes_used=snoozes_used)
    assert (prompt.required, prompt.may_snooze, prompt.snoozes_left) == (True, may_snooze, left)


def test_registration_is_not_required_when_it_can_not_or_need_not_happen() -> None:
    assert not registration_required(DEFAULT_POLICY, EVERYONE, has_passkey=True, snoozes_used=0).required
    assert not registration_required(THREE_PROFILES, EVERYONE, has_passkey=False, snoozes_used=0).required
    assert registration_required(THREE_PROFILES, ENGINEER, has_passkey=False, snoozes_used=0).required
    assert not registration_required(THREE_PROFILES, CONTRACTOR_ENGINEER, has_passkey=False, snoozes_used=0).required
    no_self_service = replace(THREE_PROFILES, is_self_service_registration_allowed=False)
    assert not registration_required(no_self_service, ENGINEER, has_passkey=False, snoozes_used=0).required
    disabled = replace(DEFAULT_POLICY.fido2, state=MethodState.DISABLED)
    prompt = registration_required(disabled, EVERYONE, has_passkey=False, snoozes_used=0)
    assert (prompt.required, prompt.may_snooze, prompt.snoozes_left) == (False, False, 0)
    with pytest.raises(ValueError, match="negative"):
        registration_required(DEFAULT_POLICY, EVERYONE, has_passkey=False, snoozes_used=-1)


def test_method_allowed_for_software_oath_and_tap() -> None:
    oath = replace(DEFAULT_POLICY.software_oath, exclude_targets=(ExcludeTarget(CONTRACTORS),))
    assert method_allowed(oath, ENGINEER)
    assert not method_allowed(oath, CONTRACTOR_ENGINEER)
    assert not method_allowed(replace(oath, state=MethodState.DISABLED), ENGINEER)
    tap = replace(DEFAULT_POLICY.temporary_access_pass, include_targets=(MethodTarget(ADMINS),))
    assert not method_allowed(tap, ENGINEER)
    assert method_allowed(tap, UserFacts(frozenset({ADMINS.upper()})))
    assert method_allowed(THREE_PROFILES, ENGINEER)


def test_tap_issue_settings() -> None:
    tap = DEFAULT_POLICY.temporary_access_pass
    assert tap_issue_settings(tap) == (settings := tap_issue_settings(tap, lifetime_in_minutes=60))
    assert (settings.lifetime_in_minutes, settings.is_usable_once) == (60, True)
    assert tap_issue_settings(tap, lifetime_in_minutes=43_200, is_usable_once=True).lifetime_in_minutes == 43_200
    with pytest.raises(PolicyValidationError) as caught:
        tap_issue_settings(tap, lifetime_in_minutes=5)
    assert (caught.value.code, caught.value.target) == (POLICY_RULE, "lifetimeInMinutes")
    assert not tap_issue_settings(tap, is_usable_once=False).is_usable_once  # multi-use when asked for
    one_time_only = replace(tap, is_usable_once=True)
    with pytest.raises(PolicyValidationError) as caught:
        tap_issue_settings(one_time_only, is_usable_once=False)
    assert caught.value.target == "isUsableOnce"
    assert tap_issue_settings(one_time_only).is_usable_once


def _admin(upn: str, *passkeys: PasskeyFacts, groups: frozenset[str] = frozenset({ADMINS}),
           other: bool = False) -> AdminFacts:
    return AdminFacts(user_id=upn.partition("@")[0], upn=upn, group_ids=groups, passkeys=passkeys,
                      has_other_sign_in=other)


ALICE = _admin("alice@contoso.com", GOOGLE)
BOB = _admin("bob@contoso.com", YUBIKEY)


def test_admins_locked_out_lists_who_could_no_longer_sign_in() -> None:
    keys_for_all = fido2(profiles=(DEFAULT_PASSKEY_PROFILE, SECURITY_KEYS),
                         include=(PasskeyTarget(ALL_USERS, allowed_passkey_profiles=(SECURITY_KEYS_ID,)),))
    assert admins_locked_out(DEFAULT_POLICY, [ALICE, BOB]) == []
    assert admins_locked_out(keys_for_all, [ALICE, BOB]) == [ALICE]
    require_an_admin_can_sign_in(keys_for_all, [ALICE, BOB])  # Bob still can: accepted
    assert admins_locked_out(keys_for_all, [replace(ALICE, has_other_sign_in=True)]) == []


def test_a_change_that_locks_every_admin_out_is_refused_naming_the_rule() -> None:
    keys_for_all = fido2(profiles=(DEFAULT_PASSKEY_PROFILE, SECURITY_KEYS),
                         include=(PasskeyTarget(ALL_USERS, allowed_passkey_profiles=(SECURITY_KEYS_ID,)),))
    with pytest.raises(PolicyValidationError) as caught:
        require_an_admin_can_sign_in(keys_for_all, [ALICE])
    error = caught.value
    assert (error.code, error.target) == (ADMIN_LOCKOUT, "passkeyProfiles")
    assert error.message == (
        "This change was refused: with it, no enabled Global Administrator could sign in. alice@contoso.com would "
        f"have their synced passkey (AAGUID {GOOGLE_PASSWORD_MANAGER}) refused: the 'Security keys only' profile "
        "allows only device-bound passkeys. Keep at least one Global Administrator able to sign in.")


@pytest.mark.parametrize(("config", "target", "why"), [
    (replace(DEFAULT_POLICY.fido2, state=MethodState.DISABLED), "state", "would have passkeys turned off"),
    (replace(DEFAULT_POLICY.fido2, exclude_targets=(ExcludeTarget(ADMINS),)), "excludeTargets",
     "is in an excluded group"),
    (fido2(include=(PasskeyTarget(ENGINEERING, allowed_passkey_profiles=(DEFAULT_ID,)),)), "includeTargets",
     "is in no include target"),
])
def test_lockout_blames_the_property(config: Fido2Configuration, target: str, why: str) -> None:
    with pytest.raises(PolicyValidationError) as caught:
        require_an_admin_can_sign_in(config, [ALICE, BOB])
    assert caught.value.target == target
    assert f"alice@contoso.com {why}" in caught.value.message
    assert f"bob@contoso.com {why}" in caught.value.message


def test_lockout_check_ignores_admins_no_policy_could_let_in() -> None:
    require_an_admin_can_sign_in(DEFAULT_POLICY, [])
    carol = AdminFacts(user_id="carol", upn="carol@contoso.com", group_ids=frozenset(), passkeys=())
    assert carol.has_other_sign_in is False
    assert admins_locked_out(DEFAULT_POLICY, [carol]) == [carol]
    require_an_admin_can_sign_in(DEFAULT_POLICY, [carol])  # no passkey, no other way: not the policy's doing
    disabled = replace(DEFAULT_POLICY.fido2, state=MethodState.DISABLED)
    with pytest.raises(PolicyValidationError) as caught:
        require_an_admin_can_sign_in(disabled, [carol, ALICE])
    assert "carol" not in caught.value.message
    assert caught.value.target == "state"


def test_lockout_check_with_the_old_policy_refuses_only_a_change_that_causes_it() -> None:
    disabled = replace(DEFAULT_POLICY.fido2, state=MethodState.DISABLED)
    excluded = replace(DEFAULT_POLICY.fido2, exclude_targets=(ExcludeTarget(ADMINS),))
    with pytest.raises(PolicyValidationError):
        require_an_admin_can_sign_in(disabled, [ALICE], old_policy=DEFAULT_POLICY)
    require_an_admin_can_sign_in(excluded, [ALICE], old_policy=disabled)  # already locked out: not this change
    require_an_admin_can_sign_in(DEFAULT_POLICY, [ALICE], old_policy=disabled)  # the fix is accepted


def test_attestation_is_asked_for_only_when_a_profile_in_scope_enforces_it() -> None:
    assert attestation_conveyance(DEFAULT_POLICY, UserFacts()) == "none"
    enforced = apply_patch(DEFAULT_POLICY.fido2, {"isAttestationEnforced": True}, new_id=lambda: "unused")
    assert attestation_conveyance(enforced, UserFacts()) == "direct"
    disabled = replace(enforced, state=MethodState.DISABLED)
    assert attestation_conveyance(disabled, UserFacts()) == "none"
