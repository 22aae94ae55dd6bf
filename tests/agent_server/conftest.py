"""A computer joined to a live Passgate, its daemon in a thread with software security keys."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from passgate.agent.cli import main
from passgate.agent.daemon import Daemon, PeerPolicy
from passgate.agent.state import State
from passgate.audit.services import Actor
from passgate.device_config.services import enrollment_configuration_update
from passgate.devices.services import enrollment_token_issue
from tests.agent.support import Person, SoftKeys
from tests.devices.softkey import SoftKey

ADMIN = Actor.system("test admin")


@pytest.fixture
def computer(app: str, tmp_path: Path) -> Iterator[Any]:
    """A computer joined to the live Passgate with passgate-device join; ``start(key)`` runs its daemon."""
    enrollment_configuration_update(body={"@passgate.securityKeyForSignIn": "enabled"}, actor=ADMIN)
    state_dir = tmp_path / "state"
    token = enrollment_token_issue(actor=ADMIN)[1]
    assert main(["--state-dir", str(state_dir), "join", "--passgate", app, "--token", token],
                console=Person()) == 0  # type: ignore[arg-type]
    daemons: list[Daemon] = []

    class Computer:
        state = State(state_dir)

        def start(self, *keys: SoftKey, accounts: Callable[[dict[str, Any]], bool] | None = None) -> Path:
            path = Path(tmp_path / "run" / "socket")
            daemon = Daemon(socket_path=path, state=self.state, provider=SoftKeys(*keys),
                            policy=PeerPolicy(0), overall_timeout=30, accounts=accounts)
            daemon.bind()
            threading.Thread(target=daemon.serve_forever, daemon=True).start()
            daemons.append(daemon)
            return path

    yield Computer()
    for daemon in daemons:
        daemon.shutdown()
