"""Graph JSON for Conditional Access policies: POST, PATCH, GET and stored documents, and every refusal."""

from __future__ import annotations

import copy
import json
from dataclasses import replace
from typing import Any

import pytest

from passgate.core.access.conditional_access import (
    ADMIN_CENTRE_APP_ID,
    REGISTER_SECURITY_INFO,
    ConditionalAccessPolicy,
    GrantControls,
    PolicyState,
    strength_delete_check,
    strength_usage,
)
from passgate.core.access.conditional_access_graph import (
    ca_policy_apply_patch,
    ca_policy_from_document,
    ca_policy_from_graph,
    ca_policy_to_graph,
)
from passgate.core.access.strengths import MULTIFACTOR, MULTIFACTOR_ID, PHISHING_RESISTANT_MFA_ID, strength_to_graph
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
    ALICE,
    BOB,
    CONTRACTORS,
    ENGINEERING,
    GLOBAL_ADMIN_ROLE,
    LATER,
    NOW,
    OTHER_STRENGTH_ID,
    PAYROLL_APP,
    POLICY_ID,
    STRENGTH_ID,
    WIKI_APP,
    contractor_keys,
    policy,
    policy_body,
)

STRENGTHS = {STRENGTH_ID: contractor_keys()}


def _post(body: object) -> ConditionalAccessPolicy:
    return ca_policy_from_graph(body, id=POLICY_ID, now=NOW, strengths=STRENGTHS)


def _with(path: str, value: Any, body: dict[str, Any] | None = None) -> dict[str, Any]:
    """``policy_body()`` with one (dotted) property set; ``...`` deletes it."""
    result = copy.deepcopy(body or policy_body())
    *parents, last = path.split(".")
    here = result
    for name in parents:
        here = here.setdefault(name, {})
    if value is ...:
        del here[last]
    else:
        here[last] = value
    return result


def _strength_grant(strength_id: str = STRENGTH_ID, **extra: Any) -> dict[str, Any]:
    return {"operator": "OR", "builtInControls": [], "authenticationStrength": {"id": strength_id}, **extra}


class TestPost:
    def test_a_new_policy_and_its_graph_json(self) -> None:
        created = _post(policy_body())
        assert created == ConditionalAccessPolicy(
            id=POLICY_ID, display_name="Require MFA for payroll", state=PolicyState.ENABLED, include_users=("All",),
            exclude_users=(), include_groups=(), exclude_groups=(), include_roles=(), exclude_roles=(),
            include_applications=(PAYROLL_APP,), exclude_applications=(), include_user_actions=(),
            grant_controls=GrantControls(operator="OR", built_in_controls=("mfa",), authentication_strength_id=None),
            created=NOW, modified=NOW)
        assert ca_policy_to_graph(created) == {
            "id": POLICY_ID, "displayName": "Require MFA for payroll", "createdDateTime": "2025-06-01T09:30:00Z",
            "modifiedDateTime": "2025-06-01T09:30:00Z", "state": "enabled",
            "description": None, "templateId": None, "deletedDateTime": None,
            "conditions": {
                "users": {"includeUsers": ["All"], "excludeUsers": [], "includeGroups": [], "excludeGroups": [],
                          "includeRoles": [], "excludeRoles": [], "includeGuestsOrExternalUsers": None,
                          "excludeGuestsOrExternalUsers": None},
                "applications": {"includeApplications": [PAYROLL_APP], "excludeApplications": [],
                                 "includeUserActions": [], "includeAuthenticationContextClassReferences": [],
                                 "applicationFilter": None},
                "clientAppTypes": ["all"],
                # Graph v1.0's conditions Passgate does not implement: empty
                "platforms": None, "locations": None, "devices": None, "clientApplications": None,
                "authenticationFlows": None, "insiderRiskLevels": None, "signInRiskLevels": [],
                "userRiskLevels": [], "servicePrincipalRiskLevels": []},
            "grantControls": {"operator": "OR", "builtInControls": ["mfa"], "customAuthenticationFactors": [],
                              "termsOfUse": [], "authenticationStrength": None},
            "sessionControls": None}

    def test_keywords_and_ids_are_normalised(self) -> None:
        body = policy_body(conditions={
            "users": {"includeUsers": ["all"], "excludeUsers": [ALICE.upper()], "includeGroups": None},
            "applications": {"includeApplications": ["microsoftadminportals", PAYROLL_APP.upper()],
                             "excludeApplications": None}})
        created = _post(body)
        assert created.include_users == ("All",)
        assert created.exclude_users == (ALICE,)
        assert created.include_groups == ()
        assert created.include_applications == ("MicrosoftAdminPortals", PAYROLL_APP)

    def test_what_a_live_tenant_answers_is_accepted(self) -> None:
        """Empty unsupported conditions, annotations and an expanded authentication strength: a GET body."""
        body = {
            "@odata.type": "#microsoft.graph.conditionalAccessPolicy",
            "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#identity/conditionalAccess/policies/$entity",
            "id": POLICY_ID, "templateId": None, "displayName": "Admins use phishing-resistant MFA",
            "createdDateTime": "2025-06-01T09:30:00Z", "modifiedDateTime": None,
            "state": "enabledForReportingButNotEnforced",
            "description": None, "partialEnablementStrategy": None, "sessionControls": None,
            "conditions": {
                "userRiskLevels": [], "signInRiskLevels": [], "clientAppTypes": ["all"],
                "servicePrincipalRiskLevels": [],
                "insiderRiskLevels": None, "platforms": None, "locations": None, "devices": None,
                "clientApplications": None, "authenticationFlows": None,
                "applications": {"includeApplications": ["All"], "excludeApplications": [], "includeUserActions": [],
                                 "includeAuthenticationContextClassReferences": [], "applicationFilter": None},
                "users": {"includeUsers": [], "excludeUsers": [BOB], "includeGroups": [], "excludeGroups": [],
                          "includeRoles": [GLOBAL_ADMIN_ROLE], "excludeRoles": [],
                          "includeGuestsOrExternalUsers": None, "excludeGuestsOrExternalUsers": None},
            },
            "grantControls": {
                "operator": "OR", "builtInControls": [], "customAuthenticationFactors": [], "termsOfUse": [],
                "authenticationStrength@odata.context": "...",
                "authenticationStrength": {"id": PHISHING_RESISTANT_MFA_ID, "displayName": "Phishing-resistant MFA",
                                           "policyType": "builtIn", "requirementsSatisfied": "mfa",
                                           "allowedCombinations": ["fido2"], "combinationConfigurations": []},
            },
        }
        created = _post(body)
        assert created.state is PolicyState.REPORT_ONLY
        assert created.grant_controls == GrantControls("OR", (), PHISHING_RESISTANT_MFA_ID)
        assert created.grant_controls.authentication_strength_name == "Phishing-resistant MFA"

    def test_a_user_action_policy(self) -> None:
        body = _with("conditions.applications", {"includeUserActions": ["urn:user:RegisterSecurityInfo"]})
        created = _post(body)
        assert (created.include_applications, created.include_user_actions) == ((), (REGISTER_SECURITY_INFO,))

    def test_a_custom_strength_and_its_name(self) -> None:
        created = _post(policy_body(grantControls=_strength_grant(STRENGTH_ID.upper())))
        assert created.grant_controls is not None
        assert created.grant_controls.authentication_strength_id == STRENGTH_ID
        graph = ca_policy_to_graph(created)["grantControls"]["authenticationStrength"]
        assert graph == {"id": STRENGTH_ID, "displayName": "Contractor keys"}
        renamed = {STRENGTH_ID: replace(contractor_keys(), display_name="Hardware keys")}
        # with the strengths known: the whole strength, as Graph expands the relationship
        assert ca_policy_to_graph(created, strengths=renamed)["grantControls"]["authenticationStrength"] == (
            strength_to_graph(renamed[STRENGTH_ID]))

    def test_block_and_and(self) -> None:
        created = _post(policy_body(grantControls={"operator": "AND", "builtInControls": ["block"]}))
        assert created.grant_controls == GrantControls("AND", ("block",), None)

    def test_round_trip(self) -> None:
        created = _post(policy_body(grantControls=_strength_grant()))
        assert _post(ca_policy_to_graph(created)) == created

    def test_graph_json_is_json(self) -> None:
        document = ca_policy_to_graph(_post(policy_body()))
        assert json.loads(json.dumps(document)) == document

    def test_now_must_be_aware(self) -> None:
        with pytest.raises(ValueError, match="timezone-aware"):
            ca_policy_from_graph(policy_body(), id=POLICY_ID, now=NOW.replace(tzinfo=None), strengths={})


UNSUPPORTED_CONDITIONS = ["platforms", "locations", "signInRiskLevels", "userRiskLevels", "servicePrincipalRiskLevels",
                          "insiderRiskLevels", "devices", "clientApplications", "authenticationFlows"]

# (name, body, code, target, a piece of the message)
POST_CASES: list[tuple[str, Any, str, str, str]] = [
    ("body is not an object", "policy", INVALID_PROPERTY, "", "object"),
    ("unknown property", policy_body(colour="red"), UNKNOWN_PROPERTY, "colour", "'colour'"),
    ("wrong @odata.type", policy_body(**{"@odata.type": "#microsoft.graph.user"}), INVALID_PROPERTY, "@odata.type",
     "conditionalAccessPolicy"),
    ("another id", policy_body(id=ALICE), READ_ONLY_PROPERTY, "id", "read-only"),
    ("created earlier", policy_body(createdDateTime="2024-01-01T00:00:00Z"), READ_ONLY_PROPERTY, "createdDateTime",
     "read-only"),
    ("modified earlier", policy_body(modifiedDateTime="2024-01-01T00:00:00Z"), READ_ONLY_PROPERTY, "modifiedDateTime",
     "read-only"),
    ("from a template", policy_body(templateId="abc"), READ_ONLY_PROPERTY, "templateId", "read-only"),
    ("description", policy_body(description="Not used"), NOT_SUPPORTED, "description", "doesn't support"),
    ("session controls", policy_body(sessionControls={"signInFrequency": {"value": 1, "isEnabled": True}}),
     NOT_SUPPORTED, "sessionControls", "doesn't support"),
    ("partial enablement", policy_body(partialEnablementStrategy={"mode": "x"}), NOT_SUPPORTED,
     "partialEnablementStrategy", "doesn't support"),
    ("no displayName", _with("displayName", ...), MISSING_PROPERTY, "displayName", "displayName"),
    ("empty displayName", policy_body(displayName=""), INVALID_PROPERTY, "displayName", "1 to 256"),
    ("long displayName", policy_body(displayName="p" * 257), INVALID_PROPERTY, "displayName", "1 to 256"),
    ("no state", _with("state", ...), MISSING_PROPERTY, "state", "enabledForReportingButNotEnforced"),
    ("state in the wrong case", policy_body(state="Enabled"), INVALID_PROPERTY, "state", "\"Enabled\""),
    ("state not a member", policy_body(state="reportOnly"), INVALID_PROPERTY, "state", "'enabled'"),
    ("no conditions", _with("conditions", ...), MISSING_PROPERTY, "conditions", "users and applications"),
    ("null conditions", policy_body(conditions=None), MISSING_PROPERTY, "conditions", "conditions"),
    ("conditions not an object", policy_body(conditions=[]), INVALID_PROPERTY, "conditions", "object"),
    ("unknown condition", _with("conditions.weather", "rain"), UNKNOWN_PROPERTY, "conditions.weather", "'weather'"),
    *[(f"condition {name}", _with(f"conditions.{name}", ["something"]), NOT_SUPPORTED, f"conditions.{name}",
       f"({name})") for name in UNSUPPORTED_CONDITIONS],
    ("platforms object", _with("conditions.platforms", {"includePlatforms": ["all"], "excludePlatforms": []}),
     NOT_SUPPORTED, "conditions.platforms", "platforms"),
    ("clientAppTypes browser", _with("conditions.clientAppTypes", ["browser"]), NOT_SUPPORTED,
     "conditions.clientAppTypes", "[\"all\"]"),
    ("clientAppTypes all and more", _with("conditions.clientAppTypes", ["all", "other"]), NOT_SUPPORTED,
     "conditions.clientAppTypes", "[\"all\"]"),
    ("clientAppTypes a string", _with("conditions.clientAppTypes", "all"), INVALID_PROPERTY,
     "conditions.clientAppTypes", "[\"all\"]"),
    ("clientAppTypes empty", _with("conditions.clientAppTypes", []), INVALID_PROPERTY, "conditions.clientAppTypes",
     "[\"all\"]"),
    ("no users", _with("conditions.users", ...), MISSING_PROPERTY, "conditions.users", "includeUsers"),
    ("users not an object", _with("conditions.users", ["All"]), INVALID_PROPERTY, "conditions.users", "object"),
    ("unknown users property", _with("conditions.users.includeTeams", []), UNKNOWN_PROPERTY,
     "conditions.users.includeTeams", "'includeTeams'"),
    ("includes nobody", _with("conditions.users", {"includeUsers": [], "excludeUsers": [ALICE]}), POLICY_RULE,
     "conditions.users", "must include someone"),
    ("includeUsers a string", _with("conditions.users.includeUsers", "All"), INVALID_PROPERTY,
     "conditions.users.includeUsers", "array"),
    ("includeUsers entry not a string", _with("conditions.users.includeUsers", [5]), INVALID_PROPERTY,
     "conditions.users.includeUsers[0]", "string"),
    ("includeUsers a name", _with("conditions.users.includeUsers", ["alice@example.com"]), INVALID_PROPERTY,
     "conditions.users.includeUsers[0]", "a user id must be a GUID"),
    ("All with others", _with("conditions.users.includeUsers", ["All", ALICE]), POLICY_RULE,
     "conditions.users.includeUsers", "'All' must be the only entry"),
    ("None with others", _with("conditions.users.includeUsers", [ALICE, "None"]), POLICY_RULE,
     "conditions.users.includeUsers", "'None' must be the only entry"),
    ("guests", _with("conditions.users.includeUsers", ["GuestsOrExternalUsers"]), NOT_SUPPORTED,
     "conditions.users.includeUsers[0]", "guest"),
    ("guest settings", _with("conditions.users.includeGuestsOrExternalUsers", {"guestOrExternalUserTypes": "b2b"}),
     NOT_SUPPORTED, "conditions.users.includeGuestsOrExternalUsers", "includeGuestsOrExternalUsers"),
    ("exclude All", _with("conditions.users.excludeUsers", ["All"]), POLICY_RULE, "conditions.users.excludeUsers[0]",
     "'disabled'"),
    ("exclude None", _with("conditions.users.excludeUsers", ["None"]), POLICY_RULE, "conditions.users.excludeUsers[0]",
     "empty"),
    ("a user twice", _with("conditions.users.excludeUsers", [ALICE, ALICE.upper()]), POLICY_RULE,
     "conditions.users.excludeUsers[1]", "listed twice"),
    ("group keyword", _with("conditions.users.includeGroups", ["All"]), INVALID_PROPERTY,
     "conditions.users.includeGroups[0]", "a group id"),
    ("group twice", _with("conditions.users.excludeGroups", [ENGINEERING, ENGINEERING]), POLICY_RULE,
     "conditions.users.excludeGroups[1]", "listed twice"),
    ("role by name", _with("conditions.users.includeRoles", ["Global Administrator"]), INVALID_PROPERTY,
     "conditions.users.includeRoles[0]", "directory role template id"),
    ("excluded role not a GUID", _with("conditions.users.excludeRoles", ["admin"]), INVALID_PROPERTY,
     "conditions.users.excludeRoles[0]", "directory role template id"),
    ("no applications", _with("conditions.applications", ...), MISSING_PROPERTY, "conditions.applications",
     "includeUserActions"),
    ("unknown applications property", _with("conditions.applications.includeApps", []), UNKNOWN_PROPERTY,
     "conditions.applications.includeApps", "'includeApps'"),
    ("applications and a user action", _with("conditions.applications.includeUserActions", [REGISTER_SECURITY_INFO]),
     POLICY_RULE, "conditions.applications.includeUserActions", "not both"),
    ("neither applications nor a user action", _with("conditions.applications", {"includeApplications": []}),
     POLICY_RULE, "conditions.applications", "includeApplications"),
    ("application by name", _with("conditions.applications.includeApplications", ["payroll"]), INVALID_PROPERTY,
     "conditions.applications.includeApplications[0]", "an application id (client id)"),
    ("Office 365", _with("conditions.applications.includeApplications", ["Office365"]), NOT_SUPPORTED,
     "conditions.applications.includeApplications[0]", "Office 365"),
    ("All apps with others", _with("conditions.applications.includeApplications", [PAYROLL_APP, "All"]), POLICY_RULE,
     "conditions.applications.includeApplications", "'All' must be the only entry"),
    ("app twice", _with("conditions.applications.includeApplications", [PAYROLL_APP, PAYROLL_APP.upper()]),
     POLICY_RULE, "conditions.applications.includeApplications[1]", "listed twice"),
    ("exclude all apps", _with("conditions.applications.excludeApplications", ["All"]), POLICY_RULE,
     "conditions.applications.excludeApplications[0]", "can't be excluded"),
    ("exclude Office 365", _with("conditions.applications.excludeApplications", ["Office365"]), NOT_SUPPORTED,
     "conditions.applications.excludeApplications[0]", "Office 365"),
    ("register a device", _with("conditions.applications", {"includeUserActions": ["urn:user:registerdevice"]}),
     NOT_SUPPORTED, "conditions.applications.includeUserActions[0]", "'urn:user:registerdevice'"),
    ("unknown user action", _with("conditions.applications", {"includeUserActions": ["urn:user:dance"]}),
     INVALID_PROPERTY, "conditions.applications.includeUserActions[0]", REGISTER_SECURITY_INFO),
    ("user action twice", _with("conditions.applications", {"includeUserActions": [REGISTER_SECURITY_INFO] * 2}),
     POLICY_RULE, "conditions.applications.includeUserActions[1]", "listed twice"),
    ("user action excluding apps", _with("conditions.applications", {
        "includeUserActions": [REGISTER_SECURITY_INFO], "excludeApplications": [WIKI_APP]}),
     POLICY_RULE, "conditions.applications.excludeApplications", "excludes no applications"),
    ("authentication context", _with("conditions.applications.includeAuthenticationContextClassReferences", ["c1"]),
     NOT_SUPPORTED, "conditions.applications.includeAuthenticationContextClassReferences", "doesn't support"),
    ("application filter", _with("conditions.applications.applicationFilter", {"mode": "include", "rule": "x"}),
     NOT_SUPPORTED, "conditions.applications.applicationFilter", "doesn't support"),
    ("no grantControls", _with("grantControls", ...), MISSING_PROPERTY, "grantControls", "session controls"),
    ("null grantControls", policy_body(grantControls=None), MISSING_PROPERTY, "grantControls", "grantControls"),
    ("grantControls not an object", policy_body(grantControls=["mfa"]), INVALID_PROPERTY, "grantControls", "object"),
    ("unknown grant property", _with("grantControls.requireCompliance", True), UNKNOWN_PROPERTY,
     "grantControls.requireCompliance", "'requireCompliance'"),
    ("no operator", _with("grantControls.operator", ...), MISSING_PROPERTY, "grantControls.operator", "'AND' or 'OR'"),
    ("lower-case operator", _with("grantControls.operator", "and"), INVALID_PROPERTY, "grantControls.operator",
     "\"and\""),
    ("compliant device", _with("grantControls.builtInControls", ["mfa", "compliantDevice"]), NOT_SUPPORTED,
     "grantControls.builtInControls[1]", "'compliantDevice'"),
    ("password change", _with("grantControls.builtInControls", ["passwordChange"]), NOT_SUPPORTED,
     "grantControls.builtInControls[0]", "'passwordChange'"),
    ("unknown control", _with("grantControls.builtInControls", ["magic"]), INVALID_PROPERTY,
     "grantControls.builtInControls[0]", "'block' or 'mfa'"),
    ("control in the wrong case", _with("grantControls.builtInControls", ["MFA"]), INVALID_PROPERTY,
     "grantControls.builtInControls[0]", "\"MFA\""),
    ("controls a string", _with("grantControls.builtInControls", "mfa"), INVALID_PROPERTY,
     "grantControls.builtInControls", "array"),
    ("control twice", _with("grantControls.builtInControls", ["mfa", "mfa"]), POLICY_RULE,
     "grantControls.builtInControls[1]", "listed twice"),
    ("block with mfa", _with("grantControls.builtInControls", ["block", "mfa"]), POLICY_RULE,
     "grantControls.builtInControls", "'block' can't be combined"),
    ("block with a strength", policy_body(grantControls=_strength_grant(builtInControls=["block"])), POLICY_RULE,
     "grantControls.authenticationStrength", "'block' can't be combined"),
    ("mfa with a strength", policy_body(grantControls=_strength_grant(builtInControls=["mfa"])), POLICY_RULE,
     "grantControls.authenticationStrength", "can't both be required"),
    ("no control", _with("grantControls.builtInControls", []), POLICY_RULE, "grantControls", "needs a grant control"),
    ("null controls and strength", policy_body(grantControls={"operator": "OR", "builtInControls": None,
                                                              "authenticationStrength": None}),
     POLICY_RULE, "grantControls", "needs a grant control"),
    ("unknown strength", policy_body(grantControls=_strength_grant(OTHER_STRENGTH_ID)), INVALID_PROPERTY,
     "grantControls.authenticationStrength.id", "no authentication strength"),
    ("strength without an id", policy_body(grantControls={"operator": "OR", "authenticationStrength": {}}),
     MISSING_PROPERTY, "grantControls.authenticationStrength.id", "id"),
    ("strength id not a string", policy_body(grantControls={"operator": "OR", "authenticationStrength": {"id": 2}}),
     INVALID_PROPERTY, "grantControls.authenticationStrength.id", "authentication strength's id"),
    ("strength by name", policy_body(grantControls={"operator": "OR", "authenticationStrength": MULTIFACTOR_ID}),
     INVALID_PROPERTY, "grantControls.authenticationStrength", "object"),
    ("strength unknown property", policy_body(grantControls={
        "operator": "OR", "authenticationStrength": {"id": MULTIFACTOR_ID, "colour": "red"}}),
     UNKNOWN_PROPERTY, "grantControls.authenticationStrength.colour", "'colour'"),
    ("custom factors", _with("grantControls.customAuthenticationFactors", ["duo"]), NOT_SUPPORTED,
     "grantControls.customAuthenticationFactors", "doesn't support"),
    ("terms of use", _with("grantControls.termsOfUse", [ALICE]), NOT_SUPPORTED, "grantControls.termsOfUse",
     "doesn't support"),
]


@pytest.mark.parametrize(("body", "code", "target", "piece"), [c[1:] for c in POST_CASES],
                         ids=[c[0] for c in POST_CASES])
def test_post_refuses(body: Any, code: str, target: str, piece: str) -> None:
    with pytest.raises(PolicyValidationError) as caught:
        _post(body)
    assert (caught.value.code, caught.value.target) == (code, target)
    assert piece in caught.value.message


def _current() -> ConditionalAccessPolicy:
    return _post(policy_body(conditions={"users": {"includeGroups": [ENGINEERING], "excludeUsers": [BOB]},
                                         "applications": {"includeApplications": [PAYROLL_APP]}}))


class TestPatch:
    def test_a_property_left_out_keeps_its_value(self) -> None:
        assert ca_policy_apply_patch(_current(), {"state": "disabled"}, now=LATER, strengths=STRENGTHS) == replace(
            _current(), state=PolicyState.DISABLED, modified=LATER)

    def test_objects_merge_and_arrays_replace(self) -> None:
        after = ca_policy_apply_patch(_current(), {"conditions": {"users": {"excludeGroups": [CONTRACTORS]}}},
                                      now=LATER, strengths=STRENGTHS)
        assert after == replace(_current(), exclude_groups=(CONTRACTORS,), modified=LATER)

    def test_switching_to_a_user_action_clears_the_applications(self) -> None:
        body = {"conditions": {"applications": {"includeApplications": [],
                                                "includeUserActions": [REGISTER_SECURITY_INFO]}}}
        after = ca_policy_apply_patch(_current(), body, now=LATER, strengths=STRENGTHS)
        assert (after.include_applications, after.include_user_actions) == ((), (REGISTER_SECURITY_INFO,))

    def test_switching_from_mfa_to_a_strength(self) -> None:
        body = {"grantControls": {"builtInControls": [], "authenticationStrength": {"id": STRENGTH_ID}}}
        after = ca_policy_apply_patch(_current(), body, now=LATER, strengths=STRENGTHS)
        assert after.grant_controls == GrantControls("OR", (), STRENGTH_ID)
        back = ca_policy_apply_patch(after, {"grantControls": {"builtInControls": ["mfa"],
                                                               "authenticationStrength": None}},
                                     now=LATER, strengths=STRENGTHS)
        assert back.grant_controls == GrantControls("OR", ("mfa",), None)

    def test_a_get_body_without_its_read_only_properties_is_no_change(self) -> None:
        body = {k: v for k, v in ca_policy_to_graph(_current()).items()
                if k not in ("id", "createdDateTime", "modifiedDateTime")}
        assert ca_policy_apply_patch(_current(), body, now=LATER, strengths=STRENGTHS) == replace(
            _current(), modified=LATER)

    def test_an_empty_body_changes_only_the_time(self) -> None:
        assert ca_policy_apply_patch(_current(), {}, now=LATER, strengths=STRENGTHS) == replace(
            _current(), modified=LATER)


PATCH_CASES: list[tuple[str, Any, str, str, str]] = [
    ("not an object", [], INVALID_PROPERTY, "", "object"),
    ("unknown property", {"priority": 1}, UNKNOWN_PROPERTY, "priority", "'priority'"),
    ("id, even the same", {"id": POLICY_ID}, READ_ONLY_PROPERTY, "id", "read-only"),
    ("createdDateTime", {"createdDateTime": "2025-06-01T09:30:00Z"}, READ_ONLY_PROPERTY, "createdDateTime",
     "read-only"),
    ("modifiedDateTime", {"modifiedDateTime": "2025-06-03T09:30:00Z"}, READ_ONLY_PROPERTY, "modifiedDateTime",
     "read-only"),
    ("templateId", {"templateId": "t"}, READ_ONLY_PROPERTY, "templateId", "read-only"),  # null comes back from a GET
    ("deletedDateTime", {"deletedDateTime": "2025-06-03T09:30:00Z"}, READ_ONLY_PROPERTY, "deletedDateTime",
     "read-only"),
    ("state null", {"state": None}, INVALID_PROPERTY, "state", "null"),
    ("a user action without clearing the applications",
     {"conditions": {"applications": {"includeUserActions": [REGISTER_SECURITY_INFO]}}}, POLICY_RULE,
     "conditions.applications.includeUserActions", "send the other one as []"),
    ("a strength next to mfa", {"grantControls": {"authenticationStrength": {"id": MULTIFACTOR_ID}}}, POLICY_RULE,
     "grantControls.authenticationStrength", "can't both be required"),
    ("no grantControls", {"grantControls": None}, MISSING_PROPERTY, "grantControls", "grantControls"),
    ("nobody left", {"conditions": {"users": {"includeGroups": []}}}, POLICY_RULE, "conditions.users",
     "must include someone"),
    ("a location", {"conditions": {"locations": {"includeLocations": ["All"]}}}, NOT_SUPPORTED,
     "conditions.locations", "locations"),
    ("users replaced by a list", {"conditions": {"users": ["All"]}}, INVALID_PROPERTY, "conditions.users", "object"),
    ("session controls", {"sessionControls": {"persistentBrowser": {"mode": "never", "isEnabled": True}}},
     NOT_SUPPORTED, "sessionControls", "doesn't support"),
]


@pytest.mark.parametrize(("body", "code", "target", "piece"), [c[1:] for c in PATCH_CASES],
                         ids=[c[0] for c in PATCH_CASES])
def test_patch_refuses(body: Any, code: str, target: str, piece: str) -> None:
    with pytest.raises(PolicyValidationError) as caught:
        ca_policy_apply_patch(_current(), body, now=LATER, strengths=STRENGTHS)
    assert (caught.value.code, caught.value.target) == (code, target)
    assert piece in caught.value.message


class TestDocuments:
    def test_round_trip(self) -> None:
        stored = replace(_post(policy_body(grantControls=_strength_grant())), modified=LATER)
        assert ca_policy_from_document(ca_policy_to_graph(stored), strengths=STRENGTHS) == stored

    def test_a_custom_strength_is_taken_on_trust_without_strengths(self) -> None:
        stored = _post(policy_body(grantControls=_strength_grant()))
        loaded = ca_policy_from_document(ca_policy_to_graph(stored))
        assert loaded == stored
        assert loaded.grant_controls is not None
        assert loaded.grant_controls.authentication_strength_name == "Contractor keys"
        assert ca_policy_to_graph(loaded) == ca_policy_to_graph(stored)

    @pytest.mark.parametrize(("document", "code", "target"), [
        (None, INVALID_PROPERTY, ""),
        (policy_body(), MISSING_PROPERTY, "id"),
        (policy_body(id=POLICY_ID, templateId="t"), READ_ONLY_PROPERTY, "templateId"),
        (policy_body(id=POLICY_ID, createdDateTime="never"), INVALID_PROPERTY, "createdDateTime"),
        (policy_body(id=POLICY_ID, grantControls=_strength_grant(OTHER_STRENGTH_ID)), INVALID_PROPERTY,
         "grantControls.authenticationStrength.id"),
    ])
    def test_refuses(self, document: Any, code: str, target: str) -> None:
        with pytest.raises(PolicyValidationError) as caught:
            ca_policy_from_document(document, strengths=STRENGTHS)
        assert (caught.value.code, caught.value.target) == (code, target)


class TestStrengthUsage:
    def test_usage_lists_the_policies_naming_the_strength(self) -> None:
        first = policy(policy_id="b", controls=(), strength_id=STRENGTH_ID)
        second = policy(policy_id="a", controls=(), strength_id=STRENGTH_ID.upper())
        others = [policy(policy_id="c"), policy(policy_id="d", controls=(), strength_id=MULTIFACTOR_ID),
                  replace(policy(policy_id="e"), grant_controls=None)]
        assert strength_usage(STRENGTH_ID, [first, *others, second]) == (first, second)
        assert strength_usage(MULTIFACTOR_ID, [first, *others]) == (others[1],)

    def test_a_built_in_cannot_be_deleted(self) -> None:
        with pytest.raises(PolicyValidationError, match="Built-in authentication strengths cannot be deleted"):
            strength_delete_check(MULTIFACTOR, [])

    def test_a_used_strength_cannot_be_deleted(self) -> None:
        users = [policy(name="Contractors", controls=(), strength_id=STRENGTH_ID)]
        with pytest.raises(PolicyValidationError, match="used by the Conditional Access policy 'Contractors'") as \
                caught:
            strength_delete_check(contractor_keys(), users)
        assert caught.value.code == POLICY_RULE
        strength_delete_check(contractor_keys(), [policy()])  # unused: fine


def test_admin_centre_id_is_a_guid() -> None:
    from passgate.core.policy.model import is_guid

    assert is_guid(ADMIN_CENTRE_APP_ID)
    assert ADMIN_CENTRE_APP_ID == ADMIN_CENTRE_APP_ID.lower()
