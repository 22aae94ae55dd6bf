"""A computer as the agent is to Passgate, by hand: its key, its join, its signed requests."""

from __future__ import annotations

import json
import secrets
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec
from django.conf import settings
from django.utils import timezone

from passgate.core.devices.keys import jwk_of
from passgate.core.devices.proof import ProofRequest, sign_proof

JOIN = "/device/v1/join"
SELF = "/device/v1/device"


class Computer:
    """What the agent does, by hand: its key, its join, its signed requests."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.device_id = ""

    def join(self, token: str, **changes: Any) -> Any:
        body = {"enrollmentToken": token, "displayName": "build-07", "operatingSystem": "Linux",
                "operatingSystemVersion": "Debian 12", "publicKey": jwk_of(self.key.public_key()), **changes}
        response = self.client.post(JOIN, json.dumps(body), content_type="application/json")
        if response.status_code == 201:
            self.device_id = response.json()["deviceId"]
        return response

    def proof(self, method: str, path: str, body: bytes = b"", **changes: Any) -> str:
        origin = settings.PASSGATE.origin
        request = ProofRequest(audience=origin, method=method, url=origin + path, body=body)
        return sign_proof(changes.get("key", self.key), device_id=changes.get("device_id", self.device_id),
                          request=request, now=changes.get("now", int(timezone.now().timestamp())),
                          jti=secrets.token_urlsafe(16))

    def call(self, method: str, path: str = SELF, proof: str | None = None) -> Any:
        header = {"HTTP_AUTHORIZATION": f"PassgateDevice {proof or self.proof(method, path)}"}
        return self.client.generic(method, path, **header)

    def post(self, path: str, body: Any) -> Any:
        data = json.dumps(body).encode()
        header = {"HTTP_AUTHORIZATION": f"PassgateDevice {self.proof('POST', path, data)}"}
        return self.client.generic("POST", path, data, content_type="application/json", **header)
