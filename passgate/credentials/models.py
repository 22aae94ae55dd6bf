"""Authentication methods (passkeys, Temporary Access Passes) and WebAuthn challenges."""

from __future__ import annotations

import uuid

from django.db import models

from passgate.core.text import ScrubbingJSONDecoder
from passgate.directory.models import User


class Passkey(models.Model):
    """A WebAuthn credential record (WebAuthn L3 §7.1 step 27), plus what security info shows."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="passkeys")
    credential_id = models.BinaryField(max_length=1023, unique=True)
    public_key = models.BinaryField()
    algorithm = models.IntegerField()
    sign_count = models.BigIntegerField(default=0)
    aaguid = models.UUIDField()
    attestation_format = models.CharField(max_length=32)
    transports = models.JSONField(decoder=ScrubbingJSONDecoder, default=list, blank=True)
    backup_eligible = models.BooleanField()
    backup_state = models.BooleanField()
    uv_initialized = models.BooleanField()
    display_name = models.CharField(max_length=64)
    attestation_object = models.BinaryField()
    client_data_json = models.BinaryField()
    created_at = models.DateTimeField()
    last_used_at = models.DateTimeField(null=True, blank=True)
    possibly_cloned_at = models.DateTimeField(null=True, blank=True)
    # SHA-1 thumbprints (hex) of the attestation certificates, as Graph's attestationCertificates shows them
    attestation_certificates = models.JSONField(decoder=ScrubbingJSONDecoder, default=list, blank=True)
    # "attested" when the attestation chain anchors in FIDO metadata (or a vendor root); else "notAttested"
    attestation_level = models.CharField(max_length=16, default="notAttested")
    # What FIDO metadata said about the model when the passkey was registered (empty: no metadata entry)
    model_name = models.CharField(max_length=256, blank=True, default="")
    certification_level = models.CharField(max_length=32, blank=True, default="")
    metadata_status = models.CharField(max_length=40, blank=True, default="")
    # Set when a newer FIDO metadata BLOB gives the model an untrusted status (REVOKED, key compromise, ...)
    metadata_revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at"]

    def __str__(self) -> str:
        return f"{self.display_name} ({self.user_id})"

    @property
    def is_synced(self) -> bool:
        """Backup eligible (BE=1) credentials are synced passkeys; BE=0 means device-bound."""
        return self.backup_eligible


class Ceremony(models.TextChoices):
    REGISTRATION = "registration"
    AUTHENTICATION = "authentication"
    REAUTHENTICATION = "reauthentication"
    PROVISIONING = "provisioning"  # an administrator registers a passkey on a user's behalf
    DEVICE_SIGN_IN = "device_sign_in"  # a security key signs someone in to a joined computer (bound to the device)


class Challenge(models.Model):
    """An issued WebAuthn challenge: bound to a browser session and a ceremony, single use, short-lived.

    ``consumed_at`` is set by one conditional UPDATE, so of any number of concurrent completions
    across any number of app processes exactly one wins.
    """

    challenge = models.BinaryField(max_length=64, unique=True)
    ceremony = models.CharField(max_length=20, choices=Ceremony.choices)
    session_binding = models.BinaryField(max_length=32)
    user = models.ForeignKey(User, null=True, blank=True, on_delete=models.CASCADE)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField(db_index=True)
    consumed_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.ceremony} challenge {self.pk}"


class TemporaryAccessPass(models.Model):
    """A time-limited pass an administrator issues; only its keyed hash is stored."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="temporary_access_passes")
    digest = models.BinaryField(max_length=32)
    created_at = models.DateTimeField()
    start_at = models.DateTimeField()
    lifetime_minutes = models.PositiveIntegerField()
    is_usable_once = models.BooleanField(default=True)
    used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    created_by = models.CharField(max_length=256)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Temporary Access Pass {self.id} for {self.user_id}"


class SoftwareOathMethod(models.Model):
    """An authenticator app (TOTP, RFC 6238). The seed is sealed with ``credentials.secretbox``.

    A method is pending until its first code verifies; ``last_used_step`` refuses any code of a step already
    used. Guessing is slowed per person and per address by ``ThrottleCounter``.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="software_oath_methods")
    sealed_secret = models.BinaryField()
    is_verified = models.BooleanField(default=False)
    created_at = models.DateTimeField()
    last_used_at = models.DateTimeField(null=True, blank=True)
    last_used_step = models.BigIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["created_at"]

    def __str__(self) -> str:
        return f"Authenticator app {self.id} of {self.user_id}"


class ThrottleCounter(models.Model):
    """Failed guesses of a guessable secret by one subject (an address, a user name, a person): what
    ``core.throttle`` decides the back-off from.

    ``key`` is a keyed hash of the subject (``core.throttle.subject_key``): the table names no address or user
    name, and a user name that names nobody gets the same row as a real one. A sign-in attempt locks its rows
    (SELECT ... FOR UPDATE) until it commits, so concurrent guesses on any number of app nodes are counted one
    after another. ``throttle_purge`` deletes rows whose failures are forgotten.
    """

    scope = models.CharField(max_length=16)  # core.throttle.Scope
    key = models.CharField(max_length=64)
    failures = models.PositiveIntegerField(default=0)
    last_failure_at = models.DateTimeField(null=True, blank=True, db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["scope", "key"], name="throttle_counter_subject")]

    def __str__(self) -> str:
        return f"{self.scope} {self.key[:12]}: {self.failures}"


class PolicyVersion(models.Model):
    """The authentication methods policy, versioned: every change is a new row, none is ever updated.

    One version of the whole policy, stored as its Graph v1.0 JSON (``to_graph``).

    ``version`` is unique, so two administrators saving at once cannot both create version N+1: the second
    gets a conflict and retries on top of the first.
    """

    version = models.PositiveIntegerField(unique=True)
    document = models.JSONField(decoder=ScrubbingJSONDecoder)
    # [{"path", "old", "new"}] relative to version-1
    changes = models.JSONField(decoder=ScrubbingJSONDecoder, default=list, blank=True)
    created_at = models.DateTimeField()
    actor_id = models.UUIDField(null=True, blank=True)
    actor_name = models.CharField(max_length=256)

    class Meta:
        ordering = ["-version"]

    def __str__(self) -> str:
        return f"Authentication methods policy v{self.version}"


class RegistrationSnooze(models.Model):
    """How many times a person put off adding a passkey when ``isRegistrationRequired`` asked them to."""

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="registration_snooze")
    count = models.PositiveSmallIntegerField(default=0)
    updated_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.user_id}: {self.count}"
