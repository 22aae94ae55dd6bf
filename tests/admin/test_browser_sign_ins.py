"""Sign-in logs in a real browser: the list with its filters, and one sign-in's steps and Conditional Access results.
Screenshots go to pytest's tmp path (``--basetemp=/tmp/shots`` to keep them)."""

from __future__ import annotations

import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from passgate.audit.models import SignInEvent
from passgate.audit.services import RequestContext
from passgate.audit.signins import SignInError, signin_record
from tests.admin.test_browser_admin import shot, sign_in_as_admin

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CHROME = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.6367.91 "
          "Safari/537.36")
SAFARI = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
          "Version/17.4 Mobile/15E148 Safari/604.1")
APPLE_PASSWORDS = "fbfc3007-154e-4ecc-8c0b-6e020557d7bd"
PAYROLL, WIKI = str(uuid.uuid4()), str(uuid.uuid4())


def _history(ada: Any) -> SignInEvent:
    now = timezone.now()
    step = {"authenticationMethod": "Passkey (FIDO2)", "authenticationMethodDetail": "Apple Passwords",
            "authenticationStepDateTime": now, "authenticationStepRequirement": "Primary authentication",
            "authenticationStepResultDetail": "MFA successfully completed", "succeeded": True}
    report_only = {"id": str(uuid.uuid4()), "displayName": "Pilot: device-bound passkeys only",
                   "enforcedGrantControls": ["RequireAuthenticationStrength"], "enforcedSessionControls": [],
                   "result": "reportOnlyFailure",
                   "reason": "The strength “Device-bound keys” allows YubiKey 5 Series; this was Apple Passwords."}
    granted = {"id": str(uuid.uuid4()), "displayName": "Phishing-resistant MFA for payroll",
               "enforcedGrantControls": ["RequireAuthenticationStrength"], "enforcedSessionControls": [],
               "result": "success"}
    other = {"id": str(uuid.uuid4()), "displayName": "Block the wiki from outside", "enforcedGrantControls": ["block"],
             "enforcedSessionControls": [], "result": "notApplied"}
    event = signin_record(
        user_id=str(ada.pk), user_principal_name=ada.user_principal_name, user_display_name=ada.display_name,
        app_id=PAYROLL, app_display_name="Payroll", context=RequestContext(ip_address="203.0.113.7", user_agent=SAFARI),
        succeeded=True, authentication_details=[step], authentication_requirement="multiFactorAuthentication",
        authentication_strength={"id": "00000000-0000-0000-0000-000000000004", "displayName": "Phishing-resistant MFA"},
        acr="urn:passgate:acr:phishing-resistant", amr=["hwk", "user"], aaguid=APPLE_PASSWORDS,
        applied_policies=[granted, report_only, other], conditional_access_status="success")
    signin_record(
        user_id=None, user_principal_name="mallory@contoso.com", app_id=WIKI, app_display_name="Wiki",
        context=RequestContext(ip_address="198.51.100.23", user_agent=CHROME), succeeded=False,
        error_code=SignInError.INVALID_CREDENTIALS, failure_reason="That passkey isn't registered here.",
        reason_code="unknown_credential",
        authentication_details=[{**step, "authenticationMethodDetail": None, "succeeded": False,
                                 "authenticationStepResultDetail": "Unknown passkey"}])
    blocked = signin_record(
        user_id=str(ada.pk), user_principal_name=ada.user_principal_name, user_display_name=ada.display_name,
        app_id=WIKI, app_display_name="Wiki", context=RequestContext(ip_address="203.0.113.7", user_agent=CHROME),
        succeeded=False, error_code=SignInError.BLOCKED_BY_CONDITIONAL_ACCESS,
        failure_reason="Access has been blocked by Conditional Access policies.", reason_code="ca_blocked",
        authentication_details=[step], aaguid=APPLE_PASSWORDS, conditional_access_status="failure",
        applied_policies=[{**other, "result": "failure", "reason": "This policy blocks the wiki."}])
    SignInEvent.objects.filter(pk=blocked.pk).update(created_at=now - timedelta(minutes=3))
    return event


def test_sign_in_logs(new_tab: Any, make_user: Any, issue_tap: Any, tmp_path: Path) -> None:
    tab = new_tab()
    ada = sign_in_as_admin(tab, make_user, issue_tap, "ada@contoso.com", "Ada Lovelace")
    event = _history(ada)
    page = tab.page
    page.click("text=Sign-in logs")
    tab.wait_for_path("/admin/sign-ins")
    # the three above, and any the admin's own way into the admin centre recorded
    assert page.locator("tr[data-sign-in-id]").count() == SignInEvent.objects.count() >= 3
    shot(tab, tmp_path / "admin-sign-ins.png")

    page.select_option("#f-status", "failure")
    page.click("#sign-in-filters button[type=submit]")
    page.wait_for_selector("a.link:has-text('Clear')")
    assert page.locator("tr[data-sign-in-id]").count() == SignInEvent.objects.exclude(error_code=0).count() >= 2

    tab.goto(f"/admin/sign-ins/{event.pk}")
    page.wait_for_selector("#policies")
    text = page.inner_text("#policies")
    assert "Report-only: would have required an authentication strength" in text
    assert "Apple Passwords" in page.inner_text(".columns")
    shot(tab, tmp_path / "admin-sign-in-detail.png")
