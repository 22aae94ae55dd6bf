"""What the agent's tests share: a provider of soft keys, a scripted person, passkeys made on a soft key."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from fido2.ctap import CtapDevice
from fido2.ctap2 import ClientPin, Ctap2
from fido2.ctap2.pin import PinProtocolV2

from tests.devices.softkey import SoftKey

PIN = "4711"
RP_ID = "localhost"
ES256 = [{"type": "public-key", "alg": -7}]


class SoftKeys:
    """A KeyProvider handing out the given soft keys (a test hands it to main() or the daemon)."""

    def __init__(self, *keys: SoftKey) -> None:
        self.keys = list(keys)

    def devices(self) -> Sequence[CtapDevice]:
        return list(self.keys)


@dataclass
class Person:
    """A scripted Interaction (and Console): answers from lists, everything said kept."""

    pins: list[str] = field(default_factory=list)
    choices: list[int] = field(default_factory=list)
    typed: list[str] = field(default_factory=list)
    said: list[str] = field(default_factory=list)
    asked: list[tuple[str, Any]] = field(default_factory=list)

    def pin(self, text: str) -> str:
        self.asked.append(("pin", text))
        return self.pins.pop(0)

    def choose(self, text: str, choices: list[str]) -> int:
        self.asked.append(("choose", list(choices)))
        return self.choices.pop(0)

    def info(self, text: str) -> None:
        self.said.append(text)

    # the Console side of the CLI
    def ask(self, text: str) -> str:
        self.asked.append(("ask", text))
        return self.typed.pop(0)

    def ask_secret(self, text: str) -> str:
        return self.pin(text)

    def out(self, text: str) -> None:
        self.said.append(text)


def with_pin(key: SoftKey, pin: str = PIN) -> SoftKey:
    ClientPin(Ctap2(key), PinProtocolV2()).set_pin(pin)
    return key


def make_passkey(key: SoftKey, name: str, *, rp_id: str = RP_ID, pin: str = PIN) -> Any:
    """A discoverable credential for ``name`` at ``rp_id`` (the key has a PIN): its attested credential data."""
    ctap = Ctap2(key)
    token = ClientPin(ctap, PinProtocolV2()).get_pin_token(pin, ClientPin.PERMISSION.MAKE_CREDENTIAL, rp_id)
    data_hash = os.urandom(32)
    user = {"id": name.encode(), "name": name, "displayName": name.split("@", maxsplit=1)[0].title()}
    made = ctap.make_credential(data_hash, {"id": rp_id, "name": "Passgate"}, user, ES256, options={"rk": True},
                                pin_uv_param=PinProtocolV2().authenticate(token, data_hash), pin_uv_protocol=2)
    return made.auth_data.credential_data
