"""The files an operator installs on a computer (packaging/): the device daemon's systemd unit, checked by the real
``systemd-analyze verify`` and against the agent's own command line and defaults, and the udev rule for keys."""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest

from passgate.agent.cli import build_parser
from passgate.agent.daemon import DEFAULT_SOCKET
from passgate.agent.state import DEFAULT_DIR
from tests.conftest import loud_skip

PACKAGING = Path(__file__).resolve().parents[2] / "packaging"
UNIT = PACKAGING / "systemd" / "passgate-device.service"
RULES = PACKAGING / "udev" / "70-passgate-security-keys.rules"
AGENT = Path(shutil.which("passgate-device") or Path(__file__).resolve().parents[2] / ".venv/bin/passgate-device")


def _service_values(name: str) -> list[str]:
    return [line.split("=", 1)[1] for line in UNIT.read_text().splitlines() if line.startswith(f"{name}=")]


def test_the_unit_verifies_with_systemd(tmp_path: Path) -> None:
    """No unknown key, no bad value, an executable command: systemd-analyze prints nothing at all."""
    if not shutil.which("systemd-analyze"):
        loud_skip("SYSTEMD UNIT CHECK", "it needs systemd-analyze (Debian's systemd package)")
    assert AGENT.exists(), "passgate-device is not installed (pip install -e .)"
    unit = tmp_path / UNIT.name
    unit.write_text(UNIT.read_text().replace("/opt/passgate/venv/bin/passgate-device", str(AGENT)))
    done = subprocess.run(["systemd-analyze", "verify", str(unit)], capture_output=True, text=True, timeout=60,
                          check=False)
    assert done.returncode == 0, done.stderr
    assert [line for line in done.stderr.splitlines() if UNIT.name in line] == []


def test_the_unit_starts_the_daemon_where_pam_and_the_agent_look() -> None:
    (exec_start,) = _service_values("ExecStart")
    argv = shlex.split(exec_start)
    assert Path(argv[0]).name == "passgate-device"
    args = build_parser().parse_args(argv[1:])
    assert args.command == "daemon"
    assert args.socket == DEFAULT_SOCKET  # pam_passgate's default socket=
    assert args.state_dir == DEFAULT_DIR
    assert _service_values("RuntimeDirectory") == [Path(DEFAULT_SOCKET).parent.name]
    assert _service_values("StateDirectory") == [Path(DEFAULT_DIR).name]
    assert _service_values("RuntimeDirectoryMode") == ["0750"]  # as the daemon makes it: the group may enter
    assert _service_values("StateDirectoryMode") == ["0700"]  # as the agent requires it


def test_the_pam_module_and_the_unit_agree_on_the_socket() -> None:
    module = (Path(__file__).resolve().parents[2] / "passgate" / "pam" / "pam_passgate.py").read_text()
    assert f'DEFAULT_SOCKET = "{DEFAULT_SOCKET}"' in module


@pytest.mark.parametrize("line", [line for line in RULES.read_text().splitlines()
                                  if line.strip() and not line.startswith("#")])
def test_the_udev_rule_matches_fido_hidraw_devices_only(line: str) -> None:
    pairs = dict(re.findall(r'([A-Z_]+(?:\{[A-Za-z_]+\})?)\s*(?:==|=)\s*"([^"]*)"', line))
    assert pairs == {"ACTION": "add|change", "SUBSYSTEM": "hidraw", "ENV{ID_FIDO_TOKEN}": "1",
                     "GROUP": "passgate-keys", "MODE": "0660"}
    assert line.count(",") == len(pairs) - 1  # nothing this reading missed
