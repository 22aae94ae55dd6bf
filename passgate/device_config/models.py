"""Custom configuration profiles (Graph's ``windows10CustomConfiguration``) with their OMA-URI settings and
assignments, and the history of the enrollment setting "Use security keys for sign-in".

Every OMA-URI setting is a row, whatever its subtype or URI: Passgate acts on the security-key sign-in setting only,
and keeps and shows the others. The enrollment setting is never updated in place: each change is a new row, in force
from its instant, so the setting that applied when a device joined can always be found.
"""

from __future__ import annotations

from django.db import models

from passgate.core.devices.signin_setting import Enablement, TargetKind
from passgate.core.text import ScrubbingJSONDecoder


class DeviceConfiguration(models.Model):
    """A custom configuration profile."""

    id = models.UUIDField(primary_key=True, editable=False)
    odata_type = models.CharField(max_length=64, default="windows10CustomConfiguration")
    display_name = models.CharField(max_length=256)
    description = models.TextField(null=True, blank=True)  # noqa: DJ001 - Graph tells null from ""
    version = models.PositiveIntegerField(default=1)  # incremented on every change of the profile's settings
    created_at = models.DateTimeField()
    modified_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return self.display_name


class OmaSetting(models.Model):
    """One ``omaSetting`` of a profile, in the order it was given."""

    configuration = models.ForeignKey(DeviceConfiguration, on_delete=models.CASCADE, related_name="oma_settings")
    position = models.PositiveIntegerField()
    kind = models.CharField(max_length=32)  # "omaSettingInteger" …
    display_name = models.CharField(max_length=256)
    description = models.TextField(null=True, blank=True)  # noqa: DJ001 - Graph tells null from ""
    oma_uri = models.CharField(max_length=1000)
    value = models.JSONField(decoder=ScrubbingJSONDecoder)  # the JSON value as Graph carries it
    file_name = models.CharField(max_length=256, null=True, blank=True)  # noqa: DJ001 - null and "" differ

    class Meta:
        ordering = ["configuration", "position"]
        constraints = [models.UniqueConstraint(fields=["configuration", "position"], name="unique_oma_position")]

    def __str__(self) -> str:
        return self.oma_uri


class ConfigurationAssignment(models.Model):
    """A ``deviceConfigurationAssignment``: whom a profile targets (or excludes)."""

    id = models.UUIDField(primary_key=True, editable=False)
    configuration = models.ForeignKey(DeviceConfiguration, on_delete=models.CASCADE, related_name="assignments")
    position = models.PositiveIntegerField()
    target = models.CharField(max_length=64, choices=[(k.value, k.value) for k in TargetKind])
    group_id = models.UUIDField(null=True, blank=True)  # a group's id, not a key: the group may go away

    class Meta:
        ordering = ["configuration", "position"]

    def __str__(self) -> str:
        return f"{self.target} {self.group_id or ''}".strip()


class EnrollmentSettingChange(models.Model):
    """One change of "Use security keys for sign-in": in force from ``effective_from`` until the next change."""

    version = models.PositiveIntegerField(unique=True)  # the configuration's version after this change
    security_key_for_sign_in = models.CharField(max_length=16, choices=[(e.value, e.value) for e in Enablement])
    effective_from = models.DateTimeField()
    changed_by = models.CharField(max_length=256, blank=True, default="")

    class Meta:
        ordering = ["version"]

    def __str__(self) -> str:
        return f"v{self.version}: {self.security_key_for_sign_in} from {self.effective_from:%Y-%m-%d %H:%M}"
