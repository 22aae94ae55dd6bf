"""Offline unlock in the daemon's sign-in, without Passgate: records signed here with a test token-signing key (as
Passgate signs them), kept in the state as an online sign-in keeps them, the origin a closed port."""

from __future__ import annotations

import json
import socket
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from fido2 import cbor
from fido2.ctap2 import ClientPin, Ctap2

from passgate.agent.state import State
from passgate.core.devices import offline
from passgate.core.devices.keys import b64url, b64url_decode, jwk_of
from tests.agent.support import PIN, RP_ID, SoftKeys, make_passkey, with_pin
from tests.agent.test_daemon import joined_state, line, start  # noqa: F401 - the fixture
from tests.devices.conftest import Clock
from tests.devices.softkey import SoftKey

ORIGIN = "http://127.0.0.1:9"  # nothing listens: Passgate is unreachable
NOW = 1_800_000_000
SIGNER = ec.generate_private_key(ec.SECP256R1())
KID = "test-kid"


class Wall:
    """The daemon's wall clock, moved by hand."""

    def __init__(self) -> None:
        self.now = float(NOW)

    def __call__(self) -> float:
        return self.now


def keep(state: State, made: Any, name: str, *, device_id: str = "d-1", uid: int = 200000,
         expires: int = NOW + 7 * 86400, signer: ec.EllipticCurvePrivateKey = SIGNER) -> str:
    """What an online sign-in keeps: the signed record, the rpId, the user and the POSIX account."""
    record = offline.OfflineRecord(issuer=ORIGIN, user_id="u-" + name, user_principal_name=name, device_id=device_id,
                                   credential_id=made.credential_id, credential_public_key=_cose(made), uid=uid,
                                   issued_at=NOW - 60, expires_at=expires)
    credential_id = b64url(made.credential_id)
    state.save_offline(credential_id, {
        "record": offline.issue(signer, KID, record), "expiresDateTime": "2027-01-22T08:00:00Z", "rpId": RP_ID,
        "user": {"id": "u-" + name, "userPrincipalName": name, "displayName": name.split("@", maxsplit=1)[0].title()},
        "posix": {"name": name.lower(), "uid": uid, "gid": uid, "gecos": name, "home": f"/home/{name.lower()}",
                  "shell": "/bin/bash"}})
    state.save_jwks({"keys": [{**jwk_of(SIGNER.public_key()), "kid": KID, "alg": "ES256", "use": "sig"}]})
    return credential_id


def _cose(made: Any) -> bytes:
    return cbor.encode(dict(made.public_key))


@pytest.fixture
def computer(start: Any,  # noqa: F811 - the fixture imported above
              short_tmp: Path, key: SoftKey) -> Any:
    with_pin(key)
    wall = Wall()

    class Computer:
        state = joined_state(short_tmp / "state", origin=ORIGIN)
        clock = wall

        def signin(self, user: str | None, pins: list[str]) -> list[dict[str, Any]]:
            running = start(state=self.state, provider=SoftKeys(key), http_timeout=2, clock=wall) \
                if not hasattr(self, "running") else self.running
            self.running = running
            return _talk(running.path, {"op": "signin", "service": "login", "user": user}, pins)

    return Computer()


def _talk(path: Path, request: dict[str, Any], pins: list[str]) -> list[dict[str, Any]]:
    seen = []
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(20)
        s.connect(str(path))
        s.sendall(line(request))
        for raw in s.makefile("rb"):
            message = json.loads(raw)
            seen.append(message)
            if message.get("prompt", {}).get("kind") == "pin":
                s.sendall(line({"answer": pins.pop(0)}))
    return seen


def test_offline_unlock_after_an_online_sign_in(computer: Any, key: SoftKey) -> None:
    made = make_passkey(key, "alice@contoso.com")
    keep(computer.state, made, "alice@contoso.com")
    seen = computer.signin("alice@contoso.com", [PIN])
    assert {"prompt": {"kind": "info", "text": "Passgate cannot be reached: signing in offline."}} in seen
    assert {"prompt": {"kind": "pin", "text": "PIN of your security key: "}} in seen
    assert seen[-1] == {"result": "success", "offline": True,
                        "user": {"id": "u-alice@contoso.com", "userPrincipalName": "alice@contoso.com",
                                 "displayName": "Alice"},
                        "posix": {"name": "alice@contoso.com", "uid": 200000, "gid": 200000,
                                  "gecos": "alice@contoso.com", "home": "/home/alice@contoso.com",
                                  "shell": "/bin/bash"}}
    assert key.presence_requests[-1].command == "getAssertion"


def test_offline_without_a_user_picks_the_record_of_the_key(computer: Any, key: SoftKey) -> None:
    keep(computer.state, make_passkey(key, "alice@contoso.com"), "alice@contoso.com")
    assert computer.signin(None, [PIN])[-1]["posix"]["name"] == "alice@contoso.com"


def test_refused_before_any_online_sign_in(computer: Any, key: SoftKey) -> None:
    make_passkey(key, "alice@contoso.com")
    seen = computer.signin("alice@contoso.com", [])
    assert seen[-1]["reason"] == "offline_no_record"
    assert "never signed in online with this key on this device" in seen[-1]["message"]
    assert not any(m.get("prompt", {}).get("kind") == "pin" for m in seen)


def test_refused_for_another_user(computer: Any, key: SoftKey) -> None:
    keep(computer.state, make_passkey(key, "alice@contoso.com"), "alice@contoso.com")
    assert computer.signin("bob@contoso.com", [])[-1]["reason"] == "offline_no_record"


def test_a_record_for_a_credential_not_on_this_key(computer: Any, key: SoftKey, clock: Clock) -> None:
    other = with_pin(SoftKey(clock=clock))
    keep(computer.state, make_passkey(other, "alice@contoso.com"), "alice@contoso.com")
    make_passkey(key, "alice@contoso.com")
    seen = computer.signin("alice@contoso.com", [PIN])
    assert seen[-1]["reason"] == "offline_no_record"


def test_refused_after_the_record_expires(computer: Any, key: SoftKey) -> None:
    keep(computer.state, make_passkey(key, "alice@contoso.com"), "alice@contoso.com")
    computer.clock.now = NOW + 7 * 86400
    seen = computer.signin("alice@contoso.com", [])
    assert seen[-1]["reason"] == "device_offline_record_expired"
    assert not any(m.get("prompt", {}).get("kind") == "pin" for m in seen)


def test_refused_for_a_record_of_another_device(computer: Any, key: SoftKey) -> None:
    keep(computer.state, make_passkey(key, "alice@contoso.com"), "alice@contoso.com", device_id="d-2")
    seen = computer.signin("alice@contoso.com", [])
    assert seen[-1]["reason"] == "device_offline_record_invalid"
    assert "another device" in seen[-1]["message"]


def test_refused_with_a_tampered_record(computer: Any, key: SoftKey) -> None:
    credential_id = keep(computer.state, make_passkey(key, "alice@contoso.com"), "alice@contoso.com")
    path = computer.state.offline_path / f"{credential_id}.json"
    entry = json.loads(path.read_text())
    header, claims, signature = entry["record"].split(".")
    forged = json.loads(b64url_decode(claims))
    forged["exp"] += 365 * 86400
    entry["record"] = ".".join([header, b64url(json.dumps(forged).encode()), signature])
    path.write_text(json.dumps(entry))
    seen = computer.signin("alice@contoso.com", [])
    assert seen[-1]["reason"] == "device_offline_record_invalid"


def test_refused_when_another_key_signed_the_record(computer: Any, key: SoftKey) -> None:
    keep(computer.state, make_passkey(key, "alice@contoso.com"), "alice@contoso.com",
         signer=ec.generate_private_key(ec.SECP256R1()))
    assert computer.signin("alice@contoso.com", [])[-1]["reason"] == "device_offline_record_invalid"


def test_refused_when_the_account_kept_was_changed(computer: Any, key: SoftKey) -> None:
    credential_id = keep(computer.state, make_passkey(key, "alice@contoso.com"), "alice@contoso.com")
    path = computer.state.offline_path / f"{credential_id}.json"
    entry = json.loads(path.read_text())
    entry["posix"]["uid"] = 0
    path.write_text(json.dumps(entry))
    assert computer.signin("alice@contoso.com", [])[-1]["reason"] == "device_offline_record_invalid"


def test_refused_when_the_public_key_in_the_record_is_another(computer: Any, key: SoftKey, clock: Clock) -> None:
    made = make_passkey(key, "alice@contoso.com")
    stranger = make_passkey(with_pin(SoftKey(clock=clock)), "alice@contoso.com")
    swapped = type("Made", (), {"credential_id": made.credential_id, "public_key": stranger.public_key})()
    keep(computer.state, swapped, "alice@contoso.com")
    assert computer.signin("alice@contoso.com", [PIN])[-1]["reason"] == "offline_signature_invalid"


def test_a_wrong_pin_offline_is_counted_by_the_key(computer: Any, key: SoftKey) -> None:
    keep(computer.state, make_passkey(key, "alice@contoso.com"), "alice@contoso.com")
    seen = computer.signin("alice@contoso.com", ["0000"])
    assert seen[-1] == {"result": "refused", "reason": "pin_invalid",
                        "message": "Wrong PIN (7 tries left before the key locks its PIN)."}
    assert ClientPin(Ctap2(key)).get_pin_retries()[0] == 7


def test_records_are_kept_0600(computer: Any, key: SoftKey) -> None:
    credential_id = keep(computer.state, make_passkey(key, "alice@contoso.com"), "alice@contoso.com")
    assert (computer.state.offline_path / f"{credential_id}.json").stat().st_mode & 0o777 == 0o600
    assert computer.state.offline_path.stat().st_mode & 0o777 == 0o700


def test_each_offline_unlock_keeps_the_counter_the_key_reported(computer: Any, key: SoftKey) -> None:
    credential_id = keep(computer.state, make_passkey(key, "alice@contoso.com"), "alice@contoso.com")
    assert computer.signin("alice@contoso.com", [PIN])[-1]["result"] == "success"
    assert computer.signin("alice@contoso.com", [PIN])[-1]["result"] == "success"
    kept = dict(computer.state.offline_entries())[credential_id]
    assert kept["signCount"] == key.state.credentials[0].sign_count == 2


def test_a_counter_that_goes_back_refuses_offline_and_drops_the_record(computer: Any, key: SoftKey) -> None:
    """A copy of the credential made before the last unlock reports a counter already seen: possibly cloned."""
    credential_id = keep(computer.state, make_passkey(key, "alice@contoso.com"), "alice@contoso.com")
    assert computer.signin("alice@contoso.com", [PIN])[-1]["result"] == "success"
    assert computer.signin("alice@contoso.com", [PIN])[-1]["result"] == "success"
    key.state.credentials[0].sign_count = 0  # the copy: one sign-in behind, so it will report 1 (last seen: 2)

    seen = computer.signin("alice@contoso.com", [PIN])

    assert seen[-1]["result"] == "refused" and seen[-1]["reason"] == "offline_sign_count_regression"
    assert "may have been copied" in seen[-1]["message"]
    assert credential_id not in computer.state.offline_ids()
    assert computer.signin("alice@contoso.com", [])[-1]["reason"] == "offline_no_record"  # key not touched again


def test_the_counter_kept_at_the_online_sign_in_is_the_floor(computer: Any, key: SoftKey) -> None:
    credential_id = keep(computer.state, make_passkey(key, "alice@contoso.com"), "alice@contoso.com")
    entry = dict(computer.state.offline_entries())[credential_id]
    computer.state.save_offline(credential_id, {**entry, "signCount": 5})  # online sign-ins had seen 5
    key.state.credentials[0].sign_count = 4  # this key answers 5: not more than seen

    assert computer.signin("alice@contoso.com", [PIN])[-1]["reason"] == "offline_sign_count_regression"


@pytest.mark.parametrize(("kept", "reported", "allowed"), [
    (0, 0, True), (None, 0, True), (0, 1, True), (3, 4, True), (3, 3, False), (3, 2, False), (3, 0, False),
    ("7", 1, True), (True, 0, True), (-4, 0, True)])
def test_the_counter_rule(kept: Any, reported: int, allowed: bool) -> None:
    from passgate.agent.errors import AgentError
    from passgate.agent.offline import sign_count_after
    entry = {} if kept is None else {"signCount": kept}
    if allowed:
        assert sign_count_after(entry, reported) == reported
    else:
        with pytest.raises(AgentError) as raised:
            sign_count_after(entry, reported)
        assert raised.value.code == "offline_sign_count_regression"
