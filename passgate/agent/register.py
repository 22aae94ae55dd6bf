"""``passgate-device key register``: a new employee registers the security key plugged in with a Temporary Access
Pass, without a browser (docs/devices.md, "Registering a security key from the computer").

``POST /device/v1/keys/register/begin`` (user name and pass) → CTAP2 makeCredential through python-fido2's own
WebAuthn client (a resident key with user verification; the key's PIN asked through the interaction, and set first
when the key has none) → ``POST /device/v1/keys/register/complete``.
"""

from __future__ import annotations

from typing import Any

from fido2.client import ClientError, DefaultClientDataCollector, Fido2Client, UserInteraction
from fido2.ctap2.base import Ctap2
from fido2.webauthn import PublicKeyCredentialCreationOptions

from passgate.agent import securitykeys as sk
from passgate.agent.client import PassgateClient
from passgate.agent.errors import AgentError
from passgate.agent.securitykeys import Interaction, KeyProvider, pick_device
from passgate.agent.state import State

BEGIN = "/device/v1/keys/register/begin"
COMPLETE = "/device/v1/keys/register/complete"


class _AskPin(UserInteraction):
    """python-fido2 asks for the PIN here; the person answers through the agent's interaction."""

    def __init__(self, interaction: Interaction) -> None:
        self.interaction = interaction

    def prompt_up(self) -> None:
        self.interaction.info("Touch your security key.")

    def request_pin(self, permissions: Any, rp_id: str | None) -> str | None:
        return self.interaction.pin("PIN of your security key: ")


def register_key(*, state: State, provider: KeyProvider, interaction: Interaction, user_name: str,
                 temporary_access_pass: str, display_name: str, timeout: float = 10.0) -> dict[str, Any]:
    record = state.load_device()
    client = PassgateClient(record.origin, key=state.load_key(), device_id=record.deviceId, timeout=timeout)
    device = pick_device(provider, interaction)  # a key first: no pass is used up without one
    try:
        if not sk.key_info(Ctap2(device)).pin_set:
            interaction.info("This key has no PIN yet: choose one (at least 4 characters).")
            sk.set_pin(Ctap2(device), interaction.pin("New PIN: "), interaction.pin("New PIN again: "))
        begun = client.call("POST", BEGIN, {"userName": user_name, "temporaryAccessPass": temporary_access_pass})
        registration_id, options = begun.get("registrationId"), begun.get("publicKey")
        if not isinstance(registration_id, str) or not isinstance(options, dict):
            raise AgentError("bad_answer", "Passgate's answer to register begin has no registrationId or options.")
        webauthn = Fido2Client(device, DefaultClientDataCollector(client.origin), user_interaction=_AskPin(interaction))
        try:
            made = webauthn.make_credential(PublicKeyCredentialCreationOptions.from_dict(options))
        except ClientError as exc:
            raise AgentError("key_refused", f"The security key did not make the passkey: {exc}.") from None
        except ValueError as exc:
            raise AgentError("bad_answer", f"Passgate's registration options are not usable: {exc}.") from None
    except OSError as exc:
        raise AgentError("no_security_key", f"Lost the security key: {exc.strerror or exc}.") from None
    finally:
        device.close()
    done = client.call("POST", COMPLETE, {"registrationId": registration_id, "credential": dict(made),
                                          "displayName": display_name})
    if not isinstance(done.get("passkey"), dict) or not isinstance(done.get("user"), dict):
        raise AgentError("bad_answer", "Passgate's answer to register complete names no passkey.")
    return done
