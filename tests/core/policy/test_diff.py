"""changed_settings: only what changed, old and new, addressed by id."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from passgate.core.policy.diff import Change, changed_settings
from passgate.core.policy.graph import apply_method_patch, apply_patch
from passgate.core.policy.model import DEFAULT_POLICY, Fido2Configuration, MethodState, default_policy
from tests.core.policy import samples
from tests.core.policy.helpers import (
    DEFAULT_ID,
    ENGINEERING,
    SECURITY_KEYS_ID,
    SYNCED_ID,
    THREE_PROFILES,
    id_factory,
    no_new_id,
)
from tests.core.policy.strategies import fido2_configurations, software_oath_configurations, tap_configurations


def test_keyrestrictions_change_is_one_row_under_the_default_profile() -> None:
    after = apply_method_patch(DEFAULT_POLICY, "fido2", samples.load(samples.AUTHENTICATOR_ONLY), new_id=no_new_id)
    assert changed_settings(DEFAULT_POLICY, after) == [
        Change(f"fido2.passkeyProfiles[{DEFAULT_ID}].keyRestrictions.isEnforced", False, True),
        Change(f"fido2.passkeyProfiles[{DEFAULT_ID}].keyRestrictions.aaGuids", [],
               [samples.MS_AUTHENTICATOR_IOS, samples.MS_AUTHENTICATOR_ANDROID]),
    ]


def test_added_and_removed_members_are_whole_objects() -> None:
    new = "aaaaaaaa-0000-4000-8000-000000000001"
    after = apply_patch(THREE_PROFILES, {
        "passkeyProfiles": [{"id": DEFAULT_ID}, {"id": SECURITY_KEYS_ID},
                            {"name": "Phones", "passkeyTypes": "synced"}],
        "includeTargets": [{"id": "all_users", "allowedPasskeyProfiles": [DEFAULT_ID, SECURITY_KEYS_ID]}],
        "excludeTargets": [],
    }, new_id=id_factory(new))
    changes = changed_settings(THREE_PROFILES, after)
    assert [c.path for c in changes] == [
        "fido2.includeTargets[all_users].allowedPasskeyProfiles",
        f"fido2.includeTargets[{ENGINEERING}]",
        "fido2.excludeTargets[dad4ae4a-730c-4e52-826c-0d9094971f04]",
        f"fido2.passkeyProfiles[{new}]",
        f"fido2.passkeyProfiles[{SYNCED_ID}]",
    ]
    assert changes[0] == Change("fido2.includeTargets[all_users].allowedPasskeyProfiles", [DEFAULT_ID],
                                [DEFAULT_ID, SECURITY_KEYS_ID])
    assert changes[1].new is None and changes[1].old["allowedPasskeyProfiles"] == [SECURITY_KEYS_ID, SYNCED_ID]
    assert changes[3].old is None and changes[3].new == {
        "id": new, "name": "Phones", "passkeyTypes": "synced", "attestationEnforcement": "disabled",
        "keyRestrictions": {"isEnforced": False, "enforcementType": "allow", "aaGuids": []}}
    rows = [c.to_json() for c in changes]
    assert rows[0] == {"path": "fido2.includeTargets[all_users].allowedPasskeyProfiles", "old": [DEFAULT_ID],
                       "new": [DEFAULT_ID, SECURITY_KEYS_ID]}
    assert json.loads(json.dumps(rows)) == rows  # fit for an audit row


def test_reordering_is_reported_once_as_the_order() -> None:
    reordered = replace(THREE_PROFILES, passkey_profiles=tuple(reversed(THREE_PROFILES.passkey_profiles)))
    assert changed_settings(THREE_PROFILES, reordered) == [
        Change("fido2.passkeyProfiles", [DEFAULT_ID, SECURITY_KEYS_ID, SYNCED_ID],
               [SYNCED_ID, SECURITY_KEYS_ID, DEFAULT_ID])]


def test_scalar_settings_of_every_method() -> None:
    after = apply_method_patch(DEFAULT_POLICY, "temporaryAccessPass", {"isUsableOnce": True, "defaultLength": 8},
                               new_id=no_new_id)
    after = apply_method_patch(after, "softwareOath", {"state": "disabled"}, new_id=no_new_id)
    assert changed_settings(DEFAULT_POLICY, after) == [
        Change("softwareOath.state", "enabled", "disabled"),
        Change("temporaryAccessPass.defaultLength", 16, 8),
        Change("temporaryAccessPass.isUsableOnce", False, True),
    ]


def test_legacy_mirror_and_metadata_are_not_settings() -> None:
    stamped = default_policy(policy_version="2", last_modified_date_time=datetime(2026, 1, 1, tzinfo=UTC))
    assert changed_settings(DEFAULT_POLICY, stamped) == []
    after = apply_patch(DEFAULT_POLICY.fido2, {"isAttestationEnforced": True}, new_id=no_new_id)
    assert changed_settings(DEFAULT_POLICY.fido2, after) == [
        Change(f"fido2.passkeyProfiles[{DEFAULT_ID}].attestationEnforcement", "disabled", "registrationOnly")]


def test_comparing_different_kinds_is_a_programming_error() -> None:
    with pytest.raises(TypeError):
        changed_settings(DEFAULT_POLICY.fido2, DEFAULT_POLICY.software_oath)


@st.composite
def fido2_pairs(draw: st.DrawFn) -> tuple[Fido2Configuration, Fido2Configuration]:
    """Two configurations: independent, identical, or one small change apart (which may be no change)."""
    a = draw(fido2_configurations())
    how = draw(st.sampled_from(["independent", "same", "state", "self-service", "reorder-profiles",
                                "reorder-targets", "restrictions"]))
    if how == "independent":
        b = draw(fido2_configurations())
    elif how == "same":
        b = replace(a)
    elif how == "state":
        b = replace(a, state=draw(st.sampled_from(MethodState)))
    elif how == "self-service":
        b = replace(a, is_self_service_registration_allowed=draw(st.booleans()))
    elif how == "reorder-profiles":
        b = replace(a, passkey_profiles=tuple(draw(st.permutations(a.passkey_profiles))))
    elif how == "reorder-targets":
        b = replace(a, include_targets=tuple(draw(st.permutations(a.include_targets))))
    else:
        victim = draw(st.sampled_from(a.passkey_profiles))
        aaguids = tuple(draw(st.permutations(victim.key_restrictions.aa_guids)))
        changed = replace(victim, key_restrictions=replace(victim.key_restrictions, aa_guids=aaguids))
        b = replace(a, passkey_profiles=tuple(changed if p.id == victim.id else p for p in a.passkey_profiles))
    return a, b


@settings(max_examples=100, deadline=None)
@given(fido2_configurations())
def test_no_change_against_itself(config: Fido2Configuration) -> None:
    assert changed_settings(config, config) == []


@settings(max_examples=200, deadline=None)
@given(fido2_pairs())
def test_changes_are_empty_exactly_when_equal(pair: tuple[Fido2Configuration, Fido2Configuration]) -> None:
    a, b = pair
    assert (changed_settings(a, b) == []) == (a == b)
    assert (changed_settings(b, a) == []) == (a == b)


@settings(max_examples=100, deadline=None)
@given(software_oath_configurations, software_oath_configurations, tap_configurations(), tap_configurations())
def test_changes_are_empty_exactly_when_equal_for_the_other_methods(oath_a: object, oath_b: object,
                                                                    tap_a: object, tap_b: object) -> None:
    for a, b in ((oath_a, oath_b), (tap_a, tap_b), (oath_a, oath_a), (tap_b, tap_b)):
        assert (changed_settings(a, b) == []) == (a == b)  # type: ignore[arg-type]
