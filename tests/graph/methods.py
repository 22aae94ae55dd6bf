"""Authentication-method rows for Graph tests that need a user to have them (not a ceremony under test here)."""

from __future__ import annotations

import os
import uuid
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec
from django.utils import timezone

from passgate.audit.services import Actor
from passgate.core.devices.keys import jwk_of
from passgate.credentials import oath
from passgate.credentials.models import Passkey, SoftwareOathMethod
from passgate.devices.models import Device
from passgate.devices.services import device_join, enrollment_token_issue


def stored_passkey(user: Any, **fields: Any) -> Passkey:
    values: dict[str, Any] = {
        "user": user, "credential_id": os.urandom(32), "public_key": b"\xa5", "algorithm": -7, "sign_count": 0,
        "aaguid": uuid.UUID("01020304-0506-0708-0102-030405060708"), "attestation_format": "none",
        "transports": ["usb"], "backup_eligible": False, "backup_state": False, "uv_initialized": True,
        "display_name": "Security key", "attestation_object": b"", "client_data_json": b"",
        "created_at": timezone.now(),
    }
    values.update(fields)
    return Passkey.objects.create(**values)


def stored_oath(user: Any) -> SoftwareOathMethod:
    enrolment = oath.software_oath_enrol_begin(user=user)
    SoftwareOathMethod.objects.filter(pk=enrolment.method.pk).update(is_verified=True)
    return SoftwareOathMethod.objects.get(pk=enrolment.method.pk)


def joined_device(name: str = "build-07", trust: str = "joined") -> Device:
    """A computer joined with a fresh key and a new enrollment token."""
    _, token = enrollment_token_issue(actor=Actor.system("test"))
    return device_join(body={"enrollmentToken": token, "displayName": name, "operatingSystem": "Linux",
                             "operatingSystemVersion": "Debian 12", "trustType": trust,
                             "publicKey": jwk_of(ec.generate_private_key(ec.SECP256R1()).public_key())})
