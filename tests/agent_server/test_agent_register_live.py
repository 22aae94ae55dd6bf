"""``passgate-device key register`` against a live Passgate: a new employee's Temporary Access Pass and a new
security key (no PIN yet) become a passkey, then a sign-in to the computer through the daemon."""

from __future__ import annotations

from typing import Any

import pytest

from passgate.agent.cli import main
from passgate.credentials.models import Passkey
from tests.agent.support import Person, SoftKeys
from tests.agent_server.test_agent_signin_live import converse
from tests.devices.softkey import SoftKey

pytestmark = pytest.mark.django_db(transaction=True)
NEW_PIN = "2468"


def test_from_a_pass_to_signing_in_with_a_new_key(computer: Any, make_user: Any, issue_tap: Any) -> None:
    pat = make_user("pat@contoso.com")
    tap = issue_tap(pat)
    key = SoftKey()  # straight from the box: no PIN
    person = Person(pins=[tap, NEW_PIN, NEW_PIN, NEW_PIN])  # the pass, the new PIN twice, then the PIN to use
    code = main(["--state-dir", str(computer.state.root), "key", "register", "--user", "pat@contoso.com",
                 "--name", "Pat's key"], provider=SoftKeys(key), console=person)  # type: ignore[arg-type]
    assert code == 0, person.said
    assert any("Registered \"Pat's key\" for pat@contoso.com" in line for line in person.said)
    assert Passkey.objects.get(user=pat).display_name == "Pat's key"
    seen = converse(computer.start(key), {"op": "signin", "service": "login", "user": "pat@contoso.com"},
                    {"pin": [NEW_PIN]})
    assert seen[-1]["result"] == "success" and seen[-1]["posix"]["name"] == "pat@contoso.com"


def test_a_wrong_pass_registers_nothing(computer: Any, make_user: Any, issue_tap: Any) -> None:
    pat = make_user("pat@contoso.com")
    issue_tap(pat)
    key = SoftKey()
    person = Person(pins=["AAAA-BBBB-CCCC-DDDD", NEW_PIN, NEW_PIN])
    code = main(["--state-dir", str(computer.state.root), "key", "register", "--user", "pat@contoso.com"],
                provider=SoftKeys(key), console=person)  # type: ignore[arg-type]
    assert code != 0
    assert not Passkey.objects.exists()
