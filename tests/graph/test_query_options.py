"""Query options on Conditional Access policies, authentication strengths and authentication-method lists: what
Graph documents for each collection works, everything else is 400 with Graph's envelope (never silently ignored),
and each refusal is audited."""

from __future__ import annotations

from typing import Any

import pytest

from passgate.audit.models import AuditEvent
from tests.graph.conftest import ORIGIN, error_of
from tests.graph.methods import stored_passkey
from tests.graph.test_access import ca_body

pytestmark = pytest.mark.django_db

CA = "/v1.0/identity/conditionalAccess/policies"
STRENGTHS = "/v1.0/policies/authenticationStrengthPolicies"
ALIAS = "/v1.0/identity/conditionalAccess/authenticationStrength/policies"


@pytest.fixture
def policies(app_api: Any) -> Any:
    api = app_api("Policy.ReadWrite.ConditionalAccess")
    for name, state in (("Bravo", "enabled"), ("alpha", "disabled"), ("Charlie", "enabledForReportingButNotEnforced"),
                        ("Delta", "disabled")):
        assert api.post(CA, ca_body(displayName=name, state=state)).status_code == 201
    return api


def names(response: Any) -> list[str]:
    assert response.status_code == 200, response.content
    return [p["displayName"] for p in response.json()["value"]]


def refused_and_audited(response: Any, before: set[Any], expected: tuple[int, str], fragment: str,
                        activity: str) -> None:
    status, code, message = error_of(response)
    assert (status, code) == expected and fragment in message, message
    new = list(AuditEvent.objects.exclude(pk__in=before))
    assert [(e.activity, e.result, e.reason, e.details["where"]) for e in new] == [
        (activity, "failure", f"graph_{code}", "query")]


@pytest.mark.parametrize(("query", "expected"), [
    ("", ["Bravo", "alpha", "Charlie", "Delta"]),
    ("$filter=state eq 'disabled'", ["alpha", "Delta"]),
    ("$filter=state ne 'disabled'", ["Bravo", "Charlie"]),
    ("$filter=state in ('enabled','enabledForReportingButNotEnforced')", ["Bravo", "Charlie"]),
    ("$filter=startswith(displayName,'a') or false", None),
    ("$filter=displayName eq 'ALPHA'", ["alpha"]),
    ("$orderby=displayName", ["alpha", "Bravo", "Charlie", "Delta"]),
    ("$orderby=displayName desc&$filter=state eq 'disabled'", ["Delta", "alpha"]),
    ("$orderby=createdDateTime desc&$top=2", ["Delta", "Charlie"]),
    ("$orderby=displayName&$skip=1&$top=2", ["Bravo", "Charlie"]),
    ("$skip=10", []),
])
def test_conditional_access_policies_take_graphs_documented_options(policies: Any, query: str,
                                                                     expected: list[str] | None) -> None:
    response = policies.get(f"{CA}?{query}")
    if expected is None:
        assert error_of(response)[:2] == (400, "Request_UnsupportedQuery")
    else:
        assert names(response) == expected


def test_conditional_access_select_count_and_next_link(policies: Any) -> None:
    body = policies.get(f"{CA}?$select=displayName,state&$count=true&$top=3&$orderby=displayName").json()
    assert body["@odata.context"] == f"{ORIGIN}/v1.0/$metadata#identity/conditionalAccess/policies(displayName,state)"
    assert body["@odata.count"] == 4
    assert body["value"][0] == {"displayName": "alpha", "state": "disabled"}
    link = body["@odata.nextLink"]
    assert link.startswith(f"{ORIGIN}{CA}?") and "$skip=3" in link and "$top=3" in link
    rest = policies.get(link.removeprefix(ORIGIN)).json()
    assert [p["displayName"] for p in rest["value"]] == ["Delta"] and "@odata.nextLink" not in rest


@pytest.mark.parametrize(("query", "expected", "fragment"), [
    ("$filter=state eq 'bogus'", (400, "BadRequest"), "'bogus' is not a valid value of 'state'"),
    ("$filter=conditions eq 'x'", (400, "Request_UnsupportedQuery"), "'conditions'"),
    ("$filter=state gt 'a'", (400, "Request_UnsupportedQuery"), "'gt'"),
    ("$select=shoeSize", (400, "BadRequest"), "'shoeSize'"),
    ("$orderby=state", (400, "Request_UnsupportedQuery"), "'state'"),
    ("$top=0", (400, "BadRequest"), "Invalid page size"),
    ("$skip=-1", (400, "BadRequest"), "Invalid $skip"),
    ("$count=often", (400, "BadRequest"), "Invalid $count"),
    ("$search=\"displayName:a\"", (400, "Request_UnsupportedQuery"), "'$search'"),
    ("$expand=conditions", (400, "Request_UnsupportedQuery"), "'$expand'"),
    ("$skiptoken=x", (400, "Request_UnsupportedQuery"), "'$skiptoken'"),
])
def test_conditional_access_refusals(policies: Any, query: str, expected: tuple[int, str], fragment: str) -> None:
    before = set(AuditEvent.objects.values_list("pk", flat=True))
    refused_and_audited(policies.get(f"{CA}?{query}"), before, expected, fragment, "graph.access.read")


@pytest.mark.parametrize("path", [STRENGTHS, ALIAS])
def test_strengths_filter_on_policy_type_and_name(app_api: Any, path: str) -> None:
    api = app_api("Policy.ReadWrite.ConditionalAccess")
    assert api.post(STRENGTHS, {"displayName": "Keys only", "allowedCombinations": ["fido2"]}).status_code == 201
    assert names(api.get(f"{path}?$filter=policyType eq 'custom'")) == ["Keys only"]
    assert len(names(api.get(f"{path}?$filter=policyType eq 'builtIn'"))) == 3
    assert names(api.get(f"{path}?$filter=displayName eq 'keys only'")) == ["Keys only"]


@pytest.mark.parametrize(("query", "expected", "fragment"), [
    ("$filter=policyType eq 'disabled'", (400, "BadRequest"), "not a valid value of 'policyType'"),
    ("$filter=requirementsSatisfied eq 'mfa'", (400, "Request_UnsupportedQuery"), "'requirementsSatisfied'"),
    ("$filter=startswith(displayName,'K')", (400, "Request_UnsupportedQuery"), "'displayName'"),
    ("$top=1", (400, "Request_UnsupportedQuery"), "'$top'"),
    ("$select=displayName", (400, "Request_UnsupportedQuery"), "'$select'"),
    ("$orderby=displayName", (400, "Request_UnsupportedQuery"), "'$orderby'"),
    ("$count=true", (400, "Request_UnsupportedQuery"), "'$count'"),
])
def test_strength_refusals(app_api: Any, query: str, expected: tuple[int, str], fragment: str) -> None:
    api = app_api("Policy.Read.All")
    before = set(AuditEvent.objects.values_list("pk", flat=True))
    refused_and_audited(api.get(f"{STRENGTHS}?{query}"), before, expected, fragment, "graph.strengths.read")


@pytest.mark.parametrize("suffix", ["methods", "fido2Methods", "softwareOathMethods", "temporaryAccessPassMethods",
                                    "fido2Methods/{passkey}"])
@pytest.mark.parametrize("query", ["$top=1", "$filter=displayName eq 'x'", "$select=id", "$orderby=displayName",
                                   "$count=true"])
def test_method_lists_take_no_query_options(app_api: Any, make_user: Any, suffix: str, query: str) -> None:
    """Graph: "This method does not support optional query parameters to customize the response"."""
    api = app_api("UserAuthenticationMethod.Read.All")
    user = make_user()
    passkey = stored_passkey(user)
    path = f"/v1.0/users/{user.pk}/authentication/{suffix.format(passkey=passkey.pk)}"
    assert api.get(path).status_code == 200
    before = set(AuditEvent.objects.values_list("pk", flat=True))
    name = query.split("=", maxsplit=1)[0]
    refused_and_audited(api.get(f"{path}?{query}"), before, (400, "Request_UnsupportedQuery"), f"'{name}'",
                        "graph.methods.read")
