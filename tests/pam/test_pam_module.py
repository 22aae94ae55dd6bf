"""pam_passgate.py under real PAM, on its own: what it answers when the device service can't help."""

from __future__ import annotations

from typing import Any

from tests.pam.support import pamtester


def test_without_the_device_service_the_stack_moves_on(pam_service: Any, tmp_path: Any) -> None:
    service = pam_service(f"socket={tmp_path}/absent.sock timeout=5")
    done = pamtester(service, "alice@contoso.com")
    assert done.returncode != 0
    assert "The Passgate device service is not running." in done.stdout + done.stderr
    # PAM_AUTHINFO_UNAVAIL, so "authinfo_unavail=ignore" lets a stack fall through to its next method
    assert "cannot retrieve authentication info" in done.stderr
