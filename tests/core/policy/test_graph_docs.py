"""Microsoft's own example bodies, applied to Passgate's policy and read back as Graph JSON."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from passgate.core.policy.errors import INVALID_PROPERTY, NOT_SUPPORTED, POLICY_RULE, PolicyValidationError
from passgate.core.policy.graph import apply_method_patch, apply_patch, to_graph
from passgate.core.policy.model import (
    DEFAULT_POLICY,
    AttestationEnforcement,
    EnforcementType,
    KeyRestrictions,
    MethodState,
    PasskeyTarget,
    PasskeyType,
)
from tests.core.policy import samples
from tests.core.policy.helpers import DEFAULT_ID, ENGINEERING, fido2, id_factory, no_new_id


def _without_annotations(body: dict[str, object]) -> dict[str, object]:
    return {key: value for key, value in body.items() if "@odata.context" not in key}


def test_default_fido2_configuration_has_graphs_v1_shape() -> None:
    assert to_graph(DEFAULT_POLICY.fido2) == {
        "@odata.type": "#microsoft.graph.fido2AuthenticationMethodConfiguration",
        "id": "Fido2",
        "state": "enabled",
        "isSelfServiceRegistrationAllowed": True,
        "isAttestationEnforced": False,
        "keyRestrictions": {"isEnforced": False, "enforcementType": "allow", "aaGuids": []},
        "defaultPasskeyProfile": "00000000-0000-0000-0000-000000000001",
        "includeTargets": [{"targetType": "group", "id": "all_users", "isRegistrationRequired": True,
                            "allowedPasskeyProfiles": ["00000000-0000-0000-0000-000000000001"]}],
        "excludeTargets": [],
        "passkeyProfiles": [{"id": "00000000-0000-0000-0000-000000000001", "name": "Default passkey profile",
                             "passkeyTypes": "deviceBound,synced", "attestationEnforcement": "disabled",
                             "keyRestrictions": {"isEnforced": False, "enforcementType": "allow", "aaGuids": []}}],
    }


def test_get_sample_sent_back_as_a_patch_reads_back_as_the_sample() -> None:
    sample = samples.load(samples.FIDO2_GET_V1)
    config = apply_patch(DEFAULT_POLICY.fido2, sample, new_id=no_new_id)
    got = to_graph(config)
    for key, value in _without_annotations(sample).items():
        if key == "includeTargets":
            continue
        assert got[key] == value, key
    # Every property of the sample's include target is there; Passgate adds allowedPasskeyProfiles (profiles are on).
    assert got["includeTargets"] == [{**sample["includeTargets"][0], "allowedPasskeyProfiles": [DEFAULT_ID]}]
    default = config.default_profile
    assert default.attestation_enforcement is AttestationEnforcement.REGISTRATION_ONLY
    assert default.key_restrictions == KeyRestrictions(is_enforced=False, enforcement_type=EnforcementType.BLOCK)


def test_get_sample_include_target_without_profiles_is_refused_for_a_new_target() -> None:
    """all_users isn't a target yet, so the sample's target names no profile: Graph's 400."""
    current = fido2(include=(PasskeyTarget(ENGINEERING, allowed_passkey_profiles=(DEFAULT_ID,)),))
    with pytest.raises(PolicyValidationError) as caught:
        apply_patch(current, samples.load(samples.FIDO2_GET_V1), new_id=no_new_id)
    assert caught.value.code == POLICY_RULE
    assert caught.value.target == "includeTargets[0].allowedPasskeyProfiles"
    assert "Include conditions are missing passkey profile targets" in caught.value.message


def test_update_sample_is_accepted_and_the_profiles_win_over_the_stale_legacy_values() -> None:
    sample = samples.load(samples.FIDO2_UPDATE_V1)
    config = apply_patch(DEFAULT_POLICY.fido2, sample, new_id=no_new_id)
    assert config.state is MethodState.DISABLED
    assert config.include_targets == (PasskeyTarget("all_users", allowed_passkey_profiles=(DEFAULT_ID,)),)
    got = to_graph(config)
    # Everything but the deprecated mirror reads back as sent.
    for key in ("@odata.type", "id", "state", "isSelfServiceRegistrationAllowed", "includeTargets",
                "excludeTargets", "passkeyProfiles"):
        assert got[key] == sample[key], key
    # The sample sends isAttestationEnforced true / block next to a default profile that says disabled / allow:
    # the default profile is what counts, and the mirror follows it.
    assert got["isAttestationEnforced"] is False
    assert got["keyRestrictions"] == sample["passkeyProfiles"][0]["keyRestrictions"]


def test_round_trip_of_the_update_sample_is_stable() -> None:
    once = apply_patch(DEFAULT_POLICY.fido2, samples.load(samples.FIDO2_UPDATE_V1), new_id=no_new_id)
    assert apply_patch(once, to_graph(once), new_id=no_new_id) == once
    assert apply_patch(once, samples.load(samples.FIDO2_UPDATE_V1), new_id=no_new_id) == once


def test_older_update_sample_with_the_string_true_is_refused_naming_the_property() -> None:
    with pytest.raises(PolicyValidationError) as caught:
        apply_patch(DEFAULT_POLICY.fido2, samples.load(samples.FIDO2_UPDATE_V1_OLD), new_id=no_new_id)
    assert (caught.value.code, caught.value.target) == (INVALID_PROPERTY, "isAttestationEnforced")
    assert '"true"' in caught.value.message


def test_authenticator_only_sample_restricts_the_default_profile_to_the_two_authenticator_aaguids() -> None:
    sample = samples.load(samples.AUTHENTICATOR_ONLY)
    assert sample["keyRestrictions"]["aaGuids"] == [samples.MS_AUTHENTICATOR_IOS, samples.MS_AUTHENTICATOR_ANDROID]
    policy = apply_method_patch(DEFAULT_POLICY, "FIDO2", sample, new_id=no_new_id)  # the doc's casing
    restrictions = KeyRestrictions(is_enforced=True, enforcement_type=EnforcementType.ALLOW,
                                   aa_guids=(samples.MS_AUTHENTICATOR_IOS, samples.MS_AUTHENTICATOR_ANDROID))
    assert policy.fido2.default_profile.key_restrictions == restrictions
    assert policy.fido2.default_profile.attestation_enforcement is AttestationEnforcement.DISABLED
    got = to_graph(policy.fido2)
    assert got["keyRestrictions"] == sample["keyRestrictions"]
    assert got["passkeyProfiles"][0]["keyRestrictions"] == sample["keyRestrictions"]
    assert got["isAttestationEnforced"] is False
    # The other methods are untouched.
    assert (policy.software_oath, policy.temporary_access_pass) == (DEFAULT_POLICY.software_oath,
                                                                    DEFAULT_POLICY.temporary_access_pass)


def test_new_profile_sample_gets_its_id_from_new_id() -> None:
    config = apply_patch(DEFAULT_POLICY.fido2, samples.load(samples.NEW_PROFILE_WINDOWS_HELLO),
                         new_id=id_factory("84C712C1-8688-4679-8546-A603FF82DA46"))
    default, new = config.passkey_profiles
    assert default.passkey_types is PasskeyType.DEVICE_BOUND
    assert new.id == "84c712c1-8688-4679-8546-a603ff82da46"
    assert new.name == "EPOW passkey profile"
    assert new.key_restrictions.aa_guids == samples.WINDOWS_HELLO
    assert new.attestation_enforcement is AttestationEnforcement.REGISTRATION_ONLY
    # Then the support wiki's next step: scope the new profile to all users.
    scoped = apply_patch(config, {"@odata.type": "#microsoft.graph.fido2AuthenticationMethodConfiguration",
                                  "includeTargets": [{"targetType": "group", "id": "all_users",
                                                      "isRegistrationRequired": False,
                                                      "allowedPasskeyProfiles": [DEFAULT_ID, new.id]}]},
                         new_id=no_new_id)
    assert scoped.include_targets[0].allowed_passkey_profiles == (DEFAULT_ID, new.id)


def test_tap_get_sample_round_trips() -> None:
    sample = samples.load(samples.TAP_GET_V1)
    config = apply_patch(DEFAULT_POLICY.temporary_access_pass, sample, new_id=no_new_id)
    assert (config.minimum_lifetime_in_minutes, config.default_lifetime_in_minutes,
            config.maximum_lifetime_in_minutes, config.default_length, config.is_usable_once) == (60, 60, 480, 8, False)
    assert to_graph(config) == _without_annotations(sample)


def test_software_oath_get_sample_round_trips() -> None:
    sample = samples.load(samples.SOFTWARE_OATH_GET_V1)
    disabled = replace(DEFAULT_POLICY.software_oath, state=MethodState.DISABLED)
    assert to_graph(apply_patch(disabled, sample, new_id=no_new_id)) == sample


def test_policy_update_sample_is_refused_as_not_supported() -> None:
    with pytest.raises(PolicyValidationError) as caught:
        apply_patch(DEFAULT_POLICY, samples.load(samples.POLICY_UPDATE_V1), new_id=no_new_id)
    assert (caught.value.code, caught.value.target) == (NOT_SUPPORTED, "registrationEnforcement")
    assert "isRegistrationRequired" in caught.value.message


def test_policy_get_shape_and_echo() -> None:
    got = to_graph(DEFAULT_POLICY)
    assert [c["id"] for c in got["authenticationMethodConfigurations"]] == ["Fido2", "SoftwareOath",
                                                                            "TemporaryAccessPass"]
    assert got["id"] == "authenticationMethodsPolicy"
    assert got["policyVersion"] == "1.5"
    json.dumps(got)
    # A GET body sent back unchanged is no change.
    assert apply_patch(DEFAULT_POLICY, got, new_id=no_new_id) == DEFAULT_POLICY
