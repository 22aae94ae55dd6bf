"""The Graph API keeps its property names in its errors (the web pages use the forms' labels: issue 14 item 6)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.graph.conftest import error_of

pytestmark = pytest.mark.django_db


def test_graph_names_the_properties(app_api: Any, make_user: Any) -> None:
    groups = app_api("Group.ReadWrite.All")
    refused = groups.post("/v1.0/groups", {"displayName": "g" * 257, "mailEnabled": False, "mailNickname": "g",
                                           "securityEnabled": True})
    assert "property 'displayName'" in error_of(refused)[2]
    kim = make_user(upn="kim@contoso.com")
    methods = app_api("UserAuthenticationMethod.ReadWrite.All")
    refused = methods.post(f"/v1.0/users/{kim.pk}/authentication/temporaryAccessPassMethods",
                           {"lifetimeInMinutes": 5})
    assert "lifetimeInMinutes must be between 10 and 43200" in error_of(refused)[2]
    strengths = app_api("Policy.ReadWrite.ConditionalAccess")
    too_long = strengths.post("/v1.0/policies/authenticationStrengthPolicies",
                              {"displayName": "s" * 257, "allowedCombinations": ["fido2"]})
    error = too_long.json()["error"]
    assert error["target"] == "displayName" and error["message"].startswith("displayName: ")
    assert "printable characters" in error["message"]
    refused = strengths.post("/v1.0/policies/authenticationStrengthPolicies", {
        "displayName": "Our keys", "allowedCombinations": ["fido2"],
        "combinationConfigurations": [{"@odata.type": "#microsoft.graph.fido2CombinationConfiguration",
                                       "appliesToCombinations": ["fido2"], "allowedAAGUIDs": ["not-a-guid"]}]})
    error = refused.json()["error"]
    assert error["message"].startswith("combinationConfigurations[0].allowedAAGUIDs[0]: ")
    assert error["target"] == "combinationConfigurations[0].allowedAAGUIDs[0]"
    users = app_api("User.ReadWrite.All")
    refused = users.post("/v1.0/users", {"accountEnabled": True, "displayName": "Ada", "userPrincipalName": "",
                                         "mailNickname": "ada"})
    assert "'' is not a user principal name" in error_of(refused)[2]
