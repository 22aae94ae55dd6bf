"""Sign-in logs in the admin centre: who may see them, the filters, paging, bad filters answered 400, and one
sign-in's authentication steps and Conditional Access results (report-only ones as "would have")."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from passgate.audit.models import AuditEvent, SignInEvent
from passgate.audit.services import RequestContext
from passgate.audit.signins import SignInError, signin_record
from tests.admin.conftest import APA, CAA, GA, GR, text_of

pytestmark = pytest.mark.django_db

APPLE_PASSWORDS = "fbfc3007-154e-4ecc-8c0b-6e020557d7bd"  # named by the bundled community catalogue
PAYROLL, WIKI = "6a1f8a7e-6bd2-4d3e-9a51-1c0cbb1f2d11", "0c9b7a8e-1111-4a2b-9c3d-2e4f5a6b7c8d"
STEP = {"authenticationMethod": "Passkey (FIDO2)", "authenticationMethodDetail": "Apple Passwords",
        "authenticationStepDateTime": datetime(2026, 7, 1, 9, 30, tzinfo=UTC),
        "authenticationStepRequirement": "Primary authentication",
        "authenticationStepResultDetail": "MFA successfully completed", "succeeded": True}
REPORT_ONLY_BLOCK = {"id": str(uuid.uuid4()), "displayName": "Block the wiki (pilot)",
                     "enforcedGrantControls": ["block"], "enforcedSessionControls": [], "result": "reportOnlyFailure",
                     "reason": "This policy blocks the wiki."}
REPORT_ONLY_STRENGTH = {"id": str(uuid.uuid4()), "displayName": "Pilot: passkeys only",
                        "enforcedGrantControls": ["RequireAuthenticationStrength"], "enforcedSessionControls": [],
                        "result": "reportOnlyFailure", "reason": "A passkey of an allowed model is needed."}
GRANTED = {"id": str(uuid.uuid4()), "displayName": "MFA for everyone", "enforcedGrantControls": ["Mfa"],
           "enforcedSessionControls": [], "result": "success"}


def rows(response: Any) -> int:
    return response.content.count(b"data-sign-in-id=")


def sign_in(**overrides: Any) -> SignInEvent:
    kwargs: dict[str, Any] = {
        "user_id": None, "user_principal_name": "pat@contoso.com", "user_display_name": "Pat Example",
        "app_id": PAYROLL, "app_display_name": "Payroll",
        "context": RequestContext(ip_address="203.0.113.7", user_agent="Mozilla/5.0 (X11; Linux x86_64; rv:125.0) "
                                                                        "Gecko/20100101 Firefox/125.0"),
        "succeeded": True, "authentication_details": [STEP], "aaguid": APPLE_PASSWORDS,
        "authentication_requirement": "multiFactorAuthentication",
        "authentication_strength": {"id": "00000000-0000-0000-0000-000000000004",
                                    "displayName": "Phishing-resistant MFA"},
        "acr": "urn:passgate:acr:phishing-resistant", "amr": ["hwk", "user"],
        "applied_policies": [GRANTED, REPORT_ONLY_STRENGTH, REPORT_ONLY_BLOCK], "conditional_access_status": "success",
    }
    kwargs.update(overrides)
    return signin_record(**kwargs)


@pytest.fixture
def log(world: dict[str, Any]) -> dict[str, SignInEvent]:
    pat = sign_in(user_id=str(world["pat"].pk))
    sam = sign_in(user_id=str(world["sam"].pk), user_principal_name="sam@contoso.com", user_display_name="Sam",
                  app_id=WIKI, app_display_name="Wiki", succeeded=False,
                  error_code=SignInError.BLOCKED_BY_CONDITIONAL_ACCESS, failure_reason="A policy blocks the wiki.",
                  reason_code="ca_blocked", conditional_access_status="failure", aaguid=None,
                  authentication_strength=None,
                  applied_policies=[{**REPORT_ONLY_BLOCK, "result": "failure", "reason": "Blocked."}])
    old = sign_in(user_principal_name="old@contoso.com", conditional_access_status="notApplied", applied_policies=())
    SignInEvent.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=3))
    return {"pat": pat, "sam": sam, "old": old}


def test_who_may_see_them(log: Any, admin_as: Any) -> None:
    for role in (GA, GR):
        client, _ = admin_as(role)
        page = client.get("/admin/sign-ins")
        assert page.status_code == 200 and rows(page) == 3
        assert b'href="/admin/sign-ins" aria-current="page">Sign-in logs</a>' in page.content
        assert client.get(f"/admin/sign-ins/{log['pat'].pk}").status_code == 200
    for role in (APA, CAA):
        client, user = admin_as(role)
        assert b"Sign-in logs" not in client.get("/admin").content
        denied = client.get("/admin/sign-ins")
        assert denied.status_code == 403 and "Global Reader, Global Administrator" in text_of(denied)
        assert client.get(f"/admin/sign-ins/{log['pat'].pk}").status_code == 403
        assert AuditEvent.objects.filter(activity="adminCentre.audit.read", actor_id=user.pk).count() == 2
    anonymous = Client().get("/admin/sign-ins")
    assert anonymous.status_code == 302 and anonymous["Location"].startswith("/signin?next=/admin/sign-ins")


def test_the_table(log: Any, admin_as: Any) -> None:
    client, _ = admin_as(GR)
    page = client.get("/admin/sign-ins")
    text = text_of(page)
    assert "Passkey (FIDO2) Apple Passwords Strength: Phishing-resistant MFA" in text
    assert "A policy blocks the wiki." in text and "Not applied" in text
    body = page.content.decode()
    assert body.index(str(log["pat"].pk)) < body.index(str(log["old"].pk))  # newest first
    assert f'href="/admin/sign-ins/{log["sam"].pk}"' in body


def test_filters(log: Any, admin_as: Any) -> None:
    client, _ = admin_as(GA)
    assert rows(client.get("/admin/sign-ins?user=PAT@")) == 1
    assert rows(client.get("/admin/sign-ins?user=contoso")) == 3
    assert rows(client.get(f"/admin/sign-ins?app={WIKI}")) == 1
    assert rows(client.get("/admin/sign-ins?status=failure")) == 1
    assert rows(client.get("/admin/sign-ins?status=success")) == 2
    assert rows(client.get("/admin/sign-ins?ca=notApplied")) == 1
    assert rows(client.get("/admin/sign-ins?ca=failure&status=failure&user=sam")) == 1
    today = timezone.now().date()
    assert rows(client.get(f"/admin/sign-ins?from={today}&to={today}")) == 2
    three_days_ago = today - timedelta(days=3)
    assert rows(client.get(f"/admin/sign-ins?to={three_days_ago}")) == 1
    page = client.get(f"/admin/sign-ins?app={WIKI}")
    assert f'<option value="{WIKI}" selected>Wiki</option>' in page.content.decode()
    assert "No sign-ins match these filters." in text_of(client.get("/admin/sign-ins?user=nobody"))
    assert "Clear" in text_of(client.get("/admin/sign-ins?user=nobody"))


def test_empty_log(admin_as: Any) -> None:
    client, _ = admin_as(GR)
    assert "No one has signed in to an app yet." in text_of(client.get("/admin/sign-ins"))


@pytest.mark.parametrize(("query", "message"), [
    ("from=yesterday", "“yesterday” isn't a date; use the form 2026-01-31."),
    ("to=2026-02-30", "“2026-02-30” isn't a date"),
    ("from=2026-03-02&to=2026-03-01", "The end date is before the start date."),
    ("status=maybe", "“maybe” isn't a status; choose success or failure."),
    ("ca=blocked", "“blocked” isn't a Conditional Access result"),
])
def test_bad_filters_answer_400(log: Any, query: str, message: str, admin_as: Any) -> None:
    client, _ = admin_as(GR)
    response = client.get(f"/admin/sign-ins?{query}")
    assert response.status_code == 400 and message in text_of(response)
    assert rows(response) == 0


def test_paging_keeps_the_filters(admin_as: Any) -> None:
    client, _ = admin_as(GR)
    for n in range(120):
        sign_in(user_principal_name=f"user{n}@contoso.com", applied_policies=())
    first = client.get("/admin/sign-ins?status=success")
    assert rows(first) == 50 and "1\u201350 of 120" in text_of(first)
    assert b"status=success&amp;page=2" in first.content
    last = client.get("/admin/sign-ins?status=success&page=3")
    assert rows(last) == 20 and "user0@contoso.com" in text_of(last) and "user119@" not in text_of(last)


def test_the_detail_page(log: Any, world: Any, admin_as: Any) -> None:
    client, _ = admin_as(GA)
    page = client.get(f"/admin/sign-ins/{log['pat'].pk}")
    text = text_of(page)
    assert "pat@contoso.com → Payroll" in text and "Conditional Access: Success" in text
    assert f'href="/admin/users/{world["pat"].pk}"' in page.content.decode()
    assert "Apple Passwords" in text and APPLE_PASSWORDS in text and "Firefox 125.0 on Linux" in text
    assert "Multifactor authentication" in text and "Phishing-resistant MFA" in text and "hwk, user" in text
    assert ("2026-07-01T09:30:00Z Passkey (FIDO2) Apple Passwords Primary authentication Succeeded "
            "MFA successfully completed") in text
    assert "MFA for everyone Granted Require multifactor authentication" in text
    assert ("Pilot: passkeys only Report-only: would have required an authentication strength "
            "Require authentication strength A passkey of an allowed model is needed.") in text
    assert "Block the wiki (pilot) Report-only: would have blocked access Block access" in text

    failed = text_of(client.get(f"/admin/sign-ins/{log['sam'].pk}"))
    assert "Error 53003. A policy blocks the wiki. (reason ca_blocked" in failed
    assert "Block the wiki (pilot) Blocked Block access Blocked." in failed

    unknown = text_of(client.get(f"/admin/sign-ins/{log['old'].pk}"))
    assert "No such user in the directory" in unknown and "No Conditional Access policy was evaluated." in unknown


def test_bad_ids_are_404(admin_as: Any) -> None:
    client, _ = admin_as(GR)
    missing = client.get(f"/admin/sign-ins/{uuid.uuid4()}")
    assert missing.status_code == 404 and "There is no such sign-in." in text_of(missing)
    assert client.get("/admin/sign-ins/not-an-id").status_code == 404
    assert client.post("/admin/sign-ins").status_code == 405
