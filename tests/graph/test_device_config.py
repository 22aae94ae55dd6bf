"""Device configuration through the Graph API: custom profiles with OMA-URI settings, assignments, and the
enrollment setting "Use security keys for sign-in"; refusals change nothing and are audited."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from passgate.audit.models import AuditEvent
from passgate.audit.services import Actor
from passgate.core.devices.signin_setting import SECURITY_KEY_OMA_URI
from passgate.device_config.models import ConfigurationAssignment, DeviceConfiguration, EnrollmentSettingChange
from passgate.device_config.selectors import enrollment_setting_at, signin_configuration
from passgate.directory.models import DirectoryRole
from passgate.directory.services import group_create

pytestmark = pytest.mark.django_db

CONFIGS = "/v1.0/deviceManagement/deviceConfigurations"
ENROLLMENT = "/v1.0/deviceManagement/deviceEnrollmentConfigurations/DefaultWindowsHelloForBusiness"
WRITE, READ = "DeviceManagementConfiguration.ReadWrite.All", "DeviceManagementConfiguration.Read.All"
CUSTOM = "#microsoft.graph.windows10CustomConfiguration"


def problem(response: Any) -> tuple[int, str, str, str]:
    """(status, code, message, target) of a Graph error."""
    error = response.json()["error"]
    return response.status_code, error["code"], error["message"], error.get("target", "")


def security_key(value: int = 1, uri: str = SECURITY_KEY_OMA_URI) -> dict[str, Any]:
    return {"@odata.type": "#microsoft.graph.omaSettingInteger", "displayName": "Use security keys for sign-in",
            "omaUri": uri, "value": value}


def profile_body(*settings: dict[str, Any], name: str = "Security keys on") -> dict[str, Any]:
    return {"@odata.type": CUSTOM, "displayName": name, "description": "Linux sign-in",
            "omaSettings": list(settings) or [security_key()]}


@pytest.fixture
def api(app_api: Any) -> Any:
    return app_api(WRITE)


@pytest.fixture
def group_id(db: Any) -> str:
    return str(group_create(display_name=f"Linux laptops {uuid.uuid4().hex[:6]}", actor=Actor.system("test")).id)


def snapshot() -> tuple[Any, ...]:
    return (list(DeviceConfiguration.objects.values()), list(ConfigurationAssignment.objects.values()),
            list(EnrollmentSettingChange.objects.values()),
            AuditEvent.objects.filter(result="success", activity__startswith="device").count())


def test_create_a_profile_assign_it_and_read_it_back(api: Any, group_id: str) -> None:
    other = {"@odata.type": "#microsoft.graph.omaSettingString", "displayName": "Something for Windows",
             "omaUri": "./Device/Vendor/MSFT/Policy/Config/Start/HideSleep", "value": "1"}
    created = api.post(CONFIGS, profile_body(security_key(1), other))
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["@odata.type"] == CUSTOM and body["version"] == 1 and body["description"] == "Linux sign-in"
    assert body["@odata.context"].endswith("/v1.0/$metadata#deviceManagement/deviceConfigurations/$entity")
    key, windows = body["omaSettings"]
    assert key == {**security_key(1), "description": None, "@passgate.applicability": "applicable"}
    assert windows["@passgate.applicability"] == "notApplicable" and windows["value"] == "1"

    profile_id = body["id"]
    assigned = api.post(f"{CONFIGS}/{profile_id}/assign", {"assignments": [
        {"@odata.type": "#microsoft.graph.deviceConfigurationAssignment",
         "target": {"@odata.type": "#microsoft.graph.groupAssignmentTarget", "groupId": group_id.upper()}}]})
    assert assigned.status_code == 200, assigned.content
    value = assigned.json()["value"]
    assert assigned.json()["@odata.context"].endswith(
        "$metadata#Collection(microsoft.graph.deviceConfigurationAssignment)")
    assert [a["target"] for a in value] == [{"@odata.type": "#microsoft.graph.groupAssignmentTarget",
                                            "groupId": group_id}]
    listed = api.get(f"{CONFIGS}/{profile_id}/assignments").json()
    assert listed["value"] == value
    assert api.get(f"{CONFIGS}/{profile_id}").json()["version"] == 1  # assignments are not part of the version

    decided = signin_configuration().profiles
    assert [(p.profile_id, p.value, [t.group_id for t in p.targets]) for p in decided] == [
        (profile_id, True, [group_id])]
    activities = list(AuditEvent.objects.filter(result="success", activity__startswith="deviceConfiguration")
                      .order_by("occurred_at").values_list("activity", flat=True))
    assert activities == ["deviceConfiguration.create", "deviceConfiguration.assign"]


def test_patch_raises_the_version_and_answers_the_profile(api: Any) -> None:
    profile_id = api.post(CONFIGS, profile_body()).json()["id"]
    changed = api.patch(f"{CONFIGS}/{profile_id}", {"omaSettings": [security_key(0)]})
    assert changed.status_code == 200, changed.content
    assert changed.json()["version"] == 2 and changed.json()["omaSettings"][0]["value"] == 0
    same = api.patch(f"{CONFIGS}/{profile_id}", {"omaSettings": [security_key(0)]})
    assert same.json()["version"] == 2  # nothing changed
    renamed = api.patch(f"{CONFIGS}/{profile_id}", {"displayName": "Security keys off"}).json()
    assert renamed["version"] == 3 and renamed["omaSettings"][0]["value"] == 0
    assert api.get(CONFIGS).json()["value"][0]["displayName"] == "Security keys off"
    assert api.delete(f"{CONFIGS}/{profile_id}").status_code == 204
    assert api.get(CONFIGS).json()["value"] == []
    assert AuditEvent.objects.filter(activity="deviceConfiguration.delete", result="success").count() == 1


def test_every_oma_setting_subtype_is_kept(api: Any) -> None:
    settings = [
        {"@odata.type": "#microsoft.graph.omaSettingBase64", "displayName": "b", "omaUri": "./a/1", "value": "aGk=",
         "fileName": "hi.txt"},
        {"@odata.type": "microsoft.graph.omaSettingBoolean", "displayName": "c", "omaUri": "./a/2", "value": True},
        {"@odata.type": "#microsoft.graph.omaSettingDateTime", "displayName": "d", "omaUri": "./a/3",
         "value": "2026-11-22T10:00:00Z"},
        {"@odata.type": "#microsoft.graph.omaSettingFloatingPoint", "displayName": "e", "omaUri": "./a/4",
         "value": 1.5},
        {"@odata.type": "#microsoft.graph.omaSettingInteger", "displayName": "f", "omaUri": "./a/5", "value": 7},
        {"@odata.type": "#microsoft.graph.omaSettingString", "displayName": "g", "omaUri": "./a/6", "value": "x"},
        {"@odata.type": "#microsoft.graph.omaSettingStringXml", "displayName": "h", "omaUri": "./a/7",
         "value": "PGEvPg==", "fileName": None},
    ]
    body = api.post(CONFIGS, profile_body(*settings)).json()
    assert [(s["@odata.type"], s["value"]) for s in body["omaSettings"]] == [
        ("#" + s["@odata.type"].removeprefix("#"), s["value"]) for s in settings]
    assert all(s["@passgate.applicability"] == "notApplicable" for s in body["omaSettings"])
    # a GET body can be sent back unchanged
    sent_back = api.patch(f"{CONFIGS}/{body['id']}", {k: v for k, v in body.items()})
    assert sent_back.status_code == 200 and sent_back.json()["version"] == 1


def test_the_security_key_uri_is_recognised_in_any_case(api: Any) -> None:
    body = api.post(CONFIGS, profile_body(security_key(1, SECURITY_KEY_OMA_URI.lower()))).json()
    assert body["omaSettings"][0]["@passgate.applicability"] == "applicable"
    assert signin_configuration().profiles[0].value is True


@pytest.mark.parametrize(("body", "code", "target"), [
    (profile_body(security_key(2)), "invalid_security_key_value", "omaSettings[0].value"),
    (profile_body({**security_key(), "@odata.type": "#microsoft.graph.omaSettingString", "value": "1"}),
     "invalid_security_key_value", "omaSettings[0].@odata.type"),
    ({**profile_body(), "isAwesome": True}, "unknown_property", "isAwesome"),
    ({**profile_body(), "@odata.type": "#microsoft.graph.windows10GeneralConfiguration"}, "wrong_odata_type",
     "@odata.type"),
    ({k: v for k, v in profile_body().items() if k != "@odata.type"}, "wrong_odata_type", "@odata.type"),
    (profile_body({**security_key(), "@odata.type": "#microsoft.graph.omaSetting"}), "wrong_odata_type",
     "omaSettings[0].@odata.type"),
    (profile_body(security_key(1), security_key(0, SECURITY_KEY_OMA_URI.upper())), "duplicate_oma_uri",
     "omaSettings[1].omaUri"),
    (profile_body({**security_key(), "isEncrypted": False}), "unknown_property", "omaSettings[0].isEncrypted"),
    (profile_body({**security_key(), "value": "1"}), "invalid_value", "omaSettings[0].value"),
    ({**profile_body(), "displayName": ""}, "invalid_value", "displayName"),
])
def test_refused_profiles_change_nothing_and_are_audited(api: Any, body: dict[str, Any], code: str,
                                                         target: str) -> None:
    before = snapshot()
    status, graph_code, message, found = problem(api.post(CONFIGS, body))
    assert (status, graph_code, found) == (400, "Request_BadRequest", target), message
    assert snapshot() == before
    refusal = AuditEvent.objects.filter(result="failure").latest("occurred_at")
    assert (refusal.activity, refusal.reason) == ("deviceConfiguration.create", code)


def test_value_2_for_the_security_key_says_what_it_takes(api: Any) -> None:
    message = problem(api.post(CONFIGS, profile_body(security_key(2))))[2]
    assert "takes 1 (security-key sign-in on) or 0 (off), not 2" in message


def test_refused_patch_and_assign_change_nothing(api: Any, group_id: str) -> None:
    profile_id = api.post(CONFIGS, profile_body()).json()["id"]
    before = snapshot()
    assert problem(api.patch(f"{CONFIGS}/{profile_id}", {"omaSettings": [security_key(2)]}))[:2] == (
        400, "Request_BadRequest")
    assert problem(api.patch(f"{CONFIGS}/{profile_id}", {"version": 9, "colour": "red"}))[3] == "colour"
    missing = str(uuid.uuid4())
    for assignments, code in (
            ([{"target": {"@odata.type": "#microsoft.graph.groupAssignmentTarget", "groupId": missing}}],
             "unknown_group"),
            ([{"target": {"@odata.type": "#microsoft.graph.allDevicesAssignmentTarget"}}] * 2, "duplicate_assignment"),
            ([{"target": {"@odata.type": "#microsoft.graph.configurationManagerCollectionAssignmentTarget"}}],
             "wrong_odata_type"),
            ([{"target": {"@odata.type": "#microsoft.graph.groupAssignmentTarget"}}], "invalid_value")):
        status, _, message, _ = problem(api.post(f"{CONFIGS}/{profile_id}/assign", {"assignments": assignments}))
        assert status == 400, message
        assert AuditEvent.objects.filter(result="failure").latest("occurred_at").reason == code
    assert snapshot() == before


def test_all_four_targets_and_replacing_them(api: Any, group_id: str) -> None:
    profile_id = api.post(CONFIGS, profile_body()).json()["id"]
    targets = [{"@odata.type": "#microsoft.graph.groupAssignmentTarget", "groupId": group_id},
               {"@odata.type": "#microsoft.graph.exclusionGroupAssignmentTarget", "groupId": group_id},
               {"@odata.type": "#microsoft.graph.allDevicesAssignmentTarget"},
               {"@odata.type": "microsoft.graph.allLicensedUsersAssignmentTarget"}]
    value = api.post(f"{CONFIGS}/{profile_id}/assign", {"assignments": [{"target": t} for t in targets]}).json()
    assert [a["target"]["@odata.type"] for a in value["value"]] == [
        "#" + t["@odata.type"].removeprefix("#") for t in targets]
    cleared = api.post(f"{CONFIGS}/{profile_id}/assign", {"assignments": []})
    assert cleared.status_code == 200 and cleared.json()["value"] == []


def test_unknown_ids_are_not_found(api: Any) -> None:
    missing = str(uuid.uuid4())
    for response in (api.get(f"{CONFIGS}/{missing}"), api.patch(f"{CONFIGS}/{missing}", {"displayName": "x"}),
                     api.delete(f"{CONFIGS}/{missing}"), api.get(f"{CONFIGS}/{missing}/assignments"),
                     api.post(f"{CONFIGS}/{missing}/assign", {"assignments": []}), api.get(f"{CONFIGS}/not-a-guid"),
                     api.get(ENROLLMENT.replace("DefaultWindowsHelloForBusiness", "Other")),
                     api.patch(ENROLLMENT.replace("DefaultWindowsHelloForBusiness", "Other"),
                               {"securityKeyForSignIn": "enabled"})):
        assert problem(response)[:2] == (404, "Request_ResourceNotFound"), response.content
    refused = AuditEvent.objects.filter(result="failure", reason="not_found")
    assert refused.count() == 4  # the four writes: PATCH, DELETE, assign, and the enrollment PATCH


def test_missing_permission_is_refused(app_api: Any, group_id: str) -> None:
    reader = app_api(READ)
    assert reader.get(CONFIGS).status_code == 200
    before = snapshot()
    assert problem(reader.post(CONFIGS, profile_body()))[:2] == (403, "Authorization_RequestDenied")
    assert problem(reader.patch(ENROLLMENT, {"securityKeyForSignIn": "enabled"}))[:2] == (
        403, "Authorization_RequestDenied")
    assert problem(app_api("Policy.Read.All").get(CONFIGS))[0] == 403
    assert snapshot() == before


def test_roles(admin_api: Any) -> None:
    assert admin_api(DirectoryRole.GLOBAL_READER).get(CONFIGS).status_code == 200
    assert admin_api(DirectoryRole.CONDITIONAL_ACCESS_ADMINISTRATOR).get(CONFIGS).status_code == 403


# --- the enrollment setting -----------------------------------------------------------------------------------------

def test_the_enrollment_setting_on_v1_and_beta(api: Any) -> None:
    listed = api.get("/v1.0/deviceManagement/deviceEnrollmentConfigurations").json()["value"]
    assert [c["id"] for c in listed] == ["DefaultWindowsHelloForBusiness"]
    current = api.get(ENROLLMENT).json()
    assert current["@odata.type"] == "#microsoft.graph.deviceEnrollmentWindowsHelloForBusinessConfiguration"
    assert current["priority"] == 0 and current["version"] == 1
    assert current["@passgate.securityKeyForSignIn"] == "notConfigured" and "securityKeyForSignIn" not in current

    changed = api.patch(ENROLLMENT, {"@odata.type": current["@odata.type"], "securityKeyForSignIn": "enabled"})
    assert changed.status_code == 200, changed.content
    assert changed.json()["version"] == 2 and changed.json()["@passgate.securityKeyForSignIn"] == "enabled"
    beta = api.get(ENROLLMENT.replace("/v1.0/", "/beta/")).json()
    assert beta["securityKeyForSignIn"] == "enabled" and "@passgate.securityKeyForSignIn" not in beta
    again = api.patch(ENROLLMENT, {"@passgate.securityKeyForSignIn": "enabled"}).json()
    assert again["version"] == 2  # unchanged: no new version
    api.patch(ENROLLMENT.replace("/v1.0/", "/beta/"), {"securityKeyForSignIn": "disabled"})

    history = list(EnrollmentSettingChange.objects.order_by("version").values_list(
        "version", "security_key_for_sign_in", "effective_from"))
    assert [(v, s) for v, s, _ in history] == [(1, "notConfigured"), (2, "enabled"), (3, "disabled")]
    at_enable = enrollment_setting_at(history[1][2])
    assert at_enable is not None and at_enable.value.value == "enabled"
    assert sorted(AuditEvent.objects.filter(activity="deviceEnrollmentConfiguration.update", result="success")
                  .values_list("details__new__securityKeyForSignIn", flat=True)) == ["disabled", "enabled"]


@pytest.mark.parametrize(("body", "code", "target"), [
    ({"securityKeyForSignIn": "on"}, "invalid_value", "securityKeyForSignIn"),
    ({"pinMinimumLength": 6}, "unknown_property", "pinMinimumLength"),
    ({"@odata.type": CUSTOM}, "wrong_odata_type", "@odata.type"),
    ({"securityKeyForSignIn": "enabled", "@passgate.securityKeyForSignIn": "disabled"}, "invalid_value",
     "@passgate.securityKeyForSignIn"),
])
def test_refused_enrollment_changes(api: Any, body: dict[str, Any], code: str, target: str) -> None:
    api.get(ENROLLMENT)
    before = snapshot()
    assert problem(api.patch(ENROLLMENT, body))[::3] == (400, target)
    assert snapshot() == before
    refusal = AuditEvent.objects.filter(result="failure").latest("occurred_at")
    assert (refusal.activity, refusal.reason) == ("deviceEnrollmentConfiguration.update", code)


@pytest.mark.parametrize("value", ["2024-01-01T12:99:00Z", "yesterday", 5, "2024-01-01T12:00:00"])
def test_a_malformed_read_only_date_is_refused_not_ignored(api: Any, value: object) -> None:
    """A GET body sent back may carry the read-only dates (ignored), but not a date-time that is none (schemathesis
    found one accepted)."""
    body = {"@odata.type": "#microsoft.graph.windows10CustomConfiguration", "displayName": "Keys",
            "createdDateTime": value}
    answer = api.post("/v1.0/deviceManagement/deviceConfigurations", body)
    assert answer.status_code == 400, answer.content
    assert "createdDateTime" in answer.json()["error"]["message"]
