"""Every refusal of a PATCH body names the offending property (JSON path) and, where there is one, the value."""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

import pytest

from passgate.core.policy.errors import (
    INVALID_PROPERTY,
    MISSING_PROPERTY,
    NOT_SUPPORTED,
    POLICY_RULE,
    READ_ONLY_PROPERTY,
    UNKNOWN_PROPERTY,
    PolicyValidationError,
)
from passgate.core.policy.graph import apply_patch
from passgate.core.policy.model import DEFAULT_POLICY, AuthenticationMethodsPolicy, MethodConfiguration
from tests.core.policy.helpers import (
    DEFAULT_ID,
    ENGINEERING,
    SECURITY_KEYS_ID,
    SYNCED_ID,
    THREE_PROFILES,
    YUBIKEY_5_NFC,
    id_factory,
)

FIDO2 = DEFAULT_POLICY.fido2
OATH = DEFAULT_POLICY.software_oath
TAP = DEFAULT_POLICY.temporary_access_pass
TAP_ONE_HOUR_MINIMUM = replace(TAP, minimum_lifetime_in_minutes=60, maximum_lifetime_in_minutes=480)
UNKNOWN_GUID = "11111111-2222-4333-8444-555555555555"


def _profile(name: str = "Keys", **extra: Any) -> dict[str, Any]:
    return {"name": name, "passkeyTypes": "deviceBound", **extra}


def _default(**extra: Any) -> dict[str, Any]:
    return {"id": DEFAULT_ID, **extra}


def _target(target_id: str = ENGINEERING, **extra: Any) -> dict[str, Any]:
    return {"id": target_id, "allowedPasskeyProfiles": [DEFAULT_ID], **extra}


# (current value, body, code, target, a piece of the message)
CASES: list[tuple[str, MethodConfiguration | AuthenticationMethodsPolicy, Any, str, str, str]] = [
    ("unknown property", FIDO2, {"colour": "blue", "size": 3}, UNKNOWN_PROPERTY, "colour", "'colour', 'size'"),
    ("body is not an object", FIDO2, ["state"], INVALID_PROPERTY, "", "object"),
    ("state not a member", FIDO2, {"state": "on"}, INVALID_PROPERTY, "state", '"on"'),
    ("state unknownFutureValue", FIDO2, {"state": "unknownFutureValue"}, INVALID_PROPERTY, "state", "'enabled'"),
    ("state wrong case", OATH, {"state": "Enabled"}, INVALID_PROPERTY, "state", '"Enabled"'),
    ("self-service not a boolean", FIDO2, {"isSelfServiceRegistrationAllowed": "yes"}, INVALID_PROPERTY,
     "isSelfServiceRegistrationAllowed", '"yes"'),
    ("legacy attestation as a string", FIDO2, {"isAttestationEnforced": "true"}, INVALID_PROPERTY,
     "isAttestationEnforced", '"true"'),
    ("legacy attestation null", FIDO2, {"isAttestationEnforced": None}, INVALID_PROPERTY, "isAttestationEnforced",
     "null"),
    ("wrong @odata.type", FIDO2, {"@odata.type": "#microsoft.graph.softwareOathAuthenticationMethodConfiguration"},
     INVALID_PROPERTY, "@odata.type", "fido2AuthenticationMethodConfiguration"),
    ("another method's id", FIDO2, {"id": "SoftwareOath"}, READ_ONLY_PROPERTY, "id", '"SoftwareOath"'),
    ("defaultPasskeyProfile changed", FIDO2, {"defaultPasskeyProfile": UNKNOWN_GUID}, READ_ONLY_PROPERTY,
     "defaultPasskeyProfile", UNKNOWN_GUID),
    ("legacy keyRestrictions not an object", FIDO2, {"keyRestrictions": "none"}, INVALID_PROPERTY, "keyRestrictions",
     '"none"'),
    ("legacy keyRestrictions unknown member", FIDO2, {"keyRestrictions": {"shade": 1}}, UNKNOWN_PROPERTY,
     "keyRestrictions.shade", "'shade'"),
    ("malformed AAGUID", FIDO2, {"keyRestrictions": {"aaGuids": ["not-a-guid"]}}, INVALID_PROPERTY,
     "keyRestrictions.aaGuids[0]", '"not-a-guid"'),
    ("AAGUID with braces", FIDO2, {"keyRestrictions": {"aaGuids": [YUBIKEY_5_NFC, "{" + YUBIKEY_5_NFC + "}"]}},
     INVALID_PROPERTY, "keyRestrictions.aaGuids[1]", YUBIKEY_5_NFC),
    ("aaGuids not an array", FIDO2, {"keyRestrictions": {"aaGuids": YUBIKEY_5_NFC}}, INVALID_PROPERTY,
     "keyRestrictions.aaGuids", YUBIKEY_5_NFC),
    ("enforcementType not a member", FIDO2, {"keyRestrictions": {"enforcementType": "deny"}}, INVALID_PROPERTY,
     "keyRestrictions.enforcementType", '"deny"'),
    ("enforced empty allow list", FIDO2, {"keyRestrictions": {"isEnforced": True}}, POLICY_RULE,
     "keyRestrictions.aaGuids", "at least one AAGUID"),
    ("includeTargets not an array", FIDO2, {"includeTargets": "all_users"}, INVALID_PROPERTY, "includeTargets",
     '"all_users"'),
    ("include target id not a group id", FIDO2, {"includeTargets": [_target("engineering")]}, INVALID_PROPERTY,
     "includeTargets[0].id", '"engineering"'),
    ("include target without id", FIDO2, {"includeTargets": [{"allowedPasskeyProfiles": [DEFAULT_ID]}]},
     MISSING_PROPERTY, "includeTargets[0].id", "id"),
    ("user target", FIDO2, {"includeTargets": [_target(targetType="user")]}, NOT_SUPPORTED,
     "includeTargets[0].targetType", "groups only"),
    ("unknown target type", FIDO2, {"includeTargets": [_target(targetType="device")]}, INVALID_PROPERTY,
     "includeTargets[0].targetType", '"device"'),
    ("isRegistrationRequired not a boolean", FIDO2, {"includeTargets": [_target(isRegistrationRequired=1)]},
     INVALID_PROPERTY, "includeTargets[0].isRegistrationRequired", "1"),
    ("include target member unknown", FIDO2, {"includeTargets": [_target(colour="red")]}, UNKNOWN_PROPERTY,
     "includeTargets[0].colour", "'colour'"),
    ("include target names no profile", FIDO2, {"includeTargets": [{"id": ENGINEERING}]}, POLICY_RULE,
     "includeTargets[0].allowedPasskeyProfiles", "Include conditions are missing passkey profile targets"),
    ("include target names an empty list", FIDO2, {"includeTargets": [_target(allowedPasskeyProfiles=[])]},
     POLICY_RULE, "includeTargets[0].allowedPasskeyProfiles", "Include conditions are missing passkey profile"),
    ("include target names an unknown profile", FIDO2,
     {"includeTargets": [_target(), _target("all_users", allowedPasskeyProfiles=[DEFAULT_ID, UNKNOWN_GUID])]},
     INVALID_PROPERTY, "includeTargets[1].allowedPasskeyProfiles[1]", UNKNOWN_GUID),
    ("include target names a malformed profile id", FIDO2,
     {"includeTargets": [_target(allowedPasskeyProfiles=["default"])]}, INVALID_PROPERTY,
     "includeTargets[0].allowedPasskeyProfiles[0]", '"default"'),
    ("include target listed twice", FIDO2,
     {"includeTargets": [_target(), _target(ENGINEERING.upper())]}, POLICY_RULE, "includeTargets[1]", ENGINEERING),
    ("wrong include target @odata.type", FIDO2,
     {"includeTargets": [_target(**{"@odata.type": "#microsoft.graph.excludeTarget"})]}, INVALID_PROPERTY,
     "includeTargets[0].@odata.type", "excludeTarget"),
    ("all_users excluded", FIDO2, {"excludeTargets": [{"id": "all_users", "targetType": "group"}]}, POLICY_RULE,
     "excludeTargets[0].id", "disabled"),
    ("exclude target id malformed", FIDO2, {"excludeTargets": [{"id": "contractors"}]}, INVALID_PROPERTY,
     "excludeTargets[0].id", '"contractors"'),
    ("exclude target without id", FIDO2, {"excludeTargets": [{"targetType": "group"}]}, MISSING_PROPERTY,
     "excludeTargets[0].id", "id"),
    ("exclude target listed twice", FIDO2, {"excludeTargets": [{"id": ENGINEERING}, {"id": ENGINEERING}]},
     POLICY_RULE, "excludeTargets[1]", ENGINEERING),
    ("default profile deleted", FIDO2, {"passkeyProfiles": []}, POLICY_RULE, "passkeyProfiles", "can't be deleted"),
    ("default profile left out", FIDO2, {"passkeyProfiles": [_profile()]}, POLICY_RULE, "passkeyProfiles",
     "can't be deleted"),
    ("four profiles", FIDO2, {"passkeyProfiles": [_default(), _profile("A"), _profile("B"), _profile("C")]},
     POLICY_RULE, "passkeyProfiles", "at most 3"),
    ("default profile renamed", FIDO2, {"passkeyProfiles": [_default(name="Everyone")]}, READ_ONLY_PROPERTY,
     "passkeyProfiles[0].name", "can't be renamed"),
    ("new profile without a name", FIDO2, {"passkeyProfiles": [_default(), {"passkeyTypes": "synced"}]},
     MISSING_PROPERTY, "passkeyProfiles[1].name", "name"),
    ("new profile without passkey types", FIDO2, {"passkeyProfiles": [_default(), {"name": "Keys"}]},
     MISSING_PROPERTY, "passkeyProfiles[1].passkeyTypes", "passkeyTypes"),
    ("passkey type not a member", FIDO2, {"passkeyProfiles": [_default(), _profile(passkeyTypes="cloud")]},
     INVALID_PROPERTY, "passkeyProfiles[1].passkeyTypes", '"cloud"'),
    ("passkey types empty", FIDO2, {"passkeyProfiles": [_default(passkeyTypes="")]}, INVALID_PROPERTY,
     "passkeyProfiles[0].passkeyTypes", '""'),
    ("passkey types unknownFutureValue", FIDO2,
     {"passkeyProfiles": [_default(passkeyTypes="deviceBound,unknownFutureValue")]}, INVALID_PROPERTY,
     "passkeyProfiles[0].passkeyTypes", "unknownFutureValue"),
    ("passkey types as an array", FIDO2, {"passkeyProfiles": [_default(passkeyTypes=["synced"])]}, INVALID_PROPERTY,
     "passkeyProfiles[0].passkeyTypes", '["synced"]'),
    ("attestation enforcement not a member", FIDO2,
     {"passkeyProfiles": [_default(), _profile(attestationEnforcement="always")]}, INVALID_PROPERTY,
     "passkeyProfiles[1].attestationEnforcement", '"always"'),
    ("unknown profile id", FIDO2, {"passkeyProfiles": [_default(), _profile(id=UNKNOWN_GUID)]}, INVALID_PROPERTY,
     "passkeyProfiles[1].id", "without an id"),
    ("malformed profile id", FIDO2, {"passkeyProfiles": [_default(), _profile(id="keys")]}, INVALID_PROPERTY,
     "passkeyProfiles[1].id", '"keys"'),
    ("profile listed twice", FIDO2, {"passkeyProfiles": [_default(), _default()]}, POLICY_RULE,
     "passkeyProfiles[1].id", "twice"),
    ("two profiles with one name", FIDO2,
     {"passkeyProfiles": [_default(), _profile("Keys"), _profile(" keys ")]}, POLICY_RULE, "passkeyProfiles[2].name",
     "'keys'"),
    ("new profile named like the default", FIDO2,
     {"passkeyProfiles": [_default(), _profile("DEFAULT passkey profile")]}, POLICY_RULE, "passkeyProfiles[1].name",
     "already called"),
    ("blank profile name", FIDO2, {"passkeyProfiles": [_default(), _profile("   ")]}, INVALID_PROPERTY,
     "passkeyProfiles[1].name", '"   "'),
    ("profile name too long", FIDO2, {"passkeyProfiles": [_default(), _profile("x" * 65)]}, INVALID_PROPERTY,
     "passkeyProfiles[1].name", "64"),
    ("profile name with a control character", FIDO2, {"passkeyProfiles": [_default(), _profile("a\x00b")]},
     INVALID_PROPERTY, "passkeyProfiles[1].name", "printable"),
    ("profile member unknown", FIDO2, {"passkeyProfiles": [_default(isDefault=True)]}, UNKNOWN_PROPERTY,
     "passkeyProfiles[0].isDefault", "'isDefault'"),
    ("profile not an object", FIDO2, {"passkeyProfiles": [_default(), "Keys"]}, INVALID_PROPERTY,
     "passkeyProfiles[1]", '"Keys"'),
    ("profile AAGUID malformed", FIDO2,
     {"passkeyProfiles": [_default(), _profile(keyRestrictions={"isEnforced": True, "enforcementType": "block",
                                                                "aaGuids": [YUBIKEY_5_NFC, "yubikey"]})]},
     INVALID_PROPERTY, "passkeyProfiles[1].keyRestrictions.aaGuids[1]", '"yubikey"'),
    ("profile enforced empty allow list", FIDO2,
     {"passkeyProfiles": [_default(keyRestrictions={"isEnforced": True, "aaGuids": []})]}, POLICY_RULE,
     "passkeyProfiles[0].keyRestrictions.aaGuids", "at least one AAGUID"),
    ("profile in use deleted", THREE_PROFILES, {"passkeyProfiles": [_default(), {"id": SYNCED_ID}]}, POLICY_RULE,
     "passkeyProfiles", "'Security keys only'"),
    ("profile in use deleted while its target stays", THREE_PROFILES,
     {"passkeyProfiles": [_default(), {"id": SYNCED_ID}],
      "includeTargets": [_target("all_users"), _target(allowedPasskeyProfiles=[SECURITY_KEYS_ID])]},
     POLICY_RULE, "passkeyProfiles", "remove it from the target first"),
    ("TAP lifetime too short", TAP, {"defaultLifetimeInMinutes": 5}, INVALID_PROPERTY, "defaultLifetimeInMinutes",
     "10 to 43200"),
    ("TAP lifetime too long", TAP, {"maximumLifetimeInMinutes": 50000}, INVALID_PROPERTY,
     "maximumLifetimeInMinutes", "50000"),
    ("TAP lifetime as a string", TAP, {"minimumLifetimeInMinutes": "10"}, INVALID_PROPERTY,
     "minimumLifetimeInMinutes", '"10"'),
    ("TAP lifetime as a float", TAP, {"defaultLifetimeInMinutes": 60.5}, INVALID_PROPERTY,
     "defaultLifetimeInMinutes", "60.5"),
    ("TAP lifetime as a boolean", TAP, {"defaultLifetimeInMinutes": True}, INVALID_PROPERTY,
     "defaultLifetimeInMinutes", "true"),
    ("TAP minimum above maximum", TAP, {"minimumLifetimeInMinutes": 500, "maximumLifetimeInMinutes": 100},
     INVALID_PROPERTY, "minimumLifetimeInMinutes", "500"),
    ("TAP maximum below the minimum", TAP_ONE_HOUR_MINIMUM, {"maximumLifetimeInMinutes": 30}, INVALID_PROPERTY,
     "maximumLifetimeInMinutes", "(30)"),
    ("TAP default outside the bounds", TAP, {"maximumLifetimeInMinutes": 30}, INVALID_PROPERTY,
     "defaultLifetimeInMinutes", "(60)"),
    ("TAP length too short", TAP, {"defaultLength": 7}, INVALID_PROPERTY, "defaultLength", "8 to 48"),
    ("TAP length too long", TAP, {"defaultLength": 49}, INVALID_PROPERTY, "defaultLength", "49"),
    ("TAP isUsableOnce as a string", TAP, {"isUsableOnce": "false"}, INVALID_PROPERTY, "isUsableOnce", '"false"'),
    ("TAP target with passkey profiles", TAP, {"includeTargets": [_target("all_users")]}, UNKNOWN_PROPERTY,
     "includeTargets[0].allowedPasskeyProfiles", "'allowedPasskeyProfiles'"),
    ("TAP has no passkey profiles", TAP, {"passkeyProfiles": []}, UNKNOWN_PROPERTY, "passkeyProfiles",
     "'passkeyProfiles'"),
    ("TAP id", TAP, {"id": "Tap"}, READ_ONLY_PROPERTY, "id", '"Tap"'),
    ("SoftwareOath has no TAP settings", OATH, {"defaultLength": 8}, UNKNOWN_PROPERTY, "defaultLength",
     "'defaultLength'"),
    ("SoftwareOath id", OATH, {"id": "Fido2"}, READ_ONLY_PROPERTY, "id", '"Fido2"'),
    ("SoftwareOath target id", OATH, {"includeTargets": [{"id": 42}]}, INVALID_PROPERTY, "includeTargets[0].id", "42"),
    ("SoftwareOath exclude user", OATH, {"excludeTargets": [{"id": ENGINEERING, "targetType": "user"}]},
     NOT_SUPPORTED, "excludeTargets[0].targetType", "groups only"),
    ("policy registration campaign", DEFAULT_POLICY, {"registrationEnforcement": {}}, NOT_SUPPORTED,
     "registrationEnforcement", "isRegistrationRequired"),
    ("policy beta setting", DEFAULT_POLICY, {"systemCredentialPreferences": {}}, NOT_SUPPORTED,
     "systemCredentialPreferences", "doesn't support"),
    ("policy display name", DEFAULT_POLICY, {"displayName": "Mine"}, READ_ONLY_PROPERTY, "displayName", "read-only"),
    ("policy version", DEFAULT_POLICY, {"policyVersion": "2.0"}, READ_ONLY_PROPERTY, "policyVersion", "read-only"),
    ("policy methods", DEFAULT_POLICY, {"authenticationMethodConfigurations": []}, READ_ONLY_PROPERTY,
     "authenticationMethodConfigurations", "authenticationMethodConfigurations/{id}"),
    ("policy unknown", DEFAULT_POLICY, {"passkeys": True}, UNKNOWN_PROPERTY, "passkeys", "'passkeys'"),
    ("policy @odata.type", DEFAULT_POLICY, {"@odata.type": "#microsoft.graph.policy"}, INVALID_PROPERTY,
     "@odata.type", "authenticationMethodsPolicy"),
]


@pytest.mark.parametrize(("current", "body", "code", "target", "snippet"), [case[1:] for case in CASES],
                         ids=[case[0] for case in CASES])
def test_refusal_names_the_property(current: Any, body: Any, code: str, target: str, snippet: str) -> None:
    with pytest.raises(PolicyValidationError) as caught:
        apply_patch(current, body, new_id=id_factory())
    error = caught.value
    assert (error.code, error.target) == (code, target), error.message
    assert snippet in error.message
    leaf = re.sub(r"\[\d+\]$", "", target).rsplit(".", maxsplit=1)[-1]
    assert leaf in error.message  # the message names the property, not only the target does
    assert str(error) == f"{code}: {error.message}"


def test_refused_body_consumes_no_profile_id() -> None:
    calls: list[str] = []

    def new_id() -> str:
        calls.append("called")
        return UNKNOWN_GUID

    with pytest.raises(PolicyValidationError):
        apply_patch(FIDO2, {"passkeyProfiles": [_default(), _profile("Keys")],
                            "includeTargets": [{"id": ENGINEERING}]}, new_id=new_id)
    assert calls == []


@pytest.mark.parametrize("bad", ["not-a-guid", DEFAULT_ID, 7])
def test_new_id_must_give_an_unused_guid(bad: Any) -> None:
    with pytest.raises(ValueError, match="new_id"):
        apply_patch(FIDO2, {"passkeyProfiles": [_default(), _profile("Keys")]}, new_id=lambda: bad)


def test_policy_validation_error_is_an_invalid_input() -> None:
    from passgate.core.errors import InvalidInput

    error = PolicyValidationError("x: bad", target="x")
    assert isinstance(error, InvalidInput)
    assert error.code == INVALID_PROPERTY
