"""The systemd units in packaging/systemd: hardened, every ExecStart a real ``passgate`` command line, every timer
starting its service, and ``systemd-analyze verify`` clean (where systemd-analyze is installed)."""

from __future__ import annotations

import configparser
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from passgate.cli import build_parser

UNITS = Path(__file__).resolve().parents[2] / "packaging" / "systemd"
SERVICES = ["passgate.service", "passgate-purge.service", "passgate-mds-refresh.service"]
TIMERS = ["passgate-purge.timer", "passgate-mds-refresh.timer"]
INSTALLED_AT = "/opt/passgate/venv/bin/passgate"
HARDENING = {"NoNewPrivileges": "yes", "ProtectSystem": "strict", "ReadWritePaths": "/var/lib/passgate",
             "PrivateTmp": "yes", "EnvironmentFile": "/etc/passgate/passgate.env", "User": "passgate"}


def _entries(name: str) -> list[tuple[str, str, str]]:
    """(section, key, value) for every line, repeated keys included (configparser would keep one)."""
    section, found = "", []
    for raw in (UNITS / name).read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("["):
            section = line.strip("[]")
            continue
        key, _, value = line.partition("=")
        found.append((section, key, value))
    return found


@pytest.mark.parametrize("name", SERVICES)
def test_each_service_is_hardened_and_runs_real_commands(name: str) -> None:
    entries = _entries(name)
    service = {key: value for section, key, value in entries if section == "Service"}
    assert {k: service.get(k) for k in HARDENING} == HARDENING
    commands = [shlex.split(value) for section, key, value in entries if section == "Service" and key == "ExecStart"]
    assert commands
    for argv in commands:
        assert argv[0] == INSTALLED_AT
        build_parser().parse_args(argv[1:])  # a usage error would exit


def test_the_timers_start_their_services_daily() -> None:
    for name in TIMERS:
        parser = configparser.ConfigParser(strict=False)
        parser.read(UNITS / name)
        assert parser["Timer"]["OnCalendar"] == "daily" and parser["Timer"]["Persistent"] == "true"
        assert (UNITS / name.replace(".timer", ".service")).is_file()
    purges = [v for _, k, v in _entries("passgate-purge.service") if k == "ExecStart"]
    assert f"{INSTALLED_AT} oidc purge" in purges and f"{INSTALLED_AT} throttle purge" in purges


def test_systemd_analyze_verify(tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed (Debian: apt-get install systemd); the units are unverified")
    passgate = Path(sys.executable).with_name("passgate")
    assert passgate.is_file(), passgate
    for name in SERVICES + TIMERS:  # ExecStart must exist here: point it at this environment's passgate
        (tmp_path / name).write_text((UNITS / name).read_text().replace(INSTALLED_AT, str(passgate)))
    done = subprocess.run([analyze, "verify", "--man=no", *(str(tmp_path / n) for n in SERVICES + TIMERS)],
                          capture_output=True, text=True, check=False, timeout=120, cwd=tmp_path)
    assert done.returncode == 0 and not done.stderr.strip() and not done.stdout.strip(), done.stdout + done.stderr
