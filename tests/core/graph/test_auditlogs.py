"""/auditLogs semantics (pure): date-time and number filters, the signIn and directoryAudit declarations, the
User-Agent reading, report-only results, and the directoryAudit mappings."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from passgate.core.graph.auditlogs import (
    DIRECTORY_AUDIT,
    GRAPH_CATEGORIES,
    SIGN_IN,
    SIGN_IN_BETA,
    applied_policy_result,
    browser_of,
    categories_for,
    device_detail,
    graph_category,
    operating_system_of,
    operation_type,
    prefers_unknown_enum_members,
    target_resource_type,
)
from passgate.core.graph.errors import GraphCode, GraphError
from passgate.core.graph.odata import Comparison, Filter, matches, parse_filter, render_filter
from passgate.core.graph.resources import USER

SPEC = SIGN_IN.query_spec
GUID = "0f8fad5b-d9cb-469f-a165-70867728950e"
JULY = datetime(2026, 7, 1, tzinfo=UTC)


def refused(text: str, code: GraphCode, spec: object = SPEC) -> str:
    with pytest.raises(GraphError) as info:
        parse_filter(text, spec)  # type: ignore[arg-type]
    assert info.value.status == 400 and info.value.graph_code is code, info.value.message
    return info.value.message


@pytest.mark.parametrize(("text", "expected"), [
    ("createdDateTime ge 2026-07-01T00:00:00Z", [Comparison("createdDateTime", "ge", JULY)]),
    ("createdDateTime le 2026-07-01T02:00:00+02:00", [Comparison("createdDateTime", "le", JULY)]),
    ("CreatedDateTime GE 2026-07-01T00:00:00z and createdDateTime le 2026-07-02T00:00:00Z",
     [Comparison("createdDateTime", "ge", JULY),
      Comparison("createdDateTime", "le", JULY.replace(day=2))]),
    ("createdDateTime eq 2026-07-01T00:00:00.250Z",
     [Comparison("createdDateTime", "eq", JULY.replace(microsecond=250_000))]),
    ("status/errorCode eq 0", [Comparison("status/errorCode", "eq", 0)]),
    ("Status/ErrorCode eq 53003", [Comparison("status/errorCode", "eq", 53003)]),
    (f"userId eq '{GUID}' and appId eq 'x'", [Comparison("userId", "eq", GUID), Comparison("appId", "eq", "x")]),
    ("conditionalAccessStatus eq 'failure'", [Comparison("conditionalAccessStatus", "eq", "failure")]),
    ("startswith(userPrincipalName,'ada')", [Comparison("userPrincipalName", "startswith", "ada")]),
    ("isInteractive eq false", [Comparison("isInteractive", "eq", False)]),
])
def test_sign_in_filters(text: str, expected: list[Comparison]) -> None:
    assert parse_filter(text, SPEC) == Filter(tuple(expected))


@pytest.mark.parametrize(("text", "code", "names"), [
    ("createdDateTime ge '2026-07-01T00:00:00Z'", GraphCode.BAD_REQUEST, "without quotes"),
    ("createdDateTime ge 2026-07-01", GraphCode.BAD_REQUEST, "needs a time and a time zone"),
    ("createdDateTime ge 2026-07-01T00:00:00", GraphCode.BAD_REQUEST, "needs a time and a time zone"),
    ("createdDateTime ge yesterday", GraphCode.BAD_REQUEST, "'yesterday' is not a date and time"),
    ("createdDateTime gt 2026-07-01T00:00:00Z", GraphCode.UNSUPPORTED_QUERY, "'gt'"),
    ("createdDateTime ne 2026-07-01T00:00:00Z", GraphCode.UNSUPPORTED_QUERY, "'ne'"),
    ("userPrincipalName ge 'a'", GraphCode.UNSUPPORTED_QUERY, "'ge'"),
    ("status/errorCode eq '0'", GraphCode.BAD_REQUEST, "is a number"),
    ("status/errorCode eq zero", GraphCode.BAD_REQUEST, "is a number"),
    ("status/failureReason eq 'x'", GraphCode.UNSUPPORTED_QUERY, "'status/failureReason' of resource 'SignIn'"),
    ("riskState eq 'none'", GraphCode.UNSUPPORTED_QUERY, "'riskState'"),
    ("userId eq 'nope'", GraphCode.REQUEST_BAD_REQUEST, "Invalid object identifier 'nope'"),
    ("startswith(createdDateTime,'2026')", GraphCode.UNSUPPORTED_QUERY, "'createdDateTime'"),
])
def test_bad_sign_in_filters_name_the_problem(text: str, code: GraphCode, names: str) -> None:
    assert names in refused(text, code)


def test_ordering_operators_stay_refused_where_not_declared() -> None:
    assert "'ge'" in refused("createdDateTime ge 2026-07-01T00:00:00Z", GraphCode.UNSUPPORTED_QUERY, USER.query_spec)
    assert "'le'" in refused("displayName le 'x'", GraphCode.UNSUPPORTED_QUERY, USER.query_spec)


@given(st.lists(st.one_of(
    st.builds(Comparison, st.just("createdDateTime"), st.sampled_from(["eq", "ge", "le"]),
              st.datetimes(timezones=st.just(UTC))),
    st.builds(Comparison, st.just("status/errorCode"), st.just("eq"), st.integers(-(10**9), 10**9)),
    st.builds(Comparison, st.just("appId"), st.just("eq"), st.text("abc-'", max_size=8)),
), min_size=1, max_size=6))
def test_render_then_parse_round_trips(clauses: list[Comparison]) -> None:
    value = Filter(tuple(clauses))
    assert parse_filter(render_filter(value), SPEC) == value


def test_matches_compares_dates_and_numbers() -> None:
    f = parse_filter("createdDateTime ge 2026-07-01T00:00:00Z and status/errorCode eq 0", SPEC)
    assert matches(f, {"createdDateTime": JULY, "status/errorCode": 0})
    assert not matches(f, {"createdDateTime": JULY.replace(month=6), "status/errorCode": 0})
    assert not matches(f, {"createdDateTime": JULY, "status/errorCode": 50126})
    assert not matches(f, {"createdDateTime": "2026-07-01", "status/errorCode": 0})


def test_beta_sign_ins_have_the_authentication_details() -> None:
    v1 = set(SIGN_IN.query_spec.selectable)
    beta = set(SIGN_IN_BETA.query_spec.selectable)
    assert beta - v1 == {"authenticationDetails", "authenticationRequirement", "authenticationMethodsUsed"}
    assert {"id", "createdDateTime", "userPrincipalName", "appliedConditionalAccessPolicies", "riskEventTypes_v2",
            "status", "deviceDetail", "location", "clientAppUsed", "conditionalAccessStatus"} <= v1
    schema = SIGN_IN_BETA.json_schema("read")["properties"]
    assert schema["appliedConditionalAccessPolicies"]["type"] == "array"
    assert schema["userId"]["type"] == ["string", "null"]


def test_directory_audit_filters() -> None:
    spec = DIRECTORY_AUDIT.query_spec
    parsed = parse_filter(f"activityDateTime ge 2026-07-01T00:00:00Z and initiatedBy/user/id eq '{GUID}' and "
                          "category eq 'UserManagement' and result eq 'failure'", spec)
    assert [c.property for c in parsed.clauses] == ["activityDateTime", "initiatedBy/user/id", "category", "result"]
    assert "'targetResources'" in refused("targetResources eq 'x'", GraphCode.UNSUPPORTED_QUERY, spec)


@pytest.mark.parametrize(("agent", "browser", "system"), [
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.6367.91 "
     "Safari/537.36 Edg/124.0.2478.67", "Edge 124.0.2478", "Windows10"),
    ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4.1 "
     "Safari/605.1.15", "Safari 17.4.1", "MacOs"),
    ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
     "Version/17.4 Mobile/15E148 Safari/604.1", "Safari 17.4", "Ios"),
    ("Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.6367.82 "
     "Mobile Safari/537.36", "Chrome 124.0.6367", "Android"),
    ("Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0", "Firefox 125.0", "Linux"),
    ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/120.0.6099.28 "
     "Safari/537.36", "Chrome 120.0.6099", "Linux"),
    ("curl/8.5.0", "Other", "Other"),
    ("", "", ""),
])
def test_device_detail_from_the_user_agent(agent: str, browser: str, system: str) -> None:
    assert browser_of(agent) == browser and operating_system_of(agent) == system
    detail = device_detail(agent)
    assert detail == {"browser": browser, "deviceId": "", "displayName": "", "isCompliant": False,
                      "isManaged": False, "operatingSystem": system, "trustType": ""}


@given(st.text(max_size=2000))
def test_device_detail_takes_any_text(agent: str) -> None:
    detail = device_detail(agent)
    assert len(detail["browser"]) < 600 and isinstance(detail["operatingSystem"], str)


def test_report_only_results_need_the_prefer_header() -> None:
    assert applied_policy_result("reportOnlyFailure", include_unknown_enum_members=False) == "unknownFutureValue"
    assert applied_policy_result("reportOnlyFailure", include_unknown_enum_members=True) == "reportOnlyFailure"
    assert applied_policy_result("failure", include_unknown_enum_members=False) == "failure"
    assert prefers_unknown_enum_members("return=minimal, include-unknown-enum-members")
    assert prefers_unknown_enum_members("Include-Unknown-Enum-Members")
    assert not prefers_unknown_enum_members("") and not prefers_unknown_enum_members("odata.maxpagesize=5")


def test_directory_audit_mappings() -> None:
    assert graph_category("directory", "user") == "UserManagement"
    assert graph_category("directory", "group") == "GroupManagement"
    assert graph_category("directory", "application") == "ApplicationManagement"
    assert graph_category("directory", "role") == "RoleManagement"
    assert graph_category("directory", "") == "DirectoryManagement"
    assert graph_category("securityInfo", "passkey") == "UserManagement"
    assert graph_category("policy", "conditionalAccessPolicy") == "Policy"
    assert graph_category("system", "signingKey") == "KeyManagement"
    assert graph_category("somethingNew", "") == "Other"
    # every Graph category maps back to exactly the rows it names
    rows = [(c, t) for c in ("directory", "securityInfo", "policy", "signIn", "system")
            for t in ("user", "group", "application", "signingKey", "passkey", "")]
    for graph in GRAPH_CATEGORIES:
        named = {(c, t) for c, t in rows for category, targets, taken in categories_for(graph.upper())
                 if c == category and (t in targets if targets is not None else t not in taken)}
        assert named == {(c, t) for c, t in rows if graph_category(c, t) == graph}, graph
    assert categories_for("RoleManagement") == (("directory", ("role",), ()),)  # role.addMember, role.removeMember
    assert categories_for("Device") == ()
    assert [operation_type(a) for a in ("user.add", "group.addMember", "group.removeMember", "user.setUpn",
                                        "passkey.delete", "passkey.signIn", "graph.users.write")] == [
        "Add", "Assign", "Unassign", "Update", "Delete", "Other", "Other"]
    assert [operation_type(a) for a in ("app.update", "app.addPassword", "app.removePassword", "app.remove")] == [
        "Update", "Update", "Update", "Delete"]
    assert [target_resource_type(t) for t in ("user", "group", "application", "conditionalAccessPolicy",
                                              "passkey")] == ["User", "Group", "App", "Policy", "Other"]
