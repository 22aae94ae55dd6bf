"""``passgate-device key …`` against the soft key: main() gets the soft key as its provider and a scripted person
as its console (PINs through ask_secret, the getpass seam), never through configuration."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fido2.ctap2 import ClientPin, Ctap2

from passgate.agent.cli import RESET_CONFIRMATION, main
from tests.agent.support import PIN, Person, SoftKeys, make_passkey, with_pin
from tests.devices.conftest import Clock
from tests.devices.softkey import SoftKey, always_touch, never_touch


def run(key: SoftKey | None, *argv: str, person: Person | None = None, tmp: Any = None) -> tuple[int, Person]:
    person = person or Person()
    state = ["--state-dir", str(tmp)] if tmp else []
    status = main([*state, *argv], provider=SoftKeys(*([key] if key else [])), console=person)  # type: ignore[arg-type]
    return status, person


def test_info_describes_the_key(key: SoftKey, capsys: Any) -> None:
    status, person = run(key, "key", "info")
    assert status == 0
    assert person.said[0] == "Passgate Softkey (SOFTKEY-0001)"
    assert "  PIN: not set (at least 4 characters)" in person.said
    with_pin(key)
    status, person = run(key, "key", "info", "--json")
    info = json.loads(person.said[0])
    assert info["pinSet"] is True and info["pinRetries"] == 8 and info["fingerprintsEnrolled"] is False
    assert info["remainingDiscoverableCredentials"] == 25 and info["versions"] == ["FIDO_2_0", "FIDO_2_1"]


def test_no_key_is_one_line_on_stderr(capsys: Any) -> None:
    status, _ = run(None, "key", "info")
    assert status == 1
    assert capsys.readouterr().err == ("passgate-device: No FIDO2 security key is plugged in: insert your key and "
                                       "try again.\n")


def test_set_and_change_the_pin(key: SoftKey, capsys: Any) -> None:
    assert run(key, "key", "set-pin", person=Person(pins=["1234", "1243"]))[0] == 1
    assert "The two PINs differ" in capsys.readouterr().err
    assert run(key, "key", "set-pin", person=Person(pins=["123", "123"]))[0] == 1
    assert "at least 4 characters" in capsys.readouterr().err
    assert run(key, "key", "set-pin", person=Person(pins=[PIN, PIN]))[0] == 0
    assert Ctap2(key).info.options["clientPin"] is True
    assert run(key, "key", "set-pin", person=Person(pins=[PIN, PIN]))[0] == 1
    assert "already has a PIN" in capsys.readouterr().err
    assert run(key, "key", "change-pin", person=Person(pins=["0000", "2468", "2468"]))[0] == 1
    assert capsys.readouterr().err == "passgate-device: Wrong PIN (7 tries left before the key locks its PIN).\n"
    assert run(key, "key", "change-pin", person=Person(pins=[PIN, "2468", "2468"]))[0] == 0
    ClientPin(Ctap2(key)).get_pin_token("2468", ClientPin.PERMISSION.GET_ASSERTION, "localhost")


def test_pins_are_never_printed(key: SoftKey, capsys: Any) -> None:
    with_pin(key)
    status, person = run(key, "key", "change-pin", person=Person(pins=[PIN, "97531", "97531"]))
    assert status == 0
    out = capsys.readouterr()
    assert all(p not in text for p in (PIN, "97531") for text in [out.out, out.err, *person.said])


def test_list_and_delete_passkeys(key: SoftKey, capsys: Any) -> None:
    with_pin(key)
    status, person = run(key, "key", "credentials", person=Person(pins=[PIN]))
    assert status == 0 and person.said == ["(no passkeys on this key)"]
    alice = make_passkey(key, "alice@contoso.com")
    make_passkey(key, "bob@contoso.com")
    make_passkey(key, "carol@example.org", rp_id="example.org")
    status, person = run(key, "key", "credentials", "--json", person=Person(pins=[PIN]))
    listed = json.loads(person.said[0])
    assert sorted((c["rpId"], c["userName"]) for c in listed) == [
        ("example.org", "carol@example.org"), ("localhost", "alice@contoso.com"), ("localhost", "bob@contoso.com")]
    alice_id = next(c["credentialId"] for c in listed if c["userName"] == "alice@contoso.com")
    status, person = run(key, "key", "delete-credential", alice_id, person=Person(pins=[PIN]))
    assert status == 0 and person.said == ["Deleted the passkey for alice@contoso.com at localhost."]
    assert alice.credential_id not in [c.credential_id for c in key.credentials]
    assert run(key, "key", "delete-credential", alice_id, person=Person(pins=[PIN]))[0] == 1
    assert "No passkey on this key has the id" in capsys.readouterr().err
    assert run(key, "key", "delete-credential", "not/base64", person=Person(pins=[PIN]))[0] == 1
    assert "base64url" in capsys.readouterr().err
    assert run(key, "key", "credentials", person=Person(pins=["0000"]))[0] == 1
    assert "Wrong PIN" in capsys.readouterr().err


def test_credentials_need_a_pin_on_the_key(key: SoftKey, capsys: Any) -> None:
    assert run(key, "key", "credentials", person=Person(pins=[PIN]))[0] == 1
    assert "has no PIN: set one first" in capsys.readouterr().err


def test_fingerprints_enroll_list_rename_remove(key: SoftKey, capsys: Any) -> None:
    with_pin(key)
    status, person = run(key, "key", "fingerprints", person=Person(pins=[PIN]))
    assert status == 0 and person.said == ["(no fingerprints)"]
    key.finger = "right-index"
    status, person = run(key, "key", "fingerprints", "enroll", "--name", "right index", person=Person(pins=[PIN]))
    assert status == 0, capsys.readouterr().err
    assert person.said[0] == "Touch the fingerprint sensor."
    assert person.said[-1].startswith("Enrolled fingerprint ")
    template = person.said[-1].removeprefix("Enrolled fingerprint ").rstrip(".")
    status, person = run(key, "key", "fingerprints", "list", "--json", person=Person(pins=[PIN]))
    assert json.loads(person.said[0]) == [{"id": template, "name": "right index"}]
    assert run(key, "key", "fingerprints", "rename", template, "left thumb", person=Person(pins=[PIN]))[0] == 0
    status, person = run(key, "key", "fingerprints", "list", person=Person(pins=[PIN]))
    assert person.said == [f"{template}  left thumb"]
    assert run(key, "key", "fingerprints", "remove", "ffff", person=Person(pins=[PIN]))[0] == 1
    assert "No fingerprint on this key has the id ffff" in capsys.readouterr().err
    assert run(key, "key", "fingerprints", "remove", template, person=Person(pins=[PIN]))[0] == 0
    assert Ctap2(key).info.options["uv"] is False


def test_reset_needs_the_typed_confirmation_and_the_ten_seconds(key: SoftKey, clock: Clock, capsys: Any) -> None:
    with_pin(key)
    make_passkey(key, "alice@contoso.com")
    assert run(key, "key", "reset", person=Person(typed=["yes"]))[0] == 1
    assert capsys.readouterr().err == "passgate-device: Not confirmed: nothing was erased.\n"
    assert len(key.credentials) == 1
    clock.advance(11)
    assert run(key, "key", "reset", person=Person(typed=[RESET_CONFIRMATION]))[0] == 1
    err = capsys.readouterr().err
    assert "resets only within 10 seconds of being plugged in" in err and "Unplug it, plug it in again" in err
    key.power_cycle()
    key.presence = never_touch
    assert run(key, "key", "reset", person=Person(typed=[RESET_CONFIRMATION]))[0] == 1
    assert "not touched in time" in capsys.readouterr().err
    key.power_cycle()
    key.presence = always_touch
    status, person = run(key, "key", "reset", person=Person(typed=[RESET_CONFIRMATION]))
    assert status == 0 and person.said[-1] == "The security key is reset: no passkeys, no PIN."
    assert key.credentials == [] and Ctap2(key).info.options["clientPin"] is False


@pytest.mark.parametrize("argv", [["key"], ["key", "fingerprints", "wave"], ["join", "--token", "x"]])
def test_usage_errors_are_one_line(argv: list[str], capsys: Any) -> None:
    with pytest.raises(SystemExit) as done:
        main(argv)
    assert done.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "passgate-device" in err and "error:" in err
