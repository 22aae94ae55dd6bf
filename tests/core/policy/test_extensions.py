"""Passgate's policy extensions, as OData annotations a plain Graph client ignores:

- ``@passgate.metadataRules`` on a passkey profile: accept attested models by their FIDO metadata
  (certification level, hardware key protection), checked when a passkey is added;
- ``@passgate.refuseFlaggedModelsAtSignIn`` on the Fido2 configuration: the tenant's switch to refuse passkeys
  whose model a later metadata BLOB marked revoked or compromised.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from passgate.core.policy.diff import changed_settings
from passgate.core.policy.errors import INVALID_PROPERTY, POLICY_RULE, UNKNOWN_PROPERTY, PolicyValidationError
from passgate.core.policy.evaluate import (
    PasskeyFacts,
    Phase,
    PolicyReason,
    UserFacts,
    evaluate_passkey,
    hardware_protected,
)
from passgate.core.policy.graph import METADATA_RULES, REFUSE_FLAGGED, apply_patch, policy_from_document, to_graph
from passgate.core.policy.model import (
    DEFAULT_POLICY,
    NO_METADATA_RULES,
    AttestationEnforcement,
    MetadataRules,
    PasskeyProfile,
)
from passgate.core.trust.mds import CertificationLevel
from tests.core.policy.helpers import SECURITY_KEYS, SECURITY_KEYS_ID, YUBIKEY_5_NFC, fido2, id_factory, no_new_id

RULED = replace(SECURITY_KEYS,
                metadata_rules=MetadataRules(CertificationLevel.L2, require_hardware_key_protection=True))
CONFIG = fido2(profiles=(*fido2().passkey_profiles, RULED))
EXPECTED_RULES = {"minimumCertificationLevel": "L2", "requireHardwareKeyProtection": True}


def profile_json(config: Any, profile_id: str) -> dict[str, Any]:
    return next(p for p in to_graph(config)["passkeyProfiles"] if p["id"] == profile_id)


def refused(body: dict[str, Any], config: Any = CONFIG) -> PolicyValidationError:
    with pytest.raises(PolicyValidationError) as err:
        apply_patch(config, body, new_id=no_new_id)
    return err.value


# --- Graph JSON --------------------------------------------------------------------------------------------------

def test_rules_appear_as_an_annotation_only_on_a_profile_that_has_them() -> None:
    assert profile_json(CONFIG, SECURITY_KEYS_ID)[METADATA_RULES] == EXPECTED_RULES
    assert all(METADATA_RULES not in p for p in to_graph(fido2())["passkeyProfiles"])
    assert REFUSE_FLAGGED not in to_graph(CONFIG)
    assert to_graph(replace(CONFIG, refuse_flagged_models_at_sign_in=True))[REFUSE_FLAGGED] is True


def test_a_stored_document_round_trips_both_extensions() -> None:
    policy = replace(DEFAULT_POLICY, fido2=replace(CONFIG, refuse_flagged_models_at_sign_in=True))
    assert policy_from_document(to_graph(policy)) == policy


def test_patch_sets_changes_and_clears_rules() -> None:
    base = fido2(profiles=(*fido2().passkey_profiles, SECURITY_KEYS))
    profiles = to_graph(base)["passkeyProfiles"]
    profiles[1][METADATA_RULES] = {"minimumCertificationLevel": "L1plus"}
    patched = apply_patch(base, {"passkeyProfiles": profiles}, new_id=no_new_id)
    rules = patched.profile(SECURITY_KEYS_ID).metadata_rules  # type: ignore[union-attr]
    assert rules == MetadataRules(CertificationLevel.L1PLUS, require_hardware_key_protection=False)
    # A property left out keeps its value; null clears the rule; a profile without the annotation keeps its rules.
    profiles[1][METADATA_RULES] = {"requireHardwareKeyProtection": True}
    patched = apply_patch(patched, {"passkeyProfiles": profiles}, new_id=no_new_id)
    assert patched.profile(SECURITY_KEYS_ID).metadata_rules == MetadataRules(  # type: ignore[union-attr]
        CertificationLevel.L1PLUS, True)
    del profiles[1][METADATA_RULES]
    assert apply_patch(patched, {"passkeyProfiles": profiles}, new_id=no_new_id) == patched
    profiles[1][METADATA_RULES] = None
    cleared = apply_patch(patched, {"passkeyProfiles": profiles}, new_id=no_new_id)
    assert cleared.profile(SECURITY_KEYS_ID).metadata_rules == NO_METADATA_RULES  # type: ignore[union-attr]


def test_a_new_profile_may_come_with_rules() -> None:
    new = {"name": "Certified keys", "passkeyTypes": "deviceBound", "attestationEnforcement": "registrationOnly",
           METADATA_RULES: {"minimumCertificationLevel": "L3"}}
    body = {"passkeyProfiles": [*to_graph(fido2())["passkeyProfiles"], new]}
    patched = apply_patch(fido2(), body, new_id=id_factory("11111111-2222-4333-8444-555555555555"))
    profile = patched.profile("11111111-2222-4333-8444-555555555555")
    assert profile is not None and profile.metadata_rules.minimum_certification_level is CertificationLevel.L3


def test_the_switch_is_a_boolean_and_a_setting_change() -> None:
    on = apply_patch(CONFIG, {REFUSE_FLAGGED: True}, new_id=no_new_id)
    assert on.refuse_flagged_models_at_sign_in
    assert [c.to_json() for c in changed_settings(CONFIG, on)] == [
        {"path": f"fido2.{REFUSE_FLAGGED}", "old": None, "new": True}]
    assert apply_patch(on, {}, new_id=no_new_id).refuse_flagged_models_at_sign_in  # absent: unchanged
    error = refused({REFUSE_FLAGGED: "true"})
    assert (error.target, error.code) == (REFUSE_FLAGGED, INVALID_PROPERTY)


@pytest.mark.parametrize(("rules", "target", "code"), [
    ({"minimumCertificationLevel": "L4"}, "minimumCertificationLevel", INVALID_PROPERTY),
    ({"minimumCertificationLevel": "FIDO_CERTIFIED_L2"}, "minimumCertificationLevel", INVALID_PROPERTY),
    ({"minimumCertificationLevel": 2}, "minimumCertificationLevel", INVALID_PROPERTY),
    ({"requireHardwareKeyProtection": "yes"}, "requireHardwareKeyProtection", INVALID_PROPERTY),
    ({"keyProtection": ["hardware"]}, "keyProtection", UNKNOWN_PROPERTY),
    ([], "", INVALID_PROPERTY),
    ("L2", "", INVALID_PROPERTY),
])
def test_malformed_rules_are_refused_naming_the_property(rules: object, target: str, code: str) -> None:
    profiles = to_graph(CONFIG)["passkeyProfiles"]
    profiles[1][METADATA_RULES] = rules
    error = refused({"passkeyProfiles": profiles})
    where = f"passkeyProfiles[1].{METADATA_RULES}"
    assert (error.target, error.code) == (f"{where}.{target}" if target else where, code)
    assert apply_patch(CONFIG, {}, new_id=no_new_id) == CONFIG


def test_rules_need_attestation_whichever_way_it_is_turned_off() -> None:
    profiles = to_graph(CONFIG)["passkeyProfiles"]
    profiles[1]["attestationEnforcement"] = "disabled"
    error = refused({"passkeyProfiles": profiles})
    assert (error.target, error.code) == ("passkeyProfiles[1].attestationEnforcement", POLICY_RULE)
    assert "only claimed" in error.message
    profiles[1]["attestationEnforcement"] = "registrationOnly"
    profiles[0][METADATA_RULES] = {"minimumCertificationLevel": "L1"}  # the default profile doesn't enforce it
    error = refused({"passkeyProfiles": profiles})
    assert (error.target, error.code) == (f"passkeyProfiles[0].{METADATA_RULES}", POLICY_RULE)
    with pytest.raises(PolicyValidationError, match="only claimed"):
        PasskeyProfile(id=SECURITY_KEYS_ID, name="x", metadata_rules=MetadataRules(CertificationLevel.L1))
    # The deprecated mirror can't turn off attestation under the default profile's rules either.
    default_ruled = fido2(profiles=(replace(fido2().passkey_profiles[0],
                                            attestation_enforcement=AttestationEnforcement.REGISTRATION_ONLY,
                                            metadata_rules=MetadataRules(CertificationLevel.L1)),))
    with pytest.raises(PolicyValidationError, match="only claimed"):
        apply_patch(default_ruled, {"isAttestationEnforced": False}, new_id=no_new_id)


# --- evaluation --------------------------------------------------------------------------------------------------

def facts(level: CertificationLevel | None = CertificationLevel.L2, protection: tuple[str, ...] = ("hardware",),
          *, attested: bool = True) -> PasskeyFacts:
    return PasskeyFacts(aaguid=YUBIKEY_5_NFC, backup_eligible=False, attestation_verified=attested,
                        certification_level=level, key_protection=protection, model="YubiKey 5 NFC")


ONLY_RULED = fido2(profiles=(*fido2().passkey_profiles, RULED),
                   include=None)
ONLY_RULED = replace(ONLY_RULED, include_targets=(replace(ONLY_RULED.include_targets[0],
                                                          allowed_passkey_profiles=(SECURITY_KEYS_ID,)),))


def decide(passkey: PasskeyFacts, phase: Phase = Phase.REGISTRATION) -> Any:
    return evaluate_passkey(ONLY_RULED, UserFacts(), passkey, phase)


def test_a_model_meeting_the_rules_is_admitted() -> None:
    assert decide(facts()).allowed
    assert decide(facts(CertificationLevel.L3PLUS, ("hardware", "secure_element"))).allowed


@pytest.mark.parametrize(("passkey", "words"), [
    (facts(CertificationLevel.L1PLUS), "certified at level L1+"),
    (facts(None), "isn't FIDO certified"),
    (facts(protection=("software",)), "doesn't declare hardware key protection"),
    (facts(protection=("hardware", "software")), "doesn't declare hardware key protection"),
    (facts(protection=()), "doesn't declare hardware key protection"),
])
def test_a_model_failing_a_rule_is_refused_with_the_rule_named(passkey: PasskeyFacts, words: str) -> None:
    decision = decide(passkey)
    assert not decision.allowed and decision.reason is PolicyReason.METADATA_RULE_NOT_MET
    assert words in decision.message and "YubiKey 5 NFC" in decision.message


def test_an_unattested_passkey_is_refused_for_attestation_first() -> None:
    assert decide(facts(attested=False)).reason is PolicyReason.ATTESTATION_REQUIRED


def test_rules_apply_when_a_passkey_is_added_not_at_sign_in() -> None:
    assert decide(facts(None, ()), Phase.SIGN_IN).allowed


@given(st.lists(st.sampled_from(["software", "hardware", "tee", "secure_element", "remote_handle", "HARDWARE"]),
                max_size=4))
def test_hardware_protection_means_some_hardware_and_no_software(values: list[str]) -> None:
    lowered = {v.lower() for v in values}
    assert hardware_protected(values) == (bool(lowered & {"hardware", "tee", "secure_element"})
                                          and "software" not in lowered)
