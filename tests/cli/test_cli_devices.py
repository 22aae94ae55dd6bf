"""``passgate devices …``: enrollment tokens and joined devices from the command line."""

from __future__ import annotations

import json
from typing import Any

import pytest

from passgate.audit.models import AuditEvent
from passgate.devices.models import Device, DeviceEnrollmentToken
from tests.graph.methods import joined_device

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_token_is_shown_once_with_the_join_command(cli: Any) -> None:
    code, out, _ = cli("devices", "token", "--uses", "3", "--lifetime-minutes", "120", "--description", "lab")
    token = out.split("Device enrollment token: ")[1].split()[0]
    assert code == 0 and f"--token {token}" in out and "joins 3 computer(s), valid 120 minutes" in out
    row = DeviceEnrollmentToken.objects.get()
    assert (row.uses_left, row.description) == (3, "lab") and token.encode() not in bytes(row.digest)
    assert AuditEvent.objects.filter(activity="device.enrollmentToken.issue").exists()


def test_devices_are_listed_disabled_enabled_and_deleted(cli: Any) -> None:
    device = joined_device("build-07")
    code, out, _ = cli("devices", "list", "--json")
    assert code == 0 and json.loads(out)[0]["deviceId"] == str(device.device_id)
    assert cli("devices", "disable", "build-07")[0] == 0
    assert not Device.objects.get().account_enabled
    assert cli("devices", "enable", str(device.device_id))[0] == 0
    assert Device.objects.get().account_enabled
    code, out, _ = cli("devices", "delete", str(device.id))
    assert code == 0 and "can no longer sign anyone in" in out and not Device.objects.exists()
    assert AuditEvent.objects.filter(activity="device.delete", actor_name__startswith="cli:").exists()


@pytest.mark.parametrize("argv", [("devices", "token", "--uses", "0"), ("devices", "token", "--lifetime-minutes", "5")])
def test_out_of_range_settings_are_usage_errors(cli: Any, capsys: Any, argv: tuple[str, ...]) -> None:
    with pytest.raises(SystemExit) as exited:
        cli(*argv)
    assert exited.value.code == 2 and "is outside" in capsys.readouterr().err
    assert not DeviceEnrollmentToken.objects.exists()


@pytest.mark.parametrize("argv", [("devices", "show", "nothing"),
                                  ("devices", "delete", "00000000-0000-0000-0000-000000000000")])
def test_bad_input_exits_with_one_line_and_changes_nothing(fails: Any, argv: tuple[str, ...]) -> None:
    fails(*argv)
    assert not DeviceEnrollmentToken.objects.exists() and not Device.objects.exists()
