"""Real PAM: Debian's pamtester drives a /etc/pam.d service that loads pam_passgate.py through libpam-python.

Needs root (to write /etc/pam.d) and the packages pamtester and libpam-python (scripts/test installs them as
root); outside CI their absence skips these tests loudly, under CI=true it fails them."""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.conftest import loud_skip

PAM_PYTHON = Path("/lib/security/pam_python.so")
MODULE = Path(__file__).resolve().parents[2] / "passgate" / "pam" / "pam_passgate.py"


@pytest.fixture
def pam_service() -> Iterator[Callable[[str], str]]:
    """``make(options)``: a PAM service using the module with these options; its name. Removed afterwards."""
    if os.geteuid() != 0 or not shutil.which("pamtester") or not PAM_PYTHON.exists():
        loud_skip("PAM TESTS", "they need root, pamtester and libpam-python (apt-get install pamtester libpam-python)")
    made: list[Path] = []

    def make(options: str) -> str:
        name = f"passgate-test-{uuid.uuid4().hex[:8]}"
        path = Path("/etc/pam.d") / name
        path.write_text(f"auth required {PAM_PYTHON} {MODULE} {options}\naccount required pam_permit.so\n")
        made.append(path)
        return name

    yield make
    for path in made:
        path.unlink(missing_ok=True)


def pamtester(service: str, user: str, *, answers: str = "", timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """``pamtester SERVICE USER authenticate``, answering its prompts from ``answers`` (one per line)."""
    return subprocess.run(["pamtester", "-v", service, user, "authenticate"], input=answers, capture_output=True,
                          text=True, timeout=timeout, check=False)
