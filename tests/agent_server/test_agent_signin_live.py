"""Security-key sign-in end to end: the daemon (in a thread, with the soft key as its provider) signs in through its
socket against Passgate's device API served by a live server: the prompts a PAM module relays, the result, the
offline record kept, and the refusals."""

from __future__ import annotations

import json
import socket
import urllib.error
from pathlib import Path
from typing import Any

import pytest
from fido2.ctap2 import ClientPin, Ctap2

from passgate.agent import client
from passgate.audit.services import Actor
from passgate.device_config.services import enrollment_configuration_update
from tests.device_registry.test_device_signin import PIN, register, security_key

pytestmark = pytest.mark.django_db(transaction=True)
ADMIN = Actor.system("test admin")


def converse(path: Path, request: dict[str, Any], answers: dict[str, list[str]]) -> list[dict[str, Any]]:
    """A PAM module's side: send the request, answer pin/choose prompts from ``answers``, collect everything."""
    seen: list[dict[str, Any]] = []
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(30)
        s.connect(str(path))
        s.sendall(json.dumps(request).encode() + b"\n")
        reader = s.makefile("rb")
        for raw in reader:
            message = json.loads(raw)
            seen.append(message)
            prompt = message.get("prompt")
            if prompt and prompt["kind"] in ("pin", "choose"):
                s.sendall(json.dumps({"answer": answers[prompt["kind"]].pop(0)}).encode() + b"\n")
    return seen


def test_a_person_signs_in_through_the_daemon(computer: Any, make_user: Any) -> None:
    alice = make_user("alice@contoso.com", display_name="Alice Example")
    key = security_key()
    register(alice, key)
    path = computer.start(key)
    seen = converse(path, {"op": "signin", "service": "login", "user": "alice@contoso.com"}, {"pin": [PIN]})
    assert seen[0] == {"prompt": {"kind": "pin", "text": "PIN of your security key: "}}
    assert {"prompt": {"kind": "info", "text": "Touch your security key."}} in seen
    result = seen[-1]
    assert result["result"] == "success", result
    assert result["posix"]["name"] == "alice@contoso.com" and result["posix"]["uid"] == 200000
    assert result["user"]["userPrincipalName"] == "alice@contoso.com"
    (kept,) = computer.state.offline_ids()
    entry = json.loads((computer.state.offline_path / f"{kept}.json").read_text())
    assert set(entry) == {"record", "expiresDateTime", "rpId", "user", "posix", "signCount"}
    assert entry["signCount"] == key.state.credentials[0].sign_count == 1  # the floor for offline unlocks


def test_two_accounts_on_the_key_the_person_chooses(computer: Any, make_user: Any) -> None:
    alice, bob = make_user("alice@contoso.com"), make_user("bob@contoso.com")
    key = security_key()
    register(alice, key)
    register(bob, key)
    path = computer.start(key)
    seen = converse(path, {"op": "signin", "service": "gdm-password", "user": None}, {"pin": [PIN], "choose": ["2"]})
    choose = next(m["prompt"] for m in seen if m.get("prompt", {}).get("kind") == "choose")
    assert len(choose["choices"]) == 2 and all("@contoso.com" in c for c in choose["choices"])
    chosen = choose["choices"][1].split(" ")[0]
    assert seen[-1]["result"] == "success" and seen[-1]["posix"]["name"] == chosen


def test_refusals_reach_the_client_with_their_reasons(computer: Any, make_user: Any) -> None:
    alice = make_user("alice@contoso.com")
    make_user("bob@contoso.com")
    key = security_key()
    register(alice, key)
    path = computer.start(key)
    wrong = converse(path, {"op": "signin", "service": "sudo", "user": "alice@contoso.com"}, {"pin": ["0000"]})
    assert wrong[-1] == {"result": "refused", "reason": "pin_invalid",
                         "message": "Wrong PIN (7 tries left before the key locks its PIN)."}
    assert ClientPin(Ctap2(key)).get_pin_retries()[0] == 7
    other = converse(path, {"op": "signin", "service": "sudo", "user": "bob@contoso.com"}, {"pin": [PIN]})
    assert other[-1]["result"] == "refused" and other[-1]["reason"] == "device_signin_user_mismatch"
    assert "alice@contoso.com" in other[-1]["message"]
    enrollment_configuration_update(body={"@passgate.securityKeyForSignIn": "disabled"}, actor=ADMIN)
    # the setting in force when the device joined still holds: it stays on for this device, as in Intune
    assert converse(path, {"op": "signin", "service": "sudo", "user": "alice@contoso.com"},
                    {"pin": [PIN]})[-1]["result"] == "success"


def test_offline_unlock_after_an_online_sign_in(computer: Any, make_user: Any, monkeypatch: Any) -> None:
    alice = make_user("alice@contoso.com", display_name="Alice Example")
    key = security_key()
    register(alice, key)
    path = computer.start(key)
    request = {"op": "signin", "service": "login", "user": "alice@contoso.com"}
    before = converse(path, request, {"pin": [PIN]})
    assert before[-1]["result"] == "success" and "offline" not in before[-1]
    assert computer.state.jwks_keys()  # the keys the record was signed with, fetched at the sign-in

    def refused(*_: Any, **__: Any) -> Any:
        raise urllib.error.URLError(ConnectionRefusedError(111, "Connection refused"))

    monkeypatch.setattr(client._OPENER, "open", refused)  # Passgate is now unreachable
    after = converse(path, request, {"pin": [PIN]})
    assert {"prompt": {"kind": "info", "text": "Passgate cannot be reached: signing in offline."}} in after
    assert after[-1] == {**before[-1], "offline": True}
    wrong = converse(path, request, {"pin": ["0000"]})
    assert wrong[-1]["reason"] == "pin_invalid"
    assert ClientPin(Ctap2(key)).get_pin_retries()[0] == 7
    key.state.credentials[0].sign_count = 0  # a copy made before the online sign-in: reports 1, already seen
    cloned = converse(path, request, {"pin": [PIN]})
    assert cloned[-1]["reason"] == "offline_sign_count_regression"
    assert not computer.state.offline_ids()
    other = converse(path, {"op": "signin", "service": "login", "user": "bob@contoso.com"}, {"pin": [PIN]})
    assert other[-1]["reason"] == "offline_no_record"


def test_no_offline_when_passgate_refuses(computer: Any, make_user: Any) -> None:
    alice = make_user("alice@contoso.com")
    key = security_key()
    register(alice, key)
    path = computer.start(key)
    request = {"op": "signin", "service": "login", "user": "alice@contoso.com"}
    assert converse(path, request, {"pin": [PIN]})[-1]["result"] == "success"
    alice.account_enabled = False
    alice.save(update_fields=["account_enabled"])
    refused = converse(path, request, {"pin": [PIN, PIN]})
    assert refused[-1]["result"] == "refused", refused  # Passgate's answer is final: the record is not used
    assert not any(m.get("prompt", {}).get("text", "").startswith("Passgate cannot be reached") for m in refused)
