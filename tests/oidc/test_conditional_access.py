"""Conditional Access at the authorization endpoint: a policy requiring phishing-resistant MFA for one app steps a
pass (or pass + authenticator-app code) session up to a passkey; a custom strength whose allowed models exclude the
passkey refuses it naming the rule; report-only lets people in; block shows a page (``access_denied`` with
``prompt=none``); policies for other apps don't apply."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client

from passgate.access.services import ca_policy_create, strength_create
from passgate.audit.services import Actor
from passgate.core.access import PHISHING_RESISTANT_MFA_ID
from tests.oidc.conftest import audit, query_of, verify_id_token
from tests.oidc.test_session_and_stepup import step_up_with_passkey

pytestmark = pytest.mark.django_db
ADMIN = Actor.system("ca test")


def policy(app_id: str, *, grant: dict[str, Any], state: str = "enabled", name: str = "Payroll needs a passkey",
           users: dict[str, Any] | None = None) -> Any:
    return ca_policy_create(body={
        "displayName": name, "state": state,
        "conditions": {"users": users or {"includeUsers": ["All"]},
                       "applications": {"includeApplications": [app_id]}},
        "grantControls": {"operator": "OR", **grant}}, actor=ADMIN)


PHR = {"authenticationStrength": {"id": PHISHING_RESISTANT_MFA_ID}}


def test_a_pass_session_is_stepped_up_to_a_passkey_for_the_protected_app_only(make_rp: Any, tap_person: Any) -> None:
    _, auth, client = tap_person
    payroll, wiki = make_rp(client, name="Payroll"), make_rp(client, name="Wiki")
    policy(payroll.client_id, grant=PHR)
    assert "code" in query_of(wiki.authorize()["Location"])  # not covered by the policy
    response = payroll.authorize()
    target = urlsplit(response["Location"])
    assert target.path == "/signin/step-up"
    assert parse_qs(target.query)["strength"] == [PHISHING_RESISTANT_MFA_ID]
    page = client.get(response["Location"])
    assert b"Phishing-resistant MFA" in page.content
    done = step_up_with_passkey(client, auth, response["Location"])
    assert done.status_code == 200
    code = query_of(client.get(done.json()["redirect"])["Location"])["code"]
    claims = verify_id_token(payroll.redeem(code).json()["id_token"], audience=payroll.client_id)
    assert claims["acr"] == PHISHING_RESISTANT_MFA_ID and "hwk" in claims["amr"]


def test_prompt_none_with_a_step_up_needed_is_interaction_required(make_rp: Any, tap_person: Any) -> None:
    _, _, client = tap_person
    payroll = make_rp(client, name="Payroll")
    policy(payroll.client_id, grant=PHR)
    answer = query_of(payroll.authorize(prompt="none")["Location"])
    assert answer["error"] == "interaction_required" and "code" not in answer


def test_a_custom_strength_whose_models_exclude_the_passkey_refuses_it_naming_the_rule(make_rp: Any,
                                                                                      tap_person: Any) -> None:
    _, auth, client = tap_person
    yubikeys = strength_create(body={"displayName": "YubiKeys only", "allowedCombinations": ["fido2"],
                                     "combinationConfigurations": [{"appliesToCombinations": ["fido2"],
                                                                    "allowedAAGUIDs": [
                                                                        "cb69481e-8ff7-4039-93ec-0a2729a154a8"]}]},
                               actor=ADMIN)
    payroll = make_rp(client, name="Payroll")
    policy(payroll.client_id, grant={"authenticationStrength": {"id": yubikeys.id}})
    response = payroll.authorize()
    assert parse_qs(urlsplit(response["Location"]).query)["strength"] == [yubikeys.id]
    refused = step_up_with_passkey(client, auth, response["Location"])
    assert refused.status_code == 403
    message = refused.json()["error"]["message"]
    assert "YubiKeys only" in message and "This passkey isn't enough" in message
    # Still no code: the next authorization request asks again.
    assert urlsplit(payroll.authorize()["Location"]).path == "/signin/step-up"


def test_report_only_lets_the_person_in(make_rp: Any, tap_person: Any) -> None:
    _, _, client = tap_person
    payroll = make_rp(client, name="Payroll")
    policy(payroll.client_id, grant={"builtInControls": ["block"]}, state="enabledForReportingButNotEnforced")
    assert "code" in query_of(payroll.authorize()["Location"])


def test_a_block_policy_shows_a_page_and_refuses_silently_with_prompt_none(make_rp: Any, tap_person: Any) -> None:
    _, _, client = tap_person
    payroll = make_rp(client, name="Payroll")
    policy(payroll.client_id, grant={"builtInControls": ["block"]}, name="No Payroll from here")
    page = payroll.authorize()
    assert page.status_code == 403
    text = page.content.decode()
    assert "You can't get to Payroll right now" in text and "No Payroll from here" in text
    assert audit("oidc.authorize", result="failure")[-1].reason == "conditional_access_blocked"
    silent = query_of(payroll.authorize(prompt="none")["Location"])
    assert silent["error"] == "access_denied" and "code" not in silent


def test_excluded_people_are_not_stepped_up(make_rp: Any, tap_person: Any) -> None:
    user, _, client = tap_person
    payroll = make_rp(client, name="Payroll")
    policy(payroll.client_id, grant=PHR, users={"includeUsers": ["All"], "excludeUsers": [str(user.pk)]})
    assert "code" in query_of(payroll.authorize()["Location"])


def test_a_fresh_browser_signs_in_before_conditional_access_is_evaluated(make_rp: Any, db: Any) -> None:
    payroll = make_rp(Client(), name="Payroll")
    policy(payroll.client_id, grant={"builtInControls": ["block"]})
    assert urlsplit(payroll.authorize()["Location"]).path == "/signin"


def test_each_attempt_is_in_the_sign_in_log_with_its_policies(make_rp: Any, tap_person: Any) -> None:
    from passgate.audit.models import SignInEvent

    user, auth, client = tap_person
    payroll = make_rp(client, name="Payroll")
    policy(payroll.client_id, grant=PHR)
    policy(payroll.client_id, grant={"builtInControls": ["block"]}, state="enabledForReportingButNotEnforced",
           name="Pilot: block Payroll")
    response = payroll.authorize()
    done = step_up_with_passkey(client, auth, response["Location"])
    assert "code" in query_of(client.get(done.json()["redirect"])["Location"])
    interrupted, granted = SignInEvent.objects.filter(app_id=payroll.client_id).order_by("created_at")
    assert (interrupted.error_code, interrupted.conditional_access_status) == (50074, "failure")
    assert (granted.error_code, granted.conditional_access_status) == (0, "success")
    assert granted.user_id == user.pk and granted.acr == PHISHING_RESISTANT_MFA_ID
    assert granted.aaguid is not None and "hwk" in granted.amr
    results = {p["displayName"]: p["result"] for p in granted.applied_policies}
    assert results == {"Payroll needs a passkey": "success", "Pilot: block Payroll": "reportOnlyFailure"}
    methods = [d["authenticationMethod"] for d in granted.authentication_details]
    assert methods == ["Temporary Access Pass", "Passkey (device-bound)"]
