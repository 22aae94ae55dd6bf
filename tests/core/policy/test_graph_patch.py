"""PATCH semantics that succeed: what changes, what stays, and how ids and the legacy mirror behave."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from passgate.core.errors import NotFound
from passgate.core.policy.errors import POLICY_RULE, PolicyValidationError
from passgate.core.policy.graph import (
    apply_method_patch,
    apply_patch,
    method_configuration,
    passkey_types_to_graph,
    policy_from_document,
    to_graph,
    with_method_configuration,
)
from passgate.core.policy.model import (
    ALL_USERS,
    DEFAULT_PASSKEY_PROFILE,
    DEFAULT_POLICY,
    AttestationEnforcement,
    AuthenticationMethodsPolicy,
    EnforcementType,
    ExcludeTarget,
    Fido2Configuration,
    KeyRestrictions,
    MethodState,
    MethodTarget,
    PasskeyProfile,
    PasskeyTarget,
    PasskeyType,
    SoftwareOathConfiguration,
    TemporaryAccessPassConfiguration,
    default_policy,
)
from tests.core.policy.helpers import (
    CONTRACTORS,
    DEFAULT_ID,
    ENGINEERING,
    SECURITY_KEYS,
    SECURITY_KEYS_ID,
    SYNCED_ID,
    SYNCED_ONLY,
    THREE_PROFILES,
    YUBIKEY_5_NFC,
    id_factory,
    no_new_id,
)

FIDO2 = DEFAULT_POLICY.fido2


@pytest.mark.parametrize("current", [DEFAULT_POLICY, FIDO2, DEFAULT_POLICY.software_oath,
                                     DEFAULT_POLICY.temporary_access_pass, THREE_PROFILES])
def test_empty_body_and_echoed_get_body_change_nothing(current: Any) -> None:
    assert apply_patch(current, {}, new_id=no_new_id) == current
    assert apply_patch(current, to_graph(current), new_id=no_new_id) == current


def test_properties_not_in_the_body_are_unchanged() -> None:
    after = apply_patch(THREE_PROFILES, {"state": "disabled"}, new_id=no_new_id)
    assert after == replace(THREE_PROFILES, state=MethodState.DISABLED)


def test_odata_type_is_optional_and_accepted_without_the_hash() -> None:
    with_hash = apply_patch(FIDO2, {"@odata.type": "#microsoft.graph.fido2AuthenticationMethodConfiguration",
                                    "state": "disabled"}, new_id=no_new_id)
    without = apply_patch(FIDO2, {"@odata.type": "microsoft.graph.fido2AuthenticationMethodConfiguration",
                                  "state": "disabled"}, new_id=no_new_id)
    bare = apply_patch(FIDO2, {"state": "disabled"}, new_id=no_new_id)
    assert with_hash == without == bare


def test_id_may_repeat_the_configurations_id_in_any_case() -> None:
    assert apply_patch(FIDO2, {"id": "FIDO2"}, new_id=no_new_id) == FIDO2
    assert apply_patch(DEFAULT_POLICY.temporary_access_pass, {"id": "temporaryAccessPass"},
                       new_id=no_new_id) == DEFAULT_POLICY.temporary_access_pass


def test_passkey_profiles_replace_the_collection_and_new_profiles_get_ids_in_order() -> None:
    first, second = "aaaaaaaa-0000-4000-8000-000000000001", "aaaaaaaa-0000-4000-8000-000000000002"
    body = {"passkeyProfiles": [
        {"name": "Keys", "passkeyTypes": "deviceBound"},
        {"id": DEFAULT_ID},
        {"name": "Phones", "passkeyTypes": "synced, deviceBound",
         "keyRestrictions": {"isEnforced": True, "enforcementType": "block", "aaGuids": [YUBIKEY_5_NFC.upper()]}},
    ]}
    after = apply_patch(FIDO2, body, new_id=id_factory(first, second))
    assert [p.id for p in after.passkey_profiles] == [first, DEFAULT_ID, second]
    keys, default, phones = after.passkey_profiles
    assert keys == PasskeyProfile(id=first, name="Keys", passkey_types=PasskeyType.DEVICE_BOUND)
    assert default == DEFAULT_PASSKEY_PROFILE  # omitted properties of an existing profile keep their values
    assert phones.passkey_types is PasskeyType.DEVICE_BOUND | PasskeyType.SYNCED
    assert phones.key_restrictions == KeyRestrictions(True, EnforcementType.BLOCK, (YUBIKEY_5_NFC,))
    assert to_graph(after)["passkeyProfiles"][2]["passkeyTypes"] == "deviceBound,synced"


def test_a_profile_not_in_use_can_be_deleted_and_one_in_use_can_go_with_its_reference() -> None:
    unused = replace(THREE_PROFILES, include_targets=(PasskeyTarget(ALL_USERS, allowed_passkey_profiles=(DEFAULT_ID,)),
                                                      PasskeyTarget(ENGINEERING,
                                                                    allowed_passkey_profiles=(SECURITY_KEYS_ID,))))
    after = apply_patch(unused, {"passkeyProfiles": [{"id": DEFAULT_ID}, {"id": SECURITY_KEYS_ID}]},
                        new_id=no_new_id)
    assert [p.id for p in after.passkey_profiles] == [DEFAULT_ID, SECURITY_KEYS_ID]
    both = apply_patch(THREE_PROFILES, {
        "passkeyProfiles": [{"id": DEFAULT_ID}],
        "includeTargets": [{"id": "all_users", "allowedPasskeyProfiles": [DEFAULT_ID]}],
    }, new_id=no_new_id)
    assert both.passkey_profiles == (DEFAULT_PASSKEY_PROFILE,)


def test_existing_profile_can_be_renamed_and_changed_but_the_default_keeps_its_name() -> None:
    after = apply_patch(THREE_PROFILES, {"passkeyProfiles": [
        {"id": DEFAULT_ID, "name": "Default passkey profile", "passkeyTypes": "deviceBound"},
        {"id": SECURITY_KEYS_ID, "name": "  Hardware   keys ", "attestationEnforcement": "disabled"},
        {"id": SYNCED_ID.upper()},
    ]}, new_id=no_new_id)
    default, keys, synced = after.passkey_profiles
    assert default.passkey_types is PasskeyType.DEVICE_BOUND
    assert keys == replace(SECURITY_KEYS, name="Hardware keys", attestation_enforcement=AttestationEnforcement.DISABLED)
    assert synced == SYNCED_ONLY


def test_key_restrictions_members_left_out_keep_their_values() -> None:
    after = apply_patch(THREE_PROFILES, {"passkeyProfiles": [
        {"id": DEFAULT_ID}, {"id": SECURITY_KEYS_ID, "keyRestrictions": {"enforcementType": "block"}},
        {"id": SYNCED_ID},
    ]}, new_id=no_new_id)
    assert after.passkey_profiles[1].key_restrictions == KeyRestrictions(True, EnforcementType.BLOCK, (YUBIKEY_5_NFC,))


def test_aaguids_are_lower_cased_and_deduplicated_keeping_order() -> None:
    other = "cb69481e-8ff7-4039-93ec-0a2729a154a8"
    after = apply_patch(FIDO2, {"keyRestrictions": {"isEnforced": True, "aaGuids": [
        YUBIKEY_5_NFC.upper(), other, YUBIKEY_5_NFC]}}, new_id=no_new_id)
    assert after.key_restrictions.aa_guids == (YUBIKEY_5_NFC, other)


def test_legacy_properties_update_the_default_profile_and_mirror_back() -> None:
    after = apply_patch(FIDO2, {"isAttestationEnforced": True,
                                "keyRestrictions": {"isEnforced": True, "enforcementType": "block",
                                                    "aaGuids": [YUBIKEY_5_NFC]}}, new_id=no_new_id)
    assert after.default_profile.attestation_enforcement is AttestationEnforcement.REGISTRATION_ONLY
    assert after.is_attestation_enforced is True
    got = to_graph(after)
    assert got["isAttestationEnforced"] is True
    assert got["keyRestrictions"] == got["passkeyProfiles"][0]["keyRestrictions"] == {
        "isEnforced": True, "enforcementType": "block", "aaGuids": [YUBIKEY_5_NFC]}
    back = apply_patch(after, {"isAttestationEnforced": False}, new_id=no_new_id)
    assert back.default_profile.attestation_enforcement is AttestationEnforcement.DISABLED
    assert back.key_restrictions == after.key_restrictions  # only what the body names changes


def test_legacy_properties_leave_the_other_profiles_alone() -> None:
    after = apply_patch(THREE_PROFILES, {"isAttestationEnforced": True}, new_id=no_new_id)
    assert after.passkey_profiles[1:] == THREE_PROFILES.passkey_profiles[1:]


def test_legacy_properties_are_still_checked_when_profiles_win() -> None:
    with pytest.raises(PolicyValidationError) as caught:
        apply_patch(FIDO2, {"isAttestationEnforced": True, "keyRestrictions": {"aaGuids": ["x"]},
                            "passkeyProfiles": [{"id": DEFAULT_ID}]}, new_id=no_new_id)
    assert caught.value.target == "keyRestrictions.aaGuids[0]"


def test_include_targets_replace_the_collection_and_keep_unsent_members_of_kept_targets() -> None:
    after = apply_patch(THREE_PROFILES, {"includeTargets": [
        {"id": ENGINEERING.upper(), "allowedPasskeyProfiles": [SYNCED_ID]},
        {"id": "ALL_USERS", "targetType": "group"},
    ]}, new_id=no_new_id)
    assert after.include_targets == (
        PasskeyTarget(ENGINEERING, is_registration_required=True, allowed_passkey_profiles=(SYNCED_ID,)),
        PasskeyTarget(ALL_USERS, allowed_passkey_profiles=(DEFAULT_ID,)),
    )


def test_allowed_profiles_are_deduplicated() -> None:
    after = apply_patch(FIDO2, {"includeTargets": [{"id": "all_users",
                                                    "allowedPasskeyProfiles": [DEFAULT_ID, DEFAULT_ID]}]},
                        new_id=no_new_id)
    assert after.include_targets[0].allowed_passkey_profiles == (DEFAULT_ID,)


def test_a_group_may_be_both_included_and_excluded() -> None:
    after = apply_patch(FIDO2, {
        "includeTargets": [{"id": ENGINEERING, "allowedPasskeyProfiles": [DEFAULT_ID]}],
        "excludeTargets": [{"@odata.type": "#microsoft.graph.excludeTarget", "id": ENGINEERING,
                            "targetType": "group"}],
    }, new_id=no_new_id)
    assert after.exclude_targets == (ExcludeTarget(ENGINEERING),)


def test_registration_only_profile_may_allow_synced_passkeys_as_a_live_tenant_does() -> None:
    after = apply_patch(FIDO2, {"passkeyProfiles": [{"id": DEFAULT_ID, "attestationEnforcement": "registrationOnly",
                                                     "passkeyTypes": "deviceBound,synced"}]}, new_id=no_new_id)
    assert after.is_attestation_enforced


def test_software_oath_and_tap_patches() -> None:
    oath = apply_patch(DEFAULT_POLICY.software_oath, {
        "state": "disabled", "includeTargets": [{"id": ENGINEERING, "isRegistrationRequired": True}],
        "excludeTargets": [{"id": CONTRACTORS}]}, new_id=no_new_id)
    engineering = MethodTarget(ENGINEERING, is_registration_required=True)
    assert oath == SoftwareOathConfiguration(state=MethodState.DISABLED, include_targets=(engineering,),
                                             exclude_targets=(ExcludeTarget(CONTRACTORS),))
    tap = apply_patch(DEFAULT_POLICY.temporary_access_pass, {
        "minimumLifetimeInMinutes": 60, "defaultLifetimeInMinutes": 120, "maximumLifetimeInMinutes": 480,
        "defaultLength": 48, "isUsableOnce": False}, new_id=no_new_id)
    assert (tap.minimum_lifetime_in_minutes, tap.default_lifetime_in_minutes, tap.maximum_lifetime_in_minutes,
            tap.default_length, tap.is_usable_once) == (60, 120, 480, 48, False)
    assert tap.include_targets == DEFAULT_POLICY.temporary_access_pass.include_targets


@pytest.mark.parametrize(("given", "expected"), [("fido2", Fido2Configuration), ("FIDO2", Fido2Configuration),
                                                 ("Fido2", Fido2Configuration),
                                                 ("softwareOath", SoftwareOathConfiguration),
                                                 ("SOFTWAREOATH", SoftwareOathConfiguration),
                                                 ("temporaryAccessPass", TemporaryAccessPassConfiguration),
                                                 ("TemporaryAccessPass", TemporaryAccessPassConfiguration)])
def test_method_configuration_lookup_is_case_insensitive(given: str, expected: type) -> None:
    assert isinstance(method_configuration(DEFAULT_POLICY, given), expected)


@pytest.mark.parametrize("unknown", ["MicrosoftAuthenticator", "Sms", "fido", ""])
def test_unknown_method_configuration_is_not_found(unknown: str) -> None:
    with pytest.raises(NotFound) as caught:
        method_configuration(DEFAULT_POLICY, unknown)
    assert "Fido2, SoftwareOath, TemporaryAccessPass" in caught.value.message


def test_apply_method_patch_changes_one_method_and_keeps_the_metadata() -> None:
    when = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
    policy = default_policy(policy_version="1.5", last_modified_date_time=when)
    after = apply_method_patch(policy, "softwareoath", {"state": "disabled"}, new_id=no_new_id)
    assert after.software_oath.state is MethodState.DISABLED
    assert (after.fido2, after.temporary_access_pass) == (policy.fido2, policy.temporary_access_pass)
    assert after.last_modified_date_time == when
    assert with_method_configuration(after, policy.software_oath) == policy


def test_policy_metadata_is_passed_in_and_formatted_as_graph_does() -> None:
    when = datetime(2026, 5, 1, 14, 30, 15, 123456, tzinfo=timezone(timedelta(hours=2)))
    got = to_graph(default_policy(policy_version="7", last_modified_date_time=when))
    assert got["lastModifiedDateTime"] == "2026-05-01T12:30:15.123456Z"
    assert got["policyVersion"] == "7"
    with pytest.raises(ValueError, match="timezone"):
        default_policy(last_modified_date_time=datetime(2026, 5, 1))  # noqa: DTZ001 - the point of the test


def test_policy_equality_ignores_metadata() -> None:
    when = datetime(2026, 5, 1, tzinfo=UTC)
    assert default_policy(policy_version="9", last_modified_date_time=when) == DEFAULT_POLICY
    assert isinstance(DEFAULT_POLICY, AuthenticationMethodsPolicy)


def test_passkey_types_spelling() -> None:
    assert passkey_types_to_graph(PasskeyType.DEVICE_BOUND) == "deviceBound"
    assert passkey_types_to_graph(PasskeyType.SYNCED) == "synced"
    assert passkey_types_to_graph(PasskeyType.SYNCED | PasskeyType.DEVICE_BOUND) == "deviceBound,synced"


def test_model_refuses_inconsistent_configurations_built_directly() -> None:
    with pytest.raises(PolicyValidationError, match="default passkey profile can't be deleted"):
        replace(FIDO2, passkey_profiles=(SECURITY_KEYS,), include_targets=())
    with pytest.raises(PolicyValidationError, match="missing passkey profile targets"):
        replace(FIDO2, include_targets=(PasskeyTarget(ALL_USERS),))
    with pytest.raises(PolicyValidationError, match="doesn't exist"):
        replace(FIDO2, include_targets=(PasskeyTarget(ALL_USERS, allowed_passkey_profiles=(SYNCED_ID,)),))
    with pytest.raises(PolicyValidationError, match="appears twice"):
        replace(FIDO2, exclude_targets=(ExcludeTarget(CONTRACTORS), ExcludeTarget(CONTRACTORS)))
    with pytest.raises(PolicyValidationError, match="at most 3"):
        replace(THREE_PROFILES, passkey_profiles=(*THREE_PROFILES.passkey_profiles,
                                                  replace(SYNCED_ONLY, id=ENGINEERING, name="Fourth")))
    with pytest.raises(PolicyValidationError) as caught:
        replace(DEFAULT_POLICY.temporary_access_pass, default_lifetime_in_minutes=5)
    assert caught.value.code == POLICY_RULE


def test_a_stored_document_reads_back_as_the_policy() -> None:
    policy = with_method_configuration(DEFAULT_POLICY, THREE_PROFILES)
    when = datetime(2026, 5, 1, tzinfo=UTC)
    again = policy_from_document(to_graph(policy), last_modified=when)
    assert again == policy
    assert again.last_modified_date_time == when
    assert again.fido2.passkey_profiles == THREE_PROFILES.passkey_profiles  # ids kept as stored
    assert policy_from_document({}) == DEFAULT_POLICY
    assert policy_from_document(to_graph(default_policy(policy_version="1.6"))).policy_version == "1.6"


def test_a_broken_stored_document_names_the_path_from_its_root() -> None:
    document = to_graph(DEFAULT_POLICY)
    document["authenticationMethodConfigurations"][2]["defaultLength"] = 3
    with pytest.raises(PolicyValidationError) as caught:
        policy_from_document(document)
    assert caught.value.target == "authenticationMethodConfigurations[2].defaultLength"
    document["authenticationMethodConfigurations"][2] = {"id": "Sms", "state": "enabled"}
    with pytest.raises(PolicyValidationError) as caught:
        policy_from_document(document)
    assert caught.value.target == "authenticationMethodConfigurations[2].id"
    with pytest.raises(PolicyValidationError):
        policy_from_document({"authenticationMethodConfigurations": [{"state": "enabled"}]})
