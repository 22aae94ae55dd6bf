"""Audit log: who did what, when, to what, with which result and reason code.

Actor and target are denormalised (id and a readable name) so a row stays meaningful after the
user or passkey it names is deleted. Rows are never updated.
"""

from __future__ import annotations

import uuid

from django.db import models


class Category(models.TextChoices):
    SIGN_IN = "signIn", "Sign-in"
    SECURITY_INFO = "securityInfo", "Security info"
    DIRECTORY = "directory", "Directory"
    POLICY = "policy", "Policy"
    SYSTEM = "system", "System"


class Result(models.TextChoices):
    SUCCESS = "success", "Success"
    FAILURE = "failure", "Failure"


class AuditEvent(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    occurred_at = models.DateTimeField(db_index=True)
    category = models.CharField(max_length=32, choices=Category.choices)
    activity = models.CharField(max_length=64)
    result = models.CharField(max_length=16, choices=Result.choices)
    reason = models.CharField(max_length=64, blank=True, default="")
    actor_id = models.UUIDField(null=True, blank=True)
    actor_name = models.CharField(max_length=256, blank=True, default="")
    target_type = models.CharField(max_length=32, blank=True, default="")
    target_id = models.CharField(max_length=64, blank=True, default="")
    target_name = models.CharField(max_length=256, blank=True, default="")
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=256, blank=True, default="")
    details = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-occurred_at"]
        indexes = [models.Index(fields=["actor_id", "-occurred_at"]), models.Index(fields=["target_id"])]

    def __str__(self) -> str:
        return f"{self.occurred_at:%Y-%m-%d %H:%M:%S} {self.activity} {self.result} {self.reason}"
