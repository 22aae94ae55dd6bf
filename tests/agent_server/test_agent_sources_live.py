"""``passgate-device sync`` reports the local sources of "Use security keys for sign-in" to a live Passgate: a
provisioning package applied on a computer joined with nothing configured turns security-key sign-in on; the local
group policy file counts on hybrid computers only."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from passgate.agent.cli import main
from passgate.audit.services import Actor
from passgate.device_api.packages import provisioning_package_issue
from passgate.devices.services import enrollment_token_issue
from tests.agent.support import Person

pytestmark = pytest.mark.django_db(transaction=True)
ADMIN = Actor.system("test admin")


def agent(state: Path, *argv: str) -> tuple[int, list[str]]:
    person = Person()
    status = main(["--state-dir", str(state), *argv], console=person)  # type: ignore[arg-type]
    return status, person.said


def join(app: str, state: Path, *extra: str) -> None:
    token = enrollment_token_issue(actor=ADMIN)[1]
    assert agent(state, "join", "--passgate", app, "--token", token, *extra)[0] == 0


def test_a_package_turns_security_key_sign_in_on(app: str, tmp_path: Path) -> None:
    state = tmp_path / "state"
    join(app, state)
    status, said = agent(state, "sync", "--json")
    assert status == 0
    assert json.loads(said[0])["securityKeySignIn"]["enabled"] is False
    _, text = provisioning_package_issue(security_key_sign_in=True, actor=ADMIN)
    file = tmp_path / "on.ppkg"
    file.write_text(text)
    assert agent(state, "package", "apply", str(file))[0] == 0
    status, said = agent(state, "sync", "--json")
    synced = json.loads(said[0])
    assert status == 0 and synced["securityKeySignIn"]["enabled"] is True
    assert synced["securityKeySignIn"]["source"] == "provisioningPackage"
    assert synced["reported"] == {"provisioningPackage": True, "localGroupPolicy": None}
    status, said = agent(state, "status")
    assert any(line.startswith("securityKeySignIn: on, source provisioningPackage") for line in said), said
    assert agent(state, "package", "remove")[0] == 0
    status, said = agent(state, "sync", "--json")
    assert json.loads(said[0])["securityKeySignIn"]["enabled"] is False


def test_the_policy_file_counts_on_hybrid_computers_only(app: str, tmp_path: Path) -> None:
    policy = tmp_path / "policy.conf"
    policy.write_text("TurnOnSecurityKeySignIn = enabled\n")
    joined, hybrid = tmp_path / "joined", tmp_path / "hybrid"
    join(app, joined)
    join(app, hybrid, "--hybrid")
    _, said = agent(joined, "sync", "--json", "--policy-file", str(policy))
    assert json.loads(said[0])["reported"]["localGroupPolicy"] is None
    assert json.loads(said[0])["securityKeySignIn"]["enabled"] is False
    _, said = agent(hybrid, "sync", "--json", "--policy-file", str(policy))
    synced = json.loads(said[0])
    assert synced["reported"]["localGroupPolicy"] == "enabled"
    assert synced["securityKeySignIn"]["enabled"] is True and synced["securityKeySignIn"]["source"] == \
        "localGroupPolicy"
    policy.write_text("TurnOnSecurityKeySignIn = maybe\n")
    assert agent(hybrid, "sync", "--policy-file", str(policy))[0] == 1
