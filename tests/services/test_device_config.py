"""The device configuration services: versions, history, audit rows, refusals that change nothing, and the values
the device registry will read (signin_configuration, enrollment_setting_at)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from passgate.audit.models import AuditEvent
from passgate.audit.services import Actor
from passgate.core.devices.configuration import DeviceConfigError
from passgate.core.devices.signin_setting import (
    SECURITY_KEY_OMA_URI,
    DeviceFacts,
    Enablement,
    Reason,
    TrustType,
    decide,
)
from passgate.core.errors import NotFound
from passgate.device_config.models import DeviceConfiguration, OmaSetting
from passgate.device_config.selectors import (
    enrollment_configuration,
    enrollment_history,
    enrollment_setting_at,
    signin_configuration,
)
from passgate.device_config.services import (
    device_configuration_assign,
    device_configuration_create,
    device_configuration_delete,
    device_configuration_update,
    enrollment_configuration_update,
)
from passgate.directory.services import group_create

pytestmark = pytest.mark.django_db
ACTOR = Actor.system("test")


def body(value: int = 1, **extra: Any) -> dict[str, Any]:
    return {"@odata.type": "#microsoft.graph.windows10CustomConfiguration", "displayName": "Keys",
            "omaSettings": [{"@odata.type": "#microsoft.graph.omaSettingInteger", "displayName": "Keys",
                             "omaUri": SECURITY_KEY_OMA_URI, "value": value}], **extra}


def test_create_update_assign_delete_each_write_one_audit_row() -> None:
    profile = device_configuration_create(body=body(), actor=ACTOR)
    assert profile.version == 1 and OmaSetting.objects.count() == 1
    changed = device_configuration_update(configuration_id=profile.id, body={"description": "d"}, actor=ACTOR)
    assert changed.version == 2 and changed.oma_settings == profile.oma_settings
    group = group_create(display_name="Linux", actor=ACTOR)
    assigned = device_configuration_assign(configuration_id=profile.id, body={"assignments": [
        {"target": {"@odata.type": "#microsoft.graph.groupAssignmentTarget", "groupId": str(group.id)}}]},
        actor=ACTOR)
    assert [a.target.group_id for a in assigned] == [str(group.id)]
    device_configuration_delete(configuration_id=profile.id, actor=ACTOR)
    assert not DeviceConfiguration.objects.exists() and not OmaSetting.objects.exists()
    rows = AuditEvent.objects.filter(activity__startswith="deviceConfiguration.").order_by("occurred_at")
    assert [(r.activity, r.result) for r in rows] == [
        ("deviceConfiguration.create", "success"), ("deviceConfiguration.update", "success"),
        ("deviceConfiguration.assign", "success"), ("deviceConfiguration.delete", "success")]
    assert rows[1].details["old"]["description"] is None and rows[1].details["new"]["description"] == "d"


def test_a_refused_update_is_audited_and_changes_nothing() -> None:
    profile = device_configuration_create(body=body(), actor=ACTOR)
    with pytest.raises(DeviceConfigError) as refused:
        device_configuration_update(configuration_id=profile.id, body={"omaSettings": body(2)["omaSettings"]},
                                    actor=ACTOR)
    assert refused.value.code == "invalid_security_key_value"
    assert DeviceConfiguration.objects.get().version == 1
    assert OmaSetting.objects.get().value == 1
    failure = AuditEvent.objects.get(result="failure")
    assert (failure.activity, failure.reason, failure.details["target"]) == (
        "deviceConfiguration.update", "invalid_security_key_value", "omaSettings[0].value")


def test_an_unknown_profile_is_not_found_and_audited() -> None:
    with pytest.raises(NotFound):
        device_configuration_delete(configuration_id="00000000-0000-0000-0000-000000000001", actor=ACTOR)
    assert AuditEvent.objects.get(result="failure").reason == "not_found"


def test_the_enrollment_setting_keeps_its_history() -> None:
    assert enrollment_configuration().security_key_for_sign_in is Enablement.NOT_CONFIGURED
    before = timezone.now()
    enrollment_configuration_update(body={"securityKeyForSignIn": "enabled"}, actor=ACTOR)
    enrollment_configuration_update(body={"securityKeyForSignIn": "enabled"}, actor=ACTOR)  # no change
    history = enrollment_history()
    assert [(c.version, c.value) for c in history] == [(1, Enablement.NOT_CONFIGURED), (2, Enablement.ENABLED)]
    assert enrollment_configuration().version == 2
    at_join = enrollment_setting_at(history[1].effective_from + timedelta(seconds=1))
    assert at_join is not None and at_join.value is Enablement.ENABLED
    earlier = enrollment_setting_at(before - timedelta(seconds=1))
    assert earlier is None or earlier.value is Enablement.NOT_CONFIGURED
    assert AuditEvent.objects.filter(activity="deviceEnrollmentConfiguration.update", result="success").count() == 1


def test_what_the_device_registry_will_ask() -> None:
    """Stored data in, one device's answer out: a device joined before the enrollment change is not covered by it."""
    joined_before = timezone.now() - timedelta(days=1)
    enrollment_history()  # the first version, from now
    enrollment_configuration_update(body={"securityKeyForSignIn": "enabled"}, actor=ACTOR)
    config = signin_configuration()
    old = DeviceFacts("old", True, TrustType.JOINED, joined_before)
    new = DeviceFacts("new", True, TrustType.JOINED, timezone.now() + timedelta(seconds=1))
    assert decide(old, config).reason is Reason.NOT_CONFIGURED
    assert decide(new, config).reason is Reason.ENROLLMENT_ENABLED
    profile = device_configuration_create(body=body(0), actor=ACTOR)
    device_configuration_assign(configuration_id=profile.id, body={"assignments": [
        {"target": {"@odata.type": "#microsoft.graph.allDevicesAssignmentTarget"}}]}, actor=ACTOR)
    assert decide(new, signin_configuration()).reason is Reason.PROFILE_OFF
