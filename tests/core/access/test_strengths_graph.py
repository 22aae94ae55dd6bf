"""Graph JSON for authentication strengths: POST, PATCH, GET and stored documents, and every refusal."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pytest

from passgate.core.access.strengths import (
    MULTIFACTOR,
    MULTIFACTOR_ID,
    PHISHING_RESISTANT_MFA,
    AuthenticationStrength,
    fido2_configuration_id,
    strength_apply_patch,
    strength_from_document,
    strength_from_graph,
    strength_to_graph,
)
from passgate.core.policy.errors import (
    INVALID_PROPERTY,
    MISSING_PROPERTY,
    NOT_SUPPORTED,
    POLICY_RULE,
    READ_ONLY_PROPERTY,
    UNKNOWN_PROPERTY,
    PolicyValidationError,
)
from tests.core.access.helpers import (
    FEITIAN,
    LATER,
    NIL,
    NOW,
    STRENGTH_ID,
    YUBIKEY_5,
    contractor_keys,
    fido2_config,
    strength_body,
)

CONFIG_ID = fido2_configuration_id(STRENGTH_ID)


def _post(body: object) -> AuthenticationStrength:
    return strength_from_graph(body, id=STRENGTH_ID, now=NOW)


class TestPost:
    def test_a_new_custom_strength(self) -> None:
        strength = _post(strength_body(
            allowedCombinations=["fido2", "temporaryAccessPassOneTime, softwareOath"],
            combinationConfigurations=[fido2_config(YUBIKEY_5.upper(), FEITIAN)]))
        assert strength == AuthenticationStrength(
            id=STRENGTH_ID, display_name="Contractor keys", description="Security keys we hand out",
            policy_type="custom", requirements_satisfied="mfa",
            allowed_combinations=("fido2", "softwareOath,temporaryAccessPassOneTime"),
            combination_configurations=(
                replace(contractor_keys().combination_configurations[0], allowed_aaguids=(YUBIKEY_5, FEITIAN)),),
            created=NOW, modified=NOW)
        assert strength_to_graph(strength) == {
            "id": STRENGTH_ID, "createdDateTime": "2025-06-01T09:30:00Z", "modifiedDateTime": "2025-06-01T09:30:00Z",
            "displayName": "Contractor keys", "description": "Security keys we hand out", "policyType": "custom",
            "requirementsSatisfied": "mfa", "allowedCombinations": ["fido2", "softwareOath,temporaryAccessPassOneTime"],
            "combinationConfigurations": [{"@odata.type": "#microsoft.graph.fido2CombinationConfiguration",
                                           "id": CONFIG_ID, "appliesToCombinations": ["fido2"],
                                           "allowedAAGUIDs": [YUBIKEY_5, FEITIAN]}]}

    def test_an_app_code_alone_is_not_multi_factor(self) -> None:
        strength = _post(strength_body(allowedCombinations=["fido2", "softwareOath"]))
        assert strength.requirements_satisfied == "none"
        assert _post(strength_body(allowedCombinations=["temporaryAccessPassMultiUse"])).requirements_satisfied == "mfa"

    def test_description_may_be_null_or_absent(self) -> None:
        assert _post(strength_body(description=None)).description == ""
        body = strength_body()
        del body["description"]
        assert _post(body).description == ""

    def test_display_name_is_trimmed(self) -> None:
        assert _post(strength_body(displayName="  Keys  ")).display_name == "Keys"

    def test_read_only_values_are_accepted_when_they_repeat_what_passgate_sets(self) -> None:
        body = strength_body(id=STRENGTH_ID.upper(), policyType="custom", requirementsSatisfied="mfa",
                             createdDateTime="2025-06-01T11:30:00+02:00", modifiedDateTime="2025-06-01T09:30:00Z",
                             combinationConfigurations=[fido2_config(id=CONFIG_ID)])
        body["@odata.type"] = "#microsoft.graph.authenticationStrengthPolicy"
        body["@odata.context"] = "https://graph.microsoft.com/v1.0/$metadata#policies/authenticationStrengthPolicies"
        body["combinationConfigurations@odata.context"] = "..."
        assert _post(body).fido2_configuration is not None

    @pytest.mark.parametrize("odata_type", ["#microsoft.graph.fido2CombinationConfiguration",
                                            "microsoft.graph.fido2CombinationConfiguration",
                                            "fido2CombinationConfiguration", None])
    def test_configuration_type_spellings(self, odata_type: str | None) -> None:
        config = fido2_config()
        if odata_type is None:
            del config["@odata.type"]
        else:
            config["@odata.type"] = odata_type
        assert _post(strength_body(combinationConfigurations=[config])).fido2_configuration is not None

    def test_null_configurations_are_none(self) -> None:
        assert _post(strength_body(combinationConfigurations=None)).combination_configurations == ()

    def test_a_built_in_id_or_a_naive_now_is_a_caller_error(self) -> None:
        with pytest.raises(ValueError, match="built-in"):
            strength_from_graph(strength_body(), id=MULTIFACTOR_ID, now=NOW)
        with pytest.raises(ValueError, match="timezone-aware"):
            strength_from_graph(strength_body(), id=STRENGTH_ID, now=NOW.replace(tzinfo=None))

    def test_graph_json_is_json(self) -> None:
        assert json.loads(json.dumps(strength_to_graph(contractor_keys()))) == strength_to_graph(contractor_keys())


# (name, body, code, target, a piece of the message)
POST_CASES: list[tuple[str, Any, str, str, str]] = [
    ("body is not an object", ["fido2"], INVALID_PROPERTY, "", "object"),
    ("unknown property", strength_body(colour="blue"), UNKNOWN_PROPERTY, "colour", "'colour'"),
    ("wrong @odata.type", strength_body(**{"@odata.type": "#microsoft.graph.group"}), INVALID_PROPERTY,
     "@odata.type", "authenticationStrengthPolicy"),
    ("another id", strength_body(id=MULTIFACTOR_ID), READ_ONLY_PROPERTY, "id", "read-only"),
    ("built in", strength_body(policyType="builtIn"), READ_ONLY_PROPERTY, "policyType", "custom"),
    ("created earlier", strength_body(createdDateTime="2020-01-01T00:00:00Z"), READ_ONLY_PROPERTY, "createdDateTime",
     "read-only"),
    ("created nonsense", strength_body(createdDateTime="yesterday"), READ_ONLY_PROPERTY, "createdDateTime",
     "read-only"),
    ("modified earlier", strength_body(modifiedDateTime="2020-01-01T00:00:00Z"), READ_ONLY_PROPERTY,
     "modifiedDateTime", "read-only"),
    ("requirements differ", strength_body(requirementsSatisfied="none"), READ_ONLY_PROPERTY, "requirementsSatisfied",
     "'mfa'"),
    ("no displayName", {"allowedCombinations": ["fido2"]}, MISSING_PROPERTY, "displayName", "displayName"),
    ("empty displayName", strength_body(displayName=""), INVALID_PROPERTY, "displayName", "1 to 256"),
    ("blank displayName", strength_body(displayName="   "), INVALID_PROPERTY, "displayName", "1 to 256"),
    ("long displayName", strength_body(displayName="x" * 257), INVALID_PROPERTY, "displayName", "1 to 256"),
    ("displayName not a string", strength_body(displayName=7), INVALID_PROPERTY, "displayName", "7"),
    ("displayName with a control character", strength_body(displayName="a\nb"), INVALID_PROPERTY, "displayName",
     "printable"),
    ("description not a string", strength_body(description=["x"]), INVALID_PROPERTY, "description", "string"),
    ("no allowedCombinations", {"displayName": "Keys"}, MISSING_PROPERTY, "allowedCombinations", "allowedCombinations"),
    ("allowedCombinations a string", strength_body(allowedCombinations="fido2"), INVALID_PROPERTY,
     "allowedCombinations", "non-empty JSON array"),
    ("allowedCombinations empty", strength_body(allowedCombinations=[]), INVALID_PROPERTY, "allowedCombinations",
     "non-empty"),
    ("combination not a string", strength_body(allowedCombinations=["fido2", 2]), INVALID_PROPERTY,
     "allowedCombinations[1]", "separated by commas"),
    ("empty combination", strength_body(allowedCombinations=[""]), INVALID_PROPERTY, "allowedCombinations[0]",
     "separated by commas"),
    ("trailing comma", strength_body(allowedCombinations=["fido2,"]), INVALID_PROPERTY, "allowedCombinations[0]",
     "separated by commas"),
    ("unknown mode", strength_body(allowedCombinations=["fido3"]), INVALID_PROPERTY, "allowedCombinations[0]",
     "'fido3' is not an authentication method mode"),
    ("unknownFutureValue", strength_body(allowedCombinations=["unknownFutureValue"]), INVALID_PROPERTY,
     "allowedCombinations[0]", "'unknownFutureValue'"),
    ("mode in the wrong case", strength_body(allowedCombinations=["FIDO2"]), INVALID_PROPERTY,
     "allowedCombinations[0]", "'FIDO2'"),
    ("password", strength_body(allowedCombinations=["fido2", "password,softwareOath"]), NOT_SUPPORTED,
     "allowedCombinations[1]", "Passgate has no password;"),
    ("sms", strength_body(allowedCombinations=["sms"]), NOT_SUPPORTED, "allowedCombinations[0]",
     "Passgate has no text-message (SMS) codes (sms)"),
    ("Windows Hello", strength_body(allowedCombinations=["windowsHelloForBusiness"]), NOT_SUPPORTED,
     "allowedCombinations[0]", "Windows Hello for Business"),
    ("certificate", strength_body(allowedCombinations=["x509CertificateMultiFactor"]), NOT_SUPPORTED,
     "allowedCombinations[0]", "certificate-based authentication"),
    ("QR code", strength_body(allowedCombinations=["qrCodePin"]), NOT_SUPPORTED, "allowedCombinations[0]", "QR code"),
    ("mode twice in a combination", strength_body(allowedCombinations=["fido2,fido2"]), INVALID_PROPERTY,
     "allowedCombinations[0]", "appears twice"),
    ("combination twice", strength_body(allowedCombinations=["fido2", "fido2"]), POLICY_RULE,
     "allowedCombinations[1]", "listed twice"),
    ("combination twice in another order",
     strength_body(allowedCombinations=["softwareOath,temporaryAccessPassOneTime",
                                        "temporaryAccessPassOneTime, softwareOath"]),
     POLICY_RULE, "allowedCombinations[1]", "(as 'softwareOath,temporaryAccessPassOneTime')"),
    ("configurations not a list", strength_body(combinationConfigurations={}), INVALID_PROPERTY,
     "combinationConfigurations", "array"),
    ("two configurations", strength_body(combinationConfigurations=[fido2_config(), fido2_config(FEITIAN)]),
     POLICY_RULE, "combinationConfigurations[1]", "at most one"),
    ("configuration not an object", strength_body(combinationConfigurations=["fido2"]), INVALID_PROPERTY,
     "combinationConfigurations[0]", "object"),
    ("configuration unknown property", strength_body(combinationConfigurations=[fido2_config(colour="red")]),
     UNKNOWN_PROPERTY, "combinationConfigurations[0].colour", "'colour'"),
    ("certificate configuration", strength_body(combinationConfigurations=[
        {"@odata.type": "#microsoft.graph.x509CertificateCombinationConfiguration", "appliesToCombinations": ["fido2"],
         "allowedAAGUIDs": [YUBIKEY_5]}]),
     NOT_SUPPORTED, "combinationConfigurations[0].@odata.type", "fido2CombinationConfiguration"),
    ("configuration of another type", strength_body(combinationConfigurations=[
        fido2_config(**{"@odata.type": "#microsoft.graph.group"})]),
     INVALID_PROPERTY, "combinationConfigurations[0].@odata.type", "fido2CombinationConfiguration"),
    ("configuration id chosen by the caller", strength_body(combinationConfigurations=[fido2_config(id=YUBIKEY_5)]),
     READ_ONLY_PROPERTY, "combinationConfigurations[0].id", CONFIG_ID),
    ("configuration id not a string", strength_body(combinationConfigurations=[fido2_config(id=5)]),
     READ_ONLY_PROPERTY, "combinationConfigurations[0].id", "5"),
    ("no appliesToCombinations", strength_body(combinationConfigurations=[{"allowedAAGUIDs": [YUBIKEY_5]}]),
     MISSING_PROPERTY, "combinationConfigurations[0].appliesToCombinations", "appliesToCombinations"),
    ("applies to another combination", strength_body(combinationConfigurations=[
        fido2_config(appliesToCombinations=["softwareOath"])]),
     INVALID_PROPERTY, "combinationConfigurations[0].appliesToCombinations", "[\"fido2\"] only"),
    ("applies to two combinations", strength_body(combinationConfigurations=[
        fido2_config(appliesToCombinations=["fido2", "fido2"])]),
     INVALID_PROPERTY, "combinationConfigurations[0].appliesToCombinations", "[\"fido2\"] only"),
    ("no allowedAAGUIDs", strength_body(combinationConfigurations=[{"appliesToCombinations": ["fido2"]}]),
     MISSING_PROPERTY, "combinationConfigurations[0].allowedAAGUIDs", "allowedAAGUIDs"),
    ("empty allowedAAGUIDs", strength_body(combinationConfigurations=[fido2_config(allowedAAGUIDs=[])]),
     INVALID_PROPERTY, "combinationConfigurations[0].allowedAAGUIDs", "non-empty"),
    ("allowedAAGUIDs a string", strength_body(combinationConfigurations=[fido2_config(allowedAAGUIDs=YUBIKEY_5)]),
     INVALID_PROPERTY, "combinationConfigurations[0].allowedAAGUIDs", "non-empty"),
    ("AAGUID not a GUID", strength_body(combinationConfigurations=[fido2_config(YUBIKEY_5, "yubikey")]),
     INVALID_PROPERTY, "combinationConfigurations[0].allowedAAGUIDs[1]", "\"yubikey\""),
    ("AAGUID not a string", strength_body(combinationConfigurations=[fido2_config(allowedAAGUIDs=[1])]),
     INVALID_PROPERTY, "combinationConfigurations[0].allowedAAGUIDs[0]", "GUID"),
    ("all-zero AAGUID", strength_body(combinationConfigurations=[fido2_config(NIL)]), POLICY_RULE,
     "combinationConfigurations[0].allowedAAGUIDs[0]", "all-zero"),
    ("AAGUID twice", strength_body(combinationConfigurations=[fido2_config(YUBIKEY_5, YUBIKEY_5.upper())]),
     POLICY_RULE, "combinationConfigurations[0].allowedAAGUIDs[1]", "listed twice"),
    ("configuration without the fido2 combination", strength_body(
        allowedCombinations=["softwareOath,fido2"], combinationConfigurations=[fido2_config()]),
     POLICY_RULE, "combinationConfigurations[0].appliesToCombinations", "'fido2' in allowedCombinations"),
]


@pytest.mark.parametrize(("body", "code", "target", "piece"), [c[1:] for c in POST_CASES],
                         ids=[c[0] for c in POST_CASES])
def test_post_refuses(body: Any, code: str, target: str, piece: str) -> None:
    with pytest.raises(PolicyValidationError) as caught:
        _post(body)
    assert (caught.value.code, caught.value.target) == (code, target)
    assert piece in caught.value.message


class TestPatch:
    def test_a_property_left_out_keeps_its_value(self) -> None:
        before = contractor_keys()
        after = strength_apply_patch(before, {"displayName": "Hardware keys"}, now=LATER)
        assert after == replace(before, display_name="Hardware keys", modified=LATER)
        assert after.created == NOW

    def test_an_empty_body_changes_only_the_time(self) -> None:
        before = contractor_keys()
        assert strength_apply_patch(before, {}, now=LATER) == replace(before, modified=LATER)

    def test_combinations_replace_and_requirements_follow(self) -> None:
        after = strength_apply_patch(_post(strength_body()), {"allowedCombinations": ["softwareOath", "fido2"]},
                                     now=LATER)
        assert (after.allowed_combinations, after.requirements_satisfied) == (("softwareOath", "fido2"), "none")

    def test_configurations_replace_the_collection(self) -> None:
        before = contractor_keys()
        after = strength_apply_patch(before, {"combinationConfigurations": [fido2_config(FEITIAN, id=CONFIG_ID)]},
                                     now=LATER)
        assert after.fido2_configuration == replace(before.fido2_configuration, allowed_aaguids=(FEITIAN,))
        removed = strength_apply_patch(before, {"combinationConfigurations": [], "allowedCombinations": ["fido2"]},
                                       now=LATER)
        assert removed.combination_configurations == ()

    def test_a_stored_configuration_keeps_its_id(self) -> None:
        stored = "7d0c2f7e-8a8e-4b8e-9d55-5a4c8f1a2b3c"
        before = replace(contractor_keys(), combination_configurations=(
            replace(contractor_keys().combination_configurations[0], id=stored),))
        after = strength_apply_patch(before, {"combinationConfigurations": [fido2_config(id=stored)]}, now=LATER)
        assert after.fido2_configuration is not None
        assert after.fido2_configuration.id == stored
        again = strength_apply_patch(before, {"combinationConfigurations": [fido2_config()]}, now=LATER)
        assert again.fido2_configuration is not None
        assert again.fido2_configuration.id == stored

    def test_a_get_body_without_its_read_only_properties_is_no_change(self) -> None:
        before = contractor_keys()
        body = {k: v for k, v in strength_to_graph(before).items()
                if k not in ("id", "policyType", "requirementsSatisfied", "createdDateTime", "modifiedDateTime")}
        assert strength_apply_patch(before, body, now=LATER) == replace(before, modified=LATER)


PATCH_CASES: list[tuple[str, AuthenticationStrength, Any, str, str, str]] = [
    ("built-in", MULTIFACTOR, {"displayName": "Mine"}, POLICY_RULE, "",
     "Built-in authentication strengths cannot be changed"),
    ("built-in, empty body", PHISHING_RESISTANT_MFA, {}, POLICY_RULE, "", "cannot be changed"),
    ("not an object", contractor_keys(), None, INVALID_PROPERTY, "", "object"),
    ("unknown property", contractor_keys(), {"state": "enabled"}, UNKNOWN_PROPERTY, "state", "'state'"),
    ("id, even the same", contractor_keys(), {"id": STRENGTH_ID}, READ_ONLY_PROPERTY, "id", "read-only"),
    ("policyType", contractor_keys(), {"policyType": "custom"}, READ_ONLY_PROPERTY, "policyType", "read-only"),
    ("requirementsSatisfied", contractor_keys(), {"requirementsSatisfied": "mfa"}, READ_ONLY_PROPERTY,
     "requirementsSatisfied", "read-only"),
    ("createdDateTime", contractor_keys(), {"createdDateTime": "2025-06-01T09:30:00Z"}, READ_ONLY_PROPERTY,
     "createdDateTime", "read-only"),
    ("modifiedDateTime", contractor_keys(), {"modifiedDateTime": None}, READ_ONLY_PROPERTY, "modifiedDateTime",
     "read-only"),
    ("displayName null", contractor_keys(), {"displayName": None}, INVALID_PROPERTY, "displayName", "null"),
    ("fido2 removed under a configuration", contractor_keys(), {"allowedCombinations": ["temporaryAccessPassOneTime"]},
     POLICY_RULE, "allowedCombinations", "remove the configuration"),
    ("combination Passgate lacks", contractor_keys(), {"allowedCombinations": ["email"]}, NOT_SUPPORTED,
     "allowedCombinations[0]", "email one-time passcodes"),
    ("foreign configuration id", contractor_keys(), {"combinationConfigurations": [fido2_config(id=FEITIAN)]},
     READ_ONLY_PROPERTY, "combinationConfigurations[0].id", "can't be set"),
]


@pytest.mark.parametrize(("current", "body", "code", "target", "piece"), [c[1:] for c in PATCH_CASES],
                         ids=[c[0] for c in PATCH_CASES])
def test_patch_refuses(current: AuthenticationStrength, body: Any, code: str, target: str, piece: str) -> None:
    with pytest.raises(PolicyValidationError) as caught:
        strength_apply_patch(current, body, now=LATER)
    assert (caught.value.code, caught.value.target) == (code, target)
    assert piece in caught.value.message


def test_patch_needs_an_aware_now() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        strength_apply_patch(contractor_keys(), {}, now=LATER.replace(tzinfo=None))


class TestDocuments:
    def test_round_trip(self) -> None:
        strength = replace(contractor_keys(), modified=LATER)
        assert strength_from_document(strength_to_graph(strength)) == strength

    def test_a_built_in_id_reads_as_the_built_in(self) -> None:
        assert strength_from_document({"id": MULTIFACTOR_ID.upper()}) is MULTIFACTOR

    def test_a_stored_configuration_id_is_kept(self) -> None:
        document = strength_to_graph(contractor_keys())
        document["combinationConfigurations"][0]["id"] = "7D0C2F7E-8A8E-4B8E-9D55-5A4C8F1A2B3C"
        config = strength_from_document(document).fido2_configuration
        assert config is not None
        assert config.id == "7d0c2f7e-8a8e-4b8e-9d55-5a4c8f1a2b3c"

    @pytest.mark.parametrize(("document", "code", "target"), [
        ([], INVALID_PROPERTY, ""),
        ({"displayName": "x", "allowedCombinations": ["fido2"]}, MISSING_PROPERTY, "id"),
        ({"id": STRENGTH_ID, "policyType": "builtIn", "displayName": "x", "allowedCombinations": ["fido2"]},
         INVALID_PROPERTY, "policyType"),
        ({"id": STRENGTH_ID, "displayName": "x", "allowedCombinations": ["fido2"], "createdDateTime": "2025-06-01"},
         INVALID_PROPERTY, "createdDateTime"),
        ({"id": STRENGTH_ID, "displayName": "x", "allowedCombinations": ["fido2"], "modifiedDateTime": 5},
         INVALID_PROPERTY, "modifiedDateTime"),
    ])
    def test_refuses(self, document: Any, code: str, target: str) -> None:
        with pytest.raises(PolicyValidationError) as caught:
            strength_from_document(document)
        assert (caught.value.code, caught.value.target) == (code, target)
