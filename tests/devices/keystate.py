"""What a soft key keeps across power cycles, and its file form (JSON, mode 0600).

Only the persistent state lives here: credentials, the PIN hash and retry counters, fingerprint templates, the
attestation identity. What CTAP 2.1 resets at power-up (key agreement keys, the pinUvAuthToken, the
consecutive-wrong-PIN counter, pending getNextAssertion/enumeration state) belongs to the device object.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from fido2.cose import ES256

from tests.devices.attestation import AttestationIdentity

FILE_FORMAT = "passgate-softkey/1"
PIN_RETRIES_MAX = 8  # CTAP 2.1 §6.5.2.2: pinRetries starts at 8
UV_RETRIES_MAX = 8
MAX_RESIDENT_CREDENTIALS = 25
CRED_PROTECT_OPTIONAL = 1  # §12.1 credProtect: userVerificationOptional


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def unb64(text: str) -> bytes:
    return base64.b64decode(text, validate=True)


@dataclass
class Credential:
    """One credential source: its key, the RP and user it was made for, its own signature counter."""

    credential_id: bytes
    rp: dict[str, Any]
    user: dict[str, Any]
    private_key: ec.EllipticCurvePrivateKey
    discoverable: bool
    cred_protect: int
    sign_count: int
    created: int  # a sequence number: higher is newer (getNextAssertion order, §6.2.2 step 11)

    def cose_public_key(self) -> dict[int, Any]:
        """The credential public key as a COSE_Key (EC2, P-256, ES256)."""
        return dict(ES256.from_cryptography_key(self.private_key.public_key()))  # type: ignore[no-untyped-call]

    @property
    def rp_id(self) -> str:
        return str(self.rp["id"])

    @property
    def rp_id_hash(self) -> bytes:
        return hashlib.sha256(self.rp_id.encode()).digest()

    def to_json(self) -> dict[str, Any]:
        pem = self.private_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                             serialization.NoEncryption()).decode()
        return {"id": b64(self.credential_id), "rp": self.rp, "user": {**self.user, "id": b64(self.user["id"])},
                "key": pem, "discoverable": self.discoverable, "cred_protect": self.cred_protect,
                "sign_count": self.sign_count, "created": self.created}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Credential:
        key = serialization.load_pem_private_key(data["key"].encode(), password=None)
        if not isinstance(key, ec.EllipticCurvePrivateKey):
            raise ValueError("a credential key is not an EC key")
        return cls(credential_id=unb64(data["id"]), rp=data["rp"],
                   user={**data["user"], "id": unb64(data["user"]["id"])}, private_key=key,
                   discoverable=data["discoverable"], cred_protect=data["cred_protect"],
                   sign_count=data["sign_count"], created=data["created"])


@dataclass
class Fingerprint:
    """An enrolled template (§6.7): the simulated finger it matches and its friendly name."""

    template_id: bytes
    finger: str
    name: str = ""


@dataclass
class KeyState:
    aaguid: bytes
    attestation: AttestationIdentity
    credentials: list[Credential] = field(default_factory=list)
    pin_hash: bytes | None = None  # LEFT(SHA-256(PIN), 16), §6.5.5.5
    pin_retries: int = PIN_RETRIES_MAX
    uv_retries: int = UV_RETRIES_MAX
    fingerprints: list[Fingerprint] = field(default_factory=list)
    sequence: int = 0

    def next_sequence(self) -> int:
        self.sequence += 1
        return self.sequence

    def factory_reset(self) -> KeyState:
        """§6.6: everything but the AAGUID and the attestation identity goes."""
        return KeyState(aaguid=self.aaguid, attestation=self.attestation)

    def to_json(self) -> dict[str, Any]:
        return {
            "format": FILE_FORMAT, "aaguid": self.aaguid.hex(), "attestation": self.attestation.to_json(),
            "credentials": [credential.to_json() for credential in self.credentials],
            "pin_hash": b64(self.pin_hash) if self.pin_hash is not None else None,
            "pin_retries": self.pin_retries, "uv_retries": self.uv_retries,
            "fingerprints": [{"id": b64(f.template_id), "finger": f.finger, "name": f.name}
                             for f in self.fingerprints],
            "sequence": self.sequence,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> KeyState:
        if data.get("format") != FILE_FORMAT:
            raise ValueError(f"not a soft key state file ({FILE_FORMAT})")
        return cls(
            aaguid=bytes.fromhex(data["aaguid"]), attestation=AttestationIdentity.from_json(data["attestation"]),
            credentials=[Credential.from_json(item) for item in data["credentials"]],
            pin_hash=unb64(data["pin_hash"]) if data["pin_hash"] is not None else None,
            pin_retries=data["pin_retries"], uv_retries=data["uv_retries"],
            fingerprints=[Fingerprint(unb64(f["id"]), f["finger"], f["name"]) for f in data["fingerprints"]],
            sequence=data["sequence"],
        )

    def write(self, path: str | os.PathLike[str]) -> None:
        """Atomically replace ``path`` with this state, readable and writable by the owner only (0600)."""
        target = Path(path)
        descriptor, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
        try:
            os.fchmod(descriptor, 0o600)
            with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
                json.dump(self.to_json(), handle, indent=1)
            os.replace(temporary, target)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise

    @classmethod
    def read(cls, path: str | os.PathLike[str]) -> KeyState:
        return cls.from_json(json.loads(Path(path).read_text(encoding="utf-8")))
