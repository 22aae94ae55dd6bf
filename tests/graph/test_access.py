"""Authentication strengths and Conditional Access policies through the Graph API: shapes, validation, usage,
audit, and the admin-centre lock-out guard."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from passgate.access.models import AccessPolicy, StrengthPolicy
from passgate.audit.models import AuditEvent
from passgate.directory.models import DirectoryRole
from tests.graph.conftest import error_of as _envelope
from tests.graph.methods import stored_passkey

pytestmark = pytest.mark.django_db

STRENGTHS = "/v1.0/policies/authenticationStrengthPolicies"
ALIAS = "/v1.0/identity/conditionalAccess/authenticationStrength/policies"
CA = "/v1.0/identity/conditionalAccess/policies"
PHISHING_RESISTANT = "00000000-0000-0000-0000-000000000004"
YUBIKEY = "cb69481e-8ff7-4039-93ec-0a2729a154a8"
WRITE = "Policy.ReadWrite.ConditionalAccess"


def error_of(response: Any) -> tuple[int, str, str]:
    """(status, code, message) of a Graph error; validation errors also carry ``target`` (checked where it matters)."""
    body = response.json()
    error = body.get("error", {})
    if "target" in error:
        assert set(error) == {"code", "message", "innerError", "target"}, error
        return response.status_code, error["code"], error["message"]
    return _envelope(response)


def ca_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "displayName": "Phishing-resistant sign-in for Payroll", "state": "enabled",
        "conditions": {"users": {"includeUsers": ["All"]},
                       "applications": {"includeApplications": [str(uuid.uuid4())]}},
        "grantControls": {"operator": "OR", "authenticationStrength": {"id": PHISHING_RESISTANT}},
    }
    body.update(overrides)
    return body


def test_the_built_in_strengths_come_first_and_cannot_be_changed(app_api: Any) -> None:
    api = app_api(WRITE)
    listed = api.get(STRENGTHS).json()
    assert listed["@odata.context"].endswith("$metadata#policies/authenticationStrengthPolicies")
    assert [s["id"] for s in listed["value"]] == [f"00000000-0000-0000-0000-00000000000{n}" for n in (2, 3, 4)]
    phr = api.get(f"{STRENGTHS}/{PHISHING_RESISTANT}").json()
    assert (phr["displayName"], phr["policyType"], phr["requirementsSatisfied"]) == (
        "Phishing-resistant MFA", "builtIn", "mfa")
    assert set(phr["allowedCombinations"]) == {"windowsHelloForBusiness", "fido2", "x509CertificateMultiFactor"}
    for response in (api.patch(f"{STRENGTHS}/{PHISHING_RESISTANT}", {"description": "mine"}),
                     api.delete(f"{STRENGTHS}/{PHISHING_RESISTANT}")):
        status, code, message = error_of(response)
        assert (status, code) == (400, "Request_BadRequest") and "Built-in" in message
    assert api.get(ALIAS).json()["value"] == listed["value"]  # the Conditional Access alias


def test_a_custom_strength_with_allowed_aaguids_round_trips_and_is_audited(app_api: Any) -> None:
    api = app_api(WRITE)
    created = api.post(STRENGTHS, {
        "displayName": "YubiKeys only", "description": "Hardware keys from one vendor",
        "allowedCombinations": ["fido2"],
        "combinationConfigurations": [{"@odata.type": "#microsoft.graph.fido2CombinationConfiguration",
                                       "appliesToCombinations": ["fido2"], "allowedAAGUIDs": [YUBIKEY.upper()]}]})
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["policyType"] == "custom" and body["requirementsSatisfied"] == "mfa"
    assert body["combinationConfigurations"][0]["allowedAAGUIDs"] == [YUBIKEY]
    strength_id = body["id"]
    assert api.get(f"{ALIAS}/{strength_id}").json()["displayName"] == "YubiKeys only"
    assert api.patch(f"{STRENGTHS}/{strength_id}", {"displayName": "YubiKeys"}).status_code == 204
    assert api.get(f"{STRENGTHS}/{strength_id}").json()["displayName"] == "YubiKeys"
    activities = list(AuditEvent.objects.filter(target_id=strength_id).order_by("occurred_at")
                      .values_list("activity", "result"))
    assert activities == [("authenticationStrengthPolicy.create", "success"),
                          ("authenticationStrengthPolicy.update", "success")]
    # A second strength can't take the same name (in any case), nor a built-in's.
    for name in ("yubikeys", "Phishing-resistant MFA"):
        clash = api.post(STRENGTHS, {"displayName": name, "allowedCombinations": ["fido2"]})
        assert error_of(clash)[:2] == (400, "Request_BadRequest")
    assert StrengthPolicy.objects.count() == 1


@pytest.mark.parametrize(("body", "target"), [
    ({"displayName": "No combos", "allowedCombinations": []}, "allowedCombinations"),
    ({"displayName": "Passwords", "allowedCombinations": ["password,sms"]}, "allowedCombinations[0]"),
    ({"displayName": "Bad", "allowedCombinations": ["fido2"], "colour": "red"}, "colour"),
    ({"displayName": "Bad", "allowedCombinations": ["fido2"], "policyType": "builtIn"}, "policyType"),
    ({"allowedCombinations": ["fido2"]}, "displayName"),
    ({"displayName": "Bad", "allowedCombinations": ["fido2"], "combinationConfigurations": [
        {"appliesToCombinations": ["fido2"], "allowedAAGUIDs": ["not-a-guid"]}]},
     "combinationConfigurations[0].allowedAAGUIDs[0]"),
])
def test_bad_strengths_are_refused_naming_the_property(app_api: Any, body: dict[str, Any], target: str) -> None:
    response = app_api(WRITE).post(STRENGTHS, body)
    assert response.status_code == 400
    assert response.json()["error"]["target"] == target, response.json()
    assert not StrengthPolicy.objects.exists()
    failure = AuditEvent.objects.get(activity="authenticationStrengthPolicy.create")
    assert failure.result == "failure" and failure.reason


def test_conditional_access_policies_crud_and_strength_usage(app_api: Any) -> None:
    api = app_api(WRITE)
    strength = api.post(STRENGTHS, {"displayName": "Keys", "allowedCombinations": ["fido2"]}).json()
    created = api.post(CA, ca_body(grantControls={"operator": "OR",
                                                  "authenticationStrength": {"id": strength["id"]}}))
    assert created.status_code == 201, created.content
    policy = created.json()
    # the relationship expanded, as Graph answers it: the whole strength
    assert policy["grantControls"]["authenticationStrength"] == {
        k: v for k, v in strength.items() if not k.startswith("@")}
    assert policy["conditions"]["clientAppTypes"] == ["all"] and policy["sessionControls"] is None
    assert [p["id"] for p in api.get(CA).json()["value"]] == [policy["id"]]
    usage = api.get(f"{STRENGTHS}/{strength['id']}/usage").json()
    assert [p["id"] for p in usage["mfa"]] == [policy["id"]] and usage["none"] == []
    # A strength in use can't be deleted; renaming it shows in the policy.
    assert error_of(api.delete(f"{STRENGTHS}/{strength['id']}"))[:2] == (400, "Request_BadRequest")
    api.patch(f"{STRENGTHS}/{strength['id']}", {"displayName": "Security keys"})
    assert api.get(f"{CA}/{policy['id']}").json()["grantControls"]["authenticationStrength"]["displayName"] == (
        "Security keys")
    # PATCH merges objects: only the excluded groups change.
    group = str(uuid.uuid4())
    assert api.patch(f"{CA}/{policy['id']}", {"conditions": {"users": {"excludeGroups": [group]}}}).status_code == 204
    users = api.get(f"{CA}/{policy['id']}").json()["conditions"]["users"]
    assert users["includeUsers"] == ["All"] and users["excludeGroups"] == [group]
    assert api.delete(f"{CA}/{policy['id']}").status_code == 204
    assert error_of(api.get(f"{CA}/{policy['id']}"))[:2] == (404, "Request_ResourceNotFound")
    assert api.delete(f"{STRENGTHS}/{strength['id']}").status_code == 204


@pytest.mark.parametrize(("change", "target"), [
    ({"state": "on"}, "state"),
    ({"grantControls": {"operator": "OR", "builtInControls": ["compliantDevice"]}},
     "grantControls.builtInControls[0]"),
    ({"grantControls": {"operator": "OR", "authenticationStrength": {"id": str(uuid.uuid4())}}},
     "grantControls.authenticationStrength.id"),
    ({"conditions": {"users": {"includeUsers": ["All"]}, "applications": {"includeApplications": ["All"]},
                     "locations": {"includeLocations": ["All"]}}}, "conditions.locations"),
    ({"conditions": {"users": {"includeUsers": ["someone"]}, "applications": {"includeApplications": ["All"]}}},
     "conditions.users.includeUsers[0]"),
    ({"id": str(uuid.uuid4())}, "id"),
])
def test_bad_conditional_access_policies_are_refused_naming_the_property(app_api: Any, change: dict[str, Any],
                                                                        target: str) -> None:
    response = app_api(WRITE).post(CA, ca_body(**change))
    assert response.status_code == 400, response.content
    assert response.json()["error"]["target"] == target, response.json()
    assert not AccessPolicy.objects.exists()


@pytest.mark.parametrize("path", [f"{CA}/not-a-guid", f"{CA}/{uuid.uuid4()}", f"{STRENGTHS}/nope",
                                  f"{STRENGTHS}/{uuid.uuid4()}", f"{STRENGTHS}/{uuid.uuid4()}/usage"])
def test_unknown_ids_are_404(app_api: Any, path: str) -> None:
    assert error_of(app_api(WRITE).get(path))[:2] == (404, "Request_ResourceNotFound")


def test_a_policy_that_would_lock_every_global_administrator_out_of_the_admin_centre_is_refused(
        app_api: Any, make_user: Any) -> None:
    admin = make_user(upn="root@contoso.com", roles=(DirectoryRole.GLOBAL_ADMINISTRATOR,))
    stored_passkey(admin)  # a synced or unknown passkey: its AAGUID is no YubiKey
    api = app_api(WRITE)
    admin_centre = {"users": {"includeUsers": ["All"]},
                    "applications": {"includeApplications": ["MicrosoftAdminPortals"]}}
    block = {"operator": "OR", "builtInControls": ["block"]}
    blocked = api.post(CA, ca_body(conditions=admin_centre, grantControls=block))
    status, _, message = error_of(blocked)
    assert status == 400 and "lock every Global Administrator out of the admin centre" in message
    assert "target" not in blocked.json()["error"]  # about the whole policy, not one property
    assert not AccessPolicy.objects.exists()
    # Report-only is fine; excluding the Global Administrator role is fine; so is a strength their passkey meets.
    assert api.post(CA, ca_body(conditions=admin_centre, state="enabledForReportingButNotEnforced",
                                grantControls=block)).status_code == 201
    excluded = {"users": {"includeUsers": ["All"], "excludeRoles": [DirectoryRole.GLOBAL_ADMINISTRATOR.value]},
                "applications": {"includeApplications": ["MicrosoftAdminPortals"]}}
    assert api.post(CA, ca_body(conditions=excluded, grantControls=block)).status_code == 201
    assert api.post(CA, ca_body(conditions=admin_centre)).status_code == 201  # phishing-resistant: a passkey is
    keys = api.post(STRENGTHS, {"displayName": "YubiKeys", "allowedCombinations": ["fido2"],
                                "combinationConfigurations": [{"appliesToCombinations": ["fido2"],
                                                               "allowedAAGUIDs": [YUBIKEY]}]}).json()
    only_yubikeys = api.post(CA, ca_body(conditions=admin_centre, grantControls={
        "operator": "OR", "authenticationStrength": {"id": keys["id"]}}))
    assert error_of(only_yubikeys)[0] == 400
    refusal = AuditEvent.objects.filter(activity="conditionalAccessPolicy.create", result="failure").first()
    assert refusal is not None and refusal.reason == "adminLockout"
