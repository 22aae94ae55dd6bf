"""Joined devices, the tokens that join them, their group memberships and the proof ids they have used."""

from __future__ import annotations

import uuid

from django.db import models

from passgate.core.devices.join import TrustType
from passgate.core.text import ScrubbingJSONDecoder
from passgate.directory.models import SecurityGroup


class DeviceEnrollmentToken(models.Model):
    """A token an administrator issued to join computers; only its keyed hash is stored."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    digest = models.BinaryField(max_length=32, unique=True)
    description = models.CharField(max_length=256, blank=True, default="")
    created_at = models.DateTimeField()
    lifetime_minutes = models.PositiveIntegerField()
    uses_allowed = models.PositiveIntegerField()
    uses_left = models.PositiveIntegerField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    created_by = models.CharField(max_length=256)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"device enrollment token {self.id}"


class Device(models.Model):
    """A joined computer (Graph's ``device``): ``id`` is its object id, ``device_id`` Graph's ``deviceId``."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    device_id = models.UUIDField(unique=True, default=uuid.uuid4, editable=False)
    display_name = models.CharField(max_length=256)
    operating_system = models.CharField(max_length=32)
    operating_system_version = models.CharField(max_length=64)
    trust_type = models.CharField(max_length=16, choices=[(t.value, t.value) for t in TrustType])
    account_enabled = models.BooleanField(default=True)
    public_key = models.JSONField(decoder=ScrubbingJSONDecoder)  # the device's public JWK (P-256)
    key_thumbprint = models.CharField(max_length=64, unique=True)  # RFC 7638
    registered_at = models.DateTimeField()
    last_seen_at = models.DateTimeField(null=True, blank=True)
    enrollment_token = models.ForeignKey(DeviceEnrollmentToken, null=True, blank=True, on_delete=models.SET_NULL,
                                         related_name="devices")
    token_issued_by = models.CharField(max_length=256, blank=True, default="")
    groups = models.ManyToManyField(SecurityGroup, through="DeviceGroupMembership", related_name="device_members")
    # What the device reported at its last sync about its local sources of the security-key setting: a provisioning
    # package Passgate signed (its value and id; None: none applied) and, on hybrid devices, local group policy.
    reported_package_value = models.BooleanField(null=True, blank=True)
    reported_package_id = models.CharField(max_length=64, blank=True, default="")
    reported_group_policy = models.CharField(max_length=16, blank=True, default="")
    reported_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["display_name", "registered_at"]

    def __str__(self) -> str:
        return self.display_name


class DeviceGroupMembership(models.Model):
    group = models.ForeignKey(SecurityGroup, on_delete=models.CASCADE)
    device = models.ForeignKey(Device, on_delete=models.CASCADE)
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["group", "device"], name="unique_group_device")]

    def __str__(self) -> str:
        return f"{self.device_id} in {self.group_id}"


class DeviceProofUse(models.Model):
    """A device proof's ``jti``, kept until the proof would be refused as too old anyway: a proof works once."""

    device = models.ForeignKey(Device, on_delete=models.CASCADE, related_name="proof_uses")
    jti = models.CharField(max_length=64)
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["device", "jti"], name="unique_device_proof")]

    def __str__(self) -> str:
        return f"{self.device_id}: {self.jti}"


class DeviceSignIn(models.Model):
    """One security-key sign-in to a device, from begin to complete: its WebAuthn challenge (a credentials
    ``Challenge``) is bound to this row, and the user name asked for (if any) must be who the key signs in."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    device = models.ForeignKey(Device, on_delete=models.CASCADE, related_name="sign_ins")
    requested_user_name = models.CharField(max_length=113, blank=True, default="")
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField(db_index=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"sign-in {self.id} on {self.device_id}"

    @property
    def binding(self) -> str:
        """What the WebAuthn challenge is bound to (credentials services hash it, as they hash a session key)."""
        return f"device-signin:{self.device_id}:{self.id}"



class DeviceKeyRegistration(models.Model):
    """A security key being registered from a joined computer (``passgate-device key register``): the person proved
    who they are with a Temporary Access Pass at begin; the WebAuthn challenge is bound to this row."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    device = models.ForeignKey(Device, on_delete=models.CASCADE, related_name="key_registrations")
    user = models.ForeignKey("directory.User", on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField(db_index=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"key registration {self.id} on {self.device_id}"

    @property
    def binding(self) -> str:
        return f"device-register:{self.device_id}:{self.id}"
