"""/auditLogs/signIns and /auditLogs/directoryAudits: Graph's shapes (v1.0 and beta), filters, paging, who sees the
Conditional Access details, and bad input answered with Graph's envelope."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

import pytest
from django.utils import timezone

from passgate.audit.models import AuditEvent, Category, Result, SignInEvent
from passgate.audit.services import Actor, RequestContext, Target, audit_record
from passgate.audit.signins import SignInError, signin_record
from passgate.core.graph.organization import tenant_id
from passgate.directory.models import DirectoryRole
from tests.graph.conftest import ORIGIN, error_of

pytestmark = pytest.mark.django_db

SIGN_INS = "/v1.0/auditLogs/signIns"
AUDITS = "/v1.0/auditLogs/directoryAudits"
APP = "6a1f8a7e-6bd2-4d3e-9a51-1c0cbb1f2d11"
AAGUID = "ee882879-721c-4913-9775-3dfcce97072a"
CHROME = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.6367.91 "
          "Safari/537.36")
V1_PROPERTIES = {"id", "createdDateTime", "userDisplayName", "userPrincipalName", "userId", "appId", "appDisplayName",
                 "ipAddress", "clientAppUsed", "correlationId", "conditionalAccessStatus", "isInteractive",
                 "resourceDisplayName", "resourceId", "riskDetail", "riskLevelAggregated", "riskLevelDuringSignIn",
                 "riskState", "riskEventTypes", "riskEventTypes_v2", "status", "deviceDetail", "location",
                 "appliedConditionalAccessPolicies", "userAgent", "homeTenantId", "resourceTenantId",
                 "servicePrincipalId", "servicePrincipalName", "authenticationAppDeviceDetails"}
BETA_PROPERTIES = V1_PROPERTIES | {"authenticationDetails", "authenticationRequirement", "authenticationMethodsUsed"}
ANNOTATIONS = {"@passgate.acr", "@passgate.amr", "@passgate.authenticationStrength", "@passgate.aaguid"}
REPORT_ONLY = {"id": "11111111-1111-4111-8111-111111111111", "displayName": "Pilot: passkeys only",
               "enforcedGrantControls": ["RequireAuthenticationStrength"], "enforcedSessionControls": [],
               "result": "reportOnlyFailure", "reason": "A passkey is needed."}
ENFORCED = {"id": "22222222-2222-4222-8222-222222222222", "displayName": "MFA for everyone",
            "enforcedGrantControls": ["Mfa"], "enforcedSessionControls": [], "result": "success"}


def sign_in(**overrides: Any) -> SignInEvent:
    kwargs: dict[str, Any] = {
        "user_id": str(uuid.uuid4()), "user_principal_name": "ada@contoso.com", "user_display_name": "Ada Lovelace",
        "app_id": APP, "app_display_name": "Payroll",
        "context": RequestContext(ip_address="203.0.113.7", user_agent=CHROME), "succeeded": True,
        "authentication_details": [{"authenticationMethod": "Passkey (FIDO2)",
                                    "authenticationMethodDetail": "YubiKey 5 Series",
                                    "authenticationStepDateTime": datetime(2026, 7, 1, 9, 30, tzinfo=UTC),
                                    "authenticationStepRequirement": "Primary authentication",
                                    "authenticationStepResultDetail": "MFA successfully completed",
                                    "succeeded": True}],
        "authentication_requirement": "multiFactorAuthentication",
        "authentication_strength": {"id": "00000000-0000-0000-0000-000000000004",
                                    "displayName": "Phishing-resistant MFA"},
        "acr": "urn:passgate:acr:phishing-resistant", "amr": ["hwk", "user"], "aaguid": AAGUID,
        "applied_policies": [ENFORCED, REPORT_ONLY], "conditional_access_status": "success",
        "correlation_id": "c0ffee",
    }
    kwargs.update(overrides)
    return signin_record(**kwargs)


def at(event: Any, when: datetime) -> None:
    type(event).objects.filter(pk=event.pk).update(**{"created_at" if isinstance(event, SignInEvent)
                                                      else "occurred_at": when})


# --- signIns ------------------------------------------------------------------------------------------------------

def test_a_sign_in_as_graph_v1_and_beta(app_api: Any) -> None:
    event = sign_in()
    api = app_api("AuditLog.Read.All", "Policy.Read.All")
    body = api.get(SIGN_INS).json()
    assert body["@odata.context"] == f"{ORIGIN}/v1.0/$metadata#auditLogs/signIns"
    (item,) = body["value"]
    assert set(item) == V1_PROPERTIES | ANNOTATIONS
    assert item == {**item, "id": str(event.pk), "userPrincipalName": "ada@contoso.com", "userId": str(event.user_id),
                    "userDisplayName": "Ada Lovelace", "appId": APP, "appDisplayName": "Payroll",
                    "ipAddress": "203.0.113.7", "clientAppUsed": "Browser", "correlationId": "c0ffee",
                    "conditionalAccessStatus": "success", "isInteractive": True, "resourceDisplayName": "Payroll",
                    "resourceId": APP, "riskDetail": "none", "riskLevelAggregated": "none",
                    "riskLevelDuringSignIn": "none", "riskState": "none", "riskEventTypes": [],
                    "riskEventTypes_v2": []}
    assert item["createdDateTime"].endswith("Z") and len(item["createdDateTime"]) == 20
    assert item["userAgent"] == CHROME and item["homeTenantId"] == item["resourceTenantId"] == tenant_id(ORIGIN)
    assert item["servicePrincipalId"] is None and item["authenticationAppDeviceDetails"] is None
    assert item["status"] == {"errorCode": 0, "failureReason": None, "additionalDetails": None}
    assert item["deviceDetail"]["browser"] == "Chrome 124.0.6367"
    assert item["deviceDetail"]["operatingSystem"] == "Windows10"
    assert item["location"] == {"city": None, "state": None, "countryOrRegion": None, "geoCoordinates": None}
    assert item["@passgate.aaguid"] == AAGUID and item["@passgate.amr"] == ["hwk", "user"]
    assert item["@passgate.acr"] == "urn:passgate:acr:phishing-resistant"
    assert item["@passgate.authenticationStrength"]["displayName"] == "Phishing-resistant MFA"
    # report-only results are an evolvable enum member: unknownFutureValue unless the caller asks for them
    assert [p["result"] for p in item["appliedConditionalAccessPolicies"]] == ["success", "unknownFutureValue"]
    assert item["appliedConditionalAccessPolicies"][1]["@passgate.reason"] == "A passkey is needed."
    assert set(item["appliedConditionalAccessPolicies"][0]) == {"id", "displayName", "enforcedGrantControls",
                                                                "enforcedSessionControls", "result"}
    preferred = api.get(SIGN_INS, HTTP_PREFER="include-unknown-enum-members").json()["value"][0]
    assert [p["result"] for p in preferred["appliedConditionalAccessPolicies"]] == ["success", "reportOnlyFailure"]

    beta = api.get(SIGN_INS.replace("v1.0", "beta")).json()["value"][0]
    assert set(beta) == BETA_PROPERTIES | ANNOTATIONS
    assert beta["authenticationRequirement"] == "multiFactorAuthentication"
    assert beta["authenticationMethodsUsed"] == ["Passkey (FIDO2)"]
    assert beta["authenticationDetails"] == [{
        "authenticationMethod": "Passkey (FIDO2)", "authenticationMethodDetail": "YubiKey 5 Series",
        "authenticationStepDateTime": "2026-07-01T09:30:00Z", "authenticationStepRequirement": "Primary authentication",
        "authenticationStepResultDetail": "MFA successfully completed", "succeeded": True}]

    one = api.get(f"{SIGN_INS}/{event.pk}").json()
    assert one["@odata.context"] == f"{ORIGIN}/v1.0/$metadata#auditLogs/signIns/$entity"
    assert {k: v for k, v in one.items() if k != "@odata.context"} == item


def test_a_failed_sign_in(app_api: Any) -> None:
    sign_in(user_id=None, user_principal_name="nobody@contoso.com", succeeded=False,
            error_code=SignInError.BLOCKED_BY_CONDITIONAL_ACCESS, failure_reason="A policy blocks this app.",
            reason_code="ca_blocked", conditional_access_status="failure", aaguid=None, acr=None, amr=(),
            authentication_strength=None)
    item = app_api("AuditLog.Read.All").get(SIGN_INS).json()["value"][0]
    assert item["userId"] is None and item["conditionalAccessStatus"] == "failure"
    assert item["status"] == {"errorCode": 53003, "failureReason": "A policy blocks this app.",
                              "additionalDetails": "ca_blocked"}
    assert item["@passgate.aaguid"] is None and item["@passgate.acr"] is None


def test_conditional_access_details_need_the_right_to_read_policies(app_api: Any, admin_api: Any) -> None:
    sign_in()
    audit_only = app_api("AuditLog.Read.All").get(SIGN_INS).json()["value"][0]
    assert audit_only["appliedConditionalAccessPolicies"] == []
    assert audit_only["conditionalAccessStatus"] == "success"
    reader = admin_api(DirectoryRole.GLOBAL_READER).get(SIGN_INS).json()["value"][0]
    assert len(reader["appliedConditionalAccessPolicies"]) == 2


def test_select(app_api: Any) -> None:
    event = sign_in()
    api = app_api("AuditLog.Read.All")
    body = api.get(f"{SIGN_INS}?$select=id,userPrincipalName,status").json()
    assert body["@odata.context"] == f"{ORIGIN}/v1.0/$metadata#auditLogs/signIns(id,userPrincipalName,status)"
    assert body["value"] == [{"id": str(event.pk), "userPrincipalName": "ada@contoso.com",
                              "status": {"errorCode": 0, "failureReason": None, "additionalDetails": None}}]
    assert set(api.get(f"{SIGN_INS}/{event.pk}?$select=appId").json()) == {"@odata.context", "appId"}
    # beta-only properties are not on v1.0
    status, code, message = error_of(api.get(f"{SIGN_INS}?$select=authenticationDetails"))
    assert (status, code) == (400, "BadRequest") and "authenticationDetails" in message
    assert api.get("/beta/auditLogs/signIns?$select=authenticationDetails").status_code == 200


def test_filters(app_api: Any) -> None:
    ada = sign_in()
    grace = sign_in(user_principal_name="Grace@contoso.com", app_id="other-app", app_display_name="Wiki",
                    succeeded=False, error_code=50126, conditional_access_status="notApplied", applied_policies=())
    old = sign_in(user_principal_name="old@contoso.com", correlation_id="old")
    at(old, timezone.now() - timedelta(days=10))
    api = app_api("AuditLog.Read.All")

    def ids(query: str) -> list[str]:
        response = api.get(f"{SIGN_INS}?$filter={quote(query)}")
        assert response.status_code == 200, response.content
        return [item["id"] for item in response.json()["value"]]

    assert ids(f"userId eq '{ada.user_id}'") == [str(ada.pk)]
    assert ids("userPrincipalName eq 'GRACE@contoso.com'") == [str(grace.pk)]
    assert ids("startswith(userPrincipalName,'gr')") == [str(grace.pk)]
    assert ids("appId eq 'other-app'") == [str(grace.pk)]
    assert ids("startswith(appDisplayName,'pay')") == [str(ada.pk), str(old.pk)]
    assert ids("status/errorCode eq 50126") == [str(grace.pk)]
    assert ids("status/errorCode eq 0 and conditionalAccessStatus eq 'success'") == [str(ada.pk), str(old.pk)]
    assert ids("conditionalAccessStatus eq 'notApplied'") == [str(grace.pk)]
    week_ago = (timezone.now() - timedelta(days=7)).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert set(ids(f"createdDateTime ge {week_ago}")) == {str(ada.pk), str(grace.pk)}
    assert ids(f"createdDateTime le {week_ago}") == [str(old.pk)]
    assert ids("correlationId eq 'old' and isInteractive eq true") == [str(old.pk)]
    assert ids("userId eq '00000000-0000-0000-0000-000000000000'") == []


@pytest.mark.parametrize(("query", "code", "names"), [
    ("$filter=riskState eq 'none'", "Request_UnsupportedQuery", "'riskState'"),
    ("$filter=userPrincipalName ne 'x'", "Request_UnsupportedQuery", "'ne'"),
    ("$filter=createdDateTime gt 2026-01-01T00:00:00Z", "Request_UnsupportedQuery", "'gt'"),
    ("$filter=createdDateTime ge '2026-01-01'", "BadRequest", "without quotes"),
    ("$filter=createdDateTime ge 2026-01-01", "BadRequest", "time zone"),
    ("$filter=status/errorCode eq 'x'", "BadRequest", "is a number"),
    ("$filter=conditionalAccessStatus eq 'blocked'", "Request_BadRequest", "'blocked'"),
    ("$filter=userId eq 'nope'", "Request_BadRequest", "'nope'"),
    ("$filter=any(x)", "Request_UnsupportedQuery", "'any'"),
    ("$orderby=createdDateTime", "Request_UnsupportedQuery", "'$orderby'"),
    ("$top=0", "BadRequest", "between 1 and 999"),
    ("$skiptoken=forged", "BadRequest", "$skiptoken"),
    ("$select=nothing", "BadRequest", "'nothing'"),
])
def test_bad_queries_are_400_naming_the_problem(app_api: Any, query: str, code: str, names: str) -> None:
    status, got, message = error_of(app_api("AuditLog.Read.All").get(f"{SIGN_INS}?{query}"))
    assert (status, got) == (400, code) and names in message, message


@pytest.mark.parametrize("key", ["nope", str(uuid.uuid4()), "' or 1=1 --"])
def test_unknown_sign_ins_are_404(app_api: Any, key: str) -> None:
    status, code, message = error_of(app_api("AuditLog.Read.All").get(f"{SIGN_INS}/{quote(key)}"))
    assert (status, code) == (404, "Request_ResourceNotFound") and key in message


def test_paging_newest_first(app_api: Any) -> None:
    base = timezone.now() - timedelta(hours=2)
    events = [sign_in(correlation_id=f"n{n}") for n in range(7)]
    for n, event in enumerate(events):
        at(event, base + timedelta(minutes=n // 2))  # pairs share an instant: the id breaks the tie
    api = app_api("AuditLog.Read.All")
    seen: list[str] = []
    url: str | None = f"{SIGN_INS}?$top=3&$filter=status/errorCode eq 0"
    pages = 0
    while url:
        body = api.get(url).json()
        seen += [item["id"] for item in body["value"]]
        assert len(body["value"]) <= 3
        url = body.get("@odata.nextLink")
        if url:
            assert url.startswith(f"{ORIGIN}/v1.0/auditLogs/signIns?") and "%24filter" not in url
            url = url.removeprefix(ORIGIN)
        pages += 1
    assert pages == 3
    expected = sorted(events, key=lambda e: (SignInEvent.objects.get(pk=e.pk).created_at, str(e.pk)), reverse=True)
    assert seen == [str(e.pk) for e in expected]


# --- directoryAudits ----------------------------------------------------------------------------------------------

def test_directory_audits_as_graph(app_api: Any, make_user: Any) -> None:
    ada = make_user(upn="ada@contoso.com")
    change = audit_record(category=Category.DIRECTORY, activity="user.setUpn",
                          actor=Actor(id=ada.pk, name="ada@contoso.com"),
                          target=Target(type="user", id=str(ada.pk), name="ada@contoso.com"),
                          context=RequestContext(ip_address="198.51.100.2", user_agent=CHROME),
                          details={"userPrincipalName": {"old": "a@contoso.com", "new": "ada@contoso.com"},
                                   "note": "renamed"})
    api = app_api("AuditLog.Read.All")
    body = api.get(f"{AUDITS}/{change.pk}").json()
    assert body["@odata.context"] == f"{ORIGIN}/v1.0/$metadata#auditLogs/directoryAudits/$entity"
    assert body == {**body, "id": str(change.pk), "category": "UserManagement", "correlationId": None,
                    "result": "success", "resultReason": "", "activityDisplayName": "user.setUpn",
                    "loggedByService": "Passgate", "operationType": "Update", "@passgate.category": "directory"}
    assert body["initiatedBy"] == {"user": {"id": str(ada.pk), "displayName": None,
                                            "userPrincipalName": "ada@contoso.com", "ipAddress": "198.51.100.2"},
                                   "app": None}
    assert body["targetResources"] == [{
        "id": str(ada.pk), "displayName": "ada@contoso.com", "type": "User", "groupType": None,
        "userPrincipalName": "ada@contoso.com", "@passgate.type": "user",
        "modifiedProperties": [{"displayName": "userPrincipalName", "oldValue": "a@contoso.com",
                                "newValue": "ada@contoso.com"}]}]
    assert body["additionalDetails"] == [{"key": "note", "value": "renamed"}, {"key": "User-Agent", "value": CHROME}]

    by_app = audit_record(category=Category.DIRECTORY, activity="group.add",
                          actor=Actor(id=uuid.uuid4(), name="app:Onboarding"),
                          target=Target(type="group", id=str(uuid.uuid4()), name="Pilot"))
    item = api.get(f"{AUDITS}/{by_app.pk}").json()
    assert item["initiatedBy"]["user"] is None and item["initiatedBy"]["app"]["displayName"] == "Onboarding"
    assert item["category"] == "GroupManagement" and item["operationType"] == "Add"
    system = audit_record(category=Category.SYSTEM, activity="mds.import", actor=Actor.system("cli:root"),
                          details={"entries": 42})
    item = api.get(f"{AUDITS}/{system.pk}").json()
    assert item["initiatedBy"] == {"user": None, "app": {"appId": None, "displayName": "cli:root",
                                                         "servicePrincipalId": None, "servicePrincipalName": None}}
    assert item["targetResources"] == [] and item["additionalDetails"] == [{"key": "entries", "value": "42"}]


def test_directory_audit_filters_and_paging(app_api: Any, make_user: Any) -> None:
    api = app_api("AuditLog.Read.All")  # its registration and token are audited: start after them
    AuditEvent.objects.all().delete()
    ada = make_user(upn="ada@contoso.com")  # writes user.add, initiated by the test's system actor
    audit_record(category=Category.SIGN_IN, activity="passkey.signIn", result=Result.FAILURE,
                           reason="unknown_credential", actor=Actor(id=ada.pk, name="ada@contoso.com"))
    policy = audit_record(category=Category.POLICY, activity="conditionalAccessPolicy.create",
                          actor=Actor(id=ada.pk, name="ada@contoso.com"),
                          target=Target(type="conditionalAccessPolicy", id="p1", name="MFA"))
    at(policy, timezone.now() - timedelta(days=3))

    def activities(query: str) -> list[str]:
        response = api.get(f"{AUDITS}?$filter={quote(query)}")
        assert response.status_code == 200, response.content
        return [item["activityDisplayName"] for item in response.json()["value"]]

    assert activities("result eq 'failure'") == ["passkey.signIn"]
    assert activities("category eq 'Policy'") == ["conditionalAccessPolicy.create"]
    assert activities("category eq 'UserManagement'") == ["user.add"]
    assert activities("category eq 'RoleManagement'") == []
    assert activities(f"initiatedBy/user/id eq '{ada.pk}'") == ["passkey.signIn", "conditionalAccessPolicy.create"]
    assert activities("initiatedBy/user/userPrincipalName eq 'ADA@contoso.com'") == [
        "passkey.signIn", "conditionalAccessPolicy.create"]
    assert activities("startswith(activityDisplayName,'passkey.')") == ["passkey.signIn"]
    two_days_ago = (timezone.now() - timedelta(days=2)).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert activities(f"activityDateTime le {two_days_ago}") == ["conditionalAccessPolicy.create"]
    assert activities(f"activityDateTime ge {two_days_ago} and loggedByService eq 'Passgate'") == [
        "passkey.signIn", "user.add"]
    assert activities("loggedByService eq 'Core Directory'") == []

    first = api.get(f"{AUDITS}?$top=2").json()
    assert len(first["value"]) == 2 and first["@odata.nextLink"].startswith(f"{ORIGIN}/v1.0/auditLogs/directoryAudits?")
    rest = api.get(first["@odata.nextLink"].removeprefix(ORIGIN)).json()
    assert [i["activityDisplayName"] for i in first["value"] + rest["value"]] == [
        "passkey.signIn", "user.add", "conditionalAccessPolicy.create"]
    assert "@odata.nextLink" not in rest


@pytest.mark.parametrize(("query", "code", "names"), [
    ("$filter=result eq 'maybe'", "Request_BadRequest", "'maybe'"),
    ("$filter=targetResources eq 'x'", "Request_UnsupportedQuery", "'targetResources'"),
    ("$filter=initiatedBy/user/id eq 'x'", "Request_BadRequest", "'x'"),
    ("$filter=activityDateTime ge now", "BadRequest", "'now'"),
    ("$search=x", "Request_UnsupportedQuery", "'$search'"),
])
def test_bad_directory_audit_queries(app_api: Any, query: str, code: str, names: str) -> None:
    status, got, message = error_of(app_api("AuditLog.Read.All").get(f"{AUDITS}?{query}"))
    assert (status, got) == (400, code) and names in message, message


@pytest.mark.parametrize("key", ["nope", str(uuid.uuid4())])
def test_unknown_directory_audits_are_404(app_api: Any, key: str) -> None:
    assert error_of(app_api("AuditLog.Read.All").get(f"{AUDITS}/{key}"))[:2] == (404, "Request_ResourceNotFound")


def test_the_openapi_document_describes_them(client: Any) -> None:
    document = client.get("/openapi.json").json()
    schemas = document["components"]["schemas"]
    assert BETA_PROPERTIES <= set(schemas["signIn"]["properties"])
    assert "initiatedBy" in schemas["directoryAudit"]["properties"]
    listing = document["paths"]["/auditLogs/signIns"]["get"]
    assert listing["x-passgate-operation"] == "audit.read"
    assert listing["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/signIn.collection"}
    assert "/auditLogs/directoryAudits/{directoryAudit-id}" in document["paths"]
