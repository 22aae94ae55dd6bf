"""signin_record: what a sign-in event stores (and that it stores no secret), its checks, and the reads."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from passgate.audit.models import SignInEvent
from passgate.audit.services import RequestContext
from passgate.audit.signins import (
    SignInError,
    methods_used,
    signin_as_dict,
    signin_get,
    signin_list,
    signin_page_key,
    signin_purge,
    signin_record,
)
from passgate.core.graph.auditlogs import SIGN_IN
from passgate.core.graph.odata import parse_filter

pytestmark = pytest.mark.django_db

APP = "6a1f8a7e-6bd2-4d3e-9a51-1c0cbb1f2d11"
USER = "0f8fad5b-d9cb-469f-a165-70867728950e"
AAGUID = "ee882879-721c-4913-9775-3dfcce97072a"  # YubiKey 5 Series
SECRET = "K7PM-3QXR-9TWA-HD4F"
CONTEXT = RequestContext(ip_address="203.0.113.7", user_agent="Mozilla/5.0 Firefox/125.0",
                         extra={"code": SECRET, "cookie": SECRET})
STEP = {"authenticationMethod": "Passkey (FIDO2)", "authenticationMethodDetail": "YubiKey 5 Series",
        "authenticationStepDateTime": datetime(2026, 7, 1, 9, 30, tzinfo=UTC),
        "authenticationStepRequirement": "Primary authentication",
        "authenticationStepResultDetail": "MFA successfully completed", "succeeded": True}
POLICY = {"id": "5e7b3c4a-0000-4000-8000-000000000001", "displayName": "Passkeys for payroll",
          "enforcedGrantControls": ["RequireAuthenticationStrength"], "enforcedSessionControls": [],
          "result": "reportOnlyFailure", "reason": "A passkey of an allowed model is needed."}


def record(**overrides: Any) -> SignInEvent:
    kwargs: dict[str, Any] = {
        "user_id": USER, "user_principal_name": "Ada@Contoso.com", "user_display_name": "Ada Lovelace",
        "app_id": APP, "app_display_name": "Payroll", "context": CONTEXT, "succeeded": True,
        "authentication_details": [STEP], "authentication_requirement": "multiFactorAuthentication",
        "authentication_strength": {"id": "00000000-0000-0000-0000-000000000004",
                                    "displayName": "Phishing-resistant MFA"},
        "acr": "urn:passgate:acr:phishing-resistant", "amr": ["hwk", "user", "pop"], "aaguid": AAGUID,
        "applied_policies": [POLICY], "conditional_access_status": "success", "correlation_id": "corr-1",
    }
    kwargs.update(overrides)
    return signin_record(**kwargs)


def test_a_sign_in_is_one_insert_and_stores_what_happened() -> None:
    with CaptureQueriesContext(connection) as queries:
        event = record()
    assert [q["sql"].split()[0] for q in queries.captured_queries] == ["INSERT"]
    event = SignInEvent.objects.get(pk=event.pk)
    assert (event.user_id, event.user_principal_name, event.upn_normalized) == (
        uuid.UUID(USER), "Ada@Contoso.com", "ada@contoso.com")
    assert (event.app_id, event.app_display_name, event.ip_address) == (APP, "Payroll", "203.0.113.7")
    assert event.succeeded and event.error_code == 0 and event.conditional_access_status == "success"
    assert event.authentication_details == [{**STEP, "authenticationStepDateTime": "2026-07-01T09:30:00Z"}]
    assert event.applied_policies == [POLICY]
    assert event.authentication_strength == {"id": "00000000-0000-0000-0000-000000000004",
                                             "displayName": "Phishing-resistant MFA"}
    assert (event.acr, event.amr, str(event.aaguid)) == ("urn:passgate:acr:phishing-resistant",
                                                         ["hwk", "user", "pop"], AAGUID)
    assert methods_used(event) == ["Passkey (FIDO2)"]
    assert abs(event.created_at - timezone.now()) < timedelta(seconds=5)


def test_nothing_secret_is_stored() -> None:
    """The request context's extras (where a code or cookie might sit) are never read; unknown keys are refused."""
    event = record()
    row = json.dumps(signin_as_dict(SignInEvent.objects.get(pk=event.pk)), default=str)
    assert SECRET not in row
    with pytest.raises(ValueError, match="unknown key"):
        record(authentication_details=[{**STEP, "temporaryAccessPass": SECRET}])
    with pytest.raises(ValueError, match="unknown key"):
        record(applied_policies=[{**POLICY, "token": SECRET}])
    with pytest.raises(ValueError, match="'id' and 'displayName' only"):
        record(authentication_strength={"id": "x", "secret": SECRET})
    assert SignInEvent.objects.count() == 1


def test_a_failure_for_an_unknown_user() -> None:
    event = record(user_id=None, user_principal_name=" nobody@contoso.com ", succeeded=False,
                   error_code=SignInError.INVALID_CREDENTIALS, failure_reason="That passkey isn't known here.",
                   reason_code="unknown_credential", authentication_details=[{**STEP, "succeeded": False}],
                   applied_policies=(), conditional_access_status="notApplied", aaguid=None,
                   authentication_strength=None, acr=None, amr=())
    assert event.user_id is None and event.user_principal_name == "nobody@contoso.com"
    assert not event.succeeded and event.error_code == 50126 and event.reason_code == "unknown_credential"
    assert methods_used(event) == []  # no step succeeded


@pytest.mark.parametrize(("overrides", "message"), [
    ({"succeeded": False}, "non-zero error_code"),
    ({"error_code": 50126}, "non-zero error_code"),
    ({"conditional_access_status": "blocked"}, "conditional_access_status"),
    ({"authentication_requirement": "twoFactor"}, "authentication_requirement"),
    ({"applied_policies": [{**POLICY, "result": "maybe"}]}, "applied_policies.result"),
    ({"authentication_details": [{**STEP, "succeeded": "yes"}]}, "succeeded must be true or false"),
    ({"authentication_details": [{**STEP, "authenticationStepDateTime": datetime(2026, 7, 1)}]},  # noqa: DTZ001
     "timezone-aware"),
    ({"amr": "hwk"}, "list of strings"),
    ({"app_id": ""}, "app_id is required"),
    ({"aaguid": "not-an-aaguid"}, "badly formed"),
    ({"user_id": "not-a-uuid"}, "badly formed"),
])
def test_programming_mistakes_are_refused(overrides: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        record(**overrides)
    assert SignInEvent.objects.count() == 0


def test_long_and_odd_values_are_bounded() -> None:
    event = record(user_principal_name="u" * 400, failure_reason="", app_display_name="A" * 999,
                   context=RequestContext(ip_address="not an address", user_agent="X" * 2000),
                   correlation_id="c" * 100, aaguid="00000000-0000-0000-0000-000000000000")
    event.refresh_from_db()
    assert len(event.user_principal_name) == 256 and len(event.app_display_name) == 256
    assert event.ip_address is None and len(event.user_agent) == 512 and len(event.correlation_id) == 64
    assert event.aaguid is None  # the all-zero AAGUID says nothing about the model


def test_reads_filter_and_page_newest_first() -> None:
    events = [record(correlation_id=f"c{n}") for n in range(5)]
    base = timezone.now() - timedelta(hours=1)
    for n, event in enumerate(events):  # c0 oldest ... c4 newest; c3 and c4 at the same instant
        SignInEvent.objects.filter(pk=event.pk).update(created_at=base + timedelta(minutes=min(n, 3)))
    record(user_id=None, user_principal_name="eve@contoso.com", succeeded=False, error_code=50126,
           correlation_id="fail")
    first = signin_list(limit=3)
    assert [e.correlation_id for e in first] == ["fail", *sorted(["c3", "c4"], key=lambda c: str(
        next(e.pk for e in events if e.correlation_id == c)), reverse=True)]
    rest = signin_list(after=signin_page_key(first[-1]))
    assert [e.correlation_id for e in rest] == ["c2", "c1", "c0"]
    assert [e.correlation_id for e in signin_list(succeeded=False)] == ["fail"]
    assert len(signin_list(succeeded=True)) == 5

    def where(text: str) -> list[str]:
        return [e.correlation_id for e in signin_list(where=parse_filter(text, SIGN_IN.query_spec).clauses)]

    assert where("userPrincipalName eq 'EVE@contoso.com'") == ["fail"]
    assert sorted(where("startswith(userPrincipalName,'ADA')")) == ["c0", "c1", "c2", "c3", "c4"]
    assert where("status/errorCode eq 50126") == ["fail"]
    assert len(where(f"userId eq '{USER}' and appId eq '{APP.upper()}'")) == 5
    start = (base + timedelta(minutes=2)).astimezone(UTC).replace(microsecond=0) + timedelta(seconds=1)
    assert sorted(where(f"createdDateTime ge {start.isoformat()}".replace("+00:00", "Z"))) == ["c3", "c4", "fail"]
    assert where("ipAddress eq '203.0.113.7' and correlationId eq 'c1'") == ["c1"]
    assert where("ipAddress eq 'garbage'") == [] and where("id eq 'nope'") == []
    assert where(f"id eq '{events[0].pk}'") == ["c0"]
    assert signin_get(event_id=str(events[0].pk)) == events[0]
    assert signin_get(event_id="nope") is None and signin_get(event_id=str(uuid.uuid4())) is None


def test_purge_keeps_recent_events() -> None:
    old, recent = record(), record()
    SignInEvent.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=31))
    assert signin_purge(older_than_days=30) == 1
    assert list(SignInEvent.objects.values_list("pk", flat=True)) == [recent.pk]
    with pytest.raises(ValueError):
        signin_purge(older_than_days=0)
