"""A strength's sub-resources as Graph serves them (issue 12 item 3): combinationConfigurations (list, create, get,
update, delete), updateAllowedCombinations, and usage() as the SDK calls it; at both of Graph's paths."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from passgate.audit.models import AuditEvent
from tests.graph.test_access import CA, STRENGTHS, WRITE, ca_body, error_of

YUBIKEY = "cb69481e-8ff7-4039-93ec-0a2729a154a8"
FEITIAN = "ee882879-721c-4913-9775-3dfcce97072a"
ALIAS = "/v1.0/identity/conditionalAccess/authenticationStrength/policies"


def fido2_config(*aaguids: str) -> dict[str, Any]:
    return {"@odata.type": "#microsoft.graph.fido2CombinationConfiguration", "allowedAAGUIDs": list(aaguids),
            "appliesToCombinations": ["fido2"]}


@pytest.fixture
def strength(app_api: Any) -> tuple[Any, str]:
    api = app_api(WRITE)
    made = api.post(STRENGTHS, {"displayName": "Keys", "allowedCombinations": ["fido2"]})
    assert made.status_code == 201, made.content
    return api, made.json()["id"]


@pytest.mark.parametrize("base", [STRENGTHS, ALIAS])
def test_a_fido2_configuration_is_created_read_changed_and_deleted(strength: Any, base: str) -> None:
    api, strength_id = strength
    configurations = f"{base}/{strength_id}/combinationConfigurations"
    assert api.get(configurations).json()["value"] == []
    created = api.post(configurations, fido2_config(YUBIKEY))
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["@odata.context"].endswith(f"('{strength_id}')/combinationConfigurations/$entity")
    config_id = body["id"]
    assert body["allowedAAGUIDs"] == [YUBIKEY] and body["appliesToCombinations"] == ["fido2"]
    assert api.get(f"{base}/{strength_id}").json()["combinationConfigurations"][0]["id"] == config_id
    assert api.get(f"{configurations}/{config_id}").json()["allowedAAGUIDs"] == [YUBIKEY]

    assert api.patch(f"{configurations}/{config_id}", {"allowedAAGUIDs": [YUBIKEY, FEITIAN]}).status_code == 204
    assert api.get(f"{configurations}/{config_id}").json()["allowedAAGUIDs"] == [YUBIKEY, FEITIAN]
    assert [c["id"] for c in api.get(configurations).json()["value"]] == [config_id]

    assert api.delete(f"{configurations}/{config_id}").status_code == 204
    assert api.get(configurations).json()["value"] == []
    assert error_of(api.get(f"{configurations}/{config_id}"))[:2] == (404, "Request_ResourceNotFound")
    assert AuditEvent.objects.filter(activity="authenticationStrengthPolicy.update", result="success").count() == 3


def test_a_second_configuration_and_bad_ones_are_refused_and_change_nothing(strength: Any) -> None:
    api, strength_id = strength
    configurations = f"{STRENGTHS}/{strength_id}/combinationConfigurations"
    assert api.post(configurations, fido2_config(YUBIKEY)).status_code == 201
    before = api.get(f"{STRENGTHS}/{strength_id}").json()
    for body in (fido2_config(FEITIAN), fido2_config(), fido2_config("not-a-guid"),
                 {**fido2_config(YUBIKEY), "appliesToCombinations": ["softwareOath"]}):
        refused = api.post(configurations, body)
        assert refused.status_code == 400, (body, refused.content)
    config_id = api.get(configurations).json()["value"][0]["id"]
    assert api.patch(f"{configurations}/{config_id}", {"allowedAAGUIDs": []}).status_code == 400
    assert api.patch(f"{configurations}/{config_id}", {"colour": "blue"}).status_code == 400
    assert api.get(f"{STRENGTHS}/{strength_id}").json() == before
    assert AuditEvent.objects.filter(activity="authenticationStrengthPolicy.update", result="failure").count() >= 6


def test_a_configuration_needs_fido2_among_the_strengths_combinations(app_api: Any) -> None:
    api = app_api(WRITE)
    strength_id = api.post(STRENGTHS, {"displayName": "Passes", "allowedCombinations": ["temporaryAccessPassOneTime"]}
                           ).json()["id"]
    refused = api.post(f"{STRENGTHS}/{strength_id}/combinationConfigurations", fido2_config(YUBIKEY))
    assert refused.status_code == 400 and "fido2" in error_of(refused)[2]


@pytest.mark.parametrize("path", ["combinationConfigurations/{}", "combinationConfigurations/not-a-guid"])
def test_unknown_configurations_are_404(strength: Any, path: str) -> None:
    api, strength_id = strength
    url = f"{STRENGTHS}/{strength_id}/" + path.format(uuid.uuid4())
    assert error_of(api.get(url))[0] in (400, 404)
    assert api.delete(url).status_code in (400, 404)
    assert api.patch(url, {"allowedAAGUIDs": [YUBIKEY]}).status_code in (400, 404)


def test_built_in_strengths_have_no_writable_configurations(app_api: Any) -> None:
    api = app_api(WRITE)
    built_in = "00000000-0000-0000-0000-000000000004"
    assert api.get(f"{STRENGTHS}/{built_in}/combinationConfigurations").json()["value"] == []
    assert api.post(f"{STRENGTHS}/{built_in}/combinationConfigurations", fido2_config(YUBIKEY)).status_code == 400
    assert api.post(f"{STRENGTHS}/{built_in}/updateAllowedCombinations",
                    {"allowedCombinations": ["fido2"]}).status_code == 400


def test_update_allowed_combinations_answers_what_changed_and_which_policies_use_it(strength: Any) -> None:
    api, strength_id = strength
    policy = api.post(CA, ca_body(grantControls={"operator": "OR",
                                                 "authenticationStrength": {"id": strength_id}})).json()
    answer = api.post(f"{STRENGTHS}/{strength_id}/updateAllowedCombinations",
                      {"allowedCombinations": ["fido2", "temporaryAccessPassOneTime"]})
    assert answer.status_code == 200, answer.content
    result = answer.json()
    assert result["@odata.context"].endswith("#microsoft.graph.updateAllowedCombinationsResult")
    assert result["previousCombinations"] == ["fido2"]
    assert result["currentCombinations"] == ["fido2", "temporaryAccessPassOneTime"]
    assert result["conditionalAccessReferences"] == [policy["id"]]
    assert api.get(f"{STRENGTHS}/{strength_id}").json()["allowedCombinations"] == result["currentCombinations"]
    for bad in ({}, {"allowedCombinations": []}, {"allowedCombinations": ["password"]},
                {"allowedCombinations": ["fido2"], "displayName": "x"}):
        assert api.post(f"{STRENGTHS}/{strength_id}/updateAllowedCombinations", bad).status_code == 400, bad
    assert api.get(f"{STRENGTHS}/{strength_id}").json()["allowedCombinations"] == result["currentCombinations"]


def test_usage_is_served_as_the_function_the_sdk_calls(strength: Any) -> None:
    api, strength_id = strength
    api.post(CA, ca_body(grantControls={"operator": "OR", "authenticationStrength": {"id": strength_id}}))
    function, plain = api.get(f"{STRENGTHS}/{strength_id}/usage()"), api.get(f"{STRENGTHS}/{strength_id}/usage")
    assert function.status_code == plain.status_code == 200
    assert function.json() == plain.json() and len(function.json()["mfa"]) == 1
