"""Reading device configuration bodies (passgate.core.devices.configuration): what the published schema forbids is
never taken, and the security-key OMA-URI's rules."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from passgate.core.devices import configuration as dc
from passgate.core.devices.signin_setting import SECURITY_KEY_OMA_URI, Enablement, TargetKind
from passgate.core.graph import jsonschema as js

INTEGER = "#microsoft.graph.omaSettingInteger"
_SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-3, 3), st.floats(-2, 2, allow_nan=False),
                     st.sampled_from(["", "x", SECURITY_KEY_OMA_URI, INTEGER, "#microsoft.graph.omaSettingString",
                                      "#microsoft.graph.windows10CustomConfiguration", "enabled",
                                      "#microsoft.graph.allDevicesAssignmentTarget", "2026-12-04T10:00:00Z",
                                      "00000000-0000-0000-0000-0000000000a1"]))
_NAMES = ["@odata.type", "displayName", "description", "omaSettings", "omaUri", "value", "fileName", "id", "version",
          "target", "groupId", "assignments", "securityKeyForSignIn", "@passgate.securityKeyForSignIn", "unknown"]
JSON = st.recursive(_SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(st.sampled_from(_NAMES), inner, max_size=5)), max_leaves=14)


def _taken(read: Any, body: Any) -> bool:
    try:
        read(body)
    except dc.DeviceConfigError:
        return False
    return True


@settings(max_examples=400, deadline=None)
@given(body=st.dictionaries(st.sampled_from(_NAMES), JSON, max_size=5))
def test_a_body_the_document_forbids_is_never_taken(body: dict[str, Any]) -> None:
    for read, schema in ((lambda b: dc.read_profile(b, create=True), dc.profile_schema("create")),
                         (lambda b: dc.read_profile(b, create=False), dc.profile_schema("update")),
                         (dc.read_assignments, dc.ASSIGN_SCHEMA),
                         (dc.read_enrollment, dc.enrollment_schema("update"))):
        if _taken(read, body):
            assert js.violation(schema, body) is None, body


def setting(value: object, uri: str = SECURITY_KEY_OMA_URI, kind: str = INTEGER) -> dict[str, Any]:
    return {"@odata.type": kind, "displayName": "k", "omaUri": uri, "value": value}


@pytest.mark.parametrize("value", [1, 0, 1.0])
def test_the_security_key_setting_takes_1_or_0(value: object) -> None:
    read = dc.read_profile({"omaSettings": [setting(value)]}, create=False)
    assert dc.security_key_value(read.oma_settings) is (value == 1)
    assert read.oma_settings[0].value in (0, 1) and isinstance(read.oma_settings[0].value, int)


@pytest.mark.parametrize("value", [2, -1, 2**31 - 1])
def test_other_values_are_refused_with_the_reason(value: int) -> None:
    with pytest.raises(dc.DeviceConfigError) as refused:
        dc.read_profile({"omaSettings": [setting(value)]}, create=False)
    assert (refused.value.code, refused.value.target) == ("invalid_security_key_value", "omaSettings[0].value")


def test_other_oma_uris_are_kept_but_not_applicable() -> None:
    read = dc.read_profile({"omaSettings": [setting(5, "./Device/Vendor/MSFT/Policy/Config/X")]}, create=False)
    assert dc.security_key_value(read.oma_settings) is None
    assert dc.oma_setting_to_graph(read.oma_settings[0])["@passgate.applicability"] == "notApplicable"


def test_targets_and_enrollment() -> None:
    targets = dc.read_assignments({"assignments": [
        {"target": {"@odata.type": "microsoft.graph.exclusionGroupAssignmentTarget",
                    "groupId": "00000000-0000-0000-0000-0000000000A1"}}]})
    assert [(t.kind, t.group_id) for t in targets] == [
        (TargetKind.EXCLUSION_GROUP, "00000000-0000-0000-0000-0000000000a1")]
    assert dc.read_enrollment({"@passgate.securityKeyForSignIn": "disabled"}) is Enablement.DISABLED
    hello = "#microsoft.graph.deviceEnrollmentWindowsHelloForBusinessConfiguration"
    assert dc.read_enrollment({"@odata.type": hello}) is None
